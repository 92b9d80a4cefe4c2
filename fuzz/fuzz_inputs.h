// SPDX-License-Identifier: MIT
// What each fuzz target does with one input, shared with tests/unit/test_fuzz_regressions.cpp so that a kept
// regression input runs exactly the fuzzed code path. Each function returns "" when the input was accepted and
// the typed error's message when it was refused; any other exception (or a crash) is a bug and escapes.
#pragma once

#include "rooftime/analyzer/compare.h"
#include "rooftime/analyzer/format.h"
#include "rooftime/analyzer/machine.h"
#include "rooftime/analyzer/ncu_import.h"
#include "rooftime/analyzer/profile.h"
#include "rooftime/analyzer/report.h"
#include "rooftime/analyzer/roofline.h"
#include "rooftime/analyzer/trace.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace rooftime::fuzz {

/// What `rooftime report`, `compare` and `export` do with a profile: open it; the report by range, kernel, 1 ms
/// windows, call path, rank, each ranked by lost time and printed as text, JSON and CSV; the profile compared with
/// itself by kernel, range and call path in every format; the Chrome trace, which must parse as JSON.
inline std::string reportProfile(const std::string& path)
{
    using namespace rooftime::analyzer;
    try {
        std::vector<Profile> profiles;
        profiles.push_back(Profile::open(path));
        for (ReportBy by :
            { ReportBy::Range, ReportBy::Kernel, ReportBy::Window, ReportBy::Callpath, ReportBy::Rank }) {
            ReportOptions options;
            options.by = by;
            options.windowSeconds = 1e-3;
            Report report = buildReport(profiles, nullptr, options);
            sortRows(report, SortKey::Lost);
            for (OutputFormat f : { OutputFormat::Text, OutputFormat::Json, OutputFormat::Csv })
                (void)formatReport(report, f, { 0, 120 });
        }
        for (ReportBy by : { ReportBy::Kernel, ReportBy::Range, ReportBy::Callpath }) {
            CompareOptions options;
            options.by = by;
            const Comparison c = compareRuns(profiles, profiles, options);
            for (CompareFormat f :
                { CompareFormat::Text, CompareFormat::Markdown, CompareFormat::Junit, CompareFormat::Json })
                (void)formatComparison(c, f, {});
        }
        std::ostringstream trace;
        TraceOptions traceOptions;
        traceOptions.bins = 50;
        (void)writeChromeTrace(profiles, nullptr, traceOptions, trace);
        // Invalid JSON is a bug, not the expected answer to a bad file: it escapes as another exception.
        if (!nlohmann::json::accept(trace.str())) throw std::logic_error("rooftime export wrote invalid JSON");
        return {};
    } catch (const ProfileError& e) {
        return e.what();
    } catch (const MachineError& e) {
        return e.what();
    }
}

/// A valid GPU model (the shape of fuzz/corpus/machine/gpu-model.json) for measurements to merge into.
inline analyzer::MachineModel validGpuModel()
{
    static const analyzer::MachineModel model = analyzer::parseMachine(
        R"({"format": "rooftime-machine", "version": "1.0", "created": "2026-11-27T00:00:00Z",
  "host": {"name": "gpu-node"}, "cpu": {"model": "CPU", "logical_cpus": 16},
  "ceilings": [
    {"device": "cpu", "kind": "compute", "precision": "fp64", "variant": "fma", "value": 1e11, "roof": true},
    {"device": "cpu", "kind": "bandwidth", "level": "DRAM", "pattern": "triad", "value": 2e10, "roof": true},
    {"device": "gpu0", "kind": "compute", "precision": "fp32", "variant": "fma", "value": 50e12, "roof": true},
    {"device": "gpu0", "kind": "bandwidth", "level": "HBM", "pattern": "read", "value": 3e12, "roof": true},
    {"device": "gpu0", "kind": "launch", "variant": "back_to_back", "value": 2e-6, "roof": true}]})",
        "fuzz-base.json");
    return model;
}

/// The text as a machine file (parse, roofs, every printed form) and as a GPU measurement merged into a valid
/// model. Returns the errors of both, "" when both accepted it.
inline std::string readMachineText(std::string_view text, const std::string& origin)
{
    using namespace rooftime::analyzer;
    std::string errors;
    try {
        MachineModel m = parseMachine(text, origin);
        markRoofs(m);
        (void)serializeMachine(m);
        (void)formatMachineText(m);
        (void)machineSummary(m);
        (void)Roofs::fromMachine(m, "cpu");
        (void)identityMismatches(m, HardwareIdentity {});
    } catch (const MachineError& e) {
        errors += e.what();
    }
    try {
        MachineModel m = validGpuModel();
        mergeGpuMeasurement(m, text, origin);
        markRoofs(m);
        (void)serializeMachine(m);
        (void)formatMachineText(m);
        (void)machineSummary(m);
        (void)Roofs::fromMachine(m, "gpu0");
    } catch (const MachineError& e) {
        errors += (errors.empty() ? "" : "; ") + std::string(e.what());
    }
    return errors;
}

/// `rooftime import ncu CSV -o OUT [--arch ARCH]`, then the kernel report of the imported profile. OUT must not
/// exist and is removed afterwards.
inline std::string importNcuCsv(const std::string& csv, const std::string& out, const std::string& arch)
{
    using namespace rooftime::analyzer;
    std::string error;
    try {
        importNcu({ csv }, out, NcuImportOptions { arch });
        std::vector<Profile> profiles;
        profiles.push_back(Profile::open(out));
        ReportOptions options;
        options.by = ReportBy::Kernel;
        Report report = buildReport(profiles, nullptr, options);
        for (OutputFormat f : { OutputFormat::Text, OutputFormat::Json, OutputFormat::Csv })
            (void)formatReport(report, f, { 0, 120 });
    } catch (const ImportError& e) {
        error = e.what();
    }
    std::remove(out.c_str());
    return error;
}

} // namespace rooftime::fuzz
