// SPDX-License-Identifier: MIT
// The ceiling kernels and their thin launch wrappers. Every kernel ends by comparing a value derived from all of its
// work with a number passed at run time that it can never equal, and stores only then: the compiler must keep all
// the work, and the store (never taken) costs nothing. README.md lists the SASS each hot loop compiles to.
#include "kernels.h"

#include <algorithm>

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <mma.h>

namespace rooftime::ceilings::gpu {
namespace {

// Passed as a kernel argument: the kernels cannot know that no result equals it.
constexpr float kImpossible = -1.25e30f;

__device__ __forceinline__ unsigned long long globalTimer()
{
    unsigned long long t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
    return t;
}

// ---- FMA ------------------------------------------------------------------------------------------------------

template <typename T> struct FmaOps;

template <> struct FmaOps<double> {
    static __device__ __forceinline__ double make(float v) { return v; }
    static __device__ __forceinline__ double fma(double a, double m, double c) { return __fma_rn(a, m, c); }
    static __device__ __forceinline__ float toFloat(double v) { return static_cast<float>(v); }
};

template <> struct FmaOps<float> {
    static __device__ __forceinline__ float make(float v) { return v; }
    static __device__ __forceinline__ float fma(float a, float m, float c) { return __fmaf_rn(a, m, c); }
    static __device__ __forceinline__ float toFloat(float v) { return v; }
};

template <> struct FmaOps<__half2> {
    static __device__ __forceinline__ __half2 make(float v) { return __float2half2_rn(v); }
    static __device__ __forceinline__ __half2 fma(__half2 a, __half2 m, __half2 c) { return __hfma2(a, m, c); }
    static __device__ __forceinline__ float toFloat(__half2 v) { return __low2float(v) + __high2float(v); }
};

// a ← a·m + c with m < 1 converges to c / (1 − m): no overflow or denormals whatever the iteration count.
template <typename T>
__global__ void __launch_bounds__(kFmaThreads)
    fmaKernel(int iterations, float mulValue, float addValue, float impossible, float* sink, BlockClock* clocks)
{
    using Ops = FmaOps<T>;
    if (clocks != nullptr && threadIdx.x == 0) {
        clocks[blockIdx.x].cycles0 = clock64();
        clocks[blockIdx.x].ns0 = globalTimer();
    }
    const T mul = Ops::make(mulValue);
    const T add = Ops::make(addValue);
    T acc[kFmaChains];
#pragma unroll
    for (int j = 0; j < kFmaChains; ++j) {
        acc[j] = Ops::make(1.0f + 0.001f * static_cast<float>((threadIdx.x + j) & 15));
    }
    // Not unrolled further: kFmaUnroll × kFmaChains instructions already amortise the loop, and a larger body
    // (nvcc unrolls the half2 loop 4× on its own) outgrows the per-SMSP instruction cache.
#pragma unroll 1
    for (int i = 0; i < iterations; ++i) {
#pragma unroll
        for (int u = 0; u < kFmaUnroll; ++u) {
#pragma unroll
            for (int j = 0; j < kFmaChains; ++j)
                acc[j] = Ops::fma(acc[j], mul, add);
        }
    }
    if (clocks != nullptr && threadIdx.x == 0) {
        clocks[blockIdx.x].cycles1 = clock64();
        clocks[blockIdx.x].ns1 = globalTimer();
    }
    float sum = 0.0f;
#pragma unroll
    for (int j = 0; j < kFmaChains; ++j)
        sum += Ops::toFloat(acc[j]);
    if (sum == impossible) sink[0] = sum;
}

template <typename T> const void* fmaKernelFor()
{
    return reinterpret_cast<const void*>(&fmaKernel<T>);
}

const void* fmaKernelOf(FmaType t)
{
    switch (t) {
    case FmaType::Fp64:
        return fmaKernelFor<double>();
    case FmaType::Fp32:
        return fmaKernelFor<float>();
    case FmaType::Fp16x2:
        return fmaKernelFor<__half2>();
    }
    return nullptr;
}

// ---- WMMA -----------------------------------------------------------------------------------------------------

template <MmaType kType> struct MmaTraits;
template <> struct MmaTraits<MmaType::Fp16> {
    using In = __half;
    using Frag = __half;
    static constexpr int kK = 16;
};
template <> struct MmaTraits<MmaType::Bf16> {
    using In = __nv_bfloat16;
    using Frag = __nv_bfloat16;
    static constexpr int kK = 16;
};
template <> struct MmaTraits<MmaType::Tf32> {
    using In = float;
    using Frag = nvcuda::wmma::precision::tf32;
    static constexpr int kK = 8;
};
// The host computes FLOPs from mmaK(): it must agree with the shapes compiled here.
static_assert(MmaTraits<MmaType::Fp16>::kK == mmaK(MmaType::Fp16) && MmaTraits<MmaType::Bf16>::kK == mmaK(MmaType::Bf16)
    && MmaTraits<MmaType::Tf32>::kK == mmaK(MmaType::Tf32));

// One A and one B fragment stay in registers; kMmaAccumulators independent accumulators keep the tensor pipe busy
// while each mma_sync waits for its predecessor on the same accumulator.
template <MmaType kType>
__global__ void __launch_bounds__(kMmaThreads) mmaKernel(int iterations, const typename MmaTraits<kType>::In* a,
    const typename MmaTraits<kType>::In* b, float* out, float impossible)
{
    namespace wmma = nvcuda::wmma;
    using Frag = typename MmaTraits<kType>::Frag;
    constexpr int kK = MmaTraits<kType>::kK;
    wmma::fragment<wmma::matrix_a, 16, 16, kK, Frag, wmma::row_major> fa;
    wmma::fragment<wmma::matrix_b, 16, 16, kK, Frag, wmma::col_major> fb;
    wmma::load_matrix_sync(fa, a, kK);
    wmma::load_matrix_sync(fb, b, kK);
    if constexpr (kType == MmaType::Tf32) {
        for (int e = 0; e < fa.num_elements; ++e)
            fa.x[e] = wmma::__float_to_tf32(fa.x[e]);
        for (int e = 0; e < fb.num_elements; ++e)
            fb.x[e] = wmma::__float_to_tf32(fb.x[e]);
    }
    wmma::fragment<wmma::accumulator, 16, 16, kK, float> acc[kMmaAccumulators];
#pragma unroll
    for (int j = 0; j < kMmaAccumulators; ++j)
        wmma::fill_fragment(acc[j], 0.0f);
    for (int i = 0; i < iterations; ++i) {
#pragma unroll
        for (int j = 0; j < kMmaAccumulators; ++j)
            wmma::mma_sync(acc[j], fa, fb, acc[j]);
    }
    float sum = 0.0f;
#pragma unroll
    for (int j = 0; j < kMmaAccumulators; ++j) {
        for (int e = 0; e < acc[j].num_elements; ++e)
            sum += acc[j].x[e];
    }
    if (sum == impossible) {
        const unsigned warp = (blockIdx.x * blockDim.x + threadIdx.x) / 32;
        wmma::store_matrix_sync(out + static_cast<size_t>(warp) * 256, acc[0], 16, wmma::mem_row_major);
    }
}

template <MmaType kType> const void* mmaKernelFor()
{
    return reinterpret_cast<const void*>(&mmaKernel<kType>);
}

const void* mmaKernelOf(MmaType t)
{
    switch (t) {
    case MmaType::Fp16:
        return mmaKernelFor<MmaType::Fp16>();
    case MmaType::Bf16:
        return mmaKernelFor<MmaType::Bf16>();
    case MmaType::Tf32:
        return mmaKernelFor<MmaType::Tf32>();
    }
    return nullptr;
}

template <MmaType kType>
cudaError_t launchMmaAs(int blocks, int iterations, const void* a, const void* b, float* out, cudaStream_t stream)
{
    using In = typename MmaTraits<kType>::In;
    mmaKernel<kType><<<blocks, kMmaThreads, 0, stream>>>(
        iterations, static_cast<const In*>(a), static_cast<const In*>(b), out, kImpossible);
    return cudaGetLastError();
}

// ---- Streaming ------------------------------------------------------------------------------------------------

__device__ __forceinline__ void add4(float4& acc, const float4& v)
{
    acc.x += v.x;
    acc.y += v.y;
    acc.z += v.z;
    acc.w += v.w;
}

// Sets up to L1 (kBeyondL1 false): in pass p block b reads slice (b + p) mod slices, so that every SM sees the whole
// set and only a set that fits in its L1 is served from there. Larger sets (kBeyondL1 true): loads bypass L1
// (ld.global.cg) and each block keeps its own slice. The rotation let a block read, one pass later, the slice its
// neighbour had just read: on the H200 the read sweep ran at 21 TB/s over L2-sized sets (above the 15.4 TB/s L2
// peak of its own counters) and at 13.7 TB/s over a 268 MB set (HBM: 4.8 TB/s), the neighbours' loads served from
// their SM's L1 or from L2.
template <bool kBeyondL1> __device__ __forceinline__ float4 load4(const float4* p)
{
    if constexpr (kBeyondL1)
        return __ldcg(p);
    else
        return *p;
}

template <bool kBeyondL1> __device__ __forceinline__ size_t nextSlice(size_t slice, size_t slices)
{
    if constexpr (kBeyondL1)
        return slice;
    else
        return slice + 1 == slices ? 0 : slice + 1; // (b + p) mod slices without a 64-bit division per pass
}

// Four independent loads per step keep enough bytes in flight per thread for HBM; the remainder loop handles slices
// that are not a multiple of four units.
template <bool kBeyondL1>
__global__ void __launch_bounds__(kStreamThreads) readKernel(
    const float4* __restrict__ src, size_t slices, int vecPerThread, int passes, float* sink, float impossible)
{
    float4 a0 = make_float4(0, 0, 0, 0), a1 = a0, a2 = a0, a3 = a0;
    const size_t sliceVec = static_cast<size_t>(vecPerThread) * kStreamThreads;
    size_t slice = blockIdx.x % slices;
    for (int p = 0; p < passes; ++p) {
        const float4* s = src + slice * sliceVec + threadIdx.x;
        int k = 0;
        for (; k + 4 <= vecPerThread; k += 4) {
            const float4 v0 = load4<kBeyondL1>(s + (k + 0) * kStreamThreads);
            const float4 v1 = load4<kBeyondL1>(s + (k + 1) * kStreamThreads);
            const float4 v2 = load4<kBeyondL1>(s + (k + 2) * kStreamThreads);
            const float4 v3 = load4<kBeyondL1>(s + (k + 3) * kStreamThreads);
            add4(a0, v0);
            add4(a1, v1);
            add4(a2, v2);
            add4(a3, v3);
        }
        for (; k < vecPerThread; ++k)
            add4(a0, load4<kBeyondL1>(s + k * kStreamThreads));
        slice = nextSlice<kBeyondL1>(slice, slices);
    }
    add4(a0, a1);
    add4(a2, a3);
    add4(a0, a2);
    const float sum = a0.x + a0.y + a0.z + a0.w;
    if (sum == impossible) sink[0] = sum;
}

// The stored value changes per pass so that no pass can be recognised as rewriting what the previous one wrote.
template <bool kBeyondL1>
__global__ void __launch_bounds__(kStreamThreads)
    writeKernel(float4* __restrict__ dst, size_t slices, int vecPerThread, int passes, float value)
{
    const size_t sliceVec = static_cast<size_t>(vecPerThread) * kStreamThreads;
    size_t slice = blockIdx.x % slices;
    for (int p = 0; p < passes; ++p) {
        const float v = value + static_cast<float>(p);
        const float4 v4 = make_float4(v, v, v, v);
        float4* d = dst + slice * sliceVec + threadIdx.x;
#pragma unroll 4
        for (int k = 0; k < vecPerThread; ++k)
            d[k * kStreamThreads] = v4;
        slice = nextSlice<kBeyondL1>(slice, slices);
    }
}

template <bool kBeyondL1>
__global__ void __launch_bounds__(kStreamThreads)
    copyKernel(const float4* __restrict__ src, float4* __restrict__ dst, size_t slices, int vecPerThread, int passes)
{
    const size_t sliceVec = static_cast<size_t>(vecPerThread) * kStreamThreads;
    size_t slice = blockIdx.x % slices;
    for (int p = 0; p < passes; ++p) {
        const size_t base = slice * sliceVec + threadIdx.x;
        const float4* s = src + base;
        float4* d = dst + base;
        int k = 0;
        for (; k + 4 <= vecPerThread; k += 4) {
            const float4 v0 = load4<kBeyondL1>(s + (k + 0) * kStreamThreads);
            const float4 v1 = load4<kBeyondL1>(s + (k + 1) * kStreamThreads);
            const float4 v2 = load4<kBeyondL1>(s + (k + 2) * kStreamThreads);
            const float4 v3 = load4<kBeyondL1>(s + (k + 3) * kStreamThreads);
            d[(k + 0) * kStreamThreads] = v0;
            d[(k + 1) * kStreamThreads] = v1;
            d[(k + 2) * kStreamThreads] = v2;
            d[(k + 3) * kStreamThreads] = v3;
        }
        for (; k < vecPerThread; ++k)
            d[k * kStreamThreads] = load4<kBeyondL1>(s + k * kStreamThreads);
        slice = nextSlice<kBeyondL1>(slice, slices);
    }
}

template <bool kBeyondL1> const void* streamKernelOf(StreamPattern p)
{
    switch (p) {
    case StreamPattern::Read:
        return reinterpret_cast<const void*>(&readKernel<kBeyondL1>);
    case StreamPattern::Write:
        return reinterpret_cast<const void*>(&writeKernel<kBeyondL1>);
    case StreamPattern::Copy:
        return reinterpret_cast<const void*>(&copyKernel<kBeyondL1>);
    }
    return nullptr;
}

// Lane l of warp w reads float4 (32·(w + it) + l + 256·k) mod 2048: a warp always covers 512 contiguous bytes
// (conflict-free), and the address moves with the iteration so the loads cannot be hoisted out of the loop.
__global__ void __launch_bounds__(kSharedThreads) sharedKernel(int iterations, float* sink, float impossible)
{
    constexpr int kVec = static_cast<int>(kSharedBytes / 16);
    static_assert(kSharedLoads * kSharedThreads == kVec, "each iteration reads the whole buffer once");
    __shared__ float4 buf[kVec];
    for (int i = threadIdx.x; i < kVec; i += kSharedThreads) {
        const float f = static_cast<float>(i);
        buf[i] = make_float4(f, f + 1, f + 2, f + 3);
    }
    __syncthreads();
    float4 acc[4];
#pragma unroll
    for (int j = 0; j < 4; ++j)
        acc[j] = make_float4(0, 0, 0, 0);
    for (int it = 0; it < iterations; ++it) {
        const unsigned base = threadIdx.x + static_cast<unsigned>(it) * 32u; // unsigned: wraps, never overflows
#pragma unroll
        for (unsigned k = 0; k < kSharedLoads; ++k)
            add4(acc[k & 3], buf[(base + k * kSharedThreads) & (kVec - 1)]);
    }
    add4(acc[0], acc[1]);
    add4(acc[2], acc[3]);
    add4(acc[0], acc[2]);
    const float sum = acc[0].x + acc[0].y + acc[0].z + acc[0].w;
    if (sum == impossible) sink[0] = sum;
}

// ---- Launch floor and fill ------------------------------------------------------------------------------------

__global__ void emptyKernel() { }

__global__ void flagKernel(int* flag, int token)
{
    *static_cast<volatile int*>(flag) = token;
    __threadfence_system();
}

__device__ __forceinline__ float hashUnit(unsigned long long i, unsigned seed)
{
    unsigned x = static_cast<unsigned>(i) * 0x9E3779B1u ^ static_cast<unsigned>(i >> 32) * 0x85EBCA77u ^ seed;
    x ^= x >> 16;
    x *= 0x7FEB352Du;
    x ^= x >> 15;
    x *= 0x846CA68Bu;
    x ^= x >> 16;
    return static_cast<float>(x >> 8) * (1.0f / 8388608.0f) - 1.0f; // 24 random bits → [−1, 1)
}

template <typename T> __device__ __forceinline__ T fromFloat(float v);
template <> __device__ __forceinline__ __half fromFloat<__half>(float v)
{
    return __float2half_rn(v);
}
template <> __device__ __forceinline__ __nv_bfloat16 fromFloat<__nv_bfloat16>(float v)
{
    return __float2bfloat16_rn(v);
}
template <> __device__ __forceinline__ float fromFloat<float>(float v)
{
    return v;
}

template <typename T> __global__ void fillKernel(T* data, size_t count, unsigned seed)
{
    const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
    for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += stride)
        data[i] = fromFloat<T>(hashUnit(i, seed));
}

template <typename T> cudaError_t launchFillAs(void* data, size_t count, unsigned seed, cudaStream_t stream)
{
    fillKernel<T><<<1024, 256, 0, stream>>>(static_cast<T*>(data), count, seed);
    return cudaGetLastError();
}

} // namespace

