// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <vector>

namespace rooftime::cli {

struct RecordOptions {
    std::string output; ///< pattern, empty for the default
    std::string mode = "time";
    std::string machine; ///< --machine FILE: embed this model instead of the cached one
    bool noMachine = false; ///< --no-machine: embed none
    bool callStacks = false; ///< --call-stacks: host call stack at each region begin (ROOFTIME_STACKS=1)
    std::string counters; ///< --counters all|K: GPU launches measured per kernel (empty: the collector's default)
    std::string counterSet; ///< --counter-set tier1|tier2 (empty: tier1)
    std::vector<std::string> command;
};

/// Runs the command under the collector and returns its exit status (128+signal when it was killed).
int runRecord(const RecordOptions& options);

} // namespace rooftime::cli
