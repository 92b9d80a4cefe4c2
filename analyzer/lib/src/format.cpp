// SPDX-License-Identifier: MIT
#include "rooftime/analyzer/format.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <map>

namespace rooftime::analyzer {

std::optional<OutputFormat> parseOutputFormat(const std::string& text)
{
    if (text == "text") return OutputFormat::Text;
    if (text == "json") return OutputFormat::Json;
    if (text == "csv") return OutputFormat::Csv;
    return std::nullopt;
}

namespace {

/// Byte offsets where the UTF-8 characters of @p text start (a byte that is not a continuation byte), and the
/// text's size at the end: widths count characters, and cuts never split one (names are often C++ signatures
/// or NVTX ranges in any language).
std::vector<std::size_t> charStarts(const std::string& text)
{
    std::vector<std::size_t> starts;
    for (std::size_t i = 0; i < text.size(); ++i)
        if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80 || i == 0) starts.push_back(i);
    starts.push_back(text.size());
    return starts;
}

} // namespace

std::string elideMiddle(const std::string& text, std::size_t width)
{
    const std::vector<std::size_t> at = charStarts(text);
    const std::size_t chars = at.size() - 1;
    if (chars <= width) return text;
    if (width <= 3) return text.substr(0, at[width]);
    const std::size_t keep = width - 3;
    const std::size_t head = (keep + 1) / 2;
    const std::size_t tail = keep - head;
    return text.substr(0, at[head]) + "..." + text.substr(at[chars - tail]);
}

std::string elideFront(const std::string& text, std::size_t width)
{
    const std::vector<std::size_t> at = charStarts(text);
    const std::size_t chars = at.size() - 1;
    if (chars <= width) return text;
    if (width <= 3) return text.substr(at[chars - width]);
    return "..." + text.substr(at[chars - (width - 3)]);
}

double efficiencyPercent(double efficiency)
{
    return std::floor(efficiency * 100 + 1e-9);
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

std::string itemNoun(ReportBy by, std::size_t n)
{
    const char* noun = by == ReportBy::Kernel ? "kernel"
        : by == ReportBy::Window              ? "window"
        : by == ReportBy::Callpath            ? "call path"
        : by == ReportBy::Rank                ? "rank row"
                                              : "region";
    return n == 1 ? noun : std::string(noun) + "s";
}

/// Greedy word wrap to @p width columns; ends with a newline.
std::string wrap(const std::string& text, std::size_t width)
{
    std::string out, line;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t next = text.find(' ', pos);
        if (next == std::string::npos) next = text.size();
        const std::string word = text.substr(pos, next - pos);
        if (!line.empty() && line.size() + 1 + word.size() > width) {
            out += line + "\n";
            line.clear();
        }
        line += (line.empty() ? "" : " ") + word;
        pos = next + 1;
    }
    if (!line.empty()) out += line + "\n";
    return out;
}

/// wrap() with a first-line lead and the following lines indented: "  machine: …" / "           …".
std::string wrapIndented(const std::string& text, const std::string& first, const std::string& rest, std::size_t width)
{
    const std::string lines = wrap(text, width > first.size() + 10 ? width - first.size() : 10);
    std::string out;
    std::size_t start = 0;
    for (std::size_t end; (end = lines.find('\n', start)) != std::string::npos; start = end + 1)
        out += (start == 0 ? first : rest) + lines.substr(start, end + 1 - start);
    return out;
}

std::string opt(const std::optional<double>& v, const char* spec = "{}")
{
    return v ? fmt::format(fmt::runtime(spec), *v) : std::string("-");
}

std::string shortSource(const ReportRow& r)
{
    switch (r.workSource) {
    case Source::Declared:
        return "decl.";
    case Source::PartlyDeclared:
        return "part.";
    case Source::Measured:
        return "meas.";
    case Source::Estimated:
        return "estim.";
    default:
        return "-";
    }
}

/// A function frame as a path shows it in a table: "ns::Class::method(int) const" -> "method".
std::string shortFunction(const std::string& f)
{
    // Cut the parameter list: the last '(' at template depth 0 that is not "(anonymous namespace)".
    std::string name = f;
    int depth = 0;
    for (std::size_t i = 0; i < f.size(); ++i) {
        const char c = f[i];
        if (c == '<') ++depth;
        if (c == '>' && depth > 0) --depth;
        if (c == '(' && depth == 0 && f.compare(i, 21, "(anonymous namespace)") != 0) {
            name = f.substr(0, i);
            break;
        }
    }
    // Keep the last name component outside template arguments.
    depth = 0;
    std::size_t start = 0;
    for (std::size_t i = 0; i + 1 < name.size(); ++i) {
        if (name[i] == '<') ++depth;
        if (name[i] == '>' && depth > 0) --depth;
        if (depth == 0 && name[i] == ':' && name[i + 1] == ':') start = i + 2;
    }
    const std::size_t space = name.rfind(' ', name.find('<') == std::string::npos ? std::string::npos : name.find('<'));
    if (space != std::string::npos && space + 1 > start) start = space + 1; // a return type before the name
    std::string out = name.substr(start);
    return out.empty() ? f : out;
}

} // namespace

