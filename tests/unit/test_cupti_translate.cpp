// SPDX-License-Identifier: MIT
// CUPTI record translation on synthetic CUpti_Activity* structs built from the real CUDA 13 headers (the way
// kineto's mock tests its activity handling): no GPU, no CUPTI calls.
#include "translate.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

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
    CHECK(r.graphId == 0); // not a graph launch
    CHECK(r.graphNodeId == 0);
    CHECK(!r.replayed);
    CHECK(r.metrics.empty());
    auto node = kernel("_Z5triadPdPKdS1_di", 43);
    node.graphId = 9;
    node.graphNodeId = 0x900000002ull;
    const backend::KernelRecord g = rooftime::cupti::translateKernel(node);
    CHECK(g.graphId == 9);
    CHECK(g.graphNodeId == 0x900000002ull);
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
    // Asked again (from the cache of names already seen): the same answers.
    for (int again = 0; again < 2; ++again) {
        CHECK(rooftime::cupti::demangle("_Z4gemmIfLi128EEvPKT_S2_PS0_i", mangled)
            == "void gemm<float, 128>(float const*, float const*, float*, int)");
        CHECK(mangled == "_Z4gemmIfLi128EEvPKT_S2_PS0_i");
        CHECK(rooftime::cupti::demangle("_Znot a name", mangled) == "_Znot a name");
        CHECK(mangled.empty());
    }
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

TEST_CASE("CUPTI launches: ids never matched are forgotten kSlots ids later")
{
    LaunchTable table;
    for (std::uint32_t i = 1; i <= LaunchTable::kSlots + 1; ++i)
        table.remember(i, { 1, i, 0, 10 * static_cast<std::int64_t>(i) });
    CHECK(table.size() == LaunchTable::kSlots);
    CHECK(!table.take(1)); // the oldest is gone: its slot holds kSlots + 1
    const auto last = table.take(LaunchTable::kSlots + 1);
    REQUIRE(last);
    CHECK(last->region == LaunchTable::kSlots + 1);
    CHECK(last->launchNs == 10 * static_cast<std::int64_t>(LaunchTable::kSlots + 1));
    const auto second = table.find(2);
    REQUIRE(second);
    CHECK(second->region == 2);
    CHECK(table.size() == LaunchTable::kSlots - 1);
    table.clear();
    CHECK(table.size() == 0);
}

TEST_CASE("CUPTI launches: four launching threads and a reader at once, every id taken once with its own context")
{
    LaunchTable table;
    constexpr std::uint32_t perThread = 20000;
    std::atomic<int> writing { 4 };
    std::vector<std::thread> writers;
    for (std::uint32_t t = 0; t < 4; ++t)
        writers.emplace_back([&, t] {
            for (std::uint32_t i = 0; i < perThread; ++i) {
                const std::uint32_t id = 1 + t + 4 * i; // interleaved, as CUPTI numbers the calls of all threads
                table.remember(id, { t + 1, id, id / 2, static_cast<std::int64_t>(id) * 3 });
            }
            --writing;
        });
    // The reader takes ids as they come; whatever it finds is the right launch's, and each id at most once.
    std::vector<bool> taken(1 + 4 * perThread, false);
    std::size_t wrong = 0, found = 0;
    while (writing.load() > 0 || found < 4 * perThread) {
        bool progress = false;
        for (std::uint32_t id = 1; id <= 4 * perThread; ++id) {
            if (taken[id]) continue;
            if (auto c = table.take(id)) {
                taken[id] = true;
                ++found;
                progress = true;
                wrong += c->thread != 1 + (id - 1) % 4 || c->region != id || c->stack != id / 2
                    || c->launchNs != static_cast<std::int64_t>(id) * 3;
            }
        }
        if (!progress && writing.load() == 0) break;
    }
    for (auto& w : writers)
        w.join();
    CHECK(wrong == 0);
    CHECK(found == 4 * perThread); // the ring holds more than all of them: none forgotten
    CHECK(table.size() == 0);
}

// ---- counter values of measured launches --------------------------------------------------------------------

namespace {

using rooftime::cupti::CounterMatcher;

backend::KernelRecord record(std::uint64_t correlation)
{
    backend::KernelRecord k;
    k.name = "k" + std::to_string(correlation);
    k.correlation = correlation;
    return k;
}

CounterMatcher::Values values(double flops)
{
    return { { "smsp__sass_thread_inst_executed_op_ffma_pred_on.sum", flops, "inst" } };
}

} // namespace

TEST_CASE("Counter values decoded before the record: the record gets them whenever it comes, others pass")
{
    CounterMatcher m;
    m.measured(1);
    CHECK(m.decoded({ { 1, values(64) } }).empty()); // no record yet
    // The records come later, at a flush (in a program that never destroys its context: at exit, after counters
    // were ended there), with an unmeasured launch between.
    std::vector<backend::KernelRecord> ks { record(2), record(1) };
    m.deliver(ks);
    REQUIRE(ks.size() == 2);
    CHECK(ks[0].name == "k2");
    CHECK_FALSE(ks[0].replayed);
    CHECK(ks[0].metrics.empty());
    CHECK(ks[1].name == "k1");
    CHECK(ks[1].replayed);
    REQUIRE(ks[1].metrics.size() == 1);
    CHECK(ks[1].metrics[0].value == 64);
    CHECK(m.pending() == 0);
}

TEST_CASE("Counter values decoded after the record: the held record comes out with them")
{
    CounterMatcher m;
    m.measured(5, 4); // a driver launch (5) inside a runtime call (4); the record carries the runtime call's id
    std::vector<backend::KernelRecord> ks { record(4) };
    m.deliver(ks);
    CHECK(ks.empty()); // held for its values
    CHECK(m.pending() == 1);
    const auto ready = m.decoded({ { 5, values(128) } });
    REQUIRE(ready.size() == 1);
    CHECK(ready[0].correlation == 4);
    CHECK(ready[0].replayed);
    CHECK(ready[0].metrics.at(0).value == 128);
    CHECK(m.pending() == 0);
}

