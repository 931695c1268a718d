# The ONNX adapter (include/dfgpar/onnx/), an optional component.
# Included by the top-level CMakeLists.txt after the dfgpar target exists:
#   include(cmake/dfgpar_onnx.cmake)
#
# When the ONNX library (CMake package ONNX, targets onnx + onnx_proto; Debian:
# libonnx-dev) and protobuf are found, this defines
#   dfgpar_onnx / dfgpar::onnx   INTERFACE: dfgpar + onnx + onnx_proto + protobuf,
#                                ONNX_ML=1 ONNX_NAMESPACE=onnx; installed as the
#                                package component `onnx` (dfgparOnnxTargets.cmake:
#                                find_package(dfgpar COMPONENTS onnx) -> dfgpar::onnx)
#   dfgpar_onnx_tests            tests/onnx/*.cpp + tests/pytorch/**/*.cpp (own doctest runner), registered with CTest
#   fuzz_loader, fuzz_json       libFuzzer harnesses (fuzz/), only with Clang or DFGPAR_FUZZ=ON
# Without ONNX nothing is defined and the rest of dfgpar builds as before.
#
# The fuzz harnesses are normally built and run outside CMake by fuzz/run.sh,
# which calls clang++ directly (that is what .ci/run uses):
#   fuzz/run.sh replay          # every seed once under ASan + UBSan (about 30 s after the build)
#   fuzz/run.sh fuzz 600        # fuzz the loader for 10 minutes

option(DFGPAR_ONNX "Build the ONNX adapter's tests when the ONNX library is found" ON)
option(DFGPAR_FUZZ "Build the libFuzzer harnesses of the ONNX adapter (needs Clang with libFuzzer)" OFF)

if(NOT DFGPAR_ONNX)
  return()
endif()

find_package(ONNX CONFIG QUIET)
find_package(Protobuf QUIET)
if(NOT TARGET onnx OR NOT TARGET onnx_proto OR NOT Protobuf_FOUND)
  message(STATUS "dfgpar: ONNX adapter disabled (ONNX or protobuf not found; Debian: libonnx-dev libprotobuf-dev)")
  return()
endif()
message(STATUS "dfgpar: ONNX adapter enabled (ONNX ${ONNX_VERSION}, protobuf ${Protobuf_VERSION})")

add_library(dfgpar_onnx INTERFACE)
add_library(dfgpar::onnx ALIAS dfgpar_onnx)
if(TARGET protobuf::libprotobuf)
  set(dfgpar_protobuf_lib protobuf::libprotobuf)
else()
  set(dfgpar_protobuf_lib ${Protobuf_LIBRARIES})
endif()
target_link_libraries(dfgpar_onnx INTERFACE dfgpar::dfgpar onnx onnx_proto ${dfgpar_protobuf_lib})
target_compile_definitions(dfgpar_onnx INTERFACE ONNX_ML=1 ONNX_NAMESPACE=onnx)
set_target_properties(dfgpar_onnx PROPERTIES EXPORT_NAME onnx)
if(DFGPAR_INSTALL)
  # The headers are installed with the core's; the consumer's dfgparConfig.cmake
  # finds ONNX and protobuf again before it includes this file.
  install(TARGETS dfgpar_onnx EXPORT dfgparOnnxTargets)
  install(EXPORT dfgparOnnxTargets NAMESPACE dfgpar:: DESTINATION ${DFGPAR_INSTALL_CMAKEDIR})
endif()

