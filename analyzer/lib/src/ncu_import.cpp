// SPDX-License-Identifier: MIT
#include "rooftime/analyzer/ncu_import.h"

#include "rooftime/analyzer/profile_builder.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace rooftime::analyzer {

namespace {

struct UnitScale {
    std::string_view unit;
    double factor;
    std::string_view base;
};

// Nsight Compute scales units by SI factors, 1000 and not 1024 (Kbyte = 1000 byte; n, u, m for times), unless
// ncu runs with --print-units base: "Metrics and Units" in the Nsight Compute CLI user guide,
// https://docs.nvidia.com/nsight-compute/NsightComputeCli/index.html#metrics-and-units. Older versions spell
// units out (usecond, Kbyte), newer ones print short names (us, ns); both are here.
constexpr UnitScale kUnits[] = {
    { "byte", 1, "byte" },
    { "Kbyte", 1e3, "byte" },
    { "Mbyte", 1e6, "byte" },
    { "Gbyte", 1e9, "byte" },
    { "Tbyte", 1e12, "byte" },
    { "B", 1, "byte" },
    { "KB", 1e3, "byte" },
    { "MB", 1e6, "byte" },
    { "GB", 1e9, "byte" },
    { "TB", 1e12, "byte" },
    { "nsecond", 1, "nsecond" },
    { "usecond", 1e3, "nsecond" },
    { "msecond", 1e6, "nsecond" },
    { "second", 1e9, "nsecond" },
    { "ns", 1, "nsecond" },
    { "us", 1e3, "nsecond" },
    { "ms", 1e6, "nsecond" },
    { "s", 1e9, "nsecond" },
    { "cycle/nsecond", 1e9, "cycle/second" },
    { "cycle/usecond", 1e6, "cycle/second" },
    { "cycle/msecond", 1e3, "cycle/second" },
    { "cycle/second", 1, "cycle/second" },
    { "cycle/ns", 1e9, "cycle/second" },
    { "cycle/us", 1e6, "cycle/second" },
    { "cycle/ms", 1e3, "cycle/second" },
    { "cycle/s", 1, "cycle/second" },
    { "hz", 1, "cycle/second" }, // clock frequencies in newer versions
    { "Khz", 1e3, "cycle/second" },
    { "Mhz", 1e6, "cycle/second" },
    { "Ghz", 1e9, "cycle/second" },
    { "Hz", 1, "cycle/second" },
    { "KHz", 1e3, "cycle/second" },
    { "MHz", 1e6, "cycle/second" },
    { "GHz", 1e9, "cycle/second" },
    { "byte/second", 1, "byte/second" },
    { "Kbyte/second", 1e3, "byte/second" },
    { "Mbyte/second", 1e6, "byte/second" },
    { "Gbyte/second", 1e9, "byte/second" },
    { "Tbyte/second", 1e12, "byte/second" },
    { "byte/s", 1, "byte/second" },
    { "B/s", 1, "byte/second" },
    { "KB/s", 1e3, "byte/second" },
    { "MB/s", 1e6, "byte/second" },
    { "GB/s", 1e9, "byte/second" },
    { "TB/s", 1e12, "byte/second" },
};
/// Units kept as they are whose values are still always numbers.
constexpr std::string_view kPlainNumericUnits[] = { "inst", "cycle", "%" };

const UnitScale* findUnit(std::string_view unit)
{
    for (const UnitScale& u : kUnits)
        if (u.unit == unit) return &u;
    return nullptr;
}

/// An input value as messages show it: control characters escaped (a message is one line), at most 200 bytes.
std::string shown(std::string_view value)
{
    std::string out;
    for (char c : value.substr(0, 200)) {
        if (c == '\n')
            out += "\\n";
        else if (c == '\r')
            out += "\\r";
        else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
        else
            out += c;
    }
    if (value.size() > 200) out += "…";
    return out;
}

/// The error for a message, made one line whatever the input put into it (paths included).
ImportError importError(const std::string& message)
{
    std::string line;
    for (char c : message)
        line += c == '\n' || c == '\r' ? ' ' : c;
    return ImportError(line);
}

constexpr const char* kDuration = "gpu__time_duration.sum";
// Device attributes ncu can collect as metrics (--page raw shows them as columns).
constexpr const char* kDeviceName = "device__attribute_display_name";
constexpr const char* kCcMajor = "device__attribute_compute_capability_major";
constexpr const char* kCcMinor = "device__attribute_compute_capability_minor";
constexpr const char* kSmCount = "device__attribute_multiprocessor_count";

/// Identity columns of the wide (--page raw) form; every other column is a metric.
const std::set<std::string, std::less<>>& identityColumns()
{
    static const std::set<std::string, std::less<>> names { "ID", "API Stream", "Process ID", "Process Name",
        "Host Name", "Kernel Name", "Kernel Time", "Context", "Stream", "Block Size", "Grid Size", "Device", "CC",
        "Device Name", "Section Name", "Function Name", "Demangled Name", "Mangled Name", "Rule Name", "Rule Type",
        "Rule Description", "Estimated Speedup Type", "Estimated Speedup" };
    return names;
}

struct CsvRow {
    std::size_t line = 0; ///< 1-based line where the record starts
    std::vector<std::string> fields;
};

// RFC 4180 by hand: quoted fields, doubled quotes, separators and line breaks inside quotes, CRLF. Debian 12
// packages no CSV library among the ones we may use, and ncu's output needs nothing more. Lines of ncu's own
// messages ("==PROF== ...", "==WARNING== ...") between records are skipped; ==WARNING== and ==ERROR== ones are
// kept for a diagnostic. Every step consumes input, so no input makes it loop.
class CsvReader {
public:
    CsvReader(std::string_view text, std::size_t firstLine, const std::string& file)
        : m_text(text)
        , m_line(firstLine)
        , m_file(file)
    { }

