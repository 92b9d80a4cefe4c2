// SPDX-License-Identifier: MIT
#include "arch_table.h"

#include <array>

namespace rooftime::ceilings::gpu {
namespace {

// Per-SM rates are the published whole-GPU peaks divided by SMs × boost clock; each source line shows the product
// that reproduces the published figure. Tensor rates are dense (no 2:4 sparsity). Shared memory: 32 banks of 4 bytes
// each deliver one word per clock (CUDA C++ Programming Guide, shared memory of compute capability 5.x and later).
constexpr std::array kArchs = {
    ArchThroughput { 80, "A100", 64, 128, 512, 2048, 2048, 1024, 192 * 1024, 128, 128,
        "NVIDIA A100 Tensor Core GPU Architecture whitepaper, Table 1 (A100 SXM4: 108 SMs, 1410 MHz): FP64 9.7, "
        "FP32 19.5, FP16 78, tensor FP16/BF16 312, TF32 156 TFLOP/s dense; 192 KB L1/shared per SM",
        "" },
    ArchThroughput { 86, "A40, A10, RTX 30xx", 4, 256, 256, 1024, 1024, 512, 128 * 1024, 128, 128,
        "NVIDIA Ampere GA102 GPU Architecture whitepaper (RTX 3090: 82 SMs, 1695 MHz: FP32 35.6, FP64 0.56, "
        "FP16 35.6 TFLOP/s) and the A40 datasheet (84 SMs, 1740 MHz: tensor FP16/BF16 149.7, TF32 74.8 TFLOP/s "
        "dense); 128 KB L1/shared per SM",
        "GeForce parts run tensor FP16/BF16/TF32 with FP32 accumulate at half this rate" },
    ArchThroughput { 89, "L40S, L4, RTX 40xx", 4, 256, 256, 1024, 1024, 512, 128 * 1024, 128, 128,
        "NVIDIA Ada GPU Architecture whitepaper (RTX 4090: 128 SMs, 2520 MHz: FP32 82.6, FP64 1.3, FP16 82.6 "
        "TFLOP/s) and the L40S datasheet (142 SMs: tensor FP16/BF16 362, TF32 183 TFLOP/s dense); 128 KB "
        "L1/shared per SM",
        "GeForce parts run tensor FP16/BF16/TF32 with FP32 accumulate at half this rate" },
    ArchThroughput { 90, "H100, H200", 128, 256, 512, 4096, 4096, 2048, 256 * 1024, 128, 128,
        "NVIDIA H100 Tensor Core GPU Architecture whitepaper (H100 SXM5: 132 SMs): FP64 33.5, FP32 66.9, FP16 133.8 "
        "TFLOP/s at 1980 MHz; tensor FP16/BF16 989.4, TF32 494.7 TFLOP/s dense at 1830 MHz; 256 KB L1/shared per SM",
        "the whitepaper's tensor peaks use a 1830 MHz boost clock (H100 SXM5), lower than the maximum SM clock; "
        "WMMA compiles to mma.sync (HMMA), which on Hopper does not reach the wgmma peak" },
};

} // namespace

const ArchThroughput* findArch(int major, int minor)
{
    for (const auto& a : kArchs)
        if (a.sm == major * 10 + minor) return &a;
    return nullptr;
}

} // namespace rooftime::ceilings::gpu
