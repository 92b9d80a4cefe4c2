// SPDX-License-Identifier: MIT
// Cost of one rooftime_begin + rooftime_end pair, side by side with its reference measured in the same run:
// two clock_gettime(CLOCK_MONOTONIC) calls, the least a timed region can cost (a region needs two timestamps).
//
// Run it plain (markers are one branch each) and under the collector
// (LD_PRELOAD=<build>/lib/librooftime_collector.so ROOFTIME_OUTPUT=m.rtdb); bench/run.sh does both and checks
// that the profile holds every pair (nothing dropped by the bounded buffers).
//
// Like the samples it depends on <rooftime/rooftime.h> only, so its option parsing is hand-rolled.

#include <rooftime/rooftime.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <dlfcn.h>
#include <string_view>
#include <system_error>
#include <vector>

namespace {

constexpr const char* kUsage = "marker_bench [--pairs N=1000000] [--reps R=5] [--pause-ms P=auto]";
// One pointer for every call, as a program passing a string literal does: the collector's fast name check.
constexpr const char* kRegionName = "bench.pair";
constexpr std::int64_t kWarmupPairs = 10'000;
// Short enough that a time slice lost to another process spoils few blocks, long enough to span many chunks.
constexpr std::int64_t kBlockPairs = 20'000;

std::int64_t nowNs()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void sleepMs(std::int64_t ms)
{
    timespec ts { static_cast<time_t>(ms / 1000), static_cast<long>(ms % 1000) * 1'000'000L };
    while (nanosleep(&ts, &ts) != 0) { }
}

[[noreturn]] void usageError(const char* message, std::string_view what)
{
    std::fprintf(
        stderr, "marker_bench: %s '%.*s'\nusage: %s\n", message, static_cast<int>(what.size()), what.data(), kUsage);
    std::exit(2);
}

std::int64_t parseCount(std::string_view option, const char* text, std::int64_t min, std::int64_t max)
{
    const std::string_view value(text);
    std::int64_t v = 0;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (error != std::errc {} || end != value.data() + value.size() || v < min || v > max)
        usageError("bad value for", option);
    return v;
}

// The reference: two timestamps per iteration, summed so that neither call can be dropped.
std::int64_t referenceLoop(std::int64_t n, std::uint64_t& sink)
{
    const std::int64_t t0 = nowNs();
    std::uint64_t sum = 0;
    for (std::int64_t i = 0; i < n; ++i) {
        timespec a;
        timespec b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        clock_gettime(CLOCK_MONOTONIC, &b);
        sum += static_cast<std::uint64_t>(b.tv_nsec - a.tv_nsec) + static_cast<std::uint64_t>(b.tv_sec);
    }
    sink += sum;
    return nowNs() - t0;
}

std::int64_t markerLoop(std::int64_t n)
{
    const std::int64_t t0 = nowNs();
    for (std::int64_t i = 0; i < n; ++i) {
        rooftime_begin(kRegionName);
        rooftime_end(kRegionName);
    }
    return nowNs() - t0;
}

double perCall(std::int64_t ns, std::int64_t n)
{
    return static_cast<double>(ns) / static_cast<double>(n);
}

void printReps(const char* label, const std::vector<std::int64_t>& reps, std::int64_t n)
{
    std::printf("  %-10s ns per iteration, each repetition:", label);
    for (std::int64_t ns : reps)
        std::printf(" %.2f", perCall(ns, n));
    std::printf("\n");
}

} // namespace

