# `cmake --install`: the libraries (static), their headers and a CMake package, so that another
# project can `find_package(tessera)` and link `tessera::tessera_<library>` (examples/consumer,
# tested by install.consumer). Layout under the prefix:
#   include/tessera/<folder>/*.hpp     headers, included as "<folder>/<file>.hpp" as in the tree
#   include/tessera/config.hpp         the generated configuration (included as "tessera/config.hpp")
#   lib/libtessera_*.a, lib/cmake/tessera/{tessera-config,tessera-config-version,tessera-targets}.cmake
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(_tessera_libraries tessera_config tessera_torch tessera_core tessera_linalg tessera_mesh tessera_gnn tessera_physics)
foreach(t tessera_io tessera_train tessera_pinn tessera_spen tessera_gnnpipe tessera_stagger tessera_families
          tessera_solvers tessera_jobs tessera_app)
  if(TARGET ${t})
    list(APPEND _tessera_libraries ${t})
  endif()
endforeach()
install(TARGETS ${_tessera_libraries} EXPORT tesseraTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
foreach(folder core linalg mesh gnn physics io train jobs solvers apps)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${folder} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tessera
          FILES_MATCHING PATTERN "*.hpp" PATTERN "*.cuh")
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
