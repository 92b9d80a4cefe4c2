// SPDX-License-Identifier: MIT
// `rooftime compare` on synthetic runs whose every time is set by hand: the change and its interval (computed here
// from the formulas of docs/compare.md), each verdict, noise from runs and from launches, budget files and the four
// output formats.
#include "rooftime/analyzer/compare.h"
#include "rooftime/analyzer/profile_builder.h"

#include "gpu_machine.h"
#include "process.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <tuple>

using namespace rooftime::analyzer;
using rooftime::test::scratchDir;

namespace {

constexpr double kUs = 1e3; // ns

/// One kernel of a run: its launches' durations in microseconds, and optionally counters on the first launch.
struct K {
    std::string name;
    std::vector<double> us;
    double ffma = 0; ///< FFMA instructions of one launch (2 FLOP each)
    double dramBytes = 0;
};

/// One run (profile) of the given kernels; the process runs @p runMs milliseconds.
Profile makeRun(const std::string& path, const std::vector<K>& kernels, double runMs, long pid,
    const std::string& cmd = "./train --steps 10")
{
    {
        ProfileBuilder b(path, "node", "./train", cmd, pid);
        b.addDevice(0, "NVIDIA H100", "sm_90", 132);
        b.addMachine("test", rooftime::test::kGpuMachineJson);
        std::int64_t id = 0;
        std::int64_t t = 0;
        for (const K& k : kernels)
            for (std::size_t i = 0; i < k.us.size(); ++i) {
                KernelRecord r;
                r.id = ++id;
                r.name = k.name;
                r.durationNs = static_cast<std::int64_t>(std::llround(k.us[i] * kUs));
                r.startNs = t;
                r.endNs = t + r.durationNs;
                t += r.durationNs;
                r.replayed = i == 0 && (k.ffma > 0 || k.dramBytes > 0);
                b.addKernel(r);
                if (r.replayed) {
                    b.addKernelMetric(r.id, "smsp__sass_thread_inst_executed_op_ffma_pred_on.sum", k.ffma, "inst");
                    b.addKernelMetric(r.id, "dram__bytes_read.sum", k.dramBytes, "byte");
                }
            }
        b.finish(static_cast<std::int64_t>(std::llround(runMs * 1e6)));
    }
    return Profile::open(path);
}

/// Runs where kernel @p name takes each of @p ms (one launch per run), beside fixed companions.
std::vector<Profile> runs(const std::string& dir, const std::string& tag, const std::vector<std::vector<K>>& perRun,
    const std::vector<double>& runMs)
{
    std::vector<Profile> out;
    for (std::size_t i = 0; i < perRun.size(); ++i)
        out.push_back(makeRun(fmt::format("{}/{}{}.rtdb", dir, tag, i), perRun[i], runMs[i], static_cast<long>(i + 1)));
    return out;
}

const CompareRow& row(const Comparison& c, const std::string& name)
{
    for (const CompareRow& r : c.rows)
        if (r.name == name) return r;
    FAIL("no row " << name);
    throw std::logic_error("unreachable");
}

/// The scenario of most tests: gemm doubles (a regression), axpy is unchanged, "noisy" changes +16.7 % inside
/// its noise, "tiny" doubles but is far below 1 % of the kernel time, "new" and "old" exist on one side only.
Comparison scenario(const std::string& dir, const Budget* budget = nullptr)
{
    auto base = runs(dir, "base",
        {
            { { "gemm", { 9000 } }, { "axpy", { 4000 } }, { "noisy", { 2000 } }, { "tiny", { 9 } },
                { "old", { 100 } } },
            { { "gemm", { 10000 } }, { "axpy", { 5000 } }, { "noisy", { 6000 } }, { "tiny", { 10 } },
                { "old", { 100 } } },
            { { "gemm", { 11000 } }, { "axpy", { 6000 } }, { "noisy", { 10000 } }, { "tiny", { 11 } },
                { "old", { 100 } } },
        },
        { 100, 101, 102 });
    auto current = runs(dir, "cur",
        {
            { { "gemm", { 18000 } }, { "axpy", { 4000 } }, { "noisy", { 3000 } }, { "tiny", { 19 } },
                { "new", { 1000 } } },
            { { "gemm", { 20000 } }, { "axpy", { 5000 } }, { "noisy", { 7000 } }, { "tiny", { 20 } },
                { "new", { 1000 } } },
            { { "gemm", { 22000 } }, { "axpy", { 6000 } }, { "noisy", { 11000 } }, { "tiny", { 21 } },
                { "new", { 1000 } } },
        },
        { 110, 111, 112 });
    return compareRuns(base, current, CompareOptions {}, budget);
}

} // namespace

