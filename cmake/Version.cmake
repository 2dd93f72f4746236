# Generates version.h with the project version and the git commit, refreshed on every build (not only at
# configure time) so provenance records never name a stale commit.
set(TUMORFORGE_VERSION_IN ${CMAKE_CURRENT_LIST_DIR}/version.h.in)
set(TUMORFORGE_VERSION_OUT ${CMAKE_BINARY_DIR}/generated/tumorforge/version.h)
add_custom_target(tumorforge_version_header
  COMMAND ${CMAKE_COMMAND} -DSRC=${CMAKE_SOURCE_DIR} -DIN=${TUMORFORGE_VERSION_IN} -DOUT=${TUMORFORGE_VERSION_OUT}
          -DVERSION=${PROJECT_VERSION} -P ${CMAKE_CURRENT_LIST_DIR}/WriteVersion.cmake
  BYPRODUCTS ${TUMORFORGE_VERSION_OUT}
  COMMENT "Stamping git commit into version.h")
add_library(tumorforge_version INTERFACE)
target_include_directories(tumorforge_version INTERFACE ${CMAKE_BINARY_DIR}/generated)
add_dependencies(tumorforge_version tumorforge_version_header)
