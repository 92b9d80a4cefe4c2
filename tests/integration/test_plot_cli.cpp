// SPDX-License-Identifier: MIT
// `rooftime plot` through the CLI: every view to SVG and PNG from a synthetic GPU profile, and the usage and input
// errors (exit 2, one line naming the problem). Without Qt the command says how to get it.
#include "process.h"
#include "sql_one.h"
#include "two_kernels.h"

#include "rooftime/analyzer/format.h"
#include "rooftime/analyzer/profile.h"
#include "rooftime/analyzer/report.h"

#include <catch2/catch.hpp>

#include <filesystem>

using namespace rooftime::test;
namespace analyzer = rooftime::analyzer;
namespace fs = std::filesystem;

namespace {

const char* kMachine = R"({"format": "rooftime-machine", "version": "1.0", "created": "2026-11-27T00:00:00Z",
  "host": {"name": "gpu-node"}, "cpu": {"model": "CPU", "logical_cpus": 16},
  "ceilings": [
    {"device": "gpu0", "kind": "compute", "precision": "fp32", "variant": "fma", "value": 50e12, "roof": true},
    {"device": "gpu0", "kind": "bandwidth", "level": "HBM", "pattern": "read", "value": 3e12, "roof": true},
    {"device": "gpu0", "kind": "launch", "variant": "back_to_back", "value": 2e-6, "roof": true}]})";

/// Two kernels with counters (gemm memory-bound, axpy far below its roof), with or without a machine model.
std::string gpuProfile(const std::string& dir, bool machine = true)
{
    const std::string path = dir + (machine ? "/gpu.rtdb" : "/bare.rtdb");
    rooftime::test::writeTwoKernelProfile(path, machine ? kMachine : nullptr, 30e9);
    return path;
}

const std::string kNoQt = "this rooftime was built without Qt: rooftime plot needs rooftime-plot (install qt6-base-dev "
                          "qt6-svg-dev and rebuild)\n";

} // namespace

TEST_CASE("plot: without --by, a profile with kernels and no regions is plotted by kernel", "[plot]")
{
    const std::string dir = scratchDir("plot_auto");
    const std::string profile = gpuProfile(dir);
    const std::string out = dir + "/auto.svg";
    RunResult r = run({ rooftimeBin(), "plot", profile, "-o", out });
    INFO(r.err);
    if (!ROOFTIME_TEST_HAVE_PLOT) {
        CHECK(r.status == 2);
        return;
    }
    REQUIRE(r.status == 0);
    CHECK(r.err.find("2 items)") != std::string::npos);
    CHECK(readFile(out).find("gemm (3 ms") != std::string::npos);
    // --by range keeps regions: none here, so nothing to draw: an error saying why, not an empty picture.
    fs::remove(out);
    r = run({ rooftimeBin(), "plot", profile, "--by", "range", "-o", out });
    CHECK(r.status == 2);
    CHECK(r.err.find("nothing to plot: no regions or NVTX ranges in these profiles; --by kernel plots kernels")
        != std::string::npos);
    CHECK_FALSE(fs::exists(out));
}

TEST_CASE("plot: without --by, kernels with counters win over regions declaring work", "[plot]")
{
    // The H200's gemm sample declares each kernel's FLOPs on a region around it, which launched it on gpu0. Its four
    // kernels have counters: they are what is plotted, against gpu0's roofs; the regions, asked for, are gpu0's
    // too.
    const std::string dir = scratchDir("plot_auto_counters");
    RunResult r = run({ rooftimeBin(), "plot", testData("gpu/counters/gemm.rtdb"), "-o", dir + "/gemm.svg" });
    INFO(r.err);
    if (!ROOFTIME_TEST_HAVE_PLOT) {
        CHECK(r.status == 2);
        return;
    }
    REQUIRE(r.status == 0);
    CHECK(r.err.find("(combined view, gpu0, HBM, 4 items)") != std::string::npos);
    r = run({ rooftimeBin(), "plot", testData("gpu/counters/gemm.rtdb"), "--by", "range", "-o", dir + "/r.svg" });
    CHECK(r.err.find("(combined view, gpu0, HBM, 4 items)") != std::string::npos);
}

