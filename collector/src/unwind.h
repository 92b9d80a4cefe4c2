// SPDX-License-Identifier: MIT
/**
 * @file unwind.h
 * @brief Host call stacks with LLVM libunwind (linked statically, symbols hidden), and the process's module
 * map. Raw instruction pointers only: the analyzer symbolizes them (heaptrack's split).
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace rooftime::collector {

/// Fills @p out with the return addresses of the calling thread, innermost first, leaving out the frames in
/// the collector itself. Returns how many were written (at most @p max). Never throws; 0 when unwinding fails.
std::size_t captureStack(std::uintptr_t* out, std::size_t max) noexcept;

/// One loaded object: its file and the address range of its loadable segments.
struct Module {
    std::string path; ///< absolute file name; the main executable's is read from /proc/self/exe
    std::uintptr_t base = 0; ///< load bias: file virtual address + base = run-time address
    std::uintptr_t start = 0, end = 0;
};

/// The objects mapped now (without the vDSO). @p generation receives a number that changes whenever objects
/// are loaded or unloaded, so the caller can skip rewriting an unchanged map.
std::vector<Module> loadedModules(std::uint64_t& generation);
/// The load/unload counter alone (cheap).
std::uint64_t moduleGeneration() noexcept;

} // namespace rooftime::collector
