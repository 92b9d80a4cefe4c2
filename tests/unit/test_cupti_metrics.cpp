// SPDX-License-Identifier: MIT
// The counter names the CUPTI backend asks for and the ones the analyzer reads, checked offline with the CUPTI
// host API (no GPU, no driver: cuptiProfilerHostInitialize accepts a bare chip name), with pass counts.
#include "metric_sets.h"
#include "rooftime/analyzer/metrics.h"

#include <catch2/catch.hpp>
#include <cupti_profiler_host.h>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace {

/// A CUPTI parameter struct: zeroed, with its size set.
template <typename T> T params(std::size_t size)
{
    T p {};
    p.structSize = size;
    return p;
}

struct Chip {
    const char* name;
    const char* arch;
};
// One chip per architecture of the analyzer's table (sm_70 has no CUPTI 13 support).
constexpr Chip kChips[]
    = { { "GH100", "sm_90" }, { "GA100", "sm_80" }, { "TU102", "sm_75" }, { "GA102", "sm_86" }, { "AD102", "sm_89" } };

class HostObject {
public:
    explicit HostObject(const char* chip)
    {
        auto p = params<CUpti_Profiler_Host_Initialize_Params>(CUpti_Profiler_Host_Initialize_Params_STRUCT_SIZE);
        p.profilerType = CUPTI_PROFILER_TYPE_RANGE_PROFILER;
        p.pChipName = chip;
        m_rc = cuptiProfilerHostInitialize(&p);
        m_object = p.pHostObject;
    }
    ~HostObject()
    {
        if (!m_object) return;
        auto p = params<CUpti_Profiler_Host_Deinitialize_Params>(CUpti_Profiler_Host_Deinitialize_Params_STRUCT_SIZE);
        p.pHostObject = m_object;
        cuptiProfilerHostDeinitialize(&p);
    }
    HostObject(const HostObject&) = delete;
    HostObject& operator=(const HostObject&) = delete;
    CUptiResult rc() const { return m_rc; }

    bool valid(const char* metric)
    {
        auto p = params<CUpti_Profiler_Host_GetMetricProperties_Params>(
            CUpti_Profiler_Host_GetMetricProperties_Params_STRUCT_SIZE);
        p.pHostObject = m_object;
        p.pMetricName = metric;
        return cuptiProfilerHostGetMetricProperties(&p) == CUPTI_SUCCESS;
    }

    /// Passes for this set (0 on error).
    std::size_t passes(std::vector<const char*> metrics)
    {
        auto add = params<CUpti_Profiler_Host_ConfigAddMetrics_Params>(
            CUpti_Profiler_Host_ConfigAddMetrics_Params_STRUCT_SIZE);
        add.pHostObject = m_object;
        add.ppMetricNames = metrics.data();
        add.numMetrics = metrics.size();
        if (cuptiProfilerHostConfigAddMetrics(&add) != CUPTI_SUCCESS) return 0;
        auto size = params<CUpti_Profiler_Host_GetConfigImageSize_Params>(
            CUpti_Profiler_Host_GetConfigImageSize_Params_STRUCT_SIZE);
        size.pHostObject = m_object;
        if (cuptiProfilerHostGetConfigImageSize(&size) != CUPTI_SUCCESS) return 0;
        std::vector<std::uint8_t> image(size.configImageSize);
        auto get
            = params<CUpti_Profiler_Host_GetConfigImage_Params>(CUpti_Profiler_Host_GetConfigImage_Params_STRUCT_SIZE);
        get.pHostObject = m_object;
        get.configImageSize = image.size();
        get.pConfigImage = image.data();
        if (cuptiProfilerHostGetConfigImage(&get) != CUPTI_SUCCESS) return 0;
        auto n
            = params<CUpti_Profiler_Host_GetNumOfPasses_Params>(CUpti_Profiler_Host_GetNumOfPasses_Params_STRUCT_SIZE);
        n.configImageSize = image.size();
        n.pConfigImage = image.data();
        if (cuptiProfilerHostGetNumOfPasses(&n) != CUPTI_SUCCESS) return 0;
        return n.numOfPasses;
    }

private:
    CUptiResult m_rc = CUPTI_ERROR_UNKNOWN;
    CUpti_Profiler_Host_Object* m_object = nullptr;
};

/// The Tier-1 names a chip knows, as the backend keeps them.
std::vector<const char*> tier1For(HostObject& host)
{
    std::vector<const char*> out;
    for (const char* m : rooftime::cupti::kTier1)
        if (host.valid(m)) out.push_back(m);
    return out;
}

