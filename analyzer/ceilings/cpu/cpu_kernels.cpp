// SPDX-License-Identifier: MIT
#include "cpu_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace rooftime::ceilings {

std::string_view isaName(Isa isa)
{
    switch (isa) {
    case Isa::Scalar:
        return "scalar";
    case Isa::Avx2Fma:
        return "avx2_fma";
    case Isa::Avx512Fma:
        return "avx512_fma";
    }
    return "?";
}

std::string_view precisionName(Precision p)
{
    return p == Precision::Fp64 ? "fp64" : "fp32";
}

std::string_view patternName(Pattern p)
{
    switch (p) {
    case Pattern::Read:
        return "read";
    case Pattern::Write:
        return "write";
    case Pattern::Copy:
        return "copy";
    case Pattern::Triad:
        return "triad";
    }
    return "?";
}

int patternBytesPerElement(Pattern p)
{
    return 8 * patternArrays(p);
}

int patternArrays(Pattern p)
{
    switch (p) {
    case Pattern::Read:
    case Pattern::Write:
        return 1;
    case Pattern::Copy:
        return 2;
    case Pattern::Triad:
        return 3;
    }
    return 1;
}

int isaLanes(Isa isa, Precision p)
{
    const int perDouble = isa == Isa::Scalar ? 1 : (isa == Isa::Avx2Fma ? 4 : 8);
    return isa == Isa::Scalar ? 1 : (p == Precision::Fp64 ? perDouble : 2 * perDouble);
}

#if defined(__x86_64__)

bool isaAvailable(Isa isa)
{
    __builtin_cpu_init();
    switch (isa) {
    case Isa::Scalar:
        return true;
    case Isa::Avx2Fma:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case Isa::Avx512Fma:
        return __builtin_cpu_supports("avx512f");
    }
    return false;
}

Isa widestIsa()
{
    if (isaAvailable(Isa::Avx512Fma)) return Isa::Avx512Fma;
    if (isaAvailable(Isa::Avx2Fma)) return Isa::Avx2Fma;
    return Isa::Scalar;
}

