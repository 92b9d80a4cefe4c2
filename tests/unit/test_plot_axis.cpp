// SPDX-License-Identifier: MIT
// The plots' pure mapping functions: log axes (data ↔ pixel), 1-2-5 ticks with SI labels, ranges with margins.
#include "rooftime/gui/plot_axis.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace rooftime::gui;

TEST_CASE("log axis: ends map to the pixel ends, decades are equal steps, round trips", "[plot][axis]")
{
    const LogAxis x { 1e3, 1e9, 100, 700 }; // six decades over 600 px
    CHECK(x.toPixel(1e3) == Approx(100));
    CHECK(x.toPixel(1e9) == Approx(700));
    CHECK(x.toPixel(1e6) == Approx(400));
    CHECK(x.toPixel(1e4) - x.toPixel(1e3) == Approx(100));
    CHECK(x.decades() == Approx(6));
    const LogAxis y { 1e-6, 1, 500, 50 }; // upwards: larger values have smaller pixels
    CHECK(y.toPixel(1e-6) == Approx(500));
    CHECK(y.toPixel(1) == Approx(50));
    CHECK(y.toPixel(1e-3) == Approx(275));
    for (double v : { 1e3, 3.7e4, 2.5e6, 9.99e8, 1e9 })
        CHECK(x.toValue(x.toPixel(v)) == Approx(v).epsilon(1e-12));
    for (double p : { 50.0, 123.4, 499.0 })
        CHECK(y.toPixel(y.toValue(p)) == Approx(p));
    // Values beyond the range map beyond the pixel range (clipping is the scene's job).
    CHECK(x.toPixel(1e10) == Approx(800));
    CHECK(x.contains(1e9 * (1 + 1e-12)));
    CHECK_FALSE(x.contains(2e9));
    CHECK_FALSE(x.contains(0));
    CHECK_FALSE(x.contains(-5));
}

TEST_CASE("1-2-5 values: floor and ceiling", "[plot][axis]")
{
    CHECK(niceFloor(3.7) == Approx(2));
    CHECK(niceFloor(7e-6) == Approx(5e-6));
    CHECK(niceFloor(1e12) == Approx(1e12));
    CHECK(niceFloor(0.19) == Approx(0.1));
    CHECK(niceCeil(3.7) == Approx(5));
    CHECK(niceCeil(5.01e9) == Approx(1e10));
    CHECK(niceCeil(2e-3) == Approx(2e-3));
    CHECK(niceCeil(1.2) == Approx(2));
}

TEST_CASE("ticks: 1, 2, 5 per decade while they fit, else labelled decades", "[plot][axis]")
{
    const auto fine = logTicks(1, 100, "B", 10);
    REQUIRE(fine.size() == 7);
    const double expected[] = { 1, 2, 5, 10, 20, 50, 100 };
    for (std::size_t i = 0; i < fine.size(); ++i) {
        CHECK(fine[i].value == Approx(expected[i]));
        CHECK(fine[i].labelled);
    }
    CHECK(fine[0].label == "1 B");
    CHECK(fine[5].label == "50 B");

    // Thirteen decade ticks with room for six labels: every third one labelled, on exponents divisible by 3.
    const auto coarse = logTicks(1e-3, 1e9, "s", 6);
    REQUIRE(coarse.size() == 13);
    std::size_t labelled = 0;
    for (const Tick& t : coarse) {
        const int k = static_cast<int>(std::lround(std::log10(t.value)));
        CHECK(t.value == Approx(std::pow(10.0, k)));
        CHECK(t.labelled == (k % 3 == 0));
        if (t.labelled) {
            ++labelled;
            CHECK_FALSE(t.label.empty());
        }
    }
    CHECK(labelled == 5);
    CHECK(coarse[1].value == Approx(1e-2));
    CHECK(coarse[3].label == "1 s");
    CHECK(coarse[12].label == "1 Gs");
    // Inside one decade: only the 1-2-5 values present.
    const auto narrow = logTicks(2e6, 5e6, "B/s", 8);
    REQUIRE(narrow.size() == 2);
    CHECK(narrow[0].label == "2 MB/s");
    CHECK(narrow[1].label == "5 MB/s");
    CHECK(logTicks(5, 1, "", 8).empty());
    CHECK(logTicks(0, 1, "", 8).empty());
}

TEST_CASE("ranges: every value inside with a margin, snapped to 1-2-5, at least the minimum width", "[plot][axis]")
{
    auto r = logRange({ 3e9, 6e9, 0, -1, 2.5e10, std::nan("") }, 0.15, 1);
    REQUIRE(r);
    CHECK(r->first == Approx(2e9)); // 3e9 / 10^0.15 = 2.12e9 → 2e9
    CHECK(r->second == Approx(5e10)); // 2.5e10 · 10^0.15 = 3.5e10 → 5e10
    CHECK(niceFloor(r->first) == Approx(r->first));
    CHECK(niceCeil(r->second) == Approx(r->second));
    // One value: a decade around it.
    auto one = logRange({ 1e-3 }, 0.15, 1);
    REQUIRE(one);
    CHECK(one->first <= 1e-3 / std::sqrt(10.0));
    CHECK(one->second >= 1e-3 * std::sqrt(10.0));
    CHECK(std::log10(one->second / one->first) >= 1);
    CHECK_FALSE(logRange({}, 0.15, 1));
    CHECK_FALSE(logRange({ 0, -3 }, 0.15, 1));
}

TEST_CASE("SI labels: prefixes, three significant digits, trailing zeros dropped", "[plot][axis]")
{
    CHECK(siLabel(3.35e12, "B/s") == "3.35 TB/s");
    CHECK(siLabel(989e12, "FLOP/s") == "989 TFLOP/s");
    CHECK(siLabel(50e12, "FLOP/s") == "50 TFLOP/s");
    CHECK(siLabel(2e-6, "s") == "2 \u00b5s");
    CHECK(siLabel(1e-3, "s") == "1 ms");
    CHECK(siLabel(4.2e-6, "s") == "4.2 \u00b5s");
    CHECK(siLabel(999.7, "B") == "1 kB"); // rounded before the prefix is chosen
    CHECK(siLabel(0.25, "") == "250 m");
    CHECK(siLabel(5, "B") == "5 B");
    CHECK(siLabel(5, "") == "5");
    CHECK(siLabel(266.666, "FLOP/B") == "267 FLOP/B");
    CHECK(siLabel(0, "s") == "0 s");
    CHECK(siLabel(1e18, "B") == "1 EB");
}

TEST_CASE("plain labels for intensity: no prefixes, three significant digits", "[plot][axis]")
{
    CHECK(plainLabel(0.1) == "0.1");
    CHECK(plainLabel(16.6667) == "16.7");
    CHECK(plainLabel(266.667) == "267");
    CHECK(plainLabel(10000) == "10000");
    CHECK(plainLabel(0.005) == "0.005");
    CHECK(plainLabel(2e7) == "2e+07");
    CHECK(plainLabel(1e-4) == "0.0001");
}
