// SPDX-License-Identifier: MIT
#include "rooftime/analyzer/metrics.h"

#include <algorithm>
#include <set>

namespace rooftime::analyzer {

namespace {

constexpr std::string_view kAmpereOn = "sm_80,sm_86,sm_89,sm_90";
constexpr std::string_view kTuringOn = "sm_75,sm_80,sm_86,sm_89,sm_90";

bool archMatches(std::string_view archs, std::string_view arch)
{
    if (archs == "gpu") return arch.rfind("sm_", 0) == 0;
    std::size_t pos = 0;
    while (pos <= archs.size()) {
        const std::size_t comma = archs.find(',', pos);
        const std::string_view one = archs.substr(pos, comma == std::string_view::npos ? archs.npos : comma - pos);
        if (one == arch) return true;
        if (comma == std::string_view::npos) break;
        pos = comma + 1;
    }
    return false;
}

} // namespace

const std::vector<MetricRule>& metricRules()
{
    using T = MetricTarget;
    // Weights: Nsight Compute's roofline sections (fp64/fp32 = add + mul + 2·fma; fp16 = 2·hadd + 2·hmul +
    // 4·hfma for packed half2); tensor op counters are operations already (×1); sm_70's tensor instructions
    // count 512 FLOPs each (the V100 convention of the paper's notebooks). docs/metrics.md is this table.
    static const std::vector<MetricRule> rules {
        { "smsp__sass_thread_inst_executed_op_dadd_pred_on.sum", T::Flops, "fp64", false, "", 1, "gpu", 0 },
        { "smsp__sass_thread_inst_executed_op_dmul_pred_on.sum", T::Flops, "fp64", false, "", 1, "gpu", 0 },
        { "smsp__sass_thread_inst_executed_op_dfma_pred_on.sum", T::Flops, "fp64", false, "", 2, "gpu", 0 },
        { "smsp__sass_thread_inst_executed_op_fadd_pred_on.sum", T::Flops, "fp32", false, "", 1, "gpu", 0 },
        { "smsp__sass_thread_inst_executed_op_fmul_pred_on.sum", T::Flops, "fp32", false, "", 1, "gpu", 0 },
        { "smsp__sass_thread_inst_executed_op_ffma_pred_on.sum", T::Flops, "fp32", false, "", 2, "gpu", 0 },
        { "smsp__sass_thread_inst_executed_op_hadd_pred_on.sum", T::Flops, "fp16", false, "", 2, "gpu", 0 },
        { "smsp__sass_thread_inst_executed_op_hmul_pred_on.sum", T::Flops, "fp16", false, "", 2, "gpu", 0 },
        { "smsp__sass_thread_inst_executed_op_hfma_pred_on.sum", T::Flops, "fp16", false, "", 4, "gpu", 0 },
        // Volta: tensor instructions, 512 FLOPs each (one HMMA.884 pair computes a 4x4x4 fp16 product per
        // thread group; the paper's notebooks use ×512 per warp-level instruction).
        { "sm__inst_executed_pipe_tensor.sum", T::Flops, "fp16", true, "", 512, "sm_70", 0 },
        // Turing and later: tensor operation counters, source level (group 0) ...
        // Names checked per chip with the CUPTI host API (tests/unit/test_cupti_metrics.cpp): Hopper counts
        // fp16 tensor work in one counter, earlier chips split it by accumulator type; the op-level counters
        // exist on Hopper only.
        { "sm__ops_path_tensor_src_fp16.sum", T::Flops, "fp16", true, "", 1, "sm_90", 0 },
        { "sm__ops_path_tensor_src_fp16_dst_fp16.sum", T::Flops, "fp16", true, "", 1, "sm_75,sm_80,sm_86,sm_89", 0 },
        { "sm__ops_path_tensor_src_fp16_dst_fp32.sum", T::Flops, "fp16", true, "", 1, "sm_80,sm_86,sm_89", 0 },
        { "sm__ops_path_tensor_src_bf16_dst_fp32.sum", T::Flops, "bf16", true, "", 1, kAmpereOn, 0 },
        { "sm__ops_path_tensor_src_tf32_dst_fp32.sum", T::Flops, "tf32", true, "", 1, kAmpereOn, 0 },
        { "sm__ops_path_tensor_src_fp64.sum", T::Flops, "fp64", true, "", 1, kAmpereOn, 0 },
        { "sm__ops_path_tensor_src_fp8_sparsity_off.sum", T::Flops, "fp8", true, "", 1, "sm_89,sm_90", 0 },
        { "sm__ops_path_tensor_src_fp8_sparsity_on.sum", T::Flops, "fp8", true, "", 1, "sm_89,sm_90", 0 },
        { "sm__ops_path_tensor_src_fp8.sum", T::Flops, "fp8", true, "", 1, "sm_89,sm_90", 1 },
        { "sm__ops_path_tensor_src_int8.sum", T::Flops, "int8", true, "", 1, kTuringOn, 0 },
        // ... or op level (group 1): mma.sync (HMMA) and, on Hopper, warpgroup wgmma (HGMMA) counted apart.
        { "sm__ops_path_tensor_op_hmma_src_fp16_dst_fp16.sum", T::Flops, "fp16", true, "", 1, "sm_90", 1 },
        { "sm__ops_path_tensor_op_hmma_src_fp16_dst_fp32.sum", T::Flops, "fp16", true, "", 1, "sm_90", 1 },
        { "sm__ops_path_tensor_op_hgmma_src_fp16.sum", T::Flops, "fp16", true, "", 1, "sm_90", 1 },
        { "sm__ops_path_tensor_op_hmma_src_bf16_dst_fp32.sum", T::Flops, "bf16", true, "", 1, "sm_90", 1 },
        { "sm__ops_path_tensor_op_hgmma_src_bf16_dst_fp32.sum", T::Flops, "bf16", true, "", 1, "sm_90", 1 },
        { "sm__ops_path_tensor_op_hmma_src_tf32_dst_fp32.sum", T::Flops, "tf32", true, "", 1, "sm_90", 1 },
        { "sm__ops_path_tensor_op_hgmma_src_tf32_dst_fp32.sum", T::Flops, "tf32", true, "", 1, "sm_90", 1 },
        { "sm__ops_path_tensor_op_imma_src_int8.sum", T::Flops, "int8", true, "", 1, "sm_90", 1 },
        { "sm__ops_path_tensor_op_igmma_src_int8.sum", T::Flops, "int8", true, "", 1, "sm_90", 1 },
        // Bytes per level (one definition per level, docs/metrics.md): device memory, L2, L1.
        { "dram__bytes_read.sum", T::Bytes, "", false, "HBM", 1, "gpu", 0 },
        { "dram__bytes_write.sum", T::Bytes, "", false, "HBM", 1, "gpu", 0 },
        { "dram__bytes.sum", T::Bytes, "", false, "HBM", 1, "gpu", 1 },
        { "lts__t_bytes.sum", T::Bytes, "", false, "L2", 1, "gpu", 0 },
        { "l1tex__t_bytes.sum", T::Bytes, "", false, "L1", 1, "gpu", 0 },
        // Time of the launch under replay (ns).
        { "gpu__time_duration.sum", T::Time, "", false, "", 1e-9, "gpu", 0 },
    };
    return rules;
}

bool ruleApplies(const MetricRule& rule, std::string_view arch)
{
    return archMatches(rule.archs, arch);
}

const std::vector<std::string>& knownArchitectures()
{
    static const std::vector<std::string> archs { "sm_70", "sm_75", "sm_80", "sm_86", "sm_89", "sm_90" };
    return archs;
}

DerivedWork deriveWork(const std::map<std::string, double>& counters, std::string_view arch)
{
    DerivedWork out;
    // For each target (flop class or level): the lowest group with a counter present.
    std::map<std::string, int> chosen;
    auto keyOf = [](const MetricRule& r) {
        return r.target == MetricTarget::Flops ? std::string(r.precision) + (r.tensor ? "|t" : "|c")
            : r.target == MetricTarget::Bytes  ? "B|" + std::string(r.level)
                                               : std::string("T");
    };
    std::set<std::string_view> read;
    for (const MetricRule& r : metricRules()) {
        if (!archMatches(r.archs, arch) || !counters.count(std::string(r.metric))) continue;
        auto [it, inserted] = chosen.try_emplace(keyOf(r), r.group);
        if (!inserted) it->second = std::min(it->second, r.group);
    }
    for (const MetricRule& r : metricRules()) {
        if (!archMatches(r.archs, arch)) continue;
        auto c = counters.find(std::string(r.metric));
        if (c == counters.end()) continue;
        read.insert(r.metric);
        if (chosen.at(keyOf(r)) != r.group) continue; // another group counts the same work
        const double v = c->second * r.weight;
        switch (r.target) {
        case MetricTarget::Flops:
            out.flops[{ std::string(r.precision), r.tensor }] += v;
            break;
        case MetricTarget::Bytes:
            out.bytes[std::string(r.level)] += v;
            break;
        case MetricTarget::Time:
            out.seconds = out.seconds.value_or(0) + v;
            break;
        }
    }
    for (const auto& [name, v] : counters)
        if (!read.count(name)) out.unused.push_back(name);
    return out;
}

} // namespace rooftime::analyzer
