// SPDX-License-Identifier: MIT
// Direct 2-D convolution in fp32, NCHW input (N x C x H x W), KCRS filters, stride 1, no padding, so the output is
// N x K x P x Q with P = H - R + 1 and Q = W - S + 1. One thread per output element; the inner loops run over C, R
// and S with one FMA each.
//
// Per launch: fp32 flops = 2 N K C R S P Q; bytes = 4 (N C H W + K C R S + N K P Q) (read input and filters,
// write the output once). Region "conv2d" per launch.

#include "cuda_support.h"

#include <rooftime/rooftime.h>

#include <cstdint>
#include <cstdio>
#include <exception>
#include <vector>

namespace {

using rooftime::samples::Args;
using rooftime::samples::DeviceBuffer;
using rooftime::samples::KernelTally;
using rooftime::samples::RegionTally;

constexpr const char* kProgram = "conv2d";
constexpr const char* kUsage = "conv2d [--batch N=8] [--channels C=64] [--filters K=64] [--size H=58 (H = W)] "
                               "[--kernel R=3 (R = S)] [--iters I=5]";
constexpr int kThreads = 256;

} // namespace

// Passed by value to the kernel (outside the anonymous namespace: it is part of an extern "C" signature).
struct ConvShape {
    int n, c, h, w, k, r, s;
    __host__ __device__ int p() const { return h - r + 1; }
    __host__ __device__ int q() const { return w - s + 1; }
};

extern "C" __global__ void conv2d_nchw_fp32(const float* in, const float* filt, float* out, ConvShape sh)
{
    const int p = sh.p();
    const int q = sh.q();
    const std::int64_t total = static_cast<std::int64_t>(sh.n) * sh.k * p * q;
    const std::int64_t idx = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (idx >= total) return;
    const int x = static_cast<int>(idx % q);
    const int y = static_cast<int>((idx / q) % p);
    const int f = static_cast<int>((idx / (static_cast<std::int64_t>(q) * p)) % sh.k);
    const int b = static_cast<int>(idx / (static_cast<std::int64_t>(q) * p * sh.k));
    float acc = 0.0f;
    for (int ch = 0; ch < sh.c; ++ch) {
        const float* plane = in + (static_cast<std::int64_t>(b) * sh.c + ch) * sh.h * sh.w;
        const float* wts = filt + (static_cast<std::int64_t>(f) * sh.c + ch) * sh.r * sh.s;
        for (int i = 0; i < sh.r; ++i)
            for (int j = 0; j < sh.s; ++j)
                acc += plane[(y + i) * sh.w + x + j] * wts[i * sh.s + j];
    }
    out[idx] = acc;
}

