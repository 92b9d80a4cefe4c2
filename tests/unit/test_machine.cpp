// SPDX-License-Identifier: MIT
// Machine files: round trip, roofs, versions, bad input, hardware identity, merging a GPU measurement.
#include "rooftime/analyzer/machine.h"

#include "process.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>

using namespace rooftime::analyzer;
using rooftime::test::scratchDir;
namespace fs = std::filesystem;

namespace {

Ceiling compute(const std::string& precision, const std::string& variant, int threads, double value)
{
    Ceiling c;
    c.device = "cpu";
    c.kind = CeilingKind::Compute;
    c.precision = precision;
    c.variant = variant;
    c.threads = threads;
    c.value = value;
    c.unit = "FLOP/s";
    c.method = "test";
    c.theoretical = value * 1.02;
    c.theoreticalMethod = "2 pipes × 4 lanes × 2 FLOP × 3 GHz";
    return c;
}

Ceiling bandwidth(const std::string& level, const std::string& pattern, int threads, double value)
{
    Ceiling c;
    c.device = "cpu";
    c.kind = CeilingKind::Bandwidth;
    c.level = level;
    c.pattern = pattern;
    c.threads = threads;
    c.value = value;
    c.unit = "B/s";
    c.method = "test";
    c.workingSet = std::make_pair(4096.0, 32768.0);
    return c;
}

MachineModel sampleModel()
{
    MachineModel m;
    m.created = "2026-11-27T00:00:00Z";
    m.rooftimeVersion = "0.1.0";
    m.mode = "quick";
    m.identity = { "node7", "Test CPU 9000", 2, {} };
    m.os = "Linux test";
    m.cpu.vendor = "GenuineTest";
    m.cpu.model = "Test CPU 9000";
    m.cpu.flags = { "avx2", "fma" };
    m.cpu.logicalCpus = 2;
    m.cpu.cores = 2;
    m.cpu.sockets = 1;
    m.cpu.caches = { { 1, "Data", 32768, 2, 1 }, { 3, "Unified", 33554432, 1, 2 } };
    m.cpu.nominalHz = 2.4e9;
    m.cpu.measuredHz = 3.1e9;
    m.ceilings = { compute("fp64", "scalar", 2, 25e9), compute("fp64", "avx2_fma", 1, 50e9),
        compute("fp64", "avx2_fma", 2, 100e9), compute("fp32", "avx2_fma", 2, 200e9), bandwidth("L1", "read", 2, 400e9),
        bandwidth("L1", "triad", 1, 200e9), bandwidth("L1", "triad", 2, 390e9), bandwidth("DRAM", "read", 2, 25e9),
        bandwidth("DRAM", "triad", 2, 30e9) };
    m.sweeps = { { "cpu", "triad", 2, { { 4096, 3.9e11, "L1" }, { 8192, 3.8e11, "L1" }, { 1 << 30, 3e10, "DRAM" } } } };
    m.notes = { "a note" };
    markRoofs(m);
    return m;
}

std::string withVersion(const std::string& text, const std::string& version)
{
    auto j = nlohmann::json::parse(text);
    j["version"] = version;
    return j.dump();
}

} // namespace

TEST_CASE("roofs: most threads, then fastest, triad for bandwidth", "[machine]")
{
    const MachineModel m = sampleModel();
    const Ceiling* fp64 = m.computeRoof("cpu", "fp64");
    REQUIRE(fp64);
    CHECK(fp64->variant == "avx2_fma");
    CHECK(fp64->threads == 2);
    CHECK(fp64->value == 100e9);
    const Ceiling* l1 = m.bandwidthRoof("cpu", "L1");
    REQUIRE(l1);
    CHECK(l1->pattern == "triad"); // not the faster read: most kernels mix reads and writes
    CHECK(l1->threads == 2);
    CHECK(m.bandwidthRoof("cpu", "DRAM")->value == 30e9);
    CHECK(m.bandwidthRoof("cpu", "L2") == nullptr);
    CHECK(m.launchFloor("cpu") == nullptr);
    CHECK(m.computeRoof("gpu0", "fp64") == nullptr);
}

