// SPDX-License-Identifier: MIT
// librooftime_cupti.so: kernel, copy and fill times from the CUPTI Activity API; in counters mode, raw counters
// per kernel from the Range Profiler API (auto range, kernel replay). docs/cupti.md describes what is collected.
#include "backend.h"
#include "metric_sets.h"
#include "translate.h"

#include <cupti.h>
#include <cupti_profiler_host.h>
#include <cupti_profiler_target.h>
#include <cupti_range_profiler.h>
#include <cupti_target.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <link.h>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unistd.h>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace rooftime::cupti {

namespace {

using backend::Host;

constexpr std::size_t kBufferBytes = 4u << 20; ///< Kineto's size: few buffer callbacks, bounded memory
constexpr std::size_t kMaxRanges = 64; ///< launches measured between two decodes
/// Longest wait, before stopping a batch, for its launch calls still running on other threads to return. A
/// measured launch's call replays its kernel once per pass (with CUPTI's save and restore of the memory it writes)
/// before it returns: tens of milliseconds for a large kernel.
constexpr std::chrono::milliseconds kWaitForReturns { 250 };

/// Longest wait, before starting a batch, for other threads' calls in flight (unmeasured launches, copies, fills):
/// such a call returns within microseconds unless it blocks (a full launch queue, a synchronous copy).
constexpr std::chrono::milliseconds kWaitForOthers { 20 };

/// Waits until @p done() or @p limit has passed; done()'s last answer.
template <typename Done> bool waitForReturns(Done done, std::chrono::milliseconds limit = kWaitForReturns)
{
    const auto waitUntil = std::chrono::steady_clock::now() + limit;
    for (int spins = 0; !done(); ++spins) {
        if (std::chrono::steady_clock::now() >= waitUntil) return done();
        if (spins < 1000)
            std::this_thread::yield();
        else // a launch replaying its kernel: no need to burn a core meanwhile
            std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    return true;
}

Host* g_host = nullptr;

std::string resultText(CUptiResult rc)
{
    const char* text = nullptr;
    if (cuptiGetResultString(rc, &text) != CUPTI_SUCCESS || !text) return "CUPTI error " + std::to_string(rc);
    return text;
}

template <typename T> T params(std::size_t size)
{
    T p {};
    p.structSize = size;
    return p;
}

std::uint64_t CUPTIAPI timestamp()
{
    return g_host ? static_cast<std::uint64_t>(g_host->nowNs()) : 0;
}

bool isKernelLaunch(CUpti_CallbackDomain domain, CUpti_CallbackId cbid)
{
    if (domain == CUPTI_CB_DOMAIN_DRIVER_API) {
        switch (cbid) {
        case CUPTI_DRIVER_TRACE_CBID_cuLaunchKernel:
        case CUPTI_DRIVER_TRACE_CBID_cuLaunchKernel_ptsz:
        case CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx:
        case CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx_ptsz:
        case CUPTI_DRIVER_TRACE_CBID_cuLaunchCooperativeKernel:
        case CUPTI_DRIVER_TRACE_CBID_cuLaunchCooperativeKernel_ptsz:
            return true;
        default:
            return false;
        }
    }
    switch (cbid) {
    case CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_v7000:
    case CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_ptsz_v7000:
    case CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernelExC_v11060:
    case CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernelExC_ptsz_v11060:
    case CUPTI_RUNTIME_TRACE_CBID_cudaLaunchCooperativeKernel_v9000:
    case CUPTI_RUNTIME_TRACE_CBID_cudaLaunchCooperativeKernel_ptsz_v9000:
    // CUDA 13's nvcc lowers `kernel<<<...>>>` to __cudaLaunchKernel (crt/host_runtime.h), not cudaLaunchKernel.
    case CUPTI_RUNTIME_TRACE_CBID___cudaLaunchKernel_v13000:
    case CUPTI_RUNTIME_TRACE_CBID___cudaLaunchKernel_ptsz_v13000:
        return true;
    default:
        return false;
    }
}

constexpr CUpti_CallbackId kDriverLaunches[]
    = { CUPTI_DRIVER_TRACE_CBID_cuLaunchKernel, CUPTI_DRIVER_TRACE_CBID_cuLaunchKernel_ptsz,
          CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx, CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx_ptsz,
          CUPTI_DRIVER_TRACE_CBID_cuLaunchCooperativeKernel, CUPTI_DRIVER_TRACE_CBID_cuLaunchCooperativeKernel_ptsz,
          CUPTI_DRIVER_TRACE_CBID_cuGraphLaunch, CUPTI_DRIVER_TRACE_CBID_cuGraphLaunch_ptsz };
constexpr CUpti_CallbackId kRuntimeLaunches[]
    = { CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_v7000, CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_ptsz_v7000,
          CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernelExC_v11060, CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernelExC_ptsz_v11060,
          CUPTI_RUNTIME_TRACE_CBID_cudaLaunchCooperativeKernel_v9000,
          CUPTI_RUNTIME_TRACE_CBID_cudaLaunchCooperativeKernel_ptsz_v9000,
          CUPTI_RUNTIME_TRACE_CBID___cudaLaunchKernel_v13000, CUPTI_RUNTIME_TRACE_CBID___cudaLaunchKernel_ptsz_v13000,
          CUPTI_RUNTIME_TRACE_CBID_cudaGraphLaunch_v10000, CUPTI_RUNTIME_TRACE_CBID_cudaGraphLaunch_ptsz_v10000 };

/// Stream capture (counters mode): a Range Profiler call while a stream captures is an unsafe call that
/// invalidates the capture (the program's next captured launch fails), and a captured launch runs no kernel.
constexpr CUpti_CallbackId kDriverCaptureBegins[] = { CUPTI_DRIVER_TRACE_CBID_cuStreamBeginCapture,
    CUPTI_DRIVER_TRACE_CBID_cuStreamBeginCapture_ptsz, CUPTI_DRIVER_TRACE_CBID_cuStreamBeginCapture_v2,
    CUPTI_DRIVER_TRACE_CBID_cuStreamBeginCapture_v2_ptsz, CUPTI_DRIVER_TRACE_CBID_cuStreamBeginCaptureToGraph,
    CUPTI_DRIVER_TRACE_CBID_cuStreamBeginCaptureToGraph_ptsz };
constexpr CUpti_CallbackId kDriverCaptureEnds[]
    = { CUPTI_DRIVER_TRACE_CBID_cuStreamEndCapture, CUPTI_DRIVER_TRACE_CBID_cuStreamEndCapture_ptsz };
constexpr CUpti_CallbackId kRuntimeCaptureBegins[] = { CUPTI_RUNTIME_TRACE_CBID_cudaStreamBeginCapture_v10000,
    CUPTI_RUNTIME_TRACE_CBID_cudaStreamBeginCapture_ptsz_v10000,
    CUPTI_RUNTIME_TRACE_CBID_cudaStreamBeginCaptureToGraph_v12030,
    CUPTI_RUNTIME_TRACE_CBID_cudaStreamBeginCaptureToGraph_ptsz_v12030 };
constexpr CUpti_CallbackId kRuntimeCaptureEnds[] = { CUPTI_RUNTIME_TRACE_CBID_cudaStreamEndCapture_v10000,
    CUPTI_RUNTIME_TRACE_CBID_cudaStreamEndCapture_ptsz_v10000 };

enum class Capture { None, Begin, End };

// Every begin and end capture call's parameter block starts with its stream (CUPTI's generated_*_meta.h).
static_assert(offsetof(cuStreamBeginCapture_params, hStream) == 0);
static_assert(offsetof(cuStreamBeginCapture_ptsz_params, hStream) == 0);
static_assert(offsetof(cuStreamBeginCapture_v2_params, hStream) == 0);
static_assert(offsetof(cuStreamBeginCapture_v2_ptsz_params, hStream) == 0);
static_assert(offsetof(cuStreamBeginCaptureToGraph_params, hStream) == 0);
static_assert(offsetof(cuStreamBeginCaptureToGraph_ptsz_params, hStream) == 0);
static_assert(offsetof(cuStreamEndCapture_params, hStream) == 0);
static_assert(offsetof(cuStreamEndCapture_ptsz_params, hStream) == 0);
static_assert(offsetof(cudaStreamBeginCapture_v10000_params, stream) == 0);
static_assert(offsetof(cudaStreamBeginCapture_ptsz_v10000_params, stream) == 0);
static_assert(offsetof(cudaStreamBeginCaptureToGraph_v12030_params, stream) == 0);
static_assert(offsetof(cudaStreamBeginCaptureToGraph_ptsz_v12030_params, stream) == 0);
static_assert(offsetof(cudaStreamEndCapture_v10000_params, stream) == 0);
static_assert(offsetof(cudaStreamEndCapture_ptsz_v10000_params, stream) == 0);

/// The stream of a begin or end capture call (nullptr where CUPTI gave no parameters).
void* captureStream(const CUpti_CallbackData* cb)
{
    void* stream = nullptr;
    if (cb->functionParams) std::memcpy(&stream, cb->functionParams, sizeof stream);
    return stream;
}

Capture captureCall(CUpti_CallbackDomain domain, CUpti_CallbackId cbid)
{
    auto in = [cbid](const auto& ids) { return std::find(std::begin(ids), std::end(ids), cbid) != std::end(ids); };
    if (domain == CUPTI_CB_DOMAIN_DRIVER_API)
        return in(kDriverCaptureBegins) ? Capture::Begin : in(kDriverCaptureEnds) ? Capture::End : Capture::None;
    if (domain == CUPTI_CB_DOMAIN_RUNTIME_API)
        return in(kRuntimeCaptureBegins) ? Capture::Begin : in(kRuntimeCaptureEnds) ? Capture::End : Capture::None;
    return Capture::None;
}

/// The runtime launch this thread is inside of: its driver launch reports another correlation id.
thread_local std::uint32_t t_runtimeCorrelation = 0;
thread_local rooftime::collector::backend::LaunchContext t_runtimeContext; // of the runtime launch in progress
/// Counters mode: that runtime launch was already counted (its driver launch only adds its id).
thread_local bool t_runtimeCounted = false;
/// Counters mode: the launch, graph launch, copy or fill calls this thread is inside of (a runtime call and the
/// driver call within it count twice), the batch whose measured launch the outermost is (its count of unreturned
/// launches goes down when that call returns), and the count of calls in flight it is in (CuptiBackend::m_inFlight).
/// A thread that ends inside a call (cancelled in a blocking copy) gives both counts back as it goes, so that no
/// batch waits for it, and no later one, in vain.
struct ThreadCalls {
    int depth = 0;
    std::shared_ptr<std::atomic<int>> batch;
    std::atomic<int>* flight = nullptr; ///< set while counted in flight
    void returned() noexcept
    {
        if (batch) {
            batch->fetch_sub(1, std::memory_order_release);
            batch.reset();
        }
        if (flight) {
            flight->fetch_sub(1, std::memory_order_release);
            flight = nullptr;
        }
    }
    ~ThreadCalls() { returned(); }
};
thread_local ThreadCalls t_calls;
/// Counters mode: the begin or end capture calls this thread is inside of (a runtime call and the driver call
/// within it count twice; the outermost one counts the capture).
thread_local int t_captureCalls = 0;

/// Makes @p ctx current on the calling thread for the scope, where another or none is: the Range Profiler is ended
/// at exit on the exiting thread, which may never have used that context (a program launching only from worker
/// threads), and Range Profiler calls on a thread without a context crashed a PyTorch process on the H200. Through
/// the libcuda already in the process: the plugin links none.
class ContextScope {
public:
    explicit ContextScope(CUcontext ctx) noexcept
    {
        const Driver& d = driver();
        CUcontext now = nullptr;
        if (!d.get || !d.push || !d.pop || !ctx || d.get(&now) != CUDA_SUCCESS || now == ctx) return;
        m_pushed = d.push(ctx) == CUDA_SUCCESS;
    }
    ~ContextScope()
    {
        CUcontext popped = nullptr;
        if (m_pushed) driver().pop(&popped);
    }
    ContextScope(const ContextScope&) = delete;
    ContextScope& operator=(const ContextScope&) = delete;

private:
    struct Driver {
        CUresult (*get)(CUcontext*) = nullptr;
        CUresult (*push)(CUcontext) = nullptr;
        CUresult (*pop)(CUcontext*) = nullptr;
    };
    static const Driver& driver() noexcept
    {
        static const Driver d = [] {
            Driver out;
            if (void* h = ::dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD)) {
                out.get = reinterpret_cast<CUresult (*)(CUcontext*)>(::dlsym(h, "cuCtxGetCurrent"));
                out.push = reinterpret_cast<CUresult (*)(CUcontext)>(::dlsym(h, "cuCtxPushCurrent_v2"));
                out.pop = reinterpret_cast<CUresult (*)(CUcontext*)>(::dlsym(h, "cuCtxPopCurrent_v2"));
            }
            return out;
        }();
        return d;
    }
    bool m_pushed = false;
};

/// At a callback's exit: the API call returned an error (cudaError_t and CUresult are both 0 on success).
bool failed(const CUpti_CallbackData* cb)
{
    return cb->functionReturnValue && *static_cast<const int*>(cb->functionReturnValue) != 0;
}

/// Range Profiler state of one context (counters mode).
struct ContextCounters {
    CUcontext ctx = nullptr;
    CUpti_RangeProfiler_Object* object = nullptr;
    std::vector<std::uint8_t> counterData;
    bool started = false;
    /// The thread of the last pending launch. Launches of two threads may run in another order than their
    /// callbacks came; a batch is decoded before another thread's launch joins it.
    std::thread::id lastThread;
    /// Measured launches of this batch whose calls have not returned yet. A kernel is submitted after its launch
    /// callback, so another thread's launch may start the next batch first; the late kernel is then a range of
    /// that batch, and its own batch lacks it. A batch decoded while one of its launches is unreturned may miss a
    /// range, and another's late range can make the count match with every value on the wrong kernel
    /// (tests/integration/test_cupti_simulated.cpp, "race"): its values are dropped (stopAndDecode). A range
    /// of another batch's late kernel in a batch whose own launches all returned shows as a count mismatch.
    std::shared_ptr<std::atomic<int>> unreturned = std::make_shared<std::atomic<int>>(0);
    /// The launches measured since the last decode, in launch order (auto range: one range per launch, in
    /// execution order; launches are serialized under auto range). Each with all its correlation ids: the one
    /// counted, then the runtime or driver calls around or inside it (the kernel record carries one of them).
    struct Launch {
        std::string name; ///< its kernel (m_launchCounts' key)
        std::vector<std::uint32_t> ids;
    };
    std::vector<Launch> pending;
};

class CuptiBackend final : public backend::Backend {
public:
    explicit CuptiBackend(Host* host)
        : m_host(host)
        , m_pid(::getpid())
        , m_noReplay(std::begin(kNoReplayPatterns), std::end(kNoReplayPatterns))
    {
        // Extra never-replayed kernels: comma-separated name substrings (peer-waiting kernels of one's own).
        if (const char* extra = std::getenv("ROOFTIME_NO_REPLAY")) {
            std::string list = extra;
            for (std::size_t at = 0; at <= list.size();) {
                const std::size_t comma = std::min(list.find(',', at), list.size());
                if (comma > at) m_noReplay.push_back(list.substr(at, comma - at));
                at = comma + 1;
            }
        }
    }

