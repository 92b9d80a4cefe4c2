// SPDX-License-Identifier: MIT
// NVTX capture: the NVTX 3 headers in a program load the library named by NVTX_INJECTION64_PATH and let it fill
// their function tables. Programs built with NVTX_SUPPORT_ALREADY_INJECTED_LIBRARY (off by default) also find
// InitializeInjectionNvtx2Preinject in an already loaded collector. We take
// push/pop and start/end ranges, in the default domain and in named domains, as regions.
#include "recording.h"

#include <nvtx3/nvToolsExt.h>

#include <cstdint>
#include <cwchar>
#include <string>

using rooftime::collector::Recording;
using rooftime::schema::RegionKind;

namespace {

struct Domain {
    std::uint32_t name; // string id
};

// Registered strings are handed out as pointers to interned, immortal text.
struct RegisteredString {
    const char* text;
};

std::string narrow(const wchar_t* w)
{
    std::string out;
    for (; w && *w; ++w)
        out.push_back(*w < 128 ? static_cast<char>(*w) : '?');
    return out;
}

// Resolves the message of an attributes struct to text; storage is used for converted wide strings.
const char* messageOf(const nvtxEventAttributes_t* a, std::string& storage)
{
    if (!a) return "(null)";
    switch (a->messageType) {
    case NVTX_MESSAGE_TYPE_ASCII:
        return a->message.ascii ? a->message.ascii : "(null)";
    case NVTX_MESSAGE_TYPE_UNICODE:
        storage = narrow(a->message.unicode);
        return storage.c_str();
    case NVTX_MESSAGE_TYPE_REGISTERED:
        if (a->message.registered) return reinterpret_cast<const RegisteredString*>(a->message.registered)->text;
        return "(null)";
    default:
        return "(unnamed)";
    }
}

std::uint32_t domainId(nvtxDomainHandle_t d)
{
    return d ? reinterpret_cast<const Domain*>(d)->name : 0;
}

int pushA(const char* message)
{
    Recording::instance().begin(message, RegionKind::NvtxPushPop);
    return 0;
}

int pushW(const wchar_t* message)
{
    std::string s = narrow(message);
    Recording::instance().begin(s.c_str(), RegionKind::NvtxPushPop);
    return 0;
}

int pushEx(const nvtxEventAttributes_t* a)
{
    std::string storage;
    Recording::instance().begin(messageOf(a, storage), RegionKind::NvtxPushPop);
    return 0;
}

int pop()
{
    Recording::instance().popNvtx(0);
    return 0;
}

nvtxRangeId_t startA(const char* message)
{
    return Recording::instance().startRange(message, 0);
}

nvtxRangeId_t startW(const wchar_t* message)
{
    std::string s = narrow(message);
    return Recording::instance().startRange(s.c_str(), 0);
}

nvtxRangeId_t startEx(const nvtxEventAttributes_t* a)
{
    std::string storage;
    return Recording::instance().startRange(messageOf(a, storage), 0);
}

void rangeEnd(nvtxRangeId_t id)
{
    Recording::instance().endRange(id);
}

void domainMarkEx(nvtxDomainHandle_t, const nvtxEventAttributes_t*) { }

nvtxRangeId_t domainStartEx(nvtxDomainHandle_t d, const nvtxEventAttributes_t* a)
{
    std::string storage;
    return Recording::instance().startRange(messageOf(a, storage), domainId(d));
}

void domainEnd(nvtxDomainHandle_t, nvtxRangeId_t id)
{
    Recording::instance().endRange(id);
}

int domainPushEx(nvtxDomainHandle_t d, const nvtxEventAttributes_t* a)
{
    std::string storage;
    Recording::instance().begin(messageOf(a, storage), RegionKind::NvtxPushPop, domainId(d));
    return 0;
}

int domainPop(nvtxDomainHandle_t d)
{
    Recording::instance().popNvtx(domainId(d));
    return 0;
}

nvtxStringHandle_t registerStringA(nvtxDomainHandle_t, const char* text)
{
    try {
        const auto interned = Recording::instance().intern(text);
        if (!interned.text) return nullptr;
        return reinterpret_cast<nvtxStringHandle_t>(new RegisteredString { interned.text });
    } catch (...) {
        return nullptr;
    }
}

nvtxStringHandle_t registerStringW(nvtxDomainHandle_t d, const wchar_t* text)
{
    std::string s = narrow(text);
    return registerStringA(d, s.c_str());
}

nvtxDomainHandle_t domainCreateA(const char* name)
{
    try {
        return reinterpret_cast<nvtxDomainHandle_t>(new Domain { Recording::instance().intern(name).id });
    } catch (...) {
        return nullptr;
    }
}

nvtxDomainHandle_t domainCreateW(const wchar_t* name)
{
    std::string s = narrow(name);
    return domainCreateA(s.c_str());
}

void domainDestroy(nvtxDomainHandle_t) { }

template <typename Fn> void setSlot(NvtxFunctionTable table, unsigned size, unsigned id, Fn fn)
{
    if (id < size && table[id]) *table[id] = reinterpret_cast<NvtxFunctionPointer>(fn);
}

} // namespace