namespace {

/// compactKernelName; with @p lambdas, each lambda keeps its parameters and number ("lambda(long)#1").
std::string compactName(const std::string& full, bool lambdas)
{
    auto ident = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
    // The parameter list: from the first '(' outside template arguments, except "(anonymous namespace)".
    std::string s = full;
    int depth = 0;
    for (std::size_t i = 0; i < full.size(); ++i) {
        if (full[i] == '<') ++depth;
        if (full[i] == '>' && depth > 0) --depth;
        if (full[i] == '(' && depth == 0 && full.compare(i, 21, "(anonymous namespace)") != 0) {
            s = full.substr(0, i);
            break;
        }
    }
    // Parenthesised groups (parameter lists inside template arguments, "(anonymous namespace)") go; a lambda's
    // "{lambda(float)#1}" becomes "lambda".
    std::string t;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '(' || s[i] == '{') {
            const char close = s[i] == '(' ? ')' : '}';
            const char opening = s[i];
            const std::size_t from = i;
            int d = 0;
            for (; i < s.size(); ++i) {
                if (s[i] == opening) ++d;
                if (s[i] == close && --d == 0) break;
            }
            if (opening == '{') t += lambdas ? s.substr(from + 1, i - from - 1) : std::string("lambda");
            continue;
        }
        t += s[i];
    }
    // "::operator()() const" between nested lambdas, and cv-qualifiers (whole words only: not "constant_t").
    for (std::size_t at; (at = t.find("::operator")) != std::string::npos;)
        t.erase(at, 10);
    for (std::size_t at = 0; (at = t.find(" const", at)) != std::string::npos;)
        if (at + 6 == t.size() || !ident(t[at + 6]))
            t.erase(at, 6);
        else
            ++at;
    // Namespace and class qualifiers go with their template arguments ("at::native::X", "Outer<float>::X" ->
    // "X"), except before a lambda, which needs its owner.
    std::string u;
    for (std::size_t i = 0; i < t.size(); ++i) {
        if (t.compare(i, 2, "::") == 0 && i + 2 < t.size() && (ident(t[i + 2]) || t[i + 2] == ':')
            && t.compare(i + 2, 6, "lambda") != 0) {
            if (!u.empty() && u.back() == '>') { // the qualifier's template arguments
                int d = 0;
                while (!u.empty()) {
                    const char c = u.back();
                    u.pop_back();
                    if (c == '>') ++d;
                    if (c == '<' && --d == 0) break;
                }
            }
            while (!u.empty() && ident(u.back()))
                u.pop_back();
            ++i;
            continue;
        }
        u += t[i];
    }
    // A return type ("void ", "type "): everything up to the last space outside template arguments.
    depth = 0;
    std::size_t space = std::string::npos;
    for (std::size_t i = 0; i < u.size(); ++i) {
        if (u[i] == '<') ++depth;
        if (u[i] == '>' && depth > 0) --depth;
        if (u[i] == ' ' && depth == 0) space = i;
    }
    if (space != std::string::npos) u.erase(0, space + 1);
    if (!lambdas)
        for (std::size_t at; (at = u.find("lambda::lambda")) != std::string::npos;)
            u.erase(at, 8);
    for (std::size_t at; (at = u.find("> >")) != std::string::npos;)
        u.erase(at + 1, 1);
    return u.empty() ? full : u;
}

} // namespace

std::string compactKernelName(const std::string& full)
{
    return compactName(full, false);
}

std::map<std::string, std::string> compactKernelNameMap(std::vector<std::string> names)
{
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    const std::vector<std::string> shortNames = compactKernelNames(names);
    std::map<std::string, std::string> out;
    for (std::size_t i = 0; i < names.size(); ++i)
        out.emplace(names[i], shortNames[i]);
    return out;
}

std::vector<std::string> compactKernelNames(const std::vector<std::string>& full)
{
    std::vector<std::string> out;
    std::map<std::string, int> uses;
    for (const std::string& f : full)
        ++uses[out.emplace_back(compactName(f, false))];
    // Two kernels alike once compacted (lambdas #4 and #7 of one function): their lambdas keep parameters and
    // numbers; still alike, the whole names.
    std::map<std::string, int> detailedUses;
    std::vector<std::string> detailed(full.size());
    for (std::size_t i = 0; i < full.size(); ++i)
        if (uses[out[i]] > 1) ++detailedUses[detailed[i] = compactName(full[i], true)];
    for (std::size_t i = 0; i < full.size(); ++i)
        if (uses[out[i]] > 1) out[i] = detailedUses[detailed[i]] > 1 ? full[i] : detailed[i];
    return out;
}

