// SPDX-License-Identifier: MIT
/**
 * @file ncu_import.h
 * @brief Nsight Compute `ncu --csv` output (the long "one metric per row" form, possibly split over several
 * files, and the wide `--page raw` form) into a rooftime profile, so existing Nsight Compute data gets the
 * time-based roofline.
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

/// A malformed input; what() is "'FILE:LINE': problem" (or "'FILE': problem").
class ImportError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct NcuImportOptions {
    std::string arch; ///< "sm_90": overrides the CC column; required when the files have none
};

struct NcuImportSummary {
    std::size_t launches = 0;
    std::size_t kernels = 0; ///< distinct kernel names
    std::size_t metrics = 0; ///< metric values stored
    std::size_t files = 0;
    std::string arch;
};

/// Reads @p csvFiles (one run) and writes @p outputPath, which must not exist. Throws ImportError (input) or
/// BuildError (output).
NcuImportSummary importNcu(const std::vector<std::string>& csvFiles, const std::string& outputPath,
                           const NcuImportOptions& options = {});

/// A value as ncu prints it ("1,234.5", "n/a") in its unit, normalised: bytes for byte units (SI prefixes),
/// nanoseconds for time, cycle/second and byte/second for rates; other units are kept as given.
/// std::nullopt for a missing value ("", "n/a"); throws std::invalid_argument for text that is no number.
std::optional<std::pair<double, std::string>> normaliseNcuValue(std::string_view value, std::string_view unit);

} // namespace rooftime::analyzer
