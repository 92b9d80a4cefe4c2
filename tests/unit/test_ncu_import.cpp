// SPDX-License-Identifier: MIT
// Nsight Compute CSV import: both layouts, a run split over files, unit normalisation, architectures, and a
// table of malformed inputs. The profile is read back with SQL, as a user would; Profile::open checks that it
// validates. Expected values are computed by hand in tests/data/ncu/README.md.
#include "rooftime/analyzer/ncu_import.h"
#include "rooftime/analyzer/profile.h"
#include "rooftime/analyzer/profile_builder.h"

#include "process.h"

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <filesystem>

using namespace rooftime::analyzer;
using rooftime::test::scratchDir;
using rooftime::test::testData;
using rooftime::test::writeFile;
namespace fs = std::filesystem;

namespace {

using Rows = std::vector<std::vector<std::string>>;

/// Every row of @p sql on @p path as text ("NULL" for NULL, numbers as SQLite prints them).
Rows query(const std::string& path, const std::string& sql)
{
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    INFO(sql);
    REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK);
    Rows rows;
    while (sqlite3_step(s) == SQLITE_ROW) {
        std::vector<std::string> row;
        for (int c = 0; c < sqlite3_column_count(s); ++c) {
            const auto* text = sqlite3_column_text(s, c);
            row.emplace_back(text ? reinterpret_cast<const char*>(text) : "NULL");
        }
        rows.push_back(std::move(row));
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    return rows;
}

std::string one(const std::string& path, const std::string& sql)
{
    const Rows r = query(path, sql);
    REQUIRE(r.size() == 1);
    REQUIRE(r[0].size() == 1);
    return r[0][0];
}

/// value and unit of one metric of one launch.
std::pair<double, std::string> metric(const std::string& path, int kernel, const std::string& name)
{
    const Rows r = query(path,
        "SELECT m.value, m.unit FROM kernel_metric m JOIN string s ON s.id = m.metric WHERE m.kernel = "
            + std::to_string(kernel) + " AND s.text = '" + name + "'");
    INFO(name << " of launch " << kernel);
    REQUIRE(r.size() == 1);
    return { std::stod(r[0][0]), r[0][1] };
}

std::size_t metricRows(const std::string& path, int kernel, const std::string& name)
{
    return query(path,
        "SELECT 1 FROM kernel_metric m JOIN string s ON s.id = m.metric WHERE m.kernel = " + std::to_string(kernel)
            + " AND s.text = '" + name + "'")
        .size();
}

const char* kKernelRows
    = "SELECT k.id, n.text, k.device, k.context, k.stream, k.grid_x, k.grid_y, k.grid_z, k.block_x, "
      "k.block_y, k.block_z, k.start_ns, k.end_ns, k.duration_ns, k.replayed FROM kernel k "
      "JOIN string n ON n.id = k.name ORDER BY k.id";
const char* kMetricRows = "SELECT m.kernel, s.text, m.value, m.unit FROM kernel_metric m JOIN string s ON s.id = "
                          "m.metric ORDER BY m.kernel, s.text";

const std::string kGemm = "void gemm<float>(float const*, float*, int)";
const std::string kFlop = "smsp__sass_thread_inst_executed_op_";

} // namespace

