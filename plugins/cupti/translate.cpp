// SPDX-License-Identifier: MIT
#include "translate.h"

#include <cstdlib>
#include <cstring>
#include <cxxabi.h>
#include <mutex>
#include <string_view>
#include <unordered_map>

namespace rooftime::cupti {

namespace {

/// Demangled names by mangled name: __cxa_demangle of a PyTorch template name costs about a microsecond, more
/// than the rest of a record's handling, and a run repeats a few hundred names millions of times.
class DemangleCache {
public:
    static constexpr std::size_t kMaxNames = 1 << 16; ///< beyond: demangled each time, never unbounded
    /// False when @p mangled is not cached.
    bool find(const char* mangled, std::string& readable)
    {
        std::lock_guard lock(m_mutex);
        auto it = m_names.find(std::string_view(mangled));
        if (it == m_names.end()) return false;
        readable = it->second;
        return true;
    }
    void add(const char* mangled, const std::string& readable)
    {
        std::lock_guard lock(m_mutex);
        if (m_names.size() < kMaxNames) m_names.emplace(mangled, readable);
    }

private:
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>()(s); }
    };
    std::mutex m_mutex;
    std::unordered_map<std::string, std::string, Hash, std::equal_to<>> m_names;
};

DemangleCache& demangleCache()
{
    static DemangleCache* cache = new DemangleCache; // leaked: CUPTI's thread may deliver records during exit
    return *cache;
}

} // namespace

std::string demangle(const char* name, std::string& mangled)
{
    mangled.clear();
    if (!name || !*name) return {};
    // Only Itanium-mangled names: a plain C name ("triad") would otherwise be read as a type name.
    if (std::strncmp(name, "_Z", 2) != 0) return name;
    std::string readable;
    if (demangleCache().find(name, readable)) {
        if (readable != name) mangled = name; // cached as itself: not a name __cxa_demangle reads
        return readable;
    }
    int status = 0;
    char* out = abi::__cxa_demangle(name, nullptr, nullptr, &status);
    if (status != 0 || !out) {
        std::free(out);
        demangleCache().add(name, name);
        return name;
    }
    readable = out;
    std::free(out);
    demangleCache().add(name, readable);
    mangled = name;
    return readable;
}

CounterFailure counterFailure(CUptiResult rc, const std::string& doing, const std::string& codeText)
{
    switch (rc) {
    case CUPTI_ERROR_INSUFFICIENT_PRIVILEGES:
    case CUPTI_ERROR_VIRTUALIZED_DEVICE_INSUFFICIENT_PRIVILEGES:
        return { "GPU counters need permission (ERR_NVGPUCTRPERM): load the nvidia module with "
                 "NVreg_RestrictProfilingToAdminUsers=0, or run with CAP_SYS_ADMIN (CAP_PERFMON on driver R565+; "
                 "containers: --cap-add=SYS_ADMIN)",
            "insufficient privileges (ERR_NVGPUCTRPERM)" };
    case CUPTI_ERROR_MIG_DEVICE_NOT_SUPPORTED:
        return { "GPU counters are not available on this MIG instance (only a compute instance that fills its GPU "
                 "instance can be profiled)",
            "MIG instance" };
    case CUPTI_ERROR_CONFIDENTIAL_COMPUTING_NOT_SUPPORTED:
        return { "GPU counters are not available with confidential computing", "confidential computing" };
    case CUPTI_ERROR_HARDWARE_BUSY:
        return { "the GPU's counters are held by another profiler (DCGM or dcgm-exporter: `dcgmi profile --pause` "
                 "frees them)",
            "counters held by another profiler (DCGM?)" };
    default:
        return { "cannot " + doing + " (" + codeText + ")", codeText };
    }
}

std::string normaliseUnit(const char* cuptiUnit)
{
    const std::string u = cuptiUnit ? cuptiUnit : "";
    if (u == "nanosecond" || u == "nanoseconds") return "nsecond";
    if (u == "bytes") return "byte";
    return u;
}

