// SPDX-License-Identifier: MIT
#include "cpu_ceilings.h"

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#if defined(__x86_64__)
#include <cpuid.h>
#endif
#include <sched.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <fmt/format.h>

#include "cpu_kernels.h"
#include "rooftime/analyzer/format.h"
#include "rooftime/analyzer/plateau.h"

namespace rooftime::ceilings {
namespace fs = std::filesystem;
using analyzer::Ceiling;
using analyzer::CeilingKind;
using analyzer::MachineModel;

namespace {

using Clock = std::chrono::steady_clock;

double seconds(Clock::duration d)
{
    return std::chrono::duration<double>(d).count();
}

std::string readFile(const fs::path& p)
{
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string s = ss.str();
    while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
        s.pop_back();
    return s;
}

std::vector<int> allowedCpus()
{
    cpu_set_t set;
    CPU_ZERO(&set);
    std::vector<int> cpus;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        for (int c = 0; c < CPU_SETSIZE; ++c)
            if (CPU_ISSET(c, &set)) cpus.push_back(c);
    }
    if (cpus.empty()) cpus.push_back(0);
    return cpus;
}

void pinTo(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof set, &set); // best effort: a refused pin only adds noise
}

/// Cache instances from sysfs: per level (data and unified caches), the CPU lists sharing one instance.
struct SysCache {
    int level = 0;
    std::string type;
    double bytes = 0;
    std::set<std::string> instances; // shared_cpu_list of each instance
    std::map<int, std::string> instanceOf; // cpu -> its instance
};

double parseSize(const std::string& s)
{
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (end && (*end == 'K' || *end == 'k')) return v * 1024;
    if (end && *end == 'M') return v * 1024 * 1024;
    if (end && *end == 'G') return v * 1024 * 1024 * 1024;
    return v;
}

std::vector<SysCache> sysCaches()
{
    std::map<std::pair<int, std::string>, SysCache> byLevel;
    std::error_code ec;
    for (const auto& cpuDir : fs::directory_iterator("/sys/devices/system/cpu", ec)) {
        const std::string name = cpuDir.path().filename().string();
        if (name.size() < 4 || name.compare(0, 3, "cpu") != 0 || !std::isdigit(static_cast<unsigned char>(name[3])))
            continue;
        const int cpu = std::atoi(name.c_str() + 3);
        std::error_code ec2;
        for (const auto& idx : fs::directory_iterator(cpuDir.path() / "cache", ec2)) {
            if (idx.path().filename().string().rfind("index", 0) != 0) continue;
            const std::string type = readFile(idx.path() / "type");
            if (type == "Instruction") continue;
            const int level = std::atoi(readFile(idx.path() / "level").c_str());
            SysCache& c = byLevel[{ level, type }];
            c.level = level;
            c.type = type;
            c.bytes = parseSize(readFile(idx.path() / "size"));
            const std::string shared = readFile(idx.path() / "shared_cpu_list");
            c.instances.insert(shared);
            c.instanceOf[cpu] = shared;
        }
    }
    std::vector<SysCache> out;
    for (auto& [k, c] : byLevel)
        if (c.level > 0 && c.bytes > 0) out.push_back(std::move(c));
    return out;
}

