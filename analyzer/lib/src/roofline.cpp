// SPDX-License-Identifier: MIT
#include "rooftime/analyzer/roofline.h"

#include <algorithm>

namespace rooftime::analyzer {

const char* limiterKindName(LimiterKind kind)
{
    switch (kind) {
    case LimiterKind::Compute:
        return "compute";
    case LimiterKind::Memory:
        return "memory";
    case LimiterKind::Launch:
        return "launch";
    case LimiterKind::Latency:
        return "latency";
    case LimiterKind::Unknown:
        return "unknown";
    }
    return "?";
}

double Item::totalFlops() const
{
    double f = 0;
    for (const auto& [cls, v] : flops)
        f += v;
    return f;
}

Item& Item::operator+=(const Item& o)
{
    for (const auto& [cls, v] : o.flops)
        flops[cls] += v;
    for (const auto& [lvl, v] : o.bytes)
        bytes[lvl] += v;
    seconds += o.seconds;
    count += o.count;
    countsLaunches = countsLaunches || o.countsLaunches;
    auto add = [](std::optional<double>& a, const std::optional<double>& b) {
        if (b) a = a.value_or(0) + *b;
    };
    add(declaredFlops, o.declaredFlops);
    add(declaredBytes, o.declaredBytes);
    return *this;
}

Roofs Roofs::fromMachine(const MachineModel& model, const std::string& device)
{
    Roofs r;
    for (const Ceiling& c : model.ceilings) {
        if (!c.roof || c.device != device) continue;
        switch (c.kind) {
        case CeilingKind::Compute:
            r.peak[{ c.precision, c.tensor() }] = c.value;
            break;
        case CeilingKind::Bandwidth:
            r.bandwidth[c.level] = c.value;
            break;
        case CeilingKind::Launch:
            r.launchSeconds = c.value;
            break;
        }
    }
    return r;
}

Analysis analyze(const Item& item, const Roofs& roofs, const ModelOptions& options)
{
    Analysis a;
    const double f = item.totalFlops();
    // Compute time per class; under the dominant convention only the class with the most FLOPs counts.
    const FlopClass* dominant = nullptr;
    double most = -1;
    for (const auto& [cls, v] : item.flops)
        if (v > most) {
            most = v;
            dominant = &cls;
        }
    std::string computeTerm;
    double largestCompute = -1;
    for (const auto& [cls, v] : item.flops) {
        if (v <= 0) continue;
        auto peak = roofs.peak.find(cls);
        if (peak == roofs.peak.end() || peak->second <= 0) {
            a.missingRoofs.push_back(cls.label());
            continue;
        }
        const double t = v / peak->second;
        a.computeSeconds[cls] = t;
        if (options.convention == ComputeConvention::Sum || &cls == dominant) a.computeTime += t;
        if (t > largestCompute) {
            largestCompute = t;
            computeTerm = cls.label();
        }
    }
    std::string memoryTerm;
    for (const auto& [level, q] : item.bytes) {
        if (q <= 0) continue;
        if (f > 0) a.intensity[level] = f / q;
        auto bw = roofs.bandwidth.find(level);
        if (bw == roofs.bandwidth.end() || bw->second <= 0) {
            a.missingRoofs.push_back(level);
            continue;
        }
        const double t = q / bw->second;
        a.memorySeconds[level] = t;
        if (t > a.memoryTime) {
            a.memoryTime = t;
            memoryTerm = level;
        }
    }
    a.roofSeconds = std::max(a.computeTime, a.memoryTime);
    if (item.countsLaunches && roofs.launchSeconds > 0)
        a.floorSeconds = static_cast<double>(item.count) * roofs.launchSeconds;
    a.boundSeconds = std::max(a.roofSeconds, a.floorSeconds);
    if (item.seconds > 0 && !item.flops.empty()) a.flopsPerSecond = f / item.seconds; // no FLOPs known: no rate
    if (item.declaredFlops && *item.declaredFlops > 0 && f > 0) a.executedOverDeclared = f / *item.declaredFlops;

    if (a.boundSeconds <= 0) {
        a.lostSeconds = 0;
        return a; // no work with a roof and no launches: nothing bounds this item
    }
    // Without any work that has a roof (time mode, lost counter values, a class the model lacks) only the launch
    // floor is known. It decides the bound where the device time is at or below it: launch-bound whatever the
    // work. Above it the work's roof may be anywhere in between, so efficiency, lost time and limiter are unknown.
    if (!a.workHasRoof() && !(item.seconds > 0 && item.seconds <= a.floorSeconds)) return a;
    if (a.floorSeconds >= a.roofSeconds) {
        a.bindingKind = LimiterKind::Launch;
        a.bindingTerm = "launch";
    } else if (a.computeTime >= a.memoryTime) {
        a.bindingKind = LimiterKind::Compute;
        a.bindingTerm = computeTerm;
    } else {
        a.bindingKind = LimiterKind::Memory;
        a.bindingTerm = memoryTerm;
    }
    if (item.seconds > 0) {
        const double e = a.boundSeconds / item.seconds;
        // Only the work's roof can be beaten by a wrong ceiling or counter. Device time below the launch floor is
        // what the paper calls launch-bound: the GPU ran each kernel faster than the next one could be launched.
        a.aboveRoof = a.roofSeconds / item.seconds > 1.02;
        a.efficiency = std::min(e, 1.0);
        a.lostSeconds = std::max(0.0, item.seconds - a.boundSeconds);
        a.limiter = e < options.latencyThreshold ? LimiterKind::Latency : a.bindingKind;
    }
    return a;
}

} // namespace rooftime::analyzer
