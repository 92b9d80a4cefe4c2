// SPDX-License-Identifier: MIT
// `rooftime ceilings` on this machine. The first case measures the quick CPU model into the test cache
// (ROOFTIME_CACHE_DIR, set by CTest); it is the fixture every other test that records depends on.
#include "report_json.h"

#include "rooftime/analyzer/machine.h"

#include <algorithm>
#include <filesystem>

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
