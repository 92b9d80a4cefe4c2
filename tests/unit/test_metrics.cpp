// SPDX-License-Identifier: MIT
// The counter table: weights, architectures, and one count per piece of work when counters overlap.
#include "rooftime/analyzer/metrics.h"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace rooftime::analyzer;

namespace {
const std::string kSass = "smsp__sass_thread_inst_executed_op_";
bool has(const std::vector<std::string>& v, const std::string& s)
{
    return std::find(v.begin(), v.end(), s) != v.end();
}
} // namespace

TEST_CASE("CUDA-core FLOPs: fma counts 2, packed hfma 4, hadd and hmul 2", "[metrics]")
{
    std::map<std::string, double> c {
        { kSass + "dadd_pred_on.sum", 10 },
        { kSass + "dmul_pred_on.sum", 20 },
        { kSass + "dfma_pred_on.sum", 30 },
        { kSass + "fadd_pred_on.sum", 1 },
        { kSass + "fmul_pred_on.sum", 2 },
        { kSass + "ffma_pred_on.sum", 3 },
        { kSass + "hadd_pred_on.sum", 5 },
        { kSass + "hmul_pred_on.sum", 6 },
        { kSass + "hfma_pred_on.sum", 7 },
    };
    for (const std::string arch : { "sm_70", "sm_80", "sm_90" }) {
        INFO(arch);
        const DerivedWork w = deriveWork(c, arch);
        CHECK(w.flops.at({ "fp64", false }) == 10 + 20 + 2 * 30);
        CHECK(w.flops.at({ "fp32", false }) == 1 + 2 + 2 * 3);
        CHECK(w.flops.at({ "fp16", false }) == 2 * 5 + 2 * 6 + 4 * 7);
        CHECK(w.unused.empty());
    }
}

TEST_CASE("tensor cores: sm_70 instructions ×512, later architectures count operations", "[metrics]")
{
    const std::map<std::string, double> volta { { "sm__inst_executed_pipe_tensor.sum", 1000 } };
    CHECK(deriveWork(volta, "sm_70").flops.at({ "fp16", true }) == 512000);
    // On Hopper that counter is only "tensor pipe active": it is not read as work.
    const DerivedWork h = deriveWork(volta, "sm_90");
    CHECK(h.flops.empty());
    CHECK(has(h.unused, "sm__inst_executed_pipe_tensor.sum"));

    const std::map<std::string, double> hopper { { "sm__ops_path_tensor_op_hgmma_src_fp16.sum", 4e9 },
        { "sm__ops_path_tensor_op_hmma_src_fp16_dst_fp32.sum", 1e9 },
        { "sm__ops_path_tensor_op_hgmma_src_bf16_dst_fp32.sum", 2e9 },
        { "sm__ops_path_tensor_src_fp8_sparsity_off.sum", 3e9 } };
    const DerivedWork w = deriveWork(hopper, "sm_90");
    CHECK(w.flops.at({ "fp16", true }) == 5e9); // wgmma and mma.sync add
    CHECK(w.flops.at({ "bf16", true }) == 2e9);
    CHECK(w.flops.at({ "fp8", true }) == 3e9);
}

