// SPDX-License-Identifier: MIT
// `rooftime record` embeds the machine model in each profile; `report` uses it unless --machine overrides it.
#include "report_json.h"

#include "rooftime/analyzer/machine.h"

#include <sqlite3.h>

#include <filesystem>

using namespace rooftime::test;
namespace fs = std::filesystem;
namespace analyzer = rooftime::analyzer;

namespace {

const std::vector<std::string> kTriad { "--n", "20000", "--iters", "3" };

std::vector<std::string> triad()
{
    std::vector<std::string> cmd { sample("triad") };
    cmd.insert(cmd.end(), kTriad.begin(), kTriad.end());
    return cmd;
}

std::string cachedModel()
{
    return analyzer::machineCachePath(analyzer::currentHardware());
}

RunResult recordWith(
    const std::string& dir, const std::vector<std::string>& options, const std::map<std::string, std::string>& env = {})
{
    std::vector<std::string> argv { rooftimeBin(), "record", "-o", dir + "/p.rtdb" };
    argv.insert(argv.end(), options.begin(), options.end());
    argv.push_back("--");
    const auto cmd = triad();
    argv.insert(argv.end(), cmd.begin(), cmd.end());
    return run(argv, env);
}

void sqlExec(const std::string& path, const std::string& statement)
{
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    const int rc = sqlite3_exec(db, statement.c_str(), nullptr, nullptr, nullptr);
    sqlite3_close(db);
    REQUIRE(rc == SQLITE_OK);
}

} // namespace

TEST_CASE("record embeds the cached machine model and report uses it", "[machine]")
{
    const std::string dir = scratchDir("machine_embedded");
    RunResult r = recordWith(dir, {});
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(r.err.find("measuring") == std::string::npos); // the fixture's model is cached
    // Which model the profiles carry is said before the program runs.
    CHECK(r.err.find("rooftime: machine model: ") != std::string::npos);
    CHECK(r.err.find("quick model of ") != std::string::npos);
    CHECK(r.err.find("(" + cachedModel() + ")") != std::string::npos);
    const auto j = reportJson({ dir + "/p.rtdb" });
    REQUIRE(j["machine"].is_object());
    CHECK(j["machine"]["source"] == "embedded in " + dir + "/p.rtdb");
    const auto cached = analyzer::readMachineFile(cachedModel());
    CHECK(j["machine"]["created"] == cached.created);
    CHECK(j["machine"]["key"] == analyzer::currentHardware().key());
    bool fp64 = false;
    for (const auto& roof : j["machine"]["roofs"])
        fp64 |= roof["device"] == "cpu" && roof["precision"] == "fp64" && roof["value"].get<double>() > 0;
    CHECK(fp64);

    RunResult text = run({ rooftimeBin(), "report", dir + "/p.rtdb" });
    CHECK(text.out.find("machine: ") != std::string::npos);
    CHECK(text.out.find("fp64 ") != std::string::npos);
    CHECK(text.out.find("(embedded in ") != std::string::npos);

    // The profile holds the model itself: deleting the cache changes nothing for it.
    const std::string copy = dir + "/cache-copy.json";
    fs::copy_file(cachedModel(), copy);
    RunResult again = run({ rooftimeBin(), "report", "--format", "json", dir + "/p.rtdb" },
        { { "ROOFTIME_CACHE_DIR", dir + "/no-cache" } });
    REQUIRE(again.status == 0);
    CHECK(nlohmann::json::parse(again.out)["machine"]["created"] == cached.created);
}

TEST_CASE("without a cached model record measures one in quick mode, once", "[machine]")
{
    const std::string dir = scratchDir("machine_first_use");
    const std::map<std::string, std::string> env { { "ROOFTIME_CACHE_DIR", dir + "/cache" } };
    RunResult first = recordWith(dir + "/a", {}, env);
    INFO(first.err);
    REQUIRE(first.status == 0);
    CHECK(first.err.find("no machine model for this host yet: measuring one in quick mode") != std::string::npos);
    CHECK(first.err.find("machine model saved to " + dir + "/cache/machines/") != std::string::npos);
    REQUIRE(filesIn(dir + "/cache/machines", ".json").size() == 1);
    CHECK(reportJson({ dir + "/a/p.rtdb" })["machine"]["mode"] == "quick");

    RunResult second = recordWith(dir + "/b", {}, env);
    REQUIRE(second.status == 0);
    CHECK(second.err.find("measuring") == std::string::npos);
    CHECK(reportJson({ dir + "/b/p.rtdb" })["machine"]["created"]
        == reportJson({ dir + "/a/p.rtdb" })["machine"]["created"]);
}

