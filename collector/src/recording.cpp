// SPDX-License-Identifier: MIT
#include "recording.h"

#include "clock.h"
#include "cuda_detect.h"
#include "detached_thread.h"
#include "log.h"
#include "output_name.h"
#include "unwind.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace rooftime::collector {

namespace {

thread_local ThreadState* t_state = nullptr;
/// The forking thread holds the writer's lock across fork: prepare, parent and child run on it, and two
/// threads may fork at once.
thread_local bool t_forkLocked = false;
pthread_key_t g_exitKey;

std::string readFile(const char* path)
{
    std::string out;
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return out;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return out;
}

/// Whether a thread of this process other than the caller still runs (is neither a zombie nor gone). A main
/// thread that ended with pthread_exit stays listed as a zombie while other threads live.
bool otherThreadsRun()
{
    DIR* dir = ::opendir("/proc/self/task");
    if (!dir) return true;
    const auto self = static_cast<long>(::syscall(SYS_gettid));
    bool running = false;
    while (const dirent* e = ::readdir(dir)) {
        const long tid = std::strtol(e->d_name, nullptr, 10);
        if (tid <= 0 || tid == self) continue;
        const std::string stat = readFile(("/proc/self/task/" + std::to_string(tid) + "/stat").c_str());
        const auto close = stat.rfind(')');
        // Gone between the listing and the read: not running.
        if (close == std::string::npos || close + 2 >= stat.size()) continue;
        const char state = stat[close + 2];
        if (state != 'Z' && state != 'X') {
            running = true;
            break;
        }
    }
    ::closedir(dir);
    return running;
}

int envInt(const char* name, int fallback, int lo, int hi)
{
    const char* v = std::getenv(name);
    if (!v || !*v) return fallback;
    char* end = nullptr;
    long x = std::strtol(v, &end, 10);
    if (*end != '\0') return fallback;
    return static_cast<int>(x < lo ? lo : (x > hi ? hi : x));
}

void sleepMs(int ms) noexcept
{
    timespec ts { ms / 1000, (ms % 1000) * 1'000'000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) { }
}

} // namespace

Settings Settings::fromEnvironment()
{
    Settings s;
    if (const char* v = std::getenv("ROOFTIME_OUTPUT"); v && *v) s.outputPattern = v;
    if (const char* v = std::getenv("ROOFTIME_MODE"); v && *v) s.mode = v;
    if (const char* v = std::getenv("ROOFTIME_MANIFEST"); v && *v) s.manifest = v;
    if (const char* v = std::getenv("ROOFTIME_MACHINE"); v && *v) s.machine = v;
    if (const char* v = std::getenv("ROOFTIME_DISABLE"); v && *v && std::strcmp(v, "0") != 0) s.disabled = true;
    if (const char* v = std::getenv("ROOFTIME_STACKS"); v && *v && std::strcmp(v, "0") != 0) s.stacks = true;
    s.commitMs = envInt("ROOFTIME_COMMIT_MS", s.commitMs, 10, 500);
    s.exitTimeoutMs = envInt("ROOFTIME_EXIT_TIMEOUT_MS", s.exitTimeoutMs, 100, 600000);
    s.maxBufferBytes = static_cast<std::int64_t>(envInt("ROOFTIME_MAX_BUFFER_MB", 256, 1, 1 << 20)) << 20;
    s.counterLaunches = envInt("ROOFTIME_COUNTER_LAUNCHES", s.counterLaunches, 0, 1 << 30);
    // An unknown set is Tier 1; the CUPTI backend says so (rooftime record only passes known names).
    if (const char* v = std::getenv("ROOFTIME_COUNTER_SET"); v && *v) s.counterSet = v;
    return s;
}

Recording& Recording::instance() noexcept
{
    // Leaked on purpose: atexit handlers, library destructors and late threads may still record.
    static Recording* r = new Recording;
    return *r;
}

Recording::Recording()
{
    m_settings = Settings::fromEnvironment();
    m_budget.limit = std::max<std::int64_t>(4, m_settings.maxBufferBytes / static_cast<std::int64_t>(sizeof(Chunk)));
    if (m_settings.disabled) m_state.store(Off);
    pthread_key_create(&g_exitKey, &Recording::onThreadExit);
    readProcessInfo();
}

NamingContext Recording::namingContext() const
{
    return { m_process.pid, m_process.host, [](std::string_view var) -> std::optional<std::string> {
                const char* v = std::getenv(std::string(var).c_str());
                return v ? std::optional<std::string>(v) : std::nullopt;
            } };
}

