// SPDX-License-Identifier: MIT
#include "rooftime/gui/roofline_view.h"

#include "rooftime/gui/item_table_model.h"
#include "rooftime/gui/plot_painter.h"

#include <QMouseEvent>
#include <QPainter>
#include <QPolygonF>
#include <QToolTip>

#include <cmath>
#include <limits>
#include <string_view>

namespace rooftime::gui {

namespace {

/// A row's totals over @p runs profiles as a mean per run: times, counts and work divide, and so does every
/// time of its analysis; rates, intensities and efficiency stay.
analyzer::ReportRow perRun(analyzer::ReportRow r, std::size_t runs)
{
    if (runs <= 1) return r;
    const double k = 1.0 / static_cast<double>(runs);
    r.timeSeconds *= k;
    r.workSeconds *= k;
    r.count = static_cast<std::uint64_t>(std::llround(static_cast<double>(r.count) * k));
    if (r.exclusiveSeconds) *r.exclusiveSeconds *= k;
    if (r.flops) *r.flops *= k;
    if (r.bytes) *r.bytes *= k;
    for (auto& [cls, v] : r.flopsByClass)
        v *= k;
    for (auto& [level, v] : r.bytesByLevel)
        v *= k;
    if (r.roof) {
        analyzer::Analysis& a = *r.roof;
        for (auto& [cls, v] : a.computeSeconds)
            v *= k;
        for (auto& [level, v] : a.memorySeconds)
            v *= k;
        a.computeTime *= k;
        a.memoryTime *= k;
        a.roofSeconds *= k;
        a.floorSeconds *= k;
        a.boundSeconds *= k;
        a.lostSeconds *= k;
    }
    return r;
}

} // namespace

RooflineView::RooflineView(QWidget* parent)
    : QWidget(parent)
{
    setMouseTracking(true);
    setMinimumSize(480, 360);
    setAttribute(Qt::WA_OpaquePaintEvent);
}

void RooflineView::setReport(const analyzer::Report* report)
{
    m_report = report;
    m_selected.clear();
    rebuild();
}

void RooflineView::setBaseline(const analyzer::Report* baseline)
{
    m_baseline = baseline;
    rebuild();
}

const analyzer::ReportRow* RooflineView::rowNamed(const std::string& name) const
{
    const analyzer::Report* r = m_baseline ? &m_merged : m_report;
    if (!r) return nullptr;
    // The plot shows one device: a name there is the row of that device (the same kernel may run on several).
    const analyzer::ReportRow* any = nullptr;
    for (const analyzer::ReportRow& row : r->rows)
        if (row.name == name) {
            if (row.device == m_scene.device) return &row;
            if (!any) any = &row;
        }
    return any;
}

std::optional<std::string> RooflineView::baselineOf(const std::string& name)
{
    const std::string_view suffix = kBaselineSuffix;
    if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
        return std::nullopt;
    return name.substr(0, name.size() - suffix.size());
}

std::vector<RooflineView::Arrow> RooflineView::arrows() const
{
    std::vector<Arrow> out;
    if (!m_baseline) return out;
    const auto pixel = [&](const PlotPoint& p) { return QPointF(m_scene.x.toPixel(p.x), m_scene.y.toPixel(p.y)); };
    for (const PlotMark& from : m_scene.marks) {
        const auto name = baselineOf(from.name);
        if (!name) continue;
        for (const PlotMark& to : m_scene.marks) {
            if (to.name != *name || to.level != from.level) continue;
            out.push_back({ *name, pixel({ from.x, from.y }), pixel({ to.x, to.y }), false });
            if (from.vertex && to.vertex) out.push_back({ *name, pixel(*from.vertex), pixel(*to.vertex), true });
        }
    }
    return out;
}

void RooflineView::setOptions(const PlotOptions& options)
{
    m_options = options;
    rebuild();
}

void RooflineView::setSelected(const std::string& name)
{
    if (name == m_selected) return;
    m_selected = name;
    update();
}

void RooflineView::rebuild()
{
    m_problem.clear();
    m_scene = PlotScene {};
    if (m_report) {
        PlotOptions o = m_options;
        o.width = std::max(width(), 320);
        o.height = std::max(height(), 240);
        if (m_baseline) {
            // One scene for both, so that the axes hold both runs' points; per run on each side (the sides may
            // hold different numbers of runs), as `rooftime compare` counts.
            m_merged = *m_report;
            m_merged.rows.clear();
            for (const analyzer::ReportRow& row : m_report->rows)
                m_merged.rows.push_back(perRun(row, m_report->profiles.size()));
            for (const analyzer::ReportRow& row : m_baseline->rows) {
                m_merged.rows.push_back(perRun(row, m_baseline->profiles.size()));
                m_merged.rows.back().name += kBaselineSuffix;
            }
        }
        try {
            m_scene = buildPlotScene(m_baseline ? m_merged : *m_report, o);
            addArrows();
        } catch (const std::exception& e) {
            // Never out of an event handler (this runs from resizeEvent): Qt would terminate.
            m_scene = PlotScene {};
            m_problem = QString::fromStdString(e.what());
        }
        // No rows at all: an empty chart would not say why (a CPU run by kernel, a GPU run by range).
        if (m_problem.isEmpty() && m_report->rows.empty())
            m_problem = QString::fromStdString("Nothing to draw: " + whyNoItems(*m_report, false) + ".");
    }
    update();
    emit sceneChanged();
}

void RooflineView::addArrows()
{
    // Part of the scene, so that an export draws them too: baseline → current, a head at the current end.
    const Rgba grey { 60, 60, 60, 255 };
    for (const Arrow& a : arrows()) {
        PolylineShape line;
        line.role = ShapeRole::Segment;
        line.points = { { a.from.x(), a.from.y() }, { a.to.x(), a.to.y() } };
        line.color = grey;
        line.width = a.vertex ? 1.2 : 2;
        line.dashed = a.vertex;
        line.key = a.name;
        m_scene.shapes.emplace_back(line);
        const QLineF back(a.to, a.from);
        if (back.length() < 6) continue;
        const QPointF u = (back.unitVector().p2() - back.unitVector().p1()) * 9;
        const QPointF side(-u.y() * 0.45, u.x() * 0.45);
        PolylineShape head;
        head.role = ShapeRole::Segment;
        head.points = { { a.to.x() + u.x() + side.x(), a.to.y() + u.y() + side.y() }, { a.to.x(), a.to.y() },
            { a.to.x() + u.x() - side.x(), a.to.y() + u.y() - side.y() } };
        head.color = grey;
        head.width = 2;
        head.key = a.name;
        m_scene.shapes.emplace_back(head);
    }
}

std::optional<std::string> RooflineView::itemAt(QPointF pos) const
{
    std::optional<std::string> best;
    double bestRadius = std::numeric_limits<double>::max();
    for (const Shape& s : m_scene.shapes) {
        const auto* c = std::get_if<CircleShape>(&s);
        if (!c || (c->role != ShapeRole::Measured && c->role != ShapeRole::Vertex) || c->key.empty()) continue;
        const double d = std::hypot(pos.x() - c->center.x, pos.y() - c->center.y);
        if (d <= c->radius + 3 && c->radius < bestRadius) {
            best = c->key;
            bestRadius = c->radius;
        }
    }
    return best;
}

std::optional<QPointF> RooflineView::pointOf(const std::string& name) const
{
    for (const Shape& s : m_scene.shapes)
        if (const auto* c = std::get_if<CircleShape>(&s); c && c->role == ShapeRole::Measured && c->key == name)
            return QPointF(c->center.x, c->center.y);
    return std::nullopt;
}

void RooflineView::paintEvent(QPaintEvent*)
{
    QPainter p(this);
    p.fillRect(rect(), Qt::white);
    if (!m_problem.isEmpty() || !m_report) {
        p.setPen(Qt::darkGray);
        p.drawText(rect().adjusted(20, 20, -20, -20), Qt::AlignCenter | Qt::TextWordWrap,
            m_report ? m_problem : QStringLiteral("Open a profile (File → Open) to see its roofline."));
        return;
    }
    p.setRenderHint(QPainter::Antialiasing);
    paintPlotScene(m_scene, p);
    if (m_selected.empty()) return;
    // The selected item: a ring around each of its circles (measured point and vertex).
    p.setBrush(Qt::NoBrush);
    p.setPen(QPen(QColor(220, 0, 120), 2.5));
    for (const Shape& s : m_scene.shapes)
        if (const auto* c = std::get_if<CircleShape>(&s);
            c && c->key == m_selected && (c->role == ShapeRole::Measured || c->role == ShapeRole::Vertex))
            p.drawEllipse(QPointF(c->center.x, c->center.y), c->radius + 4, c->radius + 4);
}

void RooflineView::resizeEvent(QResizeEvent*)
{
    rebuild();
}

void RooflineView::mouseMoveEvent(QMouseEvent* event)
{
    const auto name = itemAt(event->position());
    const analyzer::ReportRow* row = name ? rowNamed(*name) : nullptr;
    if (!row) {
        QToolTip::hideText();
        return;
    }
    QToolTip::showText(event->globalPosition().toPoint(), QString::fromStdString(itemDetails(*row)), this);
}

void RooflineView::mousePressEvent(QMouseEvent* event)
{
    if (event->button() != Qt::LeftButton) return;
    const auto name = itemAt(event->position());
    setSelected(name ? *name : std::string());
    emit itemClicked(QString::fromStdString(name ? *name : std::string()));
}

} // namespace rooftime::gui
