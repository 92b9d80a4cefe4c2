// SPDX-License-Identifier: MIT
#include "rooftime/gui/main_window.h"

#include "rooftime/analyzer/format.h"
#include "rooftime/analyzer/trace.h"
#include "rooftime/gui/call_tree_model.h"
#include "rooftime/gui/item_table_model.h"
#include "rooftime/gui/plot_painter.h"
#include "rooftime/gui/roofline_view.h"

#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QFile>
#include <QFileDialog>
#include <QHeaderView>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QSaveFile>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QToolBar>
#include <QTreeView>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace rooftime::gui {

namespace {

QString q(const std::string& s)
{
    return QString::fromStdString(s);
}

bool sameLength(double a, double b)
{
    return std::abs(a - b) <= 1e-9 * std::max(std::abs(a), std::abs(b));
}

/// A long name must not push the numbers out of sight: its column is capped (and elided in the middle), in the
/// item table and the call tree alike (QTableView and QTreeView share no setColumnWidth).
template <typename View> void capNameColumn(View* view)
{
    constexpr int kNameColumnMax = 480;
    if (view->columnWidth(ItemTableModel::Name) > kNameColumnMax)
        view->setColumnWidth(ItemTableModel::Name, kNameColumnMax);
}

/// Profiles chosen in a file dialog; empty when cancelled.
std::vector<std::string> pickProfiles(QWidget* parent, const QString& title)
{
    std::vector<std::string> inputs;
    for (const QString& f :
        QFileDialog::getOpenFileNames(parent, title, QString(), QStringLiteral("rooftime profiles (*.rtdb)")))
        inputs.push_back(f.toStdString());
    return inputs;
}

} // namespace

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent)
{
    setWindowTitle(QStringLiteral("rooftime"));
    resize(1200, 900);

    m_view = new RooflineView;
    m_model = new ItemTableModel(this);
    m_proxy = new QSortFilterProxyModel(this);
    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(ItemTableModel::SortRole);
    m_table = new QTableView;
    m_table->setModel(m_proxy);
    m_table->setSortingEnabled(true);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setTextElideMode(Qt::ElideMiddle);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->sortByColumn(ItemTableModel::Lost, Qt::DescendingOrder);

    // By call path: the same rows as a tree, top-down from the outermost function or region.
    m_treeModel = new CallTreeModel(m_model, this);
    m_treeProxy = new QSortFilterProxyModel(this);
    m_treeProxy->setSourceModel(m_treeModel);
    m_treeProxy->setSortRole(ItemTableModel::SortRole);
    m_tree = new QTreeView;
    m_tree->setModel(m_treeProxy);
    m_tree->setSortingEnabled(true);
    m_tree->setUniformRowHeights(true);
    m_tree->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_tree->setSelectionMode(QAbstractItemView::SingleSelection);
    m_tree->setTextElideMode(Qt::ElideMiddle);
    m_tree->setTreePosition(ItemTableModel::Name); // the branches beside the names, not in the legend numbers
    m_tree->sortByColumn(ItemTableModel::Time, Qt::DescendingOrder);

    m_compareTable = new QTableWidget;
    m_compareTable->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_compareTable->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_compareTable->verticalHeader()->hide();
    m_compareTable->horizontalHeader()->setStretchLastSection(true);
    m_tabs = new QTabWidget;
    m_tabs->addTab(m_table, QStringLiteral("Items"));
    auto* split = new QSplitter(Qt::Vertical);
    split->addWidget(m_view);
    split->addWidget(m_tabs);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    setCentralWidget(split);

    auto* bar = addToolBar(QStringLiteral("Plot"));
    bar->setMovable(false);
    bar->addWidget(new QLabel(QStringLiteral(" View ")));
    m_viewBox = new QComboBox;
    for (const char* v : { "combined", "time", "complexity", "classic" })
        m_viewBox->addItem(QString::fromLatin1(v));
    bar->addWidget(m_viewBox);
    bar->addWidget(new QLabel(QStringLiteral("  Items ")));
    m_byBox = new QComboBox;
    for (const char* v : { "auto", "range", "kernel", "callpath", "window" })
        m_byBox->addItem(QString::fromLatin1(v));
    bar->addWidget(m_byBox);
    // By window: which range's instances are the windows (a training step), or a fixed length.
    m_windowLabel = bar->addWidget(new QLabel(QStringLiteral("  Window ")));
    m_windowBox = new QComboBox;
    m_windowAction = bar->addWidget(m_windowBox);
    m_windowLabel->setVisible(false);
    m_windowAction->setVisible(false);
    bar->addWidget(new QLabel(QStringLiteral("  Level ")));
    m_levelBox = new QComboBox;
    m_levelBox->addItem(QStringLiteral("default"));
    bar->addWidget(m_levelBox);
    connect(m_viewBox, &QComboBox::currentTextChanged, this, &MainWindow::setView);
    connect(m_byBox, &QComboBox::currentTextChanged, this, &MainWindow::setGrouping);
    connect(m_windowBox, &QComboBox::currentIndexChanged, this, [this](int at) {
        if (at < 0) return;
        const QVariant choice = m_windowBox->itemData(at);
        if (choice.typeId() == QMetaType::Double)
            setWindowLength(choice.toDouble());
        else
            setWindowRange(choice.toString());
    });
    connect(m_levelBox, &QComboBox::currentTextChanged, this,
        [this](const QString& l) { setLevel(l == QStringLiteral("default") ? QString() : l); });

    auto* file = menuBar()->addMenu(QStringLiteral("&File"));
    file->addAction(QStringLiteral("&Open profiles…"), QKeySequence::Open, this, &MainWindow::openDialog);
    file->addAction(QStringLiteral("&Compare with baseline…"), this, &MainWindow::baselineDialog);
    file->addAction(QStringLiteral("&End comparison"), this, &MainWindow::closeBaseline);
    file->addAction(QStringLiteral("Export &plot (SVG, PNG)…"), QKeySequence(QStringLiteral("Ctrl+E")), this,
        &MainWindow::exportPlotDialog);
    file->addAction(QStringLiteral("Export &table (CSV)…"), this, &MainWindow::exportTableDialog);
    file->addAction(QStringLiteral("Export time&line (Perfetto JSON)…"), this, &MainWindow::exportTimelineDialog);
    file->addSeparator();
    file->addAction(QStringLiteral("&Quit"), QKeySequence::Quit, qApp, &QApplication::quit);

    m_status = new QLabel;
    statusBar()->addWidget(m_status, 1);

    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this, &MainWindow::onTableSelection);
    connect(m_tree->selectionModel(), &QItemSelectionModel::selectionChanged, this, &MainWindow::onTreeSelection);
    connect(m_view, &RooflineView::itemClicked, this, &MainWindow::onPlotClicked);
    connect(m_view, &RooflineView::sceneChanged, this, [this] {
        // Legend numbers and the status follow what is drawn (view, level, baseline, size).
        std::map<std::string, std::size_t> numbers;
        for (const PlotMark& mark : m_view->scene().marks)
            numbers.emplace(mark.name, mark.number);
        m_model->setNumbers(std::move(numbers));
        m_model->setLevel(m_view->scene().level); // the table's bytes at the level drawn
        updateStatus();
    });
}

