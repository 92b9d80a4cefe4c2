// SPDX-License-Identifier: MIT
// rooftime-gui: the roofline of profiles with their item table. Bad inputs on the command line get one line on
// stderr and exit status 2, as with `rooftime`; --screenshot renders the window offscreen into a PNG.
#include "options.h"

#include "rooftime/gui/item_table_model.h"
#include "rooftime/gui/main_window.h"
#include "rooftime/gui/roofline_view.h"

#include "rooftime/analyzer/machine.h"
#include "rooftime/analyzer/profile.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <QApplication>
#include <QPixmap>

#include <cstdlib>

using namespace rooftime;

namespace {

/// Qt's own chatter (no XDG_RUNTIME_DIR, platform plugin notes) is no message for the user; critical ones are.
void quietQtMessages(QtMsgType type, const QMessageLogContext&, const QString& message)
{
    if (type == QtCriticalMsg || type == QtFatalMsg)
        fmt::print(stderr, "rooftime-gui: Qt: {}\n", message.toStdString());
}

} // namespace

int main(int argc, char** argv)
{
    CLI::App app { "rooftime-gui: the time-based roofline of profiles, with their items", "rooftime-gui" };
    std::vector<std::string> inputs;
    std::string machine, view = "combined", by = "auto", level, screenshot, select;
    app.add_option("profiles", inputs, "Profiles (.rtdb) or folders holding them");
    std::vector<std::string> baseline;
    app.add_option("--baseline", baseline,
        "Compare view: baseline profiles or folders (the profiles given first are the current runs)");
    app.add_option("--machine", machine, "Machine file whose ceilings replace the embedded ones");
    app.add_option("--view", view, "combined, time, complexity or classic")
        ->check(CLI::IsMember({ "combined", "time", "complexity", "classic" }));
    app.add_option("--by", by, "auto, range, kernel, callpath (with a call tree) or window")
        ->check(CLI::IsMember({ "auto", "range", "kernel", "callpath", "window" }));
    std::string windowRange;
    app.add_option("--window-range", windowRange,
        "--by window: one window per instance of this region or NVTX range (default: the longest in total among "
        "those with 2 to 500 instances; fixed windows where no range repeats)");
    std::string windowLength;
    app.add_option("--window", windowLength, "--by window: fixed windows of this length (100ms, 2s, 500us)");
    app.add_option("--level", level, "Memory level of the plot (HBM, L2, DRAM, …)");
    app.add_option("--select", select, "Item to select at start");
    app.add_option("--screenshot", screenshot, "Render the window into this PNG (offscreen) and exit");
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        fmt::print(stderr, "rooftime-gui: {}\nRun 'rooftime-gui --help' for usage.\n", e.what());
        return 2;
    }
    if (!screenshot.empty() && !std::getenv("QT_QPA_PLATFORM")) setenv("QT_QPA_PLATFORM", "offscreen", 1);
    qInstallMessageHandler(quietQtMessages);
    int qtArgc = 1;
    char* qtArgv[] = { argv[0], nullptr };
    QApplication qt(qtArgc, qtArgv);
    gui::MainWindow window;
    if (!windowRange.empty() && by != "window") {
        fmt::print(stderr, "rooftime-gui: --window-range goes with --by window\n");
        return 2;
    }
    if (!windowLength.empty()) {
        const std::optional<double> seconds = cli::parseDuration(windowLength);
        const char* problem = by != "window" ? "goes with --by window"
            : !windowRange.empty()           ? "and --window-range exclude each other"
            : !seconds                       ? "expects a duration such as 100ms, 2s, 500us"
                                             : nullptr;
        if (problem) {
            fmt::print(stderr, "rooftime-gui: --window {}\n", problem);
            return 2;
        }
        window.setWindowLength(*seconds);
    } else {
        window.setWindowRange(QString::fromStdString(windowRange));
    }
    window.setGrouping(QString::fromStdString(by));
    window.setView(QString::fromStdString(view));
    if (!inputs.empty()) {
        try {
            window.openProfiles(inputs, machine);
        } catch (const std::exception& e) {
            fmt::print(stderr, "rooftime-gui: {}\n", e.what());
            return 2;
        }
    }
    if (!baseline.empty()) {
        try {
            window.openBaseline(baseline);
        } catch (const std::exception& e) {
            fmt::print(stderr, "rooftime-gui: {}\n", e.what());
            return 2;
        }
    }
    // Bad values exit 2 as `rooftime plot` does, rather than opening a blank plot or selecting nothing.
    // Checked against what opened; without profiles (opened from the menu later) there is nothing to check.
    if (!level.empty() && !inputs.empty()) {
        if (!window.report() || !window.report()->machine) {
            fmt::print(
                stderr, "rooftime-gui: --level {}: no machine model, so no roofs (pass --machine FILE)\n", level);
            return 2;
        }
        const QStringList levels = window.levelChoices();
        if (!levels.contains(QString::fromStdString(level), Qt::CaseInsensitive)) {
            fmt::print(stderr,
                "rooftime-gui: --level {}: no bandwidth roof for that level here (levels with a roof: {})\n", level,
                levels.isEmpty() ? std::string("none") : levels.join(QStringLiteral(", ")).toStdString());
            return 2;
        }
        window.setLevel(QString::fromStdString(level));
    }
    if (!select.empty() && !inputs.empty()) {
        if (window.model()->rowOf(select) < 0) {
            fmt::print(stderr,
                "rooftime-gui: --select '{}': no item of that name among the {} shown (names as `rooftime report "
                "--by {}` prints them)\n",
                select, window.model()->rowCount(), by);
            return 2;
        }
        window.selectItem(select);
    }
    if (!screenshot.empty()) {
        window.show();
        QApplication::processEvents();
        if (!window.grab().save(QString::fromStdString(screenshot), "PNG")) {
            fmt::print(stderr, "rooftime-gui: cannot write '{}'\n", screenshot);
            return 2;
        }
        if (!window.view()->problem().isEmpty())
            fmt::print(stderr, "rooftime-gui: {}\n", window.view()->problem().toStdString());
        return 0;
    }
    window.show();
    return QApplication::exec();
}
