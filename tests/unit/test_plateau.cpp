// SPDX-License-Identifier: MIT
// Plateau detection on synthetic working-set sweeps: clean, noisy, with an outlier, without cache sizes, with a
// level that does not show, and cut short before main memory.
#include "rooftime/analyzer/plateau.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <random>

using namespace rooftime::analyzer;

namespace {

constexpr double KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB;

struct Level {
    double capacity; ///< where the level ends (the next one starts)
    double value;
};

/// Bandwidth that steps down smoothly (a logistic in log2 of the size) just after each capacity.
std::vector<SweepPoint> curve(
    const std::vector<Level>& levels, double maxBytes, double noise, unsigned seed, int perOctave = 3)
{
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> jitter(-noise, noise);
    std::vector<SweepPoint> out;
    for (int i = 0;; ++i) {
        const double ws = 4 * KiB * std::pow(2.0, static_cast<double>(i) / perOctave);
        if (ws > maxBytes) break;
        double logv = std::log(levels[0].value);
        for (std::size_t l = 0; l + 1 < levels.size(); ++l) {
            const double x = std::log2(ws) - std::log2(levels[l].capacity) - 0.6;
            logv += (std::log(levels[l + 1].value) - std::log(levels[l].value)) / (1 + std::exp(-6 * x));
        }
        out.push_back({ ws, std::exp(logv) * (1 + jitter(rng)) });
    }
    return out;
}

const std::vector<Level> kFourLevels { { 32 * KiB, 200e9 }, { 512 * KiB, 100e9 }, { 32 * MiB, 70e9 }, { 1e18, 16e9 } };
const std::vector<CacheCapacity> kCaches { { "L1", 32 * KiB }, { "L2", 512 * KiB }, { "L3", 32 * MiB } };

const Plateau* find(const PlateauResult& r, const std::string& level)
{
    for (const auto& p : r.plateaus)
        if (p.level == level) return &p;
    return nullptr;
}

void expectLevels(const PlateauResult& r, const std::vector<std::pair<std::string, double>>& expected, double tol)
{
    INFO("notes: " << r.notes.size());
    REQUIRE(r.plateaus.size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        INFO("plateau " << i);
        CHECK(r.plateaus[i].level == expected[i].first);
        CHECK(r.plateaus[i].value == Approx(expected[i].second).epsilon(tol));
    }
}

} // namespace

TEST_CASE("a clean four-level sweep gives L1, L2, L3 and DRAM with their values", "[plateau]")
{
    const auto sweep = curve(kFourLevels, 1 * GiB, 0, 1);
    const auto r = detectPlateaus(sweep, kCaches);
    expectLevels(r, { { "L1", 200e9 }, { "L2", 100e9 }, { "L3", 70e9 }, { "DRAM", 16e9 } }, 0.02);
    // Each plateau lies where its cache says it should.
    CHECK(find(r, "L1")->toBytes <= 64 * KiB);
    CHECK(find(r, "L2")->fromBytes > 32 * KiB);
    CHECK(find(r, "DRAM")->fromBytes > 32 * MiB);
    CHECK(r.notes.empty());
}

TEST_CASE("noise of ±5 % does not split or merge levels", "[plateau]")
{
    for (unsigned seed = 1; seed <= 20; ++seed) {
        INFO("seed " << seed);
        const auto r = detectPlateaus(curve(kFourLevels, 1 * GiB, 0.05, seed), kCaches);
        expectLevels(r, { { "L1", 200e9 }, { "L2", 100e9 }, { "L3", 70e9 }, { "DRAM", 16e9 } }, 0.07);
    }
}

TEST_CASE("one outlier point does not start a plateau", "[plateau]")
{
    auto sweep = curve(kFourLevels, 1 * GiB, 0.02, 7);
    for (auto& p : sweep)
        if (p.bytes > 2 * MiB && p.bytes < 3 * MiB) p.value *= 2.5; // one point inside L3
    const auto r = detectPlateaus(sweep, kCaches);
    expectLevels(r, { { "L1", 200e9 }, { "L2", 100e9 }, { "L3", 70e9 }, { "DRAM", 16e9 } }, 0.04);
}

TEST_CASE("without cache sizes plateaus are named by order and the last is DRAM", "[plateau]")
{
    const auto r = detectPlateaus(curve(kFourLevels, 1 * GiB, 0.03, 3), {});
    expectLevels(r, { { "L1", 200e9 }, { "L2", 100e9 }, { "L3", 70e9 }, { "DRAM", 16e9 } }, 0.05);
    REQUIRE(r.notes.size() == 1);
    CHECK(r.notes[0].find("by order") != std::string::npos);
}

