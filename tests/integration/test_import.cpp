// SPDX-License-Identifier: MIT
// `rooftime import ncu` through the CLI (exit codes, the one-line messages), then `report --by kernel` on the
// result with datasheet roofs. The numbers are the hand-computed ones of tests/data/ncu/README.md.
#include "report_json.h"

#include <filesystem>

using namespace rooftime::test;

namespace {

nlohmann::json kernelReport(const std::string& profile, const std::string& machine)
{
    RunResult rep = run({ rooftimeBin(), "report", "--by", "kernel", "--format", "json", "--machine",
        testData("machines/" + machine), profile });
    INFO(rep.err);
    REQUIRE(rep.status == 0);
    CHECK(rep.err.find("was measured on other hardware") != std::string::npos); // a datasheet is not this host
    return nlohmann::json::parse(rep.out);
}

const nlohmann::json& rowStarting(const nlohmann::json& report, const std::string& prefix)
{
    for (const auto& row : report["rows"])
        if (row["name"].get<std::string>().rfind(prefix, 0) == 0) return row;
    FAIL("no row " << prefix);
    throw 0;
}

} // namespace

TEST_CASE("import ncu, then report the kernels with roofs", "[import]")
{
    const std::string dir = scratchDir("import_cli");
    RunResult r = run({ rooftimeBin(), "import", "ncu", testData("ncu/h100-split-a.csv"),
        testData("ncu/h100-split-b.csv"), "-o", dir + "/h100.rtdb" });
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(r.out.empty());
    CHECK(r.err
        == "rooftime import: 3 launches of 2 kernels, 56 metric values (sm_90) from 2 files -> " + dir
            + "/h100.rtdb\n");
    const auto j = kernelReport(dir + "/h100.rtdb", "datasheet-h100-sxm.json");
    REQUIRE(j["rows"].size() == 2);
    CHECK(j["by"] == "kernel");
    for (const auto& row : j["rows"]) {
        CHECK(row["sources"]["flops"] == "measured");
        REQUIRE(row["roof"].is_object());
        CHECK(row["roof"]["binding"] == "HBM");
    }
    const auto& gemm = rowStarting(j, "void gemm");
    CHECK(gemm["count"] == 2);
    CHECK(gemm["time_s"].get<double>() == Approx(2.5e-3));
    CHECK(gemm["flops_by_class"]["fp64"] == 1800.0);
    CHECK(gemm["flops_by_class"]["fp32"] == 4000010000.0);
    CHECK(gemm["flops_by_class"]["fp16"] == 8000.0);
    CHECK(gemm["flops_by_class"]["fp16 tensor"] == 8e9);
    CHECK(gemm["bytes_by_level"]["HBM"].get<double>() == Approx(602e6));
    CHECK(gemm["bytes_by_level"]["L2"].get<double>() == Approx(3e9));
    CHECK(gemm["bytes_by_level"]["L1"].get<double>() == Approx(4.096e9));
    CHECK(gemm["roof"]["bound_s"].get<double>() == Approx(602e6 / 3.35e12));

    // Imported again to the same file: refused, the first import untouched.
    RunResult again = run({ rooftimeBin(), "import", "ncu", testData("ncu/h100-long.csv"), "-o", dir + "/h100.rtdb" });
    CHECK(again.status == 2);
    CHECK(again.err == "rooftime import: '" + dir + "/h100.rtdb': exists already; choose another -o\n");
    CHECK(kernelReport(dir + "/h100.rtdb", "datasheet-h100-sxm.json")["rows"].size() == 2);
}

