// SPDX-License-Identifier: MIT
// A CUDA program on the simulated GPU of fake_cupti.h: plays the driver (InitializeInjection, as cuInit does when
// CUDA_INJECTION64_PATH names the collector, then launches, copies, fills and graphs) while the real CUPTI plugin
// records it. Each measured launch carries FFMA = 10 × its grid size, so that a test can tell values put on the
// wrong launch. Usage: gpu_sim_client mixed | batch N | stray | exit N
#include "fake_cupti.h"

#include <rooftime/rooftime.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <thread>

namespace {

unsigned g_grid = 0; ///< every launch a grid size of its own: the launch's name in the profile

fake_cupti_kernel kernel(const char* name, int context = 1, int runtime = 1)
{
    fake_cupti_kernel k {};
    k.name = name;
    k.context = context;
    k.runtime = runtime;
    k.gridX = ++g_grid;
    k.blockX = 256;
    k.durationNs = 5000 + 10 * g_grid;
    k.ffma = 10.0 * k.gridX;
    k.dramRead = 4096.0 * k.gridX;
    k.dramWrite = 1024.0 * k.gridX;
    return k;
}

unsigned launch(fake_cupti_kernel k)
{
    return fake_cupti_launch(&k);
}

/// Everything a training step does, in the order that exercises the counters' batches: 18 kernels.
void mixed()
{
    rooftime_begin("step");
    for (int i = 0; i < 6; ++i) {
        // The templated name of a real kernel: its record names it mangled.
        launch(kernel("_Z4gemmILi64EEvPKfS1_Pfi", 1, i % 2 ? 2 : 1));
        if (i == 1) fake_cupti_deliver(); // records of measured launches before their values (profiler started)
        if (i == 2) fake_cupti_memcpy(1, 1 << 20); // a copy between measured launches pauses the profiler
    }
    for (int i = 0; i < 2; ++i)
        launch(kernel("ncclDevKernel_AllReduce_Sum_f32_RING_LL", 1)); // never replayed
    fake_cupti_kernel fill = kernel("fill_driver_only", 1, 0); // cuLaunchKernel alone
    fill.recordDriverId = 1;
    launch(fill);
    fake_cupti_kernel bad = kernel("flaky", 1);
    bad.fail = 1; // leaves its batch; runs nothing
    launch(bad);
    launch(kernel("flaky", 1));
    fake_cupti_memset(1, 4096); // the driver's fill kernel must not become a range of the batch
    fake_cupti_kernel graph[3] = { kernel("graph_a"), kernel("graph_b"), kernel("graph_c") };
    fake_cupti_graph_launch(graph, 3); // never replayed, the profiler paused around it
    for (int i = 0; i < 2; ++i)
        launch(kernel("gemm_on_device_1", 2)); // a second context
    rooftime_end("step");
    std::thread worker([] {
        rooftime_begin("worker");
        for (int i = 0; i < 2; ++i)
            launch(kernel("worker_kernel", 1));
        rooftime_end("worker");
    });
    worker.join();
    // Measured last, with the profiler still started at exit: decoded on this thread before the process ends.
    launch(kernel("tail", 1));
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 2) {
        std::fputs("usage: gpu_sim_client mixed | batch N | stray | exit N\n", stderr);
        return 2;
    }
    using InitFn = int (*)();
    auto init = reinterpret_cast<InitFn>(dlsym(RTLD_DEFAULT, "InitializeInjection"));
    if (init) init(); // without rooftime: a CUDA program with no tool attached
    const char* what = argv[1];
    if (std::strcmp(what, "mixed") == 0)
        mixed();
    else if (std::strcmp(what, "batch") == 0) {
        const int n = argc > 2 ? std::atoi(argv[2]) : 150;
        for (int i = 0; i < n; ++i)
            launch(kernel("batched", 1, i % 3));
    } else if (std::strcmp(what, "stray") == 0) {
        launch(kernel("before_stray"));
        fake_cupti_stray_kernel(1); // a range no launch callback announced: ranges and launches no longer pair
        launch(kernel("after_stray"));
        fake_cupti_memcpy(1, 4096);
        launch(kernel("after_stray")); // a new batch: measured again
    } else if (std::strcmp(what, "exit") == 0) {
        launch(kernel("last_words"));
        std::printf("gpu_sim_client: exit %s\n", argc > 2 ? argv[2] : "0");
        return argc > 2 ? std::atoi(argv[2]) : 0;
    } else {
        std::fprintf(stderr, "gpu_sim_client: unknown scenario %s\n", what);
        return 2;
    }
    std::printf("gpu_sim_client: %s done, %u launches\n", what, g_grid);
    return 0;
}
