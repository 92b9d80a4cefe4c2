// SPDX-License-Identifier: MIT
// Plays the CUDA driver's part for the record tests: calls the InitializeInjection of the preloaded collector, as
// the driver does when CUDA_INJECTION64_PATH names it, then exits normally. No CUDA is used.
#include <rooftime/rooftime.h>

#include <cstdio>
#include <cstring>
#include <dlfcn.h>

using InitFn = int (*)();

// Never inlined: with --call-stacks the fake backend's launch comes from here, a function the call path names.
__attribute__((noinline)) int initializeCuda(InitFn init)
{
    const int rc = init();
    asm volatile("");
    return rc;
}

int main(int argc, char** argv)
{
    // "region": CUDA is initialized inside a marked region, as a launch inside a training step would be.
    const bool inRegion = argc > 1 && std::strcmp(argv[1], "region") == 0;
    if (inRegion) rooftime_begin("step");
    auto init = reinterpret_cast<InitFn>(dlsym(RTLD_DEFAULT, "InitializeInjection"));
    if (!init) {
        std::puts("injection_client: no InitializeInjection in the process");
        return 3;
    }
    const int rc = initializeCuda(init);
    if (inRegion) rooftime_end("step");
    std::printf("injection_client: InitializeInjection returned %d\n", rc);
    return rc == 1 ? 0 : 4;
}
