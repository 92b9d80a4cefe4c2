// SPDX-License-Identifier: MIT
/**
 * @file plot_axis.h
 * @brief Pure mapping functions of the plots: log axes (data ↔ pixel), 1-2-5 ticks with SI labels, axis ranges
 * from the data. No Qt: unit-tested on plain numbers.
 */
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rooftime::gui {

/// A log10 axis: data values lo..hi (both > 0) onto pixels p0..p1 (p1 < p0 for a y axis that grows upwards).
struct LogAxis {
    double lo = 1;
    double hi = 10;
    double p0 = 0;
    double p1 = 1;

    double toPixel(double value) const;
    double toValue(double pixel) const;
    /// lo ≤ value ≤ hi, with a relative tolerance for values computed on the way.
    bool contains(double value) const;
    double decades() const;
};

/// The largest value of the series 1, 2, 5, 10, 20, 50, … (times any power of ten) that is ≤ @p value (> 0).
double niceFloor(double value);
/// The smallest value of that series that is ≥ @p value (> 0).
double niceCeil(double value);

struct Tick {
    double value = 0;
    bool labelled = true; ///< unlabelled ticks draw only a grid line
    std::string label;
};

/// Ticks of [lo, hi]: 1, 2 and 5 of every decade while at most @p maxLabels would be labelled; else one per
/// decade, every k-th of them labelled so that at most @p maxLabels are. Labels are siLabel(value, unit).
std::vector<Tick> logTicks(double lo, double hi, std::string_view unit, std::size_t maxLabels);
/// The same ticks, labelled by @p label.
std::vector<Tick> logTicks(
    double lo, double hi, std::size_t maxLabels, const std::function<std::string(double)>& label);

/// An axis range holding every positive finite value of @p values, widened by @p marginDecades on each side,
/// snapped outwards to 1-2-5 values and at least @p minDecades wide. std::nullopt when no value is usable.
std::optional<std::pair<double, double>> logRange(
    const std::vector<double>& values, double marginDecades = 0.15, double minDecades = 1);

/// A value with an SI prefix and unit, @p digits significant digits, trailing zeros dropped:
/// (3.35e12, "B/s") → "3.35 TB/s", (2e-6, "s") → "2 µs", (989e12, "FLOP/s") → "989 TFLOP/s", (0.25, "") → "250 m".
std::string siLabel(double value, std::string_view unit, int digits = 3);
/// A plain number with @p digits significant digits, for quantities without a unit to prefix (intensity):
/// 0.1 → "0.1", 16.666 → "16.7", 10000 → "10000"; beyond 1e6 or below 1e-3 in exponent form ("1e+07").
std::string plainLabel(double value, int digits = 3);

} // namespace rooftime::gui
