// SPDX-License-Identifier: MIT
// Tensor-core GEMM: C (fp32) = A (fp16) * B (fp16), row-major M x K times K x N, through the WMMA API (16 x 16 x 16
// fragments, one warp per 16 x 16 tile of C, fp32 accumulation). On a compute capability 9.x device the same
// product also goes through cublasGemmEx (fp16 inputs, fp32 compute), whose Hopper kernels use warpgroup MMA
// (HGMMA); cuBLAS is loaded with dlopen, so the sample links nothing extra, and is skipped with a printed line
// when it cannot be loaded.
//
// Per launch: tensor flops = 2 M N K; bytes = 2 M K + 2 K N + 4 M N (read A and B, write C once).
// Regions: "wmma_gemm" per WMMA launch, "cublas_gemm" per cublasGemmEx call (same work). The kernel line is printed
// for wmma_gemm_f16f32 only: cuBLAS kernel names depend on its version and heuristics.

#include "cuda_support.h"

#include <cublas_api.h>
#include <cuda_fp16.h>
#include <dlfcn.h>
#include <mma.h>
#include <rooftime/rooftime.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <vector>

namespace {

using rooftime::samples::Args;
using rooftime::samples::DeviceBuffer;
using rooftime::samples::KernelTally;
using rooftime::samples::RegionTally;

constexpr const char* kProgram = "wmma_gemm";
constexpr const char* kUsage
    = "wmma_gemm [--m M=2048] [--n N=2048] [--k K=2048] [--iters I=5] [--no-cublas]   (M, N, K multiples of 16)";
constexpr int kFrag = 16;
constexpr int kWarpsPerBlock = 4;
// 2 * 2^13 * 2^13 * 2^13 * 2^10 = 2^50.
constexpr std::int64_t kMaxDim = 8192;
constexpr std::int64_t kMaxIters = 1024;

} // namespace

// Each warp computes one 16 x 16 tile of C; blocks of 4 warps cover 4 tiles of one row of tiles.
extern "C" __global__ void wmma_gemm_f16f32(const __half* a, const __half* b, float* c, int m, int n, int k)
{
    namespace w = nvcuda::wmma;
    const int warp = threadIdx.x / 32;
    const int tileRow = blockIdx.y;
    const int tileCol = blockIdx.x * kWarpsPerBlock + warp;
    if (tileRow * kFrag >= m || tileCol * kFrag >= n) return;
    w::fragment<w::matrix_a, kFrag, kFrag, kFrag, __half, w::row_major> fa;
    w::fragment<w::matrix_b, kFrag, kFrag, kFrag, __half, w::row_major> fb;
    w::fragment<w::accumulator, kFrag, kFrag, kFrag, float> acc;
    w::fill_fragment(acc, 0.0f);
    for (int kk = 0; kk < k; kk += kFrag) {
        w::load_matrix_sync(fa, a + static_cast<std::int64_t>(tileRow) * kFrag * k + kk, k);
        w::load_matrix_sync(fb, b + static_cast<std::int64_t>(kk) * n + tileCol * kFrag, n);
        w::mma_sync(acc, fa, fb, acc);
    }
    w::store_matrix_sync(
        c + static_cast<std::int64_t>(tileRow) * kFrag * n + tileCol * kFrag, acc, n, w::mem_row_major);
}

namespace {

// Entries in {-1, 0, 1}: products and fp32 sums (|sum| <= 8192 < 2^24) are exact, so results compare exactly.
float aValue(std::int64_t i, std::int64_t kk)
{
    return static_cast<float>((i + 2 * kk) % 3) - 1.0f;
}
float bValue(std::int64_t kk, std::int64_t j)
{
    return static_cast<float>((3 * kk + j) % 4) - 1.0f;
}

// Compares a few rows of C (row-major M x N, or column-major when colMajor) with the exact product.
int check(const char* what, const std::vector<float>& c, std::int64_t m, std::int64_t n, std::int64_t k, bool colMajor)
{
    for (std::int64_t i = 0; i < m; i += 257) {
        for (std::int64_t j = 0; j < n; ++j) {
            float expected = 0.0f;
            for (std::int64_t kk = 0; kk < k; ++kk)
                expected += aValue(i, kk) * bValue(kk, j);
            const float got = c[static_cast<std::size_t>(colMajor ? j * m + i : i * n + j)];
            if (got != expected) {
                std::fprintf(stderr, "%s: wrong result of %s at C[%lld][%lld]: %g, expected %g\n", kProgram, what,
                    static_cast<long long>(i), static_cast<long long>(j), static_cast<double>(got),
                    static_cast<double>(expected));
                return rooftime::samples::kFailureExit;
            }
        }
    }
    return 0;
}

// Our own pointer types (cublas_api.h also declares C++ overloads); only the header's types are used.
using CreateFn = cublasStatus_t (*)(cublasHandle_t*);
using DestroyFn = cublasStatus_t (*)(cublasHandle_t);
using GemmExFn = cublasStatus_t (*)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int, const void*,
    const void*, cudaDataType, int, const void*, cudaDataType, int, const void*, void*, cudaDataType, int,
    cublasComputeType_t, cublasGemmAlgo_t);

