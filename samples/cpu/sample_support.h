// SPDX-License-Identifier: MIT
// Helpers shared by the CPU samples: `--name value` parsing, expectation lines, wall time.
// Header-only and standard-library-only, so that every sample still builds with one bare compiler command
// (`g++ -std=c++20 -I collector/include samples/cpu/triad.cpp -pthread`) and can be copied by users.
#pragma once

#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace rooftime::samples {

// Same code as the rooftime CLI uses for usage errors.
inline constexpr int kUsageExit = 2;
inline constexpr int kFailureExit = 1;

// Hand-rolled rather than CLI11 (the house choice for our tools): the samples must depend on nothing but
// <rooftime/rooftime.h>, and a few `--name value` options do not justify a dependency.
class Args {
public:
    Args(int argc, char** argv, const char* program, const char* usage)
        : m_argc(argc)
        , m_argv(argv)
        , m_program(program)
        , m_usage(usage)
    { }

    // Moves to the next option; false at the end. `--help` is answered here so every sample has it.
    bool next()
    {
        ++m_index;
        if (m_index >= m_argc) return false;
        if (current() == "--help" || current() == "-h") {
            std::printf("usage: %s\n", m_usage);
            std::exit(0);
        }
        return true;
    }

    bool is(std::string_view name) const { return current() == name; }

    // Consumes the value that follows the current option; it must be a decimal integer in [min, max].
    std::int64_t integer(std::int64_t min, std::int64_t max)
    {
        const std::string option(current());
        if (m_index + 1 >= m_argc) fail(option + " needs a value");
        ++m_index;
        return parse(option, min, max);
    }

    // The current argument is a bare value, not an option (`dgemm --naive 1024`).
    bool positional() const { return !current().empty() && current()[0] != '-'; }

    // The current argument itself as a decimal integer in [min, max], read as the value of @p option.
    std::int64_t integerHere(const std::string& option, std::int64_t min, std::int64_t max)
    {
        return parse(option, min, max);
    }

    // Consumes the value that follows the current option, as text (the caller checks it).
    std::string text()
    {
        const std::string option(current());
        if (m_index + 1 >= m_argc) fail(option + " needs a value");
        ++m_index;
        return std::string(current());
    }

    [[noreturn]] void unknown() const { fail("unknown argument '" + std::string(current()) + "'"); }

    [[noreturn]] void fail(const std::string& message) const
    {
        std::fprintf(stderr, "%s: %s\nusage: %s\n", m_program, message.c_str(), m_usage);
        std::exit(kUsageExit);
    }

private:
    std::string_view current() const { return m_argv[m_index]; }

    std::int64_t parse(const std::string& option, std::int64_t min, std::int64_t max) const
    {
        const std::string_view text = current();
        std::int64_t value = 0;
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (error != std::errc {} || end != text.data() + text.size() || value < min || value > max) {
            fail("bad value '" + std::string(text) + "' for " + option + " (expected an integer from "
                + std::to_string(min) + " to " + std::to_string(max) + ")");
        }
        return value;
    }

    int m_argc;
    char** m_argv;
    const char* m_program;
    const char* m_usage;
    int m_index = 0;
};

// Totals of what a sample declared for one region name, summed in the order the sample passed the values to
// rooftime_add_work, so the printed totals are those a collector summing the same doubles arrives at. The
// samples also bound their sizes so every total is an integer no larger than 2^53, which makes the sums exact
// in any order (a collector merging threads may add them differently).
class RegionTally {
public:
    explicit RegionTally(std::string name)
        : m_name(std::move(name))
    { }

    void add(double flops, double bytes)
    {
        ++m_count;
        m_flops += flops;
        m_bytes += bytes;
    }
    void addWithoutWork() { ++m_count; }
    void setTotals(std::uint64_t count, double flops, double bytes)
    {
        m_count = count;
        m_flops = flops;
        m_bytes = bytes;
    }

    // The line tests parse and compare with the recorded profile; its format is part of the samples' contract.
    void printExpectation() const
    {
        std::printf("# expect region=%s count=%llu flops=%.17g bytes=%.17g\n", m_name.c_str(),
            static_cast<unsigned long long>(m_count), m_flops, m_bytes);
    }

private:
    std::string m_name;
    std::uint64_t m_count = 0;
    double m_flops = 0.0;
    double m_bytes = 0.0;
};

class Stopwatch {
public:
    double seconds() const { return std::chrono::duration<double>(Clock::now() - m_start).count(); }

private:
    using Clock = std::chrono::steady_clock;
    Clock::time_point m_start = Clock::now();
};

/// A sample's main: runs @p run and turns an escaping exception into one line on stderr and kFailureExit.
inline int guardedMain(const char* program, int (*run)(int, char**), int argc, char** argv)
{
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", program, e.what());
        return kFailureExit;
    }
}

} // namespace rooftime::samples