std::string callPathEntry(const ReportRow& r, std::size_t i, const std::map<std::string, std::string>* kernelNames)
{
    if (i < r.pathFrames.size() && r.pathFrames[i]) return shortFunction(r.path[i]);
    if (kernelNames && r.kind == "path-kernel" && i + 1 == r.path.size())
        if (auto c = kernelNames->find(r.path[i]); c != kernelNames->end()) return c->second;
    return r.path[i];
}

std::string shortCallPath(const ReportRow& r, std::size_t width, const std::map<std::string, std::string>* kernelNames)
{
    if (r.path.empty()) return elideMiddle(r.name, width);
    std::vector<std::string> parts;
    for (std::size_t i = 0; i < r.path.size(); ++i)
        parts.push_back(callPathEntry(r, i, kernelNames));
    std::string all;
    for (std::size_t i = 0; i < parts.size(); ++i)
        all += (i ? " > " : "") + parts[i];
    const auto columns = [](const std::string& s) { return textWidth(s); };
    if (columns(all) <= width) return all;
    // The item alone: its middle is cut, not its start.
    if (parts.size() == 1) return elideMiddle(all, width);
    // Where even the item itself is too long, likewise, after "... > ": "... > vectori...ambda>".
    constexpr std::size_t kLead = 6; // "... > "
    if (width >= kLead + 14 && columns(parts.back()) > width - kLead)
        return "... > " + elideMiddle(parts.back(), width - kLead);
    if (parts.size() < 3) return elideFront(all, width);
    std::string tail = parts.back();
    for (std::size_t i = parts.size() - 1; i-- > 1;) {
        const std::string longer = parts[i] + " > " + tail;
        if (columns(parts.front()) + 9 + columns(longer) > width) break;
        tail = longer;
    }
    const std::string shortened = parts.front() + " > ... > " + tail;
    // Too narrow even for that: the innermost end of the whole path stays (not "... > ... > tail").
    return columns(shortened) <= width ? shortened : elideFront(all, width);
}

std::size_t textWidth(const std::string& text)
{
    return charStarts(text).size() - 1;
}

