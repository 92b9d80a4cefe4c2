// SPDX-License-Identifier: MIT
#include "rooftime/analyzer/machine.h"

#include "rooftime/analyzer/format.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <sched.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace rooftime::analyzer {
namespace fs = std::filesystem;
using nlohmann::json;

std::string_view ceilingKindName(CeilingKind kind)
{
    switch (kind) {
    case CeilingKind::Compute:
        return "compute";
    case CeilingKind::Bandwidth:
        return "bandwidth";
    case CeilingKind::Launch:
        return "launch";
    }
    return "?";
}

namespace {

std::optional<CeilingKind> parseKind(const std::string& s)
{
    for (auto k : { CeilingKind::Compute, CeilingKind::Bandwidth, CeilingKind::Launch })
        if (ceilingKindName(k) == s) return k;
    return std::nullopt;
}

// Typed field access with messages that name the field: "ceilings[3].value: expected a number".
struct Reader {
    const std::string& origin;

    [[noreturn]] void fail(const std::string& where, const std::string& what) const
    {
        throw MachineError(origin, fmt::format("invalid machine file: {}: {}", where, what));
    }
    const json& object(const json& j, const std::string& where) const
    {
        if (!j.is_object()) fail(where, "expected an object");
        return j;
    }
    std::string str(const json& j, const char* key, const std::string& where, bool required = false) const
    {
        auto it = j.find(key);
        if (it == j.end() || it->is_null()) {
            if (required) fail(where + "." + key, "missing");
            return {};
        }
        if (!it->is_string()) fail(where + "." + key, "expected a string");
        return it->get<std::string>();
    }
    double num(const json& j, const char* key, const std::string& where, bool required = false) const
    {
        auto it = j.find(key);
        if (it == j.end() || it->is_null()) {
            if (required) fail(where + "." + key, "missing");
            return 0;
        }
        if (!it->is_number()) fail(where + "." + key, "expected a number");
        const double v = it->get<double>();
        if (!std::isfinite(v)) fail(where + "." + key, "not a finite number");
        return v;
    }
    std::optional<double> optNum(const json& j, const char* key, const std::string& where) const
    {
        auto it = j.find(key);
        if (it == j.end() || it->is_null()) return std::nullopt;
        return num(j, key, where);
    }
    int integer(const json& j, const char* key, const std::string& where) const
    {
        const double v = num(j, key, where);
        if (v < 0 || v > 1e9 || v != std::floor(v)) fail(where + "." + key, "expected a non-negative integer");
        return static_cast<int>(v);
    }
    const json& array(const json& j, const char* key, const std::string& where) const
    {
        static const json empty = json::array();
        auto it = j.find(key);
        if (it == j.end() || it->is_null()) return empty;
        if (!it->is_array()) fail(where + "." + key, "expected an array");
        return *it;
    }
    std::vector<std::string> strings(const json& j, const char* key, const std::string& where) const
    {
        std::vector<std::string> out;
        const json& a = array(j, key, where);
        for (std::size_t i = 0; i < a.size(); ++i) {
            if (!a[i].is_string()) fail(fmt::format("{}.{}[{}]", where, key, i), "expected a string");
            out.push_back(a[i].get<std::string>());
        }
        return out;
    }
};

Ceiling parseCeiling(const Reader& r, const json& j, const std::string& where)
{
    r.object(j, where);
    Ceiling c;
    c.device = r.str(j, "device", where, true);
    const std::string kind = r.str(j, "kind", where, true);
    auto k = parseKind(kind);
    if (!k) r.fail(where + ".kind", "unknown kind '" + kind + "' (compute, bandwidth or launch)");
    c.kind = *k;
    c.precision = r.str(j, "precision", where);
    c.variant = r.str(j, "variant", where);
    c.level = r.str(j, "level", where);
    c.pattern = r.str(j, "pattern", where);
    c.threads = r.integer(j, "threads", where);
    c.value = r.num(j, "value", where, true);
    if (c.value <= 0) r.fail(where + ".value", "must be positive");
    c.unit = r.str(j, "unit", where);
    c.method = r.str(j, "method", where);
    c.theoretical = r.optNum(j, "theoretical", where);
    c.theoreticalMethod = r.str(j, "theoretical_method", where);
    c.theoreticalAtMeasuredClock = r.optNum(j, "theoretical_at_measured_clock", where);
    c.counterTheoretical = r.optNum(j, "counter_theoretical", where);
    c.counterTheoreticalMethod = r.str(j, "counter_theoretical_method", where);
    if (auto ws = j.find("working_set"); ws != j.end() && !ws->is_null()) {
        if (!ws->is_array() || ws->size() != 2 || !(*ws)[0].is_number() || !(*ws)[1].is_number())
            r.fail(where + ".working_set", "expected [first_bytes, last_bytes]");
        c.workingSet = std::make_pair((*ws)[0].get<double>(), (*ws)[1].get<double>());
    }
    c.crossCheck = j.value("cross_check", false);
    c.roof = j.value("roof", false);
    if (c.kind == CeilingKind::Compute && c.precision.empty()) r.fail(where + ".precision", "missing");
    if (c.kind == CeilingKind::Bandwidth && c.level.empty()) r.fail(where + ".level", "missing");
    return c;
}

json ceilingJson(const Ceiling& c)
{
    json j = { { "device", c.device }, { "kind", ceilingKindName(c.kind) } };
    if (!c.precision.empty()) j["precision"] = c.precision;
    if (!c.variant.empty()) j["variant"] = c.variant;
    if (!c.level.empty()) j["level"] = c.level;
    if (!c.pattern.empty()) j["pattern"] = c.pattern;
    j["threads"] = c.threads;
    j["value"] = c.value;
    j["unit"] = c.unit;
    j["method"] = c.method;
    j["theoretical"] = c.theoretical ? json(*c.theoretical) : json(nullptr);
    if (c.theoreticalAtMeasuredClock) j["theoretical_at_measured_clock"] = *c.theoreticalAtMeasuredClock;
    if (!c.theoreticalMethod.empty()) j["theoretical_method"] = c.theoreticalMethod;
    if (c.counterTheoretical) {
        j["counter_theoretical"] = *c.counterTheoretical;
        j["counter_theoretical_method"] = c.counterTheoreticalMethod;
    }
    if (c.workingSet) j["working_set"] = { c.workingSet->first, c.workingSet->second };
    j["cross_check"] = c.crossCheck;
    j["roof"] = c.roof;
    return j;
}

GpuInfo parseGpu(const Reader& r, const json& g, const std::string& where)
{
    r.object(g, where);
    GpuInfo gpu;
    gpu.index = r.integer(g, "index", where);
    gpu.name = r.str(g, "name", where, true);
    gpu.uuid = r.str(g, "uuid", where);
    gpu.arch = r.str(g, "arch", where);
    gpu.driverVersion = r.str(g, "driver_version", where);
    gpu.runtimeVersion = r.str(g, "runtime_version", where);
    gpu.nvidiaDriver = r.str(g, "nvidia_driver", where);
    gpu.sms = r.integer(g, "sms", where);
    gpu.memoryBytes = r.num(g, "memory_bytes", where);
    gpu.l2Bytes = r.num(g, "l2_bytes", where);
    gpu.busWidthBits = r.num(g, "bus_width_bits", where);
    if (auto c = g.find("clocks"); c != g.end()) {
        r.object(*c, where + ".clocks");
        gpu.smMaxHz = r.num(*c, "sm_max_hz", where + ".clocks");
        gpu.smMeasuredHz = r.num(*c, "sm_measured_hz", where + ".clocks");
        gpu.memoryHz = r.num(*c, "memory_hz", where + ".clocks");
        gpu.smCounterHz = r.num(*c, "sm_counter_hz", where + ".clocks");
    }
    return gpu;
}

json gpuJson(const GpuInfo& g)
{
    json j = { { "index", g.index }, { "name", g.name }, { "uuid", g.uuid }, { "arch", g.arch }, { "sms", g.sms },
        { "driver_version", g.driverVersion }, { "runtime_version", g.runtimeVersion },
        { "memory_bytes", g.memoryBytes }, { "l2_bytes", g.l2Bytes }, { "bus_width_bits", g.busWidthBits },
        { "clocks",
            { { "sm_max_hz", g.smMaxHz }, { "sm_measured_hz", g.smMeasuredHz }, { "memory_hz", g.memoryHz } } } };
    if (g.smCounterHz > 0) j["clocks"]["sm_counter_hz"] = g.smCounterHz;
    if (!g.nvidiaDriver.empty()) j["nvidia_driver"] = g.nvidiaDriver;
    return j;
}

Sweep parseSweep(const Reader& r, const json& s, const std::string& where)
{
    r.object(s, where);
    Sweep sw;
    sw.device = r.str(s, "device", where, true);
    sw.pattern = r.str(s, "pattern", where);
    sw.threads = r.integer(s, "threads", where);
    const json& pts = r.array(s, "points", where);
    for (std::size_t i = 0; i < pts.size(); ++i) {
        const json& p = pts[i];
        const std::string w = fmt::format("{}.points[{}]", where, i);
        if (!p.is_array() || p.size() < 2 || !p[0].is_number() || !p[1].is_number())
            r.fail(w, "expected [bytes, value, level]");
        Sweep::Point pt { p[0].get<double>(), p[1].get<double>(), {} };
        if (p.size() > 2 && p[2].is_string()) pt.level = p[2].get<std::string>();
        sw.points.push_back(std::move(pt));
    }
    return sw;
}

json sweepJson(const Sweep& s)
{
    json pts = json::array();
    for (const auto& p : s.points)
        pts.push_back({ p.bytes, p.value, p.level });
    return { { "device", s.device }, { "pattern", s.pattern }, { "threads", s.threads }, { "points", pts } };
}

std::string readWholeFile(const std::string& path, std::size_t limit)
{
    std::error_code ec;
    if (!fs::exists(path, ec)) throw MachineError(path, "no such file");
    if (fs::is_directory(path, ec)) throw MachineError(path, "is a folder, not a machine file");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw MachineError(path, std::string("cannot read: ") + std::strerror(errno));
    std::string text;
    char buf[65536];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        text.append(buf, static_cast<std::size_t>(in.gcount()));
        if (text.size() > limit) throw MachineError(path, "too large for a machine file");
    }
    return text;
}

} // namespace

