# install() rules and a CMake package config, so that another project can
# find_package(p2pd) and link p2pd::p2pd.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(P2PD_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/p2pd)

install(TARGETS p2pd_net p2pd_proto p2pd_core p2pd_node p2pd EXPORT p2pd-targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
# Headers, except each component's detail/ folder: internals (broker state,
# servants, paho's wrapper) that no installed header includes, so that they
# can change without a user's code depending on them (tests/install checks).
foreach(dir net proto messages actors node api rest)
  if(EXISTS ${PROJECT_SOURCE_DIR}/${dir})
    install(DIRECTORY ${PROJECT_SOURCE_DIR}/${dir}/
      DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/p2pd/${dir}
      FILES_MATCHING PATTERN "*.hpp"
      PATTERN "detail" EXCLUDE)
  endif()
endforeach()
install(FILES ${PROJECT_SOURCE_DIR}/p2pd.hpp ${PROJECT_SOURCE_DIR}/pipes.hpp
  ${PROJECT_SOURCE_DIR}/interfaces.hpp ${PROJECT_SOURCE_DIR}/signal.hpp
  ${PROJECT_SOURCE_DIR}/node.hpp
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/p2pd)
# The default server list: configuration, not code (net/server_list.hpp).
install(FILES ${PROJECT_SOURCE_DIR}/config/servers.conf
  DESTINATION ${CMAKE_INSTALL_DATADIR}/p2pd)
# The wire format: the protos (for other languages' generators, which import
# them as "p2pd/proto/...") and the C++ generated from them, beside the codec.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/proto/
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/p2pd/proto
  FILES_MATCHING PATTERN "*.proto")
install(FILES ${P2PD_PROTO_HEADERS}
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/p2pd/proto)
install(EXPORT p2pd-targets NAMESPACE p2pd:: DESTINATION ${P2PD_CMAKE_DIR})

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/p2pdConfig.cmake.in
  ${PROJECT_BINARY_DIR}/p2pdConfig.cmake INSTALL_DESTINATION ${P2PD_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/p2pdConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/p2pdConfig.cmake
  ${PROJECT_BINARY_DIR}/p2pdConfigVersion.cmake
  ${PROJECT_SOURCE_DIR}/cmake/FindCAF.cmake
  ${PROJECT_SOURCE_DIR}/cmake/FindRE2.cmake
  ${PROJECT_SOURCE_DIR}/cmake/FindMiniupnpc.cmake
  DESTINATION ${P2PD_CMAKE_DIR})

# The p2pd program (tools/p2pd) and its man page, when this build has them.
if(TARGET p2pd_cli)
  install(TARGETS p2pd_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
if(TARGET p2pd_man)
  install(FILES ${CMAKE_BINARY_DIR}/tools/p2pd/p2pd.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endif()
# The systemd unit that runs `p2pd node` (packaging/p2pd.service.in). Its
# ExecStart names the program and the server file where this install puts
# them, which is known at
# install time only (the Debian package installs into /usr, a plain
# `cmake --install` into CMAKE_INSTALL_PREFIX or --prefix), so the unit is
# written then, straight to its destination: installs of one build side by
# side (the install tests) share no intermediate file. systemd reads units
# from /usr/lib/systemd/system and /usr/local/lib/systemd/system alike.
option(P2PD_INSTALL_SYSTEMD_UNIT "install the systemd unit of p2pd node" ON)
if(P2PD_INSTALL_SYSTEMD_UNIT)
  install(CODE "
    set(P2PD_UNIT_BINDIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\")
    set(P2PD_UNIT_DATADIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_DATADIR}\")
    set(_p2pd_unit \"\${CMAKE_INSTALL_PREFIX}/lib/systemd/system/p2pd.service\")
    message(STATUS \"Installing: \$ENV{DESTDIR}\${_p2pd_unit}\")
    configure_file(\"${PROJECT_SOURCE_DIR}/packaging/p2pd.service.in\"
                   \"\$ENV{DESTDIR}\${_p2pd_unit}\" @ONLY)
    list(APPEND CMAKE_INSTALL_MANIFEST_FILES \"\${_p2pd_unit}\")")
endif()
