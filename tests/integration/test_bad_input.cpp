// SPDX-License-Identifier: MIT
// Bad inputs to `rooftime report` and `rooftime compare`, and bad command lines: one line naming the file and the
// problem, exit 2, no crash. This set also runs in the ASan/UBSan build (label asan).
#include "report_json.h"

#include <sqlite3.h>

#include <filesystem>
#include <functional>
#include <random>

using namespace rooftime::test;
namespace fs = std::filesystem;

namespace {

void sql(const std::string& path, const char* statement)
{
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, statement, nullptr, nullptr, &err);
    INFO((err ? err : ""));
    sqlite3_free(err);
    sqlite3_close(db);
    REQUIRE(rc == SQLITE_OK);
}

// A real profile to damage, recorded once per test run.
std::string realProfile(const std::string& dir)
{
    RunResult r = record(dir, { sample("triad"), "--n", "50000", "--iters", "40" }, "real.rtdb");
    INFO(r.err);
    REQUIRE(r.status == 0);
    return dir + "/real.rtdb";
}

void expectRejected(const std::string& path, const std::string& phrase)
{
    RunResult r = run({ rooftimeBin(), "report", path });
    INFO("file " << path << "\nstderr: " << r.err);
    CHECK(r.status == 2);
    CHECK_FALSE(r.signaled);
    CHECK(r.out.empty());
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK_THAT(r.err, Catch::Contains(path) && Catch::Contains(phrase));
}

/// `rooftime compare` reads profiles the same way: a bad current run is rejected alike.
void expectCompareRejected(const std::string& good, const std::string& path, const std::string& phrase)
{
    RunResult r = run({ rooftimeBin(), "compare", good, "--current", path });
    INFO("compare against " << path << "\nstderr: " << r.err);
    CHECK(r.status == 2);
    CHECK_FALSE(r.signaled);
    CHECK(r.out.empty());
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK_THAT(r.err, Catch::StartsWith("rooftime compare: ") && Catch::Contains(path) && Catch::Contains(phrase));
}

/// `rooftime symbolize` writes into profiles: a bad one is rejected with the same reason and left as it was.
void expectSymbolizeRejected(const std::string& path, const std::string& phrase)
{
    const bool exists = fs::is_regular_file(path);
    const std::string before = exists ? readFile(path) : "";
    RunResult r = run({ rooftimeBin(), "symbolize", path });
    INFO("symbolize " << path << "\nstderr: " << r.err);
    CHECK(r.status == 2);
    CHECK_FALSE(r.signaled);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK_THAT(r.err, Catch::StartsWith("rooftime symbolize: ") && Catch::Contains(path) && Catch::Contains(phrase));
    if (exists) CHECK(readFile(path) == before);
}

} // namespace