/// Where sysfs has no cache information (some VMs hide it): the L1 data cache and the L2 from CPUID, one per
/// core, and an L3 when CPUID has one, of unknown size (0 bytes): a VM's CPUID may give the host's whole L3
/// (this project's VM: 508 MiB), so the plateaus beyond L2 are named by order (plateau.h). Empty elsewhere.
std::vector<SysCache> cpuidCaches()
{
    double l1 = 0, l2 = 0;
    bool l3 = false;
#if defined(__x86_64__)
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return {};
    const unsigned maxLeaf = a;
    char vendor[13] {};
    std::memcpy(vendor, &b, 4);
    std::memcpy(vendor + 4, &d, 4);
    std::memcpy(vendor + 8, &c, 4);
    if (std::string_view(vendor) == "AuthenticAMD" || std::string_view(vendor) == "HygonGenuine") {
        // AMD's own leaves: L1 data KiB in 0x80000005 ECX[31:24], L2 KiB in 0x80000006 ECX[31:16], L3 EDX[31:18].
        if (__get_cpuid(0x80000000, &a, &b, &c, &d) && a >= 0x80000006) {
            __cpuid(0x80000005, a, b, c, d);
            l1 = static_cast<double>(c >> 24) * 1024;
            __cpuid(0x80000006, a, b, c, d);
            l2 = static_cast<double>(c >> 16) * 1024;
            l3 = (d >> 18) != 0;
        }
    } else if (maxLeaf >= 4) {
        // Intel's deterministic cache parameters: ways × partitions × line size × sets per subleaf.
        for (unsigned i = 0; i < 16; ++i) {
            __cpuid_count(4, i, a, b, c, d);
            const unsigned type = a & 31, level = (a >> 5) & 7;
            if (type == 0) break;
            if (type == 2) continue; // instruction cache
            const double bytes = static_cast<double>(((b >> 22) & 0x3ff) + 1) * (((b >> 12) & 0x3ff) + 1)
                * ((b & 0xfff) + 1) * (static_cast<double>(c) + 1);
            if (level == 1) l1 = bytes;
            if (level == 2) l2 = bytes;
            if (level == 3) l3 = true;
        }
    }
#endif
    if (l1 <= 0 || l2 <= 0) return {};
    std::vector<SysCache> out;
    for (const auto& [level, type, bytes] :
        { std::tuple { 1, "Data", l1 }, std::tuple { 2, "Unified", l2 }, std::tuple { 3, "Unified", 0.0 } }) {
        if (level == 3 && !l3) break;
        SysCache cache { level, type, bytes, {}, {} };
        for (int cpu : allowedCpus()) {
            const fs::path topo = fmt::format("/sys/devices/system/cpu/cpu{}/topology", cpu);
            const std::string core = readFile(topo / "core_id");
            const std::string key = level == 3 ? std::string("all")
                : core.empty()                 ? fmt::format("cpu {}", cpu)
                               : fmt::format("core {}:{}", readFile(topo / "physical_package_id"), core);
            cache.instances.insert(key);
            cache.instanceOf[cpu] = key;
        }
        out.push_back(std::move(cache));
    }
    return out;
}

/// The caches from sysfs, else from CPUID; @p note says so in the second case.
std::vector<SysCache> knownCaches(std::string* note = nullptr)
{
    auto caches = sysCaches();
    if (!caches.empty()) return caches;
    caches = cpuidCaches();
    if (note && !caches.empty())
        *note = fmt::format("no cache sizes in sysfs: L1 data {} and L2 {} per core from CPUID{}",
            analyzer::humanBytes(caches[0].bytes), analyzer::humanBytes(caches[1].bytes),
            caches.size() > 2 ? "; an L3 of unknown size (a VM's CPUID may give the host's): the plateaus beyond L2 "
                                "are L3, the last one DRAM"
                              : "");
    return caches;
}

/// Capacity each cache level offers to threads on @p cpus (instances they touch × size).
std::vector<analyzer::CacheCapacity> capacities(const std::vector<SysCache>& caches, const std::vector<int>& cpus)
{
    std::vector<analyzer::CacheCapacity> out;
    for (const auto& c : caches) {
        std::set<std::string> used;
        for (int cpu : cpus)
            if (auto it = c.instanceOf.find(cpu); it != c.instanceOf.end()) used.insert(it->second);
        if (used.empty()) continue;
        out.push_back({ fmt::format("L{}", c.level), c.bytes * static_cast<double>(used.size()) });
    }
    return out;
}