namespace {

// FMA chains: K independent accumulators, each updated acc = acc * m + a. K covers FMA latency (4-5 cycles)
// times the number of FMA pipes (2) on current x86 cores with room to spare; m and a keep values bounded
// and away from denormals. The compiler cannot merge or reorder the chains (no -ffast-math here).
#define ROOFTIME_CHAIN_BODY(FMA, K)                                                                                    \
    for (std::uint64_t it = 0; it < iterations; ++it) {                                                                \
        _Pragma("GCC unroll 16") for (int k = 0; k < K; ++k) acc[k] = FMA(acc[k], m, a);                               \
    }

// Scalar chains in two builds: with FMA where the CPU has it, and mul + add compiled for the x86-64 baseline
// (SSE2), so that a CPU without AVX never meets a VEX-encoded instruction.
#define ROOFTIME_SCALAR_CHAINS(NAME, ATTR, VEC, SET, STEP, CVT, ONE, M, A)                                             \
    ATTR double NAME(std::uint64_t iterations)                                                                         \
    {                                                                                                                  \
        constexpr int K = 12;                                                                                          \
        VEC acc[K];                                                                                                    \
        for (int k = 0; k < K; ++k)                                                                                    \
            acc[k] = SET(ONE + static_cast<decltype(ONE)>(k));                                                         \
        const VEC m = SET(M), a = SET(A);                                                                              \
        for (std::uint64_t it = 0; it < iterations; ++it)                                                              \
            _Pragma("GCC unroll 16") for (int k = 0; k < K; ++k) acc[k] = STEP;                                        \
        double s = 0;                                                                                                  \
        for (int k = 0; k < K; ++k)                                                                                    \
            s += static_cast<double>(CVT(acc[k]));                                                                     \
        return s;                                                                                                      \
    }

ROOFTIME_SCALAR_CHAINS(scalarFmaF64, __attribute__((target("fma"))), __m128d, _mm_set_sd, _mm_fmadd_sd(acc[k], m, a),
    _mm_cvtsd_f64, 1.0, 0.9999999, 1e-7)
ROOFTIME_SCALAR_CHAINS(scalarFmaF32, __attribute__((target("fma"))), __m128, _mm_set_ss, _mm_fmadd_ss(acc[k], m, a),
    _mm_cvtss_f32, 1.0f, 0.99999f, 1e-5f)
ROOFTIME_SCALAR_CHAINS(
    scalarMulAddF64, , __m128d, _mm_set_sd, _mm_add_sd(_mm_mul_sd(acc[k], m), a), _mm_cvtsd_f64, 1.0, 0.9999999, 1e-7)
ROOFTIME_SCALAR_CHAINS(
    scalarMulAddF32, , __m128, _mm_set_ss, _mm_add_ss(_mm_mul_ss(acc[k], m), a), _mm_cvtss_f32, 1.0f, 0.99999f, 1e-5f)

#undef ROOFTIME_SCALAR_CHAINS

__attribute__((target("avx2,fma"))) double avx2FmaF64(std::uint64_t iterations)
{
    constexpr int K = 12;
    __m256d acc[K];
    for (int k = 0; k < K; ++k)
        acc[k] = _mm256_set1_pd(1.0 + k);
    const __m256d m = _mm256_set1_pd(0.9999999), a = _mm256_set1_pd(1e-7);
    ROOFTIME_CHAIN_BODY(_mm256_fmadd_pd, K)
    __m256d s = acc[0];
    for (int k = 1; k < K; ++k)
        s = _mm256_add_pd(s, acc[k]);
    return _mm256_cvtsd_f64(s);
}

__attribute__((target("avx2,fma"))) double avx2FmaF32(std::uint64_t iterations)
{
    constexpr int K = 12;
    __m256 acc[K];
    for (int k = 0; k < K; ++k)
        acc[k] = _mm256_set1_ps(1.0f + static_cast<float>(k));
    const __m256 m = _mm256_set1_ps(0.99999f), a = _mm256_set1_ps(1e-5f);
    ROOFTIME_CHAIN_BODY(_mm256_fmadd_ps, K)
    __m256 s = acc[0];
    for (int k = 1; k < K; ++k)
        s = _mm256_add_ps(s, acc[k]);
    return static_cast<double>(_mm256_cvtss_f32(s));
}

// Horizontal sums through memory: GCC 12's _mm512_reduce_add_* trips -Wuninitialized inside its own header.
__attribute__((target("avx512f"))) double sum512(__m512d v)
{
    alignas(64) double lanes[8];
    _mm512_store_pd(lanes, v);
    double s = 0;
    for (double x : lanes)
        s += x;
    return s;
}

__attribute__((target("avx512f"))) double sum512(__m512 v)
{
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, v);
    double s = 0;
    for (float x : lanes)
        s += static_cast<double>(x);
    return s;
}

__attribute__((target("avx512f"))) double avx512FmaF64(std::uint64_t iterations)
{
    constexpr int K = 16;
    __m512d acc[K];
    for (int k = 0; k < K; ++k)
        acc[k] = _mm512_set1_pd(1.0 + k);
    const __m512d m = _mm512_set1_pd(0.9999999), a = _mm512_set1_pd(1e-7);
    ROOFTIME_CHAIN_BODY(_mm512_fmadd_pd, K)
    __m512d s = acc[0];
    for (int k = 1; k < K; ++k)
        s = _mm512_add_pd(s, acc[k]);
    return sum512(s);
}

__attribute__((target("avx512f"))) double avx512FmaF32(std::uint64_t iterations)
{
    constexpr int K = 16;
    __m512 acc[K];
    for (int k = 0; k < K; ++k)
        acc[k] = _mm512_set1_ps(1.0f + static_cast<float>(k));
    const __m512 m = _mm512_set1_ps(0.99999f), a = _mm512_set1_ps(1e-5f);
    ROOFTIME_CHAIN_BODY(_mm512_fmadd_ps, K)
    __m512 s = acc[0];
    for (int k = 1; k < K; ++k)
        s = _mm512_add_ps(s, acc[k]);
    return sum512(s);
}

