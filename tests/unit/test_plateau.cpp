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
