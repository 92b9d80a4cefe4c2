// SPDX-License-Identifier: MIT
// The plot views from a synthetic GPU profile (embedded machine model): the scene's marks and roofs at the
// expected data coordinates, the SVG's circles, lines and boxes within 1 px of where the axes put them, PNG size,
// and the errors. Runs offscreen; no golden images.
#include "rooftime/analyzer/profile_builder.h"
#include "rooftime/analyzer/report.h"
#include "rooftime/gui/plot_painter.h"
#include "rooftime/gui/plot_scene.h"

#include "gpu_machine.h"
#include "process.h"

#include <QFile>
#include <QFontMetricsF>
#include <QGuiApplication>
#include <QImage>
#include <QPolygonF>
#include <QTransform>
#include <QXmlStreamReader>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>
#include <tuple>

using namespace rooftime::analyzer;
using namespace rooftime::gui;
using rooftime::test::scratchDir;

namespace {

const char* const kMachine = rooftime::test::kGpuMachineJson;

KernelRecord launch(std::int64_t id, const std::string& name, std::int64_t ns, bool replayed)
{
    KernelRecord k;
    k.id = id;
    k.name = name;
    k.durationNs = ns;
    k.replayed = replayed;
    k.grid[0] = 128;
    k.grid[1] = k.grid[2] = 1;
    k.block[0] = 256;
    k.block[1] = k.block[2] = 1;
    return k;
}

/// The kernels of the profile at @p path, by lost time, against its embedded machine model.
Report kernelsByLost(const std::string& path)
{
    std::vector<Profile> profiles;
    profiles.push_back(Profile::open(path));
    ReportOptions options;
    options.by = ReportBy::Kernel;
    Report r = buildReport(profiles, nullptr, options);
    sortRows(r, SortKey::Lost);
    return r;
}

/// gemm: 3 x 1 ms, 60 GFLOP fp32, 6 GB HBM (2 ms: memory-bound), 12 GB L2.
/// hgemm: 1 x 2 ms, 1.2 TFLOP fp16 tensor (1.5 ms: compute-bound), 1.5 GB HBM.
/// copy: 3 GB HBM, no FLOPs. tiny: 1000 launches, no counters.
Report gpuReport(const std::string& test)
{
    const std::string path = scratchDir(test) + "/gpu.rtdb";
    {
        ProfileBuilder b(path, "gpu-node", "train.py", "python train.py");
        b.addDevice(0, "NVIDIA H100", "sm_90", 132);
        b.addMachine("test", kMachine);
        b.addKernel(launch(1, "gemm", 1'000'000, true));
        b.addKernelMetric(1, "smsp__sass_thread_inst_executed_op_ffma_pred_on.sum", 10e9, "inst");
        b.addKernelMetric(1, "dram__bytes_read.sum", 2e9, "byte");
        b.addKernelMetric(1, "lts__t_bytes.sum", 4e9, "byte");
        b.addKernel(launch(2, "gemm", 1'000'000, false));
        b.addKernel(launch(3, "gemm", 1'000'000, false));
        b.addKernel(launch(4, "hgemm", 2'000'000, true));
        b.addKernelMetric(4, "sm__ops_path_tensor_src_fp16.sum", 1.2e12, "");
        b.addKernelMetric(4, "dram__bytes_read.sum", 1.5e9, "byte");
        b.addKernel(launch(5, "copy", 2'000'000, true));
        b.addKernelMetric(5, "dram__bytes_read.sum", 3e9, "byte");
        for (int i = 0; i < 1000; ++i)
            b.addKernel(launch(100 + i, "tiny", 2'500, false));
        b.finish(20'000'000);
    }
    return kernelsByLost(path);
}

void ensureGuiApp()
{
    // Fonts need a QGuiApplication; kept for the whole run (Qt wants one per process).
    static QGuiApplication* app = [] {
        if (!std::getenv("QT_QPA_PLATFORM")) setenv("QT_QPA_PLATFORM", "offscreen", 1);
        static int argc = 1;
        static char name[] = "plot_tests";
        static char* argv[] = { name, nullptr };
        return new QGuiApplication(argc, argv);
    }();
    (void)app;
}

const PlotMark& mark(const PlotScene& s, const std::string& name, const std::string& level = {})
{
    for (const auto& m : s.marks)
        if (m.name == name && (level.empty() || m.level == level)) return m;
    FAIL("no mark " << name << " " << level);
    throw 0;
}

template <typename T> std::vector<T> shapes(const PlotScene& s, ShapeRole role)
{
    std::vector<T> out;
    for (const Shape& shape : s.shapes)
        if (const T* t = std::get_if<T>(&shape); t && t->role == role) out.push_back(*t);
    return out;
}

/// The pixel of a data value, computed here from the area and the range, independently of LogAxis.
double pixelX(const PlotScene& s, double v)
{
    return s.area.left + std::log10(v / s.x.lo) / std::log10(s.x.hi / s.x.lo) * s.area.width;
}
double pixelY(const PlotScene& s, double v)
{
    return s.area.bottom() - std::log10(v / s.y.lo) / std::log10(s.y.hi / s.y.lo) * s.area.height;
}

/// What an SVG holds, read with QXmlStreamReader: shapes outside rotated groups, and every text.
struct Svg {
    struct Circle {
        double cx, cy, r;
    };
    struct Rect {
        double x, y, w, h;
    };
    QString viewBox;
    std::vector<Circle> circles;
    std::vector<std::vector<QPointF>> polylines;
    std::vector<Rect> rects;
    QStringList texts;

    bool hasCircle(double cx, double cy, double r = -1) const
    {
        for (const auto& c : circles)
            if (std::fabs(c.cx - cx) <= 1 && std::fabs(c.cy - cy) <= 1 && (r < 0 || std::fabs(c.r - r) <= 1))
                return true;
        return false;
    }
    bool hasLine(QPointF a, QPointF b) const
    {
        const auto near
            = [](QPointF p, QPointF q) { return std::fabs(p.x() - q.x()) <= 1 && std::fabs(p.y() - q.y()) <= 1; };
        for (const auto& l : polylines)
            if (l.size() == 2 && ((near(l[0], a) && near(l[1], b)) || (near(l[0], b) && near(l[1], a)))) return true;
        return false;
    }
    bool hasText(const QString& t) const { return texts.contains(t); }
};

Svg parseSvg(const QByteArray& data)
{
    Svg svg;
    QXmlStreamReader xml(data);
    std::vector<bool> identity; // per open <g>: no transform other than the identity
    while (!xml.atEnd()) {
        xml.readNext();
        if (xml.isEndElement() && xml.name() == QStringLiteral("g")) identity.pop_back();
        if (!xml.isStartElement()) continue;
        const auto a = xml.attributes();
        const auto num = [&](const char* n) { return a.value(QString::fromLatin1(n)).toDouble(); };
        const QStringView name = xml.name();
        if (name == QStringLiteral("svg")) svg.viewBox = a.value(QStringLiteral("viewBox")).toString();
        if (name == QStringLiteral("g")) {
            const QString t = a.value(QStringLiteral("transform")).toString();
            identity.push_back(t.isEmpty() || t == QStringLiteral("matrix(1,0,0,1,0,0)"));
            continue;
        }
        if (name == QStringLiteral("text")) {
            svg.texts << xml.readElementText();
            continue;
        }
        if (!identity.empty() && !identity.back()) continue;
        if (name == QStringLiteral("circle")) svg.circles.push_back({ num("cx"), num("cy"), num("r") });
        if (name == QStringLiteral("rect")) svg.rects.push_back({ num("x"), num("y"), num("width"), num("height") });
        if (name == QStringLiteral("polyline")) {
            std::vector<QPointF> pts;
            for (const QString& p :
                a.value(QStringLiteral("points")).toString().split(QLatin1Char(' '), Qt::SkipEmptyParts)) {
                const auto xy = p.split(QLatin1Char(','));
                if (xy.size() == 2) pts.emplace_back(xy[0].toDouble(), xy[1].toDouble());
            }
            svg.polylines.push_back(pts);
        }
    }
    REQUIRE_FALSE(xml.hasError());
    return svg;
}

} // namespace

TEST_CASE("combined view: measured points, vertices and the machine-balance lines", "[plot]")
{
    const Report r = gpuReport("plot_combined");
    const PlotScene s = buildPlotScene(r, {});
    CHECK(s.view == PlotView::Combined);
    CHECK(s.device == "gpu0");
    CHECK(s.level == "HBM");
    CHECK(s.computeRoof == "fp16 tensor"); // the class with the most compute time (1.5 ms vs 1.2 ms) scales the axes
    CHECK(s.items == 2);
    CHECK(s.leftOut == 2);
    REQUIRE_FALSE(s.footnotes.empty());
    CHECK(s.footnotes[0].find("1 without FLOPs") != std::string::npos);
    CHECK(s.footnotes[0].find("1 without work") != std::string::npos);

    // gemm: memory-bound at HBM (2 ms of 3 ms): the vertex is at Q_v = T·β = 9 GB, F_v = Q_v·AI = 90 GFLOP.
    const PlotMark& gemm = mark(s, "gemm");
    CHECK(gemm.x == Approx(6e9));
    CHECK(gemm.y == Approx(60e9));
    REQUIRE(gemm.vertex);
    CHECK(gemm.vertex->x == Approx(3e-3 * 3e12));
    CHECK(gemm.vertex->y == Approx(90e9));
    CHECK(gemm.limiter == LimiterKind::Memory);
    // hgemm: compute-bound (1.5 ms of 2 ms): F_v = T·Π = 1.6 TFLOP, Q_v = F_v / AI = 2 GB.
    const PlotMark& hgemm = mark(s, "hgemm");
    REQUIRE(hgemm.vertex);
    CHECK(hgemm.vertex->y == Approx(2e-3 * 800e12));
    CHECK(hgemm.vertex->x == Approx(2e9));
    CHECK(hgemm.limiter == LimiterKind::Compute);
    // Area ∝ T: radii in the ratio sqrt(3 ms / 2 ms).
    CHECK(gemm.radius / hgemm.radius == Approx(std::sqrt(1.5)));
    // The secondary axes: the same pixels in seconds at the roofs.
    REQUIRE(s.xSeconds);
    REQUIRE(s.ySeconds);
    CHECK(s.xSeconds->toPixel(2e-3) == Approx(s.x.toPixel(6e9)));
    CHECK(s.ySeconds->toPixel(1.5e-3) == Approx(s.y.toPixel(1.2e12)));
    for (const auto& m : s.marks) {
        CHECK(s.x.contains(m.x));
        CHECK(s.y.contains(m.y));
        CHECK(s.x.contains(m.vertex->x));
        CHECK(s.y.contains(m.vertex->y));
    }

    // Balance lines: F = (Π/β)·Q for each class drawn, every point of them on the line.
    const auto balances = shapes<PolylineShape>(s, ShapeRole::Balance);
    REQUIRE(balances.size() == 2);
    for (const auto& line : balances) {
        const double ratio
            = line.key.find("fp16 tensor 800 TFLOP/s") != std::string::npos ? 800e12 / 3e12 : 50e12 / 3e12;
        CHECK(line.key.find("HBM 3 TB/s") != std::string::npos);
        for (const PlotPoint& p : line.points)
            CHECK(s.y.toValue(p.y) / s.x.toValue(p.x) == Approx(ratio).epsilon(1e-6));
    }
    // Segments join each measured point and its vertex.
    CHECK(shapes<PolylineShape>(s, ShapeRole::Segment).size() == 2);
    CHECK(shapes<CircleShape>(s, ShapeRole::Vertex).size() == 2);

    ensureGuiApp();
    const Svg svg = parseSvg(renderPlotSvg(s));
    CHECK(svg.viewBox == QStringLiteral("0 0 1000 700"));
    CHECK(svg.hasCircle(pixelX(s, 6e9), pixelY(s, 60e9), gemm.radius));
    CHECK(svg.hasCircle(pixelX(s, 9e9), pixelY(s, 90e9), gemm.radius));
    CHECK(svg.hasCircle(pixelX(s, 1.5e9), pixelY(s, 1.2e12), hgemm.radius));
    CHECK(svg.hasCircle(pixelX(s, 2e9), pixelY(s, 1.6e12), hgemm.radius));
    CHECK(svg.hasLine({ pixelX(s, 6e9), pixelY(s, 60e9) }, { pixelX(s, 9e9), pixelY(s, 90e9) }));
    for (const auto& line : balances)
        CHECK(svg.hasLine(
            { line.points.front().x, line.points.front().y }, { line.points.back().x, line.points.back().y }));
    CHECK(svg.hasText(QStringLiteral("fp16 tensor 800 TFLOP/s")));
    CHECK(svg.hasText(QStringLiteral("HBM 3 TB/s")));
    CHECK(svg.hasText(QStringLiteral("launch 2 \u00b5s")));
    CHECK(svg.hasText(QStringLiteral("at HBM 3 TB/s"))); // Qt splits the text where the script changes (β)
}

TEST_CASE("complexity view: points at (Q, F), the launch-bound box for one launch", "[plot]")
{
    const Report r = gpuReport("plot_complexity");
    PlotOptions o;
    o.view = PlotView::Complexity;
    const PlotScene s = buildPlotScene(r, o);
    CHECK_FALSE(s.xSeconds);
    CHECK(shapes<CircleShape>(s, ShapeRole::Vertex).empty());
    CHECK(shapes<PolylineShape>(s, ShapeRole::Segment).empty());
    const auto boxes = shapes<RectShape>(s, ShapeRole::Region);
    REQUIRE(boxes.size() == 1);
    // t_launch·β = 6 MB by t_launch·Π = 1.6 GFLOP (fp16 tensor scales the chart), from the lower-left corner.
    const RectShape& box = boxes[0];
    CHECK(box.rect.left == Approx(s.area.left));
    CHECK(box.rect.bottom() == Approx(s.area.bottom()));
    CHECK(box.rect.right() == Approx(pixelX(s, 2e-6 * 3e12)));
    CHECK(box.rect.top == Approx(pixelY(s, 2e-6 * 800e12)));
    // Diagonals of constant intensity are drawn and labelled.
    const auto guides = shapes<PolylineShape>(s, ShapeRole::Guide);
    CHECK_FALSE(guides.empty());
    for (const auto& g : guides) {
        const double ai = s.y.toValue(g.points.front().y) / s.x.toValue(g.points.front().x);
        CHECK(std::fabs(std::log10(ai) - std::round(std::log10(ai))) < 1e-6);
    }

    ensureGuiApp();
    const Svg svg = parseSvg(renderPlotSvg(s));
    CHECK(svg.hasCircle(pixelX(s, 6e9), pixelY(s, 60e9)));
    CHECK(svg.hasCircle(pixelX(s, 1.5e9), pixelY(s, 1.2e12)));
    CHECK_FALSE(svg.hasCircle(pixelX(s, 9e9), pixelY(s, 90e9))); // no vertices here
    bool found = false;
    for (const auto& rect : svg.rects)
        found = found
            || (std::fabs(rect.x - box.rect.left) <= 1 && std::fabs(rect.y - box.rect.top) <= 1
                && std::fabs(rect.w - box.rect.width) <= 1 && std::fabs(rect.h - box.rect.height) <= 1);
    CHECK(found);
    CHECK(svg.hasText(QStringLiteral("launch-bound (1 launch)")));
    CHECK(svg.hasText(QStringLiteral("compute-bound")));
    CHECK(svg.hasText(QStringLiteral("memory-bound")));
}

TEST_CASE("time view: memory time against compute time, iso-runtime guides, one range for both axes", "[plot]")
{
    const Report r = gpuReport("plot_time");
    PlotOptions o;
    o.view = PlotView::Time;
    const PlotScene s = buildPlotScene(r, o);
    const PlotMark& gemm = mark(s, "gemm");
    CHECK(gemm.x == Approx(2e-3)); // 6 GB / 3 TB/s
    CHECK(gemm.y == Approx(1.2e-3)); // 60 GFLOP / 50 TFLOP/s
    const PlotMark& hgemm = mark(s, "hgemm");
    CHECK(hgemm.x == Approx(0.5e-3));
    CHECK(hgemm.y == Approx(1.5e-3));
    CHECK(s.x.lo == s.y.lo);
    CHECK(s.x.hi == s.y.hi);
    // The 1 ms guide: roof time max(x, y) = 1 ms, an L through (1 ms, 1 ms).
    bool guide = false;
    for (const auto& g : shapes<PolylineShape>(s, ShapeRole::Guide))
        if (g.key == "iso-runtime 1 ms") {
            guide = true;
            REQUIRE(g.points.size() == 3);
            CHECK(g.points[1].x == Approx(pixelX(s, 1e-3)));
            CHECK(g.points[1].y == Approx(pixelY(s, 1e-3)));
            CHECK(g.points[0].y == Approx(g.points[1].y));
            CHECK(g.points[2].x == Approx(g.points[1].x));
        }
    CHECK(guide);
    const auto diagonal = shapes<PolylineShape>(s, ShapeRole::Balance);
    REQUIRE(diagonal.size() == 1);
    for (const auto& p : diagonal[0].points)
        CHECK(s.x.toValue(p.x) == Approx(s.y.toValue(p.y)));

    ensureGuiApp();
    const Svg svg = parseSvg(renderPlotSvg(s));
    CHECK(svg.hasCircle(pixelX(s, 2e-3), pixelY(s, 1.2e-3), gemm.radius));
    CHECK(svg.hasCircle(pixelX(s, 0.5e-3), pixelY(s, 1.5e-3), hgemm.radius));
    CHECK(svg.hasText(QStringLiteral("bandwidth-bound")));
    CHECK(svg.hasText(QStringLiteral("1 ms")));
}

TEST_CASE("classic view: one roof per precision, one slope per level, one point per item and level", "[plot]")
{
    const Report r = gpuReport("plot_classic");
    PlotOptions o;
    o.view = PlotView::Classic;
    const PlotScene s = buildPlotScene(r, o);
    CHECK(s.level.empty());
    CHECK(s.items == 2);
    // gemm at HBM (AI 10) and L2 (AI 5), hgemm at HBM only (it moved no L2 bytes): 20 and 600 TFLOP/s.
    REQUIRE(s.marks.size() == 3);
    CHECK(mark(s, "gemm", "HBM").x == Approx(10));
    CHECK(mark(s, "gemm", "L2").x == Approx(5));
    CHECK(mark(s, "gemm", "L2").y == Approx(20e12));
    CHECK(mark(s, "hgemm", "HBM").x == Approx(800));
    CHECK(mark(s, "hgemm", "HBM").y == Approx(600e12));
    const auto roofs = shapes<PolylineShape>(s, ShapeRole::Roof);
    REQUIRE(roofs.size() == 4);
    int horizontal = 0, slopes = 0;
    for (const auto& roof : roofs) {
        const PlotPoint a = roof.points.front(), b = roof.points.back();
        if (roof.key == "fp32 50 TFLOP/s" || roof.key == "fp16 tensor 800 TFLOP/s") {
            ++horizontal;
            const double peak = roof.key == "fp32 50 TFLOP/s" ? 50e12 : 800e12;
            CHECK(a.y == Approx(pixelY(s, peak)));
            CHECK(b.y == Approx(pixelY(s, peak)));
            CHECK(b.x == Approx(s.area.right()));
        } else {
            ++slopes;
            const double bw = roof.key == "HBM 3 TB/s" ? 3e12 : 10e12;
            CHECK((roof.key == "HBM 3 TB/s" || roof.key == "L2 10 TB/s"));
            for (const PlotPoint& p : roof.points)
                CHECK(s.y.toValue(p.y) / s.x.toValue(p.x) == Approx(bw).epsilon(1e-6));
            CHECK(s.y.toValue(b.y) == Approx(800e12).epsilon(1e-6)); // up to the highest compute roof
        }
    }
    CHECK(horizontal == 2);
    CHECK(slopes == 2);

    ensureGuiApp();
    const Svg svg = parseSvg(renderPlotSvg(s));
    CHECK(svg.hasCircle(pixelX(s, 10), pixelY(s, 20e12)));
    CHECK(svg.hasCircle(pixelX(s, 5), pixelY(s, 20e12)));
    CHECK(svg.hasCircle(pixelX(s, 800), pixelY(s, 600e12)));
    for (const auto& roof : roofs)
        CHECK(svg.hasLine(
            { roof.points.front().x, roof.points.front().y }, { roof.points.back().x, roof.points.back().y }));
    CHECK(svg.hasText(QStringLiteral("fp32 50 TFLOP/s")));
    CHECK(svg.hasText(QStringLiteral("L2 10 TB/s")));
}

TEST_CASE("level, top and device choices, and DRAM for CPU items", "[plot]")
{
    const Report r = gpuReport("plot_options");
    PlotOptions l2;
    l2.level = "l2"; // any case
    const PlotScene s = buildPlotScene(r, l2);
    CHECK(s.level == "L2");
    CHECK(s.items == 1); // hgemm moved no L2 bytes
    CHECK(mark(s, "gemm").x == Approx(12e9));
    // gemm at L2: 12 GB / 10 TB/s = 1.2 ms, as long as its compute time: the vertex is at T / 1.2 ms times (Q, F).
    CHECK(mark(s, "gemm").vertex->y == Approx(60e9 * 3e-3 / 1.2e-3));
    CHECK(s.footnotes[0].find("without bytes at L2") != std::string::npos);

    PlotOptions top;
    top.top = 1;
    const PlotScene one = buildPlotScene(r, top);
    CHECK(one.items == 1);
    CHECK(one.marks[0].name == r.rows[0].name);
    CHECK(one.footnotes[0].find("1 beyond --top 1") != std::string::npos);

    std::vector<Profile> profiles;
    profiles.push_back(Profile::open(rooftime::test::testData("profiles/golden-v1.0.rtdb")));
    MachineModel m = readMachineFile(rooftime::test::testData("machines/amd-epyc-zen3-2vcpu-vm.json"));
    const Report cpu = buildReport(profiles, &m);
    const PlotScene c = buildPlotScene(cpu, {});
    CHECK(c.device == "cpu");
    CHECK(c.level == "DRAM");
    CHECK(mark(c, "triad").x == Approx(7.2e6));
    CHECK(mark(c, "triad").y == Approx(600e3));
}

TEST_CASE("plot errors name what to do", "[plot]")
{
    const Report r = gpuReport("plot_errors");
    struct Row {
        const char* what;
        PlotOptions options;
        const char* phrase;
    };
    PlotOptions level;
    level.level = "L3";
    PlotOptions device;
    device.device = "gpu7";
    const Row rows[] = {
        { "unknown level", level,
            "--level L3: no bandwidth roof for that level on gpu0 (levels with a roof: HBM, L2)" },
        { "unknown device", device, "no roofs for device 'gpu7' (devices with roofs: gpu0); pick one with --device" },
    };
    for (const Row& row : rows) {
        INFO(row.what);
        try {
            buildPlotScene(r, row.options);
            FAIL("no error");
        } catch (const PlotError& e) {
            CHECK_THAT(e.what(), Catch::Contains(row.phrase));
        }
    }
    Report none = r;
    none.machine.reset();
    CHECK_THROWS_WITH(
        buildPlotScene(none, {}), Catch::Contains("no machine model") && Catch::Contains("--machine FILE"));
}

TEST_CASE("files: SVG and PNG of the requested size, other extensions refused", "[plot]")
{
    ensureGuiApp();
    const Report r = gpuReport("plot_files");
    const std::string dir = scratchDir("plot_files_out");
    PlotOptions o;
    o.width = 640;
    o.height = 480;
    const PlotScene s = buildPlotScene(r, o);
    const QString png = QString::fromStdString(dir + "/plot.PNG");
    CHECK(writePlot(s, png).isEmpty());
    QImage image(png, "PNG");
    CHECK(image.width() == 640);
    CHECK(image.height() == 480);
    // Something was drawn: not every pixel is the background.
    bool ink = false;
    for (int y = 0; y < image.height() && !ink; y += 3)
        for (int x = 0; x < image.width() && !ink; x += 3)
            ink = image.pixel(x, y) != qRgb(255, 255, 255);
    CHECK(ink);

    const QString svgPath = QString::fromStdString(dir + "/plot.svg");
    CHECK(writePlot(s, svgPath).isEmpty());
    QFile f(svgPath);
    REQUIRE(f.open(QIODevice::ReadOnly));
    CHECK(parseSvg(f.readAll()).viewBox == QStringLiteral("0 0 640 480"));

    CHECK(writePlot(s, QString::fromStdString(dir + "/plot.pdf")).contains(QStringLiteral(".svg or .png")));
    CHECK(writePlot(s, QString::fromStdString(dir + "/no/such/folder/plot.svg"))
              .contains(QStringLiteral("cannot write")));
}

TEST_CASE("nothing to draw: axes and roofs from the machine model, and small sizes without a legend", "[plot]")
{
    Report r = gpuReport("plot_nothing");
    r.rows.erase(std::remove_if(r.rows.begin(), r.rows.end(),
                     [](const ReportRow& row) { return row.name == "gemm" || row.name == "hgemm"; }),
        r.rows.end());
    for (PlotView view : { PlotView::Combined, PlotView::Time, PlotView::Complexity, PlotView::Classic }) {
        PlotOptions o;
        o.view = view;
        const PlotScene s = buildPlotScene(r, o);
        INFO(plotViewName(view));
        CHECK(s.items == 0);
        CHECK(s.marks.empty());
        CHECK(s.leftOut == 2);
        CHECK(s.leftOutReasons.find("1 without work") != std::string::npos);
        CHECK(s.x.lo < s.x.hi);
        CHECK(s.y.lo < s.y.hi);
        CHECK(s.area.width > 100);
        CHECK(s.area.height > 100);
    }

    PlotOptions small;
    small.width = 320;
    small.height = 240;
    const PlotScene s = buildPlotScene(gpuReport("plot_small"), small);
    CHECK(shapes<TextShape>(s, ShapeRole::Legend).empty());
    CHECK(s.area.right() <= 320);
    CHECK(s.area.bottom() <= 240);
    CHECK(s.area.width > 0);
    CHECK(s.area.height > 0);
    for (const auto& m : s.marks) {
        const double x = s.x.toPixel(m.x), y = s.y.toPixel(m.y);
        CHECK(x >= s.area.left);
        CHECK(x <= s.area.right());
        CHECK(y >= s.area.top);
        CHECK(y <= s.area.bottom());
    }
    ensureGuiApp();
    const QImage image = renderPlotImage(s);
    CHECK(image.size() == QSize(320, 240));
}

TEST_CASE("the legend names kernels as the report's table does, the marks keep the full names", "[plot]")
{
    Report r = gpuReport("plot_compact_names");
    const std::string full = "void at::native::gemm_kernel<float, 128>(int, float const*, at::native::Params)";
    for (ReportRow& row : r.rows)
        if (row.name == "gemm") row.name = full;
    PlotOptions o;
    o.width = 1200;
    o.height = 900;
    const PlotScene s = buildPlotScene(r, o);
    bool listed = false;
    for (const TextShape& t : shapes<TextShape>(s, ShapeRole::Legend)) {
        CHECK(t.text.find("void ") == std::string::npos);
        listed = listed || t.text.find(" gemm_kernel<float, 128> (") != std::string::npos;
    }
    CHECK(listed);
    CHECK(std::any_of(s.marks.begin(), s.marks.end(), [&](const PlotMark& m) { return m.name == full; }));

    // By call path: the path with short function names where it fits, else the item alone.
    for (ReportRow& row : r.rows) {
        if (row.name == "hgemm") {
            row.kind = "path-kernel";
            row.path = { "main(int, char**)", "step", "hgemm" };
            row.pathFrames = { true, false, false };
        } else if (row.name == full) {
            row.kind = "path-kernel";
            row.path = { "main(int, char**)", "void (anonymous namespace)::train_one_epoch_with_a_long_name(int)",
                "step", full };
            row.pathFrames = { true, true, false, false };
        }
    }
    const PlotScene paths = buildPlotScene(r, o);
    bool whole = false, alone = false;
    for (const TextShape& t : shapes<TextShape>(paths, ShapeRole::Legend)) {
        whole = whole || t.text.find(" main > step > hgemm (") != std::string::npos;
        alone = alone || t.text.find(" gemm_kernel<float, 128> (") != std::string::npos;
        CHECK(t.text.find("train_one_epoch") == std::string::npos);
    }
    CHECK(whole);
    CHECK(alone);
}

namespace {

/// gpu0 with roofs close to each other (fp64 48 and fp32 50 TFLOP/s, HBM 3 and L2 3.3 TB/s), whose labels would
/// sit on top of each other; kernels a to e of the same work and time (one point), and l2bound, held by L2.
Report crowdedReport(const std::string& test)
{
    const std::string path = scratchDir(test) + "/crowded.rtdb";
    {
        ProfileBuilder b(path, "gpu-node", "train.py", "python train.py");
        b.addDevice(0, "NVIDIA H100", "sm_90", 132);
        b.addMachine("test", R"({"format": "rooftime-machine", "version": "1.0", "created": "2026-11-28T00:00:00Z",
          "host": {"name": "gpu-node"}, "cpu": {"model": "CPU", "logical_cpus": 16}, "ceilings": [
          {"device": "gpu0", "kind": "compute", "precision": "fp64", "variant": "fma", "value": 48e12, "roof": true},
          {"device": "gpu0", "kind": "compute", "precision": "fp32", "variant": "fma", "value": 50e12, "roof": true},
          {"device": "gpu0", "kind": "compute", "precision": "fp16", "variant": "tensor", "value": 800e12, "roof": true},
          {"device": "gpu0", "kind": "bandwidth", "level": "HBM", "pattern": "read", "value": 3e12, "roof": true},
          {"device": "gpu0", "kind": "bandwidth", "level": "L2", "pattern": "read", "value": 3.3e12, "roof": true},
          {"device": "gpu0", "kind": "launch", "variant": "back_to_back", "value": 2e-6, "roof": true}]})");
        std::int64_t id = 1;
        for (const char* name : { "a", "b", "c", "d", "e" }) {
            b.addKernel(launch(id, name, 1'000'000, true));
            b.addKernelMetric(id, "smsp__sass_thread_inst_executed_op_ffma_pred_on.sum", 2e9, "inst");
            b.addKernelMetric(id, "smsp__sass_thread_inst_executed_op_dfma_pred_on.sum", 2e9, "inst");
            b.addKernelMetric(id, "dram__bytes_read.sum", 1e9, "byte");
            b.addKernelMetric(id, "lts__t_bytes.sum", 1.2e9, "byte");
            ++id;
        }
        // 1 GFLOP fp32 against 10 MB from HBM (AI 100: compute-bound at HBM) and 3 GB through L2 (0.9 ms).
        b.addKernel(launch(id, "l2bound", 1'000'000, true));
        b.addKernelMetric(id, "smsp__sass_thread_inst_executed_op_ffma_pred_on.sum", 0.5e9, "inst");
        b.addKernelMetric(id, "dram__bytes_read.sum", 1e7, "byte");
        b.addKernelMetric(id, "lts__t_bytes.sum", 3e9, "byte");
        b.finish(20'000'000);
    }
    return kernelsByLost(path);
}

/// Where Qt paints a label: its box by the painter's font metrics, turned as drawn.
QPolygonF paintedBox(const TextShape& t)
{
    QFont font(QStringLiteral("DejaVu Sans"));
    font.setPixelSize(std::max(1, static_cast<int>(t.size + 0.5)));
    font.setBold(t.bold);
    const QFontMetricsF m(font);
    const double w = m.horizontalAdvance(QString::fromStdString(t.text));
    const double x = t.halign == HAlign::Left ? 0 : t.halign == HAlign::Center ? -w / 2 : -w;
    const double y = t.valign == VAlign::Top ? 0
        : t.valign == VAlign::Middle         ? -(m.ascent() - m.descent()) / 2 - m.descent()
        : t.valign == VAlign::Bottom         ? -m.height()
                                             : -m.ascent();
    QTransform turn;
    turn.translate(t.at.x, t.at.y);
    turn.rotate(-t.angle);
    return turn.map(QPolygonF(QRectF(x, y, w, m.height())));
}

double area(const QPolygonF& p)
{
    double twice = 0;
    for (qsizetype i = 0; i < p.size(); ++i)
        twice += p[i].x() * p[(i + 1) % p.size()].y() - p[(i + 1) % p.size()].x() * p[i].y();
    return std::abs(twice) / 2;
}

} // namespace

TEST_CASE("labels in the chart never cover each other: coinciding items share a number, roof labels give way", "[plot]")
{
    ensureGuiApp();
    // a to e: 4 GFLOP each, fp32 and fp64 (163 us), 1.2 GB through L2 (364 us): L2-bound.
    const Report r = crowdedReport("plot_crowded");
    for (PlotView view : { PlotView::Combined, PlotView::Time, PlotView::Complexity, PlotView::Classic }) {
        PlotOptions o;
        o.view = view;
        const PlotScene s = buildPlotScene(r, o);
        INFO(plotViewName(view));
        const auto labels = shapes<TextShape>(s, ShapeRole::Label);
        for (std::size_t i = 0; i < labels.size(); ++i)
            for (std::size_t j = i + 1; j < labels.size(); ++j) {
                INFO("'" << labels[i].text << "' and '" << labels[j].text << "'");
                // A pixel square of anti-aliasing at most.
                CHECK(area(paintedBox(labels[i]).intersected(paintedBox(labels[j]))) <= 1.0);
            }
        // Every item's number once: five on one point take the four places around it, the last joins one ("4, 5").
        std::multiset<std::string> numbers;
        bool joined = false;
        for (const TextShape& t : labels) {
            if (t.text.empty() || t.text.find_first_not_of("0123456789, ") != std::string::npos) continue;
            std::size_t from = 0;
            joined = joined || t.text.find(", ") != std::string::npos;
            while (from <= t.text.size()) {
                const std::size_t comma = t.text.find(", ", from);
                numbers.insert(t.text.substr(from, comma == std::string::npos ? std::string::npos : comma - from));
                if (comma == std::string::npos) break;
                from = comma + 2;
            }
        }
        if (view == PlotView::Classic) continue; // one number per item at its first level's point
        CHECK(joined);
        CHECK(numbers == std::multiset<std::string> { "1", "2", "3", "4", "5", "6" });
    }

    // The balance lines of fp64 and fp32 run 4 % apart: both drawn and labelled, apart along the lines (above).
    PlotOptions o;
    const PlotScene s = buildPlotScene(r, o);
    CHECK(shapes<PolylineShape>(s, ShapeRole::Balance).size() == 2);
    std::size_t balanceLabels = 0;
    for (const TextShape& t : shapes<TextShape>(s, ShapeRole::Label))
        if (t.text.find("FLOP/B") != std::string::npos) ++balanceLabels;
    CHECK(balanceLabels == 2);
}

TEST_CASE("a point memory-bound at another level than the one drawn has its own colour and legend line", "[plot]")
{
    const Report r = crowdedReport("plot_elsewhere");
    PlotOptions o;
    const PlotScene s = buildPlotScene(r, o);
    REQUIRE(s.level == "HBM");
    CHECK(mark(s, "l2bound").binding == "L2");
    CHECK(mark(s, "l2bound").limiter == LimiterKind::Memory);
    CHECK(mark(s, "a").binding == "L2"); // 1.2 GB at 3.3 TB/s beats 1 GB at 3 TB/s
    std::vector<std::string> legend;
    for (const TextShape& t : shapes<TextShape>(s, ShapeRole::Legend))
        legend.push_back(t.text);
    CHECK(std::find(legend.begin(), legend.end(), "memory-bound at L2") != legend.end());
    // Drawn at HBM, l2bound lies where HBM alone would call it compute-bound: above the fp32 balance line.
    const PlotMark& m = mark(s, "l2bound");
    CHECK(m.y / m.x > 50e12 / 3e12);
    // Its disc is not the colour of the HBM-bound points (none here) nor of the compute-bound ones.
    std::set<std::tuple<int, int, int>> fills;
    for (const CircleShape& c : shapes<CircleShape>(s, ShapeRole::Measured))
        if (c.key == "l2bound") fills.insert({ c.fill.r, c.fill.g, c.fill.b });
    REQUIRE(fills.size() == 1);
    std::set<std::tuple<int, int, int>> legendSwatches;
    for (const CircleShape& c : shapes<CircleShape>(s, ShapeRole::Legend))
        legendSwatches.insert({ c.fill.r, c.fill.g, c.fill.b });
    CHECK(legendSwatches.count(*fills.begin()) == 1);

    // Drawn at L2, the same point is plainly memory-bound: the usual colour, no separate legend line.
    o.level = "L2";
    const PlotScene atL2 = buildPlotScene(r, o);
    for (const TextShape& t : shapes<TextShape>(atL2, ShapeRole::Legend))
        CHECK(t.text.find("memory-bound at") == std::string::npos);
}
