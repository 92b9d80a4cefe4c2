// SPDX-License-Identifier: MIT
/**
 * @file profile_builder.h
 * @brief Writes a profile file from the analyzer side: imports (Nsight Compute CSV) and synthetic profiles for
 * tests and benchmarks. Same schema as the collector writes (rooftime/schema.h).
 */
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>

struct sqlite3;
struct sqlite3_stmt;

namespace rooftime::analyzer {

class BuildError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct KernelRecord {
    std::int64_t id = 0; ///< launch id, unique in the file
    std::string name; ///< as reported (demangled when the tool demangled it)
    std::string mangled;
    std::int64_t device = 0;
    std::optional<std::int64_t> context, stream;
    std::optional<std::int64_t> grid[3], block[3];
    std::optional<std::int64_t> registers, sharedBytes;
    std::optional<std::int64_t> startNs, endNs;
    std::int64_t durationNs = 0;
    std::optional<std::int64_t> correlation;
    std::optional<std::int64_t> thread, region; ///< the launching thread and its innermost region's seq
    bool replayed = false; ///< counters were collected for this launch
    std::optional<std::int64_t> launchNs; ///< when the launch call was made (schema 1.3)
    std::optional<std::int64_t> graphId, graphNodeId; ///< the CUDA graph and kernel node (schema 1.4)
};

/// One region instance (docs/format.md, table region); synthetic profiles for tests and benchmarks.
struct RegionRecord {
    std::int64_t thread = 1;
    std::int64_t seq = 0;
    std::optional<std::int64_t> parent;
    int kind = 0; ///< schema::RegionKind
    std::string name;
    std::string domain;
    std::int64_t startNs = 0, endNs = 0;
    int depth = 0;
    std::optional<double> flops, bytes;
};

/// Builds one profile in a single transaction; finish() commits. Throws BuildError naming the file.
class ProfileBuilder {
public:
    /// Creates @p path (it must not exist). @p exe and @p cmdline describe what was profiled.
    ProfileBuilder(const std::string& path, const std::string& host, const std::string& exe, const std::string& cmdline,
        long pid = 0);
    ~ProfileBuilder();
    ProfileBuilder(const ProfileBuilder&) = delete;
    ProfileBuilder& operator=(const ProfileBuilder&) = delete;

    void setMeta(const std::string& key, const std::string& value);
    void addDevice(std::int64_t id, const std::string& name, const std::string& arch, std::optional<int> sms);
    void addKernel(const KernelRecord& k);
    void addRegion(const RegionRecord& r);
    void addKernelMetric(std::int64_t kernel, const std::string& metric, double value, const std::string& unit);
    void addMachine(const std::string& source, const std::string& json);
    void addDiagnostic(const std::string& component, const std::string& message);
    /// Ends the process at @p endNs, marks the file complete and commits.
    void finish(std::int64_t endNs);

private:
    std::int64_t stringId(const std::string& text);
    void exec(const char* sql);
    sqlite3_stmt* prepare(const char* sql);
    void step(sqlite3_stmt* s, const char* what);

    std::string m_path;
    sqlite3* m_db = nullptr;
    sqlite3_stmt* m_insKernel = nullptr;
    sqlite3_stmt* m_insMetric = nullptr;
    sqlite3_stmt* m_insString = nullptr;
    std::map<std::string, std::int64_t> m_strings;
    bool m_finished = false;
};

} // namespace rooftime::analyzer
