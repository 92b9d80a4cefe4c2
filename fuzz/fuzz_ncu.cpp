// SPDX-License-Identifier: MIT
// libFuzzer target: bytes as an Nsight Compute CSV file, imported into a profile that is then reported.
// ImportError is the expected answer to a bad file.
#include "rooftime/analyzer/format.h"
#include "rooftime/analyzer/ncu_import.h"
#include "rooftime/analyzer/profile_builder.h"
#include "rooftime/analyzer/report.h"

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

using namespace rooftime::analyzer;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    static const std::string base = "/tmp/rooftime-fuzz-ncu-" + std::to_string(getpid());
    const std::string csv = base + ".csv", out = base + ".rtdb";
    {
        std::ofstream f(csv, std::ios::binary | std::ios::trunc);
        f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    std::remove(out.c_str());
    try {
        importNcu({ csv }, out, { size % 2 ? "sm_90" : "" });
        std::vector<Profile> profiles;
        profiles.push_back(Profile::open(out));
        ReportOptions options;
        options.by = ReportBy::Kernel;
        (void)formatReport(buildReport(profiles, nullptr, options), OutputFormat::Json, {});
    } catch (const ImportError&) {
    }
    std::remove(out.c_str());
    return 0;
}
