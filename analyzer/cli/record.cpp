// SPDX-License-Identifier: MIT
// `rooftime record`: run a command with the collector injected, forward signals, report the files written.
#include "record.h"

#include "ceilings.h"

#include "output_name.h"
#include "rooftime/analyzer/machine.h"
#include "rooftime/analyzer/symbolize.h"

#include <fmt/format.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <elf.h>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace rooftime::cli {

namespace {

volatile sig_atomic_t g_child = 0;

// Signals sent to rooftime by kill() go on to the program. Signals from the terminal (si_code SI_KERNEL)
// already reached the whole foreground process group, the program included: forwarding them would double them.
void forwardSignal(int sig, siginfo_t* info, void*)
{
    if (g_child > 0 && info && (info->si_code == SI_USER || info->si_code == SI_QUEUE)) kill(g_child, sig);
}

std::string collectorPath()
{
    if (const char* env = std::getenv("ROOFTIME_COLLECTOR"); env && *env) return env;
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    for (const char* rel : { "../lib/librooftime_collector.so", "librooftime_collector.so" }) {
        fs::path candidate = exe.parent_path() / rel;
        if (fs::exists(candidate, ec)) return fs::weakly_canonical(candidate, ec).string();
    }
    return {};
}

/// stderr is a pipe whose reader has gone: a write would raise SIGPIPE (Linux's poll reports POLLERR).
bool stderrBroken()
{
    pollfd p { STDERR_FILENO, POLLOUT, 0 };
    return ::poll(&p, 1, 0) == 1 && (p.revents & POLLERR) != 0;
}

/// With a broken stderr, rooftime's own lines go to /dev/null, so that neither SIGPIPE nor a failed write stops
/// rooftime or keeps the command from running; returns the descriptor that keeps the command's own stderr.
int quietenBrokenStderr()
{
    if (!stderrBroken()) return -1;
    std::fflush(stderr);
    const int kept = ::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
    if (kept < 0 || !std::freopen("/dev/null", "w", stderr)) return -1;
    return kept;
}

/// Why profiles cannot be written under @p pattern (absolute), or empty: its folder, up to the first
/// placeholder, is created here (as the collector would) and must be writable. Checked before the command
/// starts, since each process would otherwise only say so and run unrecorded.
std::string outputProblem(const std::string& pattern)
{
    if (pattern.back() == '/') return "names a folder: end it with a file name, such as DIR/%p.rtdb";
    const std::string literal = pattern.substr(0, pattern.find('%'));
    const auto slash = literal.rfind('/');
    const std::string dir = slash == 0 ? std::string("/") : literal.substr(0, slash);
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return fmt::format("cannot create the folder '{}': {}", dir, ec.message());
    if (!fs::is_directory(dir, ec)) return fmt::format("'{}' is not a folder", dir);
    if (::access(dir.c_str(), W_OK | X_OK) != 0)
        return fmt::format("cannot write in the folder '{}': {}", dir, std::strerror(errno));
    return {};
}

/// The command's executable has no dynamic loader (a static binary): LD_PRELOAD cannot load the collector.
/// Follows execvp's search; false where unsure (a script, an unreadable file).
bool isStaticExecutable(const std::string& command)
{
    std::string path = command;
    if (command.find('/') == std::string::npos) {
        path.clear();
        const char* env = std::getenv("PATH");
        std::string dirs = env && *env ? env : "/usr/local/bin:/usr/bin:/bin";
        for (std::size_t start = 0; start <= dirs.size();) {
            const std::size_t end = std::min(dirs.find(':', start), dirs.size());
            const std::string candidate = (end > start ? dirs.substr(start, end - start) : ".") + "/" + command;
            if (::access(candidate.c_str(), X_OK) == 0) {
                path = candidate;
                break;
            }
            start = end + 1;
        }
        if (path.empty()) return false;
    }
    std::ifstream in(path, std::ios::binary);
    Elf64_Ehdr eh {};
    if (!in.read(reinterpret_cast<char*>(&eh), sizeof eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0
        || eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_type != ET_EXEC || eh.e_phentsize != sizeof(Elf64_Phdr))
        return false; // ET_DYN: a PIE or a static-pie, whose loader is its own; not told apart here
    in.seekg(static_cast<std::streamoff>(eh.e_phoff));
    for (int i = 0; i < eh.e_phnum; ++i) {
        Elf64_Phdr ph {};
        if (!in.read(reinterpret_cast<char*>(&ph), sizeof ph)) return false;
        if (ph.p_type == PT_INTERP) return false;
    }
    return true;
}

void prependEnv(const char* name, const std::string& value, char sep)
{
    const char* old = std::getenv(name);
    std::string v = old && *old ? value + sep + old : value;
    setenv(name, v.c_str(), 1);
}

} // namespace

int runRecord(const RecordOptions& options)
{
    const int commandStderr = quietenBrokenStderr();
    // rooftime's own writes must not kill it (the command's exit status would be lost); the command gets the
    // disposition it was given.
    struct sigaction ignorePipe = {}, pipeGiven = {};
    ignorePipe.sa_handler = SIG_IGN;
    sigemptyset(&ignorePipe.sa_mask);
    sigaction(SIGPIPE, &ignorePipe, &pipeGiven);
    const std::string collector = collectorPath();
    // ld.so only warns about a preload it cannot load and runs the program unrecorded.
    if (const char* env = std::getenv("ROOFTIME_COLLECTOR"); env && *env) {
        std::error_code ec;
        if (!fs::is_regular_file(collector, ec) || ::access(collector.c_str(), R_OK) != 0) {
            fmt::print(stderr, "rooftime: ROOFTIME_COLLECTOR '{}' is not a readable file (librooftime_collector.so)\n",
                collector);
            return 2;
        }
    }
    if (collector.empty()) {
        fmt::print(stderr,
            "rooftime: cannot find librooftime_collector.so next to the rooftime executable; "
            "set ROOFTIME_COLLECTOR to its path\n");
        return 2;
    }
    // Absolute, so that a program that changes its working folder still writes where the user asked.
    std::string pattern = options.output.empty() ? collector::kDefaultOutputPattern : options.output;
    {
        collector::NamingContext ctx { getpid(), "host",
            [](std::string_view) { return std::optional<std::string>(); } };
        std::string error;
        if (!collector::expandOutputPattern(pattern, ctx, error)) {
            fmt::print(stderr, "rooftime record: bad -o '{}': {}\n", pattern, error);
            return 2;
        }
    }
    if (pattern.front() != '/') pattern = (fs::current_path() / pattern).string();
    if (const std::string problem = outputProblem(pattern); !problem.empty()) {
        fmt::print(
            stderr, "rooftime record: -o '{}': {}\n", options.output.empty() ? pattern : options.output, problem);
        return 2;
    }
    if (isStaticExecutable(options.command[0]))
        fmt::print(stderr,
            "rooftime record: warning: '{}' is statically linked: the collector cannot be preloaded into it, "
            "so it records nothing (programs it starts that are dynamically linked are recorded)\n",
            options.command[0]);

    if (options.noMachine) {
        unsetenv("ROOFTIME_MACHINE");
    } else {
        const auto machine = machineForRecord(options.machine);
        if (!machine) return 2;
        if (machine->empty()) {
            unsetenv("ROOFTIME_MACHINE");
        } else {
            setenv("ROOFTIME_MACHINE", machine->c_str(), 1);
        }
    }

    // Each recorded process appends the path of its profile here (one short O_APPEND write each).
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/rooftime-manifest-XXXXXX";
    const int fd = mkstemp(templ.data());
    if (fd < 0) {
        fmt::print(stderr, "rooftime: cannot create a temporary file in {} ({}); set TMPDIR to a writable folder\n",
            tmp && *tmp ? tmp : "/tmp", std::strerror(errno));
        return 2;
    }
    close(fd);
    const std::string manifestPath = templ;

    prependEnv("LD_PRELOAD", collector, ':');
#if ROOFTIME_HAVE_NVTX
    setenv("NVTX_INJECTION64_PATH", collector.c_str(), 1);
#endif
    // The CUDA driver loads this library at cuInit and calls InitializeInjection (GPU kernels, docs/cupti.md).
    // Another tool's injection (rooftime run under nsys or ncu) is left in place: one CUPTI user per process, and
    // that tool came first. The collector still records markers and says at exit that CUDA ran without it.
    // A collector of another rooftime build (a hand-set variable, docs/cli.md) is replaced, not kept: one per process.
    const char* injection = std::getenv("CUDA_INJECTION64_PATH");
    if (injection && *injection && fs::path(injection).filename() != fs::path(collector).filename())
        fmt::print(stderr,
            "rooftime: CUDA_INJECTION64_PATH already names another tool's library ({}): left in place, so GPU "
            "kernels are not recorded by rooftime\n",
            injection);
    else
        setenv("CUDA_INJECTION64_PATH", collector.c_str(), 1);
    if (!options.counters.empty())
        setenv("ROOFTIME_COUNTER_LAUNCHES", options.counters == "all" ? "0" : options.counters.c_str(), 1);
    if (!options.counterSet.empty()) setenv("ROOFTIME_COUNTER_SET", options.counterSet.c_str(), 1);
    setenv("ROOFTIME_OUTPUT", pattern.c_str(), 1);
    setenv("ROOFTIME_MODE", options.mode.c_str(), 1);
    // Said before the run, not only by each process once CUDA starts: a long job should not run for nothing.
    if (options.mode == "counters")
        if (const std::string problem = analyzer::counterPermissionProblem(); !problem.empty())
            fmt::print(stderr, "rooftime: warning: {}\n", problem);
    if (options.callStacks) setenv("ROOFTIME_STACKS", "1", 1);
    setenv("ROOFTIME_MANIFEST", manifestPath.c_str(), 1);

    struct sigaction fwd = {};
    fwd.sa_sigaction = &forwardSignal;
    fwd.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&fwd.sa_mask);
    for (int sig : { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 })
        sigaction(sig, &fwd, nullptr);

