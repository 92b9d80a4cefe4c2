// SPDX-License-Identifier: MIT
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace rooftime::collector {

/// The output pattern when none is given (ROOFTIME_OUTPUT, `rooftime record -o`).
inline constexpr const char* kDefaultOutputPattern = "rooftime.%h.%p.rtdb";

/// What an output pattern may refer to. Kept apart from the process so that naming is testable.
struct NamingContext {
    long pid = 0;
    std::string host;
    std::function<std::optional<std::string>(std::string_view)> getenv;
};

/// The rank of this process from the usual launcher variables (OMPI_COMM_WORLD_RANK, PMI_RANK,
/// SLURM_PROCID, RANK), else 0.
long rankFromEnvironment(const NamingContext& ctx);

/// Replaces a value inserted into a file name by something that cannot leave the folder chosen by the
/// pattern: '/', control characters and shell-hostile characters become '_', and "", "." and ".." become "_".
std::string sanitizeComponent(std::string_view value);

/// Expands %p (pid), %h (host), %r (rank), %q{VAR} (environment variable, sanitised: "_" when unset) and %% in
/// pattern. Returns std::nullopt and sets error for a malformed pattern (unknown %x, unterminated %q{).
std::optional<std::string> expandOutputPattern(std::string_view pattern, const NamingContext& ctx, std::string& error);

/// Creates the file path (and missing parent folders) exclusively. If it exists, tries "stem-1.ext",
/// "stem-2.ext", ... so that no file is ever overwritten, even by concurrent processes. Returns the path
/// created, or std::nullopt with error set.
std::optional<std::string> claimOutputFile(const std::string& path, std::string& error);

} // namespace rooftime::collector
