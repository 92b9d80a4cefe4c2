// SPDX-License-Identifier: MIT
#include "rooftime/gui/call_tree_model.h"

#include "rooftime/analyzer/format.h"

#include <fmt/format.h>

#include <map>
#include <tuple>

namespace rooftime::gui {

namespace {

QString q(const std::string& s)
{
    return QString::fromStdString(s);
}

} // namespace

CallTreeModel::CallTreeModel(const ItemTableModel* items, QObject* parent)
    : QAbstractItemModel(parent)
    , m_items(items)
{
    // The legend numbers arrive in the item model (they follow the plot): shown here too.
    connect(items, &QAbstractItemModel::dataChanged, this, [this] {
        if (!m_roots.empty())
            emit dataChanged(index(0, Column::Number), index(static_cast<int>(m_roots.size()) - 1, Column::Number));
        for (std::size_t n = 0; n < m_nodes.size(); ++n) {
            const Node& node = m_nodes[n];
            if (node.children.empty()) continue;
            const QModelIndex above = createIndex(node.place, 0, static_cast<quintptr>(n));
            emit dataChanged(index(0, Column::Number, above),
                index(static_cast<int>(node.children.size()) - 1, Column::Number, above));
        }
    });
}

void CallTreeModel::setReport(const analyzer::Report* report)
{
    beginResetModel();
    m_report = report;
    m_nodes.clear();
    m_roots.clear();
    if (report) {
        // Kernels by the names the item table gives them (it is given the same report first).
        const std::map<std::string, std::string>& compact = m_items->shortNames();
        std::map<std::tuple<int, std::string, Node::Kind, std::string>, int> known;
        for (std::size_t i = 0; i < report->rows.size(); ++i) {
            const analyzer::ReportRow& r = report->rows[i];
            if (r.kind != "path" && r.kind != "path-kernel") continue;
            int parent = -1;
            for (std::size_t e = 0; e < r.path.size(); ++e) {
                const bool last = e + 1 == r.path.size();
                const Node::Kind kind = e < r.pathFrames.size() && r.pathFrames[e] ? Node::Kind::Function
                    : last && r.kind == "path-kernel"                              ? Node::Kind::Kernel
                                                                                   : Node::Kind::Region;
                const std::string device = kind == Node::Kind::Kernel ? r.device : std::string();
                auto [at, added] = known.try_emplace({ parent, r.path[e], kind, device }, 0);
                if (added) {
                    Node n;
                    n.entry = r.path[e];
                    n.label = analyzer::callPathEntry(r, e, &compact);
                    n.kind = kind;
                    n.device = device;
                    n.parent = parent;
                    std::vector<int>& siblings
                        = parent < 0 ? m_roots : m_nodes[static_cast<std::size_t>(parent)].children;
                    n.place = static_cast<int>(siblings.size());
                    at->second = static_cast<int>(m_nodes.size());
                    siblings.push_back(at->second);
                    m_nodes.push_back(std::move(n));
                }
                parent = at->second;
                if (last) m_nodes[static_cast<std::size_t>(parent)].row = static_cast<int>(i);
            }
        }
        for (int root : m_roots)
            total(root);
    }
    endResetModel();
}

void CallTreeModel::total(int node)
{
    Node& n = m_nodes[static_cast<std::size_t>(node)];
    double seconds = 0;
    std::optional<double> lost;
    for (int child : n.children) {
        total(child);
        const Node& c = m_nodes[static_cast<std::size_t>(child)];
        seconds += c.seconds;
        if (c.lost) lost = lost.value_or(0) + *c.lost;
    }
    n.lostBelow = false;
    if (n.row >= 0) {
        // A row's own numbers: its time holds its nested regions' already (regions are inclusive). A region without
        // known work has no lost time of its own: it shows what is lost below it, so that sorting by lost time
        // leads down to the items that lose it.
        const analyzer::ReportRow& r = m_report->rows[static_cast<std::size_t>(n.row)];
        seconds = r.timeSeconds;
        if (r.roof && r.roof->efficiency)
            lost = r.roof->lostSeconds;
        else
            n.lostBelow = lost.has_value();
    }
    n.seconds = seconds;
    n.lost = lost;
}

int CallTreeModel::nodeOf(const QModelIndex& index) const
{
    return index.isValid() ? static_cast<int>(index.internalId()) : -1;
}

QModelIndex CallTreeModel::index(int row, int column, const QModelIndex& parent) const
{
    if (row < 0 || column < 0 || column >= Column::ColumnCount) return {};
    const int p = nodeOf(parent);
    const std::vector<int>& siblings = p < 0 ? m_roots : m_nodes[static_cast<std::size_t>(p)].children;
    if (row >= static_cast<int>(siblings.size())) return {};
    return createIndex(row, column, static_cast<quintptr>(siblings[static_cast<std::size_t>(row)]));
}

QModelIndex CallTreeModel::parent(const QModelIndex& child) const
{
    const int n = nodeOf(child);
    if (n < 0) return {};
    const int p = m_nodes[static_cast<std::size_t>(n)].parent;
    if (p < 0) return {};
    return createIndex(m_nodes[static_cast<std::size_t>(p)].place, 0, static_cast<quintptr>(p));
}

int CallTreeModel::rowCount(const QModelIndex& parent) const
{
    if (!parent.isValid()) return static_cast<int>(m_roots.size());
    if (parent.column() > 0) return 0;
    return static_cast<int>(m_nodes[static_cast<std::size_t>(nodeOf(parent))].children.size());
}

int CallTreeModel::columnCount(const QModelIndex&) const
{
    return Column::ColumnCount;
}

QVariant CallTreeModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    return m_items->headerData(section, orientation, role);
}

