// SPDX-License-Identifier: MIT
/**
 * @file compare.h
 * @brief `rooftime compare`: a baseline set of runs against a current set, item by item (kernels, ranges or call
 * paths), with a confidence interval on each time change, a verdict a CI job can gate on, and a budget file that
 * pins limits (efficiency, time, share, change) per item. The statistics are in docs/compare.md.
 */
#pragma once

#include "rooftime/analyzer/machine.h"
#include "rooftime/analyzer/profile.h"
#include "rooftime/analyzer/report.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rooftime::analyzer {

/// Budget rules (JSON, docs/compare.md): limits on the current runs, checked after the comparison.
struct BudgetRule {
    std::string text; ///< the rule as the user wrote it, for messages: `gemm_*: min_efficiency 0.6`
    std::string pattern; ///< glob on item names (`*`, `?`), empty for the whole-run rule
    bool run = false; ///< the rule is about the whole run
    std::optional<ReportBy> by; ///< applies only when comparing by this grouping
    std::optional<double> minEfficiency; ///< fraction of the roof (0..1)
    std::optional<double> maxSeconds; ///< mean time per run
    std::optional<double> maxShare; ///< of the run time (0..1)
    std::optional<double> maxChange; ///< relative time change against the baseline, e.g. 0.10
};

struct Budget {
    std::string path;
    std::vector<BudgetRule> rules;
    /// Parses a budget file's text. Throws ProfileError naming @p path and the problem.
    static Budget parse(const std::string& json, const std::string& path);
    /// Reads and parses a file. Throws ProfileError.
    static Budget load(const std::string& path);
};

struct CompareOptions {
    ReportBy by = ReportBy::Kernel; ///< Kernel, Range or Callpath
    double threshold = 0.05; ///< the relative time change that matters
    double minShare = 0.01; ///< items smaller than this share of the analysed time are never gated
    double confidence = 0.95; ///< for the whole comparison: each gated item's interval is at 1 − (1 − c)/m
    ReportOptions report; ///< model options (precision of declared work, convention)
};

enum class Verdict {
    Regression, ///< slower by at least the threshold, the whole interval above zero, big enough to matter
    Improvement, ///< the same, faster
    Minor, ///< a significant change of at least the threshold in an item too small to gate
    Uncertain, ///< a change of at least the threshold that the runs' noise cannot confirm
    Unchanged, ///< a change below the threshold
    NoEstimate, ///< no noise estimate (one run and one instance, identical times) or no time: not gated
    New, ///< only in the current runs
    Removed, ///< only in the baseline runs
};
const char* verdictName(Verdict v);

/// One side (baseline or current) of a compared item, per run.
struct CompareSide {
    bool present = false;
    std::vector<double> runSeconds; ///< the item's time in each run (0 where absent)
    double meanSeconds = 0; ///< mean over the runs
    double count = 0; ///< instances (launches) per run, mean
    std::optional<double> flops; ///< per run: all classes
    std::map<std::string, double> bytesByLevel; ///< per run
    std::optional<double> efficiency; ///< bound / time, from the time-based roofline of the side's runs
    std::string limiter;
    std::string noiseBasis; ///< "runs" (between-run spread) or "instances" (launch-to-launch spread)
    std::optional<double> meanVariance; ///< variance of meanSeconds, when it can be estimated
    double dof = 0; ///< its degrees of freedom
};

struct CompareRow {
    std::string name; ///< item name; call paths joined with " > "
    std::string kind; ///< "kernel", "marker", "nvtx", "nvtx-range", "path", "path-kernel", "run"
    std::string device;
    std::vector<std::string> path;
    CompareSide base, current;
    std::optional<double> change; ///< current / base − 1 of the mean time per run
    std::optional<double> low, high; ///< the confidence interval of change
    double deltaSeconds = 0; ///< current − base, mean per run
    double weight = 0; ///< max over sides of the item's share of that side's analysed time
    Verdict verdict = Verdict::Unchanged;
    std::string why; ///< one sentence: the verdict's reason
    std::string work; ///< "FLOPs unchanged, DRAM bytes +50.0 %", empty when neither side has work
};

struct BudgetCheck {
    std::string rule; ///< BudgetRule::text
    std::string item; ///< the item checked, "" when the rule matched nothing
    bool passed = true;
    bool skipped = false; ///< the rule is for another grouping (--by)
    std::string message;
};

struct Comparison {
    std::vector<std::string> basePaths, currentPaths;
    CompareOptions options;
    CompareRow run; ///< the whole run (time from start to end of each process)
    std::vector<CompareRow> rows; ///< largest |deltaSeconds| first
    std::vector<BudgetCheck> budget;
    std::string budgetPath;
    std::vector<std::string> warnings; ///< different machines or commands, incomplete profiles
    std::string baseCommand, currentCommand; ///< the recorded command lines (first profile of each side)
    double baseAnalysedSeconds = 0, currentAnalysedSeconds = 0; ///< per run: the total the weights refer to
    std::size_t gatedItems = 0; ///< m: the run and the items large enough to gate, with a noise estimate
    double itemConfidence = 0.95; ///< of each interval: 1 − (1 − confidence)/m

    std::size_t count(Verdict v) const;
    std::size_t budgetFailures() const;
    /// A regression in an item or the whole run, or a failed budget rule: exit status 1.
    bool failed() const;
    /// "1 regression, 2 improvements, 14 unchanged": the verdict in one line.
    std::string headline() const;
};

/// Compares two sets of runs. Throws ProfileError for a profile or embedded model that cannot be read.
Comparison compareRuns(const std::vector<Profile>& base, const std::vector<Profile>& current,
    const CompareOptions& options, const Budget* budget = nullptr, const MachineModel* machine = nullptr);

/// The two-sided Student t quantile for @p confidence (0.5 ≤ c < 1) at @p dof degrees of freedom (≥ 1,
/// fractional values allowed: Welch's); close to the normal quantile for large dof.
double tQuantile(double confidence, double dof);

/// "+12.4 %": a relative change as every format writes it.
std::string percentChange(double fraction);
/// "+12.4 % [+9.8 %, +15.1 %]" (the interval when there is one), "-" without a change.
std::string changeText(const CompareRow& row);
/// "71 % → 63 %", "-" when neither side has an efficiency.
std::string efficiencyText(const CompareRow& row);

enum class CompareFormat { Text, Markdown, Junit, Json };
std::optional<CompareFormat> parseCompareFormat(const std::string& text);

struct CompareFormatOptions {
    std::size_t width = 120; ///< text: terminal columns
    std::size_t top = 0; ///< text and Markdown: at most this many unchanged rows (0: all)
    std::string commandLine; ///< the compare command as run, for "to reproduce"
};

std::string formatComparison(const Comparison& c, CompareFormat format, const CompareFormatOptions& options);

} // namespace rooftime::analyzer
