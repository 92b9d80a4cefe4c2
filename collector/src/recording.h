// SPDX-License-Identifier: MIT
/**
 * @file recording.h
 * @brief The one recording of a process: threads' buffers, the writer thread, fork/exec/exit handling.
 */
#pragma once

#include "backend.h"
#include "event_buffer.h"
#include "output_name.h"
#include "owned_fd.h"
#include "profile_writer.h"
#include "rooftime/schema.h"
#include "string_table.h"

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace rooftime::collector {

struct Settings {
    std::string outputPattern = kDefaultOutputPattern;
    std::string mode = "time";
    std::string machine; ///< machine file to embed in each profile (set by `rooftime record`)
    std::string manifest; ///< file to which each process appends the path of its profile (set by `rooftime record`)
    int commitMs = 250; ///< at most this long between commits (bounded to 10..500)
    int exitTimeoutMs = 10000; ///< longest wait for the final flush at exit
    std::int64_t maxBufferBytes = 256ll << 20;
    int counterLaunches = 3; ///< counters mode: launches measured per kernel signature (<= 0: all)
    std::string counterSet = "tier1"; ///< counters mode: ROOFTIME_COUNTER_SET, `tier1`, `tier2` or `peaks`
    bool disabled = false;
    bool stacks = false; ///< capture the host call stack at each region begin (ROOFTIME_STACKS=1)

    static Settings fromEnvironment();
};

struct OpenRegion {
    const char* key; ///< the caller's pointer, for a fast name check at end
    std::uint32_t name;
    std::uint32_t domain;
    schema::RegionKind kind;
    std::int64_t start;
    std::uint64_t seq;
    std::uint64_t parent;
    double flops;
    double bytes;
    bool hasWork;
    std::uint32_t stack; ///< frame of the call that opened it (0: none)
};

/// A frame of a thread's call-stack tree: the caller's frame and the return address.
struct FrameKey {
    std::uint32_t parent;
    std::uintptr_t ip;
    bool operator==(const FrameKey&) const = default;
};
struct FrameKeyHash {
    size_t operator()(const FrameKey& k) const noexcept { return std::hash<std::uintptr_t>()(k.ip * 31 + k.parent); }
};

struct ThreadState {
    explicit ThreadState(ChunkBudget& budget)
        : producer(budget)
        , consumer(budget)
    { }
    // Producer side: only the owning thread.
    EventProducer producer;
    NameCache names;
    std::vector<OpenRegion> stack;
    std::uint64_t nextSeq = 1;
    /// Call stacks seen on this thread as a tree (heaptrack's trace tree): each new node is written once.
    std::unordered_map<FrameKey, std::uint32_t, FrameKeyHash> frames;
    std::uint32_t nextFrame = 1;
    // Fixed at registration.
    std::uint32_t index = 0;
    long tid = 0;
    std::string threadName;
    std::int64_t firstNs = 0;
    // Consumer side: only the writer thread.
    EventConsumer consumer;
    bool announced = false;
    // Set by the owning thread when it exits; the writer then frees the state once drained.
    std::atomic<bool> exited { false };
};

class Recording {
public:
    /// The process's recording, created on first use and never destroyed (it must outlive every exit path).
    static Recording& instance() noexcept;

    // Entry points, all noexcept; they do nothing once the recording is off.
    void begin(const char* name, schema::RegionKind kind, std::uint32_t domain = 0) noexcept;
    void end(const char* name) noexcept;
    /// Closes the innermost NVTX push range of the domain (0: the default domain).
    void popNvtx(std::uint32_t domain) noexcept;
    std::uint64_t startRange(const char* name, std::uint32_t domain) noexcept;
    void endRange(std::uint64_t id) noexcept;
    void addWork(double flops, double bytes) noexcept;
    void setParam(const char* key, double value) noexcept;
    /// Interns text; {0, nullptr} when out of memory. The text lives as long as the process.
    StringTable::Interned intern(const char* text) noexcept;

    /// Process exit (library destructor): close this thread's open regions, final flush, single file.
    void finish(const char* reason) noexcept;
    /// From a fatal signal handler: ask the writer for a final flush and wait a bounded time. No allocation.
    void finishFromSignal(int sig) noexcept;
    /// Before exec: flush everything and leave a complete file; after a failed exec recording goes on.
    void beforeExec() noexcept;
    /// The exec after beforeExec() failed: the process goes on, so its file is open again.
    void afterFailedExec() noexcept;

    void addDiagnostic(const std::string& component, const std::string& message) noexcept;

    // GPU backends (backends.cpp).
    /// InitializeInjection: loads librooftime_cupti.so from the collector's folder and starts it.
    bool startCudaBackend() noexcept;
    /// At exit (on_exit, with the program's exit @p status), before finish(): ends the backend's counters on the
    /// exiting thread under a watchdog, then hands its last records over, within the exit time limit.
    void stopBackends(int status) noexcept;
    /// At exit: a CUDA program in which the driver never called InitializeInjection gets one line saying why.
    void checkCudaAtExit() noexcept;
    bool cudaInjected() const noexcept { return m_cudaInjected.load(); }
    /// The calling thread's index and innermost open region (for kernel launches).
    backend::LaunchContext launchContext() noexcept;
    void queueKernels(std::vector<backend::KernelRecord>&& kernels) noexcept;
    void queueMemoryOps(std::vector<backend::MemoryRecord>&& ops) noexcept;
    void queueDevice(const backend::DeviceRecord& device) noexcept;
    void setCountersStatus(const std::string& status) noexcept;
    /// The CUDA backend cannot be used at all (@p why: its one line): in counters mode the profile says so.
    void gpuBackendUnusable(const std::string& why) noexcept;
    const Settings& settings() const { return m_settings; }
    bool isActive() noexcept;

    // fork handlers (pthread_atfork)
    void forkPrepare() noexcept;
    void forkParent() noexcept;
    void forkChild() noexcept;

private:
    Recording();
    enum State : int { Idle = 0, Starting = 1, Running = 2, Off = 3, Stopped = 4 };

    ThreadState* thread() noexcept;
    ThreadState* registerThread() noexcept;
    static void onThreadExit(void* state) noexcept;
    void closeRegion(ThreadState& ts, size_t index, std::int64_t endNs, std::int32_t flags) noexcept;
    void closeAll(ThreadState& ts, std::int32_t flags) noexcept;
    bool startWriter() noexcept;
    static void* writerEntry(void* self) noexcept;
    void writerMain();
    bool openProfile();
    /// The profile's and the wake pipe's descriptors still refer to their files. Otherwise the program closed
    /// them and reused the numbers: says so once, forgets the profile without touching it, and returns false.
    bool ownDescriptorsIntact();
    void embedMachine(ProfileWriter& writer);
    static constexpr std::size_t kMaxMachineBytes = 64u << 20;
    /// Stores what the threads buffered. @p mayYield: a waiting fork may cut a live thread's backlog short.
    void drainAll(bool mayYield = false);
    /// Commits when the last commit is older than the interval; false when the writer failed.
    bool commitIfDue();
    void finalize(const std::string& reason, bool complete);
    void wake() noexcept;
    bool waitFor(const std::atomic<std::uint64_t>& counter, std::uint64_t target, int timeoutMs) noexcept;
    void readProcessInfo();
    NamingContext namingContext() const;
    void writeNewStrings();
    void writeGpuRecords();

    Settings m_settings;
    ProcessInfo m_process;
    std::atomic<int> m_state { Idle };
    ChunkBudget m_budget;
    StringTable m_strings;

    std::mutex m_registryMutex;
    std::vector<ThreadState*> m_threads;
    std::atomic<std::uint32_t> m_nextThreadIndex { 1 };

    std::mutex m_diagMutex;
    std::vector<std::pair<std::string, std::string>> m_pendingDiagnostics;

    std::mutex m_rangeMutex;
    struct StartedRange {
        std::uint64_t id;
        std::uint32_t name;
        std::uint32_t domain;
        std::uint32_t thread;
        std::int64_t start;
    };
    std::vector<StartedRange> m_ranges;
    std::uint64_t m_nextRangeId = 1;

    // GPU records from backends, written by the writer thread.
    std::mutex m_gpuMutex;
    std::vector<backend::KernelRecord> m_pendingKernels;
    std::vector<backend::MemoryRecord> m_pendingMemoryOps;
    std::vector<backend::DeviceRecord> m_pendingDevices;
    std::string m_countersStatus;
    bool m_countersStatusChanged = false;
    std::int64_t m_nextKernelId = 1;
    std::atomic<backend::Backend*> m_gpuBackend { nullptr }; ///< read by the writer thread (periodic GPU flush)
    std::int64_t m_lastGpuFlushNs = 0; ///< writer thread only
    std::atomic<bool> m_cudaInjected { false };

    // Writer thread state.
    std::mutex m_writerMutex; ///< held by the writer while it works; fork waits for it
    ProfileWriter* m_writer = nullptr;
    int m_wakePipe[2] = { -1, -1 };
    OwnedFd m_wakeFds[2]; ///< the pipe's ends as created: written, read and closed only while intact
    std::string m_profilePath;
    std::vector<OwnedFd> m_profileFds; ///< SQLite's descriptors on the profile and its side files
    int m_profileFdScans = 0;
    std::int64_t m_lastThreadCheckNs = 0; ///< writer thread: when it last looked for the program's threads ///< rescans
                                          ///< after commits, until SQLite has opened its -wal and -shm
    std::uint32_t m_stringsWritten = 0;
    std::int64_t m_lastCommitNs = 0;
    bool m_writerFailed = false;
    std::uint64_t m_moduleGeneration = UINT64_MAX; ///< of the module map last written
    std::uint32_t internStack(ThreadState& ts) noexcept;
    void writeModules();
    std::uint64_t m_droppedReported = 0;
    std::atomic<std::uint64_t> m_flushRequested { 0 };
    std::atomic<std::uint64_t> m_flushDone { 0 };
    std::atomic<std::uint64_t> m_stopRequested { 0 };
    std::atomic<std::uint64_t> m_stopDone { 0 };
    std::atomic<int> m_endSignal { 0 };
    std::atomic<bool> m_reopen { false };
    const char* m_endReason = "exit";
    std::atomic<int> m_forkWaiting { 0 }; ///< forks waiting for m_writerMutex: the writer lets go sooner
};

} // namespace rooftime::collector