#undef ROOFTIME_CHAIN_BODY

constexpr int kChainsScalar = 12, kChainsAvx2 = 12, kChainsAvx512 = 16;

// Streaming loops: 128 doubles (16 cache lines) per iteration; reads feed 16 independent add chains so that
// the adds never limit the load rate. Regular (temporal) stores, as in likwid-bench's non-"_mem" kernels.
// Reads need no compiler barrier: the floating-point sum cannot be reassociated across passes.
__attribute__((target("avx2,fma"))) double avx2Read(const double* a, std::size_t n, std::uint64_t repeats)
{
    __m256d acc[16];
    for (auto& v : acc)
        v = _mm256_setzero_pd();
    for (std::uint64_t r = 0; r < repeats; ++r)
        for (std::size_t i = 0; i < n; i += kStreamBlock) {
            _Pragma("GCC unroll 64") for (int k = 0; k < 32; ++k) acc[k % 16]
                = _mm256_add_pd(acc[k % 16], _mm256_load_pd(a + i + 4 * k));
        }
    __m256d t = acc[0];
    for (int k = 1; k < 16; ++k)
        t = _mm256_add_pd(t, acc[k]);
    return _mm256_cvtsd_f64(t);
}

__attribute__((target("avx2,fma"))) double avx2Stream(
    Pattern p, double* a, const double* b, const double* c, std::size_t n, std::uint64_t repeats)
{
    if (p == Pattern::Read) return avx2Read(a, n, repeats);
    const __m256d s = _mm256_set1_pd(0.5);
    for (std::uint64_t r = 0; r < repeats; ++r) {
        switch (p) {
        case Pattern::Read:
            break;
        case Pattern::Write: {
            const __m256d v = _mm256_set1_pd(static_cast<double>(r));
            for (std::size_t i = 0; i < n; i += kStreamBlock)
                _Pragma("GCC unroll 64") for (int k = 0; k < 32; ++k) _mm256_store_pd(a + i + 4 * k, v);
            break;
        }
        case Pattern::Copy:
            for (std::size_t i = 0; i < n; i += kStreamBlock)
                _Pragma("GCC unroll 64") for (int k = 0; k < 32; ++k)
                    _mm256_store_pd(a + i + 4 * k, _mm256_load_pd(b + i + 4 * k));
            break;
        case Pattern::Triad:
            for (std::size_t i = 0; i < n; i += kStreamBlock)
                _Pragma("GCC unroll 64") for (int k = 0; k < 32; ++k) _mm256_store_pd(
                    a + i + 4 * k, _mm256_fmadd_pd(s, _mm256_load_pd(c + i + 4 * k), _mm256_load_pd(b + i + 4 * k)));
            break;
        }
        // Keeps the compiler from hoisting or merging passes over the same data.
        asm volatile("" ::: "memory");
    }
    return a[n / 2];
}

// Reads need no compiler barrier: the floating-point sum cannot be reassociated across passes.
__attribute__((target("avx512f"))) double avx512Read(const double* a, std::size_t n, std::uint64_t repeats)
{
    __m512d acc[16];
    for (auto& v : acc)
        v = _mm512_setzero_pd();
    for (std::uint64_t r = 0; r < repeats; ++r)
        for (std::size_t i = 0; i < n; i += kStreamBlock) {
            _Pragma("GCC unroll 64") for (int k = 0; k < 16; ++k) acc[k % 16]
                = _mm512_add_pd(acc[k % 16], _mm512_load_pd(a + i + 8 * k));
        }
    __m512d t = acc[0];
    for (int k = 1; k < 16; ++k)
        t = _mm512_add_pd(t, acc[k]);
    return sum512(t);
}

