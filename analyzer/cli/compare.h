// SPDX-License-Identifier: MIT
// `rooftime compare`: baseline runs against current runs, with a verdict a CI job gates on (docs/compare.md).
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace rooftime::cli {

struct CompareArgs {
    std::vector<std::string> baseline;
    std::vector<std::string> current;
    std::string by = "auto"; ///< auto: kernels when the runs launched any, else ranges
    std::string threshold = "5%";
    std::string minShare = "1%";
    std::string confidence = "95%";
    std::string budget;
    std::string format = "text";
    std::string machine;
    std::string declaredPrecision = "fp64";
    long long top = 0;
    std::size_t width = 120;
};

void addCompareOptions(CLI::App& app, CompareArgs& args);
/// Runs the comparison; @p argv is the whole command line (quoted into the Markdown's "to reproduce").
/// Exit status: 0 no regression, 1 a regression or a broken budget rule, 2 a usage or input error.
int runCompare(const CompareArgs& args, const std::vector<std::string>& argv);

} // namespace rooftime::cli
