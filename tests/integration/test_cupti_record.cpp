// SPDX-License-Identifier: MIT
// The CUPTI backend where no GPU is needed: a CUDA program recorded on a machine without a GPU, and how the
// collector and the plugin are linked (libcupti only in the plugin, loaded with dlopen).
#include "report_json.h"
#include "sql_one.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>
#include <unistd.h>

using namespace rooftime::test;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> lines(const std::string& text)
{
    std::vector<std::string> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line))
        out.push_back(line);
    return out;
}

std::vector<std::string> needed(const std::string& lib)
{
    RunResult dyn = run({ "/usr/bin/readelf", "-d", lib });
    REQUIRE(dyn.status == 0);
    std::vector<std::string> out;
    for (const std::string& line : lines(dyn.out)) {
        const auto open = line.find("(NEEDED)");
        if (open == std::string::npos) continue;
        const auto a = line.find('[');
        const auto b = line.find(']');
        if (a != std::string::npos && b != std::string::npos) out.push_back(line.substr(a + 1, b - a - 1));
    }
    return out;
}

bool hasGpuDriver()
{
    // The same places the collector looks: the loader cache and LD_LIBRARY_PATH are enough to tell a GPU machine.
    if (fs::exists("/dev/nvidiactl")) return true;
    return readFile("/etc/ld.so.cache").find(std::string("libcuda.so.1\0", 13)) != std::string::npos;
}

std::string pluginLib()
{
    return (fs::path(collectorLib()).parent_path() / "librooftime_cupti.so").string();
}

} // namespace

TEST_CASE("a CUDA program without a GPU: its own errors unchanged, one line from the collector, its exit status")
{
    if (!ROOFTIME_TEST_HAVE_CUDA_CLIENT) {
        std::puts("ROOFTIME_SKIP: built without nvcc (no CUDA test program)");
        return;
    }
    if (hasGpuDriver()) {
        std::puts("ROOFTIME_SKIP: this machine has a CUDA driver (the no-GPU path is not reachable)");
        return;
    }
    const RunResult plain = run({ client("cuda_client") });
    REQUIRE(plain.status == 1);
    REQUIRE(!plain.err.empty());
    for (const char* mode : { "time", "counters" }) {
        INFO(mode);
        const std::string dir = scratchDir(std::string("cuda-nogpu-") + mode);
        const RunResult r
            = run({ rooftimeBin(), "record", "--mode", mode, "-o", dir + "/p.%p.rtdb", "--", client("cuda_client") });
        CHECK(r.status == plain.status);
        CHECK(r.out == plain.out);
        // The program's lines first, as they were; then exactly one line from the collector; then record's summary.
        const std::string err = afterMachineLine(r.err);
        REQUIRE_THAT(err, Catch::StartsWith(plain.err));
        const auto added = lines(err.substr(plain.err.size()));
        REQUIRE(added.size() == 2);
        CHECK_THAT(added[0], Catch::StartsWith("rooftime: no GPU found"));
        CHECK_THAT(added[0], Catch::Contains("continuing without GPU kernels"));
        CHECK_THAT(added[1], Catch::StartsWith("rooftime: no profile written"));
    }
}

TEST_CASE("a CPU program is not taken for a CUDA program")
{
    const std::string dir = scratchDir("cuda-cpu");
    const RunResult r = record(dir, { client("paths_client"), "output" });
    CHECK(r.err.find("GPU") == std::string::npos);
}

TEST_CASE("the collector links no CUDA library and exports InitializeInjection, the CUPTI plugin is separate")
{
    for (const std::string& lib : needed(collectorLib())) {
        INFO(lib);
        CHECK(lib.find("cupti") == std::string::npos);
        CHECK(lib.find("libcuda") == std::string::npos);
        CHECK(lib.find("nvperf") == std::string::npos);
    }
    RunResult syms = run({ "/usr/bin/nm", "-D", "--defined-only", collectorLib() });
    REQUIRE(syms.status == 0);
    CHECK_THAT(syms.out, Catch::Contains(" T InitializeInjection\n"));

    if (!ROOFTIME_TEST_HAVE_CUPTI) return; // no plugin in this build: nothing more to check
    const auto plugin = needed(pluginLib());
    CHECK(std::find(plugin.begin(), plugin.end(), "libcupti.so.13") != plugin.end());
    for (const std::string& lib : plugin) {
        INFO(lib);
        CHECK(lib.find("libcuda") == std::string::npos); // the driver is never linked, only found at run time
    }
    RunResult pluginSyms = run({ "/usr/bin/nm", "-D", "--defined-only", pluginLib() });
    REQUIRE(pluginSyms.status == 0);
    for (const std::string& line : lines(pluginSyms.out)) {
        INFO(line);
        CHECK(line.substr(line.rfind(' ') + 1) == "rooftime_backend_create");
    }
}

