// SPDX-License-Identifier: MIT
// Reports by call path and by rank, and self (exclusive) time by range, on a synthetic profile whose every
// number is set by hand: two training steps with forward/backward regions, kernels launched inside them, a
// second thread, an NVTX start/end range (never nested) and a damaged nesting.
#include "rooftime/analyzer/format.h"
#include "rooftime/analyzer/profile_builder.h"
#include "rooftime/analyzer/report.h"

#include "process.h"
#include "report_of.h"
#include "sql_one.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace rooftime::analyzer;
using rooftime::test::scratchDir;

namespace {

const char* kMachine = R"({"format": "rooftime-machine", "version": "1.0", "created": "2026-11-27T00:00:00Z",
  "host": {"name": "node"}, "cpu": {"model": "CPU", "logical_cpus": 16},
  "ceilings": [
    {"device": "cpu", "kind": "compute", "precision": "fp64", "variant": "avx2_fma", "value": 100e9, "roof": true},
    {"device": "cpu", "kind": "bandwidth", "level": "DRAM", "pattern": "read", "value": 10e9, "roof": true},
    {"device": "gpu0", "kind": "compute", "precision": "fp32", "variant": "fma", "value": 50e12, "roof": true},
    {"device": "gpu0", "kind": "bandwidth", "level": "HBM", "pattern": "read", "value": 2e12, "roof": true},
    {"device": "gpu0", "kind": "launch", "variant": "back_to_back", "value": 2e-6, "roof": true}]})";

constexpr std::int64_t kMs = 1'000'000;

RegionRecord region(std::int64_t thread, std::int64_t seq, std::optional<std::int64_t> parent, const std::string& name,
    std::int64_t startMs, std::int64_t endMs)
{
    RegionRecord r;
    r.thread = thread;
    r.seq = seq;
    r.parent = parent;
    r.name = name;
    r.startNs = startMs * kMs;
    r.endNs = endMs * kMs;
    return r;
}

KernelRecord kernel(
    std::int64_t id, const std::string& name, std::int64_t thread, std::int64_t region, std::int64_t ns, bool replayed)
{
    KernelRecord k;
    k.id = id;
    k.name = name;
    k.thread = thread;
    k.region = region;
    k.durationNs = ns;
    k.replayed = replayed;
    return k;
}

// Thread 1, per step s (10 ms each, from 10·s ms): step (seq 3s+1) > forward (3s+2, 4 ms, declares 0.2 GFLOP and
// 0.1 GB) and backward (3s+3, 5 ms). Each forward launches "gemm" twice (1 ms each; the first launch of all is
// replayed: 1e9 FFMA = 2 GFLOP fp32, 1 GB HBM), each backward launches "gemm" once. Thread 2: a top-level
// "forward" (3 ms) that launches "copy" once (0.5 ms, no counters). An NVTX start/end "epoch" spans it all.
std::string buildProfile(const std::string& path, long pid)
{
    ProfileBuilder b(path, "node", "train", "train --steps 2", pid);
    b.addDevice(0, "NVIDIA H100", "sm_90", 132);
    b.addMachine("test", kMachine);
    std::int64_t id = 1;
    for (int s = 0; s < 2; ++s) {
        const std::int64_t t = 10 * s, seq = 3 * s;
        b.addRegion(region(1, seq + 1, std::nullopt, "step", t, t + 10));
        RegionRecord fwd = region(1, seq + 2, seq + 1, "forward", t, t + 4);
        fwd.flops = 0.2e9;
        fwd.bytes = 0.1e9;
        b.addRegion(fwd);
        b.addRegion(region(1, seq + 3, seq + 1, "backward", t + 4, t + 9));
        for (int i = 0; i < 2; ++i) {
            KernelRecord k = kernel(id, "gemm", 1, seq + 2, kMs, id == 1);
            b.addKernel(k);
            if (id == 1) {
                b.addKernelMetric(1, "smsp__sass_thread_inst_executed_op_ffma_pred_on.sum", 1e9, "inst");
                b.addKernelMetric(1, "dram__bytes_read.sum", 1e9, "byte");
            }
            ++id;
        }
        b.addKernel(kernel(id++, "gemm", 1, seq + 3, kMs, false));
    }
    b.addRegion(region(2, 1, std::nullopt, "forward", 1, 4));
    b.addKernel(kernel(id++, "copy", 2, 1, kMs / 2, false));
    RegionRecord epoch = region(1, 0, std::nullopt, "epoch", 0, 20);
    epoch.kind = 2;
    b.addRegion(epoch);
    b.finish(25 * kMs);
    return path;
}

