# What `cmake --install` puts where (GNUInstallDirs), in three components
# that are also the Debian packages (cmake/TccPackaging.cmake):
#   tccd    bin/tccd
#   tccctl  bin/tccctl
#   sdk     the participant SDK for C++ services: static libraries, public
#           headers (tcc/sdk, tcc/common, the generated tcc/v1), the .proto
#           files under share/tcc/proto, a CMake package config
#           (find_package(TccSdk) -> TccSdk::sdk) and tcc-sdk.pc.
# The systemd unit and /etc/tccd are the tccd package's alone (see
# TccPackaging.cmake): they name absolute paths that only the package owns.
include(CMakePackageConfigHelpers)

# Installing (and cpack, which runs the preinstall target first) takes what
# is built and never starts a build of everything: build first
# (tools/build.sh). The packaging tests run cpack beside other builds.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(TCC_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/TccSdk)
set(TCC_INSTALL_PROTODIR ${CMAKE_INSTALL_DATADIR}/tcc/proto)

install(TARGETS tccd RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT tccd)
install(TARGETS tccctl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT tccctl)

if(TARGET tcc_sdk)
  # The SDK is static: its private dependencies (the SQLite status mapping,
  # SQLite, spdlog, the metrics registry, the locks, the server stop) are part of what a user
  # links, so they are exported too.
  set(_tcc_sdk_targets tcc_sdk tcc_proto tcc_common tcc_mutex tcc_tls tcc_sqlite_status
    tcc_metrics tcc_server_stop)
  foreach(target ${_tcc_sdk_targets})
    string(REGEX REPLACE "^tcc_" "" export_name ${target})
    set_target_properties(${target} PROPERTIES EXPORT_NAME ${export_name})
  endforeach()
  install(TARGETS ${_tcc_sdk_targets} EXPORT TccSdkTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT sdk
    INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/participant-sdk/include/tcc
    ${PROJECT_SOURCE_DIR}/common/include/tcc
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT sdk FILES_MATCHING PATTERN "*.h")
  install(DIRECTORY ${PROJECT_BINARY_DIR}/proto/gen/tcc DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT sdk
    FILES_MATCHING PATTERN "*.pb.h")
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/proto/tcc DESTINATION ${TCC_INSTALL_PROTODIR}
    COMPONENT sdk FILES_MATCHING PATTERN "*.proto")

  install(EXPORT TccSdkTargets NAMESPACE TccSdk:: DESTINATION ${TCC_INSTALL_CMAKEDIR}
    COMPONENT sdk)
  configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/TccSdkConfig.cmake.in
    ${CMAKE_CURRENT_BINARY_DIR}/TccSdkConfig.cmake
    INSTALL_DESTINATION ${TCC_INSTALL_CMAKEDIR}
    PATH_VARS TCC_INSTALL_PROTODIR CMAKE_INSTALL_INCLUDEDIR)
  # 0.x: a new minor version may change the API.
  write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/TccSdkConfigVersion.cmake
    COMPATIBILITY SameMinorVersion)
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/TccSdkConfig.cmake
    ${CMAKE_CURRENT_BINARY_DIR}/TccSdkConfigVersion.cmake
    DESTINATION ${TCC_INSTALL_CMAKEDIR} COMPONENT sdk)

  # pkg-config: ${pcfiledir}-relative, so any --prefix or DESTDIR works.
  file(RELATIVE_PATH TCC_PC_TO_PREFIX /p/${CMAKE_INSTALL_LIBDIR}/pkgconfig /p)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/tcc-sdk.pc.in ${CMAKE_CURRENT_BINARY_DIR}/tcc-sdk.pc
    @ONLY)
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/tcc-sdk.pc
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT sdk)
endif()