void Recording::writeNewStrings()
{
    for (auto& [id, text] : m_strings.since(m_stringsWritten)) {
        m_writer->addString(id, text);
        m_stringsWritten = id;
    }
}

void Recording::readProcessInfo()
{
    m_process.pid = ::getpid();
    m_process.ppid = ::getppid();
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) == 0) m_process.host = host;
    const NamingContext ctx = namingContext();
    m_process.rank = rankFromEnvironment(ctx);
    char exe[4096] = {};
    ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
    m_process.exe = n > 0 ? std::string(exe, static_cast<size_t>(n)) : std::string();
    std::string cmd = readFile("/proc/self/cmdline");
    while (!cmd.empty() && cmd.back() == '\0')
        cmd.pop_back();
    for (char& c : cmd)
        if (c == '\0') c = ' ';
    m_process.cmdline = cmd;
    m_process.startNs = nowNs();
    m_process.wallStartNs = wallNowNs();
}

// ---- producer side ---------------------------------------------------------------------------------------

bool Recording::isActive() noexcept
{
    int s = m_state.load(std::memory_order_relaxed);
    if (__builtin_expect(s == Running || s == Starting, 1)) return true;
    if (s == Idle) return startWriter();
    return false;
}

ThreadState* Recording::thread() noexcept
{
    ThreadState* ts = t_state;
    return __builtin_expect(ts != nullptr, 1) ? ts : registerThread();
}

ThreadState* Recording::registerThread() noexcept
{
    try {
        auto* ts = new ThreadState(m_budget);
        ts->stack.reserve(32);
        ts->index = m_nextThreadIndex.fetch_add(1);
        ts->tid = static_cast<long>(::syscall(SYS_gettid));
        char name[64] = {};
        if (pthread_getname_np(pthread_self(), name, sizeof name) == 0) ts->threadName = name;
        ts->firstNs = nowNs();
        ts->consumer.attach(ts->producer.first());
        {
            std::lock_guard lock(m_registryMutex);
            m_threads.push_back(ts);
        }
        t_state = ts;
        pthread_setspecific(g_exitKey, ts);
        return ts;
    } catch (...) {
        return nullptr;
    }
}

void Recording::onThreadExit(void* state) noexcept
{
    auto* ts = static_cast<ThreadState*>(state);
    if (!ts || ts != t_state) return;
    Recording& r = instance();
    r.closeAll(*ts, schema::kRegionClosedImplicitly);
    t_state = nullptr;
    ts->exited.store(true, std::memory_order_release);
}

void Recording::begin(const char* name, schema::RegionKind kind, std::uint32_t domain) noexcept
{
    if (!isActive()) return;
    ThreadState* ts = thread();
    if (!ts) return;
    try {
        const std::uint32_t id = ts->names.lookup(m_strings, name);
        const std::uint64_t parent = ts->stack.empty() ? 0 : ts->stack.back().seq;
        // The stack is taken before the clock is read, so that its cost is not the region's.
        const std::uint32_t frame = m_settings.stacks ? internStack(*ts) : 0;
        ts->stack.push_back(
            OpenRegion { name, id, domain, kind, nowNs(), ts->nextSeq++, parent, 0.0, 0.0, false, frame });
    } catch (...) { }
}

std::uint32_t Recording::internStack(ThreadState& ts) noexcept
{
    constexpr std::size_t kMaxFrames = 128;
    std::uintptr_t ips[kMaxFrames];
    const std::size_t n = captureStack(ips, kMaxFrames);
    std::uint32_t node = 0;
    try {
        // Outermost first: a node's parent always exists before it, in the tree and in the file.
        for (std::size_t i = n; i-- > 0;) {
            auto [it, inserted] = ts.frames.try_emplace(FrameKey { node, ips[i] }, ts.nextFrame);
            if (inserted) {
                Event* e = ts.producer.reserve();
                if (!e) {
                    ts.frames.erase(it); // not written: a later stack must try again
                    return node;
                }
                *e = Event {};
                e->type = EventType::Frame;
                e->thread = ts.index;
                e->seq = ts.nextFrame;
                e->parent = node;
                e->start = static_cast<std::int64_t>(ips[i]);
                ts.producer.publish();
                ++ts.nextFrame;
            }
            node = it->second;
        }
    } catch (...) {
        // Out of memory: the region keeps the part of its stack recorded so far.
    }
    return node;
}

