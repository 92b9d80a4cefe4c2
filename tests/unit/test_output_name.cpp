// SPDX-License-Identifier: MIT
#include "output_name.h"
#include "process.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <map>

using namespace rooftime::collector;

namespace {
NamingContext context(std::map<std::string, std::string> env, long pid = 4242, std::string host = "node7")
{
    return { pid, std::move(host), [env](std::string_view var) -> std::optional<std::string> {
                auto it = env.find(std::string(var));
                return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
            } };
}
} // namespace

TEST_CASE("output pattern placeholders expand")
{
    std::string error;
    auto ctx = context({ { "OMPI_COMM_WORLD_RANK", "3" }, { "JOB", "resnet" } });
    CHECK(expandOutputPattern("runs/%q{JOB}.%h.%r.%p.rtdb", ctx, error) == "runs/resnet.node7.3.4242.rtdb");
    CHECK(expandOutputPattern("100%%-%p", ctx, error) == "100%-4242");
    CHECK(expandOutputPattern("%q{UNSET}x", ctx, error) == "_x");
}

TEST_CASE("rank comes from the first launcher variable that holds a number")
{
    CHECK(rankFromEnvironment(context({})) == 0);
    CHECK(rankFromEnvironment(context({ { "RANK", "5" } })) == 5);
    CHECK(rankFromEnvironment(context({ { "SLURM_PROCID", "2" }, { "RANK", "5" } })) == 2);
    CHECK(rankFromEnvironment(context({ { "PMI_RANK", "1" }, { "SLURM_PROCID", "2" } })) == 1);
    CHECK(rankFromEnvironment(context({ { "OMPI_COMM_WORLD_RANK", "x" }, { "RANK", "4" } })) == 4);
}

TEST_CASE("values from the environment cannot leave the chosen folder")
{
    std::string error;
    auto ctx = context({ { "EVIL", "../../etc/passwd" }, { "DOTS", ".." }, { "SPACE", "a b" } }, 1, "host/../x");
    CHECK(expandOutputPattern("out/%q{EVIL}", ctx, error) == "out/.._.._etc_passwd");
    CHECK(expandOutputPattern("out/%q{DOTS}", ctx, error) == "out/_");
    CHECK(expandOutputPattern("%h", ctx, error) == "host_.._x");
    CHECK(expandOutputPattern("%q{SPACE}", ctx, error) == "a_b");
    CHECK(sanitizeComponent("") == "_");
    CHECK(sanitizeComponent(".") == "_");
    CHECK(sanitizeComponent("ok-1.2_x") == "ok-1.2_x");
}

TEST_CASE("malformed patterns are errors that say why")
{
    auto ctx = context({});
    const std::vector<std::pair<std::string, std::string>> rows = {
        { "x%", "lone '%'" },
        { "%z", "unknown placeholder '%z'" },
        { "%q", "%q must be followed" },
        { "%q{ABC", "unterminated" },
        { "%q{}", "names no variable" },
        { "", "empty" },
    };
    for (const auto& [pattern, phrase] : rows) {
        std::string error;
        INFO(pattern);
        CHECK_FALSE(expandOutputPattern(pattern, ctx, error));
        CHECK_THAT(error, Catch::Contains(phrase));
    }
}

TEST_CASE("claiming an output file never overwrites, and creates folders")
{
    const std::string dir = rooftime::test::scratchDir("claim");
    std::string error;
    const std::string base = dir + "/sub/deeper/p.rtdb";
    auto first = claimOutputFile(base, error);
    REQUIRE(first);
    CHECK(*first == base);
    rooftime::test::writeFile(*first, "keep me");
    auto second = claimOutputFile(base, error);
    REQUIRE(second);
    CHECK(*second == dir + "/sub/deeper/p-1.rtdb");
    auto third = claimOutputFile(base, error);
    REQUIRE(third);
    CHECK(*third == dir + "/sub/deeper/p-2.rtdb");
    CHECK(rooftime::test::readFile(base) == "keep me");
    auto noExt = claimOutputFile(dir + "/plain", error);
    auto noExt2 = claimOutputFile(dir + "/plain", error);
    REQUIRE(noExt2);
    CHECK(*noExt2 == dir + "/plain-1");

    auto denied = claimOutputFile("/proc/rooftime-cannot/x.rtdb", error);
    CHECK_FALSE(denied);
    CHECK_THAT(error, Catch::Contains("cannot create"));
}
