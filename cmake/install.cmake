# install.cmake - what `cmake --install` and the .deb (packaging/cpack.cmake)
# put on a system, beyond the per-component rules (the programs of the
# manager and devctl, and libhailodm with its header and hailodm.pc,
# are installed by their own CMakeLists.txt).
#
# With the prefix /usr (the packages): programs in /usr/bin, units in
# /lib/systemd/system, default configs in /etc/hailo, docs in
# /usr/share/doc/hailo-ai-services.  With another prefix (/usr/local, a test
# directory) everything stays below that prefix.  The units get ExecStart
# lines for the prefix of the install (cmake/install-system.cmake).
include(GNUInstallDirs)

set(HDM_PACKAGE_NAME hailo-ai-services)

set(HDM_UNITDIR "" CACHE STRING
    "Where the systemd units go (empty: /lib/systemd/system for the prefix /usr, else PREFIX/lib/systemd/system)")

# Every service program: the ones with a unit in systemd/
# (hailo-<service>.service).
file(GLOB HDM_SERVICE_UNIT_FILES RELATIVE ${CMAKE_SOURCE_DIR}/systemd
     ${CMAKE_SOURCE_DIR}/systemd/hailo-*.service)
foreach(unit ${HDM_SERVICE_UNIT_FILES})
  string(REGEX REPLACE "\\.service$" "" program ${unit})
  if(TARGET ${program} AND NOT program STREQUAL "hailo-device-manager")
    install(TARGETS ${program} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT service)
  endif()
endforeach()

# Units and default configs (conffiles in the package): placed at install
# time by cmake/install-system.cmake, for the prefix of that install.
set(HDM_UNITS hailo-device-manager.socket hailo-device-manager.service
    hailo-clip.service hailo-vision.service)
# Every other service's unit: systemd/hailo-<service>.service.
file(GLOB HDM_SERVICE_UNITS RELATIVE ${CMAKE_SOURCE_DIR}/systemd ${CMAKE_SOURCE_DIR}/systemd/hailo-*.service)
list(SORT HDM_SERVICE_UNITS)
foreach(unit ${HDM_SERVICE_UNITS})
  if(NOT unit IN_LIST HDM_UNITS)
    list(APPEND HDM_UNITS ${unit})
  endif()
endforeach()
file(GLOB HDM_DEFAULT_CONFIGS RELATIVE ${CMAKE_SOURCE_DIR}/config ${CMAKE_SOURCE_DIR}/config/*.yaml)
list(SORT HDM_DEFAULT_CONFIGS)
install(CODE "
  set(HDM_SOURCE_DIR \"${CMAKE_SOURCE_DIR}\")
  set(HDM_STAGE_DIR \"${CMAKE_BINARY_DIR}/systemd\")
  set(HDM_UNITS \"${HDM_UNITS}\")
  set(HDM_CONFIGS \"${HDM_DEFAULT_CONFIGS}\")
  set(HDM_UNITDIR \"${HDM_UNITDIR}\")
  set(HDM_DOCDIR \"${CMAKE_INSTALL_DOCDIR}\")
  include(\"${CMAKE_SOURCE_DIR}/cmake/install-system.cmake\")
  " COMPONENT service)

# The manager's dashboard page (src/manager/www), where the manager looks
# for it: PREFIX/share/hailo-ai-services/dashboard beside PREFIX/bin.
foreach(f ${HDM_DASHBOARD_FILES})
  install(FILES ${CMAKE_SOURCE_DIR}/src/manager/www/${f}
          DESTINATION ${CMAKE_INSTALL_DATADIR}/${HDM_PACKAGE_NAME}/dashboard COMPONENT service)
endforeach()

# Documentation.  CMAKE_INSTALL_DOCDIR is share/doc/<project name>.
foreach(d README.md docs/INSTALL.md docs/RASPBERRY-PI.md docs/PROTOCOL.md)
  if(EXISTS ${CMAKE_SOURCE_DIR}/${d})
    install(FILES ${CMAKE_SOURCE_DIR}/${d} DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT service)
  endif()
endforeach()

include(${CMAKE_SOURCE_DIR}/packaging/cpack.cmake)