extern "C" __attribute__((visibility("default"))) int InitializeInjectionNvtx2(NvtxGetExportTableFunc_t getExportTable)
{
    try {
        if (!getExportTable) return 0;
        auto* callbacks = static_cast<const NvtxExportTableCallbacks*>(getExportTable(NVTX_ETID_CALLBACKS));
        if (!callbacks || callbacks->struct_size < sizeof(NvtxExportTableCallbacks)) return 0;
        NvtxFunctionTable core = nullptr;
        unsigned coreSize = 0;
        if (!callbacks->GetModuleFunctionTable(NVTX_CB_MODULE_CORE, &core, &coreSize) || !core) return 0;
        setSlot(core, coreSize, NVTX_CBID_CORE_RangePushA, &pushA);
        setSlot(core, coreSize, NVTX_CBID_CORE_RangePushW, &pushW);
        setSlot(core, coreSize, NVTX_CBID_CORE_RangePushEx, &pushEx);
        setSlot(core, coreSize, NVTX_CBID_CORE_RangePop, &pop);
        setSlot(core, coreSize, NVTX_CBID_CORE_RangeStartA, &startA);
        setSlot(core, coreSize, NVTX_CBID_CORE_RangeStartW, &startW);
        setSlot(core, coreSize, NVTX_CBID_CORE_RangeStartEx, &startEx);
        setSlot(core, coreSize, NVTX_CBID_CORE_RangeEnd, &rangeEnd);
        NvtxFunctionTable core2 = nullptr;
        unsigned core2Size = 0;
        if (callbacks->GetModuleFunctionTable(NVTX_CB_MODULE_CORE2, &core2, &core2Size) && core2) {
            setSlot(core2, core2Size, NVTX_CBID_CORE2_DomainMarkEx, &domainMarkEx);
            setSlot(core2, core2Size, NVTX_CBID_CORE2_DomainRangeStartEx, &domainStartEx);
            setSlot(core2, core2Size, NVTX_CBID_CORE2_DomainRangeEnd, &domainEnd);
            setSlot(core2, core2Size, NVTX_CBID_CORE2_DomainRangePushEx, &domainPushEx);
            setSlot(core2, core2Size, NVTX_CBID_CORE2_DomainRangePop, &domainPop);
            setSlot(core2, core2Size, NVTX_CBID_CORE2_DomainRegisterStringA, &registerStringA);
            setSlot(core2, core2Size, NVTX_CBID_CORE2_DomainRegisterStringW, &registerStringW);
            setSlot(core2, core2Size, NVTX_CBID_CORE2_DomainCreateA, &domainCreateA);
            setSlot(core2, core2Size, NVTX_CBID_CORE2_DomainCreateW, &domainCreateW);
            setSlot(core2, core2Size, NVTX_CBID_CORE2_DomainDestroy, &domainDestroy);
        }
        return 1;
    } catch (...) {
        return 0;
    }
}

extern "C" __attribute__((visibility("default"))) int InitializeInjectionNvtx2Preinject(
    NvtxGetExportTableFunc_t getExportTable)
{
    return InitializeInjectionNvtx2(getExportTable);
}
