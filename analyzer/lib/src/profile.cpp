// SPDX-License-Identifier: MIT
#include "rooftime/analyzer/profile.h"
#include "rooftime/analyzer/symbolize.h"

#include "rooftime/schema.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <memory>
#include <tuple>
#include <unordered_map>
#include <utility>

namespace fs = std::filesystem;

namespace rooftime::analyzer {

namespace {

/// Combines two ids for a hash in unsigned arithmetic: ids come from files, and a damaged file's ids must not
/// overflow a signed product.
std::size_t mix(std::int64_t a, std::int64_t b)
{
    return static_cast<std::size_t>(a) * 1000003u ^ static_cast<std::size_t>(b);
}

std::uint32_t be(const unsigned char* p, int n)
{
    std::uint32_t v = 0;
    for (int i = 0; i < n; ++i)
        v = (v << 8) | p[i];
    return v;
}

// Checks the container before SQLite sees it, so that each kind of bad file gets its own message.
void checkContainer(const std::string& path)
{
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (ec || !fs::exists(status)) throw ProfileError(path, "no such file");
    if (fs::is_directory(status)) throw ProfileError(path, "is a folder, not a profile file");
    const auto size = fs::file_size(path, ec);
    if (ec) throw ProfileError(path, "cannot read: " + ec.message());
    if (size == 0)
        throw ProfileError(path,
            "is empty (0 bytes): not a rooftime profile (was the program killed before its "
            "first commit?)");
    std::ifstream in(path, std::ios::binary);
    std::array<unsigned char, 100> header {};
    in.read(reinterpret_cast<char*>(header.data()), header.size());
    if (!in && in.gcount() < 16)
        throw ProfileError(path, "is too short to be a rooftime profile (" + std::to_string(size) + " bytes)");
    if (std::memcmp(header.data(), "SQLite format 3", 16) != 0)
        throw ProfileError(path, "is not a rooftime profile (not an SQLite database)");
    if (in.gcount() < 100)
        throw ProfileError(path, "is truncated (" + std::to_string(size) + " bytes, shorter than its header)");
    std::uint32_t pageSize = be(&header[16], 2);
    if (pageSize == 1) pageSize = 65536;
    const std::uint32_t pages = be(&header[28], 4);
    // The in-header page count is valid when the "version-valid-for" number equals the change counter.
    const bool countValid = be(&header[92], 4) == be(&header[24], 4);
    // Beside a -wal file the pages may be there: a checkpoint that a full disk cut short wrote the header but
    // not the pages, which SQLite still reads from the WAL.
    std::error_code walError;
    const bool wal = fs::file_size(path + "-wal", walError) > 32 && !walError; // frames beyond its header
    if (countValid && !wal && pages > 0 && static_cast<std::uintmax_t>(pages) * pageSize > size)
        throw ProfileError(path,
            "is truncated (" + std::to_string(size) + " bytes, its header says "
                + std::to_string(static_cast<std::uintmax_t>(pages) * pageSize) + ")");
}

} // namespace

Profile::Profile(Profile&& o) noexcept
    : m_path(std::move(o.m_path))
    , m_db(std::exchange(o.m_db, nullptr))
    , m_meta(std::move(o.m_meta))
    , m_major(o.m_major)
    , m_minor(o.m_minor)
    , m_process(std::move(o.m_process))
{ }

Profile& Profile::operator=(Profile&& o) noexcept
{
    if (this != &o) {
        if (m_db) sqlite3_close_v2(m_db);
        m_path = std::move(o.m_path);
        m_db = std::exchange(o.m_db, nullptr);
        m_meta = std::move(o.m_meta);
        m_major = o.m_major;
        m_minor = o.m_minor;
        m_process = std::move(o.m_process);
    }
    return *this;
}

Profile::~Profile()
{
    if (m_db) sqlite3_close_v2(m_db);
}

void Profile::query(const char* sql, const std::function<void(sqlite3_stmt*)>& row) const
{
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(m_db, sql, -1, &stmt, nullptr) != SQLITE_OK) {
        const int code = sqlite3_errcode(m_db);
        std::string msg = sqlite3_errmsg(m_db);
        sqlite3_finalize(stmt);
        if (code == SQLITE_NOTADB) throw ProfileError(m_path, "is not a rooftime profile (not an SQLite database)");
        if (code == SQLITE_CORRUPT) throw ProfileError(m_path, "is damaged (truncated or corrupt): " + msg);
        throw ProfileError(m_path, "cannot be read: " + msg);
    }
    // Finalized however the loop ends: a row callback may throw (a damaged value).
    const std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> owned(stmt, sqlite3_finalize);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
        row(stmt);
    if (rc != SQLITE_DONE)
        throw ProfileError(m_path, std::string("is damaged (truncated or corrupt): ") + sqlite3_errmsg(m_db));
}

namespace {
std::string text(sqlite3_stmt* s, int col)
{
    const unsigned char* t = sqlite3_column_text(s, col);
    return t ? reinterpret_cast<const char*>(t) : std::string();
}

int parseVersionPart(const std::string& path, const std::map<std::string, std::string>& meta, const char* key)
{
    auto it = meta.find(key);
    if (it == meta.end())
        throw ProfileError(
            path, std::string("has no ") + key + " in its meta table: damaged or not a rooftime profile");
    try {
        size_t used = 0;
        int v = std::stoi(it->second, &used);
        if (used == it->second.size() && v >= 0) return v;
    } catch (...) { }
    throw ProfileError(path, std::string("has an invalid ") + key + " '" + it->second + "' in its meta table");
}
} // namespace

