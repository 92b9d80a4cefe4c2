// SPDX-License-Identifier: MIT
// Time-based report rows from a synthetic GPU profile: counters scaled from replayed launches, limiters,
// ranking by lost time, launch configurations, and the summary.
#include "rooftime/analyzer/format.h"
#include "rooftime/analyzer/profile_builder.h"
#include "rooftime/analyzer/report.h"

#include "gpu_machine.h"
#include "process.h"
#include "report_of.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>

using namespace rooftime::analyzer;
using rooftime::test::scratchDir;

namespace {

const char* const kMachine = rooftime::test::kGpuMachineJson;

const std::string kFfma = "smsp__sass_thread_inst_executed_op_ffma_pred_on.sum";

KernelRecord launch(std::int64_t id, const std::string& name, std::int64_t ns, bool replayed, std::int64_t grid = 128)
{
    KernelRecord k;
    k.id = id;
    k.name = name;
    k.durationNs = ns;
    k.replayed = replayed;
    k.grid[0] = grid;
    k.grid[1] = k.grid[2] = 1;
    k.block[0] = 256;
    k.block[1] = k.block[2] = 1;
    return k;
}

std::string buildProfile(const std::string& dir)
{
    const std::string path = dir + "/gpu.rtdb";
    ProfileBuilder b(path, "gpu-node", "train.py", "python train.py");
    b.addDevice(0, "NVIDIA H100", "sm_90", 132);
    b.addMachine("test", kMachine);
    // gemm: 3 launches of 1 ms, the first replayed: 10e9 FFMA = 20 GFLOP fp32, 2 GB HBM.
    b.addKernel(launch(1, "gemm", 1'000'000, true));
    b.addKernelMetric(1, kFfma, 10e9, "inst");
    b.addKernelMetric(1, "dram__bytes_read.sum", 1.5e9, "byte");
    b.addKernelMetric(1, "dram__bytes_write.sum", 0.5e9, "byte");
    b.addKernelMetric(1, "gpu__time_duration.sum", 1.1e6, "nsecond");
    b.addKernel(launch(2, "gemm", 1'000'000, false));
    b.addKernel(launch(3, "gemm", 1'000'000, false, 256)); // another grid
    // copy: one launch of 2 ms moving 3 GB through HBM: memory-bound at 1 ms.
    b.addKernel(launch(4, "copy", 2'000'000, true));
    b.addKernelMetric(4, "dram__bytes_read.sum", 1.5e9, "byte");
    b.addKernelMetric(4, "dram__bytes_write.sum", 1.5e9, "byte");
    // tiny: 1000 launches of 2.5 us, no counters: the launch floor (2 ms) binds.
    for (int i = 0; i < 1000; ++i)
        b.addKernel(launch(100 + i, "tiny", 2'500, false, 1));
    b.finish(10'000'000);
    return path;
}

/// The text with its wrapped lines joined, for phrases that may wrap.
/// The text with its wrapped lines joined: a line break and the next line's indentation become one space.
std::string oneLine(const std::string& text)
{
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '\n') {
            out += text[i];
            continue;
        }
        out += ' ';
        while (i + 1 < text.size() && text[i + 1] == ' ')
            ++i;
    }
    return out;
}

Report kernelReport(const std::vector<std::string>& paths)
{
    return rooftime::test::reportOf(paths, ReportBy::Kernel);
}

const ReportRow& row(const Report& r, const std::string& name)
{
    for (const auto& x : r.rows)
        if (x.name == name) return x;
    FAIL("no row " << name);
    throw 0;
}

} // namespace

