// SPDX-License-Identifier: MIT
// An LSTM-like recurrence as a chain of tiny kernels, the launch-bound end of the roofline: per time step one
// matrix-vector product (gates = W h + bias, 4H x H, one thread per gate row) and one elementwise cell update, so
// --steps T makes 2 T launches, each far shorter than its launch overhead. Gate nonlinearities are the "hard"
// (piecewise-linear) sigmoid and tanh, so every FLOP is an FMA, a multiply or an add that the counters see.
//
// Per step (H = --hidden):
//   lstm_gemv: fp32 flops = 2 * 4H * H (one FMA per weight), bytes = 4 (4H H + H + 4H + 4H) (weights, h, bias in;
//              gates out)
//   lstm_cell: fp32 flops = 10 H (per unit: 3 gate FMAs for the hard sigmoids, i*g multiply, f*c + (i*g) FMA,
//              o*tanh(c) multiply), bytes = 4 (4H + H + 2H) (gates and c in; c and h out)
// The weights stay in L2 after the first step, so the measured DRAM traffic is far below these bytes.
// Region "lstm_chain" (once) wraps all steps and a final synchronisation and declares their total work.
// --threads N runs N chains at once, one per host thread, each on its own stream with its own state (the weights
// are shared): launches of several threads, as a data-loader or multi-stream program makes them; every total
// above is N times as large.
// --graph captures each chain's T steps into a CUDA graph (stream capture) and launches the graph once: the same
// kernels, run by one cudaGraphLaunch, as CUDA-graph training loops (torch.cuda.graphs) run theirs.

#include "cuda_support.h"

#include <rooftime/rooftime.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <thread>
#include <vector>

namespace {

using rooftime::samples::Args;
using rooftime::samples::DeviceBuffer;
using rooftime::samples::KernelTally;
using rooftime::samples::RegionTally;

constexpr const char* kProgram = "lstm_chain";
constexpr const char* kUsage = "lstm_chain [--steps T=1000] [--hidden H=256] [--threads N=1] [--graph]";
constexpr int kThreads = 128;

__device__ float hardSigmoid(float x)
{
    return fminf(fmaxf(0.25f * x + 0.5f, 0.0f), 1.0f);
}
__device__ float hardTanh(float x)
{
    return fminf(fmaxf(x, -1.0f), 1.0f);
}

} // namespace

extern "C" __global__ void lstm_gemv(const float* w, const float* h, const float* bias, float* gates, int hidden)
{
    const int row = blockIdx.x * blockDim.x + threadIdx.x;
    if (row >= 4 * hidden) return;
    float acc = bias[row];
    const float* wr = w + static_cast<std::int64_t>(row) * hidden;
    for (int j = 0; j < hidden; ++j)
        acc = fmaf(wr[j], h[j], acc);
    gates[row] = acc;
}

// gates holds the i, f, g, o blocks of H values each.
extern "C" __global__ void lstm_cell(const float* gates, float* c, float* h, int hidden)
{
    const int u = blockIdx.x * blockDim.x + threadIdx.x;
    if (u >= hidden) return;
    const float i = hardSigmoid(gates[u]);
    const float f = hardSigmoid(gates[hidden + u]);
    const float g = hardTanh(gates[2 * hidden + u]);
    const float o = hardSigmoid(gates[3 * hidden + u]);
    const float cn = fmaf(f, c[u], __fmul_rn(i, g));
    c[u] = cn;
    h[u] = __fmul_rn(o, hardTanh(cn));
}

