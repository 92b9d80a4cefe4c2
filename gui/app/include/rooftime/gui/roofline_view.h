// SPDX-License-Identifier: MIT
/**
 * @file roofline_view.h
 * @brief The roofline plot as a widget: the scene of plot_scene.h built at the widget's size and painted by
 * plot_painter.h (the same picture `rooftime plot` writes), with hover tooltips, click selection and a ring
 * around the selected item.
 */
#pragma once

#include "rooftime/gui/plot_scene.h"

#include <QString>
#include <QWidget>

#include <optional>
#include <string>
#include <vector>

namespace rooftime::gui {

class RooflineView : public QWidget {
    Q_OBJECT
public:
    explicit RooflineView(QWidget* parent = nullptr);
    /// Shows @p report (kept by reference until the next call); nullptr shows nothing.
    void setReport(const analyzer::Report* report);
    /// Compare view: also draws @p baseline's items (named "NAME [baseline]", on the same axes) and an arrow from
    /// each to the same item of the report; nullptr ends it. Kept by reference like the report.
    void setBaseline(const analyzer::Report* baseline);
    /// The arrows drawn (baseline → current, pixels; in the combined view also vertex → vertex), for tests.
    struct Arrow {
        std::string name;
        QPointF from, to;
        bool vertex = false;
    };
    std::vector<Arrow> arrows() const;
    /// The suffix of baseline items in the compare view.
    static constexpr const char* kBaselineSuffix = " [baseline]";
    /// The item a baseline entry stands for ("gemm" for "gemm [baseline]"); nothing for other names.
    static std::optional<std::string> baselineOf(const std::string& name);
    void setOptions(const PlotOptions& options); ///< width and height are the widget's own
    const PlotOptions& options() const { return m_options; }
    /// The scene as painted now (rebuilt on every change of report, options or size).
    const PlotScene& scene() const { return m_scene; }
    /// Why nothing is drawn (no machine model, no roof for the level), empty when the scene is fine.
    const QString& problem() const { return m_problem; }
    /// The item drawn at @p pos (its measured point or vertex; the smallest disc wins where they overlap).
    std::optional<std::string> itemAt(QPointF pos) const;
    /// The pixel centre of an item's measured point, if drawn.
    std::optional<QPointF> pointOf(const std::string& name) const;
    void setSelected(const std::string& name); ///< empty: none
    const std::string& selected() const { return m_selected; }
    QSize sizeHint() const override { return { 900, 600 }; }

signals:
    void itemClicked(const QString& name);
    /// The scene was rebuilt (report, baseline, options or size changed): what is drawn may differ.
    void sceneChanged();

protected:
    void paintEvent(QPaintEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;

private:
    void rebuild();
    void addArrows();

    const analyzer::ReportRow* rowNamed(const std::string& name) const;

    const analyzer::Report* m_report = nullptr;
    const analyzer::Report* m_baseline = nullptr;
    analyzer::Report m_merged; ///< compare view: the report's rows, then the baseline's renamed
    PlotOptions m_options;
    PlotScene m_scene;
    QString m_problem;
    std::string m_selected;
};

} // namespace rooftime::gui
