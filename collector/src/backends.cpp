// SPDX-License-Identifier: MIT
// Backends: loading plugins from the collector's own folder, the Host they talk to, and their records on the
// writer thread.
#include "clock.h"
#include "cuda_detect.h"
#include "detached_thread.h"
#include "log.h"
#include "recording.h"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <dlfcn.h>
#include <mutex>
#include <pthread.h>
#include <set>
#include <unistd.h>

namespace rooftime::collector {

namespace {

class RecordingHost final : public backend::Host {
public:
    explicit RecordingHost(std::string component)
        : m_component(std::move(component))
    { }

    void addKernels(std::vector<backend::KernelRecord>&& kernels) noexcept override
    {
        Recording::instance().queueKernels(std::move(kernels));
    }
    void addMemoryOps(std::vector<backend::MemoryRecord>&& ops) noexcept override
    {
        Recording::instance().queueMemoryOps(std::move(ops));
    }
    void addDevice(const backend::DeviceRecord& device) noexcept override { Recording::instance().queueDevice(device); }
    void report(const char* key, const std::string& message, bool print) noexcept override
    {
        try {
            bool first = false;
            {
                std::lock_guard lock(m_mutex);
                first = m_seen.insert(key ? key : "").second;
            }
            if (!first && print) return;
            if (print) {
                printLine(message);
                std::lock_guard lock(m_mutex);
                m_lastPrinted = message;
            }
            Recording::instance().addDiagnostic(m_component, message);
        } catch (...) { }
    }
    void setCountersStatus(const std::string& status) noexcept override
    {
        Recording::instance().setCountersStatus(status);
    }
    backend::LaunchContext launchContext() noexcept override { return Recording::instance().launchContext(); }
    std::int64_t nowNs() noexcept override { return collector::nowNs(); }
    std::string lastPrinted()
    {
        std::lock_guard lock(m_mutex);
        return m_lastPrinted;
    }

private:
    std::string m_component;
    std::mutex m_mutex;
    std::set<std::string> m_seen;
    std::string m_lastPrinted; ///< the backend's last line on stderr (why it stopped, when it did)
};

/// The folder of librooftime_collector.so, from the address of one of its functions.
std::string collectorFolder()
{
    Dl_info info {};
    if (dladdr(reinterpret_cast<void*>(&collectorFolder), &info) == 0 || !info.dli_fname) return {};
    std::string path = info.dli_fname;
    const std::size_t slash = path.rfind('/');
    return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

/// Runs fn on a helper thread (all signals blocked) and waits at most timeoutMs: a flush that hangs in a vendor
/// library at exit must not hang the program. False when it did not finish in time.
bool runWithTimeout(void (*fn)(void*), void* arg, int timeoutMs) noexcept
{
    struct Job {
        void (*fn)(void*);
        void* arg;
        std::atomic<bool> done { false };
    };
    // Leaked when the helper outlives the wait: it may still touch the job.
    auto* job = new (std::nothrow) Job { fn, arg };
    if (!job) return false;
    const int rc = startDetachedThread(
        [](void* p) -> void* {
            auto* j = static_cast<Job*>(p);
            j->fn(j->arg);
            j->done.store(true, std::memory_order_release);
            return nullptr;
        },
        job);
    if (rc != 0) {
        fn(arg);
        delete job;
        return true;
    }
    for (int waited = 0; waited < timeoutMs; waited += 2) {
        if (job->done.load(std::memory_order_acquire)) {
            delete job;
            return true;
        }
        timespec ts { 0, 2'000'000L };
        nanosleep(&ts, nullptr);
    }
    return false;
}

} // namespace

bool Recording::startCudaBackend() noexcept
{
    try {
        if (m_settings.disabled || m_cudaInjected.exchange(true)) return true;
        // ROOFTIME_PLUGIN_DIR: another folder for the backends (tests load a stand-in from there).
        const char* dir = std::getenv("ROOFTIME_PLUGIN_DIR");
        const std::string path = (dir && *dir ? std::string(dir) : collectorFolder()) + "/librooftime_cupti.so";
        void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!handle) {
            const char* why = ::dlerror();
            const std::string msg = "cannot load the CUPTI backend '" + path + "' (" + (why ? why : "unknown error")
                + "); continuing without GPU kernels";
            printLine(msg);
            addDiagnostic("collector", msg);
            gpuBackendUnusable("no CUPTI backend");
            return false;
        }
        auto create = reinterpret_cast<backend::CreateFn>(::dlsym(handle, backend::kCreateSymbol));
        static RecordingHost host("cupti");
        backend::Backend* b = create ? create(backend::kAbiVersion, &host) : nullptr;
        if (!b) {
            const std::string msg = "the CUPTI backend '" + path
                + "' does not match this collector (rebuild both); continuing without GPU kernels";
            printLine(msg);
            addDiagnostic("collector", msg);
            gpuBackendUnusable("the CUPTI backend does not match this collector");
            return false;
        }
        if (!b->available()) { // the backend said why
            gpuBackendUnusable(host.lastPrinted());
            return false;
        }
        backend::Settings s;
        s.mode = m_settings.mode;
        s.counterLaunches = m_settings.counterLaunches;
        s.counterSet = m_settings.counterSet;
        s.exitTimeoutMs = m_settings.exitTimeoutMs;
        if (!b->start(s)) {
            gpuBackendUnusable(host.lastPrinted());
            return false;
        }
        m_gpuBackend.store(b);
        return true;
    } catch (...) {
        return false;
    }
}

void Recording::gpuBackendUnusable(const std::string& why) noexcept
{
    try {
        if (m_settings.mode != "counters") return; // time mode keeps `off` (docs/format.md)
        std::string reason = why.empty() ? std::string("CUPTI could not be used") : why;
        const std::size_t tail = reason.find("; continuing without");
        if (tail != std::string::npos) reason.resize(tail);
        setCountersStatus("unavailable: " + reason);
    } catch (...) { }
}

namespace {

/// The backend's stop (last records) on a helper thread, within the exit time limit; false when it did not finish.
bool stopWithin(backend::Backend* b, int timeoutMs) noexcept
{
    if (runWithTimeout([](void* p) { static_cast<backend::Backend*>(p)->stop(); }, b, timeoutMs)) return true;
    const std::string msg = "the CUPTI flush at exit did not finish within " + std::to_string(timeoutMs)
        + " ms; the profile lacks the last GPU records";
    printLine(msg);
    Recording::instance().addDiagnostic("collector", msg);
    return false;
}

/// Watches beforeExit(), which must run on the exiting thread (the Range Profiler is ended where its context is
/// current): a CUPTI call there that never returns would hang the program at its exit. Past the time limit the
/// watchdog keeps what it can (the last records, the profile), flushes stdio and ends the process with the
/// status the program exited with.
struct ExitWatch {
    enum State { Watching, Returned, Fired };
    backend::Backend* backend;
    int status;
    int timeoutMs;
    /// Exactly one side leaves Watching: the exiting thread (beforeExit returned; the watchdog frees this) or the
    /// watchdog (it ends the process; the exiting thread then waits for that).
    std::atomic<int> state { Watching };
};

void* watchExit(void* arg)
{
    auto* w = static_cast<ExitWatch*>(arg);
    for (int waited = 0; waited < w->timeoutMs && w->state.load(std::memory_order_acquire) == ExitWatch::Watching;
         waited += 10) {
        timespec ts { 0, 10'000'000L };
        nanosleep(&ts, nullptr);
    }
    int watching = ExitWatch::Watching;
    if (!w->state.compare_exchange_strong(watching, ExitWatch::Fired)) { // returned in time
        delete w;
        return nullptr;
    }
    const std::string msg = "ending the CUPTI range profiler at exit did not finish within "
        + std::to_string(w->timeoutMs) + " ms (ROOFTIME_EXIT_TIMEOUT_MS); ending the process with its exit status "
        + std::to_string(w->status) + ", the profile keeps what was recorded";
    printLine(msg);
    Recording& r = Recording::instance();
    r.addDiagnostic("collector", msg);
    stopWithin(w->backend, std::min(w->timeoutMs, 5000));
    r.finish("exit");
    std::fflush(nullptr);
    ::_exit(w->status);
}

} // namespace

void Recording::stopBackends(int status) noexcept
{
    if (::getpid() != m_process.pid) return;
    backend::Backend* b = m_gpuBackend.exchange(nullptr);
    if (!b) return;
    auto* watch = new (std::nothrow) ExitWatch { b, status, m_settings.exitTimeoutMs };
    if (watch && startDetachedThread(&watchExit, watch) != 0) {
        delete watch;
        watch = nullptr;
    }
    b->beforeExit();
    int watching = ExitWatch::Watching;
    if (watch && !watch->state.compare_exchange_strong(watching, ExitWatch::Returned))
        for (;;) // the watchdog fired just now and ends the process: do not run stop() beside it
            pause();
    stopWithin(b, std::min(m_settings.exitTimeoutMs, 5000));
}

void Recording::checkCudaAtExit() noexcept
{
    try {
        if (::getpid() != m_process.pid || m_settings.disabled || m_cudaInjected.load()) return;
        if (!processLooksLikeCuda()) return;
        // Said only when sure: a program may load CUDA libraries and never initialize CUDA (--help, a PyTorch
        // script that stays on the CPU), which on a GPU machine is no problem.
        std::string msg;
        std::string status = "unavailable: no GPU";
        if (!cudaDriverLibraryExists())
            msg = "no GPU found: this machine has no CUDA driver (libcuda.so.1); continuing without GPU kernels";
        else if (::access("/dev/nvidiactl", F_OK) != 0)
            msg = "no GPU found: the CUDA driver is installed but there is no NVIDIA device (/dev/nvidiactl); "
                  "continuing without GPU kernels";
        else if (cudaInitialized()) {
            status = "unavailable: CUDA injection not loaded";
            // The driver ran in this process but never called InitializeInjection: the variable names another
            // tool's library (rooftime run under nsys/ncu, or such a tool under rooftime), or none.
            const char* injection = std::getenv("CUDA_INJECTION64_PATH");
            const std::string ours = collectorFolder();
            if (!injection || !*injection)
                msg = "CUDA ran without rooftime's injection (CUDA_INJECTION64_PATH is not set in this process); "
                      "no GPU kernels recorded";
            else if (!ours.empty() && std::string_view(injection).starts_with(ours + "/"))
                msg = std::string("CUDA ran but the driver never loaded rooftime's injection library (") + injection
                    + "); no GPU kernels recorded";
            else
                msg = std::string("CUDA ran with another tool's injection (CUDA_INJECTION64_PATH=") + injection
                    + "); no GPU kernels recorded by rooftime";
        } else
            return;
        printLine(msg);
        addDiagnostic("collector", msg);
        if (m_settings.mode == "counters") setCountersStatus(status); // time mode keeps `off` (docs/format.md)
    } catch (...) { }
}

backend::LaunchContext Recording::launchContext() noexcept
{
    backend::LaunchContext c;
    if (m_state.load(std::memory_order_relaxed) > Running) return c;
    ThreadState* ts = thread();
    if (!ts) return c;
    c.thread = ts->index;
    c.launchNs = nowNs(); // vDSO: places the launch among other threads' regions (docs/format.md, launch_ns)
    if (!ts->stack.empty()) c.region = ts->stack.back().seq;
    if (m_settings.stacks) c.stack = internStack(*ts);
    return c;
}

void Recording::queueKernels(std::vector<backend::KernelRecord>&& kernels) noexcept
{
    if (kernels.empty() || !isActive()) return;
    try {
        std::lock_guard lock(m_gpuMutex);
        if (m_pendingKernels.empty())
            m_pendingKernels = std::move(kernels);
        else
            for (auto& k : kernels)
                m_pendingKernels.push_back(std::move(k));
    } catch (...) { }
}

void Recording::queueMemoryOps(std::vector<backend::MemoryRecord>&& ops) noexcept
{
    if (ops.empty() || !isActive()) return;
    try {
        std::lock_guard lock(m_gpuMutex);
        m_pendingMemoryOps.insert(m_pendingMemoryOps.end(), ops.begin(), ops.end());
    } catch (...) { }
}

void Recording::queueDevice(const backend::DeviceRecord& device) noexcept
{
    if (!isActive()) return;
    try {
        std::lock_guard lock(m_gpuMutex);
        m_pendingDevices.push_back(device);
    } catch (...) { }
}

void Recording::setCountersStatus(const std::string& status) noexcept
{
    try {
        std::lock_guard lock(m_gpuMutex);
        m_countersStatus = status;
        m_countersStatusChanged = true;
    } catch (...) { }
}

void Recording::writeGpuRecords()
{
    std::vector<backend::KernelRecord> kernels;
    std::vector<backend::MemoryRecord> ops;
    std::vector<backend::DeviceRecord> devices;
    std::string status;
    {
        std::lock_guard lock(m_gpuMutex);
        kernels.swap(m_pendingKernels);
        ops.swap(m_pendingMemoryOps);
        devices.swap(m_pendingDevices);
        if (m_countersStatusChanged) status = m_countersStatus;
        m_countersStatusChanged = false;
    }
    for (const auto& d : devices)
        m_writer->addDevice(d);
    for (const auto& k : kernels) {
        const std::uint32_t name = m_strings.intern(k.name.empty() ? "(unnamed kernel)" : k.name.c_str()).id;
        const std::uint32_t mangled = k.mangled.empty() ? 0 : m_strings.intern(k.mangled.c_str()).id;
        const std::int64_t id = m_nextKernelId++;
        m_writer->addKernel(id, k, name, mangled);
        for (const auto& m : k.metrics)
            m_writer->addKernelMetric(id, m_strings.intern(m.name.c_str()).id, m.value, m.unit);
    }
    for (const auto& op : ops)
        m_writer->addMemoryOp(op);
    if (!status.empty()) m_writer->setMeta("counters", status);
}

} // namespace rooftime::collector
