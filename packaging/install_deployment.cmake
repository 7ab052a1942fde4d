# install_deployment.cmake - run by `cmake --install` (packaging/
# CMakeLists.txt sets the XZ_* variables): writes ETC/xiezhi/*.cfg, the
# default deployment of config/ with installed paths, and the systemd unit.
#
# In the source tree config/ points at ../plugins, ../scripts, ../var and
# /tmp sockets; installed, the same files point at PREFIX/lib/xiezhi/plugins,
# PREFIX/share/xiezhi/scripts, the state folder and the socket folder. Any
# path left relative (a "../" that no rule below knows) or in /tmp stops the
# install with an error, so config/ cannot drift away from this script
# unnoticed.
#
# An edited deployment is never overwritten: when ETC/xiezhi/FILE exists and
# differs from the new default, the new default goes to FILE.new.

string(REGEX REPLACE "(.)/+$" "\\1" prefix "${CMAKE_INSTALL_PREFIX}")
if(prefix STREQUAL "/usr")
  set(etc /etc/xiezhi)
else()
  set(etc ${prefix}/etc/xiezhi)
endif()
if(prefix MATCHES "^/usr(/local)?$")
  set(state /var/lib/xiezhi)
  set(run /run/xiezhi)
  set(logs /var/log/xiezhi)
else()
  set(state ${prefix}/var/lib/xiezhi)
  set(run ${prefix}/var/run/xiezhi)
  set(logs ${prefix}/var/log/xiezhi)
endif()
foreach(v STATE RUN LOG)
  if(XZ_${v}_DIR)
    string(TOLOWER ${v} name)
    if(name STREQUAL "log")
      set(name logs)
    endif()
    set(${name} "${XZ_${v}_DIR}")
  endif()
endforeach()
set(plugins ${prefix}/${XZ_PLUGIN_SUBDIR})
set(scripts ${prefix}/${XZ_DATADIR}/xiezhi/scripts)

# Write text to the absolute path dest (under DESTDIR), keeping an edited
# file, and record it in install_manifest.txt.
function(xz_install_text dest text)
  set(out "$ENV{DESTDIR}${dest}")
  if(EXISTS "${out}")
    file(READ "${out}" old)
    if(old STREQUAL text)
      message(STATUS "Up-to-date: ${out}")
      return()
    endif()
    if(dest MATCHES "^${etc}/")
      message(STATUS "Keeping the edited ${out}; the new default is ${out}.new")
      set(dest "${dest}.new")
      set(out "${out}.new")
    endif()
  endif()
  message(STATUS "Installing: ${out}")
  file(WRITE "${out}" "${text}")
  list(APPEND CMAKE_INSTALL_MANIFEST_FILES "${out}")
  set(CMAKE_INSTALL_MANIFEST_FILES "${CMAKE_INSTALL_MANIFEST_FILES}" PARENT_SCOPE)
endfunction()

file(GLOB cfgs RELATIVE "${XZ_SRC}/config" "${XZ_SRC}/config/*.cfg")
# xiezhi-test.cfg turns on the test clock (anyone may move it): a
# repository-only deployment for the docs' walk-throughs, never installed.
list(REMOVE_ITEM cfgs "xiezhi-test.cfg")
# The two nodes of docs/nats.md's walk-through (their own data folders and
# a nats-server in /tmp): repository-only too.
list(REMOVE_ITEM cfgs "nats-bridge.cfg" "nats-bridge-bureau.cfg")
foreach(f ${cfgs})
  file(READ "${XZ_SRC}/config/${f}" text)
  # Mark what is known first, then look for what is left, then fill in.
  string(REPLACE "\"../plugins/" "\"<xz:P>/" text "${text}")
  string(REPLACE "\"../scripts/" "\"<xz:S>/" text "${text}")
  string(REPLACE "ipc:///tmp/" "ipc://<xz:R>/" text "${text}")
  string(REGEX REPLACE "(data_dir *= *)\"[^\"]*\"" "\\1\"<xz:D>\""
    text "${text}")
  string(REPLACE "\"/var/log/xiezhi/" "\"<xz:L>/" text "${text}")
  string(REPLACE "config/xiezhi.cfg" "<xz:E>/xiezhi.cfg" text "${text}")
  string(REGEX MATCH "\"\\.\\./[^\"]*\"|/tmp/[^ \"]*" left "${text}")
  if(left)
    message(FATAL_ERROR "config/${f}: ${left} has no installed "
      "equivalent; teach packaging/install_deployment.cmake about it")
  endif()
  foreach(pair "P;${plugins}" "S;${scripts}" "R;${run}" "D;${state}"
      "L;${logs}" "E;${etc}")
    list(GET pair 0 mark)
    list(GET pair 1 path)
    string(REPLACE "<xz:${mark}>" "${path}" text "${text}")
  endforeach()
  if(f STREQUAL "xiezhi.cfg")
    set(text "# Installed from config/ of xiezhi ${XZ_VERSION}:
#   plugins  ${plugins}
#   scripts  ${scripts}
#   data     ${state}
#   sockets  ${run}
${text}")
  endif()
  xz_install_text("${etc}/${f}" "${text}")
endforeach()

# The unit. systemd creates /var/lib/xiezhi, /run/xiezhi and
# /var/log/xiezhi for the service (owned by its dynamic user); any other
# folder must merely be writable under ProtectSystem=strict.
set(XZ_BIN ${prefix}/${XZ_BINDIR}/xiezhi)
set(XZ_ETC ${etc})
set(XZ_DOC ${prefix}/${XZ_DOCDIR})
set(XZ_UNIT_DIRS "")
foreach(pair "state;/var/lib/xiezhi;StateDirectory" "run;/run/xiezhi;RuntimeDirectory"
    "logs;/var/log/xiezhi;LogsDirectory")
  list(GET pair 0 var)
  list(GET pair 1 std)
  list(GET pair 2 key)
  if("${${var}}" STREQUAL "${std}")
    string(APPEND XZ_UNIT_DIRS "${key}=xiezhi\n")
  else()
    string(APPEND XZ_UNIT_DIRS "ReadWritePaths=-${${var}}\n")
  endif()
endforeach()
file(READ "${CMAKE_CURRENT_LIST_DIR}/xiezhi.service.in" unit)
string(CONFIGURE "${unit}" unit @ONLY)
xz_install_text("${prefix}/lib/systemd/system/xiezhi.service" "${unit}")