MainWindow::~MainWindow()
{
    // The model and view point into the reports, which go before the widgets (members before the base class).
    m_view->setBaseline(nullptr);
    m_view->setReport(nullptr);
    m_treeModel->setReport(nullptr);
    m_model->setReport(nullptr);
}

void MainWindow::openProfiles(const std::vector<std::string>& inputs, const std::string& machineFile)
{
    std::optional<analyzer::MachineModel> machine;
    if (!machineFile.empty()) machine = analyzer::readMachineFile(machineFile);
    load(inputs, std::move(machine), true);
}

void MainWindow::load(
    const std::vector<std::string>& inputs, std::optional<analyzer::MachineModel> machine, bool strictWindow)
{
    std::vector<analyzer::Profile> profiles;
    for (const std::string& path : analyzer::expandProfilePaths(inputs))
        profiles.push_back(analyzer::Profile::open(path));
    analyzer::ReportOptions options;
    std::vector<analyzer::RegionNameUse> ranges;
    if (m_by == QStringLiteral("window")) {
        ranges = analyzer::regionNameUses(profiles);
        // What chooseWindows took for other profiles is chosen afresh; a range or length the user chose is kept.
        options.windowRange = m_windowChosen ? m_windowRange.toStdString() : std::string();
        options.windowSeconds = m_windowChosen && m_windowRange.isEmpty() ? m_windowSeconds : 0;
        // Too many windows of a length chosen for a shorter run: chosen afresh too.
        if (!strictWindow && options.windowSeconds > 0
            && analyzer::windowCount(analyzer::longestRunSeconds(profiles), options.windowSeconds)
                > analyzer::kMaxFixedWindows)
            options.windowSeconds = 0;
        // Other profiles opened from the menu may not have the range chosen before: the suggested one then.
        if (!strictWindow && !options.windowRange.empty()
            && std::none_of(ranges.begin(), ranges.end(),
                [&](const analyzer::RegionNameUse& u) { return u.name == options.windowRange; }))
            options.windowRange.clear();
    }
    // Build first: a profile that cannot be analysed leaves the window as it was.
    auto report = std::make_unique<analyzer::Report>(
        buildPlotReport(profiles, machine ? &*machine : nullptr, m_by.toStdString(), options));
    m_view->setReport(nullptr);
    m_treeModel->setReport(nullptr);
    m_model->setReport(nullptr);
    m_view->setBaseline(nullptr);
    m_profiles = std::move(profiles);
    m_machine = std::move(machine);
    m_inputs = inputs;
    m_report = std::move(report);
    m_model->setReport(m_report.get());
    m_treeModel->setReport(m_report.get());
    m_view->setReport(m_report.get());
    showCallTree();
    showWindowChoice(ranges, analyzer::longestRunSeconds(m_profiles));
    // Windows are a timeline: in time order, as numbered in the legend; other items by lost time.
    const int sortedBy = m_table->horizontalHeader()->sortIndicatorSection();
    if (m_report->by == analyzer::ReportBy::Window)
        m_table->sortByColumn(ItemTableModel::Number, Qt::AscendingOrder);
    else if (sortedBy == ItemTableModel::Number)
        m_table->sortByColumn(ItemTableModel::Lost, Qt::DescendingOrder);
    if (!m_baselineInputs.empty()) {
        try {
            refreshComparison();
        } catch (const std::exception&) {
            closeBaseline(); // the baseline was readable when opened; a vanished file ends the comparison
        }
    }
    refreshLevels();
    m_table->resizeColumnsToContents();
    capNameColumn(m_table);
    setWindowTitle(
        q(fmt::format("rooftime — {}", inputs.size() == 1 ? inputs.front() : fmt::format("{} inputs", inputs.size()))));
    updateStatus();
}

