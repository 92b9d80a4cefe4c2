// SPDX-License-Identifier: MIT
/**
 * @file report.h
 * @brief The region report: aggregates of one or many profiles with every derived number computed here,
 * once, for every output format.
 */
#pragma once

#include "rooftime/analyzer/machine.h"
#include "rooftime/analyzer/profile.h"
#include "rooftime/analyzer/roofline.h"

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace rooftime::analyzer {

/// An option that does not fit the profiles (a --window-range that names no region). what() is one line.
class ReportError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Where a number comes from (architecture.md, "Metric sources and their honesty").
enum class Source { None, Timed, Declared, PartlyDeclared, Measured, Estimated };
const char* sourceName(Source s);

/// How one number spreads over the profiles (ranks) of a report.
struct Spread {
    std::size_t ranks = 0;
    double min = 0, median = 0, max = 0, mean = 0;
    double imbalance = 0; ///< (max − mean) / max: the share of the slowest rank's time the others wait
};

/// Kernels with counters: how far the work of the launches that stand for all of them can be trusted.
struct WorkSpread {
    std::size_t launches = 0; ///< replayed launches sampled (the first KernelAggregate::kLaunchSamples)
    double flopsMin = 0, flopsMax = 0; ///< FLOPs per launch, all classes
    double bytesMin = 0, bytesMax = 0; ///< bytes per launch at the row's level (HBM; a cold first launch reads more)
    std::uint64_t unmeasured = 0; ///< launches without counters, whose work is scaled
    std::uint64_t unmeasuredOtherConfig = 0; ///< of them, with a launch configuration no measured launch had
    /// Mean time of a launch without counters over that of a replayed one; absent when all were replayed.
    std::optional<double> unmeasuredTimeRatio;
    double replayedMeanSeconds = 0; ///< a replayed launch's mean time (taken under replay)
    /// (max − min) / max of the sampled launches' FLOPs; 0 without FLOPs.
    double flopsSpread() const;
    /// Why the scaled work may be off, one phrase each; empty when nothing says so: FLOPs that differ by more than
    /// 10 % between the sampled launches, or unmeasured launches in a launch configuration no measured one had.
    /// Bytes are not compared (a first, cold launch reads more than the warm ones after it), nor times (a replayed
    /// launch runs alone and cold): both are in the JSON for a reader to judge.
    std::vector<std::string> doubts() const;
};

struct ReportRow {
    std::string name; ///< "domain::name" for NVTX ranges in a named domain
    std::string kind; ///< "marker", "nvtx", "nvtx-range", "kernel", "window", "path", "path-kernel", "rank"
    std::vector<std::string> path; ///< by callpath: the enclosing regions from the outermost, then the item
    std::vector<bool> pathFrames; ///< per path entry: a function of the host call stack (not a region or kernel)
    std::uint64_t count = 0;
    double timeSeconds = 0;
    std::optional<double> exclusiveSeconds; ///< ranges and call paths: less the directly nested regions
    double share = 0; ///< of the run time covered by the profiles
    std::uint64_t declaredCount = 0;
    std::optional<double> flops; ///< absent when no instance declared work
    std::optional<double> bytes;
    std::optional<double> intensity; ///< FLOP/byte
    std::optional<double> flopsPerSecond; ///< over the time of the instances that declared work
    std::optional<double> bytesPerSecond;
    std::uint64_t implicitlyClosed = 0;
    Source timeSource = Source::Timed;
    Source workSource = Source::None;
    double workSeconds = 0; ///< time of the instances whose work is known (the roofline's T)
    std::string device; ///< whose roofs apply: "cpu", "gpu0"
    std::string config; ///< kernels by launch configuration
    std::uint64_t replayed = 0; ///< kernels: launches with counters (the rest scaled from them)
    /// Kernels: launches without a time of their own (KernelAggregate::untimed), in the time at their kernel's
    /// mean (timeSource Estimated).
    std::uint64_t untimed = 0;
    std::uint64_t untimedZero = 0; ///< of them, counted as 0 s: no launch of the kernel has a time anywhere
    /// Kernels (sm_75 and later): tensor-pipe instructions, scaled to all launches, when the collected counters
    /// count none of their operations (mma.sync under Tier 1): the row's FLOPs and roof are then too low.
    std::optional<double> tensorUncounted;
    std::size_t built = 0; ///< the row's place as built, before any sort (SortKey::Start)
    /// Windows, and regions that declare a GPU's work: the kernel launches inside them, the N of their launch floor
    /// (a window's count adds its regions).
    std::uint64_t launchesInside = 0;
    /// Kernels: HFMA thread instructions, scaled to all launches, taken for constant moves and not counted as fp16
    /// FLOPs (DerivedWork::hfmaMoves).
    double hfmaMoves = 0;
    /// Kernels: the SM clock their measured launches ran at (mean of sm__cycles_elapsed.avg.per_second), where
    /// the counters have it.
    std::optional<double> smClockHz;
    std::optional<WorkSpread> workSpread; ///< kernels with counters
    std::map<FlopClass, double> flopsByClass;
    std::map<std::string, double> bytesByLevel;
    /// By callpath, a region with declared work: the FLOPs its kernels executed (counters), and their ratio.
    std::optional<double> executedFlops;
    std::optional<double> executedOverDeclared;
    std::optional<Analysis> roof; ///< the time-based roofline, when there is work and a machine model
    std::vector<double> rankSeconds; ///< time per profile, in the order of Report::profiles
    std::optional<Spread> spread; ///< over the profiles, when there are several
};

struct ProfileSummary {
    std::string path;
    ProcessMeta process;
    bool complete = false;
    double runSeconds = 0;
    std::string mode;
    std::vector<std::pair<std::string, double>> params;
    std::vector<std::string> diagnostics;
    std::uint64_t droppedEvents = 0;
};

/// The time-based summary of a report: where the analysed time goes and how much could be won back.
struct RoofSummary {
    std::size_t items = 0; ///< rows with a roof analysis
    /// of them, rows without work that has a roof whose device time is at or below the launch floor
    std::size_t floorOnly = 0;
    /// Kernel rows left out: no work known and above their launch floor (efficiency unknown), and their time.
    std::size_t unknown = 0;
    double unknownSeconds = 0;
    /// Kernel rows left out with neither work nor a time (every launch replayed, its counter values lost).
    std::size_t noTime = 0;
    double seconds = 0; ///< their time (nested regions overlap: sums may exceed the run time)
    double nearRoofSeconds = 0; ///< time of items within 10 % of their bound (efficiency ≥ 0.9)
    double lostSeconds = 0;
    std::vector<std::pair<std::string, double>> lostByLimiter; ///< largest first
};

/// "marker", "nvtx", "nvtx-range": a region kind (schema::RegionKind) as report rows name it.
const char* regionKindName(int kind);

enum class ReportBy { Range, Kernel, Window, Callpath, Rank };
const char* reportByName(ReportBy by);
std::optional<ReportBy> parseReportBy(const std::string& text);

struct ReportOptions {
    ReportBy by = ReportBy::Range;
    bool withLaunchConfig = false; ///< kernels: one row per name and launch configuration
    double windowSeconds = 0; ///< by window: fixed windows of this length from each process's start, or
    std::string windowRange; ///< by window: one window per instance of the region (NVTX range) of this name
    std::string declaredPrecision = "fp64"; ///< declared FLOPs count against this precision's roof
    std::string declaredLevel = "DRAM"; ///< declared bytes count against this level's bandwidth
    ModelOptions model;
};

/// "fp16 tensor", "HBM", "launch", "latency", "-": what holds an item, for tables.
std::string limiterLabel(const Analysis& a);

struct Report {
    std::vector<ProfileSummary> profiles;
    double runSeconds = 0; ///< sum over profiles
    std::vector<ReportRow> rows;
    std::optional<MachineModel> machine; ///< the ceilings every derived number uses
    std::string machineSource; ///< "embedded in PATH" or "--machine PATH"
    std::vector<std::string> machineWarnings;
    ReportBy by = ReportBy::Range;
    std::string windowRange; ///< by window: the range one window per instance of which the rows are (else empty)
    double windowSeconds = 0; ///< by window without a range: the length of the fixed windows
    std::size_t profilesWithoutWindows = 0; ///< by window range: profiles with no instance of it (each says so)
    RoofSummary summary;
    std::optional<Spread> runSpread; ///< run time over the profiles, when there are several
};

/// Start: the order the report built its rows (windows: in time order, per profile).
enum class SortKey { Lost, Time, Count, Flops, Bytes, Intensity, FlopRate, Efficiency, Name, Start };
/// Parses a --sort value; std::nullopt for an unknown key.
std::optional<SortKey> parseSortKey(const std::string& text);
const std::vector<std::string>& sortKeyNames();

/// The hardware @p profile was recorded on: the identity of its embedded machine model when that was measured on the
/// recording host, else a partial identity (its host and the GPUs it used).
HardwareIdentity recordedHardware(const Profile& profile);

/// Reads and aggregates the profiles (instances with the same kind and name summed across files). The machine
/// model is @p machine when given (--machine; a warning in machineWarnings for each recorded hardware it was not
/// measured on), else the one embedded in the first profile. Throws ProfileError for an embedded model that cannot
/// be read.
Report buildReport(
    const std::vector<Profile>& profiles, const MachineModel* machine = nullptr, const ReportOptions& options = {});
void sortRows(Report& report, SortKey key);

/// A region or NVTX range name with its instances and their time over the profiles (to choose --window-range).
struct RegionNameUse {
    std::string name;
    std::size_t count = 0; ///< over all the profiles
    double seconds = 0;
    std::size_t mostInOneProfile = 0; ///< instances in the profile that has the most (windows are per process)
};
/// Every region and NVTX range name of @p profiles, the most frequent first (equal counts: by name).
std::vector<RegionNameUse> regionNameUses(const std::vector<Profile>& profiles);
/// The range whose instances suit one window each best: the longest in total among those with 2 to 500 instances
/// in one profile (a training step holds its forward and backward ranges; a once-only range makes no timeline, and
/// thousands of discs none to read); empty when no name qualifies.
std::string suggestWindowRange(const std::vector<RegionNameUse>& uses);

/// The longest run time among @p profiles (process start to its end, else to its last event), in seconds.
double longestRunSeconds(const std::vector<Profile>& profiles);
/// How many fixed windows of @p length cut a run of @p runSeconds (the last one may be shorter).
std::size_t windowCount(double runSeconds, double length);
/// Fixed windows one report makes at most per profile: more is a ProfileError (a damaged end time, a tiny length).
constexpr std::size_t kMaxFixedWindows = 100000;
/// Windows a timeline chosen for the reader holds at most: the suggested range's instances per profile, the
/// longest of windowLengths.
constexpr std::size_t kMostReadableWindows = 500;
/// Fixed window lengths for a timeline of a run of @p runSeconds: 1, 2 and 5 × 10^k s from 1 µs to 1000 s, those
/// that cut the run into 2 to 500 windows, shortest first (the shortest alone for a run under 2 µs, the longest
/// alone for one over 500,000 s).
std::vector<double> windowLengths(double runSeconds);
/// The shortest of windowLengths(@p runSeconds) that cuts the run into at most 50 windows: a timeline without a range
/// to take one window per instance of.
double suggestWindowSeconds(double runSeconds);
/// By window with neither @p options' windowRange nor windowSeconds: one window per instance of the suggested range
/// (a training step), else, where no range repeats, fixed windows of suggestWindowSeconds over the longest run.
void chooseWindows(ReportOptions& options, const std::vector<Profile>& profiles);
/// What chooseWindows chose, for a line on stderr: "one window per instance of 'step' (--window-range NAME for
/// another)" or "no region or NVTX range repeats 2 to 500 times: windows of 100 ms (--window DURATION for another)".
std::string chosenWindowsNote(const ReportOptions& options);

} // namespace rooftime::analyzer
