# install.cmake - what `cmake --install` and the .deb (packaging/cpack.cmake)
# put on a system, beyond the per-component rules (the programs of the
# manager, devctl and clip, and libhailodm with its header and hailodm.pc,
# are installed by their own CMakeLists.txt).
#
# With CMAKE_INSTALL_PREFIX=/usr (the packages): programs in /usr/bin, units in
# /lib/systemd/system, default configs in /etc/hailo, docs in
# /usr/share/doc/hailo-ai-services.  With another prefix (/usr/local, a test
# directory) everything stays below that prefix.
#
# The units in systemd/ are written for scripts/install.sh, which puts the
# programs in /usr/local/bin; the installed copies are rendered here with the
# real program directory (the same rewrite as scripts/lib/units.sh).
include(GNUInstallDirs)

set(HDM_PACKAGE_NAME hailo-ai-services)

if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(_hdm_unitdir_default /lib/systemd/system)
else()
  set(_hdm_unitdir_default lib/systemd/system)
endif()
set(HDM_SYSTEMD_UNITDIR ${_hdm_unitdir_default} CACHE STRING
    "Where the systemd units are installed (relative: below the prefix)")

# hailo-vision's CMakeLists.txt has no install rule of its own.
if(TARGET hailo-vision)
  install(TARGETS hailo-vision RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT service)
endif()

# Units: ExecStart and the documentation link moved under the prefix.
set(HDM_UNITS hailo-device-manager.socket hailo-device-manager.service
    hailo-clip.service hailo-vision.service)
set(_hdm_unit_out ${CMAKE_BINARY_DIR}/systemd)
file(MAKE_DIRECTORY ${_hdm_unit_out})
foreach(u ${HDM_UNITS})
  set(_src ${CMAKE_SOURCE_DIR}/systemd/${u})
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_src})
  file(READ ${_src} _text)
  string(REPLACE "ExecStart=/usr/local/bin/" "ExecStart=${CMAKE_INSTALL_FULL_BINDIR}/"
         _text "${_text}")
  string(REPLACE "Documentation=file:/usr/share/doc/${HDM_PACKAGE_NAME}/"
         "Documentation=file:${CMAKE_INSTALL_FULL_DOCDIR}/" _text "${_text}")
  file(WRITE ${_hdm_unit_out}/${u} "${_text}")
  install(FILES ${_hdm_unit_out}/${u} DESTINATION ${HDM_SYSTEMD_UNITDIR} COMPONENT service)
endforeach()

# Default configs (conffiles in the package).  0640: a config may carry a
# bearer token; the package's postinst gives them to group hailo.
file(GLOB HDM_DEFAULT_CONFIGS RELATIVE ${CMAKE_SOURCE_DIR}/config ${CMAKE_SOURCE_DIR}/config/*.yaml)
list(SORT HDM_DEFAULT_CONFIGS)
foreach(c ${HDM_DEFAULT_CONFIGS})
  install(FILES ${CMAKE_SOURCE_DIR}/config/${c} DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/hailo
          PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ COMPONENT service)
endforeach()

# Documentation.  CMAKE_INSTALL_DOCDIR is share/doc/<project name>.
foreach(d README.md docs/INSTALL.md docs/RASPBERRY-PI.md docs/PROTOCOL.md)
  if(EXISTS ${CMAKE_SOURCE_DIR}/${d})
    install(FILES ${CMAKE_SOURCE_DIR}/${d} DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT service)
  endif()
endforeach()

include(${CMAKE_SOURCE_DIR}/packaging/cpack.cmake)
