// SPDX-License-Identifier: MIT
// rooftime-ceilings-gpu: measures one GPU's roofline ceilings and prints one JSON document on stdout, which
// `rooftime ceilings --gpu N` merges into the machine file. Progress goes to stderr.
// Exit codes: 0 ok, 2 bad arguments, 3 no usable GPU, 4 a measurement failed (or the time limit was reached).
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include <nlohmann/json.hpp>

#include "cuda_check.h"
#include "measure.h"

namespace {

using namespace rooftime::ceilings::gpu;
using nlohmann::json;

constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;
constexpr int kExitNoGpu = 3;
constexpr int kExitFailed = 4;

constexpr const char* kUsage = R"(usage: rooftime-ceilings-gpu --device N [--quick | --probe]

Measures the roofline ceilings of CUDA GPU N (FMA and tensor-core peaks, shared/L1/L2/HBM bandwidth, launch
floor) and prints them as one JSON document on stdout; progress goes to stderr. Normally run by
`rooftime ceilings --gpu N`.

  --device N   the CUDA device index (default 0)
  --quick      shorter runs and fewer sweep points (for a first look; the full run is the reference)
  --probe      measure nothing: warm the GPU up and run one fp32 FMA kernel, for `rooftime ceilings` to
               record under GPU counters (--counter-set peaks) and read the GPU's own peaks and clock
  --help       this text

Exit codes: 0 ok, 2 bad arguments, 3 no usable GPU, 4 a measurement failed.
)";

// Hand-parsed: three options and a single caller (the rooftime CLI); this keeps the companion's dependencies to the
// CUDA runtime, fmt and nlohmann-json.
int usageError(const std::string& problem)
{
    std::fprintf(stderr, "rooftime ceilings: %s (see rooftime-ceilings-gpu --help)\n", problem.c_str());
    return kExitUsage;
}

bool parseIndex(std::string_view text, int& out)
{
    if (text.empty() || text.size() > 4) return false;
    int v = 0;
    for (char ch : text) {
        if (ch < '0' || ch > '9') return false;
        v = v * 10 + (ch - '0');
    }
    out = v;
    return true;
}

// The last line of defence against a hang (a stuck kernel, a driver wait): every measurement is already bounded by
// its own time targets, so reaching this limit means something is wrong; exit without touching CUDA again.
class Watchdog {
public:
    explicit Watchdog(std::chrono::seconds limit)
        : m_thread([this, limit] {
            std::unique_lock lock(m_mutex);
            if (m_cv.wait_for(lock, limit, [this] { return m_done; })) return;
            std::fprintf(stderr, "rooftime ceilings: measurement failed: no result after %lld s (in %s)\n",
                static_cast<long long>(limit.count()), currentPhase());
            std::fflush(stderr);
            std::_Exit(kExitFailed);
        })
    { }
    ~Watchdog()
    {
        {
            std::lock_guard lock(m_mutex);
            m_done = true;
        }
        m_cv.notify_all();
        m_thread.join();
    }
    Watchdog(const Watchdog&) = delete;
    Watchdog& operator=(const Watchdog&) = delete;

private:
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_done = false;
    std::thread m_thread; // last: starts after the members it uses exist
};

json optionalNumber(const std::optional<double>& v)
{
    return v ? json(*v) : json(nullptr);
}

// Bytes, bits and hertz are whole numbers: written as JSON integers.
json whole(double v)
{
    return static_cast<std::int64_t>(std::llround(v));
}