cudaError_t fmaBlocksPerSm(FmaType t, int* blocks)
{
    return cudaOccupancyMaxActiveBlocksPerMultiprocessor(blocks, fmaKernelOf(t), kFmaThreads, 0);
}

cudaError_t launchFma(FmaType t, int blocks, int iterations, void* sink, BlockClock* clocks, cudaStream_t stream)
{
    float* out = static_cast<float*>(sink);
    switch (t) {
    case FmaType::Fp64:
        fmaKernel<double><<<blocks, kFmaThreads, 0, stream>>>(iterations, 0.999f, 0.001f, kImpossible, out, clocks);
        break;
    case FmaType::Fp32:
        fmaKernel<float><<<blocks, kFmaThreads, 0, stream>>>(iterations, 0.999f, 0.001f, kImpossible, out, clocks);
        break;
    case FmaType::Fp16x2:
        fmaKernel<__half2><<<blocks, kFmaThreads, 0, stream>>>(iterations, 0.999f, 0.001f, kImpossible, out, clocks);
        break;
    }
    return cudaGetLastError();
}

cudaError_t mmaBlocksPerSm(MmaType t, int* blocks)
{
    return cudaOccupancyMaxActiveBlocksPerMultiprocessor(blocks, mmaKernelOf(t), kMmaThreads, 0);
}

