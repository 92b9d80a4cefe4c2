// SPDX-License-Identifier: MIT
#include "rooftime/gui/item_table_model.h"

#include "rooftime/analyzer/format.h"

#include <fmt/format.h>

#include <algorithm>

namespace rooftime::gui {

namespace {

QString q(const std::string& s)
{
    return QString::fromStdString(s);
}

double totalFlops(const analyzer::ReportRow& r)
{
    if (r.flops) return *r.flops;
    double f = 0;
    for (const auto& [cls, v] : r.flopsByClass)
        f += v;
    return f;
}

/// The bytes a row is judged by: its binding level's, else the largest level's.
/// The bytes a row shows: at @p level (the plot's) where it has them, else at the report's level for the row (HBM
/// on a GPU, DRAM for declared work), else at its binding level, else its largest.
std::optional<std::pair<std::string, double>> mainBytes(const analyzer::ReportRow& r, const std::string& level)
{
    if (r.bytesByLevel.empty()) return std::nullopt;
    if (auto at = r.bytesByLevel.find(level); !level.empty() && at != r.bytesByLevel.end()) return *at;
    if (r.bytes)
        for (const auto& [l, v] : r.bytesByLevel)
            if (v == *r.bytes) return std::pair { l, v };
    if (r.roof && r.bytesByLevel.count(r.roof->bindingTerm))
        return std::pair { r.roof->bindingTerm, r.bytesByLevel.at(r.roof->bindingTerm) };
    auto best = r.bytesByLevel.begin();
    for (auto it = r.bytesByLevel.begin(); it != r.bytesByLevel.end(); ++it)
        if (it->second > best->second) best = it;
    return *best;
}

std::string percent(double f)
{
    return fmt::format("{:.1f} %", 100 * f);
}

/// Efficiency as the report, the legend and the compare view print it: whole per cent, rounded down.
std::string efficiencyText(double f)
{
    return fmt::format("{:.0f} %", analyzer::efficiencyPercent(f));
}

} // namespace

ItemTableModel::ItemTableModel(QObject* parent)
    : QAbstractTableModel(parent)
{ }

void ItemTableModel::setReport(const analyzer::Report* report)
{
    beginResetModel();
    m_report = report;
    m_numbers.clear();
    m_shortNames.clear();
    if (report) {
        // Once per report, not per paint; together, so that two kernels never read alike.
        std::vector<std::string> names;
        for (const analyzer::ReportRow& r : report->rows)
            if (r.kind == "kernel" || r.kind == "path-kernel")
                names.push_back(r.kind == "kernel" ? r.name : r.path.back());
        m_shortNames = analyzer::compactKernelNameMap(std::move(names));
        // Call paths: functions and kernels by their short names, the innermost end kept (the call tree has them
        // whole).
        constexpr std::size_t kPathChars = 100;
        std::map<std::string, std::string> paths;
        for (const analyzer::ReportRow& r : report->rows)
            if (!r.path.empty()) paths[r.name] = analyzer::shortCallPath(r, kPathChars, &m_shortNames);
        m_shortNames.merge(paths);
    }
    endResetModel();
}

void ItemTableModel::setLevel(const std::string& level)
{
    if (level == m_level) return;
    m_level = level;
    if (rowCount() > 0) emit dataChanged(index(0, Bytes), index(rowCount() - 1, Bytes));
}

void ItemTableModel::setNumbers(std::map<std::string, std::size_t> numbers)
{
    m_numbers = std::move(numbers);
    if (rowCount() > 0) emit dataChanged(index(0, Number), index(rowCount() - 1, Number));
}

const analyzer::ReportRow* ItemTableModel::rowAt(int row) const
{
    if (!m_report || row < 0 || row >= static_cast<int>(m_report->rows.size())) return nullptr;
    return &m_report->rows[static_cast<std::size_t>(row)];
}

int ItemTableModel::rowOf(const std::string& name) const
{
    if (!m_report) return -1;
    for (std::size_t i = 0; i < m_report->rows.size(); ++i)
        if (m_report->rows[i].name == name) return static_cast<int>(i);
    return -1;
}

int ItemTableModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() || !m_report ? 0 : static_cast<int>(m_report->rows.size());
}

int ItemTableModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ItemTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    static const char* names[ColumnCount] = { "#", "name", "kind", "device", "count", "time", "share", "FLOPs", "bytes",
        "FLOP/s", "roof time", "efficiency", "lost", "limiter" };
    return section >= 0 && section < ColumnCount ? QVariant(QString::fromUtf8(names[section])) : QVariant();
}

