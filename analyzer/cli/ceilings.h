// SPDX-License-Identifier: MIT
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "rooftime/analyzer/machine.h"

namespace rooftime::cli {

struct CeilingsOptions {
    bool cpu = false; ///< --cpu given
    std::vector<int> gpus; ///< --gpu N given (repeatable)
    bool quick = false;
    std::string output; ///< -o FILE, empty: the per-user cache
    bool show = false;
    std::string showFile; ///< --show FILE; empty: the cached model of this hardware
};

/// `rooftime ceilings`: measure (or --show) the machine model. Returns the exit code.
int runCeilings(const CeilingsOptions& options);

/// The machine file `rooftime record` embeds: @p machineFile when given (validated, mismatches warned), else the
/// cached model of this hardware, measured in quick mode when there is none; says which on stderr (`rooftime:
/// machine model: …`). An empty string means none (with a message said). std::nullopt: an error that stops record
/// (message printed).
std::optional<std::string> machineForRecord(const std::string& machineFile);

/// Reads a --machine FILE; prints the error (prefixed by @p command) and, with @p againstThisMachine (record, which
/// measures here), the warning naming a mismatch with this machine's hardware. Analyses compare the file with the
/// hardware the profiles were recorded on instead (buildReport's machineWarnings). @p consequence ends that warning.
/// std::nullopt on error.
std::optional<analyzer::MachineModel> loadMachineOption(const std::string& command, const std::string& path,
    bool againstThisMachine = false, const char* consequence = "using it anyway");

} // namespace rooftime::cli
