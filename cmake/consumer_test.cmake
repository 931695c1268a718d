# cmake -P script run by the CTest test dfgpar_consumer: installs dfgpar from
# DFGPAR_BINARY_DIR into PREFIX, then configures, builds and runs the separate
# project tests/consumer, which finds it with find_package(dfgpar REQUIRED).
# With -DONNX=1 (dfgpar was built with its ONNX adapter) the consumer also
# asks for the onnx component and runs dfgpar_consumer_onnx, which links
# dfgpar::onnx; with -DONEDNN=1 as well (built with the native runtime) it
# asks for the onednn component and runs dfgpar_consumer_onednn, which runs a
# model on dfgpar::onednn's session; and an unknown component must make
# find_package fail.
cmake_minimum_required(VERSION 3.25)

foreach(var DFGPAR_BINARY_DIR PREFIX CONSUMER_SOURCE_DIR CONSUMER_BINARY_DIR GENERATOR CXX)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "consumer_test.cmake: -D${var}=... is required")
  endif()
endforeach()
if(NOT CONFIG)
  set(CONFIG Release)
endif()

function(run)
  string(JOIN " " shown ${ARGN})
  message(STATUS "consumer: ${shown}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "consumer: command failed (${rc}): ${shown}")
  endif()
endfunction()

# Fresh every time: stale headers or a cached dfgpar_DIR would prove nothing.
file(REMOVE_RECURSE ${PREFIX} ${CONSUMER_BINARY_DIR})

run(${CMAKE_COMMAND} --install ${DFGPAR_BINARY_DIR} --prefix ${PREFIX} --config ${CONFIG})

set(configure ${CMAKE_COMMAND} -S ${CONSUMER_SOURCE_DIR} -B ${CONSUMER_BINARY_DIR} -G ${GENERATOR}
    -DCMAKE_BUILD_TYPE=${CONFIG} -DCMAKE_CXX_COMPILER=${CXX}
    -DCMAKE_PREFIX_PATH=${PREFIX} -DDFGPAR_EXPECTED_PREFIX=${PREFIX}
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
# what is tested is finding and linking the package: -O1 compiles in half the time
if(NOT CONFIG STREQUAL "Debug")
  string(TOUPPER ${CONFIG} config_upper)
  list(APPEND configure "-DCMAKE_CXX_FLAGS_${config_upper}=-O1 -DNDEBUG")
endif()
if(MAKE_PROGRAM)
  list(APPEND configure -DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM})
endif()
set(programs dfgpar_consumer)
if(ONNX)
  list(APPEND configure -DDFGPAR_CONSUMER_ONNX=ON)
  list(APPEND programs dfgpar_consumer_onnx)
endif()
if(ONNX AND ONEDNN)
  list(APPEND configure -DDFGPAR_CONSUMER_ONEDNN=ON)
  list(APPEND programs dfgpar_consumer_onednn)
endif()
run(${configure})
run(${CMAKE_COMMAND} --build ${CONSUMER_BINARY_DIR} --config ${CONFIG})

foreach(program IN LISTS programs)
  unset(exe CACHE)
  find_program(exe ${program} PATHS ${CONSUMER_BINARY_DIR} ${CONSUMER_BINARY_DIR}/${CONFIG} NO_DEFAULT_PATH)
  if(NOT exe)
    message(FATAL_ERROR "consumer: ${program} executable not found in ${CONSUMER_BINARY_DIR}")
  endif()
  run(${exe})
endforeach()

# find_package(dfgpar COMPONENTS <unknown>) must fail, not quietly succeed
set(probe ${CONSUMER_BINARY_DIR}-probe)
file(REMOVE_RECURSE ${probe})
file(MAKE_DIRECTORY ${probe})
file(WRITE ${probe}/CMakeLists.txt
  "cmake_minimum_required(VERSION 3.25)\nproject(probe LANGUAGES CXX)\nfind_package(dfgpar REQUIRED COMPONENTS no_such_component)\n")
execute_process(COMMAND ${CMAKE_COMMAND} -S ${probe} -B ${probe}/build -G ${GENERATOR} -DCMAKE_CXX_COMPILER=${CXX}
                        -DCMAKE_PREFIX_PATH=${PREFIX} -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
                RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
if(rc EQUAL 0 OR NOT err MATCHES "no component 'no_such_component'")
  message(FATAL_ERROR "consumer: find_package(dfgpar COMPONENTS no_such_component) did not fail as it should (${rc}): ${err}")
endif()
message(STATUS "consumer: OK")
