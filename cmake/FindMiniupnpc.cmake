# miniupnpc as Debian 12 ships it (libminiupnpc-dev 2.2.4, API 17):
# pkg-config only, no CMake package config. Defines Miniupnpc::miniupnpc.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(PC_MINIUPNPC QUIET miniupnpc)
endif()
find_path(MINIUPNPC_INCLUDE_DIR miniupnpc/miniupnpc.h HINTS ${PC_MINIUPNPC_INCLUDE_DIRS})
find_library(MINIUPNPC_LIBRARY NAMES miniupnpc HINTS ${PC_MINIUPNPC_LIBRARY_DIRS})
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Miniupnpc REQUIRED_VARS MINIUPNPC_LIBRARY MINIUPNPC_INCLUDE_DIR)
if(Miniupnpc_FOUND AND NOT TARGET Miniupnpc::miniupnpc)
  add_library(Miniupnpc::miniupnpc UNKNOWN IMPORTED)
  set_target_properties(Miniupnpc::miniupnpc PROPERTIES
    IMPORTED_LOCATION ${MINIUPNPC_LIBRARY}
    INTERFACE_INCLUDE_DIRECTORIES ${MINIUPNPC_INCLUDE_DIR})
endif()
mark_as_advanced(MINIUPNPC_INCLUDE_DIR MINIUPNPC_LIBRARY)
