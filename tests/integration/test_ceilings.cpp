// SPDX-License-Identifier: MIT
// `rooftime ceilings` on this machine. The first case measures the quick CPU model into the test cache
// (ROOFTIME_CACHE_DIR, set by CTest); it is the fixture every other test that records depends on.
#include "report_json.h"

#include "rooftime/analyzer/machine.h"
#include "rooftime/analyzer/profile_builder.h"

#include <algorithm>
#include <climits>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

using namespace rooftime::test;
using namespace rooftime::analyzer;
namespace fs = std::filesystem;

namespace {

std::string cachedModelPath()
{
    return machineCachePath(currentHardware());
}

double roofValue(const MachineModel& m, const std::string& precision)
{
    const Ceiling* c = m.computeRoof("cpu", precision);
    REQUIRE(c);
    return c->value;
}

const Ceiling* bandwidth(const MachineModel& m, const std::string& level, const std::string& pattern, int threads)
{
    for (const auto& c : m.ceilings)
        if (c.kind == CeilingKind::Bandwidth && c.device == "cpu" && c.level == level && c.pattern == pattern
            && c.threads == threads)
            return &c;
    return nullptr;
}

} // namespace

TEST_CASE("quick CPU measurement yields sane ceilings and becomes the cached model", "[ceilings]")
{
    // The fixture (tests/CMakeLists.txt) ran `rooftime ceilings --cpu --quick` into this cache; its output is here.
    REQUIRE(std::getenv("ROOFTIME_CACHE_DIR"));
    const MachineModel m = readMachineFile(cachedModelPath());
    CHECK(m.mode == "quick");
    CHECK(m.identity.key() == currentHardware().key());
    CHECK(m.cpu.logicalCpus >= 1);
    CHECK(m.cpu.measuredHz > 0.2e9);
    CHECK(m.cpu.measuredHz < 10e9);

    // Every measured value is positive and finite; FMA peaks sit near their theoretical values.
    bool vector = false;
    for (const auto& c : m.ceilings) {
        INFO(c.precision << " " << c.variant << " " << c.level << " " << c.pattern << " " << c.threads);
        CHECK(c.value > 0);
        CHECK(std::isfinite(c.value));
        if (c.kind == CeilingKind::Compute) {
            vector |= c.variant != "scalar";
            REQUIRE(c.theoretical);
            // Wide bounds: other tests share the cores, which slows the measured peaks and the measured clock
            // (the theoretical value's) alike, but not always at the same moment.
            CHECK(c.value > 0.1 * *c.theoretical);
            CHECK(c.value < 2.5 * *c.theoretical);
        }
    }
    // Single precision packs twice the lanes: for some vector instruction set and thread count, the fp32 peak
    // is well above the fp64 one. (Some, not each: other tests share the cores, and a disturbed run of a few
    // milliseconds can pull one measurement down.)
    bool fp32Above = !vector;
    for (const auto& c32 : m.ceilings)
        for (const auto& c64 : m.ceilings)
            if (c32.kind == CeilingKind::Compute && c64.kind == CeilingKind::Compute && c32.precision == "fp32"
                && c64.precision == "fp64" && c32.variant == c64.variant && c32.variant != "scalar"
                && c32.threads == c64.threads && c32.value >= 1.5 * c64.value)
                fp32Above = true;
    CHECK(fp32Above);
    CHECK(roofValue(m, "fp64") > 0);

    // L1 faster than main memory, for reads on one thread.
    // (Plateaus can merge or go unnamed when other processes load the machine; the sweep's ends cannot.)
    bool anyBandwidth = false;
    for (const auto& c : m.ceilings)
        anyBandwidth |= c.kind == CeilingKind::Bandwidth && c.device == "cpu";
    CHECK(anyBandwidth);
    const Ceiling* l1 = bandwidth(m, "L1", "read", 1);
    const Ceiling* dram = bandwidth(m, "DRAM", "read", 1);
    if (l1 && dram) {
        CHECK(l1->value > 2 * dram->value);
        CHECK(l1->workingSet->second < dram->workingSet->first);
    }
    for (const auto& sweep : m.sweeps)
        if (sweep.pattern == "read" && sweep.threads == 1) {
            REQUIRE(sweep.points.size() >= 10);
            CHECK(sweep.points.front().value > 2 * sweep.points.back().value);
        }
    // The raw sweeps are kept, labelled with their levels.
    REQUIRE_FALSE(m.sweeps.empty());
    CHECK(m.sweeps[0].points.size() >= 10);
    CHECK(m.sweeps[0].points.front().bytes <= 8192);
}

