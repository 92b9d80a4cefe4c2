// SPDX-License-Identifier: MIT
// NVTX-annotated program without the rooftime header: its ranges must become regions under `rooftime record`.
#include <nvtx3/nvToolsExt.h>

#include <cstdio>
#include <thread>

int main()
{
    for (int i = 0; i < 5; ++i) {
        nvtxRangePushA("step");
        nvtxRangePushA("forward");
        nvtxRangePop();
        nvtxRangePop();
    }
    nvtxEventAttributes_t attr = {};
    attr.version = NVTX_VERSION;
    attr.size = NVTX_EVENT_ATTRIB_STRUCT_SIZE;
    attr.messageType = NVTX_MESSAGE_TYPE_ASCII;
    attr.message.ascii = "attributed";
    for (int i = 0; i < 3; ++i) {
        nvtxRangePushEx(&attr);
        nvtxRangePop();
    }
    // A start/end range that ends on another thread.
    nvtxRangeId_t id = nvtxRangeStartA("crossing");
    std::thread([id] { nvtxRangeEnd(id); }).join();
    // A named domain with a registered string.
    nvtxDomainHandle_t domain = nvtxDomainCreateA("mylib");
    nvtxStringHandle_t s = nvtxDomainRegisterStringA(domain, "registered");
    nvtxEventAttributes_t reg = {};
    reg.version = NVTX_VERSION;
    reg.size = NVTX_EVENT_ATTRIB_STRUCT_SIZE;
    reg.messageType = NVTX_MESSAGE_TYPE_REGISTERED;
    reg.message.registered = s;
    for (int i = 0; i < 2; ++i) {
        nvtxDomainRangePushEx(domain, &reg);
        nvtxDomainRangePop(domain);
    }
    // Started and never ended: written at exit, marked as closed implicitly.
    nvtxRangeStartA("never_ended");
    std::printf("# expect region=step count=5 flops=0 bytes=0\n");
    std::printf("# expect region=never_ended count=1 flops=0 bytes=0\n");
    std::printf("# expect region=forward count=5 flops=0 bytes=0\n");
    std::printf("# expect region=attributed count=3 flops=0 bytes=0\n");
    std::printf("# expect region=crossing count=1 flops=0 bytes=0\n");
    std::printf("# expect region=mylib::registered count=2 flops=0 bytes=0\n");
    return 0;
}
