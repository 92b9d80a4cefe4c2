// SPDX-License-Identifier: MIT
/**
 * @file schema.h
 * @brief The profile file schema (SQLite), shared by the collector (writer) and the analyzer (reader).
 *
 * This is the only place where tables are defined; docs/format.md describes every column.
 * Versioning: the schema version is independent of the rooftime version. A minor bump only adds tables or
 * nullable columns (old readers still read new files); a major bump changes meaning, and readers refuse a
 * newer major version.
 */
#pragma once

#include <cstdint>

namespace rooftime::schema {

inline constexpr const char* kFormatName = "rooftime-profile";
inline constexpr int kMajor = 1;
/// 1.1 added machine, device, kernel, kernel_metric; 1.2 memop, frame, region_stack, kernel_stack, module;
/// 1.3 kernel.launch_ns, symbol; 1.4 kernel.graph_id, graph_node_id
inline constexpr int kMinor = 4;

/// Region kinds, column region.kind.
enum class RegionKind : std::int32_t {
    Marker = 0, ///< rooftime_begin / rooftime_end
    NvtxPushPop = 1, ///< nvtxRangePush / nvtxRangePop (per thread, nested)
    NvtxStartEnd = 2, ///< nvtxRangeStart / nvtxRangeEnd (may cross threads)
};

/// Bits of column region.flags.
enum RegionFlags : std::int32_t {
    kRegionClosedImplicitly = 1, ///< still open at thread or process exit, or closed by a mismatched end
};

inline constexpr const char* kCreateSql = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE process(
    pid INTEGER NOT NULL, ppid INTEGER NOT NULL, host TEXT NOT NULL, rank INTEGER NOT NULL,
    exe TEXT NOT NULL, cmdline TEXT NOT NULL,
    start_ns INTEGER NOT NULL, end_ns INTEGER, wall_start_unix_ns INTEGER NOT NULL, end_reason TEXT);
CREATE TABLE thread(id INTEGER PRIMARY KEY, tid INTEGER NOT NULL, name TEXT NOT NULL, first_ns INTEGER NOT NULL);
CREATE TABLE string(id INTEGER PRIMARY KEY, text TEXT NOT NULL);
CREATE TABLE region(
    thread INTEGER NOT NULL, seq INTEGER NOT NULL, parent INTEGER, kind INTEGER NOT NULL,
    name INTEGER NOT NULL, domain INTEGER, start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL,
    depth INTEGER NOT NULL, flops REAL, bytes REAL, flags INTEGER NOT NULL);
CREATE TABLE param(thread INTEGER, region INTEGER, key INTEGER NOT NULL, value REAL NOT NULL, t_ns INTEGER NOT NULL);
CREATE TABLE diagnostic(t_ns INTEGER NOT NULL, component TEXT NOT NULL, message TEXT NOT NULL);
CREATE TABLE machine(source TEXT NOT NULL, json TEXT NOT NULL);
CREATE TABLE device(id INTEGER PRIMARY KEY, name TEXT NOT NULL, arch TEXT, sms INTEGER);
CREATE TABLE kernel(
    id INTEGER PRIMARY KEY, name INTEGER NOT NULL, mangled INTEGER, device INTEGER NOT NULL,
    context INTEGER, stream INTEGER, grid_x INTEGER, grid_y INTEGER, grid_z INTEGER,
    block_x INTEGER, block_y INTEGER, block_z INTEGER, registers INTEGER, shared_bytes INTEGER,
    start_ns INTEGER, end_ns INTEGER, duration_ns INTEGER NOT NULL,
    correlation INTEGER, thread INTEGER, region INTEGER, replayed INTEGER NOT NULL, launch_ns INTEGER,
    graph_id INTEGER, graph_node_id INTEGER);
CREATE TABLE kernel_metric(kernel INTEGER NOT NULL, metric INTEGER NOT NULL, value REAL NOT NULL, unit TEXT NOT NULL);
CREATE TABLE memop(
    kind INTEGER NOT NULL, copy_kind INTEGER, bytes INTEGER NOT NULL, device INTEGER NOT NULL, context INTEGER,
    stream INTEGER, start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL, correlation INTEGER, thread INTEGER,
    region INTEGER);
CREATE TABLE frame(thread INTEGER NOT NULL, id INTEGER NOT NULL, parent INTEGER NOT NULL, ip INTEGER NOT NULL);
CREATE TABLE region_stack(thread INTEGER NOT NULL, seq INTEGER NOT NULL, frame INTEGER NOT NULL);
CREATE TABLE kernel_stack(kernel INTEGER NOT NULL, frame INTEGER NOT NULL);
CREATE TABLE module(path TEXT NOT NULL, base INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL);
CREATE TABLE symbol(ip INTEGER PRIMARY KEY, name TEXT NOT NULL);
)sql";

} // namespace rooftime::schema
