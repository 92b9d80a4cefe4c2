// SPDX-License-Identifier: MIT
// Helpers shared by the CUDA samples: error checks that end the program cleanly, and the per-kernel expectation
// lines. Uses the CUDA runtime API and cpu/sample_support.h only, so a sample still builds with one nvcc command.
#pragma once

#include "sample_support.h"

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

namespace rooftime::samples {

// A failed CUDA call ends the program with one line on stderr and exit 1: the samples are workloads, and without a
// device (or with a broken driver) there is nothing sensible left to do. Exiting at once means the message is printed
// exactly once.
inline void cudaCheck(cudaError_t status, const char* program, const char* what)
{
    if (status == cudaSuccess) return;
    std::fprintf(
        stderr, "%s: CUDA error: %s: %s (%s)\n", program, what, cudaGetErrorString(status), cudaGetErrorName(status));
    std::exit(kFailureExit);
}

// The first CUDA call of every sample: fails with the runtime's own words ("no CUDA-capable device is detected",
// "CUDA driver version is insufficient ...") before any memory is allocated. Returns the device's properties.
inline cudaDeviceProp requireDevice(const char* program)
{
    int count = 0;
    cudaCheck(cudaGetDeviceCount(&count), program, "cudaGetDeviceCount");
    if (count < 1) cudaCheck(cudaErrorNoDevice, program, "cudaGetDeviceCount");
    cudaDeviceProp prop {};
    cudaCheck(cudaGetDeviceProperties(&prop, 0), program, "cudaGetDeviceProperties");
    cudaCheck(cudaSetDevice(0), program, "cudaSetDevice");
    return prop;
}

// A launch is checked twice: the launch itself (configuration errors) and, at the next synchronisation, its
// execution. Samples synchronise inside each region, so region times include the kernels.
inline void launchCheck(const char* program, const char* kernel)
{
    cudaCheck(cudaGetLastError(), program, kernel);
}

// What one kernel is expected to do in the whole run, in the classes the counters measure: FLOPs per precision
// (FMA = 2, one half2 FMA instruction = 4, tensor = 2 per multiply-add) and algorithmic bytes (each input read and
// each output written once; caches can make the DRAM traffic larger or smaller, see samples/README.md).
class KernelTally {
public:
    struct Work {
        double fp64 = 0.0;
        double fp32 = 0.0;
        double fp16 = 0.0;
        double tensor = 0.0;
        double bytes = 0.0;
    };

    explicit KernelTally(std::string name)
        : m_name(std::move(name))
    { }

    void add(const Work& w)
    {
        ++m_launches;
        m_total.fp64 += w.fp64;
        m_total.fp32 += w.fp32;
        m_total.fp16 += w.fp16;
        m_total.tensor += w.tensor;
        m_total.bytes += w.bytes;
    }

    // One line per kernel name, the companion of RegionTally's `# expect region=` lines; part of the contract.
    void printExpectation() const
    {
        std::printf("# expect kernel=%s launches=%llu fp64=%.17g fp32=%.17g fp16=%.17g tensor=%.17g bytes=%.17g\n",
            m_name.c_str(), static_cast<unsigned long long>(m_launches), m_total.fp64, m_total.fp32, m_total.fp16,
            m_total.tensor, m_total.bytes);
    }

private:
    std::string m_name;
    std::uint64_t m_launches = 0;
    Work m_total;
};

inline double sum(const KernelTally::Work& w)
{
    return w.fp64 + w.fp32 + w.fp16 + w.tensor;
}

// Device memory owned for the sample's lifetime; a failed allocation ends the program like any CUDA error.
template <typename T> class DeviceBuffer {
public:
    DeviceBuffer(std::size_t count, const char* program)
        : m_count(count)
    {
        void* p = nullptr;
        cudaCheck(cudaMalloc(&p, count * sizeof(T)), program, "cudaMalloc");
        m_data = static_cast<T*>(p);
    }
    ~DeviceBuffer() { cudaFree(m_data); }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;

    T* get() const { return m_data; }
    std::size_t count() const { return m_count; }
    std::size_t bytes() const { return m_count * sizeof(T); }

private:
    T* m_data = nullptr;
    std::size_t m_count;
};

// Copies host data to the device or back, ending the program on failure.
template <typename T> void upload(DeviceBuffer<T>& dst, const T* src, const char* program)
{
    cudaCheck(cudaMemcpy(dst.get(), src, dst.bytes(), cudaMemcpyHostToDevice), program, "cudaMemcpy to device");
}
template <typename T> void download(T* dst, const DeviceBuffer<T>& src, const char* program)
{
    cudaCheck(cudaMemcpy(dst, src.get(), src.bytes(), cudaMemcpyDeviceToHost), program, "cudaMemcpy to host");
}

inline void synchronize(const char* program, const char* what)
{
    cudaCheck(cudaDeviceSynchronize(), program, what);
}

} // namespace rooftime::samples
