// SPDX-License-Identifier: MIT
// C = A * B on square row-major n x n matrices, on the GPU, in fp32 (sgemm) and fp64 (dgemm), each naive (one
// thread per element of C, reading A and B from global memory) and tiled (16 x 16 tiles staged in shared memory).
//
// Per launch, algorithmic counts, with T = 4 (fp32) or 8 (fp64) bytes:
//   flops = 2 n^3 in the launch's precision (one FMA per (i, j, k))
//   bytes = 3 n^2 T (read A and B, write C once; the naive kernel's DRAM traffic is larger when A and B exceed L2)
// n must be a multiple of 16, so no thread computes padding and the FMA counters see exactly n^3 FMAs.
// Region per launch: sgemm_naive, sgemm_tiled, dgemm_naive, dgemm_tiled (the kernel names).

#include "cuda_support.h"

#include <rooftime/rooftime.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

namespace {

using rooftime::samples::Args;
using rooftime::samples::DeviceBuffer;
using rooftime::samples::KernelTally;
using rooftime::samples::RegionTally;

constexpr const char* kProgram = "gemm";
constexpr const char* kUsage = "gemm [--n N=1024 (multiple of 16)] [--iters K=3] [--only NAME]";
constexpr int kTile = 16;
// 2 * 8192^3 * 2^10 = 2^50: every total stays an exact integer.
constexpr std::int64_t kMaxN = 8192;
constexpr std::int64_t kMaxIters = 1024;

template <typename T> __device__ void naiveBody(const T* a, const T* b, T* c, int n)
{
    const int row = blockIdx.y * blockDim.y + threadIdx.y;
    const int col = blockIdx.x * blockDim.x + threadIdx.x;
    if (row >= n || col >= n) return;
    T acc = 0;
    for (int k = 0; k < n; ++k)
        acc += a[row * n + k] * b[k * n + col];
    c[row * n + col] = acc;
}

template <typename T> __device__ void tiledBody(const T* a, const T* b, T* c, int n)
{
    __shared__ T as[kTile][kTile];
    __shared__ T bs[kTile][kTile];
    const int tx = threadIdx.x;
    const int ty = threadIdx.y;
    const int row = blockIdx.y * kTile + ty;
    const int col = blockIdx.x * kTile + tx;
    T acc = 0;
    for (int t = 0; t < n; t += kTile) {
        as[ty][tx] = a[row * n + t + tx];
        bs[ty][tx] = b[(t + ty) * n + col];
        __syncthreads();
#pragma unroll
        for (int k = 0; k < kTile; ++k)
            acc += as[ty][k] * bs[k][tx];
        __syncthreads();
    }
    c[row * n + col] = acc;
}

} // namespace

extern "C" __global__ void sgemm_naive(const float* a, const float* b, float* c, int n)
{
    naiveBody(a, b, c, n);
}
extern "C" __global__ void sgemm_tiled(const float* a, const float* b, float* c, int n)
{
    tiledBody(a, b, c, n);
}
extern "C" __global__ void dgemm_naive(const double* a, const double* b, double* c, int n)
{
    naiveBody(a, b, c, n);
}
extern "C" __global__ void dgemm_tiled(const double* a, const double* b, double* c, int n)
{
    tiledBody(a, b, c, n);
}

