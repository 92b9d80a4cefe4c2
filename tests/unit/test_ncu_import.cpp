// SPDX-License-Identifier: MIT
// Nsight Compute CSV import: both layouts, a run split over files, unit normalisation, architectures, and a
// table of malformed inputs. Expected values are computed by hand in tests/data/ncu/README.md.
#include "rooftime/analyzer/ncu_import.h"
#include "rooftime/analyzer/profile_builder.h"
#include "rooftime/analyzer/report.h"

#include "process.h"

#include <catch2/catch.hpp>

#include <filesystem>

using namespace rooftime::analyzer;
using rooftime::test::scratchDir;
using rooftime::test::testData;
using rooftime::test::writeFile;
namespace fs = std::filesystem;

namespace {

const ReportRow& row(const Report& r, const std::string& prefix)
{
    for (const auto& x : r.rows)
        if (x.name.rfind(prefix, 0) == 0) return x;
    FAIL("no row " << prefix);
    throw 0;
}

Report kernelReport(const std::string& profile, const std::string& machine)
{
    std::vector<Profile> profiles;
    profiles.push_back(Profile::open(profile));
    MachineModel m = readMachineFile(testData("machines/" + machine));
    ReportOptions options;
    options.by = ReportBy::Kernel;
    return buildReport(profiles, &m, options);
}

} // namespace

TEST_CASE("ncu long form: launches, normalised counters, architecture, text values left out", "[ncu]")
{
    const std::string out = scratchDir("ncu_long") + "/h100.rtdb";
    const NcuImportSummary s = importNcu({ testData("ncu/h100-long.csv") }, out);
    CHECK(s.launches == 3);
    CHECK(s.kernels == 2);
    CHECK(s.metrics == 30);
    CHECK(s.arch == "sm_90");
    std::vector<Profile> profiles;
    profiles.push_back(Profile::open(out));
    const Profile& p = profiles[0];
    CHECK(p.complete());
    CHECK(p.meta().at("import") == "ncu");
    CHECK(p.process().exe == "python3");
    CHECK(p.process().host == "gpu-node");
    REQUIRE(p.devices().size() == 1);
    CHECK(p.devices()[0].arch == "sm_90");
    bool textNoted = false;
    for (const auto& d : p.diagnostics())
        textNoted |= d.find("launch__func_cache_config = CachePreferNone") != std::string::npos;
    CHECK(textNoted);

    const auto kernels = p.aggregateKernels(true);
    REQUIRE(kernels.size() == 2);
    for (const auto& k : kernels) {
        if (k.name == "copy_kernel") {
            CHECK(k.durationNs == 800000);
            CHECK(k.config == "grid(1024,1,1) block(512,1,1)");
            continue;
        }
        CHECK(k.count == 2);
        CHECK(k.replayed == 2);
        CHECK(k.durationNs == 2500000);
        CHECK(k.counters.at("dram__bytes_read.sum") == Approx(600e6));
        CHECK(k.counters.at("dram__bytes_write.sum") == Approx(2e6));
        CHECK(k.counters.at("lts__t_bytes.sum") == Approx(3e9));
        CHECK(k.counters.at("smsp__sass_thread_inst_executed_op_ffma_pred_on.sum") == 2e9);
        CHECK(k.counters.at("sm__warps_active.avg.pct_of_peak_sustained_active") == Approx(125.0)); // kept raw
        CHECK(k.counters.count("launch__func_cache_config") == 0);
    }

    const Report r = kernelReport(out, "datasheet-h100-sxm.json");
    const ReportRow& gemm = row(r, "void gemm");
    CHECK(gemm.workSource == Source::Measured);
    CHECK(gemm.flopsByClass.at({ "fp32", false }) == 4000004000.0);
    CHECK(gemm.flopsByClass.at({ "fp16", false }) == 4000);
    CHECK(gemm.flopsByClass.at({ "fp16", true }) == 8e9);
    CHECK(gemm.bytesByLevel.at("HBM") == Approx(602e6));
    CHECK(gemm.bytesByLevel.at("L2") == Approx(3e9));
    CHECK(gemm.bytesByLevel.at("L1") == Approx(4.096e9));
    REQUIRE(gemm.roof);
    // fp32 4e9/67e12 + tensor 8e9/989.5e12 = 59.7 + 8.1 us of compute; HBM 602e6/3.35e12 = 180 us binds.
    CHECK(gemm.roof->bindingTerm == "HBM");
    CHECK(gemm.roof->boundSeconds == Approx(602e6 / 3.35e12));
    CHECK(gemm.roof->missingRoofs == std::vector<std::string> { "L1", "L2" }); // no cache roofs in a datasheet
}