TEST_CASE("Counter values: an alias names the same launch, an unknown id is not measured")
{
    CounterMatcher m;
    m.measured(10);
    CHECK(m.alias(10, 11));
    CHECK_FALSE(m.alias(99, 100));
    CHECK(m.isMeasured(11));
    CHECK_FALSE(m.isMeasured(100));
    CHECK(m.decoded({ { 11, values(3) } }).empty());
    std::vector<backend::KernelRecord> ks { record(10), record(100), record(0) };
    m.deliver(ks);
    REQUIRE(ks.size() == 3);
    CHECK(ks[0].replayed);
    CHECK(ks[0].metrics.at(0).value == 3);
    CHECK_FALSE(ks[1].replayed);
    CHECK_FALSE(ks[2].replayed); // correlation 0: never measured
    CHECK_FALSE(m.isMeasured(10)); // done with
}

TEST_CASE("Counter values that will not come: the held record goes out without them, late values are ignored")
{
    CounterMatcher m;
    m.measured(20);
    m.measured(21);
    std::vector<backend::KernelRecord> ks { record(20) };
    m.deliver(ks);
    CHECK(ks.empty());
    const auto released = m.lost({ 20, 21 });
    REQUIRE(released.size() == 1); // 21's record had not come: nothing to release, but it is forgotten
    CHECK(released[0].correlation == 20);
    CHECK_FALSE(released[0].replayed);
    CHECK(released[0].metrics.empty());
    CHECK(m.decoded({ { 20, values(1) } }).empty());
    std::vector<backend::KernelRecord> late { record(21) };
    m.deliver(late);
    REQUIRE(late.size() == 1);
    CHECK_FALSE(late[0].replayed);
    CHECK(m.pending() == 0);
}

TEST_CASE("Counter values at exit: held records are drained without counters, values without a record dropped")
{
    CounterMatcher m;
    m.measured(30);
    m.measured(31);
    std::vector<backend::KernelRecord> ks { record(30) };
    m.deliver(ks);
    CHECK(m.decoded({ { 31, values(7) } }).empty());
    const auto held = m.drain();
    REQUIRE(held.size() == 1);
    CHECK(held[0].correlation == 30);
    CHECK_FALSE(held[0].replayed);
    CHECK(m.pending() == 0);
}

TEST_CASE("Counter values: the buffer thread and a launching thread at once lose nothing")
{
    CounterMatcher m;
    constexpr std::uint32_t n = 20000;
    for (std::uint32_t i = 1; i <= n; ++i)
        m.measured(i);
    std::vector<backend::KernelRecord> out;
    std::thread decoder([&] {
        for (std::uint32_t i = 1; i <= n; ++i) {
            auto ready = m.decoded({ { i, values(i) } });
            for (auto& k : ready)
                out.push_back(std::move(k));
        }
    });
    std::vector<backend::KernelRecord> delivered;
    for (std::uint32_t i = 1; i <= n; i += 100) {
        std::vector<backend::KernelRecord> ks;
        for (std::uint32_t j = i; j < i + 100 && j <= n; ++j)
            ks.push_back(record(j));
        m.deliver(ks);
        for (auto& k : ks)
            delivered.push_back(std::move(k));
    }
    decoder.join();
    CHECK(out.size() + delivered.size() == n);
    for (const auto* list : { &out, &delivered })
        for (const auto& k : *list) {
            REQUIRE(k.replayed);
            CHECK(k.metrics.at(0).value == static_cast<double>(k.correlation));
        }
    CHECK(m.pending() == 0);
}

TEST_CASE("a failed profiler call names its known cause with the fix, whichever call meets it", "[cupti]")
{
    using rooftime::cupti::counterFailure;
    for (const char* doing :
        { "initialize the CUPTI profiler", "query counter availability", "enable the range profiler" }) {
        INFO(doing);
        const auto perm
            = counterFailure(CUPTI_ERROR_INSUFFICIENT_PRIVILEGES, doing, "CUPTI_ERROR_INSUFFICIENT_PRIVILEGES");
        CHECK_THAT(perm.why, Catch::Contains("ERR_NVGPUCTRPERM"));
        CHECK_THAT(perm.why, Catch::Contains("NVreg_RestrictProfilingToAdminUsers=0"));
        CHECK(perm.status == "insufficient privileges (ERR_NVGPUCTRPERM)");
        CHECK(counterFailure(CUPTI_ERROR_VIRTUALIZED_DEVICE_INSUFFICIENT_PRIVILEGES, doing, "x").status == perm.status);
        CHECK_THAT(counterFailure(CUPTI_ERROR_HARDWARE_BUSY, doing, "x").why, Catch::Contains("dcgmi profile --pause"));
        CHECK(counterFailure(CUPTI_ERROR_MIG_DEVICE_NOT_SUPPORTED, doing, "x").status == "MIG instance");
        CHECK(counterFailure(CUPTI_ERROR_CONFIDENTIAL_COMPUTING_NOT_SUPPORTED, doing, "x").status
            == "confidential computing");
    }
    const auto other
        = counterFailure(CUPTI_ERROR_INVALID_PARAMETER, "prepare the counter data", "CUPTI_ERROR_INVALID_PARAMETER");
    CHECK(other.why == "cannot prepare the counter data (CUPTI_ERROR_INVALID_PARAMETER)");
    CHECK(other.status == "CUPTI_ERROR_INVALID_PARAMETER");
}