    bool next(CsvRow& row)
    {
        row.fields.clear();
        const std::size_t n = m_text.size();
        while (m_pos < n) {
            const bool message = m_text.compare(m_pos, 2, "==") == 0;
            const bool blank = m_text[m_pos] == '\n' || m_text.compare(m_pos, 2, "\r\n") == 0;
            if (!message && !blank) break;
            const std::size_t nl = std::min(m_text.find('\n', m_pos), n);
            if (message) {
                std::string_view text = m_text.substr(m_pos, nl - m_pos);
                if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
                if (text.rfind("==PROF==", 0) != 0) m_messages.emplace_back(text);
            }
            m_pos = nl + 1;
            ++m_line;
        }
        if (m_pos >= n) return false;
        row.line = m_line;
        std::string field;
        bool quoted = false, wasQuoted = false;
        for (;;) {
            if (m_pos >= n) {
                if (quoted) throw importError(fmt::format("'{}:{}': a quoted field is never closed", m_file, row.line));
                row.fields.push_back(std::move(field));
                return true;
            }
            const char c = m_text[m_pos++];
            if (quoted) {
                if (c == '"') {
                    if (m_pos < n && m_text[m_pos] == '"') {
                        field += '"';
                        ++m_pos;
                    } else {
                        quoted = false;
                    }
                } else {
                    if (c == '\n') ++m_line;
                    field += c;
                }
            } else if (c == '"') {
                if (!field.empty() || wasQuoted)
                    throw importError(fmt::format("'{}:{}': a quote inside an unquoted field", m_file, m_line));
                quoted = wasQuoted = true;
            } else if (c == ',') {
                row.fields.push_back(std::move(field));
                field.clear();
                wasQuoted = false;
            } else if (c == '\n') {
                ++m_line;
                row.fields.push_back(std::move(field));
                return true;
            } else if (c == '\r' && (m_pos >= n || m_text[m_pos] == '\n')) {
                // the CR of a CRLF line end
            } else {
                if (wasQuoted) throw importError(fmt::format("'{}:{}': text after a closing quote", m_file, m_line));
                field += c;
            }
        }
    }

