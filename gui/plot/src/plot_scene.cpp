// SPDX-License-Identifier: MIT
#include "rooftime/gui/plot_scene.h"

#include "rooftime/analyzer/format.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <limits>
#include <map>
#include <numbers>
#include <set>
#include <span>
#include <tuple>

namespace rooftime::gui {

using analyzer::Analysis;
using analyzer::LimiterKind;
using analyzer::ReportRow;

std::optional<PlotView> parsePlotView(std::string_view text)
{
    for (PlotView v : { PlotView::Combined, PlotView::Time, PlotView::Complexity, PlotView::Classic })
        if (text == plotViewName(v)) return v;
    return std::nullopt;
}

const char* plotViewName(PlotView view)
{
    switch (view) {
    case PlotView::Combined:
        return "combined";
    case PlotView::Time:
        return "time";
    case PlotView::Complexity:
        return "complexity";
    case PlotView::Classic:
        return "classic";
    }
    return "?";
}

namespace {

// Colours, sizes and proportions of every view: one table each.
constexpr Rgba kWhite { 255, 255, 255 };
constexpr Rgba kInk { 30, 30, 30 };
constexpr Rgba kMuted { 105, 105, 105 };
constexpr Rgba kGrid { 228, 228, 228 };
constexpr Rgba kFrame { 150, 150, 150 };
constexpr Rgba kGuide { 175, 175, 175 };
constexpr Rgba kRoof { 40, 40, 40 };
constexpr Rgba kLaunchFill { 117, 112, 179, 38 };
constexpr Rgba kLaunchInk { 90, 85, 150 };
/// Memory-bound at a level other than the one drawn: such a point may sit in the drawn level's compute-bound region.
constexpr Rgba kOtherLevelBound { 120, 190, 230 };

struct LimiterStyle {
    LimiterKind kind;
    const char* legend;
    Rgba color;
};
constexpr LimiterStyle kLimiterStyles[] = {
    { LimiterKind::Compute, "compute-bound", { 217, 95, 2 } },
    { LimiterKind::Memory, "memory-bound", { 31, 120, 180 } },
    { LimiterKind::Launch, "launch-bound", { 117, 112, 179 } },
    { LimiterKind::Latency, "latency / under-utilised", { 200, 40, 120 } },
    { LimiterKind::Unknown, "no bound", { 128, 128, 128 } },
};

struct LevelStyle {
    const char* level;
    Rgba color;
};
constexpr LevelStyle kLevelStyles[] = {
    { "L1", { 102, 166, 30 } },
    { "shared", { 27, 158, 119 } },
    { "L2", { 230, 171, 2 } },
    { "L3", { 166, 118, 29 } },
    { "HBM", { 31, 120, 180 } },
    { "DRAM", { 31, 120, 180 } },
};
constexpr Rgba kOtherLevel { 231, 41, 138 };

constexpr double kFont = 12;
constexpr double kSmallFont = 10.5;
constexpr double kTitleFont = 14;
constexpr double kCharWidth = 0.58; ///< average glyph advance per pixel of font size, for layout estimates
constexpr double kLineHeight = 1.35;
constexpr double kMinRadius = 2.5;
constexpr double kMaxRadiusShare = 0.075; ///< radius of an item holding all the time, of the area's smaller side
constexpr std::size_t kMaxNameChars = 40;

Rgba limiterColor(LimiterKind kind)
{
    for (const auto& s : kLimiterStyles)
        if (s.kind == kind) return s.color;
    return kMuted;
}

Rgba levelColor(const std::string& level)
{
    for (const auto& s : kLevelStyles)
        if (level == s.level) return s.color;
    return kOtherLevel;
}

Rgba withAlpha(Rgba c, std::uint8_t a)
{
    c.a = a;
    return c;
}

Rgba darker(Rgba c)
{
    return { static_cast<std::uint8_t>(c.r * 7 / 10), static_cast<std::uint8_t>(c.g * 7 / 10),
        static_cast<std::uint8_t>(c.b * 7 / 10), 255 };
}

std::string lower(std::string s)
{
    for (char& c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

bool isGpu(const std::string& device)
{
    return device.rfind("gpu", 0) == 0;
}

double textWidth(const std::string& text, double size)
{
    std::size_t glyphs = 0;
    for (unsigned char c : text)
        if ((c & 0xC0) != 0x80) ++glyphs; // UTF-8: count lead bytes only
    return static_cast<double>(glyphs) * size * kCharWidth;
}

/// @p full when it fits in @p room pixels at @p size, else @p brief when that fits, else nothing.
std::string fitting(const std::string& full, const std::string& brief, double room, double size)
{
    if (textWidth(full, size) <= room) return full;
    return textWidth(brief, size) <= room ? brief : std::string();
}

double length(const std::pair<PlotPoint, PlotPoint>& segment)
{
    return std::hypot(segment.second.x - segment.first.x, segment.second.y - segment.first.y);
}

/// Greedy word wrap to @p width pixels.
std::vector<std::string> wrapText(const std::string& text, double width, double size)
{
    std::vector<std::string> lines;
    std::string line;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find(' ', pos);
        if (end == std::string::npos) end = text.size();
        const std::string word = text.substr(pos, end - pos);
        const std::string candidate = line.empty() ? word : line + " " + word;
        if (!line.empty() && textWidth(candidate, size) > width) {
            lines.push_back(line);
            line = word;
        } else {
            line = candidate;
        }
        pos = end + 1;
    }
    if (!line.empty()) lines.push_back(line);
    return lines;
}

std::string levelNames(const analyzer::Roofs& roofs)
{
    std::vector<std::string> names;
    for (const auto& [level, bw] : roofs.bandwidth)
        names.push_back(level);
    return names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", "));
}

/// The level of @p roofs named @p wanted, ignoring case; empty when none.
std::string findLevel(const analyzer::Roofs& roofs, const std::string& wanted)
{
    for (const auto& [level, bw] : roofs.bandwidth)
        if (lower(level) == lower(wanted) && bw > 0) return level;
    return {};
}

std::string roofLabel(const std::string& what, double value, std::string_view unit)
{
    return what + " " + siLabel(value, unit);
}

double totalFlops(const ReportRow& row)
{
    double f = 0;
    for (const auto& [cls, v] : row.flopsByClass)
        f += v;
    return f;
}

bool hasWork(const ReportRow& row)
{
    if (totalFlops(row) > 0) return true;
    for (const auto& [level, q] : row.bytesByLevel)
        if (q > 0) return true;
    return false;
}

std::string rowDevice(const ReportRow& row)
{
    return row.device.empty() ? std::string("cpu") : row.device;
}

/// Reasons items are left out, in the order first met, with their counts.
class LeftOut {
public:
    void add(const std::string& reason)
    {
        for (auto& [r, n] : m_reasons)
            if (r == reason) {
                ++n;
                return;
            }
        m_reasons.emplace_back(reason, 1);
    }
    std::size_t total() const
    {
        std::size_t n = 0;
        for (const auto& [r, k] : m_reasons)
            n += k;
        return n;
    }
    std::string phrase() const
    {
        std::vector<std::string> parts;
        for (const auto& [r, n] : m_reasons)
            parts.push_back(fmt::format("{} {}", n, r));
        return fmt::format("{}", fmt::join(parts, ", "));
    }

private:
    std::vector<std::pair<std::string, std::size_t>> m_reasons;
};

/// An item that passed the view's conditions.
struct Drawn {
    const ReportRow* row = nullptr;
    const Analysis* a = nullptr;
    double flops = 0; ///< F
    double bytes = 0; ///< Q at the view's level
    double seconds = 0; ///< T
};

/// Liang–Barsky: the part of segment a–b inside @p r, or nothing.
std::optional<std::pair<PlotPoint, PlotPoint>> clipSegment(PlotPoint a, PlotPoint b, const PlotRect& r)
{
    double t0 = 0, t1 = 1;
    const double dx = b.x - a.x, dy = b.y - a.y;
    const double p[4] = { -dx, dx, -dy, dy };
    const double q[4] = { a.x - r.left, r.right() - a.x, a.y - r.top, r.bottom() - a.y };
    for (int i = 0; i < 4; ++i) {
        if (p[i] == 0) {
            if (q[i] < 0) return std::nullopt;
            continue;
        }
        const double t = q[i] / p[i];
        if (p[i] < 0)
            t0 = std::max(t0, t);
        else
            t1 = std::min(t1, t);
        if (t0 > t1) return std::nullopt;
    }
    return std::make_pair(PlotPoint { a.x + t0 * dx, a.y + t0 * dy }, PlotPoint { a.x + t1 * dx, a.y + t1 * dy });
}

/// The four corners of the box a text covers on screen, estimated from its glyph count (as layout does), with
/// @p pad pixels around: counter-clockwise angles turn it about its anchor.
std::array<PlotPoint, 4> textBox(const TextShape& t, double pad)
{
    const double w = textWidth(t.text, t.size) * (t.bold ? 1.12 : 1), h = t.size * 1.2;
    const double x0 = t.halign == HAlign::Left ? 0 : t.halign == HAlign::Center ? -w / 2 : -w;
    const double y0 = t.valign == VAlign::Top ? 0
        : t.valign == VAlign::Middle          ? -h / 2
        : t.valign == VAlign::Bottom          ? -h
                                              : -0.8 * h;
    const double a = t.angle * std::numbers::pi / 180, c = std::cos(a), s = std::sin(a);
    // Local x runs along (cos, -sin) on screen, local y (down) along (sin, cos).
    const auto at = [&](double lx, double ly) {
        return PlotPoint { t.at.x + lx * c + ly * s, t.at.y - lx * s + ly * c };
    };
    return { at(x0 - pad, y0 - pad), at(x0 + w + pad, y0 - pad), at(x0 + w + pad, y0 + h + pad),
        at(x0 - pad, y0 + h + pad) };
}

/// Whether two convex quadrilaterals overlap (separating axes: the edge normals of both).
bool overlaps(const std::array<PlotPoint, 4>& a, const std::array<PlotPoint, 4>& b)
{
    for (const auto* poly : { &a, &b })
        for (std::size_t i = 0; i < 4; ++i) {
            const PlotPoint p = (*poly)[i], q = (*poly)[(i + 1) % 4];
            const double nx = q.y - p.y, ny = p.x - q.x;
            double aLo = 1e300, aHi = -1e300, bLo = 1e300, bHi = -1e300;
            for (const PlotPoint& v : a) {
                aLo = std::min(aLo, v.x * nx + v.y * ny);
                aHi = std::max(aHi, v.x * nx + v.y * ny);
            }
            for (const PlotPoint& v : b) {
                bLo = std::min(bLo, v.x * nx + v.y * ny);
                bHi = std::max(bHi, v.x * nx + v.y * ny);
            }
            if (aHi <= bLo || bHi <= aLo) return false;
        }
    return true;
}

/// Which labels give way when two would overlap: lower ranks are placed first.
enum class LabelRank { Region, Number, Roof, Secondary, Guide };

/// A label inside the chart with the places it may take, best first; placed once everything is drawn.
struct PendingLabel {
    std::size_t shape = 0; ///< index of its TextShape in the scene
    LabelRank rank = LabelRank::Roof;
    std::vector<TextShape> candidates;
    std::size_t number = 0; ///< an item's number: merged into a coinciding item's number rather than left out
    PlotPoint point; ///< numbers: the centre of their item's point, in pixels
};

class SceneBuilder {
public:
    SceneBuilder(const analyzer::Report& report, const PlotOptions& options)
        : m_report(report)
        , m_options(options)
    { }