const ReportRow& row(const Report& r, const std::string& name)
{
    for (const auto& x : r.rows)
        if (x.name == name) return x;
    FAIL("no row '" << name << "'");
    throw 0;
}

/// `--by callpath` over the profiles at @p paths.
Report callpathReport(const std::vector<std::string>& paths)
{
    return rooftime::test::reportOf(paths, ReportBy::Callpath);
}

bool hasRow(const Report& r, const std::string& name)
{
    for (const auto& x : r.rows)
        if (x.name == name) return true;
    return false;
}

} // namespace

TEST_CASE("by range: self time is the time less the regions nested directly inside", "[report][paths]")
{
    const std::string dir = scratchDir("paths-range");
    std::vector<Profile> profiles;
    profiles.push_back(Profile::open(buildProfile(dir + "/a.rtdb", 1)));
    const Report r = buildReport(profiles);
    // step: 2 × 10 ms; inside: forward 2 × 4 ms and backward 2 × 5 ms.
    CHECK(row(r, "step").timeSeconds == Approx(0.020));
    CHECK(*row(r, "step").exclusiveSeconds == Approx(0.002));
    // forward: the two nested in steps and the one on thread 2, nothing nested inside.
    CHECK(row(r, "forward").count == 3);
    CHECK(*row(r, "forward").exclusiveSeconds == Approx(0.011));
    // An NVTX start/end range has no nesting, so no self time.
    CHECK_FALSE(row(r, "epoch").exclusiveSeconds.has_value());
    const std::string text = formatReport(r, OutputFormat::Text, { 0, 140 });
    CHECK(text.find("self") != std::string::npos);
    const auto j = nlohmann::json::parse(formatReport(r, OutputFormat::Json, {}));
    bool found = false;
    for (const auto& x : j["rows"])
        if (x["name"] == "step") {
            CHECK(x["exclusive_time_s"].get<double>() == Approx(0.002));
            found = true;
        }
    CHECK(found);
}

TEST_CASE("by callpath: regions per nesting path, kernels under the region that launched them", "[report][paths]")
{
    const std::string dir = scratchDir("paths-callpath");
    const Report r = callpathReport({ buildProfile(dir + "/a.rtdb", 1) });

    const ReportRow& step = row(r, "step");
    CHECK(step.kind == "path");
    CHECK(step.count == 2);
    CHECK(*step.exclusiveSeconds == Approx(0.002));
    const ReportRow& fwd = row(r, "step > forward");
    CHECK(fwd.path == std::vector<std::string> { "step", "forward" });
    CHECK(fwd.count == 2);
    CHECK(fwd.timeSeconds == Approx(0.008));
    CHECK(*fwd.flops == Approx(0.4e9)); // declared: 2 × 0.2 GFLOP
    // Executed beside declared: the 4 gemm launches inside (8 GFLOP) against the 0.4 GFLOP declared.
    CHECK(*fwd.executedFlops == Approx(8e9));
    CHECK(*fwd.executedOverDeclared == Approx(20));
    CHECK_FALSE(row(r, "step").executedFlops.has_value()); // declares nothing
    // The top-level forward of thread 2 is another path.
    CHECK(row(r, "forward").count == 1);
    CHECK(row(r, "forward").timeSeconds == Approx(0.003));
    // No path for the start/end range.
    CHECK_FALSE(hasRow(r, "epoch"));

    // gemm under forward: 4 launches, work per launch from the one replayed (2 GFLOP, 1 GB HBM).
    const ReportRow& gf = row(r, "step > forward > gemm");
    CHECK(gf.kind == "path-kernel");
    CHECK(gf.device == "gpu0");
    CHECK(gf.count == 4);
    CHECK(gf.timeSeconds == Approx(0.004));
    CHECK(*gf.flops == Approx(8e9));
    CHECK(*gf.bytes == Approx(4e9));
    CHECK(gf.workSource == Source::Estimated);
    REQUIRE(gf.roof);
    // Memory-bound at 2 TB/s: 4 GB take 2 ms of the 4 ms.
    CHECK(gf.roof->boundSeconds == Approx(0.002));
    CHECK(row(r, "step > backward > gemm").count == 2);
    // copy has no counters: timed only, no roof.
    const ReportRow& copy = row(r, "forward > copy");
    CHECK(copy.count == 1);
    CHECK_FALSE(copy.flops.has_value());
    CHECK(copy.workSource == Source::None);

    const auto j = nlohmann::json::parse(formatReport(r, OutputFormat::Json, {}));
    CHECK(j["by"] == "callpath");
    bool found = false;
    for (const auto& x : j["rows"])
        if (x["name"] == "step > forward > gemm") {
            CHECK(x["path"] == nlohmann::json { "step", "forward", "gemm" });
            found = true;
        }
    CHECK(found);
}

