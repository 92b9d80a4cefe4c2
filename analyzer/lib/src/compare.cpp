// SPDX-License-Identifier: MIT
// `rooftime compare`: statistics and verdicts. The rules are written out in docs/compare.md; keep them in step.
#include "rooftime/analyzer/compare.h"

#include "rooftime/analyzer/format.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>

namespace rooftime::analyzer {

const char* verdictName(Verdict v)
{
    switch (v) {
    case Verdict::Regression:
        return "regression";
    case Verdict::Improvement:
        return "improvement";
    case Verdict::Minor:
        return "minor";
    case Verdict::Uncertain:
        return "uncertain";
    case Verdict::Unchanged:
        return "unchanged";
    case Verdict::NoEstimate:
        return "no-estimate";
    case Verdict::New:
        return "new";
    case Verdict::Removed:
        return "removed";
    }
    return "unchanged";
}

namespace {

/// The regularised incomplete beta function I_x(a, b) by its continued fraction (modified Lentz), using the
/// symmetry I_x(a, b) = 1 − I_{1−x}(b, a) where the fraction converges slowly.
double incompleteBeta(double x, double a, double b)
{
    if (x <= 0) return 0;
    if (x >= 1) return 1;
    if (x > (a + 1) / (a + b + 2)) return 1 - incompleteBeta(1 - x, b, a);
    const double front
        = std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x));
    constexpr double tiny = 1e-300;
    double f = 1, c = 1, d = 0;
    for (int i = 0; i <= 400; ++i) {
        const int m = i / 2;
        double numerator;
        if (i == 0)
            numerator = 1;
        else if (i % 2 == 0)
            numerator = (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m));
        else
            numerator = -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
        d = 1 + numerator * d;
        if (std::fabs(d) < tiny) d = tiny;
        d = 1 / d;
        c = 1 + numerator / c;
        if (std::fabs(c) < tiny) c = tiny;
        const double delta = c * d;
        f *= delta;
        if (std::fabs(1 - delta) < 1e-14) break;
    }
    return front * (f - 1) / a;
}

/// P(|T| > t) for Student's t with @p dof degrees of freedom.
double tTwoSidedTail(double t, double dof)
{
    return incompleteBeta(dof / (dof + t * t), dof / 2, 0.5);
}

} // namespace

double tQuantile(double confidence, double dof)
{
    confidence = std::clamp(confidence, 0.5, 1 - 1e-9);
    dof = std::max(dof, 1.0);
    const double tail = 1 - confidence;
    // The tail falls as t grows: bisection on [0, hi] (dof = 1 at 1 − 1e-9 needs t ≈ 6.4e8).
    double lo = 0, hi = 1e10;
    for (int i = 0; i < 200 && hi - lo > 1e-10 * hi; ++i) {
        const double mid = 0.5 * (lo + hi);
        (tTwoSidedTail(mid, dof) > tail ? lo : hi) = mid;
    }
    return 0.5 * (lo + hi);
}

std::size_t Comparison::count(Verdict v) const
{
    return static_cast<std::size_t>(
        std::count_if(rows.begin(), rows.end(), [v](const CompareRow& r) { return r.verdict == v; }));
}

std::size_t Comparison::budgetFailures() const
{
    return static_cast<std::size_t>(
        std::count_if(budget.begin(), budget.end(), [](const BudgetCheck& b) { return !b.passed; }));
}

bool Comparison::failed() const
{
    return count(Verdict::Regression) > 0 || run.verdict == Verdict::Regression || budgetFailures() > 0;
}

std::string Comparison::headline() const
{
    std::vector<std::string> parts;
    auto add = [&](std::size_t n, const char* one, const char* many) {
        if (n > 0) parts.push_back(fmt::format("{} {}", n, n == 1 ? one : many));
    };
    const std::size_t regressions = count(Verdict::Regression) + (run.verdict == Verdict::Regression ? 1 : 0);
    add(regressions, "regression", "regressions");
    add(budgetFailures(), "budget rule broken", "budget rules broken");
    add(count(Verdict::Improvement) + (run.verdict == Verdict::Improvement ? 1 : 0), "improvement", "improvements");
    add(count(Verdict::Uncertain), "uncertain change", "uncertain changes");
    add(count(Verdict::Minor), "minor change", "minor changes");
    add(count(Verdict::New), "new item", "new items");
    add(count(Verdict::Removed), "removed item", "removed items");
    add(count(Verdict::NoEstimate), "not gated (no noise estimate)", "not gated (no noise estimate)");
    add(count(Verdict::Unchanged), "unchanged", "unchanged");
    if (regressions == 0 && budgetFailures() == 0) parts.insert(parts.begin(), "no regression");
    std::string text;
    for (std::size_t i = 0; i < parts.size(); ++i)
        text += (i ? ", " : "") + parts[i];
    return text;
}

