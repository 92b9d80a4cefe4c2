// SPDX-License-Identifier: MIT
#include "rooftime/analyzer/symbolize.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <cxxabi.h>
#include <elf.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>

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

std::size_t storeFrameNames(const std::string& profilePath)
{
    sqlite3* db = nullptr;
    auto fail = [&](const std::string& what) {
        std::string msg = "'" + profilePath + "': " + what + (db ? std::string(" (") + sqlite3_errmsg(db) + ")" : "");
        sqlite3_close(db);
        throw std::runtime_error(msg);
    };
    if (sqlite3_open_v2(profilePath.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK)
        fail("cannot open it for writing");
    sqlite3_busy_timeout(db, 5000);
    auto each = [&](const char* sql, const std::function<void(sqlite3_stmt*)>& row) {
        sqlite3_stmt* s = nullptr;
        if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) return false;
        while (sqlite3_step(s) == SQLITE_ROW)
            row(s);
        sqlite3_finalize(s);
        return true;
    };
    std::vector<ModuleInfo> modules;
    std::vector<std::uint64_t> ips;
    // No frame or module table (not recorded with call stacks, or schema before 1.2): nothing to name.
    const bool haveFrames = each("SELECT path, base, start, end FROM module", [&](sqlite3_stmt* s) {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
        modules.push_back({ p ? p : "", static_cast<std::uint64_t>(sqlite3_column_int64(s, 1)),
            static_cast<std::uint64_t>(sqlite3_column_int64(s, 2)),
            static_cast<std::uint64_t>(sqlite3_column_int64(s, 3)) });
    }) && each("SELECT DISTINCT ip FROM frame", [&](sqlite3_stmt* s) {
        ips.push_back(static_cast<std::uint64_t>(sqlite3_column_int64(s, 0)));
    });
    if (!haveFrames || ips.empty()) {
        sqlite3_close(db);
        return 0;
    }
    Symbolizer symbolizer(std::move(modules));
    std::vector<std::pair<std::uint64_t, std::string>> names;
    for (const std::uint64_t ip : ips) {
        std::string n = symbolizer.name(ip);
        if (n.find("+0x") != std::string::npos || n.rfind("0x", 0) == 0) continue; // unresolved here too
        names.emplace_back(ip, std::move(n));
    }
    if (sqlite3_exec(db, "BEGIN; CREATE TABLE IF NOT EXISTS symbol(ip INTEGER PRIMARY KEY, name TEXT NOT NULL);",
            nullptr, nullptr, nullptr)
        != SQLITE_OK)
        fail("cannot add the symbol table");
    sqlite3_stmt* ins = nullptr;
    if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO symbol(ip, name) VALUES(?, ?)", -1, &ins, nullptr) != SQLITE_OK)
        fail("cannot write names");
    for (const auto& [ip, n] : names) {
        sqlite3_bind_int64(ins, 1, static_cast<sqlite3_int64>(ip));
        sqlite3_bind_text(ins, 2, n.data(), static_cast<int>(n.size()), SQLITE_STATIC);
        if (sqlite3_step(ins) != SQLITE_DONE) {
            sqlite3_finalize(ins);
            fail("cannot write names");
        }
        sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
    if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) fail("cannot write names");
    sqlite3_close(db);
    return names.size();
}

} // namespace rooftime::analyzer
