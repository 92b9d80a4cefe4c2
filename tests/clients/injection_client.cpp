// SPDX-License-Identifier: MIT
// Plays the CUDA driver's part for the record tests: calls the InitializeInjection of the preloaded collector, as
// the driver does when CUDA_INJECTION64_PATH names it, then exits normally. No CUDA is used.
#include <cstdio>
#include <dlfcn.h>

int main()
{
    using InitFn = int (*)();
    auto init = reinterpret_cast<InitFn>(dlsym(RTLD_DEFAULT, "InitializeInjection"));
    if (!init) {
        std::puts("injection_client: no InitializeInjection in the process");
        return 3;
    }
    const int rc = init();
    std::printf("injection_client: InitializeInjection returned %d\n", rc);
    return rc == 1 ? 0 : 4;
}
