// SPDX-License-Identifier: MIT
// STREAM-style triad a[i] = b[i] + s * c[i] on the GPU, in fp64 and fp32: the HBM-bound reference of the roofline.
//
// Per launch (one per iteration and precision), algorithmic counts:
//   triad_fp64: fp64 flops = 2 n (one DFMA per element), bytes = 24 n (read b and c, write a)
//   triad_fp32: fp32 flops = 2 n (one FFMA per element), bytes = 12 n
// Regions "triad_fp64" and "triad_fp32" wrap one launch each, synchronised, and declare the same work.

#include "cuda_support.h"

#include <rooftime/rooftime.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <vector>

namespace {

using rooftime::samples::Args;
using rooftime::samples::DeviceBuffer;
using rooftime::samples::KernelTally;
using rooftime::samples::RegionTally;

constexpr const char* kProgram = "triad";
constexpr const char* kUsage = "triad [--n N=16777216] [--iters K=20]";
// Bounds keep every declared total an exact integer <= 2^53 (24 * 2^30 * 2^16 < 2^53) and the arrays within
// 24 GiB of device memory.
constexpr std::int64_t kMaxN = std::int64_t { 1 } << 30;
constexpr std::int64_t kMaxIters = std::int64_t { 1 } << 16;
constexpr int kThreads = 256;

// A grid-stride loop: each element is touched once, so the counters see exactly one FMA per element.
template <typename T> __device__ void triadBody(T* a, const T* b, const T* c, T s, std::int64_t n)
{
    const std::int64_t stride = static_cast<std::int64_t>(blockDim.x) * gridDim.x;
    for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
        a[i] = b[i] + s * c[i];
}

} // namespace

// extern "C": the kernel names that CUPTI and Nsight Compute report are the plain names the `# expect` lines use.
extern "C" __global__ void triad_fp64(double* a, const double* b, const double* c, double s, std::int64_t n)
{
    triadBody(a, b, c, s, n);
}
extern "C" __global__ void triad_fp32(float* a, const float* b, const float* c, float s, std::int64_t n)
{
    triadBody(a, b, c, s, n);
}

namespace {

// b and c hold small multiples of 1/4 and s = 3, so b + s * c is exact in both precisions and the check compares
// exactly.
template <typename T> T bValue(std::size_t i)
{
    return static_cast<T>(1.0 + 0.25 * static_cast<double>(i % 8));
}
template <typename T> T cValue(std::size_t i)
{
    return static_cast<T>(i % 5);
}

template <typename T, typename Kernel>
int runPrecision(const char* name, Kernel kernel, std::int64_t n, std::int64_t iters, int blocks, double& checksum)
{
    const auto size = static_cast<std::size_t>(n);
    std::vector<T> host(size);
    DeviceBuffer<T> a(size, kProgram);
    DeviceBuffer<T> b(size, kProgram);
    DeviceBuffer<T> c(size, kProgram);
    for (std::size_t i = 0; i < size; ++i)
        host[i] = bValue<T>(i);
    rooftime::samples::upload(b, host.data(), kProgram);
    for (std::size_t i = 0; i < size; ++i)
        host[i] = cValue<T>(i);
    rooftime::samples::upload(c, host.data(), kProgram);

    const double nd = static_cast<double>(n);
    KernelTally::Work work;
    (sizeof(T) == 8 ? work.fp64 : work.fp32) = 2.0 * nd;
    work.bytes = 3.0 * static_cast<double>(sizeof(T)) * nd;
    const double flops = rooftime::samples::sum(work);
    const T s = 3;

    RegionTally region(name);
    KernelTally tally(name);
    const rooftime::samples::Stopwatch watch;
    for (std::int64_t it = 0; it < iters; ++it) {
        rooftime_begin(name);
        kernel<<<blocks, kThreads>>>(a.get(), b.get(), c.get(), s, n);
        rooftime::samples::launchCheck(kProgram, name);
        rooftime::samples::synchronize(kProgram, name);
        rooftime_add_work(flops, work.bytes);
        rooftime_end(name);
        region.add(flops, work.bytes);
        tally.add(work);
    }
    const double seconds = watch.seconds();

    rooftime::samples::download(host.data(), a, kProgram);
    for (std::size_t i = 0; i < size; ++i) {
        if (host[i] != bValue<T>(i) + s * cValue<T>(i)) {
            std::fprintf(
                stderr, "%s: wrong result of %s at a[%zu]: %.17g\n", kProgram, name, i, static_cast<double>(host[i]));
            return rooftime::samples::kFailureExit;
        }
        checksum += static_cast<double>(host[i]);
    }
    std::printf("%s: %s seconds=%.6f GB/s=%.1f\n", kProgram, name, seconds,
        seconds > 0 ? work.bytes * static_cast<double>(iters) / seconds / 1e9 : 0.0);
    region.printExpectation();
    tally.printExpectation();
    return 0;
}

int run(int argc, char** argv)
{
    std::int64_t n = std::int64_t { 1 } << 24;
    std::int64_t iters = 20;
    Args args(argc, argv, kProgram, kUsage);
    while (args.next()) {
        if (args.is("--n"))
            n = args.integer(1, kMaxN);
        else if (args.is("--iters"))
            iters = args.integer(1, kMaxIters);
        else
            args.unknown();
    }
    const cudaDeviceProp prop = rooftime::samples::requireDevice(kProgram);
    rooftime_set_param("n", static_cast<double>(n));
    rooftime_set_param("iters", static_cast<double>(iters));

    // Enough blocks to fill every SM several times; the grid-stride loop covers the rest.
    const std::int64_t needed = (n + kThreads - 1) / kThreads;
    const int blocks = static_cast<int>(std::min<std::int64_t>(needed, std::int64_t { prop.multiProcessorCount } * 8));
    double checksum = 0.0;
    if (int rc = runPrecision<double>("triad_fp64", triad_fp64, n, iters, blocks, checksum)) return rc;
    if (int rc = runPrecision<float>("triad_fp32", triad_fp32, n, iters, blocks, checksum)) return rc;
    std::printf("triad: n=%lld iters=%lld checksum=%.17g device=%s\n", static_cast<long long>(n),
        static_cast<long long>(iters), checksum, prop.name);
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    return rooftime::samples::guardedMain(kProgram, &run, argc, argv);
}