/// Runs a kernel on @p cpus.size() pinned threads, calibrated to last about @p target seconds; returns the
/// best rate (work summed over threads / wall time from the first start to the last end) over @p trials.
/// State is built by each thread itself so that memory is first touched where it is used.
template <class State>
double measureRate(const std::vector<int>& cpus, double target, int trials,
    const std::function<std::unique_ptr<State>(int)>& setup, const std::function<double(State&, std::uint64_t)>& kernel)
{
    const auto n = static_cast<std::ptrdiff_t>(cpus.size());
    std::vector<Clock::time_point> start(cpus.size()), end(cpus.size());
    std::vector<double> work(cpus.size()), estimate(cpus.size());
    std::uint64_t reps = 1;
    double best = 0;
    auto settle = [&]() noexcept {
        double sum = 0;
        for (double e : estimate)
            sum += e;
        reps = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(sum / static_cast<double>(estimate.size())));
    };
    auto record = [&]() noexcept {
        const auto first = *std::min_element(start.begin(), start.end());
        const auto last = *std::max_element(end.begin(), end.end());
        double total = 0;
        for (double w : work)
            total += w;
        const double t = seconds(last - first);
        if (t > 0) best = std::max(best, total / t);
    };
    std::barrier calibrated(n, settle);
    std::barrier trial(n, record);
    std::barrier ready(n);
    std::vector<std::thread> team;
    for (std::ptrdiff_t t = 0; t < n; ++t) {
        team.emplace_back([&, t] {
            const auto i = static_cast<std::size_t>(t);
            pinTo(cpus[i]);
            std::unique_ptr<State> state = setup(static_cast<int>(t));
            ready.arrive_and_wait();
            // Calibration: double the repetitions until a run takes an eighth of the target.
            std::uint64_t r = 1;
            for (;;) {
                const auto t0 = Clock::now();
                kernel(*state, r);
                const double dt = seconds(Clock::now() - t0);
                if (dt >= target / 8 || r > (1ull << 40)) {
                    estimate[i] = std::max(1.0, static_cast<double>(r) * target / std::max(dt, 1e-9));
                    break;
                }
                r *= 2;
            }
            calibrated.arrive_and_wait();
            for (int k = 0; k < trials; ++k) {
                ready.arrive_and_wait();
                start[i] = Clock::now();
                work[i] = kernel(*state, reps);
                end[i] = Clock::now();
                trial.arrive_and_wait();
            }
        });
    }
    for (auto& th : team)
        th.join();
    return best;
}

struct Empty { };

/// One buffer per thread, allocated and first touched by a thread pinned to that CPU (so pages sit on its
/// NUMA node), reused by every sweep point: faulting in a fresh gigabyte per point would cost more than the
/// measurement itself.
class TeamBuffers {
public:
    TeamBuffers(const std::vector<int>& cpus, std::size_t doublesPerThread)
        : m_capacity(doublesPerThread)
        , m_buffers(cpus.size(), nullptr)
    {
        std::vector<std::thread> team;
        for (std::size_t i = 0; i < cpus.size(); ++i)
            team.emplace_back([this, i, cpu = cpus[i]] {
                pinTo(cpu);
                void* p = nullptr;
                if (posix_memalign(&p, 2u << 20, std::max<std::size_t>(4096, m_capacity * sizeof(double))) != 0) return;
                auto* d = static_cast<double*>(p);
                for (std::size_t k = 0; k < m_capacity; ++k)
                    d[k] = 1.0;
                m_buffers[i] = d;
            });
        for (auto& t : team)
            t.join();
    }
    ~TeamBuffers()
    {
        for (double* b : m_buffers)
            std::free(b);
    }
    TeamBuffers(const TeamBuffers&) = delete;
    TeamBuffers& operator=(const TeamBuffers&) = delete;
    bool ok() const
    {
        return std::none_of(m_buffers.begin(), m_buffers.end(), [](double* b) { return !b; });
    }
    std::size_t capacity() const { return m_capacity; }
    double* operator[](std::size_t i) const { return m_buffers[i]; }

private:
    std::size_t m_capacity;
    std::vector<double*> m_buffers;
};

/// The arrays of one pattern carved out of a thread's buffer. They start 5 cache lines apart modulo 4 KiB:
/// arrays a multiple of 4 KiB apart alias in the L1 and in the store-to-load check and run slower.
struct Arrays {
    static constexpr std::size_t kSkew = 40; // doubles
    static std::size_t stride(std::size_t n) { return (n + 511) / 512 * 512 + kSkew; }
    static std::size_t footprint(std::size_t n, int arrays) { return static_cast<std::size_t>(arrays) * stride(n); }

    std::size_t n = 0;
    double* a = nullptr;
    double* b = nullptr;
    double* c = nullptr;
    double sink = 0;
    Arrays(double* buffer, std::size_t elements, int arrays)
        : n(elements)
    {
        a = buffer;
        if (arrays > 1) b = a + stride(n);
        if (arrays > 2) c = b + stride(n);
    }
};

