// SPDX-License-Identifier: MIT
// Chains of packed half-precision FMAs (__hfma2 on __half2): checks the fp16 weight of the FLOP counters, where one
// HFMA2 instruction is two fused multiply-adds on two lanes, i.e. 4 FLOPs.
//
// Per launch: every thread runs 4 independent chains of --iters dependent x = x * a + b steps on a __half2 and
// stores the 4 results; nothing else does floating-point work.
//   fp16 flops = 4 (FLOPs per hfma2) * 4 (chains) * iters * blocks * 256 (threads)
//   bytes      = 4 (chains) * 4 (bytes per half2) * blocks * 256 (the stores; the kernel reads nothing)
// Region "hfma2_chain" per launch with the same work.

#include "cuda_support.h"

#include <cuda_fp16.h>
#include <rooftime/rooftime.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <vector>

namespace {

using rooftime::samples::Args;
using rooftime::samples::DeviceBuffer;
using rooftime::samples::KernelTally;
using rooftime::samples::RegionTally;

constexpr const char* kProgram = "hfma2";
constexpr const char* kUsage = "hfma2 [--blocks B=0 (0: 4 per SM)] [--iters I=4096] [--launches K=10]";
constexpr int kThreads = 256;
constexpr int kChains = 4;
// 16 * 2^16 * 2^12 * 256 * 2^10 = 2^50: every total stays an exact integer.
constexpr std::int64_t kMaxBlocks = std::int64_t { 1 } << 12;
constexpr std::int64_t kMaxIters = std::int64_t { 1 } << 16;
constexpr std::int64_t kMaxLaunches = 1024;

} // namespace

// a and b arrive as floats and are converted on the device (conversions are not FLOPs; the start values use only
// integer-to-float conversions, no arithmetic). With a = b = 0.5 every chain converges to exactly 1.0 in fp16 from
// any start in [0, 8) within 16 steps, which the host checks.
extern "C" __global__ void hfma2_chain(__half2* out, float a, float b, int iters)
{
    const __half2 a2 = __float2half2_rn(a);
    const __half2 b2 = __float2half2_rn(b);
    const int tid = blockIdx.x * blockDim.x + threadIdx.x;
    __half2 x0 = __floats2half2_rn(0.0f, static_cast<float>(tid % 8));
    __half2 x1 = __floats2half2_rn(0.25f, 1.5f);
    __half2 x2 = __floats2half2_rn(0.5f, 1.75f);
    __half2 x3 = __floats2half2_rn(0.75f, 1.25f);
#pragma unroll 8
    for (int i = 0; i < iters; ++i) {
        x0 = __hfma2(x0, a2, b2);
        x1 = __hfma2(x1, a2, b2);
        x2 = __hfma2(x2, a2, b2);
        x3 = __hfma2(x3, a2, b2);
    }
    out[tid * kChains + 0] = x0;
    out[tid * kChains + 1] = x1;
    out[tid * kChains + 2] = x2;
    out[tid * kChains + 3] = x3;
}

namespace {

int run(int argc, char** argv)
{
    std::int64_t blocks = 0;
    std::int64_t iters = 4096;
    std::int64_t launches = 10;
    Args args(argc, argv, kProgram, kUsage);
    while (args.next()) {
        if (args.is("--blocks"))
            blocks = args.integer(0, kMaxBlocks);
        else if (args.is("--iters"))
            iters = args.integer(16, kMaxIters);
        else if (args.is("--launches"))
            launches = args.integer(1, kMaxLaunches);
        else
            args.unknown();
    }
    const cudaDeviceProp prop = rooftime::samples::requireDevice(kProgram);
    if (blocks == 0) blocks = std::int64_t { prop.multiProcessorCount } * 4;
    rooftime_set_param("blocks", static_cast<double>(blocks));
    rooftime_set_param("iters", static_cast<double>(iters));
    rooftime_set_param("launches", static_cast<double>(launches));

    const std::int64_t threads = blocks * kThreads;
    const auto outCount = static_cast<std::size_t>(threads * kChains);
    DeviceBuffer<__half2> out(outCount, kProgram);

    KernelTally::Work work;
    work.fp16 = 4.0 * kChains * static_cast<double>(iters) * static_cast<double>(threads);
    work.bytes = static_cast<double>(out.bytes());
    const double flops = rooftime::samples::sum(work);
    const char* name = "hfma2_chain";
    RegionTally region(name);
    KernelTally tally(name);
    const rooftime::samples::Stopwatch watch;
    for (std::int64_t it = 0; it < launches; ++it) {
        rooftime_begin(name);
        hfma2_chain<<<static_cast<unsigned>(blocks), kThreads>>>(out.get(), 0.5f, 0.5f, static_cast<int>(iters));
        rooftime::samples::launchCheck(kProgram, name);
        rooftime::samples::synchronize(kProgram, name);
        rooftime_add_work(flops, work.bytes);
        rooftime_end(name);
        region.add(flops, work.bytes);
        tally.add(work);
    }
    const double seconds = watch.seconds();

    std::vector<__half2> host(outCount);
    rooftime::samples::download(host.data(), out, kProgram);
    for (std::size_t i = 0; i < outCount; ++i) {
        const float lo = __low2float(host[i]);
        const float hi = __high2float(host[i]);
        if (std::fabs(lo - 1.0f) > 1e-3f || std::fabs(hi - 1.0f) > 1e-3f) {
            std::fprintf(stderr, "%s: wrong result at %zu: (%g, %g), expected (1, 1)\n", kProgram, i, lo, hi);
            return rooftime::samples::kFailureExit;
        }
    }
    std::printf("%s: blocks=%lld iters=%lld launches=%lld seconds=%.6f fp16 GFLOP/s=%.1f device=%s\n", kProgram,
        static_cast<long long>(blocks), static_cast<long long>(iters), static_cast<long long>(launches), seconds,
        seconds > 0 ? flops * static_cast<double>(launches) / seconds / 1e9 : 0.0, prop.name);
    region.printExpectation();
    tally.printExpectation();
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    return rooftime::samples::guardedMain(kProgram, &run, argc, argv);
}
