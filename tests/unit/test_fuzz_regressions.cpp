// SPDX-License-Identifier: MIT
// Every input the fuzzers (fuzz/) found a bug with, kept in tests/data/fuzz-regressions/, through the fuzz
// target's own code path (fuzz/fuzz_inputs.h): the input is accepted or refused with the typed error naming the
// file, never a crash, a sanitizer report or another exception. The file's suffix picks the target: .rtdb
// fuzz_profile, .json fuzz_machine, .csv fuzz_ncu.
#include "fuzz_inputs.h"

#include "process.h"

#include <catch2/catch.hpp>

#include <filesystem>

using rooftime::test::filesIn;
using rooftime::test::scratchDir;
using rooftime::test::testData;
namespace fs = std::filesystem;

TEST_CASE("fuzz regressions: each kept profile reports or is refused with a ProfileError", "[fuzz]")
{
    const std::vector<std::string> inputs = filesIn(testData("fuzz-regressions"), ".rtdb");
    REQUIRE_FALSE(inputs.empty());
    const std::string dir = scratchDir("fuzz_regressions_profile");
    for (const std::string& input : inputs) {
        // A copy: opening a damaged file may leave a journal next to it.
        const std::string path = dir + "/" + fs::path(input).filename().string();
        fs::copy_file(input, path);
        INFO(input);
        std::string error;
        REQUIRE_NOTHROW(error = rooftime::fuzz::reportProfile(path));
        INFO(error);
        CHECK((error.empty() || error.find(path) != std::string::npos));
    }
}

TEST_CASE("fuzz regressions: each kept machine file reads or is refused with a MachineError", "[fuzz]")
{
    const std::vector<std::string> inputs = filesIn(testData("fuzz-regressions"), ".json");
    REQUIRE_FALSE(inputs.empty());
    for (const std::string& input : inputs) {
        INFO(input);
        std::string error;
        REQUIRE_NOTHROW(error = rooftime::fuzz::readMachineText(rooftime::test::readFile(input), input));
        INFO(error);
        CHECK((error.empty() || error.find(input) != std::string::npos));
    }
}

TEST_CASE("fuzz regressions: each kept ncu CSV imports or is refused with an ImportError", "[fuzz]")
{
    const std::string dir = scratchDir("fuzz_regressions_ncu");
    for (const std::string& input : filesIn(testData("fuzz-regressions"), ".csv")) {
        for (const std::string arch : { "", "sm_90" }) {
            INFO(input << " --arch '" << arch << "'");
            std::string error;
            REQUIRE_NOTHROW(error = rooftime::fuzz::importNcuCsv(input, dir + "/imported.rtdb", arch));
            INFO(error);
            CHECK((error.empty() || error.find(input) != std::string::npos));
            CHECK_FALSE(fs::exists(dir + "/imported.rtdb"));
        }
    }
}
