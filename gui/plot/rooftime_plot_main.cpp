// SPDX-License-Identifier: MIT
// rooftime-plot: the Qt companion `rooftime plot` runs (rooftime itself never links Qt). Reads the profiles, builds
// the report exactly as `rooftime report` does, and draws one view of it headless into an SVG or PNG file.
// Exit codes: 0 written, 2 usage or input error.
#include "options.h"
#include "plot.h"

#include "rooftime/analyzer/format.h"
#include "rooftime/analyzer/profile.h"
#include "rooftime/analyzer/report.h"
#include "rooftime/gui/plot_painter.h"
#include "rooftime/gui/plot_scene.h"

#include <CLI/CLI.hpp>
#include <QGuiApplication>
#include <algorithm>
#include <fmt/format.h>

#include <cstdlib>

using namespace rooftime;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;

/// Qt's own chatter (no XDG_RUNTIME_DIR, font fallbacks) is no message for the user; critical ones are.
void quietQtMessages(QtMsgType type, const QMessageLogContext&, const QString& message)
{
    if (type == QtCriticalMsg || type == QtFatalMsg)
        fmt::print(stderr, "rooftime plot: Qt: {}\n", message.toStdString());
}

} // namespace

int main(int argc, char** argv)
{
    CLI::App app { "Draw a time-based roofline plot of profiles (run as `rooftime plot`)", "rooftime plot" };
    cli::PlotArgs args;
    cli::addPlotOptions(app, args);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        fmt::print(stderr, "rooftime plot: {}\nRun 'rooftime help plot' for usage.\n", e.what());
        return kExitUsage;
    }
    if (const std::string problem = cli::checkPlotArgs(args); !problem.empty()) {
        fmt::print(stderr, "rooftime plot: {}\n", problem);
        return kExitUsage;
    }

    gui::PlotOptions plot;
    plot.view = *gui::parsePlotView(args.view);
    plot.level = args.level;
    plot.device = args.device;
    plot.top = static_cast<std::size_t>(args.top);
    plot.width = args.width;
    plot.height = args.height;

    std::optional<analyzer::MachineModel> machine;
    gui::PlotScene scene;
    analyzer::ReportBy plotted = analyzer::ReportBy::Range;
    try {
        if (!args.machine.empty()) machine = analyzer::readMachineFile(args.machine);
        std::vector<analyzer::Profile> profiles;
        std::vector<std::string> skipped;
        for (const std::string& path : analyzer::expandProfilePaths(args.profiles, &skipped))
            profiles.push_back(analyzer::Profile::open(path));
        for (const std::string& s : skipped)
            fmt::print(stderr, "rooftime plot: warning: {}\n", s);
        analyzer::ReportOptions options;
        options.windowRange = args.windowRange;
        if (!args.window.empty()) options.windowSeconds = cli::parseDuration(args.window).value_or(0);
        const analyzer::Report report = gui::buildPlotReport(profiles, machine ? &*machine : nullptr, args.by, options);
        if (report.by == analyzer::ReportBy::Window && args.windowRange.empty() && args.window.empty()
            && !report.rows.empty()) {
            analyzer::ReportOptions chosen;
            chosen.windowRange = report.windowRange;
            chosen.windowSeconds = report.windowSeconds;
            fmt::print(stderr, "rooftime plot: {}\n", analyzer::chosenWindowsNote(chosen));
        }
        for (const std::string& w : report.machineWarnings)
            fmt::print(stderr, "rooftime plot: warning: {}\n", w);
        plotted = report.by;
        // An empty picture with exit 0 would pass unnoticed in a script: say what is missing instead.
        if (report.rows.empty()) {
            fmt::print(stderr, "rooftime plot: nothing to plot: {}\n", gui::whyNoItems(report, args.by == "auto"));
            return kExitUsage;
        }
        scene = gui::buildPlotScene(report, plot);
    } catch (const analyzer::MachineError& e) {
        fmt::print(stderr, "rooftime plot: {}\n", e.what());
        return kExitUsage;
    } catch (const analyzer::ProfileError& e) {
        fmt::print(stderr, "rooftime plot: {}\n", e.what());
        return kExitUsage;
    } catch (const analyzer::ReportError& e) {
        fmt::print(stderr, "rooftime plot: {}\n", e.what());
        return kExitUsage;
    } catch (const gui::PlotError& e) {
        fmt::print(stderr, "rooftime plot: {}\n", e.what());
        return kExitUsage;
    }

    // Fonts need a QGuiApplication; the offscreen platform needs no display.
    if (!std::getenv("QT_QPA_PLATFORM")) setenv("QT_QPA_PLATFORM", "offscreen", 1);
    qInstallMessageHandler(quietQtMessages);
    int qtArgc = 1;
    char* qtArgv[] = { argv[0], nullptr };
    QGuiApplication qtApp(qtArgc, qtArgv);
    const QString error = gui::writePlot(scene, QString::fromStdString(args.output));
    if (!error.isEmpty()) {
        fmt::print(stderr, "rooftime plot: {}\n", error.toStdString());
        return kExitUsage;
    }
    if (scene.items == 0)
        fmt::print(stderr, "rooftime plot: note: no item to draw{}{}\n",
            scene.leftOut ? fmt::format(" ({} left out: {})", scene.leftOut, scene.leftOutReasons) : std::string(),
            plotted == analyzer::ReportBy::Range ? "; kernels are plotted with --by kernel" : "");
    fmt::print(stderr, "rooftime plot: wrote {} ({} view, {}{}, {} item{})\n", args.output, args.view, scene.device,
        scene.level.empty() ? "" : ", " + scene.level, scene.items, scene.items == 1 ? "" : "s");
    return kExitOk;
}
