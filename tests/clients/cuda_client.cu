// SPDX-License-Identifier: MIT
// A minimal CUDA program for the record tests: allocate, launch, copy back, check every error; exit 1 on error.
#include <cstdio>
#include <cuda_runtime.h>

__global__ void scale(float* x, float a, int n)
{
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] *= a;
}

static int check(cudaError_t rc, const char* what)
{
    if (rc == cudaSuccess) return 0;
    std::fprintf(stderr, "cuda_client: %s: %s\n", what, cudaGetErrorString(rc));
    return 1;
}

int main()
{
    const int n = 1 << 20;
    float* d = nullptr;
    if (check(cudaMalloc(&d, n * sizeof(float)), "cudaMalloc")) return 1;
    if (check(cudaMemset(d, 0, n * sizeof(float)), "cudaMemset")) return 1;
    for (int i = 0; i < 3; ++i)
        scale<<<(n + 255) / 256, 256>>>(d, 2.0f, n);
    if (check(cudaGetLastError(), "launch")) return 1;
    float first = -1;
    if (check(cudaMemcpy(&first, d, sizeof first, cudaMemcpyDeviceToHost), "cudaMemcpy")) return 1;
    if (check(cudaFree(d), "cudaFree")) return 1;
    std::printf("cuda_client: ok %g\n", first);
    return 0;
}