TEST_CASE("compare: Student t quantiles match the tables", "[compare]")
{
    CHECK(tQuantile(0.95, 1) == Approx(12.706205).epsilon(1e-6));
    CHECK(tQuantile(0.95, 2) == Approx(4.302653).epsilon(1e-6));
    CHECK(tQuantile(0.95, 4) == Approx(2.776445).epsilon(1e-6));
    CHECK(tQuantile(0.95, 10) == Approx(2.228139).epsilon(1e-6));
    CHECK(tQuantile(0.99, 5) == Approx(4.032143).epsilon(1e-6));
    CHECK(tQuantile(0.90, 3) == Approx(2.353363).epsilon(1e-6));
    CHECK(tQuantile(0.95, 1e7) == Approx(1.959964).epsilon(1e-5));
    // Fractional degrees of freedom (Welch) lie between their neighbours.
    CHECK(tQuantile(0.95, 4.5) < tQuantile(0.95, 4));
    CHECK(tQuantile(0.95, 4.5) > tQuantile(0.95, 5));
}

TEST_CASE("compare: a doubled kernel is a regression with the interval of the formulas", "[compare]")
{
    const Comparison c = scenario(scratchDir("compare_scenario"));
    const CompareRow& gemm = row(c, "gemm");
    // Base 9, 10, 11 ms: mean 10, variance of the mean 1/3 ms²; current 18, 20, 22: mean 20, 4/3 ms². The relative
    // variances are equal (1/300), so Welch's degrees of freedom are exactly 4.
    CHECK(gemm.base.meanSeconds == Approx(0.010));
    CHECK(gemm.current.meanSeconds == Approx(0.020));
    CHECK(gemm.base.noiseBasis == "runs");
    CHECK(gemm.base.dof == 2);
    REQUIRE(gemm.change);
    CHECK(*gemm.change == Approx(1.0));
    // Four gated items (the run, gemm, axpy, noisy): each interval at 1 − 5 %/4 = 98.75 % (Bonferroni).
    CHECK(c.gatedItems == 4);
    CHECK(c.itemConfidence == Approx(0.9875));
    const double se = std::sqrt(2.0 / 300.0);
    const double t = 4.314656; // t(1 − 0.0125/2, 4), by numerical integration of the t density
    REQUIRE(gemm.low);
    CHECK(*gemm.low == Approx(std::exp(std::log(2.0) - t * se) - 1).epsilon(1e-5));
    CHECK(*gemm.high == Approx(std::exp(std::log(2.0) + t * se) - 1).epsilon(1e-5));
    CHECK(*gemm.low == Approx(0.4062).epsilon(1e-3));
    CHECK(gemm.verdict == Verdict::Regression);
    CHECK(gemm.deltaSeconds == Approx(0.010));

    CHECK(row(c, "axpy").verdict == Verdict::Unchanged);
    CHECK(*row(c, "axpy").change == Approx(0).margin(1e-12));
    // +16.7 % but the runs spread over 2…10 ms: the interval holds zero.
    const CompareRow& noisy = row(c, "noisy");
    CHECK(*noisy.change == Approx(7.0 / 6.0 - 1));
    CHECK(noisy.verdict == Verdict::Uncertain);
    CHECK(*noisy.low < 0);
    CHECK(*noisy.high > 0);
    // Doubled, beyond its noise, but 20 us of ~37 ms of kernels per run: never gated.
    const CompareRow& tiny = row(c, "tiny");
    CHECK(tiny.verdict == Verdict::Minor);
    CHECK(tiny.weight < 0.01);
    CHECK(row(c, "new").verdict == Verdict::New);
    CHECK(row(c, "old").verdict == Verdict::Removed);
    // Ordered by the size of the change per run: gemm (+10 ms) first.
    CHECK(c.rows.front().name == "gemm");
    // The run: 100, 101, 102 → 110, 111, 112 ms: +9.9 % and significant.
    CHECK(*c.run.change == Approx(111.0 / 101 - 1));
    CHECK(c.run.verdict == Verdict::Regression);
    CHECK(c.failed());
    CHECK(c.headline() == "2 regressions, 1 uncertain change, 1 minor change, 1 new item, 1 removed item, 1 unchanged");
    CHECK(c.warnings.empty());
}

