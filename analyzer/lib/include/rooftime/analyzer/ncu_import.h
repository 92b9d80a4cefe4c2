// SPDX-License-Identifier: MIT
/**
 * @file ncu_import.h
 * @brief Nsight Compute `ncu --csv` output (the long "one metric per row" form, possibly split over several
 * files of one run, and the wide `--page raw` form) into a rooftime profile, so existing Nsight Compute data gets
 * the time-based roofline and CPU-only tests run on real counter data. docs/cli.md, "rooftime import ncu".
 */
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rooftime::analyzer {

/// A malformed or unreadable input; what() is "'FILE:LINE': problem" (or "'FILE': problem"), one line.
class ImportError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct NcuImportOptions {
    std::string arch; ///< "sm_90": overrides the CC column (noted in the profile); required when there is none
};

struct NcuImportSummary {
    std::size_t launches = 0;
    std::size_t kernels = 0; ///< distinct kernel names
    std::size_t metrics = 0; ///< metric values stored (kernel_metric rows)
    std::size_t files = 0;
    std::string arch; ///< "sm_90"; several devices of different architectures: "sm_80,sm_90"
};

/// Reads @p csvFiles (one run; rows with the same ID in several files are one launch) and writes @p outputPath,
/// which must not exist. Throws ImportError for any problem with the input or an existing output, BuildError
/// (profile_builder.h) when the output cannot be written. Nothing is left behind on error.
NcuImportSummary importNcu(
    const std::vector<std::string>& csvFiles, const std::string& outputPath, const NcuImportOptions& options = {});

/// A value as ncu prints it ("1,234.5", "n/a") in its unit, normalised: bytes for byte units (SI prefixes:
/// Kbyte = 1000 byte), nanoseconds for times, cycle/second for clock rates, byte/second for bandwidths; any
/// other unit (inst, cycle, %, "", unknown ones) keeps value and unit as given.
/// std::nullopt for a missing value ("", "n/a"); throws std::invalid_argument for text that is no number.
std::optional<std::pair<double, std::string>> normaliseNcuValue(std::string_view value, std::string_view unit);

/// Whether @p unit is one whose values must be numbers (the normalised units, inst, cycle, %): text in such a
/// unit is a broken row, text in any other unit (a cache configuration, a device name) is not a counter.
bool isNcuNumericUnit(std::string_view unit);

} // namespace rooftime::analyzer
