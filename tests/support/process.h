// SPDX-License-Identifier: MIT
// Test support: run a program, capture its output and exit status; per-test scratch folders; JSON reports.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace rooftime::test {

struct RunResult {
    int status = -1; ///< exit code, or 128+signal when killed
    bool signaled = false;
    std::string out;
    std::string err;
};

/// Runs argv (argv[0] is a path) with extra environment variables, in cwd if not empty.
RunResult run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {},
    const std::string& cwd = {});

/// Starts argv in the background; returns its pid. Output goes to the given files.
int spawn(
    const std::vector<std::string>& argv, const std::map<std::string, std::string>& env, const std::string& outFile);
/// Waits for a child started with spawn(); returns exit code or 128+signal.
int wait(int pid);

/// A fresh empty folder for one test, under the build tree.
std::string scratchDir(const std::string& name);
/// Files in dir whose name ends with suffix, sorted.
std::vector<std::string> filesIn(const std::string& dir, const std::string& suffix = ".rtdb");

std::string rooftimeBin();
std::string collectorLib();
std::string sample(const std::string& name);
/// A file under tests/data.
std::string testData(const std::string& relative);
std::string client(const std::string& name);

/// Lines "# expect region=NAME count=N flops=F bytes=B" printed by samples and clients.
struct Expectation {
    std::string region;
    unsigned long long count;
    double flops;
    double bytes;
};
std::vector<Expectation> parseExpectations(const std::string& stdoutText);

std::string readFile(const std::string& path);
void writeFile(const std::string& path, const std::string& content);

} // namespace rooftime::test