TEST_CASE("compare: the same runs on both sides give no regression", "[compare]")
{
    const std::string dir = scratchDir("compare_same");
    const std::vector<std::vector<K>> set = {
        { { "gemm", { 9000, 9100 } }, { "axpy", { 4000 } } },
        { { "gemm", { 10000, 9800 } }, { "axpy", { 5000 } } },
        { { "gemm", { 11000, 10500 } }, { "axpy", { 6000 } } },
    };
    const auto base = runs(dir, "a", set, { 100, 101, 102 });
    const auto current = runs(dir, "b", set, { 100, 101, 102 });
    const Comparison c = compareRuns(base, current, CompareOptions {});
    for (const CompareRow& r : c.rows) {
        INFO(r.name);
        CHECK(r.verdict == Verdict::Unchanged);
        CHECK(*r.change == Approx(0).margin(1e-12));
    }
    CHECK(c.run.verdict == Verdict::Unchanged);
    CHECK_FALSE(c.failed());
    CHECK(c.headline() == "no regression, 2 unchanged");
    // axpy's runs spread by ±20 %: unchanged, but its interval reaches past the 5 % threshold, and its sentence
    // says it cannot rule out a change that size; the run's (100…102 ms) stays inside and says so.
    CHECK_THAT(row(c, "axpy").why, Catch::Contains("the interval reaches past it: too noisy to rule out"));
    CHECK(*row(c, "axpy").high > 0.05);
    CHECK_THAT(c.run.why, Catch::Contains("within noise and below the 5 % threshold"));
}

TEST_CASE("compare: one run per side takes its noise from the launches", "[compare]")
{
    const std::string dir = scratchDir("compare_instances");
    // 1, 2, 3, 4 ms → 2, 3, 4, 5 ms: totals 10 and 14 ms; each launch set has variance 5/3 ms², so a total of four
    // launches has 4 · 5/3 ms² and 3 degrees of freedom.
    const auto base = runs(dir, "a", { { { "k", { 1000, 2000, 3000, 4000 } }, { "one", { 1000 } } } }, { 20 });
    const auto current = runs(dir, "b", { { { "k", { 2000, 3000, 4000, 5000 } }, { "one", { 3000 } } } }, { 22 });
    const Comparison c = compareRuns(base, current, CompareOptions {});
    const CompareRow& k = row(c, "k");
    CHECK(k.base.noiseBasis == "instances");
    CHECK(*k.base.meanVariance == Approx(4 * (5.0 / 3.0) * 1e-6));
    CHECK(k.base.dof == 3);
    CHECK(*k.change == Approx(0.4));
    const double rb = 4 * (5.0 / 3.0) / 100, rc = 4 * (5.0 / 3.0) / 196;
    const double dof = (rb + rc) * (rb + rc) / (rb * rb / 3 + rc * rc / 3);
    CHECK(*k.low == Approx(std::exp(std::log(1.4) - tQuantile(0.95, dof) * std::sqrt(rb + rc)) - 1).epsilon(1e-6));
    CHECK(k.verdict == Verdict::Uncertain); // four launches each cannot confirm +40 %
    // One launch per side: no noise estimate at all, so a tripled kernel is reported but never gated.
    CHECK(row(c, "one").verdict == Verdict::NoEstimate);
    CHECK_FALSE(row(c, "one").low);
    CHECK(c.run.verdict == Verdict::NoEstimate);
    CHECK_FALSE(c.failed());
    REQUIRE(c.warnings.size() == 1);
    CHECK(c.warnings[0].find("one run on a side") != std::string::npos);
}

TEST_CASE("compare: launches of one run with little spread confirm a small slowdown", "[compare]")
{
    const std::string dir = scratchDir("compare_many");
    std::vector<double> b, cur;
    for (int i = 0; i < 200; ++i) {
        b.push_back(100 + (i % 5)); // 100…104 us
        cur.push_back(110 + (i % 5)); // +10 us each
    }
    const auto base = runs(dir, "a", { { { "attn", b } } }, { 50 });
    const auto current = runs(dir, "b", { { { "attn", cur } } }, { 50 });
    const Comparison c = compareRuns(base, current, CompareOptions {});
    const CompareRow& r = row(c, "attn");
    CHECK(*r.change == Approx(10.0 / 102));
    CHECK(r.verdict == Verdict::Regression);
    CHECK(*r.low > 0.09);
    CHECK(*r.high < 0.105);
    CHECK(r.current.count == 200);
}