TEST_CASE("ceilings --show prints the cached model and any machine file", "[ceilings]")
{
    RunResult r = run({ rooftimeBin(), "ceilings", "--show" });
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(r.out.find("machine model: " + cachedModelPath()) != std::string::npos);
    CHECK(r.out.find("fp64") != std::string::npos);
    CHECK(r.out.find("roof") != std::string::npos);
    CHECK(r.out.find("theoretical") != std::string::npos);

    RunResult f = run({ rooftimeBin(), "ceilings", "--show", cachedModelPath() });
    CHECK(f.status == 0);
    CHECK(f.out == r.out);
}

TEST_CASE("ceilings: bad input gives exit 2 and one clear line", "[ceilings]")
{
    const std::string dir = scratchDir("ceilings_bad");
    writeFile(dir + "/text.json", "hello");
    struct Row {
        std::vector<std::string> args;
        std::string phrase;
    };
    const std::vector<Row> rows {
        { { "ceilings", "--show", dir + "/missing.json" }, "no such file" },
        { { "ceilings", "--show", dir + "/text.json" }, "not a machine file" },
        { { "ceilings", "--show", dir }, "is a folder" },
        { { "ceilings", "--gpu", "-1" }, "expected a GPU index" },
        { { "ceilings", "--gpu", "x" }, "--gpu" },
        { { "ceilings", "--frobnicate" }, "--frobnicate" },
    };
    for (const Row& row : rows) {
        std::vector<std::string> argv { rooftimeBin() };
        argv.insert(argv.end(), row.args.begin(), row.args.end());
        RunResult r = run(argv);
        INFO(row.args.back() << ": " << r.err);
        CHECK(r.status == 2);
        CHECK(r.err.find(row.phrase) != std::string::npos);
    }
    // With an empty cache there is nothing to show.
    RunResult none = run({ rooftimeBin(), "ceilings", "--show" }, { { "ROOFTIME_CACHE_DIR", dir + "/empty" } });
    CHECK(none.status == 2);
    CHECK(none.err.find("no machine model for this host yet") != std::string::npos);
}

TEST_CASE("ceilings --gpu without a usable GPU says so and fails", "[ceilings]")
{
    if (!fs::exists("/proc/driver/nvidia/gpus") || fs::is_empty("/proc/driver/nvidia/gpus")) {
        const std::string dir = scratchDir("ceilings_nogpu");
        RunResult r = run({ rooftimeBin(), "ceilings", "--gpu", "0", "-o", dir + "/m.json" });
        INFO(r.err);
        CHECK(r.status == 2);
        const bool explained = r.err.find("no usable GPU 0") != std::string::npos
            || r.err.find("built without CUDA") != std::string::npos;
        CHECK(explained);
        CHECK_FALSE(fs::exists(dir + "/m.json"));
    } else {
        std::puts("ROOFTIME_SKIP: this machine has a GPU; tools/device-check.sh measures it");
    }
}

TEST_CASE("the GPU companion without a GPU: one line, exit 3, nothing on stdout", "[ceilings]")
{
    const std::string companion = fs::path(rooftimeBin()).parent_path() / "rooftime-ceilings-gpu";
    if (!fs::exists(companion)) {
        std::puts("ROOFTIME_SKIP: rooftime-ceilings-gpu is not built (no CUDA toolkit)");
        return;
    }
    if (fs::exists("/proc/driver/nvidia/gpus") && !fs::is_empty("/proc/driver/nvidia/gpus")) {
        std::puts("ROOFTIME_SKIP: this machine has a GPU; tools/device-check.sh measures it");
        return;
    }
    RunResult r = run({ companion, "--device", "0", "--quick" });
    CHECK(r.status == 3);
    CHECK(r.out.empty());
    CHECK(r.err.rfind("rooftime ceilings: no CUDA GPU found", 0) == 0);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(run({ companion, "--device", "x" }).status == 2);
    CHECK(run({ companion, "--frobnicate" }).status == 2);
}

