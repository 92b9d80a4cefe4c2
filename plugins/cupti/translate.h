// SPDX-License-Identifier: MIT
/**
 * @file translate.h
 * @brief CUPTI activity records to the collector's plain records, and the launch table that joins them to the
 * launching thread and region. Pure functions of their inputs: unit-tested on synthetic records.
 */
#pragma once

#include "backend.h"

#include <cupti_activity.h>

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace rooftime::cupti {

namespace backend = rooftime::collector::backend;

/// The readable name of a kernel; `mangled` gets the input when it was a mangled C++ name, else stays empty.
std::string demangle(const char* name, std::string& mangled);

/// The profile's unit names for CUPTI's dimension units (docs/format.md, kernel_metric.unit): the host API says
/// `nanosecond` where the format and Nsight Compute imports say `nsecond`; values keep their scale.
std::string normaliseUnit(const char* cuptiUnit);

backend::KernelRecord translateKernel(const CUpti_ActivityKernel10& k);
backend::MemoryRecord translateMemcpy(const CUpti_ActivityMemcpy6& m);
backend::MemoryRecord translateMemset(const CUpti_ActivityMemset4& m);
backend::DeviceRecord translateDevice(const CUpti_ActivityDevice5& d);

/// Launching thread and region per correlation id, filled in launch callbacks (application threads) and read when
/// the records arrive (CUPTI's thread). Bounded: ids never matched (the runtime and the driver both report a
/// launch, one record carries one of the ids) are forgotten after about kGeneration newer launches.
class LaunchTable {
public:
    static constexpr std::size_t kGeneration = 1 << 16;

    void remember(std::uint32_t correlation, backend::LaunchContext context) noexcept;
    /// The context of a launch, removed from the table.
    std::optional<backend::LaunchContext> take(std::uint32_t correlation) noexcept;
    /// The context of a launch, left in the table (the kernels of a graph launch share its id).
    std::optional<backend::LaunchContext> find(std::uint32_t correlation) noexcept;
    std::size_t size() noexcept;
    void clear() noexcept;

private:
    std::mutex m_mutex;
    std::unordered_map<std::uint32_t, backend::LaunchContext> m_current;
    std::unordered_map<std::uint32_t, backend::LaunchContext> m_previous;
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
    }
}

} // namespace rooftime::cupti
