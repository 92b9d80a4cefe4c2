// SPDX-License-Identifier: MIT
#include "rooftime/analyzer/metrics.h"

#include "rooftime/analyzer/machine.h"
#include "rooftime/analyzer/profile.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <tuple>
#include <unordered_map>
#include <vector>

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

struct PeakRule {
    std::string_view metric; ///< a .peak_sustained counter: events per cycle of its unit
    std::string_view clock; ///< that unit's cycles per second
    bool compute;
    std::string_view precision, pipe, level;
    double weight; ///< FLOPs or bytes per event, as in metricRules()
    std::string_view why = ""; ///< a weight unlike metricRules()'s, said in the method text
};

/// On the H200 the wgmma counters' peak_sustained was 8192 ops per SM and cycle, twice the dense tensor rate
/// (4096 FLOP: NVIDIA's 989 TFLOP/s at 1830 MHz on 132 SMs) and twice mma.sync's peak, while the same counters'
/// values count a dense GEMM's 2·n³ exactly: the peak is the 2:4-sparse rate.
constexpr std::string_view kSparsePeak = "the counter's peak is wgmma's 2:4-sparse rate; a dense GEMM reaches half";
/// tf32 wgmma's peak has not been read on a GPU yet: taken to be the sparse rate as fp16's and bf16's are.
constexpr std::string_view kSparsePeakAssumed = "taken as wgmma's 2:4-sparse rate, as the fp16 and bf16 counters' "
                                                "peaks are (not yet seen on a GPU); a dense GEMM "
                                                "reaches half";

constexpr std::string_view kSmClock = "sm__cycles_elapsed.avg.per_second";

// The same weights as metricRules(): fma 2 FLOPs, a half2 fma 4, a tensor op 1.
constexpr PeakRule kPeakRules[] = {
    { "smsp__sass_thread_inst_executed_op_dfma_pred_on.sum.peak_sustained", kSmClock, true, "fp64", "fma", "", 2 },
    { "smsp__sass_thread_inst_executed_op_ffma_pred_on.sum.peak_sustained", kSmClock, true, "fp32", "fma", "", 2 },
    { "smsp__sass_thread_inst_executed_op_hfma_pred_on.sum.peak_sustained", kSmClock, true, "fp16", "fma", "", 4 },
    { "sm__ops_path_tensor_op_hgmma_src_fp16.sum.peak_sustained", kSmClock, true, "fp16", "hgmma", "", 0.5,
        kSparsePeak },
    { "sm__ops_path_tensor_op_hgmma_src_bf16_dst_fp32.sum.peak_sustained", kSmClock, true, "bf16", "hgmma", "", 0.5,
        kSparsePeak },
    { "sm__ops_path_tensor_op_hgmma_src_tf32_dst_fp32.sum.peak_sustained", kSmClock, true, "tf32", "hgmma", "", 0.5,
        kSparsePeakAssumed },
    { "sm__ops_path_tensor_op_hmma_src_fp16_dst_fp32.sum.peak_sustained", kSmClock, true, "fp16", "hmma", "", 1 },
    { "sm__ops_path_tensor_op_hmma_src_bf16_dst_fp32.sum.peak_sustained", kSmClock, true, "bf16", "hmma", "", 1 },
    { "sm__ops_path_tensor_op_hmma_src_tf32_dst_fp32.sum.peak_sustained", kSmClock, true, "tf32", "hmma", "", 1 },
    { "sm__ops_path_tensor_src_fp16_dst_fp32.sum.peak_sustained", kSmClock, true, "fp16", "tensor", "", 1 },
    { "sm__ops_path_tensor_src_bf16_dst_fp32.sum.peak_sustained", kSmClock, true, "bf16", "tensor", "", 1 },
    { "sm__ops_path_tensor_src_tf32_dst_fp32.sum.peak_sustained", kSmClock, true, "tf32", "tensor", "", 1 },
    { "sm__ops_path_tensor_src_fp64.sum.peak_sustained", kSmClock, true, "fp64", "tensor", "", 1 },
    { "dram__bytes.sum.peak_sustained", "dram__cycles_elapsed.avg.per_second", false, "", "", "HBM", 1 },
    { "lts__t_bytes.sum.peak_sustained", "lts__cycles_elapsed.avg.per_second", false, "", "", "L2", 1 },
    { "l1tex__t_bytes.sum.peak_sustained", "l1tex__cycles_elapsed.avg.per_second", false, "", "", "L1", 1 },
};