TEST_CASE("ceilings --quick measures several GPUs at once, a full measurement one after another", "[ceilings]")
{
    // Stand-in companions for three GPUs: each logs when it ran, takes a second, and prints the H200's measurement
    // as its own device's.
    const std::string dir = scratchDir("ceilings_gpus");
    const auto h200 = nlohmann::json::parse(readFile(testData("machines/nvidia-h200-vm.json")));
    for (int g = 0; g < 3; ++g) {
        const std::string device = "gpu" + std::to_string(g);
        nlohmann::json doc = { { "gpu", h200["gpus"][0] }, { "ceilings", nlohmann::json::array() },
            { "sweeps", nlohmann::json::array() }, { "notes", nlohmann::json::array() } };
        doc["gpu"]["index"] = g;
        for (auto c : h200["ceilings"])
            if (c["device"] == "gpu0") {
                c["device"] = device;
                doc["ceilings"].push_back(c);
            }
        std::ofstream(dir + "/measurement-" + std::to_string(g) + ".json") << doc.dump();
    }
    const std::string companion = dir + "/companion";
    {
        // Its start time and, a second later, its end time, in ns: the run's interval.
        std::ofstream script(companion);
        script << "#!/bin/sh\ncase \" $* \" in *\" --probe \"*) exit 0 ;; esac\n" // no counter probe here
               << "dev=\nwhile [ $# -gt 0 ]; do [ \"$1\" = --device ] && dev=$2; shift; done\n"
               << "start=$(date +%s%N)\nsleep 1\necho \"$start $(date +%s%N)\" > \"" << dir << "/ran-$dev\"\n"
               << "cat \"" << dir << "/measurement-$dev.json\"\n";
    }
    fs::permissions(companion, fs::perms::owner_all);
    // [start, end] of each companion's run, in ns.
    auto intervals = [&] {
        std::vector<std::pair<long long, long long>> out;
        for (int g = 0; g < 3; ++g) {
            std::istringstream in(readFile(dir + "/ran-" + std::to_string(g)));
            long long start = 0, end = 0;
            in >> start >> end;
            out.emplace_back(start, end);
        }
        return out;
    };
    for (const bool quick : { true, false }) {
        INFO((quick ? "quick" : "full"));
        const std::string out = dir + (quick ? "/quick.json" : "/full.json");
        std::vector<std::string> argv { rooftimeBin(), "ceilings", "--gpu", "0", "--gpu", "1", "--gpu", "2", "-o",
            out };
        if (quick) argv.push_back("--quick");
        const RunResult r
            = run(argv, { { "ROOFTIME_CEILINGS_GPU", companion }, { "ROOFTIME_CACHE_DIR", dir + "/cache" } });
        INFO(r.err);
        REQUIRE(r.status == 0);
        const MachineModel m = readMachineFile(out);
        REQUIRE(m.gpus.size() == 3);
        const auto perGpu = std::count_if(
            h200["ceilings"].begin(), h200["ceilings"].end(), [](const auto& c) { return c["device"] == "gpu0"; });
        for (int g = 0; g < 3; ++g) {
            CHECK(m.gpus[static_cast<std::size_t>(g)].index == g);
            CHECK(std::count_if(m.ceilings.begin(), m.ceilings.end(), [&](const auto& c) {
                return c.device == "gpu" + std::to_string(g);
            }) == perGpu);
        }
        const auto ran = intervals();
        long long lastStart = 0, firstEnd = LLONG_MAX;
        for (const auto& [start, end] : ran) {
            lastStart = std::max(lastStart, start);
            firstEnd = std::min(firstEnd, end);
        }
        if (quick)
            CHECK(lastStart < firstEnd); // all three were running at one moment
        else
            for (std::size_t g = 1; g < ran.size(); ++g)
                CHECK(ran[g].first >= ran[g - 1].second); // each after the one before
    }
}

