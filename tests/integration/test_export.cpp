// SPDX-License-Identifier: MIT
// `rooftime export` on the H200 recordings: every kernel, copy and region on the timeline with its recorded
// time, per-launch roofs as the report computes them, and counter tracks whose integrals give back the kernels'
// time, time at the roof and FLOPs; the slice limit, the time range and the errors.
#include "rooftime/analyzer/format.h"
#include "rooftime/analyzer/profile_builder.h"
#include "rooftime/analyzer/report.h"

#include "gpu_machine.h"
#include "process.h"
#include "sql_one.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>

using namespace rooftime::test;
using nlohmann::json;
namespace fs = std::filesystem;
namespace ra = rooftime::analyzer;

namespace {

std::string data(const std::string& rel)
{
    return std::string(ROOFTIME_TEST_DATA) + "/" + rel;
}

json exported(const std::vector<std::string>& args, const std::string& out, RunResult* result = nullptr)
{
    std::vector<std::string> argv { rooftimeBin(), "export" };
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), { "-o", out });
    const RunResult r = run(argv);
    if (result) *result = r;
    INFO(r.err);
    REQUIRE(r.status == 0);
    return json::parse(readFile(out));
}

std::vector<json> events(const json& trace, const std::string& ph, const std::string& cat = {})
{
    std::vector<json> out;
    for (const json& e : trace.at("traceEvents"))
        if (e.at("ph") == ph && (cat.empty() || e.value("cat", "") == cat)) out.push_back(e);
    return out;
}

/// ∫ value dt of a counter track (values hold until the next event), in value·seconds.
double integral(const json& trace, const std::string& name)
{
    double sum = 0, lastTs = 0, lastValue = 0;
    bool any = false;
    for (const json& e : events(trace, "C")) {
        if (e.at("name") != name) continue;
        const double ts = e.at("ts").get<double>() * 1e-6;
        if (any) sum += lastValue * (ts - lastTs);
        lastTs = ts;
        lastValue = e.at("args").begin().value().get<double>(); // one argument: its key is the unit
        any = true;
    }
    CHECK(lastValue == 0); // every track ends at 0
    return sum;
}

} // namespace

TEST_CASE("export: the H200 GEMMs' kernels, copies and regions, with each launch's roof and the roofline over time",
    "[export]")
{
    const std::string dir = scratchDir("export_gemm");
    const std::string profile = data("gpu/counters/gemm.rtdb");
    RunResult r;
    const json trace = exported({ profile }, dir + "/gemm.json", &r);
    CHECK(r.err.find("rooftime export: wrote " + dir + "/gemm.json (") == 0);
    // Every launch was replayed (no GPU time of its own), but each has its launch call's time (schema 1.3): none is
    // left out of the roofline tracks.
    CHECK(sqlOne(profile, "SELECT COUNT(*) FROM kernel WHERE launch_ns IS NULL") == "0");
    CHECK(r.err.find("have neither a GPU time nor a launch time") == std::string::npos);

    // Every launch and copy of the file, on its stream's track; the regions on their thread.
    const auto kernels = events(trace, "X", "kernel");
    CHECK(kernels.size() == std::stoul(sqlOne(profile, "SELECT COUNT(*) FROM kernel")));
    CHECK(events(trace, "X", "memop").size() == std::stoul(sqlOne(profile, "SELECT COUNT(*) FROM memop")));
    CHECK(events(trace, "X", "region").size() == std::stoul(sqlOne(profile, "SELECT COUNT(*) FROM region")));
    std::map<std::pair<long, long>, std::string> trackNames;
    for (const json& m : events(trace, "M"))
        if (m.at("name") == "thread_name") trackNames[{ m.at("pid"), m.at("tid") }] = m.at("args").at("name");
    for (const json& k : kernels) {
        const std::string track = trackNames[{ k.at("pid"), k.at("tid") }];
        CHECK(track
            == "gpu0 stream " + std::to_string(k.at("args").at("stream").get<int>()) + " (launches without a time)");
    }
    for (const json& c : events(trace, "X", "memop"))
        CHECK(trackNames[{ c.at("pid"), c.at("tid") }].rfind("gpu0 stream ", 0) == 0);

    // Per launch: the kernel's mean work at the roof, at least one launch, as the report's kernel view bounds
    // all of them (these launches took their kernel's time within a few per cent: the efficiencies agree).
    std::vector<ra::Profile> profiles;
    profiles.push_back(ra::Profile::open(profile));
    ra::ReportOptions byKernel;
    byKernel.by = ra::ReportBy::Kernel;
    const ra::Report report = ra::buildReport(profiles, nullptr, byKernel);
    for (const ra::ReportRow& row : report.rows) {
        REQUIRE(row.roof);
        REQUIRE(row.roof->efficiency);
        const double perLaunch = row.roof->boundSeconds / static_cast<double>(row.count);
        std::size_t launches = 0;
        for (const json& k : kernels) {
            if (k.at("name") != row.name) continue;
            ++launches;
            CHECK(k.at("args").at("roof_ns").get<double>() == Approx(perLaunch * 1e9).margin(0.5));
            CHECK(k.at("args").at("kernel limiter") == ra::limiterLabel(*row.roof));
            CHECK(k.at("args").at("work").get<std::string>().find("in this launch configuration") != std::string::npos);
            CHECK(std::abs(k.at("args").at("efficiency").get<double>() - *row.roof->efficiency) < 0.05);
        }
        CHECK(launches == row.count);
    }
    // Counters mode replayed every launch: the launches sit beside their streams, at their launch calls, with the
    // replay's duration, and in the counter tracks.
    for (const json& k : kernels)
        CHECK_THAT(k.at("args").at("placed").get<std::string>(), Catch::Contains("drawn at its launch call"));
    CHECK_FALSE(events(trace, "C").empty());
}

