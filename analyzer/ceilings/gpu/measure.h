// SPDX-License-Identifier: MIT
// The measurement of one GPU's ceilings: identity and clocks, FMA and tensor peaks, the cuBLAS cross-check,
// shared-memory and L1/L2/HBM bandwidth sweeps, and the launch floor. Results are plain data; main.cpp turns them
// into the JSON document that `rooftime ceilings --gpu N` merges into the machine file.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace rooftime::ceilings::gpu {

struct Options {
    int device = 0;
    bool quick = false;
};

struct GpuIdentity {
    int index = 0;
    std::string name, uuid, arch, driverVersion, runtimeVersion;
    int major = 0, minor = 0, sms = 0;
    double memoryBytes = 0, l2Bytes = 0, busWidthBits = 0;
    double smMaxHz = 0, smMeasuredHz = 0, memoryHz = 0;
    double l1BytesPerSm = 0; ///< unified L1/shared array per SM (table, else the shared-memory limit)
};

struct Ceiling {
    std::string kind; ///< compute, bandwidth, launch
    std::string precision, variant; ///< compute; launch uses variant
    std::string level, pattern; ///< bandwidth
    double value = 0;
    std::string unit;
    std::string method;
    std::optional<double> theoretical;
    std::optional<double> theoreticalAtMeasuredClock;
    std::string theoreticalMethod;
    std::optional<std::pair<double, double>> workingSet;
    bool crossCheck = false;
};

struct SweepPoint {
    double bytes = 0;
    double value = 0; ///< B/s
    std::string level; ///< the level expected at this working set, empty in between
};

struct Sweep {
    std::string pattern;
    std::vector<SweepPoint> points;
};

struct Measurement {
    GpuIdentity gpu;
    std::vector<Ceiling> ceilings;
    std::vector<Sweep> sweeps;
    std::vector<std::string> notes;
};

/// Selects the device and reads its identity. Throws NoUsableGpu (none, too old, no kernel image) or CudaError.
GpuIdentity openDevice(int index);
/// Runs every measurement on the device openDevice() selected. Throws CudaError.
Measurement measure(const Options& options, GpuIdentity gpu);

/// The launches `rooftime ceilings` records under `--counter-set peaks` to read the GPU's own peaks and clock: fp64
/// FMA launches of about 10 ms for @p warmUpSeconds (the clock comes up), then one fp32 FMA launch, the one whose
/// counters are read. Throws CudaError.
void probeCounters(const GpuIdentity& gpu, double warmUpSeconds);

/// The phase now running, for the watchdog's message (never null).
const char* currentPhase();
/// One line on stderr: "rooftime ceilings: <text>".
void progress(const std::string& text);

} // namespace rooftime::ceilings::gpu
