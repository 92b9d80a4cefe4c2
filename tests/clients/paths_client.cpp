// SPDX-License-Identifier: MIT
// A program for the collector's integration tests: each mode exercises one way a process records and ends.
// Modes print "# expect ..." lines for what must be in the profile (of this process, or of the child).
#include <rooftime/rooftime.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <pthread.h>
#include <stdexcept>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

void regions(const char* name, int n, double flops = 1, double bytes = 8)
{
    for (int i = 0; i < n; ++i) {
        rooftime_begin(name);
        rooftime_add_work(flops, bytes);
        rooftime_end(name);
    }
}

void expect(const char* name, int count, double flopsEach = 1, double bytesEach = 8)
{
    std::printf(
        "# expect region=%s count=%d flops=%.17g bytes=%.17g\n", name, count, count * flopsEach, count * bytesEach);
    std::fflush(stdout);
}

void sleepMs(int ms)
{
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

} // namespace

// Outside the anonymous namespace and never inlined: their names are what call paths must show.
__attribute__((noinline)) void stackLeaf()
{
    rooftime_begin("leaf");
    rooftime_end("leaf");
    asm volatile(""); // keeps this a real call, not a tail call
}

__attribute__((noinline)) void stackMiddle()
{
    stackLeaf();
    asm volatile("");
}

