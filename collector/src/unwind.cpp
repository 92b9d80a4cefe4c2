// SPDX-License-Identifier: MIT
#include "unwind.h"

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include <link.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstring>

namespace rooftime::collector {

namespace {

struct Range {
    std::uintptr_t start = 0, end = 0;
};

// The address range of the object holding this code (the collector), found once.
int findSelf(dl_phdr_info* info, size_t, void* data)
{
    auto* self = static_cast<Range*>(data);
    const auto here = reinterpret_cast<std::uintptr_t>(&findSelf);
    std::uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; ++i) {
        const ElfW(Phdr)& p = info->dlpi_phdr[i];
        if (p.p_type != PT_LOAD) continue;
        lo = std::min<std::uintptr_t>(lo, info->dlpi_addr + p.p_vaddr);
        hi = std::max<std::uintptr_t>(hi, info->dlpi_addr + p.p_vaddr + p.p_memsz);
    }
    if (here >= lo && here < hi) {
        *self = { lo, hi };
        return 1;
    }
    return 0;
}

const Range& selfRange() noexcept
{
    static const Range range = [] {
        Range r;
        dl_iterate_phdr(&findSelf, &r);
        return r;
    }();
    return range;
}

} // namespace

std::size_t captureStack(std::uintptr_t* out, std::size_t max) noexcept
{
    const Range& self = selfRange();
    unw_context_t context;
    unw_cursor_t cursor;
    if (unw_getcontext(&context) != 0 || unw_init_local(&cursor, &context) != 0) return 0;
    std::size_t n = 0;
    // A bound on steps as well as on frames kept: a damaged stack must not keep us here.
    for (int steps = 0; n < max && steps < 512 && unw_step(&cursor) > 0; ++steps) {
        unw_word_t ip = 0;
        if (unw_get_reg(&cursor, UNW_REG_IP, &ip) != 0 || ip == 0) break;
        if (ip >= self.start && ip < self.end) continue;
        out[n++] = static_cast<std::uintptr_t>(ip);
    }
    return n;
}

namespace {

struct Collect {
    std::vector<Module>* modules;
    std::uint64_t generation = 0;
};

int collect(dl_phdr_info* info, size_t size, void* data)
{
    auto* c = static_cast<Collect*>(data);
    if (size >= offsetof(dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs)
        c->generation = info->dlpi_adds + info->dlpi_subs;
    Module m;
    m.base = info->dlpi_addr;
    m.start = UINTPTR_MAX;
    for (int i = 0; i < info->dlpi_phnum; ++i) {
        const ElfW(Phdr)& p = info->dlpi_phdr[i];
        if (p.p_type != PT_LOAD) continue;
        m.start = std::min<std::uintptr_t>(m.start, info->dlpi_addr + p.p_vaddr);
        m.end = std::max<std::uintptr_t>(m.end, info->dlpi_addr + p.p_vaddr + p.p_memsz);
    }
    if (m.start >= m.end) return 0;
    const char* name = info->dlpi_name;
    if (!name || !*name) {
        // The main executable (the first object) has no name here.
        if (!c->modules->empty()) return 0;
        char exe[PATH_MAX];
        const ssize_t len = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (len <= 0) return 0;
        m.path.assign(exe, static_cast<std::size_t>(len));
    } else {
        if (std::strncmp(name, "linux-vdso", 10) == 0 || std::strncmp(name, "linux-gate", 10) == 0) return 0;
        m.path = name;
    }
    c->modules->push_back(std::move(m));
    return 0;
}

int generationOnly(dl_phdr_info* info, size_t size, void* data)
{
    if (size >= offsetof(dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs)
        *static_cast<std::uint64_t*>(data) = info->dlpi_adds + info->dlpi_subs;
    return 1;
}

} // namespace

std::vector<Module> loadedModules(std::uint64_t& generation)
{
    std::vector<Module> modules;
    Collect c { &modules };
    dl_iterate_phdr(&collect, &c);
    generation = c.generation;
    return modules;
}

std::uint64_t moduleGeneration() noexcept
{
    std::uint64_t g = 0;
    dl_iterate_phdr(&generationOnly, &g);
    return g;
}

} // namespace rooftime::collector