TEST_CASE("compare: a different command or host is said, not hidden", "[compare]")
{
    const std::string dir = scratchDir("compare_commands");
    std::vector<Profile> base, current;
    base.push_back(makeRun(dir + "/a.rtdb", { { "k", { 1000 } } }, 10, 1, "./train --steps 10"));
    current.push_back(makeRun(dir + "/b.rtdb", { { "k", { 1000 } } }, 10, 2, "./train --steps 20"));
    const Comparison c = compareRuns(base, current, CompareOptions {});
    REQUIRE(c.warnings.size() == 2);
    CHECK(c.warnings[0] == "the sides ran different commands: './train --steps 10' and './train --steps 20'");
}

TEST_CASE("compare: budget files are checked strictly", "[compare][budget]")
{
    auto problem = [](const std::string& text) {
        try {
            Budget::parse(text, "b.json");
        } catch (const ProfileError& e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    CHECK(problem("{").find("'b.json': is not a JSON budget file") == 0);
    CHECK(problem("[]") == "'b.json': is not a budget file: expected {\"rules\": [ ... ]} (docs/compare.md)");
    CHECK(problem(R"({"rules": []})") == "'b.json': has no rules");
    CHECK(problem(R"({"version": "2.0", "rules": [{"name": "a", "max_seconds": 1}]})")
        == "'b.json': has budget version \"2.0\"; this rooftime reads 1.x");
    CHECK(problem(R"({"rulez": []})").find("expected {\"rules\"") != std::string::npos);
    CHECK(problem(R"({"rules": [{"name": "a", "max_second": 1}]})")
        == "'b.json': rule 1: unknown key 'max_second' (known: name, run, by, min_efficiency, max_seconds, max_share, "
           "max_change, comment)");
    CHECK(problem(R"({"rules": [{"name": "a"}]})")
        == "'b.json': rule 1: sets no limit (min_efficiency, max_seconds, max_share or max_change)");
    CHECK(problem(R"({"rules": [{"name": "a", "min_efficiency": 60}]})")
        == "'b.json': rule 1: min_efficiency 60 is out of range (a fraction of the roof: 0.6 for 60 %)");
    CHECK(problem(R"({"rules": [{"name": "a", "run": true, "max_seconds": 1}]})")
        == "'b.json': rule 1: give either name (a glob on item names) or \"run\": true");
    CHECK(problem(R"({"rules": [{"run": true, "min_efficiency": 0.5}]})")
        == "'b.json': rule 1: the whole run takes only max_seconds and max_change");
    CHECK(problem(R"({"rules": [{"name": "a", "by": "window", "max_seconds": 1}]})")
        == "'b.json': rule 1: by must be \"kernel\", \"range\" or \"callpath\"");
    CHECK(problem(R"({"rules": [{"name": "a", "max_seconds": "1"}]})")
        == "'b.json': rule 1: max_seconds must be a number (seconds per run)");
    const Budget ok = Budget::parse(
        R"({"format": "rooftime-budget", "version": "1.0", "rules": [{"name": "ge*", "min_efficiency": 0.6,
        "max_change": 0.1}]})",
        "b.json");
    REQUIRE(ok.rules.size() == 1);
    CHECK(ok.rules[0].text == "ge*: min_efficiency 0.6, max_change 0.1");
    CHECK_THROWS_WITH(
        Budget::load("/nonexistent/b.json"), "'/nonexistent/b.json': cannot be read (no such file or no permission)");
}