TEST_CASE("a level without its own plateau is reported, not invented", "[plateau]")
{
    // L2 as fast as L3: the sweep shows three plateaus for three caches and memory.
    const std::vector<Level> levels { { 32 * KiB, 200e9 }, { 512 * KiB, 70e9 }, { 32 * MiB, 70e9 }, { 1e18, 16e9 } };
    const auto r = detectPlateaus(curve(levels, 1 * GiB, 0.02, 5), kCaches);
    expectLevels(r, { { "L1", 200e9 }, { "L3", 70e9 }, { "DRAM", 16e9 } }, 0.04);
    bool noted = false;
    for (const auto& n : r.notes)
        noted |= n.find("no plateau found for L2") != std::string::npos;
    CHECK(noted);
}

TEST_CASE("a sweep that stops inside the last cache has no DRAM value and says so", "[plateau]")
{
    const auto r = detectPlateaus(curve(kFourLevels, 16 * MiB, 0.01, 2), kCaches);
    CHECK(find(r, "DRAM") == nullptr);
    REQUIRE(find(r, "L3") != nullptr);
    bool noted = false;
    for (const auto& n : r.notes)
        noted |= n.find("no DRAM value") != std::string::npos;
    CHECK(noted);
}

TEST_CASE("edges far from the cache sizes are noted", "[plateau]")
{
    // The machine behaves as if L2 were 2 MiB while sysfs says 512 KiB.
    const std::vector<Level> levels { { 32 * KiB, 200e9 }, { 2 * MiB, 100e9 }, { 32 * MiB, 70e9 }, { 1e18, 16e9 } };
    const auto r = detectPlateaus(curve(levels, 1 * GiB, 0, 1), kCaches);
    REQUIRE(find(r, "L2") != nullptr);
    bool noted = false;
    for (const auto& n : r.notes)
        noted |= n.find("the L2 plateau continues to") != std::string::npos;
    CHECK(noted);
}

TEST_CASE("empty and invalid sweeps give no plateau", "[plateau]")
{
    CHECK(detectPlateaus({}, kCaches).plateaus.empty());
    const std::vector<SweepPoint> bad { { 4096, 0 }, { 8192, -1 }, { 16384, NAN } };
    const auto r = detectPlateaus(bad, kCaches);
    CHECK(r.plateaus.empty());
    REQUIRE_FALSE(r.notes.empty());
    CHECK(r.notes[0].find("3 sweep points") != std::string::npos);
}

TEST_CASE("a level split by a burst of interference is still one level", "[plateau]")
{
    auto sweep = curve(kFourLevels, 1 * GiB, 0.01, 11);
    for (auto& p : sweep)
        if (p.bytes > 2.5 * MiB && p.bytes < 5.5 * MiB) p.value *= 0.7; // three points inside L3, 30 % slower
    const auto r = detectPlateaus(sweep, kCaches);
    expectLevels(r, { { "L1", 200e9 }, { "L2", 100e9 }, { "L3", 70e9 }, { "DRAM", 16e9 } }, 0.04);
    const Plateau* l3 = find(r, "L3");
    CHECK(l3->fromBytes < 2 * MiB);
    CHECK(l3->toBytes > 8 * MiB);
}

