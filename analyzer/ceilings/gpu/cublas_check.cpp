// SPDX-License-Identifier: MIT
#include "cublas_check.h"

#include <cstring>
#include <string>

#include <dlfcn.h>

#include <cublas_api.h>

#include "cuda_check.h"
#include "kernels.h"

namespace rooftime::ceilings::gpu {
namespace {

// Our own pointer types: cublas_api.h also declares a C++ overload of cublasGemmEx, so decltype(&cublasGemmEx) is
// ambiguous. Only types come from the header; nothing links against cuBLAS.
using CreateFn = cublasStatus_t (*)(cublasHandle_t*);
using DestroyFn = cublasStatus_t (*)(cublasHandle_t);
using SetStreamFn = cublasStatus_t (*)(cublasHandle_t, cudaStream_t);
using StatusStringFn = const char* (*)(cublasStatus_t);
using GemmExFn = cublasStatus_t (*)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int, const void*,
    const void*, cudaDataType, int, const void*, cudaDataType, int, const void*, void*, cudaDataType, int,
    cublasComputeType_t, cublasGemmAlgo_t);

template <typename Fn> Fn lookup(void* lib, const char* name)
{
    // dlsym returns an object pointer; copying its bits is the portable way to make a function pointer of it.
    void* sym = dlsym(lib, name);
    Fn fn = nullptr;
    static_assert(sizeof fn == sizeof sym);
    std::memcpy(&fn, &sym, sizeof fn);
    return fn;
}

struct Cublas {
    CreateFn create = nullptr;
    DestroyFn destroy = nullptr;
    SetStreamFn setStream = nullptr;
    StatusStringFn statusString = nullptr;
    GemmExFn gemmEx = nullptr;

    std::string status(cublasStatus_t s) const
    {
        if (statusString != nullptr) return statusString(s);
        return "cuBLAS status " + std::to_string(static_cast<int>(s));
    }
};

// The library stays loaded until the process ends: unloading cuBLAS while its runtime holds a context is not
// supported, and the process is short-lived.
void* openCublas(std::string& error)
{
    const char* names[] = { "libcublas.so.13", ROOFTIME_CUDA_LIB_DIR "/libcublas.so.13" };
    for (const char* name : names) {
        if (void* lib = dlopen(name, RTLD_NOW | RTLD_LOCAL)) return lib;
        const char* e = dlerror();
        if (error.empty() && e != nullptr) error = e;
    }
    return nullptr;
}

struct GemmType {
    const char* precision;
    cudaDataType type;
    FillType fill;
};

} // namespace

std::vector<GemmTiming> timeCublasGemms(bool quick, cudaStream_t stream, std::vector<std::string>& notes)
{
    std::vector<GemmTiming> out;
    std::string error;
    void* lib = openCublas(error);
    if (lib == nullptr) {
        notes.push_back("cuBLAS cross-check skipped: libcublas.so.13 not loadable (" + error + ")");
        return out;
    }
    Cublas cb;
    cb.create = lookup<CreateFn>(lib, "cublasCreate_v2");
    cb.destroy = lookup<DestroyFn>(lib, "cublasDestroy_v2");
    cb.setStream = lookup<SetStreamFn>(lib, "cublasSetStream_v2");
    cb.statusString = lookup<StatusStringFn>(lib, "cublasGetStatusString");
    cb.gemmEx = lookup<GemmExFn>(lib, "cublasGemmEx");
    if (cb.create == nullptr || cb.destroy == nullptr || cb.setStream == nullptr || cb.gemmEx == nullptr) {
        notes.push_back("cuBLAS cross-check skipped: libcublas.so.13 lacks cublasCreate_v2, cublasSetStream_v2 or "
                        "cublasGemmEx");
        return out;
    }
    // cuBLAS brings its own (static) CUDA runtime; it attaches to the primary context this thread already has
    // current, so our device pointers and stream are valid there.
    cublasHandle_t handle = nullptr;
    if (cublasStatus_t s = cb.create(&handle); s != CUBLAS_STATUS_SUCCESS) {
        notes.push_back("cuBLAS cross-check skipped: cublasCreate: " + cb.status(s));
        return out;
    }
    struct HandleGuard {
        const Cublas& cb;
        cublasHandle_t h;
        ~HandleGuard() { cb.destroy(h); }
    } guard { cb, handle };
    if (cublasStatus_t s = cb.setStream(handle, stream); s != CUBLAS_STATUS_SUCCESS) {
        notes.push_back("cuBLAS cross-check skipped: cublasSetStream: " + cb.status(s));
        return out;
    }

    const GemmType types[] = { { "fp16", CUDA_R_16F, FillType::Fp16 }, { "bf16", CUDA_R_16BF, FillType::Bf16 } };
    const int calls = quick ? 3 : 10;
    for (const auto& t : types) {
        // 8192³ takes about 1.5 ms on an H100; smaller GPUs or little free memory get 4096.
        int n = 8192;
        std::size_t freeBytes = 0, totalBytes = 0;
        check(cudaMemGetInfo(&freeBytes, &totalBytes), "cudaMemGetInfo");
        if (freeBytes < 4 * 3 * static_cast<std::size_t>(n) * n * 2) n = 4096;
        const std::size_t bytes = static_cast<std::size_t>(n) * n * 2;
        DeviceBuffer a(bytes), b(bytes), c(bytes);
        check(launchFill(t.fill, a.get(), bytes / 2, 1, stream), "fillKernel launch");
        check(launchFill(t.fill, b.get(), bytes / 2, 2, stream), "fillKernel launch");
        const float alpha = 1.0f, beta = 0.0f;
        auto gemm = [&] {
            // "TN" (A transposed): the layout cuBLAS is fastest with for square row-major-like data.
            return cb.gemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, n, n, n, &alpha, a.get(), t.type, n, b.get(), t.type, n,
                &beta, c.get(), t.type, n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
        };
        cublasStatus_t s = CUBLAS_STATUS_SUCCESS;
        for (int i = 0; i < 2 && s == CUBLAS_STATUS_SUCCESS; ++i)
            s = gemm(); // warm-up: kernel selection and loading
        if (s != CUBLAS_STATUS_SUCCESS) {
            notes.push_back(
                std::string("cuBLAS cross-check ") + t.precision + " skipped: cublasGemmEx: " + cb.status(s));
            continue;
        }
        check(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
        EventPair ev;
        double best = 0;
        for (int batch = 0; batch < 3; ++batch) {
            ev.start(stream);
            for (int i = 0; i < calls; ++i)
                s = s == CUBLAS_STATUS_SUCCESS ? gemm() : s;
            const double seconds = ev.stop(stream) / calls;
            if (batch == 0 || seconds < best) best = seconds;
        }
        if (s != CUBLAS_STATUS_SUCCESS) {
            notes.push_back(
                std::string("cuBLAS cross-check ") + t.precision + " skipped: cublasGemmEx: " + cb.status(s));
            continue;
        }
        out.push_back({ t.precision, n, calls, best });
    }
    return out;
}

} // namespace rooftime::ceilings::gpu