TEST_CASE("compare: budget rules pin efficiency, time, share and change", "[compare][budget]")
{
    const std::string dir = scratchDir("compare_budget");
    // gemm: 1 ms per launch, 2 GFLOP fp32 (40 us at 50 TFLOP/s) and 1.5 GB from HBM (0.5 ms at 3 TB/s): 50 % of its
    // roof. Base and current alike, three runs.
    const K gemm { "gemm", { 1000 }, 1e9, 1.5e9 };
    std::vector<std::vector<K>> set(3, std::vector<K> { gemm });
    const auto base = runs(dir, "a", set, { 10, 10, 10 });
    const auto current = runs(dir, "b", set, { 10, 10, 10 });
    const Budget budget = Budget::parse(R"({"rules": [
        {"name": "gemm", "min_efficiency": 0.6},
        {"name": "ge??", "min_efficiency": 0.4, "max_seconds": 0.002, "max_share": 0.05},
        {"name": "attention*", "max_seconds": 1},
        {"run": true, "max_seconds": 0.005},
        {"name": "gemm", "by": "range", "max_seconds": 1}]})",
        "budget.json");
    const Comparison c = compareRuns(base, current, CompareOptions {}, &budget);
    REQUIRE(c.budget.size() == 5);
    CHECK_FALSE(c.budget[0].passed);
    CHECK(c.budget[0].message == "efficiency 50 % is below 60 %");
    CHECK(c.budget[1].passed == false); // 1 ms is 10 % of the run: over max_share 5 %
    CHECK(c.budget[1].message == "10.0 % of the run time is above 5.0 %");
    CHECK_FALSE(c.budget[2].passed);
    CHECK(c.budget[2].item.empty());
    CHECK(c.budget[2].message.find("matched no kernel") == 0);
    CHECK_FALSE(c.budget[3].passed);
    CHECK(c.budget[3].message == "10 ms per run is above 5 ms");
    CHECK(c.budget[4].skipped);
    CHECK(c.budget[4].passed);
    CHECK(c.budgetFailures() == 4);
    CHECK(c.count(Verdict::Regression) == 0);
    CHECK(c.failed()); // by the budget alone
    const CompareRow& r = row(c, "gemm");
    REQUIRE(r.current.efficiency);
    CHECK(*r.current.efficiency == Approx(0.5));
    CHECK(r.current.limiter == "HBM");
    CHECK(r.work == "FLOPs unchanged, bytes unchanged");
}

TEST_CASE("compare: an efficiency a hair below the budget's minimum is not printed as the minimum", "[compare][budget]")
{
    const std::string dir = scratchDir("compare_budget_edge");
    // 100 s + 1 ns per launch with a 50 s roof (150 TB at 3 TB/s): 50 % less 5e-12, which whole per cent shows as 50;
    // rounded down at the first decimal that shows it below.
    const K slow { "slow", { 1e8 + 1e-3 }, 0, 1.5e14 };
    const std::vector<std::vector<K>> set(2, std::vector<K> { slow });
    const auto base = runs(dir, "a", set, { 2e5, 2e5 });
    const auto current = runs(dir, "b", set, { 2e5, 2e5 });
    const Budget budget = Budget::parse(
        R"({"rules": [{"name": "slow", "min_efficiency": 0.5}, {"name": "slow", "min_efficiency": 0.51}]})", "b.json");
    const Comparison c = compareRuns(base, current, CompareOptions {}, &budget);
    REQUIRE(c.budget.size() == 2);
    CHECK_FALSE(c.budget[0].passed);
    CHECK(c.budget[0].message == "efficiency 49.9999 % is below 50 %");
    CHECK_FALSE(c.budget[1].passed);
    CHECK(c.budget[1].message == "efficiency 50 % is below 51 %");
}

TEST_CASE("compare: text, Markdown, JUnit and JSON say the same", "[compare][format]")
{
    const Comparison c = scenario(scratchDir("compare_formats"));
    const std::string text = formatComparison(c, CompareFormat::Text, {});
    CHECK(text.find("rooftime compare: 2 regressions") == 0);
    CHECK(text.find("REGRESSION  gemm: +100.0 % time [+40.6 %, +184.5 %], 10 ms → 20 ms per run") != std::string::npos);
    CHECK(text.find("exit status 1") != std::string::npos);

    CompareFormatOptions o;
    o.commandLine = "rooftime compare base/ --current cand/ --format md";
    const std::string md = formatComparison(c, CompareFormat::Markdown, o);
    CHECK(md.find("## rooftime compare: 2 regressions") == 0);
    CHECK(md.find("- **regression** `gemm`: +100.0 % time [+40.6 %, +184.5 %]") != std::string::npos);
    CHECK(md.find("### Regressions") != std::string::npos);
    CHECK(md.find("### Uncertain (too noisy to tell)") != std::string::npos);
    CHECK(md.find("<details><summary>Unchanged (1)</summary>") != std::string::npos);
    CHECK(md.find("rooftime record -o ") != std::string::npos);
    CHECK(md.rfind("rooftime compare base/ --current cand/ --format md\n```\n") != std::string::npos);

    const std::string junit = formatComparison(c, CompareFormat::Junit, {});
    CHECK(junit.find("<testsuites name=\"rooftime compare\" tests=\"7\" failures=\"2\" skipped=\"0\">")
        != std::string::npos);
    std::size_t cases = 0;
    for (std::size_t at = junit.find("<testcase"); at != std::string::npos; at = junit.find("<testcase", at + 1))
        ++cases;
    CHECK(cases == 7); // the run and six kernels
    CHECK(junit.find("<failure type=\"regression\" message=\"+100.0 % time") != std::string::npos);

    const auto j = nlohmann::json::parse(formatComparison(c, CompareFormat::Json, {}));
    CHECK(j["format"] == "rooftime-compare");
    CHECK(j["failed"] == true);
    CHECK(j["items"].size() == 6);
    CHECK(j["items"][0]["name"] == "gemm");
    CHECK(j["items"][0]["verdict"] == "regression");
    CHECK(j["items"][0]["baseline"]["run_s"].size() == 3);
    CHECK(j["items"][0]["low"].get<double>() == Approx(*row(c, "gemm").low));
    CHECK(j["run"]["verdict"] == "regression");
}

