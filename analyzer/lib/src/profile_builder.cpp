// SPDX-License-Identifier: MIT
#include "rooftime/analyzer/profile_builder.h"

#include "rooftime/schema.h"

#include <filesystem>

#include <sqlite3.h>

namespace rooftime::analyzer {

namespace {
constexpr const char* kVersion = ROOFTIME_VERSION_STRING;

void bindOpt(sqlite3_stmt* s, int i, const std::optional<std::int64_t>& v)
{
    if (v)
        sqlite3_bind_int64(s, i, *v);
    else
        sqlite3_bind_null(s, i);
}
} // namespace

ProfileBuilder::ProfileBuilder(
    const std::string& path, const std::string& host, const std::string& exe, const std::string& cmdline, long pid)
    : m_path(path)
{
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) throw BuildError("'" + path + "': exists already; choose another -o");
    if (sqlite3_open_v2(path.c_str(), &m_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
        const std::string why = m_db ? sqlite3_errmsg(m_db) : "out of memory";
        sqlite3_close(m_db);
        m_db = nullptr;
        throw BuildError("'" + path + "': cannot create: " + why);
    }
    exec("PRAGMA journal_mode=DELETE; PRAGMA synchronous=OFF; BEGIN");
    exec(schema::kCreateSql);
    m_insKernel = prepare("INSERT INTO kernel(id, name, mangled, device, context, stream, grid_x, grid_y, grid_z, "
                          "block_x, block_y, block_z, registers, shared_bytes, start_ns, end_ns, duration_ns, "
                          "correlation, thread, region, replayed, launch_ns, graph_id, graph_node_id) "
                          "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    m_insMetric = prepare("INSERT INTO kernel_metric(kernel, metric, value, unit) VALUES(?,?,?,?)");
    m_insString = prepare("INSERT INTO string(id, text) VALUES(?,?)");
    setMeta("format", schema::kFormatName);
    setMeta("schema_major", std::to_string(schema::kMajor));
    setMeta("schema_minor", std::to_string(schema::kMinor));
    setMeta("rooftime_version", kVersion);
    setMeta("clock", "CLOCK_MONOTONIC");
    setMeta("time_unit", "ns");
    setMeta("complete", "0");
    sqlite3_stmt* p = prepare("INSERT INTO process(pid, ppid, host, rank, exe, cmdline, start_ns, wall_start_unix_ns) "
                              "VALUES(?,0,?,0,?,?,0,0)");
    sqlite3_bind_int64(p, 1, pid);
    sqlite3_bind_text(p, 2, host.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(p, 3, exe.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(p, 4, cmdline.c_str(), -1, SQLITE_TRANSIENT);
    step(p, "process row");
    sqlite3_finalize(p);
}

ProfileBuilder::~ProfileBuilder()
{
    for (sqlite3_stmt* s : { m_insKernel, m_insMetric, m_insString })
        sqlite3_finalize(s);
    if (m_db) sqlite3_close(m_db);
    if (!m_finished) {
        std::error_code ec;
        std::filesystem::remove(m_path, ec); // an import that failed leaves nothing half-written
    }
}

void ProfileBuilder::exec(const char* sql)
{
    char* msg = nullptr;
    if (sqlite3_exec(m_db, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
        const std::string why = msg ? msg : sqlite3_errmsg(m_db);
        sqlite3_free(msg);
        throw BuildError("'" + m_path + "': SQLite error: " + why);
    }
}

sqlite3_stmt* ProfileBuilder::prepare(const char* sql)
{
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(m_db, sql, -1, &s, nullptr) != SQLITE_OK)
        throw BuildError("'" + m_path + "': SQLite error: " + sqlite3_errmsg(m_db));
    return s;
}

void ProfileBuilder::step(sqlite3_stmt* s, const char* what)
{
    const int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) throw BuildError("'" + m_path + "': cannot write " + what + ": " + sqlite3_errmsg(m_db));
}

std::int64_t ProfileBuilder::stringId(const std::string& text)
{
    auto [it, inserted] = m_strings.try_emplace(text, static_cast<std::int64_t>(m_strings.size() + 1));
    if (inserted) {
        sqlite3_bind_int64(m_insString, 1, it->second);
        sqlite3_bind_text(m_insString, 2, text.c_str(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
        step(m_insString, "a string");
    }
    return it->second;
}

void ProfileBuilder::setMeta(const std::string& key, const std::string& value)
{
    sqlite3_stmt* s = prepare("INSERT OR REPLACE INTO meta(key, value) VALUES(?,?)");
    sqlite3_bind_text(s, 1, key.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, value.c_str(), -1, SQLITE_TRANSIENT);
    step(s, "meta");
    sqlite3_finalize(s);
}

void ProfileBuilder::addDevice(
    std::int64_t id, const std::string& name, const std::string& arch, std::optional<int> sms)
{
    sqlite3_stmt* s = prepare("INSERT OR REPLACE INTO device(id, name, arch, sms) VALUES(?,?,?,?)");
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_text(s, 2, name.c_str(), -1, SQLITE_TRANSIENT);
    if (arch.empty())
        sqlite3_bind_null(s, 3);
    else
        sqlite3_bind_text(s, 3, arch.c_str(), -1, SQLITE_TRANSIENT);
    if (sms)
        sqlite3_bind_int(s, 4, *sms);
    else
        sqlite3_bind_null(s, 4);
    step(s, "a device");
    sqlite3_finalize(s);
}

void ProfileBuilder::addKernel(const KernelRecord& k)
{
    sqlite3_stmt* s = m_insKernel;
    sqlite3_bind_int64(s, 1, k.id);
    sqlite3_bind_int64(s, 2, stringId(k.name));
    if (k.mangled.empty())
        sqlite3_bind_null(s, 3);
    else
        sqlite3_bind_int64(s, 3, stringId(k.mangled));
    sqlite3_bind_int64(s, 4, k.device);
    bindOpt(s, 5, k.context);
    bindOpt(s, 6, k.stream);
    for (int d = 0; d < 3; ++d) {
        bindOpt(s, 7 + d, k.grid[d]);
        bindOpt(s, 10 + d, k.block[d]);
    }
    bindOpt(s, 13, k.registers);
    bindOpt(s, 14, k.sharedBytes);
    bindOpt(s, 15, k.startNs);
    bindOpt(s, 16, k.endNs);
    sqlite3_bind_int64(s, 17, k.durationNs);
    bindOpt(s, 18, k.correlation);
    bindOpt(s, 19, k.thread);
    bindOpt(s, 20, k.region);
    sqlite3_bind_int(s, 21, k.replayed ? 1 : 0);
    bindOpt(s, 22, k.launchNs);
    bindOpt(s, 23, k.graphId);
    bindOpt(s, 24, k.graphNodeId);
    step(s, "a kernel (duplicate launch id?)");
}

void ProfileBuilder::addKernelMetric(
    std::int64_t kernel, const std::string& metric, double value, const std::string& unit)
{
    sqlite3_bind_int64(m_insMetric, 1, kernel);
    sqlite3_bind_int64(m_insMetric, 2, stringId(metric));
    sqlite3_bind_double(m_insMetric, 3, value);
    sqlite3_bind_text(m_insMetric, 4, unit.c_str(), -1, SQLITE_TRANSIENT);
    step(m_insMetric, "a kernel metric");
}

void ProfileBuilder::addMachine(const std::string& source, const std::string& json)
{
    sqlite3_stmt* s = prepare("INSERT INTO machine(source, json) VALUES(?,?)");
    sqlite3_bind_text(s, 1, source.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, json.c_str(), static_cast<int>(json.size()), SQLITE_TRANSIENT);
    step(s, "the machine model");
    sqlite3_finalize(s);
}

void ProfileBuilder::addRegion(const RegionRecord& r)
{
    sqlite3_stmt* s = prepare("INSERT INTO region(thread, seq, parent, kind, name, domain, start_ns, end_ns, depth, "
                              "flops, bytes, flags) VALUES(?,?,?,?,?,?,?,?,?,?,?,0)");
    sqlite3_bind_int64(s, 1, r.thread);
    sqlite3_bind_int64(s, 2, r.seq);
    bindOpt(s, 3, r.parent);
    sqlite3_bind_int(s, 4, r.kind);
    sqlite3_bind_int64(s, 5, stringId(r.name));
    if (r.domain.empty())
        sqlite3_bind_null(s, 6);
    else
        sqlite3_bind_int64(s, 6, stringId(r.domain));
    sqlite3_bind_int64(s, 7, r.startNs);
    sqlite3_bind_int64(s, 8, r.endNs);
    sqlite3_bind_int(s, 9, r.depth);
    if (r.flops) {
        sqlite3_bind_double(s, 10, *r.flops);
        sqlite3_bind_double(s, 11, r.bytes.value_or(0));
    } else {
        sqlite3_bind_null(s, 10);
        sqlite3_bind_null(s, 11);
    }
    step(s, "a region");
    sqlite3_finalize(s);
}

void ProfileBuilder::addDiagnostic(const std::string& component, const std::string& message)
{
    sqlite3_stmt* s = prepare("INSERT INTO diagnostic(t_ns, component, message) VALUES(0,?,?)");
    sqlite3_bind_text(s, 1, component.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, message.c_str(), -1, SQLITE_TRANSIENT);
    step(s, "a diagnostic");
    sqlite3_finalize(s);
}

void ProfileBuilder::finish(std::int64_t endNs)
{
    sqlite3_stmt* s = prepare("UPDATE process SET end_ns = ?, end_reason = 'exit'");
    sqlite3_bind_int64(s, 1, endNs);
    step(s, "the process end");
    sqlite3_finalize(s);
    setMeta("complete", "1");
    exec("COMMIT");
    m_finished = true;
}

} // namespace rooftime::analyzer