    const char* name() const noexcept override { return "cupti"; }
    bool available() noexcept override;
    bool start(const backend::Settings& settings) noexcept override;
    void flush(bool forced) noexcept override;
    void stop() noexcept override;
    void beforeExit() noexcept override;
    void forkChild() noexcept override { m_active.store(false); }
    pid_t pid() const noexcept { return m_pid; }

    void onCallback(CUpti_CallbackDomain domain, CUpti_CallbackId cbid, const void* data) noexcept;
    void onBuffer(CUcontext ctx, std::uint32_t stream, std::uint8_t* buffer, std::size_t valid) noexcept;

private:
    /// No getpid() here: it is a system call, four of them per launch, and a forked child is made inert through
    /// forkChild() already.
    bool mine() const noexcept { return m_active.load(std::memory_order_acquire); }
    void fail(const char* key, const std::string& what) noexcept { m_host->report(key, what, true); }
    void note(const std::string& what) noexcept { m_host->report("note", what, false); }

    // counters mode
    /// Decides whether this launch is measured and starts or stops the profiler around it (true: handled).
    bool countersOnLaunch(CUcontext ctx, const char* symbol, std::uint32_t correlation) noexcept;
    /// The driver launch inside a counted runtime launch: its correlation id names the same measured kernel.
    /// Takes no lock a waiting stopAndDecode() holds: that thread waits for this launch to return.
    void countersAlias(std::uint32_t runtimeId, std::uint32_t driverId) noexcept;
    /// A stream capture begins (the started batch is stopped first, while that is still allowed) or ends.
    void countersCapture(Capture what, const CUpti_CallbackData* cb) noexcept;
    /// Stops the started profiler (a graph launch: its kernels must not become ranges nor be replayed).
    void countersPause() noexcept;
    ContextCounters* countersFor(CUcontext ctx);
    bool setUpHost(CUcontext ctx, std::uint32_t device);
    /// A fresh host object and configuration image for @p wanted (missing names noted) and @p optional (missing
    /// names dropped quietly), with its pass count. false (counters disabled, said why) on a CUPTI error.
    bool configureCounters(const char* chipName, const std::vector<std::uint8_t>& availability,
        const std::vector<const char*>& wanted, const std::vector<const char*>& optional, std::size_t& passes);
    void releaseHostObject() noexcept;
    void stopAndDecode(ContextCounters& c);
    /// stopAndDecode() of the batch of the context being profiled, if any (m_countersMutex held).
    void stopActive()
    {
        auto it = m_contexts.find(m_activeContext);
        if (it != m_contexts.end()) stopAndDecode(it->second);
    }
    void disableCounters(const std::string& why, const std::string& status) noexcept;
    /// disableCounters() with what @p rc means (counterFailure): "cannot DOING (CODE)" or the known cause's fix.
    void counterCallFailed(CUptiResult rc, const std::string& doing) noexcept;