TEST_CASE("export: the counter tracks hold the kernels' time, time at the roof and FLOPs, spread over time", "[export]")
{
    // gemm: 3 launches of 2, 2 and 1 ms (the last on a second stream, beside the second), the first replayed with
    // its own time: 1e9 FFMA (2 GFLOP fp32) and 2 GB from HBM each; "tiny" 1 us and "slow" 1 ms without counters;
    // "late" replayed without a time of its own (0.5 ms by its counter), drawn at its launch call; "lost" the
    // same, but without a launch time: at its region's start, out of the tracks.
    const std::string dir = scratchDir("export_bins");
    const std::string path = dir + "/bins.rtdb";
    {
        ra::ProfileBuilder b(path, "gpu-node", "train.py", "python train.py");
        b.addDevice(0, "NVIDIA H100", "sm_90", 132);
        b.addMachine("test", kGpuMachineJson);
        ra::RegionRecord step;
        step.seq = 1;
        step.name = "step";
        step.startNs = 500'000;
        step.endNs = 19'000'000;
        b.addRegion(step);
        const auto launch = [&](std::int64_t id, const std::string& name, std::int64_t startNs, std::int64_t ns,
                                std::int64_t stream, bool replayed) {
            ra::KernelRecord k;
            k.id = id;
            k.name = name;
            k.stream = stream;
            k.correlation = id;
            k.thread = 1;
            k.region = 1;
            k.replayed = replayed;
            if (ns > 0) {
                k.startNs = startNs;
                k.endNs = startNs + ns;
            } else {
                k.startNs = 0;
                k.endNs = 0;
            }
            k.durationNs = ns;
            for (auto* g : { &k.grid[0], &k.block[0] })
                *g = 128;
            k.grid[1] = k.grid[2] = k.block[1] = k.block[2] = 1;
            return k;
        };
        b.addKernel(launch(1, "gemm", 1'000'000, 2'000'000, 7, true));
        b.addKernelMetric(1, "smsp__sass_thread_inst_executed_op_ffma_pred_on.sum", 1e9, "inst");
        b.addKernelMetric(1, "dram__bytes_read.sum", 2e9, "byte");
        b.addKernel(launch(2, "gemm", 4'000'000, 2'000'000, 7, false));
        b.addKernel(launch(3, "gemm", 5'000'000, 1'000'000, 8, false));
        b.addKernel(launch(4, "tiny", 8'000'000, 1'000, 7, false));
        b.addKernel(launch(5, "slow", 9'000'000, 1'000'000, 7, false));
        ra::KernelRecord late = launch(6, "late", 0, 0, 7, true);
        late.launchNs = 12'000'000;
        b.addKernel(late);
        b.addKernelMetric(6, "gpu__time_duration.sum", 500'000, "nsecond");
        b.addKernelMetric(6, "smsp__sass_thread_inst_executed_op_ffma_pred_on.sum", 1e8, "inst");
        b.addKernelMetric(6, "dram__bytes_read.sum", 1e8, "byte");
        b.addKernel(launch(7, "lost", 0, 0, 7, true));
        b.addKernelMetric(7, "gpu__time_duration.sum", 300'000, "nsecond");
        b.finish(20'000'000);
    }
    const json trace = exported({ path }, dir + "/bins.json");
    // The roofs per launch, as the report bounds each kernel (one launch configuration each).
    std::vector<ra::Profile> profiles;
    profiles.push_back(ra::Profile::open(path));
    ra::ReportOptions byKernel;
    byKernel.by = ra::ReportBy::Kernel;
    const ra::Report report = ra::buildReport(profiles, nullptr, byKernel);
    std::map<std::string, double> perLaunch;
    for (const ra::ReportRow& row : report.rows)
        if (row.roof && row.roof->workHasRoof())
            perLaunch[row.name] = row.roof->boundSeconds / static_cast<double>(row.count);
    REQUIRE(perLaunch.size() == 2); // gemm and late
    const double all = 2e-3 + 2e-3 + 1e-3 + 1e-6 + 1e-3 + 0.5e-3; // not "lost"
    const double known = 5e-3 + 1e-6 + 0.5e-3; // "tiny" is within the 2 us launch floor: bounded
    const double atRoof = 2 * std::min(perLaunch["gemm"], 2e-3) + std::min(perLaunch["gemm"], 1e-3) + 1e-6
        + std::min(perLaunch["late"], 0.5e-3);
    CHECK(integral(trace, "gpu0 kernel time") / 100 == Approx(all).epsilon(1e-6));
    CHECK(integral(trace, "gpu0 kernel time, work known") / 100 == Approx(known).epsilon(1e-6));
    CHECK(integral(trace, "gpu0 time at roof") / 100 == Approx(atRoof).epsilon(1e-6));
    CHECK(integral(trace, "gpu0 achieved") == Approx(3 * 2e9 + 2e8).epsilon(1e-6));
    CHECK(integral(trace, "gpu0 HBM") == Approx(3 * 2e9 + 1e8).epsilon(1e-6));
    // Two gemm launches at once: above 100 % in their bins.
    double peak = 0;
    for (const json& c : events(trace, "C"))
        if (c.at("name") == "gpu0 kernel time") peak = std::max(peak, c.at("args").at("%").get<double>());
    CHECK(peak > 100);
    // late at its launch call on the side track, lost at the region's start.
    for (const json& k : events(trace, "X", "kernel")) {
        if (k.at("name") == "late") CHECK(k.at("ts").get<double>() == Approx(12000)); // us from the start
        if (k.at("name") == "lost") CHECK(k.at("ts").get<double>() == Approx(500));
        // Unknown work: within the 2 us launch floor launch-bound at the floor, as the report has it; above it
        // no roof.
        if (k.at("name") == "tiny") {
            CHECK(k.at("args").at("roof_ns").get<double>() == 2000);
            CHECK(k.at("args").at("efficiency").get<double>() == 1);
            CHECK(k.at("args").at("limiter") == "launch");
        }
        if (k.at("name") == "slow") CHECK_FALSE(k.at("args").contains("roof_ns"));
    }
    for (const ra::ReportRow& row : report.rows)
        if (row.name == "tiny") CHECK(ra::limiterLabel(*row.roof) == "launch");
}

TEST_CASE("export: the PyTorch LSTM's threads, NVTX ranges and launches, a time range and a slice limit", "[export]")
{
    const std::string dir = scratchDir("export_lstm");
    const std::string profile = data("gpu/python/lstm_train-time.rtdb");
    const json all = exported({ profile }, dir + "/all.json");
    // The autograd thread launched the backward pass: its thread has a name track.
    bool autograd = false;
    for (const json& m : events(all, "M"))
        autograd = autograd || m.at("args").value("name", "").find("pt_autograd") != std::string::npos;
    CHECK(autograd);
    const auto nvtx = events(all, "X", "nvtx");
    CHECK(nvtx.size() == std::stoul(sqlOne(profile, "SELECT COUNT(*) FROM region WHERE kind = 1")));
    // Launches name the range they were made in.
    std::size_t inRange = 0;
    for (const json& k : events(all, "X", "kernel"))
        inRange += k.at("args").contains("launched in");
    CHECK(inRange > 0);
    // Time mode: no counters, so no FLOPs and no FLOP/s track; kernels within the launch floor are bounded (the
    // kernel time with known work), the rest are not.
    for (const json& k : events(all, "X", "kernel"))
        CHECK_FALSE(k.at("args").contains("FLOPs"));
    for (const json& c : events(all, "C"))
        CHECK(c.at("name") != "gpu0 achieved");
    CHECK(integral(all, "gpu0 kernel time, work known") < integral(all, "gpu0 kernel time"));
    // The CPU threads keep their thread ids: the main thread's is the process's pid.
    const std::string pid = sqlOne(profile, "SELECT pid FROM process");
    const std::string mainTid = sqlOne(profile, "SELECT tid FROM thread WHERE id = 1");
    CHECK(pid == mainTid);
    bool mainTrack = false;
    for (const json& m : events(all, "M"))
        mainTrack = mainTrack
            || (m.at("name") == "thread_name" && std::to_string(m.at("tid").get<long>()) == mainTid
                && std::to_string(m.at("pid").get<long>()) == pid);
    CHECK(mainTrack);

    // --from/--to: only what overlaps that part of the run (times from the process start).
    const json part = exported({ profile, "--from", "10s", "--to", "12s" }, dir + "/part.json");
    const auto partKernels = events(part, "X", "kernel");
    CHECK_FALSE(partKernels.empty());
    CHECK(partKernels.size() < events(all, "X", "kernel").size());
    for (const json& k : partKernels) { // one profile: times are from its start
        const double t0 = k.at("ts").get<double>() * 1e-6, t1 = t0 + k.at("dur").get<double>() * 1e-6;
        CHECK(t1 >= 10.0 - 1e-9);
        CHECK(t0 <= 12.0 + 1e-9);
    }

    // --max-slices: the earliest slices, one cut for all, said on stderr.
    RunResult r;
    const json cut = exported({ profile, "--max-slices", "100" }, dir + "/cut.json", &r);
    const std::size_t slices = events(cut, "X").size() + events(cut, "b").size();
    CHECK(slices <= 100);
    CHECK(slices >= 90); // slices starting at the same time as the cut go with it
    CHECK(r.err.find("later slices left out at") != std::string::npos);
    for (const char* track : { "gpu0 kernel time", "gpu0 time at roof" }) {
        INFO(track);
        CHECK(integral(cut, track) >= 0); // ends at 0 at the cut, not held to the end
    }
}

TEST_CASE("export: kernels on one stream never overlap; launches without a time have a track of their own", "[export]")
{
    const std::string dir = scratchDir("export_placed");
    for (const char* rel : { "gpu/python/lstm_train-counters.rtdb", "gpu/python/cnn_train-time.rtdb",
             "gpu/counters/gemm.rtdb", "gpu/counters/lstm_chain.rtdb" }) {
        INFO(rel);
        const json trace = exported({ data(rel) }, dir + "/t.json");
        std::map<std::pair<long, long>, std::string> names;
        for (const json& m : events(trace, "M"))
            if (m.at("name") == "thread_name") names[{ m.at("pid"), m.at("tid") }] = m.at("args").at("name");
        std::map<std::pair<long, long>, std::vector<std::pair<double, double>>> slices;
        std::size_t placed = 0;
        for (const json& e : events(trace, "X")) {
            if (e.at("cat") != "kernel" && e.at("cat") != "memop") continue;
            const std::pair<long, long> track { e.at("pid"), e.at("tid") };
            const bool withoutTime = e.at("args").contains("placed");
            placed += withoutTime;
            CHECK(withoutTime == (names[track].find("(launches without a time)") != std::string::npos));
            if (!withoutTime)
                slices[track].push_back(
                    { e.at("ts").get<double>(), e.at("ts").get<double>() + e.at("dur").get<double>() });
        }
        for (auto& [track, list] : slices) {
            std::sort(list.begin(), list.end());
            for (std::size_t i = 1; i < list.size(); ++i) {
                INFO(names[track] << " at " << list[i].first);
                CHECK(list[i].first >= list[i - 1].second - 1e-3);
            }
        }
        if (std::string(rel).find("lstm_train-counters") != std::string::npos) CHECK(placed > 0);
    }
}

TEST_CASE("export: bad inputs exit 2 with one line and leave no file", "[export]")
{
    const std::string dir = scratchDir("export_bad");
    const std::string profile = data("gpu/counters/gemm.rtdb");
    const struct {
        std::vector<std::string> args;
        std::string phrase;
    } rows[] = {
        { { profile, "-o", dir + "/a.json", "--from", "soon" }, "--from 'soon': expected a duration such as 100ms" },
        { { profile, "-o", dir + "/a.json", "--from", "2s", "--to", "1s" }, "--to must come after --from" },
        { { dir + "/missing.rtdb", "-o", dir + "/a.json" }, dir + "/missing.rtdb': no such file or folder" },
        { { profile, "-o", dir + "/no/such/dir/a.json" }, "cannot write" },
        { { profile, "-o", dir + "/a.json", "--format", "otf2" }, "--format: otf2 not in {chrome}" },
        { { profile, "-o", dir + "/a.json", "--max-slices", "0" }, "--max-slices" },
        { { profile }, "--output is required" },
    };
    for (const auto& row : rows) {
        std::vector<std::string> argv { rooftimeBin(), "export" };
        argv.insert(argv.end(), row.args.begin(), row.args.end());
        const RunResult r = run(argv);
        INFO(row.phrase << ": " << r.err);
        CHECK(r.status == 2);
        CHECK(r.err.find(row.phrase) != std::string::npos);
        CHECK(r.out.empty());
    }
    CHECK_FALSE(fs::exists(dir + "/a.json"));
    CHECK_FALSE(fs::exists(dir + "/a.json.tmp"));
    // A region and a kernel before the process start (clocks of two threads, or a damaged file): negative times are
    // still numbers, and a negative duration is 0.
    const std::string early = dir + "/early.rtdb";
    copyWithSql(data("gpu/time/gemm.rtdb"), early,
        "UPDATE region SET start_ns = (SELECT start_ns FROM process) - 1500 WHERE rowid = (SELECT MIN(rowid) FROM "
        "region); UPDATE kernel SET duration_ns = -700 WHERE id = (SELECT MIN(id) FROM kernel)");
    const json shifted = exported({ early }, dir + "/early.json");
    double earliest = 0;
    for (const json& e : events(shifted, "X")) {
        earliest = std::min(earliest, e.at("ts").get<double>());
        CHECK(e.at("dur").get<double>() >= 0);
    }
    CHECK(earliest == Approx(-1.5));
    // A profile without a machine model: the timeline, no roofline tracks, and it says why.
    RunResult r;
    const json bare = exported({ data("profiles/golden-v1.0.rtdb") }, dir + "/bare.json", &r);
    CHECK(events(bare, "C").empty());
    CHECK(r.err.find("no machine model, so no roofline tracks") != std::string::npos);
    CHECK_FALSE(events(bare, "X", "region").empty());
}
