// SPDX-License-Identifier: MIT
// Bad inputs to `rooftime report` and bad command lines: one line naming the file and the problem, exit 2,
// no crash. This set also runs in the ASan/UBSan build (label asan).
#include "report_json.h"

#include <sqlite3.h>

#include <filesystem>
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

} // namespace

TEST_CASE("bad profile files are rejected with a one-line reason")
{
    const std::string dir = scratchDir("bad_input");
    const std::string real = realProfile(dir);

    const std::string empty = dir + "/empty.rtdb";
    writeFile(empty, "");
    expectRejected(empty, "is empty");

    const std::string text = dir + "/text.rtdb";
    writeFile(text, "this is not a profile\n");
    expectRejected(text, "not a rooftime profile");

    const std::string random = dir + "/random.rtdb";
    std::mt19937 rng(42);
    std::string bytes(8192, '\0');
    for (char& c : bytes)
        c = static_cast<char>(rng());
    writeFile(random, bytes);
    expectRejected(random, "not a rooftime profile");

    const std::string header = dir + "/header_only.rtdb";
    writeFile(header, readFile(real).substr(0, 60));
    expectRejected(header, "truncated");

    const std::string truncated = dir + "/truncated.rtdb";
    const std::string content = readFile(real);
    REQUIRE(content.size() > 8192);
    writeFile(truncated, content.substr(0, content.size() / 2));
    expectRejected(truncated, "truncated");

    const std::string other = dir + "/other.rtdb";
    sql(other, "CREATE TABLE customers(id INTEGER, name TEXT); INSERT INTO customers VALUES(1, 'x');");
    expectRejected(other, "not a rooftime profile (it has no 'meta' table)");

    const std::string foreignMeta = dir + "/foreign_meta.rtdb";
    sql(foreignMeta, "CREATE TABLE meta(key TEXT, value TEXT); INSERT INTO meta VALUES('format', 'other-tool');");
    expectRejected(foreignMeta, "meta 'format' is 'other-tool'");

    const std::string newer = dir + "/newer.rtdb";
    fs::copy_file(real, newer);
    sql(newer, "UPDATE meta SET value = '2' WHERE key = 'schema_major'");
    expectRejected(newer, "schema 2.0; this rooftime reads schema 1.x: upgrade rooftime");

    const std::string badVersion = dir + "/bad_version.rtdb";
    fs::copy_file(real, badVersion);
    sql(badVersion, "UPDATE meta SET value = 'one' WHERE key = 'schema_major'");
    expectRejected(badVersion, "invalid schema_major 'one'");

    const std::string noRegion = dir + "/no_region_table.rtdb";
    fs::copy_file(real, noRegion);
    sql(noRegion, "DROP TABLE region");
    expectRejected(noRegion, "cannot be read: no such table: region");

    expectRejected(dir + "/missing.rtdb", "no such file");
    const std::string emptyDir = dir + "/empty_folder";
    fs::create_directories(emptyDir);
    expectRejected(emptyDir, "folder without profiles");

    // The undamaged original still reads: the checks above are about the damage, not the file.
    CHECK(run({ rooftimeBin(), "report", real }).status == 0);
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
        { { "report", "x.rtdb", "--top", "-1" }, "--top" },
        { { "report", "x.rtdb", "--width", "5" }, "--width" },
        { { "help", "nosuch" }, "no command 'nosuch'" },
        { { "record", "--output" }, "--output" },
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
    RunResult version = run({ rooftimeBin(), "--version" });
    CHECK(version.status == 0);
    CHECK_THAT(version.out, Catch::StartsWith("rooftime "));
    RunResult help = run({ rooftimeBin(), "help", "report" });
    CHECK(help.status == 0);
    CHECK_THAT(help.out, Catch::Contains("--format"));
}