namespace {

/// An efficiency below a budget's minimum, printed as the tables print it (whole per cent, rounded down) unless
/// that reads as the minimum itself: then with as many decimals as it takes to show it is below.
std::string efficiencyBelow(double efficiency, double minimum)
{
    const double percent = 100 * efficiency, limit = 100 * minimum;
    if (efficiencyPercent(efficiency) < limit) return fmt::format("{:.0f} %", efficiencyPercent(efficiency));
    for (int decimals = 1; decimals <= 12; ++decimals) {
        const double scale = std::pow(10.0, decimals);
        const double shown = std::floor(percent * scale + 1e-6) / scale;
        if (shown < limit) return fmt::format("{:.{}f} %", shown, decimals);
    }
    return fmt::format("{:.15g} %", percent);
}

/// Launch-to-launch (or instance-to-instance) spread of one item in one run: Welford's running moments.
struct Moments {
    std::uint64_t n = 0;
    double mean = 0, m2 = 0;
    void add(double x)
    {
        ++n;
        const double d = x - mean;
        mean += d / static_cast<double>(n);
        m2 += d * (x - mean);
    }
    double variance() const { return n > 1 ? m2 / static_cast<double>(n - 1) : 0; }
};

/// Kernels are matched by device and name; regions and paths by kind and name only (a region's device is set only
/// when it declares work, which must not split one region into "removed" and "new").
std::string itemKey(const ReportRow& r)
{
    const bool kernel = r.kind == "kernel" || r.kind == "path-kernel";
    std::string key = r.kind + '\x1f' + (kernel ? r.device : std::string()) + '\x1f';
    if (r.path.empty()) return key + r.name;
    for (const std::string& p : r.path)
        key += p + '\x1e';
    return key;
}

/// Instance statistics per run, keyed like itemKey for kernels (name, device) and ranges (name).
/// Only a single run needs them (several runs take their noise from the runs): a side of several runs reads no
/// instance at all, which is most of the time of a comparison of long runs.
std::vector<std::unordered_map<std::string, Moments>> instanceMoments(const std::vector<Profile>& profiles, ReportBy by)
{
    std::vector<std::unordered_map<std::string, Moments>> out(profiles.size());
    if (profiles.size() != 1) return out;
    if (by != ReportBy::Kernel && by != ReportBy::Range) return out; // call paths: no per-instance records
    std::string key;
    for (std::size_t i = 0; i < profiles.size(); ++i) {
        auto& m = out[i];
        if (by == ReportBy::Kernel)
            profiles[i].forEachKernel([&](const KernelLaunch& k) {
                // The report's device name, built without formatting: this runs once per launch.
                key.assign("gpu").append(std::to_string(k.device)).push_back('\x1f');
                key.append(k.name);
                m[key].add(static_cast<double>(k.durationNs) * 1e-9);
            });
        else
            profiles[i].forEachRegion([&](const RegionInstance& r) {
                m[std::string(regionKindName(r.kind)) + '\x1f' + r.name].add(
                    static_cast<double>(r.endNs - r.startNs) * 1e-9);
            });
    }
    return out;
}

std::string momentsKey(const ReportRow& r, ReportBy by)
{
    return by == ReportBy::Kernel ? r.device + '\x1f' + r.name : r.kind + '\x1f' + r.name;
}

double mean(const std::vector<double>& v)
{
    double s = 0;
    for (double x : v)
        s += x;
    return v.empty() ? 0 : s / static_cast<double>(v.size());
}

double sampleVariance(const std::vector<double>& v)
{
    if (v.size() < 2) return 0;
    const double m = mean(v);
    double s = 0;
    for (double x : v)
        s += (x - m) * (x - m);
    return s / static_cast<double>(v.size() - 1);
}

/// The variance of a side's mean time per run: from the spread between runs when there are two or more (a run's
/// total already holds its launch-to-launch noise, and launches of one kernel name often differ in size, which is
/// no noise at all); from the spread between instances (the run's total is a sum of them) for a single run.
void estimateNoise(CompareSide& s, const std::vector<const Moments*>& perRun)
{
    const auto runs = static_cast<double>(s.runSeconds.size());
    if (s.runSeconds.size() >= 2) {
        s.meanVariance = sampleVariance(s.runSeconds) / runs;
        s.dof = runs - 1;
        s.noiseBasis = "runs";
        return;
    }
    std::optional<double> within;
    double withinDof = 0;
    // Runs without the item add nothing; a run with one instance of it gives no spread, so none is estimated.
    double sum = 0;
    std::uint64_t instances = 0;
    double withData = 0;
    bool single = false;
    for (const Moments* m : perRun) {
        if (!m) continue;
        if (m->n < 2) {
            single = true;
            continue;
        }
        sum += static_cast<double>(m->n) * m->variance();
        instances += m->n;
        withData += 1;
    }
    if (!single && withData > 0) {
        within = sum / (runs * runs);
        withinDof = static_cast<double>(instances) - withData;
    }
    if (within) {
        s.meanVariance = within;
        s.dof = std::max(withinDof, 1.0);
        s.noiseBasis = "instances";
    }
}

std::string describeWork(const CompareSide& b, const CompareSide& c)
{
    const bool bw = b.flops || !b.bytesByLevel.empty();
    const bool cw = c.flops || !c.bytesByLevel.empty();
    if (!bw && !cw) return {};
    if (!bw) return "work only known in the current runs";
    if (!cw) return "work only known in the baseline runs";
    auto change = [](double x, double y) -> std::string {
        if (x == 0 && y == 0) return "unchanged";
        if (x == 0) return "from none";
        const double r = y / x - 1;
        return std::fabs(r) < 0.005 ? "unchanged" : percentChange(r);
    };
    std::vector<std::string> parts;
    parts.push_back("FLOPs " + change(b.flops.value_or(0), c.flops.value_or(0)));
    std::set<std::string> levels;
    for (const auto& [l, v] : b.bytesByLevel)
        levels.insert(l);
    for (const auto& [l, v] : c.bytesByLevel)
        levels.insert(l);
    std::vector<std::string> changed;
    for (const std::string& l : levels) {
        auto x = b.bytesByLevel.find(l), y = c.bytesByLevel.find(l);
        const std::string ch
            = change(x == b.bytesByLevel.end() ? 0 : x->second, y == c.bytesByLevel.end() ? 0 : y->second);
        if (ch != "unchanged") changed.push_back(l + " bytes " + ch);
    }
    if (levels.empty()) {
    } else if (changed.empty())
        parts.push_back("bytes unchanged");
    else
        parts.insert(parts.end(), changed.begin(), changed.end());
    std::string text;
    for (std::size_t i = 0; i < parts.size(); ++i)
        text += (i ? ", " : "") + parts[i];
    return text;
}

CompareSide sideOf(const ReportRow* r, std::size_t runs,
    const std::vector<std::unordered_map<std::string, Moments>>& moments, ReportBy by)
{
    CompareSide s;
    s.runSeconds.assign(runs, 0.0);
    std::vector<const Moments*> perRun(runs, nullptr);
    if (r) {
        s.present = true;
        for (std::size_t i = 0; i < runs && i < r->rankSeconds.size(); ++i)
            s.runSeconds[i] = r->rankSeconds[i];
        if (r->rankSeconds.empty() && runs == 1) s.runSeconds[0] = r->timeSeconds;
        const double n = static_cast<double>(runs);
        s.count = static_cast<double>(r->count) / n;
        if (!r->flopsByClass.empty()) {
            double f = 0;
            for (const auto& [cls, v] : r->flopsByClass)
                f += v;
            s.flops = f / n;
        }
        for (const auto& [l, v] : r->bytesByLevel)
            s.bytesByLevel[l] = v / n;
        if (r->roof) {
            s.efficiency = r->roof->efficiency;
            s.limiter = limiterLabel(*r->roof);
        }
        const std::string key = momentsKey(*r, by);
        for (std::size_t i = 0; i < runs && i < moments.size(); ++i) {
            auto it = moments[i].find(key);
            if (it != moments[i].end()) perRun[i] = &it->second;
        }
    }
    s.meanSeconds = mean(s.runSeconds);
    if (!s.present) return s;
    if (by == ReportBy::Kernel || by == ReportBy::Range)
        estimateNoise(s, perRun);
    else
        estimateNoise(s, {});
    return s;
}

/// The change of the mean time and its interval: on the log of the ratio (the delta method), with Welch's
/// degrees of freedom, so that the interval is right for a relative change and never crosses −100 %.
void judge(CompareRow& row, const CompareOptions& o, double weight)
{
    const CompareSide& b = row.base;
    const CompareSide& c = row.current;
    row.deltaSeconds = c.meanSeconds - b.meanSeconds;
    row.weight = weight;
    if (!b.present) {
        row.verdict = Verdict::New;
        row.why = "only in the current runs";
        return;
    }
    if (!c.present) {
        row.verdict = Verdict::Removed;
        row.why = "only in the baseline runs";
        return;
    }
    if (b.meanSeconds <= 0 || c.meanSeconds <= 0) {
        // Instants (zero-length regions, rounded imports): no ratio to judge.
        row.verdict = Verdict::NoEstimate;
        row.why = "no time on a side (zero-length instances): nothing to compare";
        return;
    }
    row.change = c.meanSeconds / b.meanSeconds - 1;
    const std::string threshold = fmt::format("{:g} %", 100 * o.threshold);
    if (!b.meanVariance || !c.meanVariance) {
        row.verdict = std::fabs(*row.change) < o.threshold ? Verdict::Unchanged : Verdict::NoEstimate;
        row.why = "one run and one instance on a side: no noise estimate (record 2 or more runs per side)";
        return;
    }
    const double rb = *b.meanVariance / (b.meanSeconds * b.meanSeconds);
    const double rc = *c.meanVariance / (c.meanSeconds * c.meanSeconds);
    if (rb + rc == 0) {
        // Identical times on both sides (synthetic runs, imports rounded to the tool's resolution): no spread to
        // judge a change against, so no confidence can be claimed.
        row.verdict = std::fabs(*row.change) < o.threshold ? Verdict::Unchanged : Verdict::NoEstimate;
        row.why = "no spread on either side (identical times): no noise estimate";
        return;
    }
    const double se = std::sqrt(rb + rc);
    double dof = 1e6;
    if (rb + rc > 0) {
        const double denom = (b.dof > 0 ? rb * rb / b.dof : 0) + (c.dof > 0 ? rc * rc / c.dof : 0);
        if (denom > 0) dof = (rb + rc) * (rb + rc) / denom;
    }
    const double t = tQuantile(o.confidence, dof);
    const double d = std::log(c.meanSeconds / b.meanSeconds);
    row.low = std::exp(d - t * se) - 1;
    row.high = std::exp(d + t * se) - 1;
    const bool big = std::fabs(*row.change) >= o.threshold;
    const bool up = *row.low > 0, down = *row.high < 0;
    const bool matters = weight >= o.minShare;
    if (!big) {
        row.verdict = Verdict::Unchanged;
        // Below the threshold, but only shown to stay below it when the whole interval does (+0.4 % [-55 %,
        // +125 %] cannot tell a 50 % regression from none): the sentence says which.
        const bool inside = *row.low > -o.threshold && *row.high < o.threshold;
        row.why = (up || down) ? fmt::format("a real change, but below the {} threshold", threshold)
            : inside           ? fmt::format("within noise and below the {} threshold", threshold)
                               : fmt::format("below the {} threshold, but the interval reaches past it: too noisy to "
                                                       "rule out a change that size (record more runs per side)",
                                   threshold);
    } else if (!up && !down) {
        row.verdict = Verdict::Uncertain;
        row.why = "the interval includes no change: the runs are too noisy to tell (record more runs per side)";
    } else if (!matters) {
        row.verdict = Verdict::Minor;
        row.why = fmt::format(
            "{} % of the analysed time, below the {:g} % gated", fmt::format("{:.2g}", 100 * weight), 100 * o.minShare);
    } else {
        row.verdict = up ? Verdict::Regression : Verdict::Improvement;
        row.why = fmt::format("{} beyond the {} threshold, the whole interval {} zero", up ? "slower" : "faster",
            threshold, up ? "above" : "below");
    }
}

std::string hostsOf(const std::vector<Profile>& ps)
{
    std::set<std::string> hosts;
    for (const Profile& p : ps)
        hosts.insert(p.process().host);
    std::string text;
    for (const std::string& h : hosts)
        text += (text.empty() ? "" : ", ") + h;
    return text;
}

/// The recording modes of @p ps ("time", "counters"; profiles that say none, such as imports, left out).
std::set<std::string> modesOf(const std::vector<Profile>& ps)
{
    std::set<std::string> modes;
    for (const Profile& p : ps)
        if (auto m = p.meta().find("mode"); m != p.meta().end() && !m->second.empty()) modes.insert(m->second);
    return modes;
}

/// `*` (any run of characters) and `?` (one byte); everything else literal, so that kernel names with brackets
/// (`foo(int [4])`) match as written.
bool glob(std::string_view pattern, std::string_view name)
{
    std::size_t p = 0, n = 0, star = std::string_view::npos, resume = 0;
    while (n < name.size()) {
        if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == name[n])) {
            ++p;
            ++n;
        } else if (p < pattern.size() && pattern[p] == '*') {
            star = p++;
            resume = n;
        } else if (star != std::string_view::npos) {
            p = star + 1;
            n = ++resume;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '*')
        ++p;
    return p == pattern.size();
}

