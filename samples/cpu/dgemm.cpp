// SPDX-License-Identifier: MIT
// C = A * B on row-major n x n doubles, either as the naive i-j-k triple loop or cache-blocked in B x B tiles:
// the same declared work at very different achieved rates, which is what a roofline is meant to show.
//
// Declared work per "dgemm_naive" / "dgemm_blocked" region (one per iteration), algorithmic counts:
//   flops = 2 n^3    (one multiply and one add per (i, j, k))
//   bytes = 24 n^2   (compulsory traffic: read A and B, write C once, 8 bytes each)

#include "sample_support.h"

#include <rooftime/rooftime.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <vector>

namespace {

using rooftime::samples::Args;
using rooftime::samples::RegionTally;

constexpr const char* kUsage = "dgemm [--naive|--blocked] [--n N=512 | N] [--iters K=3] [--block B=64]";
// Bounds keep every declared total an exact integer <= 2^53: 2 * (2^14)^3 * 2^10 = 2^53.
constexpr std::int64_t kMaxN = std::int64_t { 1 } << 14;
constexpr std::int64_t kMaxIters = std::int64_t { 1 } << 10;

// Small integer entries make every product and partial sum an exact double, so both loop orders give
// bit-identical C and the check below can compare exactly.
double aValue(std::size_t i, std::size_t k)
{
    return static_cast<double>((i * 7 + k * 3) % 11) - 5.0;
}
double bValue(std::size_t k, std::size_t j)
{
    return static_cast<double>((k * 5 + j * 2) % 13) - 6.0;
}

void dgemmNaive(const double* a, const double* b, double* c, std::size_t n)
{
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = 0; j < n; ++j) {
            double sum = 0.0;
            for (std::size_t k = 0; k < n; ++k)
                sum += a[i * n + k] * b[k * n + j];
            c[i * n + j] = sum;
        }
    }
}

// i-k-j order inside each tile so the innermost loop streams rows of B and C; edge tiles are clipped with
// std::min, so n need not be a multiple of the block size.
void dgemmBlocked(const double* a, const double* b, double* c, std::size_t n, std::size_t block)
{
    std::fill(c, c + n * n, 0.0);
    for (std::size_t ii = 0; ii < n; ii += block) {
        const std::size_t iEnd = std::min(ii + block, n);
        for (std::size_t kk = 0; kk < n; kk += block) {
            const std::size_t kEnd = std::min(kk + block, n);
            for (std::size_t jj = 0; jj < n; jj += block) {
                const std::size_t jEnd = std::min(jj + block, n);
                for (std::size_t i = ii; i < iEnd; ++i) {
                    double* cRow = c + i * n;
                    for (std::size_t k = kk; k < kEnd; ++k) {
                        const double aik = a[i * n + k];
                        const double* bRow = b + k * n;
                        for (std::size_t j = jj; j < jEnd; ++j)
                            cRow[j] += aik * bRow[j];
                    }
                }
            }
        }
    }
}

int run(int argc, char** argv)
{
    bool naive = false;
    bool blocked = false;
    std::int64_t n = 512;
    std::int64_t iters = 3;
    std::int64_t block = 64;
    Args args(argc, argv, "dgemm", kUsage);
    while (args.next()) {
        if (args.is("--naive"))
            naive = true;
        else if (args.is("--blocked"))
            blocked = true;
        else if (args.is("--n"))
            n = args.integer(1, kMaxN);
        else if (args.is("--iters"))
            iters = args.integer(1, kMaxIters);
        else if (args.is("--block"))
            block = args.integer(1, kMaxN);
        else if (args.positional()) // `dgemm --naive 1024`, as docs and courses write it
            n = args.integerHere("N", 1, kMaxN);
        else
            args.unknown();
    }
    if (naive && blocked) args.fail("--naive and --blocked exclude each other");
    rooftime_set_param("n", static_cast<double>(n));
    rooftime_set_param("iters", static_cast<double>(iters));
    if (blocked) rooftime_set_param("block", static_cast<double>(block));

    const auto size = static_cast<std::size_t>(n);
    std::vector<double> a(size * size);
    std::vector<double> b(size * size);
    std::vector<double> c(size * size, 0.0);
    for (std::size_t i = 0; i < size; ++i) {
        for (std::size_t j = 0; j < size; ++j) {
            a[i * size + j] = aValue(i, j);
            b[i * size + j] = bValue(i, j);
        }
    }

    const char* region = blocked ? "dgemm_blocked" : "dgemm_naive";
    const double nd = static_cast<double>(n);
    const double flops = 2.0 * nd * nd * nd;
    const double bytes = 24.0 * nd * nd;
    RegionTally tally(region);
    const rooftime::samples::Stopwatch watch;
    for (std::int64_t it = 0; it < iters; ++it) {
        rooftime_begin(region);
        if (blocked)
            dgemmBlocked(a.data(), b.data(), c.data(), size, static_cast<std::size_t>(block));
        else
            dgemmNaive(a.data(), b.data(), c.data(), size);
        rooftime_add_work(flops, bytes);
        rooftime_end(region);
        tally.add(flops, bytes);
    }
    const double seconds = watch.seconds();

    // A full reference would cost another n^3; three rows catch indexing and tile-edge mistakes.
    for (const std::size_t i : { std::size_t { 0 }, size / 2, size - 1 }) {
        for (std::size_t j = 0; j < size; ++j) {
            double expected = 0.0;
            for (std::size_t k = 0; k < size; ++k)
                expected += aValue(i, k) * bValue(k, j);
            if (c[i * size + j] != expected) {
                std::fprintf(stderr, "dgemm: wrong result at C[%zu][%zu]: %.17g, expected %.17g\n", i, j,
                    c[i * size + j], expected);
                return rooftime::samples::kFailureExit;
            }
        }
    }
    double checksum = 0.0;
    for (const double value : c)
        checksum += value;
    std::printf("dgemm: variant=%s n=%lld iters=%lld block=%lld checksum=%.17g seconds=%.6f GFLOP/s=%.3f\n",
        blocked ? "blocked" : "naive", static_cast<long long>(n), static_cast<long long>(iters),
        static_cast<long long>(block), checksum, seconds,
        seconds > 0 ? flops * static_cast<double>(iters) / seconds / 1e9 : 0.0);
    tally.printExpectation();
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    return rooftime::samples::guardedMain("dgemm", &run, argc, argv);
}
