# SPDX-License-Identifier: MIT
# cmake -DSAMPLE=PATH -P cuda_sample_no_gpu.cmake: runs one CUDA sample at a tiny size. Without a usable GPU it must
# exit 1 with one "CUDA error" line on stderr (no crash, no hang, nothing half-printed on stdout); with a GPU the
# check does not apply and ROOFTIME_SKIP is printed (tools/device-check.sh runs the samples there).
execute_process(COMMAND "${SAMPLE}" --n 1024 --iters 1 RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err
                TIMEOUT 30)
if(rc EQUAL 0)
    message("ROOFTIME_SKIP: a GPU is present (${SAMPLE} ran); the no-GPU path is not checked here")
    return()
endif()
string(REGEX MATCHALL "CUDA error: [^\n]*\n" lines "${err}")
list(LENGTH lines count)
if(NOT rc EQUAL 1 OR NOT count EQUAL 1 OR NOT out STREQUAL "")
    message(FATAL_ERROR "expected exit 1, one 'CUDA error:' line on stderr and nothing on stdout; got exit '${rc}', "
                        "${count} error lines\nstdout: ${out}\nstderr: ${err}")
endif()
message(STATUS "no GPU: ${err}")