void MainWindow::updateStatus()
{
    if (!m_report) return;
    const analyzer::Report& r = *m_report;
    std::string status = fmt::format("{} profile{} · by {} · {} item{} · run time {}", r.profiles.size(),
        r.profiles.size() == 1 ? "" : "s", analyzer::reportByName(r.by), r.rows.size(), r.rows.size() == 1 ? "" : "s",
        analyzer::humanSeconds(r.runSeconds));
    if (r.summary.items > 0)
        status += fmt::format(" · lost {} of {} analysed", analyzer::humanSeconds(r.summary.lostSeconds),
            analyzer::humanSeconds(r.summary.seconds));
    if (r.profilesWithoutWindows > 0)
        status += fmt::format(" · {} of the profiles {} no '{}': no windows from {}", r.profilesWithoutWindows,
            r.profilesWithoutWindows == 1 ? "has" : "have", r.windowRange,
            r.profilesWithoutWindows == 1 ? "it" : "them");
    status += " · machine: " + (r.machine ? r.machineSource : std::string("none (open with --machine FILE)"));
    // A machine file from other hardware than the profiles': said where the machine is named, in full on hover.
    if (!r.machineWarnings.empty())
        status += fmt::format(" · warning: {}{}", r.machineWarnings.front(),
            r.machineWarnings.size() > 1 ? fmt::format(" (+{} more)", r.machineWarnings.size() - 1) : "");
    m_status->setToolTip(q(fmt::format("{}", fmt::join(r.machineWarnings, "\n"))));
    if (!m_view->problem().isEmpty()) status += " · " + m_view->problem().toStdString();
    if (m_comparison)
        status += fmt::format(" · against {} baseline run{}: {}", m_comparison->basePaths.size(),
            m_comparison->basePaths.size() == 1 ? "" : "s", m_comparison->headline());
    m_status->setText(q(status));
}

