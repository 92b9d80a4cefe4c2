// SPDX-License-Identifier: MIT
// `rooftime plot` runs the rooftime-plot companion (Qt) so that `rooftime` itself never links Qt; both parse the
// same options, defined here.
#include "plot.h"

#include "options.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace rooftime::cli {
namespace {

constexpr int kExitUsage = 2;

std::string lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

bool endsWith(const std::string& s, const std::string& suffix)
{
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

} // namespace

void addPlotOptions(CLI::App& app, PlotArgs& args)
{
    app.add_option("profiles", args.profiles, "Profile files (.rtdb) or folders holding them")->required();
    app.add_option("-o,--output", args.output, "Plot file to write: .svg or .png")->required();
    app.add_option("--view", args.view,
           "combined (complexity chart with axes in seconds, measured point joined to its vertex), time (memory "
           "time vs compute time), complexity (bytes vs FLOPs) or classic (FLOP/s vs intensity)")
        ->capture_default_str()
        ->check(CLI::IsMember({ "combined", "time", "complexity", "classic" }));
    app.add_option("--level", args.level,
        "Memory level (hbm, l2, l1, dram, l3, …; default: HBM for GPU items, DRAM for CPU items; classic: every "
        "level)");
    app.add_option("--by", args.by,
           "range (regions and NVTX ranges), kernel, callpath (regions and kernels per call path), window (one per "
           "instance of a range: training steps; fixed windows where no range repeats), or auto: kernels with "
           "counters, else regions that declare work, else kernels")
        ->capture_default_str()
        ->check(CLI::IsMember({ "auto", "range", "kernel", "callpath", "window" }));
    app.add_option("--window-range", args.windowRange,
        "--by window: one window per instance of this region or NVTX range (default: the longest in total among "
        "those with 2 to 500 instances)");
    app.add_option("--window", args.window,
        "--by window: fixed windows of this length (100ms, 2s, 500us) instead of one per instance of a range "
        "(default where no range repeats: about 50 windows over the run)");
    app.add_option("--device", args.device, "Items and roofs of this device (cpu, gpu0, …; default: most time)");
    app.add_option("--top", args.top, "Only the first N items by lost time (0: all)")
        ->capture_default_str()
        ->check(cli::rowCount());
    app.add_option("--machine", args.machine, "Machine file whose ceilings replace the embedded ones");
    app.add_option("--width", args.width, "Width in pixels")->capture_default_str()->check(CLI::Range(320, 8000));
    app.add_option("--height", args.height, "Height in pixels")->capture_default_str()->check(CLI::Range(240, 8000));
    app.footer("Usage: rooftime plot PROFILE... -o FILE.svg|png [--view combined|time|complexity|classic] [--level L] "
               "[--by auto|range|kernel|callpath|window] [--window-range NAME | --window DURATION] [--device D] "
               "[--top N] [--machine FILE] "
               "[--width PX --height PX]\n"
               "Exit status: 0 written, 2 a usage or input error.");
}

std::string checkPlotArgs(const PlotArgs& args)
{
    const std::string ext = lower(args.output);
    if (!endsWith(ext, ".svg") && !endsWith(ext, ".png"))
        return fmt::format("-o '{}': the file name must end in .svg or .png", args.output);
    if (!args.windowRange.empty() && args.by != "window") return "--window-range goes with --by window";
    if (!args.window.empty()) {
        if (args.by != "window") return "--window goes with --by window";
        if (!args.windowRange.empty())
            return "--window and --window-range exclude each other: fixed windows, or one per instance of a range";
        if (!parseDuration(args.window))
            return fmt::format("--window '{}': expected a duration such as 100ms, 2s, 500us", args.window);
    }
    return {};
}

int runPlot(const std::vector<std::string>& args)
{
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    const fs::path companion = exe.parent_path() / "rooftime-plot";
    if (ec || !fs::exists(companion, ec)) {
        fmt::print(stderr,
            "this rooftime was built without Qt: rooftime plot needs rooftime-plot (install qt6-base-dev "
            "qt6-svg-dev and rebuild)\n");
        return kExitUsage;
    }
    std::vector<std::string> argv { companion.string() };
    argv.insert(argv.end(), args.begin(), args.end());
    std::fflush(nullptr);
    const pid_t pid = fork();
    if (pid < 0) {
        fmt::print(stderr, "rooftime plot: cannot start {}: {}\n", companion.string(), std::strerror(errno));
        return kExitUsage;
    }
    if (pid == 0) {
        std::vector<char*> cargv;
        for (auto& a : argv)
            cargv.push_back(a.data());
        cargv.push_back(nullptr);
        execv(cargv[0], cargv.data());
        std::fprintf(stderr, "rooftime plot: cannot run %s: %s\n", cargv[0], std::strerror(errno));
        _exit(kExitUsage);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) { }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

} // namespace rooftime::cli
