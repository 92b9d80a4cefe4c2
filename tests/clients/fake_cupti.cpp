// SPDX-License-Identifier: MIT
// A stand-in libcupti.so.13 with a simulated GPU behind it (fake_cupti.h says what it models and what not). Every
// function the CUPTI plugin calls is here, with CUPTI's signature from CUDA 13's headers; nothing else is.
#include "fake_cupti.h"

#include <cupti.h>
#include <cupti_profiler_host.h>
#include <cupti_profiler_target.h>
#include <cupti_range_profiler.h>
#include <cupti_target.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

struct CUpti_RangeProfiler_Object {
    int context = 0;
    bool configured = false;
    bool started = false;
    std::uint8_t* image = nullptr; ///< the counter data image SetConfig named
    std::size_t imageSize = 0;
    std::size_t maxRanges = 0;
    std::vector<std::array<double, 4>> ranges; ///< since the last decode: duration, ffma, dram read, dram write
    std::size_t dropped = 0;
};

struct CUpti_Profiler_Host_Object {
    std::vector<std::string> metrics;
    std::string chip;
};

namespace {

// ---- the simulated GPU's state -------------------------------------------------------------------------------

/// What DecodeData writes into a counter data image, followed by maxRanges ranges.
struct ImageHeader {
    std::uint64_t magic = 0;
    std::uint64_t maxRanges = 0;
    std::uint64_t ranges = 0;
};
constexpr std::uint64_t kImageMagic = 0x66616b65696d6731; ///< an initialized image
constexpr std::size_t kRangeBytes = sizeof(std::array<double, 4>);

struct State {
    std::mutex mutex;
    CUpti_CallbackFunc callback = nullptr;
    void* userdata = nullptr;
    bool subscribed = false;
    std::set<std::pair<int, std::uint32_t>> enabled;
    std::set<int> kinds;
    CUpti_BuffersCallbackRequestFunc requested = nullptr;
    CUpti_BuffersCallbackCompleteFunc completed = nullptr;
    CUpti_TimestampCallbackFunc timestamp = nullptr;
    std::uint8_t* buffer = nullptr;
    std::size_t bufferSize = 0;
    std::size_t used = 0;
    std::map<int, std::uint64_t> gpuFree; ///< per device: when its last kernel ends
    std::set<int> devicesSeen;
    bool profilerInitialized = false;
    std::map<int, CUpti_RangeProfiler_Object*> objects; ///< enabled, per context
    std::set<CUpti_Profiler_Host_Object*> hosts;
    std::map<std::string, CUptiResult> failures;
    std::size_t droppedToReport = 0;
    std::vector<std::thread> workers; ///< completing full buffers, as CUPTI's worker thread does
};

State& state()
{
    // Leaked: the plugin calls in from atexit handlers and late threads.
    static State* s = [] {
        auto* st = new State;
        if (const char* d = std::getenv("FAKE_CUPTI_DROPPED")) st->droppedToReport = std::strtoull(d, nullptr, 10);
        if (const char* f = std::getenv("FAKE_CUPTI_FAIL")) {
            const std::map<std::string, CUptiResult> codes = {
                { "INSUFFICIENT_PRIVILEGES", CUPTI_ERROR_INSUFFICIENT_PRIVILEGES },
                { "HARDWARE_BUSY", CUPTI_ERROR_HARDWARE_BUSY },
                { "MIG_DEVICE_NOT_SUPPORTED", CUPTI_ERROR_MIG_DEVICE_NOT_SUPPORTED },
                { "CONFIDENTIAL_COMPUTING_NOT_SUPPORTED", CUPTI_ERROR_CONFIDENTIAL_COMPUTING_NOT_SUPPORTED },
                { "NOT_SUPPORTED", CUPTI_ERROR_NOT_SUPPORTED },
                { "UNKNOWN", CUPTI_ERROR_UNKNOWN },
            };
            std::string list = f;
            for (std::size_t at = 0; at < list.size();) {
                const std::size_t comma = std::min(list.find(',', at), list.size());
                const std::string item = list.substr(at, comma - at);
                const std::size_t eq = item.find('=');
                if (eq != std::string::npos && codes.count(item.substr(eq + 1)))
                    st->failures[item.substr(0, eq)] = codes.at(item.substr(eq + 1));
                at = comma + 1;
            }
        }
        return st;
    }();
    return *s;
}

/// The context current on this thread: the last one it launched or copied on.
thread_local int t_current = 0;
/// Stream captures in progress (any thread), and whether this thread's launches are captured.
std::atomic<int> g_capturing { 0 };
thread_local bool t_capturing = false;
std::atomic<std::uint32_t> g_correlation { 100 };

void misuse(const std::string& what)
{
    std::fprintf(stderr, "fake-cupti: misuse: %s\n", what.c_str());
}

/// A Range Profiler or profiler set-up call while a stream captures: on a real GPU an unsafe call that invalidates the
/// capture (the program's next captured launch fails with cudaErrorStreamCaptureInvalidated).
void duringCapture(const char* function)
{
    if (g_capturing.load() > 0) misuse(std::string(function) + " during a stream capture (invalidates it)");
}

CUptiResult injected(const char* function)
{
    // FAKE_CUPTI_HANG=function: that call never returns (a driver or GPU that hangs).
    if (const char* hang = std::getenv("FAKE_CUPTI_HANG"); hang && std::strcmp(hang, function) == 0)
        for (;;)
            std::this_thread::sleep_for(std::chrono::seconds(1));
    State& s = state();
    auto it = s.failures.find(function);
    return it == s.failures.end() ? CUPTI_SUCCESS : it->second;
}

CUcontext contextHandle(int context)
{
    return reinterpret_cast<CUcontext>(static_cast<std::uintptr_t>(context) * 0x1000);
}

int contextIndex(CUcontext ctx)
{
    const auto v = reinterpret_cast<std::uintptr_t>(ctx);
    return v != 0 && v % 0x1000 == 0 && v / 0x1000 < 64 ? static_cast<int>(v / 0x1000) : 0;
}

/// CUPTI's own clock: far from CLOCK_MONOTONIC, so that a record left on it shows.
std::uint64_t cuptiClock()
{
    timespec ts {};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<std::uint64_t>(ts.tv_nsec)
        + 1000000000000000ull;
}

/// A record's time: the registered timestamp callback's clock, else CUPTI's.
std::uint64_t recordClock()
{
    CUpti_TimestampCallbackFunc f = nullptr;
    {
        State& s = state();
        std::lock_guard lock(s.mutex);
        f = s.timestamp;
    }
    return f ? f() : cuptiClock();
}

void invoke(CUpti_CallbackDomain domain, CUpti_CallbackId cbid, const CUpti_CallbackData& data)
{
    CUpti_CallbackFunc f = nullptr;
    void* user = nullptr;
    {
        State& s = state();
        std::lock_guard lock(s.mutex);
        if (!s.subscribed || !s.enabled.count({ domain, cbid })) return;
        f = s.callback;
        user = s.userdata;
    }
    f(user, domain, cbid, &data);
}

CUpti_CallbackData callbackData(CUpti_ApiCallbackSite site, const char* function, const char* symbol, int context,
    std::uint32_t correlation, int* result)
{
    CUpti_CallbackData d {};
    d.callbackSite = site;
    d.functionName = function;
    d.symbolName = symbol;
    d.context = contextHandle(context);
    d.contextUid = static_cast<std::uint32_t>(context);
    d.correlationId = correlation;
    d.functionReturnValue = result;
    return d;
}

/// Hands the current buffer to the plugin (not under the lock: its callback calls back into CUPTI).
void complete()
{
    std::uint8_t* buffer = nullptr;
    std::size_t used = 0;
    CUpti_BuffersCallbackCompleteFunc f = nullptr;
    std::vector<std::thread> workers;
    State& s = state();
    {
        std::lock_guard lock(s.mutex);
        workers.swap(s.workers);
    }
    for (auto& w : workers) // full buffers first, in the order they filled
        w.join();
    {
        std::lock_guard lock(s.mutex);
        if (!s.buffer) return;
        buffer = s.buffer;
        used = s.used;
        f = s.completed;
        s.buffer = nullptr;
        s.used = s.bufferSize = 0;
    }
    if (f) f(nullptr, 0, buffer, used, used);
}

/// Appends an activity record behind an 8-byte size (cuptiActivityGetNextRecord walks them).
template <typename Record> void append(const Record& r)
{
    State& s = state();
    CUpti_BuffersCallbackRequestFunc request = nullptr;
    {
        std::lock_guard lock(s.mutex);
        if (!s.kinds.count(r.kind) || !s.requested) return;
        request = s.requested;
    }
    const std::size_t need = 8 + ((sizeof(Record) + 7) / 8) * 8;
    for (int attempt = 0; attempt < 2; ++attempt) {
        {
            std::lock_guard lock(s.mutex);
            if (s.buffer && s.used + need <= s.bufferSize) {
                const std::uint64_t size = sizeof(Record);
                std::memcpy(s.buffer + s.used, &size, 8);
                std::memcpy(s.buffer + s.used + 8, &r, sizeof(Record));
                s.used += need;
                return;
            }
        }
        {
            // A full buffer goes to the plugin from another thread, as CUPTI's worker does, not the launching one.
            std::lock_guard lock(s.mutex);
            if (s.buffer) {
                std::thread previous = s.workers.empty() ? std::thread() : std::move(s.workers.back());
                if (!s.workers.empty()) s.workers.pop_back();
                s.workers.emplace_back(
                    [f = s.completed, buffer = s.buffer, used = s.used, previous = std::move(previous)]() mutable {
                        if (previous.joinable()) previous.join(); // in the order they filled
                        if (f) f(nullptr, 0, buffer, used, used);
                    });
                s.buffer = nullptr;
                s.used = s.bufferSize = 0;
            }
        }
        std::uint8_t* fresh = nullptr;
        std::size_t size = 0, maxRecords = 0;
        request(&fresh, &size, &maxRecords);
        if (!fresh || size < need) {
            misuse("buffer request returned no usable buffer");
            return;
        }
        std::lock_guard lock(s.mutex);
        s.buffer = fresh;
        s.bufferSize = size;
        s.used = 0;
    }
}

void deviceSeen(int context)
{
    State& s = state();
    const int device = context - 1;
    {
        std::lock_guard lock(s.mutex);
        if (!s.devicesSeen.insert(device).second) return;
    }
    CUpti_ActivityDevice5 d {};
    d.kind = CUPTI_ACTIVITY_KIND_DEVICE;
    d.id = static_cast<std::uint32_t>(device);
    d.name = "Simulated GPU (fake CUPTI)";
    d.computeCapabilityMajor = 9;
    d.computeCapabilityMinor = 0;
    d.numMultiprocessors = 132;
    append(d);
}

/// A kernel runs on @p context: a range where that context's profiler is started (kernel replay: the record then
/// has no times), else a place on the device's timeline. True: it was replayed.
bool runKernel(int context, const fake_cupti_kernel* k, std::uint64_t& start, std::uint64_t& end)
{
    State& s = state();
    std::lock_guard lock(s.mutex);
    auto it = s.objects.find(context);
    if (it != s.objects.end() && it->second->started) {
        CUpti_RangeProfiler_Object& o = *it->second;
        if (o.ranges.size() >= o.maxRanges)
            ++o.dropped;
        else
            o.ranges.push_back({ k ? static_cast<double>(k->durationNs) : 1000.0, k ? k->ffma : 0.0,
                k ? k->dramRead : 0.0, k ? k->dramWrite : 0.0 });
        start = end = 0;
        return true;
    }
    std::uint64_t& free = s.gpuFree[context - 1];
    start = std::max(free, end) + 1000; // `end` holds the launch time on entry
    end = start + static_cast<std::uint64_t>(k && k->durationNs > 0 ? k->durationNs : 1000);
    free = end;
    return false;
}

CUpti_ActivityKernel10 kernelRecord(
    const fake_cupti_kernel& k, std::uint32_t correlation, std::uint64_t start, std::uint64_t end)
{
    CUpti_ActivityKernel10 r {};
    r.kind = CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL;
    r.name = k.name;
    r.deviceId = static_cast<std::uint32_t>(k.context - 1);
    r.contextId = static_cast<std::uint32_t>(k.context);
    r.streamId = 7;
    r.gridX = static_cast<std::int32_t>(k.gridX);
    r.gridY = r.gridZ = 1;
    r.blockX = static_cast<std::int32_t>(k.blockX);
    r.blockY = r.blockZ = 1;
    r.registersPerThread = 32;
    r.start = start;
    r.end = end;
    r.correlationId = correlation;
    return r;
}

/// A launch's host-side time on the records' clock, then the kernel's place.
void place(int context, const fake_cupti_kernel* k, std::uint64_t& start, std::uint64_t& end, bool& replayed)
{
    end = recordClock();
    replayed = runKernel(context, k, start, end);
}

} // namespace

