// SPDX-License-Identifier: MIT
// STREAM-style triad a[i] = b[i] + s * c[i]: the memory-bound reference point of the roofline.
//
// Declared work per "triad" region (one per iteration), algorithmic counts:
//   flops = 2 n      (one multiply, one add per element)
//   bytes = 24 n     (read b and c, write a: 3 x 8 bytes per element; write-allocate traffic not counted)
// The "init" region (count 1) fills the arrays and declares no work.

#include "sample_support.h"

#include <rooftime/rooftime.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <vector>

namespace {

using rooftime::samples::Args;
using rooftime::samples::RegionTally;

constexpr const char* kUsage = "triad [--n N=10000000] [--iters K=10]";
// Bounds keep every declared total an exact integer <= 2^53: 24 * 2^32 * 2^16 = 2^53.
constexpr std::int64_t kMaxN = std::int64_t { 1 } << 32;
constexpr std::int64_t kMaxIters = std::int64_t { 1 } << 16;
// s, b and c are small multiples of 1/4, so b + s * c is exact with or without a fused multiply-add and the
// check below can compare exactly.
constexpr double kScalar = 3.0;

double bValue(std::size_t i)
{
    return 1.0 + 0.25 * static_cast<double>(i % 8);
}
double cValue(std::size_t i)
{
    return static_cast<double>(i % 5);
}

void triad(double* a, const double* b, const double* c, std::size_t n, double s)
{
    for (std::size_t i = 0; i < n; ++i)
        a[i] = b[i] + s * c[i];
}

int run(int argc, char** argv)
{
    std::int64_t n = 10'000'000;
    std::int64_t iters = 10;
    Args args(argc, argv, "triad", kUsage);
    while (args.next()) {
        if (args.is("--n"))
            n = args.integer(1, kMaxN);
        else if (args.is("--iters"))
            iters = args.integer(1, kMaxIters);
        else
            args.unknown();
    }
    rooftime_set_param("n", static_cast<double>(n));
    rooftime_set_param("iters", static_cast<double>(iters));

    const auto size = static_cast<std::size_t>(n);
    std::vector<double> a(size);
    std::vector<double> b(size);
    std::vector<double> c(size);

    RegionTally initTally("init");
    rooftime_begin("init");
    for (std::size_t i = 0; i < size; ++i) {
        a[i] = 0.0;
        b[i] = bValue(i);
        c[i] = cValue(i);
    }
    rooftime_end("init");
    initTally.addWithoutWork();

    const double nd = static_cast<double>(n);
    const double flops = 2.0 * nd;
    const double bytes = 24.0 * nd;
    RegionTally triadTally("triad");
    const rooftime::samples::Stopwatch watch;
    for (std::int64_t it = 0; it < iters; ++it) {
        rooftime_begin("triad");
        triad(a.data(), b.data(), c.data(), size, kScalar);
        rooftime_add_work(flops, bytes);
        rooftime_end("triad");
        triadTally.add(flops, bytes);
    }
    const double seconds = watch.seconds();

    double checksum = 0.0;
    for (std::size_t i = 0; i < size; ++i) {
        if (a[i] != bValue(i) + kScalar * cValue(i)) {
            std::fprintf(stderr, "triad: wrong result at a[%zu]: %.17g\n", i, a[i]);
            return rooftime::samples::kFailureExit;
        }
        checksum += a[i];
    }
    std::printf("triad: n=%lld iters=%lld checksum=%.17g seconds=%.6f GB/s=%.3f\n", static_cast<long long>(n),
        static_cast<long long>(iters), checksum, seconds,
        seconds > 0 ? bytes * static_cast<double>(iters) / seconds / 1e9 : 0.0);
    initTally.printExpectation();
    triadTally.printExpectation();
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    return rooftime::samples::guardedMain("triad", &run, argc, argv);
}
