// SPDX-License-Identifier: MIT
/**
 * @file item_table_model.h
 * @brief The item table of rooftime-gui: one row per report row (region, kernel or call path) with the report's
 * numbers, formatted as `rooftime report` prints them; a numeric sort role so that sorting is by value.
 */
#pragma once

#include "rooftime/analyzer/report.h"

#include <QAbstractTableModel>

#include <map>
#include <string>

namespace rooftime::gui {

class ItemTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column {
        Number, ///< the item's number in the plot's legend (empty when not drawn)
        Name,
        Kind,
        Device,
        Count,
        Time,
        Share,
        Flops,
        Bytes,
        FlopRate,
        RoofTime,
        Efficiency,
        Lost,
        Limiter,
        ColumnCount
    };
    /// The value sorting uses: a double for numbers (absent values sort first), the text otherwise.
    static constexpr int SortRole = Qt::UserRole;
    /// The report row's index (int), whatever the sorting.
    static constexpr int RowRole = Qt::UserRole + 1;

    explicit ItemTableModel(QObject* parent = nullptr);
    /// Shows @p report (kept by reference: it must outlive the model or be replaced first).
    void setReport(const analyzer::Report* report);
    /// Legend numbers by item name, from the plot's scene.
    void setNumbers(std::map<std::string, std::size_t> numbers);
    /// The memory level the plot draws ("HBM", "L2", …; empty: each row's own, as `rooftime report` shows it): the
    /// Bytes column shows that level's bytes, so that the table and the plot read alike.
    void setLevel(const std::string& level);
    const analyzer::ReportRow* rowAt(int row) const;
    /// The row of the item named @p name, or -1.
    int rowOf(const std::string& name) const;
    /// Full kernel names (and call-path rows' names) -> as the table shows them, for the report set last.
    const std::map<std::string, std::string>& shortNames() const { return m_shortNames; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    const analyzer::Report* m_report = nullptr;
    std::map<std::string, std::size_t> m_numbers;
    std::string m_level;
    std::map<std::string, std::string> m_shortNames; ///< kernel name -> as the table shows it
};

/// What a row holds, in a few lines for a tooltip: time, count, FLOPs per class, bytes per level, intensity,
/// roof time, efficiency, limiter, lost time (the report's numbers).
std::string itemDetails(const analyzer::ReportRow& row);

} // namespace rooftime::gui