    const std::vector<std::string>& messages() const { return m_messages; }

private:
    std::string_view m_text;
    std::size_t m_pos = 0;
    std::size_t m_line;
    const std::string& m_file;
    std::vector<std::string> m_messages;
};

std::string readFile(const std::string& path)
{
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        throw importError(fmt::format("'{}': cannot read: is a folder, not a CSV file", path));
    std::ifstream in(path, std::ios::binary);
    if (!in) throw importError(fmt::format("'{}': cannot read: {}", path, std::strerror(errno)));
    std::stringstream ss;
    ss << in.rdbuf();
    if (in.bad()) throw importError(fmt::format("'{}': cannot read: {}", path, std::strerror(errno)));
    return ss.str();
}

std::optional<std::int64_t> parseInt(std::string_view s)
{
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return v;
}

/// "(128, 1, 1)" → three numbers.
bool parseDim(std::string_view s, std::optional<std::int64_t> (&out)[3])
{
    std::string compact;
    for (char c : s)
        if (c != ' ') compact += c;
    if (compact.size() < 2 || compact.front() != '(' || compact.back() != ')') return false;
    std::string_view inner(compact);
    inner = inner.substr(1, inner.size() - 2);
    for (int d = 0; d < 3; ++d) {
        const std::size_t comma = inner.find(',');
        if ((d < 2) == (comma == std::string_view::npos)) return false;
        auto v = parseInt(inner.substr(0, comma));
        if (!v) return false;
        out[d] = *v;
        inner = d < 2 ? inner.substr(comma + 1) : std::string_view();
    }
    return true;
}

bool sameValue(double a, double b)
{
    return a == b || std::fabs(a - b) <= 1e-9 * std::max(std::fabs(a), std::fabs(b));
}

struct MetricValue {
    double value = 0;
    std::string unit;
    std::size_t file = 0, line = 0;
};

struct Launch {
    std::int64_t id = 0;
    std::string name;
    std::size_t file = 0, line = 0; ///< where the launch is first seen
    std::int64_t device = 0;
    std::optional<std::int64_t> context, stream;
    std::optional<std::int64_t> grid[3], block[3];
    std::map<std::string, MetricValue> metrics;
};

struct DeviceInfo {
    std::string cc; ///< "9.0"
    std::size_t ccFile = 0, ccLine = 0;
    std::string name;
    std::optional<int> sms;
    std::size_t file = 0, line = 0; ///< first launch on it
};

/// Column indices of one file's header, looked up once.
class Columns {
public:
    explicit Columns(const std::vector<std::string>& header)
    {
        for (std::size_t i = 0; i < header.size(); ++i)
            m_index.try_emplace(header[i], i);
    }
    std::optional<std::size_t> operator()(std::string_view name) const
    {
        auto it = m_index.find(name);
        if (it == m_index.end()) return std::nullopt;
        return it->second;
    }

private:
    std::map<std::string, std::size_t, std::less<>> m_index;
};

class Importer {
public:
    explicit Importer(const NcuImportOptions& options)
        : m_options(options)
    { }