Profile Profile::open(const std::string& path)
{
    checkContainer(path);
    Profile p;
    p.m_path = path;
    // One thread uses a Profile at a time: no per-connection mutex, which every sqlite3_column_* call would lock
    // (8 % of a kernel report over a million launches).
    if (sqlite3_open_v2(path.c_str(), &p.m_db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK)
        throw ProfileError(path, std::string("cannot open: ") + (p.m_db ? sqlite3_errmsg(p.m_db) : "out of memory"));
    sqlite3_busy_timeout(p.m_db, 2000);

    bool hasMeta = false;
    p.query(
        "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'meta'", [&](sqlite3_stmt*) { hasMeta = true; });
    if (!hasMeta) {
        int tables = 0;
        p.query("SELECT COUNT(*) FROM sqlite_schema", [&](sqlite3_stmt* s) { tables = sqlite3_column_int(s, 0); });
        std::error_code ec;
        if (tables == 0 && !fs::exists(path + "-wal", ec))
            throw ProfileError(path,
                "holds no tables: if it comes from a process that was killed, its data is in '" + path
                    + "-wal', which must stay beside it");
        throw ProfileError(path, "is an SQLite database but not a rooftime profile (it has no 'meta' table)");
    }
    p.query("SELECT key, value FROM meta", [&](sqlite3_stmt* s) { p.m_meta[text(s, 0)] = text(s, 1); });
    if (p.m_meta["format"] != schema::kFormatName)
        throw ProfileError(
            path, "is an SQLite database but not a rooftime profile (meta 'format' is '" + p.m_meta["format"] + "')");
    p.m_major = parseVersionPart(path, p.m_meta, "schema_major");
    p.m_minor = parseVersionPart(path, p.m_meta, "schema_minor");
    if (p.m_major > schema::kMajor)
        throw ProfileError(path,
            "was written with profile schema " + std::to_string(p.m_major) + "." + std::to_string(p.m_minor)
                + "; this rooftime reads schema " + std::to_string(schema::kMajor) + ".x: upgrade rooftime to read it");
    if (p.m_major < 1)
        throw ProfileError(
            path, "has unknown profile schema " + std::to_string(p.m_major) + "." + std::to_string(p.m_minor));

    bool hasProcess = false;
    p.query("SELECT pid, ppid, host, rank, exe, cmdline, start_ns, end_ns, end_reason FROM process LIMIT 1",
        [&](sqlite3_stmt* s) {
            hasProcess = true;
            ProcessMeta& m = p.m_process;
            m.pid = static_cast<long>(sqlite3_column_int64(s, 0));
            m.ppid = static_cast<long>(sqlite3_column_int64(s, 1));
            m.host = text(s, 2);
            m.rank = static_cast<long>(sqlite3_column_int64(s, 3));
            m.exe = text(s, 4);
            m.cmdline = text(s, 5);
            m.startNs = sqlite3_column_int64(s, 6);
            if (sqlite3_column_type(s, 7) != SQLITE_NULL) m.endNs = sqlite3_column_int64(s, 7);
            m.endReason = text(s, 8);
        });
    if (!hasProcess) throw ProfileError(path, "has no process row: damaged profile");
    if (p.m_process.endNs && *p.m_process.endNs < p.m_process.startNs)
        throw ProfileError(path,
            fmt::format("is damaged: the process ends ({} ns) before it starts ({} ns)", *p.m_process.endNs,
                p.m_process.startNs));
    // The last event bounds the run only when the process did not record its end (killed).
    if (!p.m_process.endNs)
        p.query("SELECT MAX(end_ns) FROM region",
            [&](sqlite3_stmt* s) { p.m_process.lastEventNs = sqlite3_column_int64(s, 0); });
    return p;
}

bool Profile::complete() const
{
    auto it = m_meta.find("complete");
    return it != m_meta.end() && it->second == "1" && m_process.endNs.has_value();
}

double Profile::runSeconds() const
{
    const std::int64_t end = m_process.endNs ? *m_process.endNs : std::max(m_process.lastEventNs, m_process.startNs);
    return static_cast<double>(end - m_process.startNs) * 1e-9;
}

std::vector<std::pair<std::string, double>> Profile::runParams() const
{
    std::vector<std::pair<std::string, double>> out;
    query("SELECT s.text, p.value FROM param p JOIN string s ON s.id = p.key WHERE p.region IS NULL ORDER BY p.rowid",
        [&](sqlite3_stmt* s) {
            std::string key = text(s, 0);
            double value = sqlite3_column_double(s, 1);
            auto it = std::find_if(out.begin(), out.end(), [&](const auto& kv) { return kv.first == key; });
            if (it != out.end())
                it->second = value;
            else
                out.emplace_back(key, value);
        });
    return out;
}

std::vector<std::string> Profile::diagnostics() const
{
    std::vector<std::string> out;
    query("SELECT component, message FROM diagnostic ORDER BY rowid",
        [&](sqlite3_stmt* s) { out.push_back(text(s, 0) + ": " + text(s, 1)); });
    return out;
}

std::optional<Profile::EmbeddedMachine> Profile::embeddedMachine() const
{
    std::optional<EmbeddedMachine> out;
    if (!hasTable("machine")) return out; // schema 1.0 files have none
    query("SELECT source, json FROM machine ORDER BY rowid LIMIT 1", [&](sqlite3_stmt* s) {
        out = EmbeddedMachine { text(s, 0), text(s, 1) };
    });
    return out;
}

namespace {

/// (thread, seq) of a region of kind 0 or 1: its identity in the nesting tree (docs/format.md).
struct NestKey {
    std::int64_t thread;
    std::int64_t seq;
    bool operator==(const NestKey&) const = default;
};
struct NestKeyHash {
    size_t operator()(const NestKey& k) const { return mix(k.thread, k.seq); }
};

bool nested(int kind)
{
    return kind != static_cast<int>(schema::RegionKind::NvtxStartEnd);
}

} // namespace

std::vector<RegionAggregate> Profile::aggregateRegions() const
{
    // One plain scan summed in a hash map: SQLite's GROUP BY sorts every row into a temporary b-tree first,
    // which costs several times more on large profiles (bench/README.md).
    struct Key {
        int kind;
        std::int64_t domain;
        std::int64_t name;
        bool operator==(const Key&) const = default;
    };
    struct KeyHash {
        size_t operator()(const Key& k) const { return mix(mix(k.name, k.domain), k.kind); }
    };
    std::unordered_map<Key, RegionAggregate, KeyHash> groups;
    // Exclusive time: each nested instance's time is taken from its parent's group once the scan is done
    // (rows are written when regions close, so a parent's row may come before or after its children's).
    std::unordered_map<NestKey, std::int64_t, NestKeyHash> childNs;
    struct Instance {
        NestKey key;
        std::int64_t parent; // 0: top level (seq starts at 1)
        RegionAggregate* group;
    };
    std::vector<Instance> instances;
    query("SELECT kind, IFNULL(domain, 0), name, end_ns - start_ns, flops, bytes, flags, thread, seq, parent "
          "FROM region",
        [&](sqlite3_stmt* s) {
            const Key key { sqlite3_column_int(s, 0), sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 2) };
            RegionAggregate& a = groups[key];
            const std::int64_t t = sqlite3_column_int64(s, 3);
            ++a.count;
            a.timeNs += t;
            a.exclusiveNs += t;
            if (sqlite3_column_type(s, 4) != SQLITE_NULL) {
                ++a.declaredCount;
                a.declaredTimeNs += t;
                a.flops += sqlite3_column_double(s, 4);
                a.bytes += sqlite3_column_double(s, 5);
            }
            a.implicitlyClosed += static_cast<std::uint64_t>(sqlite3_column_int(s, 6) & 1);
            if (!nested(key.kind)) return;
            const std::int64_t thread = sqlite3_column_int64(s, 7);
            const std::int64_t parent = sqlite3_column_type(s, 9) == SQLITE_NULL ? 0 : sqlite3_column_int64(s, 9);
            instances.push_back({ { thread, sqlite3_column_int64(s, 8) }, parent, &a });
            if (parent != 0) childNs[{ thread, parent }] += t;
        });
    for (const Instance& i : instances) {
        auto it = childNs.find(i.key);
        if (it != childNs.end()) i.group->exclusiveNs -= it->second;
    }
    // The GPUs each region's instances launched kernels on, up the nesting from the launch's innermost region:
    // the instances sorted by (thread, seq) and searched, rather than a second map of every instance.
    bool launchesInRegions = false;
    if (hasTable("kernel") && hasColumn("kernel", "region"))
        query(
            "SELECT 1 FROM kernel WHERE region IS NOT NULL LIMIT 1", [&](sqlite3_stmt*) { launchesInRegions = true; });
    if (launchesInRegions) {
        auto before = [](const Instance& a, const NestKey& b) {
            return a.key.thread != b.thread ? a.key.thread < b.thread : a.key.seq < b.seq;
        };
        std::sort(
            instances.begin(), instances.end(), [&](const Instance& a, const Instance& b) { return before(a, b.key); });
        query("SELECT thread, region, device, COUNT(*) FROM kernel WHERE region IS NOT NULL GROUP BY thread, region, "
              "device",
            [&](sqlite3_stmt* s) {
                const std::int64_t thread = sqlite3_column_int64(s, 0), device = sqlite3_column_int64(s, 2);
                const auto launches = static_cast<std::uint64_t>(sqlite3_column_int64(s, 3));
                std::int64_t seq = sqlite3_column_int64(s, 1);
                for (int depth = 0; seq != 0 && depth < 1000; ++depth) { // a damaged cycle ends at the limit
                    const NestKey key { thread, seq };
                    auto it = std::lower_bound(instances.begin(), instances.end(), key, before);
                    if (it == instances.end() || !(it->key == key)) break;
                    it->group->kernelDevices.insert(device);
                    it->group->kernelLaunches += launches;
                    seq = it->parent;
                }
            });
    }
    std::unordered_map<std::int64_t, std::string> strings;
    query("SELECT id, text FROM string", [&](sqlite3_stmt* s) { strings[sqlite3_column_int64(s, 0)] = text(s, 1); });
    auto lookup = [&](std::int64_t id) -> std::string {
        auto it = strings.find(id);
        if (it == strings.end())
            throw ProfileError(
                m_path, "is damaged: region refers to string " + std::to_string(id) + ", which is missing");
        return it->second;
    };
    std::vector<RegionAggregate> out;
    out.reserve(groups.size());
    for (auto& [key, a] : groups) {
        a.kind = key.kind;
        a.name = lookup(key.name);
        a.domain = key.domain ? lookup(key.domain) : std::string();
        out.push_back(std::move(a));
    }
    return out;
}

