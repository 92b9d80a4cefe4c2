// SPDX-License-Identifier: MIT
// `rooftime compare` output: text for a terminal, Markdown for a pull request, JUnit XML for a CI system, JSON for
// scripts. Every format says the same things; the sentences are built once, here.
#include "rooftime/analyzer/compare.h"
#include "rooftime/analyzer/format.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>

namespace rooftime::analyzer {

std::string percentChange(double fraction)
{
    return fmt::format("{:+.1f} %", 100 * fraction);
}

std::string changeText(const CompareRow& r)
{
    if (!r.change) return "-";
    if (!r.low) return percentChange(*r.change);
    return fmt::format("{} [{}, {}]", percentChange(*r.change), percentChange(*r.low), percentChange(*r.high));
}

std::string efficiencyText(const CompareRow& r)
{
    if (!r.base.efficiency && !r.current.efficiency) return "-";
    const auto one = [](const std::optional<double>& e) {
        return e ? fmt::format("{:.0f} %", efficiencyPercent(*e)) : std::string("-");
    };
    return one(r.base.efficiency) + " → " + one(r.current.efficiency);
}

std::optional<CompareFormat> parseCompareFormat(const std::string& text)
{
    if (text == "text") return CompareFormat::Text;
    if (text == "md" || text == "markdown") return CompareFormat::Markdown;
    if (text == "junit") return CompareFormat::Junit;
    if (text == "json") return CompareFormat::Json;
    return std::nullopt;
}

namespace {

/// The item as a reader names it: kernels carry their device when a run has several.
std::string itemName(const CompareRow& r)
{
    if (r.kind == "kernel" && !r.device.empty() && r.device != "gpu0") return r.name + " [" + r.device + "]";
    return r.name;
}

/// "+12.4 % time [+9.8 %, +15.1 %], 1.23 s → 1.38 s per run, efficiency 71 % → 63 %; FLOPs unchanged".
std::string sentence(const CompareRow& r)
{
    std::string s;
    if (r.verdict == Verdict::New)
        s = fmt::format("new: {} per run", humanSeconds(r.current.meanSeconds));
    else if (r.verdict == Verdict::Removed)
        s = fmt::format("removed: was {} per run", humanSeconds(r.base.meanSeconds));
    else
        s = fmt::format("{} time{}, {} → {} per run", r.change ? percentChange(*r.change) : "?",
            r.low ? fmt::format(" [{}, {}]", percentChange(*r.low), percentChange(*r.high)) : "",
            humanSeconds(r.base.meanSeconds), humanSeconds(r.current.meanSeconds));
    if (r.base.efficiency || r.current.efficiency) s += ", efficiency " + efficiencyText(r);
    if (r.base.present && r.current.present && r.kind != "run") {
        const double b = r.base.count, c = r.current.count;
        if (b > 0 && std::fabs(c / b - 1) >= 0.005)
            s += fmt::format(", {} {:.4g} → {:.4g} per run", r.kind == "kernel" ? "launches" : "instances", b, c);
    }
    if (!r.work.empty()) s += "; " + r.work;
    return s;
}

const std::vector<std::pair<Verdict, const char*>>& sections()
{
    static const std::vector<std::pair<Verdict, const char*>> s = {
        { Verdict::Regression, "Regressions" },
        { Verdict::Improvement, "Improvements" },
        { Verdict::Uncertain, "Uncertain (too noisy to tell)" },
        { Verdict::Minor, "Minor (too small to gate)" },
        { Verdict::NoEstimate, "Not gated (no noise estimate)" },
        { Verdict::New, "New" },
        { Verdict::Removed, "Removed" },
        { Verdict::Unchanged, "Unchanged" },
    };
    return s;
}

std::string byNoun(const Comparison& c)
{
    switch (c.options.by) {
    case ReportBy::Kernel:
        return "kernel";
    case ReportBy::Callpath:
        return "call path";
    default:
        return "range";
    }
}

/// The confidence of each interval: "98.75 %".
std::string levelText(const Comparison& c)
{
    return fmt::format("{:.4g} %", 100 * c.itemConfidence);
}

std::string setup(const Comparison& c)
{
    return fmt::format("by {}, {} baseline run{} against {} current run{}, threshold {:g} %, {:g} % confidence for "
                       "the whole comparison ({} gated item{}, each interval at {}), items under {:g} % of the {} "
                       "time not gated",
        byNoun(c), c.basePaths.size(), c.basePaths.size() == 1 ? "" : "s", c.currentPaths.size(),
        c.currentPaths.size() == 1 ? "" : "s", 100 * c.options.threshold, 100 * c.options.confidence, c.gatedItems,
        c.gatedItems == 1 ? "" : "s", levelText(c), 100 * c.options.minShare,
        c.options.by == ReportBy::Kernel ? "kernel" : "run");
}

std::string runLine(const Comparison& c)
{
    return fmt::format("run time {} → {} ({}; {}: {})", humanSeconds(c.run.base.meanSeconds),
        humanSeconds(c.run.current.meanSeconds), changeText(c.run), verdictName(c.run.verdict), c.run.why);
}

// ---- text ----

std::string formatText(const Comparison& c, const CompareFormatOptions& o)
{
    std::string out = fmt::format("rooftime compare: {}\n  {}\n  {}\n", c.headline(), setup(c), runLine(c));
    for (const std::string& w : c.warnings)
        out += "  warning: " + w + "\n";
    // The findings first, as sentences; then the table of everything.
    for (const CompareRow& r : c.rows)
        if (r.verdict == Verdict::Regression || r.verdict == Verdict::Improvement)
            out += fmt::format("{} {}: {}\n", r.verdict == Verdict::Regression ? "REGRESSION " : "improvement",
                itemName(r), sentence(r));
    for (const BudgetCheck& b : c.budget)
        if (!b.passed)
            out += fmt::format("BUDGET      {}{}: {}\n", b.rule, b.item.empty() ? "" : " — " + b.item, b.message);
    const std::size_t fixed = 12 + 11 + 11 + 30 + 14;
    const std::size_t nameWidth = o.width > fixed + 20 ? o.width - fixed : 20;
    std::size_t longest = 4;
    for (const CompareRow& r : c.rows)
        longest = std::max(longest, itemName(r).size());
    const std::size_t w = std::min(nameWidth, longest);
    out += fmt::format("\n{:<12}{:<{}}  {:>9}  {:>9}  {:<28}  {:>12}\n", "verdict", "item", w, "baseline", "current",
        fmt::format("change [{} interval]", levelText(c)), "efficiency");
    std::size_t unchangedShown = 0, unchangedHidden = 0;
    for (const auto& [verdict, title] : sections()) {
        for (const CompareRow& r : c.rows) {
            if (r.verdict != verdict) continue;
            if (verdict == Verdict::Unchanged && o.top > 0 && unchangedShown >= o.top) {
                ++unchangedHidden;
                continue;
            }
            if (verdict == Verdict::Unchanged) ++unchangedShown;
            const std::string eff = efficiencyText(r);
            out += fmt::format("{:<12}{:<{}}  {:>9}  {:>9}  {:<28}  {:>12}\n", verdictName(r.verdict),
                elideMiddle(itemName(r), w), w, r.base.present ? humanSeconds(r.base.meanSeconds) : "-",
                r.current.present ? humanSeconds(r.current.meanSeconds) : "-", changeText(r), eff);
        }
    }
    if (unchangedHidden > 0) out += fmt::format("({} more unchanged; --top 0 shows all)\n", unchangedHidden);
    if (!c.budget.empty()) {
        out += fmt::format("\nbudget {}: {} check{}, {} broken\n", c.budgetPath, c.budget.size(),
            c.budget.size() == 1 ? "" : "s", c.budgetFailures());
        for (const BudgetCheck& b : c.budget)
            out += fmt::format("  {:<5} {}{}: {}\n",
                b.skipped      ? "skip"
                    : b.passed ? "ok"
                               : "FAIL",
                b.rule, b.item.empty() ? "" : " — " + b.item, b.message);
    }
    out += fmt::format("\nbaseline/current: mean time per run; {} in docs/compare.md\n",
        !c.failed()                   ? std::string("how verdicts are reached is")
            : c.budgetFailures() == 0 ? std::string("exit status 1 (regression); how verdicts are reached is")
            : c.count(Verdict::Regression) == 0 && c.run.verdict != Verdict::Regression
            ? std::string("exit status 1 (a budget rule broken); how verdicts are reached is")
            : std::string("exit status 1 (regression, a budget rule broken); how verdicts are reached is"));
    return out;
}

// ---- Markdown ----

std::string mdCell(const std::string& text)
{
    std::string out;
    for (char ch : text) {
        if (ch == '|')
            out += "\\|";
        else if (ch == '\n')
            out += ' ';
        else
            out += ch;
    }
    return out;
}

/// A code span: fenced by one backtick more than the longest run inside; `|` escaped only in table cells (where
/// GitHub's Markdown needs it even inside code).
std::string mdCode(const std::string& text, bool inTable = true)
{
    std::size_t longest = 0, run = 0;
    for (char ch : text) {
        run = ch == '`' ? run + 1 : 0;
        longest = std::max(longest, run);
    }
    const std::string fence(longest + 1, '`');
    const std::string pad = longest > 0 ? " " : "";
    std::string body;
    for (char ch : text)
        body += ch == '\n' ? std::string(" ") : ch == '|' && inTable ? std::string("\\|") : std::string(1, ch);
    return fence + pad + body + pad + fence;
}

std::string mdTable(const std::vector<const CompareRow*>& rows, const Comparison& c)
{
    std::string out = fmt::format("| {} | baseline / run | current / run | change [{} interval] | efficiency | "
                                  "work | why |\n|---|---:|---:|---|---|---|---|\n",
        byNoun(c), levelText(c));
    for (const CompareRow* r : rows)
        out += fmt::format("| {} | {} | {} | {} | {} | {} | {} |\n", mdCode(itemName(*r)),
            r->base.present ? humanSeconds(r->base.meanSeconds) : "-",
            r->current.present ? humanSeconds(r->current.meanSeconds) : "-", mdCell(changeText(*r)), efficiencyText(*r),
            mdCell(r->work.empty() ? "-" : r->work), mdCell(r->why));
    return out;
}

std::string formatMarkdown(const Comparison& c, const CompareFormatOptions& o)
{
    std::string out = fmt::format("## rooftime compare: {}\n\n", c.headline());
    std::vector<std::string> findings;
    for (const CompareRow& r : c.rows)
        if (r.verdict == Verdict::Regression)
            findings.push_back(fmt::format("- **regression** {}: {}", mdCode(itemName(r), false), sentence(r)));
    if (c.run.verdict == Verdict::Regression)
        findings.push_back(fmt::format("- **regression** of the whole run: {}", sentence(c.run)));
    for (const BudgetCheck& b : c.budget)
        if (!b.passed)
            findings.push_back(fmt::format("- **budget** {}{}: {}", mdCode(b.rule, false),
                b.item.empty() ? "" : " on " + mdCode(b.item, false), b.message));
    if (findings.empty()) findings.push_back("- no regression");
    for (const CompareRow& r : c.rows)
        if (r.verdict == Verdict::Improvement)
            findings.push_back(fmt::format("- improvement {}: {}", mdCode(itemName(r), false), sentence(r)));
    for (const std::string& f : findings)
        out += f + "\n";
    out += fmt::format("\n{}. {}.\n", setup(c), mdCell(runLine(c)));
    for (const std::string& w : c.warnings)
        out += fmt::format("\n> **Warning:** {}\n", mdCell(w));
    for (const auto& [verdict, title] : sections()) {
        std::vector<const CompareRow*> rows;
        for (const CompareRow& r : c.rows)
            if (r.verdict == verdict) rows.push_back(&r);
        if (rows.empty()) continue;
        if (verdict == Verdict::Unchanged) {
            std::size_t hidden = 0;
            if (o.top > 0 && rows.size() > o.top) {
                hidden = rows.size() - o.top;
                rows.resize(o.top);
            }
            out += fmt::format(
                "\n<details><summary>{} ({})</summary>\n\n{}", title, rows.size() + hidden, mdTable(rows, c));
            if (hidden > 0) out += fmt::format("\n{} more not shown (--top).\n", hidden);
            out += "\n</details>\n";
        } else {
            out += fmt::format("\n### {}\n\n{}", title, mdTable(rows, c));
        }
    }
    if (!c.budget.empty()) {
        out += fmt::format("\n### Budget ({})\n\n| rule | item | result |\n|---|---|---|\n", mdCode(c.budgetPath));
        for (const BudgetCheck& b : c.budget)
            out += fmt::format("| {} | {} | {}: {} |\n", mdCode(b.rule), b.item.empty() ? "-" : mdCode(b.item),
                b.skipped      ? "skipped"
                    : b.passed ? "ok"
                               : "**broken**",
                mdCell(b.message));
    }
    out += "\n### To reproduce\n\n```sh\n";
    // Each side's folder and recorded command, as `rooftime record` would write them again.
    auto recordLine = [](const std::vector<std::string>& paths, const std::string& cmd) {
        std::string dir
            = paths.empty() ? std::string(".") : std::filesystem::path(paths.front()).parent_path().string();
        if (dir.empty()) dir = ".";
        return fmt::format("rooftime record -o {}/%p.rtdb -- {}\n", dir, cmd.empty() ? "CMD" : cmd);
    };
    out += c.baseCommand == c.currentCommand ? "# on the baseline build, then on the current one (3 runs each):\n"
                                             : "# baseline, then current (3 runs each):\n";
    out += recordLine(c.basePaths, c.baseCommand);
    out += recordLine(c.currentPaths, c.currentCommand);
    out += (o.commandLine.empty() ? std::string("rooftime compare base/ --current cand/") : o.commandLine) + "\n```\n";
    return out;
}

// ---- JUnit XML ----

/// @p text with every invalid UTF-8 sequence replaced by U+FFFD: names are the program's bytes, and one bad byte
/// would make the whole XML file unreadable.
std::string validUtf8(const std::string& text)
{
    std::string out;
    for (std::size_t i = 0; i < text.size();) {
        const auto b = static_cast<unsigned char>(text[i]);
        std::size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
        bool ok = len > 0 && i + len <= text.size();
        for (std::size_t k = 1; ok && k < len; ++k)
            ok = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
        if (ok && len == 2) ok = b >= 0xC2; // overlong
        if (ok && len == 3) {
            const auto b1 = static_cast<unsigned char>(text[i + 1]);
            ok = !(b == 0xE0 && b1 < 0xA0) && !(b == 0xED && b1 >= 0xA0); // overlong, surrogates
        }
        if (ok && len == 4) {
            const auto b1 = static_cast<unsigned char>(text[i + 1]);
            ok = b <= 0xF4 && !(b == 0xF0 && b1 < 0x90) && !(b == 0xF4 && b1 >= 0x90);
        }
        if (ok) {
            out.append(text, i, len);
            i += len;
        } else {
            out += "\xEF\xBF\xBD";
            ++i;
        }
    }
    return out;
}

std::string xml(const std::string& raw)
{
    const std::string text = validUtf8(raw);
    std::string out;
    for (unsigned char ch : text) {
        switch (ch) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        case '\'':
            out += "&apos;";
            break;
        default:
            // XML 1.0 allows no control characters but tab, newline and carriage return.
            if (ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r')
                out += '?';
            else
                out += static_cast<char>(ch);
        }
    }
    return out;
}

std::string formatJunit(const Comparison& c)
{
    std::string cases;
    std::size_t tests = 0, failures = 0, skipped = 0;
    auto item = [&](const CompareRow& r, const std::string& cls) {
        ++tests;
        cases += fmt::format("    <testcase classname=\"{}\" name=\"{}\">", xml(cls), xml(itemName(r)));
        if (r.verdict == Verdict::Regression) {
            ++failures;
            cases += fmt::format("\n      <failure type=\"regression\" message=\"{}\">{}: {}</failure>\n    ",
                xml(sentence(r)), xml(r.why), xml(sentence(r)));
        } else {
            cases += fmt::format(
                "<system-out>{}: {} ({})</system-out>", verdictName(r.verdict), xml(sentence(r)), xml(r.why));
        }
        cases += "</testcase>\n";
    };
    item(c.run, "rooftime.run");
    for (const CompareRow& r : c.rows)
        item(r, "rooftime." + (r.kind.empty() ? std::string("item") : r.kind));
    for (const BudgetCheck& b : c.budget) {
        ++tests;
        const std::string name = b.item.empty() ? b.rule : b.rule + " — " + b.item;
        cases += fmt::format("    <testcase classname=\"rooftime.budget\" name=\"{}\">", xml(name));
        if (b.skipped) {
            ++skipped;
            cases += fmt::format("<skipped message=\"{}\"/>", xml(b.message));
        } else if (!b.passed) {
            ++failures;
            cases += fmt::format(
                "\n      <failure type=\"budget\" message=\"{}\">{}</failure>\n    ", xml(b.message), xml(b.message));
        }
        cases += "</testcase>\n";
    }
    std::string props = fmt::format("      <property name=\"setup\" value=\"{}\"/>\n", xml(setup(c)));
    for (const std::string& p : c.basePaths)
        props += fmt::format("      <property name=\"baseline\" value=\"{}\"/>\n", xml(p));
    for (const std::string& p : c.currentPaths)
        props += fmt::format("      <property name=\"current\" value=\"{}\"/>\n", xml(p));
    for (const std::string& w : c.warnings)
        props += fmt::format("      <property name=\"warning\" value=\"{}\"/>\n", xml(w));
    return fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                       "<testsuites name=\"rooftime compare\" tests=\"{0}\" failures=\"{1}\" skipped=\"{2}\">\n"
                       "  <testsuite name=\"rooftime compare by {3}\" tests=\"{0}\" failures=\"{1}\" errors=\"0\" "
                       "skipped=\"{2}\">\n    <properties>\n{4}    </properties>\n{5}  </testsuite>\n</testsuites>\n",
        tests, failures, skipped, xml(byNoun(c)), props, cases);
}

// ---- JSON ----

nlohmann::json opt(const std::optional<double>& v)
{
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json sideJson(const CompareSide& s)
{
    nlohmann::json j;
    j["present"] = s.present;
    j["mean_s"] = s.meanSeconds;
    j["run_s"] = s.runSeconds;
    j["count_per_run"] = s.count;
    j["flops_per_run"] = opt(s.flops);
    j["bytes_per_run"] = s.bytesByLevel;
    j["efficiency"] = opt(s.efficiency);
    j["limiter"] = s.limiter;
    j["noise_basis"] = s.noiseBasis;
    j["mean_stderr_s"] = s.meanVariance ? nlohmann::json(std::sqrt(*s.meanVariance)) : nlohmann::json(nullptr);
    j["dof"] = s.dof;
    return j;
}

nlohmann::json rowJson(const CompareRow& r)
{
    nlohmann::json j;
    j["name"] = r.name;
    j["kind"] = r.kind;
    j["device"] = r.device;
    if (!r.path.empty()) j["path"] = r.path;
    j["verdict"] = verdictName(r.verdict);
    j["why"] = r.why;
    j["change"] = opt(r.change);
    j["low"] = opt(r.low);
    j["high"] = opt(r.high);
    j["delta_s"] = r.deltaSeconds;
    j["weight"] = r.weight;
    j["work"] = r.work;
    j["summary"] = sentence(r);
    j["baseline"] = sideJson(r.base);
    j["current"] = sideJson(r.current);
    return j;
}

std::string formatJson(const Comparison& c)
{
    nlohmann::json j;
    j["format"] = "rooftime-compare";
    j["version"] = "1.0";
    j["failed"] = c.failed();
    j["headline"] = c.headline();
    j["options"] = { { "by", reportByName(c.options.by) }, { "threshold", c.options.threshold },
        { "min_share", c.options.minShare }, { "confidence", c.options.confidence }, { "gated_items", c.gatedItems },
        { "item_confidence", c.itemConfidence } };
    j["baseline"] = { { "profiles", c.basePaths }, { "command", c.baseCommand },
        { "analysed_s_per_run", c.baseAnalysedSeconds } };
    j["current"] = { { "profiles", c.currentPaths }, { "command", c.currentCommand },
        { "analysed_s_per_run", c.currentAnalysedSeconds } };
    j["warnings"] = c.warnings;
    j["run"] = rowJson(c.run);
    j["items"] = nlohmann::json::array();
    for (const CompareRow& r : c.rows)
        j["items"].push_back(rowJson(r));
    nlohmann::json checks = nlohmann::json::array();
    for (const BudgetCheck& b : c.budget)
        checks.push_back({ { "rule", b.rule }, { "item", b.item }, { "passed", b.passed }, { "skipped", b.skipped },
            { "message", b.message } });
    j["budget"] = { { "path", c.budgetPath }, { "checks", checks } };
    return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

} // namespace

std::string formatComparison(const Comparison& c, CompareFormat format, const CompareFormatOptions& options)
{
    switch (format) {
    case CompareFormat::Markdown:
        return formatMarkdown(c, options);
    case CompareFormat::Junit:
        return formatJunit(c);
    case CompareFormat::Json:
        return formatJson(c);
    case CompareFormat::Text:
        break;
    }
    return formatText(c, options);
}

} // namespace rooftime::analyzer
