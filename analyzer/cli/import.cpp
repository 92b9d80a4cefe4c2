// SPDX-License-Identifier: MIT
#include "import.h"

#include "rooftime/analyzer/ncu_import.h"
#include "rooftime/analyzer/profile_builder.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace rooftime::cli {

namespace {
constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;

const char* plural(std::size_t n)
{
    return n == 1 ? "" : "s";
}
} // namespace

std::string checkArch(const std::string& arch)
{
    const bool ok = arch.size() >= 5 && arch.size() <= 7 && arch.rfind("sm_", 0) == 0
        && std::all_of(arch.begin() + 3, arch.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
    return ok ? std::string() : "expected sm_XY, e.g. sm_90 (H100), sm_80 (A100), sm_70 (V100)";
}

int runImport(const ImportOptions& options)
{
    try {
        analyzer::NcuImportOptions ncu;
        ncu.arch = options.arch;
        const auto s = analyzer::importNcu(options.files, options.output, ncu);
        fmt::print(stderr, "rooftime import: {} launch{} of {} kernel{}, {} metric value{} ({}) from {} file{} -> {}\n",
            s.launches, s.launches == 1 ? "" : "es", s.kernels, plural(s.kernels), s.metrics, plural(s.metrics), s.arch,
            s.files, plural(s.files), options.output);
        return kExitOk;
    } catch (const analyzer::ImportError& e) {
        fmt::print(stderr, "rooftime import: {}\n", e.what());
    } catch (const analyzer::BuildError& e) {
        fmt::print(stderr, "rooftime import: {}\n", e.what());
    }
    return kExitUsage;
}

} // namespace rooftime::cli