TEST_CASE("ncu: a run split over files joins to the same launches", "[ncu]")
{
    const std::string dir = scratchDir("ncu_split");
    importNcu({ testData("ncu/h100-long.csv") }, dir + "/one.rtdb");
    const NcuImportSummary s
        = importNcu({ testData("ncu/h100-split-a.csv"), testData("ncu/h100-split-b.csv") }, dir + "/two.rtdb");
    CHECK(s.files == 2);
    CHECK(s.launches == 3);
    CHECK(s.metrics == 30);
    const auto one = Profile::open(dir + "/one.rtdb").aggregateKernels(true);
    const auto two = Profile::open(dir + "/two.rtdb").aggregateKernels(true);
    REQUIRE(one.size() == two.size());
    for (std::size_t i = 0; i < one.size(); ++i) {
        CHECK(one[i].name == two[i].name);
        CHECK(one[i].durationNs == two[i].durationNs);
        CHECK(one[i].counters == two[i].counters);
    }
}

TEST_CASE("ncu --page raw on Volta: tensor instructions ×512 and the paper's convolution", "[ncu]")
{
    const std::string out = scratchDir("ncu_raw") + "/v100.rtdb";
    const NcuImportSummary s = importNcu({ testData("ncu/v100-raw.csv") }, out);
    CHECK(s.arch == "sm_70");
    CHECK(s.launches == 3);
    CHECK(s.metrics == 20); // one n/a
    const Report r = kernelReport(out, "datasheet-v100-sxm2.json");
    const ReportRow& conv = row(r, "volta_fp16_s884cudnn");
    CHECK(conv.timeSeconds == Approx(2.678e-3));
    CHECK(conv.flopsByClass.at({ "fp16", true }) == 118600000512.0);
    CHECK(conv.flopsByClass.at({ "fp16", false }) == 16000);
    CHECK(conv.bytesByLevel.at("HBM") == Approx(300e6));
    REQUIRE(conv.roof);
    CHECK(conv.roof->bindingTerm == "fp16 tensor");
    CHECK(*conv.flopsPerSecond / 1e12 == Approx(44.3).epsilon(0.01)); // the paper's 44.3 TFLOP/s for TF1
    const ReportRow& add = row(r, "elementwise_add");
    CHECK(add.flopsByClass.at({ "fp16", false }) == 2097152);
    CHECK(add.bytesByLevel.count("L2") == 0); // n/a is no value
    // 6 MB at 900 GB/s = 6.7 us, above the 4.2 us launch floor, in 12.5 us: memory-bound at 53 %.
    CHECK(add.roof->limiter == LimiterKind::Memory);
    CHECK(*add.roof->efficiency == Approx(6e6 / 900e9 / 12.5e-6));
}

TEST_CASE("ncu: units are normalised, other units kept", "[ncu]")
{
    auto v = [](const char* value, const char* unit) { return *normaliseNcuValue(value, unit); };
    CHECK(v("1,500", "Kbyte") == std::make_pair(1.5e6, std::string("byte")));
    CHECK(v("2.5", "Gbyte") == std::make_pair(2.5e9, std::string("byte")));
    CHECK(v("3", "Tbyte").first == 3e12);
    CHECK(v("1,250.5", "usecond") == std::make_pair(1250500.0, std::string("nsecond")));
    CHECK(v("1.2", "msecond").first == Approx(1.2e6));
    CHECK(v("1.98", "cycle/nsecond") == std::make_pair(1.98e9, std::string("cycle/second")));
    CHECK(v("1,410", "cycle/usecond").first == Approx(1.41e9));
    CHECK(v("900", "Gbyte/second") == std::make_pair(900e9, std::string("byte/second")));
    CHECK(v("7", "warp") == std::make_pair(7.0, std::string("warp")));
    CHECK(v("63.2", "%") == std::make_pair(63.2, std::string("%")));
    CHECK_FALSE(normaliseNcuValue("n/a", "byte"));
    CHECK_FALSE(normaliseNcuValue("", "inst"));
    CHECK_THROWS_AS(normaliseNcuValue("fast", "byte"), std::invalid_argument);
}

