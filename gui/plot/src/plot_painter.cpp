// SPDX-License-Identifier: MIT
#include "rooftime/gui/plot_painter.h"

#include <QBuffer>
#include <QFile>
#include <QFont>
#include <QFontMetricsF>
#include <QPainter>
#include <QPainterPath>
#include <QSaveFile>
#include <QSvgGenerator>

#include <type_traits>

namespace rooftime::gui {
namespace {

QColor toColor(Rgba c)
{
    return QColor(c.r, c.g, c.b, c.a);
}

QPointF toPoint(PlotPoint p)
{
    return QPointF(p.x, p.y);
}

QFont fontFor(const TextShape& t)
{
    QFont font(QStringLiteral("DejaVu Sans"));
    font.setStyleHint(QFont::SansSerif);
    font.setPixelSize(std::max(1, static_cast<int>(t.size + 0.5)));
    font.setBold(t.bold);
    return font;
}

void draw(QPainter& p, const RectShape& s)
{
    p.setPen(s.stroke.a ? QPen(toColor(s.stroke), 1) : QPen(Qt::NoPen));
    p.setBrush(s.fill.a ? QBrush(toColor(s.fill)) : QBrush(Qt::NoBrush));
    p.drawRect(QRectF(s.rect.left, s.rect.top, s.rect.width, s.rect.height));
}

void draw(QPainter& p, const PolylineShape& s)
{
    if (s.points.size() < 2) return;
    QPen pen(toColor(s.color), s.width);
    pen.setCapStyle(Qt::FlatCap);
    pen.setJoinStyle(Qt::MiterJoin);
    if (s.dashed) pen.setDashPattern({ 4, 3 });
    p.setPen(pen);
    p.setBrush(Qt::NoBrush);
    QList<QPointF> points;
    points.reserve(static_cast<qsizetype>(s.points.size()));
    for (const PlotPoint& pt : s.points)
        points.append(toPoint(pt));
    p.drawPolyline(points.constData(), static_cast<int>(points.size()));
}

void draw(QPainter& p, const CircleShape& s)
{
    p.setPen(s.stroke.a ? QPen(toColor(s.stroke), s.strokeWidth) : QPen(Qt::NoPen));
    p.setBrush(s.fill.a ? QBrush(toColor(s.fill)) : QBrush(Qt::NoBrush));
    p.drawEllipse(toPoint(s.center), s.radius, s.radius);
}

void draw(QPainter& p, const TextShape& s)
{
    const QString text = QString::fromStdString(s.text);
    const QFont font = fontFor(s);
    const QFontMetricsF metrics(font, p.device());
    const double w = metrics.horizontalAdvance(text);
    double dx = 0, dy = 0;
    switch (s.halign) {
    case HAlign::Left:
        break;
    case HAlign::Center:
        dx = -w / 2;
        break;
    case HAlign::Right:
        dx = -w;
        break;
    }
    switch (s.valign) {
    case VAlign::Baseline:
        break;
    case VAlign::Top:
        dy = metrics.ascent();
        break;
    case VAlign::Middle:
        dy = (metrics.ascent() - metrics.descent()) / 2;
        break;
    case VAlign::Bottom:
        dy = -metrics.descent();
        break;
    }
    p.setFont(font);
    p.setPen(toColor(s.color));
    if (s.angle == 0) {
        p.drawText(QPointF(s.at.x + dx, s.at.y + dy), text);
        return;
    }
    p.save();
    p.translate(s.at.x, s.at.y);
    p.rotate(-s.angle); // QPainter turns clockwise on screen; the scene's angles are counter-clockwise
    p.drawText(QPointF(dx, dy), text);
    p.restore();
}

} // namespace

void paintPlotScene(const PlotScene& scene, QPainter& painter)
{
    painter.setRenderHint(QPainter::Antialiasing);
    painter.setRenderHint(QPainter::TextAntialiasing);
    for (const Shape& shape : scene.shapes)
        std::visit([&](const auto& s) { draw(painter, s); }, shape);
}

QByteArray renderPlotSvg(const PlotScene& scene)
{
    QBuffer buffer;
    buffer.open(QIODevice::WriteOnly);
    QSvgGenerator generator;
    generator.setOutputDevice(&buffer);
    generator.setSize(QSize(static_cast<int>(scene.width), static_cast<int>(scene.height)));
    generator.setViewBox(QRectF(0, 0, scene.width, scene.height));
    generator.setResolution(96); // CSS pixels: width and height come out as the pixels asked for, in mm
    generator.setTitle(QStringLiteral("rooftime plot"));
    generator.setDescription(QStringLiteral("rooftime %1 view").arg(QString::fromLatin1(plotViewName(scene.view))));
    QPainter painter(&generator);
    paintPlotScene(scene, painter);
    painter.end();
    return buffer.data();
}

QImage renderPlotImage(const PlotScene& scene)
{
    QImage image(static_cast<int>(scene.width), static_cast<int>(scene.height), QImage::Format_ARGB32_Premultiplied);
    image.fill(Qt::white);
    QPainter painter(&image);
    paintPlotScene(scene, painter);
    painter.end();
    return image;
}

std::optional<PlotFormat> plotFormatForPath(const QString& path)
{
    if (path.endsWith(QStringLiteral(".svg"), Qt::CaseInsensitive)) return PlotFormat::Svg;
    if (path.endsWith(QStringLiteral(".png"), Qt::CaseInsensitive)) return PlotFormat::Png;
    return std::nullopt;
}

QString writePlot(const PlotScene& scene, const QString& path)
{
    const auto format = plotFormatForPath(path);
    if (!format) return QStringLiteral("'%1': the file name must end in .svg or .png").arg(path);
    // Written to a temporary file and renamed: an interrupted run leaves no half plot.
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) return QStringLiteral("'%1': cannot write: %2").arg(path, file.errorString());
    if (*format == PlotFormat::Svg) {
        file.write(renderPlotSvg(scene));
    } else if (!renderPlotImage(scene).save(&file, "PNG")) {
        file.cancelWriting();
        return QStringLiteral("'%1': PNG encoding failed").arg(path);
    }
    if (!file.commit()) return QStringLiteral("'%1': cannot write: %2").arg(path, file.errorString());
    return {};
}

} // namespace rooftime::gui