namespace {

/// Where the kernels' work comes from: measured on every launch, or scaled from the replayed ones; and the scaled
/// rows whose estimate is doubtful, largest time first.
std::string sourcesLine(const Report& report, const FormatOptions& options)
{
    std::size_t measured = 0, estimated = 0;
    std::uint64_t replayed = 0, launches = 0;
    std::vector<const ReportRow*> doubtful;
    std::size_t without = 0, untimedRows = 0, timeless = 0, moves = 0;
    std::uint64_t withoutLaunches = 0, untimed = 0;
    for (const ReportRow& r : report.rows) {
        if (r.kind == "kernel" && r.hfmaMoves > 0) ++moves;
        if ((r.kind == "kernel" || r.kind == "path-kernel") && r.untimed > 0) {
            ++untimedRows;
            untimed += r.untimed;
            timeless += r.untimedZero > 0;
        }
        if (r.kind == "kernel" && !r.workSpread) {
            ++without;
            withoutLaunches += r.count;
        }
        if (r.kind != "kernel" || !r.workSpread) continue;
        ++(r.workSource == Source::Measured ? measured : estimated);
        replayed += r.replayed;
        launches += r.count;
        if (r.workSource == Source::Estimated && !r.workSpread->doubts().empty()) doubtful.push_back(&r);
    }
    // Replayed launches whose values (their time among them) were lost: a guess, said as one.
    std::string untimedText;
    if (untimed > 0)
        untimedText = fmt::format(" {} launch{} in {} kernel row{} recorded no time (replayed, the counter values "
                                  "lost) and count{} at the row's mean launch time, else the kernel's (time "
                                  "estimated{}).",
            untimed, untimed == 1 ? "" : "es", untimedRows, untimedRows == 1 ? "" : "s", untimed == 1 ? "s" : "",
            timeless == 0 ? std::string()
                          : fmt::format("; {} row{} of a kernel without any timed launch {} no time: -, 0 in JSON",
                              timeless, timeless == 1 ? "" : "s", timeless == 1 ? "has" : "have"));
    if (measured + estimated == 0 && without == 0) // by call path: kernel rows are path-kernel rows
        return untimedText.empty() ? std::string() : wrap(fmt::format("Sources:{}", untimedText), options.width);
    if (measured + estimated == 0)
        return wrap(fmt::format("Sources: {} kernel row{} ({} launch{}) with times only: no counters were "
                                "recorded (`rooftime record --mode counters` measures FLOPs and bytes "
                                "on the first launches of each kernel).",
                        without, without == 1 ? "" : "s", withoutLaunches, withoutLaunches == 1 ? "" : "es")
                + untimedText,
            options.width);
    std::string text = fmt::format("Sources: the FLOPs and bytes of {} kernel row{} come from counters: {} measured on "
                                   "every launch, {} scaled from the {} launches replayed (of {}).",
        measured + estimated, measured + estimated == 1 ? "" : "s", measured, estimated, replayed, launches);
    // Never replayed (collectives, launches while counters were paused or had stopped): time only.
    if (without > 0)
        text += fmt::format(" {} kernel row{} ({} launch{}) {} no counters (the profile's notes say why where known).",
            without, without == 1 ? "" : "s", withoutLaunches, withoutLaunches == 1 ? "" : "es",
            without == 1 ? "has" : "have");
    text += untimedText;
    if (moves > 0)
        text += fmt::format(
            " In {} kernel row{} the HFMA instructions all ran on the tensor pipe beside fp32/fp64 work: "
            "the compiler's constant loads (HFMA2.MMA), not counted as fp16 FLOPs.",
            moves, moves == 1 ? "" : "s");
    if (!doubtful.empty()) {
        std::stable_sort(doubtful.begin(), doubtful.end(),
            [](const ReportRow* a, const ReportRow* b) { return a->timeSeconds > b->timeSeconds; });
        std::vector<std::string> named;
        for (std::size_t i = 0; i < doubtful.size() && i < 3; ++i)
            named.push_back(fmt::format(
                "{} ({})", elideMiddle(doubtful[i]->name, 40), fmt::join(doubtful[i]->workSpread->doubts(), ", ")));
        text
            += fmt::format(" The scaled work of {} row{} may be off, the unmeasured launches doing other work than the "
                           "measured ones (another size under the same name; `record --counters all` measures every "
                           "launch): {}{}.",
                doubtful.size(), doubtful.size() == 1 ? "" : "s", fmt::join(named, "; "),
                doubtful.size() > named.size() ? "; …" : "");
    }
    return wrap(text, options.width);
}

/// The SM clocks the counters saw, beside the clock the machine model's roofs were measured at: a kernel measured
/// well below it was slowed by its clock (power, heat, or a locked clock), not only by its code.
std::string clockLine(const Report& report, const FormatOptions& options)
{
    std::vector<double> clocks;
    std::size_t slow = 0;
    double model = 0; // the clock the roofs were measured at, of the GPUs whose kernels have clocks
    for (const ReportRow& r : report.rows) {
        if (!r.smClockHz) continue;
        clocks.push_back(*r.smClockHz);
        if (!report.machine) continue;
        for (const GpuInfo& g : report.machine->gpus)
            if (r.device == fmt::format("gpu{}", g.index) && g.smMeasuredHz > 0) {
                model = std::max(model, g.smMeasuredHz);
                slow += *r.smClockHz < 0.9 * g.smMeasuredHz ? 1 : 0;
            }
    }
    if (clocks.empty()) return {};
    const auto [lo, hi] = std::minmax_element(clocks.begin(), clocks.end());
    std::string text = fmt::format("SM clock under counters: {}{:.3f} GHz over {} {}",
        *lo < *hi * 0.999 ? fmt::format("{:.3f}–", *lo / 1e9) : std::string(), *hi / 1e9, clocks.size(),
        clocks.size() == 1 ? "kernel" : "kernels");
    if (model > 0) {
        text += fmt::format("; the machine model's roofs were measured at {:.3f} GHz", model / 1e9);
        if (slow > 0)
            text += fmt::format(" ({} {} more than 10% below it: slowed by the clock, not only by the code)", slow,
                slow == 1 ? "kernel ran" : "kernels ran");
    }
    return wrap(text + ".", options.width);
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
        // Lost GPU records are a warning like lost events: kernel counts and times are short, not just annotated.
        // Wrapped, not cut: a note is a sentence whose end says what was lost.
        for (const std::string& d : p.diagnostics)
            out += wrapIndented((d.starts_with("cupti: CUPTI dropped ") ? "warning: " : "note: ") + d, "    ", "      ",
                options.width - 2);
    }
    if (report.machine) {
        // Wrapped, not cut: every roof in it counts (the GPU's name and HBM came last and were cut).
        out += wrapIndented(machineSummary(*report.machine), "  machine: ", std::string(11, ' '), options.width);
        out += "           (" + elideMiddle(report.machineSource, options.width - 13) + ")\n";
    } else {
        // The collector notes a machine file it could not read; otherwise the recording chose to embed none.
        const bool noted = std::any_of(report.profiles.begin(), report.profiles.end(), [](const ProfileSummary& p) {
            return std::any_of(p.diagnostics.begin(), p.diagnostics.end(),
                [](const std::string& d) { return d.find("machine file") != std::string::npos; });
        });
        out += wrapIndented(noted ? "none embedded (see the notes above); pass --machine FILE"
                                  : "none embedded (recorded with --no-machine, without a machine model record could "
                                    "save, or by an older rooftime); pass --machine FILE",
            "  machine: ", std::string(11, ' '), options.width);
    }
    // Wrapped, not cut: the differences come last and are the point.
    for (const std::string& w : report.machineWarnings)
        out += wrapIndented(w, "  warning: ", std::string(11, ' '), options.width);
    if (report.rows.empty()) {
        out += report.by == ReportBy::Kernel
            ? "\nNo kernels in these profiles (kernels come from CUPTI recording or `rooftime import ncu`).\n"
            : "\nNo regions recorded. Mark code with rooftime_begin/rooftime_end (docs/markers.md) or NVTX ranges.\n";
        return out;
    }
    const RoofSummary& sum = report.summary;
    // Kernel rows left out: without known work above their floor, or with neither work nor a time.
    std::string notAnalysed;
    if (sum.unknown > 0)
        notAnalysed = fmt::format("{} {} without known work above the launch floor ({})", sum.unknown,
            itemNoun(report.by, sum.unknown), humanSeconds(sum.unknownSeconds));
    if (sum.noTime > 0)
        notAnalysed += fmt::format("{}{} {} with neither known work nor a time (replayed, the counter values lost)",
            notAnalysed.empty() ? "" : "; ", sum.noTime, itemNoun(report.by, sum.noTime));
    if (sum.items > 0) {
        std::string limiters;
        for (std::size_t i = 0; i < sum.lostByLimiter.size() && i < 3; ++i)
            limiters += fmt::format(
                "{}{} {}", i ? ", " : "", sum.lostByLimiter[i].first, humanSeconds(sum.lostByLimiter[i].second));
        // Rows without known work have a bound only where they ran below the launch floor.
        const std::string which = sum.floorOnly == 0
            ? fmt::format("{} {} with known work", sum.items, itemNoun(report.by, sum.items))
            : sum.floorOnly == sum.items
            ? fmt::format(
                "{} {} without known work, below the launch floor,", sum.items, itemNoun(report.by, sum.items))
            : fmt::format("{} {} with known work and {} without, below the launch floor,", sum.items - sum.floorOnly,
                itemNoun(report.by, sum.items - sum.floorOnly), sum.floorOnly);
        const std::string para
            = fmt::format("Time-based roofline: {} cover {} ({:.0f}% of the run time{}); {:.0f}% of that time "
                          "runs within 10% of its roof. {} could be won back{}{}.",
                which, humanSeconds(sum.seconds), report.runSeconds > 0 ? 100 * sum.seconds / report.runSeconds : 0,
                report.by == ReportBy::Range || report.by == ReportBy::Callpath ? "; nested regions overlap" : "",
                sum.seconds > 0 ? 100 * sum.nearRoofSeconds / sum.seconds : 0, humanSeconds(sum.lostSeconds),
                limiters.empty() ? "" : ", held by ", limiters);
        out += '\n'; // not "\n" + wrap(...): GCC 12 -O3 reports a false -Wrestrict on that concatenation
        out += wrap(
            para + (notAnalysed.empty() ? std::string() : " Not analysed: " + notAnalysed + "."), options.width);
        const auto uncounted = std::count_if(
            report.rows.begin(), report.rows.end(), [](const ReportRow& r) { return r.tensorUncounted.has_value(); });
        if (uncounted > 0)
            out += wrap(fmt::format("warning: {} {} ran tensor-core instructions whose operations these counters do "
                                    "not count (mma.sync; `rooftime record --counter-set tier2` counts them): "
                                    "their FLOPs and roofs are too low.",
                            uncounted, uncounted == 1 ? "kernel" : "kernels"),
                options.width);
    } else if (!notAnalysed.empty()) {
        out += '\n';
        out += wrap("Time-based roofline: none analysed: " + notAnalysed + ".", options.width);
    } else if (!report.machine) {
        out += "\nNo roof columns: no machine model (pass --machine FILE).\n";
    }
    out += clockLine(report, options);
    out += sourcesLine(report, options);
    // Kernel rows take a replayed launch's own time; a region, window or process holds the replays too.
    const auto counting = std::count_if(
        report.profiles.begin(), report.profiles.end(), [](const ProfileSummary& p) { return p.mode == "counters"; });
    if (counting > 0 && report.by != ReportBy::Kernel)
        out += wrap(fmt::format("note: {} recorded in counters mode: the replays of each kernel's first launches are "
                                "inside these {} times, far longer than the program's own, and so is the time lost; "
                                "take times from a time-mode run, or `--by kernel`, whose times are the launches' own.",
                        counting == 1 ? "a profile was" : fmt::format("{} profiles were", counting),
                        report.by == ReportBy::Window     ? "window"
                            : report.by == ReportBy::Rank ? "process"
                                                          : "region"),
            options.width);
    if (report.runSpread) {
        const Spread& rs = *report.runSpread;
        // The rows whose slowest rank keeps the others waiting longest.
        std::vector<const ReportRow*> waits;
        for (const ReportRow& r : report.rows)
            if (r.spread && r.spread->max > r.spread->mean) waits.push_back(&r);
        std::sort(waits.begin(), waits.end(), [](const ReportRow* a, const ReportRow* b) {
            return a->spread->max - a->spread->mean > b->spread->max - b->spread->mean;
        });
        std::string worst;
        for (std::size_t i = 0; i < waits.size() && i < 3; ++i)
            worst += fmt::format("{}{} ({:.0f}%, max {})", i ? ", " : "", elideMiddle(waits[i]->name, 40),
                100 * waits[i]->spread->imbalance, humanSeconds(waits[i]->spread->max));
        const std::string para = fmt::format("Across {} profiles: run time min {}, median {}, max {} (imbalance "
                                             "{:.0f}%, (max - mean) / max).{}{}",
            rs.ranks, humanSeconds(rs.min), humanSeconds(rs.median), humanSeconds(rs.max), 100 * rs.imbalance,
            worst.empty() ? "" : " Most imbalanced: ", worst);
        out += '\n';
        out += wrap(para, options.width);
    }
    // Fixed columns take 89 (98 with self time, for nested regions); the name gets the rest of the width.
    // The self column needs 9 more: below 110 columns it is left out (JSON and CSV always carry it).
    const bool self = (report.by == ReportBy::Range || report.by == ReportBy::Callpath) && options.width >= 110;
    const std::size_t fixed = self ? 98 : 89;
    const std::size_t nameWidth = options.width > fixed + 10 ? options.width - fixed : 10;
    out += fmt::format("\n{:>8} {}{:>8} {:>8} {:>7} {:>8} {:>8} {:>5} {:>8} {:<12} {:<6}  {}\n", "time",
        self ? "    self " : "", "count", "FLOPs", "AI", "FLOP/s", "roof", "eff", "lost", "limiter", "work", "name");
    const std::size_t shown = shownRows(report, options);
    // Kernel names too long for the column, compacted together so that two kernels never read alike.
    std::vector<std::string> longNames;
    for (std::size_t i = 0; i < shown; ++i) {
        const ReportRow& r = report.rows[i];
        if ((r.kind == "kernel" || r.kind == "path-kernel") && charStarts(r.name).size() - 1 > nameWidth)
            longNames.push_back(r.kind == "kernel" ? r.name : r.path.back());
    }
    const std::map<std::string, std::string> compact = compactKernelNameMap(std::move(longNames));
    for (std::size_t i = 0; i < shown; ++i) {
        const ReportRow& r = report.rows[i];
        const Analysis* a = r.roof ? &*r.roof : nullptr;
        const bool analysed = a && a->efficiency;
        const bool plain = r.kind == "marker" || r.kind == "kernel" || r.kind == "window" || r.kind == "path"
            || r.kind == "rank" || r.kind == "rank-gpu";
        std::string name = plain ? r.name : r.name + " [" + (r.kind == "path-kernel" ? "kernel" : r.kind) + "]";
        if (!r.config.empty()) name += " " + r.config;
        const std::string selfColumn
            = !self ? "" : fmt::format("{:>8} ", r.exclusiveSeconds ? humanSeconds(*r.exclusiveSeconds) : "-");
        // Call paths: the path shortened for the column, then the kernel tag kept whole.
        const std::string kindTag = r.kind == "path-kernel" ? " [kernel]" : "";
        // A kernel's C++ name loses its return type, parameters and qualifiers before its middle is cut.
        if (auto c = compact.find(r.name); r.kind == "kernel" && c != compact.end()) {
            name = c->second;
            if (!r.config.empty()) name += " " + r.config;
        }
        const std::string label = r.path.empty()
            ? elideMiddle(name, nameWidth)
            : shortCallPath(r, nameWidth > kindTag.size() + 10 ? nameWidth - kindTag.size() : 10, &compact) + kindTag;
        // ~: the time counts launches that recorded none at their kernel's mean (Sources says how many); -: no
        // launch of the kernel has a time.
        out += fmt::format("{:>8} {}{:>8} {:>8} {:>7} {:>8} {:>8} {:>5} {:>8} {:<12} {:<6}  {}\n",
            r.untimedZero > 0 && r.untimedZero == r.count
                ? std::string("-")
                : fmt::format("{}{}", r.untimed > 0 ? "~" : "", humanSeconds(r.timeSeconds)),
            selfColumn, r.count < 100'000'000 ? std::to_string(r.count) : siValue(static_cast<double>(r.count)),
            r.flops ? siValue(*r.flops) : "-", opt(r.intensity, "{:.3g}"),
            r.flopsPerSecond ? siValue(*r.flopsPerSecond) : "-", analysed ? humanSeconds(a->boundSeconds) : "-",
            analysed ? fmt::format("{:.0f}%{}", efficiencyPercent(*a->efficiency), a->aboveRoof ? "!" : "") : "-",
            analysed ? humanSeconds(a->lostSeconds) : "-", elideMiddle(analysed ? limiterLabel(*a) : "-", 12),
            shortSource(r), label);
    }
    if (shown < report.rows.size())
        out += fmt::format("... {} more rows (--top 0 shows all)\n", report.rows.size() - shown);
    out += "\nroof: time at the roof, max(roof time, launch floor); eff: roof / time (! faster than the\n"
           "work's roof: a ceiling or counter is off; below the launch floor is launch-bound); lost: time -\n"
           "roof; limiter: what binds (latency: below 20% of the roof).\n";
    if (self) out += "self: time less that of the regions nested directly inside.\n";
    const bool partlyEstimated
        = std::any_of(report.rows.begin(), report.rows.end(), [](const ReportRow& r) { return r.untimed > 0; });
    out += "work: decl. declared with rooftime_add_work (part.: by some instances; rates and roofs use their\n"
           "time), meas. measured by counters, estim. scaled from the launches replayed. Time is timed";
    out += partlyEstimated ? " (~: partly\nestimated, see Sources).\n" : ".\n";
    return out;
}

