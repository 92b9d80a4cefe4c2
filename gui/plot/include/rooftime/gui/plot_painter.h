// SPDX-License-Identifier: MIT
/**
 * @file plot_painter.h
 * @brief Draws a PlotScene with QPainter, into an SVG (QSvgGenerator) or a PNG (QImage). Drawing only: every
 * position and size comes from the scene.
 */
#pragma once

#include "rooftime/gui/plot_scene.h"

#include <QByteArray>
#include <QImage>
#include <QString>

class QPainter;

namespace rooftime::gui {

/// Paints @p scene with @p painter, whose device is at least the scene's size. Needs a QGuiApplication (fonts).
void paintPlotScene(const PlotScene& scene, QPainter& painter);
/// The scene as an SVG document (viewBox: the scene's size in pixels).
QByteArray renderPlotSvg(const PlotScene& scene);
/// The scene as an image of the scene's size.
QImage renderPlotImage(const PlotScene& scene);

enum class PlotFormat { Svg, Png };
/// The format a file name asks for by its extension (.svg, .png, any case); std::nullopt for others.
std::optional<PlotFormat> plotFormatForPath(const QString& path);
/// Writes @p scene to @p path in the format its extension names. Returns an error message, empty on success.
QString writePlot(const PlotScene& scene, const QString& path);

} // namespace rooftime::gui
