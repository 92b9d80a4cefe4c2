// SPDX-License-Identifier: MIT
// libFuzzer target: the bytes as a machine file and as a GPU measurement merged into a valid model. MachineError
// is the expected answer to a bad input; anything else is a bug.
#include "fuzz_inputs.h"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    (void)rooftime::fuzz::readMachineText(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.json");
    return 0;
}
