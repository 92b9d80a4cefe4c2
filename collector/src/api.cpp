// SPDX-License-Identifier: MIT
// Entry points of librooftime_collector.so: the marker C API, process start and end, signals, fork and exec.
#define ROOFTIME_BUILDING_COLLECTOR 1
#include "rooftime/rooftime.h"

#include "recording.h"

#include <cerrno>
#include <csignal>
#include <cstdarg>
#include <cstdlib>
#include <dlfcn.h>
#include <pthread.h>
#include <unistd.h>
#include <vector>

using rooftime::collector::Recording;
using rooftime::schema::RegionKind;

extern "C" {

__attribute__((visibility("default"))) void rooftime_begin(const char* name)
{
    Recording::instance().begin(name, RegionKind::Marker);
}

__attribute__((visibility("default"))) void rooftime_end(const char* name)
{
    Recording::instance().end(name);
}

__attribute__((visibility("default"))) void rooftime_add_work(double flops, double bytes)
{
    Recording::instance().addWork(flops, bytes);
}

__attribute__((visibility("default"))) void rooftime_set_param(const char* key, double value)
{
    Recording::instance().setParam(key, value);
}

// Called by the CUDA driver when CUDA_INJECTION64_PATH names this library, inside cuInit on the thread that
// initializes CUDA: load the CUPTI backend and return. A flush at exit is registered here, so that it runs
// before the libraries' destructors (libcupti's among them).
__attribute__((visibility("default"))) int InitializeInjection(void)
{
    try {
        Recording& r = Recording::instance();
        if (r.cudaInjected()) return 1;
        // on_exit, not atexit: the handler learns the exit status, which the exit watchdog ends the process with.
        if (r.startCudaBackend())
            ::on_exit([](int status, void*) { Recording::instance().stopBackends(status); }, nullptr);
    } catch (...) { }
    return 1;
}

__attribute__((visibility("default"))) const rooftime_api_v1* rooftime_get_api_v1(void)
{
    static const rooftime_api_v1 table
        = { sizeof(rooftime_api_v1), &rooftime_begin, &rooftime_end, &rooftime_add_work, &rooftime_set_param };
    return &table;
}

} // extern "C"

namespace {

constexpr int kFatalSignals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGABRT };
struct sigaction g_previous[NSIG];

// Flush, then re-raise with the disposition the program had, so its exit status is what it would have been.
void onFatalSignal(int sig, siginfo_t*, void*)
{
    const int savedErrno = errno;
    Recording::instance().finishFromSignal(sig);
    sigaction(sig, &g_previous[sig], nullptr);
    raise(sig); // pending until this handler returns, then delivered with the original disposition
    errno = savedErrno;
}

void installSignalHandlers()
{
    for (int sig : kFatalSignals) {
        struct sigaction current;
        if (sigaction(sig, nullptr, &current) != 0) continue;
        // Only where the program left the default: an ignored or handled signal stays as the program wants it.
        if ((current.sa_flags & SA_SIGINFO) || current.sa_handler != SIG_DFL) continue;
        g_previous[sig] = current;
        struct sigaction ours = {};
        ours.sa_sigaction = &onFatalSignal;
        ours.sa_flags = SA_SIGINFO | SA_RESTART;
        sigemptyset(&ours.sa_mask);
        sigaction(sig, &ours, nullptr);
    }
}

void atforkPrepare()
{
    Recording::instance().forkPrepare();
}
void atforkParent()
{
    Recording::instance().forkParent();
}
void atforkChild()
{
    Recording::instance().forkChild();
}

__attribute__((constructor)) void onLoad()
{
    Recording& r = Recording::instance();
    if (r.settings().disabled) return;
    pthread_atfork(&atforkPrepare, &atforkParent, &atforkChild);
    installSignalHandlers();
}

__attribute__((destructor)) void onUnload()
{
    Recording::instance().checkCudaAtExit();
    Recording::instance().finish("exit");
}

template <typename Fn> Fn nextSymbol(const char* name)
{
    return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

// Flushes the recording, calls the real exec, and reopens the recording if exec returned (it failed).
template <typename Fn, typename... Args> int execThrough(Fn real, Args... args)
{
    Recording::instance().beforeExec();
    const int rc = real ? real(args...) : (errno = ENOSYS, -1);
    const int err = errno;
    Recording::instance().afterFailedExec();
    errno = err;
    return rc;
}

std::vector<char*> collectArgs(const char* first, va_list ap, char*** envOut)
{
    std::vector<char*> args;
    args.push_back(const_cast<char*>(first));
    while (char* a = va_arg(ap, char*))
        args.push_back(a);
    args.push_back(nullptr);
    if (envOut) *envOut = va_arg(ap, char**);
    return args;
}

} // namespace

// exec replaces the image without running exit handlers: flush first so the old image's profile is complete.
extern "C" {

__attribute__((visibility("default"))) int execve(const char* path, char* const argv[], char* const envp[])
{
    static const auto real = nextSymbol<int (*)(const char*, char* const[], char* const[])>("execve");
    return execThrough(real, path, argv, envp);
}

__attribute__((visibility("default"))) int execv(const char* path, char* const argv[])
{
    static const auto real = nextSymbol<int (*)(const char*, char* const[])>("execv");
    return execThrough(real, path, argv);
}

__attribute__((visibility("default"))) int execvp(const char* file, char* const argv[])
{
    static const auto real = nextSymbol<int (*)(const char*, char* const[])>("execvp");
    return execThrough(real, file, argv);
}

__attribute__((visibility("default"))) int execvpe(const char* file, char* const argv[], char* const envp[])
{
    static const auto real = nextSymbol<int (*)(const char*, char* const[], char* const[])>("execvpe");
    return execThrough(real, file, argv, envp);
}

__attribute__((visibility("default"))) int execl(const char* path, const char* arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    auto args = collectArgs(arg, ap, nullptr);
    va_end(ap);
    return execv(path, args.data());
}

__attribute__((visibility("default"))) int execlp(const char* file, const char* arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    auto args = collectArgs(arg, ap, nullptr);
    va_end(ap);
    return execvp(file, args.data());
}

__attribute__((visibility("default"))) int execle(const char* path, const char* arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    char** env = nullptr;
    auto args = collectArgs(arg, ap, &env);
    va_end(ap);
    return execve(path, args.data(), env);
}

} // extern "C"
