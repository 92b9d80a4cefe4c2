// SPDX-License-Identifier: MIT
#pragma once

#include "backend.h"
#include "event_buffer.h"
#include "unwind.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace rooftime::collector {

struct ProcessInfo {
    long pid = 0;
    long ppid = 0;
    std::string host;
    long rank = 0;
    std::string exe;
    std::string cmdline;
    std::int64_t startNs = 0;
    std::int64_t wallStartNs = 0;
};

/// Writes one profile file (schema in rooftime/schema.h). Used by the writer thread only.
/// Rows are added inside an open transaction; commit() makes them durable (WAL mode), so a killed
/// process leaves a readable file holding everything up to the last commit.
class ProfileWriter {
public:
    static constexpr int kRegionBatch = 32; ///< rows per INSERT: one statement step costs far more than a row

    /// Opens an existing empty file (claimed with claimOutputFile) and creates the schema.
    static std::unique_ptr<ProfileWriter> create(
        const std::string& path, const ProcessInfo& process, const std::string& mode, std::string& error);
    ~ProfileWriter();
    ProfileWriter(const ProfileWriter&) = delete;
    ProfileWriter& operator=(const ProfileWriter&) = delete;

    const std::string& path() const { return m_path; }

    void addString(std::uint32_t id, const std::string& text);
    void addThread(std::uint32_t index, long tid, const std::string& name, std::int64_t firstNs);
    void addEvent(const Event& event);
    void addDiagnostic(std::int64_t tNs, const std::string& component, const std::string& message);
    void setMeta(const std::string& key, const std::string& value);
    /// Replaces the module map (the objects whose addresses the frames refer to).
    void setModules(const std::vector<Module>& modules);
    /// Embeds the machine model (the text of a machine file; the analyzer validates it).
    void addMachine(const std::string& source, const std::string& json);
    /// GPU records from a backend; names and metric names are `string` ids interned by the caller.
    void addDevice(const backend::DeviceRecord& device);
    void addKernel(std::int64_t id, const backend::KernelRecord& k, std::uint32_t name, std::uint32_t mangled);
    void addKernelMetric(std::int64_t kernel, std::uint32_t metric, double value, const std::string& unit);
    void addMemoryOp(const backend::MemoryRecord& op);

    /// Commits the open transaction. False (with error) when SQLite failed at any point since the last commit.
    bool commit(std::string& error);

    /// Records the end of the process, marks the file complete, commits and leaves a single file
    /// (checkpoint, journal_mode=DELETE). The next row added switches back to WAL.
    bool finish(std::int64_t endNs, const std::string& reason, bool complete, std::string& error);

    /// After finish(): the process goes on (a failed exec), so the file is incomplete again.
    void reopen();

    /// After fork, in the child: forget the parent's connection without touching it.
    void abandon() { m_db = nullptr; }

    std::uint64_t rowsWritten() const { return m_rows; }

private:
    ProfileWriter() = default;
    bool exec(const char* sql, std::string& error);
    /// Begins a transaction where none is open; false once an error has occurred (nothing more is written).
    bool ensureTransaction();
    void fail(const char* what);
    void flushRegions();

    std::vector<Event> m_regions; ///< regions not yet inserted
    sqlite3_stmt* m_insRegionBatch = nullptr;

    sqlite3* m_db = nullptr;
    std::string m_path;
    sqlite3_stmt* m_insString = nullptr;
    sqlite3_stmt* m_insThread = nullptr;
    sqlite3_stmt* m_insRegion = nullptr;
    sqlite3_stmt* m_insParam = nullptr;
    sqlite3_stmt* m_insDiag = nullptr;
    sqlite3_stmt* m_setMeta = nullptr;
    sqlite3_stmt* m_insFrame = nullptr;
    sqlite3_stmt* m_insRegionStack = nullptr;
    sqlite3_stmt* m_insKernelStack = nullptr;
    sqlite3_stmt* m_insDevice = nullptr;
    sqlite3_stmt* m_insKernel = nullptr;
    sqlite3_stmt* m_insKernelMetric = nullptr;
    sqlite3_stmt* m_insMemop = nullptr;
    bool m_inTransaction = false;
    bool m_walMode = false;
    std::string m_error;
    std::uint64_t m_rows = 0;
};

} // namespace rooftime::collector