TEST_CASE("a machine file survives a write and a read unchanged", "[machine]")
{
    const MachineModel m = sampleModel();
    const std::string path = scratchDir("machine_round_trip") + "/sub/dir/m.json";
    writeMachineFile(path, m); // creates the folders
    CHECK(fs::directory_iterator(fs::path(path).parent_path()) != fs::directory_iterator());
    for (const auto& e : fs::directory_iterator(fs::path(path).parent_path()))
        CHECK(e.path().filename() == "m.json"); // no temporary left behind
    const MachineModel r = readMachineFile(path);
    CHECK(r.origin == path);
    CHECK(r.created == m.created);
    CHECK(r.mode == "quick");
    CHECK(r.identity.host == "node7");
    CHECK(r.identity.key() == m.identity.key());
    CHECK(r.cpu.model == m.cpu.model);
    CHECK(r.cpu.flags == m.cpu.flags);
    CHECK(r.cpu.caches.size() == 2);
    CHECK(r.cpu.caches[1].bytes == 33554432);
    CHECK(r.cpu.measuredHz == 3.1e9);
    REQUIRE(r.ceilings.size() == m.ceilings.size());
    for (std::size_t i = 0; i < r.ceilings.size(); ++i) {
        INFO("ceiling " << i);
        CHECK(r.ceilings[i].value == m.ceilings[i].value);
        CHECK(r.ceilings[i].kind == m.ceilings[i].kind);
        CHECK(r.ceilings[i].roof == m.ceilings[i].roof);
        CHECK(r.ceilings[i].theoretical == m.ceilings[i].theoretical);
        CHECK(r.ceilings[i].workingSet == m.ceilings[i].workingSet);
        CHECK(r.ceilings[i].level == m.ceilings[i].level);
        CHECK(r.ceilings[i].variant == m.ceilings[i].variant);
    }
    REQUIRE(r.sweeps.size() == 1);
    CHECK(r.sweeps[0].points.size() == 3);
    CHECK(r.sweeps[0].points[2].level == "DRAM");
    CHECK(r.notes == m.notes);
    CHECK(serializeMachine(r) == serializeMachine(m));
}

TEST_CASE("machine file versions: newer minor read, newer major refused", "[machine]")
{
    const std::string text = serializeMachine(sampleModel());
    CHECK(parseMachine(withVersion(text, "1.9"), "m.json").minor == 9);
    CHECK_THROWS_WITH(parseMachine(withVersion(text, "2.0"), "m.json"),
        Catch::Contains("'m.json'") && Catch::Contains("version 2.0 is newer") && Catch::Contains("(1.2)"));
    CHECK_THROWS_WITH(
        parseMachine(withVersion(text, "one"), "m.json"), Catch::Contains("invalid machine file version"));
}

TEST_CASE("bad machine files are refused with the field named", "[machine]")
{
    const auto good = nlohmann::json::parse(serializeMachine(sampleModel()));
    struct Row {
        std::string name;
        std::function<std::string()> make;
        std::string phrase;
    };
    const std::vector<Row> rows {
        { "not JSON", [] { return std::string("{\"format\": "); }, "not a machine file (JSON error" },
        { "empty", [] { return std::string(); }, "not a machine file" },
        { "other JSON", [] { return std::string("{\"a\": 1}"); }, "not a rooftime machine file" },
        { "array", [] { return std::string("[1,2]"); }, "not a rooftime machine file" },
        { "no ceilings",
            [&] {
                auto j = good;
                j["ceilings"] = nlohmann::json::array();
                return j.dump();
            },
            "no ceilings" },
        { "value is text",
            [&] {
                auto j = good;
                j["ceilings"][1]["value"] = "fast";
                return j.dump();
            },
            "ceilings[1].value: expected a number" },
        { "negative value",
            [&] {
                auto j = good;
                j["ceilings"][0]["value"] = -3;
                return j.dump();
            },
            "ceilings[0].value: must be positive" },
        { "unknown kind",
            [&] {
                auto j = good;
                j["ceilings"][0]["kind"] = "magic";
                return j.dump();
            },
            "unknown kind 'magic'" },
        { "bandwidth without level",
            [&] {
                auto j = good;
                j["ceilings"][4].erase("level");
                return j.dump();
            },
            "ceilings[4].level: missing" },
        { "cpu is a number",
            [&] {
                auto j = good;
                j["cpu"] = 3;
                return j.dump();
            },
            "cpu: expected an object" },
        { "bad sweep point",
            [&] {
                auto j = good;
                j["sweeps"][0]["points"][1] = "x";
                return j.dump();
            },
            "sweeps[0].points[1]" },
    };
    for (const Row& row : rows) {
        INFO(row.name);
        CHECK_THROWS_WITH(
            parseMachine(row.make(), "bad.json"), Catch::Contains("'bad.json'") && Catch::Contains(row.phrase));
    }
    CHECK_THROWS_WITH(readMachineFile("/nonexistent/m.json"), Catch::Contains("no such file"));
    CHECK_THROWS_WITH(readMachineFile(scratchDir("machine_folder")), Catch::Contains("is a folder"));
}

