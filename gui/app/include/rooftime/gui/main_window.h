// SPDX-License-Identifier: MIT
/**
 * @file main_window.h
 * @brief rooftime-gui's window: the roofline plot above the item table of the same report, one selection for
 * both, view/grouping/level choices, and export of the plot (SVG, PNG) and the table (CSV). Profiles are read
 * through the analyzer library only.
 */
#pragma once

#include "rooftime/analyzer/compare.h"
#include "rooftime/analyzer/machine.h"
#include "rooftime/analyzer/profile.h"
#include "rooftime/analyzer/report.h"

#include <QMainWindow>

#include <memory>
#include <optional>
#include <string>
#include <vector>

class QAction;
class QComboBox;
class QLabel;
class QSortFilterProxyModel;
class QTableView;
class QTableWidget;
class QTabWidget;
class QTreeView;

namespace rooftime::gui {

class CallTreeModel;
class ItemTableModel;
class RooflineView;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    /// Opens profiles (files or folders) with an optional machine file. Throws analyzer::ProfileError or
    /// analyzer::MachineError; the window is unchanged then.
    void openProfiles(const std::vector<std::string>& inputs, const std::string& machineFile = {});
    /// Compare view: @p inputs are the baseline runs of the open ones (the current runs): the plot draws both
    /// with an arrow per item, a "Compare" tab holds `rooftime compare`'s verdicts. Throws like openProfiles.
    void openBaseline(const std::vector<std::string>& inputs);
    void closeBaseline();
    const analyzer::Comparison* comparison() const { return m_comparison ? &*m_comparison : nullptr; }
    QTableWidget* compareTable() const { return m_compareTable; }
    /// "auto", "range", "kernel", "callpath", "window" (as `rooftime plot --by`); by call path, a "Call tree" tab
    /// holds the rows as a tree; by window, a "Window" choice names the range whose instances are the windows, or
    /// a fixed length.
    /// When the profiles cannot be grouped so, a message box says why and the grouping stays.
    void setGrouping(const QString& by);
    /// By window: one window per instance of this region or NVTX range (empty: analyzer::chooseWindows: the
    /// suggested range, else fixed windows).
    void setWindowRange(const QString& name);
    QString windowRange() const { return m_windowRange; }
    /// By window: fixed windows of this length from each process's start instead of a range's instances.
    void setWindowLength(double seconds);
    /// The fixed windows' length shown, 0 when the windows are a range's instances.
    double windowLength() const { return m_windowSeconds; }
    QComboBox* windowChoice() const { return m_windowBox; }
    /// "combined", "time", "complexity", "classic".
    void setView(const QString& view);
    /// A memory level with a roof ("HBM", "DRAM", …); empty: the view's default.
    void setLevel(const QString& level);
    /// The levels with a bandwidth roof for the device drawn (the Level choice without "default").
    QStringList levelChoices() const;
    /// Selects the item in the plot and the table (empty: none).
    void selectItem(const std::string& name);
    /// Writes the plot as drawn now (size of the view) to an .svg or .png file; the error message, empty on success.
    QString exportPlot(const QString& path) const;
    /// Writes the table as `rooftime report --format csv` would; the error message, empty on success.
    QString exportTable(const QString& path) const;
    /// Writes the open profiles' timeline as `rooftime export` does; the error message, empty on success.
    QString exportTimeline(const QString& path) const;

    const analyzer::Report* report() const { return m_report.get(); }
    RooflineView* view() const { return m_view; }
    QTableView* table() const { return m_table; }
    ItemTableModel* model() const { return m_model; }
    QTreeView* tree() const { return m_tree; }
    CallTreeModel* treeModel() const { return m_treeModel; }
    QTabWidget* tabs() const { return m_tabs; }

private:
    /// Reads and shows @p inputs with @p machine (or the embedded models). Throws like openProfiles.
    /// @p strictWindow: a window range the profiles do not have is an error (else: the suggested one is taken).
    void load(const std::vector<std::string>& inputs, std::optional<analyzer::MachineModel> machine, bool strictWindow);
    /// The "Window" choice: @p ranges, then fixed lengths for a run of @p runSeconds.
    void showWindowChoice(const std::vector<analyzer::RegionNameUse>& ranges, double runSeconds);
    /// Reloads with another window range or length; back to the ones before, with a message, when that fails.
    void reloadWindows(const QString& range, double seconds);
    /// The Window choice's entry of this fixed length (-1: none); lengths parsed or computed apart may differ in
    /// their last bits.
    int windowChoiceIndex(double seconds) const;
    void refreshLevels();
    void updateStatus();
    void onTableSelection();
    void onTreeSelection();
    /// Selects the report's row @p row in plot, table and call tree.
    void selectRow(int row);
    void selectInTree(int row);
    /// The "Call tree" tab, there by call path only.
    void showCallTree();
    void onPlotClicked(const QString& name);
    void openDialog();
    void baselineDialog();
    /// Reads the baseline again for the current grouping and compares. Throws like openProfiles.
    void refreshComparison();
    void fillCompareTable();
    void exportPlotDialog();
    void exportTableDialog();
    void exportTimelineDialog();

    std::vector<analyzer::Profile> m_profiles;
    std::vector<std::string> m_inputs;
    std::optional<analyzer::MachineModel> m_machine;
    std::unique_ptr<analyzer::Report> m_report;
    std::vector<std::string> m_baselineInputs;
    std::unique_ptr<analyzer::Report> m_baselineReport;
    std::optional<analyzer::Comparison> m_comparison;
    QTabWidget* m_tabs = nullptr;
    QTableWidget* m_compareTable = nullptr;
    QString m_by = QStringLiteral("auto");
    RooflineView* m_view = nullptr;
    QTableView* m_table = nullptr;
    ItemTableModel* m_model = nullptr;
    QSortFilterProxyModel* m_proxy = nullptr;
    QTreeView* m_tree = nullptr;
    CallTreeModel* m_treeModel = nullptr;
    QSortFilterProxyModel* m_treeProxy = nullptr;
    QComboBox* m_viewBox = nullptr;
    QComboBox* m_byBox = nullptr;
    QComboBox* m_levelBox = nullptr;
    QComboBox* m_windowBox = nullptr;
    QAction* m_windowLabel = nullptr;
    QAction* m_windowAction = nullptr;
    QString m_windowRange;
    double m_windowSeconds = 0;
    /// The range or length was chosen (tool bar, --window, --window-range), not taken by analyzer::chooseWindows:
    /// only a chosen one is kept for other profiles or another grouping.
    bool m_windowChosen = false;
    QLabel* m_status = nullptr;
    bool m_syncing = false;
};

} // namespace rooftime::gui
