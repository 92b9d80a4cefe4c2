# SPDX-License-Identifier: MIT
# One place for the flags of our own targets: C++20, warnings as errors, hidden visibility, sanitizers.

set(ROOFTIME_CXX_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Werror)
# GCC 12 at -O2/-O3 raises -Wrestrict inside libstdc++ for `"literal" + std::string` (GCC bug 105329, a false
# positive): it stays a warning there, so that a Release build with tests is not failed by the compiler's bug.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    list(APPEND ROOFTIME_CXX_WARNINGS -Wno-error=restrict)
endif()
set(ROOFTIME_C_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Werror)

# rooftime_target_defaults(TARGET [INJECTED]): INJECTED targets never get sanitizers: the collector, since an
# instrumented library cannot be preloaded into an uninstrumented program, and the programs recorded under it
# (samples, test clients), since ASan must come first in a process and the collector is preloaded.
function(rooftime_target_defaults tgt)
    cmake_parse_arguments(ARG "INJECTED" "" "" ${ARGN})
    target_compile_features(${tgt} PRIVATE cxx_std_20)
    set_target_properties(${tgt} PROPERTIES CXX_EXTENSIONS OFF CXX_VISIBILITY_PRESET hidden
                                            C_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
    target_compile_options(${tgt} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:${ROOFTIME_CXX_WARNINGS}>
                                          $<$<COMPILE_LANGUAGE:C>:${ROOFTIME_C_WARNINGS}>)
    if(ROOFTIME_SANITIZE AND NOT ARG_INJECTED)
        target_compile_options(${tgt} PRIVATE -fsanitize=${ROOFTIME_SANITIZE} -fno-omit-frame-pointer
                                              -fno-sanitize-recover=all)
        target_link_options(${tgt} PRIVATE -fsanitize=${ROOFTIME_SANITIZE})
    endif()
endfunction()
