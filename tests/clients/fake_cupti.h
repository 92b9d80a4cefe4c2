// SPDX-License-Identifier: MIT
/**
 * @file fake_cupti.h
 * @brief The driver side of the simulated GPU behind tests/clients/fake_cupti.cpp.
 *
 * fake_cupti.cpp is a stand-in libcupti.so.13: the real CUPTI plugin (librooftime_cupti.so) runs against it on a
 * machine without a GPU. A test program plays the CUDA driver through these calls; the fake answers the plugin as
 * CUPTI does as far as docs/cupti.md knows it (launch callbacks, activity buffers, auto-range kernel replay with
 * the Range Profiler, error codes), and says `fake-cupti: misuse: ...` on stderr where the plugin breaks a rule of
 * the API. It tests rooftime's use of CUPTI, not CUPTI: what only a GPU shows stays for tools/device-check.sh.
 *
 * Environment (read once): FAKE_CUPTI_FAIL=function=CODE[,function=CODE] (CODE: INSUFFICIENT_PRIVILEGES,
 * HARDWARE_BUSY, MIG_DEVICE_NOT_SUPPORTED, CONFIDENTIAL_COMPUTING_NOT_SUPPORTED, NOT_SUPPORTED, UNKNOWN) makes
 * that function fail; FAKE_CUPTI_HOLDER=NAME: another tool holds the subscriber; FAKE_CUPTI_DROPPED=N: N records
 * reported dropped; FAKE_CUPTI_VERSION=N: the API version reported; FAKE_CUPTI_UNSUPPORTED=vgpu: a vGPU with
 * profiling disabled; FAKE_CUPTI_HANG=function: that call never returns (Range Profiler object calls and the
 * calls FAKE_CUPTI_FAIL knows).
 */
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fake_cupti_kernel {
    const char* name; ///< as the record and the launch callback name it (mangled or plain)
    int context; ///< 1, 2, ...: context n is on device n - 1
    int runtime; ///< 0: cuLaunchKernel alone; 1: __cudaLaunchKernel around it; 2: __cudaLaunchKernel around
                 ///< cudaLaunchKernel around it
    int recordDriverId; ///< the kernel record carries the driver call's correlation id, not the outermost call's
    int fail; ///< the launch returns an error: no kernel runs
    unsigned gridX, blockX;
    long long durationNs;
    double ffma, dramRead, dramWrite; ///< what the counters of this launch say
    long long submitDelayNs; ///< the thread pauses this long between the launch callback and the submission
    long long driverDelayNs; ///< and this long between the runtime call's callback and its driver call's
} fake_cupti_kernel;

/// Launch callbacks around one kernel; the correlation id its record carries (0 when it failed).
unsigned fake_cupti_launch(const fake_cupti_kernel* kernel);
/// cudaGraphLaunch of @p n kernels (one correlation id, graph 1, nodes 1..n).
unsigned fake_cupti_graph_launch(const fake_cupti_kernel* kernels, int n);
/// cuMemcpyHtoD_v2 of @p bytes (a copy engine: never a range).
void fake_cupti_memcpy(int context, unsigned long long bytes);
/// cuMemsetD8_v2 of @p bytes: the driver runs it as a kernel, a range where the profiler is started.
void fake_cupti_memset(int context, unsigned long long bytes);
/// GPU work no launch callback announced (a library's own launch path): a range where the profiler is started.
void fake_cupti_stray_kernel(int context);
/// cuCtxDestroy (or cudaDeviceReset) of @p context on the calling thread: CUPTI's resource callback, then the
/// context is gone (its Range Profiler object with it, if the plugin left one enabled).
void fake_cupti_destroy_context(int context);
/// cudaStreamBeginCapture (with cuStreamBeginCapture_v2 inside) and cudaStreamEndCapture on the calling thread:
/// launches in between are captured (their callbacks come, no kernel runs, no record), and a Range Profiler call
/// from any thread meanwhile is misuse: a real one invalidates the capture.
void fake_cupti_begin_capture(int context);
void fake_cupti_end_capture(int context);
/// CUPTI's worker completes the current activity buffer now, on a thread of its own.
void fake_cupti_deliver(void);
/// The context current on the calling thread (0: none), and making one current (fake_cuda.cpp's driver calls).
int fake_cupti_current(void);
void fake_cupti_make_current(int context);

#ifdef __cplusplus
}
#endif