cudaError_t launchMma(
    MmaType t, int blocks, int iterations, const void* a, const void* b, float* out, cudaStream_t stream)
{
    switch (t) {
    case MmaType::Fp16:
        return launchMmaAs<MmaType::Fp16>(blocks, iterations, a, b, out, stream);
    case MmaType::Bf16:
        return launchMmaAs<MmaType::Bf16>(blocks, iterations, a, b, out, stream);
    case MmaType::Tf32:
        return launchMmaAs<MmaType::Tf32>(blocks, iterations, a, b, out, stream);
    }
    return cudaErrorInvalidValue;
}

cudaError_t streamBlocksPerSm(StreamPattern p, int* blocks)
{
    // No shared memory is used: give all of the unified L1/shared array to L1 so small sets stay in L1. Both
    // variants run on the same grid: the smaller of their occupancies.
    int fewest = -1;
    for (const void* kernel : { streamKernelOf<false>(p), streamKernelOf<true>(p) }) {
        cudaError_t err
            = cudaFuncSetAttribute(kernel, cudaFuncAttributePreferredSharedMemoryCarveout, cudaSharedmemCarveoutMaxL1);
        int n = 0;
        if (err == cudaSuccess) err = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, kernel, kStreamThreads, 0);
        if (err != cudaSuccess) return err;
        fewest = fewest < 0 ? n : std::min(fewest, n);
    }
    *blocks = fewest;
    return cudaSuccess;
}