if(DFGPAR_BUILD_TESTS)
  if(NOT TARGET doctest::doctest)
    find_path(DFGPAR_DOCTEST_INCLUDE_DIR doctest/doctest.h REQUIRED)
    add_library(doctest::doctest INTERFACE IMPORTED)
    target_include_directories(doctest::doctest INTERFACE ${DFGPAR_DOCTEST_INCLUDE_DIR})
  endif()
  file(GLOB dfgpar_onnx_test_sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/onnx/*.cpp)
  list(SORT dfgpar_onnx_test_sources)
  file(GLOB_RECURSE dfgpar_pytorch_test_sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/pytorch/*.cpp)
  list(SORT dfgpar_pytorch_test_sources)
  add_executable(dfgpar_onnx_tests ${dfgpar_onnx_test_sources} ${dfgpar_pytorch_test_sources})
  target_include_directories(dfgpar_onnx_tests PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(dfgpar_onnx_tests PRIVATE dfgpar::onnx doctest::doctest)
  if(TARGET dfgpar_warnings)
    target_link_libraries(dfgpar_onnx_tests PRIVATE dfgpar_warnings dfgpar_test_opt)
  endif()
  add_test(NAME dfgpar_onnx_tests COMMAND dfgpar_onnx_tests)
  # the torchvision models exported by scripts/export_models.py (skipped when absent);
  # the optimised ones are kept for tests/onnx/compare_ort.sh
  set_tests_properties(dfgpar_onnx_tests PROPERTIES TIMEOUT 600 ENVIRONMENT
    "DFGPAR_MODELS_DIR=${PROJECT_BINARY_DIR}/models;DFGPAR_OPTIMIZED_DIR=${PROJECT_BINARY_DIR}/models/optimized")
endif()

if(DFGPAR_FUZZ OR CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  include(CheckCXXSourceCompiles)
  set(CMAKE_REQUIRED_FLAGS "-fsanitize=fuzzer")
  set(CMAKE_REQUIRED_LINK_OPTIONS "-fsanitize=fuzzer")
  check_cxx_source_compiles(
    "#include <cstdint>\n#include <cstddef>\nextern \"C\" int LLVMFuzzerTestOneInput(const std::uint8_t*, std::size_t) { return 0; }"
    DFGPAR_HAVE_LIBFUZZER)
  unset(CMAKE_REQUIRED_FLAGS)
  unset(CMAKE_REQUIRED_LINK_OPTIONS)
  if(DFGPAR_HAVE_LIBFUZZER)
    foreach(h loader json)
      add_executable(fuzz_${h} ${PROJECT_SOURCE_DIR}/fuzz/fuzz_${h}.cpp)
      target_link_libraries(fuzz_${h} PRIVATE dfgpar::onnx)
      target_compile_options(fuzz_${h} PRIVATE -O1 -g -fno-omit-frame-pointer
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-sanitize=vptr)
      target_link_options(fuzz_${h} PRIVATE -fsanitize=fuzzer,address,undefined)
    endforeach()
  elseif(DFGPAR_FUZZ)
    message(FATAL_ERROR "dfgpar: DFGPAR_FUZZ=ON but ${CMAKE_CXX_COMPILER} cannot link -fsanitize=fuzzer "
                        "(use clang++ with libclang-rt-<ver>-dev, or fuzz/run.sh)")
  endif()
endif()

# ---------------------------------------------------------------- CLI
# `dfgpar analyze MODEL.onnx --workers P ...` (tools/dfgpar/). The target is
# dfgpar_cli because `dfgpar` is the header-only library; the program is
# still called dfgpar. tests/cli/test_cli.sh checks it against the models of
# scripts/export_models.py in DFGPAR_MODELS_DIR (cases without them are skipped).
option(DFGPAR_BUILD_CLI "Build the dfgpar command-line tool (needs the ONNX adapter)" ON)
if(DFGPAR_BUILD_CLI)
  # one file per command (analyze.cpp, emit.cpp) plus the shared argument handling
  set(dfgpar_cli_dir ${PROJECT_SOURCE_DIR}/tools/dfgpar)
  add_executable(dfgpar_cli ${dfgpar_cli_dir}/main.cpp ${dfgpar_cli_dir}/args.cpp
                            ${dfgpar_cli_dir}/analyze.cpp ${dfgpar_cli_dir}/emit.cpp)
  set_target_properties(dfgpar_cli PROPERTIES OUTPUT_NAME dfgpar)
  target_compile_definitions(dfgpar_cli PRIVATE DFGPAR_CLI_VERSION="${PROJECT_VERSION}")
  target_link_libraries(dfgpar_cli PRIVATE dfgpar::onnx)
  if(TARGET dfgpar_warnings)
    target_link_libraries(dfgpar_cli PRIVATE dfgpar_warnings)
  endif()
  if(DFGPAR_INSTALL)
    install(TARGETS dfgpar_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  endif()
  if(DFGPAR_BUILD_TESTS)
    set(DFGPAR_MODELS_DIR ${PROJECT_BINARY_DIR}/models CACHE PATH
        "Models exported by scripts/export_models.py, for tests/cli/test_cli.sh")
    add_test(NAME dfgpar_cli
             COMMAND bash ${PROJECT_SOURCE_DIR}/tests/cli/test_cli.sh $<TARGET_FILE:dfgpar_cli> ${DFGPAR_MODELS_DIR})
    set_tests_properties(dfgpar_cli PROPERTIES TIMEOUT 900)
  endif()
endif()
