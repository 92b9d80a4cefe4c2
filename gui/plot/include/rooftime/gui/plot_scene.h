// SPDX-License-Identifier: MIT
/**
 * @file plot_scene.h
 * @brief The four views of shared/design/roofline.md as a scene: lines, circles, rectangles and texts in pixel
 * coordinates, built from a report's rows and their analysis (the model is never recomputed here). No Qt: the
 * painter (plot_painter.h) only draws what the scene holds, and tests check the scene's geometry directly.
 */
#pragma once

#include "rooftime/analyzer/report.h"
#include "rooftime/gui/plot_axis.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace rooftime::gui {

enum class PlotView {
    Combined, ///< complexity chart with axes in seconds; each item's measured point joined to its vertex
    Time, ///< x = memory time Q/β, y = compute time F/Π
    Complexity, ///< x = bytes Q at one level, y = FLOPs F
    Classic, ///< x = arithmetic intensity, y = FLOP/s; one point per item and level
};
std::optional<PlotView> parsePlotView(std::string_view text);
const char* plotViewName(PlotView view);

struct PlotOptions {
    PlotView view = PlotView::Combined;
    /// Memory level, case-insensitive ("hbm", "L2"); empty: HBM for a GPU, DRAM for a CPU (classic: every level).
    std::string level;
    /// Whose items and roofs ("gpu0", "cpu"); empty: the device with the most time among the items with work.
    std::string device;
    std::size_t top = 0; ///< the first N drawable items in the report's order (0: all)
    double width = 1000; ///< pixels
    double height = 700;
};

/// A report that cannot be plotted as asked (no machine model, no such level or device). what() says what to do.
class PlotError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct PlotPoint {
    double x = 0;
    double y = 0;
};

struct PlotRect {
    double left = 0;
    double top = 0;
    double width = 0;
    double height = 0;
    double right() const { return left + width; }
    double bottom() const { return top + height; }
};

struct Rgba {
    std::uint8_t r = 0, g = 0, b = 0, a = 255;
};

/// What a shape shows; tests and the painter's paint order rely on it.
enum class ShapeRole {
    Background,
    Region, ///< a shaded area: the launch-bound box
    Grid,
    Frame,
    Tick,
    Guide, ///< diagonals of constant AI, iso-runtime guides, compute time = memory time
    Balance, ///< machine balance F = (Π/β)·Q
    Roof, ///< classic: a compute roof (horizontal) or a bandwidth slope
    Segment, ///< combined: measured point to vertex
    Measured, ///< an item's measured point
    Vertex, ///< combined: an item's vertex
    Label, ///< texts inside the plot area (roofs, regions, item numbers)
    AxisLabel, ///< tick labels and axis titles
    Title,
    Legend,
    Footnote,
};

struct PolylineShape {
    ShapeRole role = ShapeRole::Guide;
    std::vector<PlotPoint> points;
    Rgba color;
    double width = 1;
    bool dashed = false;
    std::string key; ///< what it draws: a roof's label, an item's name
};

struct CircleShape {
    ShapeRole role = ShapeRole::Measured;
    PlotPoint center;
    double radius = 3;
    Rgba fill;
    Rgba stroke;
    double strokeWidth = 1;
    std::string key;
};

struct RectShape {
    ShapeRole role = ShapeRole::Region;
    PlotRect rect;
    Rgba fill;
    Rgba stroke { 0, 0, 0, 0 }; ///< alpha 0: no outline
    std::string key;
};

enum class HAlign { Left, Center, Right };
enum class VAlign { Top, Middle, Baseline, Bottom };

struct TextShape {
    ShapeRole role = ShapeRole::Label;
    PlotPoint at;
    std::string text; ///< UTF-8
    double size = 12; ///< pixels
    Rgba color;
    HAlign halign = HAlign::Left;
    VAlign valign = VAlign::Baseline;
    double angle = 0; ///< degrees, counter-clockwise around @c at
    bool bold = false;
};

using Shape = std::variant<RectShape, PolylineShape, CircleShape, TextShape>;

/// One drawn item (classic: one item at one level), in data coordinates of the chart's axes.
struct PlotMark {
    std::string name;
    std::size_t number = 0; ///< 1-based, as in the legend
    std::string level; ///< the level of its bytes (classic: of its intensity)
    double x = 0;
    double y = 0;
    std::optional<PlotPoint> vertex; ///< combined view: (Q_v, F_v)
    double seconds = 0; ///< T, the time the analysis used
    double radius = 0; ///< pixels: area ∝ T
    analyzer::LimiterKind limiter = analyzer::LimiterKind::Unknown;
    std::string binding; ///< what attains its bound over all levels: "HBM", "L1", "fp16 tensor", "launch"
};

struct PlotScene {
    PlotView view = PlotView::Combined;
    double width = 0;
    double height = 0;
    PlotRect area; ///< the plot area: axes' pixel ranges
    LogAxis x; ///< pixels of x run along area's width
    LogAxis y; ///< pixels of y run upwards along area's height
    std::optional<LogAxis> xSeconds; ///< combined view: the top axis, Q/β in seconds
    std::optional<LogAxis> ySeconds; ///< combined view: the right axis, F/Π in seconds
    std::string device;
    std::string level; ///< the level drawn (classic: empty when every level is)
    std::string computeRoof; ///< combined, complexity, time: the class whose Π scales the charts ("fp16 tensor")
    std::vector<Shape> shapes; ///< in paint order
    std::vector<PlotMark> marks;
    std::size_t items = 0; ///< items drawn
    std::size_t leftOut = 0; ///< report rows not drawn (footnote)
    std::string leftOutReasons; ///< "1 without FLOPs, 2 without work"
    std::vector<std::string> footnotes;
};

/// Why @p report has no rows, for one line: no kernels (by kernel), no regions, or (@p autoBy) neither.
std::string whyNoItems(const analyzer::Report& report, bool autoBy);

/// The report a plot shows: by @p by ("range", "kernel", "callpath", "window" or "auto": kernels with counters,
/// else ranges when some region declares work, else kernels when there are any), sorted by lost time (windows:
/// in time order). By window without @p base's windowRange or windowSeconds, one window per instance of
/// analyzer::suggestWindowRange, else (no range repeats) fixed windows of analyzer::suggestWindowSeconds. Throws
/// analyzer::ProfileError like buildReport, and analyzer::ReportError for a window range no profile has.
analyzer::Report buildPlotReport(const std::vector<analyzer::Profile>& profiles, const analyzer::MachineModel* machine,
    const std::string& by, const analyzer::ReportOptions& base = {});

/// Builds the scene of @p options.view from @p report's rows in their order (sortRows first). Throws PlotError
/// when the report has no machine model or the level or device asked for has no roof.
PlotScene buildPlotScene(const analyzer::Report& report, const PlotOptions& options);

} // namespace rooftime::gui
