// SPDX-License-Identifier: MIT
// The `rooftime` command: record, report, compare, ceilings, import, plot, export, help. Exit codes: 0 ok, 1 a
// regression (compare), 2 usage or input error (a recorded command's own status is passed through by record).
#include "ceilings.h"
#include "compare.h"
#include "export.h"
#include "import.h"
#include "options.h"
#include "output_name.h"
#include "plot.h"
#include "record.h"

#include "rooftime/analyzer/format.h"
#include "rooftime/analyzer/profile.h"
#include "rooftime/analyzer/report.h"
#include "rooftime/analyzer/symbolize.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <unistd.h>

using namespace rooftime;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;
constexpr const char* kRecordUsage
    = "Usage: rooftime record [-o PATTERN] [--mode time|counters] [--counters all|K] "
      "[--counter-set tier1|tier2|peaks] [--machine FILE | --no-machine] [--call-stacks] -- CMD ARGS...";

struct ReportCli {
    std::string window;
    std::string windowRange;
    std::string by = "auto";
    bool launchConfig = false;
    std::string declaredPrecision = "fp64";
    std::string convention = "sum";
    double latencyThreshold = 0.2;
};

int runReport(const std::vector<std::string>& inputs, const std::string& format, long long top, const std::string& sort,
    std::size_t width, const std::string& machineFile, const ReportCli& cli)
{
    analyzer::ReportOptions reportOptions;
    // auto: kernels where the profiles have any (a GPU run's time is in its kernels), else regions.
    const bool autoBy = cli.by == "auto";
    auto by = autoBy ? std::optional(analyzer::ReportBy::Range) : analyzer::parseReportBy(cli.by);
    if (!by) {
        fmt::print(
            stderr, "rooftime report: unknown --by '{}' (use auto, range, kernel, callpath, window or rank)\n", cli.by);
        return kExitUsage;
    }
    reportOptions.by = *by;
    if (!cli.window.empty() || !cli.windowRange.empty()) {
        if (*by != analyzer::ReportBy::Window && !autoBy && cli.by != "range") {
            fmt::print(stderr, "rooftime report: --window and --window-range go with --by window\n");
            return kExitUsage;
        }
        reportOptions.by = analyzer::ReportBy::Window;
    }
    if (reportOptions.by == analyzer::ReportBy::Window) {
        if (!cli.window.empty() && !cli.windowRange.empty()) {
            fmt::print(stderr,
                "rooftime report: --window and --window-range exclude each other: --window DURATION (e.g. 100ms) "
                "for fixed windows, --window-range NAME for one window per instance of that range (a training "
                "step)\n");
            return kExitUsage;
        }
        if (!cli.window.empty()) {
            auto d = cli::parseDuration(cli.window);
            if (!d) {
                fmt::print(stderr, "rooftime report: --window '{}': expected a duration such as 100ms, 2s, 500us\n",
                    cli.window);
                return kExitUsage;
            }
            reportOptions.windowSeconds = *d;
        }
        reportOptions.windowRange = cli.windowRange;
    }
    reportOptions.withLaunchConfig = cli.launchConfig;
    reportOptions.declaredPrecision = cli.declaredPrecision;
    reportOptions.model.convention
        = cli.convention == "dominant" ? analyzer::ComputeConvention::Dominant : analyzer::ComputeConvention::Sum;
    reportOptions.model.latencyThreshold = cli.latencyThreshold;
    auto fmtKind = analyzer::parseOutputFormat(format);
    if (!fmtKind) {
        fmt::print(stderr, "rooftime report: unknown --format '{}' (use text, json or csv)\n", format);
        return kExitUsage;
    }
    if (!sort.empty() && sort == "start" && reportOptions.by != analyzer::ReportBy::Window) {
        fmt::print(stderr, "rooftime report: --sort start goes with --by window (windows in time order)\n");
        return kExitUsage;
    }
    auto sortKey = analyzer::parseSortKey(!sort.empty()      ? sort
            : reportOptions.by == analyzer::ReportBy::Window ? "start"
                                                             : "lost");
    if (!sortKey) {
        fmt::print(
            stderr, "rooftime report: unknown --sort '{}' (use {})\n", sort, fmt::join(analyzer::sortKeyNames(), ", "));
        return kExitUsage;
    }
    std::optional<analyzer::MachineModel> machine;
    if (!machineFile.empty()) {
        machine = cli::loadMachineOption("rooftime report", machineFile);
        if (!machine) return kExitUsage;
    }
    try {
        std::vector<analyzer::Profile> profiles;
        std::vector<std::string> skipped;
        for (const std::string& path : analyzer::expandProfilePaths(inputs, &skipped))
            profiles.push_back(analyzer::Profile::open(path));
        for (const std::string& s : skipped)
            fmt::print(stderr, "rooftime report: warning: {}\n", s);
        // auto: kernels, unless only regions know work (time mode around regions that declare it).
        auto any = [&](bool (analyzer::Profile::*has)() const) {
            return std::any_of(
                profiles.begin(), profiles.end(), [&](const analyzer::Profile& p) { return (p.*has)(); });
        };
        if (autoBy && reportOptions.by == analyzer::ReportBy::Range && any(&analyzer::Profile::hasKernels)
            && (cli.launchConfig || any(&analyzer::Profile::hasKernelCounters)
                || !any(&analyzer::Profile::hasDeclaredWork)))
            reportOptions.by = analyzer::ReportBy::Kernel; // --launch-config asks for kernels
        if (reportOptions.by == analyzer::ReportBy::Window && cli.window.empty() && cli.windowRange.empty()) {
            analyzer::chooseWindows(reportOptions, profiles);
            fmt::print(stderr, "rooftime report: {}\n", analyzer::chosenWindowsNote(reportOptions));
        }
        if (cli.launchConfig && reportOptions.by != analyzer::ReportBy::Kernel) {
            fmt::print(stderr, "rooftime report: --launch-config goes with --by kernel\n");
            return kExitUsage;
        }
        analyzer::Report report = analyzer::buildReport(profiles, machine ? &*machine : nullptr, reportOptions);
        analyzer::sortRows(report, *sortKey);
        // The text shows them under `machine:`; JSON and CSV go to other programs, a person reads stderr.
        if (*fmtKind != analyzer::OutputFormat::Text)
            for (const std::string& w : report.machineWarnings)
                fmt::print(stderr, "rooftime report: warning: {}\n", w);
        const std::string text = analyzer::formatReport(report, *fmtKind, { static_cast<std::size_t>(top), width });
        std::fwrite(text.data(), 1, text.size(), stdout);
        return kExitOk;
    } catch (const analyzer::ProfileError& e) {
        fmt::print(stderr, "rooftime report: {}\n", e.what());
        return kExitUsage;
    } catch (const analyzer::ReportError& e) {
        fmt::print(stderr, "rooftime report: {}\n", e.what());
        return kExitUsage;
    }
}

} // namespace