/// The core clock on @p cpus, all running the add chain at once (one core: its turbo clock; all cores: the
/// clock they hold together, which is what an all-core peak runs at). Per run the mean over the cores; the
/// fastest of many short runs, because a run that shared its core with another process only looks slower.
double measureClock(const std::vector<int>& cpus, double target, int runs)
{
    const auto n = cpus.size();
    std::vector<double> rate(n);
    double best = 0;
    std::barrier start(static_cast<std::ptrdiff_t>(n));
    std::barrier done(static_cast<std::ptrdiff_t>(n), [&]() noexcept {
        double sum = 0;
        for (double r : rate)
            sum += r;
        best = std::max(best, sum / static_cast<double>(n));
    });
    std::vector<std::thread> team;
    for (std::size_t i = 0; i < n; ++i)
        team.emplace_back([&, i] {
            pinTo(cpus[i]);
            for (int k = 0; k < runs; ++k) {
                start.arrive_and_wait();
                const auto count = static_cast<std::uint64_t>(target * 4e9);
                const auto t0 = Clock::now();
                const std::uint64_t adds = runAddChain(count);
                const double dt = seconds(Clock::now() - t0);
                rate[i] = adds > 0 && dt > 0 ? static_cast<double>(adds) / dt : 0;
                done.arrive_and_wait();
            }
        });
    for (auto& t : team)
        t.join();
    return best;
}

bool hasFlag(const analyzer::CpuInfo& cpu, std::string_view f)
{
    return std::find(cpu.flags.begin(), cpu.flags.end(), f) != cpu.flags.end();
}

/// Whether this AMD CPU runs 512-bit FMAs as two 256-bit halves: Zen 4 (family 25) and the mobile Zen 5 cores
/// (family 26, models 0x20-0x2F Strix Point, 0x60-0x7F Krackan Point and Strix Halo); the server and desktop
/// Zen 5 cores (Turin, Granite Ridge) have full 512-bit pipes.
bool amdHalvesAvx512()
{
    static const bool halves = [] {
        const std::string info = readFile("/proc/cpuinfo");
        const int family = std::atoi(analyzer::cpuinfoValue(info, { "cpu family" }).c_str());
        const int model = std::atoi(analyzer::cpuinfoValue(info, { "model" }).c_str());
        return family < 26 || (family == 26 && ((model >= 0x20 && model <= 0x2F) || (model >= 0x60 && model <= 0x7F)));
    }();
    return halves;
}

/// FLOPs per cycle per core, assuming two FMA pipes (true of the x86 server cores of the last decade except
/// some low-end Xeon SKUs with one 512-bit FMA unit); see amdHalvesAvx512.
double flopsPerCycle(const analyzer::CpuInfo& cpu, Isa isa, Precision p, std::string& why)
{
    int pipes = 2;
    if (isa == Isa::Avx512Fma && cpu.vendor == "AuthenticAMD" && amdHalvesAvx512()) pipes = 1;
    const int lanes = isaLanes(isa, p);
    const int perFma = hasFlag(cpu, "fma") || isa != Isa::Scalar ? 2 : 1;
    why = fmt::format("{} pipes × {} lane{} × {} FLOP", pipes, lanes, lanes > 1 ? "s" : "", perFma);
    return pipes * lanes * perFma;
}

std::string now8601()
{
    const std::time_t t = std::time(nullptr);
    std::tm tm {};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

} // namespace