std::vector<PathAggregate> Profile::aggregatePaths() const
{
    struct Instance {
        NestKey key;
        std::int64_t parent; // 0: top level (seq starts at 1)
        std::int64_t name, domain, timeNs;
        std::optional<double> flops, bytes;
        std::size_t path = SIZE_MAX;
        std::int64_t frame = 0; // innermost frame of the call that opened it (schema 1.2), 0: none
        std::int64_t startNs = 0, endNs = 0;
    };
    std::vector<Instance> regions;
    std::unordered_map<NestKey, std::size_t, NestKeyHash> index;
    std::map<std::int64_t, std::vector<std::size_t>> byThread; // region indices per thread, by start
    query("SELECT thread, seq, IFNULL(parent, 0), name, IFNULL(domain, 0), end_ns - start_ns, flops, bytes, "
          "start_ns, end_ns FROM region WHERE kind <> 2",
        [&](sqlite3_stmt* s) {
            Instance r { { sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1) }, sqlite3_column_int64(s, 2),
                sqlite3_column_int64(s, 3), sqlite3_column_int64(s, 4), sqlite3_column_int64(s, 5), {}, {} };
            if (sqlite3_column_type(s, 6) != SQLITE_NULL) {
                r.flops = sqlite3_column_double(s, 6);
                r.bytes = sqlite3_column_double(s, 7);
            }
            r.startNs = sqlite3_column_int64(s, 8);
            r.endNs = sqlite3_column_int64(s, 9);
            index.emplace(r.key, regions.size());
            byThread[r.key.thread].push_back(regions.size());
            regions.push_back(r);
        });
    for (auto& [thread, list] : byThread)
        std::sort(list.begin(), list.end(), [&](std::size_t a, std::size_t b) {
            return std::tie(regions[a].startNs, a) < std::tie(regions[b].startNs, b);
        });
    // A launch from a thread with no region of its own (PyTorch's autograd thread runs the backward pass while
    // the main thread sits in its "backward" range): the innermost region open at the launch on the one other
    // thread that has one then. None when no other thread has one, or when several do (ambiguous).
    auto openElsewhere = [&](std::int64_t self, std::int64_t t) -> std::optional<std::size_t> {
        std::optional<std::size_t> found;
        for (const auto& [thread, list] : byThread) {
            if (thread == self) continue;
            auto after = std::upper_bound(
                list.begin(), list.end(), t, [&](std::int64_t v, std::size_t i) { return v < regions[i].startNs; });
            if (after == list.begin()) continue;
            // The last region opened before t, or the nearest of its parents still open at t.
            std::optional<std::size_t> at = *(after - 1);
            while (at && regions[*at].endNs <= t) {
                auto parent = index.find({ thread, regions[*at].parent });
                at = regions[*at].parent != 0 && parent != index.end() ? std::optional(parent->second) : std::nullopt;
            }
            if (!at) continue;
            if (found) return std::nullopt;
            found = at;
        }
        return found;
    };

    // Host call stacks (recorded with --call-stacks): frames as a tree per thread, symbolized with the module
    // map. Each region's frames become part of its path, less those its parent region's path already holds.
    std::unordered_map<NestKey, std::pair<std::int64_t, std::uint64_t>, NestKeyHash> frames; // -> parent, ip
    std::vector<ModuleInfo> modules;
    if (hasTable("frame") && hasTable("region_stack")) {
        query("SELECT thread, id, parent, ip FROM frame", [&](sqlite3_stmt* s) {
            frames[{ sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1) }]
                = { sqlite3_column_int64(s, 2), static_cast<std::uint64_t>(sqlite3_column_int64(s, 3)) };
        });
        query("SELECT thread, seq, frame FROM region_stack", [&](sqlite3_stmt* s) {
            auto it = index.find({ sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1) });
            if (it != index.end()) regions[it->second].frame = sqlite3_column_int64(s, 2);
        });
        if (hasTable("module"))
            query("SELECT path, base, start, end FROM module", [&](sqlite3_stmt* s) {
                modules.push_back({ text(s, 0), static_cast<std::uint64_t>(sqlite3_column_int64(s, 1)),
                    static_cast<std::uint64_t>(sqlite3_column_int64(s, 2)),
                    static_cast<std::uint64_t>(sqlite3_column_int64(s, 3)) });
            });
    }
    Symbolizer symbolizer(std::move(modules));
    // Names stored while the binaries were at hand (`rooftime record`, `rooftime symbolize`) come first.
    std::unordered_map<std::uint64_t, std::string> storedNames;
    if (!frames.empty() && hasTable("symbol"))
        query("SELECT ip, name FROM symbol",
            [&](sqlite3_stmt* s) { storedNames[static_cast<std::uint64_t>(sqlite3_column_int64(s, 0))] = text(s, 1); });
    std::vector<std::string> frameLabels;
    std::vector<bool> frameInternal; // per label: code of CUDA's libraries or of our backends, not the program's
    std::vector<bool> frameRuntime; // per label: the C and C++ runtime (thread and process start-up)
    std::map<std::string, std::size_t> frameLabelIds;
    // What a new label's frame is: code of CUDA's libraries or our backends, or of the C/C++ runtime.
    auto classify = [&](std::uint64_t ip, const std::string& name) {
        const std::string file = std::filesystem::path(symbolizer.modulePath(ip)).filename().string();
        auto fileIs = [&](std::initializer_list<const char*> libs) {
            return std::any_of(libs.begin(), libs.end(), [&](const char* lib) { return file.rfind(lib, 0) == 0; });
        };
        bool internal = fileIs({ "libcuda.", "libcudart", "libcupti", "librooftime_", "libnvrtc" });
        for (const char* fn : { "cudart::", "cudaLaunch", "__cudaLaunch", "cuLaunch", "__device_stub_" })
            internal = internal || name.rfind(fn, 0) == 0;
        frameInternal.push_back(internal);
        frameRuntime.push_back(fileIs({ "libc.so", "libstdc++.so", "libpthread.so", "libgcc_s.so", "ld-linux" }));
    };
    std::unordered_map<NestKey, std::size_t, NestKeyHash> labelOfFrame;
    // The function names of a region's stack, outermost first, without the C runtime's start-up frames.
    // Memoised per frame: many regions and launches share their stack.
    std::unordered_map<NestKey, std::vector<std::size_t>, NestKeyHash> stacks;
    auto stackOf = [&](std::int64_t thread, std::int64_t innermost) -> const std::vector<std::size_t>& {
        auto [memo, first] = stacks.try_emplace({ thread, innermost });
        if (!first) return memo->second;
        std::int64_t frame = innermost;
        std::vector<std::size_t>& labels = memo->second;
        for (std::size_t guard = 0; frame != 0 && guard < 4096; ++guard) {
            auto f = frames.find({ thread, frame });
            if (f == frames.end()) break;
            auto [l, fresh] = labelOfFrame.try_emplace({ thread, frame }, 0);
            if (fresh) {
                auto stored = storedNames.find(f->second.second);
                const std::string name
                    = stored != storedNames.end() ? stored->second : symbolizer.name(f->second.second);
                auto [id, added] = frameLabelIds.try_emplace(name, frameLabels.size());
                if (added) {
                    frameLabels.push_back(name);
                    classify(f->second.second, name);
                }
                l->second = id->second;
            }
            labels.push_back(l->second);
            frame = f->second.first;
        }
        // Innermost: the marker and NVTX entry points, inline in the program's own code, are not its functions.
        // Kernel launches: the CUDA runtime and driver, CUPTI and our backend below the program's call.
        auto api = [&](std::size_t l) {
            const std::string& n = frameLabels[l];
            return n.rfind("rooftime_", 0) == 0 || n.rfind("nvtx", 0) == 0 || frameInternal[l];
        };
        while (!labels.empty() && api(labels.front()))
            labels.erase(labels.begin());
        std::reverse(labels.begin(), labels.end());
        // Outermost: process and thread start-up (_start, __libc_start_main, start_thread, std::thread's entry in
        // libstdc++ and its templates instantiated in the program), up to the program's first function.
        auto startup = [&](std::size_t l) {
            const std::string& n = frameLabels[l];
            return n == "_start" || n.rfind("__libc_start", 0) == 0 || frameRuntime[l]
                || n.find("std::thread::") != std::string::npos || n.find("std::__invoke") != std::string::npos;
        };
        std::size_t skip = 0;
        while (skip < labels.size() && startup(labels[skip]))
            ++skip;
        labels.erase(labels.begin(), labels.begin() + static_cast<std::ptrdiff_t>(skip));
        return labels;
    };

    // Paths are interned as (parent path, leaf): node 0 is the root.
    enum NodeType : int { kRegionNode = 0, kKernelNode = 1, kFrameNode = 2 };
    struct Node {
        std::size_t parent;
        std::int64_t name, domain; ///< kernels: name and device; frames: label index
        int type;
        bool operator<(const Node& o) const
        {
            return std::tie(parent, name, domain, type) < std::tie(o.parent, o.name, o.domain, o.type);
        }
    };
    std::vector<Node> nodes { { 0, 0, 0, kRegionNode } };
    std::map<Node, std::size_t> nodeIds;
    auto intern = [&](const Node& n) {
        auto [it, inserted] = nodeIds.try_emplace(n, nodes.size());
        if (inserted) nodes.push_back(n);
        return it->second;
    };
    // A region's path: its ancestors' first (iteratively: deep nesting must not exhaust the stack; a damaged
    // file whose parents form a cycle is cut at the first repeat).
    auto pathOf = [&](std::size_t i) {
        std::vector<std::size_t> chain; // regions without a path yet, innermost first
        std::size_t parentPath = 0;
        std::optional<std::size_t> parentRegion;
        for (std::size_t at = i;;) {
            if (regions[at].path != SIZE_MAX) {
                parentPath = regions[at].path;
                if (regions[at].path != 0) parentRegion = at;
                break;
            }
            chain.push_back(at);
            regions[at].path = 0; // being resolved: a cycle through here ends at the root
            auto p = regions[at].parent ? index.find({ regions[at].key.thread, regions[at].parent }) : index.end();
            if (p == index.end()) break;
            at = p->second;
        }
        std::vector<std::size_t> outer = parentRegion
            ? stackOf(regions[*parentRegion].key.thread, regions[*parentRegion].frame)
            : std::vector<std::size_t>();
        for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
            Instance& r = regions[*it];
            std::vector<std::size_t> own = stackOf(r.key.thread, r.frame);
            // Frames shared with the enclosing region (compared by function) are already on the path.
            std::size_t common = 0;
            while (common < own.size() && common < outer.size() && own[common] == outer[common])
                ++common;
            for (std::size_t f = common; f < own.size(); ++f)
                parentPath = intern({ parentPath, static_cast<std::int64_t>(own[f]), 0, kFrameNode });
            r.path = intern({ parentPath, r.name, r.domain, kRegionNode });
            parentPath = r.path;
            outer = std::move(own);
        }
        return regions[i].path;
    };
    // The region node a path ends in, for self time: frames between regions are not regions.
    auto enclosingRegion = [&](std::size_t id) {
        std::size_t at = nodes[id].parent;
        while (at != 0 && nodes[at].type == kFrameNode)
            at = nodes[at].parent;
        return at;
    };
    std::map<std::size_t, PathAggregate> groups;
    std::map<std::size_t, std::int64_t> childNs;
    for (std::size_t i = 0; i < regions.size(); ++i) {
        const std::size_t id = pathOf(i);
        PathAggregate& a = groups[id];
        const Instance& r = regions[i];
        ++a.count;
        a.timeNs += r.timeNs;
        if (r.flops) {
            ++a.declaredCount;
            a.declaredTimeNs += r.timeNs;
            a.flops += *r.flops;
            a.bytes += r.bytes.value_or(0);
        }
        if (const std::size_t parent = enclosingRegion(id)) childNs[parent] += r.timeNs;
    }
    std::unordered_map<std::int64_t, std::int64_t> kernelFrame; // kernel id -> launching frame
    if (!frames.empty() && hasTable("kernel_stack"))
        query("SELECT kernel, frame FROM kernel_stack",
            [&](sqlite3_stmt* s) { kernelFrame[sqlite3_column_int64(s, 0)] = sqlite3_column_int64(s, 1); });
    const auto replayedNs = replayedDurations();
    // Schema 1.3: the launch's time, to place a launch of a thread without regions among another thread's.
    const std::string launchColumn = hasColumn("kernel", "launch_ns") ? "k.launch_ns" : "NULL";
    if (hasTable("kernel"))
        query(("SELECT IFNULL(k.thread, 0), IFNULL(k.region, 0), k.name, k.device, k.duration_ns, k.id, n.text, "
                  + launchColumn + " FROM kernel k LEFT JOIN string n ON n.id = k.name")
                  .c_str(),
            [&](sqlite3_stmt* s) {
                const std::int64_t thread = sqlite3_column_int64(s, 0);
                std::size_t parentPath = 0;
                std::vector<std::size_t> outer;
                auto it = index.find({ thread, sqlite3_column_int64(s, 1) });
                std::optional<std::size_t> region;
                if (it != index.end())
                    region = it->second;
                else if (sqlite3_column_int64(s, 1) == 0 && sqlite3_column_type(s, 7) != SQLITE_NULL)
                    region = openElsewhere(thread, sqlite3_column_int64(s, 7));
                if (region) {
                    parentPath = regions[*region].path;
                    outer = stackOf(regions[*region].key.thread, regions[*region].frame);
                }
                // The launching functions below the region, as for regions; the host stub named like the kernel
                // (nvcc's launch wrapper) stands for the kernel itself.
                auto frame = kernelFrame.find(sqlite3_column_int64(s, 5));
                if (frame != kernelFrame.end()) {
                    std::vector<std::size_t> own = stackOf(thread, frame->second);
                    const std::string kernelName = text(s, 6);
                    while (!own.empty() && frameLabels[own.back()] == kernelName)
                        own.pop_back();
                    std::size_t common = 0;
                    while (common < own.size() && common < outer.size() && own[common] == outer[common])
                        ++common;
                    for (std::size_t f = common; f < own.size(); ++f)
                        parentPath = intern({ parentPath, static_cast<std::int64_t>(own[f]), 0, kFrameNode });
                }
                const std::size_t id
                    = intern({ parentPath, sqlite3_column_int64(s, 2), sqlite3_column_int64(s, 3), kKernelNode });
                PathAggregate& a = groups[id];
                ++a.count;
                const std::int64_t ns = sqlite3_column_int64(s, 4);
                auto replayed = ns == 0 ? replayedNs.find(sqlite3_column_int64(s, 5)) : replayedNs.end();
                const std::int64_t launchNs = replayed != replayedNs.end() ? replayed->second : ns;
                a.timeNs += launchNs;
                if (launchNs == 0) ++a.untimed;
            });
    std::unordered_map<std::int64_t, std::string> strings;
    query("SELECT id, text FROM string", [&](sqlite3_stmt* s) { strings[sqlite3_column_int64(s, 0)] = text(s, 1); });
    auto lookup = [&](std::int64_t id) -> std::string {
        auto it = strings.find(id);
        if (it == strings.end())
            throw ProfileError(m_path, "is damaged: it refers to string " + std::to_string(id) + ", which is missing");
        return it->second;
    };
    auto label = [&](const Node& n) {
        if (n.type == kFrameNode) return frameLabels[static_cast<std::size_t>(n.name)];
        if (n.type == kKernelNode || !n.domain) return lookup(n.name);
        return lookup(n.domain) + "::" + lookup(n.name);
    };
    std::vector<PathAggregate> out;
    out.reserve(groups.size());
    for (auto& [id, a] : groups) {
        for (std::size_t at = id; at != 0; at = nodes[at].parent) {
            a.path.push_back(label(nodes[at]));
            a.frames.push_back(nodes[at].type == kFrameNode);
        }
        std::reverse(a.path.begin(), a.path.end());
        std::reverse(a.frames.begin(), a.frames.end());
        a.kernel = nodes[id].type == kKernelNode;
        if (a.kernel) a.device = nodes[id].domain;
        auto c = childNs.find(id);
        a.exclusiveNs = a.timeNs - (c != childNs.end() ? c->second : 0);
        out.push_back(std::move(a));
    }
    return out;
}