/// Read by the peak table, not work: never "unused".
bool peakCounter(std::string_view name)
{
    for (const PeakRule& r : kPeakRules)
        if (r.metric == name || r.clock == name) return true;
    return false;
}

} // namespace

std::vector<CounterPeak> counterPeaks(const std::map<std::string, double>& perLaunch)
{
    std::vector<CounterPeak> out;
    for (const PeakRule& r : kPeakRules) {
        auto peak = perLaunch.find(std::string(r.metric));
        auto clock = perLaunch.find(std::string(r.clock));
        if (peak == perLaunch.end() || clock == perLaunch.end() || !(peak->second > 0) || !(clock->second > 0))
            continue;
        CounterPeak p;
        p.compute = r.compute;
        p.precision = r.precision;
        p.pipe = r.pipe;
        p.level = r.level;
        p.perCycle = peak->second * r.weight;
        p.hz = clock->second;
        p.value = p.perCycle * p.hz;
        p.method = fmt::format("{} {:.6g}/cycle{} × {} {:.0f} MHz (GPU counters{})", r.metric, peak->second,
            r.weight != 1 ? fmt::format(" × {:g} {}", r.weight, r.compute ? "FLOP" : "B") : std::string(), r.clock,
            p.hz / 1e6, r.why.empty() ? std::string() : fmt::format("; {}", r.why));
        out.push_back(std::move(p));
    }
    return out;
}

std::optional<double> counterSmClock(const std::map<std::string, double>& perLaunch)
{
    auto it = perLaunch.find(std::string(kSmClock));
    if (it == perLaunch.end() || !(it->second > 0)) return std::nullopt;
    return it->second;
}

std::map<std::string, double> perLaunchCounters(const KernelAggregate& k)
{
    std::map<std::string, double> out;
    for (const auto& [name, v] : k.counters) {
        auto n = k.counterLaunches.find(name);
        const std::uint64_t launches = n != k.counterLaunches.end() && n->second ? n->second : k.replayed;
        if (launches > 0) out[name] = v / static_cast<double>(launches);
    }
    return out;
}

ProfilePeaks profilePeaks(const Profile& profile, std::int64_t device, std::string_view nameContains)
{
    ProfilePeaks out;
    double longest = -1;
    for (const KernelAggregate& k : profile.aggregateKernels(false)) {
        if (k.device != device || k.replayed == 0 || k.count == 0) continue;
        if (!nameContains.empty() && k.name.find(nameContains) == std::string::npos) continue;
        const auto perLaunch = perLaunchCounters(k);
        auto peaks = counterPeaks(perLaunch);
        const double mean = static_cast<double>(k.durationNs) / static_cast<double>(k.count);
        if (peaks.empty() || mean <= longest) continue;
        longest = mean;
        out.peaks = std::move(peaks);
        out.smHz = counterSmClock(perLaunch);
        out.kernel = k.name;
    }
    return out;
}

int attachCounterPeaks(
    MachineModel& model, int index, const std::vector<CounterPeak>& peaks, std::optional<double> smHz)
{
    const std::string device = fmt::format("gpu{}", index);
    auto find
        = [&](bool compute, std::string_view key, std::initializer_list<std::string_view> pipes) -> const CounterPeak* {
        for (std::string_view pipe : pipes)
            for (const CounterPeak& p : peaks)
                if (p.compute == compute && (compute ? p.precision == key && p.pipe == pipe : p.level == key))
                    return &p;
        return nullptr;
    };
    int set = 0;
    for (Ceiling& c : model.ceilings) {
        if (c.device != device) continue;
        const CounterPeak* p = nullptr;
        if (c.kind == CeilingKind::Compute)
            p = c.variant == "fma"      ? find(true, c.precision, { "fma" })
                : c.variant == "tensor" ? find(true, c.precision, { "hmma", "tensor" })
                : c.variant == "cublas" ? find(true, c.precision, { "hgmma", "tensor" })
                                        : nullptr;
        else if (c.kind == CeilingKind::Bandwidth)
            p = find(false, c.level, { "" });
        if (!p) continue;
        c.counterTheoretical = p->value;
        c.counterTheoreticalMethod = p->method;
        ++set;
    }
    for (GpuInfo& g : model.gpus)
        if (g.index == index && smHz) g.smCounterHz = *smHz;
    return set;
}

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

