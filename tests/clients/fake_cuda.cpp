// SPDX-License-Identifier: MIT
// A stand-in libcuda.so.1 for the simulated GPU (fake_cupti.h): only the context stack the CUPTI plugin uses to
// make a context current on the exiting thread. The current context is fake_cupti's, per thread.
#include "fake_cupti.h"

#include <cuda.h>

#include <cstdint>
#include <vector>

namespace {

thread_local std::vector<int> t_stack;

CUcontext handle(int context)
{
    return reinterpret_cast<CUcontext>(static_cast<std::uintptr_t>(context) * 0x1000);
}

} // namespace

extern "C" {

CUresult cuCtxGetCurrent(CUcontext* ctx)
{
    if (!ctx) return CUDA_ERROR_INVALID_VALUE;
    const int c = fake_cupti_current();
    *ctx = c ? handle(c) : nullptr;
    return CUDA_SUCCESS;
}

CUresult cuCtxPushCurrent_v2(CUcontext ctx)
{
    const auto v = reinterpret_cast<std::uintptr_t>(ctx);
    if (v == 0 || v % 0x1000 != 0) return CUDA_ERROR_INVALID_CONTEXT;
    t_stack.push_back(fake_cupti_current());
    fake_cupti_make_current(static_cast<int>(v / 0x1000));
    return CUDA_SUCCESS;
}

CUresult cuCtxPopCurrent_v2(CUcontext* ctx)
{
    if (t_stack.empty()) return CUDA_ERROR_INVALID_CONTEXT;
    if (ctx) *ctx = handle(fake_cupti_current());
    fake_cupti_make_current(t_stack.back());
    t_stack.pop_back();
    return CUDA_SUCCESS;
}

} // extern "C"
