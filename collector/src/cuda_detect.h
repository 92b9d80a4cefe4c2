// SPDX-License-Identifier: MIT
/**
 * @file cuda_detect.h
 * @brief Whether a process is a CUDA program, for the one line that says why no GPU data was recorded.
 *
 * Without a driver (libcuda.so.1) the CUDA driver never calls InitializeInjection, so the collector, preloaded,
 * looks at the process itself: device code in the executable (an ELF `.nv_fatbin` section, present with the
 * statically linked cudart that nvcc uses by default) or the CUDA runtime or driver library mapped.
 */
#pragma once

#include <string>

namespace rooftime::collector {

/// True when the ELF file at `path` has a section with this name (false for anything unreadable).
bool elfHasSection(const std::string& path, const char* section) noexcept;

/// Whether a mapped object's file name contains this text (dl_iterate_phdr).
bool libraryMapped(const char* nameContains) noexcept;

/// The executable has device code, or libcudart / libcuda is mapped.
bool processLooksLikeCuda() noexcept;

/// Whether CUDA was initialized in this process (cuInit ran), asked of the driver already loaded here
/// (cuCtxGetCurrent answers CUDA_ERROR_NOT_INITIALIZED before cuInit); false when libcuda is not loaded. Loading
/// libcuda (`import torch` may) is not initializing it: only an initialized driver calls InitializeInjection.
bool cudaInitialized() noexcept;

/// Whether the dynamic loader could find libcuda.so.1 (ld.so.cache, LD_LIBRARY_PATH), without loading it.
bool cudaDriverLibraryExists() noexcept;

} // namespace rooftime::collector