void checkBudget(Comparison& c, const Budget& budget)
{
    c.budgetPath = budget.path;
    const double runMean = c.run.current.meanSeconds;
    for (const BudgetRule& rule : budget.rules) {
        if (rule.by && *rule.by != c.options.by) {
            c.budget.push_back(
                { rule.text, "", true, true, fmt::format("the rule is for --by {}", reportByName(*rule.by)) });
            continue;
        }
        std::vector<const CompareRow*> items;
        if (rule.run)
            items.push_back(&c.run);
        else
            for (const CompareRow& r : c.rows)
                if (r.current.present && glob(rule.pattern, r.name)) items.push_back(&r);
        if (items.empty()) {
            c.budget.push_back({ rule.text, "", false, false,
                fmt::format("matched no {} of the current runs (a renamed item escapes its budget)",
                    c.options.by == ReportBy::Kernel ? "kernel" : "item") });
            continue;
        }
        for (const CompareRow* r : items) {
            BudgetCheck check { rule.text, r->name, true, false, {} };
            std::vector<std::string> failures, passes;
            const CompareSide& s = r->current;
            if (rule.minEfficiency) {
                if (!s.efficiency) failures.push_back("no efficiency (the item has no known work or no roof)");
                // Never "60 % is below 60 %".
                else if (*s.efficiency < *rule.minEfficiency)
                    failures.push_back(fmt::format("efficiency {} is below {:.12g} %",
                        efficiencyBelow(*s.efficiency, *rule.minEfficiency), 100 * *rule.minEfficiency));
                else
                    passes.push_back(fmt::format("efficiency {:.0f} %", efficiencyPercent(*s.efficiency)));
            }
            if (rule.maxSeconds) {
                if (s.meanSeconds > *rule.maxSeconds)
                    failures.push_back(fmt::format(
                        "{} per run is above {}", humanSeconds(s.meanSeconds), humanSeconds(*rule.maxSeconds)));
                else
                    passes.push_back(fmt::format("{} per run", humanSeconds(s.meanSeconds)));
            }
            if (rule.maxShare) {
                const double share = runMean > 0 ? s.meanSeconds / runMean : 0;
                if (share > *rule.maxShare)
                    failures.push_back(
                        fmt::format("{:.1f} % of the run time is above {:.1f} %", 100 * share, 100 * *rule.maxShare));
                else
                    passes.push_back(fmt::format("{:.1f} % of the run time", 100 * share));
            }
            if (rule.maxChange) {
                if (!r->change)
                    passes.push_back("change not checked: no baseline to compare with");
                else if (!r->low)
                    passes.push_back(
                        fmt::format("change not checked: time {} but no noise estimate", percentChange(*r->change)));
                else if (*r->change > *rule.maxChange && r->low && *r->low > 0)
                    failures.push_back(fmt::format("time {} [{}, {}] exceeds {}", percentChange(*r->change),
                        percentChange(*r->low), percentChange(*r->high), percentChange(*rule.maxChange)));
                else if (*r->change > *rule.maxChange)
                    // Above the limit but within the runs' noise: a pass, and the line says why.
                    passes.push_back(fmt::format("time {} [{}, {}]: above {} but not significant (the interval "
                                                 "reaches 0)",
                        percentChange(*r->change), percentChange(*r->low), percentChange(*r->high),
                        percentChange(*rule.maxChange)));
                else
                    passes.push_back(fmt::format("time {}", percentChange(*r->change)));
            }
            check.passed = failures.empty();
            const auto& said = failures.empty() ? passes : failures;
            for (std::size_t i = 0; i < said.size(); ++i)
                check.message += (i ? "; " : "") + said[i];
            c.budget.push_back(std::move(check));
        }
    }
}

} // namespace

