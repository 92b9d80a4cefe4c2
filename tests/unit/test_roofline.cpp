// SPDX-License-Identifier: MIT
// The time-based roofline model on hand-computed items, and the paper's published cases (Wang et al., SC20 DLS).
#include "rooftime/analyzer/roofline.h"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace rooftime::analyzer;

namespace {

// A V100-like device as in the paper: 125 TFLOP/s fp16 tensor, 15.7 fp32, 7.8 fp64, 900 GB/s HBM,
// 2.5 TB/s L2, t_launch 4.2 us.
Roofs v100()
{
    Roofs r;
    r.peak[{ "fp16", true }] = 125e12;
    r.peak[{ "fp32", false }] = 15.7e12;
    r.peak[{ "fp64", false }] = 7.8e12;
    r.bandwidth["HBM"] = 900e9;
    r.bandwidth["L2"] = 2500e9;
    r.launchSeconds = 4.2e-6;
    return r;
}

Item kernel(const std::string& name, double seconds, std::uint64_t launches = 1)
{
    Item i;
    i.name = name;
    i.device = "gpu0";
    i.seconds = seconds;
    i.count = launches;
    i.countsLaunches = true;
    return i;
}

} // namespace

TEST_CASE("compute-bound item: roof time, efficiency, lost time", "[roofline]")
{
    Item i = kernel("gemm", 1e-3);
    i.flops[{ "fp32", false }] = 12.56e9; // 0.8 ms at 15.7 TFLOP/s
    i.bytes["HBM"] = 90e6; // 0.1 ms at 900 GB/s
    const Analysis a = analyze(i, v100());
    CHECK(a.computeTime == Approx(0.8e-3));
    CHECK(a.memoryTime == Approx(0.1e-3));
    CHECK(a.roofSeconds == Approx(0.8e-3));
    CHECK(a.floorSeconds == Approx(4.2e-6));
    CHECK(*a.efficiency == Approx(0.8));
    CHECK(a.lostSeconds == Approx(0.2e-3));
    CHECK(a.limiter == LimiterKind::Compute);
    CHECK(a.bindingTerm == "fp32");
    CHECK(a.intensity.at("HBM") == Approx(12.56e9 / 90e6));
    CHECK(*a.flopsPerSecond == Approx(12.56e12));
    CHECK_FALSE(a.aboveRoof);
}

TEST_CASE("memory-bound item: the slowest level binds", "[roofline]")
{
    Item i = kernel("triad", 2e-3);
    i.flops[{ "fp32", false }] = 1e8;
    i.bytes["HBM"] = 1.35e9; // 1.5 ms
    i.bytes["L2"] = 2.5e9; // 1.0 ms
    const Analysis a = analyze(i, v100());
    CHECK(a.memoryTime == Approx(1.5e-3));
    CHECK(a.limiter == LimiterKind::Memory);
    CHECK(a.bindingTerm == "HBM");
    CHECK(*a.efficiency == Approx(0.75));
    CHECK(a.lostSeconds == Approx(0.5e-3));
}

TEST_CASE("compute times of several precisions add up, the dominant convention takes one", "[roofline]")
{
    Item i = kernel("mixed", 1e-3);
    i.flops[{ "fp16", true }] = 62.5e9; // 0.5 ms
    i.flops[{ "fp32", false }] = 3.14e9; // 0.2 ms
    const Analysis sum = analyze(i, v100());
    CHECK(sum.computeTime == Approx(0.7e-3));
    CHECK(sum.bindingTerm == "fp16 tensor");
    ModelOptions paper;
    paper.convention = ComputeConvention::Dominant;
    const Analysis dom = analyze(i, v100(), paper);
    CHECK(dom.computeTime == Approx(0.5e-3));
    CHECK(*dom.efficiency == Approx(0.5));
}

TEST_CASE("launch floor: many tiny kernels are launch-bound", "[roofline]")
{
    Item i = kernel("tiny", 1000 * 5e-6, 1000);
    i.flops[{ "fp32", false }] = 1e6;
    i.bytes["HBM"] = 1e6;
    const Analysis a = analyze(i, v100());
    CHECK(a.floorSeconds == Approx(4.2e-3));
    CHECK(a.limiter == LimiterKind::Launch);
    CHECK(a.bindingTerm == "launch");
    CHECK(*a.efficiency == Approx(4.2e-3 / 5e-3));
    // Regions are not launches: no floor.
    i.countsLaunches = false;
    CHECK(analyze(i, v100()).floorSeconds == 0);
}