TEST_CASE(
    "by callpath: a launch from a thread without regions joins the one other thread's open region", "[report][paths]")
{
    // PyTorch's shape: the main thread (1) is in step > backward while autograd's thread (2), which opens no
    // region, launches the backward kernels. A third thread (3) opens "io" later: a launch then joins it, unless
    // thread 1 has a region open too (ambiguous: it stays at the top).
    const std::string dir = scratchDir("paths-cross-thread");
    const std::string path = dir + "/p.rtdb";
    {
        ProfileBuilder b(path, "node", "train", "train", 1);
        b.addDevice(0, "NVIDIA H100", "sm_90", 132);
        b.addRegion(region(1, 1, std::nullopt, "step", 0, 10));
        b.addRegion(region(1, 2, 1, "forward", 0, 4));
        b.addRegion(region(1, 3, 1, "backward", 4, 9));
        b.addRegion(region(3, 1, std::nullopt, "io", 20, 35));
        b.addRegion(region(1, 4, std::nullopt, "eval", 30, 40));
        auto launch = [&](std::int64_t id, const char* name, std::int64_t thread, std::optional<std::int64_t> atMs) {
            KernelRecord k = kernel(id, name, thread, 0, kMs / 10, false);
            if (atMs) k.launchNs = *atMs * kMs + kMs / 2;
            b.addKernel(k);
        };
        launch(1, "wgrad", 2, 5); // inside backward
        launch(2, "wgrad", 2, 6);
        launch(3, "sgd", 2, 9); // backward closed at 9 ms, step still open
        launch(4, "late", 2, 15); // nothing open anywhere
        launch(5, "read", 2, 25); // only "io" of thread 3 is open: it joins that
        launch(7, "clash", 2, 32); // "io" and "eval" both open: no guess
        launch(6, "old", 2, std::nullopt); // a profile before schema 1.3: no launch time, no guess
        b.finish(50 * kMs);
    }
    const Report r = callpathReport({ path });
    CHECK(row(r, "step > backward > wgrad").count == 2);
    CHECK(row(r, "step > sgd").count == 1);
    CHECK(row(r, "late").count == 1);
    CHECK(row(r, "io > read").count == 1);
    CHECK(row(r, "clash").count == 1);
    CHECK_FALSE(hasRow(r, "io > clash"));
    CHECK_FALSE(hasRow(r, "eval > clash"));
    CHECK(row(r, "old").count == 1);
    CHECK_FALSE(hasRow(r, "wgrad"));
}

TEST_CASE("by callpath over two profiles: paths merge, with the time of each", "[report][paths]")
{
    const std::string dir = scratchDir("paths-ranks");
    const Report r = callpathReport({ buildProfile(dir + "/a.rtdb", 1), buildProfile(dir + "/b.rtdb", 2) });
    const ReportRow& fwd = row(r, "step > forward");
    CHECK(fwd.count == 4);
    REQUIRE(fwd.spread);
    CHECK(fwd.spread->ranks == 2);
    CHECK(fwd.spread->max == Approx(0.008));
}

TEST_CASE("by rank: each process's CPU against its declared work, each GPU against its kernels", "[report][paths]")
{
    const std::string dir = scratchDir("paths-byrank");
    std::vector<Profile> profiles;
    profiles.push_back(Profile::open(buildProfile(dir + "/a.rtdb", 11)));
    profiles.push_back(Profile::open(buildProfile(dir + "/b.rtdb", 12)));
    ReportOptions options;
    options.by = ReportBy::Rank;
    const Report r = buildReport(profiles, nullptr, options);
    REQUIRE(r.rows.size() == 4);
    const ReportRow& cpu = row(r, "rank 0 (pid 11 on node)");
    CHECK(cpu.device == "cpu");
    CHECK(cpu.timeSeconds == Approx(r.profiles[0].runSeconds));
    // The forward regions declaring 0.2 GFLOP each launched gemm on gpu0: GPU work, not the CPU's; gpu0's row
    // keeps its counters (executed work) rather than the declared copy of it.
    CHECK(cpu.declaredCount == 0);
    CHECK(cpu.workSource == Source::None);
    const ReportRow& gpu = row(r, "rank 0 (pid 12 on node) gpu0");
    CHECK(gpu.workSource == Source::Estimated);
    CHECK(gpu.count == 7);
    CHECK(gpu.timeSeconds == Approx(0.0065));
    // The work of gemm's 6 launches (12 GFLOP, 6 GB) against their 6 ms; copy has no counters.
    CHECK(*gpu.flops == Approx(12e9));
    REQUIRE(gpu.roof);
    CHECK(gpu.roof->boundSeconds == Approx(0.003));
}

