// SPDX-License-Identifier: MIT
// rooftime-gui offscreen: the item table shows the report's numbers, plot and table share one selection (a click
// on a disc selects its row, a row selects its disc), view/grouping/level choices rebuild the plot, exports
// write what `rooftime plot` and `report --format csv` write, a bad profile leaves the window as it was.
#include "rooftime/analyzer/format.h"
#include "rooftime/analyzer/profile_builder.h"
#include "rooftime/analyzer/trace.h"
#include "rooftime/gui/call_tree_model.h"
#include "rooftime/gui/item_table_model.h"
#include "rooftime/gui/main_window.h"
#include "rooftime/gui/roofline_view.h"

#include "gpu_machine.h"
#include "process.h"
#include "sql_one.h"
#include "two_kernels.h"

#include <QApplication>
#include <QComboBox>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QMouseEvent>
#include <QSortFilterProxyModel>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QTreeView>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <sstream>

using namespace rooftime;
using rooftime::test::readFile;
using rooftime::test::scratchDir;
namespace fs = std::filesystem;

namespace {

void ensureApp()
{
    // Qt wants one application per process; kept for the whole run, offscreen.
    static QApplication* app = [] {
        if (!std::getenv("QT_QPA_PLATFORM")) setenv("QT_QPA_PLATFORM", "offscreen", 1);
        static int argc = 1;
        static char name[] = "gui_tests";
        static char* argv[] = { name, nullptr };
        return new QApplication(argc, argv);
    }();
    (void)app;
}

/// gemm: 3 ms, 2 GFLOP fp32 and 6 GB HBM (2 ms at 3 TB/s: 67 % of its roof); axpy: 1 ms, 0.2 GFLOP and 1.2 GB
/// (0.4 ms: 40 %).
std::string gpuProfile(const std::string& dir, std::int64_t gemmNs = 3'000'000, const std::string& file = "gpu.rtdb")
{
    const std::string path = dir + "/" + file;
    test::writeTwoKernelProfile(path, test::kGpuMachineJson, 1e9, gemmNs);
    return path;
}

std::string cell(const gui::ItemTableModel& m, int row, int column, int role = Qt::DisplayRole)
{
    return m.data(m.index(row, column), role).toString().toStdString();
}

QString qs(const char* text)
{
    return QString::fromUtf8(text);
}

std::string str(const QString& text)
{
    return text.toStdString();
}

} // namespace

TEST_CASE("gui: the item table shows the report's numbers and sorts by value", "[gui]")
{
    ensureApp();
    gui::MainWindow w;
    w.openProfiles({ gpuProfile(scratchDir("gui_table")) });
    const gui::ItemTableModel& m = *w.model();
    REQUIRE(m.rowCount() == 2);
    REQUIRE(w.report()->by == analyzer::ReportBy::Kernel); // auto: no declared work, so kernels
    const int gemm = m.rowOf("gemm");
    const int axpy = m.rowOf("axpy");
    REQUIRE(gemm >= 0);
    REQUIRE(axpy >= 0);
    using C = gui::ItemTableModel;
    CHECK(cell(m, gemm, C::Time) == "3 ms");
    CHECK(cell(m, gemm, C::Flops) == analyzer::siValue(2e9));
    CHECK(cell(m, gemm, C::Bytes) == analyzer::siValue(6e9) + " (HBM)");
    // Efficiencies as the report and the legend print them: whole per cent, rounded down.
    CHECK(cell(m, gemm, C::Efficiency) == "66 %");
    CHECK(cell(m, axpy, C::Efficiency) == "40 %");
    CHECK(cell(m, gemm, C::Limiter) == "HBM");
    CHECK(cell(m, gemm, C::RoofTime) == "2 ms");
    CHECK(m.data(m.index(gemm, C::Time), C::SortRole).toDouble() == Approx(0.003));
    CHECK(m.data(m.index(gemm, C::Efficiency), C::SortRole).toDouble() == Approx(2.0 / 3));
    // Legend numbers come from the plot: both are drawn.
    CHECK_FALSE(cell(m, gemm, C::Number).empty());
    const std::string tip = cell(m, gemm, C::Name, Qt::ToolTipRole);
    CHECK(tip.find("roof time 2 ms") != std::string::npos);
    CHECK(tip.find("efficiency 66 %") != std::string::npos);
    // The table's sort is by the numbers: by time, descending, gemm (3 ms) comes first.
    w.table()->sortByColumn(C::Time, Qt::DescendingOrder);
    CHECK(str(w.table()->model()->index(0, C::Name).data().toString()) == "gemm");
    w.table()->sortByColumn(C::Time, Qt::AscendingOrder);
    CHECK(str(w.table()->model()->index(0, C::Name).data().toString()) == "axpy");
}

TEST_CASE("gui: PyTorch's long kernel names are shortened in the table, whole in the sort and the tooltip", "[gui]")
{
    ensureApp();
    gui::MainWindow w;
    w.openProfiles({ rooftime::test::testData("gpu/python/cnn_train-time.rtdb") });
    const gui::ItemTableModel& m = *w.model();
    REQUIRE(w.report()->by == analyzer::ReportBy::Kernel);
    using C = gui::ItemTableModel;
    int found = -1;
    for (int row = 0; row < m.rowCount(); ++row)
        if (cell(m, row, C::Name) == "vectorized_elementwise_kernel<4, FillFunctor<float>, array<char*, 1ul>>")
            found = row;
    REQUIRE(found >= 0);
    CHECK(str(m.data(m.index(found, C::Name), C::SortRole).toString())
              .rfind("void at::native::vectorized_elementwise_kernel<4, at::native::FillFunctor<float>", 0)
        == 0);
    CHECK(cell(m, found, C::Flops) == "-"); // time mode: no counters, no rate either
    CHECK(cell(m, found, C::FlopRate) == "-");
    // The numbers stay in sight: the name column is capped.
    CHECK(w.table()->columnWidth(C::Name) <= 480);
}

