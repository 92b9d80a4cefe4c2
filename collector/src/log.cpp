// SPDX-License-Identifier: MIT
#include "log.h"

#include "recording.h"

#include <atomic>
#include <unistd.h>

namespace rooftime::collector {

namespace {
std::atomic<bool> g_reported[static_cast<int>(Problem::kCount)];
}

void printLine(const std::string& message) noexcept
{
    try {
        std::string line = "rooftime: " + message + "\n";
        const char* p = line.data();
        size_t left = line.size();
        while (left > 0) {
            ssize_t n = ::write(STDERR_FILENO, p, left);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return;
            p += n;
            left -= static_cast<size_t>(n);
        }
    } catch (...) { }
}

bool reportProblem(Problem key, const std::string& message) noexcept
{
    if (g_reported[static_cast<int>(key)].exchange(true)) return false;
    printLine(message);
    Recording::instance().addDiagnostic("collector", message);
    return true;
}

} // namespace rooftime::collector