TEST_CASE("hardware identity: stable key, mismatches named", "[machine]")
{
    const HardwareIdentity here = currentHardware();
    CHECK_FALSE(here.cpuModel.empty());
    CHECK(here.logicalCpus >= 1);
    CHECK(currentHardware().key() == here.key());
    CHECK(here.key().size() == 12);

    MachineModel m = sampleModel();
    m.identity = here;
    CHECK(identityMismatches(m, here).empty());
    m.identity.host = "elsewhere";
    m.identity.cpuModel = "Another CPU";
    m.identity.gpuModels = { "NVIDIA H100 80GB HBM3" };
    const auto mismatch = identityMismatches(m, here);
    REQUIRE(mismatch.size() == 3);
    CHECK(mismatch[0].find("host 'elsewhere'") != std::string::npos);
    CHECK(mismatch[1].find("CPU 'Another CPU'") != std::string::npos);
    CHECK(mismatch[2].find("H100") != std::string::npos);
    CHECK(m.identity.key() != here.key()); // the host name is not part of the key, the CPU is
}

TEST_CASE("the cache path follows ROOFTIME_CACHE_DIR and is safe to use as a file name", "[machine]")
{
    const char* old = std::getenv("ROOFTIME_CACHE_DIR");
    const std::string saved = old ? old : "";
    setenv("ROOFTIME_CACHE_DIR", "/tmp/rooftime-cache-test", 1);
    HardwareIdentity id { "we/ird host", "CPU", 4, {} };
    const std::string path = machineCachePath(id);
    CHECK(path == "/tmp/rooftime-cache-test/machines/we_ird_host-" + id.key() + ".json");
    if (old)
        setenv("ROOFTIME_CACHE_DIR", saved.c_str(), 1);
    else
        unsetenv("ROOFTIME_CACHE_DIR");
}

