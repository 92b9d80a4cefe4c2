// SPDX-License-Identifier: MIT
// Unit-test support: a report built in-process (no CLI) over profile files.
#pragma once

#include "rooftime/analyzer/report.h"

#include <string>
#include <vector>

namespace rooftime::test {

/// buildReport `by` @p by over the profiles at @p paths, with the machine model they embed.
inline analyzer::Report reportOf(const std::vector<std::string>& paths, analyzer::ReportBy by)
{
    std::vector<analyzer::Profile> profiles;
    for (const std::string& path : paths)
        profiles.push_back(analyzer::Profile::open(path));
    analyzer::ReportOptions options;
    options.by = by;
    return analyzer::buildReport(profiles, nullptr, options);
}

} // namespace rooftime::test