int main(int argc, char** argv)
{
    std::int64_t pairs = 1'000'000;
    std::int64_t reps = 5;
    std::int64_t pauseMs = -1;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg(argv[i]);
        if (arg == "--help" || arg == "-h") {
            std::printf("usage: %s\n", kUsage);
            return 0;
        }
        if (i + 1 >= argc) usageError("missing value or unknown argument", arg);
        if (arg == "--pairs")
            pairs = parseCount(arg, argv[++i], 1, std::int64_t { 1 } << 40);
        else if (arg == "--reps")
            reps = parseCount(arg, argv[++i], 1, 1000);
        else if (arg == "--pause-ms")
            pauseMs = parseCount(arg, argv[++i], 0, 600'000);
        else
            usageError("unknown argument", arg);
    }
    // The same lookup the header does: is the collector in this process?
    const bool collector = dlsym(RTLD_DEFAULT, "rooftime_get_api_v1") != nullptr;
    // Under the collector, pause after each repetition so that the background writer drains what it produced
    // and the bounded buffers never drop: 1.5 us per pair leaves room for a writer of ~700k regions/s.
    if (pauseMs < 0) pauseMs = collector ? pairs * 3 / 2000 : 0;

    std::uint64_t sink = 0;
    // Warm-up: resolves the markers (dlsym), registers the thread, starts the writer, interns the name.
    referenceLoop(kWarmupPairs, sink);
    markerLoop(kWarmupPairs);
    if (pauseMs > 0) sleepMs(pauseMs);

    // Reference and markers alternate in blocks, so that both see the same load from other processes and the
    // same background writer: the ratio stays meaningful on a busy machine.
    std::vector<std::int64_t> reference;
    std::vector<std::int64_t> markers;
    std::vector<double> blockRatios;
    for (std::int64_t r = 0; r < reps; ++r) {
        std::int64_t refSum = 0;
        std::int64_t markerSum = 0;
        for (std::int64_t done = 0; done < pairs; done += kBlockPairs) {
            const std::int64_t n = std::min(kBlockPairs, pairs - done);
            const std::int64_t refNs = referenceLoop(n, sink);
            const std::int64_t markerNs = markerLoop(n);
            refSum += refNs;
            markerSum += markerNs;
            blockRatios.push_back(
                static_cast<double>(markerNs) / static_cast<double>(std::max<std::int64_t>(refNs, 1)));
        }
        reference.push_back(refSum);
        markers.push_back(markerSum);
        if (pauseMs > 0 && r + 1 < reps) sleepMs(pauseMs);
    }
    std::sort(blockRatios.begin(), blockRatios.end());
    const double medianBlockRatio = blockRatios[blockRatios.size() / 2];
    const double refNs = perCall(*std::min_element(reference.begin(), reference.end()), pairs);
    const double markerNs = perCall(*std::min_element(markers.begin(), markers.end()), pairs);
    const double ratio = markerNs / refNs;
    const std::int64_t totalPairs = kWarmupPairs + reps * pairs;

    std::printf("marker_bench: collector %s, %lld pairs per repetition, best of %lld, pause %lld ms (checksum %llu)\n",
        collector ? "present (LD_PRELOAD)" : "absent", static_cast<long long>(pairs), static_cast<long long>(reps),
        static_cast<long long>(pauseMs), static_cast<unsigned long long>(sink));
    printReps("reference", reference, pairs);
    printReps("markers", markers, pairs);
    std::printf("  reference (2x clock_gettime MONOTONIC): %8.2f ns\n", refNs);
    std::printf("  rooftime_begin + rooftime_end pair:     %8.2f ns\n", markerNs);
    std::printf("  ratio markers / reference:              %8.2f (goal <= 3 with the collector)\n", ratio);
    std::printf("  median ratio over %zu blocks of %lld:  %8.2f\n", blockRatios.size(),
        static_cast<long long>(kBlockPairs), medianBlockRatio);
    // One line for scripts (bench/run.sh): key=value, no spaces inside values.
    std::printf("RESULT collector=%d pairs=%lld reps=%lld total_pairs=%lld reference_ns=%.2f marker_ns=%.2f "
                "ratio=%.2f median_block_ratio=%.2f\n",
        collector ? 1 : 0, static_cast<long long>(pairs), static_cast<long long>(reps),
        static_cast<long long>(totalPairs), refNs, markerNs, ratio, medianBlockRatio);
    return 0;
}
