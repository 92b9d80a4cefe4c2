// SPDX-License-Identifier: MIT
// What CUPTI itself costs per kernel launch, one configuration at a time, so that rooftime's time mode can be
// judged against the floor of the API it uses (bench/README.md, part f; run on a GPU machine by
// tools/device-check.sh). Launches empty kernels back to back and prints, per configuration, the host time of one
// launch call and the whole time per launch (launch loop plus the synchronize after it).
//
//   cupti_overhead CONFIG [--launches N=1000] [--reps R=30]
// N stays below the launch queue's depth (about 1,000), so that call_us is the host's cost, not the GPU's back
// pressure; the median over the repetitions is printed.
//   CONFIG: plain | activity (CONCURRENT_KERNEL) | activity-all (+ MEMCPY, MEMSET, DEVICE) |
//           callbacks (the launch callbacks rooftime enables, empty) | both (activity-all + callbacks) |
//           both-ts (both + a timestamp callback on CLOCK_MONOTONIC, as rooftime registers)
// Run `plain` under `rooftime record --mode time` for rooftime's own total.
#include <cuda_runtime.h>
#include <cupti.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

namespace {

__global__ void empty_kernel(int* p)
{
    if (p && threadIdx.x == 1024) *p = 1; // never true: keeps the kernel and its argument
}

double now()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

void check(cudaError_t rc, const char* what)
{
    if (rc != cudaSuccess) {
        std::fprintf(stderr, "cupti_overhead: %s: %s\n", what, cudaGetErrorString(rc));
        std::exit(1);
    }
}

void checkCupti(CUptiResult rc, const char* what)
{
    if (rc != CUPTI_SUCCESS) {
        const char* text = nullptr;
        cuptiGetResultString(rc, &text);
        std::fprintf(stderr, "cupti_overhead: %s: %s\n", what, text ? text : "?");
        std::exit(1);
    }
}

constexpr std::size_t kBuffer = 4u << 20;
std::size_t g_records = 0;

void CUPTIAPI requested(std::uint8_t** buffer, std::size_t* size, std::size_t* maxRecords)
{
    *buffer = static_cast<std::uint8_t*>(std::aligned_alloc(8, kBuffer));
    *size = kBuffer;
    *maxRecords = 0;
}

void CUPTIAPI completed(CUcontext, std::uint32_t, std::uint8_t* buffer, std::size_t, std::size_t valid)
{
    CUpti_Activity* record = nullptr;
    while (valid > 0 && cuptiActivityGetNextRecord(buffer, valid, &record) == CUPTI_SUCCESS)
        ++g_records;
    std::free(buffer);
}

void CUPTIAPI onCallback(void*, CUpti_CallbackDomain, CUpti_CallbackId, const void*) { }

std::uint64_t CUPTIAPI timestamp()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

void enableActivity(bool all)
{
    checkCupti(cuptiActivityRegisterCallbacks(&requested, &completed), "cuptiActivityRegisterCallbacks");
    checkCupti(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL), "enable CONCURRENT_KERNEL");
    if (all)
        for (CUpti_ActivityKind k :
            { CUPTI_ACTIVITY_KIND_MEMCPY, CUPTI_ACTIVITY_KIND_MEMSET, CUPTI_ACTIVITY_KIND_DEVICE })
            checkCupti(cuptiActivityEnable(k), "cuptiActivityEnable");
}

void enableCallbacks()
{
    CUpti_SubscriberHandle sub = nullptr;
    checkCupti(cuptiSubscribe(&sub, &onCallback, nullptr), "cuptiSubscribe");
    // The same callback ids as rooftime's CUPTI backend (plugins/cupti/cupti_backend.cpp).
    for (CUpti_CallbackId id : { CUPTI_DRIVER_TRACE_CBID_cuLaunchKernel, CUPTI_DRIVER_TRACE_CBID_cuLaunchKernel_ptsz,
             CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx, CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx_ptsz })
        checkCupti(cuptiEnableCallback(1, sub, CUPTI_CB_DOMAIN_DRIVER_API, id), "enable driver callback");
    for (CUpti_CallbackId id : { CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_v7000,
             CUPTI_RUNTIME_TRACE_CBID___cudaLaunchKernel_v13000, CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernelExC_v11060 })
        checkCupti(cuptiEnableCallback(1, sub, CUPTI_CB_DOMAIN_RUNTIME_API, id), "enable runtime callback");
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 2) {
        std::fprintf(stderr,
            "usage: cupti_overhead plain|activity|activity-all|callbacks|both|both-ts [--launches N] [--reps R]\n");
        return 2;
    }
    const std::string config = argv[1];
    long launches = 1000;
    int reps = 30;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--launches"))
            launches = std::atol(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--reps"))
            reps = std::atoi(argv[i + 1]);
    }
    if (launches < 1 || reps < 1) {
        std::fprintf(stderr, "cupti_overhead: --launches and --reps must be positive\n");
        return 2;
    }
    if (config == "both-ts") checkCupti(cuptiActivityRegisterTimestampCallback(&timestamp), "timestamp callback");
    if (config == "activity" || config == "activity-all" || config == "both" || config == "both-ts")
        enableActivity(config != "activity");
    if (config == "callbacks" || config == "both" || config == "both-ts") enableCallbacks();
    if (config != "plain" && config != "activity" && config != "activity-all" && config != "callbacks"
        && config != "both" && config != "both-ts") {
        std::fprintf(stderr, "cupti_overhead: unknown configuration '%s'\n", config.c_str());
        return 2;
    }
    int* p = nullptr;
    check(cudaMalloc(&p, sizeof(int)), "cudaMalloc");
    empty_kernel<<<1, 32>>>(p); // module load and first-launch costs out of the timed loop
    check(cudaDeviceSynchronize(), "warm-up");
    std::vector<double> call, total;
    for (int r = 0; r < reps; ++r) {
        const double t0 = now();
        for (long i = 0; i < launches; ++i)
            empty_kernel<<<1, 32>>>(p);
        const double t1 = now();
        check(cudaDeviceSynchronize(), "synchronize");
        const double t2 = now();
        call.push_back((t1 - t0) / static_cast<double>(launches));
        total.push_back((t2 - t0) / static_cast<double>(launches));
    }
    auto median = [](std::vector<double>& v) {
        std::nth_element(v.begin(), v.begin() + static_cast<long>(v.size() / 2), v.end());
        return v[v.size() / 2];
    };
    check(cudaGetLastError(), "launch");
    cuptiActivityFlushAll(1);
    std::printf("# cupti_overhead config=%s launches=%ld reps=%d call_us=%.3f total_us=%.3f records=%zu\n",
        config.c_str(), launches, reps, 1e6 * median(call), 1e6 * median(total), g_records);
    cudaFree(p);
    return 0;
}