bool Profile::hasColumn(const char* table, const char* column) const
{
    bool found = false;
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(m_db, "SELECT 1 FROM pragma_table_info(?) WHERE name = ?", -1, &s, nullptr) == SQLITE_OK) {
        sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, column, -1, SQLITE_STATIC);
        found = sqlite3_step(s) == SQLITE_ROW;
    }
    sqlite3_finalize(s);
    return found;
}

bool Profile::hasTable(const char* name) const
{
    bool found = false;
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(m_db, "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", -1, &s, nullptr)
        == SQLITE_OK) {
        sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
        found = sqlite3_step(s) == SQLITE_ROW;
    }
    sqlite3_finalize(s);
    return found;
}

std::vector<DeviceInfo> Profile::devices() const
{
    std::vector<DeviceInfo> out;
    if (!hasTable("device")) return out;
    query("SELECT id, name, IFNULL(arch, '') FROM device ORDER BY id", [&](sqlite3_stmt* s) {
        out.push_back({ sqlite3_column_int64(s, 0), text(s, 1), text(s, 2) });
    });
    return out;
}

bool Profile::hasKernels() const
{
    bool any = false;
    if (hasTable("kernel")) query("SELECT 1 FROM kernel LIMIT 1", [&](sqlite3_stmt*) { any = true; });
    return any;
}

