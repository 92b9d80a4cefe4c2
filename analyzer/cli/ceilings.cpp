// SPDX-License-Identifier: MIT
// `rooftime ceilings`: measures the machine model (CPU here, GPUs through the rooftime-ceilings-gpu companion,
// so that this executable never depends on CUDA) and keeps it in a per-user cache that `record` embeds.
#include "ceilings.h"

#include "cpu_ceilings.h"
#include "rooftime/analyzer/metrics.h"
#include "rooftime/analyzer/profile.h"

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <poll.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <system_error>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;

namespace rooftime::cli {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;
constexpr int kGpuCompanionNoGpu = 3;
constexpr int kGpuTimeoutSeconds = 600;
constexpr int kProbeTimeoutSeconds = 120; // the counter probe takes seconds; a hang must not hold `ceilings` long

std::string gpuCompanion()
{
    // Another build or install of the companion (and the tests' stand-ins for a GPU).
    if (const char* env = std::getenv("ROOFTIME_CEILINGS_GPU"); env && *env) return env;
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    const fs::path candidate = exe.parent_path() / "rooftime-ceilings-gpu";
    return fs::exists(candidate, ec) ? candidate.string() : std::string();
}

int visibleGpus()
{
    int n = 0;
    std::error_code ec;
    for (auto it = fs::directory_iterator("/proc/driver/nvidia/gpus", ec); !ec && it != fs::directory_iterator();
         it.increment(ec))
        ++n;
    return n;
}

/// Runs the companion, its stderr (progress) passed through or, with @p stderrFile, written there, its stdout
/// (JSON) captured. Returns the exit status, -1 when it could not run, 124 after the time limit (then it is killed).
int runCapture(const std::vector<std::string>& args, std::string& out, const std::string& stderrFile = {},
    int timeoutSeconds = kGpuTimeoutSeconds)
{
    // Built before fork: the child of a multithreaded process (quick mode measures GPUs from threads) must not
    // allocate before exec.
    std::vector<char*> argv;
    for (const auto& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return -1;
    std::fflush(nullptr);
    const pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        if (!stderrFile.empty()) {
            const int err = open(stderrFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
            if (err >= 0) dup2(err, STDERR_FILENO);
        }
        execv(argv[0], argv.data());
        _exit(127);
    }
    close(fds[1]);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeoutSeconds);
    char buf[65536];
    for (;;) {
        const auto left
            = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            // SIGTERM first: `rooftime record` (the counter probe) passes it on to its program; then SIGKILL.
            kill(pid, SIGTERM);
            bool gone = false;
            for (int i = 0; i < 50 && !gone; ++i) {
                gone = waitpid(pid, nullptr, WNOHANG) == pid;
                if (!gone) usleep(100'000);
            }
            if (!gone) {
                kill(pid, SIGKILL);
                while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) { }
            }
            close(fds[0]);
            return 124;
        }
        pollfd p { fds[0], POLLIN, 0 };
        const int r = poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) continue;
        const ssize_t n = read(fds[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    close(fds[0]);
    // Output closed: the child is ending, but a child that closed it and hangs is still held to the deadline.
    int status = 0;
    for (;;) {
        const pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid || (w < 0 && errno != EINTR)) break;
        if (std::chrono::steady_clock::now() >= deadline) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) { }
            return 124;
        }
        usleep(10'000);
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/// The GPU's own peaks and clock (how Nsight Compute computes its roofs) beside the measured ceilings: the
/// companion's probe recorded by this rooftime under `--counter-set peaks`. Never fatal: where counters cannot be
/// read (permission, vGPU, no CUPTI plugin) the ceilings keep the table's theoretical values and a note says why.
void addCounterPeaks(analyzer::MachineModel& model, const std::string& companion, int gpu, bool verbose)
{
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    if (ec) {
        model.notes.push_back(
            fmt::format("GPU {}: counter peaks not read (cannot find this rooftime: {})", gpu, ec.message()));
        return;
    }
    const char* tmp = std::getenv("TMPDIR");
    std::string dir = std::string(tmp && *tmp ? tmp : "/tmp") + "/rooftime-peaks-XXXXXX";
    if (!mkdtemp(dir.data())) {
        model.notes.push_back(fmt::format("GPU {}: counter peaks not read (no temporary folder in {}: {})", gpu,
            tmp && *tmp ? tmp : "/tmp", std::strerror(errno)));
        return;
    }
    // Removed on every way out.
    struct Cleanup {
        std::string dir;
        ~Cleanup()
        {
            std::error_code ignored;
            fs::remove_all(dir, ignored);
        }
    } cleanup { dir };
    const std::string profile = dir + "/probe.rtdb", log = dir + "/probe.log";
    if (verbose) fmt::print(stderr, "rooftime ceilings: gpu{}: reading the GPU's own peaks from its counters\n", gpu);
    std::string out;
    const int rc
        = runCapture({ self.string(), "record", "--mode", "counters", "--counter-set", "peaks", "--counters", "1",
                         "--no-machine", "-o", profile, "--", companion, "--device", std::to_string(gpu), "--probe" },
            out, log, kProbeTimeoutSeconds);
    std::string why;
    try {
        if (rc != 0 || !fs::exists(profile, ec)) {
            // The probe's own last word, else record's ("rooftime: no profile written …").
            std::ifstream in(log);
            std::string line, own, last;
            while (std::getline(in, line)) {
                if (line.empty()) continue;
                last = line;
                if (line.rfind("rooftime: ", 0) != 0) own = line;
            }
            const std::string said = own.empty() ? last : own;
            why = rc == 124 ? fmt::format("the probe did not end within {} s", kProbeTimeoutSeconds)
                : rc != 0   ? fmt::format("the probe exited with status {}{}{}", rc, said.empty() ? "" : ": ", said)
                            : fmt::format("the probe wrote no profile{}{}", said.empty() ? "" : ": ", said);
        } else {
            const auto p = analyzer::Profile::open(profile);
            // The probe's fp32 FMA launch: after the warm-up, the clock up (rooftime-ceilings-gpu --probe).
            const auto peaks = analyzer::profilePeaks(p, gpu, "fmaKernel<float>");
            if (peaks.peaks.empty()) {
                auto status = p.meta().find("counters");
                why = "its counters gave none ("
                    + (status != p.meta().end() ? "counters " + status->second : std::string("no counter status"))
                    + ")";
            } else {
                const int n = analyzer::attachCounterPeaks(model, gpu, peaks.peaks, peaks.smHz);
                if (verbose)
                    fmt::print(stderr, "rooftime ceilings: gpu{}: counter peaks for {} ceilings{}\n", gpu, n,
                        peaks.smHz ? fmt::format(" (SM clock {:.0f} MHz under counters)", *peaks.smHz / 1e6) : "");
            }
        }
    } catch (const analyzer::ProfileError& e) {
        why = e.what();
    }
    if (!why.empty()) {
        const std::string note = fmt::format(
            "GPU {}: no theoretical peaks from the GPU's counters: {}; the table's values stand", gpu, why);
        if (verbose) fmt::print(stderr, "rooftime ceilings: {}\n", note);
        model.notes.push_back(note);
    }
}

struct MeasureRequest {
    bool cpu = true;
    std::vector<int> gpus;
    bool gpusExplicit = false;
    bool quick = false;
    bool verbose = true;
    /// The GPU's own peaks from a counter probe: `rooftime ceilings` only, not the quick model a first `record`
    /// measures (a nested counters-mode run there would cost more than the few seconds it promises).
    bool counterPeaks = false;
};

/// Measures into @p model. Returns false (message printed) when an explicitly requested part failed.
bool measure(analyzer::MachineModel& model, const MeasureRequest& req)
{
    ceilings::probeCpu(model);
    model.rooftimeVersion = ROOFTIME_VERSION_STRING;
    ceilings::CpuMeasureOptions cpuOptions;
    cpuOptions.quick = req.quick;
    if (req.verbose)
        cpuOptions.progress = [](const std::string& line) { fmt::print(stderr, "rooftime ceilings: {}\n", line); };
    if (req.cpu) ceilings::measureCpu(model, cpuOptions);
    if (!req.gpus.empty()) {
        const std::string companion = gpuCompanion();
        if (companion.empty()) {
            const std::string msg = "this rooftime was built without CUDA (no rooftime-ceilings-gpu next to it): "
                                    "GPU ceilings not measured";
            if (req.gpusExplicit) {
                fmt::print(stderr, "rooftime ceilings: {}\n", msg);
                return false;
            }
            fmt::print(stderr, "rooftime: {}\n", msg);
            model.notes.push_back(msg);
        }
        const std::vector<int> gpus = companion.empty() ? std::vector<int>() : req.gpus;
        std::vector<std::pair<int, std::string>> results(gpus.size()); // status, JSON
        auto measureOne = [&](std::size_t i) {
            std::vector<std::string> args { companion, "--device", std::to_string(gpus[i]) };
            if (req.quick) args.push_back("--quick");
            results[i].first = runCapture(args, results[i].second);
        };
        // Quick mode (the model a first `record` measures): every GPU at once, one companion each, so that an
        // 8-GPU node waits for one quick measurement, not eight. Full mode measures them one at a time, each
        // peak undisturbed by the others' load on the host.
        std::vector<bool> measured(gpus.size(), false);
        if (req.quick && gpus.size() > 1) {
            std::vector<std::thread> threads;
            try {
                for (std::size_t i = 0; i < gpus.size(); ++i) {
                    threads.emplace_back(measureOne, i);
                    measured[i] = true;
                }
            } catch (const std::system_error&) { } // no thread: the rest one after another below
            for (auto& t : threads)
                t.join();
        }
        for (std::size_t i = 0; i < gpus.size(); ++i) {
            const int g = gpus[i];
            if (!measured[i]) measureOne(i);
            const int rc = results[i].first;
            const std::string& json = results[i].second;
            if (rc != 0) {
                const std::string why = rc == kGpuCompanionNoGpu ? fmt::format("no usable GPU {}", g)
                    : rc == 124 ? fmt::format("GPU {} measurement stopped after {} s", g, kGpuTimeoutSeconds)
                                : fmt::format("GPU {} measurement failed (status {})", g, rc);
                if (req.gpusExplicit) {
                    fmt::print(stderr, "rooftime ceilings: {}\n", why);
                    return false;
                }
                model.notes.push_back(why);
                continue;
            }
            try {
                analyzer::mergeGpuMeasurement(model, json, companion);
                const std::string driver = analyzer::installedNvidiaDriver();
                for (auto& gpu : model.gpus)
                    if (gpu.index == g) gpu.nvidiaDriver = driver;
                if (req.counterPeaks) addCounterPeaks(model, companion, g, req.verbose);
            } catch (const analyzer::MachineError& e) {
                fmt::print(stderr, "rooftime ceilings: {}\n", e.what());
                if (req.gpusExplicit) return false;
                model.notes.push_back(e.what());
            }
        }
    }
    analyzer::markRoofs(model);
    if (model.mode.empty()) model.mode = req.quick ? "quick" : "full"; // GPUs only, no CPU model kept
    return true;
}

std::vector<int> allGpus()
{
    std::vector<int> out;
    for (int i = 0, n = visibleGpus(); i < n; ++i)
        out.push_back(i);
    return out;
}

} // namespace

std::optional<analyzer::MachineModel> loadMachineOption(
    const std::string& command, const std::string& path, bool againstThisMachine, const char* consequence)
{
    try {
        analyzer::MachineModel m = analyzer::readMachineFile(path);
        const auto mismatch = againstThisMachine ? analyzer::identityMismatches(m, analyzer::currentHardware())
                                                 : std::vector<std::string>();
        if (!mismatch.empty())
            fmt::print(stderr, "{}: warning: machine file '{}' was measured on other hardware: {}; {}\n", command, path,
                fmt::join(mismatch, ", "), consequence);
        return m;
    } catch (const analyzer::MachineError& e) {
        fmt::print(stderr, "{}: {}\n", command, e.what());
        return std::nullopt;
    }
}

int runCeilings(const CeilingsOptions& options)
{
    const auto here = analyzer::currentHardware();
    if (options.show) {
        const std::string path = options.showFile.empty() ? analyzer::machineCachePath(here) : options.showFile;
        if (options.showFile.empty() && !fs::exists(path)) {
            fmt::print(stderr,
                "rooftime ceilings: no machine model for this host yet ({}); run `rooftime ceilings` to "
                "measure one\n",
                path);
            return kExitUsage;
        }
        auto m = loadMachineOption("rooftime ceilings", path, true, "its roofs are that hardware's, not this one's");
        if (!m) return kExitUsage;
        fmt::print("{}", analyzer::formatMachineText(*m));
        return kExitOk;
    }
    for (int g : options.gpus)
        if (g < 0) {
            fmt::print(stderr, "rooftime ceilings: --gpu {}: expected a GPU index (0, 1, …)\n", g);
            return kExitUsage;
        }
    const std::string out = options.output.empty() ? analyzer::machineCachePath(here) : options.output;
    MeasureRequest req;
    req.counterPeaks = true;
    req.quick = options.quick;
    req.gpusExplicit = !options.gpus.empty();
    req.cpu = options.cpu || options.gpus.empty();
    req.gpus = req.gpusExplicit ? options.gpus : (options.cpu ? std::vector<int>() : allGpus());

    analyzer::MachineModel model;
    if (!req.cpu) {
        // GPU only: keep the CPU part of this host's existing model.
        const std::string cached = fs::exists(out) ? out : analyzer::machineCachePath(here);
        try {
            if (fs::exists(cached)) {
                analyzer::MachineModel old = analyzer::readMachineFile(cached);
                if (analyzer::identityMismatches(old, here).empty()) model = std::move(old);
            }
        } catch (const analyzer::MachineError&) {
            // Unusable: measured again from scratch below.
        }
    }
    const auto t0 = std::chrono::steady_clock::now();
    if (!measure(model, req)) return kExitUsage;
    if (model.ceilings.empty()) {
        fmt::print(stderr, "rooftime ceilings: nothing was measured\n");
        return kExitUsage;
    }
    try {
        analyzer::writeMachineFile(out, model);
    } catch (const analyzer::MachineError& e) {
        fmt::print(stderr, "rooftime ceilings: {}\n", e.what());
        return kExitUsage;
    }
    model.origin = out;
    fmt::print("{}", analyzer::formatMachineText(model));
    fmt::print(stderr, "rooftime ceilings: machine model written to {} ({:.1f} s)\n", out,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    return kExitOk;
}

std::optional<std::string> machineForRecord(const std::string& machineFile)
{
    // Which roofs the profiles will carry, said before the program starts: a quick model stays cached until
    // `rooftime ceilings` replaces it.
    auto chosen = [](const analyzer::MachineModel& m, const std::string& path) {
        fmt::print(stderr, "rooftime: machine model: {} ({})\n", analyzer::machineSummary(m, false), path);
        return path;
    };
    if (!machineFile.empty()) {
        const auto m = loadMachineOption("rooftime record", machineFile, true);
        if (!m) return std::nullopt;
        std::error_code ec;
        return chosen(*m, fs::absolute(machineFile, ec).string());
    }
    const auto here = analyzer::currentHardware();
    const std::string cached = analyzer::machineCachePath(here);
    std::optional<analyzer::MachineModel> read;
    // A cached model that does not read is measured again; it is said once, before the lock.
    auto usable = [&](bool say) {
        std::error_code ec;
        if (!fs::exists(cached, ec)) return false;
        try {
            read = analyzer::readMachineFile(cached);
            return true;
        } catch (const analyzer::MachineError& e) {
            if (say)
                fmt::print(
                    stderr, "rooftime: the cached machine model cannot be used ({}); measuring a new one\n", e.what());
            return false;
        }
    };
    if (usable(true)) return chosen(*read, cached);
    // Ranks of one job on one node start together: the first measures, the others wait for its file.
    std::error_code ec;
    fs::create_directories(fs::path(cached).parent_path(), ec);
    const int lockFd = ::open((cached + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lockFd >= 0) flock(lockFd, LOCK_EX);
    struct Unlock {
        int fd;
        ~Unlock()
        {
            if (fd >= 0) ::close(fd);
        }
    } unlock { lockFd };
    if (usable(false)) return chosen(*read, cached);
    fmt::print(stderr,
        "rooftime: no machine model for this host yet: measuring one in quick mode (a few seconds; "
        "`rooftime ceilings` measures the full one)\n");
    analyzer::MachineModel model;
    MeasureRequest req;
    req.quick = true;
    req.verbose = false;
    req.gpus = allGpus();
    measure(model, req);
    try {
        analyzer::writeMachineFile(cached, model);
    } catch (const analyzer::MachineError& e) {
        fmt::print(stderr, "rooftime: cannot save the machine model ({}); recording without one\n", e.what());
        return std::string();
    }
    fmt::print(stderr, "rooftime: machine model saved to {}\n", cached);
    return chosen(model, cached);
}

} // namespace rooftime::cli