namespace {
MachineModel parseMachineUnchecked(std::string_view text, const std::string& origin);
void mergeGpuMeasurementUnchecked(MachineModel& model, std::string_view text, const std::string& origin);
} // namespace

std::string HardwareIdentity::key() const
{
    // FNV-1a 64: stable across runs and builds (std::hash is not).
    std::uint64_t h = 1469598103934665603ull;
    auto mix = [&h](std::string_view s) {
        for (unsigned char c : s) {
            h ^= c;
            h *= 1099511628211ull;
        }
        h ^= 0xff;
        h *= 1099511628211ull;
    };
    mix(cpuModel);
    mix(std::to_string(logicalCpus));
    for (const auto& g : gpuModels)
        mix(g);
    return fmt::format("{:012x}", h & 0xffffffffffffull);
}

const Ceiling* MachineModel::computeRoof(std::string_view device, std::string_view precision, bool tensor) const
{
    for (const auto& c : ceilings)
        if (c.roof && c.kind == CeilingKind::Compute && c.device == device && c.precision == precision
            && c.tensor() == tensor)
            return &c;
    return nullptr;
}

const Ceiling* MachineModel::bandwidthRoof(std::string_view device, std::string_view level) const
{
    for (const auto& c : ceilings)
        if (c.roof && c.kind == CeilingKind::Bandwidth && c.device == device && c.level == level) return &c;
    return nullptr;
}

