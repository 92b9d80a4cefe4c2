// SPDX-License-Identifier: MIT
// Writes a synthetic GPU profile for the report benchmark: N launches over S kernel signatures, the first K
// launches of each signature replayed with M counters (as counters mode records them), the rest timed only.
// Usage: make_kernel_profile OUT.rtdb [N=1000000] [S=2000] [K=3]
#include "metric_sets.h"
#include "rooftime/analyzer/profile_builder.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

int main(int argc, char** argv)
{
    // An option where the output goes (--help) would become a 50 MB profile of that name.
    const auto count = [&](int i, long fallback) {
        if (argc <= i) return fallback;
        char* end = nullptr;
        const long v = std::strtol(argv[i], &end, 10);
        return *end || v < 0 ? -1 : v;
    };
    const long n = count(2, 1000000), sigs = count(3, 2000), k = count(4, 3);
    if (argc < 2 || argc > 5 || argv[1][0] == '-' || n < 1 || sigs < 1 || k < 0) {
        std::fprintf(stderr, "usage: make_kernel_profile OUT.rtdb [N=1000000] [S=2000] [K=3] (N, S >= 1; K >= 0)\n");
        return 2;
    }
    // The counters counters mode records for every replayed launch (the backend's Tier-1 set).
    const auto& metrics = rooftime::cupti::kTier1;
    try {
        rooftime::analyzer::ProfileBuilder b(argv[1], "bench", "bench", "make_kernel_profile");
        b.addDevice(0, "NVIDIA H100 80GB HBM3", "sm_90", 132);
        // Synthetic roofs (H100 SXM datasheet values), so that the report computes every time-based column.
        b.addMachine("synthetic", R"({"format": "rooftime-machine", "version": "1.0", "mode": "synthetic",
            "host": {"name": "bench"}, "cpu": {"model": "bench"}, "ceilings": [
            {"device": "gpu0", "kind": "compute", "precision": "fp64", "variant": "fma", "value": 67e12, "roof": true},
            {"device": "gpu0", "kind": "compute", "precision": "fp32", "variant": "fma", "value": 67e12, "roof": true},
            {"device": "gpu0", "kind": "compute", "precision": "fp16", "variant": "fma", "value": 134e12, "roof": true},
            {"device": "gpu0", "kind": "compute", "precision": "fp16", "variant": "tensor", "value": 989e12, "roof": true},
            {"device": "gpu0", "kind": "bandwidth", "level": "HBM", "pattern": "read", "value": 3.35e12, "roof": true},
            {"device": "gpu0", "kind": "bandwidth", "level": "L2", "pattern": "read", "value": 10e12, "roof": true},
            {"device": "gpu0", "kind": "bandwidth", "level": "L1", "pattern": "read", "value": 30e12, "roof": true},
            {"device": "gpu0", "kind": "launch", "variant": "back_to_back", "value": 2.5e-6, "roof": true}]})");
        std::vector<long> seen(static_cast<std::size_t>(sigs), 0);
        std::int64_t t = 0;
        for (long i = 0; i < n; ++i) {
            const long s = (i * 7919) % sigs; // interleaved, like a training step
            rooftime::analyzer::KernelRecord r;
            r.id = i + 1;
            r.name = "void kernel_" + std::to_string(s) + "<float, 128>(float const*, float*, int)";
            r.durationNs = 1000 + (s % 97) * 100 + (i % 13);
            r.startNs = t;
            r.endNs = t + r.durationNs;
            t += r.durationNs + 500;
            r.grid[0] = 128 + s % 4;
            r.grid[1] = r.grid[2] = 1;
            r.block[0] = 256;
            r.block[1] = r.block[2] = 1;
            r.replayed = seen[static_cast<std::size_t>(s)]++ < k;
            b.addKernel(r);
            if (!r.replayed) continue;
            for (std::size_t m = 0; m < metrics.size(); ++m)
                b.addKernelMetric(r.id, metrics[m],
                    static_cast<double>(r.durationNs) * static_cast<double>((m * 37 + s) % 200 + 1),
                    m == 0 ? "nsecond" : "byte");
        }
        b.finish(t);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "make_kernel_profile: %s\n", e.what());
        return 2;
    }
    return 0;
}