    void read(const std::string& path)
    {
        m_files.push_back(path);
        const std::size_t file = m_files.size() - 1;
        const std::string text = readFile(path);
        if (text.empty()) throw importError(fmt::format("'{}': empty file: expected the output of ncu --csv", path));
        std::string_view view(text);
        if (view.rfind("\xEF\xBB\xBF", 0) == 0) view.remove_prefix(3); // a UTF-8 byte order mark
        // ncu prints "==PROF==" lines, and the program its own output, before the table: it starts at the first
        // line that begins with "ID" (quoted, as ncu quotes every field).
        std::size_t start = 0, line = 1;
        while (start < view.size() && view.compare(start, 4, "\"ID\"") != 0) {
            const std::size_t nl = view.find('\n', start);
            start = nl == std::string_view::npos ? view.size() : nl + 1;
            ++line;
        }
        if (start >= view.size())
            throw importError(fmt::format("'{}': no ncu CSV table (no line starts with \"ID\"): expected the output "
                                          "of ncu --csv, with or without --page raw",
                path));
        CsvReader reader(view.substr(start), line, path);
        CsvRow header;
        reader.next(header);
        const Columns column(header.fields);
        const bool longForm = column("Metric Name").has_value();
        const std::vector<const char*> essential = longForm
            ? std::vector<const char*> { "ID", "Kernel Name", "Metric Name", "Metric Unit", "Metric Value" }
            : std::vector<const char*> { "ID", "Kernel Name" };
        for (const char* name : essential)
            if (!column(name))
                throw importError(fmt::format("'{}:{}': no \"{}\" column: ncu --csv {} needs {}", path, header.line,
                    name, longForm ? "output" : "--page raw output", fmt::join(essential, ", ")));

        CsvRow row;
        auto nextRow = [&] {
            if (!reader.next(row)) return false;
            if (row.fields.size() != header.fields.size())
                throw importError(fmt::format("'{}:{}': {} field{} where the header has {} (program output in the "
                                              "table? have ncu write it alone with --log-file FILE)",
                    path, row.line, row.fields.size(), row.fields.size() == 1 ? "" : "s", header.fields.size()));
            return true;
        };
        if (longForm) {
            const std::size_t name = *column("Metric Name"), unit = *column("Metric Unit"),
                              value = *column("Metric Value");
            while (nextRow()) {
                if (row.fields[name].empty()) continue; // a rule's row, not a metric
                Launch& l = launchOf(file, row, column);
                addMetric(l, file, row.line, row.fields[name], row.fields[unit], row.fields[value]);
            }
        } else {
            if (!nextRow())
                throw importError(
                    fmt::format("'{}:{}': a --page raw table needs the units row after the header", path, header.line));
            const CsvRow units = row;
            if (!units.fields[*column("ID")].empty())
                throw importError(fmt::format("'{}:{}': expected the units row of --page raw output (empty under "
                                              "\"ID\") after the header, found launch '{}'",
                    path, units.line, shown(units.fields[*column("ID")])));
            std::vector<std::size_t> metricColumns;
            for (std::size_t c = 0; c < header.fields.size(); ++c)
                if (!identityColumns().count(header.fields[c]) && !header.fields[c].empty()) metricColumns.push_back(c);
            while (nextRow()) {
                Launch& l = launchOf(file, row, column);
                for (std::size_t c : metricColumns)
                    addMetric(l, file, row.line, header.fields[c], units.fields[c], row.fields[c]);
            }
        }
        for (const std::string& m : reader.messages()) {
            if (!m_messages++) m_messageExample = shown(m);
        }
    }

