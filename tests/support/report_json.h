// SPDX-License-Identifier: MIT
// Integration helpers: record through the real CLI, read reports as JSON.
#pragma once

#include "process.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace rooftime::test {

/// `rooftime report --format json` of the given files; REQUIREs success.
inline nlohmann::json reportJson(const std::vector<std::string>& files)
{
    std::vector<std::string> argv { rooftimeBin(), "report", "--format", "json" };
    argv.insert(argv.end(), files.begin(), files.end());
    RunResult r = run(argv);
    INFO(r.err);
    REQUIRE(r.status == 0);
    return nlohmann::json::parse(r.out);
}

inline const nlohmann::json* findRow(const nlohmann::json& report, const std::string& name)
{
    for (const auto& row : report["rows"])
        if (row["name"] == name) return &row;
    return nullptr;
}

/// Every expectation holds in the report: exact count and exact declared sums.
inline void checkExpectations(const nlohmann::json& report, const std::vector<Expectation>& expectations)
{
    REQUIRE_FALSE(expectations.empty());
    for (const Expectation& e : expectations) {
        INFO("region " << e.region);
        const nlohmann::json* row = findRow(report, e.region);
        REQUIRE(row);
        CHECK((*row)["count"].get<unsigned long long>() == e.count);
        if (e.flops == 0 && e.bytes == 0) {
            CHECK((*row)["flops"].is_null());
            CHECK((*row)["sources"]["flops"] == "-");
        } else {
            CHECK((*row)["flops"].get<double>() == e.flops);
            CHECK((*row)["bytes"].get<double>() == e.bytes);
            CHECK((*row)["sources"]["flops"] == "declared");
            CHECK((*row)["intensity"].get<double>() == Approx(e.flops / e.bytes));
        }
        CHECK((*row)["sources"]["time"] == "timed");
        CHECK((*row)["time_s"].get<double>() > 0);
    }
}

/// Records argv under `rooftime record -o DIR/PATTERN`; returns the run result.
inline RunResult record(const std::string& dir, const std::vector<std::string>& command,
    const std::string& pattern = "p.%p.rtdb", const std::map<std::string, std::string>& env = {})
{
    std::vector<std::string> argv { rooftimeBin(), "record", "-o", dir + "/" + pattern, "--" };
    argv.insert(argv.end(), command.begin(), command.end());
    return run(argv, env);
}

/// @p err of `rooftime record` without its first line when that names the machine model (said before the
/// program starts): what follows is the program's stderr, then record's own lines.
inline std::string afterMachineLine(const std::string& err)
{
    const std::string prefix = "rooftime: machine model: ";
    if (err.compare(0, prefix.size(), prefix) != 0) return err;
    const auto nl = err.find('\n');
    return nl == std::string::npos ? std::string() : err.substr(nl + 1);
}

struct Recorded {
    RunResult result;
    std::vector<std::string> files;
};

/// Records under `rooftime record`, requires the exit status and the number of profiles written.
inline Recorded recordExpecting(
    const std::string& dir, const std::vector<std::string>& command, int status, std::size_t files)
{
    Recorded r { record(dir, command), {} };
    INFO(r.result.out << r.result.err);
    REQUIRE(r.result.status == status);
    r.files = filesIn(dir);
    REQUIRE(r.files.size() == files);
    return r;
}

} // namespace rooftime::test