/// The Tier-2 names a chip knows, as the backend builds them (Hopper's op-level extras on GH*, else source-level).
std::vector<const char*> tier2For(HostObject& host, const std::string& chip)
{
    std::vector<const char*> out = tier1For(host);
    const bool hopper = chip.rfind("GH", 0) == 0;
    const auto& extras = hopper
        ? std::vector<const char*>(rooftime::cupti::kTier2Hopper.begin(), rooftime::cupti::kTier2Hopper.end())
        : std::vector<const char*>(
            rooftime::cupti::kTier2BeforeHopper.begin(), rooftime::cupti::kTier2BeforeHopper.end());
    for (const char* m : extras)
        if (host.valid(m)) out.push_back(m);
    return out;
}

} // namespace

TEST_CASE("Tier 1: every name is valid on GH100 and the set takes 2 passes")
{
    HostObject host("GH100");
    REQUIRE(host.rc() == CUPTI_SUCCESS);
    std::vector<const char*> all;
    for (const char* m : rooftime::cupti::kTier1) {
        INFO(m);
        CHECK(host.valid(m));
        all.push_back(m);
    }
    CHECK(all.size() == 19);
    CHECK(host.passes(all) == 2);
}

TEST_CASE("Tier 1 on GA100: only the Hopper tensor counters are dropped, 2 passes")
{
    HostObject host("GA100");
    REQUIRE(host.rc() == CUPTI_SUCCESS);
    const std::set<std::string> hopperOnly { "sm__ops_path_tensor_op_hgmma_src_fp16.sum",
        "sm__ops_path_tensor_op_hgmma_src_bf16_dst_fp32.sum", "sm__ops_path_tensor_src_fp8.sum" };
    for (const char* m : rooftime::cupti::kTier1) {
        INFO(m);
        CHECK(host.valid(m) == !hopperOnly.count(m));
    }
    const auto kept = tier1For(host);
    CHECK(kept.size() == rooftime::cupti::kTier1.size() - hopperOnly.size());
    CHECK(host.passes(kept) == 2);
}

TEST_CASE("Analyzer counter table: every rule names a valid counter of its chip (sm_90, sm_80, sm_75, sm_86, sm_89)")
{
    for (const Chip& chip : kChips) {
        HostObject host(chip.name);
        REQUIRE(host.rc() == CUPTI_SUCCESS);
        std::vector<const char*> names;
        for (const auto& rule : rooftime::analyzer::metricRules()) {
            if (!rooftime::analyzer::ruleApplies(rule, chip.arch)) continue;
            const std::string name(rule.metric);
            INFO(chip.name << " " << name);
            CHECK(host.valid(name.c_str()));
            names.push_back(rule.metric.data());
        }
        CHECK(names.size() >= 13);
        // Everything the analyzer can read, in one configuration: it can be collected (passes > 0).
        std::vector<const char*> valid;
        for (const char* n : names)
            if (host.valid(n)) valid.push_back(n);
        INFO(chip.name);
        CHECK(host.passes(valid) > 0);
    }
}

TEST_CASE("Tier 2: mma.sync tensor work on GH100 in 4 passes, source-level tensor work before Hopper")
{
    // Every extra name exists on the chips it is meant for, and costs what metric_sets.h says.
    const std::pair<const char*, std::size_t> expected[]
        = { { "GH100", 4 }, { "GA100", 6 }, { "GA102", 6 }, { "AD102", 6 }, { "TU102", 2 } };
    for (const auto& [chip, passes] : expected) {
        HostObject host(chip);
        REQUIRE(host.rc() == CUPTI_SUCCESS);
        const auto t1 = tier1For(host);
        const auto t2 = tier2For(host, chip);
        INFO(chip);
        // Turing knows only fp16->fp16 of the source-level counters; Hopper gets its three op-level ones.
        const std::string c = chip;
        CHECK(t2.size() - t1.size() == (c == "TU102" ? 1u : c == "GH100" ? 3u : 4u));
        CHECK(host.passes(t2) == passes);
    }
    HostObject gh("GH100");
    for (const char* m : rooftime::cupti::kTier2Hopper) {
        INFO(m);
        CHECK(gh.valid(m));
    }
    HostObject ga("GA100");
    for (const char* m : rooftime::cupti::kTier2BeforeHopper) {
        INFO(m);
        CHECK(ga.valid(m));
    }
}