TEST_CASE("compare: names are escaped for Markdown and XML", "[compare][format]")
{
    const std::string dir = scratchDir("compare_escape");
    const std::string name = "op<float, 4>|\"x\" & 'y'";
    const auto base = runs(dir, "a", { { { name, { 1000, 1000 } } } }, { 10 });
    const auto current = runs(dir, "b", { { { name, { 2000, 2000 } } } }, { 10 });
    const Comparison c = compareRuns(base, current, CompareOptions {});
    REQUIRE(c.rows.size() == 1);
    const std::string junit = formatComparison(c, CompareFormat::Junit, {});
    CHECK(junit.find("name=\"op&lt;float, 4&gt;|&quot;x&quot; &amp; &apos;y&apos;\"") != std::string::npos);
    const std::string md = formatComparison(c, CompareFormat::Markdown, {});
    CHECK(md.find("`op<float, 4>\\|\"x\" & 'y'`") != std::string::npos);
}

namespace {

/// A run of top-level regions: (name, duration in ms, declared FLOPs or none), back to back.
Profile rangeRun(
    const std::string& path, const std::vector<std::tuple<std::string, double, std::optional<double>>>& rs, long pid)
{
    {
        ProfileBuilder b(path, "node", "./solver", "./solver", pid);
        b.addMachine("test", rooftime::test::kGpuMachineJson);
        std::int64_t t = 0, seq = 0;
        for (const auto& [name, ms, flops] : rs) {
            RegionRecord r;
            r.seq = ++seq;
            r.name = name;
            r.startNs = t;
            r.endNs = t + static_cast<std::int64_t>(std::llround(ms * 1e6));
            t = r.endNs;
            if (flops) {
                r.flops = *flops;
                r.bytes = 1e6;
            }
            b.addRegion(r);
        }
        b.finish(t + 1'000'000);
    }
    return Profile::open(path);
}

} // namespace

TEST_CASE("compare: a region that starts declaring work is the same region", "[compare]")
{
    // The report sets a region's device only when it declares work; the match must not depend on it.
    const std::string dir = scratchDir("compare_declared");
    std::vector<Profile> base, current;
    for (int i = 0; i < 3; ++i) {
        base.push_back(rangeRun(fmt::format("{}/a{}.rtdb", dir, i), { { "step", 10.0 + i, std::nullopt } }, i + 1));
        current.push_back(rangeRun(fmt::format("{}/b{}.rtdb", dir, i), { { "step", 20.0 + 2 * i, 1e9 } }, i + 11));
    }
    CompareOptions o;
    o.by = ReportBy::Range;
    const Comparison c = compareRuns(base, current, o);
    REQUIRE(c.rows.size() == 1);
    CHECK(c.rows[0].verdict == Verdict::Regression);
    CHECK(c.rows[0].work == "work only known in the current runs");
}

TEST_CASE("compare: with several runs, launches of different sizes are not noise", "[compare]")
{
    // Four launch shapes per run (1, 2, 4, 8 ms), the runs agree within 0.1 %: the launch-to-launch spread is the
    // shapes, not noise, so only the run-to-run spread counts and the doubling is a regression.
    const std::string dir = scratchDir("compare_shapes");
    const auto base = runs(dir, "a",
        { { { "gemm", { 1000, 2000, 4000, 8000 } } }, { { "gemm", { 1001, 2001, 4001, 8001 } } },
            { { "gemm", { 1002, 2002, 4002, 8002 } } } },
        { 20, 20, 20 });
    const auto current = runs(dir, "b",
        { { { "gemm", { 2000, 4000, 8000, 16000 } } }, { { "gemm", { 2002, 4002, 8002, 16002 } } },
            { { "gemm", { 2004, 4004, 8004, 16004 } } } },
        { 35, 35, 35 });
    const Comparison c = compareRuns(base, current, CompareOptions {});
    const CompareRow& r = row(c, "gemm");
    CHECK(r.base.noiseBasis == "runs");
    CHECK(r.verdict == Verdict::Regression);
    CHECK(*r.low > 0.99);
}