Comparison compareRuns(const std::vector<Profile>& base, const std::vector<Profile>& current,
    const CompareOptions& options, const Budget* budget, const MachineModel* machine)
{
    Comparison c;
    c.options = options;
    for (const Profile& p : base)
        c.basePaths.push_back(p.path());
    for (const Profile& p : current)
        c.currentPaths.push_back(p.path());
    ReportOptions ro = options.report;
    ro.by = options.by;
    const Report rb = buildReport(base, machine, ro);
    const Report rc = buildReport(current, machine, ro);
    if (!base.empty()) c.baseCommand = base.front().process().cmdline;
    if (!current.empty()) c.currentCommand = current.front().process().cmdline;

    // What may make the two sides not comparable: said, never fatal (CI decides).
    for (const Report* r : { &rb, &rc })
        for (const std::string& w : r->machineWarnings)
            if (std::find(c.warnings.begin(), c.warnings.end(), w) == c.warnings.end()) c.warnings.push_back(w);
    if (c.baseCommand != c.currentCommand)
        c.warnings.push_back(
            fmt::format("the sides ran different commands: '{}' and '{}'", c.baseCommand, c.currentCommand));
    if (hostsOf(base) != hostsOf(current))
        c.warnings.push_back(
            fmt::format("the sides ran on different hosts ({} and {})", hostsOf(base), hostsOf(current)));
    if (rb.machine && rc.machine && !machine) {
        if (rb.machine->identity.key() != rc.machine->identity.key())
            c.warnings.push_back(fmt::format("the sides ran on different hardware ({} and {}): times may differ for "
                                             "that reason alone",
                rb.machine->identity.cpuModel, rc.machine->identity.cpuModel));
        else if (rb.machine->created != rc.machine->created)
            c.warnings.push_back(fmt::format("the sides embed different machine models ({} and {}): efficiencies are "
                                             "against different roofs (pass --machine FILE to use one)",
                rb.machine->created, rc.machine->created));
    }
    {
        // Counters mode replays each kernel signature's first launches: its regions and run hold the replays.
        const std::set<std::string> baseModes = modesOf(base), currentModes = modesOf(current);
        const auto text = [](const std::set<std::string>& modes) {
            return modes.empty() ? std::string("none") : fmt::format("{}", fmt::join(modes, " and "));
        };
        const std::set<std::string> countersOnly { "counters" };
        for (const auto& [side, modes] : { std::pair { "baseline", &baseModes }, { "current", &currentModes } })
            if (modes->size() > 1)
                c.warnings.push_back(fmt::format("the {} runs were recorded in different modes ({}): counters mode "
                                                 "replays each kernel's first launches, so their means blend replays "
                                                 "with plain runs; compare runs of one mode",
                    side, text(*modes)));
        if (!baseModes.empty() && !currentModes.empty() && baseModes != currentModes)
            c.warnings.push_back(fmt::format(
                "the sides were recorded in different modes ({} on the baseline, {} on the current): counters mode "
                "replays each kernel's first launches, which makes its {} far longer; compare runs of one mode "
                "(time mode for times)",
                text(baseModes), text(currentModes),
                options.by == ReportBy::Kernel ? "run time" : "ranges and run time"));
        else if (baseModes == countersOnly && currentModes == countersOnly && options.by != ReportBy::Kernel)
            c.warnings.push_back("both sides were recorded in counters mode: range and run times hold the replays of "
                                 "each kernel's first launches (compare time-mode runs, or --by kernel)");
    }
    for (const Profile& p : base)
        if (!p.complete()) c.warnings.push_back(fmt::format("'{}' is incomplete (the process was killed)", p.path()));
    for (const Profile& p : current)
        if (!p.complete()) c.warnings.push_back(fmt::format("'{}' is incomplete (the process was killed)", p.path()));
    {
        // A profile on both sides makes the sides look alike: said, since it is almost always a wrong glob.
        std::set<std::string> seen;
        std::error_code ec;
        for (const std::string& p : c.basePaths)
            seen.insert(std::filesystem::weakly_canonical(p, ec).string());
        for (const std::string& p : c.currentPaths)
            if (seen.count(std::filesystem::weakly_canonical(p, ec).string()))
                c.warnings.push_back(fmt::format("'{}' is on both sides", p));
    }
    if (base.size() < 2 || current.size() < 2)
        c.warnings.push_back("one run on a side: only launch-to-launch noise is known, not run-to-run noise (record "
                             "3 runs per side for a trustworthy gate)");

    // The whole run.
    c.run.name = "run time";
    c.run.kind = "run";
    auto runSide = [](const std::vector<Profile>& ps) {
        CompareSide s;
        s.present = !ps.empty();
        for (const Profile& p : ps)
            s.runSeconds.push_back(p.runSeconds());
        s.meanSeconds = mean(s.runSeconds);
        estimateNoise(s, {});
        return s;
    };
    c.run.base = runSide(base);
    c.run.current = runSide(current);

    // Items, matched by kind, device and name (or path).
    std::map<std::string, std::pair<const ReportRow*, const ReportRow*>> items;
    for (const ReportRow& r : rb.rows)
        items[itemKey(r)].first = &r;
    for (const ReportRow& r : rc.rows)
        items[itemKey(r)].second = &r;
    const auto mb = instanceMoments(base, options.by);
    const auto mc = instanceMoments(current, options.by);
    std::vector<CompareRow> rows;
    for (const auto& [key, pair] : items) {
        const ReportRow* any = pair.second ? pair.second : pair.first;
        CompareRow row;
        row.name = any->name;
        row.kind = any->kind;
        row.device = any->device;
        row.path = any->path;
        if (!row.path.empty()) {
            row.name.clear();
            for (std::size_t i = 0; i < row.path.size(); ++i)
                row.name += (i ? " > " : "") + row.path[i];
        }
        row.base = sideOf(pair.first, base.size(), mb, options.by);
        row.current = sideOf(pair.second, current.size(), mc, options.by);
        row.work = describeWork(row.base, row.current);
        rows.push_back(std::move(row));
    }
    // Weights: an item's share of the analysed time per run (all kernels' time by kernel, the run time otherwise).
    auto analysed = [&](bool cur) {
        if (options.by != ReportBy::Kernel) return (cur ? c.run.current : c.run.base).meanSeconds;
        double s = 0;
        for (const CompareRow& r : rows)
            s += (cur ? r.current : r.base).meanSeconds;
        return s;
    };
    c.baseAnalysedSeconds = analysed(false);
    c.currentAnalysedSeconds = analysed(true);
    for (CompareRow& r : rows) {
        const double wb = c.baseAnalysedSeconds > 0 ? r.base.meanSeconds / c.baseAnalysedSeconds : 0;
        const double wc = c.currentAnalysedSeconds > 0 ? r.current.meanSeconds / c.currentAnalysedSeconds : 0;
        r.weight = std::max(wb, wc);
    }
    // The confidence is for the whole comparison: an unchanged program fails the gate with probability at most
    // 1 − confidence, however many items are gated (Bonferroni: each gated item's interval at 1 − (1 − c)/m).
    auto gated = [&](const CompareSide& b, const CompareSide& cur, double weight) {
        return b.present && cur.present && b.meanSeconds > 0 && cur.meanSeconds > 0 && b.meanVariance
            && cur.meanVariance && weight >= options.minShare;
    };
    c.gatedItems = gated(c.run.base, c.run.current, 1.0) ? 1 : 0;
    for (const CompareRow& r : rows)
        c.gatedItems += gated(r.base, r.current, r.weight) ? 1 : 0;
    CompareOptions each = options;
    each.confidence = 1 - (1 - options.confidence) / static_cast<double>(std::max<std::size_t>(1, c.gatedItems));
    c.itemConfidence = each.confidence;
    judge(c.run, each, 1.0);
    if (c.run.verdict == Verdict::NoEstimate || (c.run.verdict == Verdict::Unchanged && !c.run.low))
        c.run.why = "one run on a side: the run time is not gated (record 2 or more runs per side)";
    for (CompareRow& r : rows)
        judge(r, each, r.weight);
    std::stable_sort(rows.begin(), rows.end(),
        [](const CompareRow& x, const CompareRow& y) { return std::fabs(x.deltaSeconds) > std::fabs(y.deltaSeconds); });
    c.rows = std::move(rows);
    if (budget) checkBudget(c, *budget);
    return c;
}