nlohmann::json workSpreadJson(const std::optional<WorkSpread>& s)
{
    if (!s) return nullptr;
    return { { "launches_sampled", s->launches }, { "flops_min", s->flopsMin }, { "flops_max", s->flopsMax },
        { "bytes_min", s->bytesMin }, { "bytes_max", s->bytesMax }, { "unmeasured", s->unmeasured },
        { "unmeasured_other_config", s->unmeasuredOtherConfig },
        { "unmeasured_time_ratio", s->unmeasuredTimeRatio ? nlohmann::json(*s->unmeasuredTimeRatio) : nullptr },
        { "replayed_mean_s", s->replayedMeanSeconds }, { "doubts", s->doubts() } };
}

nlohmann::json optJson(const std::optional<double>& v)
{
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json classJson(const std::map<FlopClass, double>& m)
{
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [cls, v] : m)
        j[cls.label()] = v;
    return j;
}

nlohmann::json spreadJson(const std::optional<Spread>& s, const std::vector<double>& perRank)
{
    if (!s) return nullptr;
    return { { "count", s->ranks }, { "min_s", s->min }, { "median_s", s->median }, { "max_s", s->max },
        { "mean_s", s->mean }, { "imbalance", s->imbalance }, { "per_rank_s", perRank } };
}

