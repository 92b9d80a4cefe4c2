// SPDX-License-Identifier: MIT
#include "export.h"

#include "options.h"

#include "rooftime/analyzer/format.h"
#include "rooftime/analyzer/trace.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <optional>

namespace rooftime::cli {

namespace {

constexpr int kExitUsage = 2;

} // namespace

void addExportOptions(CLI::App& app, ExportArgs& args)
{
    app.add_option("profiles", args.profiles, "Profile files (.rtdb) or folders holding them")->required();
    app.add_option("-o,--output", args.output, "Trace file to write (.json)")->required();
    app.add_option("--format", args.format,
           "chrome: Chrome Trace Event JSON, which Perfetto (ui.perfetto.dev) and chrome://tracing open")
        ->capture_default_str()
        ->check(CLI::IsMember({ "chrome" }));
    app.add_option("--from", args.from, "Only from this time after each process's start (100ms, 2s, 500us)");
    app.add_option("--to", args.to, "Only up to this time after each process's start");
    app.add_option("--max-slices", args.maxSlices,
           "At most this many regions, kernels and copies: the earliest, cut at one time for all")
        ->capture_default_str()
        ->check(CLI::Range(1LL, 1'000'000'000LL));
    app.add_option("--machine", args.machine, "Machine file whose ceilings replace the embedded ones");
    app.footer("Usage: rooftime export PROFILE... -o FILE.json [--from T] [--to T] [--max-slices N] [--machine FILE]\n"
               "Exit status: 0 written, 2 a usage or input error.");
}

int runExport(const ExportArgs& args)
{
    analyzer::TraceOptions options;
    options.maxSlices = static_cast<std::size_t>(args.maxSlices);
    for (const auto& [text, name, slot] : { std::tuple { &args.from, "--from", &options.fromSeconds },
             std::tuple { &args.to, "--to", &options.toSeconds } }) {
        if (text->empty()) continue;
        const std::optional<double> d = parseDuration(*text);
        constexpr double kLongest = 1e6; // seconds: 11 days, longer than any recording, and no overflow in ns
        if (!d || *d > kLongest) {
            fmt::print(stderr, "rooftime export: {} '{}': expected a duration such as 100ms, 2s, 500us\n", name, *text);
            return kExitUsage;
        }
        *slot = *d;
    }
    if (options.fromSeconds && options.toSeconds && *options.toSeconds <= *options.fromSeconds) {
        fmt::print(stderr, "rooftime export: --to must come after --from\n");
        return kExitUsage;
    }
    analyzer::TraceSummary summary;
    try {
        std::optional<analyzer::MachineModel> machine;
        if (!args.machine.empty()) machine = analyzer::readMachineFile(args.machine);
        std::vector<analyzer::Profile> profiles;
        std::vector<std::string> skipped;
        for (const std::string& path : analyzer::expandProfilePaths(args.profiles, &skipped))
            profiles.push_back(analyzer::Profile::open(path));
        for (const std::string& s : skipped)
            fmt::print(stderr, "rooftime export: warning: {}\n", s);
        summary = analyzer::writeChromeTraceFile(profiles, machine ? &*machine : nullptr, options, args.output);
    } catch (const std::exception& e) {
        fmt::print(stderr, "rooftime export: {}\n", e.what());
        return kExitUsage;
    }
    fmt::print(stderr, "rooftime export: wrote {} ({} regions, {} kernels, {} copies, {} counter values{})\n",
        args.output, summary.regions, summary.kernels, summary.memops, summary.counterEvents,
        summary.machineSource.empty() ? "; no machine model, so no roofline tracks"
                                      : "; roofs " + summary.machineSource);
    if (summary.cutAtSeconds)
        fmt::print(stderr,
            "rooftime export: {} later slices left out at {} (--max-slices {}): --from/--to choose another part\n",
            summary.cutSlices, analyzer::humanSeconds(*summary.cutAtSeconds), args.maxSlices);
    if (summary.outsideTracks > 0 && !summary.machineSource.empty())
        fmt::print(stderr,
            "rooftime export: {} of the kernel launches have neither a GPU time nor a launch time of their own "
            "(replayed in counters mode; recordings before schema 1.3 keep no launch times): placed at their region's "
            "start or beside the launch before, they are left out of the roofline tracks\n",
            summary.outsideTracks);
    if (summary.untimedKernels > 0)
        fmt::print(stderr,
            "rooftime export: {} kernel launches have no time to be placed at (imported, or replayed without a launch "
            "time): not on the timeline\n",
            summary.untimedKernels);
    return 0;
}

} // namespace rooftime::cli