template <bool kBeyondL1>
void launchStreamAs(StreamPattern p, int blocks, const void* src, void* dst, size_t slices, int vecPerThread,
    int passes, float* sink, cudaStream_t stream)
{
    switch (p) {
    case StreamPattern::Read:
        readKernel<kBeyondL1><<<blocks, kStreamThreads, 0, stream>>>(
            static_cast<const float4*>(src), slices, vecPerThread, passes, sink, kImpossible);
        break;
    case StreamPattern::Write:
        writeKernel<kBeyondL1>
            <<<blocks, kStreamThreads, 0, stream>>>(static_cast<float4*>(dst), slices, vecPerThread, passes, 1.0f);
        break;
    case StreamPattern::Copy:
        copyKernel<kBeyondL1><<<blocks, kStreamThreads, 0, stream>>>(
            static_cast<const float4*>(src), static_cast<float4*>(dst), slices, vecPerThread, passes);
        break;
    }
}

cudaError_t launchStream(StreamPattern p, bool beyondL1, int blocks, const void* src, void* dst, size_t slices,
    size_t sliceBytes, int passes, float* sink, cudaStream_t stream)
{
    if (slices == 0 || sliceBytes == 0 || sliceBytes % kStreamUnitBytes != 0) return cudaErrorInvalidValue;
    const int vecPerThread = static_cast<int>(sliceBytes / kStreamUnitBytes);
    if (beyondL1)
        launchStreamAs<true>(p, blocks, src, dst, slices, vecPerThread, passes, sink, stream);
    else
        launchStreamAs<false>(p, blocks, src, dst, slices, vecPerThread, passes, sink, stream);
    return cudaGetLastError();
}