    Host* m_host;
    pid_t m_pid;
    backend::Settings m_settings;
    std::atomic<bool> m_active { false };
    CUpti_SubscriberHandle m_subscriber = nullptr;
    LaunchTable m_launches;
    std::atomic<std::uint64_t> m_dropped { 0 };
    std::int64_t m_clockOffset = 0; ///< profile clock - CUPTI clock, when records keep CUPTI's clock
    /// Onto the profile's clock; a time of 0 (a replayed launch's record has none) stays 0.
    template <typename Record> void shift(Record& r) const noexcept
    {
        if (r.startNs) r.startNs += m_clockOffset;
        if (r.endNs) r.endNs += m_clockOffset;
    }

    // counters mode: under m_countersMutex (held across Range Profiler calls), but for the last three
    std::mutex m_countersMutex;
    std::atomic<bool> m_counters { false }; ///< read without the mutex in every callback
    std::atomic<bool> m_exitBegun { false }; ///< beforeExit() entered
    /// Stream captures in progress, in any thread: no Range Profiler call and no measured launch meanwhile (a
    /// capture in global mode is invalidated by another thread's unsafe call too).
    std::atomic<int> m_capturing { 0 };
    std::mutex m_captureMutex; ///< never held while waiting or calling CUPTI
    std::vector<void*> m_captureStreams; ///< the streams capturing, as their begin calls named them
    /// Launch, graph launch, copy and fill calls past their counters decision that have not returned: their GPU
    /// work may still be submitted. A batch starts only when there is none, else that work (a kernel not measured,
    /// or the driver's fill kernel) becomes one of its ranges and every value of the batch is dropped.
    std::atomic<int> m_inFlight { 0 };
    /// Counts the calling thread's outermost GPU call in m_inFlight, once.
    void enterFlight() noexcept
    {
        if (t_calls.depth == 0 || t_calls.flight) return;
        t_calls.flight = &m_inFlight;
        m_inFlight.fetch_add(1, std::memory_order_acq_rel);
    }
    /// Waits briefly until no other thread's GPU call is in flight. After a wait in vain the next starts for a
    /// second only look (a thread that keeps a blocking copy in flight must not cost every launch a wait).
    bool othersReturned() noexcept;
    std::chrono::steady_clock::time_point m_othersBusyUntil {}; ///< under m_countersMutex
    std::atomic<std::uint64_t> m_notStarted { 0 }; ///< measured launches not started: others' calls in flight
    /// Failed launches (by correlation id) that may be in a batch: taken out of it at its decode. Under their own
    /// lock, never held while waiting: a failed launch reports before it counts as returned.
    std::mutex m_failedMutex;
    std::vector<std::uint32_t> m_failed;
    /// Measured launches whose values were dropped because another thread's launch decoded their batch before
    /// they returned, and the batches: said once, at the end.
    std::atomic<std::uint64_t> m_droppedLaunches { 0 }, m_droppedBatches { 0 };
    /// Driver calls that may run GPU work of their own (copies and fills, which the driver may run as kernels): a
    /// started profiler is stopped before them, so that their work never becomes a range of a measured batch.
    std::vector<bool> m_pauseBefore;
    bool m_hostReady = false;
    CUpti_Profiler_Host_Object* m_hostObject = nullptr;
    std::vector<std::uint8_t> m_configImage;
    std::vector<const char*> m_metrics;
    std::vector<std::string> m_units;
    std::unordered_set<std::string> m_missingNoted; ///< counters said to be missing on this chip
    std::map<CUcontext, ContextCounters> m_contexts;
    CUcontext m_activeContext = nullptr;
    std::unordered_map<std::string, int> m_launchCounts;
    /// Records and values of measured launches. Its lock is its own, taken after m_countersMutex and never held
    /// across a CUPTI call: the buffer thread takes it inside CUPTI's completion callback, and must not wait on a
    /// thread that is inside CUPTI (a Range Profiler call under m_countersMutex) while CUPTI waits on it.
    CounterMatcher m_match;
    /// Measured launches whose values will never come: their held records go out without counters.
    void releaseLost(const std::vector<ContextCounters::Launch>& launches);
    std::unordered_map<std::string, int> m_retries; ///< per kernel: measurements given back (releaseLost)
    /// A measured launch that failed ran no kernel and gets no range: out of its batch.
    void countersLaunchFailed(std::uint32_t correlation) noexcept;
    std::vector<std::string> m_noReplay; ///< kNoReplayPatterns and ROOFTIME_NO_REPLAY
    /// Counts this thread's launch, copy and fill calls (t_gpuCalls); the outermost one's return ends its
    /// measured launch (ContextCounters::unreturned).
    void gpuCall(const CUpti_CallbackData* cb) noexcept;
};

CuptiBackend* g_backend = nullptr;

void CUPTIAPI onCallbackEntry(void* self, CUpti_CallbackDomain domain, CUpti_CallbackId cbid, const void* data)
{
    static_cast<CuptiBackend*>(self)->onCallback(domain, cbid, data);
}

/// Activity buffers handed back are kept for the next request: a fresh 4 MiB block is a fresh mapping, and the
/// thread writing records into it would take a page fault every 4 KiB (about a tenth of the launching thread's
/// time in the simulated-GPU benchmark, bench/README.md).
/// Leaked, as CUPTI may hand a buffer back during exit, after static destructors.
std::mutex& g_bufferMutex = *new std::mutex;
std::vector<std::uint8_t*>& g_freeBuffers = *new std::vector<std::uint8_t*>; ///< at most kFreeBuffers
constexpr std::size_t kFreeBuffers = 4;

void CUPTIAPI bufferRequested(std::uint8_t** buffer, std::size_t* size, std::size_t* maxRecords)
{
    *buffer = nullptr;
    {
        std::lock_guard lock(g_bufferMutex);
        if (!g_freeBuffers.empty()) {
            *buffer = g_freeBuffers.back();
            g_freeBuffers.pop_back();
        }
    }
    if (!*buffer) *buffer = static_cast<std::uint8_t*>(std::aligned_alloc(8, kBufferBytes));
    *size = *buffer ? kBufferBytes : 0;
    *maxRecords = 0;
}

void CUPTIAPI bufferCompleted(CUcontext ctx, std::uint32_t stream, std::uint8_t* buffer, std::size_t, std::size_t valid)
{
    if (g_backend) g_backend->onBuffer(ctx, stream, buffer, valid);
    {
        std::lock_guard lock(g_bufferMutex);
        if (g_freeBuffers.size() < kFreeBuffers) {
            g_freeBuffers.push_back(buffer);
            return;
        }
    }
    std::free(buffer);
}

/// Another libcupti than ours in the process (a cu12 wheel, say): two copies would fight over the one subscriber.
std::string otherCuptiMapped()
{
    std::string found;
    dl_iterate_phdr(
        [](dl_phdr_info* info, std::size_t, void* out) -> int {
            const char* n = info->dlpi_name;
            if (n && std::strstr(n, "libcupti.so") && !std::strstr(n, "libcupti.so.13")) {
                *static_cast<std::string*>(out) = n;
                return 1;
            }
            return 0;
        },
        &found);
    return found;
}

bool CuptiBackend::available() noexcept
{
    try {
        std::uint32_t version = 0;
        const CUptiResult rc = cuptiGetVersion(&version);
        if (rc != CUPTI_SUCCESS) {
            fail("version", "cannot use CUPTI (" + resultText(rc) + "); continuing without GPU kernels");
            return false;
        }
        // CUPTI_API_VERSION is major * 10000 + minor * 100 + patch for 13.x (130001). Another 13.x is accepted: a
        // function it lacks would have failed the plugin's load already (RTLD_NOW), with the loader's message.
        if (version / 10000 != CUPTI_API_VERSION / 10000) {
            fail("version",
                "the loaded CUPTI has API version " + std::to_string(version) + ", this build needs a 13.x ("
                    + std::to_string(CUPTI_API_VERSION) + "); continuing without GPU kernels");
            return false;
        }
        const std::string other = otherCuptiMapped();
        if (!other.empty()) {
            fail("version",
                "another CUPTI is loaded in this process (" + other
                    + "); only one can be used, so continuing without GPU kernels");
            return false;
        }
        return true;
    } catch (...) {
        return false;
    }
}

bool CuptiBackend::start(const backend::Settings& settings) noexcept
{
    try {
        m_settings = settings;
        g_host = m_host;
        g_backend = this;
        // cupti_callbacks.h: the incumbent's name is truncated below CUPTI_OLD_SUBSCRIBER_NAME_MIN_LEN bytes.
        char holder[CUPTI_OLD_SUBSCRIBER_NAME_MIN_LEN] = {};
        auto sp = params<CUpti_SubscriberParams>(CUpti_SubscriberParams_STRUCT_SIZE);
        sp.subscriberName = "rooftime";
        sp.oldSubscriberName = holder;
        sp.oldSubscriberSize = sizeof holder;
        CUptiResult rc = cuptiSubscribe_v2(&m_subscriber, &onCallbackEntry, this, &sp);
        if (rc == CUPTI_ERROR_MULTIPLE_SUBSCRIBERS_NOT_SUPPORTED) {
            fail("subscriber",
                std::string("CUPTI is already used by ") + (holder[0] ? holder : "another tool")
                    + " (one tool at a time: nsys, ncu, torch.profiler); continuing without GPU kernels");
            return false;
        }
        if (rc != CUPTI_SUCCESS) {
            fail("subscriber", "cannot subscribe to CUPTI (" + resultText(rc) + "); continuing without GPU kernels");
            return false;
        }
        // Only once CUPTI is ours (a tool holding it keeps its clock), and before any activity kind is enabled:
        // kernel times on the profile's clock. ROOFTIME_CUPTI_TIMESTAMPS=offset instead keeps CUPTI's own clock
        // and shifts every record by the offset of the two clocks measured here (no callback per timestamp).
        const char* clockMode = std::getenv("ROOFTIME_CUPTI_TIMESTAMPS");
        if (clockMode && std::strcmp(clockMode, "offset") == 0) {
            // The narrowest bracket of five readings: the offset to within its width.
            std::int64_t best = INT64_MAX;
            for (int i = 0; i < 5; ++i) {
                const std::int64_t before = m_host->nowNs();
                std::uint64_t cupti = 0;
                if (cuptiGetTimestamp(&cupti) != CUPTI_SUCCESS) break;
                const std::int64_t after = m_host->nowNs();
                if (after - before < best) {
                    best = after - before;
                    m_clockOffset = before + (after - before) / 2 - static_cast<std::int64_t>(cupti);
                }
            }
            note("GPU times: CUPTI's clock shifted by a fixed offset (ROOFTIME_CUPTI_TIMESTAMPS=offset)");
        } else {
            rc = cuptiActivityRegisterTimestampCallback(&timestamp);
            if (rc != CUPTI_SUCCESS)
                note("timestamp callback not registered (" + resultText(rc) + "); GPU times may be off");
        }
        rc = cuptiActivityRegisterCallbacks(&bufferRequested, &bufferCompleted);
        if (rc != CUPTI_SUCCESS) {
            fail("activity", "cannot register CUPTI buffers (" + resultText(rc) + "); continuing without GPU kernels");
            cuptiUnsubscribe(m_subscriber);
            return false;
        }
        // ROOFTIME_CUPTI_ACTIVITIES (comma-separated device, memcpy, memset; kernels always): fewer kinds, to
        // measure what each costs a launch-bound program (docs/cupti.md, overhead).
        const char* kinds = std::getenv("ROOFTIME_CUPTI_ACTIVITIES");
        auto wanted = [&](const char* name) {
            if (!kinds) return true;
            const std::string list = std::string(",") + kinds + ",";
            return list.find(std::string(",") + name + ",") != std::string::npos;
        };
        if (kinds)
            note(std::string("activity kinds limited to kernels and '") + kinds + "' (ROOFTIME_CUPTI_ACTIVITIES)");
        for (CUpti_ActivityKind kind : { CUPTI_ACTIVITY_KIND_DEVICE, CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL,
                 CUPTI_ACTIVITY_KIND_MEMCPY, CUPTI_ACTIVITY_KIND_MEMSET }) {
            if ((kind == CUPTI_ACTIVITY_KIND_DEVICE && !wanted("device"))
                || (kind == CUPTI_ACTIVITY_KIND_MEMCPY && !wanted("memcpy"))
                || (kind == CUPTI_ACTIVITY_KIND_MEMSET && !wanted("memset")))
                continue;
            rc = cuptiActivityEnable(kind);
            if (rc != CUPTI_SUCCESS && kind == CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL) {
                fail("activity", "cannot trace kernels (" + resultText(rc) + "); continuing without GPU kernels");
                cuptiUnsubscribe(m_subscriber);
                return false;
            }
            if (rc != CUPTI_SUCCESS) note("activity kind " + std::to_string(kind) + " not enabled: " + resultText(rc));
        }
        // The worker's periodic flush returns only full buffers (cupti_activity.h); the collector's writer calls
        // flush(false) about every second for the completed records of partly filled ones.
        cuptiActivityFlushPeriod(1000);
        for (CUpti_CallbackId id : kDriverLaunches)
            cuptiEnableCallback(1, m_subscriber, CUPTI_CB_DOMAIN_DRIVER_API, id);
        for (CUpti_CallbackId id : kRuntimeLaunches)
            cuptiEnableCallback(1, m_subscriber, CUPTI_CB_DOMAIN_RUNTIME_API, id);
        m_counters = settings.mode == "counters";
        if (m_counters) {
            for (CUpti_CallbackId id : kDriverCaptureBegins)
                cuptiEnableCallback(1, m_subscriber, CUPTI_CB_DOMAIN_DRIVER_API, id);
            for (CUpti_CallbackId id : kDriverCaptureEnds)
                cuptiEnableCallback(1, m_subscriber, CUPTI_CB_DOMAIN_DRIVER_API, id);
            for (CUpti_CallbackId id : kRuntimeCaptureBegins)
                cuptiEnableCallback(1, m_subscriber, CUPTI_CB_DOMAIN_RUNTIME_API, id);
            for (CUpti_CallbackId id : kRuntimeCaptureEnds)
                cuptiEnableCallback(1, m_subscriber, CUPTI_CB_DOMAIN_RUNTIME_API, id);
            cuptiEnableCallback(
                1, m_subscriber, CUPTI_CB_DOMAIN_RESOURCE, CUPTI_CBID_RESOURCE_CONTEXT_DESTROY_STARTING);
            m_pauseBefore.assign(CUPTI_DRIVER_TRACE_CBID_SIZE, false);
            for (int id = 1; id < CUPTI_DRIVER_TRACE_CBID_SIZE; ++id) {
                const char* fn = nullptr;
                if (cuptiGetCallbackName(CUPTI_CB_DOMAIN_DRIVER_API, static_cast<std::uint32_t>(id), &fn)
                        != CUPTI_SUCCESS
                    || !fn)
                    continue;
                if (std::strncmp(fn, "cuMemcpy", 8) == 0 || std::strncmp(fn, "cuMemset", 8) == 0) {
                    m_pauseBefore[static_cast<std::size_t>(id)] = true;
                    cuptiEnableCallback(1, m_subscriber, CUPTI_CB_DOMAIN_DRIVER_API, static_cast<CUpti_CallbackId>(id));
                }
            }
            m_host->setCountersStatus("pending: no kernel launched yet");
        }
        m_active.store(true);
        return true;
    } catch (...) {
        return false;
    }
}

void CuptiBackend::onCallback(CUpti_CallbackDomain domain, CUpti_CallbackId cbid, const void* data) noexcept
{
    try {
        if (!mine()) return;
        if (domain == CUPTI_CB_DOMAIN_RESOURCE) {
            if (cbid == CUPTI_CBID_RESOURCE_CONTEXT_DESTROY_STARTING) {
                const auto* r = static_cast<const CUpti_ResourceData*>(data);
                std::lock_guard lock(m_countersMutex);
                auto it = m_contexts.find(r->context);
                if (it == m_contexts.end()) return;
                stopAndDecode(it->second);
                auto dp = params<CUpti_RangeProfiler_Disable_Params>(CUpti_RangeProfiler_Disable_Params_STRUCT_SIZE);
                dp.pRangeProfilerObject = it->second.object;
                cuptiRangeProfilerDisable(&dp);
                if (m_activeContext == r->context) m_activeContext = nullptr;
                m_contexts.erase(it);
            }
            return;
        }
        const auto* cb = static_cast<const CUpti_CallbackData*>(data);
        if (const Capture capture = captureCall(domain, cbid); capture != Capture::None) {
            countersCapture(capture, cb);
            return;
        }
        // At an exit, the call's return is counted last: a failed launch leaves its batch first.
        struct Returned {
            CuptiBackend* self;
            const CUpti_CallbackData* cb;
            ~Returned()
            {
                if (cb->callbackSite != CUPTI_API_ENTER) self->gpuCall(cb);
            }
        } returned { this, cb };
        if (cb->callbackSite == CUPTI_API_ENTER) gpuCall(cb);
        if (domain == CUPTI_CB_DOMAIN_DRIVER_API && cbid < m_pauseBefore.size() && m_pauseBefore[cbid]) {
            if (cb->callbackSite == CUPTI_API_ENTER && m_counters) countersPause();
            return;
        }
        const bool graph = cbid == CUPTI_DRIVER_TRACE_CBID_cuGraphLaunch
            || cbid == CUPTI_DRIVER_TRACE_CBID_cuGraphLaunch_ptsz
            || cbid == CUPTI_RUNTIME_TRACE_CBID_cudaGraphLaunch_v10000
            || cbid == CUPTI_RUNTIME_TRACE_CBID_cudaGraphLaunch_ptsz_v10000;
        const bool launch = !graph && isKernelLaunch(domain, cbid);
        // A started profiler would make every kernel of the graph a range (shifting the launch-to-range mapping)
        // and replay it, NCCL kernels included.
        if (graph && m_counters && cb->callbackSite == CUPTI_API_ENTER) countersPause();
        if (domain == CUPTI_CB_DOMAIN_RUNTIME_API) {
            if (cb->callbackSite == CUPTI_API_ENTER) {
                if (t_runtimeCorrelation != 0) {
                    // A runtime launch inside another (cudaLaunchKernel may go through __cudaLaunchKernel): the
                    // same kernel, counted once; its id is one more name for it.
                    m_launches.remember(cb->correlationId, t_runtimeContext);
                    if (t_runtimeCounted) countersAlias(t_runtimeCorrelation, cb->correlationId);
                    return;
                }
                t_runtimeCorrelation = cb->correlationId;
                t_runtimeContext = m_host->launchContext();
                m_launches.remember(cb->correlationId, t_runtimeContext);
                // Counted here when the context is known, so that a runtime launch counts whether or not the
                // runtime goes through a driver launch callback; else its driver launch counts it.
                // Without the kernel's name here the driver launch counts it (its symbolName is the kernel's).
                t_runtimeCounted = m_counters && launch && cb->context && cb->symbolName && *cb->symbolName
                    && countersOnLaunch(cb->context, cb->symbolName, cb->correlationId);
            } else {
                // A launch that failed ran no kernel and gets no range: it must leave its batch.
                if (t_runtimeCounted && launch && failed(cb)) countersLaunchFailed(t_runtimeCorrelation);
                t_runtimeCorrelation = 0;
                t_runtimeCounted = false;
            }
            return;
        }
        if (cb->callbackSite != CUPTI_API_ENTER) {
            // Inside a counted runtime launch the runtime call's failure reports it.
            if (m_counters && launch && !t_runtimeCounted && failed(cb)) countersLaunchFailed(cb->correlationId);
            return;
        }
        // Inside a runtime launch the context (and its call stack, the costly part) is the runtime call's.
        m_launches.remember(cb->correlationId, t_runtimeCorrelation ? t_runtimeContext : m_host->launchContext());
        if (!m_counters || !launch) return;
        if (t_runtimeCounted)
            countersAlias(t_runtimeCorrelation, cb->correlationId);
        else
            countersOnLaunch(cb->context, cb->symbolName, cb->correlationId);
    } catch (...) { }
}

void CuptiBackend::gpuCall(const CUpti_CallbackData* cb) noexcept
{
    // Every API callback enabled is a launch, graph launch, copy or fill (counters mode adds the last two).
    if (cb->callbackSite == CUPTI_API_ENTER) {
        if (m_counters) ++t_calls.depth;
    } else if (t_calls.depth > 0 && --t_calls.depth == 0) {
        t_calls.returned();
    }
}

void CuptiBackend::onBuffer(CUcontext ctx, std::uint32_t stream, std::uint8_t* buffer, std::size_t valid) noexcept
{
    try {
        if (::getpid() != m_pid) return;
        std::vector<backend::KernelRecord> kernels;
        std::vector<backend::MemoryRecord> ops;
        CUpti_Activity* record = nullptr;
        while (valid > 0 && cuptiActivityGetNextRecord(buffer, valid, &record) == CUPTI_SUCCESS) {
            switch (record->kind) {
            case CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL:
            case CUPTI_ACTIVITY_KIND_KERNEL: {
                const auto& raw = *reinterpret_cast<const CUpti_ActivityKernel10*>(record);
                backend::KernelRecord k = translateKernel(raw);
                shift(k);
                joinLaunch(k, m_launches, raw.graphId != 0);
                kernels.push_back(std::move(k));
                break;
            }
            case CUPTI_ACTIVITY_KIND_MEMCPY: {
                backend::MemoryRecord m = translateMemcpy(*reinterpret_cast<const CUpti_ActivityMemcpy6*>(record));
                shift(m);
                joinLaunch(m, m_launches);
                ops.push_back(m);
                break;
            }
            case CUPTI_ACTIVITY_KIND_MEMSET: {
                backend::MemoryRecord m = translateMemset(*reinterpret_cast<const CUpti_ActivityMemset4*>(record));
                shift(m);
                joinLaunch(m, m_launches);
                ops.push_back(m);
                break;
            }
            case CUPTI_ACTIVITY_KIND_DEVICE:
                m_host->addDevice(translateDevice(*reinterpret_cast<const CUpti_ActivityDevice5*>(record)));
                break;
            default:
                break;
            }
        }
        std::size_t dropped = 0;
        if (cuptiActivityGetNumDroppedRecords(ctx, stream, &dropped) == CUPTI_SUCCESS && dropped > 0) {
            m_dropped.fetch_add(dropped);
            fail("dropped",
                "CUPTI dropped GPU activity records (its buffers were full); the count is in the profile's "
                "diagnostics");
        }
        // Whatever m_counters says now: launches measured before counters ended still get their values.
        m_match.deliver(kernels);
        m_host->addKernels(std::move(kernels));
        m_host->addMemoryOps(std::move(ops));
    } catch (...) { }
}

void CuptiBackend::flush(bool forced) noexcept
{
    if (::getpid() != m_pid) return;
    cuptiActivityFlushAll(forced ? CUPTI_ACTIVITY_FLAG_FLUSH_FORCED : 0);
}

void CuptiBackend::stop() noexcept
{
    try {
        if (!mine()) return;
        // No GPU synchronization here: this runs on a helper thread with no current context, and the plugin never
        // calls the driver. Programs normally synchronize before exit (cudaMemcpy, cudaFree, cudaDeviceSynchronize);
        // a kernel still running at exit may be missing (docs/cupti.md).
        beforeExit(); // done already when the collector called it; here for a stop without it
        for (CUpti_ActivityKind kind : { CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL, CUPTI_ACTIVITY_KIND_MEMCPY,
                 CUPTI_ACTIVITY_KIND_MEMSET, CUPTI_ACTIVITY_KIND_DEVICE })
            cuptiActivityDisable(kind);
        cuptiActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED);
        m_active.store(false);
        // Measured kernels whose values never came: written without counters.
        std::vector<backend::KernelRecord> rest = m_match.drain();
        if (!rest.empty()) {
            note(std::to_string(rest.size()) + " measured kernel launches got no counter values");
            m_host->addKernels(std::move(rest));
        }
        if (const std::uint64_t d = m_dropped.load())
            note("CUPTI dropped " + std::to_string(d) + " GPU activity records");
        if (const std::uint64_t n = m_droppedLaunches.exchange(0)) {
            const std::uint64_t batches = m_droppedBatches.exchange(0);
            note("counter values of " + std::to_string(n) + " measured launch" + (n == 1 ? "" : "es") + " (in "
                + std::to_string(batches) + " batch" + (batches == 1 ? "" : "es")
                + ") dropped: decoded before one of their launch calls returned (another thread's launch came "
                  "meanwhile), so a range of theirs may be missing and another's in its place; later launches "
                  "of those kernels were measured in their place, up to K more each");
        }
        if (const std::uint64_t n = m_notStarted.exchange(0))
            note(std::to_string(n) + " launch" + (n == 1 ? " was" : "es were")
                + " not measured: another thread's launch, copy or fill call was still in flight (its GPU work "
                  "would have become a range of the batch); they count against no kernel's K");
    } catch (...) { }
}