bool Profile::hasKernelCounters() const
{
    bool any = false;
    if (hasTable("kernel_metric")) query("SELECT 1 FROM kernel_metric LIMIT 1", [&](sqlite3_stmt*) { any = true; });
    return any;
}

bool Profile::hasDeclaredWork() const
{
    bool any = false;
    query("SELECT 1 FROM region WHERE flops IS NOT NULL LIMIT 1", [&](sqlite3_stmt*) { any = true; });
    return any;
}

namespace {
struct ConfigHash {
    std::size_t operator()(const std::array<std::int64_t, 6>& c) const
    {
        std::size_t h = 0;
        for (auto v : c)
            h = h * 1000003u ^ std::hash<std::int64_t>()(v);
        return h;
    }
};
} // namespace

std::uint64_t KernelAggregate::unmeasuredOtherConfig() const
{
    std::uint64_t n = 0;
    for (const ConfigLaunches& c : launchConfigs)
        if (c.replayed == 0) n += c.other;
    return n;
}

void KernelAggregate::addLaunchConfigs(const std::vector<ConfigLaunches>& more)
{
    std::unordered_map<std::array<std::int64_t, 6>, std::size_t, ConfigHash> at;
    for (std::size_t i = 0; i < launchConfigs.size(); ++i)
        at.emplace(launchConfigs[i].config, i);
    for (const ConfigLaunches& c : more) {
        auto [it, inserted] = at.try_emplace(c.config, launchConfigs.size());
        if (inserted)
            launchConfigs.push_back(c);
        else {
            launchConfigs[it->second].replayed += c.replayed;
            launchConfigs[it->second].other += c.other;
        }
    }
}