__attribute__((target("avx512f"))) double avx512Stream(
    Pattern p, double* a, const double* b, const double* c, std::size_t n, std::uint64_t repeats)
{
    if (p == Pattern::Read) return avx512Read(a, n, repeats);
    const __m512d s = _mm512_set1_pd(0.5);
    for (std::uint64_t r = 0; r < repeats; ++r) {
        switch (p) {
        case Pattern::Read:
            break;
        case Pattern::Write: {
            const __m512d v = _mm512_set1_pd(static_cast<double>(r));
            for (std::size_t i = 0; i < n; i += kStreamBlock)
                _Pragma("GCC unroll 64") for (int k = 0; k < 16; ++k) _mm512_store_pd(a + i + 8 * k, v);
            break;
        }
        case Pattern::Copy:
            for (std::size_t i = 0; i < n; i += kStreamBlock)
                _Pragma("GCC unroll 64") for (int k = 0; k < 16; ++k)
                    _mm512_store_pd(a + i + 8 * k, _mm512_load_pd(b + i + 8 * k));
            break;
        case Pattern::Triad:
            for (std::size_t i = 0; i < n; i += kStreamBlock)
                _Pragma("GCC unroll 64") for (int k = 0; k < 16; ++k) _mm512_store_pd(
                    a + i + 8 * k, _mm512_fmadd_pd(s, _mm512_load_pd(c + i + 8 * k), _mm512_load_pd(b + i + 8 * k)));
            break;
        }
        asm volatile("" ::: "memory");
    }
    return a[n / 2];
}

// Reads need no compiler barrier: the floating-point sum cannot be reassociated across passes.
double sse2Read(const double* a, std::size_t n, std::uint64_t repeats)
{
    __m128d acc[16];
    for (auto& v : acc)
        v = _mm_setzero_pd();
    for (std::uint64_t r = 0; r < repeats; ++r)
        for (std::size_t i = 0; i < n; i += kStreamBlock) {
            _Pragma("GCC unroll 64") for (int k = 0; k < 64; ++k) acc[k % 16]
                = _mm_add_pd(acc[k % 16], _mm_load_pd(a + i + 2 * k));
        }
    __m128d t = acc[0];
    for (int k = 1; k < 16; ++k)
        t = _mm_add_pd(t, acc[k]);
    return _mm_cvtsd_f64(t);
}

// Baseline x86-64 (SSE2) loops for CPUs without AVX2.
double sse2Stream(Pattern p, double* a, const double* b, const double* c, std::size_t n, std::uint64_t repeats)
{
    if (p == Pattern::Read) return sse2Read(a, n, repeats);
    const __m128d s = _mm_set1_pd(0.5);
    for (std::uint64_t r = 0; r < repeats; ++r) {
        switch (p) {
        case Pattern::Read:
            break;
        case Pattern::Write: {
            const __m128d v = _mm_set1_pd(static_cast<double>(r));
            for (std::size_t i = 0; i < n; i += kStreamBlock)
                _Pragma("GCC unroll 64") for (int k = 0; k < 64; ++k) _mm_store_pd(a + i + 2 * k, v);
            break;
        }
        case Pattern::Copy:
            for (std::size_t i = 0; i < n; i += kStreamBlock)
                _Pragma("GCC unroll 64") for (int k = 0; k < 64; ++k)
                    _mm_store_pd(a + i + 2 * k, _mm_load_pd(b + i + 2 * k));
            break;
        case Pattern::Triad:
            for (std::size_t i = 0; i < n; i += kStreamBlock)
                _Pragma("GCC unroll 64") for (int k = 0; k < 64; ++k) _mm_store_pd(
                    a + i + 2 * k, _mm_add_pd(_mm_load_pd(b + i + 2 * k), _mm_mul_pd(s, _mm_load_pd(c + i + 2 * k))));
            break;
        }
        asm volatile("" ::: "memory");
    }
    return a[n / 2];
}

} // namespace

