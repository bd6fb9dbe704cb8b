# cpack.cmake - the .deb of hailo-ai-services (CPack's DEB generator), made
# by `make deb` through packaging/build-deb.sh for amd64 and arm64.
#
# One package holds the programs, libhailodm (library, header,
# hailodm.pc), the systemd units, the default configs in /etc/hailo
# (conffiles: dpkg never overwrites an edited one, it asks or keeps it) and
# the docs.  The maintainer scripts next to this file create the users,
# groups and model directory that scripts/install.sh creates, and enable the
# socket unit.  Included from cmake/install.cmake.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ${HDM_PACKAGE_NAME})
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "AI services sharing one Hailo-10H NPU through a device manager")
set(CPACK_PACKAGE_DESCRIPTION
"hailo-device-manager is the one process that owns the Hailo NPU; the
services are thin clients of it over a Unix socket: hailo-clip (CLIP
zero-shot classification and embeddings over HTTP), hailo-vision (an
OpenAI-compatible vision chat API), hailo-ocr (text detection and
recognition), hailo-depth (monocular depth maps) and hailo-llm (LLM chat
through the Ollama and OpenAI APIs, beside every other service).
hailo-devctl inspects and drives the
manager.  Also contains libhailodm, the C client library of the manager.
Without a Hailo device the manager runs on a simulated Hailo-10H.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL OFF)

# The maintainer: configurable; by default the author of the source tree's
# last commit (the project has no other address).
if(NOT HDM_DEB_MAINTAINER)
  execute_process(COMMAND git -C ${CMAKE_SOURCE_DIR} log -1 --format=%an\ <%ae>
                  OUTPUT_VARIABLE _hdm_author OUTPUT_STRIP_TRAILING_WHITESPACE
                  ERROR_QUIET RESULT_VARIABLE _hdm_git_rc)
  if(NOT _hdm_git_rc EQUAL 0 OR NOT _hdm_author MATCHES "^[^<]+ <[^>]+@[^>]+>$")
    set(_hdm_author "hailo-ai-services contributors <hailo-ai-services@users.noreply.github.com>")
  endif()
  set(HDM_DEB_MAINTAINER "${_hdm_author}" CACHE STRING "Maintainer field of the .deb")
endif()
set(CPACK_PACKAGE_CONTACT "${HDM_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${HDM_DEB_MAINTAINER}")

# Debian architecture: the cross toolchain's target, else dpkg's own.
if(CMAKE_CROSSCOMPILING AND CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
  set(HDM_DEB_ARCH arm64)
else()
  execute_process(COMMAND dpkg --print-architecture OUTPUT_VARIABLE HDM_DEB_ARCH
                  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
endif()
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${HDM_DEB_ARCH})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)          # hailo-ai-services_0.1.0_arm64.deb
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Library dependencies come from dpkg-shlibdeps; libmicrohttpd is dlopen()ed
# by the manager (src/manager/http.c), so it is named here.  useradd and
# friends are in passwd; deb-systemd-helper in init-system-helpers.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libmicrohttpd12, passwd, init-system-helpers (>= 1.52)")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "hailo-h10-all")
# shlibs file and the ldconfig trigger for libhailodm.so.0.
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")

# Control files: the maintainer scripts and the conffiles list.
set(_hdm_pkg ${CMAKE_BINARY_DIR}/packaging)
file(MAKE_DIRECTORY ${_hdm_pkg})
set(_hdm_conffiles "")
foreach(c ${HDM_DEFAULT_CONFIGS})
  string(APPEND _hdm_conffiles "/etc/hailo/${c}\n")
endforeach()
file(WRITE ${_hdm_pkg}/conffiles "${_hdm_conffiles}")
# The maintainer scripts loop over the services: hailo-<name>.service in
# systemd/, the manager's aside.
file(GLOB _hdm_units CONFIGURE_DEPENDS RELATIVE ${CMAKE_SOURCE_DIR}/systemd ${CMAKE_SOURCE_DIR}/systemd/hailo-*.service)
list(SORT _hdm_units)
set(HDM_SERVICE_NAMES "")
foreach(u ${_hdm_units})
  string(REGEX REPLACE "^hailo-(.*)\\.service$" "\\1" _name ${u})
  if(NOT _name STREQUAL "device-manager")
    string(APPEND HDM_SERVICE_NAMES " ${_name}")
  endif()
endforeach()
string(STRIP "${HDM_SERVICE_NAMES}" HDM_SERVICE_NAMES)
foreach(f postinst prerm postrm)
  configure_file(${CMAKE_SOURCE_DIR}/packaging/${f}.in ${_hdm_pkg}/${f} @ONLY
                 FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                 WORLD_READ WORLD_EXECUTE)
endforeach()
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${_hdm_pkg}/postinst
    ${_hdm_pkg}/prerm
    ${_hdm_pkg}/postrm
    ${CMAKE_SOURCE_DIR}/packaging/triggers
    ${_hdm_pkg}/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)

# Debian wants /usr/share/doc/<package>/copyright and a gzip -9n changelog.
configure_file(${CMAKE_SOURCE_DIR}/packaging/changelog.in ${_hdm_pkg}/changelog @ONLY)
execute_process(COMMAND gzip -9nc ${_hdm_pkg}/changelog OUTPUT_FILE ${_hdm_pkg}/changelog.gz
                RESULT_VARIABLE _hdm_gz_rc)
if(NOT _hdm_gz_rc EQUAL 0)
  message(FATAL_ERROR "gzip of packaging/changelog failed")
endif()
# copyright in the machine-readable format, the text taken from LICENSE.
file(STRINGS ${CMAKE_SOURCE_DIR}/LICENSE _hdm_license)
set(_hdm_copyright "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: ${HDM_PACKAGE_NAME}

Files: *
Copyright: 2026 hailo-ai-services contributors
License: Expat
")
foreach(line IN LISTS _hdm_license)
  if(line STREQUAL "")
    string(APPEND _hdm_copyright " .\n")
  else()
    string(APPEND _hdm_copyright " ${line}\n")
  endif()
endforeach()
file(WRITE ${_hdm_pkg}/copyright "${_hdm_copyright}")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/LICENSE
             ${CMAKE_SOURCE_DIR}/packaging/changelog.in)
install(FILES ${_hdm_pkg}/copyright ${_hdm_pkg}/changelog.gz
        DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT service)

include(CPack)
