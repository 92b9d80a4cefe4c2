// SPDX-License-Identifier: MIT
// `rooftime compare`: parses the options, reads both sides and prints the comparison in the chosen format.
#include "compare.h"

#include "ceilings.h"
#include "options.h"

#include "rooftime/analyzer/compare.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <set>

namespace rooftime::cli {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitRegression = 1;
constexpr int kExitUsage = 2;

/// "5%", "5" → 0.05; "0.5%" → 0.005. Percent either way, so that "5" never means 500 %.
std::optional<double> parsePercent(const std::string& text)
{
    std::string t = text;
    if (!t.empty() && t.back() == '%') t.pop_back();
    while (!t.empty() && t.back() == ' ')
        t.pop_back();
    if (t.empty() || !(std::isdigit(static_cast<unsigned char>(t[0])) || t[0] == '.')) return std::nullopt;
    std::size_t used = 0;
    double v = 0;
    try {
        v = std::stod(t, &used);
    } catch (const std::exception&) {
        return std::nullopt;
    }
    if (used != t.size() || !(v >= 0)) return std::nullopt;
    return v / 100;
}

std::string quoteArg(const std::string& a)
{
    if (!a.empty() && a.find_first_of(" \t\n\"'\\$`;&|<>()*?!#~{}[]") == std::string::npos) return a;
    std::string q = "'";
    for (char ch : a)
        q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
    return q + "'";
}

} // namespace

void addCompareOptions(CLI::App& app, CompareArgs& args)
{
    app.add_option("baseline", args.baseline, "Baseline profiles (.rtdb) or folders holding them")->required();
    app.add_option("--current", args.current,
           "Current profiles or folders: the runs judged against the baseline (every value up to the next option)")
        ->required();
    app.add_option("--by", args.by, "auto (kernels when the runs launched any, else ranges), kernel, range or callpath")
        ->capture_default_str()
        ->check(CLI::IsMember({ "auto", "kernel", "range", "callpath" }));
    app.add_option("--threshold", args.threshold, "Relative time change that counts, in percent")
        ->capture_default_str();
    app.add_option("--min-share", args.minShare,
           "Items below this share of the analysed time (all kernels, or the run) are never gated, in percent")
        ->capture_default_str();
    app.add_option("--confidence", args.confidence, "Confidence of the interval on each change, 80 to 99.9 %")
        ->capture_default_str();
    app.add_option("--budget", args.budget, "Budget file (JSON): limits per item, checked on the current runs");
    app.add_option("--format", args.format, "text, md or markdown (a pull-request summary), junit or json")
        ->capture_default_str()
        ->check(CLI::IsMember({ "text", "md", "markdown", "junit", "json" }));
    app.add_option("--machine", args.machine, "Machine file whose ceilings replace the embedded ones on both sides");
    app.add_option("--declared-precision", args.declaredPrecision, "Precision whose roof declared FLOPs count against")
        ->capture_default_str()
        ->check(CLI::IsMember({ "fp64", "fp32", "fp16", "bf16" }));
    app.add_option("--top", args.top, "text and md: show at most N unchanged items (0: all)")
        ->capture_default_str()
        ->check(cli::rowCount());
    app.add_option("--width", args.width, "Text width in columns")->capture_default_str()->check(CLI::Range(80, 1000));
    app.footer("Usage: rooftime compare BASELINE... --current CURRENT... [--by auto|kernel|range|callpath] "
               "[--threshold 5%] [--min-share 1%] [--confidence 95%] [--budget FILE] [--format text|md|junit|json] "
               "[--machine FILE] [--declared-precision P] [--top N] [--width N]\n"
               "Exit status: 0 no regression, 1 a regression or a broken budget rule, 2 a usage or input error.");
}