TEST_CASE("ncu long form: launches, normalised counters, architecture, text and unknown units", "[ncu]")
{
    const std::string out = scratchDir("ncu_long") + "/h100.rtdb";
    const NcuImportSummary s = importNcu({ testData("ncu/h100-long.csv") }, out);
    CHECK(s.launches == 3);
    CHECK(s.kernels == 2);
    CHECK(s.metrics == 56);
    CHECK(s.files == 1);
    CHECK(s.arch == "sm_90");

    const Profile p = Profile::open(out); // the profile validates
    CHECK(p.complete());
    CHECK(query(out, "SELECT id, name, arch, sms FROM device") == Rows { { "0", "CUDA device 0", "sm_90", "NULL" } });
    CHECK(query(out, "SELECT pid, host, exe, end_ns FROM process")
        == Rows { { "4242", "gpu-node", "python3", "3300000" } });
    CHECK(one(out, "SELECT value FROM meta WHERE key = 'mode'") == "counters");
    CHECK(one(out, "SELECT value FROM meta WHERE key = 'import'") == "ncu");
    CHECK(
        one(out, "SELECT value FROM meta WHERE key = 'import_files'") == "[\"" + testData("ncu/h100-long.csv") + "\"]");

    const Rows kernels = query(out, kKernelRows);
    CHECK(kernels
        == Rows {
            { "0", kGemm, "0", "1", "7", "128", "1", "1", "256", "1", "1", "NULL", "NULL", "1250500", "1" },
            { "1", kGemm, "0", "1", "7", "128", "1", "1", "256", "1", "1", "NULL", "NULL", "1249500", "1" },
            { "2", "copy_kernel", "0", "1", "7", "1024", "1", "1", "512", "1", "1", "NULL", "NULL", "800000", "1" },
        });

    using M = std::pair<double, std::string>;
    CHECK(metric(out, 0, "gpu__time_duration.sum") == M { 1250500, "nsecond" }); // usecond
    CHECK(metric(out, 1, "gpu__time_duration.sum") == M { 1249500, "nsecond" }); // msecond
    CHECK(metric(out, 0, kFlop + "ffma_pred_on.sum") == M { 1e9, "inst" }); // "1,000,000,000"
    CHECK(metric(out, 0, kFlop + "dfma_pred_on.sum") == M { 300, "inst" });
    CHECK(metric(out, 1, kFlop + "hmul_pred_on.sum") == M { 600, "inst" });
    CHECK(metric(out, 0, "sm__ops_path_tensor_op_hgmma_src_fp16.sum") == M { 4e9, "" });
    CHECK(metric(out, 0, "dram__bytes_read.sum") == M { 300.5e6, "byte" }); // Mbyte, SI
    CHECK(metric(out, 0, "dram__bytes_write.sum") == M { 1.5e6, "byte" }); // "1,500" Kbyte
    CHECK(metric(out, 1, "lts__t_bytes.sum") == M { 1.75e9, "byte" });
    CHECK(metric(out, 2, "l1tex__t_bytes.sum") == M { 2e9, "byte" });
    CHECK(metric(out, 0, "sm__cycles_elapsed.avg.per_second") == M { 1.98e9, "cycle/second" });
    CHECK(metric(out, 2, "sm__cycles_elapsed.avg.per_second") == M { 1.98e9, "cycle/second" }); // cycle/usecond
    CHECK(metric(out, 1, "sm__warps_active.avg.pct_of_peak_sustained_active") == M { 61.8, "%" });
    CHECK(metric(out, 0, "launch__registers_per_thread") == M { 128, "register/thread" }); // unknown: kept raw
    CHECK(metricRows(out, 2, "lts__t_sector_hit_rate.pct") == 0); // n/a
    CHECK(metricRows(out, 0, "launch__func_cache_config") == 0); // text
    CHECK(query(out, "SELECT component, message FROM diagnostic")
        == Rows { { "import",
            "3 values that are text, not numbers, left out (e.g. launch__func_cache_config = CachePreferNone)" } });
}

TEST_CASE("ncu: a run split over files joins by launch ID to the same rows", "[ncu]")
{
    const std::string dir = scratchDir("ncu_split");
    importNcu({ testData("ncu/h100-long.csv") }, dir + "/one.rtdb");
    const NcuImportSummary s
        = importNcu({ testData("ncu/h100-split-a.csv"), testData("ncu/h100-split-b.csv") }, dir + "/two.rtdb");
    CHECK(s.files == 2);
    CHECK(s.launches == 3);
    CHECK(s.kernels == 2);
    CHECK(s.metrics == 56);
    for (const char* sql : { kKernelRows, kMetricRows, "SELECT * FROM device",
             "SELECT pid, host, exe, end_ns FROM process", "SELECT * FROM diagnostic" })
        CHECK(query(dir + "/one.rtdb", sql) == query(dir + "/two.rtdb", sql));
    CHECK(query(dir + "/two.rtdb", kMetricRows).size() == 56);
    // The other order of files gives the same too.
    importNcu({ testData("ncu/h100-split-b.csv"), testData("ncu/h100-split-a.csv") }, dir + "/three.rtdb");
    CHECK(query(dir + "/one.rtdb", kMetricRows) == query(dir + "/three.rtdb", kMetricRows));
}