backend::KernelRecord translateKernel(const CUpti_ActivityKernel10& k)
{
    backend::KernelRecord r;
    r.name = demangle(k.name, r.mangled);
    r.device = k.deviceId;
    r.context = k.contextId;
    r.stream = k.streamId;
    r.grid[0] = k.gridX;
    r.grid[1] = k.gridY;
    r.grid[2] = k.gridZ;
    r.block[0] = k.blockX;
    r.block[1] = k.blockY;
    r.block[2] = k.blockZ;
    r.registers = k.registersPerThread;
    r.sharedBytes = static_cast<std::int64_t>(k.staticSharedMemory) + k.dynamicSharedMemory;
    // Timestamps are on the collector's clock (cuptiActivityRegisterTimestampCallback).
    r.startNs = static_cast<std::int64_t>(k.start);
    r.endNs = static_cast<std::int64_t>(k.end);
    r.correlation = k.correlationId;
    r.graphId = k.graphId;
    r.graphNodeId = k.graphNodeId;
    return r;
}

namespace {

/// The fields copies and fills share.
template <typename Activity> backend::MemoryRecord memoryRecord(const Activity& m, backend::MemoryRecord::Kind kind)
{
    backend::MemoryRecord r;
    r.kind = kind;
    r.bytes = m.bytes;
    r.device = m.deviceId;
    r.context = m.contextId;
    r.stream = m.streamId;
    r.startNs = static_cast<std::int64_t>(m.start);
    r.endNs = static_cast<std::int64_t>(m.end);
    r.correlation = m.correlationId;
    return r;
}

} // namespace

backend::MemoryRecord translateMemcpy(const CUpti_ActivityMemcpy6& m)
{
    backend::MemoryRecord r = memoryRecord(m, backend::MemoryRecord::Kind::Copy);
    r.copyKind = m.copyKind;
    return r;
}

backend::MemoryRecord translateMemset(const CUpti_ActivityMemset4& m)
{
    return memoryRecord(m, backend::MemoryRecord::Kind::Set);
}

backend::DeviceRecord translateDevice(const CUpti_ActivityDevice5& d)
{
    backend::DeviceRecord r;
    r.id = d.id;
    r.name = d.name ? d.name : "";
    r.arch = "sm_" + std::to_string(d.computeCapabilityMajor) + std::to_string(d.computeCapabilityMinor);
    r.sms = static_cast<std::int32_t>(d.numMultiprocessors);
    return r;
}

LaunchTable::LaunchTable()
    : m_slots(std::make_unique<Slot[]>(kSlots))
{ }

void LaunchTable::remember(std::uint32_t correlation, backend::LaunchContext context) noexcept
{
    if (correlation == 0) return;
    Slot& s = m_slots[correlation % kSlots];
    const std::uint32_t seq = s.seq.load(std::memory_order_relaxed);
    s.seq.store(seq + 1, std::memory_order_relaxed); // odd: being written
    std::atomic_thread_fence(std::memory_order_release);
    s.thread.store(context.thread, std::memory_order_relaxed);
    s.stack.store(context.stack, std::memory_order_relaxed);
    s.region.store(context.region, std::memory_order_relaxed);
    s.launchNs.store(context.launchNs, std::memory_order_relaxed);
    s.id.store(correlation, std::memory_order_relaxed);
    s.seq.store(seq + 2, std::memory_order_release);
}

std::optional<backend::LaunchContext> LaunchTable::read(std::uint32_t correlation, bool take) noexcept
{
    if (correlation == 0) return std::nullopt;
    Slot& s = m_slots[correlation % kSlots];
    // A writer holds a slot for a few stores; one rewriting it now means the id is being forgotten anyway.
    for (int attempt = 0; attempt < 64; ++attempt) {
        const std::uint32_t before = s.seq.load(std::memory_order_acquire);
        if (before & 1u) continue;
        if (s.id.load(std::memory_order_relaxed) != correlation) return std::nullopt;
        backend::LaunchContext c;
        c.thread = s.thread.load(std::memory_order_relaxed);
        c.stack = s.stack.load(std::memory_order_relaxed);
        c.region = s.region.load(std::memory_order_relaxed);
        c.launchNs = s.launchNs.load(std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_acquire);
        if (s.seq.load(std::memory_order_relaxed) != before) continue;
        if (take) {
            std::uint32_t expected = correlation;
            if (!s.id.compare_exchange_strong(expected, 0, std::memory_order_relaxed)) return std::nullopt;
        }
        return c;
    }
    return std::nullopt;
}

std::optional<backend::LaunchContext> LaunchTable::take(std::uint32_t correlation) noexcept
{
    return read(correlation, true);
}

