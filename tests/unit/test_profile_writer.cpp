// SPDX-License-Identifier: MIT
#include "process.h"
#include "profile_writer.h"
#include "rooftime/analyzer/profile.h"
#include "rooftime/analyzer/report.h"
#include "rooftime/schema.h"

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <filesystem>

using namespace rooftime;
using collector::Event;
using collector::EventType;
using collector::ProfileWriter;

namespace {

collector::ProcessInfo processInfo()
{
    collector::ProcessInfo p;
    p.pid = 1234;
    p.ppid = 1;
    p.host = "testhost";
    p.rank = 2;
    p.exe = "/bin/example";
    p.cmdline = "example --n 3";
    p.startNs = 1'000'000'000;
    p.wallStartNs = 5;
    return p;
}

Event region(std::uint32_t name, std::int64_t start, std::int64_t end, std::uint64_t seq, bool work = false)
{
    Event e {};
    e.type = EventType::Region;
    e.name = name;
    e.thread = 1;
    e.start = start;
    e.end = end;
    e.seq = seq;
    e.hasWork = work;
    e.flops = work ? 100 : 0;
    e.bytes = work ? 800 : 0;
    return e;
}

std::unique_ptr<ProfileWriter> makeWriter(const std::string& path)
{
    std::string error;
    auto claimed = std::filesystem::path(path);
    test::writeFile(path, "");
    auto w = ProfileWriter::create(path, processInfo(), "time", error);
    INFO(error);
    REQUIRE(w);
    return w;
}

long long countRows(const std::string& path, const char* sql)
{
    sqlite3* db = nullptr;
    sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* s = nullptr;
    long long n = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
}

} // namespace

TEST_CASE("the writer creates schema v1 that the analyzer reads back")
{
    const std::string path = test::scratchDir("writer_roundtrip") + "/p.rtdb";
    auto w = makeWriter(path);
    w->addString(1, "triad");
    w->addString(2, "init");
    w->addThread(1, 77, "main", 1'000'000'100);
    w->addEvent(region(1, 1'100'000'000, 1'200'000'000, 2, true));
    w->addEvent(region(1, 1'300'000'000, 1'400'000'000, 3, true));
    w->addEvent(region(2, 1'000'000'500, 1'000'001'500, 1));
    Event param {};
    param.type = EventType::Param;
    param.name = 2;
    param.flops = 64;
    w->addEvent(param);
    std::string error;
    REQUIRE(w->finish(2'000'000'000, "exit", true, error));
    w.reset();

    CHECK_FALSE(std::filesystem::exists(path + "-wal")); // one self-contained file after a clean end
    auto p = analyzer::Profile::open(path);
    CHECK(p.schemaMajor() == schema::kMajor);
    CHECK(p.complete());
    CHECK(p.process().pid == 1234);
    CHECK(p.process().rank == 2);
    CHECK(p.process().host == "testhost");
    CHECK(p.runSeconds() == Approx(1.0));
    auto params = p.runParams();
    REQUIRE(params.size() == 1);
    CHECK(params[0].first == "init");
    CHECK(params[0].second == 64);
    auto agg = p.aggregateRegions();
    REQUIRE(agg.size() == 2);
    const auto& triad = agg[0].name == "triad" ? agg[0] : agg[1];
    CHECK(triad.count == 2);
    CHECK(triad.timeNs == 200'000'000);
    CHECK(triad.flops == 200);
    CHECK(triad.bytes == 1600);
    CHECK(triad.declaredCount == 2);
}

TEST_CASE("rows become visible to readers at commit, and a file never finished still reads")
{
    const std::string path = test::scratchDir("writer_commit") + "/p.rtdb";
    auto w = makeWriter(path);
    w->addString(1, "r");
    for (int i = 0; i < 10; ++i)
        w->addEvent(region(1, i * 10, i * 10 + 5, static_cast<std::uint64_t>(i + 1)));
    CHECK(countRows(path, "SELECT COUNT(*) FROM region") == 0);
    std::string error;
    REQUIRE(w->commit(error));
    CHECK(countRows(path, "SELECT COUNT(*) FROM region") == 10);
    w->addEvent(region(1, 200, 300, 11));
    // The process dies here: no finish(). Committed rows read, the file says it is incomplete.
    w->abandon();
    auto p = analyzer::Profile::open(path);
    CHECK_FALSE(p.complete());
    CHECK_FALSE(p.process().endNs.has_value());
    auto agg = p.aggregateRegions();
    REQUIRE(agg.size() == 1);
    CHECK(agg[0].count == 10);
    CHECK(p.runSeconds() >= 0);
}

TEST_CASE("readers refuse a newer schema major and accept a newer minor")
{
    const std::string dir = test::scratchDir("writer_versions");
    for (const auto& [major, minor, accepted] : std::vector<std::tuple<int, int, bool>> {
             { schema::kMajor, schema::kMinor + 3, true }, { schema::kMajor + 1, 0, false } }) {
        const std::string path = dir + "/v" + std::to_string(major) + "_" + std::to_string(minor) + ".rtdb";
        auto w = makeWriter(path);
        w->setMeta("schema_major", std::to_string(major));
        w->setMeta("schema_minor", std::to_string(minor));
        std::string error;
        REQUIRE(w->finish(2'000'000'000, "exit", true, error));
        w.reset();
        if (accepted) {
            CHECK(analyzer::Profile::open(path).schemaMinor() == minor);
        } else {
            CHECK_THROWS_WITH(analyzer::Profile::open(path),
                Catch::Contains(path) && Catch::Contains("schema " + std::to_string(major) + ".0")
                    && Catch::Contains("upgrade rooftime"));
        }
    }
}

TEST_CASE("the schema in the file is the one in schema.h")
{
    const std::string path = test::scratchDir("writer_schema") + "/p.rtdb";
    auto w = makeWriter(path);
    std::string error;
    REQUIRE(w->finish(1, "exit", true, error));
    w.reset();
    for (const char* table : { "meta", "process", "thread", "string", "region", "param", "diagnostic" }) {
        INFO(table);
        CHECK(countRows(path, (std::string("SELECT COUNT(*) FROM sqlite_schema WHERE name='") + table + "'").c_str())
            == 1);
    }
    CHECK(countRows(path, "SELECT COUNT(*) FROM pragma_table_info('region')") == 12);
}