namespace {
// Two sweeps rooftime measured on the 2-vCPU Zen 3 VM of bench/ceilings_vs_likwid.sh (2026-11-27, session 6), as
// recorded: one thread reading, and two threads running triad.
const std::vector<SweepPoint> kVmRead1 { { 4096, 189.9e9 }, { 5120, 204.5e9 }, { 6144, 187.5e9 }, { 8192, 160.2e9 },
    { 10240, 169.3e9 }, { 12288, 169.8e9 }, { 16384, 171.8e9 }, { 20480, 199.3e9 }, { 25600, 199.5e9 },
    { 32768, 193.6e9 }, { 40960, 100.5e9 }, { 51200, 101.5e9 }, { 65536, 99.8e9 }, { 81920, 88.6e9 },
    { 103424, 88.5e9 }, { 131072, 89.9e9 }, { 164864, 88.9e9 }, { 207872, 85.9e9 }, { 262144, 82.9e9 },
    { 329728, 84.1e9 }, { 415744, 75.9e9 }, { 524288, 83.1e9 }, { 660480, 80.6e9 }, { 831488, 67.5e9 },
    { 1048576, 70.7e9 }, { 1320960, 76.9e9 }, { 1664000, 77.1e9 }, { 2097152, 78.1e9 }, { 2641920, 78.1e9 },
    { 3328000, 75.8e9 }, { 4194304, 77.8e9 }, { 5283840, 75.7e9 }, { 6657024, 68.5e9 }, { 8388608, 65.7e9 },
    { 10568704, 63.0e9 }, { 13315072, 45.3e9 }, { 16777216, 32.3e9 }, { 21137408, 23.4e9 }, { 26631168, 20.4e9 },
    { 33554432, 17.2e9 }, { 42275840, 16.8e9 }, { 53263360, 16.7e9 }, { 67108864, 14.6e9 }, { 84551680, 14.0e9 },
    { 106527744, 14.1e9 }, { 134217728, 14.3e9 }, { 169103360, 15.3e9 }, { 213056512, 14.1e9 }, { 268435456, 14.5e9 },
    { 338206720, 15.8e9 }, { 426114048, 16.1e9 }, { 536870912, 15.7e9 }, { 676414464, 17.2e9 }, { 852229120, 17.6e9 },
    { 1073741824, 17.3e9 } };
const std::vector<SweepPoint> kVmTriad2 { { 6144, 370.4e9 }, { 12288, 403.5e9 }, { 18432, 403.9e9 }, { 24576, 402.1e9 },
    { 30720, 396.8e9 }, { 36864, 399.5e9 }, { 49152, 399.9e9 }, { 61440, 381.0e9 }, { 79872, 310.0e9 },
    { 98304, 222.0e9 }, { 129024, 208.2e9 }, { 159744, 204.1e9 }, { 202752, 202.8e9 }, { 258048, 203.0e9 },
    { 325632, 203.3e9 }, { 411648, 202.7e9 }, { 522240, 201.5e9 }, { 657408, 183.2e9 }, { 829440, 175.8e9 },
    { 1044480, 173.0e9 }, { 1320960, 166.5e9 }, { 1658880, 149.8e9 }, { 2095104, 144.3e9 }, { 2641920, 142.5e9 },
    { 3323904, 142.7e9 }, { 4190208, 142.1e9 }, { 5283840, 140.3e9 }, { 6653952, 140.9e9 }, { 8386560, 139.4e9 },
    { 10567680, 141.8e9 }, { 13314048, 135.6e9 }, { 16773120, 130.4e9 }, { 21135360, 125.9e9 }, { 26628096, 120.5e9 },
    { 33552384, 121.3e9 }, { 42270720, 95.0e9 }, { 53262336, 37.2e9 }, { 67104768, 38.0e9 }, { 84547584, 31.6e9 },
    { 106524672, 43.4e9 }, { 134215680, 39.5e9 }, { 169101312, 39.9e9 }, { 213055488, 38.3e9 }, { 268431360, 29.1e9 },
    { 338202624, 28.6e9 }, { 426110976, 30.3e9 }, { 536868864, 30.6e9 }, { 676411392, 30.4e9 }, { 852228096, 30.3e9 },
    { 1073737728, 29.9e9 } };
} // namespace

TEST_CASE("a VM's read sweep: a slow stretch of L2 stays L2 and does not lift L3", "[plateau]")
{
    const auto r = detectPlateaus(kVmRead1, kCaches);
    for (const auto& p : r.plateaus)
        UNSCOPED_INFO(p.level << " " << p.value / 1e9 << " GB/s " << p.fromBytes << "–" << p.toBytes);
    const Plateau* l2 = find(r, "L2");
    const Plateau* l3 = find(r, "L3");
    REQUIRE(l2);
    REQUIRE(l3);
    // 80–660 KiB read at 76–90 GB/s, closer to L3's 63–78 than to L2's first 100: by value alone they joined L3.
    CHECK(l2->toBytes >= 400 * KiB);
    CHECK(l3->fromBytes >= 400 * KiB);
    CHECK(l3->value < 80e9);
    CHECK(l3->value > 74e9);
    CHECK(l2->value > 85e9);
}