std::vector<KernelAggregate> Profile::aggregateKernels(bool byConfig) const
{
    std::vector<KernelAggregate> out;
    if (!hasTable("kernel")) return out;
    // Like aggregateRegions: plain scans summed in hash maps (bench/README.md).
    struct Key {
        std::int64_t name, device;
        std::array<std::int64_t, 6> config;
        bool operator==(const Key&) const = default;
    };
    struct KeyHash {
        size_t operator()(const Key& k) const
        {
            size_t h = mix(k.name, k.device);
            for (auto c : k.config)
                h = mix(static_cast<std::int64_t>(h), c);
            return h;
        }
    };
    std::unordered_map<Key, std::size_t, KeyHash> index;
    std::unordered_map<std::int64_t, std::size_t> ofLaunch; // launch id -> aggregate, replayed launches only
    std::unordered_map<std::int64_t, std::size_t> sampleOf; // launch id -> its slot in sampled, if sampled
    std::vector<std::pair<std::size_t, std::vector<std::pair<std::int64_t, double>>>> sampled; // aggregate, counters
    std::vector<Key> keys;
    // Per aggregate and launch configuration: launches replayed and not (KernelAggregate::launchConfigs). Its last
    // hit first (a kernel repeats its configuration; a hash per launch cost 15 %), else its hash index (variable
    // batch sizes can make thousands of configurations).
    std::vector<std::size_t> lastConfig;
    std::vector<std::unordered_map<std::array<std::int64_t, 6>, std::size_t, ConfigHash>> configIndex;
    const auto replayedNs = replayedDurations();
    // Plain columns: sqlite3_column_int64 reads NULL as 0, and every SQL operator per row costs (IFNULL on six
    // columns was a tenth of a million-launch report).
    constexpr int configColumns = 6, durationColumn = 9, replayedColumn = 10;
    query(
        "SELECT id, name, device, grid_x, grid_y, grid_z, block_x, block_y, block_z, duration_ns, replayed FROM kernel",
        [&](sqlite3_stmt* s) {
            std::array<std::int64_t, 6> config {};
            for (int i = 0; i < configColumns; ++i)
                config[static_cast<std::size_t>(i)] = sqlite3_column_int64(s, 3 + i);
            Key key { sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 2), {} };
            if (byConfig) key.config = config;
            auto [it, inserted] = index.try_emplace(key, out.size());
            if (inserted) {
                out.emplace_back();
                keys.push_back(key);
                lastConfig.push_back(0);
                configIndex.emplace_back();
            }
            KernelAggregate& a = out[it->second];
            ++a.count;
            const std::int64_t ns = sqlite3_column_int64(s, durationColumn);
            auto replayed = ns == 0 ? replayedNs.find(sqlite3_column_int64(s, 0)) : replayedNs.end();
            const std::int64_t launchNs = replayed != replayedNs.end() ? replayed->second : ns;
            a.durationNs += launchNs;
            if (launchNs == 0) ++a.untimed;
            auto& configs = a.launchConfigs;
            std::size_t& last = lastConfig[it->second];
            if (last >= configs.size() || configs[last].config != config) {
                auto [found, added] = configIndex[it->second].try_emplace(config, configs.size());
                if (added) configs.push_back({ config });
                last = found->second;
            }
            const bool replayedLaunch = sqlite3_column_int(s, replayedColumn) != 0;
            ++(replayedLaunch ? configs[last].replayed : configs[last].other);
            if (replayedLaunch) {
                ++a.replayed;
                a.replayedDurationNs += launchNs;
                ofLaunch.emplace(sqlite3_column_int64(s, 0), it->second);
                if (a.replayed <= KernelAggregate::kLaunchSamples) {
                    sampleOf.emplace(sqlite3_column_int64(s, 0), sampled.size());
                    sampled.emplace_back(it->second, std::vector<std::pair<std::int64_t, double>>());
                }
            }
        });
    std::unordered_map<std::int64_t, std::string> strings;
    query("SELECT id, text FROM string", [&](sqlite3_stmt* s) { strings[sqlite3_column_int64(s, 0)] = text(s, 1); });
    auto lookup = [&](std::int64_t id) -> const std::string& {
        auto it = strings.find(id);
        if (it == strings.end())
            throw ProfileError(
                m_path, "is damaged: a kernel refers to string " + std::to_string(id) + ", which is missing");
        return it->second;
    };
    // Counter sums per aggregate, keyed by the metric's string id first (names resolved once at the end).
    std::vector<std::unordered_map<std::int64_t, double>> sums(out.size());
    std::vector<std::unordered_map<std::int64_t, std::uint64_t>> counts(out.size());
    query("SELECT kernel, metric, value FROM kernel_metric", [&](sqlite3_stmt* s) {
        auto it = ofLaunch.find(sqlite3_column_int64(s, 0));
        if (it == ofLaunch.end()) return; // counters of a launch not marked replayed are not mixed in
        // Counters count events, bytes and nanoseconds: a negative or infinite one is damage, not a measurement.
        if (const double v = sqlite3_column_double(s, 2); !(v >= 0 && v < 1e300))
            throw ProfileError(m_path,
                fmt::format("is damaged: kernel launch {} has the counter value {} for {} (a counter is a finite "
                            "count, never negative)",
                    sqlite3_column_int64(s, 0), v, lookup(sqlite3_column_int64(s, 1))));
        sums[it->second][sqlite3_column_int64(s, 1)] += sqlite3_column_double(s, 2);
        ++counts[it->second][sqlite3_column_int64(s, 1)];
        if (auto sample = sampleOf.find(sqlite3_column_int64(s, 0)); sample != sampleOf.end())
            sampled[sample->second].second.emplace_back(sqlite3_column_int64(s, 1), sqlite3_column_double(s, 2));
    });
    for (std::size_t i = 0; i < out.size(); ++i) {
        out[i].name = lookup(keys[i].name);
        out[i].device = keys[i].device;
        if (byConfig) {
            const auto& c = keys[i].config;
            out[i].config = fmt::format("grid({},{},{}) block({},{},{})", c[0], c[1], c[2], c[3], c[4], c[5]);
        }
        for (const auto& [metric, v] : sums[i])
            out[i].counters[lookup(metric)] += v;
        for (const auto& [metric, n] : counts[i])
            out[i].counterLaunches[lookup(metric)] += n;
    }
    for (const auto& [aggregate, counters] : sampled) {
        std::map<std::string, double> named;
        for (const auto& [metric, v] : counters)
            named[lookup(metric)] += v;
        if (!named.empty()) out[aggregate].launchSamples.push_back(std::move(named));
    }
    return out;
}