    NcuImportSummary write(const std::string& output)
    {
        if (m_launches.empty())
            throw importError(
                fmt::format("{}: no kernel launches in the table (did ncu profile any kernel?)", quotedFiles()));
        std::map<std::int64_t, std::string> archOf;
        std::vector<std::string> notes;
        for (const auto& [id, d] : m_devices) {
            std::string ccArch;
            if (!d.cc.empty()) {
                const auto dot = d.cc.find('.');
                const auto ma = parseInt(std::string_view(d.cc).substr(0, dot));
                const auto mi
                    = dot == std::string::npos ? std::nullopt : parseInt(std::string_view(d.cc).substr(dot + 1));
                if (!ma || !mi || *ma < 1 || *mi < 0 || *ma > 99 || *mi > 9) {
                    if (m_options.arch.empty())
                        throw importError(fmt::format("'{}:{}': CC '{}' is no compute capability (such as 9.0); "
                                                      "pass --arch (e.g. sm_90)",
                            m_files[d.ccFile], d.ccLine, shown(d.cc)));
                } else {
                    ccArch = fmt::format("sm_{}{}", *ma, *mi);
                }
            }
            if (!m_options.arch.empty()) {
                archOf[id] = m_options.arch;
                if (d.cc.empty())
                    notes.push_back(
                        fmt::format("device {}: architecture {} from --arch (the CSV has no CC)", id, m_options.arch));
                else if (ccArch != m_options.arch)
                    notes.push_back(
                        fmt::format("device {}: --arch {} overrides the CSV's CC {}", id, m_options.arch, d.cc));
            } else if (!ccArch.empty()) {
                archOf[id] = ccArch;
            } else {
                throw importError(fmt::format("'{}': no CC column (compute capability) to tell the architecture of "
                                              "device {}: pass --arch (e.g. sm_90)",
                    m_files[d.file], id));
            }
        }
        for (const auto& [id, l] : m_launches) {
            auto t = l.metrics.find(kDuration);
            if (t == l.metrics.end())
                throw importError(fmt::format("'{}:{}': kernel ID {} ({}) has no {}: collect it (ncu --metrics {},...)",
                    m_files[l.file], l.line, id, shown(l.name), kDuration, kDuration));
            if (t->second.unit != "nsecond")
                throw importError(fmt::format("'{}:{}': {} of kernel ID {} is in '{}', not a time unit",
                    m_files[t->second.file], t->second.line, kDuration, id, t->second.unit));
            // Up to 11.6 days: a sum over a billion launches still fits in 64-bit nanoseconds.
            if (!(t->second.value >= 0 && t->second.value <= 1e15))
                throw importError(fmt::format("'{}:{}': {} of kernel ID {} is {} ns, not a kernel's duration",
                    m_files[t->second.file], t->second.line, kDuration, id, t->second.value));
        }

        std::string cmdline = "rooftime import ncu";
        for (const auto& f : m_files)
            cmdline += " " + f;
        ProfileBuilder b(output, m_host, m_process, cmdline, static_cast<long>(m_pid));
        b.setMeta("mode", "counters");
        b.setMeta("import", "ncu");
        b.setMeta("import_files",
            nlohmann::json(m_files).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)); // a JSON array
        for (const auto& [id, d] : m_devices)
            b.addDevice(id, d.name.empty() ? fmt::format("CUDA device {}", id) : d.name, archOf.at(id), d.sms);
        for (const std::string& n : notes)
            b.addDiagnostic("import", n);
        if (m_pids.size() > 1)
            b.addDiagnostic("import",
                fmt::format("rows of {} process IDs ({}: separate ncu runs, or several processes) imported as one "
                            "process, pid {}",
                    m_pids.size(), fmt::join(m_pids, ", "), m_pid));
        if (m_textValues)
            b.addDiagnostic("import",
                fmt::format("{} value{} that {} text, not numbers, left out (e.g. {})", m_textValues,
                    m_textValues == 1 ? "" : "s", m_textValues == 1 ? "is" : "are", m_textExample));
        if (m_messages)
            b.addDiagnostic("import",
                fmt::format("ncu printed {} warning or error line{} in the CSV (e.g. {})", m_messages,
                    m_messages == 1 ? "" : "s", m_messageExample));

        NcuImportSummary summary;
        summary.files = m_files.size();
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
            k.durationNs = static_cast<std::int64_t>(std::llround(l.metrics.at(kDuration).value));
            k.replayed = true; // ncu replays every launch it profiles
            b.addKernel(k);
            total += k.durationNs;
            names.insert(l.name);
            for (const auto& [metric, v] : l.metrics) {
                b.addKernelMetric(id, metric, v.value, v.unit);
                ++summary.metrics;
            }
        }
        b.finish(total); // no timeline in ncu's output: the process "ran" for the kernels' summed time
        summary.launches = m_launches.size();
        summary.kernels = names.size();
        std::set<std::string> archs;
        for (const auto& [id, a] : archOf)
            archs.insert(a);
        summary.arch = fmt::format("{}", fmt::join(archs, ","));
        return summary;
    }

