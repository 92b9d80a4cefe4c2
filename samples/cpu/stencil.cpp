// SPDX-License-Identifier: MIT
// 7-point Jacobi sweeps on an n^3 grid of doubles: out = c0 * in[centre] + c1 * (sum of the 6 neighbours) on
// interior points, boundary fixed, arrays swapped after each sweep. Moderate arithmetic intensity, between
// triad and dgemm.
//
// Declared work per "stencil7" region (one per sweep), algorithmic counts:
//   flops = 8 (n-2)^3               (2 multiplies + 6 adds per interior point)
//   bytes = 8 n^3 + 8 (n-2)^3       (read the whole input grid once, write the interior once)

#include "sample_support.h"

#include <rooftime/rooftime.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <numbers>
#include <utility>
#include <vector>

namespace {

using rooftime::samples::Args;
using rooftime::samples::RegionTally;

constexpr const char* kUsage = "stencil [--n N=128] [--iters K=10]";
// Bounds keep every declared total an exact integer <= 2^53: 16 * (2^11)^3 * 2^16 = 2^53.
constexpr std::int64_t kMaxN = std::int64_t { 1 } << 11;
constexpr std::int64_t kMaxIters = std::int64_t { 1 } << 16;
// c0 + 6 c1 = 1 keeps linear fields fixed, which the check below relies on.
constexpr double kC0 = 0.4;
constexpr double kC1 = 0.1;

struct Field {
    std::size_t n;
    double theta; // pi / (n - 1): the mode vanishes on both faces
    double at(std::size_t x, std::size_t y, std::size_t z, double modeAmplitude) const
    {
        const double linear = static_cast<double>(x) + 2.0 * static_cast<double>(y) + 3.0 * static_cast<double>(z);
        const double mode = std::sin(theta * static_cast<double>(x)) * std::sin(theta * static_cast<double>(y))
            * std::sin(theta * static_cast<double>(z));
        return linear + modeAmplitude * mode;
    }
};

void sweep(const double* in, double* out, std::size_t n)
{
    const std::size_t plane = n * n;
    for (std::size_t z = 1; z + 1 < n; ++z) {
        for (std::size_t y = 1; y + 1 < n; ++y) {
            const std::size_t row = z * plane + y * n;
            for (std::size_t x = 1; x + 1 < n; ++x) {
                const std::size_t i = row + x;
                out[i] = kC0 * in[i]
                    + kC1 * (in[i - 1] + in[i + 1] + in[i - n] + in[i + n] + in[i - plane] + in[i + plane]);
            }
        }
    }
}

int run(int argc, char** argv)
{
    std::int64_t n = 128;
    std::int64_t iters = 10;
    Args args(argc, argv, "stencil", kUsage);
    while (args.next()) {
        if (args.is("--n"))
            n = args.integer(3, kMaxN);
        else if (args.is("--iters"))
            iters = args.integer(1, kMaxIters);
        else
            args.unknown();
    }
    rooftime_set_param("n", static_cast<double>(n));
    rooftime_set_param("iters", static_cast<double>(iters));

    // The start is a linear field plus the lowest sine mode of the discrete Laplacian. A sweep keeps the
    // linear part and scales the mode by lambda = c0 + 6 c1 cos(theta), so after K sweeps the grid must equal
    // linear + lambda^K * mode: a check that catches wrong neighbours, missed swaps and a wrong sweep count.
    const auto size = static_cast<std::size_t>(n);
    const Field field { size, std::numbers::pi / static_cast<double>(size - 1) };
    std::vector<double> in(size * size * size);
    for (std::size_t z = 0; z < size; ++z)
        for (std::size_t y = 0; y < size; ++y)
            for (std::size_t x = 0; x < size; ++x)
                in[(z * size + y) * size + x] = field.at(x, y, z, 1.0);
    std::vector<double> out = in; // both grids need the fixed boundary

    const double nd = static_cast<double>(n);
    const double interior = (nd - 2.0) * (nd - 2.0) * (nd - 2.0);
    const double flops = 8.0 * interior;
    const double bytes = 8.0 * nd * nd * nd + 8.0 * interior;
    RegionTally tally("stencil7");
    const rooftime::samples::Stopwatch watch;
    for (std::int64_t it = 0; it < iters; ++it) {
        rooftime_begin("stencil7");
        sweep(in.data(), out.data(), size);
        rooftime_add_work(flops, bytes);
        rooftime_end("stencil7");
        tally.add(flops, bytes);
        std::swap(in, out);
    }
    const double seconds = watch.seconds();

    const double lambda = kC0 + 6.0 * kC1 * std::cos(field.theta);
    const double amplitude = std::pow(lambda, static_cast<double>(iters));
    // Rounding grows with the values (up to 6n) and with the number of sweeps; this bound leaves ample room
    // while still far below the mode's contribution for any size that allows a meaningful check.
    const double tolerance = 1e-12 * (6.0 * nd + 1.0) * (static_cast<double>(iters) + 1.0);
    double checksum = 0.0;
    for (std::size_t z = 0; z < size; ++z) {
        for (std::size_t y = 0; y < size; ++y) {
            for (std::size_t x = 0; x < size; ++x) {
                const double value = in[(z * size + y) * size + x];
                const double expected = field.at(x, y, z, amplitude);
                if (std::abs(value - expected) > tolerance) {
                    std::fprintf(stderr, "stencil: wrong result at (%zu, %zu, %zu): %.17g, expected %.17g\n", x, y, z,
                        value, expected);
                    return rooftime::samples::kFailureExit;
                }
                checksum += value;
            }
        }
    }
    std::printf("stencil: n=%lld iters=%lld checksum=%.17g seconds=%.6f GFLOP/s=%.3f\n", static_cast<long long>(n),
        static_cast<long long>(iters), checksum, seconds,
        seconds > 0 ? flops * static_cast<double>(iters) / seconds / 1e9 : 0.0);
    tally.printExpectation();
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    return rooftime::samples::guardedMain("stencil", &run, argc, argv);
}
