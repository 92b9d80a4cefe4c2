// SPDX-License-Identifier: MIT
// Option checks the subcommands share.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
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

/// "100ms", "2.5s", "500us", "40ns" → seconds; nullopt when malformed, under 1 ns or over 10^6 s (11.6 days).
inline std::optional<double> parseDuration(const std::string& text)
{
    std::size_t used = 0;
    double v = 0;
    try {
        v = std::stod(text, &used);
    } catch (const std::exception&) {
        return std::nullopt;
    }
    const std::string unit = text.substr(used);
    const double scale = unit == "s" ? 1 : unit == "ms" ? 1e-3 : unit == "us" ? 1e-6 : unit == "ns" ? 1e-9 : 0;
    if (scale == 0 || !(v > 0)) return std::nullopt;
    const double seconds = v * scale;
    if (seconds < 1e-9 || seconds > 1e6) return std::nullopt;
    return seconds;
}

} // namespace rooftime::cli