int main(int argc, char** argv)
{
    CLI::App app { "rooftime: time-based roofline profiler. Record a program, then see where its time goes and "
                   "how far it runs from the roof.",
        "rooftime" };
    app.set_version_flag("--version", std::string("rooftime ") + ROOFTIME_VERSION_STRING);
    app.require_subcommand(1);
    app.footer("Run 'rooftime help COMMAND' for the options of a command. Docs: docs/cli.md");

    cli::RecordOptions rec;
    auto* record = app.add_subcommand("record", "Run a command with the collector injected and write profiles");
    record->add_option("-o,--output", rec.output,
        std::string("Output file pattern: %p pid, %h host, %r rank, %q{VAR} environment variable, %% percent "
                    "(default ")
            + collector::kDefaultOutputPattern + ")");
    record->add_option("--mode", rec.mode, "time: time and declared work; counters: also hardware counters")
        ->check(CLI::IsMember({ "time", "counters" }));
    record->add_option("--machine", rec.machine,
        "Machine file to embed in each profile (default: this host's model from `rooftime ceilings`, measured in "
        "quick mode when there is none)");
    record->add_flag("--no-machine", rec.noMachine, "Embed no machine model (analysis then needs --machine)");
    record->add_flag("--call-stacks", rec.callStacks,
        "Record the host call stack where each region opens (LLVM libunwind; about 0.7 us per frame, opt-in): "
        "`report --by callpath` then shows the functions on each path");
    record
        ->add_option("--counters", rec.counters,
            "With --mode counters: GPU launches measured per kernel signature, 'all' or a count (default 3; "
            "each measured launch is replayed once per counter pass)")
        ->check([](const std::string& v) -> std::string {
            if (v == "all") return {};
            if (!v.empty() && v.size() < 10 && v.find_first_not_of("0123456789") == std::string::npos && v != "0")
                return {};
            return "--counters takes 'all' or a positive count";
        });
    record
        ->add_option("--counter-set", rec.counterSet,
            "With --mode counters: tier1 (default; time, CUDA-core FLOPs, bytes per level, wgmma tensor work: 2 "
            "passes on H100) or tier2 (also mma.sync tensor work: 4 passes on H100, 6 on A100); both add the "
            "GPU's peaks and clocks where that costs no pass. peaks: only time, peaks and clocks (1 pass)")
        ->check(CLI::IsMember({ "tier1", "tier2", "peaks" }));
    record->prefix_command();
    record->footer(std::string(kRecordUsage) + "\nExit status: the command's own, or 128+signal when it was killed.");

    std::vector<std::string> inputs;
    std::string format = "text";
    long long top = 0;
    std::string sort; // lost, or start for windows (a timeline)
    std::size_t width = 120;
    auto* report = app.add_subcommand(
        "report", "Summarise profiles: one row per kernel, region, call path, window or process, with its roofline");
    report->add_option("profiles", inputs, "Profile files (.rtdb) or folders holding them")->required();
    report->add_option("--format", format, "text, json or csv")->capture_default_str();
    report->add_option("--top", top, "Show only the first N rows (0: all)")
        ->capture_default_str()
        ->check(cli::rowCount());
    report->add_option("--sort", sort,
        "lost (default), time, count, flops, bytes, ai, gflops, efficiency, name, or start (--by window: in time "
        "order, its default)");
    report->add_option("--width", width, "Text width in columns")->capture_default_str()->check(CLI::Range(100, 1000));
    std::string reportMachine;
    report->add_option("--machine", reportMachine, "Machine file whose ceilings replace the embedded ones");
    ReportCli reportCli;
    report
        ->add_option("--by", reportCli.by,
            "auto (kernel where the profiles have kernels, unless none has counters and regions declare work; else "
            "range), range (regions and NVTX ranges, with self "
            "time), kernel, callpath (the nesting of regions, kernels inside them), window or rank (each process: "
            "CPU and each GPU)")
        ->capture_default_str();
    report->add_option("--window", reportCli.window, "--by window: windows of this length (100ms, 2s, …)");
    report->add_option("--window-range", reportCli.windowRange,
        "--by window: one window per instance of this region or NVTX range (a training step)");
    report->add_flag("--launch-config", reportCli.launchConfig, "--by kernel: one row per name and grid/block");
    report
        ->add_option(
            "--declared-precision", reportCli.declaredPrecision, "Precision whose roof declared FLOPs count against")
        ->capture_default_str()
        ->check(CLI::IsMember({ "fp64", "fp32", "fp16", "bf16" }));
    report
        ->add_option("--compute", reportCli.convention,
            "sum: compute times of all precisions add; dominant: the paper's single-precision form")
        ->capture_default_str()
        ->check(CLI::IsMember({ "sum", "dominant" }));
    report
        ->add_option("--latency-threshold", reportCli.latencyThreshold,
            "Below this efficiency the limiter is latency / under-utilisation")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 1.0));

    cli::ImportOptions imp;
    auto* import = app.add_subcommand("import", "Turn another tool's output into a profile");
    import->add_option("format", imp.format, "ncu (Nsight Compute --csv output, long or --page raw form)")
        ->required()
        ->check(CLI::IsMember({ "ncu" }));
    import->add_option("files", imp.files, "CSV files of one run (several when each holds some metrics)")->required();
    import->add_option("-o,--output", imp.output, "Profile to write (.rtdb; must not exist)")->required();
    import->add_option("--arch", imp.arch, "Architecture (sm_70, sm_80, sm_90…); overrides the CSV's CC column")
        ->check(cli::checkArch);
    import->footer("Usage: rooftime import ncu FILE.csv... -o PROFILE.rtdb [--arch sm_XY]\n"
                   "Exit status: 0 written, 2 a bad input (one line naming FILE:LINE) or an existing output.");

    cli::CeilingsOptions ceil;
    auto* ceilings = app.add_subcommand("ceilings", "Measure this machine's roofs (CPU and GPUs) or show them");
    ceilings->add_flag("--cpu", ceil.cpu, "Measure the CPU (the default when no --gpu is given)");
    ceilings->add_option("--gpu", ceil.gpus, "Measure GPU N (repeatable; default: every GPU, unless --cpu)");
    ceilings->add_flag("--quick", ceil.quick, "Quick mode: under 10 s on the CPU, fewer sweep points");
    ceilings->add_option("-o,--output", ceil.output, "Machine file to write (default: the per-user cache)");
    auto* show = ceilings->add_option(
        "--show", ceil.showFile, "Print a machine file (default: this host's cached one) instead of measuring");
    show->expected(0, 1);

    cli::PlotArgs plotArgs;
    auto* plot = app.add_subcommand("plot", "Draw a time-based roofline plot (SVG or PNG) of profiles");
    cli::addPlotOptions(*plot, plotArgs);

    cli::CompareArgs compareArgs;
    auto* compare = app.add_subcommand(
        "compare", "Judge current runs against baseline runs, item by item; exit 1 on a regression (CI gate)");
    cli::addCompareOptions(*compare, compareArgs);

    cli::ExportArgs exportArgs;
    auto* exportCommand = app.add_subcommand(
        "export", "Write profiles as a timeline for Perfetto or chrome://tracing, with the roofline over time");
    cli::addExportOptions(*exportCommand, exportArgs);

    std::vector<std::string> symbolizeFiles;
    auto* symbolize = app.add_subcommand(
        "symbolize", "Store the function names of recorded call stacks in profiles, while the binaries are at hand");
    symbolize->add_option("profiles", symbolizeFiles, "Profiles recorded with --call-stacks")->required();
    symbolize->footer("Usage: rooftime symbolize PROFILE...\n"
                      "`rooftime record --call-stacks` does this itself; for profiles recorded otherwise.\n"
                      "Exit status: 0, or 2 when a file is not a profile or cannot be updated.");

    std::string helpTopic;
    auto* help = app.add_subcommand("help", "Show help for a command");
    help->add_option("command", helpTopic, "record, report, compare, ceilings, import, plot, export or symbolize");

    // `record ... -- CMD ARGS`: everything after the first "--" is the command, untouched by our parser.
    // A "--" after the command's first word belongs to the command.
    std::vector<std::string> afterDashes;
    if (argc > 1 && std::string(argv[1]) == "record") {
        for (int i = 2; i < argc; ++i) {
            const std::string a = argv[i];
            if (a == "--") {
                afterDashes.assign(argv + i + 1, argv + argc);
                argc = i;
                break;
            }
            if (a == "-o" || a == "--output" || a == "--mode" || a == "--machine" || a == "--counters"
                || a == "--counter-set")
                ++i;
            else if (a.empty() || a[0] != '-')
                break;
        }
    }
    // The command names come from the parser itself, so messages list exactly what exists.
    std::vector<std::string> commands;
    for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; }))
        commands.push_back(sub->get_name());
    const std::string commandList = fmt::format("{}", fmt::join(commands, ", "));
    const auto isCommand
        = [&](const std::string& name) { return std::find(commands.begin(), commands.end(), name) != commands.end(); };
    if (argc > 1 && argv[1][0] != '-' && !isCommand(argv[1])) {
        fmt::print(stderr, "rooftime: unknown command '{}' (commands: {})\nRun 'rooftime --help' for usage.\n", argv[1],
            commandList);
        return kExitUsage;
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        fmt::print(stderr, "rooftime: {}\nRun 'rooftime --help' or 'rooftime help COMMAND' for usage.\n", e.what());
        return kExitUsage;
    }

    if (*help) {
        if (helpTopic.empty()) {
            fmt::print("{}", app.get_formatter()->make_help(&app, "rooftime", CLI::AppFormatMode::Normal));
            return kExitOk;
        }
        if (!isCommand(helpTopic)) {
            fmt::print(stderr, "rooftime help: no command '{}' (commands: {})\n", helpTopic, commandList);
            return kExitUsage;
        }
        fmt::print("{}", app.get_subcommand(helpTopic)->help());
        return kExitOk;
    }
    if (*record) {
        rec.command = record->remaining();
        rec.command.insert(rec.command.end(), afterDashes.begin(), afterDashes.end());
        if (rec.command.empty()) {
            fmt::print(stderr, "rooftime record: no command given\n{}\n", kRecordUsage);
            return kExitUsage;
        }
        return cli::runRecord(rec);
    }
    if (*import) return cli::runImport(imp);
    if (*symbolize) {
        int rc = kExitOk;
        for (const std::string& f : symbolizeFiles) {
            try {
                analyzer::Profile::open(f); // a clear message for what is not a profile
                const std::size_t n = analyzer::storeFrameNames(f);
                fmt::print(stderr, "rooftime symbolize: {} function name{} stored in {}\n", n, n == 1 ? "" : "s", f);
            } catch (const std::exception& e) {
                fmt::print(stderr, "rooftime symbolize: {}\n", e.what());
                rc = kExitUsage;
            }
        }
        return rc;
    }
    if (*plot) {
        if (const std::string problem = cli::checkPlotArgs(plotArgs); !problem.empty()) {
            fmt::print(stderr, "rooftime plot: {}\n", problem);
            return kExitUsage;
        }
        // The companion parses the same command line: everything after "plot".
        const auto at = std::find(argv + 1, argv + argc, std::string("plot"));
        return cli::runPlot(std::vector<std::string>(at + 1, argv + argc));
    }
    if (*compare) return cli::runCompare(compareArgs, std::vector<std::string>(argv, argv + argc));
    if (*exportCommand) return cli::runExport(exportArgs);
    if (*ceilings) {
        ceil.show = show->count() > 0;
        return cli::runCeilings(ceil);
    }
    return runReport(inputs, format, top, sort, width, reportMachine, reportCli);
}