TEST_CASE("gui: plot and table share one selection", "[gui]")
{
    ensureApp();
    gui::MainWindow w;
    w.resize(1200, 900);
    w.show();
    w.openProfiles({ gpuProfile(scratchDir("gui_select")) });
    QApplication::processEvents();
    gui::RooflineView& view = *w.view();
    REQUIRE(view.scene().marks.size() == 2);
    const auto at = view.pointOf("axpy");
    REQUIRE(at);
    CHECK(view.itemAt(*at) == std::optional<std::string>("axpy"));
    CHECK_FALSE(view.itemAt(QPointF(2, 2)));

    // A click on the disc selects the row.
    QMouseEvent press(
        QEvent::MouseButtonPress, *at, view.mapToGlobal(*at), Qt::LeftButton, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&view, &press);
    CHECK(view.selected() == "axpy");
    const QModelIndexList rows = w.table()->selectionModel()->selectedRows();
    REQUIRE(rows.size() == 1);
    CHECK(str(rows.front().siblingAtColumn(gui::ItemTableModel::Name).data().toString()) == "axpy");

    // A row selects the disc.
    const int gemmRow = w.model()->rowOf("gemm");
    w.table()->selectRow(
        static_cast<QSortFilterProxyModel*>(w.table()->model())->mapFromSource(w.model()->index(gemmRow, 0)).row());
    CHECK(view.selected() == "gemm");
    // A click on nothing clears it.
    QMouseEvent empty(QEvent::MouseButtonPress, QPointF(2, 2), view.mapToGlobal(QPointF(2, 2)), Qt::LeftButton,
        Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&view, &empty);
    CHECK(view.selected().empty());
}

TEST_CASE("gui: views, grouping and level rebuild the plot", "[gui]")
{
    ensureApp();
    gui::MainWindow w;
    w.resize(1000, 800);
    w.show();
    w.openProfiles({ gpuProfile(scratchDir("gui_views")) });
    QApplication::processEvents();
    CHECK(w.view()->scene().view == gui::PlotView::Combined);
    w.setView(qs("classic"));
    CHECK(w.view()->scene().view == gui::PlotView::Classic);
    w.setView(qs("time"));
    CHECK(w.view()->scene().view == gui::PlotView::Time);
    CHECK(w.view()->scene().level == "HBM");
    w.setLevel(qs("L2"));
    CHECK(w.view()->scene().level == "L2");
    CHECK(w.view()->scene().items == 0); // no item has L2 bytes
    w.setLevel(qs("L3"));
    CHECK(w.view()->problem().contains(qs("L3"))); // no such roof: said, nothing drawn
    w.setLevel(QString());
    CHECK(w.view()->problem().isEmpty());
    // The profile has no regions: by range there is nothing; back to kernels.
    w.setGrouping(qs("range"));
    CHECK(w.model()->rowCount() == 0);
    w.setGrouping(qs("kernel"));
    CHECK(w.model()->rowCount() == 2);
}

TEST_CASE("gui: exports write the plot and the report's CSV", "[gui]")
{
    ensureApp();
    const std::string dir = scratchDir("gui_export");
    gui::MainWindow w;
    CHECK(str(w.exportPlot(QString::fromStdString(dir + "/none.svg"))) == "no profile is open");
    w.resize(1000, 800);
    w.show();
    const std::string profile = gpuProfile(dir);
    w.openProfiles({ profile });
    QApplication::processEvents();
    CHECK(w.exportPlot(QString::fromStdString(dir + "/plot.svg")).isEmpty());
    const std::string svg = readFile(dir + "/plot.svg");
    CHECK(svg.find("<svg") != std::string::npos);
    CHECK(svg.find("gemm") != std::string::npos);
    CHECK(w.exportPlot(QString::fromStdString(dir + "/plot.png")).isEmpty());
    CHECK(readFile(dir + "/plot.png").rfind("\x89PNG", 0) == 0);
    CHECK_FALSE(w.exportPlot(QString::fromStdString(dir + "/plot.txt")).isEmpty());
    CHECK(w.exportTable(QString::fromStdString(dir + "/table.csv")).isEmpty());
    CHECK(readFile(dir + "/table.csv") == analyzer::formatReport(*w.report(), analyzer::OutputFormat::Csv, {}));
    CHECK(readFile(dir + "/table.csv").find("gemm") != std::string::npos);
    // The timeline: what `rooftime export` writes of the same profile (the H200 GEMMs: kernels with times).
    const std::string gemm = std::string(ROOFTIME_TEST_DATA) + "/gpu/counters/gemm.rtdb";
    w.openProfiles({ gemm });
    CHECK(w.exportTimeline(QString::fromStdString(dir + "/timeline.json")).isEmpty());
    std::vector<analyzer::Profile> profiles;
    profiles.push_back(analyzer::Profile::open(gemm));
    std::ostringstream expected;
    analyzer::writeChromeTrace(profiles, nullptr, {}, expected);
    CHECK(readFile(dir + "/timeline.json") == expected.str());
    CHECK(expected.str().find("\"cat\":\"kernel\"") != std::string::npos);
    CHECK_FALSE(w.exportTimeline(QString::fromStdString(dir + "/no/such/dir/t.json")).isEmpty());
    gui::MainWindow empty;
    CHECK(str(empty.exportTimeline(QString::fromStdString(dir + "/t.json"))) == "no profile is open");
}