TEST_CASE("plot: every view to SVG and PNG", "[plot]")
{
    const std::string dir = scratchDir("plot_cli");
    const std::string profile = gpuProfile(dir);
    for (const std::string view : { "combined", "time", "complexity", "classic" })
        for (const std::string ext : { ".svg", ".png" }) {
            const std::string out = dir + "/" + view + ext;
            RunResult r = run({ rooftimeBin(), "plot", profile, "--by", "kernel", "--view", view, "-o", out, "--width",
                "800", "--height", "600" });
            INFO(view << ext << ": " << r.err);
            if (!ROOFTIME_TEST_HAVE_PLOT) {
                CHECK(r.status == 2);
                CHECK(r.err == kNoQt);
                continue;
            }
            REQUIRE(r.status == 0);
            CHECK(r.out.empty());
            CHECK(r.err.find("rooftime plot: wrote " + out + " (" + view + " view, gpu0") == 0);
            CHECK(r.err.find("2 items)") != std::string::npos);
            REQUIRE(fs::exists(out));
            const std::string data = readFile(out);
            if (ext == ".svg") {
                CHECK(data.find("viewBox=\"0 0 800 600\"") != std::string::npos);
                CHECK(data.find("gemm (3 ms") != std::string::npos);
            } else {
                REQUIRE(data.size() > 24);
                CHECK(data.compare(1, 3, "PNG") == 0);
                // IHDR: width and height, big-endian, at bytes 16 and 20.
                const auto be32 = [&](std::size_t at) {
                    return (static_cast<unsigned char>(data[at]) << 24)
                        | (static_cast<unsigned char>(data[at + 1]) << 16)
                        | (static_cast<unsigned char>(data[at + 2]) << 8) | static_cast<unsigned char>(data[at + 3]);
                };
                CHECK(be32(16) == 800);
                CHECK(be32(20) == 600);
            }
        }
}

TEST_CASE("plot: usage and input errors exit 2 with one line", "[plot]")
{
    const std::string dir = scratchDir("plot_cli_errors");
    const std::string profile = gpuProfile(dir);
    const std::string bare = gpuProfile(dir, false);
    struct Row {
        std::vector<std::string> args;
        std::string phrase;
        bool companion; ///< found by rooftime-plot (otherwise by rooftime itself)
    };
    const Row rows[] = {
        { { profile }, "--output is required", false },
        { { "-o", dir + "/a.svg" }, "profiles is required", false },
        { { profile, "-o", dir + "/a.pdf" },
            "rooftime plot: -o '" + dir + "/a.pdf': the file name must end in .svg or .png", false },
        { { profile, "-o", dir + "/a.svg", "--view", "pie" }, "--view: pie not in {combined,time,complexity,classic}",
            false },
        { { profile, "-o", dir + "/a.svg", "--by", "rank" }, "--by: rank not in {auto,range,kernel,callpath,window}",
            false },
        { { profile, "-o", dir + "/a.svg", "--by", "window", "--window", "soon" },
            "rooftime plot: --window 'soon': expected a duration such as 100ms", false },
        { { profile, "-o", dir + "/a.svg", "--window", "1ms" }, "rooftime plot: --window goes with --by window",
            false },
        { { profile, "-o", dir + "/a.svg", "--by", "window", "--window", "1ms", "--window-range", "step" },
            "rooftime plot: --window and --window-range exclude each other", false },
        { { profile, "-o", dir + "/a.svg", "--width", "10" }, "--width: Value 10 not in range 320 to 8000", false },
        { { profile, "-o", dir + "/a.svg", "--top", "-3" }, "--top", false },
        { { dir + "/missing.rtdb", "-o", dir + "/a.svg" }, dir + "/missing.rtdb", true },
        { { profile, "-o", dir + "/a.svg", "--by", "kernel", "--level", "l3" },
            "rooftime plot: --level l3: no bandwidth roof for that level on gpu0 (levels with a roof: HBM)", true },
        { { bare, "-o", dir + "/a.svg" }, "no machine model", true },
        { { profile, "-o", dir + "/a.svg", "--machine", dir + "/none.json" }, dir + "/none.json", true },
        { { profile, "-o", dir + "/no/such/folder/a.svg", "--by", "kernel" }, "cannot write", true },
    };
    for (const Row& row : rows) {
        std::vector<std::string> argv { rooftimeBin(), "plot" };
        argv.insert(argv.end(), row.args.begin(), row.args.end());
        RunResult r = run(argv);
        INFO(row.phrase << ": " << r.err);
        CHECK(r.status == 2);
        CHECK(r.out.empty());
        if (row.companion && !ROOFTIME_TEST_HAVE_PLOT) {
            CHECK(r.err == kNoQt);
            continue;
        }
        CHECK(r.err.find(row.phrase) != std::string::npos);
    }
    CHECK_FALSE(fs::exists(dir + "/a.svg"));
    CHECK_FALSE(fs::exists(dir + "/a.pdf"));

    RunResult help = run({ rooftimeBin(), "help", "plot" });
    CHECK(help.status == 0);
    CHECK(help.out.find("--view") != std::string::npos);
    CHECK(help.out.find("Exit status: 0 written, 2 a usage or input error.") != std::string::npos);
}

