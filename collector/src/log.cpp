// SPDX-License-Identifier: MIT
#include "log.h"

#include "recording.h"

#include <atomic>
#include <csignal>
#include <ctime>
#include <unistd.h>

namespace rooftime::collector {

namespace {
std::atomic<bool> g_reported[static_cast<int>(Problem::kCount)];
}

void printLine(const std::string& message) noexcept
{
    const NoCancel noCancel;
    const int savedErrno = errno; // the program's, around the call it made
    // A stderr whose reader is gone (a closed pipe) must not kill the program with SIGPIPE: blocked for this
    // write, and the SIGPIPE it raised taken back unless one was pending already.
    sigset_t pipeSet, old, pending;
    sigemptyset(&pipeSet);
    sigaddset(&pipeSet, SIGPIPE);
    sigemptyset(&pending);
    sigpending(&pending);
    const bool wasPending = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipeSet, &old);
    bool broken = false;
    try {
        std::string line = "rooftime: " + message + "\n";
        const char* p = line.data();
        size_t left = line.size();
        while (left > 0) {
            ssize_t n = ::write(STDERR_FILENO, p, left);
            if (n < 0 && errno == EINTR) continue;
            broken = n < 0 && errno == EPIPE;
            if (n <= 0) break;
            p += n;
            left -= static_cast<size_t>(n);
        }
    } catch (...) { }
    if (broken && !wasPending) {
        const timespec zero {};
        while (sigtimedwait(&pipeSet, nullptr, &zero) < 0 && errno == EINTR) { }
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    errno = savedErrno;
}

bool reportProblem(Problem key, const std::string& message) noexcept
{
    if (g_reported[static_cast<int>(key)].exchange(true)) return false;
    printLine(message);
    Recording::instance().addDiagnostic("collector", message);
    return true;
}

} // namespace rooftime::collector
