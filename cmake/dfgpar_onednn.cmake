# The native runtime (include/dfgpar/onednn/), an optional component.
# Included by the top-level CMakeLists.txt after cmake/dfgpar_onnx.cmake:
#   include(cmake/dfgpar_onednn.cmake)
#
# When the ONNX adapter (dfgpar::onnx), oneDNN (CMake package dnnl, target
# DNNL::dnnl; Debian: libdnnl-dev) and OpenMP are found, this defines
#   dfgpar_onednn / dfgpar::onednn  INTERFACE: dfgpar::onnx + DNNL::dnnl + OpenMP,
#                                   DFGPAR_HAVE_ONEDNN=1
#   dfgpar_onednn_tests             tests/onednn/*.cpp (own doctest runner), registered with CTest
# and adds `dfgpar run` (tools/dfgpar/run.cpp) to the CLI. Without oneDNN
# nothing is defined and the rest of dfgpar builds as before.
#
# Debian's oneDNN uses the OpenMP runtime (libgomp): each worker of the
# runtime sets its own omp_set_num_threads, so the component links OpenMP too.

option(DFGPAR_ONEDNN "Build the native runtime (oneDNN) when oneDNN and the ONNX adapter are found" ON)

if(NOT DFGPAR_ONEDNN OR NOT TARGET dfgpar_onnx)
  return()
endif()

# Debian's dnnl-config.cmake insists on the OpenCL headers (its GPU runtime)
# even for CPU use, and fails hard without them: find the header and the
# library directly instead.
find_path(DFGPAR_DNNL_INCLUDE_DIR oneapi/dnnl/dnnl.hpp)
find_library(DFGPAR_DNNL_LIBRARY dnnl)
find_package(OpenMP COMPONENTS CXX QUIET)
if(NOT DFGPAR_DNNL_INCLUDE_DIR OR NOT DFGPAR_DNNL_LIBRARY OR NOT OpenMP_CXX_FOUND)
  message(STATUS "dfgpar: native runtime disabled (oneDNN or OpenMP not found; Debian: libdnnl-dev)")
  return()
endif()
file(STRINGS ${DFGPAR_DNNL_INCLUDE_DIR}/oneapi/dnnl/dnnl_version.h dfgpar_dnnl_version REGEX "define DNNL_VERSION_(MAJOR|MINOR) ")
string(REGEX REPLACE ".*MAJOR ([0-9]+).*MINOR ([0-9]+).*" "\\1.\\2" dfgpar_dnnl_version "${dfgpar_dnnl_version}")
if(dfgpar_dnnl_version VERSION_LESS 2.6 OR dfgpar_dnnl_version VERSION_GREATER_EQUAL 3.0)
  message(STATUS "dfgpar: native runtime disabled (it needs oneDNN 2.6 to 2.x, found ${dfgpar_dnnl_version})")
  return()
endif()
message(STATUS "dfgpar: native runtime enabled (oneDNN ${dfgpar_dnnl_version}, ${DFGPAR_DNNL_LIBRARY})")
if(NOT TARGET DNNL::dnnl)
  add_library(DNNL::dnnl UNKNOWN IMPORTED)
  set_target_properties(DNNL::dnnl PROPERTIES IMPORTED_LOCATION ${DFGPAR_DNNL_LIBRARY}
                        INTERFACE_INCLUDE_DIRECTORIES ${DFGPAR_DNNL_INCLUDE_DIR})
endif()

add_library(dfgpar_onednn INTERFACE)
add_library(dfgpar::onednn ALIAS dfgpar_onednn)
target_link_libraries(dfgpar_onednn INTERFACE dfgpar::onnx DNNL::dnnl OpenMP::OpenMP_CXX)
target_compile_definitions(dfgpar_onednn INTERFACE DFGPAR_HAVE_ONEDNN=1)
set_target_properties(dfgpar_onednn PROPERTIES EXPORT_NAME onednn)
if(DFGPAR_INSTALL)
  install(TARGETS dfgpar_onednn EXPORT dfgparOnednnTargets)
  install(EXPORT dfgparOnednnTargets NAMESPACE dfgpar:: DESTINATION ${DFGPAR_INSTALL_CMAKEDIR})
endif()

if(TARGET dfgpar_cli)
  target_sources(dfgpar_cli PRIVATE ${PROJECT_SOURCE_DIR}/tools/dfgpar/run.cpp)
  target_link_libraries(dfgpar_cli PRIVATE dfgpar::onednn)
endif()