TEST_CASE("ncu: malformed input is an error naming the file and line", "[ncu]")
{
    const std::string dir = scratchDir("ncu_bad");
    const std::string header = "\"ID\",\"Kernel Name\",\"CC\",\"Metric Name\",\"Metric Unit\",\"Metric Value\"\n";
    const std::string good = "\"0\",\"k\",\"9.0\",\"gpu__time_duration.sum\",\"usecond\",\"5\"\n";
    struct Row {
        std::string name, text, phrase;
    };
    const std::vector<Row> rows {
        { "empty", "", "no ncu CSV header" },
        { "no header", "==PROF== nothing was profiled\n", "no ncu CSV header" },
        { "no kernel name", "\"ID\",\"Metric Name\"\n\"0\",\"x\"\n", "bad.csv:1': no \"Kernel Name\" column" },
        { "short row", header + good + "\"1\",\"k\",\"9.0\"\n", "bad.csv:3': 3 fields where the header has 6" },
        { "open quote", header + good + "\"1,k\n", "a quoted field is never closed" },
        { "text after quote", header + good + "\"1,\"k\n", "bad.csv:3': text after a closing quote" },
        { "bad id", header + "\"x\",\"k\",\"9.0\",\"gpu__time_duration.sum\",\"usecond\",\"5\"\n",
            "bad.csv:2': ID 'x'" },
        { "text counter", header + good + "\"0\",\"k\",\"9.0\",\"dram__bytes_read.sum\",\"Mbyte\",\"lots\"\n",
            "bad.csv:3': dram__bytes_read.sum = 'lots' is not a number" },
        { "two names", header + good + "\"0\",\"other\",\"9.0\",\"dram__bytes_read.sum\",\"Mbyte\",\"1\"\n",
            "launch ID 0 is kernel 'other' here but 'k'" },
        { "conflict", header + good + "\"0\",\"k\",\"9.0\",\"gpu__time_duration.sum\",\"usecond\",\"6\"\n",
            "gpu__time_duration.sum of launch k is 6000 here and 5000 before" },
        { "no time", header + "\"0\",\"k\",\"9.0\",\"dram__bytes_read.sum\",\"Mbyte\",\"1\"\n",
            "kernel ID 0 has no gpu__time_duration.sum" },
        { "bad cc",
            "\"ID\",\"Kernel Name\",\"CC\",\"Metric Name\",\"Metric Unit\",\"Metric Value\"\n"
            "\"0\",\"k\",\"new\",\"gpu__time_duration.sum\",\"usecond\",\"5\"\n",
            "CC 'new' is no compute capability" },
        { "bad grid",
            "\"ID\",\"Kernel Name\",\"CC\",\"Grid Size\",\"Metric Name\",\"Metric Unit\",\"Metric Value\"\n"
            "\"0\",\"k\",\"9.0\",\"big\",\"gpu__time_duration.sum\",\"usecond\",\"5\"\n",
            "Grid Size 'big' is not (x, y, z)" },
        { "raw without units", "\"ID\",\"Kernel Name\",\"CC\",\"gpu__time_duration.sum\"\n", "needs a units row" },
    };
    for (const Row& r : rows) {
        INFO(r.name);
        writeFile(dir + "/bad.csv", r.text);
        fs::remove(dir + "/out.rtdb");
        CHECK_THROWS_WITH(importNcu({ dir + "/bad.csv" }, dir + "/out.rtdb"), Catch::Contains(r.phrase));
        CHECK_FALSE(fs::exists(dir + "/out.rtdb")); // nothing half-written
    }
    // No CC column: --arch is needed, and then it works.
    writeFile(dir + "/nocc.csv",
        "\"ID\",\"Kernel Name\",\"Metric Name\",\"Metric Unit\",\"Metric Value\"\n"
        "\"0\",\"k\",\"gpu__time_duration.sum\",\"usecond\",\"5\"\n");
    CHECK_THROWS_WITH(importNcu({ dir + "/nocc.csv" }, dir + "/out.rtdb"), Catch::Contains("pass --arch"));
    CHECK(importNcu({ dir + "/nocc.csv" }, dir + "/out.rtdb", { "sm_80" }).arch == "sm_80");
    // The output is never overwritten.
    CHECK_THROWS_WITH(
        importNcu({ dir + "/nocc.csv" }, dir + "/out.rtdb", { "sm_80" }), Catch::Contains("exists already"));
    CHECK_THROWS_WITH(importNcu({ dir + "/missing.csv" }, dir + "/x.rtdb"), Catch::Contains("cannot read"));
}
