// SPDX-License-Identifier: MIT
// `rooftime export` on the H200 recordings: every kernel, copy and region on the timeline with its recorded
// time, per-launch roofs as the report computes them, and counter tracks whose integrals give back the kernels'
// time, time at the roof and FLOPs; the slice limit, the time range and the errors.
#include "rooftime/analyzer/format.h"
#include "rooftime/analyzer/report.h"

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
        lastValue = e.at("args").at("value").get<double>();
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

    // Every launch and copy of the file, on its stream's track; the regions on their thread.
    const auto kernels = events(trace, "X", "kernel");
    CHECK(kernels.size() == std::stoul(sqlOne(profile, "SELECT COUNT(*) FROM kernel")));
    CHECK(events(trace, "X", "memop").size() == std::stoul(sqlOne(profile, "SELECT COUNT(*) FROM memop")));
    CHECK(events(trace, "X", "region").size() == std::stoul(sqlOne(profile, "SELECT COUNT(*) FROM region")));
    std::map<std::pair<int, int>, std::string> trackNames;
    for (const json& m : events(trace, "M"))
        if (m.at("name") == "thread_name") trackNames[{ m.at("pid"), m.at("tid") }] = m.at("args").at("name");
    for (const json& k : kernels) {
        const std::string track = trackNames[{ k.at("pid"), k.at("tid") }];
        CHECK(track == "gpu0 stream " + std::to_string(k.at("args").at("stream").get<int>()));
    }

    // Per launch: the kernel's mean work at the roof, at least one launch, as the report's kernel view bounds
    // all of them (these launches took their kernel's time within a few per cent: the efficiencies agree).
    std::vector<ra::Profile> profiles;
    profiles.push_back(ra::Profile::open(profile));
    ra::ReportOptions byKernel;
    byKernel.by = ra::ReportBy::Kernel;
    const ra::Report report = ra::buildReport(profiles, nullptr, byKernel);
    double kernelSeconds = 0, flops = 0, atRoof = 0;
    for (const ra::ReportRow& row : report.rows) {
        REQUIRE(row.roof);
        REQUIRE(row.roof->efficiency);
        const double perLaunch = row.roof->boundSeconds / static_cast<double>(row.count);
        kernelSeconds += row.timeSeconds;
        flops += *row.flops;
        std::size_t launches = 0;
        for (const json& k : kernels) {
            if (k.at("name") != row.name) continue;
            ++launches;
            CHECK(k.at("args").at("roof time") == ra::humanSeconds(perLaunch));
            CHECK(k.at("args").at("kernel limiter") == ra::limiterLabel(*row.roof));
            atRoof += std::min(perLaunch, k.at("dur").get<double>() * 1e-6);
            const double launchEfficiency = perLaunch / (k.at("dur").get<double>() * 1e-6);
            CHECK(std::abs(launchEfficiency - *row.roof->efficiency) < 0.05);
        }
        CHECK(launches == row.count);
    }
    // The counter tracks hold exactly the kernels' time, time at the roof and FLOPs, spread over time.
    CHECK(integral(trace, "gpu0 kernel time %") / 100 == Approx(kernelSeconds).epsilon(1e-6));
    CHECK(integral(trace, "gpu0 time at roof %") / 100 == Approx(atRoof).epsilon(1e-6));
    CHECK(integral(trace, "gpu0 FLOP/s") == Approx(flops).epsilon(1e-6));
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
    // Time mode: no counters, so no FLOPs; kernels within the launch floor are bounded, the rest are not.
    for (const json& k : events(all, "X", "kernel"))
        CHECK_FALSE(k.at("args").contains("FLOPs (kernel mean)"));

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
    // A profile without a machine model: the timeline, no roofline tracks, and it says why.
    RunResult r;
    const json bare = exported({ data("profiles/golden-v1.0.rtdb") }, dir + "/bare.json", &r);
    CHECK(events(bare, "C").empty());
    CHECK(r.err.find("no machine model, so no roofline tracks") != std::string::npos);
    CHECK_FALSE(events(bare, "X", "region").empty());
}
