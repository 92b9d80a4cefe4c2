// SPDX-License-Identifier: MIT
// `rooftime plot`: the options, checked alike by `rooftime` and by the rooftime-plot companion (Qt), which draws.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace rooftime::cli {

struct PlotArgs {
    std::vector<std::string> profiles;
    std::string output;
    std::string view = "combined";
    std::string level; ///< empty: HBM for GPU items, DRAM for CPU items (classic: every level)
    std::string by = "auto"; ///< auto: regions when some declare work, else kernels
    std::string windowRange; ///< --by window: one window per instance of this range (empty: the suggested one)
    std::string window; ///< --by window: fixed windows of this duration ("100ms") instead of a range
    std::string device; ///< empty: the device with the most time
    long long top = 0;
    std::string machine;
    int width = 1000;
    int height = 700;
};

/// Adds the options of `rooftime plot` to @p app (the `plot` subcommand, or the companion's own parser).
void addPlotOptions(CLI::App& app, PlotArgs& args);
/// What CLI11 does not check (the output's extension, --window or --window-range without --by window, both, a bad
/// duration); the message to print, empty when the arguments are fine.
std::string checkPlotArgs(const PlotArgs& args);
/// Runs rooftime-plot, next to this executable, with @p args (the command line after `plot`); returns its exit
/// status, or 2 with one line when this rooftime was built without it.
int runPlot(const std::vector<std::string>& args);

} // namespace rooftime::cli
