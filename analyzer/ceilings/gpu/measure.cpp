// SPDX-License-Identifier: MIT
#include "measure.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>

#include <fmt/format.h>

#include "arch_table.h"
#include "cublas_check.h"
#include "cuda_check.h"
#include "kernels.h"

namespace rooftime::ceilings::gpu {
namespace {

using Clock = std::chrono::steady_clock;

std::atomic<const char*> g_phase { "start-up" };

void enterPhase(const char* phase)
{
    g_phase.store(phase);
}

double secondsSince(Clock::time_point t0)
{
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

double median(std::vector<double> v)
{
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Human-readable values for progress lines and method sentences only; the JSON carries plain SI numbers.
std::string scaled(double v, const char* unit)
{
    static constexpr std::array<const char*, 6> kPrefixes = { "", "k", "M", "G", "T", "P" };
    std::size_t i = 0;
    while (std::fabs(v) >= 1000 && i + 1 < kPrefixes.size()) {
        v /= 1000;
        ++i;
    }
    return fmt::format("{:.3g} {}{}", v, kPrefixes[i], unit);
}

std::string bytesText(double b)
{
    static constexpr std::array<const char*, 5> kUnits = { "B", "KiB", "MiB", "GiB", "TiB" };
    std::size_t i = 0;
    while (b >= 1024 && i + 1 < kUnits.size()) {
        b /= 1024;
        ++i;
    }
    return fmt::format("{:.4g} {}", b, kUnits[i]);
}

std::string microseconds(double s)
{
    return fmt::format("{:.2f} µs", s * 1e6);
}

// How long each measurement runs. Quick mode must finish in well under 15 s on an H100, full mode under 90 s.
struct Plan {
    double warmUp; ///< seconds of FMA load before the first measurement, so clocks have ramped up
    double computeTarget; ///< one timed compute launch lasts at least this long
    double streamTarget; ///< one timed sweep point lasts at least this long
    int readPerOctave; ///< read sweep points per doubling of the working set
    int writePerOctave; ///< write and copy sweep points per doubling
    double sweepBudget; ///< seconds per sweep; later points are dropped with a note
    int launches; ///< back-to-back empty launches
    int latencyTries; ///< launch-to-start samples
};

Plan planFor(bool quick)
{
    if (quick) return { 0.3, 0.01, 0.002, 2, 1, 4.0, 2000, 200 };
    return { 1.0, 0.05, 0.010, 3, 2, 20.0, 10000, 200 };
}

constexpr int kRepeats = 3;
constexpr long long kMaxIterations = 1LL << 30;

/// Times launches on one stream with events; grows the work count until one launch lasts the target time.
class Runner {
public:
    using Launch = std::function<cudaError_t(long long)>;
    struct Result {
        long long n = 0; ///< iterations or passes of the timed launches
        double seconds = 0; ///< best of kRepeats launches
    };

    explicit Runner(cudaStream_t stream)
        : m_stream(stream)
    { }

    double once(const char* what, const Launch& launch, long long n)
    {
        m_events.start(m_stream);
        check(launch(n), what);
        return m_events.stop(m_stream);
    }

    // Each step multiplies the work by at most 64, so no launch overshoots the target by much: the time spent is
    // bounded by a small multiple of kRepeats × target.
    Result calibrate(const char* what, const Launch& launch, double target, long long nMax = kMaxIterations)
    {
        long long n = 1;
        double t = once(what, launch, n);
        while (t < target && n < nMax) {
            const double factor = std::clamp(t > 0 ? 1.2 * target / t : 64.0, 1.5, 64.0);
            n = std::min(nMax, static_cast<long long>(std::ceil(static_cast<double>(n) * factor)));
            t = once(what, launch, n);
        }
        double best = t;
        for (int r = 1; r < kRepeats; ++r)
            best = std::min(best, once(what, launch, n));
        return { n, best };
    }

private:
    cudaStream_t m_stream;
    EventPair m_events;
};

class StreamGuard {
public:
    StreamGuard() { check(cudaStreamCreateWithFlags(&m_stream, cudaStreamNonBlocking), "cudaStreamCreateWithFlags"); }
    ~StreamGuard() { cudaStreamDestroy(m_stream); }
    StreamGuard(const StreamGuard&) = delete;
    StreamGuard& operator=(const StreamGuard&) = delete;
    cudaStream_t get() const { return m_stream; }

private:
    cudaStream_t m_stream = nullptr;
};

std::string formatVersion(int v)
{
    return fmt::format("{}.{}", v / 1000, (v % 1000) / 10);
}

std::string formatUuid(const cudaUUID_t& id)
{
    // nvidia-smi's form: GPU-8-4-4-4-12 hex digits.
    std::string hex;
    for (int i = 0; i < 16; ++i)
        hex += fmt::format("{:02x}", static_cast<unsigned char>(id.bytes[i]));
    return fmt::format("GPU-{}-{}-{}-{}-{}", hex.substr(0, 8), hex.substr(8, 4), hex.substr(12, 4), hex.substr(16, 4),
        hex.substr(20, 12));
}

int attribute(cudaDeviceAttr attr, int device, const char* name)
{
    int v = 0;
    if (cudaError_t err = cudaDeviceGetAttribute(&v, attr, device); err != cudaSuccess)
        throw CudaError(std::string("cudaDeviceGetAttribute(") + name + ")", err);
    return v;
}

std::string clockText(double hz)
{
    return fmt::format("{:.0f} MHz", hz / 1e6);
}

/// Sets the clock-based theoretical values of @p c: per-clock-per-SM rate × SMs × clock.
void setTheoretical(Ceiling& c, const GpuIdentity& g, double perClock, const std::string& what, std::string_view source,
    std::string_view caveat = {})
{
    c.theoretical = perClock * g.sms * g.smMaxHz;
    if (g.smMeasuredHz > 0) c.theoreticalAtMeasuredClock = perClock * g.sms * g.smMeasuredHz;
    c.theoreticalMethod = fmt::format("{:g} {}/clk/SM × {} SMs × {} (max SM clock, cudaDevAttrClockRate); source: {}",
        perClock, what, g.sms, clockText(g.smMaxHz), source);
    if (!caveat.empty()) c.theoreticalMethod += fmt::format("; note: {}", caveat);
}

class Session {
public:
    Session(const Options& options, GpuIdentity gpu)
        : m_quick(options.quick)
        , m_plan(planFor(options.quick))
        , m_arch(findArch(gpu.major, gpu.minor))
        , m_sink(4096)
        , m_run(m_stream.get())
    {
        m_m.gpu = std::move(gpu);
        if (m_arch == nullptr)
            m_m.notes.push_back(
                fmt::format("no throughput table entry for {}: clock-based theoretical values are null", m_m.gpu.arch));
        else if (!m_arch->tensorNote.empty())
            m_m.notes.push_back(fmt::format("tensor ceilings on {}: {}", m_m.gpu.arch, m_arch->tensorNote));
    }

    Measurement run()
    {
        warmUp();
        measureFma(FmaType::Fp32); // first: it also measures the SM clock the later theoretical values use
        measureFma(FmaType::Fp64);
        measureFma(FmaType::Fp16x2);
        measureMma(MmaType::Fp16);
        measureMma(MmaType::Bf16);
        measureMma(MmaType::Tf32);
        measureCublas();
        measureShared();
        measureSweep(StreamPattern::Read);
        measureSweep(StreamPattern::Write);
        measureSweep(StreamPattern::Copy);
        measureLaunch();
        enterPhase("output");
        return std::move(m_m);
    }

private:
    const GpuIdentity& gpu() const { return m_m.gpu; }
    cudaStream_t stream() const { return m_stream.get(); }

    void warmUp()
    {
        enterPhase("warm-up");
        progress(fmt::format("warming up for {:.1f} s", m_plan.warmUp));
        int perSm = 0;
        check(fmaBlocksPerSm(FmaType::Fp32, &perSm), "cudaOccupancyMaxActiveBlocksPerMultiprocessor");
        const int blocks = perSm * gpu().sms;
        const Runner::Launch launch = [&](long long n) {
            return launchFma(FmaType::Fp32, blocks, static_cast<int>(n), m_sink.get(), nullptr, stream());
        };
        const auto t0 = Clock::now();
        const Runner::Result r = m_run.calibrate("fmaKernel<float> launch", launch, 0.02);
        while (secondsSince(t0) < m_plan.warmUp)
            m_run.once("fmaKernel<float> launch", launch, r.n);
    }

    void measureFma(FmaType t)
    {
        const char* precision = t == FmaType::Fp64 ? "fp64" : (t == FmaType::Fp32 ? "fp32" : "fp16");
        const char* type = t == FmaType::Fp64 ? "double" : (t == FmaType::Fp32 ? "float" : "__half2");
        const char* instruction = t == FmaType::Fp64 ? "DFMA" : (t == FmaType::Fp32 ? "FFMA" : "HFMA2");
        enterPhase(t == FmaType::Fp64 ? "fp64 fma" : (t == FmaType::Fp32 ? "fp32 fma" : "fp16 fma"));
        int perSm = 0;
        check(fmaBlocksPerSm(t, &perSm), "cudaOccupancyMaxActiveBlocksPerMultiprocessor");
        const int blocks = perSm * gpu().sms;
        const bool clocked = t == FmaType::Fp32;
        std::vector<BlockClock> clocks(clocked ? static_cast<std::size_t>(blocks) : 0);
        DeviceBuffer clockBuf(std::max<std::size_t>(1, clocks.size() * sizeof(BlockClock)));
        const Runner::Launch launch = [&](long long n) {
            return launchFma(
                t, blocks, static_cast<int>(n), m_sink.get(), clocked ? clockBuf.as<BlockClock>() : nullptr, stream());
        };
        const std::string what = fmt::format("fmaKernel<{}> launch", type);
        const Runner::Result r = m_run.calibrate(what.c_str(), launch, m_plan.computeTarget);
        const double flops = static_cast<double>(blocks) * kFmaThreads * static_cast<double>(r.n) * kFmaChains
            * kFmaUnroll * fmaFlopsPerInstruction(t);
        if (clocked) measuredClock(clocks, clockBuf);

        Ceiling c;
        c.kind = "compute";
        c.precision = precision;
        c.variant = "fma";
        c.value = flops / r.seconds;
        c.unit = "FLOP/s";
        c.method = fmt::format(
            "fmaKernel<{}>: {} independent {} chains per thread, {} steps unrolled per iteration, {} iterations; {} "
            "blocks × {} threads ({} per SM, one wave); FLOPs = blocks × threads × iterations × chains × steps × {}; "
            "best of {} runs of ≥ {:g} ms (cudaEvent)",
            type, kFmaChains, instruction, kFmaUnroll, r.n, blocks, kFmaThreads, perSm, fmaFlopsPerInstruction(t),
            kRepeats, m_plan.computeTarget * 1e3);
        if (m_arch != nullptr) {
            const double perClock
                = t == FmaType::Fp64 ? m_arch->fp64Fma : (t == FmaType::Fp32 ? m_arch->fp32Fma : m_arch->fp16Fma);
            setTheoretical(c, gpu(), perClock, fmt::format("FLOP ({} on CUDA cores)", instruction), m_arch->source);
        }
        report(c);
    }

    // SM clock while the FMA kernel ran: per block, clock64 cycles over %globaltimer nanoseconds; the median block.
    void measuredClock(std::vector<BlockClock>& clocks, const DeviceBuffer& buf)
    {
        check(cudaMemcpy(clocks.data(), buf.get(), clocks.size() * sizeof(BlockClock), cudaMemcpyDeviceToHost),
            "cudaMemcpy");
        std::vector<double> ghz;
        for (const auto& b : clocks)
            if (b.ns1 > b.ns0 + 100000 && b.cycles1 > b.cycles0)
                ghz.push_back(static_cast<double>(b.cycles1 - b.cycles0) / static_cast<double>(b.ns1 - b.ns0));
        if (ghz.empty()) {
            m_m.notes.push_back(
                "sm_measured_hz unavailable: the FMA kernel's clock64/%globaltimer samples were unusable");
            return;
        }
        m_m.gpu.smMeasuredHz = median(ghz) * 1e9;
        progress(fmt::format(
            "SM clock under FP32 FMA load: {} (max {})", clockText(gpu().smMeasuredHz), clockText(gpu().smMaxHz)));
    }

    void measureMma(MmaType t)
    {
        const char* precision = t == MmaType::Fp16 ? "fp16" : (t == MmaType::Bf16 ? "bf16" : "tf32");
        enterPhase(t == MmaType::Fp16 ? "fp16 tensor" : (t == MmaType::Bf16 ? "bf16 tensor" : "tf32 tensor"));
        int perSm = 0;
        check(mmaBlocksPerSm(t, &perSm), "cudaOccupancyMaxActiveBlocksPerMultiprocessor");
        const int blocks = perSm * gpu().sms;
        const std::size_t tile = mmaTileBytes(t);
        DeviceBuffer tiles(2 * tile);
        const FillType fill
            = t == MmaType::Fp16 ? FillType::Fp16 : (t == MmaType::Bf16 ? FillType::Bf16 : FillType::Fp32);
        check(launchFill(fill, tiles.get(), 2 * tile / (t == MmaType::Tf32 ? 4 : 2), 7, stream()), "fillKernel launch");
        DeviceBuffer out(static_cast<std::size_t>(blocks) * kMmaWarps * 256 * sizeof(float));
        const char* a = tiles.as<const char>();
        const Runner::Launch launch = [&](long long n) {
            return launchMma(t, blocks, static_cast<int>(n), a, a + tile, out.as<float>(), stream());
        };
        const std::string what = fmt::format("mmaKernel<{}> launch", precision);
        const Runner::Result r = m_run.calibrate(what.c_str(), launch, m_plan.computeTarget);
        const double flops
            = static_cast<double>(blocks) * kMmaWarps * static_cast<double>(r.n) * kMmaAccumulators * mmaFlops(t);

        Ceiling c;
        c.kind = "compute";
        c.precision = precision;
        c.variant = "tensor";
        c.value = flops / r.seconds;
        c.unit = "FLOP/s";
        c.method = fmt::format(
            "mmaKernel<{}>: nvcuda::wmma 16x16x{} mma_sync with fp32 accumulate, fragments in registers, {} "
            "independent "
            "accumulators per warp, {} iterations; {} blocks × {} warps ({} per SM, one wave); FLOPs = warps × "
            "iterations × accumulators × {:g}; best of {} runs of ≥ {:g} ms (cudaEvent)",
            precision, mmaK(t), kMmaAccumulators, r.n, blocks, kMmaWarps, perSm, mmaFlops(t), kRepeats,
            m_plan.computeTarget * 1e3);
        if (m_arch != nullptr) {
            const double perClock = t == MmaType::Fp16 ? m_arch->tensorFp16
                                                       : (t == MmaType::Bf16 ? m_arch->tensorBf16 : m_arch->tensorTf32);
            setTheoretical(c, gpu(), perClock,
                fmt::format("FLOP (tensor cores, {} inputs, fp32 accumulate, dense)", precision), m_arch->source,
                m_arch->tensorNote);
        }
        report(c);
    }

    void measureCublas()
    {
        enterPhase("cuBLAS cross-check");
        for (const GemmTiming& g : timeCublasGemms(m_quick, stream(), m_m.notes)) {
            Ceiling c;
            c.kind = "compute";
            c.precision = g.precision;
            c.variant = "cublas";
            c.crossCheck = true;
            c.value = g.flops() / g.seconds;
            c.unit = "FLOP/s";
            c.method = fmt::format(
                "cublasGemmEx (libcublas.so.13 via dlopen) {} inputs and output, CUBLAS_COMPUTE_32F, TN, M = N = K = "
                "{}; FLOPs = 2·M·N·K; best of 3 batches of {} calls (cudaEvent)",
                g.precision, g.n, g.calls);
            if (m_arch != nullptr)
                setTheoretical(c, gpu(), g.precision == "fp16" ? m_arch->tensorFp16 : m_arch->tensorBf16,
                    fmt::format("FLOP (tensor cores, {} inputs, fp32 accumulate, dense)", g.precision), m_arch->source,
                    m_arch->tensorNote);
            report(c);
        }
    }

    void measureShared()
    {
        enterPhase("shared memory");
        int perSm = 0;
        check(sharedBlocksPerSm(&perSm), "cudaOccupancyMaxActiveBlocksPerMultiprocessor");
        const int blocks = perSm * gpu().sms;
        const Runner::Launch launch
            = [&](long long n) { return launchShared(blocks, static_cast<int>(n), m_sink.as<float>(), stream()); };
        const Runner::Result r = m_run.calibrate("sharedKernel launch", launch, m_plan.computeTarget);
        const double bytes
            = static_cast<double>(blocks) * kSharedThreads * static_cast<double>(r.n) * kSharedLoads * 16;

        Ceiling c;
        c.kind = "bandwidth";
        c.level = "shared";
        c.pattern = "read";
        c.value = bytes / r.seconds;
        c.unit = "B/s";
        c.workingSet = std::make_pair(static_cast<double>(kSharedBytes), static_cast<double>(kSharedBytes));
        c.method = fmt::format("sharedKernel: each thread reads {} float4 per iteration from a {} block buffer, a warp "
                               "512 contiguous bytes "
                               "(conflict-free), {} iterations; {} blocks × {} threads ({} per SM); bytes = threads × "
                               "iterations × {} × 16; "
                               "best of {} runs of ≥ {:g} ms (cudaEvent)",
            kSharedLoads, bytesText(static_cast<double>(kSharedBytes)), r.n, blocks, kSharedThreads, perSm,
            kSharedLoads, kRepeats, m_plan.computeTarget * 1e3);
        if (m_arch != nullptr)
            setTheoretical(c, gpu(), m_arch->sharedBytesPerClock, "B (32 banks × 4 B)", m_arch->source);
        report(c);
    }

    // The level a working set is expected to be served from. L1 only for reads: stores write through L1.
    std::string expectedLevel(StreamPattern p, double ws) const
    {
        const double l1 = gpu().l1BytesPerSm, l2 = gpu().l2Bytes;
        if (ws <= l1 / 2) return p == StreamPattern::Read ? "L1" : "";
        if (ws >= 2 * l1 && ws <= l2 / 2) return "L2";
        if (ws >= 4 * l2) return "HBM";
        return "";
    }

    struct Shape {
        std::size_t slices = 0;
        std::size_t sliceBytes = 0;
        std::size_t bytes() const { return slices * sliceBytes; }
    };

    // Slices of at least 16 KiB (four float4 per thread and pass), at most one per block, each a whole number of
    // kStreamUnitBytes: the working set actually used is slices × sliceBytes (rounded down from the request).
    static Shape shapeFor(std::size_t bytes, int blocks)
    {
        constexpr std::size_t kMinSlice = 4 * kStreamUnitBytes;
        Shape s;
        s.slices = std::clamp<std::size_t>(bytes / kMinSlice, 1, static_cast<std::size_t>(blocks));
        s.sliceBytes = std::max(kStreamUnitBytes, bytes / s.slices / kStreamUnitBytes * kStreamUnitBytes);
        return s;
    }

    void measureSweep(StreamPattern p)
    {
        const char* pattern = p == StreamPattern::Read ? "read" : (p == StreamPattern::Write ? "write" : "copy");
        const char* kernel
            = p == StreamPattern::Read ? "readKernel" : (p == StreamPattern::Write ? "writeKernel" : "copyKernel");
        enterPhase(
            p == StreamPattern::Read ? "read sweep" : (p == StreamPattern::Write ? "write sweep" : "copy sweep"));
        const auto t0 = Clock::now();
        int perSm = 0;
        check(streamBlocksPerSm(p, &perSm), "cudaFuncSetAttribute/cudaOccupancyMaxActiveBlocksPerMultiprocessor");
        const int blocks = perSm * gpu().sms;

        // Largest set: max(4 × L2, 2 GiB), at most half of the free memory.
        std::size_t freeBytes = 0, totalBytes = 0;
        check(cudaMemGetInfo(&freeBytes, &totalBytes), "cudaMemGetInfo");
        double hi = std::max(4 * gpu().l2Bytes, 2.0 * (1 << 30));
        hi = std::min(hi, static_cast<double>(freeBytes) / 2);
        const std::size_t bufBytes = static_cast<std::size_t>(hi) / (2 * kStreamUnitBytes) * (2 * kStreamUnitBytes);
        if (bufBytes < 2 * kStreamUnitBytes) {
            m_m.notes.push_back(fmt::format("{} sweep skipped: only {} free", pattern, bytesText(freeBytes)));
            return;
        }
        if (bufBytes < 4 * gpu().l2Bytes)
            m_m.notes.push_back(fmt::format("{} sweep ends at {} (half the free memory), below 4 × L2: no HBM points",
                pattern, bytesText(static_cast<double>(bufBytes))));
        DeviceBuffer buf(bufBytes);
        check(launchFill(FillType::Fp32, buf.get(), bufBytes / 4, 3, stream()), "fillKernel launch");
        char* base = buf.as<char>();
        const bool copy = p == StreamPattern::Copy;
        const int perOctave = p == StreamPattern::Read ? m_plan.readPerOctave : m_plan.writePerOctave;
        const double lo = 16.0 * 1024;

        Sweep sweep;
        sweep.pattern = pattern;
        std::size_t last = 0;
        for (int i = 0;; ++i) {
            double want = lo * std::exp2(static_cast<double>(i) / perOctave);
            if (want > static_cast<double>(bufBytes) * 1.0001) break;
            want = std::min(want, static_cast<double>(bufBytes));
            if (secondsSince(t0) > m_plan.sweepBudget) {
                m_m.notes.push_back(fmt::format("{} sweep stopped before {} after {:.1f} s (time budget)", pattern,
                    bytesText(want), secondsSince(t0)));
                break;
            }
            const Shape shape = shapeFor(static_cast<std::size_t>(want) / (copy ? 2 : 1), blocks);
            const std::size_t ws = shape.bytes() * (copy ? 2 : 1);
            if (ws == last) continue;
            last = ws;
            const void* src = base;
            void* dst = p == StreamPattern::Write ? base : base + bufBytes / 2;
            const bool beyondL1 = static_cast<double>(ws) > gpu().l1BytesPerSm / 2;
            const Runner::Launch launch = [&](long long passes) {
                return launchStream(p, beyondL1, blocks, src, dst, shape.slices, shape.sliceBytes,
                    static_cast<int>(passes), m_sink.as<float>(), stream());
            };
            const std::string what = fmt::format("{} launch", kernel);
            const Runner::Result r = m_run.calibrate(what.c_str(), launch, m_plan.streamTarget);
            const double moved = static_cast<double>(blocks) * static_cast<double>(shape.sliceBytes)
                * static_cast<double>(r.n) * (copy ? 2 : 1);
            sweep.points.push_back(
                { static_cast<double>(ws), moved / r.seconds, expectedLevel(p, static_cast<double>(ws)) });
        }

        for (const char* level : { "L1", "L2", "HBM" })
            levelCeiling(p, pattern, kernel, level, sweep, blocks, perSm);
        m_m.sweeps.push_back(std::move(sweep));
    }

    void levelCeiling(StreamPattern p, const char* pattern, const char* kernel, const std::string& level,
        const Sweep& sweep, int blocks, int perSm)
    {
        if (level == "L1" && p != StreamPattern::Read) return;
        std::vector<double> values;
        double lo = 0, hi = 0;
        for (const auto& pt : sweep.points) {
            if (pt.level != level) continue;
            if (values.empty()) lo = pt.bytes;
            hi = pt.bytes;
            values.push_back(pt.value);
        }
        if (values.empty()) {
            m_m.notes.push_back(
                fmt::format("no {} sweep point in the {} range: no {} {} ceiling", pattern, level, level, pattern));
            return;
        }
        Ceiling c;
        c.kind = "bandwidth";
        c.level = level;
        c.pattern = pattern;
        c.value = median(values);
        c.unit = "B/s";
        c.workingSet = std::make_pair(lo, hi);
        const char* access = p == StreamPattern::Read
            ? "float4 loads, 4 in flight per thread"
            : (p == StreamPattern::Write ? "float4 stores" : "float4 load + store, 4 in flight per thread");
        c.method = fmt::format(
            "{} ({}): {} blocks × {} threads ({} per SM, one wave); {}; median of {} sweep points from {} to {}{}, "
            "each the best of {} runs of ≥ {:g} ms (cudaEvent); range rule: {}",
            kernel, access, blocks, kStreamThreads, perSm,
            level == "L1"
                ? "in pass p block b streams slice (b + p) mod slices, so every SM sees the whole working set"
                : "loads bypass L1 (ld.global.cg) and block b streams slice b mod slices in every pass (blocks "
                  "sharing a slice, where slices < blocks, read it at the same time)",
            values.size(), bytesText(lo), bytesText(hi), p == StreamPattern::Copy ? " (read + written bytes)" : "",
            kRepeats, m_plan.streamTarget * 1e3,
            level == "L1" ? fmt::format("set ≤ L1/2 = {}", bytesText(gpu().l1BytesPerSm / 2))
                          : (level == "L2" ? fmt::format("2 × L1 = {} ≤ set ≤ L2/2 = {}",
                                 bytesText(2 * gpu().l1BytesPerSm), bytesText(gpu().l2Bytes / 2))
                                           : fmt::format("set ≥ 4 × L2 = {}", bytesText(4 * gpu().l2Bytes))));
        if (level == "HBM") {
            c.theoretical = gpu().memoryHz * 2 * gpu().busWidthBits / 8;
            c.theoreticalMethod = fmt::format("{} (cudaDevAttrMemoryClockRate) × 2 (double data rate) × {:g}-bit bus / "
                                              "8 (cudaDevAttrGlobalMemoryBusWidth)",
                clockText(gpu().memoryHz), gpu().busWidthBits);
        } else if (level == "L1" && m_arch != nullptr) {
            setTheoretical(c, gpu(), m_arch->l1BytesPerClock, "B (L1 hits; assumed equal to the shared-memory path)",
                m_arch->source);
        } else if (level == "L2") {
            c.theoreticalMethod = "none: NVIDIA publishes no L2 bandwidth";
        }
        report(c);
    }

    void measureLaunch()
    {
        enterPhase("launch floor");
        // Back to back: the GPU timeline of many empty launches queued on one stream.
        for (int i = 0; i < 200; ++i)
            check(launchEmpty(stream()), "emptyKernel launch");
        check(cudaStreamSynchronize(stream()), "cudaStreamSynchronize");
        EventPair ev;
        const auto h0 = Clock::now();
        ev.start(stream());
        for (int i = 0; i < m_plan.launches; ++i)
            check(launchEmpty(stream()), "emptyKernel launch");
        const double gpuSeconds = ev.stop(stream());
        const double hostSeconds = secondsSince(h0);
        Ceiling b2b;
        b2b.kind = "launch";
        b2b.variant = "back_to_back";
        b2b.value = gpuSeconds / m_plan.launches;
        b2b.unit = "s";
        b2b.method = fmt::format("{} empty <<<1,1>>> kernels launched back to back on one stream; value = cudaEvent "
                                 "span / {} (host clock: {} per launch)",
            m_plan.launches, m_plan.launches, microseconds(hostSeconds / m_plan.launches));
        report(b2b);

        // Launch to start: a kernel writes a flag into mapped pinned host memory; the host spins on it.
        int* hostFlag = nullptr;
        if (cudaError_t err = cudaHostAlloc(reinterpret_cast<void**>(&hostFlag), sizeof(int), cudaHostAllocMapped);
            err != cudaSuccess) {
            m_m.notes.push_back(
                fmt::format("launch_to_start skipped: cudaHostAlloc(mapped): {}", cudaGetErrorString(err)));
            return;
        }
        struct HostFree {
            int* p;
            ~HostFree() { cudaFreeHost(p); }
        } hostFree { hostFlag };
        int* devFlag = nullptr;
        if (cudaError_t err = cudaHostGetDevicePointer(reinterpret_cast<void**>(&devFlag), hostFlag, 0);
            err != cudaSuccess) {
            m_m.notes.push_back(
                fmt::format("launch_to_start skipped: cudaHostGetDevicePointer: {}", cudaGetErrorString(err)));
            return;
        }
        std::atomic_ref<int> flag(*hostFlag);
        std::vector<double> startLatency, callTime;
        for (int i = 0; i < m_plan.latencyTries; ++i) {
            const int token = i + 1;
            flag.store(0, std::memory_order_release);
            const auto t0 = Clock::now();
            const cudaError_t err = launchFlag(devFlag, token, stream());
            const auto t1 = Clock::now();
            check(err, "flagKernel launch");
            bool seen = false;
            Clock::time_point t2;
            do {
                seen = flag.load(std::memory_order_acquire) == token;
                t2 = Clock::now();
            } while (!seen && t2 - t0 < std::chrono::seconds(1));
            check(cudaStreamSynchronize(stream()), "cudaStreamSynchronize");
            if (!seen) {
                m_m.notes.push_back("launch_to_start skipped: the host did not see the kernel's write to mapped memory "
                                    "within 1 s");
                startLatency.clear();
                break;
            }
            startLatency.push_back(std::chrono::duration<double>(t2 - t0).count());
            callTime.push_back(std::chrono::duration<double>(t1 - t0).count());
        }
        if (!startLatency.empty()) {
            Ceiling l;
            l.kind = "launch";
            l.variant = "launch_to_start";
            l.value = median(startLatency);
            l.unit = "s";
            l.method = fmt::format("median of {} launches on an idle stream of a kernel that writes a flag to mapped "
                                   "pinned host memory: host steady_clock from before the launch call until the host "
                                   "sees the flag (includes the PCIe write back)",
                startLatency.size());
            report(l);
        }
        if (!callTime.empty()) {
            Ceiling h;
            h.kind = "launch";
            h.variant = "host_launch_call";
            h.value = median(callTime);
            h.unit = "s";
            h.method = fmt::format("median of {} host steady_clock durations of one <<<1,1>>> launch call (including "
                                   "cudaGetLastError) on an idle stream",
                callTime.size());
            report(h);
        }
    }

    void report(Ceiling c)
    {
        std::string line;
        if (c.kind == "compute")
            line = fmt::format("{} {}: {}", c.precision, c.variant, scaled(c.value, "FLOP/s"));
        else if (c.kind == "bandwidth")
            line = fmt::format("{} {}: {}", c.level, c.pattern, scaled(c.value, "B/s"));
        else
            line = fmt::format("launch {}: {}", c.variant, microseconds(c.value));
        if (c.theoretical) line += fmt::format(" (theoretical {})", scaled(*c.theoretical, c.unit.c_str()));
        progress(line);
        m_m.ceilings.push_back(std::move(c));
    }

    bool m_quick;
    Plan m_plan;
    const ArchThroughput* m_arch;
    StreamGuard m_stream;
    DeviceBuffer m_sink;
    Runner m_run;
    Measurement m_m;
};

} // namespace

const char* currentPhase()
{
    return g_phase.load();
}

void progress(const std::string& text)
{
    std::fprintf(stderr, "rooftime ceilings: %s\n", text.c_str());
    std::fflush(stderr);
}

GpuIdentity openDevice(int index)
{
    enterPhase("device discovery");
    int count = 0;
    if (cudaError_t err = cudaGetDeviceCount(&count); err != cudaSuccess)
        throw NoUsableGpu(fmt::format("no CUDA GPU found (cudaGetDeviceCount: {})", cudaGetErrorString(err)));
    if (count == 0) throw NoUsableGpu("no CUDA GPU found (cudaGetDeviceCount: 0 devices)");
    if (index >= count)
        throw NoUsableGpu(fmt::format(
            "no CUDA GPU {} (cudaGetDeviceCount: {} device{}, numbered from 0)", index, count, count == 1 ? "" : "s"));
    cudaDeviceProp prop {};
    check(cudaGetDeviceProperties(&prop, index), "cudaGetDeviceProperties");
    GpuIdentity g;
    g.index = index;
    g.name = prop.name;
    g.uuid = formatUuid(prop.uuid);
    g.major = prop.major;
    g.minor = prop.minor;
    g.arch = fmt::format("sm_{}{}", prop.major, prop.minor);
    if (prop.major * 10 + prop.minor < 80)
        throw NoUsableGpu(fmt::format(
            "GPU {} ({}, {}) is older than sm_80, the oldest this build has kernels for", index, g.name, g.arch));
    if (cudaError_t err = cudaSetDevice(index); err != cudaSuccess)
        throw NoUsableGpu(
            fmt::format("GPU {} ({}) is not usable (cudaSetDevice: {})", index, g.name, cudaGetErrorString(err)));
    if (cudaError_t err = cudaFree(nullptr); err != cudaSuccess) // creates the context
        throw NoUsableGpu(
            fmt::format("GPU {} ({}) is not usable (context creation: {})", index, g.name, cudaGetErrorString(err)));
    int probe = 0;
    if (cudaError_t err = fmaBlocksPerSm(FmaType::Fp32, &probe); err != cudaSuccess) {
        if (err == cudaErrorNoKernelImageForDevice || err == cudaErrorUnsupportedPtxVersion
            || err == cudaErrorInvalidPtx)
            throw NoUsableGpu(fmt::format("GPU {} ({}, {}) cannot run this build's kernels ({})", index, g.name, g.arch,
                cudaGetErrorString(err)));
        throw CudaError("cudaOccupancyMaxActiveBlocksPerMultiprocessor", err);
    }
    int driver = 0, runtime = 0;
    check(cudaDriverGetVersion(&driver), "cudaDriverGetVersion");
    check(cudaRuntimeGetVersion(&runtime), "cudaRuntimeGetVersion");
    g.driverVersion = formatVersion(driver);
    g.runtimeVersion = formatVersion(runtime);
    g.sms = prop.multiProcessorCount;
    g.memoryBytes = static_cast<double>(prop.totalGlobalMem);
    g.l2Bytes = attribute(cudaDevAttrL2CacheSize, index, "cudaDevAttrL2CacheSize");
    g.busWidthBits = attribute(cudaDevAttrGlobalMemoryBusWidth, index, "cudaDevAttrGlobalMemoryBusWidth");
    // kHz; CUDA 13 dropped cudaDeviceProp::clockRate and ::memoryClockRate.
    g.smMaxHz = 1e3 * attribute(cudaDevAttrClockRate, index, "cudaDevAttrClockRate");
    g.memoryHz = 1e3 * attribute(cudaDevAttrMemoryClockRate, index, "cudaDevAttrMemoryClockRate");
    if (const ArchThroughput* a = findArch(g.major, g.minor))
        g.l1BytesPerSm = a->l1Bytes;
    else
        g.l1BytesPerSm = attribute(
            cudaDevAttrMaxSharedMemoryPerMultiprocessor, index, "cudaDevAttrMaxSharedMemoryPerMultiprocessor");
    progress(fmt::format("gpu{} {} ({}, {} SMs, {} L2, {} max SM clock, driver {}, runtime {})", index, g.name, g.arch,
        g.sms, bytesText(g.l2Bytes), clockText(g.smMaxHz), g.driverVersion, g.runtimeVersion));
    return g;
}

void probeCounters(const GpuIdentity& gpu, double warmUpSeconds)
{
    enterPhase("counter probe");
    int perSm64 = 0, perSm32 = 0;
    check(fmaBlocksPerSm(FmaType::Fp64, &perSm64), "cudaOccupancyMaxActiveBlocksPerMultiprocessor");
    check(fmaBlocksPerSm(FmaType::Fp32, &perSm32), "cudaOccupancyMaxActiveBlocksPerMultiprocessor");
    DeviceBuffer sink(16);
    EventPair events;
    // Doubling until a launch lasts 10 ms; under `--counters 1` only the first launch of each kernel is replayed.
    int n = 16;
    const auto t0 = Clock::now();
    while (secondsSince(t0) < warmUpSeconds) {
        events.start(nullptr);
        check(launchFma(FmaType::Fp64, perSm64 * gpu.sms, n, sink.get(), nullptr, nullptr), "fmaKernel<double> launch");
        if (events.stop(nullptr) < 0.01 && n < (1 << 24)) n *= 2;
    }
    check(launchFma(FmaType::Fp32, perSm32 * gpu.sms, n, sink.get(), nullptr, nullptr), "fmaKernel<float> launch");
    check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
    progress(
        fmt::format("gpu{} counter probe: {:.1f} s of fp64 FMA launches, then one fp32 FMA launch of {} iterations",
            gpu.index, secondsSince(t0), n));
}

Measurement measure(const Options& options, GpuIdentity gpu)
{
    Session session(options, std::move(gpu));
    return session.run();
}

} // namespace rooftime::ceilings::gpu