void probeCpu(MachineModel& model)
{
    auto& cpu = model.cpu;
    const std::string info = readFile("/proc/cpuinfo");
    auto field = [&](const char* key) { return analyzer::cpuinfoValue(info, { key }); };
    model.identity = analyzer::currentHardware();
    cpu.vendor = field("vendor_id");
    cpu.model = model.identity.cpuModel;
    static const char* const interesting[] = { "sse2", "avx", "avx2", "fma", "avx512f", "avx512dq", "avx512bw",
        "avx512vl", "avx512_bf16", "avx512_fp16", "amx_tile", "amx_bf16", "asimd", "sve", "sve2" };
    std::set<std::string> flags;
    std::istringstream fl(field("flags").empty() ? field("Features") : field("flags"));
    for (std::string f; fl >> f;)
        flags.insert(f);
    cpu.flags.clear();
    for (const char* f : interesting)
        if (flags.count(f)) cpu.flags.push_back(f);
    const auto cpus = allowedCpus();
    cpu.logicalCpus = static_cast<int>(cpus.size());
    std::set<std::pair<std::string, std::string>> cores;
    std::set<std::string> sockets;
    for (int c : cpus) {
        const fs::path topo = fmt::format("/sys/devices/system/cpu/cpu{}/topology", c);
        const std::string pkg = readFile(topo / "physical_package_id");
        cores.insert({ pkg, readFile(topo / "core_id") + (pkg.empty() ? std::to_string(c) : "") });
        sockets.insert(pkg);
    }
    cpu.cores = static_cast<int>(cores.size());
    cpu.sockets = static_cast<int>(sockets.size());
    cpu.caches.clear();
    for (const auto& c : knownCaches())
        if (c.bytes > 0)
            cpu.caches.push_back({ c.level, c.type, c.bytes, static_cast<int>(c.instances.size()),
                c.instanceOf.empty() ? 0 : static_cast<int>(c.instanceOf.size() / c.instances.size()) });
    cpu.nominalHz = 0;
    if (const std::string khz = readFile("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq"); !khz.empty()) {
        cpu.nominalHz = std::atof(khz.c_str()) * 1e3;
    } else if (auto at = cpu.model.find('@'); at != std::string::npos) {
        cpu.nominalHz = std::atof(cpu.model.c_str() + at + 1) * 1e9;
    } else if (const std::string mhz = field("cpu MHz"); !mhz.empty()) {
        cpu.nominalHz = std::atof(mhz.c_str()) * 1e6;
    }
    struct utsname u { };
    if (uname(&u) == 0) model.os = fmt::format("{} {} {}", u.sysname, u.release, u.machine);
    model.created = now8601();
}

