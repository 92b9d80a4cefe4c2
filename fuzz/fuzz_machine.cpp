// SPDX-License-Identifier: MIT
// libFuzzer target: bytes as a machine file and as a GPU measurement. MachineError is the expected answer.
#include "rooftime/analyzer/machine.h"
#include "rooftime/analyzer/roofline.h"

#include <cstdint>
#include <string>

using namespace rooftime::analyzer;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        MachineModel m = parseMachine(text, "fuzz.json");
        markRoofs(m);
        (void)serializeMachine(m);
        (void)formatMachineText(m);
        (void)machineSummary(m);
        (void)Roofs::fromMachine(m, "cpu");
        (void)identityMismatches(m, HardwareIdentity {});
    } catch (const MachineError&) {
    }
    try {
        MachineModel m;
        mergeGpuMeasurement(m, text, "fuzz");
        markRoofs(m);
        (void)formatMachineText(m);
    } catch (const MachineError&) {
    }
    return 0;
}
