// SPDX-License-Identifier: MIT
// One value of a query on a profile, read-only: the first column of the first row, "" when there is none; and a
// copy of a profile changed by SQL.
#pragma once

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <filesystem>
#include <string>

namespace rooftime::test {

inline std::string sqlOne(const std::string& path, const std::string& sql)
{
    sqlite3* db = nullptr;
    INFO(path << ": " << sql);
    REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    const bool prepared = sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK;
    std::string out;
    if (prepared && sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
        out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    sqlite3_close(db);
    REQUIRE(prepared);
    return out;
}

/// A copy of the profile @p from at @p to, changed by @p sql (a damaged or edited recording for a test).
inline void copyWithSql(const std::string& from, const std::string& to, const std::string& sql)
{
    std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing);
    sqlite3* db = nullptr;
    INFO(to << ": " << sql);
    REQUIRE(sqlite3_open(to.c_str(), &db) == SQLITE_OK);
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
    sqlite3_close(db);
    REQUIRE(rc == SQLITE_OK);
}

} // namespace rooftime::test