void measureCpu(MachineModel& model, const CpuMeasureOptions& options)
{
    auto say = [&](const std::string& s) {
        if (options.progress) options.progress(s);
    };
    const bool quick = options.quick;
    const double target = quick ? 0.004 : 0.015; // seconds per timed run
    const int trials = quick ? 3 : 7;
    // Peaks are few and cheap: more runs, spread over a longer time, ride out a burst of interference.
    const int peakTrials = quick ? 5 : 12;
    const double peakTarget = quick ? 0.004 : 0.02;
    const auto all = allowedCpus();
    std::vector<std::vector<int>> teams { { all.front() } };
    if (all.size() > 1) teams.push_back(all);
    auto threadsText = [](std::size_t t) { return fmt::format("{} thread{}", t, t > 1 ? "s" : ""); };

    auto& cpu = model.cpu;
    // The clock is measured before and after the peaks; the faster reading counts.
    const double clockRun = quick ? 0.003 : 0.01;
    const int clockRuns = quick ? 8 : 10;
    cpu.measuredHz = measureClock({ all.front() }, clockRun, clockRuns);

    std::erase_if(model.ceilings, [](const Ceiling& c) { return c.device == "cpu"; });
    std::erase_if(model.sweeps, [](const analyzer::Sweep& s) { return s.device == "cpu"; });

    // Peak FLOP/s per instruction set and precision.
    constexpr std::uint64_t kChainIterations = 4096;
    for (Isa isa : { Isa::Scalar, Isa::Avx2Fma, Isa::Avx512Fma }) {
        if (!isaAvailable(isa)) continue;
        for (Precision p : { Precision::Fp64, Precision::Fp32 }) {
            for (const auto& team : teams) {
                const double rate = measureRate<Empty>(
                    team, peakTarget, peakTrials, [](int) { return std::make_unique<Empty>(); },
                    [&](Empty&, std::uint64_t reps) {
                        double sink = 0;
                        const double f = runFmaChains(isa, p, reps * kChainIterations, &sink);
                        asm volatile("" : : "r"(&sink) : "memory");
                        return f;
                    });
                Ceiling c;
                c.device = "cpu";
                c.kind = CeilingKind::Compute;
                c.precision = std::string(precisionName(p));
                c.variant = std::string(isaName(isa));
                c.threads = static_cast<int>(team.size());
                c.value = rate;
                c.unit = "FLOP/s";
                c.method = fmt::format("{} independent {} FMA chains per thread, registers only; best of {} runs "
                                       "of {:.0f} ms; {} pinned",
                    isa == Isa::Avx512Fma ? 16 : 12, isaName(isa), peakTrials, peakTarget * 1e3,
                    threadsText(team.size()));
                say(fmt::format("{} {} {}: {}FLOP/s", precisionName(p), isaName(isa), threadsText(team.size()),
                    analyzer::siValue(rate)));
                model.ceilings.push_back(std::move(c));
            }
        }
    }

    cpu.measuredHz = std::max(cpu.measuredHz, measureClock({ all.front() }, clockRun, clockRuns));
    if (all.size() > 1) cpu.measuredAllCoresHz = measureClock(all, clockRun, clockRuns);
    say(fmt::format("core clock {:.3f} GHz (1 core, dependent integer adds){}", cpu.measuredHz / 1e9,
        cpu.measuredAllCoresHz > 0
            ? fmt::format(", {:.3f} GHz with all {} running", cpu.measuredAllCoresHz / 1e9, threadsText(all.size()))
            : std::string()));
    double impliedHz = 0; // the clock the best one-core FMA peak needs at the assumed FLOP per cycle
    std::string impliedBy;
    for (Ceiling& c : model.ceilings) {
        if (c.device != "cpu" || c.kind != CeilingKind::Compute) continue;
        const Isa isa = c.variant == "avx512_fma" ? Isa::Avx512Fma
            : c.variant == "avx2_fma"             ? Isa::Avx2Fma
                                                  : Isa::Scalar;
        std::string why;
        const double perCycle = flopsPerCycle(cpu, isa, c.precision == "fp64" ? Precision::Fp64 : Precision::Fp32, why);
        if (c.threads == 1 && c.value / perCycle > impliedHz) {
            impliedHz = c.value / perCycle;
            impliedBy = fmt::format("{} {} at {}", c.precision, c.variant, why);
        }
        const bool allCores = c.threads > 1;
        const double measured = allCores && cpu.measuredAllCoresHz > 0 ? cpu.measuredAllCoresHz : cpu.measuredHz;
        const double clock = measured > 0 ? measured : cpu.nominalHz;
        if (clock <= 0) continue;
        const std::string clockWhy = measured <= 0   ? "nominal"
            : allCores && cpu.measuredAllCoresHz > 0 ? "measured, all cores running"
                                                     : "measured, 1 core";
        const int cores = allCores ? std::max(1, cpu.cores) : 1;
        c.theoretical = perCycle * clock * cores;
        c.theoreticalMethod
            = fmt::format("{} × {:.3f} GHz ({}) × {} core{}", why, clock / 1e9, clockWhy, cores, cores > 1 ? "s" : "");
    }
    // The add chain and the FMA peaks check each other: no FMA kernel beats the clock × the FLOP per cycle, and a
    // clock far above what the best one needs means either fewer FMA pipes than assumed or a chain the core ran
    // faster than one add per cycle. Either way the theoretical values above are off, and the file says so.
    if (cpu.measuredHz > 0 && impliedHz > 0) {
        if (impliedHz > cpu.measuredHz * 1.05)
            model.notes.push_back(fmt::format("cpu clock check: the one-core FMA peak ({}) needs at least {:.3f} GHz, "
                                              "more than the {:.3f} GHz measured; theoretical peaks are low",
                impliedBy, impliedHz / 1e9, cpu.measuredHz / 1e9));
        else if (cpu.measuredHz > impliedHz * 1.6)
            model.notes.push_back(fmt::format("cpu clock check: the measured {:.3f} GHz is {:.1f}× the {:.3f} GHz the "
                                              "best one-core FMA peak ({}) needs: this core may have fewer FMA pipes "
                                              "than assumed, or the clock reads high; theoretical peaks may be high",
                cpu.measuredHz / 1e9, cpu.measuredHz / impliedHz, impliedHz / 1e9, impliedBy));
    }

    // Bandwidth: working-set sweeps per pattern, then plateaus named by level.
    std::string cacheNote;
    const auto caches = knownCaches(&cacheNote);
    if (!cacheNote.empty()) model.notes.push_back(cacheNote);
    double llc = 0;
    for (const auto& c : caches)
        llc = std::max(llc, c.bytes * static_cast<double>(c.instances.size()));
    // No size known for the last level: sweep as for a 32 MiB one.
    if (llc == 0 || std::any_of(caches.begin(), caches.end(), [](const SysCache& c) { return c.bytes <= 0; }))
        llc = std::max(llc, 32.0 * 1024 * 1024);
    double maxBytes = quick ? std::max(4 * llc, 64.0 * 1024 * 1024) : std::max(4 * llc, 1024.0 * 1024 * 1024);
    const double pagesFree
        = static_cast<double>(sysconf(_SC_AVPHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGESIZE));
    if (pagesFree > 0 && maxBytes > pagesFree / 4) {
        maxBytes = std::max(64.0 * 1024 * 1024, pagesFree / 4);
        model.notes.push_back(
            fmt::format("bandwidth sweep limited to {} by free memory", analyzer::humanBytes(maxBytes)));
    }
    const int perOctave = quick ? 2 : 3;
    std::vector<double> sizes;
    for (int i = 0;; ++i) {
        const double s = 4096.0 * std::pow(2.0, static_cast<double>(i) / perOctave);
        if (s > maxBytes * 1.0001) break;
        sizes.push_back(s);
    }
    const Isa isa = widestIsa();
    std::vector<Pattern> patterns { Pattern::Read, Pattern::Write, Pattern::Triad };
    if (!quick) patterns.insert(patterns.begin() + 2, Pattern::Copy);
    for (const auto& team : teams) {
        const auto threads = team.size();
        // Room for the largest working set, each array rounded up to whole pages plus its skew.
        TeamBuffers buffers(
            team, static_cast<std::size_t>(maxBytes / 8.0 / static_cast<double>(threads)) + 3 * (512 + Arrays::kSkew));
        if (!buffers.ok()) {
            model.notes.push_back(
                fmt::format("cpu bandwidth with {}: not enough memory for the sweep buffers", threadsText(threads)));
            continue;
        }
        for (Pattern pat : patterns) {
            analyzer::Sweep sweep;
            sweep.device = "cpu";
            sweep.pattern = std::string(patternName(pat));
            sweep.threads = static_cast<int>(threads);
            std::vector<analyzer::SweepPoint> points;
            for (double ws : sizes) {
                const double perThread = ws / static_cast<double>(threads) / (8.0 * patternArrays(pat));
                std::size_t n = static_cast<std::size_t>(perThread) / kStreamBlock * kStreamBlock;
                if (n == 0 || Arrays::footprint(n, patternArrays(pat)) > buffers.capacity()) continue;
                const double actual = static_cast<double>(n) * 8.0 * patternArrays(pat) * static_cast<double>(threads);
                if (!points.empty() && actual <= points.back().bytes) continue;
                const double rate = measureRate<Arrays>(
                    team, target, trials,
                    [&, n](int t) {
                        return std::make_unique<Arrays>(buffers[static_cast<std::size_t>(t)], n, patternArrays(pat));
                    },
                    [&](Arrays& s, std::uint64_t reps) {
                        return runStream(isa, pat, s.a, s.b, s.c, s.n, reps, &s.sink);
                    });
                points.push_back({ actual, rate });
                sweep.points.push_back({ actual, rate, {} });
            }
            const auto capacity = capacities(caches, team);
            const auto found = analyzer::detectPlateaus(points, capacity);
            std::string levels;
            for (const auto& pl : found.plateaus) {
                for (auto& pt : sweep.points)
                    if (pt.bytes >= pl.fromBytes && pt.bytes <= pl.toBytes) pt.level = pl.level;
                Ceiling c;
                c.device = "cpu";
                c.kind = CeilingKind::Bandwidth;
                c.level = pl.level;
                c.pattern = sweep.pattern;
                c.threads = static_cast<int>(threads);
                c.value = pl.value;
                c.unit = "B/s";
                c.workingSet = std::make_pair(pl.fromBytes, pl.toBytes);
                c.method = fmt::format("{} {} stream, {}; upper quartile of the {}-point plateau {}–{} (best "
                                       "of {} runs per point)",
                    isaName(isa), sweep.pattern, threadsText(threads), pl.points, analyzer::humanBytes(pl.fromBytes),
                    analyzer::humanBytes(pl.toBytes), trials);
                c.theoreticalMethod = "not derived: needs the memory configuration (DIMMs, channels)";
                model.ceilings.push_back(std::move(c));
                levels += fmt::format(" {} {}B/s", pl.level, analyzer::siValue(pl.value));
            }
            for (const auto& note : found.notes)
                model.notes.push_back(fmt::format("cpu {} {}: {}", sweep.pattern, threadsText(threads), note));
            say(fmt::format("{} {}, {} points:{}", sweep.pattern, threadsText(threads), sweep.points.size(), levels));
            model.sweeps.push_back(std::move(sweep));
        }
    }
    model.mode = quick ? "quick" : "full";
}

} // namespace rooftime::ceilings
