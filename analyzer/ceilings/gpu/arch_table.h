// SPDX-License-Identifier: MIT
// Per-architecture peak throughput per SM per clock: the data behind every "theoretical" value that
// rooftime-ceilings-gpu prints. One table, one place (arch_table.cpp), each row with its published source.
#pragma once

#include <string_view>

namespace rooftime::ceilings::gpu {

struct ArchThroughput {
    int sm = 0; ///< compute capability × 10 + minor: 80, 86, 89, 90
    std::string_view parts; ///< representative products the numbers were checked against
    // FLOP per clock per SM (an FMA counts 2).
    double fp64Fma = 0; ///< CUDA cores, DFMA
    double fp32Fma = 0; ///< CUDA cores, FFMA
    double fp16Fma = 0; ///< CUDA cores, HFMA2 (two lanes)
    double tensorFp16 = 0; ///< tensor cores, fp16 inputs, fp32 accumulate, dense
    double tensorBf16 = 0; ///< tensor cores, bf16 inputs, fp32 accumulate, dense
    double tensorTf32 = 0; ///< tensor cores, tf32 inputs, fp32 accumulate, dense
    // Memory per SM.
    double l1Bytes = 0; ///< unified L1 / shared-memory array
    double sharedBytesPerClock = 0; ///< 32 banks × 4 bytes
    double l1BytesPerClock = 0; ///< load path of L1 hits (assumed equal to the shared-memory path)
    std::string_view source; ///< where the numbers come from, with the published totals they reproduce
    std::string_view tensorNote; ///< caveat for the tensor rows (empty if none)
};

/// The row for compute capability @p major.@p minor, or nullptr (theoretical values are then null).
const ArchThroughput* findArch(int major, int minor);

} // namespace rooftime::ceilings::gpu
