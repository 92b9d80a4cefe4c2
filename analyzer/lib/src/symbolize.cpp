// SPDX-License-Identifier: MIT
#include "rooftime/analyzer/symbolize.h"

#include <fmt/format.h>

#include <cxxabi.h>
#include <elf.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace rooftime::analyzer {

struct Symbolizer::Symbols {
    struct Sym {
        std::uint64_t value, size;
        std::uint32_t name; ///< offset in strtab
    };
    std::vector<Sym> syms; ///< functions, by value
    std::string strtab;
};

namespace {

// Sizes beyond these are not symbol tables of a real object: the file is damaged, or not what it claims.
constexpr std::uint64_t kMaxTableBytes = 512ull << 20;

bool readAt(std::ifstream& in, std::uint64_t offset, void* out, std::uint64_t n, std::uint64_t fileSize)
{
    if (offset > fileSize || n > fileSize - offset) return false;
    in.seekg(static_cast<std::streamoff>(offset));
    in.read(static_cast<char*>(out), static_cast<std::streamsize>(n));
    return static_cast<std::uint64_t>(in.gcount()) == n;
}

/// The function symbols of an ELF64 file: .symtab when present (not stripped), else .dynsym.
std::unique_ptr<Symbolizer::Symbols> loadSymbols(const std::string& path)
{
    auto out = std::make_unique<Symbolizer::Symbols>();
    std::error_code ec;
    const std::uint64_t size = std::filesystem::file_size(path, ec);
    if (ec) return out;
    std::ifstream in(path, std::ios::binary);
    Elf64_Ehdr eh {};
    if (!in || !readAt(in, 0, &eh, sizeof eh, size) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0
        || eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum == 0)
        return out;
    std::vector<Elf64_Shdr> sections(eh.e_shnum);
    if (!readAt(in, eh.e_shoff, sections.data(), sizeof(Elf64_Shdr) * eh.e_shnum, size)) return out;
    const Elf64_Shdr* table = nullptr;
    for (const Elf64_Shdr& s : sections)
        if (s.sh_type == SHT_SYMTAB) table = &s;
    if (!table)
        for (const Elf64_Shdr& s : sections)
            if (s.sh_type == SHT_DYNSYM) table = &s;
    if (!table || table->sh_link >= sections.size() || table->sh_size > kMaxTableBytes) return out;
    const Elf64_Shdr& strings = sections[table->sh_link];
    if (strings.sh_size > kMaxTableBytes) return out;
    std::vector<Elf64_Sym> syms(table->sh_size / sizeof(Elf64_Sym));
    out->strtab.resize(strings.sh_size);
    if (!readAt(in, table->sh_offset, syms.data(), syms.size() * sizeof(Elf64_Sym), size)
        || !readAt(in, strings.sh_offset, out->strtab.data(), strings.sh_size, size)) {
        out->strtab.clear();
        return out;
    }
    for (const Elf64_Sym& s : syms) {
        const int type = ELF64_ST_TYPE(s.st_info);
        if ((type != STT_FUNC && type != STT_GNU_IFUNC) || s.st_shndx == SHN_UNDEF || s.st_value == 0
            || s.st_name >= out->strtab.size())
            continue;
        out->syms.push_back({ s.st_value, s.st_size, s.st_name });
    }
    std::sort(out->syms.begin(), out->syms.end(), [](const auto& a, const auto& b) { return a.value < b.value; });
    return out;
}

std::string demangle(const char* name)
{
    int status = 0;
    char* d = abi::__cxa_demangle(name, nullptr, nullptr, &status);
    if (status != 0 || !d) return name;
    std::string s = d;
    std::free(d);
    return s;
}

} // namespace

Symbolizer::Symbolizer(std::vector<ModuleInfo> modules)
    : m_modules(std::move(modules))
{
    std::sort(m_modules.begin(), m_modules.end(), [](const auto& a, const auto& b) { return a.start < b.start; });
}

Symbolizer::~Symbolizer() = default;

std::string Symbolizer::modulePath(std::uint64_t ip) const
{
    auto it = std::upper_bound(
        m_modules.begin(), m_modules.end(), ip, [](std::uint64_t a, const ModuleInfo& m) { return a < m.start; });
    if (it == m_modules.begin() || ip >= std::prev(it)->end) return {};
    return std::prev(it)->path;
}

std::string Symbolizer::name(std::uint64_t ip, bool returnAddress)
{
    const std::uint64_t at = returnAddress && ip > 0 ? ip - 1 : ip;
    auto it = std::upper_bound(
        m_modules.begin(), m_modules.end(), at, [](std::uint64_t a, const ModuleInfo& m) { return a < m.start; });
    if (it == m_modules.begin() || at >= std::prev(it)->end) return fmt::format("0x{:x}", ip);
    const std::size_t index = static_cast<std::size_t>(std::prev(it) - m_modules.begin());
    const ModuleInfo& m = m_modules[index];
    auto& symbols = m_loaded[index];
    if (!symbols) symbols = loadSymbols(m.path);
    const std::uint64_t offset = at - m.base;
    const auto& syms = symbols->syms;
    auto s = std::upper_bound(
        syms.begin(), syms.end(), offset, [](std::uint64_t o, const Symbols::Sym& x) { return o < x.value; });
    if (s != syms.begin()) {
        const Symbols::Sym& f = *std::prev(s);
        // A symbol without a size (hand-written assembly) is taken as reaching the next one.
        if (f.size == 0 || offset < f.value + f.size) {
            const char* raw = symbols->strtab.c_str() + f.name;
            if (*raw) return demangle(raw);
        }
    }
    return fmt::format("{}+0x{:x}", std::filesystem::path(m.path).filename().string(), offset);
}

} // namespace rooftime::analyzer
