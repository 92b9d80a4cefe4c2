// SPDX-License-Identifier: MIT
/**
 * @file translate.h
 * @brief CUPTI activity records to the collector's plain records, and the launch table that joins them to the
 * launching thread and region. Pure functions of their inputs: unit-tested on synthetic records.
 */
#pragma once

#include "backend.h"

#include <cupti_activity.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace rooftime::cupti {

namespace backend = rooftime::collector::backend;

/// The readable name of a kernel; `mangled` gets the input when it was a mangled C++ name, else stays empty.
std::string demangle(const char* name, std::string& mangled);

/// The profile's unit names for CUPTI's dimension units (docs/format.md, kernel_metric.unit): the host API says
/// `nanosecond` where the format and Nsight Compute imports say `nsecond`; values keep their scale.
std::string normaliseUnit(const char* cuptiUnit);

/// Why counters stop after a failed profiler call, for the user (`why`, with the fix where there is one) and for
/// the profile's `meta.counters` (`status`).
struct CounterFailure {
    std::string why;
    std::string status;
};
/// The known causes (no permission, MIG, confidential computing, counters held by DCGM) whichever profiler call
/// meets them first, else "cannot DOING (CODE)". @p codeText: CUPTI's name for @p rc.
CounterFailure counterFailure(CUptiResult rc, const std::string& doing, const std::string& codeText);

backend::KernelRecord translateKernel(const CUpti_ActivityKernel10& k);
backend::MemoryRecord translateMemcpy(const CUpti_ActivityMemcpy6& m);
backend::MemoryRecord translateMemset(const CUpti_ActivityMemset4& m);
backend::DeviceRecord translateDevice(const CUpti_ActivityDevice5& d);

/// Launching thread and region per correlation id, filled in launch callbacks (application threads) and read when
/// the records arrive (CUPTI's thread). A ring indexed by the id (CUPTI numbers API calls in sequence), without
/// a lock or an allocation on the launching thread: each slot is a seqlock, so a reader that meets a slot being
/// rewritten retries or gives up, never waits on a writer. Bounded: an id is forgotten kSlots ids later (ids never
/// matched, as the runtime and the driver both report a launch and one record carries one of them, need no
/// cleaning).
class LaunchTable {
public:
    static constexpr std::uint32_t kSlots = 1u << 17;

    LaunchTable();
    void remember(std::uint32_t correlation, backend::LaunchContext context) noexcept;
    /// The context of a launch, removed from the table.
    std::optional<backend::LaunchContext> take(std::uint32_t correlation) noexcept;
    /// The context of a launch, left in the table (the kernels of a graph launch share its id).
    std::optional<backend::LaunchContext> find(std::uint32_t correlation) noexcept;
    /// Ids held (a scan of the ring: for tests).
    std::size_t size() noexcept;
    void clear() noexcept;

private:
    struct Slot {
        std::atomic<std::uint32_t> seq { 0 }; ///< odd while the slot is written
        std::atomic<std::uint32_t> id { 0 }; ///< 0: empty
        std::atomic<std::uint32_t> thread { 0 }, stack { 0 };
        std::atomic<std::uint64_t> region { 0 };
        std::atomic<std::int64_t> launchNs { 0 };
    };
    std::optional<backend::LaunchContext> read(std::uint32_t correlation, bool take) noexcept;
    std::unique_ptr<Slot[]> m_slots;
};

/// Fills thread and region of a record from the table. shared: the id stays for the other kernels of the same
/// graph launch (CUpti_ActivityKernel10::graphId != 0), which carry the one cuGraphLaunch correlation id.
template <typename Record> void joinLaunch(Record& r, LaunchTable& table, bool shared = false) noexcept
{
    if (r.correlation == 0) return;
    const auto id = static_cast<std::uint32_t>(r.correlation);
    if (auto c = shared ? table.find(id) : table.take(id)) {
        r.thread = c->thread;
        r.region = c->region;
        if constexpr (requires { r.stack; }) r.stack = c->stack;
        if constexpr (requires { r.launchNs; }) r.launchNs = c->launchNs;
    }
}

/// Joins the kernel records of measured launches (CUPTI's buffer thread) with their counter values (decoded on a
/// launching thread), whichever comes first. A measured launch is known by several correlation ids (the runtime
/// call, a runtime call inside it, the driver call); its record carries one of them. Thread-safe; never calls
/// CUPTI, so that its every path is unit-tested without a GPU.
class CounterMatcher {
public:
    using Values = std::vector<backend::MetricValue>;

    /// A launch that will be measured, known by @p id and, when not 0, by @p outer (the runtime call around it).
    void measured(std::uint32_t id, std::uint32_t outer = 0);
    /// @p other is one more id of the measured launch @p id; false (nothing done) when @p id is not measured.
    bool alias(std::uint32_t id, std::uint32_t other);
    bool isMeasured(std::uint32_t id);
    /// The values of measured launches, each by any one of its ids. Returns the held records they complete.
    std::vector<backend::KernelRecord> decoded(std::vector<std::pair<std::uint32_t, Values>>&& values);
    /// Measured launches whose values will never come (by any of their ids): their held records, without counters.
    std::vector<backend::KernelRecord> lost(const std::vector<std::uint32_t>& ids);
    /// Records of measured launches get their values (replayed = true); those whose values are not there yet are
    /// held (taken out of @p kernels); the others pass as they are.
    void deliver(std::vector<backend::KernelRecord>& kernels);
    /// Every held record, without counters (at exit).
    std::vector<backend::KernelRecord> drain();
    /// Measured launches not yet done with (record or values still due).
    std::size_t pending();

private:
    struct Launch {
        std::vector<std::uint32_t> ids;
        std::optional<Values> values;
        std::optional<backend::KernelRecord> record;
    };
    /// Erases launch @p key and its ids. m_mutex held.
    void eraseLocked(std::uint32_t key);

    std::mutex m_mutex;
    std::unordered_map<std::uint32_t, Launch> m_launches; ///< by the launch's first id
    std::unordered_map<std::uint32_t, std::uint32_t> m_keyOf; ///< every id of a measured launch -> its first id
};

} // namespace rooftime::cupti
