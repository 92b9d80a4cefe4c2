// SPDX-License-Identifier: MIT
// Inputs the fuzzers (fuzz/) found crashing, kept as regressions: each gives a report or one error line with
// exit 2, never a crash.
#include "report_json.h"

TEST_CASE("fuzz regression: a region name that is not UTF-8 is replaced in JSON, not fatal", "[fuzz]")
{
    using namespace rooftime::test;
    RunResult r
        = run({ rooftimeBin(), "report", "--format", "json", testData("fuzz-regressions/profile-invalid-utf8.rtdb") });
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK_NOTHROW(nlohmann::json::parse(r.out));
    CHECK(r.out.find("\xEF\xBF\xBD") != std::string::npos); // U+FFFD where the bytes were invalid
}

TEST_CASE("fuzz regression: a number out of double's range in a machine file is an error line", "[fuzz]")
{
    using namespace rooftime::test;
    const std::string file = testData("fuzz-regressions/machine-number-overflow.json");
    RunResult r = run({ rooftimeBin(), "ceilings", "--show", file });
    CHECK(r.status == 2);
    CHECK(r.err
        == "rooftime ceilings: '" + file
            + "': invalid machine file: [json.exception.out_of_range.406] number overflow parsing "
              "'6.6e856807'\n");
}

TEST_CASE("fuzz regression: a damaged end time cannot make --window allocate billions of windows", "[fuzz]")
{
    using namespace rooftime::test;
    const std::string file = testData("fuzz-regressions/profile-huge-run-time.rtdb");
    RunResult r = run({ rooftimeBin(), "report", "--window", "1ms", file });
    CHECK(r.status == 2);
    CHECK(r.err.find("makes more than 100000 windows; choose a longer window") != std::string::npos);
    CHECK(run({ rooftimeBin(), "report", file }).status == 0); // the profile itself still reads
}
