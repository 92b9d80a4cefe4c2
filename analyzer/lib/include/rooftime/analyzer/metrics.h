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
};

/// @p counters: metric name → summed value (normalised units: bytes, nanoseconds, counts).
DerivedWork deriveWork(const std::map<std::string, double>& counters, std::string_view arch);

} // namespace rooftime::analyzer