QModelIndex CallTreeModel::indexOfRow(int row) const
{
    for (std::size_t n = 0; n < m_nodes.size(); ++n)
        if (m_nodes[n].row == row && row >= 0) return createIndex(m_nodes[n].place, 0, static_cast<quintptr>(n));
    return {};
}

QModelIndex CallTreeModel::indexOf(const std::string& name) const
{
    if (!m_report) return {};
    for (std::size_t n = 0; n < m_nodes.size(); ++n) {
        const int row = m_nodes[n].row;
        if (row >= 0 && m_report->rows[static_cast<std::size_t>(row)].name == name)
            return createIndex(m_nodes[n].place, 0, static_cast<quintptr>(n));
    }
    return {};
}

const analyzer::ReportRow* CallTreeModel::rowAt(const QModelIndex& index) const
{
    const int n = nodeOf(index);
    if (n < 0 || !m_report) return nullptr;
    const int row = m_nodes[static_cast<std::size_t>(n)].row;
    return row < 0 ? nullptr : &m_report->rows[static_cast<std::size_t>(row)];
}

QVariant CallTreeModel::data(const QModelIndex& index, int role) const
{
    const int n = nodeOf(index);
    if (n < 0 || !m_report) return {};
    const Node& node = m_nodes[static_cast<std::size_t>(n)];
    const int column = index.column();
    const char* kind = node.kind == Node::Kind::Function ? "function"
        : node.kind == Node::Kind::Kernel                ? "kernel"
                                                         : "region";
    if (role == ItemTableModel::RowRole) return node.row;
    if (column == Column::Name && (role == Qt::DisplayRole || role == ItemTableModel::SortRole)) return q(node.label);
    if (column == Column::Kind && (role == Qt::DisplayRole || role == ItemTableModel::SortRole)) return q(kind);
    if (node.row >= 0) {
        if (role == Qt::ToolTipRole && column == Column::Name && node.label != node.entry)
            return q(node.entry + "\n\n") + m_items->data(m_items->index(node.row, column), role).toString();
        if (column == Column::Lost && node.lostBelow) {
            if (role == ItemTableModel::SortRole) return *node.lost;
            if (role == Qt::DisplayRole) return q(fmt::format("({})", analyzer::humanSeconds(*node.lost)));
            if (role == Qt::ToolTipRole)
                return q(fmt::format("{} lost in the items below; this {} has no known work of its own",
                    analyzer::humanSeconds(*node.lost), kind));
        }
        return m_items->data(m_items->index(node.row, column), role);
    }
    // A function with no row of its own: what is below it, added.
    if (role == Qt::TextAlignmentRole)
        return column == Column::Name || column == Column::Kind ? QVariant(int(Qt::AlignLeft | Qt::AlignVCenter))
                                                                : QVariant(int(Qt::AlignRight | Qt::AlignVCenter));
    if (role == Qt::ToolTipRole)
        return q(fmt::format("{}\n{} in the items called from it (regions' time and kernels' GPU time, added){}",
            node.entry, analyzer::humanSeconds(node.seconds),
            node.lost ? fmt::format(", {} lost", analyzer::humanSeconds(*node.lost)) : std::string()));
    const bool sort = role == ItemTableModel::SortRole;
    if (role != Qt::DisplayRole && !sort) return {};
    switch (column) {
    case Column::Number:
        return sort ? QVariant(1e300) : QVariant(QString()); // not drawn: last, as the table's undrawn rows
    case Column::Time:
        return sort ? QVariant(node.seconds) : QVariant(q(analyzer::humanSeconds(node.seconds)));
    case Column::Lost:
        if (sort) return node.lost ? *node.lost : -1.0;
        return node.lost ? q(analyzer::humanSeconds(*node.lost)) : QString();
    default:
        return sort ? QVariant(-1.0) : QVariant(QString());
    }
}

} // namespace rooftime::gui
