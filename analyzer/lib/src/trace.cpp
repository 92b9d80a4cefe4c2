// SPDX-License-Identifier: MIT
#include "rooftime/analyzer/trace.h"

#include "rooftime/analyzer/format.h"
#include "rooftime/analyzer/report.h"
#include "rooftime/analyzer/roofline.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <tuple>
#include <unistd.h>

namespace rooftime::analyzer {

namespace fs = std::filesystem;

namespace {

/// A JSON string literal; names that are not UTF-8 get replacement characters, as in the report's JSON.
std::string quoted(const std::string& s)
{
    return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

/// A number for JSON: finite, shortest form.
std::string num(double v)
{
    return std::isfinite(v) ? fmt::format("{}", v) : "0";
}

/// Microseconds with nanosecond resolution ("-1.500" for -1500 ns).
std::string micros(std::int64_t ns)
{
    const std::uint64_t a = ns < 0 ? 0 - static_cast<std::uint64_t>(ns) : static_cast<std::uint64_t>(ns);
    return fmt::format("{}{}.{:03d}", ns < 0 ? "-" : "", a / 1000, static_cast<int>(a % 1000));
}

/// What one launch of a kernel did, on average, and what it had to take at the roof.
struct PerLaunch {
    double flops = 0; ///< all classes
    std::map<std::string, double> bytes; ///< per level
    std::optional<double> roofSeconds; ///< its work at the roof, when the work has a roof
    std::string limiter; ///< the kernel's, over all its launches
    std::string basis; ///< where the mean comes from, for the args
};

const char* memopName(const MemopRecord& m)
{
    if (m.kind == 1) return "memset";
    switch (m.copyKind.value_or(0)) {
    case 1:
        return "memcpy HtoD";
    case 2:
        return "memcpy DtoH";
    case 8:
        return "memcpy DtoD";
    case 10:
        return "memcpy PtoP";
    default:
        return "memcpy";
    }
}

/// GPU stream tracks get thread ids no Linux thread has (pid_max is at most 2^22), below Perfetto's 32 bits.
constexpr std::int64_t kFirstGpuTid = 0x7fff0000;

/// The GPU tracks of one process: one per stream, and one beside it for launches without a time of their own.
class Tracks {
public:
    std::int64_t gpu(std::int64_t device, std::int64_t stream, bool placed)
    {
        auto [at, added]
            = m_gpu.try_emplace({ device, stream, placed }, kFirstGpuTid + static_cast<std::int64_t>(m_gpu.size()));
        return at->second;
    }
    const std::map<std::tuple<std::int64_t, std::int64_t, bool>, std::int64_t>& gpuTracks() const { return m_gpu; }

private:
    std::map<std::tuple<std::int64_t, std::int64_t, bool>, std::int64_t> m_gpu;
};

/// Per GPU of a process, the roofline over time in fixed bins: kernel time (all, and with known work), time at the
/// roof, FLOPs and HBM bytes.
struct Bins {
    std::int64_t t0 = 0, width = 1;
    std::vector<double> busy, knownTime, atRoof, flops, bytes;
    void init(std::int64_t from, std::int64_t to, std::size_t n)
    {
        t0 = from;
        const std::int64_t span = std::max<std::int64_t>(to - from, 1);
        width = std::max<std::int64_t>(1000, span / static_cast<std::int64_t>(n) + 1);
        const auto count = static_cast<std::size_t>(span / width + 1);
        for (auto* v : { &busy, &knownTime, &atRoof, &flops, &bytes })
            v->assign(count, 0);
    }
    /// Spreads a kernel over the bins it overlaps, each share in proportion to the time it spent there.
    /// @p known: the kernel's bound is known, and @p roofShare (bound / its time, at most 1) counts.
    void add(std::int64_t start, std::int64_t dur, bool known, double roofShare, double f, double q)
    {
        if (dur <= 0 || busy.empty()) return;
        const std::int64_t end = start + dur;
        for (std::int64_t b = std::max<std::int64_t>(0, (start - t0) / width);
             b < static_cast<std::int64_t>(busy.size()) && t0 + b * width < end; ++b) {
            const std::int64_t lo = std::max(start, t0 + b * width), hi = std::min(end, t0 + (b + 1) * width);
            if (hi <= lo) continue;
            const double part = static_cast<double>(hi - lo);
            const double share = part / static_cast<double>(dur);
            const auto i = static_cast<std::size_t>(b);
            busy[i] += part;
            if (known) {
                knownTime[i] += part;
                atRoof[i] += part * roofShare;
            }
            flops[i] += f * share;
            bytes[i] += q * share;
        }
    }
};

std::string configText(const std::array<std::int64_t, 6>& c)
{
    return fmt::format("grid({},{},{}) block({},{},{})", c[0], c[1], c[2], c[3], c[4], c[5]);
}

} // namespace

TraceSummary writeChromeTrace(
    const std::vector<Profile>& profiles, const MachineModel* machine, const TraceOptions& options, std::ostream& out)
{
    TraceSummary summary;
    // The kernels' work per launch and their roofs: the kernel view of `rooftime report` over the same profiles,
    // per launch configuration where that configuration was measured, else over all of the kernel's launches.
    ReportOptions view;
    view.by = ReportBy::Kernel;
    const Report report = buildReport(profiles, machine, view);
    view.withLaunchConfig = true;
    const Report byConfig = buildReport(profiles, machine, view);
    summary.machineSource = report.machine ? report.machineSource : std::string();
    const auto perLaunchOf = [](const ReportRow& r, std::string basis) {
        PerLaunch p;
        const double n = static_cast<double>(r.count);
        for (const auto& [cls, v] : r.flopsByClass)
            p.flops += v / n;
        for (const auto& [level, v] : r.bytesByLevel)
            p.bytes[level] = v / n;
        if (r.roof && r.roof->workHasRoof()) p.roofSeconds = r.roof->roofSeconds / n;
        if (r.roof && r.roof->efficiency) p.limiter = limiterLabel(*r.roof);
        p.basis = std::move(basis);
        return p;
    };
    using KernelKey = std::tuple<std::string, std::string, std::string>; // name, device, configuration ("": all)
    std::map<KernelKey, PerLaunch> perLaunch;
    for (const ReportRow& r : report.rows)
        if (r.count > 0 && (!r.flopsByClass.empty() || !r.bytesByLevel.empty()))
            perLaunch[{ r.name, r.device, "" }] = perLaunchOf(r,
                fmt::format("mean per launch of this kernel, from {} measured launch{}", r.replayed,
                    r.replayed == 1 ? "" : "es"));
    for (const ReportRow& r : byConfig.rows)
        if (r.count > 0 && r.replayed > 0 && (!r.flopsByClass.empty() || !r.bytesByLevel.empty()))
            perLaunch[{ r.name, r.device, r.config }] = perLaunchOf(r,
                fmt::format("mean per launch of this kernel in this launch configuration, from {} measured launch{}",
                    r.replayed, r.replayed == 1 ? "" : "es"));
    std::map<std::string, Roofs> roofs; // per device name ("gpu0")
    auto roofsOf = [&](const std::string& device) -> const Roofs* {
        if (!report.machine) return nullptr;
        auto [at, added] = roofs.try_emplace(device);
        if (added) at->second = Roofs::fromMachine(*report.machine, device);
        return &at->second;
    };

    std::int64_t origin = std::numeric_limits<std::int64_t>::max();
    for (const Profile& p : profiles)
        origin = std::min(origin, p.process().startNs);
    struct Span {
        std::int64_t from, to;
    };
    std::vector<Span> spans;
    for (const Profile& p : profiles) {
        const ProcessMeta& m = p.process();
        const std::int64_t end = std::max(m.endNs.value_or(m.lastEventNs), m.startNs);
        Span s { m.startNs, end };
        if (options.fromSeconds)
            s.from = m.startNs + static_cast<std::int64_t>(std::llround(*options.fromSeconds * 1e9));
        if (options.toSeconds) s.to = m.startNs + static_cast<std::int64_t>(std::llround(*options.toSeconds * 1e9));
        spans.push_back(s);
    }
    const auto inSpan
        = [](const Span& s, std::int64_t start, std::int64_t end) { return end >= s.from && start <= s.to; };

    // First pass: the slices' starts (on the common axis), to cut at one time for all when there are too many.
    std::int64_t cut = std::numeric_limits<std::int64_t>::max();
    std::uint64_t recorded = 0;
    for (const Profile& p : profiles)
        recorded += p.eventCount();
    if (recorded > options.maxSlices) {
        std::vector<std::int64_t> starts;
        for (std::size_t i = 0; i < profiles.size(); ++i) {
            const Span& s = spans[i];
            profiles[i].forEachRegion([&](const RegionInstance& r) {
                if (inSpan(s, r.startNs, r.endNs)) starts.push_back(r.startNs - origin);
            });
            profiles[i].forEachKernel([&](const KernelLaunch& k) {
                if (k.startNs && inSpan(s, *k.startNs, *k.startNs + std::max<std::int64_t>(0, k.durationNs)))
                    starts.push_back(*k.startNs - origin);
            });
            profiles[i].forEachMemop([&](const MemopRecord& m) {
                if (inSpan(s, m.startNs, m.endNs)) starts.push_back(m.startNs - origin);
            });
        }
        if (starts.size() > options.maxSlices) {
            std::nth_element(
                starts.begin(), starts.begin() + static_cast<std::ptrdiff_t>(options.maxSlices), starts.end());
            cut = starts[options.maxSlices];
            summary.cutAtSeconds = static_cast<double>(cut) * 1e-9;
        }
    }

    // Processes by their own pids, unless two profiles share one (ranks on other hosts): then by their order.
    std::set<long> pids;
    for (const Profile& p : profiles)
        if (p.process().pid > 0) pids.insert(p.process().pid);
    const bool ownPids = pids.size() == profiles.size();

    out << "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"producer\":\"rooftime export\",\"roofs\":"
        << quoted(summary.machineSource) << "},\"traceEvents\":[\n";
    bool first = true;
    const auto event = [&](const std::string& json) {
        out << (first ? "" : ",\n") << json;
        first = false;
    };
    const auto metadata
        = [&](long pid, std::int64_t tid, const char* what, const std::string& key, const std::string& value) {
              event(fmt::format(
                  R"({{"ph":"M","pid":{},"tid":{},"name":"{}","args":{{"{}":{}}}}})", pid, tid, what, key, value));
          };

    for (std::size_t index = 0; index < profiles.size(); ++index) {
        const Profile& p = profiles[index];
        const ProcessMeta& m = p.process();
        const Span& span = spans[index];
        const long pid = ownPids ? m.pid : static_cast<long>(index) + 1;
        metadata(pid, 0, "process_name", "name",
            quoted(fmt::format(
                "{} (pid {}, rank {}, {})", m.exe.empty() ? std::string("process") : m.exe, m.pid, m.rank, m.host)));
        metadata(pid, 0, "process_sort_index", "sort_index", std::to_string(index));
        // CPU threads by their own thread ids (Perfetto takes tid == pid for the main thread), unless damaged.
        std::map<std::int64_t, std::int64_t> tidOf; // thread.id -> track id
        std::set<std::int64_t> tids;
        const std::vector<ThreadInfo> threads = p.threads();
        bool ownTids = true;
        for (const ThreadInfo& t : threads)
            ownTids = ownTids && t.tid > 0 && t.tid < kFirstGpuTid && tids.insert(t.tid).second;
        for (const ThreadInfo& t : threads) {
            const std::int64_t tid = ownTids ? t.tid : std::clamp<std::int64_t>(t.id, 1, kFirstGpuTid - 1);
            tidOf[t.id] = tid;
            metadata(pid, tid, "thread_name", "name",
                quoted(fmt::format("{} (tid {})", t.name.empty() ? std::string("thread") : t.name, t.tid)));
            metadata(pid, tid, "thread_sort_index", "sort_index", std::to_string(t.id));
        }
        const auto cpuTrack = [&](std::int64_t thread) {
            auto at = tidOf.find(thread);
            return at != tidOf.end() ? at->second : std::clamp<std::int64_t>(thread, 1, kFirstGpuTid - 1);
        };
        Tracks tracks;

        p.forEachRegion([&](const RegionInstance& r) {
            if (!inSpan(span, r.startNs, r.endNs)) return;
            if (r.startNs - origin >= cut) {
                ++summary.cutSlices;
                return;
            }
            std::string args;
            if (r.flops)
                args = fmt::format(
                    R"(,"args":{{"declared FLOPs":{},"declared bytes":{}}})", num(*r.flops), num(r.bytes.value_or(0)));
            // NVTX start/end ranges cross threads and do not nest: an async slice of their own.
            if (r.kind == 2) {
                event(fmt::format(R"({{"ph":"b","cat":"nvtx-range","id":{},"pid":{},"tid":{},"ts":{},"name":{}{}}})",
                    summary.regions, pid, cpuTrack(r.thread), micros(r.startNs - origin), quoted(r.name), args));
                event(fmt::format(R"({{"ph":"e","cat":"nvtx-range","id":{},"pid":{},"tid":{},"ts":{},"name":{}}})",
                    summary.regions, pid, cpuTrack(r.thread), micros(r.endNs - origin), quoted(r.name)));
            } else {
                event(fmt::format(R"({{"ph":"X","cat":"{}","pid":{},"tid":{},"ts":{},"dur":{},"name":{}{}}})",
                    r.kind == 1 ? "nvtx" : "region", pid, cpuTrack(r.thread), micros(r.startNs - origin),
                    micros(std::max<std::int64_t>(0, r.endNs - r.startNs)), quoted(r.name), args));
            }
            ++summary.regions;
        });

        std::map<std::int64_t, Bins> bins; // per device
        const auto binsOf = [&](std::int64_t device) -> Bins& {
            auto [at, added] = bins.try_emplace(device);
            if (added) {
                const std::int64_t from = std::max(span.from, m.startNs);
                const std::int64_t to
                    = std::max(std::min(span.to, std::max(m.endNs.value_or(m.lastEventNs), from)), from + 1);
                at->second.init(from, to, std::max<std::size_t>(options.bins, 1));
            }
            return at->second;
        };
        struct KernelText {
            std::string name; ///< quoted
            std::string workArgs, limiterArg;
            const PerLaunch* work = nullptr;
            const Roofs* roofs = nullptr;
        };
        // What is the same for every launch of a kernel in one configuration is formatted once (a run has
        // millions of launches).
        std::map<std::tuple<std::string, std::int64_t, std::array<std::int64_t, 6>>, KernelText> kernelText;
        std::map<std::string, std::string> quotedRegions;
        p.forEachKernel([&](const KernelLaunch& k) {
            if (!k.startNs) {
                ++summary.untimedKernels;
                return;
            }
            const std::int64_t start = *k.startNs;
            const std::int64_t duration = std::max<std::int64_t>(0, k.durationNs);
            if (!inSpan(span, start, start + duration)) return;
            if (start - origin >= cut) {
                ++summary.cutSlices;
                return;
            }
            auto [known, added] = kernelText.try_emplace({ k.name, k.device, k.config });
            KernelText& text = known->second;
            if (added) {
                const std::string device = fmt::format("gpu{}", k.device);
                auto w = perLaunch.find({ k.name, device, configText(k.config) });
                if (w == perLaunch.end()) w = perLaunch.find({ k.name, device, "" });
                text.work = w == perLaunch.end() ? nullptr : &w->second;
                text.roofs = roofsOf(device);
                text.name = quoted(k.name);
                if (text.work) {
                    text.workArgs += fmt::format(R"(,"work":{})", quoted(text.work->basis));
                    if (text.work->flops > 0) text.workArgs += fmt::format(R"(,"FLOPs":{})", num(text.work->flops));
                    for (const auto& [l, v] : text.work->bytes)
                        text.workArgs += fmt::format(",{}:{}", quoted("bytes " + l), num(v));
                    if (!text.work->limiter.empty())
                        text.limiterArg = fmt::format(R"(,"kernel limiter":{})", quoted(text.work->limiter));
                }
            }
            const PerLaunch* work = text.work;
            const Roofs* r = text.roofs;
            const double launch = r ? r->launchSeconds : 0;
            const double seconds = static_cast<double>(duration) * 1e-9;
            // The bound of this launch: its mean work at the roof, at least one launch; without work with a roof,
            // only a launch within the launch floor is bounded (launch-bound: the floor), as in the report.
            std::optional<double> bound;
            bool floorOnly = false;
            if (work && work->roofSeconds && r) {
                bound = std::max(*work->roofSeconds, launch);
            } else if (launch > 0 && seconds > 0 && seconds <= launch) {
                bound = launch;
                floorOnly = true;
            }
            std::string args = fmt::format(R"j("grid":"({},{},{})","block":"({},{},{})","correlation":{},"stream":{})j",
                k.config[0], k.config[1], k.config[2], k.config[3], k.config[4], k.config[5], k.correlation, k.stream);
            if (!k.region.empty()) {
                auto [region, fresh] = quotedRegions.try_emplace(k.region);
                if (fresh) region->second = quoted(k.region);
                args += R"(,"launched in":)" + region->second;
            }
            if (k.replayed) args += R"j(,"counters":"collected on this launch (its time is the replay's)")j";
            if (!k.timed)
                args += R"(,"placed":"no GPU time of its own: drawn at its launch call, else at the start of its )"
                        R"(region, with the replay's duration where there is one")";
            args += text.workArgs;
            if (bound && seconds > 0) {
                // Numbers, for Perfetto's SQL; the efficiency as a fraction, at most 1 (the work is a mean).
                args += fmt::format(
                    R"(,"roof_ns":{:.0f},"efficiency":{:.4f})", *bound * 1e9, std::min(1.0, *bound / seconds));
                args += floorOnly ? std::string(R"(,"limiter":"launch")") : text.limiterArg;
            }
            event(fmt::format(
                R"({{"ph":"X","cat":"kernel","pid":{},"tid":{},"ts":{},"dur":{},"name":{},"args":{{{}}}}})", pid,
                tracks.gpu(k.device, k.stream, !k.timed), micros(start - origin), micros(duration), text.name, args));
            ++summary.kernels;
            // Launches without a time of their own count in the roofline over time only when drawn at their launch
            // call, where the kernel ran (it is replayed there); placed at their region's start, they stay out.
            const bool atLaunchCall = !k.timed && k.launchNs && *k.launchNs == start;
            if (!k.timed && !atLaunchCall) ++summary.outsideTracks;
            if (r && (k.timed || atLaunchCall)) {
                const bool bounded = bound && seconds > 0;
                binsOf(k.device).add(start, duration, bounded, bounded ? std::min(1.0, *bound / seconds) : 0.0,
                    work ? work->flops : 0, work && work->bytes.count("HBM") ? work->bytes.at("HBM") : 0);
            }
        });
        p.forEachMemop([&](const MemopRecord& mo) {
            if (!inSpan(span, mo.startNs, mo.endNs)) return;
            if (mo.startNs - origin >= cut) {
                ++summary.cutSlices;
                return;
            }
            event(fmt::format(
                R"({{"ph":"X","cat":"memop","pid":{},"tid":{},"ts":{},"dur":{},"name":"{}","args":{{"bytes":{}}}}})",
                pid, tracks.gpu(mo.device, mo.stream, false), micros(mo.startNs - origin),
                micros(std::max<std::int64_t>(0, mo.endNs - mo.startNs)), memopName(mo), mo.bytes));
            ++summary.memops;
        });
        for (const auto& [key, tid] : tracks.gpuTracks()) {
            const auto& [device, stream, placed] = key;
            metadata(pid, tid, "thread_name", "name",
                quoted(fmt::format("gpu{} stream {}{}", device, stream, placed ? " (launches without a time)" : "")));
            metadata(pid, tid, "thread_sort_index", "sort_index", std::to_string(tid));
        }

        // The time-based roofline over time: per bin, the share of wall time the GPU ran kernels (all, and those
        // whose work is known), the share that work would have needed at the roof, and the FLOP/s and HBM
        // bytes/s achieved. Perfetto names a counter track "name key": "gpu0 kernel time %".
        for (const auto& [device, b] : bins) {
            const double width = static_cast<double>(b.width) * 1e-9;
            const std::string gpu = fmt::format("gpu{}", device);
            const double percent = 100 / static_cast<double>(b.width);
            const struct {
                std::string name, key;
                const std::vector<double>* v;
                double scale;
            } series[] = {
                { gpu + " kernel time", "%", &b.busy, percent },
                { gpu + " kernel time, work known", "%", &b.knownTime, percent },
                { gpu + " time at roof", "%", &b.atRoof, percent },
                { gpu + " achieved", "FLOP/s", &b.flops, 1 / width },
                { gpu + " HBM", "bytes/s", &b.bytes, 1 / width },
            };
            for (const auto& s : series) {
                // A series that is 0 throughout (no work known) says nothing: left out.
                if (std::all_of(s.v->begin(), s.v->end(), [](double v) { return v == 0; })) continue;
                double last = 0;
                std::int64_t end = b.t0 + static_cast<std::int64_t>(s.v->size()) * b.width;
                for (std::size_t i = 0; i < s.v->size(); ++i) {
                    const std::int64_t t = b.t0 + static_cast<std::int64_t>(i) * b.width;
                    if (t - origin >= cut) {
                        end = t;
                        break;
                    }
                    const double v = (*s.v)[i] * s.scale;
                    if (v == last && i > 0) continue;
                    last = v;
                    event(fmt::format(R"({{"ph":"C","pid":{},"ts":{},"name":{},"args":{{{}:{}}}}})", pid,
                        micros(t - origin), quoted(s.name), quoted(s.key), num(v)));
                    ++summary.counterEvents;
                }
                // A counter holds its value until the next event: back to 0 where the bins (or the cut) end.
                if (last != 0) {
                    event(fmt::format(R"({{"ph":"C","pid":{},"ts":{},"name":{},"args":{{{}:0}}}})", pid,
                        micros(end - origin), quoted(s.name), quoted(s.key)));
                    ++summary.counterEvents;
                }
            }
        }
    }
    out << "\n]}\n";
    return summary;
}

TraceSummary writeChromeTraceFile(const std::vector<Profile>& profiles, const MachineModel* machine,
    const TraceOptions& options, const std::string& path)
{
    const fs::path tmp = fmt::format("{}.tmp.{}", path, getpid());
    try {
        std::ofstream file(tmp, std::ios::binary | std::ios::trunc);
        if (!file) throw std::runtime_error(fmt::format("cannot write '{}'", path));
        const TraceSummary summary = writeChromeTrace(profiles, machine, options, file);
        file.close();
        if (!file) throw std::runtime_error(fmt::format("cannot write '{}'", path));
        std::error_code ec;
        fs::rename(tmp, path, ec);
        if (ec) throw std::runtime_error(fmt::format("cannot write '{}': {}", path, ec.message()));
        return summary;
    } catch (...) {
        std::error_code ec;
        fs::remove(tmp, ec);
        throw;
    }
}

} // namespace rooftime::analyzer