const Ceiling* MachineModel::launchFloor(std::string_view device) const
{
    for (const auto& c : ceilings)
        if (c.roof && c.kind == CeilingKind::Launch && c.device == device) return &c;
    return nullptr;
}

MachineModel parseMachine(std::string_view text, const std::string& origin)
{
    // nlohmann reports numbers out of range and wrong types with its own exceptions: all of them mean a bad file.
    try {
        return parseMachineUnchecked(text, origin);
    } catch (const json::exception& e) {
        throw MachineError(origin, std::string("invalid machine file: ") + e.what());
    }
}

namespace {
MachineModel parseMachineUnchecked(std::string_view text, const std::string& origin)
{
    json j;
    try {
        j = json::parse(text.begin(), text.end());
    } catch (const json::parse_error& e) {
        throw MachineError(origin, fmt::format("not a machine file (JSON error at byte {})", e.byte));
    }
    const Reader r { origin };
    if (!j.is_object() || !j.contains("format") || j["format"] != kMachineFormatName)
        throw MachineError(origin, "not a rooftime machine file (no \"format\": \"rooftime-machine\")");
    MachineModel m;
    const std::string version = r.str(j, "version", "machine", true);
    if (std::sscanf(version.c_str(), "%d.%d", &m.major, &m.minor) != 2 || m.major < 1 || m.minor < 0)
        throw MachineError(origin, "invalid machine file version '" + version + "'");
    if (m.major > kMachineMajor)
        throw MachineError(origin,
            fmt::format("machine file version {} is newer than this rooftime reads ({}.{}); "
                        "update rooftime or measure again with `rooftime ceilings`",
                version, kMachineMajor, kMachineMinor));
    m.origin = origin;
    m.created = r.str(j, "created", "machine");
    m.rooftimeVersion = r.str(j, "rooftime_version", "machine");
    m.mode = r.str(j, "mode", "machine");
    const json& host = j.contains("host") ? r.object(j["host"], "host") : json::object();
    m.identity.host = r.str(host, "name", "host");
    m.os = r.str(host, "os", "host");
    if (auto it = j.find("cpu"); it != j.end()) {
        const json& c = r.object(*it, "cpu");
        m.cpu.vendor = r.str(c, "vendor", "cpu");
        m.cpu.model = r.str(c, "model", "cpu");
        m.cpu.flags = r.strings(c, "flags", "cpu");
        m.cpu.logicalCpus = r.integer(c, "logical_cpus", "cpu");
        m.cpu.cores = r.integer(c, "cores", "cpu");
        m.cpu.sockets = r.integer(c, "sockets", "cpu");
        const json& caches = r.array(c, "caches", "cpu");
        for (std::size_t i = 0; i < caches.size(); ++i) {
            const std::string w = fmt::format("cpu.caches[{}]", i);
            r.object(caches[i], w);
            m.cpu.caches.push_back(
                { r.integer(caches[i], "level", w), r.str(caches[i], "type", w), r.num(caches[i], "bytes", w),
                    r.integer(caches[i], "instances", w), r.integer(caches[i], "cpus_per_instance", w) });
        }
        if (auto ck = c.find("clocks"); ck != c.end()) {
            r.object(*ck, "cpu.clocks");
            m.cpu.nominalHz = r.num(*ck, "nominal_hz", "cpu.clocks");
            m.cpu.measuredHz = r.num(*ck, "measured_hz", "cpu.clocks");
            m.cpu.measuredAllCoresHz = r.num(*ck, "measured_all_cores_hz", "cpu.clocks");
        }
    }
    m.identity.cpuModel = m.cpu.model;
    m.identity.logicalCpus = host.contains("cpus") ? r.integer(host, "cpus", "host") : m.cpu.logicalCpus;
    m.identity.gpuModels = r.strings(host, "gpu_models", "host");
    const json& gpus = r.array(j, "gpus", "machine");
    for (std::size_t i = 0; i < gpus.size(); ++i)
        m.gpus.push_back(parseGpu(r, gpus[i], fmt::format("gpus[{}]", i)));
    const json& ceilings = r.array(j, "ceilings", "machine");
    for (std::size_t i = 0; i < ceilings.size(); ++i)
        m.ceilings.push_back(parseCeiling(r, ceilings[i], fmt::format("ceilings[{}]", i)));
    if (m.ceilings.empty()) throw MachineError(origin, "invalid machine file: no ceilings");
    const json& sweeps = r.array(j, "sweeps", "machine");
    for (std::size_t i = 0; i < sweeps.size(); ++i)
        m.sweeps.push_back(parseSweep(r, sweeps[i], fmt::format("sweeps[{}]", i)));
    m.notes = r.strings(j, "notes", "machine");
    return m;
}

} // namespace

