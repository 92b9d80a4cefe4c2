# SPDX-License-Identifier: MIT
# rooftime_enable_cuda(RESULT_VAR WHAT): enables the CUDA language in the calling directory when
# ROOFTIME_CUDA_ROOT has an nvcc that works with this host compiler; sets RESULT_VAR to TRUE or FALSE and says
# why not in a status line naming WHAT. A macro, since enable_language() must run in the directory's own scope.
macro(rooftime_enable_cuda result what)
    set(${result} FALSE)
    set(_rooftime_nvcc "${ROOFTIME_CUDA_ROOT}/bin/nvcc")
    if(NOT EXISTS "${_rooftime_nvcc}")
        message(STATUS "rooftime: no ${_rooftime_nvcc}; not building ${what}")
    else()
        if(NOT DEFINED CMAKE_CUDA_COMPILER)
            # check_language() tries the compiler in a sub-build, so an nvcc that cannot work with this host compiler
            # turns the targets off instead of failing the whole configure in enable_language().
            set(ENV{CUDACXX} "${_rooftime_nvcc}")
            include(CheckLanguage)
            check_language(CUDA)
        endif()
        if(CMAKE_CUDA_COMPILER)
            enable_language(CUDA)
            set(${result} TRUE)
        else()
            message(STATUS "rooftime: ${_rooftime_nvcc} cannot compile for this host; not building ${what}")
        endif()
    endif()
endmacro()