    PlotScene build();

private:
    void chooseDevice();
    void chooseLevels();
    void selectItems();
    void chooseComputeRoof();
    void makeMarks();
    void layout();
    void computeRanges();
    void drawAxes();
    void drawComplexity();
    void drawTime();
    /// The launch-bound box from the chart's lower-left corner to the data point (x, y).
    void launchBox(double x, double y);
    /// "compute-bound" top left, @p memorySide bottom right.
    void regionLabels(const char* memorySide);
    void drawClassic();
    void drawMarks();
    void drawLegend();
    void drawTexts();
    /// Queues a label with its candidate places (empty texts skipped); drawn by placeLabels.
    void label(LabelRank rank, std::vector<TextShape> candidates, std::size_t number = 0, PlotPoint point = {});
    /// Gives each queued label, by rank, its first place that overlaps no label placed before; a number that
    /// finds none joins the number it collides with ("6, 7"); a roof label keeps its first place; the others are
    /// left out (their values are in the legend).
    void placeLabels();

    PlotPoint px(double x, double y) const { return { m_scene.x.toPixel(x), m_scene.y.toPixel(y) }; }
    /// Draws the parts of the polyline (in pixels) inside the plot area.
    void polyline(ShapeRole role, const std::vector<PlotPoint>& points, Rgba color, double width, bool dashed,
        const std::string& key);
    /// A line between two data points, clipped; returns the clipped ends in pixels.
    std::optional<std::pair<PlotPoint, PlotPoint>> dataLine(
        ShapeRole role, PlotPoint a, PlotPoint b, Rgba color, double width, bool dashed, const std::string& key);
    void text(ShapeRole role, PlotPoint at, std::string s, double size, Rgba color, HAlign h = HAlign::Left,
        VAlign v = VAlign::Baseline, double angle = 0, bool bold = false);
    /// The on-screen angle (degrees, counter-clockwise) of a line of slope 1 in log-log data.
    double diagonalAngle() const;
    double beta() const { return m_roofs.bandwidth.at(m_level); }
    /// Classic: the level's colour; the others: the limiter's, memory-bound at another level apart.
    Rgba markColor(const PlotMark& m) const;
    /// Memory-bound at a level other than the one drawn.
    bool boundElsewhere(const PlotMark& m) const
    {
        return m_options.view != PlotView::Classic && m.limiter == LimiterKind::Memory && m.binding != m_level;
    }
    std::string itemsNoun(std::size_t n) const;

