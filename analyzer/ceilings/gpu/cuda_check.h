// SPDX-License-Identifier: MIT
// CUDA runtime error handling for the host code: every call is checked, and a failure becomes one exception whose
// message names the call, so that main() prints one line and exits 4 ("measurement failed"). Also the two RAII
// owners the host code needs (device memory, events).
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

#include <cuda_runtime_api.h>

namespace rooftime::ceilings::gpu {

class CudaError : public std::runtime_error {
public:
    CudaError(const std::string& call, cudaError_t err)
        : std::runtime_error(call + ": " + cudaGetErrorString(err) + " (" + cudaGetErrorName(err) + ")")
        , m_error(err)
    { }
    cudaError_t error() const { return m_error; }

private:
    cudaError_t m_error;
};

/// The GPU cannot be used at all (none found, too old, no kernel image): exit 3.
class NoUsableGpu : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

inline void check(cudaError_t err, const char* call)
{
    if (err != cudaSuccess) throw CudaError(call, err);
}

class DeviceBuffer {
public:
    explicit DeviceBuffer(std::size_t bytes)
        : m_bytes(bytes)
    {
        check(cudaMalloc(&m_ptr, bytes), "cudaMalloc");
    }
    ~DeviceBuffer()
    {
        if (m_ptr != nullptr) cudaFree(m_ptr);
    }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;

    void* get() const { return m_ptr; }
    template <typename T> T* as() const { return static_cast<T*>(m_ptr); }
    std::size_t bytes() const { return m_bytes; }

private:
    void* m_ptr = nullptr;
    std::size_t m_bytes = 0;
};

/// A start and a stop event on one stream: seconds of GPU time between them.
class EventPair {
public:
    EventPair()
    {
        check(cudaEventCreate(&m_start), "cudaEventCreate");
        check(cudaEventCreate(&m_stop), "cudaEventCreate");
    }
    ~EventPair()
    {
        cudaEventDestroy(m_start);
        cudaEventDestroy(m_stop);
    }
    EventPair(const EventPair&) = delete;
    EventPair& operator=(const EventPair&) = delete;

    void start(cudaStream_t stream) { check(cudaEventRecord(m_start, stream), "cudaEventRecord"); }
    /// Records the stop event, waits for it and returns the elapsed seconds.
    double stop(cudaStream_t stream)
    {
        check(cudaEventRecord(m_stop, stream), "cudaEventRecord");
        check(cudaEventSynchronize(m_stop), "cudaEventSynchronize");
        float ms = 0;
        check(cudaEventElapsedTime(&ms, m_start, m_stop), "cudaEventElapsedTime");
        return static_cast<double>(ms) * 1e-3;
    }

private:
    cudaEvent_t m_start = nullptr;
    cudaEvent_t m_stop = nullptr;
};

} // namespace rooftime::ceilings::gpu