TEST_CASE("Every Tier-1 and Tier-2 counter is read by an analyzer rule of its chip")
{
    // Kept raw on purpose: after Volta it says how busy the tensor pipe was, not how many FLOPs it did.
    const std::set<std::string> rawOnly { "sm__inst_executed_pipe_tensor.sum" };
    for (const Chip& chip : kChips) {
        HostObject host(chip.name);
        REQUIRE(host.rc() == CUPTI_SUCCESS);
        for (const char* m : tier2For(host, chip.name)) {
            if (rawOnly.count(m)) continue;
            bool read = false;
            for (const auto& rule : rooftime::analyzer::metricRules())
                read = read || (rule.metric == m && rooftime::analyzer::ruleApplies(rule, chip.arch));
            INFO(chip.name << " " << m);
            CHECK(read);
        }
    }
}

namespace {
/// The peaks and clocks the backend asks for on @p chip (kPeaks and the tensor peaks of its generation), as it
/// keeps them: the names the chip knows.
std::vector<const char*> peaksFor(HostObject& host, const std::string& chip)
{
    std::vector<const char*> all(rooftime::cupti::kPeaks.begin(), rooftime::cupti::kPeaks.end());
    if (chip.rfind("GH", 0) == 0)
        all.insert(all.end(), rooftime::cupti::kPeaksHopper.begin(), rooftime::cupti::kPeaksHopper.end());
    else
        all.insert(all.end(), rooftime::cupti::kPeaksBeforeHopper.begin(), rooftime::cupti::kPeaksBeforeHopper.end());
    std::vector<const char*> out;
    for (const char* m : all)
        if (host.valid(m)) out.push_back(m);
    return out;
}

/// Passes of @p metrics on a fresh host object (one keeps every metric ever added to it).
std::size_t passesOn(const char* chip, const std::vector<const char*>& metrics)
{
    HostObject host(chip);
    return host.passes(metrics);
}
} // namespace

TEST_CASE("Peaks and clocks: one pass alone, no extra pass with Tier 1 but on Turing, every one read")
{
    // chip, peaks known, Tier 1 + peaks passes, Tier 2 + peaks passes
    struct Expect {
        const char* chip;
        std::size_t known, tier1, tier2;
    };
    const Expect expected[] = { { "GH100", 17, 2, 4 }, { "GA100", 14, 2, 6 }, { "GA102", 14, 2, 6 },
        { "AD102", 14, 3, 6 }, { "TU102", 10, 3, 3 } };
    for (const auto& e : expected) {
        HostObject host(e.chip);
        REQUIRE(host.rc() == CUPTI_SUCCESS);
        INFO(e.chip);
        const auto peaks = peaksFor(host, e.chip);
        CHECK(peaks.size() == e.known);
        // what `--counter-set peaks` collects
        std::vector<const char*> alone { "gpu__time_duration.sum" };
        alone.insert(alone.end(), peaks.begin(), peaks.end());
        CHECK(passesOn(e.chip, alone) == 1);
        auto t1 = tier1For(host);
        const std::size_t t1Passes = passesOn(e.chip, t1);
        t1.insert(t1.end(), peaks.begin(), peaks.end());
        CHECK(passesOn(e.chip, t1) == e.tier1);
        // The backend's rule: they join Tier 1 only where they add no pass (all but Turing; AD102's Tier 1 takes 3).
        CHECK((e.tier1 == t1Passes) == (std::string(e.chip) != "TU102"));
        auto t2 = tier2For(host, e.chip);
        t2.insert(t2.end(), peaks.begin(), peaks.end());
        CHECK(passesOn(e.chip, t2) == e.tier2);
    }
    // Every name of the lists exists on the generation it is listed for.
    HostObject gh("GH100"), ga("GA100");
    for (const char* m : rooftime::cupti::kPeaks) {
        INFO(m);
        CHECK(gh.valid(m));
        CHECK(ga.valid(m));
    }
    for (const char* m : rooftime::cupti::kPeaksHopper) {
        INFO(m);
        CHECK(gh.valid(m));
    }
    for (const char* m : rooftime::cupti::kPeaksBeforeHopper) {
        INFO(m);
        CHECK(ga.valid(m));
    }
    // The analyzer's peak table reads every one: each .peak_sustained with all clocks present gives a peak.
    std::map<std::string, double> clocks;
    for (const char* m : rooftime::cupti::kPeaks)
        if (std::string(m).ends_with(".per_second")) clocks[m] = 1e9;
    CHECK(clocks.size() == 4);
    auto eachRead = [&](const auto& list) {
        for (const char* m : list) {
            if (!std::string(m).ends_with(".peak_sustained")) continue;
            auto one = clocks;
            one[m] = 1;
            INFO(m);
            CHECK(rooftime::analyzer::counterPeaks(one).size() == 1);
        }
    };
    eachRead(rooftime::cupti::kPeaks);
    eachRead(rooftime::cupti::kPeaksHopper);
    eachRead(rooftime::cupti::kPeaksBeforeHopper);
}