json toJson(const Measurement& m)
{
    const std::string device = "gpu" + std::to_string(m.gpu.index);
    const GpuIdentity& g = m.gpu;
    json out;
    out["gpu"] = {
        { "index", g.index },
        { "name", g.name },
        { "uuid", g.uuid },
        { "arch", g.arch },
        { "sms", g.sms },
        { "driver_version", g.driverVersion },
        { "runtime_version", g.runtimeVersion },
        { "memory_bytes", whole(g.memoryBytes) },
        { "l2_bytes", whole(g.l2Bytes) },
        { "bus_width_bits", whole(g.busWidthBits) },
        { "clocks",
            { { "sm_max_hz", whole(g.smMaxHz) }, { "sm_measured_hz", whole(g.smMeasuredHz) },
                { "memory_hz", whole(g.memoryHz) } } },
    };
    json ceilings = json::array();
    for (const Ceiling& c : m.ceilings) {
        json j = { { "device", device }, { "kind", c.kind } };
        if (c.kind == "compute") {
            j["precision"] = c.precision;
            j["variant"] = c.variant;
        } else if (c.kind == "bandwidth") {
            j["level"] = c.level;
            j["pattern"] = c.pattern;
        } else {
            j["variant"] = c.variant;
        }
        j["value"] = c.value;
        j["unit"] = c.unit;
        if (c.workingSet) j["working_set"] = { whole(c.workingSet->first), whole(c.workingSet->second) };
        j["method"] = c.method;
        if (c.kind != "launch") {
            j["theoretical"] = optionalNumber(c.theoretical);
            if (c.theoreticalAtMeasuredClock) j["theoretical_at_measured_clock"] = *c.theoreticalAtMeasuredClock;
            j["theoretical_method"] = c.theoreticalMethod;
        }
        if (c.kind == "compute") j["cross_check"] = c.crossCheck;
        ceilings.push_back(std::move(j));
    }
    out["ceilings"] = std::move(ceilings);
    json sweeps = json::array();
    for (const Sweep& s : m.sweeps) {
        json points = json::array();
        for (const SweepPoint& p : s.points)
            points.push_back({ whole(p.bytes), p.value, p.level });
        sweeps.push_back({ { "device", device }, { "pattern", s.pattern }, { "threads", 0 }, { "points", points } });
    }
    out["sweeps"] = std::move(sweeps);
    out["notes"] = m.notes;
    return out;
}

} // namespace

int main(int argc, char** argv)
{
    Options options;
    bool deviceSeen = false, probe = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            std::fputs(kUsage, stdout);
            return kExitOk;
        }
        if (arg == "--quick") {
            options.quick = true;
        } else if (arg == "--probe") {
            probe = true;
        } else if (arg == "--device" || arg.starts_with("--device=")) {
            std::string_view value;
            if (arg == "--device") {
                if (i + 1 >= argc) return usageError("--device needs a GPU index");
                value = argv[++i];
            } else {
                value = arg.substr(std::strlen("--device="));
            }
            if (deviceSeen) return usageError("--device given twice");
            if (!parseIndex(value, options.device))
                return usageError("--device: '" + std::string(value) + "' is not a GPU index (0, 1, …)");
            deviceSeen = true;
        } else {
            return usageError("unknown argument '" + std::string(arg) + "'");
        }
    }

    // Quick mode is meant to take under 15 s and full mode under 90 s on an H100; the limits leave room for slow GPUs.
    Watchdog watchdog(std::chrono::seconds(options.quick ? 60 : 240));
    try {
        GpuIdentity gpu = openDevice(options.device);
        if (probe) {
            probeCounters(gpu, 0.5);
            return kExitOk;
        }
        const Measurement m = measure(options, std::move(gpu));
        const std::string text = toJson(m).dump(1) + "\n";
        std::fputs(text.c_str(), stdout);
        std::fflush(stdout);
        progress("done");
        return kExitOk;
    } catch (const NoUsableGpu& e) {
        std::fprintf(stderr, "rooftime ceilings: %s\n", e.what());
        return kExitNoGpu;
    } catch (const std::exception& e) {
        // A failed CUDA call may leave the context unusable: leave at once instead of running the runtime's teardown.
        std::fprintf(stderr, "rooftime ceilings: measurement failed in %s: %s\n", currentPhase(), e.what());
        std::fflush(stderr);
        std::_Exit(kExitFailed);
    }
}