void MainWindow::openBaseline(const std::vector<std::string>& inputs)
{
    if (!m_report)
        throw analyzer::ProfileError(inputs.empty() ? std::string("baseline") : inputs.front(),
            "is a baseline, but no current profiles are open: open them first (rooftime-gui CURRENT... --baseline "
            "BASELINE...)");
    if (m_report->by == analyzer::ReportBy::Window)
        throw analyzer::ReportError("the compare view compares kernels, ranges or call paths, not windows: choose "
                                    "one of those under Items first");
    const auto keep = m_baselineInputs;
    m_baselineInputs = inputs;
    try {
        refreshComparison();
    } catch (...) {
        m_baselineInputs = keep;
        throw;
    }
}

void MainWindow::closeBaseline()
{
    m_baselineInputs.clear();
    m_view->setBaseline(nullptr);
    m_comparison.reset();
    m_baselineReport.reset();
    if (const int at = m_tabs->indexOf(m_compareTable); at >= 0) m_tabs->removeTab(at);
    updateStatus();
}

void MainWindow::refreshComparison()
{
    if (!m_report || m_baselineInputs.empty()) return;
    std::vector<analyzer::Profile> base;
    for (const std::string& path : analyzer::expandProfilePaths(m_baselineInputs))
        base.push_back(analyzer::Profile::open(path));
    // The baseline is grouped as the current runs ended up (auto resolved), against the same machine option.
    const analyzer::ReportBy by = m_report->by;
    // Both sides against the roofs on screen: --machine, else the current runs' model (one plot, one set of roofs).
    const analyzer::MachineModel* machine
        = m_machine ? &*m_machine : (m_report->machine ? &*m_report->machine : nullptr);
    auto report = std::make_unique<analyzer::Report>(buildPlotReport(base, machine, analyzer::reportByName(by)));
    analyzer::CompareOptions options;
    options.by = by;
    analyzer::Comparison c = analyzer::compareRuns(base, m_profiles, options, nullptr, machine);
    m_view->setBaseline(nullptr);
    m_baselineReport = std::move(report);
    m_comparison = std::move(c);
    m_view->setBaseline(m_baselineReport.get());
    fillCompareTable();
    if (m_tabs->indexOf(m_compareTable) < 0) m_tabs->addTab(m_compareTable, QStringLiteral("Compare"));
    updateStatus();
}

void MainWindow::fillCompareTable()
{
    const analyzer::Comparison& c = *m_comparison;
    const QStringList headers { QStringLiteral("verdict"), QStringLiteral("item"), QStringLiteral("baseline / run"),
        QStringLiteral("current / run"), QStringLiteral("time saved / run"), QStringLiteral("change [interval]"),
        QStringLiteral("efficiency"), QStringLiteral("work"), QStringLiteral("why") };
    m_compareTable->clear();
    m_compareTable->setColumnCount(static_cast<int>(headers.size()));
    m_compareTable->setHorizontalHeaderLabels(headers);
    m_compareTable->setRowCount(static_cast<int>(c.rows.size()) + 1);
    auto put = [&](int row, const analyzer::CompareRow& r) {
        const std::string cells[] = { analyzer::verdictName(r.verdict), r.name,
            r.base.present ? analyzer::humanSeconds(r.base.meanSeconds) : "-",
            r.current.present ? analyzer::humanSeconds(r.current.meanSeconds) : "-",
            (r.deltaSeconds <= 0 ? "" : "−") + analyzer::humanSeconds(std::fabs(r.deltaSeconds)),
            analyzer::changeText(r), analyzer::efficiencyText(r), r.work.empty() ? "-" : r.work, r.why };
        for (int col = 0; col < static_cast<int>(std::size(cells)); ++col)
            m_compareTable->setItem(row, col, new QTableWidgetItem(q(cells[col])));
    };
    put(0, c.run);
    for (std::size_t i = 0; i < c.rows.size(); ++i)
        put(static_cast<int>(i) + 1, c.rows[i]);
    m_compareTable->resizeColumnsToContents();
    m_tabs->setTabToolTip(m_tabs->indexOf(m_compareTable), q(c.headline()));
}

void MainWindow::baselineDialog()
{
    const std::vector<std::string> inputs = pickProfiles(this, QStringLiteral("Baseline profiles"));
    if (inputs.empty()) return;
    try {
        openBaseline(inputs);
        m_tabs->setCurrentWidget(m_compareTable);
    } catch (const std::exception& e) {
        QMessageBox::warning(this, QStringLiteral("rooftime"), q(e.what()));
    }
}