TEST_CASE("ncu --page raw on Volta: units row, device attributes, n/a", "[ncu]")
{
    const std::string out = scratchDir("ncu_raw") + "/v100.rtdb";
    const NcuImportSummary s = importNcu({ testData("ncu/v100-raw.csv") }, out);
    CHECK(s.arch == "sm_70");
    CHECK(s.launches == 3);
    CHECK(s.kernels == 2);
    CHECK(s.metrics == 23);
    CHECK(Profile::open(out).complete());
    CHECK(query(out, "SELECT id, name, arch, sms FROM device")
        == Rows { { "0", "Tesla V100-SXM2-16GB", "sm_70", "80" } });
    CHECK(query(out, "SELECT id, grid_x, grid_y, block_x, duration_ns FROM kernel ORDER BY id")
        == Rows { { "0", "64", "8", "256", "1340000" }, { "1", "64", "8", "256", "1338000" },
            { "2", "4096", "1", "128", "12500" } });
    using M = std::pair<double, std::string>;
    CHECK(metric(out, 0, "sm__inst_executed_pipe_tensor.sum") == M { 115820313, "inst" });
    CHECK(metric(out, 1, kFlop + "hfma_pred_on.sum") == M { 1000, "inst" });
    CHECK(metric(out, 2, kFlop + "hadd_pred_on.sum") == M { 1048576, "inst" });
    CHECK(metric(out, 0, "dram__bytes_read.sum") == M { 120e6, "byte" });
    CHECK(metric(out, 0, "lts__t_bytes.sum") == M { 0.5e9, "byte" });
    CHECK(metricRows(out, 2, "lts__t_bytes.sum") == 0); // n/a
    CHECK(metricRows(out, 0, "device__attribute_display_name") == 0); // the device's name instead
    CHECK(query(out, "SELECT * FROM diagnostic").empty());
    CHECK(one(out, "SELECT end_ns FROM process") == "2690500");
}

TEST_CASE("ncu: --arch names the architecture when there is no CC, and overrides CC with a note", "[ncu]")
{
    const std::string dir = scratchDir("ncu_arch");
    NcuImportOptions sm80;
    sm80.arch = "sm_80";
    CHECK(importNcu({ testData("ncu/h100-long.csv") }, dir + "/over.rtdb", sm80).arch == "sm_80");
    CHECK(one(dir + "/over.rtdb", "SELECT arch FROM device") == "sm_80");
    CHECK(query(dir + "/over.rtdb", "SELECT message FROM diagnostic WHERE message LIKE '%overrides%'")
        == Rows { { "device 0: --arch sm_80 overrides the CSV's CC 9.0" } });

    writeFile(dir + "/nocc.csv",
        "\"ID\",\"Kernel Name\",\"Metric Name\",\"Metric Unit\",\"Metric Value\"\n"
        "\"0\",\"k\",\"gpu__time_duration.sum\",\"nsecond\",\"5\"\n");
    CHECK_THROWS_WITH(importNcu({ dir + "/nocc.csv" }, dir + "/no.rtdb"),
        Catch::Contains("nocc.csv': no CC column") && Catch::Contains("pass --arch"));
    CHECK_FALSE(fs::exists(dir + "/no.rtdb"));
    CHECK(importNcu({ dir + "/nocc.csv" }, dir + "/nocc.rtdb", sm80).arch == "sm_80");
    CHECK(query(dir + "/nocc.rtdb", "SELECT id, name, arch FROM device") == Rows { { "0", "CUDA device 0", "sm_80" } });

    // No CC column, but the compute capability collected as metrics (--page raw).
    writeFile(dir + "/attr.csv",
        "\"ID\",\"Kernel Name\",\"device__attribute_compute_capability_major\","
        "\"device__attribute_compute_capability_minor\",\"gpu__time_duration.sum\"\n"
        "\"\",\"\",\"\",\"\",\"nsecond\"\n"
        "\"0\",\"k\",\"8\",\"6\",\"5\"\n");
    CHECK(importNcu({ dir + "/attr.csv" }, dir + "/attr.rtdb").arch == "sm_86");

    // Two devices: each its own architecture.
    writeFile(dir + "/two.csv",
        "\"ID\",\"Kernel Name\",\"Device\",\"CC\",\"Metric Name\",\"Metric Unit\",\"Metric Value\"\n"
        "\"0\",\"k\",\"0\",\"9.0\",\"gpu__time_duration.sum\",\"nsecond\",\"5\"\n"
        "\"1\",\"k\",\"1\",\"8.0\",\"gpu__time_duration.sum\",\"nsecond\",\"7\"\n");
    CHECK(importNcu({ dir + "/two.csv" }, dir + "/two.rtdb").arch == "sm_80,sm_90");
    CHECK(query(dir + "/two.rtdb", "SELECT id, arch FROM device ORDER BY id")
        == Rows { { "0", "sm_90" }, { "1", "sm_80" } });
}

