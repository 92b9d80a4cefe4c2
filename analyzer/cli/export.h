// SPDX-License-Identifier: MIT
// `rooftime export`: profiles as a timeline for Perfetto or chrome://tracing (analyzer/lib trace.h).
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace rooftime::cli {

struct ExportArgs {
    std::vector<std::string> profiles;
    std::string output;
    std::string format = "chrome";
    std::string from, to; ///< durations from each process's start (100ms, 2s); empty: its start, its end
    long long maxSlices = 500'000;
    std::string machine;
};

void addExportOptions(CLI::App& app, ExportArgs& args);
/// Writes the trace; one line on stderr either way. Returns 0, or 2 for a usage or input problem.
int runExport(const ExportArgs& args);

} // namespace rooftime::cli