private:
    std::string quotedFiles() const
    {
        std::string s;
        for (const auto& f : m_files)
            s += (s.empty() ? "'" : ", '") + f + "'";
        return s;
    }

    std::optional<std::int64_t> intField(
        std::size_t file, const CsvRow& row, const Columns& column, const char* name, bool required = false)
    {
        const auto c = column(name);
        if (!c || (row.fields[*c].empty() && !required)) return std::nullopt;
        auto v = parseInt(row.fields[*c]);
        if (!v)
            throw importError(fmt::format(
                "'{}:{}': {} '{}' is not a whole number", m_files[file], row.line, name, shown(row.fields[*c])));
        return v;
    }

    Launch& launchOf(std::size_t file, const CsvRow& row, const Columns& column)
    {
        const std::int64_t id = *intField(file, row, column, "ID", true);
        const std::string& name = row.fields[*column("Kernel Name")];
        if (name.empty())
            throw importError(fmt::format("'{}:{}': launch ID {} has no kernel name", m_files[file], row.line, id));
        const std::int64_t device = intField(file, row, column, "Device").value_or(0);
        auto get = [&](const char* col) { return column(col) ? row.fields[*column(col)] : std::string(); };
        if (!m_sawRow) {
            m_sawRow = true;
            m_process = get("Process Name");
            m_host = get("Host Name");
            m_pid = intField(file, row, column, "Process ID").value_or(0);
        }
        if (auto pid = intField(file, row, column, "Process ID")) m_pids.insert(*pid);

        auto [dit, newDevice] = m_devices.try_emplace(device);
        DeviceInfo& d = dit->second;
        if (newDevice) {
            d.file = file;
            d.line = row.line;
        }
        if (const std::string cc = get("CC"); !cc.empty()) {
            if (d.cc.empty()) {
                d.cc = cc;
                d.ccFile = file;
                d.ccLine = row.line;
            } else if (d.cc != cc) {
                throw importError(fmt::format("'{}:{}': device {} is CC {} here but CC {} in '{}:{}'", m_files[file],
                    row.line, device, shown(cc), shown(d.cc), m_files[d.ccFile], d.ccLine));
            }
        }
        if (const std::string dn = get("Device Name"); !dn.empty() && d.name.empty()) d.name = dn;

        auto [it, inserted] = m_launches.try_emplace(id);
        Launch& l = it->second;
        if (inserted) {
            l.id = id;
            l.name = name;
            l.file = file;
            l.line = row.line;
            l.device = device;
            l.context = intField(file, row, column, "Context");
            l.stream = intField(file, row, column, "Stream");
            for (const auto& [col, dim] : { std::pair { "Grid Size", &l.grid }, std::pair { "Block Size", &l.block } })
                if (const std::string s = get(col); !s.empty() && !parseDim(s, *dim))
                    throw importError(
                        fmt::format("'{}:{}': {} '{}' is not (x, y, z)", m_files[file], row.line, col, shown(s)));
        } else if (l.name != name || l.device != device) {
            throw importError(fmt::format("'{}:{}': launch ID {} is kernel '{}' on device {} here but '{}' on device "
                                          "{} in '{}:{}' (files of different runs?)",
                m_files[file], row.line, id, shown(name), device, shown(l.name), l.device, m_files[l.file], l.line));
        }
        return l;
    }

    void addMetric(Launch& l, std::size_t file, std::size_t line, const std::string& metric, const std::string& unit,
        const std::string& value)
    {
        std::optional<std::pair<double, std::string>> v;
        try {
            v = normaliseNcuValue(value, unit);
        } catch (const std::invalid_argument&) {
            // Text in a counter's unit is a broken row; text in any other unit (a cache configuration, a
            // device name) is not a counter: left out, counted once in a diagnostic.
            if (isNcuNumericUnit(unit))
                throw importError(fmt::format("'{}:{}': {} = '{}' is not a number (unit {})", m_files[file], line,
                    shown(metric), shown(value), unit));
            if (metric == kDeviceName) {
                DeviceInfo& d = m_devices.at(l.device);
                if (d.name.empty()) d.name = value;
                return;
            }
            if (!m_textValues++) m_textExample = shown(metric) + " = " + shown(value);
            return;
        }
        if (!v) return; // n/a: not collected for this launch
        // A counter's sum counts instructions, bytes or cycles: negative is a broken row, not a measurement.
        if (v->first < 0 && metric.size() > 4 && metric.compare(metric.size() - 4, 4, ".sum") == 0)
            throw importError(fmt::format("'{}:{}': {} = {} is negative; a counter's sum never is", m_files[file], line,
                shown(metric), shown(value)));
        noteDeviceAttribute(l, file, line, metric, v->first);
        auto [it, inserted] = l.metrics.try_emplace(metric, MetricValue { v->first, v->second, file, line });
        if (!inserted && (it->second.unit != v->second || !sameValue(it->second.value, v->first)))
            throw importError(fmt::format("'{}:{}': {} of launch ID {} ({}) is {} {} here but {} {} in '{}:{}'",
                m_files[file], line, shown(metric), l.id, shown(l.name), v->first, v->second, it->second.value,
                it->second.unit, m_files[it->second.file], it->second.line));
    }

    /// Device attributes collected as metrics stand in for missing columns (the CC, the SM count).
    void noteDeviceAttribute(const Launch& l, std::size_t file, std::size_t line, const std::string& metric, double v)
    {
        DeviceInfo& d = m_devices.at(l.device);
        if (metric == kSmCount && !d.sms && v > 0 && v < 1e6) d.sms = static_cast<int>(v);
        if ((metric != kCcMajor && metric != kCcMinor) || !(v >= 0 && v < 100) || v != std::floor(v)) return;
        auto& [major, minor] = m_ccParts[l.device];
        (metric == kCcMajor ? major : minor) = static_cast<int>(v);
        if (d.cc.empty() && major && minor) {
            d.cc = fmt::format("{}.{}", *major, *minor);
            d.ccFile = file;
            d.ccLine = line;
        }
    }

    NcuImportOptions m_options;
    std::vector<std::string> m_files;
    std::map<std::int64_t, Launch> m_launches;
    std::map<std::int64_t, DeviceInfo> m_devices;
    std::map<std::int64_t, std::pair<std::optional<int>, std::optional<int>>> m_ccParts;
    bool m_sawRow = false;
    std::string m_process, m_host;
    std::int64_t m_pid = 0;
    std::set<std::int64_t> m_pids;
    std::size_t m_textValues = 0;
    std::string m_textExample;
    std::size_t m_messages = 0;
    std::string m_messageExample;
};

} // namespace

