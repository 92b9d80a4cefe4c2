// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <ctime>

namespace rooftime::collector {

/// The one clock of a profile: CLOCK_MONOTONIC in nanoseconds (vDSO, no system call).
inline std::int64_t nowNs() noexcept
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

inline std::int64_t wallNowNs() noexcept
{
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

} // namespace rooftime::collector
