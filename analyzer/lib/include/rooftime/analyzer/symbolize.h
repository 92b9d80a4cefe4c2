// SPDX-License-Identifier: MIT
/**
 * @file symbolize.h
 * @brief Instruction pointers recorded by the collector → function names, from the ELF symbol tables of the
 * objects the process had loaded (the profile's module map). No debug information is needed.
 */
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace rooftime::analyzer {

struct ModuleInfo {
    std::string path;
    std::uint64_t base = 0; ///< load bias: file virtual address + base = run-time address
    std::uint64_t start = 0, end = 0; ///< run-time address range
};

/// Names for addresses. Files are read lazily, once each; a file that is missing, unreadable or not ELF
/// gives names of the form "FILE+0xOFFSET", never an error.
class Symbolizer {
public:
    explicit Symbolizer(std::vector<ModuleInfo> modules);
    ~Symbolizer();
    Symbolizer(const Symbolizer&) = delete;
    Symbolizer& operator=(const Symbolizer&) = delete;

    /// The demangled name of the function holding @p ip. A return address (every frame but the innermost)
    /// points after its call: @p returnAddress looks one byte back, into the call.
    std::string name(std::uint64_t ip, bool returnAddress = true);
    /// The file of the module holding @p ip; empty when no module does.
    std::string modulePath(std::uint64_t ip) const;

    struct Symbols; ///< one file's function symbols (opaque)

private:
    std::vector<ModuleInfo> m_modules; ///< sorted by start
    std::map<std::size_t, std::unique_ptr<Symbols>> m_loaded;
};

/// Resolves the frames of a profile recorded with call stacks (its `frame` and `module` tables) while the
/// binaries are at hand, and stores the names in its `symbol` table (created when missing), so that the profile
/// names its functions on any machine. Names that do not resolve (a missing file: "FILE+0xOFFSET") are not stored.
/// Returns the number of names stored; 0 for a profile without frames. Throws std::runtime_error saying why the
/// file could not be updated.
std::size_t storeFrameNames(const std::string& profilePath);

} // namespace rooftime::analyzer
