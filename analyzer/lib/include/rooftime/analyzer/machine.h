// SPDX-License-Identifier: MIT
/**
 * @file machine.h
 * @brief The machine model: measured ceilings (and the theoretical value beside each), with provenance.
 *
 * A machine file is JSON ("format": "rooftime-machine"), written by `rooftime ceilings` and embedded in
 * every profile by `rooftime record`. docs/ceilings.md describes every field. Versioning follows the
 * profile schema: a newer minor version adds fields (read, unknown fields ignored), a newer major version is
 * refused with both versions named.
 */
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rooftime::analyzer {

inline constexpr const char* kMachineFormatName = "rooftime-machine";
inline constexpr int kMachineMajor = 1;
/// 1.1: counter_theoretical, clocks.sm_counter_hz; 1.2: theoretical_at_measured_clock,
/// cpu.clocks.measured_all_cores_hz, gpus[].nvidia_driver
inline constexpr int kMachineMinor = 2;

/// A machine file that cannot be used. what() names the origin (file) and the problem.
class MachineError : public std::runtime_error {
public:
    MachineError(const std::string& origin, const std::string& problem)
        : std::runtime_error("'" + origin + "': " + problem)
    { }
};

enum class CeilingKind { Compute, Bandwidth, Launch };
std::string_view ceilingKindName(CeilingKind kind);

struct Ceiling {
    std::string device; ///< "cpu", "gpu0", …
    CeilingKind kind = CeilingKind::Compute;
    std::string precision; ///< compute: fp64, fp32, fp16, bf16, tf32, …
    std::string variant; ///< compute: scalar, avx2_fma, avx512_fma, fma, tensor, cublas; launch: back_to_back, …
    std::string level; ///< bandwidth: L1, L2, L3, DRAM, shared, HBM
    std::string pattern; ///< bandwidth: read, write, copy, triad
    int threads = 0; ///< CPU threads used; 0 for a whole GPU
    double value = 0; ///< FLOP/s, B/s or seconds (launch)
    std::string unit;
    std::string method;
    std::optional<double> theoretical;
    /// GPUs (1.2): the same formula at the SM clock measured under load instead of the boost table's maximum.
    std::optional<double> theoreticalAtMeasuredClock;
    std::string theoreticalMethod;
    /// GPUs (1.1): the theoretical value the GPU's own counters give (`.peak_sustained` × the clock seen while
    /// `rooftime ceilings` recorded a probe), as Nsight Compute computes its roofs; beside the table's value.
    std::optional<double> counterTheoretical;
    std::string counterTheoreticalMethod;
    std::optional<std::pair<double, double>> workingSet; ///< bandwidth: bytes, first and last sweep point
    bool crossCheck = false; ///< a second opinion (e.g. cuBLAS), never used as a roof
    bool roof = false; ///< the value the analysis uses for this precision / level on this device
    /// Tensor-core (matrix unit) peak rather than the vector/CUDA-core one: kept apart, as FLOPs are.
    bool tensor() const { return kind == CeilingKind::Compute && (variant == "tensor" || variant == "cublas"); }
};

struct CacheInfo {
    int level = 0;
    std::string type; ///< Data, Instruction, Unified
    double bytes = 0;
    int instances = 0; ///< how many such caches the machine has
    int cpusPerInstance = 0;
};

struct CpuInfo {
    std::string vendor;
    std::string model;
    std::vector<std::string> flags; ///< the instruction-set flags that matter here (avx2, fma, avx512f, …)
    int logicalCpus = 0; ///< CPUs this process may run on
    int cores = 0;
    int sockets = 0;
    std::vector<CacheInfo> caches;
    double nominalHz = 0; ///< from cpufreq or the model name; 0 if unknown
    double measuredHz = 0; ///< one core, integer add chain
    double measuredAllCoresHz = 0; ///< 1.2: per core with all allowed CPUs running the chain; 0 if not measured
};

struct GpuInfo {
    int index = 0;
    std::string name, uuid, arch, driverVersion, runtimeVersion;
    std::string nvidiaDriver; ///< 1.2: the kernel module's version (/proc/driver/nvidia/version), e.g. 580.95.05
    int sms = 0;
    double memoryBytes = 0, l2Bytes = 0, busWidthBits = 0;
    double smMaxHz = 0, smMeasuredHz = 0, memoryHz = 0;
    double smCounterHz = 0; ///< 1.1: the SM clock the counters saw (sm__cycles_elapsed.avg.per_second); 0 if none
};

struct Sweep {
    std::string device;
    std::string pattern;
    int threads = 0;
    struct Point {
        double bytes = 0;
        double value = 0;
        std::string level; ///< the plateau this point belongs to, empty for transitions
    };
    std::vector<Point> points;
};

/// What identifies the hardware a model was measured on (and the cache file name).
struct HardwareIdentity {
    std::string host;
    std::string cpuModel;
    int logicalCpus = 0; ///< online CPUs of the machine (not the affinity of one process)
    std::vector<std::string> gpuModels;
    /// Only what a profile without an embedded machine model tells: its host and the GPUs the program used.
    bool partial = false;
    /// Stable short hash of everything but the host name.
    std::string key() const;
};

struct MachineModel {
    int major = kMachineMajor;
    int minor = kMachineMinor;
    std::string created; ///< ISO 8601 UTC
    std::string rooftimeVersion;
    std::string mode; ///< quick or full
    std::string origin; ///< where it was read from (not stored)
    HardwareIdentity identity;
    std::string os;
    CpuInfo cpu;
    std::vector<GpuInfo> gpus;
    std::vector<Ceiling> ceilings;
    std::vector<Sweep> sweeps;
    std::vector<std::string> notes;

    /// The roof for a precision on a device (the ceiling marked roof), or nullptr; tensor-core roofs apart.
    const Ceiling* computeRoof(std::string_view device, std::string_view precision, bool tensor = false) const;
    const Ceiling* bandwidthRoof(std::string_view device, std::string_view level) const;
    const Ceiling* launchFloor(std::string_view device) const;
};

/// Parses a machine file's text. Throws MachineError naming @p origin.
MachineModel parseMachine(std::string_view text, const std::string& origin);
MachineModel readMachineFile(const std::string& path);
std::string serializeMachine(const MachineModel& model);
/// Writes atomically (temporary file + rename), creating parent folders. Throws MachineError.
void writeMachineFile(const std::string& path, const MachineModel& model);

/// Adds a GPU measurement (the JSON document printed by rooftime-ceilings-gpu) to @p model. Throws MachineError.
void mergeGpuMeasurement(MachineModel& model, std::string_view json, const std::string& origin);

/// Marks the roofs: per device, precision and pipe (tensor or not) the fastest non-cross-check compute ceiling with the
/// most threads (a cross-check more than 5 % above it takes its place, with a note); per device and level the triad
/// bandwidth with the most threads (read where no triad exists); per device the back-to-back launch time.
void markRoofs(MachineModel& model);

/// The value of the first of @p keys present in /proc/cpuinfo-style text ("key<tabs>: value"); empty if none.
std::string cpuinfoValue(const std::string& text, const std::vector<std::string>& keys);

/// The NVIDIA kernel module's version in /proc/driver/nvidia/version text ("… Kernel Module  580.95.05  …"); empty if
/// none. The CUDA driver API reports only the CUDA version it supports (13.0), not the driver build.
std::string nvidiaDriverVersion(std::string_view procText);
/// Why GPU counters will be refused, from /proc/driver/nvidia/params (`RmProfilingAdminOnly: 1`) and
/// /proc/self/status (`CapEff` without CAP_SYS_ADMIN, or CAP_PERFMON on a driver of R565 or later: @p driverVersion,
/// empty when unknown), with the fix; empty when they look allowed or the texts do not say (no driver). The second
/// form reads this machine's files.
std::string counterPermissionProblem(
    const std::string& nvidiaParams, const std::string& procStatus, const std::string& driverVersion = {});
std::string counterPermissionProblem();
/// nvidiaDriverVersion() of this machine's /proc/driver/nvidia/version; empty without the driver.
std::string installedNvidiaDriver();

/// The hardware this process runs on (host name, /proc/cpuinfo, /proc/driver/nvidia). Cheap: no measurement.
HardwareIdentity currentHardware();
/// Differences between where @p model was measured and @p here, one phrase each ("host vm ≠ node12").
/// Fields @p here does not know (an empty CPU model, 0 CPUs) are not compared; a partial @p here only needs its
/// GPUs to be among the model's.
std::vector<std::string> identityMismatches(
    const MachineModel& model, const HardwareIdentity& here, std::string_view hereName = "here");
/// Cache folder: $ROOFTIME_CACHE_DIR, else $XDG_CACHE_HOME/rooftime, else ~/.cache/rooftime.
std::string cacheDirectory();
/// The per-user machine file for @p id: <cache>/machines/<host>-<key>.json.
std::string machineCachePath(const HardwareIdentity& id);

/// One line: the roofs of each device ("AMD EPYC, 2 CPUs: fp64 98.5 GFLOP/s, … DRAM 17.4 GB/s"), or without
/// @p withRoofs only the devices ("AMD EPYC, 2 CPUs; full model of 2026-11-27").
std::string machineSummary(const MachineModel& model, bool withRoofs = true);
/// Every ceiling with its theoretical values and working set, the notes and the provenance (`rooftime ceilings
/// --show`); the methods are in the file.
std::string formatMachineText(const MachineModel& model);

} // namespace rooftime::analyzer