TEST_CASE("plot: --by callpath names each item by its path, shortened to the item where too long", "[plot]")
{
    const std::string dir = scratchDir("plot_callpath");
    const std::string out = dir + "/paths.svg";
    const std::string profile = std::string(ROOFTIME_TEST_DATA) + "/gpu/stacks/lstm_chain.rtdb";
    RunResult r = run({ rooftimeBin(), "plot", profile, "--by", "callpath", "--width", "1600", "-o", out });
    INFO(r.err);
    if (!ROOFTIME_TEST_HAVE_PLOT) {
        CHECK(r.status == 2);
        return;
    }
    REQUIRE(r.status == 0);
    std::string svg = readFile(out);
    // The region the H200's lstm_chain recorded, under the functions of its call stack: named `main > run` (short
    // names) where the program is at its recorded path; elsewhere (CI) the frames are MODULE+0xOFFSET, too long
    // for the legend, which then names the region alone.
    CHECK(svg.find("1 call path") != std::string::npos);
    CHECK((svg.find(">1 main &gt; run &gt; lstm_chain (") != std::string::npos
        || svg.find(">1 lstm_chain (") != std::string::npos));
    // At the default width, the legend names the item itself rather than a path cut at its start.
    r = run({ rooftimeBin(), "plot", profile, "--by", "callpath", "-o", out });
    REQUIRE(r.status == 0);
    svg = readFile(out);
    CHECK(svg.find(">1 lstm_chain (") != std::string::npos);
}

TEST_CASE("plot: --by window draws one disc per training step, numbered in time order", "[plot]")
{
    const std::string dir = scratchDir("plot_window");
    const std::string out = dir + "/steps.svg";
    const std::string lstm = std::string(ROOFTIME_TEST_DATA) + "/gpu/python/lstm_train-counters.rtdb";
    RunResult r = run({ rooftimeBin(), "plot", lstm, "--by", "window", "-o", out });
    INFO(r.err);
    if (!ROOFTIME_TEST_HAVE_PLOT) {
        CHECK(r.status == 2);
        return;
    }
    REQUIRE(r.status == 0);
    CHECK(r.err.find("one window per instance of 'step' (--window-range NAME for another)") != std::string::npos);
    const std::string svg = readFile(out);
    CHECK(svg.find("4 windows") != std::string::npos);
    CHECK(svg.find(">1 step #1 (") != std::string::npos);
    CHECK(svg.find(">4 step #4 (") != std::string::npos);
    r = run({ rooftimeBin(), "plot", lstm, "--by", "window", "--window-range", "forward", "-o", out });
    REQUIRE(r.status == 0);
    CHECK(r.err.find("one window per instance") == std::string::npos); // named: nothing to say
    CHECK(readFile(out).find(">1 forward #1 (") != std::string::npos);
    r = run({ rooftimeBin(), "plot", lstm, "--by", "window", "--window-range", "stp", "-o", out });
    CHECK(r.status == 2);
    CHECK(r.err.find("--window-range 'stp': no region or NVTX range of that name") != std::string::npos);
    r = run({ rooftimeBin(), "plot", lstm, "--window-range", "step", "-o", out });
    CHECK(r.status == 2);
    CHECK(r.err == "rooftime plot: --window-range goes with --by window\n");
    // Fixed windows instead of the steps.
    r = run({ rooftimeBin(), "plot", lstm, "--by", "window", "--window", "500ms", "-o", out });
    REQUIRE(r.status == 0);
    CHECK(r.err.find("one window per instance") == std::string::npos);
    // The windows with known work are drawn (the last step's, at 14 s): each 500 ms long.
    const std::string fixed = readFile(out);
    CHECK(fixed.find(" s (500 ms, ") != std::string::npos);
    CHECK(fixed.find("step #") == std::string::npos);
}

TEST_CASE("plot: --by window where no range repeats draws fixed windows, about 50 over the run", "[plot]")
{
    const std::string dir = scratchDir("plot_fixed_windows");
    const std::string out = dir + "/w.svg";
    // The H200 LSTM without its ranges: kernels only.
    const std::string profile = dir + "/kernels-only.rtdb";
    copyWithSql(testData("gpu/python/lstm_train-counters.rtdb"), profile, "DELETE FROM region");
    RunResult r = run({ rooftimeBin(), "plot", profile, "--by", "window", "-o", out });
    INFO(r.err);
    if (!ROOFTIME_TEST_HAVE_PLOT) {
        CHECK(r.status == 2);
        return;
    }
    REQUIRE(r.status == 0);
    std::vector<analyzer::Profile> profiles;
    profiles.push_back(analyzer::Profile::open(profile));
    const double length = analyzer::suggestWindowSeconds(analyzer::longestRunSeconds(profiles));
    CHECK(length == 0.5); // 48 windows over its 24 s
    CHECK(r.err.find(
              "rooftime plot: no region or NVTX range repeats 2 to 500 times: windows of 500 ms (--window DURATION for "
              "another)\n")
        == 0);
    CHECK(readFile(out).find(" s (500 ms, ") != std::string::npos);
}