TEST_CASE("kernels: counters scaled from replayed launches, each limiter, ranked by lost time", "[report]")
{
    std::vector<Profile> profiles;
    profiles.push_back(Profile::open(buildProfile(scratchDir("report_roofline"))));
    ReportOptions options;
    options.by = ReportBy::Kernel;
    const Report r = buildReport(profiles, nullptr, options);
    REQUIRE(r.machine);
    REQUIRE(r.rows.size() == 3);

    const ReportRow& gemm = row(r, "gemm");
    CHECK(gemm.count == 3);
    CHECK(gemm.replayed == 1);
    CHECK(gemm.workSource == Source::Estimated);
    CHECK(gemm.device == "gpu0");
    CHECK(gemm.timeSeconds == Approx(3e-3));
    CHECK(*gemm.flops == Approx(3 * 20e9)); // 2 FLOPs per FFMA, ×3 launches
    CHECK(gemm.bytesByLevel.at("HBM") == Approx(3 * 2e9));
    // The one replayed launch is the whole sample; the other two took as long.
    REQUIRE(gemm.workSpread);
    CHECK(gemm.workSpread->launches == 1);
    CHECK(gemm.workSpread->flopsMin == Approx(20e9));
    CHECK(gemm.workSpread->flopsMax == Approx(20e9));
    CHECK(gemm.workSpread->bytesMax == Approx(2e9));
    CHECK(gemm.workSpread->flopsSpread() == 0);
    CHECK(gemm.workSpread->unmeasured == 2);
    // One of the two unmeasured launches ran in a configuration (grid 256) the measured one did not have.
    CHECK(gemm.workSpread->unmeasuredOtherConfig == 1);
    CHECK(gemm.workSpread->doubts()
        == std::vector<std::string> { "1 of 2 unmeasured launches in a launch configuration no measured one had" });
    REQUIRE(gemm.workSpread->unmeasuredTimeRatio);
    CHECK(*gemm.workSpread->unmeasuredTimeRatio == Approx(1.0));
    REQUIRE(gemm.roof);
    // compute 60e9/50e12 = 1.2 ms, HBM 6e9/3e12 = 2 ms: memory-bound, 2 ms of 3 ms.
    CHECK(gemm.roof->limiter == LimiterKind::Memory);
    CHECK(gemm.roof->bindingTerm == "HBM");
    CHECK(*gemm.roof->efficiency == Approx(2.0 / 3));
    CHECK(gemm.roof->lostSeconds == Approx(1e-3));

    const ReportRow& copy = row(r, "copy");
    CHECK(copy.workSource == Source::Measured);
    CHECK(copy.roof->boundSeconds == Approx(1e-3));
    CHECK(copy.roof->lostSeconds == Approx(1e-3));

    const ReportRow& tiny = row(r, "tiny");
    CHECK(tiny.workSource == Source::None);
    CHECK_FALSE(tiny.workSpread);
    // No work: 2.5 ms above its 2 ms launch floor says nothing of its roof, so no efficiency, loss or limiter.
    CHECK(tiny.roof->floorSeconds == Approx(2e-3));
    CHECK_FALSE(tiny.roof->efficiency);
    CHECK(tiny.roof->limiter == LimiterKind::Unknown);
    CHECK(tiny.roof->lostSeconds == 0);

    // Ranked by lost time; ties (gemm and copy, 1 ms each) by time.
    CHECK(r.rows[0].name == "gemm");
    CHECK(r.rows[1].name == "copy");
    CHECK(r.rows[2].name == "tiny");
    CHECK(r.summary.items == 2);
    CHECK(r.summary.floorOnly == 0);
    CHECK(r.summary.unknown == 1); // tiny: named in the summary as not analysed
    CHECK(r.summary.unknownSeconds == Approx(2.5e-3));
    CHECK(r.summary.lostSeconds == Approx(2e-3));
    REQUIRE(r.summary.lostByLimiter.size() == 1);
    CHECK(r.summary.lostByLimiter[0].first == "HBM");
    CHECK(r.summary.lostByLimiter[0].second == Approx(2e-3));

    const auto j = nlohmann::json::parse(formatReport(r, OutputFormat::Json, {}));
    CHECK(j["by"] == "kernel");
    CHECK(j["rows"][0]["roof"]["limiter"] == "memory");
    CHECK(j["rows"][0]["roof"]["memory_s"]["HBM"].get<double>() == Approx(2e-3));
    CHECK(j["rows"][0]["flops_by_class"]["fp32"].get<double>() == Approx(60e9));
    CHECK(j["summary"]["lost_s"].get<double>() == Approx(2e-3));
    CHECK(j["rows"][2]["roof"]["efficiency"].is_null());
    CHECK(j["rows"][2]["roof"]["lost_s"].is_null()); // unknown, as in the text, not 0
    CHECK(j["rows"][2]["roof"]["bound_s"].is_null());
    CHECK(j["rows"][2]["roof"]["floor_s"].get<double>() == Approx(2e-3));
    const std::string text = formatReport(r, OutputFormat::Text, { 0, 120 });
    CHECK(text.find("2 kernels with known work cover") != std::string::npos);
    CHECK(oneLine(text).find("Not analysed: 1 kernel without known work above the launch floor (2.5 ms).")
        != std::string::npos);
    CHECK(text.find("held by HBM") != std::string::npos);
    CHECK(oneLine(text).find("Sources: the FLOPs and bytes of 2 kernel rows come from counters: 1 measured on every "
                             "launch, 1 scaled from the 2 launches replayed (of 4). 1 kernel row (1000 launches) has "
                             "no counters")
        != std::string::npos);
    CHECK(oneLine(text).find("The scaled work of 1 row may be off, the unmeasured launches doing other work than the "
                             "measured ones (another size under the same name; `record --counters all` measures "
                             "every launch): gemm (1 of 2 unmeasured launches in a launch configuration no measured "
                             "one had).")
        != std::string::npos);
    CHECK(j["rows"][0]["work_per_launch"]["launches_sampled"] == 1);
    CHECK(j["rows"][0]["work_per_launch"]["unmeasured_time_ratio"].get<double>() == Approx(1.0));
}