double runFmaChains(Isa isa, Precision p, std::uint64_t iterations, double* sink)
{
    const bool f64 = p == Precision::Fp64;
    double r = 0;
    int chains = 0;
    switch (isa) {
    case Isa::Scalar: {
        const bool fma = __builtin_cpu_supports("fma");
        if (fma)
            r = f64 ? scalarFmaF64(iterations) : scalarFmaF32(iterations);
        else
            r = f64 ? scalarMulAddF64(iterations) : scalarMulAddF32(iterations);
        chains = kChainsScalar;
        break;
    }
    case Isa::Avx2Fma:
        r = f64 ? avx2FmaF64(iterations) : avx2FmaF32(iterations);
        chains = kChainsAvx2;
        break;
    case Isa::Avx512Fma:
        r = f64 ? avx512FmaF64(iterations) : avx512FmaF32(iterations);
        chains = kChainsAvx512;
        break;
    }
    *sink += r;
    return 2.0 * static_cast<double>(iterations) * chains * isaLanes(isa, p);
}

double runStream(
    Isa isa, Pattern p, double* a, const double* b, const double* c, std::size_t n, std::uint64_t repeats, double* sink)
{
    double r = 0;
    switch (isa) {
    case Isa::Scalar:
        r = sse2Stream(p, a, b, c, n, repeats);
        break;
    case Isa::Avx2Fma:
        r = avx2Stream(p, a, b, c, n, repeats);
        break;
    case Isa::Avx512Fma:
        r = avx512Stream(p, a, b, c, n, repeats);
        break;
    }
    *sink += r;
    return static_cast<double>(n) * patternBytesPerElement(p) * static_cast<double>(repeats);
}

std::uint64_t runAddChain(std::uint64_t n)
{
    std::uint64_t x = 0;
    const std::uint64_t one = 1;
    const std::uint64_t loops = n / 32;
    for (std::uint64_t i = 0; i < loops; ++i) {
        // 32 dependent adds of a register, not of an immediate: a chain of `add $1` ran at about 3.6 per cycle on
        // a Sapphire Rapids Xeon (8.9 "GHz"; its FMA peaks put the clock at 2.2-2.4 GHz), as Golden Cove cores are
        // reported to fold immediate adds at rename; an add of a register waits for its input everywhere.
        // The loop counter runs on another port and is hidden behind the chain.
        asm volatile(".rept 32\n\tadd %1, %0\n\t.endr" : "+r"(x) : "r"(one));
    }
    return x;
}

#else // not x86-64: portable scalar code only

bool isaAvailable(Isa isa)
{
    return isa == Isa::Scalar;
}
Isa widestIsa()
{
    return Isa::Scalar;
}

double runFmaChains(Isa, Precision p, std::uint64_t iterations, double* sink)
{
    constexpr int K = 12;
    double acc[K];
    for (int k = 0; k < K; ++k)
        acc[k] = 1.0 + k;
    for (std::uint64_t it = 0; it < iterations; ++it) {
        for (int k = 0; k < K; ++k)
            acc[k] = __builtin_fma(acc[k], 0.9999999, 1e-7);
        asm volatile("" ::: "memory");
    }
    for (int k = 0; k < K; ++k)
        *sink += acc[k];
    (void)p;
    return 2.0 * static_cast<double>(iterations) * K;
}

double runStream(
    Isa, Pattern p, double* a, const double* b, const double* c, std::size_t n, std::uint64_t repeats, double* sink)
{
    double acc = 0;
    for (std::uint64_t r = 0; r < repeats; ++r) {
        for (std::size_t i = 0; i < n; ++i) {
            switch (p) {
            case Pattern::Read:
                acc += a[i];
                break;
            case Pattern::Write:
                a[i] = static_cast<double>(r);
                break;
            case Pattern::Copy:
                a[i] = b[i];
                break;
            case Pattern::Triad:
                a[i] = b[i] + 0.5 * c[i];
                break;
            }
        }
        asm volatile("" ::: "memory");
    }
    *sink += acc + a[n / 2];
    return static_cast<double>(n) * patternBytesPerElement(p) * static_cast<double>(repeats);
}

std::uint64_t runAddChain(std::uint64_t)
{
    return 0;
}

#endif

} // namespace rooftime::ceilings