TEST_CASE("without known work only a time at or below the launch floor has a bound", "[roofline]")
{
    // Time mode: no counters. 1000 launches of 3 us each ran below the 4.2 us floor: launch-bound whatever their
    // work (a roof above the time would be flagged once counters come).
    const Analysis below = analyze(kernel("fast", 1000 * 3e-6, 1000), v100());
    REQUIRE(below.efficiency);
    CHECK(*below.efficiency == 1.0);
    CHECK(below.limiter == LimiterKind::Launch);
    CHECK(below.lostSeconds == 0);
    // 25 us each: the work's roof lies anywhere between 0 and 25 us, so efficiency and loss are unknown, not
    // 4.2/25 against the floor alone.
    const Analysis above = analyze(kernel("slow", 1000 * 25e-6, 1000), v100());
    CHECK(above.floorSeconds == Approx(4.2e-3));
    CHECK_FALSE(above.efficiency);
    CHECK(above.limiter == LimiterKind::Unknown);
    CHECK(above.lostSeconds == 0);
    // Work in a class the model has no roof for counts as unknown too.
    Item fp8 = kernel("fp8", 1000 * 25e-6, 1000);
    fp8.flops[{ "fp8", true }] = 1e9;
    const Analysis noRoof = analyze(fp8, v100());
    CHECK_FALSE(noRoof.efficiency);
    CHECK(noRoof.missingRoofs == std::vector<std::string> { "fp8 tensor" });
    // With any work that has a roof the floor takes part as before.
    fp8.bytes["HBM"] = 1e3;
    REQUIRE(analyze(fp8, v100()).efficiency);
    CHECK(*analyze(fp8, v100()).efficiency == Approx(4.2e-3 / 25e-3));
}

TEST_CASE("far from every bound the limiter is latency / under-utilisation", "[roofline]")
{
    Item i = kernel("stall", 10e-3);
    i.bytes["HBM"] = 90e6; // 0.1 ms of 10 ms
    const Analysis a = analyze(i, v100());
    CHECK(*a.efficiency == Approx(0.01));
    CHECK(a.limiter == LimiterKind::Latency);
    CHECK(a.bindingKind == LimiterKind::Memory); // what would bind at the roof
    CHECK(a.bindingTerm == "HBM");
    ModelOptions lax;
    lax.latencyThreshold = 0.001;
    CHECK(analyze(i, v100(), lax).limiter == LimiterKind::Memory);
}

TEST_CASE("work without a roof is named, and an item faster than its bound is flagged", "[roofline]")
{
    Item i = kernel("fp8", 1e-3);
    i.flops[{ "fp8", true }] = 1e12;
    i.bytes["L1"] = 1e9;
    i.bytes["HBM"] = 1.8e9; // 2 ms: faster than HBM allows
    const Analysis a = analyze(i, v100());
    CHECK(a.missingRoofs == std::vector<std::string> { "fp8 tensor", "L1" });
    CHECK(a.aboveRoof);
    CHECK(*a.efficiency == 1.0);
    CHECK(a.lostSeconds == 0);
    Item none = kernel("none", 1e-3);
    none.countsLaunches = false;
    const Analysis b = analyze(none, v100());
    CHECK_FALSE(b.efficiency);
    CHECK(b.limiter == LimiterKind::Unknown);
}

TEST_CASE("items add: F, Q, T and N of a sum are sums", "[roofline]")
{
    Item a = kernel("k", 1e-3, 2);
    a.flops[{ "fp32", false }] = 1e9;
    a.bytes["HBM"] = 1e8;
    a.declaredFlops = 5e8;
    Item b = kernel("k", 3e-3, 3);
    b.flops[{ "fp32", false }] = 2e9;
    b.flops[{ "fp16", true }] = 4e9;
    b.bytes["L2"] = 1e7;
    Item s = a;
    s += b;
    CHECK(s.seconds == Approx(4e-3));
    CHECK(s.count == 5);
    CHECK(s.flops.at({ "fp32", false }) == 3e9);
    CHECK(s.flops.at({ "fp16", true }) == 4e9);
    CHECK(s.bytes.at("HBM") == 1e8);
    CHECK(s.bytes.at("L2") == 1e7);
    CHECK(*s.declaredFlops == 5e8);
    CHECK(s.totalFlops() == 7e9);
    // Analysing the sum is not the mean of the parts: roof times add, then compare with summed time.
    const Analysis sum = analyze(s, v100());
    CHECK(sum.computeTime == Approx(3e9 / 15.7e12 + 4e9 / 125e12));
    CHECK(*sum.executedOverDeclared == Approx(7e9 / 5e8));
}