    std::vector<char*> argv;
    for (const std::string& a : options.command)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);

    std::fflush(nullptr);
    const pid_t child = fork();
    if (child < 0) {
        fmt::print(stderr, "rooftime: cannot start '{}': {}\n", options.command[0], std::strerror(errno));
        unlink(manifestPath.c_str());
        return 2;
    }
    if (child == 0) {
        if (commandStderr >= 0) ::dup2(commandStderr, STDERR_FILENO); // the command's stderr as given
        sigaction(SIGPIPE, &pipeGiven, nullptr);
        struct sigaction dfl = {};
        dfl.sa_handler = SIG_DFL;
        for (int sig : { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 })
            sigaction(sig, &dfl, nullptr);
        execvp(argv[0], argv.data());
        const int err = errno;
        // Before exec the collector is not loaded here: nothing else to clean.
        std::string msg = fmt::format("rooftime: cannot run '{}': {}\n", options.command[0], std::strerror(err));
        signal(SIGPIPE, SIG_IGN); // the exit status says it, whatever became of stderr
        [[maybe_unused]] ssize_t n = write(STDERR_FILENO, msg.data(), msg.size());
        _exit(err == ENOENT ? 127 : 126);
    }
    g_child = child;

    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) { }
    g_child = 0;
    int exitCode = 0;
    if (WIFEXITED(status))
        exitCode = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        exitCode = 128 + WTERMSIG(status);

    std::vector<std::string> written;
    {
        std::ifstream in(manifestPath);
        std::string line;
        while (std::getline(in, line))
            if (!line.empty() && fs::exists(line)) written.push_back(line);
    }
    unlink(manifestPath.c_str());
    if (commandStderr < 0 && stderrBroken()) std::freopen("/dev/null", "w", stderr); // its reader left meanwhile
    // Call stacks: names now, while the program's files are here, so that the profile reads anywhere.
    std::vector<std::string> unnamed;
    if (options.callStacks)
        for (const std::string& p : written) {
            try {
                analyzer::storeFrameNames(p);
            } catch (const std::exception& e) {
                unnamed.push_back(e.what());
            }
        }
    // rooftime's last words never change the command's exit status: with SIGPIPE ignored here, a write to a
    // stderr whose reader has just left fails (fmt throws), and is let go.
    try {
        if (written.empty()) {
            fmt::print(stderr, "rooftime: no profile written (no process recorded a region or range)\n");
        } else {
            fmt::print(stderr, "rooftime: wrote {} profile{}:\n", written.size(), written.size() == 1 ? "" : "s");
            for (const std::string& p : written)
                fmt::print(stderr, "rooftime:   {}\n", p);
        }
        for (const std::string& why : unnamed)
            fmt::print(stderr,
                "rooftime: cannot store function names in {}; call paths will show FILE+0xOFFSET where the "
                "program's files are missing\n",
                why);
        if (WIFSIGNALED(status))
            fmt::print(stderr, "rooftime: '{}' was killed by signal {} ({})\n", options.command[0], WTERMSIG(status),
                sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status)) : "?");
    } catch (...) { }
    return exitCode;
}

} // namespace rooftime::cli
