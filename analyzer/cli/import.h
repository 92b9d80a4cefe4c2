// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <vector>

namespace rooftime::cli {

struct ImportOptions {
    std::string format; ///< "ncu", the only one so far
    std::vector<std::string> files;
    std::string output; ///< -o PROFILE, must not exist
    std::string arch; ///< --arch sm_XY, empty: from the CSV's CC column
};

/// Checks an --arch value: empty when it is sm_XY (sm_90, sm_100), else the message.
std::string checkArch(const std::string& arch);

/// `rooftime import ncu FILE.csv... -o PROFILE [--arch sm_XY]`: one line on stderr either way. Returns the exit
/// code: 0, or 2 for any input or output problem.
int runImport(const ImportOptions& options);

} // namespace rooftime::cli
