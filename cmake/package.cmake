# CPack: a Debian package of what cmake/install.cmake installs (the
# libraries, headers and CMake package, the p2pd program and its man page,
# the default server file, the systemd unit), into /usr.
#
#   cpack -G DEB --config <build>/CPackConfig.cmake
#
# cpack does not build: build the installed targets first (p2pd, p2pd_cli,
# p2pd_man); tests/install/run_package.sh checks that and the package.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME p2pd)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "p2pd")
set(CPACK_PACKAGE_CONTACT "p2pd maintainers <p2pd@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "peer-to-peer connectivity: direct, reverse, hole-punched and relayed connections")
# The long description, after the summary line (CPack indents each line and
# writes an empty line as " .").
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
"p2pd connects programs across NATs: pipes (TCP and UDP, TLS), NAT detection,
signalling over MQTT, and P2P nodes whose connections are mutually
authenticated TLS 1.3 between node identities, made directly, by reverse
connect, by TCP or UDP hole punching, or through a TURN relay.

This package holds the p2pd program (p2pd node, netcheck, connect ...), its
man page, a systemd unit for p2pd node (not enabled on install), the default
server file, and the C++ libraries (static), headers and CMake package for
building against p2pd on CAF 0.17.")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Runtime dependencies from the program's shared libraries (dpkg-shlibdeps,
# of dpkg-dev): CAF, OpenSSL, Paho, protobuf, RE2, miniupnpc ... as the
# build machine has them, with their versions. The libraries are static, so
# nothing of p2pd itself needs a search path.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# What building against the headers and static libraries needs (not to run
# the program).
set(CPACK_DEBIAN_PACKAGE_SUGGESTS
  "libcaf-dev, libssl-dev, libpaho-mqttpp-dev, libprotobuf-dev, libre2-dev, libminiupnpc-dev, libsqlite3-dev, libpqxx-dev")
# The unit: systemd learns of it (and forgets it) on install and removal;
# it is not enabled or started: a node on the network is the admin's choice.
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/packaging/debian/postinst
  ${PROJECT_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Package into the build tree; its staging too.
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/package)
include(CPack)
