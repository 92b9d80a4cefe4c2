// SPDX-License-Identifier: MIT
#include "rooftime/analyzer/trace.h"

#include "rooftime/analyzer/format.h"
#include "rooftime/analyzer/report.h"
#include "rooftime/analyzer/roofline.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <tuple>

namespace rooftime::analyzer {

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

/// Microseconds with nanosecond resolution.
std::string micros(std::int64_t ns)
{
    return fmt::format("{}.{:03d}", ns / 1000, static_cast<int>(ns % 1000));
}

/// What one launch of a kernel did, on average, and what it had to take at the roof.
struct PerLaunch {
    double flops = 0; ///< all classes
    std::map<std::string, double> bytes; ///< per level
    std::optional<double> roofSeconds; ///< its work at the roof, when the work has a roof
    std::string limiter; ///< the kernel's, over all its launches
    std::uint64_t launches = 0;
    bool measured = false; ///< the work comes from counters
};

const char* memcpyKindName(std::optional<int> kind)
{
    if (!kind) return "memset";
    switch (*kind) {
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

/// The tracks of one process: CPU threads keep their thread ids, GPU streams get ids after them.
class Tracks {
public:
    explicit Tracks(std::int64_t firstGpuTid)
        : m_next(firstGpuTid)
    { }
    std::int64_t gpu(std::int64_t device, std::int64_t stream)
    {
        auto [at, added] = m_gpu.try_emplace({ device, stream }, m_next);
        if (added) ++m_next;
        return at->second;
    }
    const std::map<std::pair<std::int64_t, std::int64_t>, std::int64_t>& gpuTracks() const { return m_gpu; }

private:
    std::int64_t m_next;
    std::map<std::pair<std::int64_t, std::int64_t>, std::int64_t> m_gpu;
};

/// Per GPU of a process, the roofline over time in fixed bins: kernel time, time at the roof, FLOPs, bytes.
struct Bins {
    std::int64_t t0 = 0, width = 1;
    std::vector<double> busy, atRoof, flops, bytes;
    bool any = false;
    void init(std::int64_t from, std::int64_t to, std::size_t n)
    {
        t0 = from;
        width = std::max<std::int64_t>(
            1000, (to - from + static_cast<std::int64_t>(n) - 1) / static_cast<std::int64_t>(n));
        const auto count = static_cast<std::size_t>((to - from) / width + 1);
        busy.assign(count, 0);
        atRoof.assign(count, 0);
        flops.assign(count, 0);
        bytes.assign(count, 0);
    }
    /// Spreads a kernel over the bins it overlaps, each share in proportion to the time it spent there.
    void add(std::int64_t start, std::int64_t dur, double roofShare, bool analysed, double f, double q)
    {
        if (dur <= 0 || busy.empty()) return;
        any = true;
        const std::int64_t end = start + dur;
        for (std::int64_t b = std::max<std::int64_t>(0, (start - t0) / width);
             b < static_cast<std::int64_t>(busy.size()) && t0 + b * width < end; ++b) {
            const std::int64_t lo = std::max(start, t0 + b * width), hi = std::min(end, t0 + (b + 1) * width);
            if (hi <= lo) continue;
            const double part = static_cast<double>(hi - lo);
            const double share = part / static_cast<double>(dur);
            const auto i = static_cast<std::size_t>(b);
            busy[i] += part;
            if (analysed) atRoof[i] += part * roofShare;
            flops[i] += f * share;
            bytes[i] += q * share;
        }
    }
};

} // namespace

TraceSummary writeChromeTrace(
    const std::vector<Profile>& profiles, const MachineModel* machine, const TraceOptions& options, std::ostream& out)
{
    TraceSummary summary;
    // The kernels' work per launch and their roofs: the kernel view of `rooftime report` over the same profiles.
    ReportOptions kernelView;
    kernelView.by = ReportBy::Kernel;
    const Report report = buildReport(profiles, machine, kernelView);
    summary.machineSource = report.machine ? report.machineSource : std::string();
    std::map<std::pair<std::string, std::string>, PerLaunch> perLaunch;
    for (const ReportRow& r : report.rows) {
        if (r.count == 0) continue;
        PerLaunch& p = perLaunch[{ r.name, r.device }];
        const double n = static_cast<double>(r.count);
        p.launches = r.count;
        for (const auto& [cls, v] : r.flopsByClass)
            p.flops += v / n;
        for (const auto& [level, v] : r.bytesByLevel)
            p.bytes[level] = v / n;
        p.measured = r.workSource == Source::Measured || r.workSource == Source::Estimated;
        if (r.roof && r.roof->workHasRoof()) p.roofSeconds = r.roof->roofSeconds / n;
        if (r.roof && r.roof->efficiency) p.limiter = limiterLabel(*r.roof);
    }
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
                if (k.startNs && inSpan(s, *k.startNs, *k.startNs + k.durationNs))
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

    out << "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"producer\":\"rooftime export\",\"roofs\":"
        << quoted(summary.machineSource) << "},\"traceEvents\":[\n";
    bool first = true;
    const auto event = [&](const std::string& json) {
        out << (first ? "" : ",\n") << json;
        first = false;
    };
    const auto metadata
        = [&](int pid, std::int64_t tid, const char* what, const std::string& key, const std::string& value) {
              event(fmt::format(
                  R"({{"ph":"M","pid":{},"tid":{},"name":"{}","args":{{"{}":{}}}}})", pid, tid, what, key, value));
          };

    for (std::size_t index = 0; index < profiles.size(); ++index) {
        const Profile& p = profiles[index];
        const ProcessMeta& m = p.process();
        const Span& span = spans[index];
        const int pid = static_cast<int>(index) + 1; // ranks on other hosts may share a pid
        metadata(pid, 0, "process_name", "name",
            quoted(fmt::format(
                "{} (pid {}, rank {}, {})", m.exe.empty() ? std::string("process") : m.exe, m.pid, m.rank, m.host)));
        metadata(pid, 0, "process_sort_index", "sort_index", std::to_string(index));
        std::int64_t maxThread = 0;
        for (const ThreadInfo& t : p.threads()) {
            maxThread = std::max(maxThread, t.id);
            metadata(pid, t.id, "thread_name", "name",
                quoted(fmt::format("{} (tid {})", t.name.empty() ? std::string("thread") : t.name, t.tid)));
            metadata(pid, t.id, "thread_sort_index", "sort_index", std::to_string(t.id));
        }
        // GPU tracks after the CPU threads (a damaged thread id must not overflow the count).
        Tracks tracks(maxThread < std::numeric_limits<std::int64_t>::max() / 2
                ? std::max<std::int64_t>(maxThread + 1, 1000)
                : 1000);

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
                    summary.regions, pid, r.thread, micros(r.startNs - origin), quoted(r.name), args));
                event(fmt::format(R"({{"ph":"e","cat":"nvtx-range","id":{},"pid":{},"tid":{},"ts":{},"name":{}}})",
                    summary.regions, pid, r.thread, micros(r.endNs - origin), quoted(r.name)));
            } else {
                event(fmt::format(R"({{"ph":"X","cat":"{}","pid":{},"tid":{},"ts":{},"dur":{},"name":{}{}}})",
                    r.kind == 1 ? "nvtx" : "region", pid, r.thread, micros(r.startNs - origin),
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
        std::map<std::pair<std::string, std::int64_t>, KernelText> kernelText;
        std::map<std::string, std::string> quotedRegions;
        p.forEachKernel([&](const KernelLaunch& k) {
            if (!k.startNs) {
                ++summary.untimedKernels;
                return;
            }
            const std::int64_t start = *k.startNs;
            if (!inSpan(span, start, start + k.durationNs)) return;
            if (start - origin >= cut) {
                ++summary.cutSlices;
                return;
            }
            // What is the same for every launch of a kernel is formatted once (a run has millions of launches).
            auto [known, added] = kernelText.try_emplace({ k.name, k.device });
            KernelText& text = known->second;
            if (added) {
                const std::string device = fmt::format("gpu{}", k.device);
                const auto w = perLaunch.find({ k.name, device });
                text.work = w == perLaunch.end() ? nullptr : &w->second;
                text.roofs = roofsOf(device);
                text.name = quoted(k.name);
                if (text.work && text.work->flops > 0)
                    text.workArgs += fmt::format(R"j(,"FLOPs (kernel mean)":{})j", num(text.work->flops));
                if (text.work)
                    for (const auto& [l, v] : text.work->bytes)
                        text.workArgs += fmt::format(",{}:{}", quoted("bytes " + l + " (kernel mean)"), num(v));
                if (text.work && !text.work->limiter.empty())
                    text.limiterArg = fmt::format(R"(,"kernel limiter":{})", quoted(text.work->limiter));
            }
            const PerLaunch* work = text.work;
            const Roofs* r = text.roofs;
            const double launch = r ? r->launchSeconds : 0;
            const double seconds = static_cast<double>(k.durationNs) * 1e-9;
            // The bound of this launch: its kernel's mean work at the roof, at least one launch; without work with a
            // roof, only a launch within the launch floor is bounded (launch-bound), as in the report.
            std::optional<double> bound;
            if (work && work->roofSeconds && r)
                bound = std::max(*work->roofSeconds, launch);
            else if (launch > 0 && seconds > 0 && seconds <= launch)
                bound = seconds;
            const std::string level = "HBM";
            const double q = work && work->bytes.count(level) ? work->bytes.at(level) : 0;
            std::string args = fmt::format(R"j("grid":"({},{},{})","block":"({},{},{})","correlation":{},"stream":{})j",
                k.config[0], k.config[1], k.config[2], k.config[3], k.config[4], k.config[5], k.correlation, k.stream);
            if (!k.region.empty()) {
                auto [region, fresh] = quotedRegions.try_emplace(k.region);
                if (fresh) region->second = quoted(k.region);
                args += R"(,"launched in":)" + region->second;
            }
            if (k.replayed) args += R"j(,"counters":"measured on this launch (its time is under kernel replay)")j";
            if (!k.timed) args += R"(,"placed":"no time of its own: shown at its launch")";
            args += text.workArgs;
            if (bound && seconds > 0) {
                args += fmt::format(R"(,"roof time":"{}","efficiency":"{:.0f} %")", humanSeconds(*bound),
                    efficiencyPercent(std::min(1.0, *bound / seconds)));
                args += text.limiterArg;
            }
            event(fmt::format(
                R"({{"ph":"X","cat":"kernel","pid":{},"tid":{},"ts":{},"dur":{},"name":{},"args":{{{}}}}})", pid,
                tracks.gpu(k.device, k.stream), micros(start - origin), micros(k.durationNs), text.name, args));
            ++summary.kernels;
            if (r)
                binsOf(k.device).add(start, k.durationNs, bound && seconds > 0 ? std::min(1.0, *bound / seconds) : 0,
                    bound.has_value(), work ? work->flops : 0, q);
        });
        p.forEachMemop([&](const MemopRecord& mo) {
            if (!inSpan(span, mo.startNs, mo.endNs)) return;
            if (mo.startNs - origin >= cut) {
                ++summary.cutSlices;
                return;
            }
            event(fmt::format(
                R"({{"ph":"X","cat":"memop","pid":{},"tid":{},"ts":{},"dur":{},"name":"{}","args":{{"bytes":{}}}}})",
                pid, tracks.gpu(mo.device, mo.stream), micros(mo.startNs - origin),
                micros(std::max<std::int64_t>(0, mo.endNs - mo.startNs)),
                mo.kind == 1 ? "memset" : memcpyKindName(mo.copyKind), mo.bytes));
            ++summary.memops;
        });
        for (const auto& [key, tid] : tracks.gpuTracks()) {
            metadata(pid, tid, "thread_name", "name", quoted(fmt::format("gpu{} stream {}", key.first, key.second)));
            metadata(pid, tid, "thread_sort_index", "sort_index", std::to_string(tid));
        }

        // The time-based roofline over time: per bin, the share of wall time the GPU ran kernels and the share it
        // would have needed at the roof, with the FLOP/s and HBM bytes/s achieved.
        for (const auto& [device, b] : bins) {
            if (!b.any) continue;
            const double width = static_cast<double>(b.width) * 1e-9;
            const std::string gpu = fmt::format("gpu{}", device);
            const struct {
                std::string name;
                const std::vector<double>* v;
                double scale;
            } series[] = {
                { gpu + " kernel time %", &b.busy, 100 / static_cast<double>(b.width) },
                { gpu + " time at roof %", &b.atRoof, 100 / static_cast<double>(b.width) },
                { gpu + " FLOP/s", &b.flops, 1 / width },
                { gpu + " HBM bytes/s", &b.bytes, 1 / width },
            };
            for (const auto& s : series) {
                double last = -1;
                for (std::size_t i = 0; i < s.v->size(); ++i) {
                    const double v = (*s.v)[i] * s.scale;
                    if (v == last) continue;
                    last = v;
                    const std::int64_t t = b.t0 + static_cast<std::int64_t>(i) * b.width;
                    if (t - origin >= cut) break;
                    event(fmt::format(R"({{"ph":"C","pid":{},"ts":{},"name":{},"args":{{"value":{}}}}})", pid,
                        micros(t - origin), quoted(s.name), num(v)));
                    ++summary.counterEvents;
                }
                // A counter holds its value until the next event: back to 0 where the bins end.
                const std::int64_t end = b.t0 + static_cast<std::int64_t>(s.v->size()) * b.width;
                if (last > 0 && end - origin < cut) {
                    event(fmt::format(R"({{"ph":"C","pid":{},"ts":{},"name":{},"args":{{"value":0}}}})", pid,
                        micros(end - origin), quoted(s.name)));
                    ++summary.counterEvents;
                }
            }
        }
    }
    out << "\n]}\n";
    return summary;
}

} // namespace rooftime::analyzer