TEST_CASE("DRAM's value is the asymptote, not a cache the system does not report", "[plateau]")
{
    // Two threads, their caches: 2 × 32 KiB, 2 × 512 KiB, one 32 MiB L3. From 50 to 210 MiB triad ran at 32–43
    // GB/s, from 256 MiB on at 29–31: the DRAM roof is the latter.
    const std::vector<CacheCapacity> team { { "L1", 64 * KiB }, { "L2", 1 * MiB }, { "L3", 32 * MiB } };
    const auto r = detectPlateaus(kVmTriad2, team);
    const Plateau* dram = find(r, "DRAM");
    REQUIRE(dram);
    CHECK(dram->fromBytes < 60 * MiB); // the plateau is all of it
    CHECK(dram->value == Approx(30.4e9).epsilon(0.02));
    // Clean curves keep their value (the asymptote equals the plateau).
    const auto clean = detectPlateaus(curve(kFourLevels, 1 * GiB, 0, 1), kCaches);
    CHECK(find(clean, "DRAM")->value == Approx(16e9).epsilon(0.01));
    // A sweep that ends before 8 × the last cache takes the plateau's larger half.
    const auto shortSweep = detectPlateaus(curve(kFourLevels, 200 * MiB, 0.02, 4), kCaches);
    CHECK(find(shortSweep, "DRAM")->value == Approx(16e9).epsilon(0.04));
}

TEST_CASE("an L3 of unknown size takes the plateaus between L2 and the last, which is DRAM", "[plateau]")
{
    // CPUID without sysfs: L1 and L2 sizes per core, an L3 whose size is not known (0 bytes).
    const std::vector<CacheCapacity> caches { { "L1", 32 * KiB }, { "L2", 512 * KiB }, { "L3", 0 } };
    const auto r = detectPlateaus(curve(kFourLevels, 1 * GiB, 0.03, 5), caches);
    expectLevels(r, { { "L1", 200e9 }, { "L2", 100e9 }, { "L3", 70e9 }, { "DRAM", 16e9 } }, 0.05);
    REQUIRE_FALSE(r.notes.empty());
    CHECK(r.notes.back() == "L3 size unknown: the plateaus beyond L2 are L3, the last one DRAM");

    // A VM's L3 in two steps (its own share, then the host's): one L3, valued by its faster part; DRAM alone.
    const std::vector<Level> split { { 32 * KiB, 200e9 }, { 512 * KiB, 100e9 }, { 16 * MiB, 70e9 }, { 64 * MiB, 45e9 },
        { 1e18, 16e9 } };
    const auto s = detectPlateaus(curve(split, 1 * GiB, 0, 1), caches);
    REQUIRE(s.plateaus.size() == 4);
    CHECK(find(s, "L3")->fromBytes < 16 * MiB);
    CHECK(find(s, "L3")->toBytes > 16 * MiB);
    CHECK(find(s, "L3")->toBytes <= 64 * MiB);
    CHECK(find(s, "L3")->value > 45e9 * 1.05);
    CHECK(find(s, "DRAM")->value == Approx(16e9).epsilon(0.02));

    // Nothing between L2 and the last plateau: that one is DRAM, and L3 is missing, said so.
    const std::vector<Level> twoCaches { { 32 * KiB, 200e9 }, { 512 * KiB, 100e9 }, { 1e18, 16e9 } };
    const auto t = detectPlateaus(curve(twoCaches, 1 * GiB, 0, 1), caches);
    expectLevels(t, { { "L1", 200e9 }, { "L2", 100e9 }, { "DRAM", 16e9 } }, 0.02);
    CHECK(std::find(t.notes.begin(), t.notes.end(),
              "no plateau found for L3 (size unknown): it merges into a neighbouring level")
        != t.notes.end());
}

TEST_CASE("beyond an L3 of unknown size, a last plateau that stops short of the sweep's end is not DRAM", "[plateau]")
{
    const std::vector<CacheCapacity> caches { { "L1", 32 * KiB }, { "L2", 512 * KiB }, { "L3", 0 } };
    // L3 at 70 GB/s to 16 MiB, then a plateau at 45 GB/s to 32 MiB, then a slope that never levels off.
    auto sweep
        = curve({ { 32 * KiB, 200e9 }, { 512 * KiB, 100e9 }, { 16 * MiB, 70e9 }, { 32 * MiB, 45e9 } }, 32 * MiB, 0, 1);
    double value = 36e9;
    for (double bytes = 40 * MiB; bytes <= 256 * MiB; bytes *= 1.26) {
        sweep.push_back({ bytes, value });
        value *= 0.8; // each point 20 % below the last: no run of two
    }
    const auto r = detectPlateaus(sweep, caches);
    CHECK(std::none_of(r.plateaus.begin(), r.plateaus.end(), [](const Plateau& p) { return p.level == "DRAM"; }));
    REQUIRE(find(r, "L3"));
    CHECK(find(r, "L3")->toBytes <= 40 * MiB);
    CHECK(std::any_of(r.notes.begin(), r.notes.end(),
        [](const std::string& n) { return n.find("no DRAM plateau: the sweep does not level off after") == 0; }));
}
