// SPDX-License-Identifier: MIT
// Option checks the subcommands share.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace rooftime::cli {

/// `--top N`: 0 or a whole number. CLI11's NonNegativeNumber would answer "abc" or "-1" with its whole range,
/// "0.000000 to 1797693134862315708145274237317043567981…" (429 characters).
inline CLI::Validator rowCount()
{
    return CLI::Validator(
        [](std::string& s) -> std::string {
            if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos)
                return "expected a whole number of rows, 0 or more (0: all), not '" + s + "'";
            return {};
        },
        "COUNT");
}

} // namespace rooftime::cli