TEST_CASE("record --machine embeds the given file, other hardware only warns", "[machine]")
{
    const std::string dir = scratchDir("machine_option");
    auto model = nlohmann::json::parse(readFile(cachedModel()));
    model["host"]["name"] = "elsewhere";
    model["cpu"]["model"] = "Some Other CPU";
    writeFile(dir + "/other.json", model.dump());

    RunResult r = recordWith(dir + "/rec", { "--machine", dir + "/other.json" });
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(r.err.find("warning: machine file '" + dir + "/other.json' was measured on other hardware")
        != std::string::npos);
    CHECK(r.err.find("host 'elsewhere'") != std::string::npos);
    CHECK(r.err.find("CPU 'Some Other CPU'") != std::string::npos);
    const auto j = reportJson({ dir + "/rec/p.rtdb" });
    CHECK(j["machine"]["host"] == "elsewhere");

    // report --machine replaces the embedded model.
    RunResult o = run({ rooftimeBin(), "report", "--format", "json", "--machine", cachedModel(), dir + "/rec/p.rtdb" });
    INFO(o.err);
    REQUIRE(o.status == 0);
    const auto oj = nlohmann::json::parse(o.out);
    CHECK(oj["machine"]["source"] == "--machine " + cachedModel());
    CHECK(oj["machine"]["host"] == analyzer::currentHardware().host);
    // This host's file on a profile recorded here: no warning (the embedded model came from elsewhere and does
    // not describe the recording host, so its host and GPUs are what count).
    CHECK(oj["machine_warnings"].empty());

    // The other file applied to a profile recorded here: warned against the recording hardware, also by report.
    const std::string plain = dir + "/plain";
    REQUIRE(recordWith(plain, {}).status == 0);
    RunResult w
        = run({ rooftimeBin(), "report", "--format", "json", "--machine", dir + "/other.json", plain + "/p.rtdb" });
    INFO(w.err);
    REQUIRE(w.status == 0);
    const auto wj = nlohmann::json::parse(w.out);
    REQUIRE(wj["machine_warnings"].size() == 1);
    const std::string warning = wj["machine_warnings"][0];
    CHECK_THAT(warning, Catch::Contains("was measured on other hardware than '" + plain + "/p.rtdb' was recorded on"));
    CHECK_THAT(warning, Catch::Contains("host 'elsewhere' (recorded on '" + analyzer::currentHardware().host + "')"));
    CHECK_THAT(warning, Catch::Contains("CPU 'Some Other CPU' (recorded on '"));
    // The text report shows it under the machine line, indented as the profile's own lines are.
    RunResult text = run({ rooftimeBin(), "report", "--machine", dir + "/other.json", plain + "/p.rtdb" });
    CHECK_THAT(text.out, Catch::Contains("\n  warning: machine file '" + dir + "/other.json'"));
}

TEST_CASE("bad --machine files stop record and report before anything runs", "[machine]")
{
    const std::string dir = scratchDir("machine_bad_option");
    writeFile(dir + "/bad.json", "{\"format\": \"rooftime-machine\", \"version\": \"7.0\", \"ceilings\": []}");
    for (const std::string& file : { dir + "/missing.json", dir + "/bad.json" }) {
        RunResult r = recordWith(dir + "/rec", { "--machine", file });
        INFO(r.err);
        CHECK(r.status == 2);
        CHECK(r.err.find("rooftime record: '" + file + "'") != std::string::npos);
        CHECK(r.out.find("# expect") == std::string::npos); // the program never ran
        CHECK_FALSE(fs::exists(dir + "/rec/p.rtdb"));

        RunResult rep = run({ rooftimeBin(), "report", "--machine", file, testData("profiles/golden-v1.0.rtdb") });
        CHECK(rep.status == 2);
        CHECK(rep.err.find("rooftime report: '" + file + "'") != std::string::npos);
    }
}

