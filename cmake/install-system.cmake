# install-system.cmake - run by `cmake --install` (and CPack) at install
# time, from cmake/install.cmake: the systemd units and the default configs,
# placed by the prefix of THIS install, not the one the build was configured
# with (CPack installs with the prefix /usr whatever the build had):
#   prefix /usr: units in /lib/systemd/system, configs in /etc/hailo;
#   any other prefix P: P/lib/systemd/system and P/etc/hailo.
# The units in systemd/ are written for scripts/install.sh (programs in
# /usr/local/bin); ExecStart and the documentation link are moved under the
# prefix here, the same rewrite as scripts/lib/units.sh.
# Inputs (set by install.cmake): HDM_SOURCE_DIR, HDM_STAGE_DIR, HDM_UNITS,
# HDM_CONFIGS, HDM_UNITDIR (empty: as above; relative: below the prefix),
# HDM_DOCDIR.
set(_prefix "${CMAKE_INSTALL_PREFIX}")
string(REGEX REPLACE "/+$" "" _prefix "${_prefix}")
if(_prefix STREQUAL "/usr")
  set(_unitdir /lib/systemd/system)
  set(_confdir /etc/hailo)
else()
  set(_unitdir "${_prefix}/lib/systemd/system")
  set(_confdir "${_prefix}/etc/hailo")
endif()
if(HDM_UNITDIR)
  set(_unitdir "${HDM_UNITDIR}")
  if(NOT IS_ABSOLUTE "${_unitdir}")
    set(_unitdir "${_prefix}/${_unitdir}")
  endif()
endif()

file(MAKE_DIRECTORY "${HDM_STAGE_DIR}")
set(_rendered "")
foreach(u ${HDM_UNITS})
  file(READ "${HDM_SOURCE_DIR}/systemd/${u}" _text)
  string(REPLACE "ExecStart=/usr/local/bin/" "ExecStart=${_prefix}/bin/" _text "${_text}")
  string(REPLACE "Documentation=file:/usr/share/doc/hailo-ai-services/"
         "Documentation=file:${_prefix}/${HDM_DOCDIR}/" _text "${_text}")
  file(WRITE "${HDM_STAGE_DIR}/${u}" "${_text}")
  list(APPEND _rendered "${HDM_STAGE_DIR}/${u}")
endforeach()
# file(INSTALL) puts $DESTDIR in front, as the generated install rules do.
file(INSTALL DESTINATION "${_unitdir}" TYPE FILE FILES ${_rendered}
     PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

# 0640: a config may carry a bearer token; the package's postinst gives them
# to group hailo.
set(_configs "")
foreach(c ${HDM_CONFIGS})
  list(APPEND _configs "${HDM_SOURCE_DIR}/config/${c}")
endforeach()
file(INSTALL DESTINATION "${_confdir}" TYPE FILE FILES ${_configs}
     PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