int runCompare(const CompareArgs& args, const std::vector<std::string>& argv)
{
    analyzer::CompareOptions options;
    // A bare fraction (budget files take `max_change: 0.05` for 5 %) would silently mean a hundredth of it here.
    for (const auto& [name, text] :
        { std::pair { "--threshold", &args.threshold }, std::pair { "--min-share", &args.minShare } }) {
        const auto v = parsePercent(*text);
        if (v && *v > 0 && *v < 0.01 && !text->ends_with('%')) {
            fmt::print(stderr,
                "rooftime compare: {} '{}': a bare number is a percentage here; write {:g}% for {:g} percent, or "
                "{}% if you meant a fraction of one percent\n",
                name, *text, *v * 1e4, *v * 1e4, *text);
            return kExitUsage;
        }
    }
    const auto threshold = parsePercent(args.threshold);
    const auto minShare = parsePercent(args.minShare);
    const auto confidence = parsePercent(args.confidence);
    if (!threshold || *threshold <= 0 || *threshold > 10) {
        fmt::print(
            stderr, "rooftime compare: --threshold '{}': expected a percentage above 0, such as 5%\n", args.threshold);
        return kExitUsage;
    }
    if (!minShare || *minShare > 1) {
        fmt::print(stderr, "rooftime compare: --min-share '{}': expected a percentage from 0 to 100, such as 1%\n",
            args.minShare);
        return kExitUsage;
    }
    if (!confidence || *confidence < 0.8 - 1e-12 || *confidence > 0.999 + 1e-12) { // 99.9 / 100 rounds above 0.999
        fmt::print(stderr, "rooftime compare: --confidence '{}': expected a percentage from 80 to 99.9, such as 95%\n",
            args.confidence);
        return kExitUsage;
    }
    options.threshold = *threshold;
    options.minShare = *minShare;
    options.confidence = *confidence;
    options.report.declaredPrecision = args.declaredPrecision;
    const auto format = analyzer::parseCompareFormat(args.format);
    if (!format) return kExitUsage; // CLI11 checked it already
    std::optional<analyzer::MachineModel> machine;
    if (!args.machine.empty()) {
        machine = loadMachineOption("rooftime compare", args.machine);
        if (!machine) return kExitUsage;
    }
    try {
        std::optional<analyzer::Budget> budget;
        if (!args.budget.empty()) budget = analyzer::Budget::load(args.budget);
        // A file named twice on one side (a folder and a file in it) is one run, counted once.
        auto open = [](const std::vector<std::string>& inputs) {
            std::vector<analyzer::Profile> ps;
            std::set<std::string> seen;
            std::vector<std::string> skipped;
            const auto paths = analyzer::expandProfilePaths(inputs, &skipped);
            for (const std::string& s : skipped)
                fmt::print(stderr, "rooftime compare: warning: {}\n", s);
            for (const std::string& path : paths) {
                std::error_code ec;
                if (!seen.insert(std::filesystem::weakly_canonical(path, ec).string()).second) continue;
                ps.push_back(analyzer::Profile::open(path));
            }
            return ps;
        };
        const std::vector<analyzer::Profile> base = open(args.baseline);
        const std::vector<analyzer::Profile> current = open(args.current);
        if (args.by == "auto") {
            bool kernels = false;
            for (const auto* side : { &current, &base })
                for (const analyzer::Profile& p : *side)
                    kernels = kernels || !p.aggregateKernels(false).empty();
            options.by = kernels ? analyzer::ReportBy::Kernel : analyzer::ReportBy::Range;
        } else {
            options.by = *analyzer::parseReportBy(args.by);
        }
        analyzer::Comparison c
            = analyzer::compareRuns(base, current, options, budget ? &*budget : nullptr, machine ? &*machine : nullptr);
        // A gate that checked nothing must not pass: a misconfigured pipeline (kernels asked of CPU-only runs, a
        // recording without markers) would stay green for ever.
        if (c.rows.empty()) {
            const char* what = options.by == analyzer::ReportBy::Kernel ? "kernels"
                : options.by == analyzer::ReportBy::Callpath            ? "call paths"
                                                                        : "regions or NVTX ranges";
            if (args.by != "auto") {
                fmt::print(stderr,
                    "rooftime compare: nothing to compare --by {}: neither side's profiles have any {} ({} baseline "
                    "and {} "
                    "current profiles)\n",
                    args.by, what, base.size(), current.size());
                return kExitUsage;
            }
            c.warnings.push_back(
                fmt::format("neither side has kernels or regions: only the whole run's time is compared"));
        }
        analyzer::CompareFormatOptions fo;
        fo.width = args.width;
        fo.top = static_cast<std::size_t>(args.top);
        for (std::size_t i = 0; i < argv.size(); ++i)
            fo.commandLine += (i ? " " : "") + quoteArg(i == 0 ? std::string("rooftime") : argv[i]);
        const std::string text = analyzer::formatComparison(c, *format, fo);
        std::fwrite(text.data(), 1, text.size(), stdout);
        // Machine-readable formats go to files in CI: the verdict also reaches the log.
        if (*format != analyzer::CompareFormat::Text) fmt::print(stderr, "rooftime compare: {}\n", c.headline());
        return c.failed() ? kExitRegression : kExitOk;
    } catch (const analyzer::ProfileError& e) {
        fmt::print(stderr, "rooftime compare: {}\n", e.what());
        return kExitUsage;
    }
}

} // namespace rooftime::cli
