// SPDX-License-Identifier: MIT
// A machine file with round GPU roofs, so that test expectations can be computed by hand.
#pragma once

namespace rooftime::test {

/// gpu0: fp32 50 TFLOP/s, fp16 tensor 800 TFLOP/s, HBM 3 TB/s, L2 10 TB/s, 2 us per launch.
inline constexpr const char* kGpuMachineJson = R"({"format": "rooftime-machine", "version": "1.0",
  "created": "2026-11-27T00:00:00Z", "host": {"name": "gpu-node"}, "cpu": {"model": "CPU", "logical_cpus": 16},
  "ceilings": [
    {"device": "gpu0", "kind": "compute", "precision": "fp32", "variant": "fma", "value": 50e12, "roof": true},
    {"device": "gpu0", "kind": "compute", "precision": "fp16", "variant": "tensor", "value": 800e12, "roof": true},
    {"device": "gpu0", "kind": "bandwidth", "level": "HBM", "pattern": "read", "value": 3e12, "roof": true},
    {"device": "gpu0", "kind": "bandwidth", "level": "L2", "pattern": "read", "value": 10e12, "roof": true},
    {"device": "gpu0", "kind": "launch", "variant": "back_to_back", "value": 2e-6, "roof": true}]})";

} // namespace rooftime::test