TEST_CASE("gui: the table's bytes are at the level the plot draws, as the report's are by default", "[gui]")
{
    ensureApp();
    gui::MainWindow w;
    w.resize(1200, 900);
    w.setGrouping(qs("kernel"));
    w.openProfiles({ std::string(ROOFTIME_TEST_DATA) + "/gpu/counters/gemm.rtdb" });
    QApplication::processEvents();
    const gui::ItemTableModel& m = *w.model();
    const int naive = m.rowOf("dgemm_naive");
    REQUIRE(naive >= 0);
    const analyzer::ReportRow& row = *m.rowAt(naive);
    REQUIRE(row.bytes);
    REQUIRE(row.bytesByLevel.count("L2"));
    using C = gui::ItemTableModel;
    // The default level (HBM on a GPU): the report's bytes, whatever binds the kernel (here L1).
    CHECK(cell(m, naive, C::Bytes) == analyzer::siValue(*row.bytes) + " (HBM)");
    w.setLevel(qs("L2"));
    QApplication::processEvents();
    CHECK(cell(m, naive, C::Bytes) == analyzer::siValue(row.bytesByLevel.at("L2")) + " (L2)");
    w.setLevel(QString());
    QApplication::processEvents();
    CHECK(cell(m, naive, C::Bytes) == analyzer::siValue(*row.bytes) + " (HBM)");
}

TEST_CASE("gui: an empty grouping says why in the plot and the status bar", "[gui]")
{
    ensureApp();
    gui::MainWindow w;
    w.setGrouping(qs("range"));
    w.openProfiles({ gpuProfile(scratchDir("gui_empty")) }); // kernels only
    REQUIRE(w.report()->rows.empty());
    CHECK(str(w.view()->problem()).find("Nothing to draw: no regions or NVTX ranges in these profiles") == 0);
    w.setGrouping(qs("kernel"));
    CHECK(w.view()->problem().isEmpty());
}

TEST_CASE("gui: a bad profile leaves the window as it was", "[gui]")
{
    ensureApp();
    const std::string dir = scratchDir("gui_bad");
    gui::MainWindow w;
    w.openProfiles({ gpuProfile(dir) });
    const analyzer::Report* before = w.report();
    test::writeFile(dir + "/bad.rtdb", "not a profile");
    CHECK_THROWS_AS(w.openProfiles({ dir + "/bad.rtdb" }), analyzer::ProfileError);
    CHECK(w.report() == before);
    CHECK(w.model()->rowCount() == 2);
    CHECK_THROWS_AS(
        w.openProfiles({ gpuProfile(scratchDir("gui_bad2")) }, "/nonexistent/machine.json"), analyzer::MachineError);
    CHECK(w.report() == before);
}

TEST_CASE("gui: rooftime-gui renders offscreen and rejects bad inputs with exit 2", "[gui]")
{
    const std::string dir = scratchDir("gui_cli");
    const std::string profile = gpuProfile(dir);
    const std::string gui = std::string(ROOFTIME_TEST_GUI_BIN);
    auto r = test::run({ gui, profile, "--screenshot", dir + "/shot.png", "--select", "gemm", "--view", "classic" },
        { { "QT_QPA_PLATFORM", "offscreen" } });
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.err.empty());
    CHECK(readFile(dir + "/shot.png").rfind("\x89PNG", 0) == 0);
    r = test::run({ gui, dir + "/missing.rtdb", "--screenshot", dir + "/x.png" });
    CHECK(r.status == 2);
    CHECK(r.err == "rooftime-gui: '" + dir + "/missing.rtdb': no such file or folder\n");
    r = test::run({ gui, profile, "--screenshot", dir + "/y.png", "--baseline", dir + "/nothing" });
    CHECK(r.status == 2);
    CHECK(r.err == "rooftime-gui: '" + dir + "/nothing': no such file or folder\n");
    r = test::run({ gui, "--baseline", profile, "--screenshot", dir + "/z.png" });
    CHECK(r.status == 2);
    CHECK(r.err.find("no current profiles are open") != std::string::npos);
    r = test::run({ gui, profile, "--view", "pie" });
    CHECK(r.status == 2);
    CHECK(r.err.find("--view") != std::string::npos);
    // Windows: a range the profile lacks, none with two instances, a range without --by window.
    const std::string lstm = std::string(ROOFTIME_TEST_DATA) + "/gpu/python/lstm_train-counters.rtdb";
    r = test::run({ gui, lstm, "--by", "window", "--window-range", "stp", "--screenshot", dir + "/w.png" });
    CHECK(r.status == 2);
    CHECK(r.err.find("--window-range 'stp': no region or NVTX range of that name") != std::string::npos);
    CHECK(r.err.find("'step' (4)") != std::string::npos);
    r = test::run({ gui, lstm, "--by", "window", "--window", "soon", "--screenshot", dir + "/w.png" });
    CHECK(r.status == 2);
    CHECK(r.err == "rooftime-gui: --window expects a duration such as 100ms, 2s, 500us\n");
    r = test::run({ gui, lstm, "--window", "1s", "--screenshot", dir + "/w.png" });
    CHECK(r.status == 2);
    CHECK(r.err == "rooftime-gui: --window goes with --by window\n");
    r = test::run(
        { gui, lstm, "--by", "window", "--window", "1s", "--window-range", "step", "--screenshot", dir + "/w.png" });
    CHECK(r.status == 2);
    CHECK(r.err == "rooftime-gui: --window and --window-range exclude each other\n");
    CHECK_FALSE(fs::exists(dir + "/w.png"));
    // A level without a roof, an item no row has: exit 2, no picture.
    const std::string gemm = std::string(ROOFTIME_TEST_DATA) + "/gpu/counters/gemm.rtdb";
    r = test::run({ gui, gemm, "--by", "kernel", "--level", "bogus", "--screenshot", dir + "/w.png" });
    CHECK(r.status == 2);
    CHECK(r.err
        == "rooftime-gui: --level bogus: no bandwidth roof for that level here (levels with a roof: HBM, L1, L2, "
           "shared)\n");
    r = test::run({ gui, gemm, "--by", "kernel", "--select", "gemm", "--screenshot", dir + "/w.png" });
    CHECK(r.status == 2);
    CHECK(r.err.find("rooftime-gui: --select 'gemm': no item of that name among the ") == 0);
    CHECK_FALSE(fs::exists(dir + "/w.png"));
    r = test::run(
        { gui, gemm, "--by", "kernel", "--level", "l2", "--select", "dgemm_naive", "--screenshot", dir + "/w.png" });
    CHECK(r.status == 0);
    CHECK(fs::remove(dir + "/w.png"));
    // No range repeats in the profile: fixed windows, no error.
    r = test::run({ gui, profile, "--by", "window", "--screenshot", dir + "/w.png" });
    CHECK(r.status == 0);
    CHECK(fs::exists(dir + "/w.png"));
    r = test::run({ gui, lstm, "--window-range", "step", "--screenshot", dir + "/w.png" });
    CHECK(r.status == 2);
    CHECK(r.err == "rooftime-gui: --window-range goes with --by window\n");
}

