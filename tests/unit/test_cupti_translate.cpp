// SPDX-License-Identifier: MIT
// CUPTI record translation on synthetic CUpti_Activity* structs built from the real CUDA 13 headers (the way
// kineto's mock tests its activity handling): no GPU, no CUPTI calls.
#include "translate.h"

#include <catch2/catch.hpp>

#include <cstring>
#include <thread>

using rooftime::cupti::LaunchTable;
namespace backend = rooftime::collector::backend;

namespace {

CUpti_ActivityKernel10 kernel(const char* name, std::uint32_t correlation)
{
    CUpti_ActivityKernel10 k;
    std::memset(&k, 0, sizeof k);
    k.kind = CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL;
    k.name = name;
    k.correlationId = correlation;
    k.deviceId = 1;
    k.contextId = 7;
    k.streamId = 13;
    k.gridX = 120;
    k.gridY = 2;
    k.gridZ = 1;
    k.blockX = 256;
    k.blockY = 1;
    k.blockZ = 1;
    k.registersPerThread = 40;
    k.staticSharedMemory = 1024;
    k.dynamicSharedMemory = 4096;
    k.start = 1'000'000;
    k.end = 1'250'000;
    return k;
}

} // namespace

TEST_CASE("CUPTI kernel record: names demangled, mangled kept, launch configuration copied")
{
    const auto k = kernel("_Z5triadPdPKdS1_di", 42);
    const backend::KernelRecord r = rooftime::cupti::translateKernel(k);
    CHECK(r.name == "triad(double*, double const*, double const*, double, int)");
    CHECK(r.mangled == "_Z5triadPdPKdS1_di");
    CHECK(r.device == 1);
    CHECK(r.context == 7);
    CHECK(r.stream == 13);
    CHECK(r.grid[0] == 120);
    CHECK(r.grid[1] == 2);
    CHECK(r.grid[2] == 1);
    CHECK(r.block[0] == 256);
    CHECK(r.block[1] == 1);
    CHECK(r.registers == 40);
    CHECK(r.sharedBytes == 5120);
    CHECK(r.startNs == 1'000'000);
    CHECK(r.endNs == 1'250'000);
    CHECK(r.correlation == 42);
    CHECK(!r.replayed);
    CHECK(r.metrics.empty());
}

TEST_CASE("CUPTI kernel names: templates demangle, C names and garbage stay as they are")
{
    std::string mangled;
    CHECK(rooftime::cupti::demangle("_Z4gemmIfLi128EEvPKT_S2_PS0_i", mangled)
        == "void gemm<float, 128>(float const*, float const*, float*, int)");
    CHECK(mangled == "_Z4gemmIfLi128EEvPKT_S2_PS0_i");
    CHECK(rooftime::cupti::demangle("triad_kernel", mangled) == "triad_kernel");
    CHECK(mangled.empty());
    CHECK(rooftime::cupti::demangle("_Znot a name", mangled) == "_Znot a name");
    CHECK(mangled.empty());
    CHECK(rooftime::cupti::demangle(nullptr, mangled).empty());
}

TEST_CASE("CUPTI units: nanoseconds become the profile's nsecond, others stay")
{
    CHECK(rooftime::cupti::normaliseUnit("nanosecond") == "nsecond");
    CHECK(rooftime::cupti::normaliseUnit("byte") == "byte");
    CHECK(rooftime::cupti::normaliseUnit("instruction") == "instruction");
    CHECK(rooftime::cupti::normaliseUnit("math_op") == "math_op");
    CHECK(rooftime::cupti::normaliseUnit(nullptr).empty());
}