namespace {

// Small integers: every product and sum is exact in fp32, so the check compares exactly.
float inValue(std::int64_t i)
{
    return static_cast<float>(i % 5) - 2.0f;
}
float filtValue(std::int64_t i)
{
    return static_cast<float>(i % 3) - 1.0f;
}

int run(int argc, char** argv)
{
    ConvShape sh { 8, 64, 58, 58, 64, 3, 3 };
    std::int64_t iters = 5;
    Args args(argc, argv, kProgram, kUsage);
    while (args.next()) {
        if (args.is("--batch"))
            sh.n = static_cast<int>(args.integer(1, 256));
        else if (args.is("--channels"))
            sh.c = static_cast<int>(args.integer(1, 1024));
        else if (args.is("--filters"))
            sh.k = static_cast<int>(args.integer(1, 1024));
        else if (args.is("--size"))
            sh.h = sh.w = static_cast<int>(args.integer(1, 1024));
        else if (args.is("--kernel"))
            sh.r = sh.s = static_cast<int>(args.integer(1, 15));
        else if (args.is("--iters"))
            iters = args.integer(1, 1024);
        else
            args.unknown();
    }
    if (sh.r > sh.h) args.fail("--kernel must not exceed --size");
    // The options alone allow totals far above 2^53; the product is bounded instead, so every total stays exact.
    const double nd = sh.n, cd = sh.c, kd = sh.k, rd = sh.r, sd = sh.s, pd = sh.p(), qd = sh.q();
    KernelTally::Work work;
    work.fp32 = 2.0 * nd * kd * cd * rd * sd * pd * qd;
    work.bytes = 4.0 * (nd * cd * sh.h * sh.w + kd * cd * rd * sd + nd * kd * pd * qd);
    if (work.fp32 * static_cast<double>(iters) > 9007199254740992.0 || nd * kd * pd * qd > 2147483647.0)
        args.fail("the sizes are too large (total FLOPs must stay below 2^53, outputs below 2^31)");
    rooftime::samples::requireDevice(kProgram);
    rooftime_set_param("batch", nd);
    rooftime_set_param("channels", cd);
    rooftime_set_param("filters", kd);
    rooftime_set_param("size", static_cast<double>(sh.h));
    rooftime_set_param("kernel", rd);
    rooftime_set_param("iters", static_cast<double>(iters));

    std::vector<float> hin(static_cast<std::size_t>(sh.n) * sh.c * sh.h * sh.w);
    std::vector<float> hfilt(static_cast<std::size_t>(sh.k) * sh.c * sh.r * sh.s);
    for (std::size_t i = 0; i < hin.size(); ++i)
        hin[i] = inValue(static_cast<std::int64_t>(i));
    for (std::size_t i = 0; i < hfilt.size(); ++i)
        hfilt[i] = filtValue(static_cast<std::int64_t>(i));
    const auto outCount = static_cast<std::size_t>(sh.n) * sh.k * sh.p() * sh.q();
    DeviceBuffer<float> in(hin.size(), kProgram);
    DeviceBuffer<float> filt(hfilt.size(), kProgram);
    DeviceBuffer<float> out(outCount, kProgram);
    rooftime::samples::upload(in, hin.data(), kProgram);
    rooftime::samples::upload(filt, hfilt.data(), kProgram);

    const double flops = rooftime::samples::sum(work);
    const auto blocks = static_cast<unsigned>((outCount + kThreads - 1) / kThreads);
    const char* name = "conv2d";
    RegionTally region(name);
    KernelTally tally("conv2d_nchw_fp32");
    const rooftime::samples::Stopwatch watch;
    for (std::int64_t it = 0; it < iters; ++it) {
        rooftime_begin(name);
        conv2d_nchw_fp32<<<blocks, kThreads>>>(in.get(), filt.get(), out.get(), sh);
        rooftime::samples::launchCheck(kProgram, name);
        rooftime::samples::synchronize(kProgram, name);
        rooftime_add_work(flops, work.bytes);
        rooftime_end(name);
        region.add(flops, work.bytes);
        tally.add(work);
    }
    const double seconds = watch.seconds();

    std::vector<float> hout(outCount);
    rooftime::samples::download(hout.data(), out, kProgram);
    for (std::size_t idx = 0; idx < outCount; idx += 4099) {
        const std::size_t x = idx % sh.q();
        const std::size_t y = (idx / sh.q()) % sh.p();
        const std::size_t f = (idx / (sh.q() * sh.p())) % sh.k;
        const std::size_t b = idx / (static_cast<std::size_t>(sh.q()) * sh.p() * sh.k);
        float expected = 0.0f;
        for (int ch = 0; ch < sh.c; ++ch)
            for (int i = 0; i < sh.r; ++i)
                for (int j = 0; j < sh.s; ++j)
                    expected += hin[((b * sh.c + ch) * sh.h + y + i) * sh.w + x + j]
                        * hfilt[((f * sh.c + ch) * sh.r + i) * sh.s + j];
        if (hout[idx] != expected) {
            std::fprintf(stderr, "%s: wrong result at output %zu: %g, expected %g\n", kProgram, idx,
                static_cast<double>(hout[idx]), static_cast<double>(expected));
            return rooftime::samples::kFailureExit;
        }
    }
    std::printf("%s: N=%d C=%d H=W=%d K=%d R=S=%d P=Q=%d seconds=%.6f GFLOP/s=%.1f\n", kProgram, sh.n, sh.c, sh.h, sh.k,
        sh.r, sh.p(), seconds, seconds > 0 ? flops * static_cast<double>(iters) / seconds / 1e9 : 0.0);
    region.printExpectation();
    tally.printExpectation();
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    return rooftime::samples::guardedMain(kProgram, &run, argc, argv);
}