TEST_CASE("HFMA2.MMA constant loads beside fp32/fp64 work are no fp16 FLOPs; the tensor pipe left over is", "[metrics]")
{
    // The H200's triad_fp64: one HFMA per thread, one tensor-pipe instruction per warp, an FMA per element.
    std::map<std::string, double> triad { { kSass + "dfma_pred_on.sum", 16777216 },
        { kSass + "hfma_pred_on.sum", 270336 }, { "sm__inst_executed_pipe_tensor.sum", 8448 } };
    DerivedWork w = deriveWork(triad, "sm_90");
    CHECK(w.flops.at({ "fp16", false }) == 0);
    CHECK(w.flops.at({ "fp64", false }) == 2 * 16777216.0);
    CHECK(w.hfmaMoves == 270336);
    CHECK(w.tensorUncounted == 0);
    // Volta has no such rule: its tensor-pipe instructions are tensor FLOPs.
    CHECK(deriveWork(triad, "sm_70").hfmaMoves == 0);
    // More HFMA than the tensor pipe could have run (half2 arithmetic on the FMA pipe): counted.
    triad[kSass + "hfma_pred_on.sum"] = 270337 + 32 * 8448;
    CHECK(deriveWork(triad, "sm_90").flops.at({ "fp16", false }) == 4 * (270337 + 32 * 8448.0));
    // A kernel with other fp16 instructions, or without fp32/fp64 work, keeps its HFMA as fp16 work.
    triad[kSass + "hfma_pred_on.sum"] = 270336;
    triad[kSass + "hadd_pred_on.sum"] = 1;
    CHECK(deriveWork(triad, "sm_90").flops.at({ "fp16", false }) == 4 * 270336.0 + 2);
    const std::map<std::string, double> half { { kSass + "hfma_pred_on.sum", 270336 },
        { "sm__inst_executed_pipe_tensor.sum", 8448 } };
    CHECK(deriveWork(half, "sm_90").flops.at({ "fp16", false }) == 4 * 270336.0);
    // mma.sync under Tier 1: tensor-pipe instructions with no HFMA to explain them and no operation counted.
    const std::map<std::string, double> hmma { { "sm__inst_executed_pipe_tensor.sum", 4194304 } };
    CHECK(deriveWork(hmma, "sm_90").tensorUncounted == 4194304);
    // mma.sync with an fp16 epilogue on the FMA pipe: the epilogue's HFMA explain a few tensor-pipe instructions at
    // most (32 per instruction), the HMMA remain uncounted and warned about.
    const std::map<std::string, double> epilogue { { "sm__inst_executed_pipe_tensor.sum", 4194304 },
        { kSass + "hfma_pred_on.sum", 32 * 8192 }, { kSass + "hadd_pred_on.sum", 1024 } };
    CHECK(deriveWork(epilogue, "sm_90").tensorUncounted == 4194304 - 8192);
    CHECK(deriveWork(epilogue, "sm_90").hfmaMoves == 0); // HADD present: real fp16 work, kept
    // wgmma counted as operations: nothing uncounted.
    const std::map<std::string, double> hgmma { { "sm__inst_executed_pipe_tensor.sum", 262144 },
        { "sm__ops_path_tensor_op_hgmma_src_fp16.sum", 1.7e10 } };
    CHECK(deriveWork(hgmma, "sm_90").tensorUncounted == 0);
}

TEST_CASE("overlapping counters count the same work once", "[metrics]")
{
    // Source-level and op-level tensor counters both present: the source level is used, not their sum.
    const std::map<std::string, double> c { { "sm__ops_path_tensor_src_fp16.sum", 6e9 },
        { "sm__ops_path_tensor_op_hgmma_src_fp16.sum", 5e9 },
        { "sm__ops_path_tensor_op_hmma_src_fp16_dst_fp32.sum", 1e9 }, { "dram__bytes_read.sum", 300 },
        { "dram__bytes_write.sum", 100 }, { "dram__bytes.sum", 400 } };
    const DerivedWork w = deriveWork(c, "sm_90");
    CHECK(w.flops.at({ "fp16", true }) == 6e9);
    CHECK(w.bytes.at("HBM") == 400); // read + write, not also dram__bytes
    // With only the total, the total is used.
    CHECK(deriveWork({ { "dram__bytes.sum", 400 } }, "sm_80").bytes.at("HBM") == 400);
}

TEST_CASE("bytes per level, time, and counters no rule reads", "[metrics]")
{
    const std::map<std::string, double> c { { "lts__t_bytes.sum", 2e6 }, { "l1tex__t_bytes.sum", 8e6 },
        { "gpu__time_duration.sum", 1500 }, { "sm__warps_active.avg.pct_of_peak_sustained_active", 42 } };
    const DerivedWork w = deriveWork(c, "sm_86");
    CHECK(w.bytes.at("L2") == 2e6);
    CHECK(w.bytes.at("L1") == 8e6);
    REQUIRE(w.seconds);
    CHECK(*w.seconds == Approx(1.5e-6));
    CHECK(w.unused == std::vector<std::string> { "sm__warps_active.avg.pct_of_peak_sustained_active" });
    // An unknown architecture reads nothing and says so.
    CHECK(deriveWork(c, "cpu").unused.size() == 4);
}