void MainWindow::setGrouping(const QString& by)
{
    if (by == m_by) return;
    const QString before = m_by;
    if (by == QStringLiteral("window") && m_comparison) {
        const QSignalBlocker block(m_byBox);
        m_byBox->setCurrentText(before);
        QMessageBox::warning(this, QStringLiteral("rooftime"),
            QStringLiteral("Windows are not compared item by item: end the comparison first (File → End comparison)."));
        return;
    }
    m_by = by;
    {
        const QSignalBlocker block(m_byBox);
        m_byBox->setCurrentText(by);
    }
    if (m_inputs.empty()) return;
    try {
        load(m_inputs, m_machine, true);
    } catch (const std::exception& e) {
        m_by = before; // the window still shows the old grouping
        const QSignalBlocker block(m_byBox);
        m_byBox->setCurrentText(before);
        QMessageBox::warning(this, QStringLiteral("rooftime"), q(e.what()));
    }
}

void MainWindow::setView(const QString& view)
{
    const auto v = parsePlotView(view.toStdString());
    if (!v) return;
    if (m_viewBox->currentText() != view) m_viewBox->setCurrentText(view);
    PlotOptions o = m_view->options();
    o.view = *v;
    m_view->setOptions(o);
}

void MainWindow::setLevel(const QString& level)
{
    {
        const QSignalBlocker block(m_levelBox);
        const int at = level.isEmpty() ? 0 : m_levelBox->findText(level, Qt::MatchFixedString);
        m_levelBox->setCurrentIndex(at >= 0 ? at : 0);
    }
    PlotOptions o = m_view->options();
    o.level = level.toStdString();
    m_view->setOptions(o); // its sceneChanged updates the numbers and the status (a level without roof: why)
}

QStringList MainWindow::levelChoices() const
{
    QStringList levels;
    for (int i = 1; i < m_levelBox->count(); ++i) // 0 is "default"
        levels << m_levelBox->itemText(i);
    return levels;
}

void MainWindow::refreshLevels()
{
    const QSignalBlocker block(m_levelBox);
    const QString current = m_levelBox->currentText();
    m_levelBox->clear();
    m_levelBox->addItem(QStringLiteral("default"));
    if (m_report && m_report->machine) {
        std::set<std::string> levels;
        for (const analyzer::Ceiling& c : m_report->machine->ceilings)
            if (c.kind == analyzer::CeilingKind::Bandwidth && c.roof
                && (m_view->scene().device.empty() || c.device == m_view->scene().device))
                levels.insert(c.level);
        for (const std::string& l : levels)
            m_levelBox->addItem(q(l));
    }
    const int keep = m_levelBox->findText(current);
    m_levelBox->setCurrentIndex(keep >= 0 ? keep : 0);
    if (keep < 0 && !m_view->options().level.empty()) {
        // The level chosen has no roof in these profiles: back to the default rather than an error.
        PlotOptions o = m_view->options();
        o.level.clear();
        m_view->setOptions(o);
    }
}

void MainWindow::selectItem(const std::string& name)
{
    if (m_syncing) return;
    const int row = m_model->rowOf(name);
    if (row >= 0) {
        selectRow(row);
        return;
    }
    m_syncing = true;
    m_view->setSelected(name);
    m_table->clearSelection();
    m_tree->clearSelection();
    m_syncing = false;
}

void MainWindow::selectRow(int row)
{
    // By the report's row, not its name: the same kernel on two GPUs is two rows of one name.
    const analyzer::ReportRow* r = m_model->rowAt(row);
    if (!r) return;
    m_syncing = true;
    m_view->setSelected(r->name);
    const QModelIndex at = m_proxy->mapFromSource(m_model->index(row, 0));
    m_table->selectRow(at.row());
    m_table->scrollTo(at);
    selectInTree(row);
    m_syncing = false;
}

void MainWindow::selectInTree(int row)
{
    const QModelIndex node = m_treeProxy->mapFromSource(m_treeModel->indexOfRow(row));
    if (!node.isValid()) {
        m_tree->clearSelection();
        return;
    }
    for (QModelIndex up = node.parent(); up.isValid(); up = up.parent())
        m_tree->expand(up);
    m_tree->selectionModel()->select(
        node, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows | QItemSelectionModel::Current);
    m_tree->scrollTo(node);
}

