# FindHailoRT.cmake - finds HailoRT (libhailort and its headers).
#
# HailoRT's own install (the hailort / hailo-h10-all packages on Raspberry
# Pi OS, or `cmake --install` of hailo-ai/hailort) ships HailoRTConfig.cmake
# with the imported target HailoRT::libhailort; that is tried first.  For
# installs without it (a copied library and headers), the header and the
# library are searched, in HAILORT_ROOT first, and the version is read from
# the library's file name (libhailort.so.5.2.0).
#
# Result: HailoRT_FOUND, HailoRT_VERSION, the target HailoRT::libhailort.
# Hints: HAILORT_ROOT (install prefix), HAILORT_INCLUDE (include dir).

find_package(HailoRT ${HailoRT_FIND_VERSION} CONFIG QUIET)
if(HailoRT_FOUND AND TARGET HailoRT::libhailort)
  include(FindPackageHandleStandardArgs)
  find_package_handle_standard_args(HailoRT CONFIG_MODE)
  return()
endif()

find_path(HAILORT_INCLUDE_DIR hailo/hailort.h
  HINTS ${HAILORT_INCLUDE} ${HAILORT_ROOT}/include)
find_library(HAILORT_LIBRARY NAMES hailort
  HINTS ${HAILORT_ROOT}/lib)

set(HailoRT_VERSION "")
if(HAILORT_LIBRARY)
  # The versioned file the .so link points at names the release.
  get_filename_component(_hailort_real "${HAILORT_LIBRARY}" REALPATH)
  if(_hailort_real MATCHES "libhailort\\.so\\.([0-9]+\\.[0-9]+\\.[0-9]+)$")
    set(HailoRT_VERSION "${CMAKE_MATCH_1}")
  endif()
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(HailoRT
  REQUIRED_VARS HAILORT_LIBRARY HAILORT_INCLUDE_DIR
  VERSION_VAR HailoRT_VERSION)

if(HailoRT_FOUND AND NOT TARGET HailoRT::libhailort)
  add_library(HailoRT::libhailort SHARED IMPORTED)
  set_target_properties(HailoRT::libhailort PROPERTIES
    IMPORTED_LOCATION "${HAILORT_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${HAILORT_INCLUDE_DIR}")
endif()
mark_as_advanced(HAILORT_INCLUDE_DIR HAILORT_LIBRARY)