if(DFGPAR_BUILD_TESTS)
  file(GLOB dfgpar_onednn_test_sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/onednn/*.cpp)
  list(SORT dfgpar_onednn_test_sources)
  add_executable(dfgpar_onednn_tests ${dfgpar_onednn_test_sources})
  target_include_directories(dfgpar_onednn_tests PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(dfgpar_onednn_tests PRIVATE dfgpar::onednn doctest::doctest)
  if(TARGET dfgpar_warnings)
    target_link_libraries(dfgpar_onednn_tests PRIVATE dfgpar_warnings dfgpar_test_opt)
  endif()
  add_test(NAME dfgpar_onednn_tests COMMAND dfgpar_onednn_tests)
  # the torchvision models of scripts/export_models.py (the model cases are skipped when absent)
  set_tests_properties(dfgpar_onednn_tests PROPERTIES TIMEOUT 900 ENVIRONMENT
    "DFGPAR_MODELS_DIR=${PROJECT_BINARY_DIR}/models;OMP_NUM_THREADS=1")
endif()

# Sanitizer builds of the runtime (DFGPAR_ONEDNN_SANITIZE=ON; scripts/test.sh
# step `native` turns it on and builds only these two targets):
#   dfgpar_onednn_tests_tsan  the reliability tests (tests/onednn/test_reliability.cpp:
#                             small models, 1 and 2 workers x 1 thread, and the
#                             moldable sessions: 3 workers, nodes on 1 and 3
#                             cores, reserved workers asleep) under
#                             ThreadSanitizer. oneDNN and libgomp are not
#                             instrumented; with 1 OpenMP thread per worker
#                             libgomp starts no threads, so what TSan sees is the
#                             executor (its reservations too), the kernel runner
#                             and the plain-C++ kernels. Suppressions:
#                             tests/onednn/tsan.supp (none needed today).
#   dfgpar_run_asan           `dfgpar run` alone (tools/dfgpar/run_only_main.cpp)
#                             under AddressSanitizer + UndefinedBehaviorSanitizer,
#                             for the backend-suite sweep.
option(DFGPAR_ONEDNN_SANITIZE "Build dfgpar_onednn_tests_tsan (TSan) and dfgpar_run_asan (ASan + UBSan)" OFF)
if(DFGPAR_ONEDNN_SANITIZE AND DFGPAR_BUILD_TESTS AND TARGET dfgpar_cli)
  include(CheckCXXSourceCompiles)
  foreach(san thread address,undefined)
    string(MAKE_C_IDENTIFIER "DFGPAR_HAVE_SANITIZER_${san}" have)
    set(CMAKE_REQUIRED_FLAGS -fsanitize=${san})
    set(CMAKE_REQUIRED_LINK_OPTIONS -fsanitize=${san})
    check_cxx_source_compiles("int main() { return 0; }" ${have})
    unset(CMAKE_REQUIRED_FLAGS)
    unset(CMAKE_REQUIRED_LINK_OPTIONS)
    if(NOT ${have})
      message(FATAL_ERROR "dfgpar: DFGPAR_ONEDNN_SANITIZE=ON but ${CMAKE_CXX_COMPILER} cannot build with -fsanitize=${san}")
    endif()
  endforeach()
  add_executable(dfgpar_onednn_tests_tsan ${PROJECT_SOURCE_DIR}/tests/onednn/main.cpp
                                          ${PROJECT_SOURCE_DIR}/tests/onednn/test_reliability.cpp)
  target_include_directories(dfgpar_onednn_tests_tsan PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(dfgpar_onednn_tests_tsan PRIVATE dfgpar::onednn doctest::doctest)
  # -g1: line tables are all a sanitizer report needs, and full -g costs
  # 15% more compile time (run.cpp under ASan: 223 s of CPU against 260 s)
  target_compile_options(dfgpar_onednn_tests_tsan PRIVATE -fsanitize=thread -O1 -g1 -fno-omit-frame-pointer -UNDEBUG)
  target_link_options(dfgpar_onednn_tests_tsan PRIVATE -fsanitize=thread)

  set(dfgpar_cli_dir ${PROJECT_SOURCE_DIR}/tools/dfgpar)
  add_executable(dfgpar_run_asan ${dfgpar_cli_dir}/run_only_main.cpp ${dfgpar_cli_dir}/args.cpp ${dfgpar_cli_dir}/run.cpp)
  target_link_libraries(dfgpar_run_asan PRIVATE dfgpar::onednn)
  target_compile_options(dfgpar_run_asan PRIVATE -fsanitize=address,undefined -fno-sanitize-recover=undefined
                                                 -O1 -g1 -fno-omit-frame-pointer)
  target_link_options(dfgpar_run_asan PRIVATE -fsanitize=address,undefined)
endif()