template <typename Fn> Fn symbol(void* lib, const char* name)
{
    void* sym = dlsym(lib, name);
    Fn fn = nullptr;
    static_assert(sizeof fn == sizeof sym);
    std::memcpy(&fn, &sym, sizeof fn);
    return fn;
}

// Row-major C = A B is column-major C^T = B^T A^T: cuBLAS gets B as the first operand, both untransposed, and
// writes C row-major. Returns 0, 1 on failure, or -1 when cuBLAS is not usable here (skipped).
int runCublas(const DeviceBuffer<__half>& a, const DeviceBuffer<__half>& b, DeviceBuffer<float>& c, std::int64_t m,
    std::int64_t n, std::int64_t k, std::int64_t iters, const KernelTally::Work& work)
{
    void* lib = dlopen("libcublas.so.13", RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
        const char* e = dlerror();
        std::printf("%s: cublas_gemm skipped: %s\n", kProgram, e != nullptr ? e : "libcublas.so.13 not found");
        return -1;
    }
    const auto create = symbol<CreateFn>(lib, "cublasCreate_v2");
    const auto destroy = symbol<DestroyFn>(lib, "cublasDestroy_v2");
    const auto gemmEx = symbol<GemmExFn>(lib, "cublasGemmEx");
    if (create == nullptr || destroy == nullptr || gemmEx == nullptr) {
        std::printf("%s: cublas_gemm skipped: libcublas.so.13 lacks cublasCreate_v2/cublasGemmEx\n", kProgram);
        return -1;
    }
    cublasHandle_t handle = nullptr;
    if (const cublasStatus_t s = create(&handle); s != CUBLAS_STATUS_SUCCESS) {
        std::printf("%s: cublas_gemm skipped: cublasCreate failed (status %d)\n", kProgram, static_cast<int>(s));
        return -1;
    }
    const float one = 1.0f;
    const float zero = 0.0f;
    const double flops = rooftime::samples::sum(work);
    const char* name = "cublas_gemm";
    RegionTally region(name);
    int rc = 0;
    for (std::int64_t it = 0; it < iters && rc == 0; ++it) {
        rooftime_begin(name);
        const cublasStatus_t s
            = gemmEx(handle, CUBLAS_OP_N, CUBLAS_OP_N, static_cast<int>(n), static_cast<int>(m), static_cast<int>(k),
                &one, b.get(), CUDA_R_16F, static_cast<int>(n), a.get(), CUDA_R_16F, static_cast<int>(k), &zero,
                c.get(), CUDA_R_32F, static_cast<int>(n), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
        rooftime::samples::synchronize(kProgram, name);
        rooftime_add_work(flops, work.bytes);
        rooftime_end(name);
        region.add(flops, work.bytes);
        if (s != CUBLAS_STATUS_SUCCESS) {
            std::fprintf(stderr, "%s: cublasGemmEx failed (status %d)\n", kProgram, static_cast<int>(s));
            rc = rooftime::samples::kFailureExit;
        }
    }
    destroy(handle);
    if (rc != 0) return rc;
    std::vector<float> host(c.count());
    rooftime::samples::download(host.data(), c, kProgram);
    if (int bad = check(name, host, m, n, k, false)) return bad;
    region.printExpectation();
    return 0;
}

int run(int argc, char** argv)
{
    std::int64_t m = 2048;
    std::int64_t n = 2048;
    std::int64_t k = 2048;
    std::int64_t iters = 5;
    bool cublas = true;
    Args args(argc, argv, kProgram, kUsage);
    const auto dim = [&args]() {
        const std::int64_t v = args.integer(kFrag, kMaxDim);
        if (v % kFrag != 0) args.fail("--m, --n and --k must be multiples of 16");
        return v;
    };
    while (args.next()) {
        if (args.is("--m"))
            m = dim();
        else if (args.is("--n"))
            n = dim();
        else if (args.is("--k"))
            k = dim();
        else if (args.is("--iters"))
            iters = args.integer(1, kMaxIters);
        else if (args.is("--no-cublas"))
            cublas = false;
        else
            args.unknown();
    }
    const cudaDeviceProp prop = rooftime::samples::requireDevice(kProgram);
    rooftime_set_param("m", static_cast<double>(m));
    rooftime_set_param("n", static_cast<double>(n));
    rooftime_set_param("k", static_cast<double>(k));
    rooftime_set_param("iters", static_cast<double>(iters));

    std::vector<__half> ha(static_cast<std::size_t>(m * k));
    std::vector<__half> hb(static_cast<std::size_t>(k * n));
    for (std::int64_t i = 0; i < m; ++i)
        for (std::int64_t kk = 0; kk < k; ++kk)
            ha[static_cast<std::size_t>(i * k + kk)] = __float2half(aValue(i, kk));
    for (std::int64_t kk = 0; kk < k; ++kk)
        for (std::int64_t j = 0; j < n; ++j)
            hb[static_cast<std::size_t>(kk * n + j)] = __float2half(bValue(kk, j));
    DeviceBuffer<__half> a(ha.size(), kProgram);
    DeviceBuffer<__half> b(hb.size(), kProgram);
    DeviceBuffer<float> c(static_cast<std::size_t>(m * n), kProgram);
    rooftime::samples::upload(a, ha.data(), kProgram);
    rooftime::samples::upload(b, hb.data(), kProgram);

    const double md = static_cast<double>(m);
    const double nd = static_cast<double>(n);
    const double kd = static_cast<double>(k);
    KernelTally::Work work;
    work.tensor = 2.0 * md * nd * kd;
    work.bytes = 2.0 * md * kd + 2.0 * kd * nd + 4.0 * md * nd;
    const double flops = rooftime::samples::sum(work);
    const dim3 block(32 * kWarpsPerBlock);
    const dim3 grid(
        static_cast<unsigned>((n / kFrag + kWarpsPerBlock - 1) / kWarpsPerBlock), static_cast<unsigned>(m / kFrag));

    const char* name = "wmma_gemm";
    RegionTally region(name);
    KernelTally tally("wmma_gemm_f16f32");
    const rooftime::samples::Stopwatch watch;
    for (std::int64_t it = 0; it < iters; ++it) {
        rooftime_begin(name);
        wmma_gemm_f16f32<<<grid, block>>>(
            a.get(), b.get(), c.get(), static_cast<int>(m), static_cast<int>(n), static_cast<int>(k));
        rooftime::samples::launchCheck(kProgram, name);
        rooftime::samples::synchronize(kProgram, name);
        rooftime_add_work(flops, work.bytes);
        rooftime_end(name);
        region.add(flops, work.bytes);
        tally.add(work);
    }
    const double seconds = watch.seconds();
    std::vector<float> hc(c.count());
    rooftime::samples::download(hc.data(), c, kProgram);
    if (int bad = check(name, hc, m, n, k, false)) return bad;
    std::printf("%s: m=%lld n=%lld k=%lld seconds=%.6f tensor GFLOP/s=%.1f device=%s (sm_%d%d)\n", kProgram,
        static_cast<long long>(m), static_cast<long long>(n), static_cast<long long>(k), seconds,
        seconds > 0 ? flops * static_cast<double>(iters) / seconds / 1e9 : 0.0, prop.name, prop.major, prop.minor);
    region.printExpectation();
    tally.printExpectation();

    if (!cublas) {
        std::printf("%s: cublas_gemm skipped: --no-cublas\n", kProgram);
    } else if (prop.major != 9) {
        std::printf("%s: cublas_gemm skipped: compute capability %d.%d is not 9.x\n", kProgram, prop.major, prop.minor);
    } else {
        const int rc = runCublas(a, b, c, m, n, k, iters, work);
        if (rc > 0) return rc;
    }
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    return rooftime::samples::guardedMain(kProgram, &run, argc, argv);
}
