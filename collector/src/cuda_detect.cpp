// SPDX-License-Identifier: MIT
#include "cuda_detect.h"

#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace rooftime::collector {

namespace {

bool readAt(int fd, void* buf, std::size_t size, off_t offset)
{
    std::size_t done = 0;
    while (done < size) {
        const ssize_t n = ::pread(fd, static_cast<char*>(buf) + done, size - done, offset + static_cast<off_t>(done));
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

std::string readSmallFile(const char* path, std::size_t limit)
{
    std::string out;
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return out;
    char buf[65536];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0 || out.size() > limit) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return out;
}

} // namespace

bool elfHasSection(const std::string& path, const char* section) noexcept
{
    try {
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return false;
        bool found = false;
        Elf64_Ehdr eh;
        if (readAt(fd, &eh, sizeof eh, 0) && std::memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0
            && eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_shentsize == sizeof(Elf64_Shdr) && eh.e_shnum > 0
            && eh.e_shnum < 65280 && eh.e_shstrndx < eh.e_shnum) {
            std::vector<Elf64_Shdr> sh(eh.e_shnum);
            if (readAt(fd, sh.data(), sh.size() * sizeof(Elf64_Shdr), static_cast<off_t>(eh.e_shoff))) {
                const Elf64_Shdr& strs = sh[eh.e_shstrndx];
                if (strs.sh_size > 0 && strs.sh_size < (16u << 20)) {
                    std::string names(strs.sh_size, '\0');
                    if (readAt(fd, names.data(), names.size(), static_cast<off_t>(strs.sh_offset))) {
                        for (const Elf64_Shdr& s : sh) {
                            if (s.sh_name >= names.size()) continue;
                            if (std::strcmp(names.c_str() + s.sh_name, section) == 0) {
                                found = true;
                                break;
                            }
                        }
                    }
                }
            }
        }
        ::close(fd);
        return found;
    } catch (...) {
        return false;
    }
}

bool libraryMapped(const char* nameContains) noexcept
{
    struct Search {
        const char* text;
        bool found;
    } search { nameContains, false };
    dl_iterate_phdr(
        [](dl_phdr_info* info, std::size_t, void* data) -> int {
            auto* s = static_cast<Search*>(data);
            if (info->dlpi_name && std::strstr(info->dlpi_name, s->text)) {
                s->found = true;
                return 1;
            }
            return 0;
        },
        &search);
    return search.found;
}

bool processLooksLikeCuda() noexcept
{
    return libraryMapped("libcudart.so") || libraryMapped("libcuda.so")
        || elfHasSection("/proc/self/exe", ".nv_fatbin");
}

bool cudaInitialized() noexcept
{
    // RTLD_NOLOAD: only a driver the program loaded itself; the collector never loads or links CUDA.
    void* driver = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_NOLOAD);
    if (!driver) return false;
    using CtxGetCurrent = int (*)(void**);
    auto get = reinterpret_cast<CtxGetCurrent>(dlsym(driver, "cuCtxGetCurrent"));
    void* ctx = nullptr;
    constexpr int kNotInitialized = 3; // CUDA_ERROR_NOT_INITIALIZED
    const bool initialized = get && get(&ctx) != kNotInitialized;
    dlclose(driver);
    return initialized;
}

bool cudaDriverLibraryExists() noexcept
{
    try {
        if (libraryMapped("libcuda.so")) return true;
        if (const char* paths = std::getenv("LD_LIBRARY_PATH")) {
            std::string_view rest(paths);
            while (!rest.empty()) {
                const std::size_t colon = rest.find(':');
                const std::string dir(rest.substr(0, colon));
                rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
                if (dir.empty()) continue;
                if (::access((dir + "/libcuda.so.1").c_str(), F_OK) == 0) return true;
            }
        }
        // ld.so.cache lists every library name the loader knows, as NUL-terminated strings.
        const std::string cache = readSmallFile("/etc/ld.so.cache", 64u << 20);
        static constexpr char kName[] = "libcuda.so.1";
        return std::string_view(cache).find(std::string_view(kName, sizeof kName)) != std::string_view::npos;
    } catch (...) {
        return false;
    }
}

} // namespace rooftime::collector