MachineModel readMachineFile(const std::string& path)
{
    return parseMachine(readWholeFile(path, 64u << 20), path);
}

std::string serializeMachine(const MachineModel& m)
{
    json caches = json::array();
    for (const auto& c : m.cpu.caches)
        caches.push_back({ { "level", c.level }, { "type", c.type }, { "bytes", c.bytes }, { "instances", c.instances },
            { "cpus_per_instance", c.cpusPerInstance } });
    json j = {
        { "format", kMachineFormatName },
        { "version", fmt::format("{}.{}", kMachineMajor, kMachineMinor) },
        { "created", m.created },
        { "rooftime_version", m.rooftimeVersion },
        { "mode", m.mode },
        { "host",
            { { "name", m.identity.host }, { "key", m.identity.key() }, { "os", m.os },
                { "cpus", m.identity.logicalCpus }, { "gpu_models", m.identity.gpuModels } } },
        { "cpu",
            { { "vendor", m.cpu.vendor }, { "model", m.cpu.model }, { "flags", m.cpu.flags },
                { "logical_cpus", m.cpu.logicalCpus }, { "cores", m.cpu.cores }, { "sockets", m.cpu.sockets },
                { "caches", caches },
                { "clocks", { { "nominal_hz", m.cpu.nominalHz }, { "measured_hz", m.cpu.measuredHz } } } } },
    };
    json gpus = json::array();
    for (const auto& g : m.gpus)
        gpus.push_back(gpuJson(g));
    if (m.cpu.measuredAllCoresHz > 0) j["cpu"]["clocks"]["measured_all_cores_hz"] = m.cpu.measuredAllCoresHz;
    j["gpus"] = gpus;
    json ceilings = json::array();
    for (const auto& c : m.ceilings)
        ceilings.push_back(ceilingJson(c));
    j["ceilings"] = ceilings;
    json sweeps = json::array();
    for (const auto& s : m.sweeps)
        sweeps.push_back(sweepJson(s));
    j["sweeps"] = sweeps;
    j["notes"] = m.notes;
    return j.dump(1, ' ', false, json::error_handler_t::replace) + "\n";
}