void CuptiBackend::beforeExit() noexcept
{
    try {
        // Once: the collector's exit watchdog calls stop() (and so this) while a CUPTI call here may still hang.
        if (!mine() || !m_counters || m_exitBegun.exchange(true)) return;
        // A program that never destroys its context (PyTorch) ends with the profiler started when its last launch
        // was measured. NVIDIA's samples end the Range Profiler at exit on the program's thread: stop and decode
        // there, disable it per context, then release the host side; launches after this are timed only.
        std::lock_guard lock(m_countersMutex);
        m_counters = false;
        for (auto& [ctx, c] : m_contexts) {
            const ContextScope current(ctx);
            stopAndDecode(c);
            auto dp = params<CUpti_RangeProfiler_Disable_Params>(CUpti_RangeProfiler_Disable_Params_STRUCT_SIZE);
            dp.pRangeProfilerObject = c.object;
            cuptiRangeProfilerDisable(&dp);
        }
        m_contexts.clear();
        m_activeContext = nullptr;
        releaseHostObject();
        if (m_hostReady) {
            auto di = params<CUpti_Profiler_DeInitialize_Params>(CUpti_Profiler_DeInitialize_Params_STRUCT_SIZE);
            cuptiProfilerDeInitialize(&di);
            m_hostReady = false;
        }
    } catch (...) { }
}