std::unordered_map<std::int64_t, std::int64_t> Profile::replayedDurations() const
{
    std::unordered_map<std::int64_t, std::int64_t> out;
    if (!hasTable("kernel") || !hasTable("kernel_metric")) return out;
    // One scan of kernel_metric (no index on it): only the time counter's rows, joined by the kernel's key.
    query("SELECT m.kernel, m.value FROM kernel_metric m JOIN kernel k ON k.id = m.kernel "
          "WHERE m.metric = (SELECT id FROM string WHERE text = 'gpu__time_duration.sum') AND k.replayed "
          "AND k.duration_ns = 0 AND m.value > 0",
        [&](sqlite3_stmt* s) {
            out[sqlite3_column_int64(s, 0)] = static_cast<std::int64_t>(std::llround(sqlite3_column_double(s, 1)));
        });
    return out;
}

void Profile::forEachRegion(const std::function<void(const RegionInstance&)>& f) const
{
    // An empty domain name is no domain, as in aggregateRegions (nvtxDomainCreateA("") interns "").
    query("SELECT CASE WHEN d.text IS NULL OR d.text = '' THEN n.text ELSE d.text || '::' || n.text END, "
          "r.start_ns, r.end_ns, r.flops, r.bytes, r.kind, r.thread, r.depth FROM region r JOIN string n ON n.id = "
          "r.name LEFT JOIN string d ON d.id = r.domain ORDER BY r.start_ns, r.depth",
        [&](sqlite3_stmt* s) {
            RegionInstance r { text(s, 0), sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 2), {}, {},
                sqlite3_column_int(s, 5), sqlite3_column_int64(s, 6), sqlite3_column_int(s, 7) };
            if (sqlite3_column_type(s, 3) != SQLITE_NULL) {
                r.flops = sqlite3_column_double(s, 3);
                r.bytes = sqlite3_column_double(s, 4);
            }
            f(r);
        });
}

