// SPDX-License-Identifier: MIT
/**
 * @file backend.h
 * @brief The interface between the collector core and its backends (plugins/, loaded with dlopen).
 *
 * The size of kineto's IActivityProfiler: a name, availability, start/stop, flush, plain records, a diagnostic
 * sink. Backends translate vendor records (CUPTI, PAPI) into the plain structs below, so the collector core and
 * its tests never see a vendor type. Both sides are built by the same project with the same compiler; the
 * version number guards against a plugin left over from another build.
 */
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rooftime::collector::backend {

/// Bumped whenever anything in this header changes.
/// 2: call stacks (LaunchContext::stack, KernelRecord::stack); 3: Backend::beforeExit, Settings::counterSet,
/// LaunchContext::launchNs, KernelRecord::launchNs
inline constexpr int kAbiVersion = 3;

/// The symbol a plugin exports: `extern "C" Backend* rooftime_backend_create(int abiVersion, Host* host)`.
inline constexpr const char* kCreateSymbol = "rooftime_backend_create";

struct MetricValue {
    std::string name; ///< raw counter name, e.g. `dram__bytes_read.sum`
    double value = 0;
    std::string unit; ///< as the backend reports it (`byte`, `nsecond`, `inst`, ...)
};

/// One kernel execution (schema: table `kernel`, its counters in `kernel_metric`).
struct KernelRecord {
    std::string name; ///< demangled when demangling worked, else as reported
    std::string mangled; ///< empty when the name was not mangled
    std::uint32_t device = 0;
    std::uint32_t context = 0;
    std::uint32_t stream = 0;
    std::int32_t grid[3] = { 0, 0, 0 };
    std::int32_t block[3] = { 0, 0, 0 };
    std::int32_t registers = 0;
    std::int64_t sharedBytes = 0; ///< static + dynamic, per block
    std::int64_t startNs = 0; ///< on the collector's clock (Host::nowNs)
    std::int64_t endNs = 0;
    std::uint64_t correlation = 0;
    std::uint32_t thread = 0; ///< launching thread (the collector's thread index), 0 when unknown
    std::uint64_t region = 0; ///< innermost open region on that thread at launch (region.seq), 0 when none
    std::uint32_t stack = 0; ///< host call stack of the launch (frame.id on that thread), 0 when not recorded
    std::int64_t launchNs = 0; ///< when the launch call was made (Host::nowNs), 0 when unknown
    std::uint32_t graphId = 0; ///< the CUDA graph launched, 0 for a launch outside graphs
    std::uint64_t graphNodeId = 0; ///< its kernel node (unique across graphs), 0 outside graphs
    bool replayed = false; ///< counters were collected for this launch (metrics holds them)
    std::vector<MetricValue> metrics;
};

/// A copy or a fill on the device (schema: table `memop`).
struct MemoryRecord {
    enum class Kind : std::int32_t { Copy = 0, Set = 1 };
    Kind kind = Kind::Copy;
    std::int32_t copyKind = 0; ///< for copies: 1 HtoD, 2 DtoH, ... (CUpti_ActivityMemcpyKind numbering)
    std::uint64_t bytes = 0;
    std::uint32_t device = 0;
    std::uint32_t context = 0;
    std::uint32_t stream = 0;
    std::int64_t startNs = 0;
    std::int64_t endNs = 0;
    std::uint64_t correlation = 0;
    std::uint32_t thread = 0;
    std::uint64_t region = 0;
};

struct DeviceRecord {
    std::uint32_t id = 0;
    std::string name;
    std::string arch; ///< `sm_90`
    std::int32_t sms = 0;
};

/// Where the calling application thread is: filled by the collector, on that thread, cheaply.
struct LaunchContext {
    std::uint32_t thread = 0;
    std::uint64_t region = 0;
    std::uint32_t stack = 0; ///< with --call-stacks: the launching call stack (frame.id on that thread)
    std::int64_t launchNs = 0; ///< when the launch call was made (profile clock)
};

struct Settings {
    std::string mode; ///< `time` or `counters`
    int counterLaunches = 3; ///< counters mode: first K launches per kernel signature; <= 0: all
    std::string counterSet = "tier1"; ///< counters mode: `tier1`, `tier2` or `peaks` (plugins/cupti/metric_sets.h)
    int exitTimeoutMs = 10000;
};

/// What the collector offers a backend. Every call is noexcept and safe from any thread.
class Host {
public:
    virtual void addKernels(std::vector<KernelRecord>&& kernels) noexcept = 0;
    virtual void addMemoryOps(std::vector<MemoryRecord>&& ops) noexcept = 0;
    virtual void addDevice(const DeviceRecord& device) noexcept = 0;
    /// A problem: the first report of each key prints `rooftime: <message>` once; every report with print=false
    /// and every first report is also a row in the profile's diagnostic table (component = the backend's name).
    virtual void report(const char* key, const std::string& message, bool print) noexcept = 0;
    /// The profile's meta row `counters`: what collects counters, or why none are collected.
    virtual void setCountersStatus(const std::string& status) noexcept = 0;
    virtual LaunchContext launchContext() noexcept = 0;
    virtual std::int64_t nowNs() noexcept = 0;

protected:
    ~Host() = default;
};

class Backend {
public:
    virtual ~Backend() = default;
    virtual const char* name() const noexcept = 0;
    /// Whether the vendor library can be used here (loaded, right version); false says why through Host::report.
    virtual bool available() noexcept = 0;
    virtual bool start(const Settings& settings) noexcept = 0;
    /// Hands every complete record to the host. forced: also incomplete buffers (at exit).
    virtual void flush(bool forced) noexcept = 0;
    virtual void stop() noexcept = 0;
    /// At exit, on the exiting thread (which normally has the program's CUDA context current), before stop() runs
    /// on a helper thread under a time limit: work that must not run on a thread without the context, kept short.
    virtual void beforeExit() noexcept = 0;
    /// In a forked child: the parent's state is not ours; record nothing more in this process.
    virtual void forkChild() noexcept = 0;
};

using CreateFn = Backend* (*)(int abiVersion, Host* host);

} // namespace rooftime::collector::backend
