// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace rooftime::collector {

/// Process-wide interned strings (region names, parameter keys, NVTX domains). Ids start at 1 and the
/// interned text never moves or dies, so threads keep pointers to it in their caches.
class StringTable {
public:
    struct Interned {
        std::uint32_t id;
        const char* text;
    };

    Interned intern(std::string_view text)
    {
        std::lock_guard lock(m_mutex);
        auto it = m_index.find(text);
        if (it != m_index.end()) return { it->second, m_storage[it->second - 1].c_str() };
        m_storage.emplace_back(text);
        const auto id = static_cast<std::uint32_t>(m_storage.size());
        m_index.emplace(std::string_view(m_storage.back()), id);
        return { id, m_storage.back().c_str() };
    }

    /// Strings with id > after, for the writer.
    std::vector<std::pair<std::uint32_t, std::string>> since(std::uint32_t after)
    {
        std::lock_guard lock(m_mutex);
        std::vector<std::pair<std::uint32_t, std::string>> out;
        for (auto id = after + 1; id <= m_storage.size(); ++id)
            out.emplace_back(id, m_storage[id - 1]);
        return out;
    }

    std::mutex& mutex() { return m_mutex; }

private:
    std::mutex m_mutex;
    std::deque<std::string> m_storage;
    std::unordered_map<std::string_view, std::uint32_t> m_index;
};

/// A thread's small direct-mapped cache from name pointers to ids. A hit is confirmed by comparing the
/// text, because callers may pass the same buffer with different contents.
class NameCache {
public:
    std::uint32_t lookup(StringTable& table, const char* name)
    {
        if (!name) name = "(null)";
        Entry& e = m_entries[(reinterpret_cast<std::uintptr_t>(name) >> 3) % kSize];
        if (e.key == name && std::strcmp(e.text, name) == 0) return e.id;
        auto interned = table.intern(name);
        e = { name, interned.text, interned.id };
        return interned.id;
    }

private:
    static constexpr std::size_t kSize = 64;
    struct Entry {
        const char* key = nullptr;
        const char* text = nullptr;
        std::uint32_t id = 0;
    };
    Entry m_entries[kSize];
};

} // namespace rooftime::collector