TEST_CASE("gui: the compare view draws baseline to current and lists the verdicts", "[gui]")
{
    ensureApp();
    const std::string dir = scratchDir("gui_compare");
    // The baseline's gemm took 6 ms, the current one 3 ms, with the same work; axpy is unchanged.
    const std::string base = gpuProfile(dir, 6'000'000, "base.rtdb");
    const std::string cur = gpuProfile(dir, 3'000'000, "cur.rtdb");
    gui::MainWindow w;
    w.resize(1200, 900);
    w.show();
    w.openProfiles({ cur });
    w.openBaseline({ base });
    QApplication::processEvents();
    const gui::RooflineView& view = *w.view();
    // Both runs on one set of axes: four marks, and per item an arrow between measured points (the same work: zero
    // length) and one between vertices (the faster run's vertex is lower on its intensity ray).
    CHECK(view.scene().marks.size() == 4);
    const auto arrows = view.arrows();
    REQUIRE(arrows.size() == 4);
    for (const auto& a : arrows) {
        INFO(a.name << (a.vertex ? " vertex" : " measured"));
        if (!a.vertex) CHECK(std::hypot(a.from.x() - a.to.x(), a.from.y() - a.to.y()) < 0.5);
        if (a.vertex && a.name == "gemm") {
            CHECK(a.to.x() < a.from.x() - 5); // half the time at the roof: half the bytes at the vertex
            CHECK(a.to.y() > a.from.y() + 5); // y grows downwards in pixels
        }
    }
    REQUIRE(w.comparison());
    const QTableWidget& t = *w.compareTable();
    REQUIRE(t.rowCount() == 3); // the run, gemm, axpy
    CHECK(str(t.item(0, 1)->text()) == "run time");
    CHECK(str(t.item(1, 1)->text()) == "gemm"); // the largest change first
    CHECK(str(t.item(1, 2)->text()) == "6 ms");
    CHECK(str(t.item(1, 3)->text()) == "3 ms");
    CHECK(str(t.item(1, 4)->text()) == "3 ms"); // saved per run
    CHECK(str(t.item(1, 0)->text()) == "no-estimate"); // one launch per side: reported, not judged
    // Regrouping keeps the comparison; ending it removes arrows and tab.
    w.setGrouping(qs("kernel"));
    CHECK(view.arrows().size() == 4);
    w.closeBaseline();
    CHECK(view.arrows().empty());
    CHECK(view.scene().marks.size() == 2);
    CHECK_FALSE(w.comparison());
    // A bad baseline is refused and changes nothing.
    CHECK_THROWS_AS(w.openBaseline({ dir + "/missing.rtdb" }), analyzer::ProfileError);
    CHECK_FALSE(w.comparison());
}