TEST_CASE("InitializeInjection loads the CUPTI plugin from the collector's folder, and a failure is one line")
{
    if (!ROOFTIME_TEST_HAVE_CUPTI) {
        std::puts("ROOFTIME_SKIP: built without CUPTI (no plugin to load)");
        return;
    }
    const std::string dir = scratchDir("cupti-inject");
    for (const char* mode : { "time", "counters" }) {
        INFO(mode);
        const RunResult r = run(
            { rooftimeBin(), "record", "--mode", mode, "-o", dir + "/p.%p.rtdb", "--", client("injection_client") });
        CHECK(r.status == 0);
        CHECK_THAT(r.out, Catch::Contains("InitializeInjection returned 1"));
        // Without a driver CUPTI cannot subscribe: one line; with a GPU it can, and nothing is printed.
        int cuptiLines = 0;
        for (const std::string& line : lines(r.err)) {
            if (line.find("CUPTI") == std::string::npos && line.find("GPU") == std::string::npos) continue;
            ++cuptiLines;
            CHECK_THAT(line, Catch::EndsWith("; continuing without GPU kernels"));
            CHECK(line.find("cannot load the CUPTI backend") == std::string::npos);
            CHECK(line.find("no GPU found") == std::string::npos); // the driver did call us
        }
        CHECK(cuptiLines <= 1);
    }
}

TEST_CASE("a collector without its CUPTI plugin beside it says so once and the program runs on")
{
    const std::string dir = scratchDir("cupti-missing");
    const std::string lone = dir + "/lib/librooftime_collector.so";
    fs::create_directories(dir + "/lib");
    fs::copy_file(collectorLib(), lone);
    const RunResult r = run({ rooftimeBin(), "record", "-o", dir + "/p.%p.rtdb", "--", client("injection_client") },
        { { "ROOFTIME_COLLECTOR", lone } });
    CHECK(r.status == 0);
    CHECK_THAT(r.out, Catch::Contains("InitializeInjection returned 1"));
    int lines_ = 0;
    for (const std::string& line : lines(r.err))
        if (line.find("cannot load the CUPTI backend") != std::string::npos) {
            ++lines_;
            CHECK_THAT(line, Catch::Contains(dir + "/lib/librooftime_cupti.so"));
            CHECK_THAT(line, Catch::EndsWith("; continuing without GPU kernels"));
        }
    CHECK(lines_ == 1);
}

namespace { } // namespace