void Recording::writeModules()
{
    if (!m_settings.stacks || !m_writer) return;
    if (moduleGeneration() == m_moduleGeneration) return;
    std::uint64_t generation = 0;
    std::vector<Module> modules = loadedModules(generation);
    m_writer->setModules(modules);
    m_moduleGeneration = generation;
}

void Recording::closeRegion(ThreadState& ts, size_t index, std::int64_t endNs, std::int32_t flags) noexcept
{
    const OpenRegion& r = ts.stack[index];
    if (Event* e = ts.producer.reserve()) {
        e->type = EventType::Region;
        e->kind = static_cast<std::uint8_t>(r.kind);
        e->flags = static_cast<std::uint8_t>(flags);
        e->hasWork = r.hasWork;
        e->name = r.name;
        e->domain = r.domain;
        e->depth = static_cast<std::uint32_t>(index);
        e->thread = ts.index;
        e->start = r.start;
        e->end = endNs;
        e->seq = r.seq;
        e->parent = r.parent;
        e->flops = r.flops;
        e->bytes = r.bytes;
        e->stack = r.stack;
        ts.producer.publish();
    }
    ts.stack.erase(ts.stack.begin() + static_cast<std::ptrdiff_t>(index));
}

void Recording::end(const char* name) noexcept
{
    if (m_state.load(std::memory_order_relaxed) > Running) return;
    ThreadState* ts = t_state;
    const std::int64_t t = nowNs();
    if (!ts || ts->stack.empty()) {
        reportProblem(Problem::EndWithoutBegin,
            std::string("rooftime_end(\"") + (name ? name : "(null)")
                + "\") without an open region on this thread; ignored (reported once)");
        return;
    }
    const size_t top = ts->stack.size() - 1;
    const OpenRegion& last = ts->stack[top];
    if (__builtin_expect(last.kind == schema::RegionKind::Marker && last.key == name, 1)) {
        closeRegion(*ts, top, t, 0);
        return;
    }
    // Slow path: a different pointer with the same text, or a mismatch.
    const char* text = name ? name : "(null)";
    for (size_t i = ts->stack.size(); i-- > 0;) {
        const OpenRegion& r = ts->stack[i];
        if (r.kind != schema::RegionKind::Marker) continue;
        if (r.key == name || m_strings.intern(text).id == r.name) {
            bool mismatch = false;
            for (size_t j = ts->stack.size(); j-- > i + 1;) {
                if (ts->stack[j].kind == schema::RegionKind::Marker) {
                    closeRegion(*ts, j, t, schema::kRegionClosedImplicitly);
                    mismatch = true;
                }
            }
            if (mismatch)
                reportProblem(Problem::EndClosedInner,
                    std::string("rooftime_end(\"") + text
                        + "\") closed inner regions left open; they are marked as implicitly closed"
                          " (reported once)");
            closeRegion(*ts, i, t, 0);
            return;
        }
    }
    reportProblem(Problem::EndUnmatched,
        std::string("rooftime_end(\"") + text
            + "\") matches no open region on this thread; ignored"
              " (reported once)");
}

void Recording::popNvtx(std::uint32_t domain) noexcept
{
    if (m_state.load(std::memory_order_relaxed) > Running) return;
    ThreadState* ts = t_state;
    if (!ts) return;
    const std::int64_t t = nowNs();
    for (size_t i = ts->stack.size(); i-- > 0;) {
        if (ts->stack[i].kind == schema::RegionKind::NvtxPushPop && ts->stack[i].domain == domain) {
            closeRegion(*ts, i, t, 0);
            return;
        }
    }
}

std::uint64_t Recording::startRange(const char* name, std::uint32_t domain) noexcept
{
    if (!isActive()) return 0;
    ThreadState* ts = thread();
    if (!ts) return 0;
    try {
        const std::uint32_t id = ts->names.lookup(m_strings, name);
        std::lock_guard lock(m_rangeMutex);
        const std::uint64_t rangeId = m_nextRangeId++;
        m_ranges.push_back({ rangeId, id, domain, ts->index, nowNs() });
        return rangeId;
    } catch (...) {
        return 0;
    }
}

