// SPDX-License-Identifier: MIT
#include "profile_writer.h"

#include "rooftime/schema.h"

#include <sqlite3.h>

#include <algorithm>

namespace rooftime::collector {

namespace {
constexpr const char* kVersion = ROOFTIME_VERSION_STRING;
constexpr int kRegionColumns = 12;

std::string regionBatchSql()
{
    std::string sql
        = "INSERT INTO region(thread, seq, parent, kind, name, domain, start_ns, end_ns, depth, flops, bytes,"
          " flags) VALUES";
    for (int r = 0; r < ProfileWriter::kRegionBatch; ++r)
        sql += r ? ",(?,?,?,?,?,?,?,?,?,?,?,?)" : "(?,?,?,?,?,?,?,?,?,?,?,?)";
    return sql;
}

// Binds one region's columns starting at parameter `first` (1-based).
void bindRegion(sqlite3_stmt* s, int first, const Event& e)
{
    sqlite3_bind_int64(s, first, e.thread);
    sqlite3_bind_int64(s, first + 1, static_cast<sqlite3_int64>(e.seq));
    if (e.parent)
        sqlite3_bind_int64(s, first + 2, static_cast<sqlite3_int64>(e.parent));
    else
        sqlite3_bind_null(s, first + 2);
    sqlite3_bind_int(s, first + 3, e.kind);
    sqlite3_bind_int64(s, first + 4, e.name);
    if (e.domain)
        sqlite3_bind_int64(s, first + 5, e.domain);
    else
        sqlite3_bind_null(s, first + 5);
    sqlite3_bind_int64(s, first + 6, e.start);
    sqlite3_bind_int64(s, first + 7, e.end);
    sqlite3_bind_int(s, first + 8, static_cast<int>(e.depth));
    if (e.hasWork) {
        sqlite3_bind_double(s, first + 9, e.flops);
        sqlite3_bind_double(s, first + 10, e.bytes);
    } else {
        sqlite3_bind_null(s, first + 9);
        sqlite3_bind_null(s, first + 10);
    }
    sqlite3_bind_int(s, first + 11, e.flags);
}
} // namespace

std::unique_ptr<ProfileWriter> ProfileWriter::create(
    const std::string& path, const ProcessInfo& process, const std::string& mode, std::string& error)
{
    std::unique_ptr<ProfileWriter> w(new ProfileWriter);
    w->m_path = path;
    if (sqlite3_open_v2(path.c_str(), &w->m_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
        error = "cannot open profile '" + path + "': " + (w->m_db ? sqlite3_errmsg(w->m_db) : "out of memory");
        return nullptr;
    }
    // WAL + synchronous=OFF: commits are atomic and survive the process being killed (not a power cut, which
    // a profile need not survive), and cost no fsync, not even at checkpoints.
    if (!w->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;", error)) return nullptr;
    w->m_walMode = true;
    if (!w->exec("BEGIN", error) || !w->exec(schema::kCreateSql, error)) return nullptr;
    w->m_inTransaction = true;

    auto prepare = [&](const char* sql, sqlite3_stmt** stmt) {
        if (sqlite3_prepare_v3(w->m_db, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, nullptr) != SQLITE_OK) {
            error = std::string("cannot prepare statement in '") + path + "': " + sqlite3_errmsg(w->m_db);
            return false;
        }
        return true;
    };
    if (!prepare("INSERT INTO string(id, text) VALUES(?,?)", &w->m_insString)
        || !prepare("INSERT INTO thread(id, tid, name, first_ns) VALUES(?,?,?,?)", &w->m_insThread)
        || !prepare("INSERT INTO region(thread, seq, parent, kind, name, domain, start_ns, end_ns, depth, flops, bytes,"
                    " flags) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
            &w->m_insRegion)
        || !prepare(regionBatchSql().c_str(), &w->m_insRegionBatch)
        || !prepare("INSERT INTO param(thread, region, key, value, t_ns) VALUES(?,?,?,?,?)", &w->m_insParam)
        || !prepare("INSERT INTO diagnostic(t_ns, component, message) VALUES(?,?,?)", &w->m_insDiag)
        || !prepare("INSERT OR REPLACE INTO meta(key, value) VALUES(?,?)", &w->m_setMeta)
        || !prepare("INSERT INTO frame(thread, id, parent, ip) VALUES(?,?,?,?)", &w->m_insFrame)
        || !prepare("INSERT INTO region_stack(thread, seq, frame) VALUES(?,?,?)", &w->m_insRegionStack)
        || !prepare("INSERT INTO kernel_stack(kernel, frame) VALUES(?,?)", &w->m_insKernelStack)
        || !prepare("INSERT OR REPLACE INTO device(id, name, arch, sms) VALUES(?,?,?,?)", &w->m_insDevice)
        || !prepare("INSERT INTO kernel(id, name, mangled, device, context, stream, grid_x, grid_y, grid_z, block_x,"
                    " block_y, block_z, registers, shared_bytes, start_ns, end_ns, duration_ns, correlation, thread,"
                    " region, replayed, launch_ns, graph_id, graph_node_id) "
                    "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            &w->m_insKernel)
        || !prepare("INSERT INTO kernel_metric(kernel, metric, value, unit) VALUES(?,?,?,?)", &w->m_insKernelMetric)
        || !prepare("INSERT INTO memop(kind, copy_kind, bytes, device, context, stream, start_ns, end_ns,"
                    " correlation, thread, region) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
            &w->m_insMemop))
        return nullptr;

    w->setMeta("format", schema::kFormatName);
    w->setMeta("schema_major", std::to_string(schema::kMajor));
    w->setMeta("schema_minor", std::to_string(schema::kMinor));
    w->setMeta("rooftime_version", kVersion);
    w->setMeta("clock", "CLOCK_MONOTONIC");
    w->setMeta("time_unit", "ns");
    w->setMeta("mode", mode);
    w->setMeta("complete", "0");

    sqlite3_stmt* proc = nullptr;
    if (!prepare("INSERT INTO process(pid, ppid, host, rank, exe, cmdline, start_ns, wall_start_unix_ns)"
                 " VALUES(?,?,?,?,?,?,?,?)",
            &proc))
        return nullptr;
    sqlite3_bind_int64(proc, 1, process.pid);
    sqlite3_bind_int64(proc, 2, process.ppid);
    sqlite3_bind_text(proc, 3, process.host.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(proc, 4, process.rank);
    sqlite3_bind_text(proc, 5, process.exe.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(proc, 6, process.cmdline.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(proc, 7, process.startNs);
    sqlite3_bind_int64(proc, 8, process.wallStartNs);
    const int rc = sqlite3_step(proc);
    sqlite3_finalize(proc);
    if (rc != SQLITE_DONE) {
        error = std::string("cannot write process row to '") + path + "': " + sqlite3_errmsg(w->m_db);
        return nullptr;
    }
    // The schema and process row are durable before the first event arrives.
    if (!w->commit(error)) return nullptr;
    return w;
}

ProfileWriter::~ProfileWriter()
{
    if (!m_db) return;
    for (sqlite3_stmt* s : { m_insString, m_insThread, m_insRegion, m_insRegionBatch, m_insParam, m_insDiag, m_setMeta,
             m_insFrame, m_insRegionStack, m_insKernelStack, m_insDevice, m_insKernel, m_insKernelMetric, m_insMemop })
        sqlite3_finalize(s);
    sqlite3_close_v2(m_db);
}

void ProfileWriter::setModules(const std::vector<Module>& modules)
{
    if (!ensureTransaction()) return;
    std::string error;
    if (!exec("DELETE FROM module", error)) {
        if (m_error.empty()) m_error = error;
        return;
    }
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(m_db, "INSERT INTO module(path, base, start, end) VALUES(?,?,?,?)", -1, &s, nullptr)
        != SQLITE_OK) {
        fail("cannot prepare the module insert");
        return;
    }
    for (const Module& m : modules) {
        sqlite3_bind_text(s, 1, m.path.c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(s, 2, static_cast<sqlite3_int64>(m.base));
        sqlite3_bind_int64(s, 3, static_cast<sqlite3_int64>(m.start));
        sqlite3_bind_int64(s, 4, static_cast<sqlite3_int64>(m.end));
        if (sqlite3_step(s) != SQLITE_DONE) fail("cannot insert module");
        sqlite3_reset(s);
        if (!m_error.empty()) break;
    }
    sqlite3_finalize(s);
}

void ProfileWriter::addMachine(const std::string& source, const std::string& json)
{
    if (!ensureTransaction()) return;
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(m_db, "INSERT INTO machine(source, json) VALUES(?,?)", -1, &s, nullptr) != SQLITE_OK) {
        fail("cannot prepare machine insert");
        return;
    }
    sqlite3_bind_text(s, 1, source.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, json.c_str(), static_cast<int>(json.size()), SQLITE_TRANSIENT);
    if (sqlite3_step(s) != SQLITE_DONE) fail("cannot write the machine model");
    sqlite3_finalize(s);
}

bool ProfileWriter::exec(const char* sql, std::string& error)
{
    char* msg = nullptr;
    if (sqlite3_exec(m_db, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
        error = "SQLite error on '" + m_path + "': " + (msg ? msg : sqlite3_errmsg(m_db));
        sqlite3_free(msg);
        return false;
    }
    return true;
}

void ProfileWriter::fail(const char* what)
{
    if (m_error.empty()) m_error = std::string(what) + " in '" + m_path + "': " + sqlite3_errmsg(m_db);
}

bool ProfileWriter::ensureTransaction()
{
    // After an error nothing more is written: SQLite may have rolled the transaction back by itself (a full
    // disk), and rows inserted then would each commit alone, without the strings and threads they refer to.
    if (!m_error.empty()) return false;
    if (m_inTransaction) return true;
    std::string error;
    if (!m_walMode) {
        // Reopened after a failed exec: back to WAL for crash safety.
        if (!exec("PRAGMA journal_mode=WAL", error)) m_error = error;
        m_walMode = true;
    }
    if (exec("BEGIN", error))
        m_inTransaction = true;
    else if (m_error.empty())
        m_error = error;
    return m_error.empty() && m_inTransaction;
}

void ProfileWriter::addString(std::uint32_t id, const std::string& text)
{
    if (!ensureTransaction()) return;
    sqlite3_bind_int64(m_insString, 1, id);
    sqlite3_bind_text(m_insString, 2, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
    if (sqlite3_step(m_insString) != SQLITE_DONE) fail("cannot insert string");
    sqlite3_reset(m_insString);
}

void ProfileWriter::addThread(std::uint32_t index, long tid, const std::string& name, std::int64_t firstNs)
{
    if (!ensureTransaction()) return;
    sqlite3_bind_int64(m_insThread, 1, index);
    sqlite3_bind_int64(m_insThread, 2, tid);
    sqlite3_bind_text(m_insThread, 3, name.data(), static_cast<int>(name.size()), SQLITE_STATIC);
    sqlite3_bind_int64(m_insThread, 4, firstNs);
    if (sqlite3_step(m_insThread) != SQLITE_DONE) fail("cannot insert thread");
    sqlite3_reset(m_insThread);
}

void ProfileWriter::addEvent(const Event& e)
{
    if (!ensureTransaction()) return;
    if (e.type == EventType::Frame) {
        sqlite3_stmt* f = m_insFrame;
        sqlite3_bind_int64(f, 1, e.thread);
        sqlite3_bind_int64(f, 2, static_cast<sqlite3_int64>(e.seq));
        sqlite3_bind_int64(f, 3, static_cast<sqlite3_int64>(e.parent));
        sqlite3_bind_int64(f, 4, e.start);
        if (sqlite3_step(f) != SQLITE_DONE) fail("cannot insert frame");
        sqlite3_reset(f);
        ++m_rows;
        return;
    }
    if (e.type == EventType::Region) {
        if (e.stack) {
            sqlite3_stmt* r = m_insRegionStack;
            sqlite3_bind_int64(r, 1, e.thread);
            sqlite3_bind_int64(r, 2, static_cast<sqlite3_int64>(e.seq));
            sqlite3_bind_int64(r, 3, e.stack);
            if (sqlite3_step(r) != SQLITE_DONE) fail("cannot insert region stack");
            sqlite3_reset(r);
        }
        m_regions.push_back(e);
        if (m_regions.size() == static_cast<size_t>(kRegionBatch)) flushRegions();
        return;
    }
    if (e.type != EventType::Param) return;
    sqlite3_stmt* s = m_insParam;
    sqlite3_bind_int64(s, 1, e.thread);
    if (e.seq)
        sqlite3_bind_int64(s, 2, static_cast<sqlite3_int64>(e.seq));
    else
        sqlite3_bind_null(s, 2);
    sqlite3_bind_int64(s, 3, e.name);
    sqlite3_bind_double(s, 4, e.flops);
    sqlite3_bind_int64(s, 5, e.start);
    if (sqlite3_step(s) != SQLITE_DONE) fail("cannot insert parameter");
    sqlite3_reset(s);
    ++m_rows;
}

void ProfileWriter::flushRegions()
{
    if (!m_error.empty()) {
        m_regions.clear(); // see ensureTransaction
        return;
    }
    if (m_regions.size() == static_cast<size_t>(kRegionBatch)) {
        for (int r = 0; r < kRegionBatch; ++r)
            bindRegion(m_insRegionBatch, 1 + r * kRegionColumns, m_regions[static_cast<size_t>(r)]);
        if (sqlite3_step(m_insRegionBatch) != SQLITE_DONE) fail("cannot insert regions");
        sqlite3_reset(m_insRegionBatch);
    } else {
        for (const Event& e : m_regions) {
            bindRegion(m_insRegion, 1, e);
            if (sqlite3_step(m_insRegion) != SQLITE_DONE) fail("cannot insert region");
            sqlite3_reset(m_insRegion);
            if (!m_error.empty()) break;
        }
    }
    m_rows += m_regions.size();
    m_regions.clear();
}

void ProfileWriter::addDiagnostic(std::int64_t tNs, const std::string& component, const std::string& message)
{
    if (!ensureTransaction()) return;
    sqlite3_bind_int64(m_insDiag, 1, tNs);
    sqlite3_bind_text(m_insDiag, 2, component.data(), static_cast<int>(component.size()), SQLITE_STATIC);
    sqlite3_bind_text(m_insDiag, 3, message.data(), static_cast<int>(message.size()), SQLITE_STATIC);
    if (sqlite3_step(m_insDiag) != SQLITE_DONE) fail("cannot insert diagnostic");
    sqlite3_reset(m_insDiag);
}

namespace {
void bindOptional(sqlite3_stmt* s, int index, std::uint64_t value)
{
    if (value)
        sqlite3_bind_int64(s, index, static_cast<sqlite3_int64>(value));
    else
        sqlite3_bind_null(s, index);
}
} // namespace

void ProfileWriter::addDevice(const backend::DeviceRecord& d)
{
    if (!ensureTransaction()) return;
    sqlite3_bind_int64(m_insDevice, 1, d.id);
    sqlite3_bind_text(m_insDevice, 2, d.name.data(), static_cast<int>(d.name.size()), SQLITE_STATIC);
    sqlite3_bind_text(m_insDevice, 3, d.arch.data(), static_cast<int>(d.arch.size()), SQLITE_STATIC);
    if (d.sms > 0)
        sqlite3_bind_int(m_insDevice, 4, d.sms);
    else
        sqlite3_bind_null(m_insDevice, 4);
    if (sqlite3_step(m_insDevice) != SQLITE_DONE) fail("cannot insert device");
    sqlite3_reset(m_insDevice);
}

void ProfileWriter::addKernel(
    std::int64_t id, const backend::KernelRecord& k, std::uint32_t name, std::uint32_t mangled)
{
    if (!ensureTransaction()) return;
    sqlite3_stmt* s = m_insKernel;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, name);
    bindOptional(s, 3, mangled);
    sqlite3_bind_int64(s, 4, k.device);
    sqlite3_bind_int64(s, 5, k.context);
    sqlite3_bind_int64(s, 6, k.stream);
    for (int i = 0; i < 3; ++i) {
        sqlite3_bind_int(s, 7 + i, k.grid[i]);
        sqlite3_bind_int(s, 10 + i, k.block[i]);
    }
    sqlite3_bind_int(s, 13, k.registers);
    sqlite3_bind_int64(s, 14, k.sharedBytes);
    sqlite3_bind_int64(s, 15, k.startNs);
    sqlite3_bind_int64(s, 16, k.endNs);
    sqlite3_bind_int64(s, 17, k.endNs - k.startNs);
    bindOptional(s, 18, k.correlation);
    bindOptional(s, 19, k.thread);
    bindOptional(s, 20, k.region);
    sqlite3_bind_int(s, 21, k.replayed ? 1 : 0);
    bindOptional(s, 22, static_cast<std::uint64_t>(std::max<std::int64_t>(k.launchNs, 0)));
    bindOptional(s, 23, k.graphId);
    bindOptional(s, 24, k.graphNodeId);
    if (sqlite3_step(s) != SQLITE_DONE) fail("cannot insert kernel");
    sqlite3_reset(s);
    ++m_rows;
    if (k.stack) {
        sqlite3_bind_int64(m_insKernelStack, 1, id);
        sqlite3_bind_int64(m_insKernelStack, 2, k.stack);
        if (sqlite3_step(m_insKernelStack) != SQLITE_DONE) fail("cannot insert kernel stack");
        sqlite3_reset(m_insKernelStack);
    }
}

void ProfileWriter::addKernelMetric(std::int64_t kernel, std::uint32_t metric, double value, const std::string& unit)
{
    if (!ensureTransaction()) return;
    sqlite3_bind_int64(m_insKernelMetric, 1, kernel);
    sqlite3_bind_int64(m_insKernelMetric, 2, metric);
    sqlite3_bind_double(m_insKernelMetric, 3, value);
    sqlite3_bind_text(m_insKernelMetric, 4, unit.data(), static_cast<int>(unit.size()), SQLITE_STATIC);
    if (sqlite3_step(m_insKernelMetric) != SQLITE_DONE) fail("cannot insert kernel metric");
    sqlite3_reset(m_insKernelMetric);
    ++m_rows;
}

void ProfileWriter::addMemoryOp(const backend::MemoryRecord& op)
{
    if (!ensureTransaction()) return;
    sqlite3_stmt* s = m_insMemop;
    sqlite3_bind_int(s, 1, static_cast<int>(op.kind));
    if (op.kind == backend::MemoryRecord::Kind::Copy)
        sqlite3_bind_int(s, 2, op.copyKind);
    else
        sqlite3_bind_null(s, 2);
    sqlite3_bind_int64(s, 3, static_cast<sqlite3_int64>(op.bytes));
    sqlite3_bind_int64(s, 4, op.device);
    sqlite3_bind_int64(s, 5, op.context);
    sqlite3_bind_int64(s, 6, op.stream);
    sqlite3_bind_int64(s, 7, op.startNs);
    sqlite3_bind_int64(s, 8, op.endNs);
    bindOptional(s, 9, op.correlation);
    bindOptional(s, 10, op.thread);
    bindOptional(s, 11, op.region);
    if (sqlite3_step(s) != SQLITE_DONE) fail("cannot insert memory operation");
    sqlite3_reset(s);
    ++m_rows;
}

void ProfileWriter::setMeta(const std::string& key, const std::string& value)
{
    if (!ensureTransaction()) return;
    sqlite3_bind_text(m_setMeta, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
    sqlite3_bind_text(m_setMeta, 2, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
    if (sqlite3_step(m_setMeta) != SQLITE_DONE) fail("cannot set meta");
    sqlite3_reset(m_setMeta);
}

bool ProfileWriter::commit(std::string& error)
{
    flushRegions();
    if (m_inTransaction) {
        m_inTransaction = false;
        if (!m_error.empty()) {
            exec("ROLLBACK", error);
            error = m_error;
            return false;
        }
        if (!exec("COMMIT", error)) {
            if (m_error.empty()) m_error = error; // nothing more is written after a failed commit either
            return false;
        }
    }
    if (!m_error.empty()) {
        error = m_error;
        return false;
    }
    return true;
}

void ProfileWriter::reopen()
{
    if (!ensureTransaction()) return;
    if (sqlite3_exec(m_db, "UPDATE process SET end_ns = NULL, end_reason = NULL", nullptr, nullptr, nullptr)
        != SQLITE_OK)
        fail("cannot reopen the process row");
    setMeta("complete", "0");
}

bool ProfileWriter::finish(std::int64_t endNs, const std::string& reason, bool complete, std::string& error)
{
    if (!ensureTransaction()) {
        error = m_error;
        return false;
    }
    flushRegions();
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(m_db, "UPDATE process SET end_ns = ?, end_reason = ?", -1, &s, nullptr) == SQLITE_OK) {
        sqlite3_bind_int64(s, 1, endNs);
        sqlite3_bind_text(s, 2, reason.c_str(), -1, SQLITE_TRANSIENT);
        if (sqlite3_step(s) != SQLITE_DONE) fail("cannot record process end");
    } else {
        fail("cannot record process end");
    }
    sqlite3_finalize(s);
    setMeta("complete", complete ? "1" : "0");
    if (!commit(error)) return false;
    // Leave one self-contained file: fold the WAL back and drop the -wal/-shm side files.
    if (!exec("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;", error)) return false;
    m_walMode = false;
    return true;
}

} // namespace rooftime::collector
