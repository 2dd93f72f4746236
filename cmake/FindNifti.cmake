# Debian's NIFTITargets.cmake points at a library path that does not exist, so we locate the nifti2 and znz
# libraries ourselves and wrap them in one INTERFACE target: tumorforge::nifti.
find_path(NIFTI_INCLUDE_DIR nifti2_io.h PATH_SUFFIXES nifti REQUIRED)
find_library(NIFTI2_LIBRARY nifti2 REQUIRED)
find_library(ZNZ_LIBRARY znz REQUIRED)
add_library(tumorforge_nifti INTERFACE)
target_include_directories(tumorforge_nifti SYSTEM INTERFACE ${NIFTI_INCLUDE_DIR})
target_link_libraries(tumorforge_nifti INTERFACE ${NIFTI2_LIBRARY} ${ZNZ_LIBRARY} ZLIB::ZLIB m)
target_compile_definitions(tumorforge_nifti INTERFACE HAVE_ZLIB)
add_library(tumorforge::nifti ALIAS tumorforge_nifti)
