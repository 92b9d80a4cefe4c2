// SPDX-License-Identifier: MIT
#include "owned_fd.h"

#include <algorithm>
#include <cstdlib>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

namespace rooftime::collector {

OwnedFd OwnedFd::of(int fd) noexcept
{
    struct stat st { };
    if (fd < 0 || ::fstat(fd, &st) != 0) return {};
    return { fd, st.st_dev, st.st_ino };
}

bool OwnedFd::intact() const noexcept
{
    struct stat st { };
    return fd >= 0 && ::fstat(fd, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

std::vector<OwnedFd> descriptorsOf(const std::string& path) noexcept
{
    std::vector<OwnedFd> out;
    try {
        // By the link's text first: an fstat of every descriptor could block on a hung network file of the
        // program's.
        std::vector<std::string> names;
        std::vector<std::pair<dev_t, ino_t>> files;
        for (const char* suffix : { "", "-wal", "-shm", "-journal" }) {
            char* real = ::realpath((path + suffix).c_str(), nullptr);
            if (!real) continue;
            names.emplace_back(real);
            std::free(real);
            struct stat st { };
            if (::stat(names.back().c_str(), &st) == 0) files.emplace_back(st.st_dev, st.st_ino);
        }
        DIR* dir = ::opendir("/proc/self/fd");
        if (!dir) return out;
        const int own = ::dirfd(dir);
        char target[4096];
        while (const dirent* e = ::readdir(dir)) {
            char* end = nullptr;
            const long fd = std::strtol(e->d_name, &end, 10);
            if (end == e->d_name || *end || fd == own) continue;
            const std::string link = std::string("/proc/self/fd/") + e->d_name;
            const ssize_t n = ::readlink(link.c_str(), target, sizeof target);
            if (n <= 0 || static_cast<std::size_t>(n) >= sizeof target) continue;
            if (std::find(names.begin(), names.end(), std::string(target, static_cast<std::size_t>(n))) == names.end())
                continue;
            const OwnedFd o = OwnedFd::of(static_cast<int>(fd));
            for (const auto& [dev, ino] : files)
                if (o.fd >= 0 && o.dev == dev && o.ino == ino) out.push_back(o);
        }
        ::closedir(dir);
    } catch (...) { }
    return out;
}

const OwnedFd* firstReplaced(const std::vector<OwnedFd>& fds) noexcept
{
    for (const OwnedFd& o : fds)
        if (!o.intact()) return &o;
    return nullptr;
}

} // namespace rooftime::collector
