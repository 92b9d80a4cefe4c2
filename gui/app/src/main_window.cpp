// SPDX-License-Identifier: MIT
#include "rooftime/gui/main_window.h"

#include "rooftime/analyzer/format.h"
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
#include <QTableView>
#include <QToolBar>

#include <fmt/format.h>

#include <set>

namespace rooftime::gui {

namespace {

QString q(const std::string& s)
{
    return QString::fromStdString(s);
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
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->sortByColumn(ItemTableModel::Lost, Qt::DescendingOrder);

    auto* split = new QSplitter(Qt::Vertical);
    split->addWidget(m_view);
    split->addWidget(m_table);
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
    for (const char* v : { "auto", "range", "kernel" })
        m_byBox->addItem(QString::fromLatin1(v));
    bar->addWidget(m_byBox);
    bar->addWidget(new QLabel(QStringLiteral("  Level ")));
    m_levelBox = new QComboBox;
    m_levelBox->addItem(QStringLiteral("default"));
    bar->addWidget(m_levelBox);
    connect(m_viewBox, &QComboBox::currentTextChanged, this, &MainWindow::setView);
    connect(m_byBox, &QComboBox::currentTextChanged, this, &MainWindow::setGrouping);
    connect(m_levelBox, &QComboBox::currentTextChanged, this,
        [this](const QString& l) { setLevel(l == QStringLiteral("default") ? QString() : l); });

    auto* file = menuBar()->addMenu(QStringLiteral("&File"));
    file->addAction(QStringLiteral("&Open profiles…"), QKeySequence::Open, this, &MainWindow::openDialog);
    file->addAction(QStringLiteral("Export &plot (SVG, PNG)…"), QKeySequence(QStringLiteral("Ctrl+E")), this,
        &MainWindow::exportPlotDialog);
    file->addAction(QStringLiteral("Export &table (CSV)…"), this, &MainWindow::exportTableDialog);
    file->addSeparator();
    file->addAction(QStringLiteral("&Quit"), QKeySequence::Quit, qApp, &QApplication::quit);

    m_status = new QLabel;
    statusBar()->addWidget(m_status, 1);

    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this, &MainWindow::onTableSelection);
    connect(m_view, &RooflineView::itemClicked, this, &MainWindow::onPlotClicked);
}

MainWindow::~MainWindow() = default;

void MainWindow::openProfiles(const std::vector<std::string>& inputs, const std::string& machineFile)
{
    std::optional<analyzer::MachineModel> machine;
    if (!machineFile.empty()) machine = analyzer::readMachineFile(machineFile);
    load(inputs, std::move(machine));
}

void MainWindow::load(const std::vector<std::string>& inputs, std::optional<analyzer::MachineModel> machine)
{
    std::vector<analyzer::Profile> profiles;
    for (const std::string& path : analyzer::expandProfilePaths(inputs))
        profiles.push_back(analyzer::Profile::open(path));
    // Build first: a profile that cannot be analysed leaves the window as it was.
    auto report = std::make_unique<analyzer::Report>(
        buildPlotReport(profiles, machine ? &*machine : nullptr, m_by.toStdString()));
    m_view->setReport(nullptr);
    m_model->setReport(nullptr);
    m_profiles = std::move(profiles);
    m_machine = std::move(machine);
    m_inputs = inputs;
    m_report = std::move(report);
    m_model->setReport(m_report.get());
    m_view->setReport(m_report.get());
    refreshLevels();
    m_table->resizeColumnsToContents();
    std::map<std::string, std::size_t> numbers;
    for (const PlotMark& mark : m_view->scene().marks)
        numbers.emplace(mark.name, mark.number);
    m_model->setNumbers(std::move(numbers));
    setWindowTitle(
        q(fmt::format("rooftime — {}", inputs.size() == 1 ? inputs.front() : fmt::format("{} inputs", inputs.size()))));
    const analyzer::Report& r = *m_report;
    std::string status = fmt::format("{} profile{} · by {} · {} item{} · run time {}", r.profiles.size(),
        r.profiles.size() == 1 ? "" : "s", analyzer::reportByName(r.by), r.rows.size(), r.rows.size() == 1 ? "" : "s",
        analyzer::humanSeconds(r.runSeconds));
    if (r.summary.items > 0)
        status += fmt::format(" · lost {} of {} analysed", analyzer::humanSeconds(r.summary.lostSeconds),
            analyzer::humanSeconds(r.summary.seconds));
    status += " · machine: " + (r.machine ? r.machineSource : std::string("none (open with --machine FILE)"));
    if (!m_view->problem().isEmpty()) status += " · " + m_view->problem().toStdString();
    m_status->setText(q(status));
}

void MainWindow::setGrouping(const QString& by)
{
    if (by == m_by) return;
    m_by = by;
    if (m_byBox->currentText() != by) m_byBox->setCurrentText(by);
    if (m_inputs.empty()) return;
    try {
        load(m_inputs, m_machine);
    } catch (const std::exception& e) {
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
    PlotOptions o = m_view->options();
    o.level = level.toStdString();
    m_view->setOptions(o);
    if (!m_view->problem().isEmpty()) m_status->setText(m_view->problem());
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
}

void MainWindow::selectItem(const std::string& name)
{
    if (m_syncing) return;
    m_syncing = true;
    m_view->setSelected(name);
    const int row = m_model->rowOf(name);
    if (row < 0) {
        m_table->clearSelection();
    } else {
        const QModelIndex at = m_proxy->mapFromSource(m_model->index(row, 0));
        m_table->selectRow(at.row());
        m_table->scrollTo(at);
    }
    m_syncing = false;
}

void MainWindow::onTableSelection()
{
    if (m_syncing) return;
    const QModelIndexList rows = m_table->selectionModel()->selectedRows();
    if (rows.isEmpty()) return;
    const analyzer::ReportRow* r = m_model->rowAt(m_proxy->mapToSource(rows.front()).row());
    if (!r) return;
    m_syncing = true;
    m_view->setSelected(r->name);
    m_syncing = false;
}

void MainWindow::onPlotClicked(const QString& name)
{
    selectItem(name.toStdString());
}

QString MainWindow::exportPlot(const QString& path) const
{
    if (!m_report) return QStringLiteral("no profile is open");
    if (!m_view->problem().isEmpty()) return m_view->problem();
    return writePlot(m_view->scene(), path);
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
    const QStringList files = QFileDialog::getOpenFileNames(
        this, QStringLiteral("Open profiles"), QString(), QStringLiteral("rooftime profiles (*.rtdb)"));
    if (files.isEmpty()) return;
    std::vector<std::string> inputs;
    for (const QString& f : files)
        inputs.push_back(f.toStdString());
    try {
        openProfiles(inputs);
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

void MainWindow::exportTableDialog()
{
    const QString path = QFileDialog::getSaveFileName(
        this, QStringLiteral("Export table"), QStringLiteral("report.csv"), QStringLiteral("CSV (*.csv)"));
    if (path.isEmpty()) return;
    if (const QString error = exportTable(path); !error.isEmpty())
        QMessageBox::warning(this, QStringLiteral("rooftime"), error);
}

} // namespace rooftime::gui