void Recording::endRange(std::uint64_t id) noexcept
{
    if (m_state.load(std::memory_order_relaxed) > Running || id == 0) return;
    const std::int64_t t = nowNs();
    ThreadState* ts = thread();
    if (!ts) return;
    StartedRange range {};
    {
        std::lock_guard lock(m_rangeMutex);
        auto it = std::find_if(m_ranges.begin(), m_ranges.end(), [&](const StartedRange& r) { return r.id == id; });
        if (it == m_ranges.end()) return;
        range = *it;
        *it = m_ranges.back();
        m_ranges.pop_back();
    }
    if (Event* e = ts->producer.reserve()) {
        *e = Event {};
        e->type = EventType::Region;
        e->kind = static_cast<std::uint8_t>(schema::RegionKind::NvtxStartEnd);
        e->name = range.name;
        e->domain = range.domain;
        e->thread = range.thread;
        e->start = range.start;
        e->end = t;
        e->seq = 0; // not part of a thread's nesting tree
        ts->producer.publish();
    }
}

void Recording::addWork(double flops, double bytes) noexcept
{
    ThreadState* ts = t_state;
    if (!ts || ts->stack.empty()) {
        if (m_state.load(std::memory_order_relaxed) <= Running)
            reportProblem(Problem::WorkOutsideRegion,
                "rooftime_add_work() called outside any open region; ignored (reported once)");
        return;
    }
    // NaN, infinities and negative counts would poison the region's sums (and a NaN is NULL to SQLite).
    if (!(std::isfinite(flops) && std::isfinite(bytes) && flops >= 0 && bytes >= 0)) {
        if (m_state.load(std::memory_order_relaxed) <= Running) {
            char text[160];
            std::snprintf(text, sizeof text,
                "rooftime_add_work(%g, %g): FLOPs and bytes are finite counts, 0 or more; ignored (reported once)",
                flops, bytes);
            reportProblem(Problem::BadWork, text);
        }
        return;
    }
    OpenRegion& r = ts->stack.back();
    r.flops += flops;
    r.bytes += bytes;
    r.hasWork = true;
}

void Recording::setParam(const char* key, double value) noexcept
{
    if (!isActive()) return;
    // SQLite stores NaN as NULL, which the param table refuses: that would end the recording.
    if (std::isnan(value)) {
        reportProblem(Problem::BadParam,
            std::string("rooftime_set_param(\"") + (key ? key : "(null)")
                + "\", NaN): a parameter is a number; ignored (reported once)");
        return;
    }
    ThreadState* ts = thread();
    if (!ts) return;
    try {
        const std::uint32_t id = ts->names.lookup(m_strings, key);
        if (Event* e = ts->producer.reserve()) {
            *e = Event {};
            e->type = EventType::Param;
            e->name = id;
            e->thread = ts->index;
            e->start = nowNs();
            e->seq = ts->stack.empty() ? 0 : ts->stack.back().seq;
            e->flops = value;
            ts->producer.publish();
        }
    } catch (...) { }
}

StringTable::Interned Recording::intern(const char* text) noexcept
{
    try {
        return m_strings.intern(text ? text : "(null)");
    } catch (...) {
        return { 0, nullptr };
    }
}

void Recording::closeAll(ThreadState& ts, std::int32_t flags) noexcept
{
    const std::int64_t t = nowNs();
    while (!ts.stack.empty())
        closeRegion(ts, ts.stack.size() - 1, t, flags);
}

void Recording::addDiagnostic(const std::string& component, const std::string& message) noexcept
{
    try {
        std::lock_guard lock(m_diagMutex);
        m_pendingDiagnostics.emplace_back(component, message);
    } catch (...) { }
}

// ---- writer thread ---------------------------------------------------------------------------------------

