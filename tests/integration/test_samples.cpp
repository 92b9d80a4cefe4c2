// SPDX-License-Identifier: MIT
// Each CPU sample recorded through the real CLI: the report holds exactly the work and counts it declared.
#include "report_json.h"

using namespace rooftime::test;

namespace {
void recordSample(const std::string& name, const std::vector<std::string>& command)
{
    const std::string dir = scratchDir("sample_" + name);
    auto [r, files] = recordExpecting(dir, command, 0, 1);
    CHECK_THAT(r.err, Catch::Contains("wrote 1 profile") && Catch::Contains(files[0]));
    auto report = reportJson(files);
    checkExpectations(report, parseExpectations(r.out));
    CHECK(report["profiles"][0]["complete"] == true);
    CHECK(report["profiles"][0]["end_reason"] == "exit");
}
} // namespace

TEST_CASE("triad sample")
{
    recordSample("triad", { sample("triad"), "--n", "200000", "--iters", "7" });
}

TEST_CASE("dgemm sample, naive and blocked")
{
    recordSample("dgemm_naive", { sample("dgemm"), "--naive", "--n", "96", "--iters", "3" });
    recordSample("dgemm_blocked", { sample("dgemm"), "--blocked", "--n", "100", "--block", "32", "--iters", "4" });
    // The size as a bare argument, as the user guide's journey writes it (`dgemm --naive 1024`).
    recordSample("dgemm_positional", { sample("dgemm"), "--naive", "64", "--iters", "2" });
    CHECK_THAT(run({ sample("dgemm"), "--naive", "64", "--iters", "1" }).out, Catch::Contains(" n=64 "));
    const RunResult bad = run({ sample("dgemm"), "--naive", "6x4" });
    CHECK(bad.status == 2);
    CHECK_THAT(bad.err, Catch::Contains("bad value '6x4' for N"));
}

TEST_CASE("stencil sample")
{
    recordSample("stencil", { sample("stencil"), "--n", "40", "--iters", "6" });
}

TEST_CASE("tiny regions: nesting and 8 threads")
{
    const std::string dir = scratchDir("sample_tiny");
    auto [r, files] = recordExpecting(
        dir, { sample("tiny_regions"), "--regions", "20000", "--threads", "8", "--depth", "3" }, 0, 1);
    checkExpectations(reportJson(files), parseExpectations(r.out));
    // Eight recording threads, each with its own nested regions.
    RunResult threads = run({ "/usr/bin/sqlite3", files[0],
        "SELECT COUNT(DISTINCT thread) FROM region;"
        "SELECT COUNT(*) FROM region c JOIN region p ON p.thread = c.thread AND p.seq = c.parent"
        " WHERE p.depth + 1 = c.depth AND p.start_ns <= c.start_ns AND c.end_ns <= p.end_ns;" });
    REQUIRE(threads.status == 0); // the sqlite3 shell is a test dependency (tools/install-deps.sh)
    CHECK(threads.out == "8\n320000\n"); // 8 threads; 2 of 3 levels have a parent: 2 * 8 * 20000
}