void MainWindow::showWindowChoice(const std::vector<analyzer::RegionNameUse>& ranges, double runSeconds)
{
    const bool windows = m_report && m_report->by == analyzer::ReportBy::Window;
    m_windowLabel->setVisible(windows);
    m_windowAction->setVisible(windows);
    if (!windows) return;
    m_windowRange = q(m_report->windowRange);
    m_windowSeconds = m_report->windowSeconds;
    const QSignalBlocker block(m_windowBox);
    m_windowBox->clear();
    for (const analyzer::RegionNameUse& u : ranges)
        m_windowBox->addItem(
            q(fmt::format("{} ({}×, {})", u.name, u.count, analyzer::humanSeconds(u.seconds))), q(u.name));
    // Fixed lengths after the ranges (a length given on the command line among them), as double data.
    std::vector<double> lengths = analyzer::windowLengths(runSeconds);
    if (m_windowSeconds > 0
        && std::none_of(lengths.begin(), lengths.end(), [&](double l) { return sameLength(l, m_windowSeconds); }))
        lengths.insert(std::upper_bound(lengths.begin(), lengths.end(), m_windowSeconds), m_windowSeconds);
    if (!ranges.empty()) m_windowBox->insertSeparator(m_windowBox->count());
    for (double length : lengths) {
        const std::size_t n = std::max<std::size_t>(1, analyzer::windowCount(runSeconds, length));
        m_windowBox->addItem(
            q(fmt::format("every {} ({} window{})", analyzer::humanSeconds(length), n, n == 1 ? "" : "s")),
            QVariant(length));
    }
    m_windowBox->setCurrentIndex(
        m_windowSeconds > 0 ? windowChoiceIndex(m_windowSeconds) : m_windowBox->findData(m_windowRange));
}

int MainWindow::windowChoiceIndex(double seconds) const
{
    for (int i = 0; i < m_windowBox->count(); ++i) {
        const QVariant item = m_windowBox->itemData(i);
        if (item.typeId() == QMetaType::Double && sameLength(item.toDouble(), seconds)) return i;
    }
    return -1;
}

void MainWindow::setWindowRange(const QString& name)
{
    if (name == m_windowRange && m_windowSeconds == 0) return;
    reloadWindows(name, 0);
}

void MainWindow::setWindowLength(double seconds)
{
    if (seconds == m_windowSeconds && m_windowRange.isEmpty()) return;
    reloadWindows(QString(), seconds);
}

void MainWindow::reloadWindows(const QString& range, double seconds)
{
    const QString rangeBefore = m_windowRange;
    const double secondsBefore = m_windowSeconds;
    const bool chosenBefore = m_windowChosen;
    m_windowRange = range;
    m_windowSeconds = seconds;
    m_windowChosen = !range.isEmpty() || seconds > 0; // neither: chooseWindows decides
    if (m_inputs.empty() || m_by != QStringLiteral("window")) return;
    try {
        load(m_inputs, m_machine, true);
    } catch (const std::exception& e) {
        m_windowRange = rangeBefore;
        m_windowSeconds = secondsBefore;
        m_windowChosen = chosenBefore;
        const QSignalBlocker block(m_windowBox);
        m_windowBox->setCurrentIndex(
            secondsBefore > 0 ? windowChoiceIndex(secondsBefore) : m_windowBox->findData(rangeBefore));
        QMessageBox::warning(this, QStringLiteral("rooftime"), q(e.what()));
    }
}

void MainWindow::showCallTree()
{
    const bool paths = m_report && m_report->by == analyzer::ReportBy::Callpath;
    const int at = m_tabs->indexOf(m_tree);
    if (!paths) {
        if (at >= 0) m_tabs->removeTab(at);
        return;
    }
    if (at < 0) {
        m_tabs->insertTab(1, m_tree, QStringLiteral("Call tree"));
        m_tabs->setCurrentWidget(m_tree); // when it appears; a reload keeps the tab that was open
    }
    // Small trees open whole; a large one along its most expensive branch from each root.
    constexpr std::size_t kOpenWhole = 400;
    if (m_treeModel->nodeCount() <= kOpenWhole) {
        m_tree->expandAll();
    } else {
        for (int r = 0; r < m_treeProxy->rowCount(); ++r)
            for (QModelIndex n = m_treeProxy->index(r, 0); n.isValid(); n = m_treeProxy->index(0, 0, n))
                m_tree->expand(n); // sorted by time: the first child is the most expensive
    }
    for (int c = 0; c < ItemTableModel::ColumnCount; ++c)
        m_tree->resizeColumnToContents(c);
    capNameColumn(m_tree);
}