TEST_CASE(
    "by callpath: a damaged nesting (parents in a cycle, a missing parent) ends, it does not hang", "[report][paths]")
{
    const std::string dir = scratchDir("paths-damaged");
    const std::string path = dir + "/d.rtdb";
    {
        ProfileBuilder b(path, "node", "x", "x");
        b.addRegion(region(1, 1, 2, "a", 0, 2));
        b.addRegion(region(1, 2, 1, "b", 0, 1));
        b.addRegion(region(1, 3, 99, "orphan", 3, 4));
        b.finish(5 * kMs);
    }
    const Report r = callpathReport({ path });
    CHECK(r.rows.size() == 3);
    CHECK(hasRow(r, "orphan"));
}

TEST_CASE("by callpath, text: functions by their short names, a long path keeps its first and innermost entries",
    "[report][paths]")
{
    Report r;
    r.by = ReportBy::Callpath;
    ReportRow row;
    row.kind = "path-kernel";
    row.path = { "main", "(anonymous namespace)::train(int)", "step",
        "void net::Layer<float>::forward(Batch const&) const", "gemm_kernel" };
    row.pathFrames = { false, true, false, true, false };
    for (std::size_t i = 0; i < row.path.size(); ++i)
        row.name += (i ? " > " : "") + row.path[i];
    row.count = 1;
    row.timeSeconds = 1e-3;
    r.rows.push_back(row);
    // Wide enough: every entry, functions shortened.
    const std::string wide = formatReport(r, OutputFormat::Text, { 0, 200 });
    CHECK(wide.find("main > train > step > forward > gemm_kernel [kernel]") != std::string::npos);
    // Narrow: the first entry, "...", and the innermost entries that fit.
    const std::string narrow = formatReport(r, OutputFormat::Text, { 0, 141 });
    INFO(narrow);
    CHECK(narrow.find("main > ... > forward > gemm_kernel [kernel]") != std::string::npos);
    // JSON keeps every name whole.
    const auto j = nlohmann::json::parse(formatReport(r, OutputFormat::Json, {}));
    CHECK(j["rows"][0]["path"][3] == "void net::Layer<float>::forward(Batch const&) const");
    CHECK(j["rows"][0]["path_frames"][3] == true);
}

TEST_CASE("region names by use, and the range suggested for one window per instance", "[report]")
{
    const std::string path = buildProfile(rooftime::test::scratchDir("region_uses") + "/p.rtdb", 1);
    std::vector<Profile> profiles;
    profiles.push_back(Profile::open(path));
    const std::vector<RegionNameUse> uses = regionNameUses(profiles);
    // forward 3× (4 + 4 + 3 ms), backward and step 2× (5 + 5 and 10 + 10 ms), epoch once (20 ms).
    REQUIRE(uses.size() == 4);
    CHECK(uses[0].name == "forward");
    CHECK(uses[0].count == 3);
    CHECK(uses[0].seconds == Approx(11e-3));
    CHECK(uses[1].name == "backward");
    CHECK(uses[2].name == "step");
    CHECK(uses[2].seconds == Approx(20e-3));
    CHECK(uses[3].name == "epoch");
    CHECK(uses[3].count == 1);
    // step holds the others and repeats; epoch is as long but happens once: no timeline.
    CHECK(suggestWindowRange(uses) == "step");
    CHECK(suggestWindowRange({ uses[3] }).empty());
    CHECK(suggestWindowRange({}).empty());
    // 100,000 instances of a tiny region make no timeline to read: the step, though shorter in total.
    CHECK(suggestWindowRange({ { "tiny", 100000, 2.0 }, { "step", 4, 1.0 } }) == "step");
    CHECK(suggestWindowRange({ { "tiny", 501, 2.0 } }).empty());
    CHECK(suggestWindowRange({ { "tiny", 500, 2.0 } }) == "tiny");
    // Windows are per process: one solve in each of two ranks is no timeline; 200 steps in each of four ranks is.
    CHECK(suggestWindowRange({ { "solve", 2, 1.0, 1 } }).empty());
    CHECK(suggestWindowRange({ { "step", 800, 1.0, 200 } }) == "step");
}