TEST_CASE("import ncu --page raw from a V100: the paper's convolution at 44.3 TFLOP/s", "[import]")
{
    const std::string dir = scratchDir("import_raw");
    RunResult r = run({ rooftimeBin(), "import", "ncu", testData("ncu/v100-raw.csv"), "-o", dir + "/v100.rtdb" });
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(r.err
        == "rooftime import: 3 launches of 2 kernels, 23 metric values (sm_70) from 1 file -> " + dir + "/v100.rtdb\n");
    const auto j = kernelReport(dir + "/v100.rtdb", "datasheet-v100-sxm2.json");
    const auto& conv = rowStarting(j, "volta_fp16_s884cudnn");
    CHECK(conv["time_s"].get<double>() == Approx(2.678e-3));
    CHECK(conv["flops_by_class"]["fp16 tensor"] == 118600000512.0);
    CHECK(conv["flops_by_class"]["fp16"] == 16000.0);
    CHECK(conv["bytes_by_level"]["HBM"].get<double>() == Approx(300e6));
    CHECK(conv["roof"]["binding"] == "fp16 tensor");
    CHECK(conv["flops_per_s"].get<double>() / 1e12 == Approx(44.3).epsilon(0.01));
    const auto& add = rowStarting(j, "elementwise_add");
    CHECK(add["flops_by_class"]["fp16"] == 2097152.0);
    CHECK_FALSE(add["bytes_by_level"].contains("L2")); // n/a is no value
    CHECK(add["roof"]["limiter"] == "memory");
    CHECK(add["roof"]["efficiency"].get<double>() == Approx(6e6 / 900e9 / 12.5e-6));
}

TEST_CASE("import: bad command lines and inputs give exit 2 and one line", "[import]")
{
    const std::string dir = scratchDir("import_bad");
    writeFile(dir + "/bad.csv", "\"ID\",\"Kernel Name\"\n\"0\"\n");
    writeFile(dir + "/nocc.csv",
        "\"ID\",\"Kernel Name\",\"Metric Name\",\"Metric Unit\",\"Metric Value\"\n"
        "\"0\",\"k\",\"gpu__time_duration.sum\",\"nsecond\",\"5\"\n");
    struct Row {
        std::vector<std::string> args;
        std::string phrase;
    };
    const std::vector<Row> rows {
        { { "import", "ncu", dir + "/missing.csv", "-o", dir + "/a.rtdb" },
            "rooftime import: '" + dir + "/missing.csv': cannot read" },
        { { "import", "ncu", dir + "/bad.csv", "-o", dir + "/a.rtdb" },
            "rooftime import: '" + dir + "/bad.csv:2': 1 field where the header has 2" },
        { { "import", "ncu", dir + "/nocc.csv", "-o", dir + "/a.rtdb" }, "pass --arch" },
        { { "import", "nsys", dir + "/bad.csv", "-o", dir + "/a.rtdb" }, "nsys" },
        { { "import", "ncu", dir + "/bad.csv" }, "--output" },
        { { "import", "ncu", "-o", dir + "/a.rtdb" }, "files" },
        { { "import", "ncu", dir + "/nocc.csv", "-o", dir + "/a.rtdb", "--arch", "volta" }, "expected sm_XY" },
        { { "import", "ncu", dir + "/nocc.csv", "-o", dir + "/a.rtdb", "--arch", "sm_9x" }, "expected sm_XY" },
    };
    for (const Row& row : rows) {
        std::vector<std::string> argv { rooftimeBin() };
        argv.insert(argv.end(), row.args.begin(), row.args.end());
        RunResult r = run(argv);
        INFO(row.phrase << ": " << r.err);
        CHECK(r.status == 2);
        CHECK(r.err.find(row.phrase) != std::string::npos);
        CHECK_FALSE(std::filesystem::exists(dir + "/a.rtdb"));
    }
    RunResult ok = run({ rooftimeBin(), "import", "ncu", dir + "/nocc.csv", "-o", dir + "/a.rtdb", "--arch", "sm_80" });
    CHECK(ok.status == 0);
    CHECK(
        ok.err == "rooftime import: 1 launch of 1 kernel, 1 metric value (sm_80) from 1 file -> " + dir + "/a.rtdb\n");
}