TEST_CASE("compare: zero times, identical times and one profile on both sides are not judged", "[compare]")
{
    const std::string dir = scratchDir("compare_degenerate");
    std::vector<Profile> base, current;
    base.push_back(rangeRun(dir + "/a.rtdb", { { "instant", 0, std::nullopt }, { "same", 5, std::nullopt } }, 1));
    base.push_back(rangeRun(dir + "/a2.rtdb", { { "instant", 0, std::nullopt }, { "same", 5, std::nullopt } }, 2));
    current.push_back(rangeRun(dir + "/b.rtdb", { { "instant", 1, std::nullopt }, { "same", 10, std::nullopt } }, 3));
    current.push_back(Profile::open(dir + "/a.rtdb"));
    CompareOptions o;
    o.by = ReportBy::Range;
    const Comparison c = compareRuns(base, current, o);
    // Present on both sides with no time in the baseline: not "new", and no ratio.
    CHECK(row(c, "instant").verdict == Verdict::NoEstimate);
    CHECK(row(c, "instant").why == "no time on a side (zero-length instances): nothing to compare");
    CHECK(c.warnings.end() != std::find(c.warnings.begin(), c.warnings.end(), "'" + dir + "/a.rtdb' is on both sides"));
    CHECK(c.headline().find("not gated (no noise estimate)") != std::string::npos);
}

TEST_CASE("compare: budget globs take * and ? only, brackets are literal", "[compare][budget]")
{
    const std::string dir = scratchDir("compare_glob");
    const std::string name = "void foo<int [4]>(float*)";
    const auto base = runs(dir, "a", { { { name, { 1000 } } } }, { 10 });
    const auto current = runs(dir, "b", { { { name, { 1500 } } } }, { 10 });
    const Budget budget = Budget::parse(R"J({"format": "rooftime-budget", "version": 1, "rules": [
        {"name": "void foo<int [4]>(float*)", "max_seconds": 1
},
        {"name": "void f?o<*[4]>*", "max_change": 0.1},
        {"name": "void foo<int [5]>*", "max_seconds": 1}]
})J",
        "b.json");
    const Comparison c = compareRuns(base, current, CompareOptions {}, &budget);
    REQUIRE(c.budget.size() == 3);
    CHECK(c.budget[0].passed);
    CHECK(c.budget[0].item == name);
    // One run, one launch: +50 % cannot be checked against max_change, and it says so.
    CHECK(c.budget[1].passed);
    CHECK(c.budget[1].message == "change not checked: time +50.0 % but no noise estimate");
    CHECK_FALSE(c.budget[2].passed);
    CHECK_THROWS_WITH(Budget::parse(R"({"format": "other", "rules": []})", "b.json"),
        "'b.json': has format \"other\", not \"rooftime-budget\"");
}

TEST_CASE("compare: JUnit stays valid XML for names that are not UTF-8", "[compare][format]")
{
    const std::string dir = scratchDir("compare_utf8");
    const std::string name = std::string("k\xff\xfe") + "ernel";
    const auto base = runs(dir, "a", { { { name, { 1000, 1100 } } } }, { 10 });
    const auto current = runs(dir, "b", { { { name, { 1000, 1100 } } } }, { 10 });
    const std::string junit = formatComparison(compareRuns(base, current, CompareOptions {}), CompareFormat::Junit, {});
    CHECK(junit.find("name=\"k\xEF\xBF\xBD\xEF\xBF\xBD"
                     "ernel\"")
        != std::string::npos);
    CHECK(junit.find('\xff') == std::string::npos);
}