TEST_CASE("gui: the compare view is per run, and survives other machine models", "[gui]")
{
    ensureApp();
    const std::string dir = scratchDir("gui_compare_runs");
    // Two identical baseline runs against one identical current run: per run the points coincide, so every arrow
    // has zero length (summed, the baseline would sit at twice the FLOPs and bytes).
    const std::string a = gpuProfile(dir, 3'000'000, "a.rtdb");
    const std::string b = gpuProfile(dir, 3'000'000, "b.rtdb");
    const std::string cur = gpuProfile(dir, 3'000'000, "cur.rtdb");
    gui::MainWindow w;
    w.resize(1200, 900);
    w.show();
    w.openProfiles({ cur });
    w.openBaseline({ a, b });
    QApplication::processEvents();
    const auto arrows = w.view()->arrows();
    REQUIRE(arrows.size() == 4);
    for (const auto& arrow : arrows)
        CHECK(std::hypot(arrow.from.x() - arrow.to.x(), arrow.from.y() - arrow.to.y()) < 0.5);
    // The table's numbers are the legend's.
    for (const gui::PlotMark& mark : w.view()->scene().marks) {
        const int row = w.model()->rowOf(mark.name);
        if (row < 0) continue; // baseline items are not in the items table
        CHECK(cell(*w.model(), row, gui::ItemTableModel::Number) == std::to_string(mark.number));
    }
    // The arrows are part of the scene, so an export draws them.
    const auto segments
        = std::count_if(w.view()->scene().shapes.begin(), w.view()->scene().shapes.end(), [](const gui::Shape& s) {
              const auto* p = std::get_if<gui::PolylineShape>(&s);
              return p && p->role == gui::ShapeRole::Segment && p->key == "gemm" && p->points.size() == 2
                  && p->color.r == 60;
          });
    CHECK(segments == 2);

    // A baseline with another machine model (no fp32 roof at all) is drawn against the current one's roofs.
    const std::string other = dir + "/other.rtdb";
    test::writeTwoKernelProfile(other,
        R"({"format": "rooftime-machine", "version": "1.0", "created": "2026-01-01T00:00:00Z",
            "host": {"name": "elsewhere"}, "cpu": {"model": "CPU", "logical_cpus": 8}, "ceilings": [
            {"device": "gpu0", "kind": "bandwidth", "level": "HBM", "pattern": "read", "value": 1e12, "roof": true}]})",
        1e9);
    REQUIRE_NOTHROW(w.openBaseline({ other }));
    QApplication::processEvents();
    CHECK(w.view()->problem().isEmpty());
    CHECK(w.view()->scene().marks.size() == 4);
}

TEST_CASE("gui: level and numbers follow what is drawn", "[gui]")
{
    ensureApp();
    gui::MainWindow w;
    w.resize(1000, 800);
    w.show();
    w.openProfiles({ gpuProfile(scratchDir("gui_numbers")) });
    QApplication::processEvents();
    const int gemm = w.model()->rowOf("gemm");
    CHECK_FALSE(cell(*w.model(), gemm, gui::ItemTableModel::Number).empty());
    w.setLevel(qs("L2")); // nothing has L2 bytes: nothing drawn, so no legend numbers
    CHECK(w.view()->scene().items == 0);
    CHECK(cell(*w.model(), gemm, gui::ItemTableModel::Number).empty());
    w.setLevel(QString());
    CHECK_FALSE(cell(*w.model(), gemm, gui::ItemTableModel::Number).empty());
}

namespace {

analyzer::ReportRow pathRow(std::vector<std::string> path, std::vector<bool> frames, bool kernel, double seconds,
    std::optional<double> lost, const std::string& device = "cpu")
{
    analyzer::ReportRow r;
    r.path = std::move(path);
    r.pathFrames = std::move(frames);
    r.kind = kernel ? "path-kernel" : "path";
    r.device = device;
    r.count = 1;
    r.timeSeconds = seconds;
    for (std::size_t i = 0; i < r.path.size(); ++i)
        r.name += (i ? " > " : "") + r.path[i];
    if (lost) {
        analyzer::Analysis a;
        a.boundSeconds = seconds - *lost;
        a.lostSeconds = *lost;
        a.efficiency = a.boundSeconds / seconds;
        r.roof = a;
    }
    return r;
}

/// The node under @p parent whose name column reads @p label.
QModelIndex child(const QAbstractItemModel& m, const QModelIndex& parent, const std::string& label)
{
    for (int i = 0; i < m.rowCount(parent); ++i)
        if (str(m.index(i, gui::ItemTableModel::Name, parent).data().toString()) == label) return m.index(i, 0, parent);
    return {};
}

double sortValue(const QAbstractItemModel& m, const QModelIndex& node, int column)
{
    return m.index(node.row(), column, node.parent()).data(gui::ItemTableModel::SortRole).toDouble();
}

} // namespace

