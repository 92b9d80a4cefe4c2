// SPDX-License-Identifier: MIT
/**
 * @file metrics.h
 * @brief The one table that maps raw counters to FLOPs per precision and bytes per memory level, per
 * architecture, with the weights of docs/metrics.md. Nothing else in rooftime knows a counter's meaning.
 */
#pragma once

#include "rooftime/analyzer/roofline.h"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rooftime::analyzer {

enum class MetricTarget { Flops, Bytes, Time };

struct MetricRule {
    std::string_view metric;
    MetricTarget target;
    std::string_view precision; ///< Flops: fp64, fp32, fp16, bf16, tf32, fp8, int8
    bool tensor; ///< Flops: tensor-core operations
    std::string_view level; ///< Bytes: L1, L2, HBM
    double weight; ///< FLOPs per counted event (fma 2, hfma 4, sm_70 tensor instruction 512, tensor op 1)
    std::string_view archs; ///< "sm_70,sm_80,…" or "gpu" for every GPU architecture
    /// Among rules of one precision/level, the lowest group that has any counter present is used, and its
    /// counters are summed: source-level tensor counters (group 0) rather than the op-level ones (group 1)
    /// that count the same work, dram__bytes_read + _write rather than dram__bytes.
    int group;
};

const std::vector<MetricRule>& metricRules();

/// Whether a rule applies to an architecture ("sm_90").
bool ruleApplies(const MetricRule& rule, std::string_view arch);

/// Architectures the table knows ("sm_70", "sm_80", "sm_86", "sm_89", "sm_90").
const std::vector<std::string>& knownArchitectures();

/// F, Q and T derived from counter sums of one item.
struct DerivedWork {
    std::map<FlopClass, double> flops;
    std::map<std::string, double> bytes;
    std::optional<double> seconds; ///< from gpu__time_duration.sum
    std::vector<std::string> unused; ///< counters present that no rule of this architecture reads
    /// HFMA thread instructions left out of the fp16 FLOPs as the compiler's constant moves (HFMA2.MMA with zero
    /// operands, docs/metrics.md): every HFMA ran on the tensor pipe beside fp32/fp64 work and no other fp16 op.
    double hfmaMoves = 0;
    /// Tensor-pipe instructions neither those moves nor a counted tensor operation explain (sm_75 and later):
    /// tensor work these counters do not count (mma.sync under Tier 1).
    double tensorUncounted = 0;
};

/// @p counters: metric name → summed value (normalised units: bytes, nanoseconds, counts).
DerivedWork deriveWork(const std::map<std::string, double>& counters, std::string_view arch);

/// A theoretical ceiling from the GPU's own counters, as Nsight Compute draws its roofs: a unit's
/// `.peak_sustained` (events per cycle of that unit) × weight × the unit's clock (`*__cycles_elapsed.avg.per_second`)
/// while the measured launches ran.
struct CounterPeak {
    bool compute = true; ///< FLOP/s; else B/s
    std::string precision; ///< compute: fp64, fp32, fp16, bf16, tf32
    /// compute: fma (CUDA cores), hmma (mma.sync tensor path), hgmma (Hopper wgmma), tensor (by source type, before
    /// Hopper: every tensor instruction)
    std::string pipe;
    std::string level; ///< bandwidth: L1, L2, HBM
    double perCycle = 0; ///< FLOPs or bytes per cycle of the unit: peak_sustained × weight
    double hz = 0; ///< the unit's clock
    double value = 0; ///< perCycle × hz
    std::string method; ///< the counters and numbers behind it
};

/// The peaks one launch's counters give (@p perLaunch: metric → value of one launch, e.g. a mean over measured
/// launches). Peaks whose counter or clock is missing are left out; empty when the profile has none
/// (plugins/cupti/metric_sets.h, kPeaks: collected where they cost no pass, always with `--counter-set peaks`).
std::vector<CounterPeak> counterPeaks(const std::map<std::string, double>& perLaunch);
/// The SM clock of one launch (sm__cycles_elapsed.avg.per_second), if counted.
std::optional<double> counterSmClock(const std::map<std::string, double>& perLaunch);

struct KernelAggregate;
/// Each counter of a kernel aggregate as a mean per launch: over the replayed launches that have it.
std::map<std::string, double> perLaunchCounters(const KernelAggregate& k);

/// The peaks a counters profile holds for one GPU.
struct ProfilePeaks {
    std::vector<CounterPeak> peaks;
    std::optional<double> smHz;
    std::string kernel; ///< the kernel they were read from
};
class Profile;
/// From the measured kernel with the longest mean launch that has peaks (only kernels whose name contains
/// @p nameContains, when given: `rooftime ceilings` names its probe's FMA kernel), its counters averaged over its
/// measured launches. Empty when none has.
ProfilePeaks profilePeaks(const Profile& profile, std::int64_t device, std::string_view nameContains = {});

struct MachineModel;
/// Puts @p peaks beside the measured ceilings of GPU @p index (Ceiling::counterTheoretical) and @p smHz into its
/// GpuInfo::smCounterHz: FMA ceilings take the CUDA-core peak of their precision, WMMA (mma.sync) ones the hmma
/// peak, cuBLAS ones the hgmma (wgmma) peak, both the by-source-type tensor peak before Hopper; L1, L2 and HBM
/// bandwidth the l1tex, lts and dram peaks (every pattern: one data path). Returns how many ceilings got one.
int attachCounterPeaks(
    MachineModel& model, int index, const std::vector<CounterPeak>& peaks, std::optional<double> smHz);

} // namespace rooftime::analyzer