// ---- counters mode -------------------------------------------------------------------------------------------

void CuptiBackend::disableCounters(const std::string& why, const std::string& status) noexcept
{
    m_counters = false;
    m_host->setCountersStatus("unavailable: " + status);
    fail("counters", why + "; continuing without GPU counters (kernel times are still recorded)");
}

void CuptiBackend::counterCallFailed(CUptiResult rc, const std::string& doing) noexcept
{
    try {
        const CounterFailure f = counterFailure(rc, doing, resultText(rc));
        disableCounters(f.why, f.status);
    } catch (...) {
        disableCounters("cannot " + doing, "error");
    }
}

bool CuptiBackend::setUpHost(CUcontext ctx, std::uint32_t device)
{
    auto init = params<CUpti_Profiler_Initialize_Params>(CUpti_Profiler_Initialize_Params_STRUCT_SIZE);
    CUptiResult rc = cuptiProfilerInitialize(&init);
    if (rc != CUPTI_SUCCESS) {
        counterCallFailed(rc, "initialize the CUPTI profiler");
        return false;
    }
    auto sup = params<CUpti_Profiler_DeviceSupported_Params>(CUpti_Profiler_DeviceSupported_Params_STRUCT_SIZE);
    sup.cuDevice = static_cast<CUdevice>(device);
    sup.api = CUPTI_PROFILER_RANGE_PROFILING;
    rc = cuptiProfilerDeviceSupported(&sup);
    if (rc == CUPTI_SUCCESS && sup.isSupported != CUPTI_PROFILER_CONFIGURATION_SUPPORTED) {
        std::string why = "GPU counters are not supported on this device";
        if (sup.architecture != CUPTI_PROFILER_CONFIGURATION_SUPPORTED)
            why += " (compute capability below 7.5: the range profiler needs Turing or newer)";
        if (sup.vGpu == CUPTI_PROFILER_CONFIGURATION_DISABLED)
            why += " (vGPU with profiling disabled: the host administrator can enable it)";
        else if (sup.vGpu != CUPTI_PROFILER_CONFIGURATION_SUPPORTED)
            why += " (vGPU)";
        if (sup.confidentialCompute != CUPTI_PROFILER_CONFIGURATION_SUPPORTED) why += " (confidential computing)";
        if (sup.cmp != CUPTI_PROFILER_CONFIGURATION_SUPPORTED) why += " (crypto-mining processor)";
        if (sup.wsl != CUPTI_PROFILER_CONFIGURATION_SUPPORTED) why += " (WSL)";
        if (sup.sli != CUPTI_PROFILER_CONFIGURATION_SUPPORTED) why += " (SLI)";
        disableCounters(why, why);
        return false;
    }
    auto chip = params<CUpti_Device_GetChipName_Params>(CUpti_Device_GetChipName_Params_STRUCT_SIZE);
    chip.deviceIndex = device;
    rc = cuptiDeviceGetChipName(&chip);
    if (rc != CUPTI_SUCCESS || !chip.pChipName) {
        counterCallFailed(rc, "read the GPU's chip name");
        return false;
    }
    auto avail = params<CUpti_Profiler_GetCounterAvailability_Params>(
        CUpti_Profiler_GetCounterAvailability_Params_STRUCT_SIZE);
    avail.ctx = ctx;
    rc = cuptiProfilerGetCounterAvailability(&avail);
    std::vector<std::uint8_t> availability;
    if (rc == CUPTI_SUCCESS) {
        availability.resize(avail.counterAvailabilityImageSize);
        avail.pCounterAvailabilityImage = availability.data();
        rc = cuptiProfilerGetCounterAvailability(&avail);
    }
    if (rc != CUPTI_SUCCESS) {
        counterCallFailed(rc, "query counter availability");
        return false;
    }
    const std::string& set = m_settings.counterSet;
    const bool tier2 = set == "tier2", peaksOnly = set == "peaks";
    if (!tier2 && !peaksOnly && set != "tier1")
        note("unknown counter set '" + set + "' (ROOFTIME_COUNTER_SET); using tier1");
    const bool hopper = std::strncmp(chip.pChipName, "GH", 2) == 0;
    std::vector<const char*> wanted(kTier1.begin(), kTier1.end());
    if (tier2) {
        // Hopper counts mma.sync apart from wgmma (op level); earlier chips only by source type.
        if (hopper)
            wanted.insert(wanted.end(), kTier2Hopper.begin(), kTier2Hopper.end());
        else
            wanted.insert(wanted.end(), kTier2BeforeHopper.begin(), kTier2BeforeHopper.end());
    }
    std::vector<const char*> peaks(kPeaks.begin(), kPeaks.end());
    if (hopper)
        peaks.insert(peaks.end(), kPeaksHopper.begin(), kPeaksHopper.end());
    else
        peaks.insert(peaks.end(), kPeaksBeforeHopper.begin(), kPeaksBeforeHopper.end());
    std::size_t passes = 0;
    if (peaksOnly) {
        wanted.assign({ "gpu__time_duration.sum" });
        if (!configureCounters(chip.pChipName, availability, wanted, peaks, passes)) return false;
    } else {
        // Peaks and clocks join only where they add no pass (metric_sets.h): the set alone first, to compare.
        std::size_t alone = 0;
        if (!configureCounters(chip.pChipName, availability, wanted, {}, alone)) return false;
        if (!configureCounters(chip.pChipName, availability, wanted, peaks, passes)) return false;
        if (passes > alone || passes == 0) {
            note("peaks and clocks not collected: on " + std::string(chip.pChipName)
                + (passes == 0 ? " their cost in passes is unknown" : " they would add a pass"));
            if (!configureCounters(chip.pChipName, availability, wanted, {}, passes)) return false;
        }
    }
    note(std::string("counters on ") + chip.pChipName + ": " + std::to_string(m_metrics.size()) + " metrics, "
        + std::to_string(passes) + (passes == 1 ? " pass" : " passes") + " per measured launch (kernel replay)");
    m_host->setCountersStatus(
        "cupti: " + (peaksOnly ? std::string("peaks") : std::string("tier ") + (tier2 ? "2" : "1")) + ", "
        + std::to_string(m_metrics.size()) + " metrics, " + std::to_string(passes) + (passes == 1 ? " pass" : " passes")
        + ", first "
        + (m_settings.counterLaunches > 0 ? std::to_string(m_settings.counterLaunches) : std::string("all"))
        + " launches per kernel");
    m_hostReady = true;
    return true;
}

