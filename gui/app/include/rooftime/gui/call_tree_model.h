// SPDX-License-Identifier: MIT
/**
 * @file call_tree_model.h
 * @brief The call tree of rooftime-gui (items by call path): the report's call-path rows as a tree of their
 * entries (functions of the host call stack, regions, kernels), top-down from the outermost. A node that is a
 * report row shows that row's numbers, in the item table's columns; a function without a row of its own shows
 * the time and lost time of the items below it, added; a row without known work shows, in brackets, the lost
 * time below it.
 */
#pragma once

#include "rooftime/analyzer/report.h"
#include "rooftime/gui/item_table_model.h"

#include <QAbstractItemModel>

#include <optional>
#include <string>
#include <vector>

namespace rooftime::gui {

class CallTreeModel : public QAbstractItemModel {
    Q_OBJECT
public:
    /// The item table's columns and roles (ItemTableModel::Column, SortRole, RowRole: -1 for a node without a
    /// row).
    using Column = ItemTableModel::Column;

    /// @p items formats the nodes that are report rows (the same report; it must outlive this model).
    explicit CallTreeModel(const ItemTableModel* items, QObject* parent = nullptr);
    /// Builds the tree of @p report's call-path rows (kept by reference; none for other groupings). The item model
    /// must show the same report already: its kernel names are the tree's.
    void setReport(const analyzer::Report* report);

    /// The node of the row named @p name (a call path, as ReportRow::name), or an invalid index.
    QModelIndex indexOf(const std::string& name) const;
    /// The node of the report's row @p row, or an invalid index.
    QModelIndex indexOfRow(int row) const;
    /// The report row a node stands for, or nullptr (a function with no row of its own).
    const analyzer::ReportRow* rowAt(const QModelIndex& index) const;
    std::size_t nodeCount() const { return m_nodes.size(); }

    QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
    QModelIndex parent(const QModelIndex& child) const override;
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    struct Node {
        std::string label; ///< the path entry as a table shows it
        std::string entry; ///< the path entry itself
        enum class Kind { Function, Region, Kernel } kind = Kind::Region;
        std::string device; ///< kernels: their device (the same kernel on two GPUs is two nodes)
        int row = -1; ///< index into the report's rows, -1 when no row ends here
        int parent = -1;
        int place = 0; ///< its row under its parent
        std::vector<int> children;
        double seconds = 0; ///< its row's time, else its children's added
        std::optional<double> lost; ///< its row's lost time (analysed), else its children's known ones added
        bool lostBelow = false; ///< a row without lost time of its own: lost is its children's, shown in brackets
    };
    int nodeOf(const QModelIndex& index) const;
    void total(int node);

    const ItemTableModel* m_items = nullptr;
    const analyzer::Report* m_report = nullptr;
    std::vector<Node> m_nodes;
    std::vector<int> m_roots;
};

} // namespace rooftime::gui