TEST_CASE("paper: FP16 conv backward, time-based ranking differs from classic FLOP/s", "[roofline][paper]")
{
    // Wang et al., Table/Fig. for conv 3x3x64x512 stride 2, batch 16, V100 (roofline.md).
    struct Run {
        std::string name;
        double seconds;
        double flops;
    };
    const std::vector<Run> runs { { "TF2", 4.733e-3, 2.57e11 }, { "PyTorch", 1.889e-3, 8.65e10 },
        { "TF1", 1.340e-3, 5.93e10 } };
    std::vector<std::pair<std::string, Analysis>> results;
    for (const Run& r : runs) {
        Item i = kernel(r.name, r.seconds);
        i.flops[{ "fp16", true }] = r.flops;
        results.emplace_back(r.name, analyze(i, v100()));
    }
    CHECK(*results[0].second.flopsPerSecond / 1e12 == Approx(54.3).epsilon(0.005)); // the paper's 54.4 TFLOP/s
    // Classic view: highest FLOP/s first -> TF2 first.
    auto classic = results;
    std::sort(classic.begin(), classic.end(),
        [](const auto& a, const auto& b) { return *a.second.flopsPerSecond > *b.second.flopsPerSecond; });
    CHECK(classic.front().first == "TF2");
    // Time-based view: least lost time first -> TF1 first, TF2 last.
    auto timeBased = results;
    std::sort(timeBased.begin(), timeBased.end(),
        [](const auto& a, const auto& b) { return a.second.lostSeconds < b.second.lostSeconds; });
    CHECK(timeBased.front().first == "TF1");
    CHECK(timeBased.back().first == "TF2");
    // TF2 executed 4.3x the FLOPs of TF1: with TF1's work as the declared work, the ratio says so.
    Item tf2 = kernel("TF2", 4.733e-3);
    tf2.flops[{ "fp16", true }] = 2.57e11;
    tf2.declaredFlops = 5.93e10;
    CHECK(*analyze(tf2, v100()).executedOverDeclared == Approx(4.33).epsilon(0.01));
}

TEST_CASE("paper: TF1 LSTM forward, 2181 launches in 8.003 ms, is launch-bound", "[roofline][paper]")
{
    Item lstm = kernel("lstm_fwd", 8.003e-3, 2181);
    lstm.flops[{ "fp32", false }] = 2.0e9; // small GEMMs: 0.13 ms at the fp32 roof
    lstm.bytes["HBM"] = 2.0e8; // 0.22 ms
    const Analysis a = analyze(lstm, v100());
    CHECK(a.floorSeconds == Approx(2181 * 4.2e-6));
    CHECK(a.bindingKind == LimiterKind::Launch);
    CHECK(a.limiter == LimiterKind::Launch);
    // 3.7 us per launch, below the notebook's 4.2 us floor: launch-bound (the paper's reading), not a counter or
    // ceiling error, so not flagged; nothing is lost to the roof.
    CHECK_FALSE(a.aboveRoof);
    CHECK(*a.efficiency == 1.0);
    CHECK(a.lostSeconds == 0);
}

TEST_CASE("roofs come from the machine model's marked ceilings", "[roofline]")
{
    MachineModel m;
    auto add
        = [&](CeilingKind kind, const std::string& p, const std::string& variant, const std::string& level, double v) {
              Ceiling c;
              c.device = "gpu0";
              c.kind = kind;
              c.precision = p;
              c.variant = variant;
              c.level = level;
              c.pattern = "read";
              c.value = v;
              m.ceilings.push_back(c);
          };
    add(CeilingKind::Compute, "fp16", "tensor", "", 600e12);
    add(CeilingKind::Compute, "fp16", "fma", "", 120e12);
    add(CeilingKind::Compute, "fp16", "cublas", "", 750e12);
    m.ceilings.back().crossCheck = true;
    add(CeilingKind::Bandwidth, "", "", "HBM", 3e12);
    add(CeilingKind::Launch, "", "back_to_back", "", 2e-6);
    markRoofs(m);
    const Roofs r = Roofs::fromMachine(m, "gpu0");
    CHECK(r.peak.at({ "fp16", true }) == 750e12); // cuBLAS 25 % above WMMA becomes the roof
    CHECK(r.peak.at({ "fp16", false }) == 120e12);
    CHECK(r.bandwidth.at("HBM") == 3e12);
    CHECK(r.launchSeconds == 2e-6);
    CHECK(Roofs::fromMachine(m, "cpu").peak.empty());
}
