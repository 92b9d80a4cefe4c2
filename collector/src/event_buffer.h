// SPDX-License-Identifier: MIT
/**
 * @file event_buffer.h
 * @brief Per-thread event buffers: one producer (the application thread), one consumer (the writer thread).
 *
 * A thread appends fixed-size events to a chain of chunks. The count of a chunk is published with release
 * order after the event is written, so the writer reads complete events only, without locks. A full chunk
 * links the next one before its owner writes there; the writer frees a chunk once it is full, read and linked.
 */
#pragma once

#include <atomic>
#include <cstdint>
#include <new>
#include <utility>

namespace rooftime::collector {

enum class EventType : std::uint8_t { Region = 1, Param = 2, Frame = 3 };

/// One recorded fact. Plain data, 72 bytes.
struct Event {
    EventType type;
    std::uint8_t kind; ///< schema::RegionKind for regions
    std::uint8_t flags; ///< schema::RegionFlags
    std::uint8_t hasWork; ///< declared flops/bytes present
    std::uint32_t name; ///< string id (region name or parameter key)
    std::uint32_t domain; ///< string id of the NVTX domain, 0 for none
    std::uint32_t depth;
    std::uint32_t thread; ///< thread index (the starting thread for NVTX start/end ranges)
    std::uint32_t stack; ///< regions: the frame (on this thread) of the call that opened it, 0 for none
    std::int64_t start; ///< ns; for parameters the time it was set; for frames the instruction pointer
    std::int64_t end;
    std::uint64_t seq; ///< per-thread region sequence number; for parameters the region it labels (0: run);
                       ///< for frames the frame's id on its thread
    std::uint64_t parent; ///< seq of the enclosing region, 0 for none; for frames the calling frame's id
    double flops; ///< declared FLOPs; for parameters the value
    double bytes;
};
static_assert(sizeof(Event) == 72, "events are fixed-size records");

struct Chunk {
    static constexpr std::uint32_t kCapacity = 1024;
    std::atomic<std::uint32_t> count { 0 };
    std::atomic<Chunk*> next { nullptr };
    Event events[kCapacity];
};

/// Counts chunks alive in the process so that a writer that cannot keep up bounds memory instead of
/// growing it: past the limit, events are dropped and counted.
struct ChunkBudget {
    std::atomic<std::int64_t> live { 0 };
    std::int64_t limit = 4096;
    std::atomic<std::uint64_t> dropped { 0 };
};

/// Producer side of one thread's chain.
class EventProducer {
public:
    explicit EventProducer(ChunkBudget& budget) noexcept
        : m_budget(&budget)
    { }

    /// The first chunk, created when the thread registers (beyond the budget: every thread gets one);
    /// the consumer starts there.
    Chunk* first() noexcept
    {
        if (!m_tail) m_tail = allocate(true);
        return m_tail;
    }

    /// Returns a slot to fill, or nullptr when the budget is exhausted (the event is then counted as dropped).
    Event* reserve() noexcept
    {
        Chunk* c = m_tail;
        if (__builtin_expect(c == nullptr, 0)) return nullptr;
        std::uint32_t n = c->count.load(std::memory_order_relaxed);
        if (__builtin_expect(n == Chunk::kCapacity, 0)) {
            Chunk* fresh = allocate(false);
            if (!fresh) return nullptr;
            c->next.store(fresh, std::memory_order_release);
            m_tail = c = fresh;
            n = 0;
        }
        return &c->events[n];
    }

    /// Publishes the slot returned by the last reserve().
    void publish() noexcept
    {
        Chunk* c = m_tail;
        c->count.store(c->count.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    }

private:
    Chunk* allocate(bool force) noexcept
    {
        if (!force && m_budget->live.load(std::memory_order_relaxed) >= m_budget->limit) {
            m_budget->dropped.fetch_add(1, std::memory_order_relaxed);
            return nullptr;
        }
        Chunk* c = new (std::nothrow) Chunk;
        if (c) m_budget->live.fetch_add(1, std::memory_order_relaxed);
        return c;
    }

    ChunkBudget* m_budget;
    Chunk* m_tail = nullptr;
};

/// Consumer side of one thread's chain. Calls fn(const Event&) for each event not seen yet.
class EventConsumer {
public:
    explicit EventConsumer(ChunkBudget& budget) noexcept
        : m_budget(&budget)
    { }

    void attach(Chunk* first) noexcept { m_head = first; }

    template <typename Fn> std::uint64_t drain(Fn&& fn)
    {
        return drain(std::forward<Fn>(fn), [] { return false; });
    }

    /// As drain(fn), stopping at the end of a chunk when @p stop() says so (the next drain goes on from there).
    template <typename Fn, typename Stop> std::uint64_t drain(Fn&& fn, Stop&& stop)
    {
        std::uint64_t seen = 0;
        while (m_head) {
            const std::uint32_t n = m_head->count.load(std::memory_order_acquire);
            for (std::uint32_t i = m_consumed; i < n; ++i)
                fn(m_head->events[i]);
            seen += n - m_consumed;
            m_consumed = n;
            if (n < Chunk::kCapacity || stop()) break;
            Chunk* next = m_head->next.load(std::memory_order_acquire);
            if (!next) break;
            delete m_head;
            m_budget->live.fetch_sub(1, std::memory_order_relaxed);
            m_head = next;
            m_consumed = 0;
        }
        return seen;
    }

    /// Frees what is left; only when the producer is gone.
    void release() noexcept
    {
        while (m_head) {
            Chunk* next = m_head->next.load(std::memory_order_acquire);
            delete m_head;
            m_budget->live.fetch_sub(1, std::memory_order_relaxed);
            m_head = next;
        }
    }

private:
    ChunkBudget* m_budget;
    Chunk* m_head = nullptr;
    std::uint32_t m_consumed = 0;
};

} // namespace rooftime::collector