bool CuptiBackend::configureCounters(const char* chipName, const std::vector<std::uint8_t>& availability,
    const std::vector<const char*>& wanted, const std::vector<const char*>& optional, std::size_t& passes)
{
    // A host object keeps every metric ever added to it: a new configuration needs a new one.
    releaseHostObject();
    m_metrics.clear();
    m_units.clear();
    auto hi = params<CUpti_Profiler_Host_Initialize_Params>(CUpti_Profiler_Host_Initialize_Params_STRUCT_SIZE);
    hi.profilerType = CUPTI_PROFILER_TYPE_RANGE_PROFILER;
    hi.pChipName = chipName;
    hi.pCounterAvailabilityImage = availability.data();
    CUptiResult rc = cuptiProfilerHostInitialize(&hi);
    if (rc != CUPTI_SUCCESS) {
        disableCounters(
            std::string("CUPTI does not know chip ") + chipName + " (" + resultText(rc) + ")", resultText(rc));
        return false;
    }
    m_hostObject = hi.pHostObject;
    auto keep = [&](const char* m, bool required) {
        auto mp = params<CUpti_Profiler_Host_GetMetricProperties_Params>(
            CUpti_Profiler_Host_GetMetricProperties_Params_STRUCT_SIZE);
        mp.pHostObject = m_hostObject;
        mp.pMetricName = m;
        if (cuptiProfilerHostGetMetricProperties(&mp) == CUPTI_SUCCESS) {
            m_metrics.push_back(m);
            m_units.push_back(normaliseUnit(mp.pDimUnit));
        } else if (required && m_missingNoted.insert(m).second) { // once, though configured up to 3 times
            note(std::string("counter ") + m + " does not exist on " + chipName + "; not collected");
        }
    };
    for (const char* m : wanted)
        keep(m, true);
    for (const char* m : optional)
        keep(m, false);
    auto add
        = params<CUpti_Profiler_Host_ConfigAddMetrics_Params>(CUpti_Profiler_Host_ConfigAddMetrics_Params_STRUCT_SIZE);
    add.pHostObject = m_hostObject;
    add.ppMetricNames = m_metrics.data();
    add.numMetrics = m_metrics.size();
    auto size = params<CUpti_Profiler_Host_GetConfigImageSize_Params>(
        CUpti_Profiler_Host_GetConfigImageSize_Params_STRUCT_SIZE);
    size.pHostObject = m_hostObject;
    if ((rc = cuptiProfilerHostConfigAddMetrics(&add)) != CUPTI_SUCCESS
        || (rc = cuptiProfilerHostGetConfigImageSize(&size)) != CUPTI_SUCCESS) {
        releaseHostObject();
        counterCallFailed(rc, "configure the counters");
        return false;
    }
    m_configImage.assign(size.configImageSize, 0);
    auto get = params<CUpti_Profiler_Host_GetConfigImage_Params>(CUpti_Profiler_Host_GetConfigImage_Params_STRUCT_SIZE);
    get.pHostObject = m_hostObject;
    get.configImageSize = m_configImage.size();
    get.pConfigImage = m_configImage.data();
    if ((rc = cuptiProfilerHostGetConfigImage(&get)) != CUPTI_SUCCESS) {
        releaseHostObject();
        counterCallFailed(rc, "configure the counters");
        return false;
    }
    auto np = params<CUpti_Profiler_Host_GetNumOfPasses_Params>(CUpti_Profiler_Host_GetNumOfPasses_Params_STRUCT_SIZE);
    np.configImageSize = m_configImage.size();
    np.pConfigImage = m_configImage.data();
    passes = cuptiProfilerHostGetNumOfPasses(&np) == CUPTI_SUCCESS ? np.numOfPasses : 0; // 0: unknown
    return true;
}