namespace {

float hardSigmoidHost(float x)
{
    return std::fmin(std::fmax(std::fmaf(0.25f, x, 0.5f), 0.0f), 1.0f);
}
float hardTanhHost(float x)
{
    return std::fmin(std::fmax(x, -1.0f), 1.0f);
}

int run(int argc, char** argv)
{
    std::int64_t steps = 1000;
    std::int64_t hidden = 256;
    std::int64_t threads = 1;
    bool graph = false;
    Args args(argc, argv, kProgram, kUsage);
    while (args.next()) {
        if (args.is("--steps"))
            steps = args.integer(1, 1'000'000);
        else if (args.is("--hidden"))
            hidden = args.integer(1, 4096);
        else if (args.is("--threads"))
            threads = args.integer(1, 16);
        else if (args.is("--graph"))
            graph = true;
        else
            args.unknown();
    }
    rooftime::samples::requireDevice(kProgram);
    rooftime_set_param("steps", static_cast<double>(steps));
    rooftime_set_param("hidden", static_cast<double>(hidden));
    rooftime_set_param("threads", static_cast<double>(threads));
    rooftime_set_param("graph", graph ? 1.0 : 0.0);

    const auto hs = static_cast<std::size_t>(hidden);
    std::vector<float> hw(4 * hs * hs);
    std::vector<float> hbias(4 * hs);
    for (std::size_t i = 0; i < hw.size(); ++i)
        hw[i] = 0.01f * static_cast<float>(static_cast<int>(i % 7) - 3);
    for (std::size_t i = 0; i < hbias.size(); ++i)
        hbias[i] = 0.1f * static_cast<float>(static_cast<int>(i % 5) - 2);
    std::vector<float> zeros(hs, 0.0f);
    DeviceBuffer<float> w(hw.size(), kProgram);
    DeviceBuffer<float> bias(hbias.size(), kProgram);
    rooftime::samples::upload(w, hw.data(), kProgram);
    rooftime::samples::upload(bias, hbias.data(), kProgram);
    // One chain per thread: its own state and stream.
    struct Lane {
        DeviceBuffer<float> gates, c, h;
        cudaStream_t stream = nullptr;
        cudaGraph_t graph = nullptr; // --graph: the captured steps
        cudaGraphExec_t exec = nullptr;
        Lane(std::size_t hsize)
            : gates(4 * hsize, kProgram)
            , c(hsize, kProgram)
            , h(hsize, kProgram)
        { }
    };
    std::vector<std::unique_ptr<Lane>> lanes;
    for (std::int64_t l = 0; l < threads; ++l) {
        lanes.push_back(std::make_unique<Lane>(hs));
        rooftime::samples::upload(lanes.back()->c, zeros.data(), kProgram);
        rooftime::samples::upload(lanes.back()->h, zeros.data(), kProgram);
        rooftime::samples::cudaCheck(
            cudaStreamCreateWithFlags(&lanes.back()->stream, cudaStreamNonBlocking), kProgram, "cudaStreamCreate");
    }

    const double hd = static_cast<double>(hidden);
    KernelTally::Work gemvWork;
    gemvWork.fp32 = 2.0 * 4.0 * hd * hd;
    gemvWork.bytes = 4.0 * (4.0 * hd * hd + hd + 4.0 * hd + 4.0 * hd);
    KernelTally::Work cellWork;
    cellWork.fp32 = 10.0 * hd;
    cellWork.bytes = 4.0 * (4.0 * hd + hd + 2.0 * hd);
    KernelTally gemvTally("lstm_gemv");
    KernelTally cellTally("lstm_cell");
    const auto gemvBlocks = static_cast<unsigned>((4 * hidden + kThreads - 1) / kThreads);
    const auto cellBlocks = static_cast<unsigned>((hidden + kThreads - 1) / kThreads);
    const int hi = static_cast<int>(hidden);

    const char* name = "lstm_chain";
    RegionTally region(name);
    const rooftime::samples::Stopwatch watch;
    rooftime_begin(name);
    auto launchSteps = [&](Lane& lane) {
        for (std::int64_t t = 0; t < steps; ++t) {
            lstm_gemv<<<gemvBlocks, kThreads, 0, lane.stream>>>(
                w.get(), lane.h.get(), bias.get(), lane.gates.get(), hi);
            rooftime::samples::launchCheck(kProgram, "lstm_gemv");
            lstm_cell<<<cellBlocks, kThreads, 0, lane.stream>>>(lane.gates.get(), lane.c.get(), lane.h.get(), hi);
            rooftime::samples::launchCheck(kProgram, "lstm_cell");
        }
    };
    auto chain = [&](Lane& lane) {
        if (!graph) {
            launchSteps(lane);
            return;
        }
        // Thread-local capture: several threads capture their own chains at once.
        using rooftime::samples::cudaCheck;
        cudaCheck(
            cudaStreamBeginCapture(lane.stream, cudaStreamCaptureModeThreadLocal), kProgram, "cudaStreamBeginCapture");
        launchSteps(lane);
        cudaCheck(cudaStreamEndCapture(lane.stream, &lane.graph), kProgram, "cudaStreamEndCapture");
        cudaCheck(cudaGraphInstantiate(&lane.exec, lane.graph, 0), kProgram, "cudaGraphInstantiate");
        cudaCheck(cudaGraphLaunch(lane.exec, lane.stream), kProgram, "cudaGraphLaunch");
    };
    if (threads == 1) {
        chain(*lanes.front());
    } else {
        std::vector<std::thread> team;
        for (auto& lane : lanes)
            team.emplace_back(chain, std::ref(*lane));
        for (auto& t : team)
            t.join();
    }
    rooftime::samples::synchronize(kProgram, name);
    for (std::int64_t k = 0; k < steps * threads; ++k) {
        gemvTally.add(gemvWork);
        cellTally.add(cellWork);
    }
    const double chains = static_cast<double>(steps * threads);
    const double totalFlops = chains * (gemvWork.fp32 + cellWork.fp32);
    const double totalBytes = chains * (gemvWork.bytes + cellWork.bytes);
    rooftime_add_work(totalFlops, totalBytes);
    rooftime_end(name);
    region.add(totalFlops, totalBytes);
    const double seconds = watch.seconds();

    // The host replays the first step and checks it when there was only one; otherwise it checks that the state
    // stayed finite and bounded (|h| <= 1 by construction).
    // Every chain computes the same recurrence: each must hold the same state.
    std::vector<float> hh(hs), other(hs);
    rooftime::samples::download(hh.data(), lanes.front()->h, kProgram);
    for (std::size_t l = 1; l < lanes.size(); ++l) {
        rooftime::samples::download(other.data(), lanes[l]->h, kProgram);
        if (other != hh) {
            std::fprintf(stderr, "%s: chain %zu ended in another state than chain 0\n", kProgram, l);
            return rooftime::samples::kFailureExit;
        }
    }
    for (auto& lane : lanes) {
        if (lane->exec) cudaGraphExecDestroy(lane->exec);
        if (lane->graph) cudaGraphDestroy(lane->graph);
        cudaStreamDestroy(lane->stream);
    }
    double checksum = 0.0;
    for (std::size_t u = 0; u < hs; ++u) {
        if (!std::isfinite(hh[u]) || std::fabs(hh[u]) > 1.0f) {
            std::fprintf(stderr, "%s: wrong state h[%zu] = %g\n", kProgram, u, static_cast<double>(hh[u]));
            return rooftime::samples::kFailureExit;
        }
        if (steps == 1) {
            // h starts at zero, so the gates are the biases.
            const float i = hardSigmoidHost(hbias[u]);
            const float g = hardTanhHost(hbias[2 * hs + u]);
            const float o = hardSigmoidHost(hbias[3 * hs + u]);
            const float expected = o * hardTanhHost(i * g);
            if (std::fabs(hh[u] - expected) > 1e-6f) {
                std::fprintf(stderr, "%s: wrong h[%zu] after one step: %g, expected %g\n", kProgram, u,
                    static_cast<double>(hh[u]), static_cast<double>(expected));
                return rooftime::samples::kFailureExit;
            }
        }
        checksum += hh[u];
    }
    const auto launches = static_cast<long long>(2 * steps * threads);
    std::printf("%s: steps=%lld hidden=%lld threads=%lld launches=%lld seconds=%.6f us/launch=%.2f checksum=%.9g\n",
        kProgram, static_cast<long long>(steps), static_cast<long long>(hidden), static_cast<long long>(threads),
        launches, seconds, seconds * 1e6 / static_cast<double>(launches), checksum);
    region.printExpectation();
    gemvTally.printExpectation();
    cellTally.printExpectation();
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    return rooftime::samples::guardedMain(kProgram, &run, argc, argv);
}
