// SPDX-License-Identifier: MIT
#include "rooftime/analyzer/format.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>

namespace rooftime::analyzer {

std::optional<OutputFormat> parseOutputFormat(const std::string& text)
{
    if (text == "text") return OutputFormat::Text;
    if (text == "json") return OutputFormat::Json;
    if (text == "csv") return OutputFormat::Csv;
    return std::nullopt;
}

std::string elideMiddle(const std::string& text, std::size_t width)
{
    if (text.size() <= width) return text;
    if (width <= 3) return text.substr(0, width);
    const std::size_t keep = width - 3;
    const std::size_t head = (keep + 1) / 2;
    const std::size_t tail = keep - head;
    return text.substr(0, head) + "..." + text.substr(text.size() - tail);
}

std::string siValue(double value)
{
    static const char* const prefixes[] = { "", "k", "M", "G", "T", "P", "E" };
    if (value == 0) return "0";
    int p = 0;
    double v = value;
    while (std::fabs(v) >= 999.5 && p < 6) {
        v /= 1000;
        ++p;
    }
    if (p == 0 && std::fabs(v) < 1) return fmt::format("{:.3g}", v);
    const int decimals = std::fabs(v) >= 99.95 ? 0 : (std::fabs(v) >= 9.995 ? 1 : 2);
    return fmt::format("{:.{}f}{}{}", v, decimals, p ? " " : "", prefixes[p]);
}

std::string humanBytes(double bytes)
{
    static const char* const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
    int u = 0;
    double v = bytes;
    while (std::fabs(v) >= 1024 && u < 5) {
        v /= 1024;
        ++u;
    }
    if (u == 0 || v == std::floor(v)) return fmt::format("{:.0f} {}", v, units[u]);
    return fmt::format("{:.{}f} {}", v, std::fabs(v) >= 99.95 ? 0 : (std::fabs(v) >= 9.995 ? 1 : 2), units[u]);
}

std::string humanSeconds(double s)
{
    const double a = std::fabs(s);
    if (a == 0) return "0 s";
    if (a < 1e-6) return fmt::format("{:.0f} ns", s * 1e9);
    if (a < 1e-3) return fmt::format("{:.3g} us", s * 1e6);
    if (a < 1) return fmt::format("{:.3g} ms", s * 1e3);
    return fmt::format("{:.3g} s", s);
}

namespace {

// Rows shown under --top (0: all).
std::size_t shownRows(const Report& report, const FormatOptions& options)
{
    return options.top ? std::min(options.top, report.rows.size()) : report.rows.size();
}

std::string opt(const std::optional<double>& v, const char* spec = "{}")
{
    return v ? fmt::format(fmt::runtime(spec), *v) : std::string("-");
}

std::string shortSource(const ReportRow& r)
{
    switch (r.workSource) {
    case Source::Declared:
        return "declared";
    case Source::PartlyDeclared:
        return "partial";
    case Source::Measured:
        return "measured";
    case Source::Estimated:
        return "estim.";
    default:
        return "-";
    }
}

std::string formatText(const Report& report, const FormatOptions& options)
{
    std::string out;
    const std::size_t files = report.profiles.size();
    out += fmt::format("rooftime report: {} profile{}, {} of run time\n", files, files == 1 ? "" : "s",
        humanSeconds(report.runSeconds));
    for (const ProfileSummary& p : report.profiles) {
        std::string state = p.complete ? "complete" : "incomplete: data up to the last commit";
        if (!p.process.endReason.empty() && p.process.endReason != "exit") state += " (" + p.process.endReason + ")";
        out += fmt::format("  {}  pid {} rank {} on {}, {}, {}\n", elideMiddle(p.path, 60), p.process.pid,
            p.process.rank, p.process.host, humanSeconds(p.runSeconds), state);
        if (!p.params.empty()) {
            std::string params;
            for (const auto& [k, v] : p.params)
                params += fmt::format("{}{}={}", params.empty() ? "" : " ", k, v);
            out += "    params: " + elideMiddle(params, options.width - 12) + "\n";
        }
        if (p.droppedEvents)
            out += fmt::format("    warning: {} events dropped (writer could not keep up)\n", p.droppedEvents);
        for (const std::string& d : p.diagnostics)
            out += "    note: " + elideMiddle(d, options.width - 10) + "\n";
    }
    if (report.machine)
        out += "  machine: " + elideMiddle(machineSummary(*report.machine), options.width - 11) + "\n           ("
            + elideMiddle(report.machineSource, options.width - 13) + ")\n";
    else
        out += "  machine: none embedded (recorded with --no-machine or by an older rooftime); pass --machine FILE\n";
    for (const std::string& w : report.machineWarnings)
        out += "  warning: " + elideMiddle(w, options.width - 11) + "\n";
    if (report.rows.empty()) {
        out += "\nNo regions recorded. Mark code with rooftime_begin/rooftime_end (docs/markers.md) or NVTX ranges.\n";
        return out;
    }
    // Fixed columns take 88; the name gets the rest of the width.
    const std::size_t fixed = 88;
    const std::size_t nameWidth = options.width > fixed + 10 ? options.width - fixed : 10;
    out += fmt::format("\n{:>9} {:>6} {:>10} {:>9} {:>9} {:>8} {:>9} {:>9}  {:<8}  {}\n", "time", "share", "count",
        "FLOPs", "bytes", "AI", "GFLOP/s", "GB/s", "work", "name");
    const std::size_t shown = shownRows(report, options);
    for (std::size_t i = 0; i < shown; ++i) {
        const ReportRow& r = report.rows[i];
        out += fmt::format("{:>9} {:>5.1f}% {:>10} {:>9} {:>9} {:>8} {:>9} {:>9}  {:<8}  {}\n",
            humanSeconds(r.timeSeconds), r.share * 100, r.count, r.flops ? siValue(*r.flops) : "-",
            r.bytes ? siValue(*r.bytes) : "-", opt(r.intensity, "{:.3g}"),
            r.flopsPerSecond ? fmt::format("{:.3g}", *r.flopsPerSecond / 1e9) : "-",
            r.bytesPerSecond ? fmt::format("{:.3g}", *r.bytesPerSecond / 1e9) : "-", shortSource(r),
            elideMiddle(r.kind == "marker" ? r.name : r.name + " [" + r.kind + "]", nameWidth));
    }
    if (shown < report.rows.size())
        out += fmt::format("... {} more rows (--top 0 shows all)\n", report.rows.size() - shown);
    out += "\nSources: time is timed (wall clock of each instance, summed). FLOPs and bytes are declared\n"
           "with rooftime_add_work; partial: only some instances declared, rates use their time.\n"
           "Share is of the run time; nested regions overlap.\n";
    return out;
}

nlohmann::json optJson(const std::optional<double>& v)
{
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

std::string formatJson(const Report& report, const FormatOptions& options)
{
    nlohmann::json j;
    j["rooftime_report_version"] = 1;
    j["run_time_s"] = report.runSeconds;
    j["profiles"] = nlohmann::json::array();
    for (const ProfileSummary& p : report.profiles) {
        nlohmann::json params = nlohmann::json::object();
        for (const auto& [k, v] : p.params)
            params[k] = v;
        j["profiles"].push_back({ { "path", p.path }, { "pid", p.process.pid }, { "ppid", p.process.ppid },
            { "host", p.process.host }, { "rank", p.process.rank }, { "exe", p.process.exe },
            { "cmdline", p.process.cmdline }, { "complete", p.complete }, { "end_reason", p.process.endReason },
            { "mode", p.mode }, { "run_time_s", p.runSeconds }, { "dropped_events", p.droppedEvents },
            { "params", params }, { "diagnostics", p.diagnostics } });
    }
    if (report.machine) {
        const MachineModel& m = *report.machine;
        nlohmann::json roofs = nlohmann::json::array();
        for (const Ceiling& c : m.ceilings) {
            if (!c.roof) continue;
            roofs.push_back({ { "device", c.device }, { "kind", ceilingKindName(c.kind) }, { "precision", c.precision },
                { "variant", c.variant }, { "level", c.level }, { "pattern", c.pattern }, { "threads", c.threads },
                { "value", c.value }, { "unit", c.unit }, { "theoretical", optJson(c.theoretical) } });
        }
        j["machine"] = { { "source", report.machineSource }, { "host", m.identity.host }, { "key", m.identity.key() },
            { "cpu", m.cpu.model }, { "created", m.created }, { "mode", m.mode }, { "roofs", roofs } };
    } else {
        j["machine"] = nullptr;
    }
    j["machine_warnings"] = report.machineWarnings;
    j["rows"] = nlohmann::json::array();
    for (std::size_t i = 0; i < shownRows(report, options); ++i) {
        const ReportRow& r = report.rows[i];
        j["rows"].push_back({ { "name", r.name }, { "kind", r.kind }, { "count", r.count }, { "time_s", r.timeSeconds },
            { "share", r.share }, { "flops", optJson(r.flops) }, { "bytes", optJson(r.bytes) },
            { "intensity", optJson(r.intensity) }, { "flops_per_s", optJson(r.flopsPerSecond) },
            { "bytes_per_s", optJson(r.bytesPerSecond) }, { "declared_instances", r.declaredCount },
            { "implicitly_closed", r.implicitlyClosed },
            { "sources",
                { { "time", sourceName(r.timeSource) }, { "flops", sourceName(r.workSource) },
                    { "bytes", sourceName(r.workSource) } } } });
    }
    return j.dump(2) + "\n";
}

std::string csvField(const std::string& s)
{
    if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

std::string formatCsv(const Report& report, const FormatOptions& options)
{
    std::string out = "name,kind,count,time_s,share,flops,bytes,intensity,flops_per_s,bytes_per_s,declared_instances,"
                      "implicitly_closed,time_source,work_source\n";
    auto num = [](const std::optional<double>& v) { return v ? fmt::format("{:.17g}", *v) : std::string(); };
    for (std::size_t i = 0; i < shownRows(report, options); ++i) {
        const ReportRow& r = report.rows[i];
        out += fmt::format("{},{},{},{:.9g},{:.6g},{},{},{},{},{},{},{},{},{}\n", csvField(r.name), r.kind, r.count,
            r.timeSeconds, r.share, num(r.flops), num(r.bytes), num(r.intensity), num(r.flopsPerSecond),
            num(r.bytesPerSecond), r.declaredCount, r.implicitlyClosed, sourceName(r.timeSource),
            csvField(sourceName(r.workSource)));
    }
    return out;
}

} // namespace

std::string formatReport(const Report& report, OutputFormat format, const FormatOptions& options)
{
    switch (format) {
    case OutputFormat::Json:
        return formatJson(report, options);
    case OutputFormat::Csv:
        return formatCsv(report, options);
    case OutputFormat::Text:
        break;
    }
    return formatText(report, options);
}

} // namespace rooftime::analyzer
