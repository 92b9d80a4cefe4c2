// SPDX-License-Identifier: MIT
#include "rooftime/analyzer/format.h"
#include "rooftime/analyzer/machine.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

namespace rooftime::analyzer {
namespace {

std::string valueText(const Ceiling& c)
{
    if (c.kind == CeilingKind::Launch) return humanSeconds(c.value);
    return siValue(c.value) + c.unit;
}

std::string what(const Ceiling& c)
{
    switch (c.kind) {
    case CeilingKind::Compute:
        return c.precision + " " + c.variant;
    case CeilingKind::Bandwidth:
        return c.level + " " + c.pattern;
    case CeilingKind::Launch:
        return "launch " + c.variant;
    }
    return {};
}

std::vector<std::string> devices(const MachineModel& m)
{
    std::vector<std::string> out;
    for (const auto& c : m.ceilings)
        if (std::find(out.begin(), out.end(), c.device) == out.end()) out.push_back(c.device);
    return out;
}

std::string deviceTitle(const MachineModel& m, const std::string& device)
{
    if (device == "cpu")
        return fmt::format("{}, {} CPU{}", m.cpu.model.empty() ? "CPU" : m.cpu.model, m.cpu.logicalCpus,
            m.cpu.logicalCpus == 1 ? "" : "s");
    for (const auto& g : m.gpus)
        if (fmt::format("gpu{}", g.index) == device) return fmt::format("{} {}", device, g.name);
    return device;
}

} // namespace

std::string machineSummary(const MachineModel& m, bool withRoofs)
{
    std::vector<std::string> parts;
    for (const auto& device : devices(m)) {
        if (!withRoofs) {
            parts.push_back(deviceTitle(m, device));
            continue;
        }
        std::vector<std::string> roofs;
        for (auto kind : { CeilingKind::Compute, CeilingKind::Bandwidth, CeilingKind::Launch })
            for (const auto& c : m.ceilings)
                if (c.roof && c.device == device && c.kind == kind)
                    roofs.push_back(fmt::format("{} {}",
                        kind == CeilingKind::Compute         ? c.precision + (c.tensor() ? " tensor" : "")
                            : kind == CeilingKind::Bandwidth ? c.level
                                                             : std::string("launch"),
                        valueText(c)));
        parts.push_back(fmt::format("{}: {}", deviceTitle(m, device), fmt::join(roofs, ", ")));
    }
    return fmt::format(
        "{}; {} model of {}", fmt::join(parts, "; "), m.mode.empty() ? "a" : m.mode, m.created.substr(0, 10));
}

std::string formatMachineText(const MachineModel& m)
{
    std::string out;
    out += fmt::format("machine model: {}\n", m.origin);
    // A datasheet file (tests, examples) measured nothing on no host: said so, and its empty fields left out.
    const bool datasheet = m.mode == "datasheet";
    if (datasheet)
        out += fmt::format(
            "  written {} by rooftime {}: datasheet values, not measured\n", m.created, m.rooftimeVersion);
    else
        out += fmt::format("  measured {} by rooftime {} ({} mode) on host {}, {}\n", m.created, m.rooftimeVersion,
            m.mode, m.identity.host, m.os);
    if (m.cpu.logicalCpus > 0) {
        out += fmt::format("  CPU: {} ({}), {} logical CPUs, {} cores, {} socket{}; flags: {}\n", m.cpu.model,
            m.cpu.vendor, m.cpu.logicalCpus, m.cpu.cores, m.cpu.sockets, m.cpu.sockets == 1 ? "" : "s",
            fmt::join(m.cpu.flags, " "));
        out += fmt::format("  clock: {}, nominal {}\n",
            m.cpu.measuredHz > 0 ? fmt::format("{:.3f} GHz measured (1 core)", m.cpu.measuredHz / 1e9)
                                 : std::string("not measured (GPUs only)"),
            m.cpu.nominalHz > 0 ? fmt::format("{:.3f} GHz", m.cpu.nominalHz / 1e9) : "unknown");
    } else {
        out += "  CPU: not described\n";
    }
    // Files from before the clock loop was fixed (a VM's timer skewed it: 8.862 GHz on a 2.1 GHz Xeon) carry
    // theoretical CPU peaks scaled by the same error.
    // (Nominal clocks say little: laptop parts boost to four times theirs.)
    if (m.cpu.measuredHz > 6.5e9)
        out += fmt::format("  warning: the measured clock {:.3f} GHz is implausible (no CPU runs above 6.5 GHz): the "
                           "theoretical CPU peaks below, derived from it, are too high by as much; measure again "
                           "with `rooftime ceilings`\n",
            m.cpu.measuredHz / 1e9);
    std::vector<std::string> caches;
    for (const auto& c : m.cpu.caches)
        caches.push_back(fmt::format("L{} {} ×{}", c.level, humanBytes(c.bytes), c.instances));
    if (!caches.empty()) out += fmt::format("  caches: {}\n", fmt::join(caches, ", "));
    for (const auto& g : m.gpus) {
        // Only what the file knows: a datasheet GPU has a name and an architecture, no driver or clocks.
        std::string line = fmt::format(
            "  gpu{}: {} ({})", g.index, g.name, g.sms > 0 ? fmt::format("{}, {} SMs", g.arch, g.sms) : g.arch);
        if (!g.driverVersion.empty())
            line += fmt::format(
                ", driver {}CUDA {}", g.nvidiaDriver.empty() ? "" : g.nvidiaDriver + " for ", g.driverVersion);
        if (!g.runtimeVersion.empty()) line += ", runtime " + g.runtimeVersion;
        if (g.smMeasuredHz > 0 || g.smMaxHz > 0)
            line += fmt::format(
                ", SM clock {:.3f} GHz measured / {:.3f} GHz max", g.smMeasuredHz / 1e9, g.smMaxHz / 1e9);
        if (g.memoryBytes > 0) line += ", memory " + humanBytes(g.memoryBytes);
        out += line + "\n"
            + (g.smCounterHz > 0 ? fmt::format("  (SM clock under counters: {:.3f} GHz)\n", g.smCounterHz / 1e9) : "");
    }
    for (const auto& device : devices(m)) {
        out += fmt::format("\n{}\n", deviceTitle(m, device));
        // GPUs whose counter probe ran: the counters' theoretical value in its own column.
        const bool counters = std::any_of(m.ceilings.begin(), m.ceilings.end(),
            [&](const Ceiling& c) { return c.device == device && c.counterTheoretical; });
        out += fmt::format("  {:<22} {:>7} {:>14} {:>14} {:>6}{}  {}\n", "ceiling", "threads",
            datasheet ? "datasheet" : "measured", "theoretical", "ratio",
            counters ? fmt::format(" {:>14} {:>6}", "counters", "ratio") : "", "working set / roof");
        for (auto kind : { CeilingKind::Compute, CeilingKind::Bandwidth, CeilingKind::Launch })
            for (const auto& c : m.ceilings) {
                if (c.device != device || c.kind != kind) continue;
                std::string extra;
                if (c.workingSet)
                    extra = fmt::format("{}–{}", humanBytes(c.workingSet->first), humanBytes(c.workingSet->second));
                if (c.roof) extra += extra.empty() ? "roof" : "  roof";
                if (c.crossCheck) extra += extra.empty() ? "cross-check" : "  cross-check";
                if (c.theoreticalAtMeasuredClock && *c.theoreticalAtMeasuredClock > 0)
                    extra += fmt::format("{}{:.0f}% of {} at the measured clock", extra.empty() ? "" : "  ",
                        100 * c.value / *c.theoreticalAtMeasuredClock, siValue(*c.theoreticalAtMeasuredClock) + c.unit);
                auto ratio = [&](const std::optional<double>& t) {
                    return t && *t > 0 ? fmt::format("{:.0f}%", 100 * c.value / *t) : std::string("-");
                };
                out += fmt::format("  {:<22} {:>7} {:>14} {:>14} {:>6}{}  {}\n", what(c),
                    c.threads ? std::to_string(c.threads) : "-", valueText(c),
                    c.theoretical ? siValue(*c.theoretical) + c.unit : "-", ratio(c.theoretical),
                    counters ? fmt::format(" {:>14} {:>6}",
                        c.counterTheoretical ? siValue(*c.counterTheoretical) + c.unit : "-",
                        ratio(c.counterTheoretical))
                             : "",
                    extra);
            }
        // A ceiling measured above the GPU's own peak for it cannot be what it claims. Seen on the H200 of
        // session 13: its L2 read sweep (20.6 TB/s) was partly served from L1.
        for (const auto& c : m.ceilings)
            if (c.device == device && c.counterTheoretical && *c.counterTheoretical > 0
                && c.value > 1.05 * *c.counterTheoretical)
                out += fmt::format(
                    "  warning: {} {}: measured {} is {:.0f}% of the GPU's own peak for it ({}, from its "
                    "counters): too high{}\n",
                    device, what(c), valueText(c), 100 * c.value / *c.counterTheoretical,
                    siValue(*c.counterTheoretical) + c.unit,
                    c.kind == CeilingKind::Bandwidth
                        ? "; most likely a faster level served part of its sweep (before session 13 the sweep let "
                          "neighbouring blocks reread each other's data): measure again with `rooftime ceilings "
                          "--gpu`"
                        : "");
    }
    if (!m.notes.empty()) {
        out += "\nnotes:\n";
        for (const auto& n : m.notes)
            out += "  " + n + "\n";
    }
    return out;
}

} // namespace rooftime::analyzer
