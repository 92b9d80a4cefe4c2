// SPDX-License-Identifier: MIT
/**
 * @file owned_fd.h
 * @brief Descriptors the collector opened, checked before each use. A program may close descriptors it did not
 * open (closefrom(3) in daemons and launchers) and open its own files under the same numbers: the collector
 * must then neither write to, read from nor close them.
 */
#pragma once

#include <string>
#include <sys/types.h>
#include <vector>

namespace rooftime::collector {

struct OwnedFd {
    int fd = -1;
    dev_t dev = 0;
    ino_t ino = 0;

    /// @p fd and the file it refers to now; fd -1 when it refers to none.
    static OwnedFd of(int fd) noexcept;
    /// Whether the descriptor still refers to the file it referred to when taken.
    bool intact() const noexcept;
};

/// The descriptors this process holds on @p path or its SQLite side files (-wal, -shm, -journal), found by file
/// identity in /proc/self/fd.
std::vector<OwnedFd> descriptorsOf(const std::string& path) noexcept;

/// The first of @p fds that no longer refers to its file, or nullptr.
const OwnedFd* firstReplaced(const std::vector<OwnedFd>& fds) noexcept;

} // namespace rooftime::collector