void writeMachineFile(const std::string& path, const MachineModel& model)
{
    std::error_code ec;
    const fs::path p(path);
    if (p.has_parent_path()) fs::create_directories(p.parent_path(), ec);
    const std::string tmp = path + fmt::format(".tmp{}", getpid());
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << serializeMachine(model);
        out.flush();
        if (!out) {
            fs::remove(tmp, ec);
            throw MachineError(path, std::string("cannot write: ") + std::strerror(errno));
        }
    }
    fs::rename(tmp, path, ec);
    if (ec) {
        fs::remove(tmp, ec);
        throw MachineError(path, "cannot write: " + ec.message());
    }
}

void mergeGpuMeasurement(MachineModel& model, std::string_view text, const std::string& origin)
{
    try {
        mergeGpuMeasurementUnchecked(model, text, origin);
    } catch (const json::exception& e) {
        throw MachineError(origin, std::string("invalid GPU measurement: ") + e.what());
    }
}

namespace {
void mergeGpuMeasurementUnchecked(MachineModel& model, std::string_view text, const std::string& origin)
{
    json j;
    try {
        j = json::parse(text.begin(), text.end());
    } catch (const json::parse_error& e) {
        throw MachineError(origin, fmt::format("GPU measurement is not JSON (error at byte {})", e.byte));
    }
    const Reader r { origin };
    r.object(j, "gpu measurement");
    if (!j.contains("gpu")) r.fail("gpu", "missing");
    GpuInfo gpu = parseGpu(r, j["gpu"], "gpu");
    const std::string device = fmt::format("gpu{}", gpu.index);
    std::erase_if(model.gpus, [&](const GpuInfo& g) { return g.index == gpu.index; });
    model.gpus.push_back(gpu);
    std::sort(model.gpus.begin(), model.gpus.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
    std::erase_if(model.ceilings, [&](const Ceiling& c) { return c.device == device; });
    std::erase_if(model.sweeps, [&](const Sweep& s) { return s.device == device; });
    const json& ceilings = r.array(j, "ceilings", "gpu measurement");
    for (std::size_t i = 0; i < ceilings.size(); ++i) {
        Ceiling c = parseCeiling(r, ceilings[i], fmt::format("ceilings[{}]", i));
        if (c.device != device) r.fail(fmt::format("ceilings[{}].device", i), "expected " + device);
        model.ceilings.push_back(std::move(c));
    }
    const json& sweeps = r.array(j, "sweeps", "gpu measurement");
    for (std::size_t i = 0; i < sweeps.size(); ++i)
        model.sweeps.push_back(parseSweep(r, sweeps[i], fmt::format("sweeps[{}]", i)));
    for (auto& n : r.strings(j, "notes", "gpu measurement"))
        model.notes.push_back(device + ": " + n);
}
} // namespace

void markRoofs(MachineModel& model)
{
    for (auto& c : model.ceilings)
        c.roof = false;
    auto better = [](const Ceiling& a, const Ceiling* b) {
        return !b || a.threads > b->threads || (a.threads == b->threads && a.value > b->value);
    };
    std::map<std::string, Ceiling*> best;
    for (auto& c : model.ceilings) {
        if (c.crossCheck) continue;
        std::string key;
        switch (c.kind) {
        case CeilingKind::Compute:
            key = c.device + "|c|" + c.precision + (c.tensor() ? "|tensor" : "");
            break;
        case CeilingKind::Bandwidth:
            key = c.device + "|b|" + c.level;
            break;
        case CeilingKind::Launch:
            key = c.device + "|l";
            break;
        }
        Ceiling*& cur = best[key];
        if (c.kind == CeilingKind::Bandwidth) {
            // Triad (reads and writes mixed, as in most kernels) is the roof; read where no triad was run.
            auto rank = [](const Ceiling* x) {
                return x ? (x->pattern == "triad" ? 2 : (x->pattern == "read" ? 1 : 0)) : -1;
            };
            if (rank(&c) > rank(cur) || (rank(&c) == rank(cur) && better(c, cur))) cur = &c;
        } else if (c.kind == CeilingKind::Launch) {
            if (!cur || c.variant == "back_to_back") cur = &c;
        } else if (better(c, cur)) {
            cur = &c;
        }
    }
    for (auto& [key, c] : best)
        c->roof = true;
    // A cross-check (cuBLAS) clearly above our own kernel means the kernel misses the roof (WMMA cannot issue
    // Hopper's wgmma): the roof is what the machine was seen to do.
    for (auto& x : model.ceilings) {
        if (!x.crossCheck || x.kind != CeilingKind::Compute) continue;
        auto it = best.find(x.device + "|c|" + x.precision + (x.tensor() ? "|tensor" : ""));
        if (it == best.end() || x.value <= it->second->value * 1.05) continue;
        const std::string note = fmt::format("{} {}: {} reached {}FLOP/s, above the {} kernel's {}FLOP/s; the roof "
                                             "uses {}",
            x.device, x.precision, x.variant, siValue(x.value), it->second->variant, siValue(it->second->value),
            x.variant);
        it->second->roof = false;
        x.roof = true;
        it->second = &x;
        if (std::find(model.notes.begin(), model.notes.end(), note) == model.notes.end()) model.notes.push_back(note);
    }
}

std::string cpuinfoValue(const std::string& text, const std::vector<std::string>& keys)
{
    for (const auto& key : keys) {
        std::istringstream in(text);
        std::string line;
        while (std::getline(in, line)) {
            auto colon = line.find(':');
            if (colon == std::string::npos) continue;
            std::string k = line.substr(0, colon);
            while (!k.empty() && (k.back() == ' ' || k.back() == '\t'))
                k.pop_back();
            if (k != key) continue;
            std::string v = line.substr(colon + 1);
            v.erase(0, v.find_first_not_of(" \t"));
            return v;
        }
    }
    return {};
}

namespace {
/// A small text file of /proc or /sys; empty when it cannot be read.
std::string readProcText(const fs::path& path)
{
    try {
        std::ifstream in(path);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    } catch (...) {
        return {};
    }
}
} // namespace

std::string nvidiaDriverVersion(std::string_view procText)
{
    // "NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.95.05  …" or "… Open Kernel Module for x86_64  580.95.05 …"
    const auto at = procText.find("Kernel Module");
    if (at == std::string_view::npos) return {};
    auto line = procText.substr(at, procText.find('\n', at) - at);
    for (std::size_t i = 0; i < line.size(); ++i) {
        if (!std::isdigit(static_cast<unsigned char>(line[i])) || (i > 0 && line[i - 1] != ' ')) continue;
        std::size_t end = i;
        while (end < line.size() && (std::isdigit(static_cast<unsigned char>(line[end])) || line[end] == '.'))
            ++end;
        const auto version = line.substr(i, end - i);
        if (version.find('.') != std::string_view::npos && (end == line.size() || line[end] == ' '))
            return std::string(version);
    }
    return {};
}

std::string installedNvidiaDriver()
{
    return nvidiaDriverVersion(readProcText("/proc/driver/nvidia/version"));
}

std::string counterPermissionProblem(
    const std::string& nvidiaParams, const std::string& procStatus, const std::string& driverVersion)
{
    if (cpuinfoValue(nvidiaParams, { "RmProfilingAdminOnly" }) != "1") return {};
    // CapEff is a hexadecimal mask; CAP_SYS_ADMIN is bit 21, CAP_PERFMON bit 38, which drivers accept from R565 on
    // (an unknown driver is given the benefit of the doubt). Root in a container often lacks both.
    const std::string capEff = cpuinfoValue(procStatus, { "CapEff" });
    if (!capEff.empty()) {
        unsigned long long mask = 0;
        int major = 0;
        try {
            mask = std::stoull(capEff, nullptr, 16);
            if (!driverVersion.empty()) major = std::stoi(driverVersion);
        } catch (const std::exception&) {
            return {};
        }
        const bool perfmon = major == 0 || major >= 565;
        if (mask & ((1ull << 21) | (perfmon ? 1ull << 38 : 0))) return {};
    }
    return "GPU counters are restricted to administrators on this machine (RmProfilingAdminOnly: 1) and this process "
           "has neither CAP_SYS_ADMIN nor CAP_PERFMON, so counters mode will record kernel times only; fix: load the "
           "nvidia module with NVreg_RestrictProfilingToAdminUsers=0, or run with CAP_SYS_ADMIN (CAP_PERFMON on driver "
           "R565+; containers: --cap-add=SYS_ADMIN)";
}

std::string counterPermissionProblem()
{
    return counterPermissionProblem(
        readProcText("/proc/driver/nvidia/params"), readProcText("/proc/self/status"), installedNvidiaDriver());
}

HardwareIdentity currentHardware()
{
    HardwareIdentity id;
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) == 0) id.host = host;
    const std::string cpuinfo = readProcText("/proc/cpuinfo");
    id.cpuModel = cpuinfoValue(cpuinfo, { "model name", "Model", "cpu model", "Processor" });
    if (id.cpuModel.empty()) id.cpuModel = "unknown CPU";
    // The machine's CPUs, not this process's affinity: MPI ranks bound to one core are on the same hardware.
    id.logicalCpus = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
    std::error_code ec;
    std::vector<std::string> gpus;
    for (const auto& e : fs::directory_iterator("/proc/driver/nvidia/gpus", ec)) {
        const std::string model = cpuinfoValue(readProcText(e.path() / "information"), { "Model" });
        if (!model.empty()) gpus.push_back(model);
    }
    std::sort(gpus.begin(), gpus.end());
    id.gpuModels = gpus;
    return id;
}

