# `cmake --install`: the libraries (static), their headers and a CMake package, so that another
# project can `find_package(tessera)` and link `tessera::tessera_<library>` (examples/consumer,
# tested by install.consumer). Layout under the prefix:
#   include/tessera/<folder>/*.hpp     headers, included as "<folder>/<file>.hpp" as in the tree
#   include/tessera/config.hpp         the generated configuration (included as "tessera/config.hpp")
#   lib/libtessera_*.a, lib/cmake/tessera/{tessera-config,tessera-config-version,tessera-targets}.cmake
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# Every tessera_* library of the tree, found by walking the folders added so far (tests, benches and
# fuzz targets come after this file): a new family's library is installed without a list to edit
# (a hard-coded one broke the configure step of a family added by docs/design.md's recipe).
function(_tessera_libraries_below dir out)
  set(found "")
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  foreach(t IN LISTS targets)
    get_target_property(type ${t} TYPE)
    if(t MATCHES "^tessera_" AND type MATCHES "^(STATIC_LIBRARY|SHARED_LIBRARY|INTERFACE_LIBRARY)$")
      list(APPEND found ${t})
    endif()
  endforeach()
  get_property(folders DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(folder IN LISTS folders)
    _tessera_libraries_below(${folder} below)
    list(APPEND found ${below})
  endforeach()
  set(${out} ${found} PARENT_SCOPE)
endfunction()
_tessera_libraries_below(${PROJECT_SOURCE_DIR} _tessera_libraries)
install(TARGETS ${_tessera_libraries} EXPORT tesseraTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
# Internal headers stay out: they include VTK or PETSc headers the package does not export
# (io/vtk_grid.hpp, io/foreign_raw.hpp, solvers/navier_stokes_impl.hpp) or are one file's helpers.
foreach(folder core linalg mesh gnn physics io train jobs solvers apps)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${folder} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tessera
          FILES_MATCHING PATTERN "*.hpp" PATTERN "*.cuh"
          PATTERN "*_impl.hpp" EXCLUDE PATTERN "*_detail.hpp" EXCLUDE PATTERN "vtk_grid.hpp" EXCLUDE
          PATTERN "foreign_raw.hpp" EXCLUDE)
endforeach()
install(FILES ${PROJECT_BINARY_DIR}/include/tessera/config.hpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tessera)
install(EXPORT tesseraTargets NAMESPACE tessera:: FILE tessera-targets.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tessera)

# What the config file must find again before the targets can be imported: the packages the
# libraries link (static libraries carry their private dependencies too), with the choices this
# build made.
set(TESSERA_CONFIG_GMSH_LIBRARY "${GMSH_LIBRARY}")
set(TESSERA_CONFIG_GMSH_INCLUDE_DIR "${GMSH_INCLUDE_DIR}")
set(TESSERA_CONFIG_METIS_LIBRARY "${METIS_LIBRARY}")
set(TESSERA_CONFIG_METIS_INCLUDE_DIR "${METIS_INCLUDE_DIR}")
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/tessera-config.cmake.in
                              ${PROJECT_BINARY_DIR}/tessera-config.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tessera)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/tessera-config-version.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/tessera-config.cmake ${PROJECT_BINARY_DIR}/tessera-config-version.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tessera)
