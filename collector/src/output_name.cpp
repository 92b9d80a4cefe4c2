// SPDX-License-Identifier: MIT
#include "output_name.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace rooftime::collector {

long rankFromEnvironment(const NamingContext& ctx)
{
    for (const char* var : { "OMPI_COMM_WORLD_RANK", "PMI_RANK", "SLURM_PROCID", "RANK" }) {
        if (auto value = ctx.getenv(var)) {
            char* end = nullptr;
            errno = 0;
            long rank = std::strtol(value->c_str(), &end, 10);
            if (errno == 0 && end != value->c_str() && *end == '\0' && rank >= 0) return rank;
        }
    }
    return 0;
}

std::string sanitizeComponent(std::string_view value)
{
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.'
            || c == '-' || c == '_' || c == '+' || c == '=' || c == ',';
        out.push_back(ok ? c : '_');
    }
    if (out.empty() || out == "." || out == "..") return "_";
    return out;
}

std::optional<std::string> expandOutputPattern(std::string_view pattern, const NamingContext& ctx, std::string& error)
{
    std::string out;
    for (size_t i = 0; i < pattern.size(); ++i) {
        char c = pattern[i];
        if (c != '%') {
            out.push_back(c);
            continue;
        }
        if (i + 1 >= pattern.size()) {
            error = "output pattern ends with a lone '%' (write %% for a percent sign)";
            return std::nullopt;
        }
        char k = pattern[++i];
        switch (k) {
        case '%':
            out.push_back('%');
            break;
        case 'p':
            out += std::to_string(ctx.pid);
            break;
        case 'h':
            out += sanitizeComponent(ctx.host);
            break;
        case 'r':
            out += std::to_string(rankFromEnvironment(ctx));
            break;
        case 'q': {
            if (i + 1 >= pattern.size() || pattern[i + 1] != '{') {
                error = "output pattern: %q must be followed by {VARIABLE}";
                return std::nullopt;
            }
            size_t close = pattern.find('}', i + 2);
            if (close == std::string_view::npos) {
                error = "output pattern: unterminated %q{ (missing '}')";
                return std::nullopt;
            }
            std::string_view var = pattern.substr(i + 2, close - (i + 2));
            if (var.empty()) {
                error = "output pattern: %q{} names no variable";
                return std::nullopt;
            }
            auto value = ctx.getenv(var);
            out += sanitizeComponent(value ? *value : std::string());
            i = close;
            break;
        }
        default:
            error = std::string("output pattern: unknown placeholder '%") + k + "' (use %p, %h, %r, %q{VAR} or %%)";
            return std::nullopt;
        }
    }
    if (out.empty()) {
        error = "output pattern is empty";
        return std::nullopt;
    }
    return out;
}

namespace {

bool makeParents(const std::string& path, std::string& error)
{
    for (size_t pos = path.find('/', 1); pos != std::string::npos; pos = path.find('/', pos + 1)) {
        std::string dir = path.substr(0, pos);
        if (::mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST) {
            error = "cannot create folder '" + dir + "': " + std::strerror(errno);
            return false;
        }
    }
    return true;
}

std::string withSuffix(const std::string& path, int n)
{
    size_t slash = path.rfind('/');
    size_t dot = path.rfind('.');
    if (dot == std::string::npos || (slash != std::string::npos && dot < slash) || dot == slash + 1)
        return path + "-" + std::to_string(n);
    return path.substr(0, dot) + "-" + std::to_string(n) + path.substr(dot);
}

} // namespace

std::optional<std::string> claimOutputFile(const std::string& path, std::string& error)
{
    if (!makeParents(path, error)) return std::nullopt;
    for (int n = 0; n < 10000; ++n) {
        std::string candidate = n == 0 ? path : withSuffix(path, n);
        int fd = ::open(candidate.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd >= 0) {
            ::close(fd);
            return candidate;
        }
        if (errno != EEXIST) {
            error = "cannot create '" + candidate + "': " + std::strerror(errno);
            return std::nullopt;
        }
    }
    error = "cannot find a free file name near '" + path + "' (10000 taken)";
    return std::nullopt;
}

} // namespace rooftime::collector
