# libtorch from the torch wheel of a Python (scripts/setup: PyPI torch in a venv outside the tree).
# We build the imported target ourselves instead of calling find_package(Torch): the wheel's
# TorchConfig insists on a matching CUDA toolkit whenever torch was built with CUDA, which would
# make a CPU-only machine unable to configure with the standard (CUDA-enabled) wheel.
set(_default_python "$ENV{TESSERA_PYTHON}")
if(NOT _default_python)
  if(DEFINED ENV{TESSERA_VENV})
    set(_default_python "$ENV{TESSERA_VENV}/bin/python")
  elseif(DEFINED ENV{XDG_DATA_HOME})
    set(_default_python "$ENV{XDG_DATA_HOME}/tessera/venv/bin/python")
  else()
    set(_default_python "$ENV{HOME}/.local/share/tessera/venv/bin/python")
  endif()
endif()
set(TESSERA_PYTHON "${_default_python}" CACHE FILEPATH "Python whose torch package provides libtorch")

execute_process(
  COMMAND "${TESSERA_PYTHON}" -W ignore -c
    "import os, torch; print(os.path.dirname(torch.__file__)); print(torch.__version__); print(torch.version.cuda or '')"
  OUTPUT_VARIABLE _torch_info RESULT_VARIABLE _torch_rc ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT _torch_rc EQUAL 0)
  message(FATAL_ERROR "Cannot import torch with TESSERA_PYTHON='${TESSERA_PYTHON}'. "
                      "Run scripts/setup, or set TESSERA_PYTHON to a Python that has torch 2.x.")
endif()
string(REPLACE "\n" ";" _torch_info "${_torch_info}")
list(GET _torch_info 0 TORCH_DIR)
list(GET _torch_info 1 TORCH_VERSION)
list(LENGTH _torch_info _n)
set(TORCH_CUDA_VERSION "")
if(_n GREATER 2)
  list(GET _torch_info 2 TORCH_CUDA_VERSION)
endif()
message(STATUS "tessera: torch ${TORCH_VERSION} (CUDA '${TORCH_CUDA_VERSION}') at ${TORCH_DIR}")

function(_tessera_torch_lib var name)
  find_library(${var} ${name} PATHS ${TORCH_DIR}/lib NO_DEFAULT_PATH REQUIRED)
endfunction()
_tessera_torch_lib(TORCH_LIB torch)
_tessera_torch_lib(TORCH_CPU_LIB torch_cpu)
_tessera_torch_lib(C10_LIB c10)

add_library(tessera_torch INTERFACE)
add_library(tessera::torch ALIAS tessera_torch)
target_include_directories(tessera_torch SYSTEM INTERFACE
  ${TORCH_DIR}/include ${TORCH_DIR}/include/torch/csrc/api/include)
# --no-as-needed keeps libtorch.so (which registers the CUDA backend when present) linked.
# libstdc++ is named ahead of it so that it comes first in the programs' search order: torch
# 2.11's libtorch.so exports a copy of std::filesystem (64 symbols) that would otherwise stand in
# for libstdc++'s, and its remove_all crashed on an existing directory (test_train_cuda on a GPU
# machine whose python3 has torch 2.11; 2.15 exports none).
# Clang (and the clang-based Cray CC and AOCC; not icpx, whose id is IntelLLVM): its -fopenmp emits calls into LLVM's runtime
# (__kmpc_fork_call), which the wheel's libgomp lacks. libomp goes first, so that it also serves
# torch's GOMP_*/omp_* calls and one runtime runs: linked after libgomp, omp_get_thread_num()
# inside at::parallel_for answered from libgomp (0 on every thread), and each thread did the
# whole range (a clang portability review, 2026-12-06; test_gnn "at::parallel_for ...").
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  find_package(OpenMP REQUIRED COMPONENTS CXX)
  target_link_libraries(tessera_torch INTERFACE "-Wl,--no-as-needed" ${OpenMP_omp_LIBRARY} "-Wl,--as-needed")
endif()
target_link_libraries(tessera_torch INTERFACE
  "-Wl,--no-as-needed" stdc++ ${TORCH_LIB} ${TORCH_CPU_LIB} ${C10_LIB} "-Wl,--as-needed")

# at::parallel_for is inline and parallelises with `#pragma omp` (torch's OpenMP backend): code
# compiled without -fopenmp silently runs serially. Link the wheel's own libgomp so only one
# OpenMP runtime is loaded.
target_compile_options(tessera_torch INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-fopenmp>)
if(EXISTS "${TORCH_DIR}/lib/libgomp.so.1")
  target_link_libraries(tessera_torch INTERFACE "${TORCH_DIR}/lib/libgomp.so.1")
else()
  find_package(OpenMP REQUIRED COMPONENTS CXX)
  target_link_libraries(tessera_torch INTERFACE OpenMP::OpenMP_CXX)
endif()

# A CUDA-enabled wheel's libraries depend on the NVIDIA wheels beside it (NCCL, cuDNN, ...).
# The linker must resolve those from the wheels, not from an older system copy (e.g. a CUDA
# toolkit's NCCL in ld.so.conf); at run time torch's own RUNPATH finds them.
file(GLOB _nvidia_lib_dirs LIST_DIRECTORIES true "${TORCH_DIR}/../nvidia/*/lib")
foreach(_d ${_nvidia_lib_dirs})
  target_link_options(tessera_torch INTERFACE "LINKER:-rpath-link,${_d}")
endforeach()

# CUDA: needs nvcc and a CUDA-enabled torch.
set(_cuda_found OFF)
if(NOT TESSERA_WITH_CUDA STREQUAL "OFF" AND TORCH_CUDA_VERSION)
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES 90)  # H100/H200
    endif()
    enable_language(CUDA)
    set(CMAKE_CUDA_STANDARD 17)  # the .cu files include no torch headers; C++17 suffices
    find_package(CUDAToolkit REQUIRED)
    _tessera_torch_lib(TORCH_CUDA_LIB torch_cuda)
    _tessera_torch_lib(C10_CUDA_LIB c10_cuda)
    target_link_libraries(tessera_torch INTERFACE
      "-Wl,--no-as-needed" ${TORCH_CUDA_LIB} ${C10_CUDA_LIB} "-Wl,--as-needed" CUDA::cudart)
    set(_cuda_found ON)
  endif()
endif()
tessera_resolve(CUDA _cuda_found)