int main(int argc, char** argv)
{
    if (argc < 2) {
        std::fprintf(stderr, "usage: paths_client MODE [ARG]\n");
        return 2;
    }
    const std::string mode = argv[1];
    if (mode == "exit_thread") {
        // exit() from a thread other than main, while main is inside a region.
        regions("work", 100);
        expect("work", 100);
        rooftime_begin("main_open");
        std::thread([] {
            regions("thread_work", 10);
            std::exit(5);
        }).join();
    } else if (mode == "underscore_exit") {
        // _exit runs no handler: what was committed before it stays.
        regions("committed", 50);
        expect("committed", 50);
        sleepMs(800); // longer than the commit interval
        regions("maybe_lost", 10);
        std::fflush(stdout);
        _exit(3);
    } else if (mode == "abort") {
        regions("before_abort", 40);
        expect("before_abort", 40);
        std::abort();
    } else if (mode == "sigterm") {
        regions("before_term", 30);
        expect("before_term", 30);
        kill(getpid(), SIGTERM);
        sleepMs(5000);
        return 0;
    } else if (mode == "wait_kill") {
        // Records, waits past a commit, then tells the test it may kill us (argv[2] is a flag file).
        regions("before_kill", 200);
        expect("before_kill", 200);
        sleepMs(800);
        std::ofstream(argv[2]) << "ready\n";
        for (;;) {
            regions("spinning", 1);
            sleepMs(1);
        }
    } else if (mode == "fork") {
        regions("parent_before", 3);
        std::fflush(stdout);
        pid_t child = fork();
        if (child == 0) {
            regions("child", 2);
            std::exit(0);
        }
        int status = 0;
        waitpid(child, &status, 0);
        regions("parent_after", 4);
        expect("parent_before", 3);
        expect("parent_after", 4);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
    } else if (mode == "exec") {
        regions("before_exec", 6);
        std::string self = "/proc/self/exe";
        execl(self.c_str(), argv[0], "after_exec", static_cast<char*>(nullptr));
        std::perror("execl");
        return 1;
    } else if (mode == "exec_fails") {
        // A failed exec returns: the profile, already flushed for it, must go on and end complete.
        regions("before_failed_exec", 4);
        execl("/nonexistent/rooftime-test", "x", static_cast<char*>(nullptr));
        regions("after_failed_exec", 5);
        expect("before_failed_exec", 4);
        expect("after_failed_exec", 5);
        return 0;
    } else if (mode == "after_exec") {
        regions("after_exec", 7);
        return 0;
    } else if (mode == "exceptions") {
        // C++ exceptions thrown and caught inside regions must behave exactly as without the collector.
        int caught = 0;
        for (int i = 0; i < 1000; ++i) {
            rooftime_begin("throwing");
            try {
                if (i >= 0) throw std::runtime_error("expected");
            } catch (const std::runtime_error&) {
                ++caught;
            }
            rooftime_end("throwing");
        }
        std::printf("caught %d\n", caught);
        std::printf("# expect region=throwing count=1000 flops=0 bytes=0\n");
        return caught == 1000 ? 0 : 1;
    } else if (mode == "stacks") {
        // Regions opened two calls deep, inside a region of main and outside it (call paths with host frames).
        rooftime_begin("step");
        for (int i = 0; i < 10; ++i)
            stackMiddle();
        rooftime_end("step");
        stackMiddle();
        std::thread(stackMiddle).join(); // a thread's paths start at its own function
        std::printf("# expect region=step count=1 flops=0 bytes=0\n");
        std::printf("# expect region=leaf count=12 flops=0 bytes=0\n");
        return 0;
    } else if (mode == "nested") {
        // outer > middle > inner, with work at each level, and a non-literal name buffer reused.
        char buf[32];
        for (int i = 0; i < 20; ++i) {
            rooftime_begin("outer");
            rooftime_add_work(10, 100);
            for (int j = 0; j < 3; ++j) {
                std::snprintf(buf, sizeof buf, "middle");
                rooftime_begin(buf);
                std::snprintf(buf, sizeof buf, "garbage"); // the collector copied the name at begin
                rooftime_begin("inner");
                rooftime_add_work(1, 8);
                rooftime_end("inner");
                rooftime_end("middle");
            }
            rooftime_end("outer");
        }
        expect("outer", 20, 10, 100);
        std::printf("# expect region=middle count=60 flops=0 bytes=0\n");
        expect("inner", 60, 1, 8);
        return 0;
    } else if (mode == "output") {
        // The program's own output and exit status, for comparison with a run without the collector.
        regions("talk", 3);
        std::printf("line one\nline two %d\n", 42);
        std::fprintf(stderr, "to stderr\n");
        return 7;
    } else if (mode == "silent") {
        std::printf("nothing recorded\n");
        return 0;
    } else if (mode == "close_fds") {
        // A launcher's closefrom(3), then files of its own under the freed numbers (in folder ARG): the collector
        // must not write into them.
        regions("before", 2);
        expect("before", 2);
        sleepMs(300); // the writer has created the profile and committed
        for (int fd = 3; fd < 1024; ++fd)
            close(fd);
        const std::string dir = argc > 2 ? argv[2] : ".";
        std::vector<int> fds;
        for (int i = 0; i < 8; ++i) {
            const int fd = open((dir + "/app" + std::to_string(i) + ".txt").c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
            fds.push_back(fd);
            if (fd < 0 || write(fd, "APPDATA\n", 8) != 8) return 3;
        }
        regions("after", 20000);
        sleepMs(300);
        for (int fd : fds)
            close(fd);
        return 0;
    } else if (mode == "steady") {
        // ARG batches of 1000 regions, 50 ms apart: several commits; then a burst of ARG2 regions of a new name
        // in one commit interval.
        const int batches = argc > 2 ? std::atoi(argv[2]) : 20;
        for (int b = 0; b < batches; ++b) {
            regions(b % 2 ? "odd" : "even", 1000);
            sleepMs(50);
        }
        regions("burst", argc > 3 ? std::atoi(argv[3]) : 0);
        std::printf("done\n");
        return 0;
    } else if (mode == "fork_busy") {
        // Forks while four threads keep the writer busy: each child records one region and exits.
        static std::atomic<bool> stop { false };
        std::vector<std::thread> flood;
        for (int t = 0; t < 4; ++t)
            flood.emplace_back([] {
                while (!stop.load())
                    regions("flood", 100);
            });
        sleepMs(200);
        for (int i = 0; i < 10; ++i) {
            const pid_t pid = fork();
            if (pid == 0) {
                regions("child", 1);
                std::exit(0);
            }
            int status = 0;
            waitpid(pid, &status, 0);
        }
        stop = true;
        for (std::thread& t : flood)
            t.join();
        return 0;
    } else if (mode == "main_pthread_exit") {
        // The process ends when its last thread does: with exit status 0, as if by exit(0).
        regions("main", 3);
        expect("main", 3);
        std::fflush(stdout);
        pthread_exit(nullptr);
    } else if (mode == "cancel") {
        // A deferred cancel pending while the thread calls into the collector, which writes a diagnostic (a
        // cancellation point inside the collector must not act on it).
        pthread_t t;
        static pthread_barrier_t ready;
        pthread_barrier_init(&ready, nullptr, 2);
        pthread_create(
            &t, nullptr,
            [](void*) -> void* {
                rooftime_begin("worker");
                pthread_barrier_wait(&ready);
                pthread_barrier_wait(&ready); // the cancel is pending now
                rooftime_end("nope"); // a mismatch: reported on stderr
                rooftime_end("worker");
                pthread_testcancel();
                return nullptr;
            },
            nullptr);
        pthread_barrier_wait(&ready);
        pthread_cancel(t);
        pthread_barrier_wait(&ready);
        void* result = nullptr;
        pthread_join(t, &result);
        std::printf("cancelled=%d\n", result == PTHREAD_CANCELED ? 1 : 0);
        return 0;
    } else if (mode == "bad_values") {
        // NaN and infinite values are refused, once each, and recording goes on.
        rooftime_set_param("nan", NAN);
        rooftime_begin("bad");
        rooftime_add_work(NAN, 8);
        rooftime_add_work(INFINITY, -1);
        rooftime_end("bad");
        regions("good", 3);
        expect("good", 3);
        return 0;
    } else if (mode == "mismatch") {
        rooftime_end("never_opened");
        rooftime_begin("a");
        rooftime_begin("b");
        rooftime_end("a"); // closes b implicitly
        rooftime_add_work(1, 1); // outside any region now
        regions("ok", 2);
        return 0;
    }
    std::fprintf(stderr, "paths_client: unknown mode '%s'\n", mode.c_str());
    return 2;
}