// ---- budget files ----------------------------------------------------------------------------------------------

Budget Budget::parse(const std::string& text, const std::string& path)
{
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        throw ProfileError(path, std::string("is not a JSON budget file: ") + e.what());
    }
    if (!j.is_object() || !j.contains("rules") || !j["rules"].is_array())
        throw ProfileError(path, "is not a budget file: expected {\"rules\": [ ... ]} (docs/compare.md)");
    if (j.contains("format") && j["format"] != "rooftime-budget")
        throw ProfileError(path, "has format " + j["format"].dump() + ", not \"rooftime-budget\"");
    if (j.contains("version")) {
        const auto& v = j["version"];
        const std::string version = v.is_string() ? v.get<std::string>() : v.is_number() ? v.dump() : "";
        if (version != "1" && version.rfind("1.", 0) != 0)
            throw ProfileError(path, "has budget version " + v.dump() + "; this rooftime reads 1.x");
    }
    for (const auto& [key, value] : j.items())
        if (key != "rules" && key != "version" && key != "format" && key != "comment")
            throw ProfileError(path, "has an unknown key '" + key + "' (known: format, version, comment, rules)");
    Budget b;
    b.path = path;
    std::size_t index = 0;
    for (const auto& r : j["rules"]) {
        ++index;
        const std::string where = fmt::format("rule {}", index);
        if (!r.is_object()) throw ProfileError(path, where + " is not an object");
        BudgetRule rule;
        auto number = [&](const char* key, double lo, double hi, const char* meaning) -> std::optional<double> {
            if (!r.contains(key)) return std::nullopt;
            if (!r[key].is_number())
                throw ProfileError(path, fmt::format("{}: {} must be a number ({})", where, key, meaning));
            const double v = r[key].get<double>();
            if (!(v >= lo && v <= hi))
                throw ProfileError(path, fmt::format("{}: {} {} is out of range ({})", where, key, v, meaning));
            return v;
        };
        for (const auto& [key, value] : r.items())
            if (key != "name" && key != "run" && key != "by" && key != "min_efficiency" && key != "max_seconds"
                && key != "max_share" && key != "max_change" && key != "comment")
                throw ProfileError(path,
                    fmt::format("{}: unknown key '{}' (known: name, run, by, min_efficiency, max_seconds, max_share, "
                                "max_change, comment)",
                        where, key));
        if (r.contains("name")) {
            if (!r["name"].is_string() || r["name"].get<std::string>().empty())
                throw ProfileError(path, where + ": name must be a non-empty string (a glob: * and ? match)");
            rule.pattern = r["name"].get<std::string>();
        }
        if (r.contains("run")) {
            if (!r["run"].is_boolean() || !r["run"].get<bool>())
                throw ProfileError(path, where + ": run must be true (a rule about the whole run)");
            rule.run = true;
        }
        if (rule.run == !rule.pattern.empty())
            throw ProfileError(path, where + ": give either name (a glob on item names) or \"run\": true");
        if (r.contains("by")) {
            const auto by = r["by"].is_string() ? parseReportBy(r["by"].get<std::string>()) : std::nullopt;
            if (!by || (*by != ReportBy::Kernel && *by != ReportBy::Range && *by != ReportBy::Callpath))
                throw ProfileError(path, where + ": by must be \"kernel\", \"range\" or \"callpath\"");
            rule.by = by;
        }
        rule.minEfficiency = number("min_efficiency", 0, 1, "a fraction of the roof: 0.6 for 60 %");
        rule.maxSeconds = number("max_seconds", 0, 1e9, "seconds per run");
        rule.maxShare = number("max_share", 0, 1, "a fraction of the run time: 0.2 for 20 %");
        rule.maxChange = number("max_change", -0.99, 1e6, "a relative change: 0.1 for +10 %");
        if (!rule.minEfficiency && !rule.maxSeconds && !rule.maxShare && !rule.maxChange)
            throw ProfileError(path, where + ": sets no limit (min_efficiency, max_seconds, max_share or max_change)");
        if (rule.run && (rule.minEfficiency || rule.maxShare))
            throw ProfileError(path, where + ": the whole run takes only max_seconds and max_change");
        std::vector<std::string> limits;
        if (rule.minEfficiency) limits.push_back(fmt::format("min_efficiency {:g}", *rule.minEfficiency));
        if (rule.maxSeconds) limits.push_back(fmt::format("max_seconds {:g}", *rule.maxSeconds));
        if (rule.maxShare) limits.push_back(fmt::format("max_share {:g}", *rule.maxShare));
        if (rule.maxChange) limits.push_back(fmt::format("max_change {:g}", *rule.maxChange));
        rule.text = fmt::format("{}{}: {}", rule.run ? "run" : rule.pattern,
            rule.by ? fmt::format(" (by {})", reportByName(*rule.by)) : "", fmt::join(limits, ", "));
        b.rules.push_back(std::move(rule));
    }
    if (b.rules.empty()) throw ProfileError(path, "has no rules");
    return b;
}

Budget Budget::load(const std::string& path)
{
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
        throw ProfileError(path,
            std::filesystem::exists(path, ec) ? "is not a regular file"
                                              : "cannot be read (no such file or no permission)");
    if (std::filesystem::file_size(path, ec) > (1u << 20))
        throw ProfileError(path, "is larger than 1 MiB: not a budget file");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ProfileError(path, "cannot be read (no such file or no permission)");
    std::ostringstream text;
    text << in.rdbuf();
    return parse(text.str(), path);
}

} // namespace rooftime::analyzer
