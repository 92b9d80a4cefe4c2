// SPDX-License-Identifier: MIT
// The cuBLAS cross-check: a large GEMM through libcublas.so.13, loaded with dlopen at run time so that the companion
// runs (and is built) without cuBLAS. Its numbers are a second opinion beside the WMMA kernels, never a roof.
#pragma once

#include <string>
#include <vector>

#include <cuda_runtime_api.h>

namespace rooftime::ceilings::gpu {

struct GemmTiming {
    std::string precision; ///< fp16 or bf16 inputs (fp32 compute)
    int n = 0; ///< M = N = K
    int calls = 0; ///< GEMMs per timed batch
    double seconds = 0; ///< best batch / calls
    double flops() const { return 2.0 * n * n * static_cast<double>(n); }
};

/// Times fp16 and bf16 GEMMs with fp32 compute. What cannot be done (no library, a cuBLAS error) is appended to
/// @p notes and the run goes on; CUDA runtime errors throw CudaError.
std::vector<GemmTiming> timeCublasGemms(bool quick, cudaStream_t stream, std::vector<std::string>& notes);

} // namespace rooftime::ceilings::gpu
