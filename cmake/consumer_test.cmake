# cmake -P script run by the CTest test dfgpar_consumer: installs dfgpar from
# DFGPAR_BINARY_DIR into PREFIX, then configures, builds and runs the separate
# project tests/consumer, which finds it with find_package(dfgpar REQUIRED).
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
if(MAKE_PROGRAM)
  list(APPEND configure -DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM})
endif()
run(${configure})
run(${CMAKE_COMMAND} --build ${CONSUMER_BINARY_DIR} --config ${CONFIG})

find_program(consumer_exe dfgpar_consumer PATHS ${CONSUMER_BINARY_DIR} ${CONSUMER_BINARY_DIR}/${CONFIG} NO_DEFAULT_PATH)
if(NOT consumer_exe)
  message(FATAL_ERROR "consumer: dfgpar_consumer executable not found in ${CONSUMER_BINARY_DIR}")
endif()
run(${consumer_exe})
message(STATUS "consumer: OK")