std::vector<std::string> identityMismatches(
    const MachineModel& model, const HardwareIdentity& here, std::string_view hereName)
{
    std::vector<std::string> out;
    const HardwareIdentity& there = model.identity;
    if (!here.host.empty() && there.host != here.host)
        out.push_back(fmt::format("host '{}' ({} '{}')", there.host, hereName, here.host));
    // A file that describes no CPU (a datasheet of a GPU) differs in none.
    const bool cpuDescribed = there.logicalCpus > 0;
    if (cpuDescribed && !here.cpuModel.empty() && there.cpuModel != here.cpuModel)
        out.push_back(fmt::format("CPU '{}' ({} '{}')", there.cpuModel, hereName, here.cpuModel));
    if (cpuDescribed && here.logicalCpus > 0 && there.logicalCpus != here.logicalCpus)
        out.push_back(fmt::format("{} CPUs ({} {})", there.logicalCpus, hereName, here.logicalCpus));
    // A partial identity (a profile's devices) lists only the GPUs the program used.
    const bool gpusDiffer = here.partial
        ? std::any_of(here.gpuModels.begin(), here.gpuModels.end(),
            [&](const std::string& g) {
                return std::find(there.gpuModels.begin(), there.gpuModels.end(), g) == there.gpuModels.end();
            })
        : there.gpuModels != here.gpuModels;
    if (gpusDiffer) {
        auto list = [](const std::vector<std::string>& v) {
            return v.empty() ? std::string("no GPU") : fmt::format("{}", fmt::join(v, ", "));
        };
        out.push_back(fmt::format("GPUs '{}' ({} '{}')", list(there.gpuModels), hereName, list(here.gpuModels)));
    }
    return out;
}

std::string cacheDirectory()
{
    if (const char* d = std::getenv("ROOFTIME_CACHE_DIR"); d && *d) return d;
    if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return (fs::path(x) / "rooftime").string();
    if (const char* h = std::getenv("HOME"); h && *h) return (fs::path(h) / ".cache" / "rooftime").string();
    return (fs::temp_directory_path() / fmt::format("rooftime-cache-{}", getuid())).string();
}

std::string machineCachePath(const HardwareIdentity& id)
{
    std::string host = id.host.empty() ? "host" : id.host;
    for (char& c : host)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_')) c = '_';
    return (fs::path(cacheDirectory()) / "machines" / (host + "-" + id.key() + ".json")).string();
}

} // namespace rooftime::analyzer