TEST_CASE("backend records reach the kernel, kernel_metric, memop and device tables with their launch context")
{
    const std::string dir = scratchDir("cupti-fake");
    const RunResult r = run({ rooftimeBin(), "record", "--mode", "counters", "--counters", "5", "-o",
                                dir + "/p.%p.rtdb", "--", client("injection_client"), "region" },
        { { "ROOFTIME_PLUGIN_DIR", ROOFTIME_TEST_FAKE_PLUGIN_DIR } });
    CHECK(r.status == 0);
    int printed = 0;
    for (const std::string& line : lines(r.err))
        printed += line == "rooftime: fake backend: a problem worth one line";
    CHECK(printed == 1);
    CHECK(r.err.find("no counter backend") == std::string::npos);
    const auto files = filesIn(dir);
    REQUIRE(files.size() == 1);
    const std::string& p = files[0];

    CHECK(sqlOne(p, "SELECT value FROM meta WHERE key = 'schema_minor'") == "4");
    // Graph launches (schema 1.4): the graph and kernel node, NULL outside graphs.
    CHECK(sqlOne(p, "SELECT graph_id || ',' || graph_node_id FROM kernel WHERE correlation = 43") == "3,4294967301");
    CHECK(sqlOne(p, "SELECT count(*) FROM kernel WHERE correlation = 42 AND graph_id IS NULL AND graph_node_id IS NULL")
        == "1");
    // The launch's own time (schema 1.3), on the profile's clock: inside the process's run, before the kernel's
    // (the fake stamps its kernel at exit).
    CHECK(sqlOne(p,
              "SELECT count(*) FROM kernel k, process pr WHERE k.correlation = 42 AND k.launch_ns >= pr.start_ns"
              " AND k.launch_ns <= k.start_ns")
        == "1");
    CHECK(sqlOne(p, "SELECT value FROM meta WHERE key = 'counters'") == "fake: counters 5 tier1");
    CHECK(sqlOne(p, "SELECT count(*) FROM kernel") == "2");
    const std::string k = "FROM kernel WHERE correlation = 42";
    CHECK(sqlOne(p, "SELECT s.text FROM kernel k JOIN string s ON s.id = k.name WHERE k.correlation = 42")
        == "scale(float*, float, int)");
    CHECK(sqlOne(p, "SELECT s.text FROM kernel k JOIN string s ON s.id = k.mangled WHERE k.correlation = 42")
        == "_Z5scalePffi");
    CHECK(sqlOne(p, "SELECT grid_x || ',' || grid_y || ',' || block_x || ',' || stream || ',' || duration_ns " + k)
        == "4096,1,256,7,1500");
    CHECK(sqlOne(p, "SELECT replayed " + k) == "1");
    CHECK(sqlOne(p, "SELECT replayed FROM kernel WHERE correlation = 43") == "0");
    // The launching thread and the region open there ("step"), joinable to the thread and region tables.
    CHECK(sqlOne(p,
              "SELECT t.tid = (SELECT pid FROM process) FROM kernel k JOIN thread t ON t.id = k.thread"
              " WHERE k.correlation = 42")
        == "1");
    CHECK(sqlOne(p,
              "SELECT s.text FROM kernel k JOIN region r ON r.thread = k.thread AND r.seq = k.region"
              " JOIN string s ON s.id = r.name WHERE k.correlation = 42")
        == "step");
    CHECK(sqlOne(p, "SELECT count(*) FROM kernel_metric m JOIN kernel k ON k.id = m.kernel WHERE k.correlation = 42")
        == "2");
    CHECK(sqlOne(p,
              "SELECT m.value || ' ' || m.unit FROM kernel_metric m JOIN string s ON s.id = m.metric"
              " WHERE s.text = 'dram__bytes_read.sum'")
        == "4194304.0 byte");
    CHECK(sqlOne(p, "SELECT kind || ',' || copy_kind || ',' || bytes || ',' || correlation FROM memop") == "0,2,4,44");
    CHECK(sqlOne(p, "SELECT name || ',' || arch || ',' || sms FROM device") == "Fake GPU,sm_90,132");
    CHECK(sqlOne(p, "SELECT count(*) FROM diagnostic WHERE component = 'cupti' AND message = 'fake backend started'")
        == "1");
    CHECK(sqlOne(p, "SELECT count(*) FROM diagnostic WHERE message = 'fake backend: a problem worth one line'") == "1");
    // The Range Profiler ends on the program's own thread (where its context is current), not on the exit helper.
    CHECK(sqlOne(p, "SELECT message FROM diagnostic WHERE message LIKE 'fake backend: beforeExit%'")
        == "fake backend: beforeExit on the launching thread");
    // The analyzer reads it like any profile.
    const RunResult rep = run({ rooftimeBin(), "report", "--format", "json", p });
    CHECK(rep.status == 0);
}

TEST_CASE("record --call-stacks: a kernel's call path holds the functions that launched it")
{
    const std::string dir = scratchDir("cupti-fake-stacks");
    const RunResult r = run(
        { rooftimeBin(), "record", "--call-stacks", "-o", dir + "/p.rtdb", "--", client("injection_client"), "region" },
        { { "ROOFTIME_PLUGIN_DIR", ROOFTIME_TEST_FAKE_PLUGIN_DIR } });
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(sqlOne(dir + "/p.rtdb", "SELECT count(*) FROM kernel_stack") == "2");
    const RunResult rep = run({ rooftimeBin(), "report", "--by", "callpath", "--format", "json", dir + "/p.rtdb" });
    INFO(rep.out);
    REQUIRE(rep.status == 0);
    const auto report = nlohmann::json::parse(rep.out);
    std::map<std::string, std::string> kinds;
    for (const auto& row : report["rows"])
        kinds[row["name"].get<std::string>()] = row["kind"].get<std::string>();
    // The backend's own frames (the fake stands where librooftime_cupti.so would) are left out.
    CHECK(kinds["main > step"] == "path");
    CHECK(kinds["main > step > initializeCuda(int (*)()) > scale(float*, float, int)"] == "path-kernel");
    CHECK(kinds.size() == 2);
}

