# Finds tessera's dependencies and sets TESSERA_HAVE_<X> (and the _01 forms for the config header).
find_package(Eigen3 3.3 REQUIRED NO_MODULE)
include(TesseraTorch)   # libtorch from a Python's torch wheel: target tessera::torch

# MPI
if(NOT TESSERA_WITH_MPI STREQUAL "OFF")
  find_package(MPI COMPONENTS C CXX)
endif()
tessera_resolve(MPI MPI_CXX_FOUND)

# PETSc (pkg-config module of Debian's petsc-dev); needs MPI.
if(NOT TESSERA_WITH_PETSC STREQUAL "OFF" AND TESSERA_HAVE_MPI)
  find_package(PkgConfig)
  if(PkgConfig_FOUND)
    pkg_check_modules(PETSC IMPORTED_TARGET PETSc>=3.18)
  endif()
endif()
tessera_resolve(PETSC PETSC_FOUND)

# HDF5: prefer the parallel build; a parallel HDF5 is used collectively only in MPI builds.
if(NOT TESSERA_WITH_HDF5 STREQUAL "OFF")
  set(HDF5_PREFER_PARALLEL TRUE)
  find_package(HDF5 COMPONENTS C)
endif()
tessera_resolve(HDF5 HDF5_FOUND)
if(TESSERA_HAVE_HDF5 AND HDF5_IS_PARALLEL AND NOT TESSERA_HAVE_MPI)
  message(FATAL_ERROR "The HDF5 found is a parallel (MPI) build but MPI is off: enable MPI or point HDF5_ROOT at a serial HDF5")
endif()
set(TESSERA_HDF5_PARALLEL OFF)
if(TESSERA_HAVE_HDF5 AND HDF5_IS_PARALLEL)
  set(TESSERA_HDF5_PARALLEL ON)
endif()
# zlib, which HDF5 itself needs: CRC-32 fingerprints of dataset trajectories (io/fingerprint.cpp).
if(TESSERA_HAVE_HDF5)
  find_package(ZLIB REQUIRED)
endif()

# VTK XML writers and readers.
if(NOT TESSERA_WITH_VTK STREQUAL "OFF")
  find_package(VTK COMPONENTS CommonCore CommonDataModel CommonExecutionModel IOXML IOParallelXML IOImage
               FiltersCore RenderingCore RenderingFreeType OPTIONAL_COMPONENTS ParallelMPI QUIET)
endif()
tessera_resolve(VTK VTK_FOUND)
if(TESSERA_HAVE_VTK AND TESSERA_HAVE_MPI AND NOT TARGET VTK::ParallelMPI)
  message(FATAL_ERROR "VTK was found without its ParallelMPI module, which MPI builds need for .pvtu output")
endif()

# tessera_find_plain_library(NAME header library): for libraries without a CMake package
# (Gmsh, METIS): an imported target tessera::<lower-case name> and TESSERA_HAVE_<NAME>.
macro(tessera_find_plain_library name header library)
  string(TOLOWER ${name} _lower)
  if(NOT TESSERA_WITH_${name} STREQUAL "OFF")
    find_path(${name}_INCLUDE_DIR ${header})
    find_library(${name}_LIBRARY ${library})
  endif()
  set(_${_lower}_found OFF)
  if(${name}_INCLUDE_DIR AND ${name}_LIBRARY)
    set(_${_lower}_found ON)
    add_library(tessera::${_lower} UNKNOWN IMPORTED)
    set_target_properties(tessera::${_lower} PROPERTIES IMPORTED_LOCATION ${${name}_LIBRARY}
      INTERFACE_INCLUDE_DIRECTORIES ${${name}_INCLUDE_DIR})
  endif()
  tessera_resolve(${name} _${_lower}_found)
endmacro()
tessera_find_plain_library(GMSH gmsh.h gmsh)     # Gmsh C++ API
tessera_find_plain_library(METIS metis.h metis)  # graph partitioning
# libxsmm (JIT small GEMMs, linalg/small_products.hpp): Debian ships static libraries only.
if(NOT TESSERA_WITH_XSMM STREQUAL "OFF")
  find_path(XSMM_INCLUDE_DIR libxsmm.h)
  find_library(XSMM_LIBRARY NAMES libxsmm.a xsmm)
endif()
set(_xsmm_found OFF)
if(XSMM_INCLUDE_DIR AND XSMM_LIBRARY)
  set(_xsmm_found ON)
endif()
tessera_resolve(XSMM _xsmm_found)

# Logging is part of core/ and always required; the deck/CLI stack: io/ and apps/ are built when
# it is present.
find_package(spdlog REQUIRED)
find_package(yaml-cpp QUIET)
find_package(CLI11 QUIET)
set(TESSERA_HAVE_IO OFF)
if(yaml-cpp_FOUND AND CLI11_FOUND)
  set(TESSERA_HAVE_IO ON)
else()
  message(STATUS "tessera: yaml-cpp or CLI11 missing: io/ and apps/ are skipped")
endif()

foreach(c MPI PETSC HDF5 VTK CUDA GMSH METIS XSMM)
  if(TESSERA_HAVE_${c})
    set(TESSERA_HAVE_${c}_01 1)
  else()
    set(TESSERA_HAVE_${c}_01 0)
  endif()
endforeach()
