// SPDX-License-Identifier: MIT
// `rooftime compare` on real recorded runs, as a CI job uses it: unchanged code passes, heavy work fails with
// exit 1 and says why, every format is produced, and a budget file gates by itself.
#include "report_json.h"

#include <filesystem>

using namespace rooftime::test;
namespace fs = std::filesystem;

namespace {

/// Five runs per side, interleaved so that a load spike on the machine falls on all sides alike: the baseline,
/// the same command again, and the command with a hundred times the iterations. On a CI machine busy with other
/// tests one run in five can take 20 times as long; with five runs and a 100× change the interval still clears
/// zero (with three runs, two degrees of freedom, it did not: one slow run made a 10× change "uncertain").
struct Sides {
    std::string base, same, heavy;
};

/// Each test case records its own (ctest runs the cases as parallel processes, each with its own folder).
Sides recordedSides(const std::string& name)
{
    const std::string dir = scratchDir(name);
    Sides s { dir + "/base", dir + "/same", dir + "/heavy" };
    for (const std::string& d : { s.base, s.same, s.heavy })
        fs::create_directories(d);
    for (int i = 0; i < 5; ++i) {
        for (const auto& [d, iters] : { std::pair { s.base, "2" }, { s.same, "2" }, { s.heavy, "200" } }) {
            RunResult r = record(d, { sample("triad"), "--n", "1000000", "--iters", iters }, "%p.rtdb");
            INFO(r.err);
            REQUIRE(r.status == 0);
        }
    }
    return s;
}

} // namespace

TEST_CASE("compare CLI: the same program twice passes, a hundred times the work fails with exit 1", "[compare]")
{
    const Sides s = recordedSides("compare_cli_verdict");
    // A generous threshold and confidence: the machine is shared with other tests, and this test is about the
    // verdict, not the noise (the false-alarm rate at the defaults is measured by bench/compare_gate.sh).
    RunResult same
        = run({ rooftimeBin(), "compare", s.base, "--current", s.same, "--threshold", "30%", "--confidence", "99.9" });
    INFO(same.out << same.err);
    CHECK(same.status == 0);
    CHECK_THAT(same.out, Catch::StartsWith("rooftime compare: no regression"));
    CHECK_THAT(same.out, Catch::Contains("by range, 5 baseline runs against 5 current runs, threshold 30 %, 99.9 %"));
    CHECK(same.out.find("warning") == std::string::npos);

    RunResult heavy = run({ rooftimeBin(), "compare", s.base, "--current", s.heavy, "--threshold", "30%" });
    INFO(heavy.out << heavy.err);
    CHECK(heavy.status == 1);
    CHECK_THAT(heavy.out, Catch::Contains("REGRESSION  triad: +"));
    // The reason is in the same sentence: a hundred times the work, and the instances.
    CHECK_THAT(heavy.out, Catch::Contains("instances 2 → 200 per run; FLOPs +9900.0 %, DRAM bytes +9900.0 %"));
    CHECK_THAT(heavy.out, Catch::Contains("warning: the sides ran different commands"));

    // JSON: the numbers behind it, per run.
    RunResult json = run({ rooftimeBin(), "compare", s.base, "--current", s.heavy, "--format", "json" });
    REQUIRE(json.status == 1);
    const auto j = nlohmann::json::parse(json.out);
    const nlohmann::json* triad = nullptr;
    for (const auto& item : j["items"])
        if (item["name"] == "triad") triad = &item;
    REQUIRE(triad);
    CHECK((*triad)["verdict"] == "regression");
    CHECK((*triad)["baseline"]["run_s"].size() == 5);
    CHECK((*triad)["baseline"]["flops_per_run"].get<double>() == 2.0 * 1000000 * 2);
    CHECK((*triad)["current"]["flops_per_run"].get<double>() == 2.0 * 1000000 * 200);
    CHECK((*triad)["change"].get<double>() > 20);
    CHECK((*triad)["low"].get<double>() > 0);
    CHECK_THAT(json.err, Catch::StartsWith("rooftime compare: "));
}

