// SPDX-License-Identifier: MIT
#pragma once

#include <string>

namespace rooftime::collector {

/// Problems the collector reports once each: one stderr line "rooftime: ..." and a row in the profile's
/// diagnostic table. The key identifies the problem; later reports with the same key are silent.
enum class Problem : int {
    OutputFile,
    Writer,
    EndWithoutBegin,
    EndClosedInner,
    EndUnmatched,
    WorkOutsideRegion,
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
