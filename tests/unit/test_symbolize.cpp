// SPDX-License-Identifier: MIT
// The symbolizer on this test program's own code (its module map read the way the collector reads it), and on
// files that are missing, not ELF, or truncated: names of the form FILE+0xOFFSET, never an error.
#include "rooftime/analyzer/symbolize.h"

#include "process.h"

#include <catch2/catch.hpp>

#include <link.h>

#include <climits>
#include <fstream>
#include <unistd.h>

using namespace rooftime::analyzer;

__attribute__((noinline)) int symbolizeTarget(int x)
{
    asm volatile("");
    return x * 3 + 1;
}

namespace {

int addModule(dl_phdr_info* info, size_t, void* data)
{
    auto* modules = static_cast<std::vector<ModuleInfo>*>(data);
    ModuleInfo m;
    m.base = info->dlpi_addr;
    m.start = UINT64_MAX;
    for (int i = 0; i < info->dlpi_phnum; ++i) {
        const ElfW(Phdr)& p = info->dlpi_phdr[i];
        if (p.p_type != PT_LOAD) continue;
        m.start = std::min<std::uint64_t>(m.start, info->dlpi_addr + p.p_vaddr);
        m.end = std::max<std::uint64_t>(m.end, info->dlpi_addr + p.p_vaddr + p.p_memsz);
    }
    if (info->dlpi_name && *info->dlpi_name) {
        m.path = info->dlpi_name;
    } else if (modules->empty()) {
        char exe[PATH_MAX];
        const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n > 0) m.path.assign(exe, static_cast<std::size_t>(n));
    }
    if (!m.path.empty() && m.start < m.end) modules->push_back(m);
    return 0;
}

std::vector<ModuleInfo> ownModules()
{
    std::vector<ModuleInfo> modules;
    dl_iterate_phdr(&addModule, &modules);
    return modules;
}

} // namespace

TEST_CASE("symbolizer: functions of this program and of libc by their address", "[symbolize]")
{
    REQUIRE(symbolizeTarget(1) == 4);
    Symbolizer s(ownModules());
    const auto target = reinterpret_cast<std::uint64_t>(&symbolizeTarget);
    CHECK(s.name(target, false) == "symbolizeTarget(int)");
    // A return address just past the function's first byte still falls inside it.
    CHECK(s.name(target + 1) == "symbolizeTarget(int)");
    // A libc function exported in .dynsym.
    CHECK(s.name(reinterpret_cast<std::uint64_t>(&::getpid), false).find("getpid") != std::string::npos);
    // An address outside every module.
    CHECK(s.name(0x10, false) == "0x10");
}

TEST_CASE("symbolizer: a missing, foreign or damaged file gives FILE+0xOFFSET", "[symbolize]")
{
    const std::string dir = rooftime::test::scratchDir("symbolize");
    std::ofstream(dir + "/text.so") << "not an ELF file at all";
    {
        // The ELF magic and nothing else: every table offset lies past the end.
        std::ofstream f(dir + "/short.so", std::ios::binary);
        f << "\x7f"
             "ELF\x02\x01\x01";
    }
    std::vector<ModuleInfo> modules {
        { dir + "/missing.so", 0x1000, 0x1000, 0x2000 },
        { dir + "/text.so", 0x3000, 0x3000, 0x4000 },
        { dir + "/short.so", 0x5000, 0x5000, 0x6000 },
    };
    Symbolizer s(modules);
    CHECK(s.name(0x1010, false) == "missing.so+0x10");
    CHECK(s.name(0x3020, false) == "text.so+0x20");
    CHECK(s.name(0x5030, false) == "short.so+0x30");
    // Asked again, the same (files are read once).
    CHECK(s.name(0x3020, false) == "text.so+0x20");
}
