// SPDX-License-Identifier: MIT
// libFuzzer target: the bytes as an `ncu --csv` file, imported into a profile (with --arch sm_90 for odd sizes,
// so that files without a CC column get past it) whose kernel report is then printed. ImportError is the
// expected answer to a bad file; anything else, an imported profile that does not open included, is a bug.
#include "fuzz_inputs.h"

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    static const std::string base = "/tmp/rooftime-fuzz-ncu-" + std::to_string(getpid());
    const std::string csv = base + ".csv";
    {
        std::ofstream f(csv, std::ios::binary | std::ios::trunc);
        f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    const std::string out = base + ".rtdb";
    std::remove(out.c_str()); // importNcu refuses an existing output: a stale one would refuse every input
    (void)rooftime::fuzz::importNcuCsv(csv, out, size % 2 ? "sm_90" : "");
    return 0;
}