TEST_CASE("bad profile files are rejected with a one-line reason")
{
    const std::string dir = scratchDir("bad_input");
    const std::string real = realProfile(dir);
    const std::string content = readFile(real);
    REQUIRE(content.size() > 8192);
    auto damagedCopy = [&](const char* statement) {
        return [&real, statement](const std::string& path) {
            fs::copy_file(real, path);
            sql(path, statement);
        };
    };
    auto withContent = [](std::string bytes) {
        return [bytes = std::move(bytes)](const std::string& path) { writeFile(path, bytes); };
    };
    std::mt19937 rng(42);
    std::string random(8192, '\0');
    for (char& c : random)
        c = static_cast<char>(rng());

    struct Row {
        std::string name;
        std::function<void(const std::string&)> make; ///< creates the bad input at the path; null: leave it absent
        std::string phrase;
    };
    const std::vector<Row> rows = {
        { "empty.rtdb", withContent(""), "is empty" },
        { "text.rtdb", withContent("this is not a profile\n"), "not a rooftime profile" },
        { "random.rtdb", withContent(random), "not a rooftime profile" },
        { "header_only.rtdb", withContent(content.substr(0, 60)), "truncated" },
        { "truncated.rtdb", withContent(content.substr(0, content.size() / 2)), "truncated" },
        { "other.rtdb",
            [](const std::string& path) {
                sql(path, "CREATE TABLE customers(id INTEGER, name TEXT); INSERT INTO customers VALUES(1, 'x');");
            },
            "not a rooftime profile (it has no 'meta' table)" },
        { "foreign_meta.rtdb",
            [](const std::string& path) {
                sql(path, "CREATE TABLE meta(key TEXT, value TEXT); INSERT INTO meta VALUES('format', 'other-tool');");
            },
            "meta 'format' is 'other-tool'" },
        { "newer.rtdb",
            damagedCopy("UPDATE meta SET value = CASE key WHEN 'schema_major' THEN '2' ELSE '0' END "
                        "WHERE key IN ('schema_major', 'schema_minor')"),
            "schema 2.0; this rooftime reads schema 1.x: upgrade rooftime" },
        { "bad_version.rtdb", damagedCopy("UPDATE meta SET value = 'one' WHERE key = 'schema_major'"),
            "invalid schema_major 'one'" },
        { "no_region_table.rtdb", damagedCopy("DROP TABLE region"), "cannot be read: no such table: region" },
        { "ends_before_start.rtdb", damagedCopy("UPDATE process SET end_ns = start_ns - 1000"),
            "is damaged: the process ends (" },
        { "missing.rtdb", nullptr, "no such file" },
        { "empty_folder", [](const std::string& path) { fs::create_directories(path); }, "folder without profiles" },
    };
    for (const Row& row : rows) {
        const std::string path = dir + "/" + row.name;
        if (row.make) row.make(path);
        expectRejected(path, row.phrase);
        expectCompareRejected(real, path, row.phrase);
        // A profile without a region table still has no frames to name; a folder is no file to write.
        if (row.name != "no_region_table.rtdb" && row.name != "empty_folder") expectSymbolizeRejected(path, row.phrase);
    }

    // The undamaged original still reads: the checks above are about the damage, not the file.
    CHECK(run({ rooftimeBin(), "report", real }).status == 0);
}

TEST_CASE("a negative or infinite counter value is damage: refused, not analysed into negative FLOPs")
{
    const std::string dir = scratchDir("bad_counters");
    const std::string gemm = testData("gpu/counters/gemm.rtdb");
    for (const char* value : { "-1e30", "9e999" }) {
        const std::string path = dir + "/gemm" + (value[0] == '-' ? "-negative" : "-infinite") + ".rtdb";
        fs::copy_file(gemm, path);
        sql(path, (std::string("UPDATE kernel_metric SET value = ") + value + " WHERE rowid % 3 = 0").c_str());
        INFO(value);
        expectRejected(path, "is damaged: kernel launch ");
        expectRejected(path, "(a counter is a finite count, never negative)");
        expectCompareRejected(gemm, path, "is damaged: kernel launch ");
    }
    CHECK(run({ rooftimeBin(), "report", gemm }).status == 0);
}

