// SPDX-License-Identifier: MIT
// The collector through `rooftime record`: exit paths, fork, exec, signals, exceptions, naming, NVTX.
#include "report_json.h"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace rooftime::test;
namespace fs = std::filesystem;

namespace {

nlohmann::json recordOne(
    const std::string& dir, const std::vector<std::string>& command, int expectedStatus, RunResult* out = nullptr)
{
    Recorded r = recordExpecting(dir, command, expectedStatus, 1);
    auto report = reportJson(r.files);
    checkExpectations(report, parseExpectations(r.result.out));
    if (out) *out = r.result;
    return report;
}

} // namespace

TEST_CASE("the program's output and exit status are unchanged under record")
{
    const std::string dir = scratchDir("output");
    RunResult plain = run({ client("paths_client"), "output" });
    RunResult recorded = record(dir, { client("paths_client"), "output" });
    CHECK(plain.status == 7);
    CHECK(recorded.status == 7);
    CHECK(recorded.out == plain.out);
    CHECK_THAT(recorded.err, Catch::StartsWith("rooftime: machine model: "));
    CHECK_THAT(afterMachineLine(recorded.err), Catch::StartsWith(plain.err));
    CHECK(filesIn(dir).size() == 1);
}

TEST_CASE("nested regions keep their structure and declared work per level")
{
    auto report = recordOne(scratchDir("nested"), { client("paths_client"), "nested" }, 0);
    CHECK(findRow(report, "garbage") == nullptr);
    CHECK((*findRow(report, "inner"))["implicitly_closed"] == 0);
}

TEST_CASE("exit() from another thread flushes everything recorded")
{
    auto report = recordOne(scratchDir("exit_thread"), { client("paths_client"), "exit_thread" }, 5);
    CHECK((*findRow(report, "thread_work"))["count"] == 10);
    CHECK(report["profiles"][0]["complete"] == true);
}

TEST_CASE("_exit keeps what was committed before it")
{
    auto report = recordOne(scratchDir("underscore_exit"), { client("paths_client"), "underscore_exit" }, 3);
    CHECK(report["profiles"][0]["complete"] == false);
}

TEST_CASE("abort flushes, then the program dies of SIGABRT as it would have")
{
    auto report = recordOne(scratchDir("abort"), { client("paths_client"), "abort" }, 128 + SIGABRT);
    CHECK(report["profiles"][0]["complete"] == true);
    CHECK_THAT(report["profiles"][0]["end_reason"].get<std::string>(), Catch::Contains("ABRT"));
}

TEST_CASE("SIGTERM flushes, then re-raises with the original disposition")
{
    RunResult r;
    auto report = recordOne(scratchDir("sigterm"), { client("paths_client"), "sigterm" }, 128 + SIGTERM, &r);
    CHECK_THAT(report["profiles"][0]["end_reason"].get<std::string>(), Catch::Contains("TERM"));
    CHECK_THAT(r.err, Catch::Contains("killed by signal 15"));
}