TEST_CASE("CUPTI copies and fills: kind, bytes, stream, correlation")
{
    CUpti_ActivityMemcpy6 c;
    std::memset(&c, 0, sizeof c);
    c.kind = CUPTI_ACTIVITY_KIND_MEMCPY;
    c.copyKind = CUPTI_ACTIVITY_MEMCPY_KIND_HTOD;
    c.bytes = 1 << 20;
    c.streamId = 3;
    c.start = 10;
    c.end = 30;
    c.correlationId = 5;
    const backend::MemoryRecord r = rooftime::cupti::translateMemcpy(c);
    CHECK(r.kind == backend::MemoryRecord::Kind::Copy);
    CHECK(r.copyKind == CUPTI_ACTIVITY_MEMCPY_KIND_HTOD);
    CHECK(r.bytes == (1u << 20));
    CHECK(r.stream == 3);
    CHECK(r.endNs - r.startNs == 20);
    CHECK(r.correlation == 5);

    CUpti_ActivityMemset4 s;
    std::memset(&s, 0, sizeof s);
    s.kind = CUPTI_ACTIVITY_KIND_MEMSET;
    s.bytes = 4096;
    s.correlationId = 6;
    const backend::MemoryRecord f = rooftime::cupti::translateMemset(s);
    CHECK(f.kind == backend::MemoryRecord::Kind::Set);
    CHECK(f.bytes == 4096);
    CHECK(f.correlation == 6);
}

TEST_CASE("CUPTI device record: name, sm_XY, SM count")
{
    CUpti_ActivityDevice5 d;
    std::memset(&d, 0, sizeof d);
    d.kind = CUPTI_ACTIVITY_KIND_DEVICE;
    d.id = 0;
    d.name = "NVIDIA H100 80GB HBM3";
    d.computeCapabilityMajor = 9;
    d.computeCapabilityMinor = 0;
    d.numMultiprocessors = 132;
    const backend::DeviceRecord r = rooftime::cupti::translateDevice(d);
    CHECK(r.name == "NVIDIA H100 80GB HBM3");
    CHECK(r.arch == "sm_90");
    CHECK(r.sms == 132);
}

TEST_CASE("CUPTI launches: a kernel record joins the thread and region of its launch, once")
{
    LaunchTable table;
    // Launch callbacks on two application threads; records arrive later on another thread.
    std::thread a([&] { table.remember(100, { 2, 7 }); });
    std::thread b([&] { table.remember(101, { 3, 0 }); });
    a.join();
    b.join();
    backend::KernelRecord k1 = rooftime::cupti::translateKernel(kernel("_Z1fv", 100));
    backend::KernelRecord k2 = rooftime::cupti::translateKernel(kernel("_Z1gv", 101));
    backend::KernelRecord k3 = rooftime::cupti::translateKernel(kernel("_Z1hv", 999));
    rooftime::cupti::joinLaunch(k1, table);
    rooftime::cupti::joinLaunch(k2, table);
    rooftime::cupti::joinLaunch(k3, table);
    CHECK(k1.thread == 2);
    CHECK(k1.region == 7);
    CHECK(k2.thread == 3);
    CHECK(k2.region == 0); // launched outside any region
    CHECK(k3.thread == 0); // no launch seen: unknown
    CHECK(table.size() == 0);
    // Taken once: a second record with the same id does not join again.
    backend::KernelRecord again = rooftime::cupti::translateKernel(kernel("_Z1fv", 100));
    rooftime::cupti::joinLaunch(again, table);
    CHECK(again.thread == 0);
}

TEST_CASE("CUPTI launches: every kernel of a graph launch joins the graph launch's context")
{
    LaunchTable table;
    table.remember(300, { 4, 9 });
    for (int node = 0; node < 3; ++node) {
        backend::KernelRecord k = rooftime::cupti::translateKernel(kernel("_Z1fv", 300));
        rooftime::cupti::joinLaunch(k, table, true);
        CHECK(k.thread == 4);
        CHECK(k.region == 9);
    }
}

TEST_CASE("CUPTI launches: ids never matched are forgotten after two generations")
{
    LaunchTable table;
    for (std::uint32_t i = 1; i <= 2 * LaunchTable::kGeneration + 1; ++i)
        table.remember(i, { 1, i });
    CHECK(table.size() <= 2 * LaunchTable::kGeneration);
    CHECK(!table.take(1)); // the oldest is gone
    const auto last = table.take(2 * LaunchTable::kGeneration + 1);
    REQUIRE(last);
    CHECK(last->region == 2 * LaunchTable::kGeneration + 1);
}