TEST_CASE("ncu: CSV details - CRLF, quoted line breaks, byte order mark, ncu messages, rule rows", "[ncu]")
{
    const std::string dir = scratchDir("ncu_csv");
    writeFile(dir + "/crlf.csv",
        "\xEF\xBB\xBFsome program output\r\n"
        "==PROF== Connected to process 1\r\n"
        "\"ID\",\"Kernel Name\",\"CC\",\"Grid Size\",\"Metric Name\",\"Metric Unit\",\"Metric Value\",\"Rule Name\"\r\n"
        "\"0\",\"k<\"\"a,b\"\">\nline two\",\"10.0\",\"(2,3,4)\",\"gpu__time_duration.sum\",\"us\",\"1,234.5\",\"\"\r\n"
        "==WARNING== a replay pass was skipped\r\n"
        "\r\n"
        "\"0\",\"k<\"\"a,b\"\">\nline two\",\"10.0\",\"(2,3,4)\",\"\",\"\",\"\",\"SOLBottleneck\"\r\n"
        "\"0\",\"k<\"\"a,b\"\">\nline two\",\"10.0\",\"(2,3,4)\",\"dram__bytes_read.sum\",\"KB\",\"3\",\"\"\r\n");
    const NcuImportSummary s = importNcu({ dir + "/crlf.csv" }, dir + "/crlf.rtdb");
    CHECK(s.arch == "sm_100");
    CHECK(s.metrics == 2);
    CHECK(query(dir + "/crlf.rtdb",
              "SELECT n.text, k.grid_x, k.grid_y, k.grid_z, k.duration_ns FROM kernel k JOIN "
              "string n ON n.id = k.name")
        == Rows { { "k<\"a,b\">\nline two", "2", "3", "4", "1234500" } });
    CHECK(metric(dir + "/crlf.rtdb", 0, "dram__bytes_read.sum") == std::pair<double, std::string> { 3000, "byte" });
    CHECK(query(dir + "/crlf.rtdb", "SELECT message FROM diagnostic")
        == Rows { { "ncu printed 1 warning or error line in the CSV (e.g. ==WARNING== a replay pass was skipped)" } });
}

