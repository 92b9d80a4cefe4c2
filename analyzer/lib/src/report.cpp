// SPDX-License-Identifier: MIT
#include "rooftime/analyzer/report.h"

#include "rooftime/analyzer/format.h"
#include "rooftime/analyzer/metrics.h"

#include <fmt/format.h>

#include "rooftime/schema.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

namespace rooftime::analyzer {

double WorkSpread::flopsSpread() const
{
    return flopsMax > 0 ? (flopsMax - flopsMin) / flopsMax : 0;
}

std::vector<std::string> WorkSpread::doubts() const
{
    std::vector<std::string> out;
    if (unmeasured == 0) return out;
    if (flopsSpread() > 0.1)
        out.push_back(
            fmt::format("FLOPs per launch differ by {:.0f}% over the {} measured", 100 * flopsSpread(), launches));
    if (unmeasuredOtherConfig > 0)
        out.push_back(fmt::format("{} of {} unmeasured launches in a launch configuration no measured one had",
            unmeasuredOtherConfig, unmeasured));
    // Not the time ratio: under replay a launch runs alone with cold caches (a few-µs kernel also reads about 1 µs
    // longer, docs/cupti.md), and in the H200 recordings replayed launches of the same size took 1.6–2.2× as long.
    return out;
}

const char* sourceName(Source s)
{
    switch (s) {
    case Source::None:
        return "-";
    case Source::Timed:
        return "timed";
    case Source::Declared:
        return "declared";
    case Source::PartlyDeclared:
        return "partly declared";
    case Source::Measured:
        return "measured";
    case Source::Estimated:
        return "estimated";
    }
    return "?";
}

const char* regionKindName(int kind)
{
    switch (static_cast<schema::RegionKind>(kind)) {
    case schema::RegionKind::Marker:
        return "marker";
    case schema::RegionKind::NvtxPushPop:
        return "nvtx";
    case schema::RegionKind::NvtxStartEnd:
        return "nvtx-range";
    }
    return "unknown";
}

namespace {

const std::vector<std::pair<std::string, SortKey>>& sortKeys()
{
    static const std::vector<std::pair<std::string, SortKey>> keys = {
        { "lost", SortKey::Lost },
        { "time", SortKey::Time },
        { "count", SortKey::Count },
        { "flops", SortKey::Flops },
        { "bytes", SortKey::Bytes },
        { "ai", SortKey::Intensity },
        { "gflops", SortKey::FlopRate },
        { "efficiency", SortKey::Efficiency },
        { "start", SortKey::Start },
        { "name", SortKey::Name },
    };
    return keys;
}
} // namespace

std::optional<SortKey> parseSortKey(const std::string& text)
{
    for (const auto& [name, key] : sortKeys())
        if (name == text) return key;
    return std::nullopt;
}

const std::vector<std::string>& sortKeyNames()
{
    static const std::vector<std::string> names = [] {
        std::vector<std::string> n;
        for (const auto& kv : sortKeys())
            n.push_back(kv.first);
        return n;
    }();
    return names;
}

namespace {

void chooseMachine(Report& report, const std::vector<Profile>& profiles, const MachineModel* machine)
{
    if (machine) {
        report.machine = *machine;
        report.machineSource = "--machine " + machine->origin;
        // Against the hardware the profiles were recorded on, not the one reading them: an H100 run analysed on a
        // laptop with the H100's file is right, a laptop's file applied to it is not.
        std::map<std::string, std::vector<std::string>> byMismatch;
        for (const Profile& p : profiles) {
            const auto mismatch = identityMismatches(*machine, recordedHardware(p), "recorded on");
            if (!mismatch.empty()) byMismatch[fmt::format("{}", fmt::join(mismatch, ", "))].push_back(p.path());
        }
        for (const auto& [what, paths] : byMismatch)
            report.machineWarnings.push_back(fmt::format(
                "machine file '{}' was measured on other hardware than '{}'{} was recorded on: {}; using it anyway",
                machine->origin, paths.front(),
                paths.size() > 1 ? fmt::format(" (and {} more profiles)", paths.size() - 1) : "", what));
        return;
    }
    std::string firstKey;
    for (const Profile& p : profiles) {
        auto embedded = p.embeddedMachine();
        if (!embedded) continue;
        if (!report.machine) {
            try {
                // Named as the copy it is: the file it was copied from may be fine (or gone).
                report.machine = parseMachine(embedded->json, "embedded copy of " + embedded->source);
            } catch (const MachineError& e) {
                throw ProfileError(p.path(),
                    std::string("its embedded machine model cannot be used: ") + e.what() + "; pass --machine FILE");
            }
            report.machineSource = "embedded in " + p.path();
            firstKey = report.machine->identity.key() + report.machine->created;
            continue;
        }
        try {
            const MachineModel other = parseMachine(embedded->json, embedded->source);
            if (other.identity.key() + other.created != firstKey)
                report.machineWarnings.push_back(
                    fmt::format("'{}' embeds another machine model ({}, {}); the first profile's is used", p.path(),
                        other.identity.host, other.created));
        } catch (const MachineError& e) {
            report.machineWarnings.push_back(
                fmt::format("'{}': embedded machine model ignored: {}", p.path(), e.what()));
        }
    }
}

} // namespace

std::optional<ReportBy> parseReportBy(const std::string& text)
{
    if (text == "range") return ReportBy::Range;
    if (text == "kernel") return ReportBy::Kernel;
    if (text == "window") return ReportBy::Window;
    if (text == "callpath") return ReportBy::Callpath;
    if (text == "rank") return ReportBy::Rank;
    return std::nullopt;
}

const char* reportByName(ReportBy by)
{
    switch (by) {
    case ReportBy::Range:
        return "range";
    case ReportBy::Kernel:
        return "kernel";
    case ReportBy::Window:
        return "window";
    case ReportBy::Callpath:
        return "callpath";
    case ReportBy::Rank:
        return "rank";
    }
    return "?";
}

std::string limiterLabel(const Analysis& a)
{
    switch (a.limiter) {
    case LimiterKind::Compute:
    case LimiterKind::Memory:
        return a.bindingTerm;
    case LimiterKind::Launch:
        return "launch";
    case LimiterKind::Latency:
        return "latency";
    case LimiterKind::Unknown:
        return "-";
    }
    return "-";
}

namespace {

/// The level declared bytes count against: a GPU's device memory for GPU work (docs/metrics.md), else the option's.
std::string declaredLevel(bool gpu, const ReportOptions& options)
{
    return gpu ? "HBM" : options.declaredLevel;
}

/// Timed launches of a kernel: their summed time and number. A launch without any time (replayed, its counter
/// values lost, KernelAggregate::untimed) counts at the mean of these.
struct TimedLaunches {
    std::int64_t ns = 0;
    std::uint64_t n = 0;
    void add(std::int64_t timedNs, std::uint64_t count, std::uint64_t untimed)
    {
        ns += timedNs;
        n += count - untimed;
    }
    double meanNs() const { return n ? static_cast<double>(ns) / static_cast<double>(n) : 0.0; }
};

/// @p untimed launches at @p own's mean, else at @p fallback's: the time they add (0 when neither has one).
std::int64_t untimedNs(std::uint64_t untimed, const TimedLaunches& own, const TimedLaunches& fallback = {})
{
    const double mean = own.n ? own.meanNs() : fallback.meanNs();
    return static_cast<std::int64_t>(std::llround(mean * static_cast<double>(untimed)));
}

/// A row's time @p ns (of its timed launches) with its @p untimed launches added at its own mean, else at
/// @p fallback's, and its per-profile @p shares grown alike. Returns the launches left at 0 s (no mean anywhere).
std::uint64_t fillUntimed(std::int64_t& ns, std::vector<double>& shares, std::uint64_t count, std::uint64_t untimed,
    const TimedLaunches& fallback)
{
    if (untimed == 0) return 0;
    const std::int64_t timed = ns;
    const std::int64_t added = untimedNs(untimed, { timed, count - untimed }, fallback);
    ns += added;
    if (timed > 0)
        for (double& s : shares)
            s *= static_cast<double>(ns) / static_cast<double>(timed);
    return added == 0 ? untimed : 0;
}

/// The work per launch over @p k's sampled launches, and the time of its unmeasured launches against the
/// measured ones (@p borrowed: the name's replayed launches and their time, for a configuration with none).
WorkSpread workSpread(const KernelAggregate& k, const std::string& arch,
    const std::optional<std::pair<std::uint64_t, std::int64_t>>& borrowed)
{
    WorkSpread s;
    // Over the samples that have the counters: merged profiles may hold launches recorded with another set.
    std::size_t withFlops = 0, withBytes = 0;
    for (const auto& sample : k.launchSamples) {
        const DerivedWork w = deriveWork(sample, arch);
        ++s.launches;
        if (!w.flops.empty()) {
            double flops = 0;
            for (const auto& [cls, v] : w.flops)
                flops += v;
            s.flopsMin = withFlops ? std::min(s.flopsMin, flops) : flops;
            s.flopsMax = withFlops ? std::max(s.flopsMax, flops) : flops;
            ++withFlops;
        }
        if (const auto hbm = w.bytes.find("HBM"); hbm != w.bytes.end()) {
            s.bytesMin = withBytes ? std::min(s.bytesMin, hbm->second) : hbm->second;
            s.bytesMax = withBytes ? std::max(s.bytesMax, hbm->second) : hbm->second;
            ++withBytes;
        }
    }
    const std::uint64_t replayed = borrowed ? borrowed->first : k.replayed;
    const std::int64_t replayedNs = borrowed ? borrowed->second : k.replayedDurationNs;
    s.unmeasured = borrowed ? k.count : k.count - k.replayed;
    s.unmeasuredOtherConfig = borrowed ? k.count : k.unmeasuredOtherConfig();
    const std::int64_t unmeasuredNs = borrowed ? k.durationNs : k.durationNs - k.replayedDurationNs;
    if (replayed > 0 && replayedNs > 0) {
        s.replayedMeanSeconds = static_cast<double>(replayedNs) * 1e-9 / static_cast<double>(replayed);
        if (s.unmeasured > 0)
            s.unmeasuredTimeRatio
                = static_cast<double>(unmeasuredNs) * 1e-9 / static_cast<double>(s.unmeasured) / s.replayedMeanSeconds;
    }
    return s;
}

void addKernelRows(Report& report, const std::vector<Profile>& profiles, const ReportOptions& options)
{
    struct Merged {
        KernelAggregate k;
        std::string arch;
        /// Configurations without replayed launches: the replayed launches and their time of the name's others.
        std::optional<std::pair<std::uint64_t, std::int64_t>> borrowed;
    };
    std::map<std::tuple<std::string, std::int64_t, std::string>, Merged> merged;
    std::map<std::tuple<std::string, std::int64_t, std::string>, std::vector<double>> perProfile;
    for (std::size_t index = 0; index < profiles.size(); ++index) {
        const Profile& p = profiles[index];
        std::map<std::int64_t, std::string> arch;
        for (const DeviceInfo& d : p.devices())
            arch[d.id] = d.arch;
        for (KernelAggregate& k : p.aggregateKernels(options.withLaunchConfig)) {
            auto& times = perProfile[{ k.name, k.device, k.config }];
            times.resize(profiles.size());
            times[index] += static_cast<double>(k.durationNs) * 1e-9;
            auto key = std::make_tuple(k.name, k.device, k.config);
            auto it = merged.find(key);
            if (it == merged.end()) { // moved, not copied: counters and samples are maps of strings
                const std::string a = arch[k.device];
                merged.emplace(std::move(key), Merged { std::move(k), a, std::nullopt });
                continue;
            }
            KernelAggregate& m = it->second.k;
            m.count += k.count;
            m.durationNs += k.durationNs;
            m.replayed += k.replayed;
            for (const auto& [name, v] : k.counters)
                m.counters[name] += v;
            for (const auto& [name, n] : k.counterLaunches)
                m.counterLaunches[name] += n;
            m.replayedDurationNs += k.replayedDurationNs;
            m.untimed += k.untimed;
            m.addLaunchConfigs(k.launchConfigs);
            for (auto& s : k.launchSamples)
                if (m.launchSamples.size() < KernelAggregate::kLaunchSamples) m.launchSamples.push_back(std::move(s));
        }
    }
    // By launch configuration: the collector replays the first launches of each kernel name, so a configuration
    // seen only later has no counters of its own; it takes the mean launch of its name (estimated, and its
    // time against the measured launches' says how well that fits).
    struct NameWork {
        std::map<std::string, double> counters;
        std::uint64_t replayed = 0;
        std::int64_t replayedNs = 0;
        std::vector<std::map<std::string, double>> samples;
    };
    std::map<std::pair<std::string, std::int64_t>, NameWork> byName;
    if (options.withLaunchConfig)
        for (const auto& [key, m] : merged) {
            NameWork& n = byName[{ m.k.name, m.k.device }];
            n.replayed += m.k.replayed;
            n.replayedNs += m.k.replayedDurationNs;
            for (const auto& [c, v] : m.k.counters)
                n.counters[c] += v;
            for (const auto& s : m.k.launchSamples)
                if (n.samples.size() < KernelAggregate::kLaunchSamples) n.samples.push_back(s);
        }
    // Launches without any time count at their row's mean launch time, else at the kernel's over every launch
    // configuration and profile.
    std::map<std::pair<std::string, std::int64_t>, TimedLaunches> timedByName;
    for (const auto& [key, m] : merged)
        timedByName[{ m.k.name, m.k.device }].add(m.k.durationNs, m.k.count, m.k.untimed);
    for (auto& [key, m] : merged) {
        KernelAggregate& k = m.k;
        const std::uint64_t untimedZero
            = fillUntimed(k.durationNs, perProfile[key], k.count, k.untimed, timedByName[{ k.name, k.device }]);
        if (k.replayed == 0 && options.withLaunchConfig) {
            // Borrowed from the name: counters, replayed count and samples of its measured configurations.
            auto it = byName.find({ k.name, k.device });
            if (it != byName.end() && it->second.replayed > 0) {
                k.counters = it->second.counters;
                k.launchSamples = it->second.samples;
                m.borrowed = { it->second.replayed, it->second.replayedNs };
            }
        }
        ReportRow r;
        r.rankSeconds = perProfile[key];
        r.name = k.name;
        r.kind = "kernel";
        r.device = fmt::format("gpu{}", k.device);
        r.config = k.config;
        r.count = k.count;
        r.replayed = k.replayed;
        r.untimed = k.untimed;
        r.untimedZero = untimedZero;
        if (k.untimed > 0) r.timeSource = Source::Estimated;
        r.timeSeconds = static_cast<double>(k.durationNs) * 1e-9;
        r.workSeconds = r.timeSeconds;
        r.share = report.runSeconds > 0 ? r.timeSeconds / report.runSeconds : 0;
        const std::uint64_t replayed = m.borrowed ? m.borrowed->first : k.replayed;
        if (replayed > 0) {
            // Counters of the replayed launches stand for all launches of the signature.
            const double scale = static_cast<double>(k.count) / static_cast<double>(replayed);
            const DerivedWork w = deriveWork(k.counters, m.arch);
            for (const auto& [cls, v] : w.flops)
                r.flopsByClass[cls] = v * scale;
            for (const auto& [lvl, v] : w.bytes)
                r.bytesByLevel[lvl] = v * scale;
            r.workSource = k.replayed == k.count ? Source::Measured : Source::Estimated;
            r.workSpread = workSpread(k, m.arch, m.borrowed);
            // After Volta the tensor-pipe instruction counter is no FLOP count (docs/metrics.md); when it shows
            // tensor work that no operation counter saw, say so rather than show a tensor kernel without it.
            if (w.tensorUncounted > 0) r.tensorUncounted = w.tensorUncounted * scale;
            if (w.hfmaMoves > 0) r.hfmaMoves = w.hfmaMoves * scale;
            // A mean over the launches that counted the clock: others may come from a profile without it.
            if (!m.borrowed) r.smClockHz = counterSmClock(perLaunchCounters(k));
        }
        report.rows.push_back(std::move(r));
    }
}

/// Work of one launch of each kernel signature (name, device): the mean over its replayed launches. Launches
/// without counters of their own are estimated with it. With @p timed, each kernel's timed launches are added
/// there too.
std::map<std::pair<std::string, std::int64_t>, DerivedWork> perLaunchWork(
    const Profile& p, std::map<std::pair<std::string, std::int64_t>, TimedLaunches>* timed = nullptr)
{
    std::map<std::int64_t, std::string> deviceArch;
    for (const DeviceInfo& d : p.devices())
        deviceArch[d.id] = d.arch;
    std::map<std::pair<std::string, std::int64_t>, DerivedWork> perLaunch;
    for (const KernelAggregate& k : p.aggregateKernels(false)) {
        if (timed) (*timed)[{ k.name, k.device }].add(k.durationNs, k.count, k.untimed);
        if (k.replayed == 0) continue;
        DerivedWork w = deriveWork(k.counters, deviceArch[k.device]);
        for (auto& [c, v] : w.flops)
            v /= static_cast<double>(k.replayed);
        for (auto& [l, v] : w.bytes)
            v /= static_cast<double>(k.replayed);
        perLaunch[{ k.name, k.device }] = std::move(w);
    }
    return perLaunch;
}

/// By callpath: regions and kernels per path of enclosing regions, summed over the profiles.
void addPathRows(Report& report, const std::vector<Profile>& profiles, const ReportOptions& options)
{
    struct Merged {
        ReportRow row;
        std::uint64_t measuredCount = 0; // kernels whose signature has counters
        std::int64_t device = 0;
    };
    std::map<std::tuple<std::vector<std::string>, bool, std::int64_t>, Merged> merged;
    std::map<std::pair<std::string, std::int64_t>, TimedLaunches> timedByName; // fill-in for untimed launches
    for (std::size_t index = 0; index < profiles.size(); ++index) {
        const Profile& p = profiles[index];
        const auto perLaunch = perLaunchWork(p, &timedByName);
        for (PathAggregate& a : p.aggregatePaths()) {
            Merged& m = merged[{ a.path, a.kernel, a.device }];
            ReportRow& r = m.row;
            if (r.path.empty()) {
                r.path = a.path;
                r.pathFrames = a.frames;
                r.kind = a.kernel ? "path-kernel" : "path";
                if (a.kernel) r.device = fmt::format("gpu{}", a.device);
                m.device = a.device;
                r.rankSeconds.resize(profiles.size());
            }
            const double t = static_cast<double>(a.timeNs) * 1e-9;
            r.rankSeconds[index] += t;
            r.count += a.count;
            r.timeSeconds += t;
            r.exclusiveSeconds = r.exclusiveSeconds.value_or(0) + static_cast<double>(a.exclusiveNs) * 1e-9;
            r.untimed += a.untimed;
            if (a.untimed > 0) r.timeSource = Source::Estimated;
            if (a.kernel) {
                auto w = perLaunch.find({ a.path.back(), a.device });
                if (w == perLaunch.end()) continue;
                r.workSeconds += t;
                m.measuredCount += a.count;
                for (const auto& [c, v] : w->second.flops)
                    r.flopsByClass[c] += v * static_cast<double>(a.count);
                for (const auto& [l, v] : w->second.bytes)
                    r.bytesByLevel[l] += v * static_cast<double>(a.count);
            } else if (a.declaredCount > 0) {
                r.declaredCount += a.declaredCount;
                r.workSeconds += static_cast<double>(a.declaredTimeNs) * 1e-9;
                r.flopsByClass[{ options.declaredPrecision, false }] += a.flops;
                r.bytesByLevel[options.declaredLevel] += a.bytes;
                r.device = "cpu";
            }
        }
    }
    // Executed beside declared: the FLOPs of the kernels launched inside a region that declared its work.
    for (auto& [key, m] : merged) {
        if (m.row.kind != "path" || m.row.declaredCount == 0) continue;
        double executed = 0;
        bool any = false;
        std::set<std::string> devices;
        std::uint64_t launches = 0;
        for (const auto& [otherKey, other] : merged) {
            const auto& p = other.row.path;
            if (other.row.kind != "path-kernel" || p.size() <= m.row.path.size()
                || !std::equal(m.row.path.begin(), m.row.path.end(), p.begin()))
                continue;
            devices.insert(other.row.device);
            launches += other.row.count;
            if (other.row.flopsByClass.empty()) continue;
            any = true;
            for (const auto& [c, v] : other.row.flopsByClass)
                executed += v;
        }
        // Kernels on a GPU inside it (on several: the first): the path declares that GPU's work (as by range,
        // docs/metrics.md).
        if (!devices.empty() && m.row.device == "cpu") {
            m.row.device = *devices.begin();
            m.row.launchesInside = launches;
            auto q = m.row.bytesByLevel.find(options.declaredLevel);
            if (q != m.row.bytesByLevel.end()) {
                const double bytes = q->second;
                m.row.bytesByLevel.erase(q);
                m.row.bytesByLevel[declaredLevel(true, options)] += bytes;
            }
        }
        if (!any) continue;
        m.row.executedFlops = executed;
        const double declared = m.row.flopsByClass.begin()->second;
        if (declared > 0) m.row.executedOverDeclared = executed / declared;
    }
    for (auto& [key, m] : merged) {
        ReportRow& r = m.row;
        for (std::size_t i = 0; i < r.path.size(); ++i)
            r.name += (i ? " > " : "") + r.path[i];
        if (r.kind == "path-kernel" && r.untimed > 0) {
            // At the path's own mean launch time, else the kernel's over every path and profile.
            std::int64_t ns = std::llround(r.timeSeconds * 1e9);
            const std::int64_t timedNs = ns;
            r.untimedZero
                = fillUntimed(ns, r.rankSeconds, r.count, r.untimed, timedByName[{ r.path.back(), m.device }]);
            const double seconds = static_cast<double>(ns - timedNs) * 1e-9;
            r.timeSeconds += seconds;
            r.exclusiveSeconds = r.exclusiveSeconds.value_or(0) + seconds;
            if (m.measuredCount > 0) r.workSeconds += seconds;
        }
        r.share = report.runSeconds > 0 ? r.timeSeconds / report.runSeconds : 0;
        if (r.kind == "path-kernel") {
            r.workSource = m.measuredCount == 0 ? Source::None : Source::Estimated;
        } else if (r.declaredCount > 0) {
            r.workSource = r.declaredCount == r.count ? Source::Declared : Source::PartlyDeclared;
            const double f = r.flopsByClass.begin()->second, q = r.bytesByLevel.begin()->second;
            r.flops = f;
            r.bytes = q;
            if (q > 0) r.intensity = f / q;
            if (r.workSeconds > 0) {
                r.flopsPerSecond = f / r.workSeconds;
                r.bytesPerSecond = q / r.workSeconds;
            }
        }
        report.rows.push_back(std::move(r));
    }
}

/// By rank: per profile, the CPU (run time against all declared work) and each GPU (kernel time against the
/// kernels' work).
void addRankRows(Report& report, const std::vector<Profile>& profiles, const ReportOptions& options)
{
    for (std::size_t index = 0; index < profiles.size(); ++index) {
        const Profile& p = profiles[index];
        const std::string who
            = fmt::format("rank {} (pid {} on {})", p.process().rank, p.process().pid, p.process().host);
        ReportRow cpu;
        cpu.name = who;
        cpu.kind = "rank";
        cpu.device = "cpu";
        cpu.timeSeconds = p.runSeconds();
        cpu.share = report.runSeconds > 0 ? cpu.timeSeconds / report.runSeconds : 0;
        cpu.count = 1;
        // Declared work of regions that launched kernels is a GPU's (docs/metrics.md): its rank-gpu row takes it
        // where no counters measured that GPU's kernels.
        double f = 0, q = 0;
        struct Declared {
            double flops = 0, bytes = 0;
            std::uint64_t instances = 0;
        };
        std::map<std::int64_t, Declared> gpuDeclared;
        for (const RegionAggregate& a : p.aggregateRegions()) {
            if (a.declaredCount == 0) continue;
            if (a.kernelDevices.empty()) {
                cpu.declaredCount += a.declaredCount;
                f += a.flops;
                q += a.bytes;
            } else {
                Declared& d = gpuDeclared[*a.kernelDevices.begin()];
                d.flops += a.flops;
                d.bytes += a.bytes;
                d.instances += a.declaredCount;
            }
        }
        if (cpu.declaredCount > 0) {
            cpu.workSource = Source::Declared;
            cpu.workSeconds = cpu.timeSeconds;
            cpu.flops = f;
            cpu.bytes = q;
            if (q > 0) cpu.intensity = f / q;
            if (cpu.timeSeconds > 0) {
                cpu.flopsPerSecond = f / cpu.timeSeconds;
                cpu.bytesPerSecond = q / cpu.timeSeconds;
            }
            cpu.flopsByClass[{ options.declaredPrecision, false }] = f;
            cpu.bytesByLevel[options.declaredLevel] = q;
        }
        report.rows.push_back(std::move(cpu));
        const auto perLaunch = perLaunchWork(p);
        std::map<std::int64_t, ReportRow> gpus;
        for (const KernelAggregate& k : p.aggregateKernels(false)) {
            ReportRow& g = gpus[k.device];
            g.name = fmt::format("{} gpu{}", who, k.device);
            g.kind = "rank-gpu";
            g.device = fmt::format("gpu{}", k.device);
            g.count += k.count;
            g.replayed += k.replayed;
            const std::int64_t ns = k.durationNs + untimedNs(k.untimed, { k.durationNs, k.count - k.untimed });
            g.timeSeconds += static_cast<double>(ns) * 1e-9;
            auto w = perLaunch.find({ k.name, k.device });
            if (w == perLaunch.end()) continue;
            // The roofline compares the work known with the time of the launches it belongs to.
            g.workSeconds += static_cast<double>(ns) * 1e-9;
            g.workSource = Source::Estimated;
            for (const auto& [c, v] : w->second.flops)
                g.flopsByClass[c] += v * static_cast<double>(k.count);
            for (const auto& [l, v] : w->second.bytes)
                g.bytesByLevel[l] += v * static_cast<double>(k.count);
        }
        for (auto& [device, g] : gpus) {
            g.share = report.runSeconds > 0 ? g.timeSeconds / report.runSeconds : 0;
            auto d = gpuDeclared.find(device);
            if (g.workSource == Source::None && d != gpuDeclared.end()) {
                g.workSource = Source::Declared;
                g.declaredCount = d->second.instances;
                g.workSeconds = g.timeSeconds;
                g.flopsByClass[{ options.declaredPrecision, false }] = d->second.flops;
                g.bytesByLevel[declaredLevel(true, options)] = d->second.bytes;
            }
            report.rows.push_back(std::move(g));
        }
    }
}

/// By window: each window sums the work that starts in it (declared region work; kernels at their signature's
/// mean counters per replayed launch) against the window's wall time — the paper's per-step view.
void addWindowRows(Report& report, const std::vector<Profile>& profiles, const ReportOptions& options)
{
    const std::size_t rowsBefore = report.rows.size();
    for (std::size_t index = 0; index < profiles.size(); ++index) {
        const Profile& p = profiles[index];
        const std::string prefix = profiles.size() > 1 ? fmt::format("rank {} ", p.process().rank) : std::string();
        struct Window {
            std::string label;
            std::int64_t start, end;
            Item item;
            std::uint64_t items = 0;
            bool declared = false, measured = false;
            double declaredFlops = 0, declaredBytes = 0; // joined to the kernels' work below
        };
        std::vector<Window> windows;
        const std::int64_t t0 = p.process().startNs;
        const std::int64_t t1 = p.process().endNs.value_or(p.process().lastEventNs);
        if (!options.windowRange.empty()) {
            p.forEachRegion([&](const RegionInstance& r) {
                if (r.name == options.windowRange)
                    windows.push_back(
                        { fmt::format("{}{} #{}", prefix, r.name, windows.size() + 1), r.startNs, r.endNs, {}, 0 });
            });
            // Said where the profile is listed (and counted for the GUI), not silently left out of the windows.
            if (windows.empty() && index < report.profiles.size()) {
                report.profiles[index].diagnostics.push_back(
                    fmt::format("no instance of '{}': no windows from this profile", options.windowRange));
                ++report.profilesWithoutWindows;
            }
        } else {
            // Rounded, not truncated: 200 us parses to 199,999.99… ns.
            const auto step = static_cast<std::int64_t>(std::llround(std::min(options.windowSeconds, 1e9) * 1e9));
            // A damaged end time (or a tiny window over a long run) must not become billions of windows.
            constexpr auto kMaxWindows = static_cast<double>(kMaxFixedWindows);
            if (step > 0 && static_cast<double>(t1 - t0) / static_cast<double>(step) > kMaxWindows)
                throw ProfileError(p.path(),
                    fmt::format("--window {} over its {} of run time makes more than {:.0f} "
                                "windows; choose a longer window",
                        humanSeconds(options.windowSeconds), humanSeconds(static_cast<double>(t1 - t0) * 1e-9),
                        kMaxWindows));
            for (std::int64_t t = t0; step > 0 && t < t1; t += step)
                windows.push_back({ fmt::format("{}{}–{}", prefix, humanSeconds(static_cast<double>(t - t0) * 1e-9),
                                        humanSeconds(static_cast<double>(std::min(t + step, t1) - t0) * 1e-9)),
                    t, std::min(t + step, t1), {}, 0, false, false });
        }
        auto windowOf = [&](std::int64_t start) -> Window* {
            auto it = std::upper_bound(
                windows.begin(), windows.end(), start, [](std::int64_t t, const Window& w) { return t < w.start; });
            if (it == windows.begin()) return nullptr;
            --it;
            return start < it->end ? &*it : nullptr;
        };
        p.forEachRegion([&](const RegionInstance& r) {
            if (!r.flops) return; // a window's own declared work counts too: declare work at one level
            if (Window* w = windowOf(r.startNs)) {
                w->declaredFlops += *r.flops;
                w->declaredBytes += *r.bytes;
                ++w->items;
                w->declared = true;
            }
        });
        const auto perLaunch = perLaunchWork(p);
        p.forEachKernel([&](const KernelLaunch& k) {
            if (!k.startNs) return;
            Window* w = windowOf(*k.startNs);
            if (!w) return;
            w->item.device = fmt::format("gpu{}", k.device);
            w->item.count += 1;
            w->item.countsLaunches = true;
            ++w->items;
            auto it = perLaunch.find({ k.name, k.device });
            if (it == perLaunch.end()) return;
            w->measured = true;
            for (const auto& [c, v] : it->second.flops)
                w->item.flops[c] += v;
            for (const auto& [l, v] : it->second.bytes)
                w->item.bytes[l] += v;
        });
        for (Window& w : windows) {
            // Kernels measured by counters: their work is the window's (regions around them declare the same work
            // again). Else declared work, at HBM in a window that ran kernels (docs/metrics.md), else at DRAM.
            const bool gpu = w.item.device.rfind("gpu", 0) == 0;
            if (w.declared && !w.measured) {
                w.item.flops[{ options.declaredPrecision, false }] += w.declaredFlops;
                w.item.bytes[declaredLevel(gpu, options)] += w.declaredBytes;
            }
            if (w.measured) w.declared = false;
            ReportRow r;
            r.name = w.label;
            r.kind = "window";
            r.count = w.items;
            r.launchesInside = w.item.count;
            r.timeSeconds = static_cast<double>(w.end - w.start) * 1e-9;
            r.workSeconds = r.timeSeconds;
            r.share = report.runSeconds > 0 ? r.timeSeconds / report.runSeconds : 0;
            r.device = w.item.device;
            r.flopsByClass = w.item.flops;
            r.bytesByLevel = w.item.bytes;
            r.workSource = w.measured ? Source::Estimated : (w.declared ? Source::Declared : Source::None);
            double f = 0;
            for (const auto& [c, v] : r.flopsByClass)
                f += v;
            if (!r.flopsByClass.empty()) {
                r.flops = f;
                if (r.timeSeconds > 0) r.flopsPerSecond = f / r.timeSeconds;
            }
            auto q = r.bytesByLevel.find(r.device.rfind("gpu", 0) == 0 ? "HBM" : options.declaredLevel);
            if (q != r.bytesByLevel.end()) {
                r.bytes = q->second;
                if (q->second > 0) r.intensity = f / q->second;
                if (r.timeSeconds > 0) r.bytesPerSecond = q->second / r.timeSeconds;
            }
            report.rows.push_back(std::move(r));
        }
    }
    // A misspelt range must not read as a run without regions (exit 0, an empty table in a CI log).
    if (!options.windowRange.empty() && report.rows.size() == rowsBefore) {
        const std::vector<RegionNameUse> common = regionNameUses(profiles);
        std::string have;
        for (std::size_t i = 0; i < common.size() && i < 8; ++i)
            have += fmt::format("{}'{}' ({})", i ? ", " : "", common[i].name, common[i].count);
        if (common.size() > 8) have += fmt::format(" and {} more", common.size() - 8);
        throw ReportError(common.empty()
                ? fmt::format("--window-range '{}': the profiles have no regions or NVTX ranges", options.windowRange)
                : fmt::format("--window-range '{}': no region or NVTX range of that name (names match exactly); "
                              "the most frequent: {}",
                    options.windowRange, have));
    }
}

std::optional<Spread> spreadOf(std::vector<double> v)
{
    if (v.size() < 2) return std::nullopt;
    std::sort(v.begin(), v.end());
    Spread s;
    s.ranks = v.size();
    s.min = v.front();
    s.max = v.back();
    const std::size_t m = v.size() / 2;
    s.median = v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
    double sum = 0;
    for (double x : v)
        sum += x;
    s.mean = sum / static_cast<double>(v.size());
    s.imbalance = s.max > 0 ? (s.max - s.mean) / s.max : 0;
    return s;
}

void analyseRows(Report& report, const ReportOptions& options)
{
    std::vector<double> runs;
    for (const auto& p : report.profiles)
        runs.push_back(p.runSeconds);
    report.runSpread = spreadOf(runs);
    for (ReportRow& r : report.rows)
        r.spread = spreadOf(r.rankSeconds);
    std::map<std::string, Roofs> roofs;
    std::map<std::string, double> lost;
    for (ReportRow& r : report.rows) {
        if (r.kind == "kernel" || r.kind == "path-kernel" || r.kind == "rank-gpu") {
            double f = 0;
            for (const auto& [cls, v] : r.flopsByClass)
                f += v;
            if (!r.flopsByClass.empty()) r.flops = f;
            auto hbm = r.bytesByLevel.find("HBM");
            if (hbm != r.bytesByLevel.end()) {
                r.bytes = hbm->second;
                if (hbm->second > 0) r.intensity = f / hbm->second;
                if (r.timeSeconds > 0) r.bytesPerSecond = hbm->second / r.timeSeconds;
            }
            if (r.flops && r.timeSeconds > 0) r.flopsPerSecond = f / r.timeSeconds;
        }
        const bool launches = r.kind == "kernel" || r.kind == "path-kernel" || r.kind == "rank-gpu";
        if (!report.machine || (r.flopsByClass.empty() && r.bytesByLevel.empty() && !launches)) continue;
        if (r.device.empty()) r.device = "cpu";
        auto it = roofs.find(r.device);
        if (it == roofs.end()) it = roofs.emplace(r.device, Roofs::fromMachine(*report.machine, r.device)).first;
        Item item;
        item.name = r.name;
        item.device = r.device;
        item.flops = r.flopsByClass;
        item.bytes = r.bytesByLevel;
        // Declared work belongs to the instances that declared it: their time and count.
        const bool declared = !launches && r.kind != "window";
        // Launches without any work known are judged against their floor alone, with all their time (a kernel row
        // has it as its work time already; a call path's or a rank's GPU row only counts launches with work).
        item.seconds = r.flopsByClass.empty() && r.bytesByLevel.empty() ? r.timeSeconds : r.workSeconds;
        // A window's count is its regions and launches; only launches make its floor.
        // GPU work of a window or a region: it cannot take less than the launches inside it.
        const bool launchesInside = r.device.rfind("gpu", 0) == 0 && r.launchesInside > 0;
        item.count = launchesInside ? r.launchesInside : declared ? r.declaredCount : r.count;
        item.countsLaunches = launches || launchesInside;
        r.roof = analyze(item, it->second, options.model);
        if (!r.roof->efficiency) {
            // Launches above their floor without any work known: named in the summary, not analysed.
            if (launches && r.flopsByClass.empty() && r.bytesByLevel.empty()) {
                if (r.count > 0 && r.untimedZero == r.count) {
                    ++report.summary.noTime; // not above the floor: no time at all
                } else {
                    ++report.summary.unknown;
                    report.summary.unknownSeconds += r.timeSeconds;
                }
            }
            continue;
        }
        ++report.summary.items;
        if (!r.roof->workHasRoof()) ++report.summary.floorOnly;
        report.summary.seconds += item.seconds;
        report.summary.lostSeconds += r.roof->lostSeconds;
        if (*r.roof->efficiency >= 0.9) report.summary.nearRoofSeconds += item.seconds;
        lost[limiterLabel(*r.roof)] += r.roof->lostSeconds;
    }
    for (const auto& [label, t] : lost)
        if (t > 0) report.summary.lostByLimiter.emplace_back(label, t);
    std::sort(report.summary.lostByLimiter.begin(), report.summary.lostByLimiter.end(),
        [](const auto& a, const auto& b) { return a.second > b.second; });
}

} // namespace

HardwareIdentity recordedHardware(const Profile& profile)
{
    HardwareIdentity id;
    id.host = profile.process().host;
    // The embedded model describes the recording machine unless `record --machine` brought one from elsewhere.
    if (auto embedded = profile.embeddedMachine()) {
        try {
            MachineModel m = parseMachine(embedded->json, embedded->source);
            if (m.identity.host == id.host) return m.identity;
        } catch (const MachineError&) { }
    }
    id.partial = true;
    for (const DeviceInfo& d : profile.devices())
        if (!d.name.empty() && std::find(id.gpuModels.begin(), id.gpuModels.end(), d.name) == id.gpuModels.end())
            id.gpuModels.push_back(d.name);
    std::sort(id.gpuModels.begin(), id.gpuModels.end());
    return id;
}

Report buildReport(const std::vector<Profile>& profiles, const MachineModel* machine, const ReportOptions& options)
{
    Report report;
    report.by = options.by;
    if (options.by == ReportBy::Window) {
        report.windowRange = options.windowRange;
        if (options.windowRange.empty()) report.windowSeconds = options.windowSeconds;
    }
    chooseMachine(report, profiles, machine);
    std::map<std::tuple<int, std::string, std::string>, RegionAggregate> merged;
    std::map<std::tuple<int, std::string, std::string>, std::vector<double>> perProfile;
    for (const Profile& p : profiles) {
        ProfileSummary s;
        s.path = p.path();
        s.process = p.process();
        s.complete = p.complete();
        s.runSeconds = p.runSeconds();
        auto mode = p.meta().find("mode");
        s.mode = mode != p.meta().end() ? mode->second : "";
        auto dropped = p.meta().find("dropped_events");
        if (dropped != p.meta().end()) {
            try {
                s.droppedEvents = std::stoull(dropped->second);
            } catch (const std::exception&) {
                throw ProfileError(
                    p.path(), "has an invalid dropped_events '" + dropped->second + "' in its meta table");
            }
        }
        s.params = p.runParams();
        s.diagnostics = p.diagnostics();
        report.runSeconds += s.runSeconds;
        report.profiles.push_back(std::move(s));
        for (RegionAggregate& a : p.aggregateRegions()) {
            auto& times = perProfile[{ a.kind, a.domain, a.name }];
            times.resize(profiles.size());
            times[report.profiles.size() - 1] += static_cast<double>(a.timeNs) * 1e-9;
            auto [it, inserted] = merged.try_emplace({ a.kind, a.domain, a.name }, a);
            if (inserted) continue;
            RegionAggregate& m = it->second;
            m.count += a.count;
            m.timeNs += a.timeNs;
            m.exclusiveNs += a.exclusiveNs;
            m.declaredCount += a.declaredCount;
            m.declaredTimeNs += a.declaredTimeNs;
            m.flops += a.flops;
            m.bytes += a.bytes;
            m.implicitlyClosed += a.implicitlyClosed;
            m.kernelDevices.insert(a.kernelDevices.begin(), a.kernelDevices.end());
            m.kernelLaunches += a.kernelLaunches;
        }
    }
    for (const auto& [key, a] : merged) {
        ReportRow r;
        r.rankSeconds = perProfile[key];
        r.name = a.domain.empty() ? a.name : a.domain + "::" + a.name;
        r.kind = regionKindName(a.kind);
        r.count = a.count;
        r.timeSeconds = static_cast<double>(a.timeNs) * 1e-9;
        if (a.kind != static_cast<int>(schema::RegionKind::NvtxStartEnd))
            r.exclusiveSeconds = static_cast<double>(a.exclusiveNs) * 1e-9;
        r.share = report.runSeconds > 0 ? r.timeSeconds / report.runSeconds : 0;
        r.declaredCount = a.declaredCount;
        r.implicitlyClosed = a.implicitlyClosed;
        if (a.declaredCount > 0) {
            r.workSource = a.declaredCount == a.count ? Source::Declared : Source::PartlyDeclared;
            r.flops = a.flops;
            r.bytes = a.bytes;
            if (a.bytes > 0) r.intensity = a.flops / a.bytes;
            const double declaredSeconds = static_cast<double>(a.declaredTimeNs) * 1e-9;
            if (declaredSeconds > 0) {
                r.flopsPerSecond = a.flops / declaredSeconds;
                r.bytesPerSecond = a.bytes / declaredSeconds;
            }
            // A region whose instances launched kernels on one GPU declares that GPU's work: its roofs, HBM bytes.
            const bool gpu = !a.kernelDevices.empty(); // on several (ranks on a GPU each): the first's roofs
            r.device = gpu ? fmt::format("gpu{}", *a.kernelDevices.begin()) : "cpu";
            if (gpu) r.launchesInside = a.kernelLaunches;
            r.workSeconds = declaredSeconds;
            r.flopsByClass[{ options.declaredPrecision, false }] = a.flops;
            r.bytesByLevel[declaredLevel(gpu, options)] = a.bytes;
        }
        report.rows.push_back(std::move(r));
    }
    if (options.by == ReportBy::Kernel) {
        report.rows.clear();
        addKernelRows(report, profiles, options);
    } else if (options.by == ReportBy::Window) {
        report.rows.clear();
        addWindowRows(report, profiles, options);
    } else if (options.by == ReportBy::Callpath) {
        report.rows.clear();
        addPathRows(report, profiles, options);
    } else if (options.by == ReportBy::Rank) {
        report.rows.clear();
        addRankRows(report, profiles, options);
    }
    analyseRows(report, options);
    for (std::size_t i = 0; i < report.rows.size(); ++i)
        report.rows[i].built = i;
    sortRows(report, SortKey::Lost);
    return report;
}

std::vector<RegionNameUse> regionNameUses(const std::vector<Profile>& profiles)
{
    std::map<std::string, RegionNameUse> names;
    for (const Profile& p : profiles) {
        std::map<std::string, std::size_t> here;
        p.forEachRegion([&](const RegionInstance& r) {
            RegionNameUse& u = names[r.name];
            ++u.count;
            u.seconds += static_cast<double>(std::max<std::int64_t>(0, r.endNs - r.startNs)) * 1e-9;
            ++here[r.name];
        });
        for (const auto& [name, n] : here)
            names[name].mostInOneProfile = std::max(names[name].mostInOneProfile, n);
    }
    std::vector<RegionNameUse> uses;
    for (auto& [name, u] : names) {
        u.name = name;
        uses.push_back(std::move(u));
    }
    std::stable_sort(uses.begin(), uses.end(), [](const auto& a, const auto& b) { return a.count > b.count; });
    return uses;
}

std::string suggestWindowRange(const std::vector<RegionNameUse>& uses)
{
    // At most as many windows as the longest fixed ones make: 100,000 instances of a tiny region are no timeline.
    const RegionNameUse* best = nullptr;
    for (const RegionNameUse& u : uses) {
        // Windows are cut per process: two ranks with one `solve` each make no timeline.
        const std::size_t n = u.mostInOneProfile > 0 ? u.mostInOneProfile : u.count;
        if (n >= 2 && n <= kMostReadableWindows && (!best || u.seconds > best->seconds)) best = &u;
    }
    return best ? best->name : std::string();
}

double longestRunSeconds(const std::vector<Profile>& profiles)
{
    double longest = 0;
    for (const Profile& p : profiles) {
        const ProcessMeta& m = p.process();
        longest = std::max(longest, static_cast<double>(m.endNs.value_or(m.lastEventNs) - m.startNs) * 1e-9);
    }
    return longest;
}

std::size_t windowCount(double runSeconds, double length)
{
    // In whole nanoseconds, as the windows are cut: 1 s / 100 ms is 10.000000000000002 in doubles.
    if (!(length > 0) || !(runSeconds > 0)) return 0;
    const std::int64_t step = std::llround(std::min(length, 1e9) * 1e9),
                       run = std::llround(std::min(runSeconds, 1e9) * 1e9);
    return step > 0 ? static_cast<std::size_t>((run + step - 1) / step) : 0;
}

std::vector<double> windowLengths(double runSeconds)
{
    std::vector<double> all;
    for (int exponent = -6; exponent <= 2; ++exponent)
        for (double mantissa : { 1.0, 2.0, 5.0 }) // divided, not times 10^-n: 5 ms is the double nearest 0.005
            all.push_back(exponent < 0 ? mantissa / std::pow(10.0, -exponent) : mantissa * std::pow(10.0, exponent));
    all.push_back(1000);
    std::vector<double> fit;
    for (double length : all) {
        const std::size_t windows = windowCount(runSeconds, length);
        if (windows >= 2 && windows <= kMostReadableWindows) fit.push_back(length);
    }
    if (fit.empty()) fit.push_back(runSeconds < all.front() * 2 ? all.front() : all.back());
    return fit;
}

double suggestWindowSeconds(double runSeconds)
{
    const std::vector<double> lengths = windowLengths(runSeconds);
    for (double length : lengths)
        if (windowCount(runSeconds, length) <= 50) return length;
    return lengths.back();
}

void chooseWindows(ReportOptions& options, const std::vector<Profile>& profiles)
{
    if (options.by != ReportBy::Window || !options.windowRange.empty() || options.windowSeconds > 0) return;
    options.windowRange = suggestWindowRange(regionNameUses(profiles));
    if (options.windowRange.empty()) options.windowSeconds = suggestWindowSeconds(longestRunSeconds(profiles));
}

std::string chosenWindowsNote(const ReportOptions& options)
{
    if (!options.windowRange.empty())
        return fmt::format("one window per instance of '{}' (--window-range NAME for another)", options.windowRange);
    return fmt::format("no region or NVTX range repeats 2 to 500 times: windows of {} (--window DURATION for another)",
        humanSeconds(options.windowSeconds));
}

void sortRows(Report& report, SortKey key)
{
    if (key == SortKey::Start) {
        std::stable_sort(report.rows.begin(), report.rows.end(),
            [](const ReportRow& a, const ReportRow& b) { return a.built < b.built; });
        return;
    }
    auto value = [key](const ReportRow& r) -> double {
        switch (key) {
        case SortKey::Lost: // unknown (no efficiency) after every known loss, 0 s included
            return r.roof && r.roof->efficiency ? r.roof->lostSeconds : -1;
        case SortKey::Efficiency:
            return r.roof && r.roof->efficiency ? *r.roof->efficiency : -1;
        case SortKey::Time:
            return r.timeSeconds;
        case SortKey::Count:
            return static_cast<double>(r.count);
        case SortKey::Flops:
            return r.flops.value_or(-1);
        case SortKey::Bytes:
            return r.bytes.value_or(-1);
        case SortKey::Intensity:
            return r.intensity.value_or(-1);
        case SortKey::FlopRate:
            return r.flopsPerSecond.value_or(-1);
        case SortKey::Name:
        case SortKey::Start:
            return 0;
        }
        return 0;
    };
    std::stable_sort(report.rows.begin(), report.rows.end(), [&](const ReportRow& a, const ReportRow& b) {
        if (key == SortKey::Name) return a.name < b.name;
        const double va = value(a), vb = value(b);
        if (va != vb) return va > vb;
        if (a.timeSeconds != b.timeSeconds) return a.timeSeconds > b.timeSeconds;
        return a.name < b.name;
    });
}

} // namespace rooftime::analyzer
