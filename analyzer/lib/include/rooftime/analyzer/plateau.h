// SPDX-License-Identifier: MIT
/**
 * @file plateau.h
 * @brief Finds the bandwidth plateaus of a working-set sweep and names them L1, L2, L3…, DRAM.
 *
 * The rule (docs/ceilings.md explains it with an example):
 *  1. Points are sorted by working-set size; each value is replaced by the median of itself and its two
 *     neighbours, so one noisy point neither starts nor breaks a plateau.
 *  2. Walking up the sizes, a point joins the current run while its smoothed value stays within
 *     `tolerance` (relative) of the run's median; otherwise a new run starts.
 *  3. Runs of fewer than `minPoints` points are transitions between levels and are dropped; neighbouring
 *     plateaus whose medians differ by less than `tolerance` are merged, unless (with cache sizes) step 4
 *     would name them different levels.
 *  4. Naming: with cache capacities (sysfs), a plateau belongs to the smallest cache whose capacity holds
 *     the plateau's central working set (geometric mean of its first and last size); beyond the last
 *     cache it is DRAM. Consecutive plateaus claiming one level are one plateau that noise split apart.
 *     Without cache information, plateaus are named by order, and the last one is DRAM.
 *  5. A plateau's value is the upper quartile of its smoothed values, leaving out its first point (and its
 *     last one when it has five or more: they sit in transitions). Upper quartile rather than median, since
 *     interference on a shared machine only ever slows a run down; not the maximum, which one lucky point
 *     would set. DRAM's value comes from its points at 8 × the last cache and beyond (at least three; else its
 *     larger half): memory's rate is the asymptote, and caches the system does not report lift the rest.
 * Mismatches between plateau edges and the cache capacities are reported as notes, never hidden.
 */
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace rooftime::analyzer {

struct SweepPoint {
    double bytes = 0; ///< working set
    double value = 0; ///< bandwidth (B/s)
};

struct CacheCapacity {
    std::string level; ///< "L1", "L2", "L3"…
    double bytes = 0; ///< capacity available to the threads that ran the sweep (summed over instances)
};

struct Plateau {
    std::string level; ///< "L1"…, "DRAM"
    double value = 0;
    double fromBytes = 0; ///< smallest working set in the plateau
    double toBytes = 0; ///< largest working set in the plateau
    std::size_t points = 0;
};

struct PlateauOptions {
    double tolerance = 0.12;
    std::size_t minPoints = 2;
};

struct PlateauResult {
    std::vector<Plateau> plateaus; ///< in order of growing working set
    std::vector<std::string> notes; ///< cross-check findings (levels missing, edges far from sysfs sizes)
};

/// @p caches in order of growing capacity; may be empty.
PlateauResult detectPlateaus(
    std::span<const SweepPoint> sweep, std::span<const CacheCapacity> caches, const PlateauOptions& options = {});

} // namespace rooftime::analyzer