TEST_CASE("ncu: units are normalised with SI prefixes, other units kept", "[ncu]")
{
    struct Row {
        const char* value;
        const char* unit;
        double expected;
        const char* base;
    };
    const Row rows[] = {
        { "1,500", "Kbyte", 1.5e6, "byte" },
        { "2.5", "Mbyte", 2.5e6, "byte" },
        { "2.5", "Gbyte", 2.5e9, "byte" },
        { "3", "Tbyte", 3e12, "byte" },
        { "7", "byte", 7, "byte" },
        { "2", "KB", 2e3, "byte" },
        { "2", "MB", 2e6, "byte" },
        { "2", "GB", 2e9, "byte" },
        { "1,250.5", "usecond", 1250500, "nsecond" },
        { "1.2", "msecond", 1.2e6, "nsecond" },
        { "2", "second", 2e9, "nsecond" },
        { "40", "nsecond", 40, "nsecond" },
        { "211.94", "us", 211940, "nsecond" },
        { "3", "ms", 3e6, "nsecond" },
        { "1.98", "cycle/nsecond", 1.98e9, "cycle/second" },
        { "1,410", "cycle/usecond", 1.41e9, "cycle/second" },
        { "5", "cycle/msecond", 5e3, "cycle/second" },
        { "9", "cycle/second", 9, "cycle/second" },
        { "1,215,000,000", "hz", 1.215e9, "cycle/second" },
        { "900", "Gbyte/second", 900e9, "byte/second" },
        { "3.35", "Tbyte/second", 3.35e12, "byte/second" },
        { "12", "Kbyte/second", 12e3, "byte/second" },
        { "1", "byte/second", 1, "byte/second" },
        { "1,000,000", "inst", 1e6, "inst" },
        { "12,345", "cycle", 12345, "cycle" },
        { "63.2", "%", 63.2, "%" },
        { "4,000", "", 4000, "" },
        { "7", "warp", 7, "warp" },
        { "128", "register/thread", 128, "register/thread" },
        { "-1.5", "", -1.5, "" },
        { "1e3", "Kbyte", 1e6, "byte" },
    };
    for (const Row& r : rows) {
        INFO(r.value << " " << r.unit);
        const auto v = normaliseNcuValue(r.value, r.unit);
        REQUIRE(v);
        CHECK(v->first == Approx(r.expected).epsilon(1e-12));
        CHECK(v->second == r.base);
    }
    CHECK_FALSE(normaliseNcuValue("n/a", "byte"));
    CHECK_FALSE(normaliseNcuValue("N/A", "%"));
    CHECK_FALSE(normaliseNcuValue("", "inst"));
    for (const char* bad : { "fast", "1.2.3", "inf", "nan", "12abc", "0x", "--1" }) {
        INFO(bad);
        CHECK_THROWS_AS(normaliseNcuValue(bad, "byte"), std::invalid_argument);
    }
    CHECK_THROWS_AS(normaliseNcuValue("1e300", "Tbyte"), std::invalid_argument); // infinite once scaled
    CHECK(isNcuNumericUnit("Mbyte"));
    CHECK(isNcuNumericUnit("inst"));
    CHECK(isNcuNumericUnit("%"));
    CHECK_FALSE(isNcuNumericUnit(""));
    CHECK_FALSE(isNcuNumericUnit("register/thread"));
}