QVariant ItemTableModel::data(const QModelIndex& index, int role) const
{
    const analyzer::ReportRow* r = rowAt(index.row());
    if (!r) return {};
    if (role == RowRole) return index.row();
    if (role == Qt::ToolTipRole) return q(itemDetails(*r));
    if (role == Qt::TextAlignmentRole)
        return index.column() == Name || index.column() == Kind || index.column() == Device || index.column() == Limiter
            ? QVariant(int(Qt::AlignLeft | Qt::AlignVCenter))
            : QVariant(int(Qt::AlignRight | Qt::AlignVCenter));
    if (role != Qt::DisplayRole && role != SortRole) return {};
    const bool sort = role == SortRole;
    const auto number = [&](std::optional<double> v, const std::function<std::string(double)>& text) -> QVariant {
        if (sort) return v ? *v : -1.0;
        return v ? q(text(*v)) : QStringLiteral("-");
    };
    // As `rooftime report`: an analysis without a bound (no work, no ceiling) shows no roof numbers.
    const std::optional<analyzer::Analysis> roof = r->roof && r->roof->efficiency ? r->roof : std::nullopt;
    switch (index.column()) {
    case Number: {
        auto it = m_numbers.find(r->name);
        if (sort) return it == m_numbers.end() ? 1e300 : static_cast<double>(it->second);
        return it == m_numbers.end() ? QString() : QString::number(static_cast<qulonglong>(it->second));
    }
    case Name:
        // PyTorch's kernel names run to thousands of characters; the tooltip and the sort keep the whole name.
        if (auto s = m_shortNames.find(r->name); !sort && s != m_shortNames.end()) return q(s->second);
        return q(r->name);
    case Kind:
        // Call paths' rows are regions and kernels, as the call tree names them.
        return q(r->kind == "path" ? "region" : r->kind == "path-kernel" ? "kernel" : r->kind);
    case Device:
        return q(r->device);
    case Count:
        return number(static_cast<double>(r->count), [](double v) { return fmt::format("{:.0f}", v); });
    case Time:
        return number(r->timeSeconds, analyzer::humanSeconds);
    case Share:
        return number(r->share, percent);
    case Flops: {
        const double f = totalFlops(*r);
        return number(f > 0 ? std::optional<double>(f) : std::nullopt, analyzer::siValue);
    }
    case Bytes: {
        const auto b = mainBytes(*r, m_level);
        if (sort) return b ? b->second : -1.0;
        return b ? q(fmt::format("{} ({})", analyzer::siValue(b->second), b->first)) : QStringLiteral("-");
    }
    case FlopRate:
        return number(roof ? roof->flopsPerSecond : r->flopsPerSecond, analyzer::siValue);
    case RoofTime:
        return number(roof ? std::optional<double>(roof->boundSeconds) : std::nullopt, analyzer::humanSeconds);
    case Efficiency:
        return number(roof ? roof->efficiency : std::nullopt, efficiencyText);
    case Lost:
        return number(roof ? std::optional<double>(roof->lostSeconds) : std::nullopt, analyzer::humanSeconds);
    case Limiter:
        return q(roof ? analyzer::limiterLabel(*roof) : std::string("-"));
    default:
        return {};
    }
}

std::string itemDetails(const analyzer::ReportRow& r)
{
    std::string s = r.name + (r.device.empty() ? "" : " [" + r.device + "]") + "\n";
    s += fmt::format("time {} over {} instance{} ({:.1f} % of the run)\n", analyzer::humanSeconds(r.timeSeconds),
        r.count, r.count == 1 ? "" : "s", 100 * r.share);
    if (r.exclusiveSeconds && *r.exclusiveSeconds < r.timeSeconds)
        s += fmt::format(
            "self {} (less the regions nested directly inside)\n", analyzer::humanSeconds(*r.exclusiveSeconds));
    for (const auto& [cls, v] : r.flopsByClass)
        s += fmt::format("FLOPs {}: {}\n", cls.label(), analyzer::siValue(v));
    for (const auto& [level, v] : r.bytesByLevel)
        s += fmt::format("bytes {}: {}B\n", level, analyzer::siValue(v));
    if (r.roof && r.roof->efficiency) {
        const analyzer::Analysis& a = *r.roof;
        for (const auto& [level, ai] : a.intensity)
            s += fmt::format("intensity at {}: {:.3g} FLOP/byte\n", level, ai);
        s += fmt::format("roof time {} (compute {}, memory {})\n", analyzer::humanSeconds(a.boundSeconds),
            analyzer::humanSeconds(a.computeTime), analyzer::humanSeconds(a.memoryTime));
        s += fmt::format(
            "efficiency {}, lost {}\n", efficiencyText(*a.efficiency), analyzer::humanSeconds(a.lostSeconds));
        s += "limiter: " + analyzer::limiterLabel(a) + "\n";
    } else if (r.flopsByClass.empty() && r.bytesByLevel.empty()) {
        s += "no work known (time only)\n";
    } else {
        s += "no roof for its work in the machine model\n";
    }
    if (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
}

} // namespace rooftime::gui