// ---- the driver side (fake_cupti.h) ----------------------------------------------------------------------------

extern "C" {

unsigned fake_cupti_launch(const fake_cupti_kernel* k)
{
    t_current = k->context;
    deviceSeen(k->context);
    int result = k->fail ? 1 : 0; // CUDA_ERROR_INVALID_VALUE / cudaErrorInvalidValue
    const std::uint32_t outer = k->runtime >= 1 ? g_correlation++ : 0;
    const std::uint32_t inner = k->runtime >= 2 ? g_correlation++ : 0;
    const std::uint32_t driver = g_correlation++;
    auto enter = [&](CUpti_CallbackDomain d, CUpti_CallbackId id, const char* fn, std::uint32_t c) {
        invoke(d, id, callbackData(CUPTI_API_ENTER, fn, k->name, k->context, c, nullptr));
    };
    auto exit = [&](CUpti_CallbackDomain d, CUpti_CallbackId id, const char* fn, std::uint32_t c) {
        invoke(d, id, callbackData(CUPTI_API_EXIT, fn, k->name, k->context, c, &result));
    };
    if (outer)
        enter(CUPTI_CB_DOMAIN_RUNTIME_API, CUPTI_RUNTIME_TRACE_CBID___cudaLaunchKernel_v13000, "__cudaLaunchKernel",
            outer);
    if (inner)
        enter(CUPTI_CB_DOMAIN_RUNTIME_API, CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_v7000, "cudaLaunchKernel", inner);
    if (outer && k->driverDelayNs > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(k->driverDelayNs));
    enter(CUPTI_CB_DOMAIN_DRIVER_API, CUPTI_DRIVER_TRACE_CBID_cuLaunchKernel, "cuLaunchKernel", driver);
    if (k->submitDelayNs > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(k->submitDelayNs));
    std::uint64_t start = 0, end = 0;
    bool replayed = false;
    const bool captured = t_capturing; // goes into the graph: nothing runs now
    if (captured) {
        // Auto range would make a captured launch a range (and a real capture fails on profiler work meanwhile).
        State& s = state();
        std::lock_guard lock(s.mutex);
        auto it = s.objects.find(k->context);
        if (it != s.objects.end() && it->second->started)
            misuse(std::string("captured launch of ") + k->name + " while the range profiler is started");
    }
    if (!k->fail && !captured) place(k->context, k, start, end, replayed);
    exit(CUPTI_CB_DOMAIN_DRIVER_API, CUPTI_DRIVER_TRACE_CBID_cuLaunchKernel, "cuLaunchKernel", driver);
    if (inner)
        exit(CUPTI_CB_DOMAIN_RUNTIME_API, CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_v7000, "cudaLaunchKernel", inner);
    if (outer)
        exit(CUPTI_CB_DOMAIN_RUNTIME_API, CUPTI_RUNTIME_TRACE_CBID___cudaLaunchKernel_v13000, "__cudaLaunchKernel",
            outer);
    if (k->fail || captured) return 0;
    const std::uint32_t carried = k->recordDriverId || !outer ? driver : outer;
    append(kernelRecord(*k, carried, start, end));
    return carried;
}

unsigned fake_cupti_graph_launch(const fake_cupti_kernel* kernels, int n)
{
    if (n <= 0) return 0;
    const int context = kernels[0].context;
    t_current = context;
    deviceSeen(context);
    int result = 0;
    const std::uint32_t outer = g_correlation++;
    const std::uint32_t driver = g_correlation++;
    invoke(CUPTI_CB_DOMAIN_RUNTIME_API, CUPTI_RUNTIME_TRACE_CBID_cudaGraphLaunch_v10000,
        callbackData(CUPTI_API_ENTER, "cudaGraphLaunch", nullptr, context, outer, nullptr));
    invoke(CUPTI_CB_DOMAIN_DRIVER_API, CUPTI_DRIVER_TRACE_CBID_cuGraphLaunch,
        callbackData(CUPTI_API_ENTER, "cuGraphLaunch", nullptr, context, driver, nullptr));
    std::vector<CUpti_ActivityKernel10> records;
    for (int i = 0; i < n; ++i) {
        std::uint64_t start = 0, end = 0;
        bool replayed = false;
        place(context, &kernels[i], start, end, replayed);
        CUpti_ActivityKernel10 r = kernelRecord(kernels[i], outer, start, end);
        r.graphId = 1;
        r.graphNodeId = static_cast<std::uint64_t>(i + 1);
        records.push_back(r);
    }
    invoke(CUPTI_CB_DOMAIN_DRIVER_API, CUPTI_DRIVER_TRACE_CBID_cuGraphLaunch,
        callbackData(CUPTI_API_EXIT, "cuGraphLaunch", nullptr, context, driver, &result));
    invoke(CUPTI_CB_DOMAIN_RUNTIME_API, CUPTI_RUNTIME_TRACE_CBID_cudaGraphLaunch_v10000,
        callbackData(CUPTI_API_EXIT, "cudaGraphLaunch", nullptr, context, outer, &result));
    for (const auto& r : records)
        append(r);
    return outer;
}

namespace {
/// The begin and end capture callbacks, runtime around driver, with the stream as the parameters' first member (as
/// CUPTI's generated_*_meta.h lay them out); @p between runs between the driver call's entry and exit.
void captureCall(int context, bool begin, void (*between)())
{
    int result = 0;
    struct {
        void* stream;
        int mode;
    } params { reinterpret_cast<void*>(static_cast<std::uintptr_t>(0x5000 + context)), 0 };
    const std::uint32_t outer = g_correlation++, driver = g_correlation++;
    const CUpti_CallbackId runtimeId = begin ? CUPTI_RUNTIME_TRACE_CBID_cudaStreamBeginCapture_v10000
                                             : CUPTI_RUNTIME_TRACE_CBID_cudaStreamEndCapture_v10000;
    const CUpti_CallbackId driverId
        = begin ? CUPTI_DRIVER_TRACE_CBID_cuStreamBeginCapture_v2 : CUPTI_DRIVER_TRACE_CBID_cuStreamEndCapture;
    const char* runtimeName = begin ? "cudaStreamBeginCapture" : "cudaStreamEndCapture";
    const char* driverName = begin ? "cuStreamBeginCapture_v2" : "cuStreamEndCapture";
    auto call = [&](CUpti_CallbackDomain d, CUpti_CallbackId id, CUpti_ApiCallbackSite site, const char* fn,
                    std::uint32_t c) {
        CUpti_CallbackData data
            = callbackData(site, fn, nullptr, context, c, site == CUPTI_API_EXIT ? &result : nullptr);
        data.functionParams = &params;
        invoke(d, id, data);
    };
    call(CUPTI_CB_DOMAIN_RUNTIME_API, runtimeId, CUPTI_API_ENTER, runtimeName, outer);
    call(CUPTI_CB_DOMAIN_DRIVER_API, driverId, CUPTI_API_ENTER, driverName, driver);
    between();
    call(CUPTI_CB_DOMAIN_DRIVER_API, driverId, CUPTI_API_EXIT, driverName, driver);
    call(CUPTI_CB_DOMAIN_RUNTIME_API, runtimeId, CUPTI_API_EXIT, runtimeName, outer);
}
} // namespace

void fake_cupti_begin_capture(int context)
{
    t_current = context;
    deviceSeen(context);
    captureCall(context, true, [] {
        g_capturing.fetch_add(1);
        t_capturing = true;
    });
}

void fake_cupti_end_capture(int context)
{
    captureCall(context, false, [] {
        t_capturing = false;
        g_capturing.fetch_sub(1);
    });
}

void fake_cupti_memcpy(int context, unsigned long long bytes)
{
    t_current = context;
    deviceSeen(context);
    int result = 0;
    const std::uint32_t id = g_correlation++;
    invoke(CUPTI_CB_DOMAIN_DRIVER_API, CUPTI_DRIVER_TRACE_CBID_cuMemcpyHtoD_v2,
        callbackData(CUPTI_API_ENTER, "cuMemcpyHtoD_v2", nullptr, context, id, nullptr));
    CUpti_ActivityMemcpy6 m {};
    m.kind = CUPTI_ACTIVITY_KIND_MEMCPY;
    m.copyKind = CUPTI_ACTIVITY_MEMCPY_KIND_HTOD;
    m.bytes = bytes;
    m.start = recordClock();
    m.end = m.start + bytes / 20 + 1000; // 20 GB/s
    m.deviceId = static_cast<std::uint32_t>(context - 1);
    m.contextId = static_cast<std::uint32_t>(context);
    m.streamId = 7;
    m.correlationId = id;
    invoke(CUPTI_CB_DOMAIN_DRIVER_API, CUPTI_DRIVER_TRACE_CBID_cuMemcpyHtoD_v2,
        callbackData(CUPTI_API_EXIT, "cuMemcpyHtoD_v2", nullptr, context, id, &result));
    append(m);
}

void fake_cupti_memset(int context, unsigned long long bytes)
{
    t_current = context;
    deviceSeen(context);
    int result = 0;
    const std::uint32_t id = g_correlation++;
    invoke(CUPTI_CB_DOMAIN_DRIVER_API, CUPTI_DRIVER_TRACE_CBID_cuMemsetD8_v2,
        callbackData(CUPTI_API_ENTER, "cuMemsetD8_v2", nullptr, context, id, nullptr));
    std::uint64_t start = 0, end = 0;
    bool replayed = false;
    place(context, nullptr, start, end, replayed);
    CUpti_ActivityMemset4 m {};
    m.kind = CUPTI_ACTIVITY_KIND_MEMSET;
    m.bytes = bytes;
    m.start = start;
    m.end = end;
    m.deviceId = static_cast<std::uint32_t>(context - 1);
    m.contextId = static_cast<std::uint32_t>(context);
    m.streamId = 7;
    m.correlationId = id;
    invoke(CUPTI_CB_DOMAIN_DRIVER_API, CUPTI_DRIVER_TRACE_CBID_cuMemsetD8_v2,
        callbackData(CUPTI_API_EXIT, "cuMemsetD8_v2", nullptr, context, id, &result));
    append(m);
}

void fake_cupti_stray_kernel(int context)
{
    fake_cupti_kernel k {};
    k.name = "stray_kernel";
    k.context = context;
    k.gridX = k.blockX = 1;
    std::uint64_t start = 0, end = 0;
    bool replayed = false;
    place(context, &k, start, end, replayed);
    append(kernelRecord(k, 0, start, end));
}

void fake_cupti_destroy_context(int context)
{
    t_current = context;
    CUpti_CallbackFunc f = nullptr;
    void* user = nullptr;
    State& s = state();
    {
        std::lock_guard lock(s.mutex);
        if (s.subscribed
            && s.enabled.count({ CUPTI_CB_DOMAIN_RESOURCE, CUPTI_CBID_RESOURCE_CONTEXT_DESTROY_STARTING })) {
            f = s.callback;
            user = s.userdata;
        }
    }
    CUpti_ResourceData r {};
    r.context = contextHandle(context);
    if (f) f(user, CUPTI_CB_DOMAIN_RESOURCE, CUPTI_CBID_RESOURCE_CONTEXT_DESTROY_STARTING, &r);
    complete(); // CUPTI flushes a context's records when it is destroyed
    std::lock_guard lock(s.mutex);
    auto it = s.objects.find(context);
    if (it != s.objects.end()) {
        if (it->second->started) misuse("context " + std::to_string(context) + " destroyed with its profiler started");
        delete it->second;
        s.objects.erase(it);
    }
    s.gpuFree.erase(context - 1);
    t_current = 0;
}

int fake_cupti_current(void)
{
    return t_current;
}

void fake_cupti_make_current(int context)
{
    t_current = context;
}

void fake_cupti_deliver(void)
{
    std::thread worker(complete);
    worker.join();
}

// ---- CUPTI --------------------------------------------------------------------------------------------------

CUptiResult CUPTIAPI cuptiGetVersion(uint32_t* version)
{
    const char* v = std::getenv("FAKE_CUPTI_VERSION");
    *version = v ? static_cast<uint32_t>(std::strtoul(v, nullptr, 10)) : CUPTI_API_VERSION;
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiGetResultString(CUptiResult result, const char** str)
{
    static const std::map<CUptiResult, const char*> names = {
        { CUPTI_SUCCESS, "CUPTI_SUCCESS" },
        { CUPTI_ERROR_INVALID_PARAMETER, "CUPTI_ERROR_INVALID_PARAMETER" },
        { CUPTI_ERROR_INVALID_CONTEXT, "CUPTI_ERROR_INVALID_CONTEXT" },
        { CUPTI_ERROR_INVALID_OPERATION, "CUPTI_ERROR_INVALID_OPERATION" },
        { CUPTI_ERROR_MAX_LIMIT_REACHED, "CUPTI_ERROR_MAX_LIMIT_REACHED" },
        { CUPTI_ERROR_NOT_SUPPORTED, "CUPTI_ERROR_NOT_SUPPORTED" },
        { CUPTI_ERROR_INSUFFICIENT_PRIVILEGES, "CUPTI_ERROR_INSUFFICIENT_PRIVILEGES" },
        { CUPTI_ERROR_HARDWARE_BUSY, "CUPTI_ERROR_HARDWARE_BUSY" },
        { CUPTI_ERROR_MIG_DEVICE_NOT_SUPPORTED, "CUPTI_ERROR_MIG_DEVICE_NOT_SUPPORTED" },
        { CUPTI_ERROR_CONFIDENTIAL_COMPUTING_NOT_SUPPORTED, "CUPTI_ERROR_CONFIDENTIAL_COMPUTING_NOT_SUPPORTED" },
        { CUPTI_ERROR_MULTIPLE_SUBSCRIBERS_NOT_SUPPORTED, "CUPTI_ERROR_MULTIPLE_SUBSCRIBERS_NOT_SUPPORTED" },
        { CUPTI_ERROR_UNKNOWN, "CUPTI_ERROR_UNKNOWN" },
    };
    if (!str) return CUPTI_ERROR_INVALID_PARAMETER;
    auto it = names.find(result);
    *str = it == names.end() ? "CUPTI_ERROR_UNKNOWN" : it->second;
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiGetTimestamp(uint64_t* timestamp)
{
    *timestamp = cuptiClock();
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiSubscribe_v2(
    CUpti_SubscriberHandle* subscriber, CUpti_CallbackFunc callback, void* userdata, CUpti_SubscriberParams* p)
{
    State& s = state();
    std::lock_guard lock(s.mutex);
    const char* holder = std::getenv("FAKE_CUPTI_HOLDER");
    if (holder || s.subscribed) {
        if (p && p->oldSubscriberName && p->oldSubscriberSize > 0)
            std::snprintf(p->oldSubscriberName, p->oldSubscriberSize, "%s", holder ? holder : "rooftime");
        return CUPTI_ERROR_MULTIPLE_SUBSCRIBERS_NOT_SUPPORTED;
    }
    s.subscribed = true;
    s.callback = callback;
    s.userdata = userdata;
    *subscriber = reinterpret_cast<CUpti_SubscriberHandle>(&s);
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiUnsubscribe(CUpti_SubscriberHandle)
{
    State& s = state();
    std::lock_guard lock(s.mutex);
    if (!s.subscribed) misuse("cuptiUnsubscribe without a subscriber");
    s.subscribed = false;
    s.enabled.clear();
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiEnableCallback(
    uint32_t enable, CUpti_SubscriberHandle subscriber, CUpti_CallbackDomain domain, CUpti_CallbackId cbid)
{
    State& s = state();
    std::lock_guard lock(s.mutex);
    if (!s.subscribed || subscriber != reinterpret_cast<CUpti_SubscriberHandle>(&s)) {
        misuse("cuptiEnableCallback without a subscription");
        return CUPTI_ERROR_INVALID_PARAMETER;
    }
    if (enable)
        s.enabled.insert({ domain, cbid });
    else
        s.enabled.erase({ domain, cbid });
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiGetCallbackName(CUpti_CallbackDomain domain, uint32_t cbid, const char** name)
{
    static const std::map<uint32_t, const char*> driver = {
        { CUPTI_DRIVER_TRACE_CBID_cuLaunchKernel, "cuLaunchKernel" },
        { CUPTI_DRIVER_TRACE_CBID_cuGraphLaunch, "cuGraphLaunch" },
        { CUPTI_DRIVER_TRACE_CBID_cuMemcpyHtoD_v2, "cuMemcpyHtoD_v2" },
        { CUPTI_DRIVER_TRACE_CBID_cuMemsetD8_v2, "cuMemsetD8_v2" },
    };
    if (!name || domain != CUPTI_CB_DOMAIN_DRIVER_API) return CUPTI_ERROR_INVALID_PARAMETER;
    auto it = driver.find(cbid);
    *name = it == driver.end() ? "cuSomethingElse" : it->second;
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiActivityRegisterTimestampCallback(CUpti_TimestampCallbackFunc f)
{
    State& s = state();
    std::lock_guard lock(s.mutex);
    if (!s.kinds.empty()) misuse("timestamp callback registered after an activity kind was enabled");
    s.timestamp = f;
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiActivityRegisterCallbacks(
    CUpti_BuffersCallbackRequestFunc requested, CUpti_BuffersCallbackCompleteFunc completed)
{
    State& s = state();
    std::lock_guard lock(s.mutex);
    s.requested = requested;
    s.completed = completed;
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiActivityEnable(CUpti_ActivityKind kind)
{
    State& s = state();
    std::lock_guard lock(s.mutex);
    if (!s.requested) misuse("activity kind enabled before buffer callbacks were registered");
    s.kinds.insert(kind);
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiActivityDisable(CUpti_ActivityKind kind)
{
    State& s = state();
    std::lock_guard lock(s.mutex);
    s.kinds.erase(kind);
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiActivityFlushAll(uint32_t)
{
    complete();
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiActivityFlushPeriod(uint32_t)
{
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiActivityGetNextRecord(uint8_t* buffer, size_t valid, CUpti_Activity** record)
{
    if (!buffer || !record) return CUPTI_ERROR_INVALID_PARAMETER;
    std::uint8_t* at = buffer;
    if (*record) {
        auto* current = reinterpret_cast<std::uint8_t*>(*record);
        std::uint64_t size = 0;
        std::memcpy(&size, current - 8, 8);
        at = current + ((size + 7) / 8) * 8;
    }
    if (at + 8 > buffer + valid) return CUPTI_ERROR_MAX_LIMIT_REACHED;
    *record = reinterpret_cast<CUpti_Activity*>(at + 8);
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiActivityGetNumDroppedRecords(CUcontext, uint32_t, size_t* dropped)
{
    State& s = state();
    std::lock_guard lock(s.mutex);
    *dropped = s.droppedToReport;
    s.droppedToReport = 0;
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiGetDeviceId(CUcontext ctx, uint32_t* device)
{
    const int c = contextIndex(ctx);
    if (!c) return CUPTI_ERROR_INVALID_CONTEXT;
    *device = static_cast<uint32_t>(c - 1);
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiDeviceGetChipName(CUpti_Device_GetChipName_Params* p)
{
    if (CUptiResult rc = injected("cuptiDeviceGetChipName")) return rc;
    p->pChipName = "GH100";
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiProfilerInitialize(CUpti_Profiler_Initialize_Params*)
{
    if (CUptiResult rc = injected("cuptiProfilerInitialize")) return rc;
    duringCapture("cuptiProfilerInitialize");
    State& s = state();
    std::lock_guard lock(s.mutex);
    s.profilerInitialized = true;
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiProfilerDeInitialize(CUpti_Profiler_DeInitialize_Params*)
{
    State& s = state();
    std::lock_guard lock(s.mutex);
    if (!s.objects.empty()) misuse("cuptiProfilerDeInitialize with a range profiler still enabled");
    s.profilerInitialized = false;
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiProfilerDeviceSupported(CUpti_Profiler_DeviceSupported_Params* p)
{
    if (CUptiResult rc = injected("cuptiProfilerDeviceSupported")) return rc;
    const char* u = std::getenv("FAKE_CUPTI_UNSUPPORTED");
    const bool vgpu = u && std::strcmp(u, "vgpu") == 0;
    p->isSupported = vgpu ? CUPTI_PROFILER_CONFIGURATION_UNSUPPORTED : CUPTI_PROFILER_CONFIGURATION_SUPPORTED;
    p->architecture = p->sli = p->confidentialCompute = p->cmp = p->wsl = CUPTI_PROFILER_CONFIGURATION_SUPPORTED;
    p->vGpu = vgpu ? CUPTI_PROFILER_CONFIGURATION_DISABLED : CUPTI_PROFILER_CONFIGURATION_SUPPORTED;
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiProfilerGetCounterAvailability(CUpti_Profiler_GetCounterAvailability_Params* p)
{
    if (CUptiResult rc = injected("cuptiProfilerGetCounterAvailability")) return rc;
    duringCapture("cuptiProfilerGetCounterAvailability");
    if (!contextIndex(p->ctx)) return CUPTI_ERROR_INVALID_CONTEXT;
    if (!p->pCounterAvailabilityImage) {
        p->counterAvailabilityImageSize = 64;
        return CUPTI_SUCCESS;
    }
    if (p->counterAvailabilityImageSize < 64) return CUPTI_ERROR_INVALID_PARAMETER;
    std::memset(p->pCounterAvailabilityImage, 0xa5, 64);
    return CUPTI_SUCCESS;
}

// Host side: metrics by name; the config image is the metric count.

CUptiResult CUPTIAPI cuptiProfilerHostInitialize(CUpti_Profiler_Host_Initialize_Params* p)
{
    if (CUptiResult rc = injected("cuptiProfilerHostInitialize")) return rc;
    if (!p->pChipName || std::strcmp(p->pChipName, "GH100") != 0) return CUPTI_ERROR_NOT_SUPPORTED;
    auto* h = new CUpti_Profiler_Host_Object;
    h->chip = p->pChipName;
    State& s = state();
    std::lock_guard lock(s.mutex);
    s.hosts.insert(h);
    p->pHostObject = h;
    return CUPTI_SUCCESS;
}

namespace {
bool validHost(CUpti_Profiler_Host_Object* h, const char* call)
{
    State& s = state();
    std::lock_guard lock(s.mutex);
    if (s.hosts.count(h)) return true;
    misuse(std::string(call) + " with a host object that is not (or no longer) initialized");
    return false;
}
bool knownMetric(const char* name)
{
    // Every name of the plugin's sets exists on GH100 (tests/unit/test_cupti_metrics.cpp checks them with the
    // real host API); a name the real chip lacks is played by this one.
    return name && *name && !std::strstr(name, "not_on_this_chip");
}
} // namespace

CUptiResult CUPTIAPI cuptiProfilerHostDeinitialize(CUpti_Profiler_Host_Deinitialize_Params* p)
{
    if (!validHost(p->pHostObject, "cuptiProfilerHostDeinitialize")) return CUPTI_ERROR_INVALID_PARAMETER;
    State& s = state();
    std::lock_guard lock(s.mutex);
    s.hosts.erase(p->pHostObject);
    delete p->pHostObject;
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiProfilerHostGetMetricProperties(CUpti_Profiler_Host_GetMetricProperties_Params* p)
{
    if (!validHost(p->pHostObject, "cuptiProfilerHostGetMetricProperties")) return CUPTI_ERROR_INVALID_PARAMETER;
    if (!knownMetric(p->pMetricName)) return CUPTI_ERROR_INVALID_PARAMETER;
    const std::string m = p->pMetricName;
    p->pDescription = "simulated";
    p->pHwUnit = "fake";
    p->pDimUnit = m.find("bytes") != std::string::npos ? "bytes"
        : m.find("time_duration") != std::string::npos ? "nanoseconds"
        : m.find("per_second") != std::string::npos    ? "hz"
                                                       : "inst";
    p->metricType = CUPTI_METRIC_TYPE_COUNTER;
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiProfilerHostConfigAddMetrics(CUpti_Profiler_Host_ConfigAddMetrics_Params* p)
{
    if (!validHost(p->pHostObject, "cuptiProfilerHostConfigAddMetrics")) return CUPTI_ERROR_INVALID_PARAMETER;
    for (std::size_t i = 0; i < p->numMetrics; ++i) {
        if (!knownMetric(p->ppMetricNames[i])) return CUPTI_ERROR_INVALID_PARAMETER;
        p->pHostObject->metrics.emplace_back(p->ppMetricNames[i]);
    }
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiProfilerHostGetConfigImageSize(CUpti_Profiler_Host_GetConfigImageSize_Params* p)
{
    if (!validHost(p->pHostObject, "cuptiProfilerHostGetConfigImageSize")) return CUPTI_ERROR_INVALID_PARAMETER;
    p->configImageSize = 16;
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiProfilerHostGetConfigImage(CUpti_Profiler_Host_GetConfigImage_Params* p)
{
    if (!validHost(p->pHostObject, "cuptiProfilerHostGetConfigImage")) return CUPTI_ERROR_INVALID_PARAMETER;
    if (p->configImageSize < 16 || !p->pConfigImage) return CUPTI_ERROR_INVALID_PARAMETER;
    const std::uint64_t n = p->pHostObject->metrics.size();
    std::memcpy(p->pConfigImage, &kImageMagic, 8);
    std::memcpy(p->pConfigImage + 8, &n, 8);
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiProfilerHostGetNumOfPasses(CUpti_Profiler_Host_GetNumOfPasses_Params* p)
{
    if (p->configImageSize < 16 || !p->pConfigImage) return CUPTI_ERROR_INVALID_PARAMETER;
    std::uint64_t n = 0;
    std::memcpy(&n, p->pConfigImage + 8, 8);
    p->numOfPasses = (n + 19) / 20; // Tier 1 alone: 1; with the peaks: 2 (so they are left out)
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiProfilerHostEvaluateToGpuValues(CUpti_Profiler_Host_EvaluateToGpuValues_Params* p)
{
    if (!validHost(p->pHostObject, "cuptiProfilerHostEvaluateToGpuValues")) return CUPTI_ERROR_INVALID_PARAMETER;
    ImageHeader h;
    if (!p->pCounterDataImage || p->counterDataImageSize < sizeof h) return CUPTI_ERROR_INVALID_PARAMETER;
    std::memcpy(&h, p->pCounterDataImage, sizeof h);
    if (h.magic != kImageMagic || p->rangeIndex >= h.ranges) {
        misuse("cuptiProfilerHostEvaluateToGpuValues of range " + std::to_string(p->rangeIndex) + " of "
            + std::to_string(h.ranges));
        return CUPTI_ERROR_INVALID_PARAMETER;
    }
    std::array<double, 4> r {};
    std::memcpy(&r, p->pCounterDataImage + sizeof h + p->rangeIndex * kRangeBytes, kRangeBytes);
    for (std::size_t i = 0; i < p->numMetrics; ++i) {
        const std::string m = p->ppMetricNames[i];
        const auto& configured = p->pHostObject->metrics;
        if (std::find(configured.begin(), configured.end(), m) == configured.end()) {
            misuse("evaluating " + m + ", which the host object was not configured with");
            return CUPTI_ERROR_INVALID_PARAMETER;
        }
        p->pMetricValues[i] = m == "gpu__time_duration.sum"              ? r[0]
            : m == "smsp__sass_thread_inst_executed_op_ffma_pred_on.sum" ? r[1]
            : m == "dram__bytes_read.sum"                                ? r[2]
            : m == "dram__bytes_write.sum"                               ? r[3]
                                                                         : 0.0;
    }
    return CUPTI_SUCCESS;
}

// Range Profiler: one object per enabled context; auto range and kernel replay (each launch while started is a
// range).

namespace {
bool validObject(CUpti_RangeProfiler_Object* o, const char* call)
{
    State& s = state();
    std::lock_guard lock(s.mutex);
    for (const auto& [ctx, obj] : s.objects)
        if (obj == o) return true;
    misuse(std::string(call) + " with a range profiler object that is not enabled");
    return false;
}
/// Start runs in a launch callback of the object's context. Stop and decode may run where another context is
/// current (NVIDIA's injection sample switches contexts that way), never on a thread without one: decoding on the
/// collector's exit helper thread crashed a PyTorch process on a real GPU (docs/cupti.md).
bool onItsThread(CUpti_RangeProfiler_Object* o, const char* call, bool exact)
{
    if (exact ? t_current == o->context : t_current != 0) return true;
    misuse(std::string(call) + " on a thread where " + (exact ? "its context" : "no context") + " is current (context "
        + std::to_string(o->context) + ", current " + std::to_string(t_current) + ")");
    return false;
}
enum class Needs { AnyThread, SomeContext, ItsContext };
/// What every call on a Range Profiler object checks first: CUPTI_SUCCESS when it may go on.
CUptiResult usable(CUpti_RangeProfiler_Object* o, const char* call, Needs needs)
{
    if (!validObject(o, call)) return CUPTI_ERROR_INVALID_PARAMETER;
    if (CUptiResult rc = injected(call)) return rc;
    duringCapture(call);
    if (needs != Needs::AnyThread && !onItsThread(o, call, needs == Needs::ItsContext))
        return CUPTI_ERROR_INVALID_CONTEXT;
    return CUPTI_SUCCESS;
}
std::size_t imageBytes(std::size_t maxRanges)
{
    return sizeof(ImageHeader) + maxRanges * kRangeBytes;
}
} // namespace

CUptiResult CUPTIAPI cuptiRangeProfilerEnable(CUpti_RangeProfiler_Enable_Params* p)
{
    if (CUptiResult rc = injected("cuptiRangeProfilerEnable")) return rc;
    duringCapture("cuptiRangeProfilerEnable");
    const int c = contextIndex(p->ctx);
    if (!c) return CUPTI_ERROR_INVALID_CONTEXT;
    State& s = state();
    std::lock_guard lock(s.mutex);
    if (!s.profilerInitialized) {
        misuse("cuptiRangeProfilerEnable before cuptiProfilerInitialize");
        return CUPTI_ERROR_INVALID_OPERATION;
    }
    if (s.objects.count(c)) {
        misuse("cuptiRangeProfilerEnable twice on context " + std::to_string(c));
        return CUPTI_ERROR_INVALID_OPERATION;
    }
    auto* o = new CUpti_RangeProfiler_Object;
    o->context = c;
    s.objects[c] = o;
    p->pRangeProfilerObject = o;
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiRangeProfilerDisable(CUpti_RangeProfiler_Disable_Params* p)
{
    if (CUptiResult rc = usable(p->pRangeProfilerObject, "cuptiRangeProfilerDisable", Needs::AnyThread)) return rc;
    CUpti_RangeProfiler_Object* o = p->pRangeProfilerObject;
    State& s = state();
    std::lock_guard lock(s.mutex);
    if (o->started) misuse("cuptiRangeProfilerDisable while started");
    s.objects.erase(o->context);
    delete o;
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiRangeProfilerGetCounterDataSize(CUpti_RangeProfiler_GetCounterDataSize_Params* p)
{
    if (CUptiResult rc = usable(p->pRangeProfilerObject, "cuptiRangeProfilerGetCounterDataSize", Needs::AnyThread))
        return rc;
    if (p->maxNumRangeTreeNodes < p->maxNumOfRanges) return CUPTI_ERROR_INVALID_PARAMETER;
    p->counterDataSize = imageBytes(p->maxNumOfRanges);
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiRangeProfilerCounterDataImageInitialize(
    CUpti_RangeProfiler_CounterDataImage_Initialize_Params* p)
{
    if (CUptiResult rc
        = usable(p->pRangeProfilerObject, "cuptiRangeProfilerCounterDataImageInitialize", Needs::AnyThread))
        return rc;
    if (!p->pCounterData || p->counterDataSize < sizeof(ImageHeader)) return CUPTI_ERROR_INVALID_PARAMETER;
    ImageHeader h;
    h.magic = kImageMagic;
    h.maxRanges = (p->counterDataSize - sizeof h) / kRangeBytes;
    std::memset(p->pCounterData, 0, p->counterDataSize);
    std::memcpy(p->pCounterData, &h, sizeof h);
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiRangeProfilerSetConfig(CUpti_RangeProfiler_SetConfig_Params* p)
{
    CUpti_RangeProfiler_Object* o = p->pRangeProfilerObject;
    if (CUptiResult rc = usable(o, "cuptiRangeProfilerSetConfig", Needs::AnyThread)) return rc;
    ImageHeader h;
    if (!p->pCounterDataImage || p->counterDataImageSize < sizeof h) return CUPTI_ERROR_INVALID_PARAMETER;
    std::memcpy(&h, p->pCounterDataImage, sizeof h);
    if (h.magic != kImageMagic) {
        misuse("cuptiRangeProfilerSetConfig with a counter data image that was not initialized");
        return CUPTI_ERROR_INVALID_PARAMETER;
    }
    if (p->range != CUPTI_AutoRange || p->replayMode != CUPTI_KernelReplay) return CUPTI_ERROR_NOT_SUPPORTED;
    if (p->maxRangesPerPass > h.maxRanges) {
        misuse("cuptiRangeProfilerSetConfig: more ranges per pass than the counter data image holds");
        return CUPTI_ERROR_INVALID_PARAMETER;
    }
    State& s = state();
    std::lock_guard lock(s.mutex);
    o->configured = true;
    o->image = p->pCounterDataImage;
    o->imageSize = p->counterDataImageSize;
    o->maxRanges = p->maxRangesPerPass;
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiRangeProfilerStart(CUpti_RangeProfiler_Start_Params* p)
{
    CUpti_RangeProfiler_Object* o = p->pRangeProfilerObject;
    if (CUptiResult rc = usable(o, "cuptiRangeProfilerStart", Needs::ItsContext)) return rc;
    State& s = state();
    std::lock_guard lock(s.mutex);
    if (!o->configured || o->started) {
        misuse(o->started ? "cuptiRangeProfilerStart while started" : "cuptiRangeProfilerStart before SetConfig");
        return CUPTI_ERROR_INVALID_OPERATION;
    }
    o->started = true;
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiRangeProfilerStop(CUpti_RangeProfiler_Stop_Params* p)
{
    CUpti_RangeProfiler_Object* o = p->pRangeProfilerObject;
    if (CUptiResult rc = usable(o, "cuptiRangeProfilerStop", Needs::SomeContext)) return rc;
    State& s = state();
    std::lock_guard lock(s.mutex);
    if (!o->started) {
        misuse("cuptiRangeProfilerStop while not started");
        return CUPTI_ERROR_INVALID_OPERATION;
    }
    o->started = false;
    p->isAllPassSubmitted = 1;
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiRangeProfilerDecodeData(CUpti_RangeProfiler_DecodeData_Params* p)
{
    CUpti_RangeProfiler_Object* o = p->pRangeProfilerObject;
    if (CUptiResult rc = usable(o, "cuptiRangeProfilerDecodeData", Needs::SomeContext)) return rc;
    State& s = state();
    std::lock_guard lock(s.mutex);
    if (o->started) {
        misuse("cuptiRangeProfilerDecodeData while started");
        return CUPTI_ERROR_INVALID_OPERATION;
    }
    ImageHeader h;
    std::memcpy(&h, o->image, sizeof h);
    if (h.magic != kImageMagic) {
        misuse("cuptiRangeProfilerDecodeData into a counter data image that was not initialized");
        return CUPTI_ERROR_INVALID_OPERATION;
    }
    if (h.ranges != 0) misuse("cuptiRangeProfilerDecodeData into an image that was not re-initialized");
    for (const auto& r : o->ranges) {
        if (h.ranges >= h.maxRanges) {
            ++o->dropped;
            continue;
        }
        std::memcpy(o->image + sizeof h + h.ranges * kRangeBytes, &r, kRangeBytes);
        ++h.ranges;
    }
    std::memcpy(o->image, &h, sizeof h);
    o->ranges.clear();
    p->numOfRangeDropped = o->dropped;
    o->dropped = 0;
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiRangeProfilerGetCounterDataInfo(CUpti_RangeProfiler_GetCounterDataInfo_Params* p)
{
    ImageHeader h;
    if (!p->pCounterDataImage || p->counterDataImageSize < sizeof h) return CUPTI_ERROR_INVALID_PARAMETER;
    std::memcpy(&h, p->pCounterDataImage, sizeof h);
    if (h.magic != kImageMagic) return CUPTI_ERROR_INVALID_PARAMETER;
    p->numTotalRanges = h.ranges;
    return CUPTI_SUCCESS;
}

} // extern "C"

namespace {
/// At unload, after the program's atexit handlers: a profiler left started is what crashed PyTorch at exit on a
/// real GPU (docs/cupti.md).
__attribute__((destructor)) void atUnload()
{
    State& s = state();
    std::lock_guard lock(s.mutex);
    for (const auto& [ctx, o] : s.objects)
        if (o->started) misuse("range profiler of context " + std::to_string(ctx) + " still started at unload");
}
} // namespace
