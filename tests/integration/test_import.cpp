// SPDX-License-Identifier: MIT
// `rooftime import ncu` through the CLI, then `report --by kernel` on the result with datasheet roofs.
#include "report_json.h"

using namespace rooftime::test;

TEST_CASE("import ncu, then report the kernels with roofs", "[import]")
{
    const std::string dir = scratchDir("import_cli");
    RunResult r = run({ rooftimeBin(), "import", "ncu", testData("ncu/h100-split-a.csv"),
        testData("ncu/h100-split-b.csv"), "-o", dir + "/h100.rtdb" });
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(r.err
        == "rooftime import: 3 launches of 2 kernels, 30 metric values (sm_90) from 2 files -> " + dir
            + "/h100.rtdb\n");
    RunResult rep = run({ rooftimeBin(), "report", "--by", "kernel", "--format", "json", "--machine",
        testData("machines/datasheet-h100-sxm.json"), dir + "/h100.rtdb" });
    INFO(rep.err);
    REQUIRE(rep.status == 0);
    CHECK(rep.err.find("was measured on other hardware") != std::string::npos); // a datasheet is not this host
    const auto j = nlohmann::json::parse(rep.out);
    REQUIRE(j["rows"].size() == 2);
    CHECK(j["by"] == "kernel");
    for (const auto& row : j["rows"]) {
        CHECK(row["sources"]["flops"] == "measured");
        REQUIRE(row["roof"].is_object());
        CHECK(row["roof"]["binding"] == "HBM");
    }
    // Imported again to the same file: refused, the first import untouched.
    RunResult again = run({ rooftimeBin(), "import", "ncu", testData("ncu/h100-long.csv"), "-o", dir + "/h100.rtdb" });
    CHECK(again.status == 2);
    CHECK(again.err.find("exists already") != std::string::npos);
}

TEST_CASE("import: bad command lines and inputs give exit 2 and one line", "[import]")
{
    const std::string dir = scratchDir("import_bad");
    writeFile(dir + "/bad.csv", "\"ID\",\"Kernel Name\"\n\"0\"\n");
    struct Row {
        std::vector<std::string> args;
        std::string phrase;
    };
    const std::vector<Row> rows {
        { { "import", "ncu", dir + "/missing.csv", "-o", dir + "/a.rtdb" }, "cannot read" },
        { { "import", "ncu", dir + "/bad.csv", "-o", dir + "/a.rtdb" }, "bad.csv:2': 1 fields where the header has 2" },
        { { "import", "nsys", dir + "/bad.csv", "-o", dir + "/a.rtdb" }, "nsys" },
        { { "import", "ncu", dir + "/bad.csv" }, "--output" },
        { { "import", "ncu", dir + "/bad.csv", "-o", dir + "/a.rtdb", "--arch", "volta" }, "expected sm_XY" },
    };
    for (const Row& row : rows) {
        std::vector<std::string> argv { rooftimeBin() };
        argv.insert(argv.end(), row.args.begin(), row.args.end());
        RunResult r = run(argv);
        INFO(row.phrase << ": " << r.err);
        CHECK(r.status == 2);
        CHECK(r.err.find(row.phrase) != std::string::npos);
    }
}
