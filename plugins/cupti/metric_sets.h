// SPDX-License-Identifier: MIT
/**
 * @file metric_sets.h
 * @brief The counter sets the CUPTI backend asks for: names only, no CUPTI types.
 *
 * The one list, shared by the backend and by the offline test (tests/unit/test_cupti_metrics.cpp) that checks
 * every name and the pass count with the CUPTI host API for GH100 and GA100, no GPU needed. The analyzer's rules
 * (analyzer/lib/src/metrics.cpp) turn these raw values into FLOPs and bytes; docs/cupti.md explains the choice.
 */
#pragma once

#include <array>

namespace rooftime::cupti {

/// Tier 1 (docs/cupti.md): time, CUDA-core FLOPs (9 SASS counters), bytes per level, tensor-pipe instructions and
/// the Hopper tensor op counters. 2 passes on GH100. Names a chip does not know (the HGMMA and FP8 counters before
/// Hopper) are dropped for that chip when the backend builds its configuration.
inline constexpr std::array kTier1 = {
    "gpu__time_duration.sum",
    "smsp__sass_thread_inst_executed_op_dadd_pred_on.sum",
    "smsp__sass_thread_inst_executed_op_dmul_pred_on.sum",
    "smsp__sass_thread_inst_executed_op_dfma_pred_on.sum",
    "smsp__sass_thread_inst_executed_op_fadd_pred_on.sum",
    "smsp__sass_thread_inst_executed_op_fmul_pred_on.sum",
    "smsp__sass_thread_inst_executed_op_ffma_pred_on.sum",
    "smsp__sass_thread_inst_executed_op_hadd_pred_on.sum",
    "smsp__sass_thread_inst_executed_op_hmul_pred_on.sum",
    "smsp__sass_thread_inst_executed_op_hfma_pred_on.sum",
    "dram__bytes_read.sum",
    "dram__bytes_write.sum",
    "lts__t_bytes.sum",
    "l1tex__t_bytes.sum",
    "sm__inst_executed_pipe_tensor.sum",
    "sm__ops_path_tensor_op_hgmma_src_fp16.sum",
    "sm__ops_path_tensor_op_hgmma_src_bf16_dst_fp32.sum",
    "sm__ops_path_tensor_src_fp8.sum",
    "sm__ops_path_tensor_src_fp64.sum",
};

/// Tier 2 (`rooftime record --counter-set tier2`): Tier 1 plus the tensor work of mma.sync (HMMA), which Tier 1
/// does not count. On Hopper the op-level HMMA fp16->fp32 and bf16 counters and HGMMA tf32: 22 metrics, 4 passes on
/// GH100. Before Hopper, where Tier 1 has no fp16/bf16/tf32 tensor counter at all, the source-level ones: 6 passes on
/// GA100, GA102 and AD102, 2 on TU102 (only fp16->fp16 exists there). Checked offline
/// (tests/unit/test_cupti_metrics.cpp).
inline constexpr std::array kTier2Hopper = {
    "sm__ops_path_tensor_op_hmma_src_fp16_dst_fp32.sum",
    "sm__ops_path_tensor_op_hmma_src_bf16_dst_fp32.sum",
    "sm__ops_path_tensor_op_hgmma_src_tf32_dst_fp32.sum",
};
inline constexpr std::array kTier2BeforeHopper = {
    "sm__ops_path_tensor_src_fp16_dst_fp32.sum",
    "sm__ops_path_tensor_src_bf16_dst_fp32.sum",
    "sm__ops_path_tensor_src_tf32_dst_fp32.sum",
    "sm__ops_path_tensor_src_fp16_dst_fp16.sum",
};

/// Peaks and clocks (`.peak_sustained`: per-cycle hardware limits; `cycles_elapsed.avg.per_second`: the clock each
/// measured launch ran at). Per launch they cost nothing where they fit the passes of the set they join: Tier 1 and 2
/// take them only then (on GH100, GA100, GA102 and AD102, not on TU102: checked offline); `--counter-set peaks`
/// (what `rooftime ceilings --gpu` records) takes them alone, in one pass. The analyzer's peak table
/// (analyzer/lib/src/metrics.cpp, counterPeaks) turns them into theoretical ceilings at the clock seen.
inline constexpr std::array kPeaks = {
    "sm__cycles_elapsed.avg.per_second",
    "dram__cycles_elapsed.avg.per_second",
    "lts__cycles_elapsed.avg.per_second",
    "l1tex__cycles_elapsed.avg.per_second",
    "smsp__sass_thread_inst_executed_op_dfma_pred_on.sum.peak_sustained",
    "smsp__sass_thread_inst_executed_op_ffma_pred_on.sum.peak_sustained",
    "smsp__sass_thread_inst_executed_op_hfma_pred_on.sum.peak_sustained",
    "dram__bytes.sum.peak_sustained",
    "lts__t_bytes.sum.peak_sustained",
    "l1tex__t_bytes.sum.peak_sustained",
};
/// Tensor peaks: Hopper's per instruction family (wgmma, mma.sync), earlier chips' per source type (none on Turing).
inline constexpr std::array kPeaksHopper = {
    "sm__ops_path_tensor_op_hgmma_src_fp16.sum.peak_sustained",
    "sm__ops_path_tensor_op_hgmma_src_bf16_dst_fp32.sum.peak_sustained",
    "sm__ops_path_tensor_op_hgmma_src_tf32_dst_fp32.sum.peak_sustained",
    "sm__ops_path_tensor_op_hmma_src_fp16_dst_fp32.sum.peak_sustained",
    "sm__ops_path_tensor_op_hmma_src_bf16_dst_fp32.sum.peak_sustained",
    "sm__ops_path_tensor_op_hmma_src_tf32_dst_fp32.sum.peak_sustained",
    "sm__ops_path_tensor_src_fp64.sum.peak_sustained",
};
inline constexpr std::array kPeaksBeforeHopper = {
    "sm__ops_path_tensor_src_fp16_dst_fp32.sum.peak_sustained",
    "sm__ops_path_tensor_src_bf16_dst_fp32.sum.peak_sustained",
    "sm__ops_path_tensor_src_tf32_dst_fp32.sum.peak_sustained",
    "sm__ops_path_tensor_src_fp64.sum.peak_sustained",
};

/// Kernels whose name contains one of these are never replayed: collectives and peer-to-peer kernels wait on other
/// GPUs or other kernels, and auto range serializes and replays a kernel alone (CUPTI's docs warn of hangs).
/// ROOFTIME_NO_REPLAY adds comma-separated substrings of one's own.
inline constexpr const char* kNoReplayPatterns[]
    = { "nccl", "nvshmem", "cross_device_reduce", "custom_all_reduce", "allreduce", "all_reduce" };

} // namespace rooftime::cupti