namespace {

/// The rules of each metric name, in the table's order (built once: deriveWork runs per kernel and per sampled
/// launch, and looking every rule up by a fresh std::string cost a quarter of a million-launch report).
const std::unordered_map<std::string_view, std::vector<const MetricRule*>>& rulesByMetric()
{
    static const auto index = [] {
        std::unordered_map<std::string_view, std::vector<const MetricRule*>> m;
        for (const MetricRule& r : metricRules())
            m[r.metric].push_back(&r);
        return m;
    }();
    return index;
}

} // namespace

DerivedWork deriveWork(const std::map<std::string, double>& counters, std::string_view arch)
{
    DerivedWork out;
    // The rules that apply, with their counter's value; then per target (flop class or level) the lowest group
    // with a counter present.
    std::vector<std::pair<const MetricRule*, double>> present;
    const auto& byMetric = rulesByMetric();
    for (const auto& [name, v] : counters) {
        bool read = false;
        if (auto it = byMetric.find(std::string_view(name)); it != byMetric.end())
            for (const MetricRule* r : it->second)
                if (archMatches(r->archs, arch)) {
                    present.emplace_back(r, v);
                    read = true;
                }
        if (!read && !peakCounter(name)) out.unused.push_back(name);
    }
    // Table order, as sums were always formed (the same last bits of every value).
    std::sort(present.begin(), present.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    using Target = std::tuple<MetricTarget, std::string_view, bool>;
    auto targetOf = [](const MetricRule& r) {
        return r.target == MetricTarget::Flops ? Target { r.target, r.precision, r.tensor }
            : r.target == MetricTarget::Bytes  ? Target { r.target, r.level, false }
                                               : Target { r.target, {}, false };
    };
    std::map<Target, int> chosen;
    for (const auto& [r, v] : present) {
        auto [it, inserted] = chosen.try_emplace(targetOf(*r), r->group);
        if (!inserted) it->second = std::min(it->second, r->group);
    }
    for (const auto& [r, v] : present) {
        if (chosen.at(targetOf(*r)) != r->group) continue; // another group counts the same work
        const double w = v * r->weight;
        switch (r->target) {
        case MetricTarget::Flops:
            out.flops[{ std::string(r->precision), r->tensor }] += w;
            break;
        case MetricTarget::Bytes:
            out.bytes[std::string(r->level)] += w;
            break;
        case MetricTarget::Time:
            out.seconds = out.seconds.value_or(0) + w;
            break;
        }
    }
    if (arch == "sm_70") return out; // Volta's tensor-pipe instructions are its tensor FLOPs (the table above)
    auto value = [&](const char* name) {
        auto it = counters.find(name);
        return it == counters.end() ? 0.0 : it->second;
    };
    // `HFMA2.MMA Rd, -RZ, RZ, imm` is how the compiler loads a constant into a register: fp32 and fp64 kernels
    // run one or more per thread (every Tier-1 kernel on the H200 but the fp64 GEMMs: triad one per thread and one
    // tensor-pipe instruction per warp, 3 % of its FLOPs). It counts as an fp16 FMA and issues to the tensor pipe.
    // Where every HFMA could be such a move (at most 32 per tensor-pipe instruction, no HADD or HMUL, no tensor
    // operation counted) beside fp32 or fp64 work, it is no arithmetic: left out of the FLOPs.
    const double hfma = value("smsp__sass_thread_inst_executed_op_hfma_pred_on.sum");
    const double pipe = value("sm__inst_executed_pipe_tensor.sum");
    double tensorOps = 0, wide = 0;
    for (const auto& [cls, v] : out.flops) {
        if (cls.tensor) tensorOps += v;
        if (!cls.tensor && (cls.precision == "fp32" || cls.precision == "fp64")) wide += v;
    }
    auto fp16 = out.flops.find({ "fp16", false });
    if (hfma > 0 && hfma <= 32 * pipe && value("smsp__sass_thread_inst_executed_op_hadd_pred_on.sum") == 0
        && value("smsp__sass_thread_inst_executed_op_hmul_pred_on.sum") == 0 && tensorOps == 0 && wide > 0
        && fp16 != out.flops.end()) {
        fp16->second = 0;
        out.hfmaMoves = hfma;
    }
    // The tensor pipe also ran the HFMA2.MMA (moves or arithmetic); what is left over is tensor work, which no
    // counted operation explains when none was counted.
    if (tensorOps == 0 && pipe - hfma / 32 > 0.01 * pipe) out.tensorUncounted = pipe - hfma / 32;
    return out;
}

} // namespace rooftime::analyzer
