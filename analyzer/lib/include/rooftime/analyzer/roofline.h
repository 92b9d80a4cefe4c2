// SPDX-License-Identifier: MIT
/**
 * @file roofline.h
 * @brief The time-based roofline model of docs/metrics.md (design: shared/design/roofline.md), for one item.
 *
 * An item is one kernel launch, one region instance, or any sum of them. Its numbers come with their source;
 * the model turns them, with the roofs of one device, into roof time, launch floor, efficiency, lost time and
 * the limiter. Everything here is pure arithmetic on plain values: no file, no machine, no Qt.
 */
#pragma once

#include "rooftime/analyzer/machine.h"

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace rooftime::analyzer {

/// FLOPs of one precision on one kind of unit: tensor-core (matrix) work is kept apart from vector work.
struct FlopClass {
    std::string precision; ///< fp64, fp32, fp16, bf16, tf32, fp8, int8
    bool tensor = false;
    auto operator<=>(const FlopClass&) const = default;
    /// "fp16 tensor", "fp32".
    std::string label() const { return tensor ? precision + " tensor" : precision; }
};

struct Item {
    std::string name;
    std::string device = "cpu"; ///< whose roofs apply: "cpu", "gpu0", …
    std::map<FlopClass, double> flops; ///< executed (measured) or declared FLOPs per class
    std::map<std::string, double> bytes; ///< bytes per memory level (L1, L2, L3, DRAM, HBM, …)
    double seconds = 0; ///< T: durations summed
    std::uint64_t count = 0; ///< N: launches or instances
    bool countsLaunches = false; ///< N are kernel launches: the launch floor applies
    std::optional<double> declaredFlops; ///< algorithmic work beside executed counters, when both exist
    std::optional<double> declaredBytes;

    double totalFlops() const;
    /// Sums F, Q, T, N (and declared work where both sides have it).
    Item& operator+=(const Item& other);
};

/// The roofs of one device, resolved from a machine model.
struct Roofs {
    std::map<FlopClass, double> peak; ///< FLOP/s
    std::map<std::string, double> bandwidth; ///< B/s per level
    double launchSeconds = 0; ///< t_launch; 0 when unknown
    /// The roofs of @p device in @p model (ceilings marked roof).
    static Roofs fromMachine(const MachineModel& model, const std::string& device);
};

enum class ComputeConvention {
    Sum, ///< Σ_p F[p]/Π[p]: the same units execute every precision, so their times add (default)
    Dominant, ///< the paper's single-precision form: only the class with the most FLOPs, F/Π
};

struct ModelOptions {
    ComputeConvention convention = ComputeConvention::Sum;
    /// Below this efficiency the roof does not explain the time: the limiter is latency / under-utilisation.
    double latencyThreshold = 0.2;
};

enum class LimiterKind { Compute, Memory, Launch, Latency, Unknown };
const char* limiterKindName(LimiterKind kind);

struct Analysis {
    std::map<FlopClass, double> computeSeconds; ///< F[p]/Π[p] per class with a roof
    std::map<std::string, double> memorySeconds; ///< Q[l]/β[l] per level with a roof
    std::map<std::string, double> intensity; ///< AI[l] = F / Q[l]
    double computeTime = 0; ///< per the convention
    double memoryTime = 0; ///< max over levels
    double roofSeconds = 0; ///< T_roof = max(compute, memory)
    double floorSeconds = 0; ///< T_floor = N · t_launch (launches only)
    double boundSeconds = 0; ///< max(T_roof, T_floor)
    std::optional<double> efficiency; ///< bound / T, absent when T = 0 or no bound is known
    double lostSeconds = 0; ///< max(0, T − bound)
    std::optional<double> flopsPerSecond; ///< achieved, F / T
    LimiterKind limiter = LimiterKind::Unknown;
    /// What attains the bound ("fp16 tensor", "HBM", "launch"), also when the limiter is latency.
    std::string bindingTerm;
    LimiterKind bindingKind = LimiterKind::Unknown;
    /// T below the work's roof (T_roof, not the launch floor) by more than 2 %: a ceiling or a counter is off
    bool aboveRoof = false;
    std::vector<std::string> missingRoofs; ///< work without a roof ("fp8 tensor", "L3"): not in the bound
    std::optional<double> executedOverDeclared; ///< FLOPs executed / declared, when both exist
    /// Some of the work has a roof; without, only the launch floor bounds the item.
    bool workHasRoof() const { return !computeSeconds.empty() || !memorySeconds.empty(); }
};

Analysis analyze(const Item& item, const Roofs& roofs, const ModelOptions& options = {});

} // namespace rooftime::analyzer
