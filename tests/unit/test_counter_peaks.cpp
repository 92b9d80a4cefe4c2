// SPDX-License-Identifier: MIT
// Theoretical peaks from the GPU's own counters (`.peak_sustained` × the unit's clock): the arithmetic, which ceiling
// of a machine file each one joins, the machine file's 1.1 fields, and the choice of launch in a counters profile.
#include "rooftime/analyzer/format.h"
#include "rooftime/analyzer/machine.h"
#include "rooftime/analyzer/metrics.h"
#include "rooftime/analyzer/profile.h"
#include "rooftime/analyzer/profile_builder.h"
#include "rooftime/analyzer/report.h"

#include "process.h"
#include "two_kernels.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace rooftime::analyzer;

namespace {

const std::string kSass = "smsp__sass_thread_inst_executed_op_";
const std::string kSm = "sm__cycles_elapsed.avg.per_second";

/// One launch of an H100-shaped GPU (132 SMs × 4 SMSPs) at @p smHz: the per-cycle peaks of the whole chip.
std::map<std::string, double> hopperLaunch(double smHz)
{
    return {
        { kSm, smHz },
        { "dram__cycles_elapsed.avg.per_second", 2.6e9 },
        { "lts__cycles_elapsed.avg.per_second", 1.7e9 },
        { "l1tex__cycles_elapsed.avg.per_second", smHz },
        { kSass + "dfma_pred_on.sum.peak_sustained", 132 * 64 },
        { kSass + "ffma_pred_on.sum.peak_sustained", 132 * 128 },
        { kSass + "hfma_pred_on.sum.peak_sustained", 132 * 128 },
        // the H200's own values (session 13): wgmma's peak is twice mma.sync's, the 2:4-sparse rate
        { "sm__ops_path_tensor_op_hgmma_src_fp16.sum.peak_sustained", 132 * 8192 },
        { "sm__ops_path_tensor_op_hmma_src_fp16_dst_fp32.sum.peak_sustained", 132 * 4096 },
        { "dram__bytes.sum.peak_sustained", 1840 },
        { "lts__t_bytes.sum.peak_sustained", 5120 },
        { "l1tex__t_bytes.sum.peak_sustained", 132 * 128 },
        // work counters of the same launch are not peaks
        { kSass + "ffma_pred_on.sum", 1e9 },
    };
}

const CounterPeak* find(
    const std::vector<CounterPeak>& peaks, bool compute, const std::string& key, const std::string& pipe = "")
{
    for (const auto& p : peaks)
        if (p.compute == compute && (compute ? p.precision == key && p.pipe == pipe : p.level == key)) return &p;
    return nullptr;
}

std::string slurp(const std::string& path)
{
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

} // namespace

TEST_CASE("counter peaks: peak_sustained per cycle × weight × the unit's own clock", "[peaks]")
{
    const auto peaks = counterPeaks(hopperLaunch(1.98e9));
    REQUIRE(peaks.size() == 8);
    const CounterPeak* fp64 = find(peaks, true, "fp64", "fma");
    REQUIRE(fp64);
    CHECK(fp64->perCycle == Approx(132 * 64 * 2));
    CHECK(fp64->value == Approx(132 * 64 * 2 * 1.98e9)); // 33.5 TFLOP/s, the H100 SXM figure
    CHECK(fp64->hz == Approx(1.98e9));
    CHECK(fp64->method.find("dfma_pred_on.sum.peak_sustained 8448/cycle × 2 FLOP") != std::string::npos);
    CHECK(fp64->method.find("1980 MHz") != std::string::npos);
    // a packed half2 fma is 4 FLOPs, as in the work rules
    CHECK(find(peaks, true, "fp16", "fma")->value == Approx(132 * 128 * 4 * 1.98e9));
    // tensor operations count once; wgmma and mma.sync apart. wgmma's counter peak is its 2:4-sparse rate: the
    // dense roof is half of it (NVIDIA's 989 TFLOP/s at 1830 MHz), and the method says so.
    const CounterPeak* wgmma = find(peaks, true, "fp16", "hgmma");
    CHECK(wgmma->value == Approx(132 * 4096 * 1.98e9));
    CHECK_THAT(wgmma->method, Catch::Contains("1.08134e+06/cycle × 0.5 FLOP") && Catch::Contains("2:4-sparse"));
    CHECK(find(peaks, true, "fp16", "hmma")->value == Approx(132 * 4096 * 1.98e9));
    // bandwidth at its own unit's clock, not the SM's
    CHECK(find(peaks, false, "HBM")->value == Approx(1840 * 2.6e9));
    CHECK(find(peaks, false, "L2")->value == Approx(5120 * 1.7e9));
    CHECK(find(peaks, false, "L1")->value == Approx(132 * 128 * 1.98e9));
    CHECK(counterSmClock(hopperLaunch(1.5e9)) == Approx(1.5e9));

    // No clock, no peak: a per-cycle number alone is not a ceiling.
    auto noClock = hopperLaunch(1.98e9);
    noClock.erase(kSm);
    const auto left = counterPeaks(noClock);
    CHECK(left.size() == 3); // the three bandwidths keep their own clocks
    CHECK_FALSE(counterSmClock(noClock));
    CHECK(counterPeaks({ { kSass + "ffma_pred_on.sum", 5 } }).empty());
}

TEST_CASE("counter peaks are not reported as counters no rule reads", "[peaks]")
{
    const DerivedWork w = deriveWork(hopperLaunch(1.98e9), "sm_90");
    CHECK(w.unused.empty());
    CHECK(w.flops.at({ "fp32", false }) == Approx(2e9));
}

TEST_CASE("counter peaks join the machine file's GPU ceilings, and survive its round trip (1.1)", "[peaks]")
{
    MachineModel m = readMachineFile(rooftime::test::testData("machines/nvidia-h200-vm-1.0.json"));
    const auto peaks = counterPeaks(hopperLaunch(1.755e9));
    // Every GPU ceiling whose peak this launch has: the FMAs, WMMA fp16 (hmma), cuBLAS fp16 (hgmma); L1, L2 and HBM
    // of every pattern. Shared memory has no counter peak; bf16 and tf32 none in this launch.
    const int set = attachCounterPeaks(m, 0, peaks, counterSmClock(hopperLaunch(1.755e9)));
    auto ceiling = [&](CeilingKind kind, const std::string& key, const std::string& variant = "",
                       const std::string& pattern = "read") -> const Ceiling& {
        for (const auto& c : m.ceilings)
            if (c.device == "gpu0" && c.kind == kind
                && (kind == CeilingKind::Compute ? c.precision == key && c.variant == variant
                                                 : c.level == key && c.pattern == pattern))
                return c;
        FAIL("no ceiling " << key << " " << variant << pattern);
        throw std::logic_error("unreachable");
    };
    CHECK(ceiling(CeilingKind::Compute, "fp32", "fma").counterTheoretical == Approx(132 * 128 * 2 * 1.755e9));
    CHECK(ceiling(CeilingKind::Compute, "fp16", "tensor").counterTheoretical == Approx(132 * 4096 * 1.755e9));
    CHECK(ceiling(CeilingKind::Compute, "fp16", "cublas").counterTheoretical == Approx(132 * 4096 * 1.755e9));
    CHECK_FALSE(ceiling(CeilingKind::Compute, "bf16", "tensor").counterTheoretical);
    CHECK_FALSE(ceiling(CeilingKind::Bandwidth, "shared").counterTheoretical);
    CHECK(ceiling(CeilingKind::Bandwidth, "HBM", "", "write").counterTheoretical == Approx(1840 * 2.6e9));
    CHECK(ceiling(CeilingKind::Bandwidth, "L2", "", "copy").counterTheoretical == Approx(5120 * 1.7e9));
    std::size_t expected = 0;
    for (const auto& c : m.ceilings)
        expected += c.counterTheoretical ? 1 : 0;
    CHECK(set == static_cast<int>(expected));
    CHECK(set == 3 + 1 + 1 + 1 + 3 + 3); // FMA ×3, WMMA fp16 (hmma), cuBLAS fp16 (hgmma), L1 read, L2 and HBM ×3
    // The CPU's ceilings and another GPU's are untouched.
    for (const auto& c : m.ceilings)
        if (c.device != "gpu0") CHECK_FALSE(c.counterTheoretical);
    CHECK(m.gpus.at(0).smCounterHz == Approx(1.755e9));
    CHECK(attachCounterPeaks(m, 1, peaks, 1e9) == 0);

    const MachineModel back = parseMachine(serializeMachine(m), "round trip");
    CHECK(back.minor == kMachineMinor); // written as the current version, 1.1 fields kept
    CHECK(back.gpus.at(0).smCounterHz == Approx(1.755e9));
    std::size_t kept = 0;
    for (std::size_t i = 0; i < m.ceilings.size(); ++i) {
        REQUIRE(back.ceilings[i].counterTheoretical.has_value() == m.ceilings[i].counterTheoretical.has_value());
        if (!m.ceilings[i].counterTheoretical) continue;
        ++kept;
        CHECK(*back.ceilings[i].counterTheoretical == Approx(*m.ceilings[i].counterTheoretical));
        CHECK(back.ceilings[i].counterTheoreticalMethod == m.ceilings[i].counterTheoreticalMethod);
    }
    CHECK(kept == expected);
    // --show: a counters column with its ratio; the 1.0 file without peaks keeps its old columns.
    const std::string text = formatMachineText(back);
    CHECK(text.find("counters  ratio") != std::string::npos);
    CHECK(text.find("SM clock under counters: 1.755 GHz") != std::string::npos);
    const std::string plain
        = formatMachineText(readMachineFile(rooftime::test::testData("machines/nvidia-h200-vm-1.0.json")));
    CHECK(plain.find("counters") == std::string::npos);
    // A 1.0 file reads as before: no counter values.
    const MachineModel old = parseMachine(slurp(rooftime::test::testData("machines/nvidia-h200-vm-1.0.json")), "old");
    CHECK(old.minor == 0);
    CHECK(old.gpus.at(0).smCounterHz == 0);
}

TEST_CASE("profile peaks: the longest measured launch of the GPU, averaged over its measured launches", "[peaks]")
{
    const std::string dir = rooftime::test::scratchDir("counter-peaks");
    const std::string path = dir + "/probe.rtdb";
    {
        ProfileBuilder b(path, "gpu-node", "rooftime-ceilings-gpu", "rooftime-ceilings-gpu --probe");
        b.addDevice(0, "NVIDIA H100", "sm_90", 132);
        b.addDevice(1, "NVIDIA H100", "sm_90", 132);
        KernelRecord k;
        auto launch = [&](std::int64_t id, const std::string& name, std::int64_t device, std::int64_t ns, double hz,
                          bool replayed) {
            k.id = id;
            k.name = name;
            k.device = device;
            k.durationNs = ns;
            k.replayed = replayed;
            b.addKernel(k);
            if (!replayed) return;
            for (const auto& [metric, v] : hopperLaunch(hz))
                b.addKernelMetric(id, metric, v, "");
        };
        // warm-up: many short launches, the first measured at a low clock
        launch(1, "fmaKernel<double>", 0, 50'000, 1.2e9, true);
        for (int i = 2; i < 10; ++i)
            launch(i, "fmaKernel<double>", 0, 10'000'000, 0, false);
        // the probe launch: measured twice (mean clock 1.9 GHz) and longer per launch than the warm-up's mean
        launch(20, "void fmaKernel<float>(int, float*)", 0, 9'000'000, 1.8e9, true);
        launch(21, "void fmaKernel<float>(int, float*)", 0, 9'000'000, 2.0e9, true);
        // another GPU's longer launch is not this one's
        launch(30, "other", 1, 90'000'000, 1.0e9, true);
        b.finish(200'000'000);
    }
    const Profile p = Profile::open(path);
    const ProfilePeaks peaks = profilePeaks(p, 0);
    CHECK(peaks.kernel == "void fmaKernel<float>(int, float*)");
    REQUIRE(peaks.smHz);
    CHECK(*peaks.smHz == Approx(1.9e9));
    const CounterPeak* fp32 = find(peaks.peaks, true, "fp32", "fma");
    REQUIRE(fp32);
    CHECK(fp32->value == Approx(132 * 128 * 2 * 1.9e9));
    CHECK(profilePeaks(p, 1).kernel == "other");
    CHECK(profilePeaks(p, 2).peaks.empty());
    // Named: the warm-up's first launch, measured at 1.2 GHz, only when asked for by name.
    const ProfilePeaks warmUp = profilePeaks(p, 0, "fmaKernel<double>");
    CHECK(warmUp.kernel == "fmaKernel<double>");
    CHECK(*warmUp.smHz == Approx(1.2e9));
    CHECK(profilePeaks(p, 0, "fmaKernel<float>").kernel == "void fmaKernel<float>(int, float*)");
    CHECK(profilePeaks(p, 0, "gemm").peaks.empty());
}

TEST_CASE("report: each kernel's SM clock under counters, and those that ran well below the model's clock", "[peaks]")
{
    const std::string path = rooftime::test::scratchDir("counter-clocks") + "/run.rtdb";
    {
        ProfileBuilder b(path, "gpu-node", "train.py", "python train.py");
        b.addDevice(0, "NVIDIA H200", "sm_90", 132);
        KernelRecord k;
        auto launch = [&](std::int64_t id, const std::string& name, std::optional<double> hz) {
            k.id = id;
            k.name = name;
            k.durationNs = 1'000'000;
            k.replayed = true;
            b.addKernel(k);
            b.addKernelMetric(id, kSass + "ffma_pred_on.sum", 1e9, "inst");
            if (hz) b.addKernelMetric(id, kSm, *hz, "cycle/second");
        };
        launch(1, "fast", 1.98e9);
        launch(2, "slow", 1.1e9);
        launch(3, "slow", 1.3e9);
        launch(4, "unclocked", std::nullopt); // recorded where the clock would have cost a pass
        launch(5, "slow", std::nullopt); // a measured launch without the clock does not pull the mean down
        b.finish(10'000'000);
    }
    std::vector<Profile> profiles;
    profiles.push_back(Profile::open(path));
    const MachineModel h200 = readMachineFile(rooftime::test::testData("machines/nvidia-h200-vm-1.0.json"));
    ReportOptions options;
    options.by = ReportBy::Kernel;
    const Report report = buildReport(profiles, &h200, options);
    std::map<std::string, std::optional<double>> clock;
    for (const auto& r : report.rows)
        clock[r.name] = r.smClockHz;
    CHECK(clock.at("fast") == Approx(1.98e9));
    CHECK(clock.at("slow") == Approx(1.2e9)); // the mean of its measured launches that counted the clock
    CHECK_FALSE(clock.at("unclocked"));
    const FormatOptions wide { 0, 1000 }; // one line, unwrapped
    const std::string text = formatReport(report, OutputFormat::Text, wide);
    CHECK(text.find("SM clock under counters: 1.200–1.980 GHz over 2 kernels; the machine model's roofs were "
                    "measured at 1.978 GHz (1 kernel ran more than 10% below it")
        != std::string::npos);
    const auto json = nlohmann::json::parse(formatReport(report, OutputFormat::Json, {}));
    std::size_t withClock = 0;
    for (const auto& row : json["rows"])
        if (!row["sm_clock_hz"].is_null()) ++withClock;
    CHECK(withClock == 2);
    // Without a machine model: the clocks alone.
    const std::string bare = formatReport(buildReport(profiles, nullptr, options), OutputFormat::Text, {});
    CHECK(bare.find("SM clock under counters: 1.200–1.980 GHz over 2 kernels.") != std::string::npos);
    // Counters without clocks: no line.
    const std::string old = rooftime::test::scratchDir("counter-clocks-none") + "/run.rtdb";
    rooftime::test::writeTwoKernelProfile(old, nullptr, 1e9);
    std::vector<Profile> oldProfiles;
    oldProfiles.push_back(Profile::open(old));
    const Report noClocks = buildReport(oldProfiles, &h200, options);
    CHECK(noClocks.rows.size() == 2);
    CHECK(formatReport(noClocks, OutputFormat::Text, {}).find("SM clock") == std::string::npos);
}