bool isNcuNumericUnit(std::string_view unit)
{
    return findUnit(unit) != nullptr
        || std::find(std::begin(kPlainNumericUnits), std::end(kPlainNumericUnits), unit)
        != std::end(kPlainNumericUnits);
}

std::optional<std::pair<double, std::string>> normaliseNcuValue(std::string_view value, std::string_view unit)
{
    std::string v;
    for (char c : value)
        if (c != ',' && c != ' ') v += c; // thousands separators
    if (v.empty() || v == "n/a" || v == "N/A") return std::nullopt;
    double x = 0;
    // from_chars, not strtod: the same in every locale.
    const char* first = v.data() + (v.front() == '+' ? 1 : 0);
    const auto [end, ec] = std::from_chars(first, v.data() + v.size(), x);
    if (ec != std::errc() || end != v.data() + v.size() || !std::isfinite(x)) throw std::invalid_argument(v);
    const UnitScale* u = findUnit(unit);
    if (!u) return std::make_pair(x, std::string(unit));
    if (!std::isfinite(x * u->factor)) throw std::invalid_argument(v); // beyond a double once scaled
    return std::make_pair(x * u->factor, std::string(u->base));
}

NcuImportSummary importNcu(
    const std::vector<std::string>& csvFiles, const std::string& outputPath, const NcuImportOptions& options)
{
    if (csvFiles.empty()) throw ImportError("no input files: name the CSV files ncu --csv wrote");
    std::error_code ec;
    // Checked before reading, so that a large import does not fail at its end; ProfileBuilder checks again.
    if (std::filesystem::exists(outputPath, ec))
        throw importError("'" + outputPath + "': exists already; choose another -o");
    Importer importer(options);
    for (const auto& f : csvFiles)
        importer.read(f);
    return importer.write(outputPath);
}

} // namespace rooftime::analyzer
