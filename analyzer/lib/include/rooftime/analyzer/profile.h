// SPDX-License-Identifier: MIT
/**
 * @file profile.h
 * @brief Reading profile files (.rtdb): validation with clear errors, metadata, aggregated regions.
 */
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace rooftime::analyzer {

/// Any problem with an input file. what() is one line naming the file, the problem and, where possible, the fix.
class ProfileError : public std::runtime_error {
public:
    ProfileError(std::string path, const std::string& problem)
        : std::runtime_error("'" + path + "': " + problem)
        , m_path(std::move(path))
    { }
    const std::string& path() const { return m_path; }

private:
    std::string m_path;
};

struct ProcessMeta {
    long pid = 0;
    long ppid = 0;
    std::string host;
    long rank = 0;
    std::string exe;
    std::string cmdline;
    std::int64_t startNs = 0;
    std::optional<std::int64_t> endNs; ///< absent when the process did not finish its recording (killed)
    std::int64_t lastEventNs = 0; ///< end of the last recorded region
    std::string endReason;
};

/// Region instances with the same kind, domain and name, summed.
struct RegionAggregate {
    int kind = 0; ///< schema::RegionKind
    std::string name;
    std::string domain;
    std::uint64_t count = 0;
    std::int64_t timeNs = 0; ///< inclusive: nested regions count in their parents
    std::int64_t exclusiveNs = 0; ///< timeNs less the time of the regions nested directly in these instances
    std::uint64_t declaredCount = 0; ///< instances with declared work
    std::int64_t declaredTimeNs = 0; ///< time of the instances with declared work
    double flops = 0; ///< declared FLOPs (sum over declared instances)
    double bytes = 0;
    std::uint64_t implicitlyClosed = 0;
    /// Devices of the kernels launched inside its instances (directly or in regions nested in them, on the
    /// launching thread): a region around GPU work declares the GPU's work.
    std::set<std::int64_t> kernelDevices;
    std::uint64_t kernelLaunches = 0; ///< the launches inside its instances, nested regions' included
};

/// Region instances (kinds 0 and 1) and kernel launches summed per call path: the enclosing regions from the
/// outermost in, then the region's or kernel's own name. When the profile holds host call stacks (recorded
/// with --call-stacks), the functions that opened each region are on the path too, before it.
struct PathAggregate {
    std::vector<std::string> path; ///< outermost first; the last entry is the item's own name
    std::vector<bool> frames; ///< per path entry: a function of the host call stack (not a region)
    bool kernel = false; ///< the leaf is a kernel (launched inside the regions before it)
    std::int64_t device = 0; ///< kernels: the device
    std::uint64_t count = 0;
    std::int64_t timeNs = 0; ///< inclusive
    std::int64_t exclusiveNs = 0; ///< regions: less their directly nested regions; kernels: = timeNs
    std::uint64_t untimed = 0; ///< kernels: launches without any time (KernelAggregate::untimed), 0 in timeNs
    std::uint64_t declaredCount = 0;
    std::int64_t declaredTimeNs = 0;
    double flops = 0; ///< declared
    double bytes = 0;
};

/// Kernel launches with the same name and device (and launch configuration, when asked), summed.
struct KernelAggregate {
    std::string name;
    std::int64_t device = 0;
    std::string config; ///< "grid(x,y,z) block(x,y,z)" when aggregated by configuration
    std::uint64_t count = 0;
    std::int64_t durationNs = 0;
    std::uint64_t replayed = 0; ///< launches with counters
    std::map<std::string, double> counters; ///< summed over the replayed launches (normalised units)
    /// Per counter, the replayed launches that have it (fewer than `replayed` where some launches were recorded
    /// with another counter set): divide by this, not by `replayed`, for a mean per launch.
    std::map<std::string, std::uint64_t> counterLaunches;
    std::int64_t replayedDurationNs = 0; ///< time of the replayed launches (part of durationNs)
    /// Launches with no time at all (duration 0: replayed, and their counter values, gpu__time_duration among them,
    /// were lost): 0 in durationNs; the report counts each at its kernel's mean launch time (report.cpp).
    std::uint64_t untimed = 0;
    /// Per launch configuration (grid x, y, z, block x, y, z): launches replayed and not.
    struct ConfigLaunches {
        std::array<std::int64_t, 6> config {};
        std::uint64_t replayed = 0, other = 0;
    };
    std::vector<ConfigLaunches> launchConfigs;
    /// Launches without counters in a configuration none of whose launches was replayed (another size under the
    /// same name, whose work the counters never saw).
    std::uint64_t unmeasuredOtherConfig() const;
    /// Adds the configurations of the same kernel in another profile (before unmeasuredOtherConfig() is asked).
    void addLaunchConfigs(const std::vector<ConfigLaunches>& more);
    /// The counters of the first kLaunchSamples replayed launches, one map each: how much one launch's work
    /// varies, for the spread of the estimate.
    std::vector<std::map<std::string, double>> launchSamples;
    static constexpr std::size_t kLaunchSamples = 8;
};

struct DeviceInfo {
    std::int64_t id = 0;
    std::string name;
    std::string arch;
};

/// One region instance, as recorded.
struct RegionInstance {
    std::string name; ///< "domain::name" for NVTX ranges in a named domain
    std::int64_t startNs = 0;
    std::int64_t endNs = 0;
    std::optional<double> flops; ///< declared work
    std::optional<double> bytes;
    int kind = 0; ///< schema::RegionKind
    std::int64_t thread = 0; ///< `thread.id` (kind 2: the thread that started it)
    int depth = 0; ///< regions open below it on its thread
};

/// One kernel launch, as recorded (imports have no start time).
struct KernelLaunch {
    std::string name;
    std::int64_t device = 0;
    std::optional<std::int64_t> startNs;
    std::int64_t durationNs = 0;
    std::int64_t id = 0;
    std::int64_t stream = 0;
    std::int64_t correlation = 0;
    std::array<std::int64_t, 6> config {}; ///< grid x, y, z, block x, y, z
    std::optional<std::int64_t> thread; ///< the launching thread (`thread.id`), where recorded
    std::optional<std::int64_t> launchNs; ///< when the launch call was made (schema 1.3)
    std::string region; ///< the innermost region open on the launching thread, where recorded
    bool replayed = false; ///< counters were collected for it
    /// Its start is its own; false: a replayed launch without a time of its own, placed as forEachKernel says.
    bool timed = true;
};

/// One GPU copy or fill (schema 1.2).
struct MemopRecord {
    int kind = 0; ///< 0 copy, 1 fill
    std::optional<int> copyKind; ///< CUpti_ActivityMemcpyKind
    std::int64_t bytes = 0;
    std::int64_t device = 0;
    std::int64_t stream = 0;
    std::int64_t startNs = 0, endNs = 0;
};

/// A thread that recorded something.
struct ThreadInfo {
    std::int64_t id = 0; ///< `thread.id`
    std::int64_t tid = 0; ///< the kernel's thread id
    std::string name;
};

class Profile {
public:
    /// Opens and validates a profile. Throws ProfileError.
    static Profile open(const std::string& path);
    Profile(Profile&&) noexcept;
    Profile& operator=(Profile&&) noexcept;
    ~Profile();

    const std::string& path() const { return m_path; }
    const ProcessMeta& process() const { return m_process; }
    const std::map<std::string, std::string>& meta() const { return m_meta; }
    int schemaMajor() const { return m_major; }
    int schemaMinor() const { return m_minor; }
    bool complete() const;
    /// Run time covered: process start to end (or to the last event when the process did not finish).
    double runSeconds() const;
    /// Parameters set outside any region (labels of the run), in the order set; later values win.
    std::vector<std::pair<std::string, double>> runParams() const;
    std::vector<std::string> diagnostics() const;
    /// The machine file text embedded by `rooftime record` (schema 1.1), and the path it came from.
    struct EmbeddedMachine {
        std::string source;
        std::string json;
    };
    std::optional<EmbeddedMachine> embeddedMachine() const;
    std::vector<RegionAggregate> aggregateRegions() const;
    /// Regions and kernels per call path (see PathAggregate); NVTX start/end ranges are not nested and left out.
    std::vector<PathAggregate> aggregatePaths() const;
    /// One scan of the kernel table and one of kernel_metric; empty for profiles without kernels.
    std::vector<KernelAggregate> aggregateKernels(bool byConfig) const;
    std::vector<DeviceInfo> devices() const;
    /// Whether the profile recorded (or imported) any kernel launch.
    bool hasKernels() const;
    /// Whether any kernel has counter values (counters mode or an import).
    bool hasKernelCounters() const;
    /// Whether any region declared its work (rooftime_add_work).
    bool hasDeclaredWork() const;
    /// Every region instance and kernel launch in start order (for time windows).
    void forEachRegion(const std::function<void(const RegionInstance&)>& f) const;
    void forEachKernel(const std::function<void(const KernelLaunch&)>& f) const;
    /// GPU copies and fills in start order; none before schema 1.2.
    void forEachMemop(const std::function<void(const MemopRecord&)>& f) const;
    std::vector<ThreadInfo> threads() const;
    /// Region instances, kernel launches and copies recorded: how many slices a timeline of it has at most.
    std::uint64_t eventCount() const;

private:
    Profile() = default;
    void query(const char* sql, const std::function<void(sqlite3_stmt*)>& row) const;
    bool hasTable(const char* name) const;
    bool hasColumn(const char* table, const char* column) const;
    /// Replayed launches without an activity duration (CUPTI gives none under kernel replay): kernel id -> their
    /// `gpu__time_duration.sum` in ns, the time docs/metrics.md uses for them.
    std::unordered_map<std::int64_t, std::int64_t> replayedDurations() const;
    std::string m_path;
    sqlite3* m_db = nullptr;
    std::map<std::string, std::string> m_meta;
    int m_major = 0;
    int m_minor = 0;
    ProcessMeta m_process;
};

/// Expands the command line's inputs: files stay, a folder gives its *.rtdb files (sorted). A folder's empty
/// (0-byte) files, left by processes that ended before their first commit (_exit, SIGKILL), are left out, each
/// with a sentence in @p skipped when given; named as files they stay (and are an error to open). Throws
/// ProfileError for a missing path or a folder without profiles.
std::vector<std::string> expandProfilePaths(
    const std::vector<std::string>& inputs, std::vector<std::string>* skipped = nullptr);

} // namespace rooftime::analyzer