TEST_CASE("scaled kernel work: the spread of the sampled launches, and unmeasured launches of another size", "[report]")
{
    const std::string path = scratchDir("report_work_spread") + "/spread.rtdb";
    {
        ProfileBuilder b(path, "gpu-node", "train.py", "python train.py");
        b.addDevice(0, "NVIDIA H100", "sm_90", 132);
        b.addMachine("test", kMachine);
        // "grow": three replayed launches of 10 us doing 1, 1.2 and 1 G FFMA; seven more of 30 us not replayed, four
        // of them in a bigger grid (another size under the same name). "steady": ten launches alike, three
        // replayed. "cold": like steady, but the first replayed launch reads three times the bytes (cold caches).
        for (int i = 0; i < 10; ++i) {
            b.addKernel(launch(1 + i, "grow", i < 3 ? 10'000 : 30'000, i < 3, i >= 6 ? 512 : 128));
            b.addKernel(launch(100 + i, "steady", 20'000, i < 3));
            b.addKernel(launch(200 + i, "cold", 20'000, i < 3));
            if (i < 3) {
                b.addKernelMetric(1 + i, kFfma, i == 1 ? 1.2e9 : 1e9, "inst");
                b.addKernelMetric(1 + i, "dram__bytes_read.sum", 1e6, "byte");
                b.addKernelMetric(100 + i, kFfma, 5e8, "inst");
                b.addKernelMetric(100 + i, "dram__bytes_read.sum", 2e6, "byte");
                b.addKernelMetric(200 + i, kFfma, 5e8, "inst");
                b.addKernelMetric(200 + i, "dram__bytes_read.sum", i == 0 ? 6e6 : 2e6, "byte");
            }
        }
        b.finish(1'000'000);
    }
    const Report r = kernelReport({ path });
    const ReportRow& grow = row(r, "grow");
    REQUIRE(grow.workSpread);
    CHECK(grow.workSpread->launches == 3);
    CHECK(grow.workSpread->flopsMin == Approx(2e9));
    CHECK(grow.workSpread->flopsMax == Approx(2.4e9));
    CHECK(grow.workSpread->flopsSpread() == Approx(0.4 / 2.4));
    CHECK(grow.workSpread->unmeasured == 7);
    CHECK(grow.workSpread->unmeasuredOtherConfig == 4);
    CHECK(*grow.workSpread->unmeasuredTimeRatio == Approx(3.0));
    CHECK(grow.workSpread->replayedMeanSeconds == Approx(10e-6));
    CHECK(grow.workSpread->doubts()
        == std::vector<std::string> { "FLOPs per launch differ by 17% over the 3 measured",
            "4 of 7 unmeasured launches in a launch configuration no measured one had" });
    CHECK(*grow.flops == Approx(10 * 2 * 3.2e9 / 3)); // the mean replayed launch, for all ten
    const ReportRow& steady = row(r, "steady");
    CHECK(steady.workSpread->flopsSpread() == 0);
    CHECK(*steady.workSpread->unmeasuredTimeRatio == Approx(1.0));
    CHECK(steady.workSpread->doubts().empty());
    const ReportRow& cold = row(r, "cold");
    CHECK(cold.workSpread->bytesMax == Approx(6e6));
    CHECK(cold.workSpread->bytesMin == Approx(2e6));
    CHECK(cold.workSpread->doubts().empty()); // bytes of a cold first launch are no other size
    const std::string text = oneLine(formatReport(r, OutputFormat::Text, { 0, 200 }));
    INFO(text);
    CHECK(text.find("0 measured on every launch, 3 scaled from the 9 launches replayed (of 30)") != std::string::npos);
    CHECK(text.find("The scaled work of 1 row may be off") != std::string::npos);
    CHECK(text.find("grow (FLOPs per launch differ by 17% over the 3 measured, 4 of 7 unmeasured launches in a launch "
                    "configuration no measured one had)")
        != std::string::npos);
    CHECK(text.find("steady (") == std::string::npos);
    const auto j = nlohmann::json::parse(formatReport(r, OutputFormat::Json, {}));
    for (const auto& jr : j["rows"])
        if (jr["name"] == "grow") {
            CHECK(jr["work_per_launch"]["unmeasured_other_config"] == 4);
            CHECK(jr["work_per_launch"]["doubts"].size() == 2);
        }
}

TEST_CASE("kernels by launch configuration are separate rows", "[report]")
{
    std::vector<Profile> profiles;
    profiles.push_back(Profile::open(buildProfile(scratchDir("report_roofline_config"))));
    ReportOptions options;
    options.by = ReportBy::Kernel;
    options.withLaunchConfig = true;
    const Report r = buildReport(profiles, nullptr, options);
    int gemms = 0;
    for (const auto& x : r.rows)
        if (x.name == "gemm") {
            ++gemms;
            CHECK((x.config == "grid(128,1,1) block(256,1,1)" || x.config == "grid(256,1,1) block(256,1,1)"));
            // The grid-256 launch was not replayed (the collector replays a name's first launches): it takes the
            // name's mean launch, estimated, with its time against the measured launch's.
            if (x.config == "grid(256,1,1) block(256,1,1)") {
                CHECK(x.workSource == Source::Estimated);
                CHECK(x.replayed == 0);
                CHECK(*x.flops == Approx(20e9));
                REQUIRE(x.workSpread);
                CHECK(*x.workSpread->unmeasuredTimeRatio == Approx(1.0));
            }
        }
    CHECK(gemms == 2);
}

TEST_CASE("regions: declared work against the CPU roofs, without a model no roof", "[report]")
{
    const std::string dir = scratchDir("report_roofline_regions");
    std::vector<Profile> profiles;
    profiles.push_back(Profile::open(rooftime::test::testData("profiles/golden-v1.0.rtdb")));
    MachineModel m = readMachineFile(rooftime::test::testData("machines/amd-epyc-zen3-2vcpu-vm.json"));
    const Report r = buildReport(profiles, &m);
    const ReportRow& triad = row(r, "triad");
    REQUIRE(triad.roof);
    // 600 kFLOP fp64 and 7.2 MB against DRAM: memory-bound at the machine's DRAM triad roof.
    const double dram = m.bandwidthRoof("cpu", "DRAM")->value;
    CHECK(triad.roof->memorySeconds.at("DRAM") == Approx(7.2e6 / dram));
    CHECK(triad.roof->bindingTerm == "DRAM");
    CHECK(triad.roof->floorSeconds == 0); // regions are not launches
    CHECK_FALSE(row(r, "init").roof);
    ReportOptions fp32;
    fp32.declaredPrecision = "fp32";
    CHECK(buildReport(profiles, &m, fp32).rows[0].flopsByClass.count({ "fp32", false }) == 1);
    const Report none = buildReport(profiles);
    CHECK_FALSE(row(none, "triad").roof);
    CHECK(formatReport(none, OutputFormat::Text, {}).find("No roof columns: no machine model") != std::string::npos);
}

TEST_CASE("windows: per instance of a named range and fixed durations", "[report]")
{
    std::vector<Profile> profiles;
    profiles.push_back(Profile::open(rooftime::test::testData("profiles/golden-v1.0.rtdb")));
    MachineModel m = readMachineFile(rooftime::test::testData("machines/amd-epyc-zen3-2vcpu-vm.json"));
    ReportOptions byStep;
    byStep.by = ReportBy::Window;
    byStep.windowRange = "triad";
    const Report steps = buildReport(profiles, &m, byStep);
    REQUIRE(steps.rows.size() == 3);
    double total = 0;
    for (const auto& r : steps.rows) {
        CHECK(r.kind == "window");
        CHECK(r.count == 1);
        CHECK(*r.flops == 200000); // each triad instance declared 2 FLOPs x 100000
        CHECK(r.workSource == Source::Declared);
        REQUIRE(r.roof);
        CHECK(r.roof->bindingTerm == "DRAM");
        total += r.timeSeconds;
    }
    CHECK(total == Approx(row(buildReport(profiles, &m), "triad").timeSeconds));
    // A name no region has is an error naming the ones there, not a report without regions.
    byStep.windowRange = "Triad";
    try {
        buildReport(profiles, &m, byStep);
        FAIL("no error for a --window-range no region has");
    } catch (const ReportError& e) {
        CHECK_THAT(e.what(), Catch::Contains("--window-range 'Triad': no region or NVTX range of that name"));
        CHECK_THAT(e.what(), Catch::Contains("'triad' (3)"));
    }

    ReportOptions fixed;
    fixed.by = ReportBy::Window;
    fixed.windowSeconds = 1e-3;
    const Report ms = buildReport(profiles, &m, fixed);
    CHECK(ms.rows.size() == 5); // 4.63 ms of run time
    double flops = 0, time = 0;
    for (const auto& r : ms.rows) {
        flops += r.flops.value_or(0);
        time += r.timeSeconds;
    }
    CHECK(flops == 600000);
    CHECK(time == Approx(profiles[0].runSeconds()));
    // A timeline reads in time order: the windows as built, whatever the lost-time ranking made of them.
    Report timeline = ms;
    sortRows(timeline, SortKey::Name);
    sortRows(timeline, SortKey::Start);
    REQUIRE(timeline.rows.size() == 5);
    CHECK(timeline.rows[0].name.rfind("0 s–", 0) == 0);
    for (std::size_t i = 0; i < timeline.rows.size(); ++i)
        CHECK(timeline.rows[i].built == i);
}

TEST_CASE("windows over kernel launches: per-launch counters of the signature, launch floor", "[report]")
{
    const std::string path = scratchDir("report_windows_gpu") + "/gpu.rtdb";
    {
        ProfileBuilder b(path, "gpu-node", "train.py", "python train.py");
        b.addDevice(0, "NVIDIA H100", "sm_90", 132);
        b.addMachine("test", kMachine);
        // Two steps of 10 ms; each runs gemm once (1 ms) and 500 tiny kernels. gemm's one replayed launch
        // measured 10e9 FFMA: every gemm launch is counted with that.
        std::int64_t id = 1;
        for (int step = 0; step < 2; ++step) {
            const std::int64_t t0 = step * 10'000'000;
            KernelRecord g = launch(id, "gemm", 1'000'000, step == 0);
            g.startNs = t0;
            b.addKernel(g);
            if (step == 0) b.addKernelMetric(id, kFfma, 10e9, "inst");
            ++id;
            for (int i = 0; i < 500; ++i, ++id) {
                KernelRecord k = launch(id, "tiny", 2'000, false, 1);
                k.startNs = t0 + 1'000'000 + i * 10'000;
                b.addKernel(k);
            }
        }
        b.finish(20'000'000);
    }
    std::vector<Profile> profiles;
    profiles.push_back(Profile::open(path));
    ReportOptions options;
    options.by = ReportBy::Window;
    options.windowSeconds = 10e-3;
    const Report r = buildReport(profiles, nullptr, options);
    REQUIRE(r.rows.size() == 2);
    for (const auto& w : r.rows) {
        CHECK(w.count == 501);
        CHECK(w.device == "gpu0");
        CHECK(*w.flops == Approx(20e9));
        CHECK(w.workSource == Source::Estimated);
        REQUIRE(w.roof);
        // 501 launches x 2 us = 1.002 ms of launch floor against 0.4 ms of fp32 compute: launch-bound.
        CHECK(w.roof->floorSeconds == Approx(501 * 2e-6));
        CHECK(w.roof->bindingKind == LimiterKind::Launch);
        CHECK(w.timeSeconds == Approx(10e-3));
    }
}

TEST_CASE(
    "report --machine is checked against the hardware the profiles were recorded on, not the reader's", "[report]")
{
    const std::string path = scratchDir("report_machine_mismatch") + "/plain.rtdb";
    {
        ProfileBuilder b(path, "gpu-node", "train.py", "python train.py"); // no embedded model
        b.addDevice(0, "NVIDIA H100", "sm_90", 132);
        b.addKernel(launch(1, "gemm", 1'000'000, false));
        b.addDiagnostic("cupti", "CUPTI dropped 12 GPU activity records");
        b.addDiagnostic("cupti", "counters on GH100: 19 metrics, 2 passes per measured launch (kernel replay)");
        b.finish(2'000'000);
    }
    std::vector<Profile> profiles;
    profiles.push_back(Profile::open(path));
    const HardwareIdentity recorded = recordedHardware(profiles.front());
    CHECK(recorded.partial);
    CHECK(recorded.host == "gpu-node");
    CHECK(recorded.gpuModels == std::vector<std::string> { "NVIDIA H100" });

    MachineModel same = parseMachine(kMachine, "h100.json");
    same.identity = { "gpu-node", "Some CPU", 64, { "NVIDIA H100", "NVIDIA H100" } };
    ReportOptions byKernel;
    byKernel.by = ReportBy::Kernel;
    const Report sameReport = buildReport(profiles, &same, byKernel);
    CHECK(sameReport.machineWarnings.empty());
    // Records CUPTI dropped are a warning (kernels are missing), other diagnostics notes.
    const std::string sameText = formatReport(sameReport, OutputFormat::Text, { 0, 100 });
    CHECK(sameText.find("    warning: cupti: CUPTI dropped 12 GPU activity records\n") != std::string::npos);
    CHECK(sameText.find("    note: cupti: counters on GH100") != std::string::npos);
    // A time-mode profile: the report says where FLOPs and bytes would come from.
    CHECK(oneLine(formatReport(sameReport, OutputFormat::Text, { 0, 100 }))
              .find("Sources: 1 kernel row (1 launch) with times only: no counters were recorded (`rooftime record "
                    "--mode counters` measures FLOPs and bytes on the first launches of each kernel).")
        != std::string::npos);

    MachineModel laptop = same;
    laptop.origin = "laptop.json";
    laptop.identity = { "laptop", "Laptop CPU", 8, {} };
    const Report r = buildReport(profiles, &laptop, {});
    REQUIRE(r.machineWarnings.size() == 1);
    CHECK(r.machineWarnings[0]
        == "machine file 'laptop.json' was measured on other hardware than '" + path
            + "' was recorded on: host 'laptop' (recorded on 'gpu-node'), GPUs 'no GPU' (recorded on 'NVIDIA H100'); "
              "using it anyway");
    // The text wraps it rather than cutting out the differences.
    CHECK(oneLine(formatReport(r, OutputFormat::Text, { 0, 80 }))
              .find("GPUs 'no GPU' (recorded on 'NVIDIA H100'); using it anyway")
        != std::string::npos);

    // A profile embedding the model of its own host: the whole identity counts (here the CPU).
    const std::string embedded = scratchDir("report_machine_mismatch") + "/embedded.rtdb";
    {
        MachineModel own = same;
        own.cpu.model = "Recording CPU"; // the identity's CPU is read from it
        ProfileBuilder b(embedded, "gpu-node", "train.py", "python train.py");
        b.addDevice(0, "NVIDIA H100", "sm_90", 132);
        b.addMachine("own", serializeMachine(own));
        b.addKernel(launch(1, "gemm", 1'000'000, false));
        b.finish(2'000'000);
    }
    std::vector<Profile> withModel;
    withModel.push_back(Profile::open(embedded));
    CHECK_FALSE(recordedHardware(withModel.front()).partial);
    const Report e = buildReport(withModel, &same, {});
    REQUIRE(e.machineWarnings.size() == 1);
    CHECK_THAT(e.machineWarnings[0], Catch::Contains("CPU 'Some CPU' (recorded on 'Recording CPU')"));
}

TEST_CASE(
    "work spread over merged profiles: configurations measured in either, samples without FLOP counters", "[report]")
{
    const std::string dir = scratchDir("report_spread_merge");
    // Rank 0 replays grid 128 and runs grid 256 unmeasured; rank 1 the other way round, recorded with a counter set
    // without FFMA. Merged, every configuration was measured somewhere, and rank 1's samples have no FLOPs to compare.
    for (int rank = 0; rank < 2; ++rank) {
        ProfileBuilder b(dir + "/r" + std::to_string(rank) + ".rtdb", "gpu-node", "train.py", "python train.py");
        b.addDevice(0, "NVIDIA H100", "sm_90", 132);
        b.addMachine("test", kMachine);
        const std::int64_t measured = rank == 0 ? 128 : 256, other = rank == 0 ? 256 : 128;
        for (int i = 0; i < 5; ++i) {
            b.addKernel(launch(1 + i, "k", 10'000, i < 3, i < 3 ? measured : other));
            if (i < 3) {
                if (rank == 0) b.addKernelMetric(1 + i, kFfma, 1e9, "inst");
                b.addKernelMetric(1 + i, "dram__bytes_read.sum", 1e6, "byte");
            }
        }
        b.finish(1'000'000);
    }
    // Alone, rank 0 never measured grid 256.
    CHECK(Profile::open(dir + "/r0.rtdb").aggregateKernels(false).at(0).unmeasuredOtherConfig() == 2);
    const Report r = kernelReport({ dir + "/r0.rtdb", dir + "/r1.rtdb" });
    const ReportRow& k = row(r, "k");
    REQUIRE(k.workSpread);
    CHECK(k.workSpread->launches == 6);
    CHECK(k.workSpread->unmeasured == 4);
    CHECK(k.workSpread->unmeasuredOtherConfig == 0);
    CHECK(k.workSpread->flopsMin == Approx(2e9)); // rank 1's samples have no FFMA counter, not 0 FLOPs
    CHECK(k.workSpread->flopsSpread() == 0);
    CHECK(k.workSpread->doubts().empty());
}

TEST_CASE("launch configurations: many per kernel name are counted exactly", "[report]")
{
    const std::string path = scratchDir("report_many_configs") + "/var.rtdb";
    {
        ProfileBuilder b(path, "gpu-node", "train.py", "python train.py");
        b.addDevice(0, "NVIDIA H100", "sm_90", 132);
        // Variable batch sizes: grids 1..40, the first three replayed, grid 5 and grid 2 again at the end (found
        // again by the configuration index, not only as the last one seen).
        for (int g = 1; g <= 40; ++g)
            b.addKernel(launch(g, "var", 1'000, g <= 3, g));
        b.addKernel(launch(41, "var", 1'000, false, 5));
        b.addKernel(launch(42, "var", 1'000, false, 2));
        b.finish(1'000'000);
    }
    const Profile p = Profile::open(path);
    const auto kernels = p.aggregateKernels(false);
    REQUIRE(kernels.size() == 1);
    CHECK(kernels[0].launchConfigs.size() == 40);
    CHECK(kernels[0].unmeasuredOtherConfig() == 38); // grids 4..40 once, grid 5 again; grid 2 was measured
}

TEST_CASE("launches without any time count at their kernel's mean, across profiles, configurations and paths")
{
    // Profile a: both launches of k replayed with their values lost (duration 0, no counters), in grid 1; z never
    // has a time. Profile b: k timed twice (1 and 3 us) in grid 2.
    const std::string dir = scratchDir("report-untimed");
    {
        ProfileBuilder a(dir + "/a.rtdb", "node", "a", "a");
        a.addDevice(0, "NVIDIA H100", "sm_90", 132);
        a.addKernel(launch(1, "k", 0, false, 1));
        a.addKernel(launch(2, "k", 0, false, 1));
        a.addKernel(launch(3, "z", 0, false, 1));
        a.finish(10'000'000);
        ProfileBuilder b(dir + "/b.rtdb", "node", "b", "b");
        b.addDevice(0, "NVIDIA H100", "sm_90", 132);
        b.addKernel(launch(1, "k", 1'000, false, 2));
        b.addKernel(launch(2, "k", 3'000, false, 2));
        b.finish(10'000'000);
    }
    const std::vector<std::string> paths { dir + "/a.rtdb", dir + "/b.rtdb" };
    auto row = [](const Report& r, const std::string& name, const std::string& config = {}) -> const ReportRow& {
        auto it = std::find_if(r.rows.begin(), r.rows.end(),
            [&](const ReportRow& x) { return x.name == name && (config.empty() || x.config == config); });
        REQUIRE(it != r.rows.end());
        return *it;
    };
    const Report byKernel = kernelReport(paths);
    // 2 timed (4 us) + 2 at their mean (2 us each).
    CHECK(row(byKernel, "k").timeSeconds == Approx(8e-6));
    CHECK(row(byKernel, "k").untimed == 2);
    CHECK(row(byKernel, "k").untimedZero == 0);
    CHECK(row(byKernel, "k").timeSource == Source::Estimated);
    CHECK(row(byKernel, "z").timeSeconds == 0);
    CHECK(row(byKernel, "z").untimedZero == 1);
    const std::string text = oneLine(formatReport(byKernel, OutputFormat::Text, { 0, 200 }));
    CHECK(text.find("3 launches in 2 kernel rows recorded no time (replayed, the counter values lost) and count at "
                    "the row's mean launch time, else the kernel's (time estimated; 1 row of a kernel without any "
                    "timed launch has no time: -, 0 in JSON)")
        != std::string::npos);
    // By launch configuration: grid 1 has no timed launch of its own and takes the kernel's mean.
    std::vector<Profile> profiles;
    for (const std::string& p : paths)
        profiles.push_back(Profile::open(p));
    ReportOptions options;
    options.by = ReportBy::Kernel;
    options.withLaunchConfig = true;
    const Report byConfig = buildReport(profiles, nullptr, options);
    CHECK(row(byConfig, "k", "grid(1,1,1) block(256,1,1)").timeSeconds == Approx(4e-6));
    CHECK(row(byConfig, "k", "grid(2,1,1) block(256,1,1)").timeSeconds == Approx(4e-6));
    // By call path: the same merge.
    const Report byPath = rooftime::test::reportOf(paths, ReportBy::Callpath);
    CHECK(row(byPath, "k").timeSeconds == Approx(8e-6));
    CHECK(row(byPath, "k").untimed == 2);
    CHECK(row(byPath, "z").untimedZero == 1);
}

TEST_CASE("summary: kernels with neither work nor a time are named even when none is analysed", "[report]")
{
    Report r;
    r.by = ReportBy::Kernel;
    for (const char* name : { "a", "b" }) {
        ReportRow row;
        row.name = name;
        row.kind = "kernel";
        row.device = "gpu0";
        row.count = 3;
        row.untimed = row.untimedZero = 3;
        r.rows.push_back(row);
    }
    r.summary.noTime = 2;
    CHECK(oneLine(formatReport(r, OutputFormat::Text, { 0, 120 }))
              .find("Time-based roofline: none analysed: 2 kernels with neither known work nor a time (replayed, the "
                    "counter values lost).")
        != std::string::npos);
    r.summary.unknown = 1;
    r.summary.unknownSeconds = 2e-3;
    CHECK(oneLine(formatReport(r, OutputFormat::Text, { 0, 120 }))
              .find("none analysed: 1 kernel without known work above the launch floor (2 ms); 2 kernels with neither")
        != std::string::npos);
}
