// SPDX-License-Identifier: MIT
#include "rooftime/analyzer/plateau.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "rooftime/analyzer/format.h"

namespace rooftime::analyzer {
namespace {

double median(std::vector<double> v)
{
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const std::size_t m = v.size() / 2;
    return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

bool close(double a, double b, double tolerance)
{
    return a > 0 && b > 0 && std::fabs(std::log(a / b)) <= std::log1p(tolerance);
}

struct Run {
    std::size_t first = 0, last = 0; // inclusive indices into the sorted points
    std::size_t size() const { return last - first + 1; }
};

} // namespace

PlateauResult detectPlateaus(
    std::span<const SweepPoint> sweep, std::span<const CacheCapacity> caches, const PlateauOptions& options)
{
    PlateauResult result;
    std::vector<SweepPoint> pts;
    for (const auto& p : sweep)
        if (p.bytes > 0 && p.value > 0 && std::isfinite(p.value)) pts.push_back(p);
    if (pts.size() < sweep.size())
        result.notes.push_back(
            fmt::format("{} sweep points without a positive value ignored", sweep.size() - pts.size()));
    std::sort(pts.begin(), pts.end(), [](const SweepPoint& a, const SweepPoint& b) { return a.bytes < b.bytes; });
    const std::size_t n = pts.size();
    if (n == 0) return result;

    std::vector<double> smooth(n);
    for (std::size_t i = 0; i < n; ++i) {
        const double l = pts[i == 0 ? 0 : i - 1].value, r = pts[i + 1 < n ? i + 1 : i].value;
        smooth[i] = i == 0 || i + 1 == n ? pts[i].value : median({ l, pts[i].value, r });
    }

    std::vector<Run> runs;
    Run cur;
    for (std::size_t i = 1; i < n; ++i) {
        const double m = median(
            std::vector<double>(smooth.begin() + static_cast<long>(cur.first), smooth.begin() + static_cast<long>(i)));
        if (close(smooth[i], m, options.tolerance)) {
            cur.last = i;
        } else {
            runs.push_back(cur);
            cur = Run { i, i };
        }
    }
    runs.push_back(cur);

    auto runMedian = [&](const Run& r) {
        return median(std::vector<double>(
            smooth.begin() + static_cast<long>(r.first), smooth.begin() + static_cast<long>(r.last) + 1));
    };
    // A last cache of unknown size (0 bytes) exists, but only the order of the runs beyond the known ones
    // can name it: they are that level, except the last, which is DRAM.
    const bool lastUnsized = !caches.empty() && caches.back().bytes <= 0;
    const std::span<const CacheCapacity> sized = lastUnsized ? caches.first(caches.size() - 1) : caches;
    const std::string beyond = lastUnsized ? caches.back().level : std::string("DRAM");
    // The cache whose capacity holds a run's central working set; DRAM (or the unsized level) beyond the last.
    auto levelOf = [&](const Run& r) -> std::string {
        const double centre = std::sqrt(pts[r.first].bytes * pts[r.last].bytes);
        for (const auto& c : sized)
            if (centre <= c.bytes) return c.level;
        return beyond;
    };
    std::vector<Run> kept;
    for (const Run& r : runs) {
        if (r.size() < options.minPoints) continue;
        // Same level, interrupted by a dip: merged by value, but never across a capacity the system reports (a
        // slow L2 stretch would otherwise join L3 and lift its value).
        if (!kept.empty() && close(runMedian(kept.back()), runMedian(r), options.tolerance)
            && (caches.empty() || levelOf(kept.back()) == levelOf(r))) {
            kept.back().last = r.last;
            continue;
        }
        kept.push_back(r);
    }

    // Name each run: by capacity when the cache sizes are known, else by order.
    std::vector<std::string> names(kept.size());
    for (std::size_t i = 0; i < kept.size(); ++i)
        names[i] = !caches.empty()          ? levelOf(kept[i])
            : i + 1 == kept.size() && i > 0 ? "DRAM"
                                            : fmt::format("L{}", i + 1);
    // ... provided it reaches the end of the sweep: a last plateau that stops short is that level too.
    const bool reachesEnd = !kept.empty() && pts[kept.back().last].bytes * 2 >= pts.back().bytes;
    if (lastUnsized && !names.empty() && names.back() == beyond && reachesEnd) names.back() = "DRAM";
    // Consecutive runs that claim one level are one plateau that noise split apart.
    std::vector<std::pair<Run, std::string>> levels;
    for (std::size_t i = 0; i < kept.size(); ++i) {
        if (!levels.empty() && levels.back().second == names[i])
            levels.back().first.last = kept[i].last;
        else
            levels.emplace_back(kept[i], names[i]);
    }
    for (const auto& [r, name] : levels) {
        // The rate the level sustains: the upper quartile of the smoothed values, leaving out the points at the
        // run's edges (they still sit in a transition). The upper quartile, not the median: interference on a
        // shared machine only ever slows a run down, so the true rate lies towards the top of the spread.
        std::size_t first = r.first, last = r.last;
        if (r.size() >= 3) ++first;
        if (r.size() >= 5) --last;
        if (name == "DRAM" && !caches.empty()) {
            // Memory's rate is the asymptote: caches the system does not report (a host's larger L3 seen from a
            // VM, memory-side caches) lift the start of the plateau. Its points at 8 × the last cache and beyond
            // when there are three, else its larger half.
            // (Beyond a cache of unknown size: the larger half.)
            const double far = lastUnsized ? std::numeric_limits<double>::infinity() : 8 * caches.back().bytes;
            std::size_t from = r.first;
            while (from <= r.last && pts[from].bytes < far)
                ++from;
            first = r.last + 1 - from >= 3 ? from : std::max(first, r.first + r.size() / 2);
            last = r.last;
        }
        std::vector<double> v(smooth.begin() + static_cast<long>(first), smooth.begin() + static_cast<long>(last) + 1);
        std::sort(v.begin(), v.end());
        const double q = 0.75 * static_cast<double>(v.size() - 1);
        const auto lo = static_cast<std::size_t>(q);
        const double value = lo + 1 < v.size() ? v[lo] + (q - static_cast<double>(lo)) * (v[lo + 1] - v[lo]) : v[lo];
        result.plateaus.push_back({ name, value, pts[r.first].bytes, pts[r.last].bytes, r.size() });
    }
    if (caches.empty()) {
        if (!result.plateaus.empty())
            result.notes.push_back("no cache sizes known: plateaus named by order, the last one DRAM");
        return result;
    }

    for (const auto& c : caches) {
        auto it = std::find_if(
            result.plateaus.begin(), result.plateaus.end(), [&](const Plateau& p) { return p.level == c.level; });
        if (it == result.plateaus.end()) {
            result.notes.push_back(fmt::format("no plateau found for {} ({}): it merges into a neighbouring level",
                c.level, c.bytes > 0 ? humanBytes(c.bytes) : std::string("size unknown")));
        } else if (c.bytes > 0 && it->toBytes > 2 * c.bytes) {
            result.notes.push_back(fmt::format("the {} plateau continues to {}, beyond the {} the system reports",
                c.level, humanBytes(it->toBytes), humanBytes(c.bytes)));
        }
    }
    if (lastUnsized) {
        result.notes.push_back(fmt::format("{} size unknown: the plateaus beyond {} are {}, the last one DRAM", beyond,
            sized.empty() ? std::string("the smallest") : sized.back().level, beyond));
        if (!reachesEnd && !names.empty() && names.back() == beyond)
            result.notes.push_back(fmt::format("no DRAM plateau: the sweep does not level off after {} (up to {})",
                humanBytes(pts[kept.back().last].bytes), humanBytes(pts.back().bytes)));
        return result;
    }
    const double last = caches.back().bytes;
    if (pts.back().bytes < 2 * last)
        result.notes.push_back(
            fmt::format("the sweep stops at {}, below twice the last-level cache ({}): no DRAM value",
                humanBytes(pts.back().bytes), humanBytes(last)));
    else if (std::none_of(
                 result.plateaus.begin(), result.plateaus.end(), [](const Plateau& p) { return p.level == "DRAM"; }))
        result.notes.push_back("no DRAM plateau found beyond the last-level cache");
    return result;
}

} // namespace rooftime::analyzer
