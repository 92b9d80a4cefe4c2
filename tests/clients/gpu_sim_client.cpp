// SPDX-License-Identifier: MIT
// A CUDA program on the simulated GPU of fake_cupti.h: plays the driver (InitializeInjection, as cuInit does when
// CUDA_INJECTION64_PATH names the collector, then launches, copies, fills and graphs) while the real CUPTI plugin
// records it. Each measured launch carries FFMA = 10 × its grid size, so that a test can tell values put on the
// wrong launch. Usage: gpu_sim_client SCENARIO [ARGS] (kUsage).
#include "fake_cupti.h"

#include <rooftime/rooftime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

constexpr const char* kUsage = "usage: gpu_sim_client mixed | batch N | stray | race | threads N M [DELAY] | "
                               "turns N | worker_only | reset | graph | capture | ranks N | bench N | exit N\n";

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
        std::fputs(kUsage, stderr);
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
    } else if (std::strcmp(what, "race") == 0) {
        // Launches of three threads whose kernels are submitted late: A's range lands in B's batch, which C's
        // launch decodes before B's own range comes (t in ms: A's callback 0, B's 40, A's kernel 80, C's 120,
        // B's kernel 200).
        fake_cupti_kernel a = kernel("race_a"), b = kernel("race_b");
        a.submitDelayNs = 80'000'000;
        b.submitDelayNs = 160'000'000;
        std::thread ta([&] { launch(a); });
        std::this_thread::sleep_for(std::chrono::milliseconds(40));
        std::thread tb([&] { launch(b); });
        std::this_thread::sleep_for(std::chrono::milliseconds(80));
        launch(kernel("race_c"));
        ta.join();
        tb.join();
        fake_cupti_memcpy(1, 4096); // decodes the last batch
    } else if (std::strcmp(what, "threads") == 0) {
        // N threads launching M kernels each at once, each kernel submitted a little after its callback.
        const int n = argc > 2 ? std::atoi(argv[2]) : 4, m = argc > 3 ? std::atoi(argv[3]) : 40;
        const long long maxDelay = argc > 4 ? std::atoll(argv[4]) : 200'000; // ns
        std::vector<std::vector<fake_cupti_kernel>> plans(static_cast<std::size_t>(n));
        for (int t = 0; t < n; ++t)
            for (int i = 0; i < m; ++i) {
                static const char* const names[] = { "thread_k0", "thread_k1", "thread_k2", "thread_k3" };
                fake_cupti_kernel k = kernel(names[(t + i) % 4], 1, i % 3);
                k.submitDelayNs = maxDelay > 0 ? (k.gridX * 7919) % maxDelay : 0;
                plans[static_cast<std::size_t>(t)].push_back(k);
            }
        std::vector<std::thread> threads;
        for (const auto& plan : plans)
            threads.emplace_back([&plan] {
                for (const auto& k : plan)
                    launch(k);
            });
        for (auto& t : threads)
            t.join();
    } else if (std::strcmp(what, "turns") == 0) {
        // lstm_chain --threads 2: two threads launching the same two kernels in turn through the runtime, whose
        // driver call comes 1 ms after the runtime call's callback (the runtime's own work in between).
        const int n = argc > 2 ? std::atoi(argv[2]) : 20;
        std::vector<fake_cupti_kernel> plans[2];
        for (auto& plan : plans)
            for (int i = 0; i < n; ++i) {
                fake_cupti_kernel k = kernel(i % 2 ? "turn_cell" : "turn_gemv", 1, 1);
                k.driverDelayNs = 1'000'000;
                plan.push_back(k);
            }
        auto lane = [](const std::vector<fake_cupti_kernel>& plan) {
            for (const auto& k : plan)
                launch(k);
        };
        std::thread a(lane, std::cref(plans[0])), b(lane, std::cref(plans[1]));
        a.join();
        b.join();
    } else if (std::strcmp(what, "bench") == 0) {
        // Host cost per launch (bench/cupti_callbacks.sh): the fake's own work, plus the plugin's and the
        // collector's callbacks when recorded. Median of 9 rounds.
        const int n = argc > 2 ? std::atoi(argv[2]) : 100000;
        std::vector<double> rounds;
        for (int r = 0; r < 9; ++r) {
            const auto t0 = std::chrono::steady_clock::now();
            for (int i = 0; i < n; ++i) {
                // A PyTorch kernel's name, as CUPTI gives it (mangled).
                fake_cupti_kernel k = kernel("_ZN2at6native29vectorized_elementwise_kernelILi4ENS0_11FillFunctorIfEENS_"
                                             "6detail5ArrayIPcLi1EEEEEviT0_T1_",
                    1, 1);
                k.gridX = 1; // one configuration
                launch(k);
            }
            rounds.push_back(
                std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / n);
        }
        std::sort(rounds.begin(), rounds.end());
        std::printf("gpu_sim_client: bench %.1f ns per launch (median of 9 rounds of %d)\n", rounds[4], n);
        return 0;
    } else if (std::strcmp(what, "reset") == 0) {
        // cudaDeviceReset between two phases, as CUDA samples end: the profiler of the destroyed context is
        // decoded in the callback, and the new context gets one of its own.
        for (int i = 0; i < 2; ++i)
            launch(kernel("before_reset"));
        fake_cupti_destroy_context(1);
        for (int i = 0; i < 2; ++i)
            launch(kernel("after_reset"));
    } else if (std::strcmp(what, "ranks") == 0) {
        // A launcher (torchrun-like) starting N worker processes, each its own CUDA program on device rank % 2.
        const int n = argc > 2 ? std::atoi(argv[2]) : 2;
        std::vector<pid_t> children;
        for (int rank = 0; rank < n; ++rank) {
            const pid_t pid = fork();
            if (pid == 0) {
                const std::string r = std::to_string(rank);
                setenv("RANK", r.c_str(), 1);
                execl("/proc/self/exe", argv[0], "mixed", static_cast<char*>(nullptr));
                _exit(127);
            }
            children.push_back(pid);
        }
        int failed = 0;
        for (pid_t c : children) {
            int status = 0;
            waitpid(c, &status, 0);
            failed += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
        }
        std::printf("gpu_sim_client: ranks done, %d of %d workers failed\n", failed, n);
        return failed == 0 ? 0 : 1;
    } else if (std::strcmp(what, "graph") == 0) {
        // A graph launched while a batch is started: its kernels must not become ranges of the batch.
        launch(kernel("around_graph"));
        fake_cupti_kernel graph[2] = { kernel("graph_x"), kernel("graph_y") };
        fake_cupti_graph_launch(graph, 2);
        launch(kernel("around_graph"));
    } else if (std::strcmp(what, "capture") == 0) {
        // lstm_chain --graph: the first launches of the context are captured into a graph (no kernel runs), then
        // the graph is launched, then a kernel measured after it. A second round with a batch started before
        // the capture begins.
        for (int round = 0; round < 2; ++round) {
            if (round == 1) launch(kernel("before_capture"));
            fake_cupti_begin_capture(1);
            launch(kernel("captured_a"));
            launch(kernel("captured_b", 1, 0)); // cuLaunchKernel alone
            fake_cupti_end_capture(1);
            fake_cupti_kernel graph[2] = { kernel("captured_a"), kernel("captured_b") };
            fake_cupti_graph_launch(graph, 2);
        }
        launch(kernel("captured_a")); // an ordinary launch of a captured kernel: measured
        launch(kernel("after_capture"));
    } else if (std::strcmp(what, "worker_only") == 0) {
        // The main thread never uses CUDA: at exit it has no current context while the profiler is started.
        std::thread([] { launch(kernel("from_worker")); }).join();
    } else if (std::strcmp(what, "exit") == 0) {
        launch(kernel("last_words"));
        std::printf("gpu_sim_client: exit %s\n", argc > 2 ? argv[2] : "0");
        return argc > 2 ? std::atoi(argv[2]) : 0;
    } else {
        std::fprintf(stderr, "gpu_sim_client: unknown scenario %s\n%s", what, kUsage);
        return 2;
    }
    std::printf("gpu_sim_client: %s done, %u launches\n", what, g_grid);
    return 0;
}