void CuptiBackend::releaseHostObject() noexcept
{
    if (!m_hostObject) return;
    auto hd = params<CUpti_Profiler_Host_Deinitialize_Params>(CUpti_Profiler_Host_Deinitialize_Params_STRUCT_SIZE);
    hd.pHostObject = m_hostObject;
    cuptiProfilerHostDeinitialize(&hd);
    m_hostObject = nullptr;
}

ContextCounters* CuptiBackend::countersFor(CUcontext ctx)
{
    auto it = m_contexts.find(ctx);
    if (it != m_contexts.end()) return &it->second;
    std::uint32_t device = 0;
    CUptiResult rc = cuptiGetDeviceId(ctx, &device);
    if (rc != CUPTI_SUCCESS) {
        counterCallFailed(rc, "find the device of a CUDA context");
        return nullptr;
    }
    if (!m_hostReady && !setUpHost(ctx, device)) return nullptr;
    auto en = params<CUpti_RangeProfiler_Enable_Params>(CUpti_RangeProfiler_Enable_Params_STRUCT_SIZE);
    en.ctx = ctx;
    rc = cuptiRangeProfilerEnable(&en);
    if (rc != CUPTI_SUCCESS) {
        counterCallFailed(rc, "enable the range profiler");
        return nullptr;
    }
    ContextCounters c;
    c.ctx = ctx;
    c.object = en.pRangeProfilerObject;
    auto ds = params<CUpti_RangeProfiler_GetCounterDataSize_Params>(
        CUpti_RangeProfiler_GetCounterDataSize_Params_STRUCT_SIZE);
    ds.pRangeProfilerObject = c.object;
    ds.pMetricNames = m_metrics.data();
    ds.numMetrics = m_metrics.size();
    ds.maxNumOfRanges = kMaxRanges;
    ds.maxNumRangeTreeNodes = kMaxRanges;
    rc = cuptiRangeProfilerGetCounterDataSize(&ds);
    if (rc == CUPTI_SUCCESS) {
        c.counterData.resize(ds.counterDataSize);
        auto ci = params<CUpti_RangeProfiler_CounterDataImage_Initialize_Params>(
            CUpti_RangeProfiler_CounterDataImage_Initialize_Params_STRUCT_SIZE);
        ci.pRangeProfilerObject = c.object;
        ci.counterDataSize = c.counterData.size();
        ci.pCounterData = c.counterData.data();
        rc = cuptiRangeProfilerCounterDataImageInitialize(&ci);
    }
    if (rc != CUPTI_SUCCESS) {
        counterCallFailed(rc, "prepare the counter data");
        return nullptr;
    }
    // Configured once per context, as NVIDIA's samples do: later batches re-initialize the counter data image
    // (same buffer) and only Start again. The context's entry keeps the buffer at its address.
    ContextCounters& stored = m_contexts.emplace(ctx, std::move(c)).first->second;
    auto sc = params<CUpti_RangeProfiler_SetConfig_Params>(CUpti_RangeProfiler_SetConfig_Params_STRUCT_SIZE);
    sc.pRangeProfilerObject = stored.object;
    sc.configSize = m_configImage.size();
    sc.pConfig = m_configImage.data();
    sc.counterDataImageSize = stored.counterData.size();
    sc.pCounterDataImage = stored.counterData.data();
    sc.range = CUPTI_AutoRange;
    sc.replayMode = CUPTI_KernelReplay;
    sc.maxRangesPerPass = kMaxRanges;
    sc.numNestingLevels = 1;
    sc.minNestingLevel = 1;
    sc.passIndex = 0;
    sc.targetNestingLevel = 1;
    rc = cuptiRangeProfilerSetConfig(&sc);
    if (rc != CUPTI_SUCCESS) {
        counterCallFailed(rc, "configure the range profiler");
        return nullptr;
    }
    return &stored;
}

void CuptiBackend::countersAlias(std::uint32_t runtimeId, std::uint32_t driverId) noexcept
{
    // Not in its batch's ids: a failed driver call fails the runtime call around it, whose id is there. Not under
    // m_countersMutex: another thread's launch may hold it while it waits for this launch to return (two threads
    // launching in turn had every measured launch dropped on the H200).
    try {
        m_match.alias(runtimeId, driverId);
    } catch (...) { }
}

void CuptiBackend::countersCapture(Capture what, const CUpti_CallbackData* cb) noexcept
{
    try {
        // Every begin and end capture call's parameters start with the stream (static_asserts at captureStream).
        void* stream = captureStream(cb);
        auto update = [&](bool add) {
            std::lock_guard lock(m_captureMutex);
            auto it = std::find(m_captureStreams.begin(), m_captureStreams.end(), stream);
            if (add && it == m_captureStreams.end())
                m_captureStreams.push_back(stream);
            else if (!add && it != m_captureStreams.end())
                m_captureStreams.erase(it);
            m_capturing.store(static_cast<int>(m_captureStreams.size()));
        };
        if (cb->callbackSite == CUPTI_API_ENTER) {
            if (t_captureCalls++ > 0 || what != Capture::Begin) return;
            // Counted first, then the started batch stopped under the lock every batch start reads the count
            // under: no batch starts after this, and none started before survives. The capture begins after this
            // callback, so Stop and decode are still allowed here.
            update(true);
            std::lock_guard lock(m_countersMutex);
            stopActive();
            return;
        }
        if (t_captureCalls == 0 || --t_captureCalls > 0) return;
        if (what == Capture::Begin) {
            if (failed(cb)) update(false); // no capture began
            return;
        }
        // An end from a thread the capture does not belong to fails and leaves it running; any other end, an
        // invalidated capture's too, ends it. An end for a stream not capturing changes nothing.
        constexpr int kWrongThread = 908; // cudaErrorStreamCaptureWrongThread, CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD
        const int rc = cb->functionReturnValue ? *static_cast<const int*>(cb->functionReturnValue) : 0;
        if (rc != kWrongThread) update(false);
    } catch (...) { }
}

void CuptiBackend::releaseLost(const std::vector<ContextCounters::Launch>& launches)
{
    std::vector<std::uint32_t> ids;
    for (const auto& l : launches) {
        ids.insert(ids.end(), l.ids.begin(), l.ids.end());
        // Its measurement did not count: a later launch of the kernel takes its place, up to K more per kernel
        // (a program where measurements keep failing must not be replayed throughout).
        auto n = m_launchCounts.find(l.name);
        int& retried = m_retries[l.name];
        if (n != m_launchCounts.end() && n->second > 0 && retried < m_settings.counterLaunches) {
            --n->second;
            ++retried;
        }
    }
    std::vector<backend::KernelRecord> released = m_match.lost(ids);
    if (!released.empty()) m_host->addKernels(std::move(released));
}

void CuptiBackend::countersLaunchFailed(std::uint32_t correlation) noexcept
{
    // Not under m_countersMutex: this call has not counted as returned yet, and a thread holding that lock may be
    // waiting for it. Its batch's decode takes it out (stopAndDecode).
    try {
        if (!m_match.isMeasured(correlation)) return;
        std::lock_guard lock(m_failedMutex);
        m_failed.push_back(correlation);
    } catch (...) { }
}

void CuptiBackend::countersPause() noexcept
{
    try {
        // No batch is started during a capture (countersCapture stopped it), and Stop would invalidate the capture.
        if (m_capturing.load() > 0) {
            enterFlight(); // its work may still be going in when the capture ends
            return;
        }
        // The driver call inside a runtime graph launch: its outer call stopped the batch, and none starts while
        // it is in flight.
        if (t_calls.flight) return;
        std::lock_guard lock(m_countersMutex);
        stopActive();
        enterFlight();
    } catch (...) { }
}