TEST_CASE("record --counters: all or a positive count reaches the backend, anything else is a usage error")
{
    const std::string dir = scratchDir("cupti-counters-option");
    const RunResult all = run({ rooftimeBin(), "record", "--mode", "counters", "--counters", "all", "-o",
                                  dir + "/p.%p.rtdb", "--", client("injection_client"), "region" },
        { { "ROOFTIME_PLUGIN_DIR", ROOFTIME_TEST_FAKE_PLUGIN_DIR } });
    CHECK(all.status == 0);
    const auto files = filesIn(dir);
    REQUIRE(files.size() == 1);
    CHECK(sqlOne(files[0], "SELECT value FROM meta WHERE key = 'counters'") == "fake: counters 0 tier1");
    for (const char* bad : { "0", "-1", "x", "3.5" }) {
        INFO(bad);
        const RunResult r = run({ rooftimeBin(), "record", "--counters", bad, "--", "/bin/true" });
        CHECK(r.status == 2);
        CHECK_THAT(r.err, Catch::Contains("--counters"));
    }
}

TEST_CASE("record --counter-set: tier2 reaches the backend, anything else is a usage error")
{
    const std::string dir = scratchDir("cupti-counter-set");
    const RunResult r = run({ rooftimeBin(), "record", "--mode", "counters", "--counter-set", "tier2", "-o",
                                dir + "/p.%p.rtdb", "--", client("injection_client"), "region" },
        { { "ROOFTIME_PLUGIN_DIR", ROOFTIME_TEST_FAKE_PLUGIN_DIR } });
    CHECK(r.status == 0);
    const auto files = filesIn(dir);
    REQUIRE(files.size() == 1);
    CHECK(sqlOne(files[0], "SELECT value FROM meta WHERE key = 'counters'") == "fake: counters 3 tier2");
    for (const char* bad : { "tier3", "", "TIER2" }) {
        INFO(bad);
        const RunResult b = run({ rooftimeBin(), "record", "--counter-set", bad, "--", "/bin/true" });
        CHECK(b.status == 2);
        CHECK_THAT(b.err, Catch::Contains("--counter-set"));
    }
}

// On a GPU machine only (tools/device-check.sh territory): never run here, written to the documented behaviour.
TEST_CASE("GPU: a CUDA program's kernels, copies and device are recorded, counters mode measures the first launches")
{
    if (!ROOFTIME_TEST_HAVE_CUDA_CLIENT || !ROOFTIME_TEST_HAVE_CUPTI) {
        std::puts("ROOFTIME_SKIP: built without nvcc or CUPTI");
        return;
    }
    if (!hasGpuDriver() || !fs::exists("/dev/nvidia0")) {
        std::puts("ROOFTIME_SKIP: no GPU on this machine");
        return;
    }
    for (const char* mode : { "time", "counters" }) {
        INFO(mode);
        const std::string dir = scratchDir(std::string("cupti-gpu-") + mode);
        const RunResult r = run({ rooftimeBin(), "record", "--mode", mode, "--counters", "2", "-o", dir + "/p.%p.rtdb",
            "--", client("cuda_client") });
        INFO(r.err);
        REQUIRE(r.status == 0);
        const auto files = filesIn(dir);
        REQUIRE(files.size() == 1);
        const std::string& p = files[0];
        CHECK(sqlOne(p,
                  "SELECT count(*) FROM kernel k JOIN string s ON s.id = k.name"
                  " WHERE s.text = 'scale(float*, float, int)'")
            == "3");
        CHECK(sqlOne(p, "SELECT count(*) FROM kernel WHERE grid_x = 4096 AND block_x = 256 AND thread IS NOT NULL")
            == "3");
        CHECK(sqlOne(p, "SELECT count(*) FROM memop WHERE kind = 1") == "1");
        CHECK(sqlOne(p, "SELECT count(*) FROM memop WHERE kind = 0 AND copy_kind = 2") == "1");
        CHECK(sqlOne(p, "SELECT count(*) FROM device WHERE arch LIKE 'sm_%'") == "1");
        if (std::string(mode) == "counters") {
            CHECK(sqlOne(p, "SELECT count(*) FROM kernel WHERE replayed = 1") == "2");
            CHECK(sqlOne(p,
                      "SELECT count(DISTINCT kernel) FROM kernel_metric m JOIN string s ON s.id = m.metric"
                      " WHERE s.text = 'gpu__time_duration.sum'")
                == "2");
            CHECK_THAT(sqlOne(p, "SELECT value FROM meta WHERE key = 'counters'"), Catch::StartsWith("cupti: tier 1"));
        } else {
            CHECK(sqlOne(p, "SELECT count(*) FROM kernel_metric") == "0");
        }
    }
}