TEST_CASE("ncu: malformed input is one error naming the file and line", "[ncu]")
{
    const std::string dir = scratchDir("ncu_bad");
    const std::string header = "\"ID\",\"Kernel Name\",\"CC\",\"Metric Name\",\"Metric Unit\",\"Metric Value\"\n";
    const std::string good = "\"0\",\"k\",\"9.0\",\"gpu__time_duration.sum\",\"usecond\",\"5\"\n";
    const std::string rawHeader = "\"ID\",\"Kernel Name\",\"CC\",\"gpu__time_duration.sum\"\n";
    struct Row {
        std::string name, text, phrase;
    };
    const std::vector<Row> rows {
        { "empty", "", "bad.csv': empty file" },
        { "no header", "==PROF== nothing was profiled\nResult = PASS\n", "bad.csv': no ncu CSV table" },
        { "no kernel name", "\"ID\",\"Metric Name\",\"Metric Unit\",\"Metric Value\"\n\"0\",\"x\",\"\",\"1\"\n",
            "bad.csv:1': no \"Kernel Name\" column" },
        { "no metric unit", "\"ID\",\"Kernel Name\",\"Metric Name\",\"Metric Value\"\n",
            "bad.csv:1': no \"Metric Unit\" column" },
        { "header after preamble", "==PROF== x\n==PROF== y\n\"ID\",\"Kernel Name\",\"Metric Name\"\n",
            "bad.csv:3': no \"Metric Unit\" column" },
        { "short row", header + good + "\"1\",\"k\",\"9.0\"\n", "bad.csv:3': 3 fields where the header has 6" },
        { "long row", header + good + "\"1\",\"k\",\"9.0\",\"a\",\"b\",\"c\",\"d\"\n",
            "bad.csv:3': 7 fields where the header has 6" },
        { "program output", header + good + "Result = PASS\n", "bad.csv:3': 1 field where the header has 6" },
        { "open quote", header + good + "\"1,k\n\n", "bad.csv:3': a quoted field is never closed" },
        { "text after quote", header + good + "\"1,\"k\n", "bad.csv:3': text after a closing quote" },
        { "quote inside", header + good + "1x\"\n", "bad.csv:3': a quote inside an unquoted field" },
        { "bad id", header + "\"x\",\"k\",\"9.0\",\"gpu__time_duration.sum\",\"usecond\",\"5\"\n",
            "bad.csv:2': ID 'x' is not a whole number" },
        { "no name", header + "\"0\",\"\",\"9.0\",\"gpu__time_duration.sum\",\"usecond\",\"5\"\n",
            "bad.csv:2': launch ID 0 has no kernel name" },
        { "text counter", header + good + "\"0\",\"k\",\"9.0\",\"dram__bytes_read.sum\",\"Mbyte\",\"lots\"\n",
            "bad.csv:3': dram__bytes_read.sum = 'lots' is not a number (unit Mbyte)" },
        { "text time", header + "\"0\",\"k\",\"9.0\",\"gpu__time_duration.sum\",\"usecond\",\"1.2.3\"\n",
            "bad.csv:2': gpu__time_duration.sum = '1.2.3' is not a number" },
        { "two names", header + good + "\"0\",\"other\",\"9.0\",\"dram__bytes_read.sum\",\"Mbyte\",\"1\"\n",
            "bad.csv:3': launch ID 0 is kernel 'other' on device 0 here but 'k' on device 0 in '" },
        { "line break in a name", header + good + "\"0\",\"k\nx\",\"9.0\",\"dram__bytes_read.sum\",\"Mbyte\",\"1\"\n",
            "bad.csv:3': launch ID 0 is kernel 'k\\nx' on device 0" },
        { "conflict", header + good + "\"0\",\"k\",\"9.0\",\"gpu__time_duration.sum\",\"usecond\",\"6\"\n",
            "bad.csv:3': gpu__time_duration.sum of launch ID 0 (k) is 6000 nsecond here but 5000 nsecond in '" },
        { "no time", header + "\"0\",\"k\",\"9.0\",\"dram__bytes_read.sum\",\"Mbyte\",\"1\"\n",
            "bad.csv:2': kernel ID 0 (k) has no gpu__time_duration.sum: collect it" },
        { "time not a time", header + "\"0\",\"k\",\"9.0\",\"gpu__time_duration.sum\",\"cycle\",\"5\"\n",
            "bad.csv:2': gpu__time_duration.sum of kernel ID 0 is in 'cycle', not a time unit" },
        { "no launches", header, "bad.csv': no kernel launches" },
        { "negative time", header + "\"0\",\"k\",\"9.0\",\"gpu__time_duration.sum\",\"usecond\",\"-5\"\n",
            "bad.csv:2': gpu__time_duration.sum = -5 is negative; a counter's sum never is" },
        { "negative counter", header + good + "\"0\",\"k\",\"9.0\",\"dram__bytes_read.sum\",\"Gbyte\",\"-5\"\n",
            "bad.csv:3': dram__bytes_read.sum = -5 is negative; a counter's sum never is" },
        { "endless time", header + "\"0\",\"k\",\"9.0\",\"gpu__time_duration.sum\",\"second\",\"1e12\"\n",
            "bad.csv:2': gpu__time_duration.sum of kernel ID 0 is 1e+21 ns" },
        { "bad cc", header + "\"0\",\"k\",\"new\",\"gpu__time_duration.sum\",\"usecond\",\"5\"\n",
            "bad.csv:2': CC 'new' is no compute capability" },
        { "two ccs", header + good + "\"1\",\"k\",\"8.0\",\"gpu__time_duration.sum\",\"usecond\",\"5\"\n",
            "bad.csv:3': device 0 is CC 8.0 here but CC 9.0 in '" },
        { "bad grid",
            "\"ID\",\"Kernel Name\",\"CC\",\"Grid Size\",\"Metric Name\",\"Metric Unit\",\"Metric Value\"\n"
            "\"0\",\"k\",\"9.0\",\"(1, 2)\",\"gpu__time_duration.sum\",\"usecond\",\"5\"\n",
            "bad.csv:2': Grid Size '(1, 2)' is not (x, y, z)" },
        { "bad device",
            "\"ID\",\"Kernel Name\",\"CC\",\"Device\",\"Metric Name\",\"Metric Unit\",\"Metric Value\"\n"
            "\"0\",\"k\",\"9.0\",\"gpu0\",\"gpu__time_duration.sum\",\"usecond\",\"5\"\n",
            "bad.csv:2': Device 'gpu0' is not a whole number" },
        { "raw without units", rawHeader, "bad.csv:1': a --page raw table needs the units row" },
        { "raw units row missing", rawHeader + "\"0\",\"k\",\"9.0\",\"5\"\n",
            "bad.csv:2': expected the units row of --page raw output" },
        { "raw short row", rawHeader + "\"\",\"\",\"\",\"usecond\"\n\"0\",\"k\"\n",
            "bad.csv:3': 2 fields where the header has 4" },
        { "raw text counter", rawHeader + "\"\",\"\",\"\",\"usecond\"\n\"0\",\"k\",\"9.0\",\"soon\"\n",
            "bad.csv:3': gpu__time_duration.sum = 'soon' is not a number" },
    };
    for (const Row& r : rows) {
        INFO(r.name);
        writeFile(dir + "/bad.csv", r.text);
        std::string what = "(no error)";
        try {
            importNcu({ dir + "/bad.csv" }, dir + "/out.rtdb");
        } catch (const ImportError& e) {
            what = e.what();
        }
        CHECK_THAT(what, Catch::Contains(r.phrase));
        CHECK(what.find('\n') == std::string::npos); // one line, whatever the input holds
        CHECK_FALSE(fs::exists(dir + "/out.rtdb")); // nothing half-written
    }

    // Two files of different runs: both places named.
    writeFile(dir + "/a.csv", header + good);
    writeFile(dir + "/b.csv", header + "\"0\",\"other\",\"9.0\",\"dram__bytes_read.sum\",\"Mbyte\",\"1\"\n");
    CHECK_THROWS_WITH(importNcu({ dir + "/a.csv", dir + "/b.csv" }, dir + "/out.rtdb"),
        Catch::Contains("b.csv:2': launch ID 0 is kernel 'other'") && Catch::Contains("a.csv:2' (files of different"));
    writeFile(dir + "/c.csv", header + "\"0\",\"k\",\"9.0\",\"gpu__time_duration.sum\",\"msecond\",\"1\"\n");
    CHECK_THROWS_WITH(importNcu({ dir + "/a.csv", dir + "/c.csv" }, dir + "/out.rtdb"),
        Catch::Contains("c.csv:2': gpu__time_duration.sum of launch ID 0 (k) is 1000000 nsecond here but 5000 "
                        "nsecond in '")
            && Catch::Contains("a.csv:2'"));
    // The same value in another scale is the same value.
    writeFile(dir + "/d.csv", header + "\"0\",\"k\",\"9.0\",\"gpu__time_duration.sum\",\"nsecond\",\"5,000\"\n");
    CHECK(importNcu({ dir + "/a.csv", dir + "/d.csv" }, dir + "/same.rtdb").metrics == 1);
    CHECK_FALSE(fs::exists(dir + "/out.rtdb"));

    // Files that cannot be read, and an output that exists.
    CHECK_THROWS_WITH(importNcu({ dir + "/missing.csv" }, dir + "/out.rtdb"),
        Catch::Contains("missing.csv': cannot read: No such file"));
    CHECK_THROWS_WITH(importNcu({ dir }, dir + "/out.rtdb"), Catch::Contains("cannot read: is a folder"));
    CHECK_THROWS_WITH(importNcu({}, dir + "/out.rtdb"), Catch::Contains("no input files"));
    CHECK_THROWS_AS(importNcu({ dir + "/a.csv" }, dir + "/same.rtdb"), ImportError);
    CHECK_THROWS_WITH(importNcu({ dir + "/a.csv" }, dir + "/same.rtdb"), Catch::Contains("same.rtdb': exists already"));
    CHECK_THROWS_AS(importNcu({ dir + "/a.csv" }, dir + "/no/such/folder/x.rtdb"), BuildError);
}