TEST_CASE("compare: by call path, nested regions are items of their own", "[compare]")
{
    const std::string dir = scratchDir("compare_paths");
    // step (10 ms) > forward: 4, 4.1, 4.2 ms in the baseline, twice that in the current runs.
    auto run = [&](const std::string& path, double forwardMs, long pid) {
        {
            ProfileBuilder b(path, "node", "./train", "./train", pid);
            b.addMachine("test", rooftime::test::kGpuMachineJson);
            RegionRecord step;
            step.seq = 1;
            step.name = "step";
            step.startNs = 0;
            step.endNs = 20'000'000;
            b.addRegion(step);
            RegionRecord forward;
            forward.seq = 2;
            forward.parent = 1;
            forward.depth = 1;
            forward.name = "forward";
            forward.startNs = 1'000'000;
            forward.endNs = 1'000'000 + static_cast<std::int64_t>(forwardMs * 1e6);
            b.addRegion(forward);
            b.finish(21'000'000);
        }
        return Profile::open(path);
    };
    std::vector<Profile> base, current;
    for (int i = 0; i < 3; ++i) {
        base.push_back(run(fmt::format("{}/a{}.rtdb", dir, i), 4 + 0.1 * i, i + 1));
        current.push_back(run(fmt::format("{}/b{}.rtdb", dir, i), 8 + 0.2 * i, i + 11));
    }
    CompareOptions o;
    o.by = ReportBy::Callpath;
    const Comparison c = compareRuns(base, current, o);
    const CompareRow& forward = row(c, "step > forward");
    CHECK(forward.path == std::vector<std::string> { "step", "forward" });
    CHECK(*forward.change == Approx(1.0)); // means 4.1 ms and 8.2 ms
    CHECK(forward.verdict == Verdict::Regression);
    CHECK(forward.base.noiseBasis == "runs");
    // step kept its 20 ms: no spread on either side, so not judged, and its change is 0.
    CHECK(row(c, "step").verdict == Verdict::Unchanged);
    CHECK(formatComparison(c, CompareFormat::Text, {}).find("REGRESSION  step > forward: +100.0 % time")
        != std::string::npos);
}

TEST_CASE("compare: sides recorded in different modes, or both in counters mode by range, are said", "[compare]")
{
    // The H200 GEMMs in time mode and in counters mode (every launch replayed: ranges hundreds of times longer).
    const auto open = [](const std::string& mode) {
        std::vector<Profile> ps;
        ps.push_back(Profile::open(std::string(ROOFTIME_TEST_DATA) + "/gpu/" + mode + "/gemm.rtdb"));
        return ps;
    };
    const auto said = [](const Comparison& c, const std::string& phrase) {
        return std::count_if(c.warnings.begin(), c.warnings.end(),
            [&](const std::string& w) { return w.find(phrase) != std::string::npos; });
    };
    CompareOptions byRange;
    byRange.by = ReportBy::Range;
    const Comparison mixed = compareRuns(open("time"), open("counters"), byRange);
    CHECK(said(mixed,
              "the sides were recorded in different modes (time on the baseline, counters on the current): counters "
              "mode replays each kernel's first launches, which makes its ranges and run time far longer")
        == 1);
    CompareOptions byKernel;
    const Comparison kernels = compareRuns(open("counters"), open("time"), byKernel);
    CHECK(said(kernels, "(counters on the baseline, time on the current)") == 1);
    CHECK(said(kernels, "which makes its run time far longer") == 1);
    const Comparison both = compareRuns(open("counters"), open("counters"), byRange);
    CHECK(said(both, "both sides were recorded in counters mode: range and run times hold the replays") == 1);
    CHECK(said(compareRuns(open("counters"), open("counters"), byKernel), "counters mode") == 0);
    CHECK(said(compareRuns(open("time"), open("time"), byRange), "mode") == 0);
    // One side mixing modes: said for that side, and not taken for "both in counters mode".
    std::vector<Profile> mixedSide = open("time");
    mixedSide.push_back(Profile::open(std::string(ROOFTIME_TEST_DATA) + "/gpu/counters/gemm.rtdb"));
    const Comparison blend = compareRuns(mixedSide, open("counters"), byRange);
    CHECK(said(blend, "the baseline runs were recorded in different modes (counters and time)") == 1);
    CHECK(said(blend, "both sides were recorded in counters mode") == 0);
}

TEST_CASE("budget: max_change above the limit but inside the noise passes, and says why", "[compare]")
{
    const Budget budget = Budget::parse(R"({"rules": [{"name": "noisy", "max_change": 0.03}]})", "budget.json");
    const Comparison c = scenario(scratchDir("budget_noise"), &budget);
    REQUIRE(c.budget.size() == 1);
    CHECK(c.budget[0].passed);
    const CompareRow& noisy = row(c, "noisy");
    REQUIRE(noisy.low);
    CHECK(*noisy.low <= 0);
    CHECK(c.budget[0].message
        == "time " + percentChange(*noisy.change) + " [" + percentChange(*noisy.low) + ", " + percentChange(*noisy.high)
            + "]: above +3.0 % but not significant (the interval reaches 0)");
}
