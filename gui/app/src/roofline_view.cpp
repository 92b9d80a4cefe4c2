// SPDX-License-Identifier: MIT
#include "rooftime/gui/roofline_view.h"

#include "rooftime/gui/item_table_model.h"
#include "rooftime/gui/plot_painter.h"

#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>

#include <cmath>
#include <limits>

namespace rooftime::gui {

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
        try {
            m_scene = buildPlotScene(*m_report, o);
        } catch (const PlotError& e) {
            m_problem = QString::fromStdString(e.what());
        }
    }
    update();
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
    if (!name || !m_report) {
        QToolTip::hideText();
        return;
    }
    for (const analyzer::ReportRow& r : m_report->rows)
        if (r.name == *name) {
            QToolTip::showText(event->globalPosition().toPoint(), QString::fromStdString(itemDetails(r)), this);
            return;
        }
}

void RooflineView::mousePressEvent(QMouseEvent* event)
{
    if (event->button() != Qt::LeftButton) return;
    const auto name = itemAt(event->position());
    setSelected(name ? *name : std::string());
    emit itemClicked(QString::fromStdString(name ? *name : std::string()));
}

} // namespace rooftime::gui
