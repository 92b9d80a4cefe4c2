// SPDX-License-Identifier: MIT
// libFuzzer target: bytes as a profile file, through everything `rooftime report` does with it. A ProfileError
// or MachineError is the expected answer to a bad file; anything else (crash, sanitizer report, other
// exception, hang) is a bug.
#include "rooftime/analyzer/format.h"
#include "rooftime/analyzer/profile.h"
#include "rooftime/analyzer/report.h"

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

using namespace rooftime::analyzer;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    static const std::string path = "/tmp/rooftime-fuzz-" + std::to_string(getpid()) + ".rtdb";
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    std::remove((path + "-wal").c_str());
    std::remove((path + "-shm").c_str());
    try {
        std::vector<Profile> profiles;
        profiles.push_back(Profile::open(path));
        for (ReportBy by : { ReportBy::Range, ReportBy::Kernel, ReportBy::Window }) {
            ReportOptions options;
            options.by = by;
            options.windowSeconds = 1e-3;
            Report report = buildReport(profiles, nullptr, options);
            sortRows(report, SortKey::Lost);
            for (OutputFormat f : { OutputFormat::Text, OutputFormat::Json, OutputFormat::Csv })
                (void)formatReport(report, f, { 0, 120 });
        }
    } catch (const ProfileError&) {
    } catch (const MachineError&) {
    }
    return 0;
}