std::optional<backend::LaunchContext> LaunchTable::find(std::uint32_t correlation) noexcept
{
    return read(correlation, false);
}

std::size_t LaunchTable::size() noexcept
{
    std::size_t n = 0;
    for (std::uint32_t i = 0; i < kSlots; ++i)
        n += m_slots[i].id.load(std::memory_order_relaxed) != 0;
    return n;
}

void LaunchTable::clear() noexcept
{
    for (std::uint32_t i = 0; i < kSlots; ++i)
        m_slots[i].id.store(0, std::memory_order_relaxed);
}

// ---- CounterMatcher -----------------------------------------------------------------------------------------

void CounterMatcher::measured(std::uint32_t id, std::uint32_t outer)
{
    std::lock_guard lock(m_mutex);
    Launch& l = m_launches[id];
    l.ids.push_back(id);
    m_keyOf[id] = id;
    if (outer && !m_keyOf.count(outer)) {
        l.ids.push_back(outer);
        m_keyOf[outer] = id;
    }
}

bool CounterMatcher::alias(std::uint32_t id, std::uint32_t other)
{
    std::lock_guard lock(m_mutex);
    auto k = m_keyOf.find(id);
    if (k == m_keyOf.end()) return false;
    if (!m_keyOf.count(other)) {
        m_launches[k->second].ids.push_back(other);
        m_keyOf[other] = k->second;
    }
    return true;
}

bool CounterMatcher::isMeasured(std::uint32_t id)
{
    std::lock_guard lock(m_mutex);
    return m_keyOf.count(id) != 0;
}

void CounterMatcher::eraseLocked(std::uint32_t key)
{
    auto it = m_launches.find(key);
    if (it == m_launches.end()) return;
    for (const std::uint32_t id : it->second.ids)
        m_keyOf.erase(id);
    m_launches.erase(it);
}

std::vector<backend::KernelRecord> CounterMatcher::decoded(std::vector<std::pair<std::uint32_t, Values>>&& values)
{
    std::vector<backend::KernelRecord> ready;
    std::lock_guard lock(m_mutex);
    for (auto& [id, v] : values) {
        auto k = m_keyOf.find(id);
        if (k == m_keyOf.end()) continue; // forgotten meanwhile (lost)
        const std::uint32_t key = k->second;
        Launch& l = m_launches[key];
        if (l.record) {
            l.record->metrics = std::move(v);
            l.record->replayed = true;
            ready.push_back(std::move(*l.record));
            eraseLocked(key);
        } else {
            l.values = std::move(v);
        }
    }
    return ready;
}

std::vector<backend::KernelRecord> CounterMatcher::lost(const std::vector<std::uint32_t>& ids)
{
    std::vector<backend::KernelRecord> released;
    std::lock_guard lock(m_mutex);
    for (const std::uint32_t id : ids) {
        auto k = m_keyOf.find(id);
        if (k == m_keyOf.end()) continue;
        const std::uint32_t key = k->second;
        if (auto& r = m_launches[key].record) released.push_back(std::move(*r));
        eraseLocked(key);
    }
    return released;
}

void CounterMatcher::deliver(std::vector<backend::KernelRecord>& kernels)
{
    std::lock_guard lock(m_mutex);
    if (m_keyOf.empty()) return;
    std::vector<backend::KernelRecord> out;
    out.reserve(kernels.size());
    for (auto& k : kernels) {
        auto key = m_keyOf.find(static_cast<std::uint32_t>(k.correlation));
        if (k.correlation == 0 || key == m_keyOf.end()) {
            out.push_back(std::move(k));
            continue;
        }
        const std::uint32_t launch = key->second;
        Launch& l = m_launches[launch];
        if (!l.values) {
            l.record = std::move(k);
            continue;
        }
        k.metrics = std::move(*l.values);
        k.replayed = true;
        out.push_back(std::move(k));
        eraseLocked(launch);
    }
    kernels.swap(out);
}

std::vector<backend::KernelRecord> CounterMatcher::drain()
{
    std::vector<backend::KernelRecord> held;
    std::lock_guard lock(m_mutex);
    for (auto& [key, l] : m_launches)
        if (l.record) held.push_back(std::move(*l.record));
    m_launches.clear();
    m_keyOf.clear();
    return held;
}

std::size_t CounterMatcher::pending()
{
    std::lock_guard lock(m_mutex);
    return m_launches.size();
}

} // namespace rooftime::cupti