TEST_CASE("gui: the call tree adds what is below a function, and shows a row's own numbers", "[gui]")
{
    ensureApp();
    // main() (a frame, no row) called region A (2 s, 0.5 s lost, its kernel k 0.3 s on two GPUs) and region B
    // (1 s, not analysed); A's time holds its nested region C (0.4 s, 0.1 s lost).
    analyzer::Report report;
    report.by = analyzer::ReportBy::Callpath;
    const std::string frame = "main(int, char**)";
    report.rows.push_back(pathRow({ frame, "A" }, { true, false }, false, 2.0, 0.5));
    report.rows.push_back(pathRow({ frame, "A", "C" }, { true, false, false }, false, 0.4, 0.1));
    report.rows.push_back(pathRow({ frame, "B" }, { true, false }, false, 1.0, std::nullopt));
    report.rows.push_back(pathRow({ frame, "A", "void k<4>(int)" }, { true, false, false }, true, 0.3, 0.2, "gpu0"));
    report.rows.push_back(pathRow({ frame, "A", "void k<4>(int)" }, { true, false, false }, true, 0.1, 0.0, "gpu1"));
    // B launched a kernel that lost 0.25 s: B, without work of its own, shows it in brackets, and main adds it.
    report.rows.push_back(pathRow({ frame, "B", "void m(int)" }, { true, false, false }, true, 0.3, 0.25, "gpu0"));
    gui::ItemTableModel items;
    items.setReport(&report);
    gui::CallTreeModel tree(&items);
    tree.setReport(&report);
    using C = gui::ItemTableModel::Column;

    REQUIRE(tree.rowCount() == 1);
    const QModelIndex main = tree.index(0, 0);
    CHECK(str(tree.index(0, C::Name).data().toString()) == "main"); // a frame by its short name
    CHECK(str(tree.index(0, C::Kind).data().toString()) == "function");
    CHECK(tree.rowAt(main) == nullptr);
    CHECK(tree.index(0, C::Name).data(Qt::ToolTipRole).toString().contains(qs("main(int, char**)")));
    // Below main: A and B, whose own times add up; C is inside A's time already, as are its kernels.
    CHECK(sortValue(tree, main, C::Time) == Approx(3.0));
    CHECK(sortValue(tree, main, C::Lost) == Approx(0.75)); // A's own 0.5 (not again its kernels'), B's 0.25
    CHECK(str(tree.index(0, C::Time).data().toString()) == analyzer::humanSeconds(3.0));
    REQUIRE(tree.rowCount(main) == 2);
    const QModelIndex a = child(tree, main, "A");
    REQUIRE(a.isValid());
    REQUIRE(tree.rowAt(a) == &report.rows[0]);
    CHECK(sortValue(tree, a, C::Time) == Approx(2.0));
    CHECK(sortValue(tree, a, C::Lost) == Approx(0.5));
    // A's children: C and the kernel on each GPU, by its short name.
    REQUIRE(tree.rowCount(a) == 3);
    int kernels = 0;
    for (int i = 0; i < tree.rowCount(a); ++i) {
        const QModelIndex n = tree.index(i, 0, a);
        if (str(tree.index(i, C::Kind, a).data().toString()) != "kernel") continue;
        ++kernels;
        CHECK(str(tree.index(i, C::Name, a).data().toString()) == "k<4>");
        REQUIRE(tree.rowAt(n) != nullptr);
        CHECK(str(tree.index(i, C::Device, a).data().toString()) == tree.rowAt(n)->device);
    }
    CHECK(kernels == 2);
    const QModelIndex b = child(tree, main, "B");
    REQUIRE(b.isValid());
    CHECK(str(tree.index(b.row(), C::Lost, main).data().toString()) == "(" + analyzer::humanSeconds(0.25) + ")");
    CHECK(sortValue(tree, b, C::Lost) == Approx(0.25));
    CHECK(tree.index(b.row(), C::Lost, main).data(Qt::ToolTipRole).toString().contains(qs("no known work")));
    // Functions sort after drawn items by legend number, as undrawn rows do.
    CHECK(sortValue(tree, main, C::Number) > 1e299);
    CHECK(tree.parent(child(tree, a, "C")) == a);
    CHECK(tree.indexOf("main(int, char**) > A > C") == child(tree, a, "C"));
    CHECK_FALSE(tree.indexOf("A").isValid());
    tree.setReport(nullptr);
    items.setReport(nullptr);
}

