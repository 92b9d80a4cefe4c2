// SPDX-License-Identifier: MIT
// CPU micro-kernels for `rooftime ceilings`: FMA chains per instruction set and streaming loops per pattern.
// Each kernel is compiled for its own instruction set (function target attributes) and chosen at run time,
// so one binary measures whatever the CPU it runs on supports.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace rooftime::ceilings {

enum class Isa { Scalar, Avx2Fma, Avx512Fma };
enum class Precision { Fp64, Fp32 };
enum class Pattern { Read, Write, Copy, Triad };

std::string_view isaName(Isa isa);
std::string_view precisionName(Precision p);
std::string_view patternName(Pattern p);

/// Whether this CPU (and its OS, for the wider registers) can run kernels of @p isa.
bool isaAvailable(Isa isa);
/// Vector lanes of @p isa for @p p (1 for scalar).
int isaLanes(Isa isa, Precision p);
/// The widest vector instruction set available (used for the streaming kernels).
Isa widestIsa();

/// Runs @p iterations of independent FMA chains; returns the FLOPs executed (an FMA counts 2).
/// @p sink receives a value derived from the result so that the work cannot be optimised away.
double runFmaChains(Isa isa, Precision p, std::uint64_t iterations, double* sink);

/// Bytes per element moved by @p pattern (read: 8, write: 8, copy: 16, triad: 24; doubles).
int patternBytesPerElement(Pattern p);
/// Number of double arrays @p pattern touches.
int patternArrays(Pattern p);
/// Element count granularity: streaming loops process this many doubles per iteration.
inline constexpr std::size_t kStreamBlock = 128;

/// Streams @p repeats times over @p n doubles (n a multiple of kStreamBlock) of arrays a, b, c (those the
/// pattern needs, 64-byte aligned); returns the bytes moved (STREAM convention: write-allocate not counted).
double runStream(Isa isa, Pattern p, double* a, const double* b, const double* c, std::size_t n, std::uint64_t repeats,
    double* sink);

/// A chain of @p n dependent integer additions (one cycle each on every x86 core): timing it gives the clock
/// the core runs at. Returns the number of additions executed, 0 where no such chain is available.
std::uint64_t runAddChain(std::uint64_t n);

} // namespace rooftime::ceilings