TEST_CASE("record --no-machine embeds none and report says how to give one", "[machine]")
{
    const std::string dir = scratchDir("machine_none");
    RunResult r = recordWith(dir, { "--no-machine" });
    REQUIRE(r.status == 0);
    CHECK(reportJson({ dir + "/p.rtdb" })["machine"].is_null());
    RunResult text = run({ rooftimeBin(), "report", dir + "/p.rtdb" });
    CHECK(text.out.find("machine: none embedded (recorded with --no-machine") != std::string::npos);
    CHECK(text.out.find("--machine FILE") != std::string::npos);
    CHECK(text.out.find("see the notes above") == std::string::npos); // there are none
}

TEST_CASE("a schema 1.0 profile (no machine table) still reads", "[machine]")
{
    const std::string golden = testData("profiles/golden-v1.0.rtdb");
    const auto j = reportJson({ golden });
    CHECK(j["machine"].is_null());
    const auto* row = findRow(j, "triad");
    REQUIRE(row);
    CHECK((*row)["count"] == 3);
    CHECK((*row)["flops"].get<double>() == 600000);
    // With a machine file the old profile gets ceilings too.
    RunResult r = run({ rooftimeBin(), "report", "--format", "json", "--machine", cachedModel(), golden });
    REQUIRE(r.status == 0);
    CHECK(nlohmann::json::parse(r.out)["machine"].is_object());
}

TEST_CASE("a damaged embedded model is an error that --machine works around", "[machine]")
{
    const std::string dir = scratchDir("machine_damaged");
    REQUIRE(recordWith(dir, {}).status == 0);
    sqlExec(dir + "/p.rtdb", "UPDATE machine SET json = '{\"format\": \"rooftime-machine\", \"version\": \"1.0\"'");
    RunResult r = run({ rooftimeBin(), "report", dir + "/p.rtdb" });
    CHECK(r.status == 2);
    CHECK(r.err.find("'" + dir + "/p.rtdb': its embedded machine model cannot be used") != std::string::npos);
    CHECK(r.err.find("pass --machine FILE") != std::string::npos);
    CHECK(run({ rooftimeBin(), "report", "--machine", cachedModel(), dir + "/p.rtdb" }).status == 0);
}

TEST_CASE("the collector keeps recording when the machine file cannot be read", "[machine]")
{
    const std::string dir = scratchDir("machine_unreadable");
    const auto cmd = triad();
    RunResult r = run(cmd,
        { { "LD_PRELOAD", collectorLib() }, { "ROOFTIME_OUTPUT", dir + "/p.rtdb" },
            { "ROOFTIME_MACHINE", dir + "/gone.json" } });
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(r.err.find("rooftime: cannot read machine file '" + dir + "/gone.json'") != std::string::npos);
    const auto j = reportJson({ dir + "/p.rtdb" });
    CHECK(j["machine"].is_null());
    bool noted = false;
    for (const auto& d : j["profiles"][0]["diagnostics"])
        noted |= d.get<std::string>().find("cannot read machine file '" + dir + "/gone.json'") != std::string::npos;
    CHECK(noted);
    REQUIRE(findRow(j, "triad"));
    // The text report points at the note, which says why.
    RunResult text = run({ rooftimeBin(), "report", dir + "/p.rtdb" });
    const std::size_t note = text.out.find("note: collector: cannot read machine file");
    const std::size_t line = text.out.find("machine: none embedded (see the notes above)");
    CHECK(note != std::string::npos);
    CHECK(line != std::string::npos);
    CHECK(note < line);
}

TEST_CASE("a schema 1.1 profile (no call-stack tables) still reads, by range and by call path", "[machine]")
{
    // Recorded by rooftime 0.1.0 at schema 1.1: tests/clients/paths_client nested, a machine file embedded.
    const std::string golden = testData("profiles/golden-v1.1.rtdb");
    const auto j = reportJson({ golden });
    CHECK(j["machine"].is_object());
    REQUIRE(findRow(j, "inner"));
    CHECK((*findRow(j, "inner"))["count"] == 60);
    RunResult r = run({ rooftimeBin(), "report", "--by", "callpath", "--format", "json", golden });
    INFO(r.err);
    REQUIRE(r.status == 0);
    const auto paths = nlohmann::json::parse(r.out);
    const auto* inner = findRow(paths, "outer > middle > inner");
    REQUIRE(inner);
    CHECK((*inner)["count"] == 60);
    CHECK((*inner)["flops"].get<double>() == 60);
}
