// SPDX-License-Identifier: MIT
// Launch wrappers for the GPU ceiling kernels (kernels.cu). The host code (compiled by the C++ compiler) sees only
// these functions and the CUDA runtime API, never a kernel: work counts are computed here from the constants below,
// analytically, so that every FLOP or byte reported can be traced to one line.
#pragma once

#include <cstddef>
#include <cstdint>

#include <cuda_runtime_api.h>

namespace rooftime::ceilings::gpu {

// ---- CUDA-core FMA peaks --------------------------------------------------------------------------------------

enum class FmaType { Fp64, Fp32, Fp16x2 };

/// Independent FMA chains per thread: enough to cover the FMA latency (4-8 cycles) from one warp.
inline constexpr int kFmaChains = 16;
/// FMA steps per chain per loop iteration: keeps loop overhead (counter, compare, branch) below 1% of issue slots.
inline constexpr int kFmaUnroll = 16;
inline constexpr int kFmaThreads = 256;

/// FLOPs of one FMA instruction per thread: 2 (a·b+c), 4 for half2 (two lanes).
constexpr int fmaFlopsPerInstruction(FmaType t)
{
    return t == FmaType::Fp16x2 ? 4 : 2;
}

/// Start and end of one block as seen by its thread 0: SM cycles (clock64) and nanoseconds (%globaltimer).
struct BlockClock {
    long long cycles0 = 0, cycles1 = 0;
    unsigned long long ns0 = 0, ns1 = 0;
};

/// Resident blocks of kFmaThreads threads per SM for the FMA kernel of @p t.
cudaError_t fmaBlocksPerSm(FmaType t, int* blocks);
/// Each of blocks × kFmaThreads threads runs iterations × kFmaUnroll × kFmaChains FMAs. @p sink (16 bytes) is
/// written only if the result equals an impossible value, so the work cannot be removed. @p clocks: nullptr or one
/// BlockClock per block.
cudaError_t launchFma(FmaType t, int blocks, int iterations, void* sink, BlockClock* clocks, cudaStream_t stream);

// ---- Tensor-core (WMMA) peaks ---------------------------------------------------------------------------------

enum class MmaType { Fp16, Bf16, Tf32 };

/// Independent accumulator fragments per warp: covers the mma.sync latency.
inline constexpr int kMmaAccumulators = 8;
inline constexpr int kMmaThreads = 256;
inline constexpr int kMmaWarps = kMmaThreads / 32;

/// K of the WMMA shape 16×16×K: 16 for fp16/bf16, 8 for tf32.
constexpr int mmaK(MmaType t)
{
    return t == MmaType::Tf32 ? 8 : 16;
}
/// FLOPs of one wmma::mma_sync: 2·M·N·K.
constexpr double mmaFlops(MmaType t)
{
    return 2.0 * 16 * 16 * mmaK(t);
}
/// Bytes of one input tile (16×K elements: 2 bytes for fp16/bf16, 4 for tf32 stored as float).
constexpr std::size_t mmaTileBytes(MmaType t)
{
    return static_cast<std::size_t>(16 * mmaK(t)) * (t == MmaType::Tf32 ? 4 : 2);
}

cudaError_t mmaBlocksPerSm(MmaType t, int* blocks);
/// Each warp of blocks × kMmaWarps runs iterations × kMmaAccumulators mma_sync on fragments loaded once from @p a
/// and @p b (one tile each). @p out (kMmaWarps × blocks × 256 floats) is written only if the sum is impossible.
cudaError_t launchMma(
    MmaType t, int blocks, int iterations, const void* a, const void* b, float* out, cudaStream_t stream);

// ---- Memory bandwidth -----------------------------------------------------------------------------------------

enum class StreamPattern { Read, Write, Copy };

inline constexpr int kStreamThreads = 256;
/// A slice is a multiple of this many bytes: one float4 per thread of a block.
inline constexpr std::size_t kStreamUnitBytes = kStreamThreads * 16;

/// Resident blocks per SM (the fewer of the two variants); also asks for the largest L1 (smallest shared-memory
/// carve-out) for the stream kernels.
cudaError_t streamBlocksPerSm(StreamPattern p, int* blocks);
/// The working set is @p slices slices of @p sliceBytes (a multiple of kStreamUnitBytes) each; each slice is touched
/// once per pass when slices == blocks. Without @p beyondL1 (sets that may fit in L1), in pass p block b streams
/// slice (b + p) mod slices, so every SM sees the whole working set over a few passes and only a set that fits in
/// its L1 is served from there. With @p beyondL1, loads bypass L1 (ld.global.cg) and block b streams slice
/// b mod slices in every pass: no block rereads, a pass later, what another has just read, so a set larger than L2
/// comes from HBM (blocks sharing a slice, where slices < blocks, read it at the same time). Copy reads @p src and
/// writes @p dst with the same slicing.
cudaError_t launchStream(StreamPattern p, bool beyondL1, int blocks, const void* src, void* dst, std::size_t slices,
    std::size_t sliceBytes, int passes, float* sink, cudaStream_t stream);

/// Shared memory: each thread reads kSharedLoads float4 per iteration, conflict-free (a warp reads 512 contiguous
/// bytes), from a kSharedBytes buffer per block.
inline constexpr int kSharedThreads = 256;
inline constexpr int kSharedLoads = 8;
inline constexpr std::size_t kSharedBytes = 32 * 1024;
cudaError_t sharedBlocksPerSm(int* blocks);
cudaError_t launchShared(int blocks, int iterations, float* sink, cudaStream_t stream);

// ---- Launch floor and helpers ---------------------------------------------------------------------------------

/// An empty kernel, one thread.
cudaError_t launchEmpty(cudaStream_t stream);
/// One thread writes @p token to @p flag (mapped host memory) and fences it to the system.
cudaError_t launchFlag(int* flag, int token, cudaStream_t stream);

enum class FillType { Fp16, Bf16, Fp32 };
/// Fills @p count elements with pseudo-random values in [-1, 1): GEMM timings on zeros draw less power and
/// run at higher clocks than on real data.
cudaError_t launchFill(FillType t, void* data, std::size_t count, std::uint32_t seed, cudaStream_t stream);

} // namespace rooftime::ceilings::gpu
