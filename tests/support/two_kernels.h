// SPDX-License-Identifier: MIT
// A synthetic GPU profile of two kernels with counters, shared by the plot and GUI tests: "gemm" (gemmNs, gemmFfma
// FFMA instructions, 6 GB from HBM) and "axpy" (1 ms, 1e8 FFMA, 1.2 GB), on an H100, in a 5 ms process.
#pragma once

#include "rooftime/analyzer/profile_builder.h"

#include <cstdint>
#include <string>

namespace rooftime::test {

/// Writes the profile at @p path with @p machineJson embedded (none when null).
inline void writeTwoKernelProfile(
    const std::string& path, const char* machineJson, double gemmFfma, std::int64_t gemmNs = 3'000'000)
{
    analyzer::ProfileBuilder b(path, "gpu-node", "train.py", "python train.py");
    b.addDevice(0, "NVIDIA H100", "sm_90", 132);
    if (machineJson) b.addMachine("test", machineJson);
    analyzer::KernelRecord k;
    k.id = 1;
    k.name = "gemm";
    k.durationNs = gemmNs;
    k.replayed = true;
    b.addKernel(k);
    b.addKernelMetric(1, "smsp__sass_thread_inst_executed_op_ffma_pred_on.sum", gemmFfma, "inst");
    b.addKernelMetric(1, "dram__bytes_read.sum", 6e9, "byte");
    k.id = 2;
    k.name = "axpy";
    k.durationNs = 1'000'000;
    b.addKernel(k);
    b.addKernelMetric(2, "smsp__sass_thread_inst_executed_op_ffma_pred_on.sum", 1e8, "inst");
    b.addKernelMetric(2, "dram__bytes_read.sum", 1.2e9, "byte");
    b.finish(5'000'000);
}

} // namespace rooftime::test