TEST_CASE(
    "ceilings --gpu: the GPU's own peaks beside the measured ceilings, or a note why there are none", "[ceilings]")
{
    // A stand-in companion (ROOFTIME_CEILINGS_GPU): the H200's measurement as rooftime-ceilings-gpu prints it, and a
    // probe that fails as one does where counters are denied, or that runs no kernel at all. Session 5's file: its
    // ceilings carry no counter peaks of their own.
    const std::string dir = scratchDir("ceilings_probe");
    const auto h200 = nlohmann::json::parse(readFile(testData("machines/nvidia-h200-vm-1.0.json")));
    nlohmann::json doc = { { "gpu", h200["gpus"][0] }, { "ceilings", nlohmann::json::array() },
        { "sweeps", nlohmann::json::array() }, { "notes", nlohmann::json::array() } };
    for (const auto& c : h200["ceilings"])
        if (c["device"] == "gpu0") doc["ceilings"].push_back(c);
    for (const auto& s : h200["sweeps"])
        if (s["device"] == "gpu0") doc["sweeps"].push_back(s);
    {
        std::ofstream(dir + "/measurement.json") << doc.dump();
    }
    auto companion = [&](const std::string& name, const std::string& probe) {
        const std::string path = dir + "/" + name;
        std::ofstream(path) << "#!/bin/sh\ncase \" $* \" in *\" --probe \"*) " << probe << " ;; esac\ncat '" << dir
                            << "/measurement.json'\n";
        fs::permissions(path, fs::perms::owner_all);
        return path;
    };
    // A probe recorded where counters work: what the collector writes for the probe's FMA launch on an H200 at
    // 1.755 GHz, put where `rooftime record` asked for it.
    const std::string fixture = dir + "/probe-fixture.rtdb";
    const std::string tmp = dir + "/tmp"; // the probe's temporary folder goes here
    fs::create_directories(tmp);
    {
        ProfileBuilder b(fixture, "gpu-node", "rooftime-ceilings-gpu", "rooftime-ceilings-gpu --device 0 --probe");
        b.addDevice(0, "NVIDIA H200", "sm_90", 132);
        KernelRecord k;
        k.id = 1;
        k.name = "void fmaKernel<float>(int, float*, BlockClock*)";
        k.durationNs = 8'000'000;
        k.replayed = true;
        b.addKernel(k);
        const std::string sass = "smsp__sass_thread_inst_executed_op_";
        for (const auto& [metric, value] :
            std::map<std::string, double> { { "sm__cycles_elapsed.avg.per_second", 1.755e9 },
                { "dram__cycles_elapsed.avg.per_second", 2.619e9 }, { sass + "ffma_pred_on.sum.peak_sustained", 16896 },
                { sass + "dfma_pred_on.sum.peak_sustained", 8448 }, { "dram__bytes.sum.peak_sustained", 1840 } })
            b.addKernelMetric(1, metric, value, "");
        b.finish(100'000'000);
    }
    struct Case {
        std::string name, probe, phrase;
    };
    const Case cases[] = {
        { "denied", "echo 'rooftime: counters: the GPU said no (simulated)' >&2; echo 'probe: gave up' >&2; exit 4",
            "the probe exited with status 4: probe: gave up" },
        { "idle", "exit 0", "the probe wrote no profile: rooftime: no profile written" },
    };
    {
        const std::string out = dir + "/counted.json";
        RunResult r = run({ rooftimeBin(), "ceilings", "--gpu", "0", "-o", out },
            { { "ROOFTIME_CEILINGS_GPU", companion("counted", "cp '" + fixture + "' \"$ROOFTIME_OUTPUT\"; exit 0") },
                { "ROOFTIME_CACHE_DIR", dir + "/cache" }, { "TMPDIR", tmp } });
        INFO(r.err);
        REQUIRE(r.status == 0);
        CHECK(r.err.find("gpu0: counter peaks for 5 ceilings (SM clock 1755 MHz under counters)") != std::string::npos);
        const MachineModel m = readMachineFile(out);
        CHECK(m.gpus.at(0).smCounterHz == Approx(1.755e9));
        for (const auto& ceiling : m.ceilings) {
            INFO(ceiling.precision << ceiling.level << " " << ceiling.variant << ceiling.pattern);
            if (ceiling.device == "gpu0" && ceiling.kind == CeilingKind::Compute && ceiling.variant == "fma"
                && ceiling.precision != "fp16")
                CHECK(
                    *ceiling.counterTheoretical == Approx((ceiling.precision == "fp32" ? 16896 : 8448) * 2 * 1.755e9));
            else if (ceiling.device == "gpu0" && ceiling.level == "HBM")
                CHECK(*ceiling.counterTheoretical == Approx(1840 * 2.619e9)); // 4.82 TB/s
            else
                CHECK_FALSE(ceiling.counterTheoretical);
        }
        CHECK(std::none_of(m.notes.begin(), m.notes.end(),
            [](const std::string& n) { return n.find("no theoretical peaks") != std::string::npos; }));
        RunResult show = run({ rooftimeBin(), "ceilings", "--show", out });
        CHECK(show.out.find("SM clock under counters: 1.755 GHz") != std::string::npos);
        CHECK(show.out.find("counters  ratio") != std::string::npos);
        CHECK(fs::is_empty(tmp));
    }
    for (const Case& c : cases) {
        INFO(c.name);
        const std::string out = dir + "/" + c.name + ".json";
        RunResult r = run({ rooftimeBin(), "ceilings", "--gpu", "0", "-o", out },
            { { "ROOFTIME_CEILINGS_GPU", companion(c.name, c.probe) }, { "ROOFTIME_CACHE_DIR", dir + "/cache" },
                { "TMPDIR", tmp } });
        INFO(r.err);
        REQUIRE(r.status == 0);
        CHECK(r.err.find("reading the GPU's own peaks from its counters") != std::string::npos);
        CHECK(r.err.find(c.phrase) != std::string::npos);
        const MachineModel m = readMachineFile(out);
        const bool noted = std::any_of(m.notes.begin(), m.notes.end(), [&](const std::string& n) {
            return n.find("GPU 0: no theoretical peaks from the GPU's counters: " + c.phrase) != std::string::npos
                && n.find("the table's values stand") != std::string::npos;
        });
        CHECK(noted);
        // The measured ceilings and their table values, untouched; no counter value invented.
        std::size_t gpu = 0;
        for (const auto& ceiling : m.ceilings) {
            if (ceiling.device != "gpu0") continue;
            ++gpu;
            CHECK_FALSE(ceiling.counterTheoretical);
        }
        CHECK(gpu == doc["ceilings"].size());
        CHECK(m.gpus.at(0).smCounterHz == 0);
        // Nothing left behind.
        CHECK(fs::is_empty(tmp));
    }
}
