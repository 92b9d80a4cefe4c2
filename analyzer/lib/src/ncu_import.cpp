// SPDX-License-Identifier: MIT
#include "rooftime/analyzer/ncu_import.h"

#include "rooftime/analyzer/profile_builder.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

namespace rooftime::analyzer {

namespace {

struct CsvRow {
    std::size_t line = 0; ///< 1-based line where the row starts
    std::vector<std::string> fields;
};

// RFC 4180 by hand: quotes, doubled quotes, separators and line breaks inside quotes. Debian 12 packages no
// CSV library among the ones we use, and ncu's output needs nothing more.
std::vector<CsvRow> parseCsv(const std::string& text, const std::string& file)
{
    std::vector<CsvRow> rows;
    std::size_t line = 1, i = 0;
    const std::size_t n = text.size();
    while (i < n) {
        CsvRow row;
        row.line = line;
        std::string field;
        bool quoted = false, wasQuoted = false, done = false;
        while (!done) {
            if (i >= n) {
                if (quoted) throw ImportError(fmt::format("'{}:{}': a quoted field is never closed", file, row.line));
                row.fields.push_back(field);
                done = true;
                break;
            }
            const char c = text[i++];
            if (quoted) {
                if (c == '"') {
                    if (i < n && text[i] == '"') {
                        field += '"';
                        ++i;
                    } else {
                        quoted = false;
                    }
                } else {
                    if (c == '\n') ++line;
                    field += c;
                }
            } else if (c == '"') {
                if (!field.empty() || wasQuoted)
                    throw ImportError(fmt::format("'{}:{}': a quote inside an unquoted field", file, line));
                quoted = wasQuoted = true;
            } else if (c == ',') {
                row.fields.push_back(field);
                field.clear();
                wasQuoted = false;
            } else if (c == '\r') {
                // CRLF line ends
            } else if (c == '\n') {
                ++line;
                row.fields.push_back(field);
                done = true;
            } else {
                if (wasQuoted) throw ImportError(fmt::format("'{}:{}': text after a closing quote", file, line));
                field += c;
            }
        }
        if (!(row.fields.size() == 1 && row.fields[0].empty())) rows.push_back(std::move(row));
    }
    return rows;
}

std::string readFile(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ImportError(fmt::format("'{}': cannot read: {}", path, std::strerror(errno)));
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

struct Launch {
    std::string name, file;
    std::size_t line = 0;
    std::int64_t device = 0;
    std::optional<std::int64_t> context, stream;
    std::optional<std::int64_t> grid[3], block[3];
    std::string cc, deviceName, process, host;
    std::int64_t pid = 0;
    std::map<std::string, std::pair<double, std::string>> metrics;
};

std::optional<std::int64_t> parseInt(const std::string& s)
{
    if (s.empty()) return std::nullopt;
    char* end = nullptr;
    const long long v = std::strtoll(s.c_str(), &end, 10);
    if (end == s.c_str() || *end) return std::nullopt;
    return v;
}

/// "(128, 1, 1)" → three numbers.
bool parseDim(const std::string& s, std::optional<std::int64_t> (&out)[3])
{
    long long a = 0, b = 0, c = 0;
    if (std::sscanf(s.c_str(), " ( %lld , %lld , %lld )", &a, &b, &c) != 3) return false;
    out[0] = a;
    out[1] = b;
    out[2] = c;
    return true;
}

class Importer {
public:
    explicit Importer(const NcuImportOptions& options)
        : m_options(options)
    { }

    void read(const std::string& file)
    {
        const std::string text = readFile(file);
        // ncu may print "==PROF==" lines and other text before the CSV: the table starts at the first line that
        // begins with "ID".
        std::size_t start = 0, skipped = 0;
        while (start < text.size() && text.compare(start, 4, "\"ID\"") != 0) {
            const std::size_t nl = text.find('\n', start);
            if (nl == std::string::npos) {
                start = text.size();
                break;
            }
            start = nl + 1;
            ++skipped;
        }
        if (start >= text.size())
            throw ImportError(
                fmt::format("'{}': no ncu CSV header (a line starting with \"ID\"): run ncu with --csv", file));
        std::vector<CsvRow> rows = parseCsv(text.substr(start), file);
        for (auto& r : rows)
            r.line += skipped;
        const std::vector<std::string>& header = rows.front().fields;
        auto column = [&](const char* name) -> std::optional<std::size_t> {
            auto it = std::find(header.begin(), header.end(), name);
            if (it == header.end()) return std::nullopt;
            return static_cast<std::size_t>(it - header.begin());
        };
        for (std::size_t i = 1; i < rows.size(); ++i)
            if (rows[i].fields.size() != header.size())
                throw ImportError(fmt::format("'{}:{}': {} fields where the header has {}", file, rows[i].line,
                    rows[i].fields.size(), header.size()));
        if (!column("Kernel Name"))
            throw ImportError(
                fmt::format("'{}:{}': no \"Kernel Name\" column: not ncu --csv output", file, rows.front().line));
        if (column("Metric Name") && column("Metric Value"))
            readLong(file, rows, column);
        else
            readWide(file, rows, column);
        ++m_files;
    }

    NcuImportSummary write(const std::vector<std::string>& files, const std::string& output)
    {
        if (m_launches.empty()) throw ImportError(fmt::format("'{}': no kernel launches in the input", files.front()));
        NcuImportSummary summary;
        summary.files = m_files;
        std::map<std::int64_t, std::string> archOf;
        for (const auto& [id, l] : m_launches) {
            std::string arch = m_options.arch;
            if (arch.empty() && !l.cc.empty()) {
                int major = 0, minor = 0;
                if (std::sscanf(l.cc.c_str(), "%d.%d", &major, &minor) != 2)
                    throw ImportError(fmt::format("'{}:{}': CC '{}' is no compute capability", l.file, l.line, l.cc));
                arch = fmt::format("sm_{}{}", major, minor);
            }
            if (arch.empty())
                throw ImportError(
                    fmt::format("'{}': no CC column to tell the architecture: pass --arch (e.g. sm_90)", l.file));
            archOf[l.device] = arch;
            summary.arch = arch;
            if (!l.metrics.count("gpu__time_duration.sum"))
                throw ImportError(fmt::format("'{}:{}': kernel ID {} has no gpu__time_duration.sum: collect it "
                                              "(ncu --metrics gpu__time_duration.sum,...)",
                    l.file, l.line, id));
        }
        const Launch& first = m_launches.begin()->second;
        std::string cmdline = "ncu import";
        for (const auto& f : files)
            cmdline += " " + f;
        ProfileBuilder b(output, first.host, first.process, cmdline, first.pid);
        b.setMeta("mode", "counters");
        b.setMeta("import", "ncu");
        b.setMeta("import_files", fmt::format("{}", fmt::join(files, " ")));
        for (const auto& [dev, arch] : archOf) {
            std::string name = fmt::format("CUDA device {}", dev);
            for (const auto& [id, l] : m_launches)
                if (l.device == dev && !l.deviceName.empty()) name = l.deviceName;
            b.addDevice(dev, name, arch, std::nullopt);
        }
        if (!m_options.arch.empty()) b.addDiagnostic("import", "architecture " + m_options.arch + " given with --arch");
        std::int64_t total = 0;
        std::set<std::string> names;
        for (const auto& [id, l] : m_launches) {
            KernelRecord k;
            k.id = id;
            k.name = l.name;
            k.device = l.device;
            k.context = l.context;
            k.stream = l.stream;
            for (int d = 0; d < 3; ++d) {
                k.grid[d] = l.grid[d];
                k.block[d] = l.block[d];
            }
            k.durationNs = static_cast<std::int64_t>(std::llround(l.metrics.at("gpu__time_duration.sum").first));
            k.replayed = true;
            b.addKernel(k);
            total += k.durationNs;
            names.insert(l.name);
            for (const auto& [metric, v] : l.metrics) {
                b.addKernelMetric(id, metric, v.first, v.second);
                ++summary.metrics;
            }
        }
        if (m_textValues)
            b.addDiagnostic("import",
                fmt::format(
                    "{} values that are text, not numbers, were left out (e.g. {})", m_textValues, m_textExample));
        b.finish(total);
        summary.launches = m_launches.size();
        summary.kernels = names.size();
        return summary;
    }

private:
    template <class Column> Launch& launchOf(const std::string& file, const CsvRow& row, Column& column)
    {
        const auto idCol = column("ID");
        if (!idCol) throw ImportError(fmt::format("'{}:{}': no \"ID\" column", file, row.line));
        auto id = parseInt(row.fields[*idCol]);
        if (!id) throw ImportError(fmt::format("'{}:{}': ID '{}' is not a number", file, row.line, row.fields[*idCol]));
        const std::string& name = row.fields[*column("Kernel Name")];
        auto [it, inserted] = m_launches.try_emplace(*id);
        Launch& l = it->second;
        if (inserted) {
            l.name = name;
            l.file = file;
            l.line = row.line;
            auto get = [&](const char* col) { return column(col) ? row.fields[*column(col)] : std::string(); };
            l.device = parseInt(get("Device")).value_or(0);
            l.context = parseInt(get("Context"));
            l.stream = parseInt(get("Stream"));
            if (!get("Grid Size").empty() && !parseDim(get("Grid Size"), l.grid))
                throw ImportError(
                    fmt::format("'{}:{}': Grid Size '{}' is not (x, y, z)", file, row.line, get("Grid Size")));
            if (!get("Block Size").empty() && !parseDim(get("Block Size"), l.block))
                throw ImportError(
                    fmt::format("'{}:{}': Block Size '{}' is not (x, y, z)", file, row.line, get("Block Size")));
            l.cc = get("CC");
            l.deviceName = get("Device Name");
            l.process = get("Process Name");
            l.host = get("Host Name");
            l.pid = parseInt(get("Process ID")).value_or(0);
        } else if (l.name != name) {
            throw ImportError(fmt::format("'{}:{}': launch ID {} is kernel '{}' here but '{}' in '{}:{}'", file,
                row.line, *id, name, l.name, l.file, l.line));
        }
        return l;
    }

    void addMetric(Launch& l, const std::string& file, std::size_t line, const std::string& metric,
        const std::string& unit, const std::string& value)
    {
        std::optional<std::pair<double, std::string>> v;
        try {
            v = normaliseNcuValue(value, unit);
        } catch (const std::invalid_argument&) {
            // Text in a counter's unit is a broken row; text in any other unit (cache configuration, a
            // function name) is not a counter and is left out, counted once in a diagnostic.
            static const std::set<std::string> numeric { "byte", "Kbyte", "Mbyte", "Gbyte", "Tbyte", "nsecond",
                "usecond", "msecond", "second", "cycle", "inst", "%", "cycle/nsecond", "cycle/usecond", "cycle/second",
                "byte/second", "Gbyte/second" };
            if (numeric.count(unit))
                throw ImportError(
                    fmt::format("'{}:{}': {} = '{}' is not a number (unit {})", file, line, metric, value, unit));
            if (!m_textValues++) m_textExample = metric + " = " + value;
            return;
        }
        if (!v) return;
        auto [it, inserted] = l.metrics.try_emplace(metric, *v);
        if (!inserted && it->second != *v)
            throw ImportError(fmt::format("'{}:{}': {} of launch {} is {} here and {} before", file, line, metric,
                l.name, v->first, it->second.first));
    }

    template <class Column> void readLong(const std::string& file, const std::vector<CsvRow>& rows, Column& column)
    {
        const std::size_t name = *column("Metric Name"), value = *column("Metric Value");
        const auto unit = column("Metric Unit");
        for (std::size_t i = 1; i < rows.size(); ++i) {
            Launch& l = launchOf(file, rows[i], column);
            addMetric(l, file, rows[i].line, rows[i].fields[name], unit ? rows[i].fields[*unit] : std::string(),
                rows[i].fields[value]);
        }
    }

    template <class Column> void readWide(const std::string& file, const std::vector<CsvRow>& rows, Column& column)
    {
        if (rows.size() < 2)
            throw ImportError(
                fmt::format("'{}:{}': a --page raw table needs a units row after the header", file, rows.front().line));
        static const std::set<std::string> identity { "ID", "API Stream", "Process ID", "Process Name", "Host Name",
            "Kernel Name", "Kernel Time", "Context", "Stream", "Block Size", "Grid Size", "Device", "CC", "Device Name",
            "Section Name", "Estimated Speedup" };
        const std::vector<std::string>& header = rows[0].fields;
        const std::vector<std::string>& units = rows[1].fields;
        for (std::size_t i = 2; i < rows.size(); ++i) {
            Launch& l = launchOf(file, rows[i], column);
            for (std::size_t c = 0; c < header.size(); ++c) {
                if (identity.count(header[c])) continue;
                addMetric(l, file, rows[i].line, header[c], units[c], rows[i].fields[c]);
            }
        }
    }

    NcuImportOptions m_options;
    std::map<std::int64_t, Launch> m_launches;
    std::size_t m_files = 0;
    std::size_t m_textValues = 0;
    std::string m_textExample;
};

} // namespace

std::optional<std::pair<double, std::string>> normaliseNcuValue(std::string_view value, std::string_view unit)
{
    std::string v;
    for (char c : value)
        if (c != ',' && c != ' ') v += c; // thousands separators
    if (v.empty() || v == "n/a" || v == "N/A") return std::nullopt;
    char* end = nullptr;
    errno = 0;
    const double x = std::strtod(v.c_str(), &end);
    if (end == v.c_str() || *end || errno == ERANGE || !std::isfinite(x)) throw std::invalid_argument(v);
    // Nsight Compute's prefixes are SI (Kbyte = 1000 bytes), as its "Metrics Reference" units say.
    static const std::map<std::string_view, std::pair<double, const char*>> units {
        { "byte", { 1, "byte" } },
        { "Kbyte", { 1e3, "byte" } },
        { "Mbyte", { 1e6, "byte" } },
        { "Gbyte", { 1e9, "byte" } },
        { "Tbyte", { 1e12, "byte" } },
        { "KB", { 1e3, "byte" } },
        { "MB", { 1e6, "byte" } },
        { "GB", { 1e9, "byte" } },
        { "nsecond", { 1, "nsecond" } },
        { "usecond", { 1e3, "nsecond" } },
        { "msecond", { 1e6, "nsecond" } },
        { "second", { 1e9, "nsecond" } },
        { "cycle/nsecond", { 1e9, "cycle/second" } },
        { "cycle/usecond", { 1e6, "cycle/second" } },
        { "cycle/msecond", { 1e3, "cycle/second" } },
        { "cycle/second", { 1, "cycle/second" } },
        { "byte/second", { 1, "byte/second" } },
        { "Kbyte/second", { 1e3, "byte/second" } },
        { "Mbyte/second", { 1e6, "byte/second" } },
        { "Gbyte/second", { 1e9, "byte/second" } },
        { "Tbyte/second", { 1e12, "byte/second" } },
    };
    auto it = units.find(unit);
    if (it == units.end()) return std::make_pair(x, std::string(unit));
    return std::make_pair(x * it->second.first, std::string(it->second.second));
}

NcuImportSummary importNcu(
    const std::vector<std::string>& csvFiles, const std::string& outputPath, const NcuImportOptions& options)
{
    if (csvFiles.empty()) throw ImportError("no input files");
    Importer importer(options);
    for (const auto& f : csvFiles)
        importer.read(f);
    return importer.write(csvFiles, outputPath);
}

} // namespace rooftime::analyzer