TEST_CASE("fixed window lengths: 1-2-5 steps cutting the run into 2 to 500 windows, about 50 suggested", "[report]")
{
    CHECK(windowCount(1.0, 0.1) == 10); // not 11 from 10.000000000000002
    CHECK(windowCount(1.05, 0.1) == 11);
    CHECK(windowCount(0, 0.1) == 0);
    CHECK(windowCount(1, 0) == 0);
    // A 10 s run: from 20 ms (500 windows) to 5 s (2 windows).
    const std::vector<double> ten = windowLengths(10);
    REQUIRE(ten.size() == 8); // 20, 50, 100, 200, 500 ms, 1, 2, 5 s
    CHECK(ten.front() == Approx(0.02));
    CHECK(ten.back() == Approx(5));
    CHECK(std::is_sorted(ten.begin(), ten.end()));
    for (double length : ten) {
        INFO(length);
        CHECK(windowCount(10, length) >= 2);
        CHECK(windowCount(10, length) <= 500);
    }
    CHECK(suggestWindowSeconds(10) == Approx(0.2)); // 50 windows; 100 ms would make 100
    CHECK(suggestWindowSeconds(10.1) == Approx(0.5)); // 0.2 s would make 51
    CHECK(suggestWindowSeconds(21.9e-3) == Approx(0.5e-3)); // the H200 LSTM's last step: 44 windows
    // Runs too short or too long for the series still get one length.
    CHECK(windowLengths(0) == std::vector<double> { 1e-6 });
    CHECK(suggestWindowSeconds(1.5e-6) == Approx(1e-6));
    CHECK(windowLengths(1e7) == std::vector<double> { 1000 });
}

TEST_CASE(
    "by window without a range or length: the suggested range, else fixed windows over the longest run", "[report]")
{
    const std::string dir = rooftime::test::scratchDir("choose_windows");
    const std::string path = buildProfile(dir + "/p.rtdb", 1);
    std::vector<Profile> profiles;
    profiles.push_back(Profile::open(path));
    ReportOptions options;
    options.by = ReportBy::Window;
    chooseWindows(options, profiles);
    CHECK(options.windowRange == "step");
    CHECK(options.windowSeconds == 0);
    CHECK(chosenWindowsNote(options) == "one window per instance of 'step' (--window-range NAME for another)");
    // Given ones stay; other groupings are left alone.
    options.windowRange = "forward";
    chooseWindows(options, profiles);
    CHECK(options.windowRange == "forward");
    ReportOptions kernels;
    chooseWindows(kernels, profiles);
    CHECK(kernels.windowRange.empty());
    CHECK(kernels.windowSeconds == 0);
    // Without a range that repeats (only epoch is left once): fixed windows, and the report says their length.
    const std::string once = dir + "/once.rtdb";
    rooftime::test::copyWithSql(
        path, once, "DELETE FROM region WHERE name IN (SELECT id FROM string WHERE text != 'epoch')");
    std::vector<Profile> single;
    single.push_back(Profile::open(once));
    ReportOptions fixed;
    fixed.by = ReportBy::Window;
    chooseWindows(fixed, single);
    CHECK(fixed.windowRange.empty());
    const double run = longestRunSeconds(single);
    REQUIRE(run > 0);
    CHECK(fixed.windowSeconds == suggestWindowSeconds(run));
    CHECK(chosenWindowsNote(fixed)
        == "no region or NVTX range repeats 2 to 500 times: windows of " + humanSeconds(fixed.windowSeconds)
            + " (--window DURATION for another)");
    const Report report = buildReport(single, nullptr, fixed);
    CHECK(report.windowSeconds == fixed.windowSeconds);
    CHECK(report.windowRange.empty());
    CHECK(report.rows.size() == windowCount(run, fixed.windowSeconds));
    // By a range only one of two profiles has: the other says so and is counted.
    std::vector<Profile> both;
    both.push_back(Profile::open(path));
    both.push_back(Profile::open(once));
    ReportOptions steps;
    steps.by = ReportBy::Window;
    steps.windowRange = "step";
    const Report mixed = buildReport(both, nullptr, steps);
    CHECK(mixed.profilesWithoutWindows == 1);
    REQUIRE(mixed.profiles.size() == 2);
    CHECK(std::count(mixed.profiles[1].diagnostics.begin(), mixed.profiles[1].diagnostics.end(),
              "no instance of 'step': no windows from this profile")
        == 1);
}