    const analyzer::Report& m_report;
    PlotOptions m_options;
    PlotScene m_scene;
    analyzer::Roofs m_roofs;
    std::string m_device;
    std::string m_level; ///< combined, complexity, time: the level drawn
    std::vector<std::string> m_levels; ///< classic: the levels drawn
    double m_peak = 0; ///< Π of the compute class that scales the charts
    std::vector<analyzer::FlopClass> m_classes; ///< compute roofs drawn
    std::vector<Drawn> m_drawn;
    LeftOut m_leftOut;
    std::size_t m_legendWidth = 0;
    std::vector<std::string> m_footnotes;
    std::vector<PendingLabel> m_labels;
};

void SceneBuilder::chooseDevice()
{
    std::map<std::string, double> time;
    for (const ReportRow& r : m_report.rows)
        if (r.roof && hasWork(r)) time[rowDevice(r)] += r.workSeconds;
    if (!m_options.device.empty()) {
        m_device = m_options.device;
    } else if (!time.empty()) {
        m_device = std::max_element(time.begin(), time.end(), [](const auto& a, const auto& b) {
            return a.second < b.second;
        })->first;
    } else {
        m_device = "cpu";
        for (const auto& c : m_report.machine->ceilings)
            if (c.roof && isGpu(c.device)) {
                m_device = c.device;
                break;
            }
    }
    m_roofs = analyzer::Roofs::fromMachine(*m_report.machine, m_device);
    if (m_roofs.peak.empty() && m_roofs.bandwidth.empty()) {
        std::vector<std::string> devices;
        for (const auto& c : m_report.machine->ceilings)
            if (c.roof && std::find(devices.begin(), devices.end(), c.device) == devices.end())
                devices.push_back(c.device);
        throw PlotError(fmt::format("the machine model ({}) has no roofs for device '{}' (devices with roofs: {}){}",
            m_report.machineSource, m_device,
            devices.empty() ? std::string("none") : fmt::format("{}", fmt::join(devices, ", ")),
            m_options.device.empty() ? "" : "; pick one with --device"));
    }
    m_scene.device = m_device;
}

void SceneBuilder::chooseLevels()
{
    if (m_roofs.bandwidth.empty())
        throw PlotError(fmt::format(
            "the machine model has no bandwidth roofs for {}: measure them with rooftime ceilings", m_device));
    if (!m_options.level.empty()) {
        m_level = findLevel(m_roofs, m_options.level);
        if (m_level.empty())
            throw PlotError(fmt::format("--level {}: no bandwidth roof for that level on {} (levels with a roof: {})",
                m_options.level, m_device, levelNames(m_roofs)));
        m_levels = { m_level };
    } else {
        const std::string preferred = isGpu(m_device) ? "HBM" : "DRAM";
        m_level = findLevel(m_roofs, preferred);
        if (m_options.view == PlotView::Classic) {
            for (const auto& [level, bw] : m_roofs.bandwidth)
                if (bw > 0) m_levels.push_back(level);
            // Main memory first, then the caches outwards in: the order of the hierarchy.
            std::stable_sort(m_levels.begin(), m_levels.end(), [&](const std::string& x, const std::string& y) {
                return m_roofs.bandwidth.at(x) < m_roofs.bandwidth.at(y);
            });
            m_scene.level.clear();
            return;
        }
        if (m_level.empty())
            throw PlotError(fmt::format("no {} roof on {}: pick a level with --level (levels with a roof: {})",
                preferred, m_device, levelNames(m_roofs)));
        m_levels = { m_level };
    }
    m_scene.level = m_level;
}

void SceneBuilder::selectItems()
{
    const bool classic = m_options.view == PlotView::Classic;
    std::vector<Drawn> passing;
    for (const ReportRow& r : m_report.rows) {
        if (!r.roof || !hasWork(r)) {
            m_leftOut.add("without work");
            continue;
        }
        if (rowDevice(r) != m_device) {
            m_leftOut.add("on another device");
            continue;
        }
        Drawn d { &r, &*r.roof, totalFlops(r), 0, r.workSeconds };
        if (d.seconds <= 0) {
            m_leftOut.add("without time");
            continue;
        }
        if (d.flops <= 0) {
            m_leftOut.add("without FLOPs");
            continue;
        }
        if (d.a->computeTime <= 0) {
            m_leftOut.add(fmt::format("without a compute roof ({})", fmt::join(d.a->missingRoofs, ", ")));
            continue;
        }
        if (classic) {
            bool any = false;
            for (const std::string& level : m_levels)
                any = any || d.a->intensity.count(level);
            if (!any) {
                m_leftOut.add(m_levels.size() == 1 ? fmt::format("without bytes at {}", m_levels[0])
                                                   : std::string("without bytes at a level with a roof"));
                continue;
            }
        } else {
            auto q = r.bytesByLevel.find(m_level);
            if (q == r.bytesByLevel.end() || q->second <= 0) {
                m_leftOut.add(fmt::format("without bytes at {}", m_level));
                continue;
            }
            d.bytes = q->second;
            if (!d.a->memorySeconds.count(m_level)) {
                m_leftOut.add(fmt::format("without a {} roof", m_level));
                continue;
            }
        }
        passing.push_back(d);
    }
    const std::size_t shown = m_options.top ? std::min(m_options.top, passing.size()) : passing.size();
    for (std::size_t i = shown; i < passing.size(); ++i)
        m_leftOut.add(fmt::format("beyond --top {}", m_options.top));
    passing.resize(shown);
    m_drawn = std::move(passing);
}

void SceneBuilder::chooseComputeRoof()
{
    // The class whose compute time (the analysis' F[p]/Π[p]) is largest over the drawn items scales the charts;
    // every class drawn gets a roof.
    std::map<analyzer::FlopClass, double> weight;
    for (const Drawn& d : m_drawn)
        for (const auto& [cls, t] : d.a->computeSeconds)
            if (t > 0) weight[cls] += t;
    if (weight.empty())
        for (const auto& [cls, peak] : m_roofs.peak)
            if (peak > 0) weight[cls] = peak; // nothing drawn: the machine's roofs, the fastest scaling
    if (weight.empty())
        throw PlotError(fmt::format(
            "the machine model has no compute roofs for {}: measure them with rooftime ceilings", m_device));
    const auto best = std::max_element(
        weight.begin(), weight.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
    m_peak = m_roofs.peak.at(best->first);
    m_scene.computeRoof = best->first.label();
    for (const auto& [cls, t] : weight)
        m_classes.push_back(cls);
}

void SceneBuilder::makeMarks()
{
    double total = 0;
    for (const Drawn& d : m_drawn)
        total += d.seconds;
    std::size_t number = 0;
    for (const Drawn& d : m_drawn) {
        ++number;
        PlotMark m;
        m.name = d.row->name;
        m.number = number;
        m.seconds = d.seconds;
        m.limiter = d.a->limiter;
        m.binding = d.a->bindingTerm;
        // Radius is set in layout(), once the plot area is known; here the share of the time.
        m.radius = total > 0 ? d.seconds / total : 0;
        switch (m_options.view) {
        case PlotView::Complexity:
        case PlotView::Combined: {
            m.level = m_level;
            m.x = d.bytes;
            m.y = d.flops;
            if (m_options.view == PlotView::Combined) {
                // The vertex: the point slid along its own AI ray until its time at this level's roof is T.
                const double roof = std::max(d.a->computeTime, d.a->memorySeconds.at(m_level));
                const double s = d.seconds / roof;
                m.vertex = PlotPoint { d.bytes * s, d.flops * s };
            }
            m_scene.marks.push_back(m);
            break;
        }
        case PlotView::Time:
            m.level = m_level;
            m.x = d.a->memorySeconds.at(m_level);
            m.y = d.a->computeTime;
            m_scene.marks.push_back(m);
            break;
        case PlotView::Classic:
            for (const std::string& level : m_levels) {
                auto ai = d.a->intensity.find(level);
                if (ai == d.a->intensity.end() || !d.a->flopsPerSecond) continue;
                m.level = level;
                m.x = ai->second;
                m.y = *d.a->flopsPerSecond;
                m_scene.marks.push_back(m);
            }
            break;
        }
    }
    m_scene.items = m_drawn.size();
}

void SceneBuilder::layout()
{
    const double w = m_options.width, h = m_options.height;
    m_scene.width = w;
    m_scene.height = h;
    const bool combined = m_options.view == PlotView::Combined;
    m_legendWidth = w >= 640 ? static_cast<std::size_t>(std::clamp(0.27 * w, 190.0, 340.0)) : 0;

    // Footnotes first: their lines decide the bottom margin.
    if (m_leftOut.total())
        m_footnotes.push_back(fmt::format("Left out: {} of {} items: {}.", m_leftOut.total(),
            m_leftOut.total() + m_drawn.size(), m_leftOut.phrase()));
    const std::string launch = m_roofs.launchSeconds > 0 ? siLabel(m_roofs.launchSeconds, "s") : std::string();
    const std::string box = launch.empty()
        ? std::string()
        : fmt::format(" Shaded box: launch-bound for one launch (t_launch = {}{}); an item of N launches is "
                      "launch-bound inside N times the box.",
            launch, m_options.view == PlotView::Time ? "" : ": F ≤ t_launch·Π, Q ≤ t_launch·β");
    switch (m_options.view) {
    case PlotView::Combined:
        m_footnotes.push_back(
            fmt::format("Filled: measured (Q, F); ring: its vertex, where it would spend its measured "
                        "time T at the {} roof (Π per item, from its precisions); the segment's "
                        "length is log(T / T_roof). Marker area ∝ T.{}",
                m_level, box));
        break;
    case PlotView::Complexity:
        m_footnotes.push_back(fmt::format("Diagonals: constant arithmetic intensity; marker area ∝ time.{}", box));
        break;
    case PlotView::Time:
        m_footnotes.push_back(fmt::format("Guides: iso-runtime, roof time max(Q/β, F/Π) = constant; marker area ∝ "
                                          "time.{}",
            box));
        break;
    case PlotView::Classic:
        m_footnotes.push_back("One point per item and memory level, at its intensity at that level; marker area ∝ "
                              "time.");
        break;
    }
    // The widest y tick label is "500 " with a prefix and the unit; the rotated axis title sits left of it.
    const std::string yUnit = m_options.view == PlotView::Classic ? "FLOP/s"
        : m_options.view == PlotView::Time                        ? "s"
                                                                  : "FLOP";
    const double left = 34 + textWidth("500 k" + yUnit, kSmallFont) + 10;
    const double right = 16 + static_cast<double>(m_legendWidth) + (combined ? 74 : 0);
    const double top = 44 + (combined ? 40 : 0);
    const auto wrapAll = [&] {
        std::vector<std::string> lines;
        for (const std::string& f : m_footnotes)
            for (std::string& line : wrapText(f, w - 20, kSmallFont))
                lines.push_back(std::move(line));
        return lines;
    };
    std::vector<std::string> lines = wrapAll();
    const auto bottomFor = [](std::size_t n) { return 50 + static_cast<double>(n) * kSmallFont * kLineHeight; };
    // A small plot keeps its area: the explanation goes, the count of items left out stays.
    if (h - top - bottomFor(lines.size()) < 0.5 * h) {
        m_footnotes.pop_back();
        lines = wrapAll();
    }
    m_footnotes = std::move(lines);
    const double bottom = bottomFor(m_footnotes.size());
    m_scene.area = { left, top, std::max(60.0, w - left - right), std::max(40.0, h - top - bottom) };

    const double maxRadius = kMaxRadiusShare * std::min(m_scene.area.width, m_scene.area.height);
    for (PlotMark& m : m_scene.marks)
        m.radius = std::max(kMinRadius, maxRadius * std::sqrt(m.radius));
}

void SceneBuilder::computeRanges()
{
    struct Extent {
        double x, y, radius;
    };
    std::vector<Extent> extents;
    std::vector<double> xs, ys;
    for (const PlotMark& m : m_scene.marks) {
        extents.push_back({ m.x, m.y, m.radius });
        if (m.vertex) extents.push_back({ m.vertex->x, m.vertex->y, m.radius });
    }
    for (const Extent& e : extents) {
        xs.push_back(e.x);
        ys.push_back(e.y);
    }
    const PlotRect& a = m_scene.area;
    // Markers have a size: widen the ranges until every marker fits inside the area (two passes suffice, since
    // widening only shrinks the pixels per decade a little).
    const auto fitMarkers = [&](std::pair<double, double> xr, std::pair<double, double> yr, bool shared) {
        for (int pass = 0; pass < 2; ++pass) {
            const double perX = a.width / std::log10(xr.second / xr.first);
            const double perY = a.height / std::log10(yr.second / yr.first);
            std::vector<double> px = xs, py = ys;
            for (const Extent& e : extents) {
                const double dx = std::pow(10.0, (e.radius + 3) / perX), dy = std::pow(10.0, (e.radius + 3) / perY);
                px.insert(px.end(), { e.x * dx, e.x / dx });
                py.insert(py.end(), { e.y * dy, e.y / dy });
            }
            px.insert(px.end(), { xr.first, xr.second });
            py.insert(py.end(), { yr.first, yr.second });
            if (shared) {
                px.insert(px.end(), py.begin(), py.end());
                py = px;
            }
            xr = *logRange(px, 0);
            yr = *logRange(py, 0);
        }
        return std::make_pair(xr, yr);
    };
    const double launch = m_roofs.launchSeconds;
    std::pair<double, double> xr, yr;
    switch (m_options.view) {
    case PlotView::Complexity:
    case PlotView::Combined: {
        const double b = beta();
        if (launch > 0) {
            xs.push_back(launch * b);
            ys.push_back(launch * m_peak);
        }
        if (xs.empty()) { // nothing drawn: one microsecond to one second at the roofs
            xs = { 1e-6 * b, 1.0 * b };
            ys = { 1e-6 * m_peak, 1.0 * m_peak };
        }
        std::tie(xr, yr) = fitMarkers(*logRange(xs), *logRange(ys), false);
        // The machine-balance line must cross the chart: extend y towards it where it misses.
        const double balance = m_peak / b;
        if (balance * xr.second < yr.first) yr.first = niceFloor(balance * xr.second / 2);
        if (balance * xr.first > yr.second) yr.second = niceCeil(balance * xr.first * 2);
        break;
    }
    case PlotView::Time: {
        // One range for both axes: the diagonal compute time = memory time runs at 45°.
        xs.insert(xs.end(), ys.begin(), ys.end());
        if (launch > 0) xs.push_back(launch);
        if (xs.empty()) xs = { 1e-6, 1.0 };
        ys = xs;
        std::tie(xr, yr) = fitMarkers(*logRange(xs), *logRange(xs), true);
        break;
    }
    case PlotView::Classic: {
        double maxBw = 0;
        for (const std::string& level : m_levels)
            maxBw = std::max(maxBw, m_roofs.bandwidth.at(level));
        for (const auto& cls : m_classes) {
            ys.push_back(m_roofs.peak.at(cls));
            for (const std::string& level : m_levels)
                xs.push_back(m_roofs.peak.at(cls) / m_roofs.bandwidth.at(level)); // the knees
        }
        if (xs.empty()) xs = { 0.01, 100 };
        if (ys.empty()) ys = { 1e9, 1e12 };
        std::tie(xr, yr) = fitMarkers(*logRange(xs), *logRange(ys), false);
        // The slopes start at the left edge: show where the fastest one enters, within eight decades.
        yr.first = std::min(yr.first, niceFloor(maxBw > 0 ? maxBw * xr.first : yr.first));
        if (std::log10(yr.second / yr.first) > 8) yr.first = niceFloor(yr.second * 1e-8);
        break;
    }
    }
    m_scene.x = { xr.first, xr.second, a.left, a.right() };
    m_scene.y = { yr.first, yr.second, a.bottom(), a.top };
    if (m_options.view == PlotView::Combined) {
        m_scene.xSeconds = LogAxis { xr.first / beta(), xr.second / beta(), a.left, a.right() };
        m_scene.ySeconds = LogAxis { yr.first / m_peak, yr.second / m_peak, a.bottom(), a.top };
    }
}

void SceneBuilder::polyline(
    ShapeRole role, const std::vector<PlotPoint>& points, Rgba color, double width, bool dashed, const std::string& key)
{
    PolylineShape run { role, {}, color, width, dashed, key };
    for (std::size_t i = 1; i < points.size(); ++i) {
        auto part = clipSegment(points[i - 1], points[i], m_scene.area);
        if (!part) continue;
        const bool joins = !run.points.empty()
            && std::hypot(run.points.back().x - part->first.x, run.points.back().y - part->first.y) < 1e-6;
        if (!joins && !run.points.empty()) {
            m_scene.shapes.push_back(run);
            run.points.clear();
        }
        if (run.points.empty()) run.points.push_back(part->first);
        run.points.push_back(part->second);
    }
    if (run.points.size() >= 2) m_scene.shapes.push_back(run);
}

std::optional<std::pair<PlotPoint, PlotPoint>> SceneBuilder::dataLine(
    ShapeRole role, PlotPoint a, PlotPoint b, Rgba color, double width, bool dashed, const std::string& key)
{
    const PlotPoint pa = px(a.x, a.y), pb = px(b.x, b.y);
    auto part = clipSegment(pa, pb, m_scene.area);
    if (!part) return std::nullopt;
    m_scene.shapes.push_back(PolylineShape { role, { part->first, part->second }, color, width, dashed, key });
    return part;
}

void SceneBuilder::text(
    ShapeRole role, PlotPoint at, std::string s, double size, Rgba color, HAlign h, VAlign v, double angle, bool bold)
{
    if (s.empty()) return;
    m_scene.shapes.push_back(TextShape { role, at, std::move(s), size, color, h, v, angle, bold });
}

void SceneBuilder::label(LabelRank rank, std::vector<TextShape> candidates, std::size_t number, PlotPoint point)
{
    std::erase_if(candidates, [](const TextShape& t) { return t.text.empty(); });
    if (candidates.empty()) return;
    m_labels.push_back({ m_scene.shapes.size(), rank, candidates, number, point });
    m_scene.shapes.push_back(candidates.front());
}

void SceneBuilder::placeLabels()
{
    constexpr double kPad = 1.5;
    std::stable_sort(
        m_labels.begin(), m_labels.end(), [](const PendingLabel& a, const PendingLabel& b) { return a.rank < b.rank; });
    struct Placed {
        std::size_t pending;
        std::array<PlotPoint, 4> box;
    };
    std::vector<Placed> placed;
    const auto firstCollision = [&](const TextShape& t) -> const Placed* {
        const auto box = textBox(t, kPad);
        for (const Placed& p : placed)
            if (overlaps(box, p.box)) return &p;
        return nullptr;
    };
    // Roof and guide labels also keep off the points where they can (numbers sit beside theirs).
    std::vector<std::array<PlotPoint, 4>> points;
    for (const PlotMark& m : m_scene.marks) {
        const PlotPoint c = px(m.x, m.y);
        const double r = m.radius;
        points.push_back(
            { PlotPoint { c.x - r, c.y - r }, { c.x + r, c.y - r }, { c.x + r, c.y + r }, { c.x - r, c.y + r } });
    }
    const auto coversPoint = [&](const TextShape& t) {
        const auto box = textBox(t, 0);
        return std::any_of(points.begin(), points.end(), [&](const auto& p) { return overlaps(box, p); });
    };
    std::vector<std::size_t> dropped;
    for (std::size_t i = 0; i < m_labels.size(); ++i) {
        PendingLabel& l = m_labels[i];
        auto& shape = std::get<TextShape>(m_scene.shapes[l.shape]);
        const bool avoidPoints = l.rank >= LabelRank::Roof;
        auto free = std::find_if(l.candidates.begin(), l.candidates.end(),
            [&](const TextShape& t) { return firstCollision(t) == nullptr && !(avoidPoints && coversPoint(t)); });
        if (free == l.candidates.end())
            free = std::find_if(l.candidates.begin(), l.candidates.end(),
                [&](const TextShape& t) { return firstCollision(t) == nullptr; });
        if (free != l.candidates.end()) {
            shape = *free;
            placed.push_back({ i, textBox(shape, kPad) });
            continue;
        }
        const Placed* hit = firstCollision(l.candidates.front());
        const PendingLabel& hitLabel = m_labels[hit->pending];
        // Only points drawn on top of each other share a label; a number crowded out by a neighbour's stays at
        // its own point.
        if (l.number && hitLabel.number
            && std::hypot(l.point.x - hitLabel.point.x, l.point.y - hitLabel.point.y) <= 6) {
            PendingLabel& other = m_labels[hit->pending];
            auto& joined = std::get<TextShape>(m_scene.shapes[other.shape]);
            joined.text += ", " + std::to_string(l.number);
            for (Placed& p : placed)
                if (p.pending == hit->pending) p.box = textBox(joined, kPad);
            dropped.push_back(l.shape);
        } else if (l.rank <= LabelRank::Roof) {
            shape = l.candidates.front();
            placed.push_back({ i, textBox(shape, kPad) });
        } else {
            dropped.push_back(l.shape);
        }
    }
    // Erased back to front: the queued indices of the others stay valid until then.
    std::sort(dropped.rbegin(), dropped.rend());
    for (std::size_t at : dropped)
        m_scene.shapes.erase(m_scene.shapes.begin() + static_cast<std::ptrdiff_t>(at));
    m_labels.clear();
}

Rgba SceneBuilder::markColor(const PlotMark& m) const
{
    if (m_options.view == PlotView::Classic) return levelColor(m.level);
    return boundElsewhere(m) ? kOtherLevelBound : limiterColor(m.limiter);
}

double SceneBuilder::diagonalAngle() const
{
    const double perDecadeX = m_scene.area.width / m_scene.x.decades();
    const double perDecadeY = m_scene.area.height / m_scene.y.decades();
    return std::atan2(perDecadeY, perDecadeX) * 180 / std::numbers::pi;
}

std::string SceneBuilder::itemsNoun(std::size_t n) const
{
    const char* noun = m_report.by == analyzer::ReportBy::Kernel ? "kernel"
        : m_report.by == analyzer::ReportBy::Window              ? "window"
        : m_report.by == analyzer::ReportBy::Callpath            ? "call path"
                                                                 : "region";
    return fmt::format("{} {}{}", n, noun, n == 1 ? "" : "s");
}

void SceneBuilder::drawAxes()
{
    const PlotRect& a = m_scene.area;
    m_scene.shapes.push_back(RectShape {
        ShapeRole::Background, { 0, 0, m_scene.width, m_scene.height }, kWhite, { 0, 0, 0, 0 }, "background" });
    const bool combined = m_options.view == PlotView::Combined;
    const bool classic = m_options.view == PlotView::Classic;
    const char* xUnit = m_options.view == PlotView::Time ? "s" : "B";
    const char* yUnit = classic ? "FLOP/s" : m_options.view == PlotView::Time ? "s" : "FLOP";
    // Intensity reads better as plain numbers (0.1, 10, 1000) than with prefixes (100 mFLOP/B).
    const auto xTicks = classic ? logTicks(m_scene.x.lo, m_scene.x.hi, std::max<std::size_t>(2, a.width / 78),
                            [](double v) { return plainLabel(v); })
                                : logTicks(m_scene.x.lo, m_scene.x.hi, xUnit, std::max<std::size_t>(2, a.width / 78));
    const auto yTicks = logTicks(m_scene.y.lo, m_scene.y.hi, yUnit, std::max<std::size_t>(2, a.height / 30));
    for (const Tick& t : xTicks) {
        const double x = m_scene.x.toPixel(t.value);
        m_scene.shapes.push_back(PolylineShape { ShapeRole::Grid, { { x, a.top }, { x, a.bottom() } },
            t.labelled ? kGrid : withAlpha(kGrid, 140), 1, false, "" });
        if (t.labelled)
            text(ShapeRole::AxisLabel, { x, a.bottom() + 6 }, t.label, kSmallFont, kInk, HAlign::Center, VAlign::Top);
    }
    for (const Tick& t : yTicks) {
        const double y = m_scene.y.toPixel(t.value);
        m_scene.shapes.push_back(PolylineShape { ShapeRole::Grid, { { a.left, y }, { a.right(), y } },
            t.labelled ? kGrid : withAlpha(kGrid, 140), 1, false, "" });
        if (t.labelled)
            text(ShapeRole::AxisLabel, { a.left - 6, y }, t.label, kSmallFont, kInk, HAlign::Right, VAlign::Middle);
    }
    if (combined) {
        for (const Tick& t :
            logTicks(m_scene.xSeconds->lo, m_scene.xSeconds->hi, "s", std::max<std::size_t>(2, a.width / 78))) {
            const double x = m_scene.xSeconds->toPixel(t.value);
            m_scene.shapes.push_back(
                PolylineShape { ShapeRole::Tick, { { x, a.top }, { x, a.top - 5 } }, kFrame, 1, false, "" });
            if (t.labelled)
                text(ShapeRole::AxisLabel, { x, a.top - 7 }, t.label, kSmallFont, kInk, HAlign::Center, VAlign::Bottom);
        }
        for (const Tick& t :
            logTicks(m_scene.ySeconds->lo, m_scene.ySeconds->hi, "s", std::max<std::size_t>(2, a.height / 30))) {
            const double y = m_scene.ySeconds->toPixel(t.value);
            m_scene.shapes.push_back(
                PolylineShape { ShapeRole::Tick, { { a.right(), y }, { a.right() + 5, y } }, kFrame, 1, false, "" });
            if (t.labelled)
                text(ShapeRole::AxisLabel, { a.right() + 7, y }, t.label, kSmallFont, kInk, HAlign::Left,
                    VAlign::Middle);
        }
    }
    m_scene.shapes.push_back(RectShape { ShapeRole::Frame, a, { 0, 0, 0, 0 }, kFrame, "frame" });

    // Axis titles.
    std::string xTitle, yTitle, xBrief, yBrief;
    const std::string bw = m_level.empty() ? std::string() : roofLabel(m_level, beta(), "B/s");
    const std::string peak
        = m_scene.computeRoof.empty() ? std::string() : roofLabel(m_scene.computeRoof, m_peak, "FLOP/s");
    switch (m_options.view) {
    case PlotView::Complexity:
    case PlotView::Combined:
        xTitle = fmt::format("bytes Q at {}", m_level);
        xBrief = "Q";
        yTitle = yBrief = "FLOPs F";
        break;
    case PlotView::Time:
        xTitle = fmt::format("memory time Q/β at {}", bw);
        xBrief = "Q/β";
        yTitle = m_classes.size() > 1 ? std::string("compute time F/Π (precisions add)")
                                      : fmt::format("compute time F/Π at {}", peak);
        yBrief = "F/Π";
        break;
    case PlotView::Classic:
        xTitle = "arithmetic intensity F/Q (FLOP per byte)";
        xBrief = "F/Q";
        yTitle = yBrief = "performance F/T";
        break;
    }
    // Small plots get the short titles; the full ones name the roofs, which the legend lists too.
    text(ShapeRole::AxisLabel, { a.left + a.width / 2, a.bottom() + 24 }, fitting(xTitle, xBrief, a.width, kFont),
        kFont, kInk, HAlign::Center, VAlign::Top);
    text(ShapeRole::AxisLabel, { 16, a.top + a.height / 2 }, fitting(yTitle, yBrief, a.height, kFont), kFont, kInk,
        HAlign::Center, VAlign::Top, 90);
    if (combined) {
        text(ShapeRole::AxisLabel, { a.left + a.width / 2, a.top - 24 },
            fitting("memory time Q/β at " + bw, "Q/β", a.width, kFont), kFont, kInk, HAlign::Center, VAlign::Bottom);
        text(ShapeRole::AxisLabel, { a.right() + 68, a.top + a.height / 2 },
            fitting("compute time F/Π at " + peak, "F/Π", a.height, kFont), kFont, kInk, HAlign::Center, VAlign::Bottom,
            90);
    }
    const char* viewTitle = m_options.view == PlotView::Combined ? "Time-based roofline, combined"
        : m_options.view == PlotView::Time                       ? "Time-based roofline, time chart"
        : m_options.view == PlotView::Complexity                 ? "Time-based roofline, complexity chart"
                                                                 : "Hierarchical roofline";
    double seconds = 0;
    for (const Drawn& d : m_drawn)
        seconds += d.seconds;
    const std::string where = m_levels.empty() ? m_device : fmt::format("{}, {}", m_device, fmt::join(m_levels, ", "));
    const std::string title
        = fmt::format("{} — {}: {}, {}", viewTitle, where, itemsNoun(m_drawn.size()), analyzer::humanSeconds(seconds));
    const auto titleChars = static_cast<std::size_t>((m_scene.width - 24) / (kTitleFont * kCharWidth));
    text(ShapeRole::Title, { 12, 22 }, analyzer::elideMiddle(title, std::max<std::size_t>(titleChars, 12)), kTitleFont,
        kInk, HAlign::Left, VAlign::Baseline, 0, true);
}

void SceneBuilder::drawComplexity()
{
    const double b = beta();
    const double launch = m_roofs.launchSeconds;
    // The launch-bound box for one launch: F ≤ t_launch·Π, Q ≤ t_launch·β.
    if (launch > 0) launchBox(launch * b, launch * m_peak);
    // Diagonals of constant intensity, one per decade.
    const double angle = diagonalAngle();
    for (int k = -4; k <= 6; ++k) {
        const double ai = std::pow(10.0, k);
        const std::string label = "AI " + plainLabel(ai);
        auto part = dataLine(ShapeRole::Guide, { m_scene.x.lo, ai * m_scene.x.lo }, { m_scene.x.hi, ai * m_scene.x.hi },
            kGuide, 1, true, label);
        // Labelled where the line leaves the chart, unless only a corner of it is inside.
        if (part
            && std::hypot(part->second.x - part->first.x, part->second.y - part->first.y)
                > textWidth(label, kSmallFont) + 40)
            this->label(LabelRank::Guide,
                { TextShape { ShapeRole::Label, { part->second.x - 4, part->second.y + 4 }, label, kSmallFont - 1,
                    kMuted, HAlign::Right, VAlign::Top, angle } });
    }
    // Machine balance per compute roof drawn: F = (Π/β)·Q; the scaling class's line is the bold one.
    for (const auto& cls : m_classes) {
        const double peak = m_roofs.peak.at(cls);
        const bool main = cls.label() == m_scene.computeRoof;
        const std::string label = fmt::format("balance {} / {}: {}", roofLabel(cls.label(), peak, "FLOP/s"),
            roofLabel(m_level, b, "B/s"), plainLabel(peak / b) + " FLOP/B");
        auto part = dataLine(ShapeRole::Balance, { m_scene.x.lo, peak / b * m_scene.x.lo },
            { m_scene.x.hi, peak / b * m_scene.x.hi }, main ? kRoof : kMuted, main ? 2 : 1.2, !main, label);
        // The other classes' lines run close to each other: a short label near their upper end (values in the legend),
        // moved along the line where another label is.
        if (!part) continue;
        const std::string brief = fmt::format("{}: {} FLOP/B", cls.label(), plainLabel(peak / b));
        std::vector<TextShape> places;
        static constexpr double kMainAt[] = { 0.55, 0.45, 0.65, 0.35, 0.75 };
        static constexpr double kOtherAt[] = { 0.8, 0.7, 0.9, 0.6, 0.5, 0.4 };
        for (double f : main ? std::span<const double>(kMainAt) : std::span<const double>(kOtherAt)) {
            const PlotPoint at { part->first.x + f * (part->second.x - part->first.x),
                part->first.y + f * (part->second.y - part->first.y) };
            const double room = (main ? 2 * std::min(f, 1 - f) : f) * 0.9 * length(*part);
            places.push_back({ ShapeRole::Label, { at.x - 4, at.y - 4 },
                main ? fitting(label, brief, room, kSmallFont) : fitting(brief, {}, room, kSmallFont), kSmallFont,
                main ? kRoof : kMuted, main ? HAlign::Center : HAlign::Right, VAlign::Bottom, angle });
        }
        this->label(main ? LabelRank::Roof : LabelRank::Secondary, std::move(places));
    }
    regionLabels("memory-bound");
    if (m_options.view != PlotView::Combined) return;
    for (const PlotMark& m : m_scene.marks) {
        const Rgba c = markColor(m);
        const PlotPoint from = px(m.x, m.y), to = px(m.vertex->x, m.vertex->y);
        polyline(ShapeRole::Segment, { from, to }, withAlpha(c, 200), 1.5, false, m.name);
    }
}

void SceneBuilder::launchBox(double x, double y)
{
    const PlotRect& a = m_scene.area;
    const PlotPoint corner = px(x, y);
    const double right = std::clamp(corner.x, a.left, a.right());
    const double top = std::clamp(corner.y, a.top, a.bottom());
    if (right <= a.left || top >= a.bottom()) return;
    m_scene.shapes.push_back(RectShape { ShapeRole::Region, { a.left, top, right - a.left, a.bottom() - top },
        kLaunchFill, withAlpha(kLaunchInk, 120), "launch-bound" });
    // A box too small for its label gets it above.
    const std::string label = "launch-bound (1 launch)";
    const bool inside = a.bottom() - top > 2 * kSmallFont && right - a.left > textWidth(label, kSmallFont) + 8;
    const std::string fitted = fitting(label, {}, 0.4 * a.width, kSmallFont);
    std::vector<TextShape> places;
    if (inside)
        places.push_back({ ShapeRole::Label, { a.left + 4, a.bottom() - 4 }, fitted, kSmallFont, kLaunchInk,
            HAlign::Left, VAlign::Bottom });
    places.push_back(
        { ShapeRole::Label, { a.left + 4, top - 3 }, fitted, kSmallFont, kLaunchInk, HAlign::Left, VAlign::Bottom });
    this->label(LabelRank::Roof, std::move(places));
}

void SceneBuilder::regionLabels(const char* memorySide)
{
    // In the corners the diagonal leaves to them; only where they leave room for the data.
    const PlotRect& a = m_scene.area;
    if (a.width < 3 * textWidth(memorySide, kFont) || a.height < 120) return;
    label(LabelRank::Region,
        { { ShapeRole::Label, { a.left + 8, a.top + 8 }, "compute-bound", kFont, limiterColor(LimiterKind::Compute),
            HAlign::Left, VAlign::Top, 0, true } });
    label(LabelRank::Region,
        { { ShapeRole::Label, { a.right() - 8, a.bottom() - 8 }, memorySide, kFont, limiterColor(LimiterKind::Memory),
            HAlign::Right, VAlign::Bottom, 0, true } });
}

void SceneBuilder::drawTime()
{
    // The launch-bound box for one launch: both times below t_launch.
    if (m_roofs.launchSeconds > 0) launchBox(m_roofs.launchSeconds, m_roofs.launchSeconds);
    // Iso-runtime guides: max(x, y) = c, one per decade, labelled at their corner.
    const int first = static_cast<int>(std::ceil(std::log10(m_scene.x.lo) - 1e-9));
    const int last = static_cast<int>(std::floor(std::log10(m_scene.x.hi) + 1e-9));
    for (int k = first; k <= last; ++k) {
        const double c = std::pow(10.0, k);
        if (!(c > m_scene.x.lo * 1.0001 && c < m_scene.x.hi / 1.0001)) continue;
        const std::string label = siLabel(c, "s");
        polyline(ShapeRole::Guide, { px(m_scene.x.lo, c), px(c, c), px(c, m_scene.y.lo) }, kGuide, 1, true,
            "iso-runtime " + label);
        const PlotPoint corner = px(c, c);
        this->label(
            LabelRank::Guide, { { ShapeRole::Label, { corner.x + 3, corner.y - 3 }, label, kSmallFont - 1, kMuted } });
    }
    auto diagonal = dataLine(ShapeRole::Balance, { m_scene.x.lo, m_scene.y.lo }, { m_scene.x.hi, m_scene.y.hi }, kRoof,
        1.5, false, "compute time = memory time");
    if (diagonal) {
        std::vector<TextShape> places;
        for (double f : { 0.7, 0.6, 0.8, 0.5, 0.4 }) {
            const PlotPoint at { diagonal->first.x + f * (diagonal->second.x - diagonal->first.x),
                diagonal->first.y + f * (diagonal->second.y - diagonal->first.y) };
            places.push_back({ ShapeRole::Label, { at.x - 4, at.y - 4 },
                fitting("compute time = memory time", {}, 0.6 * length(*diagonal), kSmallFont), kSmallFont, kRoof,
                HAlign::Center, VAlign::Bottom, diagonalAngle() });
        }
        label(LabelRank::Roof, std::move(places));
    }
    regionLabels("bandwidth-bound");
}

void SceneBuilder::drawClassic()
{
    double topPeak = 0, maxBw = 0;
    for (const auto& cls : m_classes)
        topPeak = std::max(topPeak, m_roofs.peak.at(cls));
    for (const std::string& level : m_levels)
        maxBw = std::max(maxBw, m_roofs.bandwidth.at(level));
    // Compute roofs from their knee with the fastest level to the right edge.
    for (const auto& cls : m_classes) {
        const double peak = m_roofs.peak.at(cls);
        const std::string label = roofLabel(cls.label(), peak, "FLOP/s");
        auto part = dataLine(ShapeRole::Roof, { maxBw > 0 ? peak / maxBw : m_scene.x.lo, peak }, { m_scene.x.hi, peak },
            kRoof, 2, false, label);
        if (!part) continue;
        // Above the roof at its right end; below it where a roof close above has taken that place.
        const std::string fitted = fitting(label, cls.label(), length(*part) + 0.3 * m_scene.area.width, kSmallFont);
        std::vector<TextShape> places;
        for (const auto& [x, h] : { std::pair { part->second.x - 4, HAlign::Right },
                 std::pair { (part->first.x + part->second.x) / 2, HAlign::Center },
                 std::pair { part->first.x + 4, HAlign::Left } }) {
            places.push_back(
                { ShapeRole::Label, { x, part->second.y - 3 }, fitted, kSmallFont, kRoof, h, VAlign::Bottom });
            places.push_back(
                { ShapeRole::Label, { x, part->second.y + 3 }, fitted, kSmallFont, kRoof, h, VAlign::Top });
        }
        this->label(LabelRank::Roof, std::move(places));
    }
    // Bandwidth slopes from the left edge up to the highest compute roof.
    const double angle = diagonalAngle();
    for (const std::string& level : m_levels) {
        const double bw = m_roofs.bandwidth.at(level);
        const std::string label = roofLabel(level, bw, "B/s");
        const double end = topPeak > 0 ? topPeak / bw : m_scene.x.hi;
        auto part = dataLine(ShapeRole::Roof, { m_scene.x.lo, bw * m_scene.x.lo }, { end, bw * end }, levelColor(level),
            2, false, label);
        if (!part) continue;
        std::vector<TextShape> places;
        for (double f : { 0.3, 0.2, 0.4, 0.5, 0.15, 0.6 }) {
            const PlotPoint at { part->first.x + f * (part->second.x - part->first.x),
                part->first.y + f * (part->second.y - part->first.y) };
            places.push_back(
                { ShapeRole::Label, { at.x, at.y - 4 }, fitting(label, level, 0.5 * length(*part), kSmallFont),
                    kSmallFont, darker(levelColor(level)), HAlign::Center, VAlign::Bottom, angle });
        }
        this->label(LabelRank::Roof, std::move(places));
    }
}

void SceneBuilder::drawMarks()
{
    // Largest first, so that small markers stay visible on top.
    std::vector<const PlotMark*> order;
    for (const PlotMark& m : m_scene.marks)
        order.push_back(&m);
    std::stable_sort(
        order.begin(), order.end(), [](const PlotMark* a, const PlotMark* b) { return a->radius > b->radius; });
    for (const PlotMark* m : order) {
        const Rgba c = markColor(*m);
        if (m->vertex) {
            const PlotPoint v = px(m->vertex->x, m->vertex->y);
            m_scene.shapes.push_back(
                CircleShape { ShapeRole::Vertex, v, m->radius, { 0, 0, 0, 0 }, darker(c), 1.5, m->name });
        }
        m_scene.shapes.push_back(
            CircleShape { ShapeRole::Measured, px(m->x, m->y), m->radius, withAlpha(c, 170), darker(c), 1, m->name });
    }
    // Numbers beside the measured points (classic: beside the first level's point of each item).
    std::size_t last = 0;
    for (const PlotMark& m : m_scene.marks) {
        if (m.number == last) continue;
        last = m.number;
        const PlotPoint p = px(m.x, m.y);
        const double d = m.radius * 0.75 + 2;
        const std::string n = std::to_string(m.number);
        // Upper right of the point, else another corner; a number of a point on top of another joins its number.
        label(LabelRank::Number,
            { { ShapeRole::Label, { p.x + d, p.y - d }, n, kSmallFont, kInk, HAlign::Left, VAlign::Baseline, 0, true },
                { ShapeRole::Label, { p.x - d, p.y - d }, n, kSmallFont, kInk, HAlign::Right, VAlign::Baseline, 0,
                    true },
                { ShapeRole::Label, { p.x + d, p.y + d }, n, kSmallFont, kInk, HAlign::Left, VAlign::Top, 0, true },
                { ShapeRole::Label, { p.x - d, p.y + d }, n, kSmallFont, kInk, HAlign::Right, VAlign::Top, 0, true } },
            m.number, p);
    }
}

void SceneBuilder::drawLegend()
{
    if (!m_legendWidth) return;
    const double lw = static_cast<double>(m_legendWidth);
    const double x0 = m_scene.width - lw - 8;
    const double bottom = m_scene.area.bottom();
    double y = m_scene.area.top - (m_options.view == PlotView::Combined ? 30 : 0);
    const double step = kSmallFont * kLineHeight + 2;
    const auto line = [&](const std::string& s, Rgba color, bool bold = false, double indent = 0) {
        const std::size_t chars = static_cast<std::size_t>((lw - indent) / (kSmallFont * kCharWidth));
        text(ShapeRole::Legend, { x0 + indent, y }, analyzer::elideMiddle(s, std::max<std::size_t>(chars, 8)),
            kSmallFont, color, HAlign::Left, VAlign::Top, 0, bold);
        y += step;
    };
    const auto swatch = [&](Rgba c) {
        m_scene.shapes.push_back(CircleShape {
            ShapeRole::Legend, { x0 + 5, y + kSmallFont * 0.55 }, 4.5, withAlpha(c, 170), darker(c), 1, "" });
    };

    // Roofs and the launch floor first: every chart is read against them.
    line("Roofs (" + m_device + ")", kInk, true);
    for (const auto& cls : m_classes)
        line(roofLabel(cls.label(), m_roofs.peak.at(cls), "FLOP/s"), kInk, false, 6);
    for (const std::string& level :
        m_options.view == PlotView::Classic ? m_levels : std::vector<std::string> { m_level })
        line(roofLabel(level, m_roofs.bandwidth.at(level), "B/s"), kInk, false, 6);
    if (m_roofs.launchSeconds > 0) line("launch " + siLabel(m_roofs.launchSeconds, "s"), kInk, false, 6);
    y += step / 2;

    line(m_options.view == PlotView::Classic ? "Colour: memory level" : "Colour: limiter", kInk, true);
    if (m_options.view == PlotView::Classic) {
        for (const std::string& level : m_levels) {
            swatch(levelColor(level));
            line(level, kInk, false, 14);
        }
    } else {
        std::set<std::string> elsewhere; // levels that bind items memory-bound away from the drawn level
        for (const PlotMark& m : m_scene.marks)
            if (boundElsewhere(m)) elsewhere.insert(m.binding);
        for (const auto& s : kLimiterStyles) {
            const bool present = std::any_of(m_scene.marks.begin(), m_scene.marks.end(),
                [&](const PlotMark& m) { return m.limiter == s.kind && !boundElsewhere(m); });
            if (present) {
                swatch(s.color);
                line(s.kind == LimiterKind::Memory && !elsewhere.empty() ? s.legend + std::string(" at ") + m_level
                                                                         : std::string(s.legend),
                    kInk, false, 14);
            }
            if (s.kind == LimiterKind::Memory && !elsewhere.empty()) {
                swatch(kOtherLevelBound);
                line(fmt::format("memory-bound at {}", fmt::join(elsewhere, ", ")), kInk, false, 14);
            }
        }
    }
    y += step / 2;

    if (m_options.view == PlotView::Combined) {
        line("Filled: measured (Q, F)", kInk, false, 6);
        line("Ring: vertex, T at the roof", kInk, false, 6);
    }
    y += step / 2;

    line(fmt::format("Items ({})", m_drawn.size()), kInk, true);
    // Kernels by their compact names, as the report's table shows them (the tooltip keeps the full name).
    std::vector<std::string> kernels;
    for (const Drawn& d : m_drawn)
        if (d.row->kind == "kernel" || d.row->kind == "path-kernel")
            kernels.push_back(d.row->kind == "kernel" ? d.row->name : d.row->path.back());
    const std::map<std::string, std::string> compact = analyzer::compactKernelNameMap(std::move(kernels));
    std::size_t shown = 0;
    for (const Drawn& d : m_drawn) {
        if (y + 2 * step > bottom && shown + 1 < m_drawn.size()) {
            line(fmt::format("… {} more", m_drawn.size() - shown), kMuted, false, 6);
            break;
        }
        ++shown;
        const std::string eff
            = d.a->efficiency ? fmt::format(", {:.0f} % of roof", analyzer::efficiencyPercent(*d.a->efficiency)) : "";
        const std::string number = std::to_string(shown) + " ";
        const std::string rest = fmt::format(" ({}{})", analyzer::humanSeconds(d.seconds), eff);
        // The name gives way, not the numbers.
        const auto room = static_cast<std::size_t>((lw - 6) / (kSmallFont * kCharWidth));
        const std::size_t nameChars = room > number.size() + rest.size() + 8 ? room - number.size() - rest.size() : 8;
        const std::size_t width = std::min(nameChars, kMaxNameChars);
        // A call path too long for the legend is named by its item, the innermost entry (the table has the rest).
        const auto named = compact.find(d.row->name);
        std::string name = analyzer::elideMiddle(named != compact.end() ? named->second : d.row->name, width);
        if (!d.row->path.empty()) {
            name = analyzer::shortCallPath(*d.row, std::numeric_limits<std::size_t>::max(), &compact);
            if (analyzer::textWidth(name) > width)
                name = analyzer::elideMiddle(analyzer::callPathEntry(*d.row, d.row->path.size() - 1, &compact), width);
        }
        line(number + name + rest, kInk, false, 6);
    }
}

void SceneBuilder::drawTexts()
{
    double y = m_scene.area.bottom() + 46;
    for (const std::string& f : m_footnotes) {
        text(ShapeRole::Footnote, { 12, y }, f, kSmallFont, kMuted, HAlign::Left, VAlign::Top);
        y += kSmallFont * kLineHeight;
    }
    m_scene.footnotes = m_footnotes;
    m_scene.leftOut = m_leftOut.total();
    m_scene.leftOutReasons = m_leftOut.phrase();
}

PlotScene SceneBuilder::build()
{
    if (!m_report.machine)
        throw PlotError(
            "no machine model: the profiles embed none (recorded with --no-machine or by an older rooftime); "
            "pass --machine FILE");
    m_scene.view = m_options.view;
    chooseDevice();
    chooseLevels();
    selectItems();
    chooseComputeRoof();
    makeMarks();
    layout();
    computeRanges();
    drawAxes();
    switch (m_options.view) {
    case PlotView::Complexity:
    case PlotView::Combined:
        drawComplexity();
        break;
    case PlotView::Time:
        drawTime();
        break;
    case PlotView::Classic:
        drawClassic();
        break;
    }
    drawMarks();
    placeLabels();
    drawLegend();
    drawTexts();
    return std::move(m_scene);
}

} // namespace

PlotScene buildPlotScene(const analyzer::Report& report, const PlotOptions& options)
{
    return SceneBuilder(report, options).build();
}

std::string whyNoItems(const analyzer::Report& report, bool autoBy)
{
    if (autoBy) return "the profiles have no regions and no kernels";
    if (report.by == analyzer::ReportBy::Kernel)
        return "no kernels in these profiles (CUPTI recordings or `rooftime import ncu` have them); --by range plots "
               "regions";
    return "no regions or NVTX ranges in these profiles; --by kernel plots kernels";
}

analyzer::Report buildPlotReport(const std::vector<analyzer::Profile>& profiles, const analyzer::MachineModel* machine,
    const std::string& by, const analyzer::ReportOptions& base)
{
    analyzer::ReportOptions options = base;
    auto withWork = [](const analyzer::Report& r) {
        return std::any_of(r.rows.begin(), r.rows.end(),
            [](const analyzer::ReportRow& row) { return row.flops.has_value() || !row.bytesByLevel.empty(); });
    };
    auto sorted = [](analyzer::Report r) {
        analyzer::sortRows(r, analyzer::SortKey::Lost);
        return r;
    };
    options.by = by == "range" ? analyzer::ReportBy::Range
        : by == "callpath"     ? analyzer::ReportBy::Callpath
        : by == "window"       ? analyzer::ReportBy::Window
                               : analyzer::ReportBy::Kernel;
    if (options.by == analyzer::ReportBy::Window) {
        analyzer::chooseWindows(options, profiles);
        analyzer::Report windows = analyzer::buildReport(profiles, machine, options);
        analyzer::sortRows(windows, analyzer::SortKey::Start); // a timeline: numbered in time order
        return windows;
    }
    analyzer::Report report = analyzer::buildReport(profiles, machine, options);
    if (by != "auto") return sorted(std::move(report));
    // auto: kernels with counters first (their work is measured, against their GPU's roofs; a sample's regions
    // declaring the same work would be drawn against the CPU's), then regions with declared work, then kernels
    // without work (the plot then says why nothing is drawn), then regions.
    if (withWork(report)) return sorted(std::move(report));
    options.by = analyzer::ReportBy::Range;
    analyzer::Report regions = analyzer::buildReport(profiles, machine, options);
    if (withWork(regions) || report.rows.empty()) return sorted(std::move(regions));
    return sorted(std::move(report));
}

} // namespace rooftime::gui