namespace {

// Entries are small integers, so every product and sum is exact in both precisions (n <= 8192: sums stay below
// 2^24 for fp32) and the result is checked exactly against a few reference elements.
double aValue(std::int64_t i, std::int64_t k)
{
    return static_cast<double>((i + 2 * k) % 3) - 1.0;
}
double bValue(std::int64_t k, std::int64_t j)
{
    return static_cast<double>((3 * k + j) % 4) - 1.0;
}

template <typename T>
int runVariant(const char* name, void (*kernel)(const T*, const T*, T*, int), std::int64_t n, std::int64_t iters)
{
    const auto size = static_cast<std::size_t>(n * n);
    std::vector<T> ha(size);
    std::vector<T> hb(size);
    for (std::int64_t i = 0; i < n; ++i) {
        for (std::int64_t j = 0; j < n; ++j) {
            ha[static_cast<std::size_t>(i * n + j)] = static_cast<T>(aValue(i, j));
            hb[static_cast<std::size_t>(i * n + j)] = static_cast<T>(bValue(i, j));
        }
    }
    DeviceBuffer<T> a(size, kProgram);
    DeviceBuffer<T> b(size, kProgram);
    DeviceBuffer<T> c(size, kProgram);
    rooftime::samples::upload(a, ha.data(), kProgram);
    rooftime::samples::upload(b, hb.data(), kProgram);

    const double nd = static_cast<double>(n);
    KernelTally::Work work;
    (sizeof(T) == 8 ? work.fp64 : work.fp32) = 2.0 * nd * nd * nd;
    work.bytes = 3.0 * nd * nd * static_cast<double>(sizeof(T));
    const double flops = rooftime::samples::sum(work);
    const dim3 block(kTile, kTile);
    const dim3 grid(static_cast<unsigned>(n / kTile), static_cast<unsigned>(n / kTile));

    RegionTally region(name);
    KernelTally tally(name);
    const rooftime::samples::Stopwatch watch;
    for (std::int64_t it = 0; it < iters; ++it) {
        rooftime_begin(name);
        kernel<<<grid, block>>>(a.get(), b.get(), c.get(), static_cast<int>(n));
        rooftime::samples::launchCheck(kProgram, name);
        rooftime::samples::synchronize(kProgram, name);
        rooftime_add_work(flops, work.bytes);
        rooftime_end(name);
        region.add(flops, work.bytes);
        tally.add(work);
    }
    const double seconds = watch.seconds();

    std::vector<T> hc(size);
    rooftime::samples::download(hc.data(), c, kProgram);
    // A diagonal of reference elements: n dot products of length n, cheap even for the largest n.
    for (std::int64_t i = 0; i < n; ++i) {
        const std::int64_t j = (i * 7) % n;
        double expected = 0.0;
        for (std::int64_t k = 0; k < n; ++k)
            expected += aValue(i, k) * bValue(k, j);
        const double got = static_cast<double>(hc[static_cast<std::size_t>(i * n + j)]);
        if (got != expected) {
            std::fprintf(stderr, "%s: wrong result of %s at C[%lld][%lld]: %.17g, expected %.17g\n", kProgram, name,
                static_cast<long long>(i), static_cast<long long>(j), got, expected);
            return rooftime::samples::kFailureExit;
        }
    }
    std::printf("%s: %s n=%lld seconds=%.6f GFLOP/s=%.1f\n", kProgram, name, static_cast<long long>(n), seconds,
        seconds > 0 ? flops * static_cast<double>(iters) / seconds / 1e9 : 0.0);
    region.printExpectation();
    tally.printExpectation();
    return 0;
}

int run(int argc, char** argv)
{
    std::int64_t n = 1024;
    std::int64_t iters = 3;
    std::string only;
    Args args(argc, argv, kProgram, kUsage);
    while (args.next()) {
        if (args.is("--n")) {
            n = args.integer(kTile, kMaxN);
            if (n % kTile != 0) args.fail("--n must be a multiple of 16");
        } else if (args.is("--iters")) {
            iters = args.integer(1, kMaxIters);
        } else if (args.is("--only")) {
            only = args.text();
            if (only != "sgemm_naive" && only != "sgemm_tiled" && only != "dgemm_naive" && only != "dgemm_tiled")
                args.fail("--only takes sgemm_naive, sgemm_tiled, dgemm_naive or dgemm_tiled");
        } else {
            args.unknown();
        }
    }
    rooftime::samples::requireDevice(kProgram);
    rooftime_set_param("n", static_cast<double>(n));
    rooftime_set_param("iters", static_cast<double>(iters));

    const auto wanted = [&](const char* name) { return only.empty() || only == name; };
    int rc = 0;
    if (rc == 0 && wanted("sgemm_naive")) rc = runVariant<float>("sgemm_naive", sgemm_naive, n, iters);
    if (rc == 0 && wanted("sgemm_tiled")) rc = runVariant<float>("sgemm_tiled", sgemm_tiled, n, iters);
    if (rc == 0 && wanted("dgemm_naive")) rc = runVariant<double>("dgemm_naive", dgemm_naive, n, iters);
    if (rc == 0 && wanted("dgemm_tiled")) rc = runVariant<double>("dgemm_tiled", dgemm_tiled, n, iters);
    return rc;
}

} // namespace

int main(int argc, char** argv)
{
    return rooftime::samples::guardedMain(kProgram, &run, argc, argv);
}
