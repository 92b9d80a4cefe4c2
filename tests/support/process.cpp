// SPDX-License-Identifier: MIT
#include "process.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <poll.h>
#include <regex>
#include <signal.h>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace rooftime::test {

namespace {

int decode(int status, bool* signaled = nullptr)
{
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) {
        if (signaled) *signaled = true;
        return 128 + WTERMSIG(status);
    }
    return -1;
}

void childSetup(const std::map<std::string, std::string>& env, const std::string& cwd)
{
    for (const auto& [k, v] : env) {
        if (v.empty() && k.front() == '-')
            unsetenv(k.c_str() + 1);
        else
            setenv(k.c_str(), v.c_str(), 1);
    }
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(126);
    // Tests run under ctest, which may ignore signals; programs under test get default dispositions.
    for (int sig : { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGABRT, SIGPIPE })
        signal(sig, SIG_DFL);
}

std::vector<char*> cargv(const std::vector<std::string>& argv)
{
    std::vector<char*> v;
    for (const auto& a : argv)
        v.push_back(const_cast<char*>(a.c_str()));
    v.push_back(nullptr);
    return v;
}

} // namespace

RunResult run(
    const std::vector<std::string>& argv, const std::map<std::string, std::string>& env, const std::string& cwd)
{
    int outPipe[2], errPipe[2];
    if (pipe2(outPipe, O_CLOEXEC) != 0 || pipe2(errPipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    auto args = cargv(argv);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(outPipe[1], 1);
        dup2(errPipe[1], 2);
        childSetup(env, cwd);
        execv(args[0], args.data());
        _exit(127);
    }
    close(outPipe[1]);
    close(errPipe[1]);
    RunResult r;
    pollfd fds[2] = { { outPipe[0], POLLIN, 0 }, { errPipe[0], POLLIN, 0 } };
    int open = 2;
    char buf[65536];
    while (open > 0) {
        if (poll(fds, 2, -1) < 0 && errno == EINTR) continue;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            ssize_t n = read(fds[i].fd, buf, sizeof buf);
            if (n > 0) {
                (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(n));
            } else if (n == 0 || errno != EINTR) {
                close(fds[i].fd);
                fds[i].fd = -1;
                --open;
            }
        }
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) { }
    r.status = decode(status, &r.signaled);
    return r;
}

int spawn(
    const std::vector<std::string>& argv, const std::map<std::string, std::string>& env, const std::string& outFile)
{
    auto args = cargv(argv);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(outFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        childSetup(env, {});
        execv(args[0], args.data());
        _exit(127);
    }
    return pid;
}

int wait(int pid)
{
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) { }
    return decode(status);
}

std::string scratchDir(const std::string& name)
{
    std::string safe = name;
    for (char& c : safe)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    fs::path dir = fs::path(ROOFTIME_TEST_SCRATCH) / safe;
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir.string();
}

std::vector<std::string> filesIn(const std::string& dir, const std::string& suffix)
{
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) {
        const std::string p = e.path().string();
        if (p.size() >= suffix.size() && p.compare(p.size() - suffix.size(), suffix.size(), suffix) == 0)
            out.push_back(p);
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::string rooftimeBin()
{
    return ROOFTIME_TEST_BIN;
}
std::string collectorLib()
{
    return ROOFTIME_TEST_COLLECTOR;
}
std::string testData(const std::string& relative)
{
    return std::string(ROOFTIME_TEST_DATA) + "/" + relative;
}

std::string sample(const std::string& name)
{
    return std::string(ROOFTIME_TEST_SAMPLES) + "/" + name;
}
std::string client(const std::string& name)
{
    return std::string(ROOFTIME_TEST_CLIENTS) + "/" + name;
}

std::vector<Expectation> parseExpectations(const std::string& text)
{
    std::vector<Expectation> out;
    static const std::regex re(R"(^# expect region=(\S+) count=(\d+) flops=(\S+) bytes=(\S+)$)");
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        std::smatch m;
        if (std::regex_match(line, m, re)) out.push_back({ m[1], std::stoull(m[2]), std::stod(m[3]), std::stod(m[4]) });
    }
    return out;
}

std::string readFile(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void writeFile(const std::string& path, const std::string& content)
{
    std::ofstream out(path, std::ios::binary);
    out << content;
}

} // namespace rooftime::test
