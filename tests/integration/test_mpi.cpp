// SPDX-License-Identifier: MIT
// A real MPI launch: `mpirun -np 2 rooftime record -o DIR/p.%r.rtdb -- triad`, then one report over the folder
// with per-rank spread. Skipped (not passed) where Open MPI's mpirun is not installed (Debian: openmpi-bin).
#include "report_json.h"

#include <cstdlib>
#include <filesystem>
#include <unistd.h>

using namespace rooftime::test;
namespace fs = std::filesystem;

namespace {
std::string findMpirun()
{
    const char* path = std::getenv("PATH");
    std::string p = path ? path : "/usr/bin:/bin";
    std::size_t pos = 0;
    while (pos <= p.size()) {
        const std::size_t colon = p.find(':', pos);
        const std::string dir = p.substr(pos, colon == std::string::npos ? std::string::npos : colon - pos);
        if (!dir.empty() && fs::exists(dir + "/mpirun")) return dir + "/mpirun";
        if (colon == std::string::npos) break;
        pos = colon + 1;
    }
    return {};
}
} // namespace

TEST_CASE("mpirun -np 2 under rooftime record: one profile per rank, one report with the spread", "[mpi]")
{
    const std::string mpirun = findMpirun();
    if (mpirun.empty()) {
        std::puts("ROOFTIME_SKIP: mpirun not found (Debian: openmpi-bin)");
        return;
    }
    const std::string dir = scratchDir("mpi_two_ranks");
    std::vector<std::string> argv { mpirun, "-np", "2", "--oversubscribe" };
    if (geteuid() == 0) argv.push_back("--allow-run-as-root");
    for (const std::string& a :
        { rooftimeBin(), std::string("record"), std::string("-o"), dir + "/p.%r.rtdb", std::string("--"),
            sample("triad"), std::string("--n"), std::string("100000"), std::string("--iters"), std::string("4") })
        argv.push_back(a);
    RunResult r = run(argv, { { "OMPI_MCA_plm_rsh_agent", "" } });
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    CHECK(filesIn(dir) == std::vector<std::string> { dir + "/p.0.rtdb", dir + "/p.1.rtdb" });

    const auto j = reportJson({ dir });
    REQUIRE(j["profiles"].size() == 2);
    CHECK(j["profiles"][0]["rank"] == 0);
    CHECK(j["profiles"][1]["rank"] == 1);
    REQUIRE(j["run_spread"].is_object());
    CHECK(j["run_spread"]["count"] == 2);
    const auto* triad = findRow(j, "triad");
    REQUIRE(triad);
    CHECK((*triad)["count"] == 8); // 4 iterations on each rank
    CHECK((*triad)["flops"].get<double>() == 2 * 4 * 2.0 * 100000);
    const auto& ranks = (*triad)["ranks"];
    REQUIRE(ranks.is_object());
    CHECK(ranks["count"] == 2);
    CHECK(ranks["per_rank_s"][0].get<double>() > 0);
    CHECK(ranks["per_rank_s"][1].get<double>() > 0);
    CHECK(ranks["min_s"].get<double>() <= ranks["max_s"].get<double>());
    CHECK(ranks["imbalance"].get<double>() >= 0);
    CHECK(ranks["imbalance"].get<double>() < 1);
    // The ranks found the node's cached model: nobody measured one on its own.
    CHECK(r.err.find("measuring") == std::string::npos);
    RunResult text = run({ rooftimeBin(), "report", dir });
    CHECK(text.out.find("Across 2 profiles: run time min") != std::string::npos);
}
