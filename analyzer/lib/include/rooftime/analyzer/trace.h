// SPDX-License-Identifier: MIT
/**
 * @file trace.h
 * @brief Export of profiles as a Chrome Trace Event JSON timeline (opened by Perfetto and chrome://tracing):
 * regions and NVTX ranges on their threads, kernels and copies on one track per GPU stream, and per GPU the
 * time-based roofline over time as counter tracks (kernel time, with known work, at the roof; FLOP/s, HBM bytes/s).
 */
#pragma once

#include "rooftime/analyzer/machine.h"
#include "rooftime/analyzer/profile.h"

#include <cstddef>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace rooftime::analyzer {

struct TraceOptions {
    /// Only what overlaps [from, to], in seconds from each process's start; absent: its start, its end.
    std::optional<double> fromSeconds, toSeconds;
    /// Slices (regions, kernels, copies) at most; the earliest are kept and the rest cut at one time for all.
    std::size_t maxSlices = 500'000; ///< about 250 MB of JSON, which the Perfetto UI still opens in a browser
    /// Counter bins per process and GPU over the exported span.
    std::size_t bins = 2000;
};

struct TraceSummary {
    std::size_t regions = 0, kernels = 0, memops = 0, counterEvents = 0;
    std::size_t untimedKernels
        = 0; ///< launches with no time to place them at (imports; replayed ones without launch time or region)
    /// Launches drawn at their region's start (replayed without a time of their own or a launch time), which the
    /// counter tracks leave out.
    std::size_t outsideTracks = 0;
    /// Slices left out by maxSlices, and the time (seconds from the first process's start) where the cut fell.
    std::size_t cutSlices = 0;
    std::optional<double> cutAtSeconds;
    std::string machineSource; ///< whose roofs the counter tracks use ("embedded in …", "--machine …", or empty)
};

/// Writes @p profiles as one trace to @p out. Times are microseconds from the earliest process start among them.
/// The roofs are @p machine's, else the first profile's embedded model; without one the roofline tracks are left
/// out. Throws ProfileError for a profile that cannot be read.
TraceSummary writeChromeTrace(
    const std::vector<Profile>& profiles, const MachineModel* machine, const TraceOptions& options, std::ostream& out);
/// writeChromeTrace into the file @p path: written beside it under a name of this process and renamed, so that a
/// failure leaves neither a half file nor a user's file of that name touched. Throws std::runtime_error
/// ("cannot write 'PATH'…") and ProfileError.
TraceSummary writeChromeTraceFile(const std::vector<Profile>& profiles, const MachineModel* machine,
    const TraceOptions& options, const std::string& path);

} // namespace rooftime::analyzer