bool CuptiBackend::countersOnLaunch(CUcontext ctx, const char* symbol, std::uint32_t correlation) noexcept
{
    try {
        std::lock_guard lock(m_countersMutex);
        if (!m_counters) return true;
        // A captured launch runs no kernel (its graph's launch does), and any Range Profiler call now would
        // invalidate the capture: neither measured nor counted.
        if (m_capturing.load() > 0) {
            enterFlight(); // a launch on another stream may still be submitting when the capture ends
            return true;
        }
        const std::string name = symbol ? symbol : "";
        bool measure = std::none_of(m_noReplay.begin(), m_noReplay.end(),
            [&](const std::string& p) { return name.find(p) != std::string::npos; });
        if (measure) {
            int& n = m_launchCounts[name];
            measure = m_settings.counterLaunches <= 0 || n < m_settings.counterLaunches;
            if (measure) ++n;
        }
        // One context profiles at a time (NVIDIA's injection sample does the same).
        if (m_activeContext && m_activeContext != ctx) {
            stopActive();
            m_activeContext = nullptr;
        }
        if (!measure) {
            auto it = m_contexts.find(ctx);
            if (it != m_contexts.end()) stopAndDecode(it->second);
            enterFlight();
            return true;
        }
        ContextCounters* c = countersFor(ctx);
        if (!c) return true;
        if (c->started && c->pending.size() >= kMaxRanges) stopAndDecode(*c);
        if (c->started && !c->pending.empty() && c->lastThread != std::this_thread::get_id()) stopAndDecode(*c);
        if (!c->started && !othersReturned()) {
            // Another thread's call still busy (a launch blocked on a full queue, a synchronous copy): not measured
            // now, and not counted against the kernel's K.
            --m_launchCounts[name];
            m_notStarted.fetch_add(1);
            enterFlight();
            return true;
        }
        if (!c->started) {
            auto st = params<CUpti_RangeProfiler_Start_Params>(CUpti_RangeProfiler_Start_Params_STRUCT_SIZE);
            st.pRangeProfilerObject = c->object;
            const CUptiResult rc = cuptiRangeProfilerStart(&st);
            if (rc != CUPTI_SUCCESS) {
                counterCallFailed(rc, "start the range profiler");
                return true;
            }
            c->started = true;
            m_activeContext = ctx;
        }
        // A driver launch counted on its own may still be inside a runtime call (its context was unknown there).
        const std::uint32_t outer = t_runtimeCorrelation != correlation ? t_runtimeCorrelation : 0;
        c->pending.push_back({ name, { correlation } });
        c->lastThread = std::this_thread::get_id();
        if (outer) c->pending.back().ids.push_back(outer);
        m_match.measured(correlation, outer);
        c->unreturned->fetch_add(1, std::memory_order_relaxed);
        t_calls.batch = c->unreturned;
        enterFlight();
    } catch (...) { }
    return true;
}

bool CuptiBackend::othersReturned() noexcept
{
    const int mine = t_calls.flight ? 1 : 0;
    auto returned = [&] { return m_inFlight.load(std::memory_order_acquire) <= mine; };
    const auto now = std::chrono::steady_clock::now();
    if (now < m_othersBusyUntil) return returned();
    if (waitForReturns(returned, kWaitForOthers)) return true;
    m_othersBusyUntil = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    return false;
}

void CuptiBackend::stopAndDecode(ContextCounters& c)
{
    if (!c.started) return;
    c.started = false;
    // Before Stop: a measured launch of this batch whose call has not returned yet may submit its kernel after
    // Stop (its range missing, another batch's late one possibly in its place). 0 here: all were submitted. A
    // launch of another thread is usually about to return: wait for it a little (bounded: its return needs no lock
    // held here, but the driver's state is unknown) rather than drop the batch.
    const bool unsafe = !waitForReturns([&] { return c.unreturned->load(std::memory_order_acquire) == 0; });
    c.unreturned = std::make_shared<std::atomic<int>>(0); // the next batch's (late returns count down the old one)
    // Launches of this batch that failed ran no kernel and get no range: out of it (a failed launch reports before
    // it counts as returned, so the wait above saw its report). Others stay for their own batch's decode.
    std::vector<ContextCounters::Launch> failedLaunches;
    {
        std::lock_guard lock(m_failedMutex);
        for (auto f = m_failed.begin(); f != m_failed.end();) {
            auto p = std::find_if(c.pending.begin(), c.pending.end(), [&](const ContextCounters::Launch& l) {
                return std::find(l.ids.begin(), l.ids.end(), *f) != l.ids.end();
            });
            if (p == c.pending.end()) {
                ++f;
                continue;
            }
            failedLaunches.push_back(std::move(*p));
            c.pending.erase(p);
            f = m_failed.erase(f);
        }
    }
    auto sp = params<CUpti_RangeProfiler_Stop_Params>(CUpti_RangeProfiler_Stop_Params_STRUCT_SIZE);
    sp.pRangeProfilerObject = c.object;
    CUptiResult rc = cuptiRangeProfilerStop(&sp);
    auto dd = params<CUpti_RangeProfiler_DecodeData_Params>(CUpti_RangeProfiler_DecodeData_Params_STRUCT_SIZE);
    dd.pRangeProfilerObject = c.object;
    if (rc == CUPTI_SUCCESS) rc = cuptiRangeProfilerDecodeData(&dd);
    std::vector<std::pair<std::uint32_t, CounterMatcher::Values>> decoded;
    std::vector<ContextCounters::Launch> lost; ///< launches whose values will not come
    auto info = params<CUpti_RangeProfiler_GetCounterDataInfo_Params>(
        CUpti_RangeProfiler_GetCounterDataInfo_Params_STRUCT_SIZE);
    info.pCounterDataImage = c.counterData.data();
    info.counterDataImageSize = c.counterData.size();
    if (rc == CUPTI_SUCCESS) rc = cuptiRangeProfilerGetCounterDataInfo(&info);
    const std::string measured
        = std::to_string(c.pending.size()) + (c.pending.size() == 1 ? " measured launch" : " measured launches");
    if (rc != CUPTI_SUCCESS) {
        note("counter values of " + measured + " lost: " + resultText(rc));
        lost = c.pending;
    } else if (unsafe && !c.pending.empty()) {
        m_droppedLaunches.fetch_add(c.pending.size()); // said once, in stop()
        m_droppedBatches.fetch_add(1);
        lost = c.pending;
    } else {
        if (dd.numOfRangeDropped > 0)
            note("the range profiler dropped " + std::to_string(dd.numOfRangeDropped) + " ranges");
        // Auto-range ranges are in execution order, which is launch order under auto range (serialized). A kernel
        // launched another way while the profiler ran (not a launch callback we count) adds a range: range i is
        // then not launch i, and values put on the wrong kernel are worse than none.
        const std::size_t n = info.numTotalRanges == c.pending.size() ? c.pending.size() : 0;
        if (info.numTotalRanges != c.pending.size()) {
            note("the range profiler returned " + std::to_string(info.numTotalRanges) + " ranges for " + measured
                + "; their counter values are dropped (ranges cannot be matched to launches)");
            lost = c.pending;
        }
        std::vector<double> values(m_metrics.size());
        for (std::size_t i = 0; i < n; ++i) {
            auto ev = params<CUpti_Profiler_Host_EvaluateToGpuValues_Params>(
                CUpti_Profiler_Host_EvaluateToGpuValues_Params_STRUCT_SIZE);
            ev.pHostObject = m_hostObject;
            ev.pCounterDataImage = c.counterData.data();
            ev.counterDataImageSize = c.counterData.size();
            ev.rangeIndex = i;
            ev.ppMetricNames = m_metrics.data();
            ev.numMetrics = m_metrics.size();
            ev.pMetricValues = values.data();
            if (cuptiProfilerHostEvaluateToGpuValues(&ev) != CUPTI_SUCCESS) {
                lost.push_back(c.pending[i]);
                continue;
            }
            std::vector<backend::MetricValue> mv;
            for (std::size_t m = 0; m < m_metrics.size(); ++m)
                mv.push_back({ m_metrics[m], values[m], m_units[m] });
            decoded.emplace_back(c.pending[i].ids.front(), std::move(mv));
        }
    }
    c.pending.clear();
    auto ci = params<CUpti_RangeProfiler_CounterDataImage_Initialize_Params>(
        CUpti_RangeProfiler_CounterDataImage_Initialize_Params_STRUCT_SIZE);
    ci.pRangeProfilerObject = c.object;
    ci.counterDataSize = c.counterData.size();
    ci.pCounterData = c.counterData.data();
    cuptiRangeProfilerCounterDataImageInitialize(&ci);
    // Their records, held for values that will not come, go out without counters now rather than at exit.
    if (!lost.empty()) releaseLost(lost);
    if (!failedLaunches.empty()) releaseLost(failedLaunches);
    {
        // Failures of launches no batch holds any more (their values already lost) are forgotten.
        std::lock_guard lock(m_failedMutex);
        m_failed.erase(
            std::remove_if(m_failed.begin(), m_failed.end(), [&](std::uint32_t id) { return !m_match.isMeasured(id); }),
            m_failed.end());
    }
    // Kernels whose records came before their values.
    std::vector<backend::KernelRecord> ready = m_match.decoded(std::move(decoded));
    if (!ready.empty()) m_host->addKernels(std::move(ready));
}

} // namespace

} // namespace rooftime::cupti

extern "C" __attribute__((visibility("default"))) rooftime::collector::backend::Backend* rooftime_backend_create(
    int abiVersion, rooftime::collector::backend::Host* host)
{
    try {
        if (abiVersion != rooftime::collector::backend::kAbiVersion || !host) return nullptr;
        // One per process: a forked child that initializes CUDA again gets its own (the parent's is inert there).
        static rooftime::cupti::CuptiBackend* backend = nullptr;
        if (!backend || backend->pid() != ::getpid()) backend = new rooftime::cupti::CuptiBackend(host);
        return backend;
    } catch (...) {
        return nullptr;
    }
}