cudaError_t sharedBlocksPerSm(int* blocks)
{
    return cudaOccupancyMaxActiveBlocksPerMultiprocessor(
        blocks, reinterpret_cast<const void*>(&sharedKernel), kSharedThreads, 0);
}

cudaError_t launchShared(int blocks, int iterations, float* sink, cudaStream_t stream)
{
    sharedKernel<<<blocks, kSharedThreads, 0, stream>>>(iterations, sink, kImpossible);
    return cudaGetLastError();
}

cudaError_t launchEmpty(cudaStream_t stream)
{
    emptyKernel<<<1, 1, 0, stream>>>();
    return cudaGetLastError();
}

cudaError_t launchFlag(int* flag, int token, cudaStream_t stream)
{
    flagKernel<<<1, 1, 0, stream>>>(flag, token);
    return cudaGetLastError();
}

cudaError_t launchFill(FillType t, void* data, size_t count, std::uint32_t seed, cudaStream_t stream)
{
    switch (t) {
    case FillType::Fp16:
        return launchFillAs<__half>(data, count, seed, stream);
    case FillType::Bf16:
        return launchFillAs<__nv_bfloat16>(data, count, seed, stream);
    case FillType::Fp32:
        return launchFillAs<float>(data, count, seed, stream);
    }
    return cudaErrorInvalidValue;
}

} // namespace rooftime::ceilings::gpu
