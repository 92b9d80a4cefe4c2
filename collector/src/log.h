// SPDX-License-Identifier: MIT
#pragma once

#include <pthread.h>
#include <string>

namespace rooftime::collector {

/// Holds off the calling thread's cancellation while the collector runs on it: its write(), poll() and
/// nanosleep() are cancellation points, and a program's pending (or asynchronous) cancel must not unwind
/// through the collector's state. Restores the program's state when it goes.
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
