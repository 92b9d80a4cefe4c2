// SPDX-License-Identifier: MIT
// CPU part of `rooftime ceilings`: peak FLOP/s per precision and instruction set, bandwidth per level from
// working-set sweeps, the core clock, and the theoretical values beside them.
#pragma once

#include <functional>
#include <string>

#include "rooftime/analyzer/machine.h"

namespace rooftime::ceilings {

struct CpuMeasureOptions {
    bool quick = false; ///< < 10 s: fewer sweep points, shorter repetitions, no copy pattern
    std::function<void(const std::string&)> progress; ///< one line per measurement
};

/// Fills model.cpu (from /proc and sysfs) without measuring anything.
void probeCpu(analyzer::MachineModel& model);
/// Measures and appends the CPU ceilings, sweeps and notes to @p model (probeCpu first).
void measureCpu(analyzer::MachineModel& model, const CpuMeasureOptions& options);

} // namespace rooftime::ceilings
