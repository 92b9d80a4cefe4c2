// SPDX-License-Identifier: MIT
#pragma once

#include <pthread.h>
#include <string>

namespace rooftime::collector {

/// Holds off the calling thread's cancellation around the collector's own cancellation points on a program's
/// thread (the write() of a message or a wake-up, the nanosleep() of the waits at exit, fork and exec): a
/// program's pending cancel must not unwind through the collector's state. The marker calls' fast path has
/// none and goes without (13 ns a guard). Restores the program's state when it goes.
class NoCancel {
public:
    NoCancel() noexcept { pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &m_old); }
    ~NoCancel() { pthread_setcancelstate(m_old, nullptr); }
    NoCancel(const NoCancel&) = delete;
    NoCancel& operator=(const NoCancel&) = delete;

private:
    int m_old = PTHREAD_CANCEL_ENABLE;
};

/// Problems the collector reports once each: one stderr line "rooftime: ..." and a row in the profile's
/// diagnostic table. The key identifies the problem; later reports with the same key are silent.
enum class Problem : int {
    OutputFile,
    Writer,
    EndWithoutBegin,
    EndClosedInner,
    EndUnmatched,
    WorkOutsideRegion,
    BadWork,
    BadParam,
    BufferFull,
    CountersUnavailable,
    ForkWhileBusy,
    ExitTimeout,
    MachineFile,
    kCount
};

/// Reports a problem. Safe from any thread; never throws. Returns true the first time for this key.
bool reportProblem(Problem key, const std::string& message) noexcept;

/// Writes a line "rooftime: <message>" to stderr with a single write(2), not through stdio, so the host's
/// buffered output is untouched.
void printLine(const std::string& message) noexcept;

} // namespace rooftime::collector