TEST_CASE("bad command lines exit 2 with a message saying what to do")
{
    struct Row {
        std::vector<std::string> args;
        std::string phrase;
    };
    const std::vector<Row> rows = {
        { {}, "A subcommand is required" },
        { { "frobnicate" }, "frobnicate" },
        { { "report" }, "profiles is required" },
        { { "report", "x.rtdb", "--format", "xml" }, "unknown --format 'xml'" },
        { { "report", "x.rtdb", "--sort", "nope" }, "unknown --sort 'nope'" },
        { { "report", "x.rtdb", "--sort", "start" }, "--sort start goes with --by window" },
        { { "report", testData("profiles/golden-v1.0.rtdb"), "--launch-config" },
            "--launch-config goes with --by kernel" },
        { { "report", "x.rtdb", "--by", "nope" }, "unknown --by 'nope'" },
        { { "report", "x.rtdb", "--by", "window" }, "'x.rtdb'" },
        { { "report", "x.rtdb", "--window", "soon" }, "--window 'soon': expected a duration" },
        { { "report", "x.rtdb", "--window", "-5ms" }, "expected a duration" },
        { { "report", "x.rtdb", "--by", "kernel", "--window", "1s" }, "go with --by window" },
        { { "report", "x.rtdb", "--window", "1s", "--window-range", "step" }, "exclude each other" },
        { { "report", "x.rtdb", "--latency-threshold", "2" }, "--latency-threshold" },
        { { "report", testData("profiles/golden-v1.0.rtdb"), "--window-range", "nosuch" },
            "--window-range 'nosuch': no region or NVTX range of that name" },
        { { "report", "x.rtdb", "--compute", "max" }, "--compute" },
        { { "report", "x.rtdb", "--top", "-1" },
            "--top: expected a whole number of rows, 0 or more (0: all), not '-1'" },
        { { "report", "x.rtdb", "--top", "abc" }, "not 'abc'" },
        { { "report", "x.rtdb", "--width", "5" }, "--width" },
        { { "help", "nosuch" }, "no command 'nosuch'" },
        { { "record", "--output" }, "--output" },
        { { "record", "-o", "/proc/rooftime-test/p.rtdb", "--", "true" },
            "-o '/proc/rooftime-test/p.rtdb': cannot create the folder '/proc/rooftime-test'" },
        { { "record", "-o", "/proc/rooftime-test/%p/p.rtdb", "--", "true" }, "cannot create the folder" },
        { { "record", "-o", "out/", "--", "true" }, "-o 'out/': names a folder: end it with a file name" },
        { { "compare", "x.rtdb" }, "--current is required" },
        { { "compare", "--current", "x.rtdb" }, "baseline is required" },
        { { "compare", "x.rtdb", "--current", "y.rtdb", "--threshold", "five" }, "--threshold 'five': expected" },
        { { "compare", "x.rtdb", "--current", "y.rtdb", "--threshold", "0" }, "--threshold '0'" },
        { { "compare", "x.rtdb", "--current", "y.rtdb", "--threshold", "0.05" },
            "--threshold '0.05': a bare number is a percentage here; write 5% for 5 percent" },
        { { "compare", "x.rtdb", "--current", "y.rtdb", "--min-share", "200%" }, "--min-share '200%'" },
        { { "compare", "x.rtdb", "--current", "y.rtdb", "--confidence", "50" }, "--confidence '50'" },
        { { "compare", "x.rtdb", "--current", "y.rtdb", "--by", "window" }, "--by" },
        { { "compare", "x.rtdb", "--current", "y.rtdb", "--format", "xml" }, "--format" },
        { { "compare", "x.rtdb", "--current", "y.rtdb", "--budget", "/nonexistent.json" },
            "'/nonexistent.json': cannot be read" },
        { { "compare", "x.rtdb", "--current", "y.rtdb" }, "'x.rtdb': no such file" },
        // A gate that would check nothing (kernels of CPU-only runs) must not pass.
        { { "compare", testData("profiles/golden-v1.0.rtdb"), "--current", testData("profiles/golden-v1.0.rtdb"),
              "--by", "kernel" },
            "nothing to compare --by kernel: neither side's profiles have any kernels (1 baseline and 1 current" },
    };
    for (const Row& row : rows) {
        std::vector<std::string> argv { rooftimeBin() };
        argv.insert(argv.end(), row.args.begin(), row.args.end());
        RunResult r = run(argv);
        INFO("args: " << nlohmann::json(row.args).dump() << "\nstderr: " << r.err);
        CHECK(r.status == 2);
        CHECK_FALSE(r.signaled);
        CHECK_THAT(r.err, Catch::Contains(row.phrase));
    }
    // A collector path the loader cannot preload would run the command unrecorded, with exit status 0.
    RunResult missing = run({ rooftimeBin(), "record", "--no-machine", "--", "true" },
        { { "ROOFTIME_COLLECTOR", "/nonexistent/librooftime_collector.so" } });
    CHECK(missing.status == 2);
    CHECK_THAT(missing.err,
        Catch::Contains("ROOFTIME_COLLECTOR '/nonexistent/librooftime_collector.so' is not a readable file"));
    RunResult version = run({ rooftimeBin(), "--version" });
    CHECK(version.status == 0);
    CHECK_THAT(version.out, Catch::StartsWith("rooftime "));
    RunResult help = run({ rooftimeBin(), "help", "report" });
    CHECK(help.status == 0);
    CHECK_THAT(help.out, Catch::Contains("--format"));
}