bool Recording::startWriter() noexcept
{
    int expected = Idle;
    if (!m_state.compare_exchange_strong(expected, Starting)) return expected == Running || expected == Starting;
    if (::pipe2(m_wakePipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        m_state.store(Off);
        reportProblem(Problem::Writer,
            std::string("cannot create a pipe: ") + std::strerror(errno) + "; continuing without recording");
        return false;
    }
    m_wakeFds[0] = OwnedFd::of(m_wakePipe[0]);
    m_wakeFds[1] = OwnedFd::of(m_wakePipe[1]);
    // The writer must never receive the host's signals.
    const int rc = startDetachedThread(&Recording::writerEntry, this);
    if (rc != 0) {
        m_state.store(Off);
        reportProblem(Problem::Writer,
            std::string("cannot start the writer thread: ") + std::strerror(rc) + "; continuing without recording");
        return false;
    }
    m_state.store(Running);
    return true;
}

void* Recording::writerEntry(void* self) noexcept
{
    pthread_setname_np(pthread_self(), "rooftime-writer");
    try {
        static_cast<Recording*>(self)->writerMain();
    } catch (const std::exception& e) {
        reportProblem(Problem::Writer, std::string("writer stopped: ") + e.what() + "; continuing without recording");
    } catch (...) {
        reportProblem(Problem::Writer, "writer stopped on an unknown error; continuing without recording");
    }
    return nullptr;
}

bool Recording::openProfile()
{
    const NamingContext ctx = namingContext();
    std::string error;
    auto pattern = expandOutputPattern(m_settings.outputPattern, ctx, error);
    std::optional<std::string> path;
    if (pattern) path = claimOutputFile(*pattern, error);
    std::unique_ptr<ProfileWriter> writer;
    if (path) writer = ProfileWriter::create(*path, m_process, m_settings.mode, error);
    if (!writer) {
        if (path) ::unlink(path->c_str());
        reportProblem(Problem::OutputFile, error + "; continuing without recording");
        return false;
    }
    // A CUDA program's counters come from the cupti backend once the driver initializes; other programs have
    // no counter backend (PAPI is not in this build).
    const bool gpuCounters = m_cudaInjected.load() || processLooksLikeCuda();
    if (m_settings.mode == "counters" && !gpuCounters)
        reportProblem(Problem::CountersUnavailable,
            "counters mode: no counter backend is available for this process (the PAPI backend is not in this "
            "build and the program does not use CUDA); recording time and declared work only");
    {
        std::lock_guard lock(m_gpuMutex);
        if (m_countersStatus.empty())
            m_countersStatus = m_settings.mode != "counters" ? "off"
                : gpuCounters                                ? "pending: waiting for CUDA initialization"
                                                             : "unavailable: no counter backend";
        m_countersStatusChanged = true;
    }
    if (!m_settings.machine.empty()) embedMachine(*writer);
    if (!m_settings.manifest.empty()) {
        // Not created here: `record` made it, and once it has removed it (a daemon outliving it) it stays gone.
        int fd = ::open(m_settings.manifest.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
        if (fd >= 0) {
            std::string line = *path + "\n";
            [[maybe_unused]] ssize_t n = ::write(fd, line.data(), line.size());
            ::close(fd);
        }
    }
    m_writer = writer.release();
    m_profilePath = *path;
    m_profileFds = descriptorsOf(m_profilePath);
    m_profileFdScans = 0;
    return true;
}

bool Recording::ownDescriptorsIntact()
{
    const OwnedFd* replaced = firstReplaced(m_profileFds);
    if (!replaced) return true;
    reportProblem(Problem::Writer,
        "the program closed descriptor " + std::to_string(replaced->fd)
            + " of the profile (and may have reused it); recording stopped, the profile holds earlier commits");
    // Its descriptors may be the program's files now: no SQLite call may touch them, not even a close.
    if (m_writer) m_writer->abandon();
    m_writer = nullptr;
    m_writerFailed = true;
    return false;
}

void Recording::embedMachine(ProfileWriter& writer)
{
    // Read here, on the writer thread, when the file is created: the program's threads never wait for it.
    std::string text, why;
    int fd = ::open(m_settings.machine.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        why = std::strerror(errno);
    } else {
        char buf[65536];
        for (;;) {
            const ssize_t n = ::read(fd, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            text.append(buf, static_cast<std::size_t>(n));
            if (text.size() > kMaxMachineBytes) {
                why = "larger than 64 MiB";
                break;
            }
        }
        ::close(fd);
    }
    if (why.empty() && text.empty()) why = "empty file";
    if (!why.empty()) {
        const std::string msg = "cannot read machine file '" + m_settings.machine + "' (" + why + ")";
        // reportProblem also records the line in the profile's diagnostics.
        reportProblem(Problem::MachineFile, msg + "; continuing without an embedded machine model");
        return;
    }
    writer.addMachine(m_settings.machine, text);
}

void Recording::drainAll(bool mayYield)
{
    std::vector<ThreadState*> threads;
    {
        std::lock_guard lock(m_registryMutex);
        threads = m_threads;
    }
    std::vector<ThreadState*> gone;
    for (ThreadState* ts : threads) {
        if (!ts->announced && m_writer) {
            m_writer->addThread(ts->index, ts->tid, ts->threadName, ts->firstNs);
            ts->announced = true;
        }
        const bool exited = ts->exited.load(std::memory_order_acquire);
        // A backlog is committed as it is written, so that a process ended mid-drain keeps most of it.
        std::uint32_t sinceCheck = 0;
        // A fork waits for the writer's lock: a backlog that producers keep up is left for the next round.
        // Never for an exited thread (its buffers are released below) nor in a final flush (mayYield false).
        ts->consumer.drain(
            [&](const Event& e) {
                if (!m_writer) return; // abandoned mid-drain: the program took its descriptors
                m_writer->addEvent(e);
                if (++sinceCheck == 4096) {
                    sinceCheck = 0;
                    commitIfDue();
                }
            },
            [&] { return !m_writer || (mayYield && !exited && m_forkWaiting.load(std::memory_order_relaxed) > 0); });
        if (exited) gone.push_back(ts);
    }
    if (!gone.empty()) {
        std::lock_guard lock(m_registryMutex);
        for (ThreadState* ts : gone) {
            m_threads.erase(std::find(m_threads.begin(), m_threads.end(), ts));
            ts->consumer.release();
            delete ts;
        }
    }
    if (!m_writer) return;
    writeGpuRecords();
    // Strings after events: every string an event refers to was interned before the event was published.
    writeNewStrings();
    std::vector<std::pair<std::string, std::string>> diags;
    {
        std::lock_guard lock(m_diagMutex);
        diags.swap(m_pendingDiagnostics);
    }
    for (auto& [component, message] : diags)
        m_writer->addDiagnostic(nowNs(), component, message);
    const std::uint64_t dropped = m_budget.dropped.load(std::memory_order_relaxed);
    if (dropped != m_droppedReported) {
        if (m_droppedReported == 0)
            reportProblem(Problem::BufferFull,
                "the writer cannot keep up; events beyond the buffer limit (ROOFTIME_MAX_BUFFER_MB) are "
                "dropped and counted in the profile");
        m_droppedReported = dropped;
        m_writer->setMeta("dropped_events", std::to_string(dropped));
    }
}

void Recording::finalize(const std::string& reason, bool complete)
{
    drainAll();
    if (!m_writer) return;
    // Start/end ranges still open: written as ending now, marked as closed implicitly. Before exec they stay
    // open in memory too, in case the exec fails.
    std::vector<StartedRange> open;
    {
        std::lock_guard lock(m_rangeMutex);
        open = m_ranges;
    }
    const std::int64_t t = nowNs();
    for (const StartedRange& r : open) {
        Event e {};
        e.type = EventType::Region;
        e.kind = static_cast<std::uint8_t>(schema::RegionKind::NvtxStartEnd);
        e.flags = schema::kRegionClosedImplicitly;
        e.name = r.name;
        e.domain = r.domain;
        e.thread = r.thread;
        e.start = r.start;
        e.end = t;
        m_writer->addEvent(e);
    }
    writeModules();
    std::string error;
    if (!m_writer->finish(nowNs(), reason, complete, error))
        reportProblem(Problem::Writer, error + "; the profile holds data up to the last commit");
}

bool Recording::commitIfDue()
{
    if (m_writerFailed) return false;
    if (nowNs() - m_lastCommitNs < std::int64_t(m_settings.commitMs) * 1'000'000) return true;
    // Also mid-drain: a long backlog commits every 4096 events.
    if (!ownDescriptorsIntact()) return false;
    // Strings first: a committed region must find its name; modules, so that its frames can be symbolized.
    writeNewStrings();
    writeModules();
    std::string error;
    if (!m_writer->commit(error)) {
        reportProblem(Problem::Writer, error + "; recording stopped, the profile holds earlier commits");
        m_writerFailed = true;
        return false;
    }
    m_lastCommitNs = nowNs();
    // SQLite opens the -wal and -shm files with the first transactions.
    // Added to, never replaced: a descriptor the program took meanwhile must stay under watch.
    if (m_profileFdScans < 3) {
        ++m_profileFdScans;
        for (const OwnedFd& o : descriptorsOf(m_profilePath))
            if (std::none_of(m_profileFds.begin(), m_profileFds.end(), [&](const OwnedFd& k) { return k.fd == o.fd; }))
                m_profileFds.push_back(o);
    }
    return true;
}

void Recording::writerMain()
{
    std::unique_lock lock(m_writerMutex);
    if (!openProfile()) {
        m_state.store(Off);
        return;
    }
    m_lastCommitNs = nowNs();
    const int pollMs = std::max(5, m_settings.commitMs / 5);
    for (;;) {
        lock.unlock();
        // A fork waiting for the lock gets it: a mutex is not fair, and the writer would take it straight back.
        while (m_forkWaiting.load(std::memory_order_relaxed) > 0)
            sleepMs(1);
        if (m_wakeFds[0].intact()) {
            pollfd pfd { m_wakePipe[0], POLLIN, 0 };
            ::poll(&pfd, 1, pollMs);
            char buf[64];
            while (::read(m_wakePipe[0], buf, sizeof buf) > 0) { }
        } else {
            sleepMs(pollMs); // the program took the pipe's number: never read its file
        }
        // CUPTI's periodic flush returns only full buffers (cupti_activity.h, cuptiActivityFlushPeriod): ask for
        // the completed ones about once a second, without the writer's lock, so that a program ended by a signal
        // (no atexit flush) keeps its GPU records up to about a second before the end.
        if (backend::Backend* b = m_gpuBackend.load(); b && nowNs() - m_lastGpuFlushNs >= 1'000'000'000) {
            m_lastGpuFlushNs = nowNs();
            b->flush(false);
        }
        lock.lock();
        if (!ownDescriptorsIntact()) {
            m_state.store(Off);
            return;
        }
        // The program's last thread ended with pthread_exit (its main thread among them): the process would now
        // exit as if by exit(0), but the writer keeps it alive. Finish the profile and exit for it.
        if (nowNs() - m_lastThreadCheckNs >= 200'000'000) {
            m_lastThreadCheckNs = nowNs();
            if (!otherThreadsRun()) {
                finalize("exit", true);
                delete m_writer;
                m_writer = nullptr;
                m_stopDone.store(1, std::memory_order_release);
                m_state.store(Stopped); // the atexit flush then has nothing to do
                lock.unlock();
                std::exit(0);
            }
        }

        const std::uint64_t stop = m_stopRequested.load(std::memory_order_acquire);
        if (stop != 0) {
            const int sig = m_endSignal.load();
            std::string reason = sig ? std::string("signal ") + std::to_string(sig) + " (" + sigabbrev_np(sig) + ")"
                                     : std::string(m_endReason);
            finalize(reason, true);
            delete m_writer;
            m_writer = nullptr;
            m_stopDone.store(stop, std::memory_order_release);
            return;
        }
        const std::uint64_t flush = m_flushRequested.load(std::memory_order_acquire);
        if (flush != m_flushDone.load(std::memory_order_relaxed)) {
            finalize("exec", true);
            // Finished as a single file: SQLite closed its -wal and -shm, and opens new ones if the exec fails.
            m_profileFds = descriptorsOf(m_profilePath);
            m_profileFdScans = 0;
            m_lastCommitNs = nowNs();
            m_flushDone.store(flush, std::memory_order_release);
            continue;
        }
        if (m_reopen.exchange(false) && m_writer) m_writer->reopen();
        drainAll(true);
        if (!commitIfDue()) {
            m_state.store(Off);
            return;
        }
    }
}

void Recording::wake() noexcept
{
    const NoCancel noCancel;
    if (m_wakePipe[1] >= 0 && m_wakeFds[1].intact()) {
        char c = 1;
        [[maybe_unused]] ssize_t n = ::write(m_wakePipe[1], &c, 1);
    }
}

bool Recording::waitFor(const std::atomic<std::uint64_t>& counter, std::uint64_t target, int timeoutMs) noexcept
{
    for (int waited = 0; waited < timeoutMs; waited += 2) {
        if (counter.load(std::memory_order_acquire) >= target) return true;
        // The writer gave up (Off): nothing more will come.
        if (m_state.load() == Off) return false;
        sleepMs(2);
    }
    return counter.load(std::memory_order_acquire) >= target;
}

// ---- exit paths ------------------------------------------------------------------------------------------

void Recording::finish(const char* reason) noexcept
{
    const NoCancel noCancel;
    if (::getpid() != m_process.pid) return;
    int s = m_state.load();
    if (s == Idle) {
        m_state.compare_exchange_strong(s, Stopped);
        return;
    }
    if (s != Running && s != Starting) return;
    if (ThreadState* ts = t_state) closeAll(*ts, schema::kRegionClosedImplicitly);
    m_endReason = reason;
    m_stopRequested.store(1, std::memory_order_release);
    wake();
    if (!waitFor(m_stopDone, 1, m_settings.exitTimeoutMs) && m_state.load() != Off)
        reportProblem(Problem::ExitTimeout,
            "the final flush did not finish within ROOFTIME_EXIT_TIMEOUT_MS; the "
            "profile holds data up to the last commit");
    m_state.store(Stopped);
}

void Recording::finishFromSignal(int sig) noexcept
{
    if (::getpid() != m_process.pid) return;
    const int s = m_state.load();
    if (s != Running && s != Starting) return;
    m_endSignal.store(sig);
    m_stopRequested.store(1, std::memory_order_release);
    wake();
    waitFor(m_stopDone, 1, std::min(m_settings.exitTimeoutMs, 3000));
    m_state.store(Stopped);
}

void Recording::beforeExec() noexcept
{
    const NoCancel noCancel;
    // In a vfork child the memory is the parent's but the pid is not: leave the parent's recording alone.
    if (::getpid() != m_process.pid || m_state.load() != Running) return;
    const std::uint64_t target = m_flushRequested.fetch_add(1) + 1;
    wake();
    waitFor(m_flushDone, target, 5000);
}

void Recording::afterFailedExec() noexcept
{
    if (::getpid() == m_process.pid) m_reopen.store(true);
}

// ---- fork --------------------------------------------------------------------------------------------------

void Recording::forkPrepare() noexcept
{
    const NoCancel noCancel;
    // Hold the writer's lock across fork so that the child never inherits SQLite or our tables mid-update.
    timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 2;
    m_forkWaiting.fetch_add(1);
    t_forkLocked = pthread_mutex_timedlock(m_writerMutex.native_handle(), &deadline) == 0;
    m_forkWaiting.fetch_sub(1);
    m_strings.mutex().lock();
    m_registryMutex.lock();
    m_diagMutex.lock();
    m_rangeMutex.lock();
    m_gpuMutex.lock();
}

void Recording::forkParent() noexcept
{
    m_gpuMutex.unlock();
    m_rangeMutex.unlock();
    m_diagMutex.unlock();
    m_registryMutex.unlock();
    m_strings.mutex().unlock();
    if (t_forkLocked) m_writerMutex.unlock();
}

void Recording::forkChild() noexcept
{
    m_gpuMutex.unlock();
    m_rangeMutex.unlock();
    m_diagMutex.unlock();
    m_registryMutex.unlock();
    m_strings.mutex().unlock();
    if (t_forkLocked) {
        m_writerMutex.unlock();
    } else {
        // The parent's writer was busy past the deadline: its state may be mid-update, do not record here.
        new (&m_writerMutex) std::mutex;
        m_state.store(Off);
        printLine("fork while the writer was busy for over 2 s; the child process is not recorded");
        return;
    }
    try {
        // The parent's connection, buffers and threads belong to the parent: forget them without touching them.
        if (m_writer) m_writer->abandon();
        m_writer = nullptr;
        for (int i = 0; i < 2; ++i)
            if (m_wakePipe[i] >= 0 && m_wakeFds[i].intact()) ::close(m_wakePipe[i]);
        m_wakePipe[0] = m_wakePipe[1] = -1;
        m_wakeFds[0] = m_wakeFds[1] = OwnedFd {};
        m_profileFds.clear();
        m_threads.clear();
        m_pendingDiagnostics.clear();
        // The parent's GPU backend and its records stay the parent's; CUDA does not survive fork anyway.
        if (backend::Backend* b = m_gpuBackend.exchange(nullptr)) b->forkChild();
        m_pendingKernels.clear();
        m_pendingMemoryOps.clear();
        m_pendingDevices.clear();
        m_countersStatus.clear();
        m_cudaInjected.store(false);
        m_ranges.clear();
        m_budget.live.store(0);
        m_budget.dropped.store(0);
        m_droppedReported = 0;
        m_moduleGeneration = UINT64_MAX;
        m_stringsWritten = 0;
        m_writerFailed = false;
        m_reopen.store(false);
        m_forkWaiting.store(0); // another thread of the parent waiting to fork does not exist here
        m_flushRequested.store(0);
        m_flushDone.store(0);
        m_stopRequested.store(0);
        m_stopDone.store(0);
        m_endSignal.store(0);
        m_endReason = "exit";
        readProcessInfo();
        // The forking thread goes on in the child with its open regions; its earlier events are the parent's.
        ThreadState* old = t_state;
        t_state = nullptr;
        if (old) {
            if (ThreadState* ts = registerThread()) {
                ts->stack = old->stack;
                for (OpenRegion& r : ts->stack)
                    r.stack = 0; // its frames are in the parent's file
                ts->nextSeq = old->nextSeq;
            }
        }
        int s = m_state.load();
        if (s == Running || s == Starting || s == Stopped) m_state.store(Idle);
    } catch (...) {
        m_state.store(Off);
    }
}

} // namespace rooftime::collector
