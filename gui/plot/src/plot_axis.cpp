// SPDX-License-Identifier: MIT
#include "rooftime/gui/plot_axis.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace rooftime::gui {
namespace {

constexpr double kSlack = 1e-9; // relative: values computed on the way land a few ulps off their tick
constexpr double kSeries[] = { 1, 2, 5 };

bool usable(double v)
{
    return std::isfinite(v) && v > 0;
}

} // namespace

double LogAxis::toPixel(double value) const
{
    const double span = std::log10(hi) - std::log10(lo);
    return p0 + (std::log10(value) - std::log10(lo)) / span * (p1 - p0);
}

double LogAxis::toValue(double pixel) const
{
    const double span = std::log10(hi) - std::log10(lo);
    return std::pow(10.0, std::log10(lo) + (pixel - p0) / (p1 - p0) * span);
}

bool LogAxis::contains(double value) const
{
    return usable(value) && value >= lo * (1 - kSlack) && value <= hi * (1 + kSlack);
}

double LogAxis::decades() const
{
    return std::log10(hi) - std::log10(lo);
}

double niceFloor(double value)
{
    const double decade = std::pow(10.0, std::floor(std::log10(value)));
    double best = decade;
    for (double m : kSeries)
        if (m * decade <= value * (1 + kSlack)) best = m * decade;
    return best;
}

double niceCeil(double value)
{
    const double decade = std::pow(10.0, std::floor(std::log10(value)));
    for (double m : kSeries)
        if (m * decade >= value * (1 - kSlack)) return m * decade;
    return 10 * decade;
}

std::vector<Tick> logTicks(double lo, double hi, std::string_view unit, std::size_t maxLabels)
{
    return logTicks(lo, hi, maxLabels, [unit](double v) { return siLabel(v, unit); });
}

std::vector<Tick> logTicks(double lo, double hi, std::size_t maxLabels, const std::function<std::string(double)>& label)
{
    std::vector<Tick> ticks;
    if (!usable(lo) || !usable(hi) || hi <= lo) return ticks;
    maxLabels = std::max<std::size_t>(maxLabels, 2);
    const int first = static_cast<int>(std::floor(std::log10(lo))) - 1;
    const int last = static_cast<int>(std::ceil(std::log10(hi))) + 1;
    const auto inRange = [&](double v) { return v >= lo * (1 - kSlack) && v <= hi * (1 + kSlack); };
    // pow(10, k) is exact for the exponents that matter here; multiples are formed from it.
    std::vector<double> series;
    for (int k = first; k <= last; ++k)
        for (double m : kSeries)
            if (inRange(m * std::pow(10.0, k))) series.push_back(m * std::pow(10.0, k));
    if (series.size() <= maxLabels) {
        for (double v : series)
            ticks.push_back({ v, true, label(v) });
        return ticks;
    }
    std::vector<int> decades;
    for (int k = first; k <= last; ++k)
        if (inRange(std::pow(10.0, k))) decades.push_back(k);
    const std::size_t step = decades.empty() ? 1 : (decades.size() + maxLabels - 1) / maxLabels;
    for (int k : decades) {
        // Labelled decades are multiples of the step, so that the labels do not shift with the range's start.
        const bool labelled = ((k % static_cast<int>(step)) + static_cast<int>(step)) % static_cast<int>(step) == 0;
        const double v = std::pow(10.0, k);
        ticks.push_back({ v, labelled, labelled ? label(v) : std::string() });
    }
    return ticks;
}

std::optional<std::pair<double, double>> logRange(
    const std::vector<double>& values, double marginDecades, double minDecades)
{
    double lo = std::numeric_limits<double>::infinity();
    double hi = 0;
    for (double v : values)
        if (usable(v)) {
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
    if (hi <= 0) return std::nullopt;
    double a = std::log10(lo) - marginDecades;
    double b = std::log10(hi) + marginDecades;
    if (b - a < minDecades) {
        const double mid = 0.5 * (a + b);
        a = mid - 0.5 * minDecades;
        b = mid + 0.5 * minDecades;
    }
    return std::make_pair(niceFloor(std::pow(10.0, a)), niceCeil(std::pow(10.0, b)));
}

std::string siLabel(double value, std::string_view unit, int digits)
{
    static const char* const kPrefixes[] = { "a", "f", "p", "n", "\u00b5", "m", "", "k", "M", "G", "T", "P", "E" };
    constexpr int kUnity = 6; // index of ""
    const std::string space = unit.empty() ? "" : " ";
    if (value == 0 || !std::isfinite(value)) return fmt::format("{}{}{}", value, space, unit);
    digits = std::max(digits, 1);
    int group = static_cast<int>(std::floor(std::log10(std::fabs(value)) / 3));
    group = std::clamp(group, -kUnity, 6);
    double mantissa = value / std::pow(1000.0, group);
    // Round to the digits shown first: 999.7 shows as "1 k", not "1e+03".
    const double scale = std::pow(10.0, digits - 1 - static_cast<int>(std::floor(std::log10(std::fabs(mantissa)))));
    mantissa = std::round(mantissa * scale) / scale;
    if (std::fabs(mantissa) >= 1000 && group < 6) {
        mantissa /= 1000;
        ++group;
    }
    const std::string number = fmt::format("{:.{}g}", mantissa, digits);
    const char* prefix = kPrefixes[group + kUnity];
    if (*prefix == '\0' && unit.empty()) return number;
    return fmt::format("{} {}{}", number, prefix, unit);
}

std::string plainLabel(double value, int digits)
{
    if (value == 0 || !std::isfinite(value)) return fmt::format("{}", value);
    digits = std::max(digits, 1);
    const int exponent = static_cast<int>(std::floor(std::log10(std::fabs(value))));
    const double scale = std::pow(10.0, digits - 1 - exponent);
    const double rounded = std::round(value * scale) / scale;
    if (std::fabs(rounded) >= 1e6 || std::fabs(rounded) < 1e-3) return fmt::format("{:.{}g}", rounded, digits);
    const int decimals = std::max(0, digits - 1 - static_cast<int>(std::floor(std::log10(std::fabs(rounded)))));
    std::string text = fmt::format("{:.{}f}", rounded, decimals);
    if (text.find('.') != std::string::npos) {
        while (text.back() == '0')
            text.pop_back();
        if (text.back() == '.') text.pop_back();
    }
    return text;
}

} // namespace rooftime::gui