TEST_CASE("gui: by call path, the H200 LSTM's call tree shares one selection with plot and table", "[gui]")
{
    ensureApp();
    gui::MainWindow w;
    w.resize(1200, 900);
    w.show();
    w.setGrouping(qs("callpath"));
    w.openProfiles({ std::string(ROOFTIME_TEST_DATA) + "/gpu/stacks/lstm_chain.rtdb" });
    QApplication::processEvents();
    REQUIRE(w.report()->by == analyzer::ReportBy::Callpath);
    CHECK(w.tabs()->currentWidget() == w.tree());
    CHECK(w.tabs()->tabText(w.tabs()->currentIndex()) == qs("Call tree"));

    // Frames of the host call stack, then lstm_chain (the sample's region), with its two kernels below frames
    // (`main > run > lstm_chain > …` where the program is at its recorded path to name them, docs/cli.md;
    // elsewhere, as in CI, the frames read MODULE+0xOFFSET and the kernels' call sites differ from the region's).
    const QAbstractItemModel& m = *w.tree()->model();
    const gui::CallTreeModel& tree = *w.treeModel();
    using C = gui::ItemTableModel::Column;
    const auto* proxy = static_cast<const QSortFilterProxyModel*>(&m);
    std::map<std::string, QModelIndex> found; // by label, the regions and kernels
    std::function<void(const QModelIndex&)> walk = [&](const QModelIndex& parent) {
        for (int i = 0; i < m.rowCount(parent); ++i) {
            const QModelIndex n = m.index(i, 0, parent);
            const std::string kind = str(m.index(i, C::Kind, parent).data().toString());
            if (kind != "function") found[str(m.index(i, C::Name, parent).data().toString())] = n;
            CHECK((kind == "function") == (tree.rowAt(proxy->mapToSource(n)) == nullptr));
            if (m.rowCount(n) > 0) CHECK(w.tree()->isExpanded(n)); // a small tree opens whole
            walk(n);
        }
    };
    walk({});
    REQUIRE(found.size() == 3);
    const QModelIndex region = found["lstm_chain"];
    REQUIRE(region.isValid());
    CHECK(str(m.index(region.row(), C::Kind, region.parent()).data().toString()) == "region");
    const analyzer::ReportRow* regionRow = tree.rowAt(proxy->mapToSource(region));
    REQUIRE(regionRow != nullptr);
    CHECK(regionRow->kind == "path");
    QModelIndex root = region;
    while (root.parent().isValid())
        root = root.parent();
    const QModelIndex main = root;
    CHECK(str(m.index(main.row(), C::Kind).data().toString()) == "function");
    // The outermost frame holds the region's time, and its kernels' only where they are not below the region.
    double below = regionRow->timeSeconds;
    for (const char* k : { "lstm_gemv", "lstm_cell" }) {
        REQUIRE(found[k].isValid());
        QModelIndex up = found[k].parent();
        while (up.isValid() && up != region)
            up = up.parent();
        if (up != region) below += sortValue(m, found[k], C::Time);
    }
    CHECK(sortValue(m, main, C::Time) == Approx(below));

    // A kernel node selects its disc-less item in the table (and the plot's selection follows).
    const QModelIndex gemv = found["lstm_gemv"];
    const QModelIndex cell = found["lstm_cell"];
    const std::string gemvName = tree.rowAt(proxy->mapToSource(gemv))->name;
    w.tree()->selectionModel()->select(gemv, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    CHECK(w.view()->selected() == gemvName);
    const QModelIndexList rows = w.table()->selectionModel()->selectedRows();
    REQUIRE(rows.size() == 1);
    CHECK(str(rows.front().siblingAtColumn(C::Name).data(gui::ItemTableModel::SortRole).toString()) == gemvName);
    // A row of the table selects its node.
    const int cellRow = w.model()->rowOf(tree.rowAt(proxy->mapToSource(cell))->name);
    REQUIRE(cellRow >= 0);
    w.table()->selectRow(
        static_cast<QSortFilterProxyModel*>(w.table()->model())->mapFromSource(w.model()->index(cellRow, 0)).row());
    REQUIRE(w.tree()->selectionModel()->selectedRows().size() == 1);
    CHECK(w.tree()->selectionModel()->selectedRows().front() == cell);
    // A function is no item: nothing selected in plot or table.
    w.tree()->selectionModel()->select(main, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    CHECK(w.view()->selected().empty());
    CHECK(w.table()->selectionModel()->selectedRows().isEmpty());
    // The plot's disc (the region) selects its node.
    const auto at = w.view()->pointOf(regionRow->name);
    REQUIRE(at);
    QMouseEvent press(
        QEvent::MouseButtonPress, *at, w.view()->mapToGlobal(*at), Qt::LeftButton, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(w.view(), &press);
    const QModelIndexList nodes = w.tree()->selectionModel()->selectedRows();
    REQUIRE(nodes.size() == 1);
    CHECK(nodes.front() == region);
    // The legend number of the region's disc is in the tree too.
    CHECK_FALSE(m.index(region.row(), C::Number, region.parent()).data().toString().isEmpty());

    // Other groupings have no call tree.
    w.setGrouping(qs("kernel"));
    CHECK(w.tabs()->indexOf(w.tree()) < 0);
    CHECK(w.tabs()->currentWidget() == w.table());
}

TEST_CASE("gui: by window, one item per training step in time order, the range chosen in the tool bar", "[gui]")
{
    ensureApp();
    gui::MainWindow w;
    w.resize(1200, 900);
    w.show();
    const std::string lstm = std::string(ROOFTIME_TEST_DATA) + "/gpu/python/lstm_train-counters.rtdb";
    w.openProfiles({ lstm });
    w.setGrouping(qs("window"));
    QApplication::processEvents();
    // The H200 LSTM's four steps; step holds forward, backward and optimizer, so it is the range suggested.
    REQUIRE(w.report()->by == analyzer::ReportBy::Window);
    CHECK(w.windowRange() == qs("step"));
    REQUIRE(w.report()->rows.size() == 4);
    const QAbstractItemModel& table = *w.table()->model();
    using C = gui::ItemTableModel::Column;
    for (int i = 0; i < 4; ++i) {
        INFO(i);
        CHECK(str(table.index(i, C::Name).data().toString()) == "step #" + std::to_string(i + 1));
        CHECK(str(table.index(i, C::Number).data().toString()) == std::to_string(i + 1));
    }
    // Each step measured the same work (every launch's counters, scaled): the discs differ by their time.
    CHECK(w.report()->rows[0].flops == w.report()->rows[3].flops);
    CHECK(w.view()->scene().items == 4);

    // Another range: its instances.
    w.setWindowRange(qs("forward"));
    CHECK(w.report()->windowRange == "forward");
    REQUIRE(w.report()->rows.size() == 4);
    CHECK(str(table.index(0, C::Name).data().toString()) == "forward #1");
    // No compare view of windows; back to kernels, sorted by lost time again.
    CHECK_THROWS_WITH(w.openBaseline({ lstm }), Catch::Contains("not windows"));
    w.setGrouping(qs("kernel"));
    CHECK(w.report()->by == analyzer::ReportBy::Kernel);
    CHECK(w.table()->horizontalHeader()->sortIndicatorSection() == C::Lost);
    w.openBaseline({ lstm });
    CHECK(w.comparison() != nullptr);
}

TEST_CASE(
    "gui: by window, fixed lengths in the Window choice after the ranges; without ranges, about 50 windows", "[gui]")
{
    ensureApp();
    gui::MainWindow w;
    w.resize(1200, 900);
    w.show();
    const std::string lstm = std::string(ROOFTIME_TEST_DATA) + "/gpu/python/lstm_train-counters.rtdb";
    w.setGrouping(qs("window"));
    w.openProfiles({ lstm });
    std::vector<analyzer::Profile> profiles;
    profiles.push_back(analyzer::Profile::open(lstm));
    const double run = analyzer::longestRunSeconds(profiles);
    const std::vector<double> lengths = analyzer::windowLengths(run);
    REQUIRE(lengths.size() > 3);
    // The ranges first (step chosen), then every length, each with its number of windows.
    QComboBox& choice = *w.windowChoice();
    CHECK(w.windowRange() == qs("step"));
    CHECK(choice.currentData().toString() == qs("step"));
    const int first = choice.findData(QVariant(lengths.front()));
    REQUIRE(first > 0);
    CHECK(choice.count() == first + static_cast<int>(lengths.size()));
    CHECK(str(choice.itemText(first))
        == "every " + analyzer::humanSeconds(lengths.front()) + " ("
            + std::to_string(analyzer::windowCount(run, lengths.front())) + " windows)");
    // Choosing a length in the tool bar: fixed windows from the start, in time order.
    const double length = lengths[2];
    choice.setCurrentIndex(choice.findData(QVariant(length)));
    QApplication::processEvents();
    CHECK(w.windowLength() == length);
    CHECK(w.windowRange().isEmpty());
    REQUIRE(w.report()->by == analyzer::ReportBy::Window);
    CHECK(w.report()->windowSeconds == length);
    REQUIRE(w.report()->rows.size() == analyzer::windowCount(run, length));
    CHECK(w.report()->rows.front().name == "0 s–" + analyzer::humanSeconds(length));
    CHECK(w.table()->horizontalHeader()->sortIndicatorSection() == gui::ItemTableModel::Number);
    CHECK(choice.currentData().toDouble() == length);
    // And back to a range.
    choice.setCurrentIndex(choice.findData(qs("forward")));
    CHECK(w.report()->windowRange == "forward");
    CHECK(w.windowLength() == 0);
    CHECK(w.report()->rows.size() == 4);

    // A recording without ranges: fixed windows at once, the suggested length chosen.
    const std::string bare = scratchDir("gui_fixed_windows") + "/bare.rtdb";
    test::copyWithSql(lstm, bare, "DELETE FROM region");
    gui::MainWindow kernelsOnly;
    kernelsOnly.setGrouping(qs("window"));
    kernelsOnly.openProfiles({ bare });
    CHECK(kernelsOnly.windowRange().isEmpty());
    CHECK(kernelsOnly.windowLength() == analyzer::suggestWindowSeconds(run));
    CHECK(kernelsOnly.windowChoice()->currentData().toDouble() == kernelsOnly.windowLength());
    CHECK(kernelsOnly.report()->rows.size() == analyzer::windowCount(run, kernelsOnly.windowLength()));
    // That length was taken, not chosen: a recording with steps opens on its steps.
    kernelsOnly.openProfiles({ lstm });
    CHECK(kernelsOnly.windowRange() == qs("step"));
    CHECK(kernelsOnly.windowLength() == 0);
    // A chosen length stays for the next profiles.
    kernelsOnly.setWindowLength(1.0);
    kernelsOnly.openProfiles({ bare });
    CHECK(kernelsOnly.windowLength() == 1.0);
    CHECK(kernelsOnly.report()->rows.size() == analyzer::windowCount(run, 1.0));
}

TEST_CASE("gui: the same kernel on two GPUs is two rows, and each selects its own node and row", "[gui]")
{
    ensureApp();
    // The H200 lstm_chain with half its launches moved to a second GPU.
    const std::string path = scratchDir("gui_two_gpus") + "/two.rtdb";
    test::copyWithSql(std::string(ROOFTIME_TEST_DATA) + "/gpu/stacks/lstm_chain.rtdb", path,
        "INSERT INTO device VALUES (1, 'NVIDIA H200', 'sm_90', 132); UPDATE kernel SET device = 1 WHERE id % 4 IN "
        "(1, 2)");
    gui::MainWindow w;
    w.resize(1200, 900);
    w.show();
    w.setGrouping(qs("callpath"));
    w.openProfiles({ path });
    QApplication::processEvents();
    const gui::CallTreeModel& tree = *w.treeModel();
    const auto* proxy = static_cast<const QSortFilterProxyModel*>(w.tree()->model());
    const auto* tableProxy = static_cast<const QSortFilterProxyModel*>(w.table()->model());
    int checked = 0;
    for (std::size_t i = 0; i < w.report()->rows.size(); ++i) {
        const analyzer::ReportRow& r = w.report()->rows[i];
        if (r.kind != "path-kernel") continue;
        INFO(r.name << " on " << r.device);
        const QModelIndex node = proxy->mapFromSource(tree.indexOfRow(static_cast<int>(i)));
        REQUIRE(node.isValid());
        w.tree()->selectionModel()->select(node, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
        const QModelIndexList rows = w.table()->selectionModel()->selectedRows();
        REQUIRE(rows.size() == 1);
        CHECK(tableProxy->mapToSource(rows.front()).row() == static_cast<int>(i)); // this GPU's row
        const QModelIndexList nodes = w.tree()->selectionModel()->selectedRows();
        REQUIRE(nodes.size() == 1);
        CHECK(nodes.front() == node); // not the other GPU's node of the same name
        ++checked;
    }
    CHECK(checked == 4); // two kernels on two GPUs
}
