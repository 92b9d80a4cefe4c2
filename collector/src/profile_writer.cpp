// SPDX-License-Identifier: MIT
#include "profile_writer.h"

#include "rooftime/schema.h"

#include <sqlite3.h>

namespace rooftime::collector {

namespace {
constexpr const char* kVersion = ROOFTIME_VERSION_STRING;
}

std::unique_ptr<ProfileWriter> ProfileWriter::create(
    const std::string& path, const ProcessInfo& process, const std::string& mode, std::string& error)
{
    std::unique_ptr<ProfileWriter> w(new ProfileWriter);
    w->m_path = path;
    if (sqlite3_open_v2(path.c_str(), &w->m_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
        error = "cannot open profile '" + path + "': " + (w->m_db ? sqlite3_errmsg(w->m_db) : "out of memory");
        return nullptr;
    }
    // WAL + synchronous=NORMAL: commits are atomic and survive the process being killed (not a power cut),
    // and cost no fsync each.
    if (!w->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", error)) return nullptr;
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
        || !prepare("INSERT INTO param(thread, region, key, value, t_ns) VALUES(?,?,?,?,?)", &w->m_insParam)
        || !prepare("INSERT INTO diagnostic(t_ns, component, message) VALUES(?,?,?)", &w->m_insDiag)
        || !prepare("INSERT OR REPLACE INTO meta(key, value) VALUES(?,?)", &w->m_setMeta))
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
    for (sqlite3_stmt* s : { m_insString, m_insThread, m_insRegion, m_insParam, m_insDiag, m_setMeta })
        sqlite3_finalize(s);
    sqlite3_close_v2(m_db);
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

void ProfileWriter::ensureTransaction()
{
    if (m_inTransaction) return;
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
}

void ProfileWriter::addString(std::uint32_t id, const std::string& text)
{
    ensureTransaction();
    sqlite3_bind_int64(m_insString, 1, id);
    sqlite3_bind_text(m_insString, 2, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
    if (sqlite3_step(m_insString) != SQLITE_DONE) fail("cannot insert string");
    sqlite3_reset(m_insString);
}

void ProfileWriter::addThread(std::uint32_t index, long tid, const std::string& name, std::int64_t firstNs)
{
    ensureTransaction();
    sqlite3_bind_int64(m_insThread, 1, index);
    sqlite3_bind_int64(m_insThread, 2, tid);
    sqlite3_bind_text(m_insThread, 3, name.data(), static_cast<int>(name.size()), SQLITE_STATIC);
    sqlite3_bind_int64(m_insThread, 4, firstNs);
    if (sqlite3_step(m_insThread) != SQLITE_DONE) fail("cannot insert thread");
    sqlite3_reset(m_insThread);
}

void ProfileWriter::addEvent(const Event& e)
{
    ensureTransaction();
    sqlite3_stmt* s = nullptr;
    if (e.type == EventType::Region) {
        s = m_insRegion;
        sqlite3_bind_int64(s, 1, e.thread);
        sqlite3_bind_int64(s, 2, static_cast<sqlite3_int64>(e.seq));
        if (e.parent)
            sqlite3_bind_int64(s, 3, static_cast<sqlite3_int64>(e.parent));
        else
            sqlite3_bind_null(s, 3);
        sqlite3_bind_int(s, 4, e.kind);
        sqlite3_bind_int64(s, 5, e.name);
        if (e.domain)
            sqlite3_bind_int64(s, 6, e.domain);
        else
            sqlite3_bind_null(s, 6);
        sqlite3_bind_int64(s, 7, e.start);
        sqlite3_bind_int64(s, 8, e.end);
        sqlite3_bind_int(s, 9, static_cast<int>(e.depth));
        if (e.hasWork) {
            sqlite3_bind_double(s, 10, e.flops);
            sqlite3_bind_double(s, 11, e.bytes);
        } else {
            sqlite3_bind_null(s, 10);
            sqlite3_bind_null(s, 11);
        }
        sqlite3_bind_int(s, 12, e.flags);
    } else if (e.type == EventType::Param) {
        s = m_insParam;
        sqlite3_bind_int64(s, 1, e.thread);
        if (e.seq)
            sqlite3_bind_int64(s, 2, static_cast<sqlite3_int64>(e.seq));
        else
            sqlite3_bind_null(s, 2);
        sqlite3_bind_int64(s, 3, e.name);
        sqlite3_bind_double(s, 4, e.flops);
        sqlite3_bind_int64(s, 5, e.start);
    } else {
        return;
    }
    if (sqlite3_step(s) != SQLITE_DONE) fail("cannot insert event");
    sqlite3_reset(s);
    ++m_rows;
}

void ProfileWriter::addDiagnostic(std::int64_t tNs, const std::string& component, const std::string& message)
{
    ensureTransaction();
    sqlite3_bind_int64(m_insDiag, 1, tNs);
    sqlite3_bind_text(m_insDiag, 2, component.data(), static_cast<int>(component.size()), SQLITE_STATIC);
    sqlite3_bind_text(m_insDiag, 3, message.data(), static_cast<int>(message.size()), SQLITE_STATIC);
    if (sqlite3_step(m_insDiag) != SQLITE_DONE) fail("cannot insert diagnostic");
    sqlite3_reset(m_insDiag);
}

void ProfileWriter::setMeta(const std::string& key, const std::string& value)
{
    ensureTransaction();
    sqlite3_bind_text(m_setMeta, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
    sqlite3_bind_text(m_setMeta, 2, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
    if (sqlite3_step(m_setMeta) != SQLITE_DONE) fail("cannot set meta");
    sqlite3_reset(m_setMeta);
}

bool ProfileWriter::commit(std::string& error)
{
    if (m_inTransaction) {
        m_inTransaction = false;
        if (!m_error.empty()) {
            exec("ROLLBACK", error);
            error = m_error;
            return false;
        }
        if (!exec("COMMIT", error)) return false;
    }
    if (!m_error.empty()) {
        error = m_error;
        return false;
    }
    return true;
}

void ProfileWriter::reopen()
{
    ensureTransaction();
    if (sqlite3_exec(m_db, "UPDATE process SET end_ns = NULL, end_reason = NULL", nullptr, nullptr, nullptr)
        != SQLITE_OK)
        fail("cannot reopen the process row");
    setMeta("complete", "0");
}

bool ProfileWriter::finish(std::int64_t endNs, const std::string& reason, bool complete, std::string& error)
{
    ensureTransaction();
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