TEST_CASE("a GPU measurement merges into the model and replaces an older one", "[machine]")
{
    const std::string gpu = R"({
      "gpu": {"index": 0, "name": "NVIDIA H100 80GB HBM3", "uuid": "GPU-1", "arch": "sm_90", "sms": 132,
              "driver_version": "13.0", "runtime_version": "13.0", "memory_bytes": 85e9, "l2_bytes": 52428800,
              "bus_width_bits": 5120, "clocks": {"sm_max_hz": 1.98e9, "sm_measured_hz": 1.755e9, "memory_hz": 2.6e9}},
      "ceilings": [
        {"device": "gpu0", "kind": "compute", "precision": "fp64", "variant": "fma", "value": 5.1e13, "unit": "FLOP/s",
         "method": "m", "theoretical": 6.7e13, "theoretical_method": "t", "cross_check": false},
        {"device": "gpu0", "kind": "compute", "precision": "fp16", "variant": "tensor", "value": 6.6e14, "unit": "FLOP/s",
         "method": "m", "theoretical": null, "cross_check": false},
        {"device": "gpu0", "kind": "compute", "precision": "fp16", "variant": "cublas", "value": 6.8e14, "unit": "FLOP/s",
         "method": "m", "cross_check": true},
        {"device": "gpu0", "kind": "bandwidth", "level": "HBM", "pattern": "read", "value": 3.0e12, "unit": "B/s",
         "working_set": [2e8, 4e9], "method": "m"},
        {"device": "gpu0", "kind": "launch", "variant": "launch_to_start", "value": 6e-6, "unit": "s", "method": "m"},
        {"device": "gpu0", "kind": "launch", "variant": "back_to_back", "value": 2.1e-6, "unit": "s", "method": "m"}],
      "sweeps": [{"device": "gpu0", "pattern": "read", "threads": 0, "points": [[16384, 1e13, "L1"], [4e9, 3e12, "HBM"]]}],
      "notes": ["cuBLAS found"]})";
    MachineModel m = sampleModel();
    const std::size_t cpuCeilings = m.ceilings.size();
    mergeGpuMeasurement(m, gpu, "companion");
    mergeGpuMeasurement(m, gpu, "companion"); // again: replaces, never duplicates
    markRoofs(m);
    REQUIRE(m.gpus.size() == 1);
    CHECK(m.gpus[0].arch == "sm_90");
    CHECK(m.gpus[0].smMeasuredHz == 1.755e9);
    CHECK(m.ceilings.size() == cpuCeilings + 6);
    CHECK(m.sweeps.size() == 2);
    CHECK(m.notes.back() == "gpu0: cuBLAS found");
    REQUIRE(m.computeRoof("gpu0", "fp16", true));
    CHECK(m.computeRoof("gpu0", "fp16", true)->variant == "tensor"); // cuBLAS, 3 % higher, stays a cross-check
    CHECK(m.computeRoof("gpu0", "fp16") == nullptr); // no half2 FMA roof in this measurement
    CHECK(m.computeRoof("gpu0", "fp64")->variant == "fma");
    REQUIRE(m.launchFloor("gpu0"));
    CHECK(m.launchFloor("gpu0")->variant == "back_to_back");
    CHECK(m.bandwidthRoof("gpu0", "HBM")->value == 3.0e12);
    // The CPU roofs are untouched.
    CHECK(m.computeRoof("cpu", "fp64")->value == 100e9);

    // A cross-check far above our kernel (WMMA on Hopper) becomes the roof, and the model says why.
    auto fast = nlohmann::json::parse(gpu);
    fast["ceilings"][2]["value"] = 9.0e14;
    mergeGpuMeasurement(m, fast.dump(), "companion");
    markRoofs(m);
    REQUIRE(m.computeRoof("gpu0", "fp16", true));
    CHECK(m.computeRoof("gpu0", "fp16", true)->variant == "cublas");
    CHECK(m.computeRoof("gpu0", "fp16", true)->value == 9.0e14);
    CHECK(m.notes.back().find("gpu0 fp16: cublas reached 900 TFLOP/s, above the tensor kernel's 660 TFLOP/s") == 0);

    auto wrongDevice = nlohmann::json::parse(gpu);
    wrongDevice["ceilings"][0]["device"] = "gpu3";
    CHECK_THROWS_WITH(mergeGpuMeasurement(m, wrongDevice.dump(), "companion"), Catch::Contains("expected gpu0"));
    CHECK_THROWS_WITH(mergeGpuMeasurement(m, "no json", "companion"), Catch::Contains("not JSON"));
    CHECK_THROWS_WITH(mergeGpuMeasurement(m, "{}", "companion"), Catch::Contains("gpu: missing"));
}

TEST_CASE("machine file 1.2: all-core clock, NVIDIA driver build, theoretical at the measured SM clock", "[machine]")
{
    MachineModel m = sampleModel();
    m.cpu.measuredAllCoresHz = 2.9e9;
    GpuInfo g;
    g.index = 0;
    g.name = "NVIDIA H200";
    g.driverVersion = "13.0";
    g.nvidiaDriver = "580.159.04";
    g.smMaxHz = 1.98e9;
    g.smMeasuredHz = 1.755e9;
    m.gpus.push_back(g);
    Ceiling c = compute("fp64", "fma", 0, 60e12);
    c.device = "gpu0";
    c.theoretical = 67e12;
    c.theoreticalAtMeasuredClock = 67e12 * 1.755 / 1.98;
    m.ceilings.push_back(c);
    markRoofs(m);
    const MachineModel r = parseMachine(serializeMachine(m), "round trip");
    CHECK(r.minor == 2);
    CHECK(r.cpu.measuredAllCoresHz == 2.9e9);
    REQUIRE(r.gpus.size() == 1);
    CHECK(r.gpus[0].nvidiaDriver == "580.159.04");
    CHECK(r.gpus[0].driverVersion == "13.0");
    const Ceiling* gc = r.computeRoof("gpu0", "fp64");
    REQUIRE(gc);
    REQUIRE(gc->theoreticalAtMeasuredClock);
    CHECK(*gc->theoreticalAtMeasuredClock == Approx(59.39e12).epsilon(1e-3));
    // --show names the driver build and the ratio at the measured clock.
    const std::string text = formatMachineText(r);
    CHECK_THAT(text, Catch::Contains("driver 580.159.04 for CUDA 13.0"));
    CHECK_THAT(text, Catch::Contains("101% of 59.4 TFLOP/s at the measured clock"));
    // A 1.1 file (none of these fields) still reads, with them unknown.
    auto old = nlohmann::json::parse(serializeMachine(sampleModel()));
    old["version"] = "1.1";
    const MachineModel o = parseMachine(old.dump(), "1.1");
    CHECK(o.cpu.measuredAllCoresHz == 0);
}

