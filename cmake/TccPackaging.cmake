# cpack -G DEB (run in the build directory) builds three Debian packages
# from the install components of cmake/TccInstall.cmake:
#   tccd             /usr/bin/tccd, the systemd unit, /etc/tccd/tccd.conf
#                    (a conffile), the tccd system user and /var/lib/tccd
#                    (packaging/deb/tccd/postinst)
#   tccctl           /usr/bin/tccctl
#   libtcc-sdk-dev   the SDK: headers, static libraries, protos, CMake
#                    package config, pkg-config file
# Runtime library dependencies come from dpkg-shlibdeps; the dev package
# names the -dev packages its headers and CMake config need.

# The service's files name absolute paths (/etc, the unit directory): they
# are installed only into the tccd package, never by a plain cmake --install.
install(FILES ${PROJECT_SOURCE_DIR}/packaging/tccd.service
  DESTINATION /lib/systemd/system COMPONENT tccd EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/tccd.conf
  DESTINATION /etc/tccd COMPONENT tccd EXCLUDE_FROM_ALL)

set(CPACK_PACKAGE_NAME tcc-coordinator)
set(CPACK_PACKAGE_VENDOR "tcc-coordinator")
set(CPACK_PACKAGE_CONTACT "tcc-coordinator maintainers <tcc-coordinator@localhost>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Distributed transaction coordinator (TCC and sagas over gRPC)")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/packages)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Absolute destinations (/etc/tccd, /lib/systemd/system) land in the package
# tree, not on this machine.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL tccd tccctl)
if(TARGET tcc_sdk)
  list(APPEND CPACK_COMPONENTS_ALL sdk)
endif()
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)

set(CPACK_DEBIAN_TCCD_PACKAGE_NAME tccd)
set(CPACK_DEBIAN_TCCD_PACKAGE_DEPENDS "adduser")
string(CONCAT CPACK_COMPONENT_TCCD_DESCRIPTION
  "tcc-coordinator daemon\n"
  "Stores every global transaction (TCC or saga) in SQLite or PostgreSQL and drives the "
  "participants over gRPC until each one reaches one outcome. Runs as the tccd system user "
  "(tccd.service); flags in /etc/tccd/tccd.conf, data in /var/lib/tccd.")
set(CPACK_DEBIAN_TCCD_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/packaging/deb/tccd/conffiles
  ${PROJECT_SOURCE_DIR}/packaging/deb/tccd/postinst
  ${PROJECT_SOURCE_DIR}/packaging/deb/tccd/prerm
  ${PROJECT_SOURCE_DIR}/packaging/deb/tccd/postrm)
set(CPACK_DEBIAN_TCCD_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_DEBIAN_TCCCTL_PACKAGE_NAME tccctl)
set(CPACK_DEBIAN_TCCCTL_PACKAGE_SECTION admin)
string(CONCAT CPACK_COMPONENT_TCCCTL_DESCRIPTION
  "tcc-coordinator operator CLI\n"
  "Lists, shows, retries and resolves the global transactions of a tccd.")

# The SDK is static libraries and headers: its dependencies are the -dev
# packages it was built against. Generated protobuf code only compiles with
# the protobuf minor version that generated it.
string(REGEX MATCH "^([0-9]+)\\.([0-9]+)" _tcc_protobuf_minor "${Protobuf_VERSION}")
math(EXPR _tcc_protobuf_next "${CMAKE_MATCH_2} + 1")
set(_tcc_protobuf_next "${CMAKE_MATCH_1}.${_tcc_protobuf_next}")
string(REGEX MATCH "^[0-9]+\\.[0-9]+" _tcc_grpc_minor "${gRPC_VERSION}")
set(CPACK_DEBIAN_SDK_PACKAGE_NAME libtcc-sdk-dev)
set(CPACK_DEBIAN_SDK_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_SDK_PACKAGE_SHLIBDEPS OFF)
set(CPACK_DEBIAN_SDK_PACKAGE_DEPENDS
  "libgrpc++-dev (>= ${_tcc_grpc_minor}), libprotobuf-dev (>= ${_tcc_protobuf_minor}), libprotobuf-dev (<< ${_tcc_protobuf_next}), libabsl-dev, libsqlite3-dev, libspdlog-dev")
set(CPACK_DEBIAN_SDK_PACKAGE_RECOMMENDS "cmake, pkg-config, protobuf-compiler-grpc")
string(CONCAT CPACK_COMPONENT_SDK_DESCRIPTION
  "tcc-coordinator participant SDK (C++)\n"
  "Static libraries and headers for TCC and saga participants and initiators: the barrier on "
  "the service's own SQLite database, the participant server, the initiator client with the "
  "fenced local commit. find_package(TccSdk) gives TccSdk::sdk; pkg-config tcc-sdk. The "
  "protocol's .proto files are in /usr/share/tcc/proto.")

include(CPack)
