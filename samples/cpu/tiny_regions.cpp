// SPDX-License-Identifier: MIT
// Many tiny nested regions on several threads: a stress test for the collector's per-thread buffers and the
// program behind the marker-overhead benchmarks, so the loop body is kept minimal (no allocation, no I/O).
//
// T threads each run N iterations; an iteration opens "tiny.0" > "tiny.1" > ... > "tiny.<D-1>" and closes them
// in reverse order. Declared work: only the innermost region, flops = 1 and bytes = 8 per instance. Totals:
// every level count = T N; innermost flops = T N, bytes = 8 T N; the outer levels declare nothing.

#include "sample_support.h"

#include <rooftime/rooftime.h>

#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <thread>
#include <vector>

namespace {

using rooftime::samples::Args;
using rooftime::samples::RegionTally;

constexpr const char* kUsage = "tiny_regions [--regions N=100000] [--threads T=1] [--depth D=1]";
// Bounds keep every total an exact integer <= 2^53: 8 * 2^40 * 2^10 = 2^53.
constexpr std::int64_t kMaxRegions = std::int64_t { 1 } << 40;
constexpr std::int64_t kMaxThreads = std::int64_t { 1 } << 10;
constexpr std::int64_t kMaxDepth = 64;

struct WorkerResult {
    std::uint64_t state = 0;
    std::uint64_t iterations = 0;
};

// A 64-bit LCG step: cheap, and its result is printed, so the compiler keeps the loop.
constexpr std::uint64_t step(std::uint64_t state, std::uint64_t i)
{
    return state * 6364136223846793005ULL + (i | 1);
}

void worker(const char* const* names, std::size_t depth, std::uint64_t iterations, WorkerResult* result)
{
    std::uint64_t state = 1;
    std::uint64_t done = 0;
    for (std::uint64_t i = 0; i < iterations; ++i) {
        for (std::size_t d = 0; d < depth; ++d)
            rooftime_begin(names[d]);
        state = step(state, i);
        ++done;
        rooftime_add_work(1.0, 8.0);
        for (std::size_t d = depth; d-- > 0;)
            rooftime_end(names[d]);
    }
    result->state = state;
    result->iterations = done;
}

int run(int argc, char** argv)
{
    std::int64_t regions = 100'000;
    std::int64_t threads = 1;
    std::int64_t depth = 1;
    Args args(argc, argv, "tiny_regions", kUsage);
    while (args.next()) {
        if (args.is("--regions"))
            regions = args.integer(1, kMaxRegions);
        else if (args.is("--threads"))
            threads = args.integer(1, kMaxThreads);
        else if (args.is("--depth"))
            depth = args.integer(1, kMaxDepth);
        else
            args.unknown();
    }
    rooftime_set_param("regions", static_cast<double>(regions));
    rooftime_set_param("threads", static_cast<double>(threads));
    rooftime_set_param("depth", static_cast<double>(depth));

    // Built once, before any timing, so the loop passes stable pointers and allocates nothing.
    std::vector<std::string> names;
    for (std::int64_t d = 0; d < depth; ++d)
        names.push_back("tiny." + std::to_string(d));
    std::vector<const char*> namePointers;
    for (const std::string& name : names)
        namePointers.push_back(name.c_str());

    const auto iterations = static_cast<std::uint64_t>(regions);
    std::vector<WorkerResult> results(static_cast<std::size_t>(threads));
    const rooftime::samples::Stopwatch watch;
    {
        std::vector<std::jthread> pool;
        for (WorkerResult& result : results)
            pool.emplace_back(worker, namePointers.data(), namePointers.size(), iterations, &result);
    }
    const double seconds = watch.seconds();

    std::uint64_t expectedState = 1;
    for (std::uint64_t i = 0; i < iterations; ++i)
        expectedState = step(expectedState, i);
    std::uint64_t checksum = 0;
    for (const WorkerResult& result : results) {
        if (result.iterations != iterations || result.state != expectedState) {
            std::fprintf(stderr, "tiny_regions: a thread ran %llu of %llu iterations or ended in a wrong state\n",
                static_cast<unsigned long long>(result.iterations), static_cast<unsigned long long>(iterations));
            return rooftime::samples::kFailureExit;
        }
        checksum += result.state; // wraps modulo 2^64, which is fine for a checksum
    }

    const std::uint64_t instances = static_cast<std::uint64_t>(threads) * iterations;
    std::printf("tiny_regions: regions=%lld threads=%lld depth=%lld checksum=%llu seconds=%.6f ns/iteration=%.2f\n",
        static_cast<long long>(regions), static_cast<long long>(threads), static_cast<long long>(depth),
        static_cast<unsigned long long>(checksum), seconds,
        seconds * 1e9 * static_cast<double>(threads) / static_cast<double>(instances));
    // Exact integer totals: threads finish in any order, so no summation order can be mirrored here.
    for (std::int64_t d = 0; d < depth; ++d) {
        RegionTally tally(names[static_cast<std::size_t>(d)]);
        if (d + 1 == depth)
            tally.setTotals(instances, static_cast<double>(instances), static_cast<double>(8 * instances));
        else
            tally.setTotals(instances, 0.0, 0.0);
        tally.printExpectation();
    }
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    return rooftime::samples::guardedMain("tiny_regions", &run, argc, argv);
}