TEST_CASE("compare CLI: Markdown for the pull request and JUnit for the CI system", "[compare]")
{
    const Sides s = recordedSides("compare_cli_formats");
    RunResult md = run({ rooftimeBin(), "compare", s.base, "--current", s.heavy, "--format", "md" });
    INFO(md.out << md.err);
    CHECK(md.status == 1);
    CHECK_THAT(md.out, Catch::StartsWith("## rooftime compare: "));
    CHECK_THAT(md.out, Catch::Contains("- **regression** `triad`: +"));
    CHECK_THAT(md.out, Catch::Contains("### Regressions"));
    // It ends with the commands that reproduce it: both recordings and this comparison.
    CHECK_THAT(md.out, Catch::Contains("rooftime record -o " + s.base + "/%p.rtdb -- " + sample("triad")));
    CHECK_THAT(md.out, Catch::EndsWith("rooftime compare " + s.base + " --current " + s.heavy + " --format md\n```\n"));

    RunResult junit = run({ rooftimeBin(), "compare", s.base, "--current", s.heavy, "--format", "junit" });
    CHECK(junit.status == 1);
    CHECK_THAT(junit.out, Catch::StartsWith("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites"));
    CHECK_THAT(junit.out, Catch::Contains("<testcase classname=\"rooftime.marker\" name=\"triad\">"));
    CHECK_THAT(junit.out, Catch::Contains("<failure type=\"regression\""));
    CHECK_THAT(junit.out, Catch::EndsWith("</testsuites>\n"));
}

TEST_CASE("compare CLI: a budget file gates unchanged code too", "[compare]")
{
    const Sides s = recordedSides("compare_cli_budget_runs");
    const std::string dir = scratchDir("compare_cli_budget");
    writeFile(dir + "/ok.json", R"({"rules": [{"name": "triad", "max_seconds": 100, "max_change": 0.5}]})");
    writeFile(dir + "/tight.json", R"({"rules": [{"name": "triad", "max_seconds": 1e-6},
        {"name": "renamed_kernel", "max_seconds": 1}]})");
    RunResult ok = run({ rooftimeBin(), "compare", s.base, "--current", s.same, "--threshold", "30%", "--confidence",
        "99.9", "--budget", dir + "/ok.json" });
    INFO(ok.out << ok.err);
    CHECK(ok.status == 0);
    CHECK_THAT(ok.out, Catch::Contains("  ok    triad: max_seconds 100, max_change 0.5 — triad: "));

    RunResult tight = run({ rooftimeBin(), "compare", s.base, "--current", s.same, "--threshold", "30%", "--budget",
        dir + "/tight.json" });
    INFO(tight.out << tight.err);
    CHECK(tight.status == 1);
    CHECK_THAT(tight.out, Catch::Contains("2 budget rules broken"));
    // Same code on both sides: the exit status is the budget's, and the footer says so.
    const std::string headline = tight.out.substr(0, tight.out.find('\n'));
    if (headline.find("regression") == std::string::npos) // no noisy regression in this run: the budget's alone
        CHECK_THAT(tight.out, Catch::Contains("exit status 1 (a budget rule broken)"));
    CHECK_THAT(tight.out, Catch::Contains("BUDGET      triad: max_seconds 1e-06 — triad: "));
    CHECK_THAT(tight.out, Catch::Contains("renamed_kernel: max_seconds 1: matched no item of the current runs"));

    writeFile(dir + "/bad.json", R"({"rules": [{"name": "triad", "max_time": 1}]})");
    RunResult bad = run({ rooftimeBin(), "compare", s.base, "--current", s.same, "--budget", dir + "/bad.json" });
    CHECK(bad.status == 2);
    CHECK(bad.out.empty());
    CHECK_THAT(bad.err, Catch::StartsWith("rooftime compare: '" + dir + "/bad.json': rule 1: unknown key 'max_time'"));
}