TEST_CASE("the NVIDIA driver build is read from /proc/driver/nvidia/version text", "[machine]")
{
    CHECK(nvidiaDriverVersion("NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.95.05  Tue Sep 23 09:53:22 UTC "
                              "2025\nGCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n")
        == "580.95.05");
    CHECK(nvidiaDriverVersion("NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release Build  "
                              "(dvs-builder@U16-I3-B13-4-3)  Thu Nov 13 2025\n")
        == "580.159.04");
    CHECK(nvidiaDriverVersion("NVRM version: NVIDIA UNIX Open Kernel Module for aarch64  575.57.08\n") == "575.57.08");
    CHECK(nvidiaDriverVersion("").empty());
    CHECK(nvidiaDriverVersion("GCC version: 12.2.0\n").empty()); // no module line
    CHECK(nvidiaDriverVersion("NVRM version: NVIDIA UNIX x86_64 Kernel Module\n").empty());
}

TEST_CASE("counter permission preflight: RmProfilingAdminOnly against the process's capabilities", "[machine]")
{
    const std::string restricted = "ResmanDebugLevel: 4294967295\nRmProfilingAdminOnly: 1\nEnableMSI: 1\n";
    const std::string open = "ResmanDebugLevel: 4294967295\nRmProfilingAdminOnly: 0\n";
    const std::string user = "Name:\tpython3\nCapInh:\t0000000000000000\nCapEff:\t0000000000000000\n";
    const std::string root = "Name:\tpython3\nCapEff:\t000001ffffffffff\n";
    const std::string perfmon = "CapEff:\t0000004000000000\n"; // bit 38 only
    const std::string sysAdmin = "CapEff:\t0000000000200000\n"; // bit 21 only
    const std::string problem = counterPermissionProblem(restricted, user);
    CHECK_THAT(problem, Catch::Contains("RmProfilingAdminOnly: 1"));
    CHECK_THAT(problem, Catch::Contains("NVreg_RestrictProfilingToAdminUsers=0"));
    CHECK(counterPermissionProblem(restricted, root).empty());
    CHECK(counterPermissionProblem(restricted, perfmon).empty());
    CHECK(counterPermissionProblem(restricted, perfmon, "580.95.05").empty());
    CHECK_FALSE(counterPermissionProblem(restricted, perfmon, "550.54.15").empty()); // CAP_PERFMON from R565
    CHECK(counterPermissionProblem(restricted, sysAdmin, "550.54.15").empty());
    CHECK(counterPermissionProblem(restricted, sysAdmin).empty());
    CHECK(counterPermissionProblem(open, user).empty());
    CHECK(counterPermissionProblem("", user).empty()); // no driver: nothing to say here
    CHECK(counterPermissionProblem(restricted, perfmon, "garbage").empty()); // cannot tell: no warning
    CHECK(counterPermissionProblem(restricted, "CapEff:\tnot-hex\n").empty());
}

TEST_CASE("hardware mismatches against a partial identity (a profile's host and GPUs)", "[machine]")
{
    MachineModel m = sampleModel();
    m.identity = { "gpu-node", "Intel(R) Xeon(R) Processor", 16, { "NVIDIA H200" } };
    HardwareIdentity recorded;
    recorded.partial = true;
    recorded.host = "gpu-node";
    recorded.gpuModels = { "NVIDIA H200" };
    CHECK(identityMismatches(m, recorded, "recorded on").empty());
    recorded.gpuModels.clear(); // a CPU-only program on that node: not a mismatch
    CHECK(identityMismatches(m, recorded, "recorded on").empty());
    recorded.gpuModels = { "NVIDIA H100 80GB HBM3" };
    recorded.host = "other";
    const auto mismatch = identityMismatches(m, recorded, "recorded on");
    REQUIRE(mismatch.size() == 2);
    CHECK(mismatch[0] == "host 'gpu-node' (recorded on 'other')");
    CHECK_THAT(mismatch[1], Catch::Contains("(recorded on 'NVIDIA H100 80GB HBM3')"));
}