void Profile::forEachKernel(const std::function<void(const KernelLaunch&)>& f) const
{
    if (!hasTable("kernel")) return;
    const auto replayedNs = replayedDurations();
    // A replayed launch's record has no time (start 0): it is placed at its host launch time (schema 1.3), else at
    // the start of the region it was launched in, else at the latest start of the launches before it (correlation
    // ids follow the launch order), so that windows keep its work.
    const bool launchNs = hasColumn("kernel", "launch_ns");
    const bool inRegion = hasColumn("kernel", "region") && hasColumn("kernel", "thread");
    const std::string sql = fmt::format(
        "SELECT n.text, k.device, CASE WHEN {0} THEN k.start_ns ELSE COALESCE({1}{2}MAX(CASE WHEN {0} THEN "
        "k.start_ns END) OVER (ORDER BY k.correlation ROWS UNBOUNDED PRECEDING)) END AS t, k.duration_ns, k.id, "
        "k.stream, k.correlation, k.grid_x, k.grid_y, k.grid_z, k.block_x, k.block_y, k.block_z, k.replayed, {0}, "
        "{4}, {5}, {6} FROM kernel k JOIN string n ON n.id = k.name {3} ORDER BY t",
        // No time: a record without any (start and duration 0), not a launch at a clock's zero.
        "(k.start_ns <> 0 OR k.duration_ns <> 0)", launchNs ? "NULLIF(k.launch_ns, 0), " : "",
        inRegion ? "r.start_ns, " : "",
        inRegion ? "LEFT JOIN region r ON r.thread = k.thread AND r.seq = k.region LEFT JOIN string rn ON rn.id = "
                   "r.name"
                 : "",
        inRegion ? "k.thread" : "NULL", launchNs ? "NULLIF(k.launch_ns, 0)" : "NULL", inRegion ? "rn.text" : "NULL");
    query(sql.c_str(), [&](sqlite3_stmt* s) {
        KernelLaunch k;
        k.name = text(s, 0);
        k.device = sqlite3_column_int64(s, 1);
        k.durationNs = sqlite3_column_int64(s, 3);
        k.id = sqlite3_column_int64(s, 4);
        if (k.durationNs == 0)
            if (auto r = replayedNs.find(k.id); r != replayedNs.end()) k.durationNs = r->second;
        if (sqlite3_column_type(s, 2) != SQLITE_NULL) k.startNs = sqlite3_column_int64(s, 2);
        k.stream = sqlite3_column_int64(s, 5);
        k.correlation = sqlite3_column_int64(s, 6);
        for (int i = 0; i < 6; ++i)
            k.config[static_cast<std::size_t>(i)] = sqlite3_column_int64(s, 7 + i);
        k.replayed = sqlite3_column_int(s, 13) != 0;
        k.timed = sqlite3_column_int(s, 14) != 0;
        if (sqlite3_column_type(s, 15) != SQLITE_NULL) k.thread = sqlite3_column_int64(s, 15);
        if (sqlite3_column_type(s, 16) != SQLITE_NULL) k.launchNs = sqlite3_column_int64(s, 16);
        if (sqlite3_column_type(s, 17) != SQLITE_NULL) k.region = text(s, 17);
        f(k);
    });
}

void Profile::forEachMemop(const std::function<void(const MemopRecord&)>& f) const
{
    if (!hasTable("memop")) return;
    query("SELECT kind, copy_kind, bytes, device, stream, start_ns, end_ns FROM memop ORDER BY start_ns",
        [&](sqlite3_stmt* s) {
            MemopRecord m;
            m.kind = sqlite3_column_int(s, 0);
            if (sqlite3_column_type(s, 1) != SQLITE_NULL) m.copyKind = sqlite3_column_int(s, 1);
            m.bytes = sqlite3_column_int64(s, 2);
            m.device = sqlite3_column_int64(s, 3);
            m.stream = sqlite3_column_int64(s, 4);
            m.startNs = sqlite3_column_int64(s, 5);
            m.endNs = sqlite3_column_int64(s, 6);
            f(m);
        });
}

std::uint64_t Profile::eventCount() const
{
    std::uint64_t n = 0;
    for (const char* table : { "region", "kernel", "memop" }) {
        if (!hasTable(table)) continue;
        const std::string sql = fmt::format("SELECT COUNT(*) FROM {}", table);
        query(sql.c_str(), [&](sqlite3_stmt* s) { n += static_cast<std::uint64_t>(sqlite3_column_int64(s, 0)); });
    }
    return n;
}

std::vector<ThreadInfo> Profile::threads() const
{
    std::vector<ThreadInfo> out;
    if (!hasTable("thread")) return out;
    const std::string sql = fmt::format("SELECT id, {}, {} FROM thread ORDER BY id",
        hasColumn("thread", "tid") ? "tid" : "0", hasColumn("thread", "name") ? "IFNULL(name, '')" : "''");
    query(sql.c_str(), [&](sqlite3_stmt* s) {
        out.push_back({ sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1), text(s, 2) });
    });
    return out;
}

std::vector<std::string> expandProfilePaths(const std::vector<std::string>& inputs, std::vector<std::string>* skipped)
{
    std::vector<std::string> out;
    for (const std::string& in : inputs) {
        std::error_code ec;
        if (fs::is_directory(in, ec)) {
            std::vector<std::string> found, empty;
            for (const auto& entry : fs::directory_iterator(in, ec)) {
                if (!entry.is_regular_file() || entry.path().extension() != ".rtdb") continue;
                std::error_code sizeError;
                (entry.file_size(sizeError) == 0 && !sizeError ? empty : found).push_back(entry.path().string());
            }
            if (ec) throw ProfileError(in, "cannot list folder: " + ec.message());
            std::sort(empty.begin(), empty.end());
            if (skipped)
                for (const std::string& e : empty)
                    skipped->push_back(fmt::format("'{}' is empty (0 bytes), left out: a process that ended before "
                                                   "its first commit (_exit, SIGKILL)",
                        e));
            if (found.empty())
                throw ProfileError(in,
                    empty.empty() ? std::string("is a folder without profiles (*.rtdb)")
                                  : fmt::format("is a folder without profiles (*.rtdb; {} empty {} left out)",
                                      empty.size(), empty.size() == 1 ? "file" : "files"));
            std::sort(found.begin(), found.end());
            out.insert(out.end(), found.begin(), found.end());
        } else if (!fs::exists(in, ec)) {
            throw ProfileError(in, "no such file or folder");
        } else {
            out.push_back(in);
        }
    }
    return out;
}

} // namespace rooftime::analyzer