TEST_CASE("after SIGKILL the file reads cleanly and holds everything up to the last commit")
{
    const std::string dir = scratchDir("sigkill");
    const std::string flag = dir + "/ready";
    const std::string out = dir + "/out.txt";
    int pid = spawn({ client("paths_client"), "wait_kill", flag },
        { { "LD_PRELOAD", collectorLib() }, { "ROOFTIME_OUTPUT", dir + "/k.rtdb" } }, out);
    for (int i = 0; i < 1000 && !fs::exists(flag); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(fs::exists(flag));
    std::this_thread::sleep_for(std::chrono::milliseconds(600)); // past one more commit of the spinning regions
    kill(pid, SIGKILL);
    CHECK(wait(pid) == 128 + SIGKILL);
    auto files = filesIn(dir);
    REQUIRE(files.size() == 1);
    auto report = reportJson(files);
    checkExpectations(report, parseExpectations(readFile(out)));
    CHECK(report["profiles"][0]["complete"] == false);
    REQUIRE(findRow(report, "spinning"));
    CHECK((*findRow(report, "spinning"))["count"].get<int>() > 0);
}

TEST_CASE("fork: the child writes its own file and the parent's holds only the parent")
{
    const std::string dir = scratchDir("fork");
    auto [r, files] = recordExpecting(dir, { client("paths_client"), "fork" }, 0, 2);
    CHECK_THAT(r.err, Catch::Contains("wrote 2 profiles"));
    int parents = 0, children = 0;
    for (const auto& f : files) {
        auto report = reportJson({ f });
        CHECK(report["profiles"][0]["complete"] == true);
        if (findRow(report, "child")) {
            ++children;
            CHECK((*findRow(report, "child"))["count"] == 2);
            CHECK(findRow(report, "parent_before") == nullptr);
            CHECK(findRow(report, "parent_after") == nullptr);
        } else {
            ++parents;
            checkExpectations(report, parseExpectations(r.out));
        }
    }
    CHECK(parents == 1);
    CHECK(children == 1);
}

TEST_CASE("exec: the old image's profile is complete and the new image records too")
{
    const std::string dir = scratchDir("exec");
    // Same pid: the second name gets a suffix, nothing is overwritten.
    auto [r, files] = recordExpecting(dir, { client("paths_client"), "exec" }, 0, 2);
    auto all = reportJson(files);
    CHECK((*findRow(all, "before_exec"))["count"] == 6);
    CHECK((*findRow(all, "after_exec"))["count"] == 7);
}

TEST_CASE("a failed exec: recording goes on in the same file, which ends complete")
{
    auto report = recordOne(scratchDir("exec_fails"), { client("paths_client"), "exec_fails" }, 0);
    CHECK(report["profiles"][0]["complete"] == true);
    CHECK(report["profiles"][0]["end_reason"] == "exit");
}

TEST_CASE("C++ exceptions in a profiled program work as without the collector")
{
    auto report = recordOne(scratchDir("exceptions"), { client("paths_client"), "exceptions" }, 0);
    CHECK((*findRow(report, "throwing"))["count"] == 1000);
}

TEST_CASE("a process that records nothing leaves no file")
{
    const std::string dir = scratchDir("silent");
    RunResult r = record(dir, { client("paths_client"), "silent" });
    CHECK(r.status == 0);
    CHECK(filesIn(dir).empty());
    CHECK_THAT(r.err, Catch::Contains("no profile written"));
}

TEST_CASE("misused markers are reported once each and recording goes on")
{
    const std::string dir = scratchDir("mismatch");
    RunResult r = record(dir, { client("paths_client"), "mismatch" });
    CHECK(r.status == 0);
    CHECK_THAT(r.err, Catch::Contains("rooftime: rooftime_end(\"never_opened\") without an open region"));
    CHECK_THAT(r.err, Catch::Contains("closed inner regions left open"));
    CHECK_THAT(r.err, Catch::Contains("rooftime_add_work() called outside any open region"));
    auto report = reportJson(filesIn(dir));
    CHECK((*findRow(report, "b"))["implicitly_closed"] == 1);
    CHECK((*findRow(report, "ok"))["count"] == 2);
    CHECK(report["profiles"][0]["diagnostics"].size() == 3);
}

TEST_CASE("a program that closes the collector's descriptors and reuses them keeps its files intact")
{
    const std::string dir = scratchDir("close_fds");
    RunResult r = record(dir, { client("paths_client"), "close_fds", dir });
    INFO(r.err);
    CHECK(r.status == 0);
    // The program's eight files hold what it wrote: no page of the profile, no wake-up byte, no truncation.
    for (int i = 0; i < 8; ++i) {
        std::ifstream in(dir + "/app" + std::to_string(i) + ".txt", std::ios::binary);
        const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        INFO("app" << i << ".txt");
        CHECK(text == "APPDATA\n");
    }
    CHECK_THAT(r.err, Catch::Contains("the program closed descriptor "));
    CHECK_THAT(r.err, Catch::Contains("recording stopped, the profile holds earlier commits"));
    // What was committed before reads.
    auto report = reportJson(filesIn(dir));
    CHECK((*findRow(report, "before"))["count"] == 2);
}

TEST_CASE("a main thread that ends with pthread_exit ends the process, with a complete profile")
{
    const std::string dir = scratchDir("main_pthread_exit");
    const auto start = std::chrono::steady_clock::now();
    // timeout: a collector that kept the process alive would otherwise hang the test.
    RunResult r = record(dir, { "timeout", "-s", "KILL", "30", client("paths_client"), "main_pthread_exit" });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(seconds < 10);
    auto report = reportJson(filesIn(dir));
    checkExpectations(report, parseExpectations(r.out));
    CHECK(report["profiles"][0]["complete"] == true);
}

TEST_CASE("a profile cut short by a full disk keeps its earlier commits whole")
{
    const std::string dir = scratchDir("full_disk");
    // A 1 MB tmpfs, private to the recording (unshare -m: gone when it ends). After SQLite's "disk is full"
    // in the middle of a transaction SQLite may roll it back by itself; rows written after that committed one
    // by one, regions without the names they refer to, and the profile did not read. A checkpoint the full
    // disk cut short left a main file shorter than its header says, its pages in the -wal file.
    const std::string script = "mount -t tmpfs -o size=1m tmpfs \"$1\" || { echo ROOFTIME_NO_TMPFS; exit 0; }; "
                               "shift; \"$3\" record --no-machine -o \"$2\"/p.rtdb -- \"$1\" steady 12 300000 "
                               "&& cp \"$2\"/p.rtdb* \"$4\"";
    fs::create_directories(dir + "/disk");
    fs::create_directories(dir + "/kept");
    RunResult r = run({ "/usr/bin/unshare", "-m", "sh", "-c", script, "sh", dir + "/disk", client("paths_client"),
        dir + "/disk", rooftimeBin(), dir + "/kept" });
    if (r.status != 0 || r.out.find("ROOFTIME_NO_TMPFS") != std::string::npos) {
        std::puts("ROOFTIME_SKIP: cannot mount a private tmpfs here (needs root and unshare)");
        return;
    }
    INFO(r.err);
    CHECK(r.out == "done\n");
    CHECK_THAT(r.err, Catch::Contains("disk is full"));
    CHECK_THAT(r.err, Catch::Contains("recording stopped, the profile holds earlier commits"));
    const auto files = filesIn(dir + "/kept");
    REQUIRE(files.size() == 1);
    RunResult rep = run({ rooftimeBin(), "report", "--format", "json", files[0] });
    INFO(rep.err);
    REQUIRE(rep.status == 0);
    const auto j = nlohmann::json::parse(rep.out);
    CHECK(j["profiles"][0]["complete"] == false);
    // The earlier commits, each region named; the burst that filled the disk is not there.
    std::int64_t regions = 0;
    for (const auto& row : j["rows"]) {
        CHECK((row["name"] == "odd" || row["name"] == "even"));
        regions += row["count"].get<std::int64_t>();
    }
    CHECK(regions > 0);
    CHECK(regions <= 12 * 1000);
}

TEST_CASE("a fork while other threads keep the writer busy neither stalls nor loses the child")
{
    const std::string dir = scratchDir("fork_busy");
    const auto start = std::chrono::steady_clock::now();
    RunResult r = record(dir, { client("paths_client"), "fork_busy" }, "p.%p.rtdb");
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    INFO(r.err);
    CHECK(r.status == 0);
    // The writer lets a waiting fork have its lock: before, forks waited out the 2 s limit and the child went
    // unrecorded (6 of 10 in the audit, 15 s in all).
    CHECK(r.err.find("the child process is not recorded") == std::string::npos);
    CHECK(filesIn(dir).size() == 11);
    CHECK(seconds < 15);
}

TEST_CASE("the collector appends to the manifest record made, and never creates one")
{
    // A daemon that outlives record would otherwise bring back the manifest record removed, in /tmp for good.
    const std::string dir = scratchDir("manifest");
    RunResult r = run({ client("paths_client"), "nested" },
        { { "LD_PRELOAD", collectorLib() }, { "ROOFTIME_OUTPUT", dir + "/p.rtdb" },
            { "ROOFTIME_MANIFEST", dir + "/gone.txt" } });
    CHECK(r.status == 0);
    CHECK(fs::exists(dir + "/p.rtdb"));
    CHECK_FALSE(fs::exists(dir + "/gone.txt"));
    std::ofstream(dir + "/there.txt").close();
    REQUIRE(run({ client("paths_client"), "nested" },
                { { "LD_PRELOAD", collectorLib() }, { "ROOFTIME_OUTPUT", dir + "/q.rtdb" },
                    { "ROOFTIME_MANIFEST", dir + "/there.txt" } })
                .status
        == 0);
    std::ifstream in(dir + "/there.txt");
    std::string line;
    CHECK(std::getline(in, line));
    CHECK(line == dir + "/q.rtdb");
}

TEST_CASE("a pending thread cancel does not act inside the collector")
{
    const std::string dir = scratchDir("cancel");
    RunResult plain = run({ client("paths_client"), "cancel" });
    RunResult r = record(dir, { client("paths_client"), "cancel" });
    INFO(r.err);
    CHECK(plain.out == "cancelled=1\n");
    CHECK(r.status == 0);
    CHECK(r.out == plain.out);
    CHECK_THAT(r.err, Catch::Contains("rooftime_end(\"nope\") matches no open region"));
}

TEST_CASE("NaN and infinite values are refused once each and recording goes on")
{
    const std::string dir = scratchDir("bad_values");
    auto report = recordOne(dir, { client("paths_client"), "bad_values" }, 0);
    const std::string diagnostics = report["profiles"][0]["diagnostics"].dump();
    CHECK_THAT(diagnostics, Catch::Contains("rooftime_set_param(\\\"nan\\\", NaN): a parameter is a number; ignored"));
    CHECK_THAT(diagnostics, Catch::Contains("rooftime_add_work(nan, 8): FLOPs and bytes are finite counts"));
    CHECK(report["profiles"][0]["complete"] == true);
    // The region whose every declaration was refused has none.
    CHECK((*findRow(report, "bad"))["flops"].is_null());
}

TEST_CASE("a stderr whose reader has gone kills neither the program nor record")
{
    // stderr: a pipe with its read end closed, so that a write raises SIGPIPE.
    const auto runBroken = [](const std::vector<std::string>& argv, std::string& out) {
        int err[2], o[2];
        REQUIRE(pipe(err) == 0);
        REQUIRE(pipe(o) == 0);
        close(err[0]);
        const pid_t pid = fork();
        if (pid == 0) {
            dup2(err[1], STDERR_FILENO);
            dup2(o[1], STDOUT_FILENO);
            close(o[0]);
            std::vector<char*> args;
            for (const std::string& a : argv)
                args.push_back(const_cast<char*>(a.c_str()));
            args.push_back(nullptr);
            signal(SIGPIPE, SIG_DFL);
            execv(args[0], args.data());
            _exit(127);
        }
        close(err[1]);
        close(o[1]);
        char buf[4096];
        for (ssize_t n; (n = read(o[0], buf, sizeof buf)) > 0;)
            out.append(buf, static_cast<std::size_t>(n));
        close(o[0]);
        int status = 0;
        waitpid(pid, &status, 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    };
    const std::string dir = scratchDir("broken_stderr");
    std::string out;
    // The program writes "to stderr" itself (and dies of SIGPIPE alone): "mismatch" only has the collector write.
    const int status = runBroken(
        { rooftimeBin(), "record", "--no-machine", "-o", dir + "/p.rtdb", "--", client("paths_client"), "mismatch" },
        out);
    CHECK(status == 0);
    auto report = reportJson({ dir + "/p.rtdb" });
    CHECK((*findRow(report, "ok"))["count"] == 2);
}

TEST_CASE("a folder's empty profile (a process gone before its first commit) is left out with a warning")
{
    const std::string dir = scratchDir("folder_empty");
    REQUIRE(record(dir, { client("paths_client"), "mismatch" }).status == 0);
    std::ofstream(dir + "/gone.rtdb").close(); // 0 bytes, as _exit before the first commit leaves it
    for (const char* command : { "report", "export" }) {
        std::vector<std::string> argv { rooftimeBin(), command, dir };
        if (std::string(command) == "export") argv.insert(argv.end(), { "-o", dir + "/trace.json" });
        RunResult r = run(argv);
        INFO(command << ": " << r.err);
        CHECK(r.status == 0);
        CHECK_THAT(r.err, Catch::Contains("warning: '" + dir + "/gone.rtdb' is empty (0 bytes), left out"));
    }
    // Named on its own it is still an error, and a folder of empty files has no profiles.
    CHECK(run({ rooftimeBin(), "report", dir + "/gone.rtdb" }).status == 2);
    const std::string emptyDir = scratchDir("folder_only_empty");
    std::ofstream(emptyDir + "/gone.rtdb").close();
    RunResult none = run({ rooftimeBin(), "report", emptyDir });
    CHECK(none.status == 2);
    CHECK_THAT(none.err, Catch::Contains("is a folder without profiles (*.rtdb; 1 empty file left out)"));
}

TEST_CASE("record warns that a statically linked program cannot be recorded, and runs it")
{
    const std::string dir = scratchDir("static");
    RunResult r = record(dir, { client("static_client") });
    CHECK(r.status == 0);
    CHECK(r.out == "static\n");
    CHECK_THAT(r.err, Catch::Contains("'" + client("static_client") + "' is statically linked"));
    // A dynamically linked one gets no such warning.
    RunResult d = record(dir, { client("paths_client"), "silent" });
    CHECK(d.err.find("statically linked") == std::string::npos);
}

TEST_CASE("output names: placeholders, sanitised variables, folders with spaces, no overwrite")
{
    const std::string dir = scratchDir("naming") + "/with space";
    fs::create_directories(dir);
    const std::vector<std::string> cmd { client("paths_client"), "output" };
    std::vector<std::string> argv { rooftimeBin(), "record", "-o", dir + "/%q{TAG}.%r.rtdb", "--" };
    argv.insert(argv.end(), cmd.begin(), cmd.end());
    RunResult a = run(argv, { { "TAG", "../escape" }, { "RANK", "3" } });
    RunResult b = run(argv, { { "TAG", "../escape" }, { "RANK", "3" } });
    CHECK(a.status == 7);
    CHECK(b.status == 7);
    auto files = filesIn(dir);
    REQUIRE(files.size() == 2);
    CHECK(files[0] == dir + "/.._escape.3-1.rtdb");
    CHECK(files[1] == dir + "/.._escape.3.rtdb");
    CHECK(filesIn(fs::path(dir).parent_path().string()).empty());
}

TEST_CASE("record: usage errors and commands that cannot run")
{
    RunResult none = run({ rooftimeBin(), "record" });
    CHECK(none.status == 2);
    CHECK_THAT(none.err, Catch::Contains("no command given"));
    RunResult badMode = run({ rooftimeBin(), "record", "--mode", "fast", "--", "/bin/true" });
    CHECK(badMode.status == 2);
    CHECK_THAT(badMode.err, Catch::Contains("--mode"));
    RunResult badPattern = run({ rooftimeBin(), "record", "-o", "x%z.rtdb", "--", "/bin/true" });
    CHECK(badPattern.status == 2);
    CHECK_THAT(badPattern.err, Catch::Contains("bad -o 'x%z.rtdb'") && Catch::Contains("unknown placeholder"));
    // A "--" after the command's first word is the command's own.
    const std::string dir = scratchDir("dashes");
    RunResult dashes = run({ rooftimeBin(), "record", "-o", dir + "/d.rtdb", "/bin/echo", "a", "--", "b" });
    CHECK(dashes.status == 0);
    CHECK(dashes.out == "a -- b\n");
    RunResult missing = run({ rooftimeBin(), "record", "--", "/nonexistent/program" });
    CHECK(missing.status == 127);
    CHECK_THAT(missing.err, Catch::Contains("cannot run '/nonexistent/program'"));
}

TEST_CASE("another tool's CUDA_INJECTION64_PATH is left in place, with one line")
{
    const std::string dir = scratchDir("other-injection");
    const RunResult r = run({ rooftimeBin(), "record", "--no-machine", "-o", dir + "/p.rtdb", "--", "/usr/bin/env" },
        { { "CUDA_INJECTION64_PATH", "/opt/other-tool/libinjection.so" } });
    CHECK(r.status == 0);
    CHECK_THAT(r.out, Catch::Contains("CUDA_INJECTION64_PATH=/opt/other-tool/libinjection.so\n"));
    CHECK_THAT(r.err,
        Catch::Contains("rooftime: CUDA_INJECTION64_PATH already names another tool's library "
                        "(/opt/other-tool/libinjection.so): left in place"));
    // Another rooftime build's collector is replaced by this one's (one collector per process), silently.
    const RunResult stale
        = run({ rooftimeBin(), "record", "--no-machine", "-o", dir + "/s.rtdb", "--", "/usr/bin/env" },
            { { "CUDA_INJECTION64_PATH", "/opt/old-rooftime/lib/librooftime_collector.so" } });
    CHECK(stale.out.find("/opt/old-rooftime") == std::string::npos);
    CHECK_THAT(stale.out, Catch::Contains("librooftime_collector.so\n"));
    CHECK(stale.err.find("another tool") == std::string::npos);
    // Without one, record sets its own.
    const RunResult own = run({ rooftimeBin(), "record", "--no-machine", "-o", dir + "/q.rtdb", "--", "/usr/bin/env" });
    CHECK_THAT(own.out, Catch::Contains("CUDA_INJECTION64_PATH=/"));
    CHECK_THAT(own.out, Catch::Contains("librooftime_collector.so\n"));
    CHECK(own.err.find("another tool") == std::string::npos);
}

TEST_CASE("counters mode without a counter backend says so and records time")
{
    const std::string dir = scratchDir("counters");
    std::vector<std::string> argv { rooftimeBin(), "record", "--mode", "counters", "-o", dir + "/c.rtdb", "--",
        client("paths_client"), "nested" };
    RunResult r = run(argv);
    CHECK(r.status == 0);
    CHECK_THAT(r.err, Catch::Contains("no counter backend"));
    auto report = reportJson(filesIn(dir));
    CHECK(report["profiles"][0]["mode"] == "counters");
    checkExpectations(report, parseExpectations(r.out));
}

TEST_CASE("NVTX ranges become regions without the rooftime header")
{
    if (!ROOFTIME_TEST_HAVE_NVTX) {
        std::puts("ROOFTIME_SKIP: built without CUDA 13 headers (NVTX capture is not compiled in)");
        return;
    }
    const std::string dir = scratchDir("nvtx");
    auto [r, files] = recordExpecting(dir, { client("nvtx_client") }, 0, 1);
    auto report = reportJson(files);
    checkExpectations(report, parseExpectations(r.out));
    CHECK((*findRow(report, "step"))["kind"] == "nvtx");
    CHECK((*findRow(report, "crossing"))["kind"] == "nvtx-range");
    CHECK((*findRow(report, "never_ended"))["implicitly_closed"] == 1);
    CHECK((*findRow(report, "crossing"))["implicitly_closed"] == 0);
}

TEST_CASE("record --call-stacks with NVTX: paths name the program's functions, not NVTX's entry points")
{
    if (!ROOFTIME_TEST_HAVE_NVTX) {
        std::puts("ROOFTIME_SKIP: built without CUDA 13 headers (NVTX capture is not compiled in)");
        return;
    }
    const std::string dir = scratchDir("nvtx_stacks");
    RunResult r = run({ rooftimeBin(), "record", "--call-stacks", "-o", dir + "/n.rtdb", "--", client("nvtx_client") });
    INFO(r.err);
    REQUIRE(r.status == 0);
    RunResult rep = run({ rooftimeBin(), "report", "--by", "callpath", "--format", "json", dir + "/n.rtdb" });
    REQUIRE(rep.status == 0);
    const auto report = nlohmann::json::parse(rep.out);
    INFO(rep.out);
    bool forward = false;
    for (const auto& row : report["rows"]) {
        const std::string name = row["name"];
        CHECK(name.find("nvtx") == std::string::npos); // the inline NVTX functions are left out
        if (name == "main > step > forward") forward = true;
    }
    CHECK(forward);
}

TEST_CASE("the collector exports only its API and needs few libraries")
{
    RunResult syms = run({ "/usr/bin/nm", "-D", "--defined-only", collectorLib() });
    REQUIRE(syms.status == 0);
    std::istringstream in(syms.out);
    std::string line;
    while (std::getline(in, line)) {
        const std::string name = line.substr(line.rfind(' ') + 1);
        INFO(name);
        const bool ours = name.rfind("rooftime_", 0) == 0 || name.rfind("InitializeInjection", 0) == 0
            || name.rfind("exec", 0) == 0;
        CHECK(ours);
    }
    RunResult dyn = run({ "/usr/bin/readelf", "-d", collectorLib() });
    REQUIRE(dyn.status == 0);
    std::istringstream d(dyn.out);
    int needed = 0;
    while (std::getline(d, line)) {
        if (line.find("(NEEDED)") == std::string::npos) continue;
        ++needed;
        INFO(line);
        CHECK((line.find("libsqlite3") != std::string::npos || line.find("libstdc++") != std::string::npos
            || line.find("libgcc_s") != std::string::npos || line.find("libc.so") != std::string::npos
            || line.find("libm.so") != std::string::npos || line.find("ld-linux") != std::string::npos));
    }
    CHECK(needed <= 6);
    // LLVM libunwind is linked for its unw_* calls only: the .so must not carry a second C++ exception
    // unwinder (_Unwind_*), which would take over the unwinding of exceptions passing through its code.
    RunResult all = run({ "/usr/bin/nm", "--defined-only", collectorLib() });
    if (all.status == 0 && all.out.find("no symbols") == std::string::npos) {
        CHECK(all.out.find(" _Unwind_RaiseException") == std::string::npos);
        CHECK(all.out.find(" _Unwind_Resume") == std::string::npos);
    }
    RunResult relocs = run({ "/usr/bin/readelf", "--dyn-syms", "-W", collectorLib() });
    REQUIRE(relocs.status == 0);
    CHECK(relocs.out.find("UND _Unwind_Resume") != std::string::npos); // from libgcc_s, like any C++ library
}

TEST_CASE("record --call-stacks: call paths show the functions that opened each region")
{
    const std::string dir = scratchDir("call_stacks");
    std::vector<std::string> argv { rooftimeBin(), "record", "--call-stacks", "-o", dir + "/s.rtdb", "--",
        client("paths_client"), "stacks" };
    RunResult r = run(argv);
    INFO(r.err);
    REQUIRE(r.status == 0);
    RunResult rep = run({ rooftimeBin(), "report", "--by", "callpath", "--format", "json", dir + "/s.rtdb" });
    INFO(rep.err);
    REQUIRE(rep.status == 0);
    const auto report = nlohmann::json::parse(rep.out);
    std::map<std::string, unsigned long long> counts;
    for (const auto& row : report["rows"])
        counts[row["name"].get<std::string>()] = row["count"].get<unsigned long long>();
    INFO(rep.out);
    // Inside step (opened by main): the two functions between step and leaf; outside it, main's own call.
    CHECK(counts["main > step"] == 1);
    CHECK(counts["main > step > stackMiddle() > stackLeaf() > leaf"] == 10);
    CHECK(counts["main > stackMiddle() > stackLeaf() > leaf"] == 1);
    // On another thread the path starts at the thread's function: no libc or libstdc++ start-up frames.
    CHECK(counts["stackMiddle() > stackLeaf() > leaf"] == 1);
    CHECK(counts.size() == 4);
    // By range nothing changes: stacks only add paths.
    auto byRange = reportJson({ dir + "/s.rtdb" });
    CHECK((*findRow(byRange, "leaf"))["count"] == 12);
}

TEST_CASE("record --call-stacks: the profile names its functions after the program is gone (another machine)")
{
    const std::string dir = scratchDir("call_stacks_moved");
    // A copy of the program, removed after recording: what reading the profile elsewhere looks like.
    const std::string program = dir + "/paths_client";
    std::filesystem::copy_file(client("paths_client"), program);
    RunResult r = run({ rooftimeBin(), "record", "--call-stacks", "-o", dir + "/s.rtdb", "--", program, "stacks" });
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(r.err.find("cannot store function names") == std::string::npos);
    std::filesystem::remove(program);
    RunResult rep = run({ rooftimeBin(), "report", "--by", "callpath", "--format", "json", dir + "/s.rtdb" });
    REQUIRE(rep.status == 0);
    std::map<std::string, unsigned long long> counts;
    const auto report = nlohmann::json::parse(rep.out);
    for (const auto& row : report["rows"])
        counts[row["name"].get<std::string>()] = row["count"].get<unsigned long long>();
    INFO(rep.out);
    CHECK(counts["main > step > stackMiddle() > stackLeaf() > leaf"] == 10);
    CHECK(counts["stackMiddle() > stackLeaf() > leaf"] == 1);
    // `rooftime symbolize` on it again finds nothing more to name here (the program is gone) and keeps the names.
    RunResult again = run({ rooftimeBin(), "symbolize", dir + "/s.rtdb" });
    CHECK(again.status == 0);
    CHECK_THAT(again.err, Catch::StartsWith("rooftime symbolize: "));
    RunResult rep2 = run({ rooftimeBin(), "report", "--by", "callpath", "--format", "json", dir + "/s.rtdb" });
    CHECK(rep2.out == rep.out);
    // Not a profile: exit 2, one line.
    writeFile(dir + "/x.rtdb", "not sqlite");
    RunResult bad = run({ rooftimeBin(), "symbolize", dir + "/x.rtdb" });
    CHECK(bad.status == 2);
    CHECK(bad.err == "rooftime symbolize: '" + dir + "/x.rtdb': is too short to be a rooftime profile (10 bytes)\n");
}

TEST_CASE("record --call-stacks: exceptions thrown and caught inside regions behave as without the collector")
{
    const std::string dir = scratchDir("call_stacks_throw");
    RunResult r = run({ rooftimeBin(), "record", "--call-stacks", "-o", dir + "/t.rtdb", "--", client("paths_client"),
        "exceptions" });
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.out.find("caught 1000") != std::string::npos);
    auto report = reportJson({ dir + "/t.rtdb" });
    CHECK((*findRow(report, "throwing"))["count"] == 1000);
}

TEST_CASE("without --call-stacks no stack is recorded and paths are regions only")
{
    const std::string dir = scratchDir("no_call_stacks");
    Recorded rec = recordExpecting(dir, { client("paths_client"), "stacks" }, 0, 1);
    RunResult rep = run({ rooftimeBin(), "report", "--by", "callpath", "--format", "json", rec.files[0] });
    REQUIRE(rep.status == 0);
    const auto report = nlohmann::json::parse(rep.out);
    std::map<std::string, unsigned long long> counts;
    for (const auto& row : report["rows"])
        counts[row["name"].get<std::string>()] = row["count"].get<unsigned long long>();
    CHECK(counts["step > leaf"] == 10);
    CHECK(counts["leaf"] == 2);
}