void MainWindow::onTreeSelection()
{
    if (m_syncing) return;
    const QModelIndexList rows = m_tree->selectionModel()->selectedRows();
    const int row = rows.isEmpty() ? -1 : rows.front().data(ItemTableModel::RowRole).toInt();
    if (row >= 0) {
        selectRow(row);
        return;
    }
    // A function without a row of its own is no item of the plot.
    m_syncing = true;
    m_view->setSelected({});
    m_table->clearSelection();
    m_syncing = false;
}

void MainWindow::onTableSelection()
{
    if (m_syncing) return;
    const QModelIndexList rows = m_table->selectionModel()->selectedRows();
    if (rows.isEmpty()) {
        m_view->setSelected({});
        return;
    }
    const int row = m_proxy->mapToSource(rows.front()).row();
    const analyzer::ReportRow* r = m_model->rowAt(row);
    if (!r) return;
    m_syncing = true;
    m_view->setSelected(r->name);
    selectInTree(row);
    m_syncing = false;
}

void MainWindow::onPlotClicked(const QString& name)
{
    // A baseline disc selects its item.
    const std::string item = name.toStdString();
    selectItem(RooflineView::baselineOf(item).value_or(item));
}

QString MainWindow::exportPlot(const QString& path) const
{
    if (!m_report) return QStringLiteral("no profile is open");
    if (!m_view->problem().isEmpty()) return m_view->problem();
    return writePlot(m_view->scene(), path);
}

QString MainWindow::exportTimeline(const QString& path) const
{
    if (!m_report) return QStringLiteral("no profile is open");
    // As `rooftime export` writes it, streamed to the file (a whole run's timeline is hundreds of MB).
    try {
        analyzer::writeChromeTraceFile(m_profiles, m_machine ? &*m_machine : nullptr, {}, path.toStdString());
    } catch (const std::exception& e) {
        return q(e.what());
    }
    return {};
}

QString MainWindow::exportTable(const QString& path) const
{
    if (!m_report) return QStringLiteral("no profile is open");
    const std::string csv = analyzer::formatReport(*m_report, analyzer::OutputFormat::Csv, {});
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly) || f.write(csv.data(), static_cast<qint64>(csv.size())) < 0 || !f.commit())
        return QStringLiteral("cannot write '%1': %2").arg(path, f.errorString());
    return {};
}

void MainWindow::openDialog()
{
    const std::vector<std::string> inputs = pickProfiles(this, QStringLiteral("Open profiles"));
    if (inputs.empty()) return;
    try {
        load(inputs, m_machine, false); // a --machine given at start stays
    } catch (const std::exception& e) {
        QMessageBox::warning(this, QStringLiteral("rooftime"), q(e.what()));
    }
}

void MainWindow::exportPlotDialog()
{
    const QString path = QFileDialog::getSaveFileName(this, QStringLiteral("Export plot"),
        QStringLiteral("roofline.svg"), QStringLiteral("SVG or PNG (*.svg *.png)"));
    if (path.isEmpty()) return;
    if (const QString error = exportPlot(path); !error.isEmpty())
        QMessageBox::warning(this, QStringLiteral("rooftime"), error);
}

void MainWindow::exportTimelineDialog()
{
    const QString path = QFileDialog::getSaveFileName(this, QStringLiteral("Export timeline"),
        QStringLiteral("timeline.json"), QStringLiteral("Chrome Trace Event JSON for ui.perfetto.dev (*.json)"));
    if (path.isEmpty()) return;
    if (const QString error = exportTimeline(path); !error.isEmpty())
        QMessageBox::warning(this, QStringLiteral("rooftime"), error);
}

void MainWindow::exportTableDialog()
{
    const QString path = QFileDialog::getSaveFileName(
        this, QStringLiteral("Export table"), QStringLiteral("report.csv"), QStringLiteral("CSV (*.csv)"));
    if (path.isEmpty()) return;
    if (const QString error = exportTable(path); !error.isEmpty())
        QMessageBox::warning(this, QStringLiteral("rooftime"), error);
}

} // namespace rooftime::gui
