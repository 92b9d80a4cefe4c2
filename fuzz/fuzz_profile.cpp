// SPDX-License-Identifier: MIT
// libFuzzer target: the bytes as a profile file, through everything `rooftime report` does with it. A ProfileError
// or MachineError is the expected answer to a bad file; anything else (crash, sanitizer report, other exception,
// a run over -timeout) is a bug.
#include "fuzz_inputs.h"

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    static const std::string path = "/tmp/rooftime-fuzz-" + std::to_string(getpid()) + ".rtdb";
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    // A journal left by an earlier input would be replayed into this one.
    std::remove((path + "-wal").c_str());
    std::remove((path + "-shm").c_str());
    std::remove((path + "-journal").c_str());
    (void)rooftime::fuzz::reportProfile(path);
    return 0;
}
