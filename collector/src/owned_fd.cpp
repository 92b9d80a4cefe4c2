// SPDX-License-Identifier: MIT
#include "owned_fd.h"

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
        std::vector<std::pair<dev_t, ino_t>> files;
        for (const char* suffix : { "", "-wal", "-shm", "-journal" }) {
            struct stat st { };
            if (::stat((path + suffix).c_str(), &st) == 0) files.emplace_back(st.st_dev, st.st_ino);
        }
        DIR* dir = ::opendir("/proc/self/fd");
        if (!dir) return out;
        const int own = ::dirfd(dir);
        while (const dirent* e = ::readdir(dir)) {
            char* end = nullptr;
            const long fd = std::strtol(e->d_name, &end, 10);
            if (end == e->d_name || *end || fd == own) continue;
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