nlohmann::json roofJson(const std::optional<Analysis>& a)
{
    if (!a) return nullptr;
    return { { "compute_s", classJson(a->computeSeconds) }, { "memory_s", a->memorySeconds },
        { "intensity", a->intensity }, { "compute_time_s", a->computeTime }, { "memory_time_s", a->memoryTime },
        // Without an efficiency the bound and the time lost are unknown (text and CSV: -), not the floor and 0.
        { "roof_s", a->roofSeconds }, { "floor_s", a->floorSeconds },
        { "bound_s", a->efficiency ? nlohmann::json(a->boundSeconds) : nlohmann::json() },
        { "efficiency", optJson(a->efficiency) },
        { "lost_s", a->efficiency ? nlohmann::json(a->lostSeconds) : nlohmann::json() },
        { "flops_per_s", optJson(a->flopsPerSecond) }, { "limiter", limiterKindName(a->limiter) },
        { "label", limiterLabel(*a) }, { "binding", a->bindingTerm },
        { "binding_kind", limiterKindName(a->bindingKind) }, { "above_roof", a->aboveRoof },
        { "missing_roofs", a->missingRoofs }, { "executed_over_declared", optJson(a->executedOverDeclared) } };
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
    j["by"] = reportByName(report.by);
    if (report.by == ReportBy::Window) {
        if (!report.windowRange.empty())
            j["window_range"] = report.windowRange;
        else
            j["window_s"] = report.windowSeconds;
    }
    std::vector<double> runs;
    for (const auto& p : report.profiles)
        runs.push_back(p.runSeconds);
    j["run_spread"] = spreadJson(report.runSpread, runs);
    nlohmann::json lostBy = nlohmann::json::array();
    for (const auto& [label, t] : report.summary.lostByLimiter)
        lostBy.push_back({ { "limiter", label }, { "lost_s", t } });
    j["summary"] = { { "items", report.summary.items }, { "launch_floor_only", report.summary.floorOnly },
        { "not_analysed", report.summary.unknown }, { "not_analysed_time_s", report.summary.unknownSeconds },
        { "not_analysed_no_time", report.summary.noTime }, { "time_s", report.summary.seconds },
        { "near_roof_time_s", report.summary.nearRoofSeconds }, { "lost_s", report.summary.lostSeconds },
        { "lost_by_limiter", lostBy } };
    j["rows"] = nlohmann::json::array();
    for (std::size_t i = 0; i < shownRows(report, options); ++i) {
        const ReportRow& r = report.rows[i];
        j["rows"].push_back({ { "name", r.name }, { "kind", r.kind }, { "path", r.path },
            { "path_frames", r.pathFrames }, { "count", r.count }, { "time_s", r.timeSeconds },
            { "exclusive_time_s", optJson(r.exclusiveSeconds) }, { "share", r.share }, { "flops", optJson(r.flops) },
            { "bytes", optJson(r.bytes) }, { "intensity", optJson(r.intensity) },
            { "flops_per_s", optJson(r.flopsPerSecond) }, { "bytes_per_s", optJson(r.bytesPerSecond) },
            { "declared_instances", r.declaredCount }, { "implicitly_closed", r.implicitlyClosed },
            { "device", r.device }, { "config", r.config }, { "replayed", r.replayed }, { "untimed", r.untimed },
            { "work_time_s", r.workSeconds }, { "tensor_uncounted_instructions", optJson(r.tensorUncounted) },
            { "hfma_moves_uncounted", r.hfmaMoves }, { "sm_clock_hz", optJson(r.smClockHz) },
            { "work_per_launch", workSpreadJson(r.workSpread) }, { "flops_by_class", classJson(r.flopsByClass) },
            { "bytes_by_level", r.bytesByLevel }, { "roof", roofJson(r.roof) },
            { "ranks", spreadJson(r.spread, r.rankSeconds) },
            { "sources",
                { { "time", sourceName(r.timeSource) }, { "flops", sourceName(r.workSource) },
                    { "bytes", sourceName(r.workSource) } } } });
    }
    // Names come from programs and files: invalid UTF-8 is replaced (U+FFFD), never a reason to fail.
    return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
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
    std::string out
        = "name,kind,count,time_s,exclusive_time_s,share,flops,bytes,intensity,flops_per_s,bytes_per_s,declared_"
          "instances,"
          "implicitly_closed,time_source,work_source,device,config,roof_s,floor_s,efficiency,lost_s,limiter,"
          "binding,ranks,rank_min_s,rank_median_s,rank_max_s,imbalance\n";
    auto num = [](const std::optional<double>& v) { return v ? fmt::format("{:.17g}", *v) : std::string(); };
    for (std::size_t i = 0; i < shownRows(report, options); ++i) {
        const ReportRow& r = report.rows[i];
        const Analysis* a = r.roof && r.roof->efficiency ? &*r.roof : nullptr;
        const Spread* sp = r.spread ? &*r.spread : nullptr;
        auto roofNum = [&](double Analysis::*field) { return a ? num(a->*field) : std::string(); };
        auto rankNum = [&](double Spread::*field) { return sp ? num(sp->*field) : std::string(); };
        out += fmt::format(
            "{},{},{},{:.9g},{},{:.6g},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            csvField(r.name), r.kind, r.count, r.timeSeconds, num(r.exclusiveSeconds), r.share, num(r.flops),
            num(r.bytes), num(r.intensity), num(r.flopsPerSecond), num(r.bytesPerSecond), r.declaredCount,
            r.implicitlyClosed, sourceName(r.timeSource), csvField(sourceName(r.workSource)), r.device,
            csvField(r.config), roofNum(&Analysis::boundSeconds), roofNum(&Analysis::floorSeconds),
            a ? num(a->efficiency) : std::string(), roofNum(&Analysis::lostSeconds),
            a ? limiterKindName(a->limiter) : "", a ? csvField(a->bindingTerm) : std::string(),
            sp ? std::to_string(sp->ranks) : std::string(), rankNum(&Spread::min), rankNum(&Spread::median),
            rankNum(&Spread::max), rankNum(&Spread::imbalance));
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
