# Shared build settings for every Conclave target.

# CONCLAVE_SANITIZE as a -fsanitize= list (empty when off). A finding must fail the run, so
# UBSan does not recover (ASan and TSan halt through ASAN_OPTIONS/TSAN_OPTIONS, see
# scripts/test.sh). ASan and TSan cannot be combined.
set(CONCLAVE_SANITIZERS "")
if(CONCLAVE_SANITIZE AND NOT CONCLAVE_SANITIZE MATCHES "^(ON|on|On|TRUE|true|YES|yes|1)$")
  set(CONCLAVE_SANITIZERS "${CONCLAVE_SANITIZE}")
elseif(CONCLAVE_SANITIZE)
  set(CONCLAVE_SANITIZERS "address,undefined")
endif()
if(CONCLAVE_SANITIZERS MATCHES "thread" AND CONCLAVE_SANITIZERS MATCHES "address")
  message(FATAL_ERROR "CONCLAVE_SANITIZE: thread cannot be combined with address")
endif()
if(CONCLAVE_SANITIZERS AND CONCLAVE_FUZZ)
  message(FATAL_ERROR "CONCLAVE_SANITIZE: fuzz builds bring their own sanitizers")
endif()
set(CONCLAVE_SANITIZE_FLAGS "")
if(CONCLAVE_SANITIZERS)
  set(CONCLAVE_SANITIZE_FLAGS -fsanitize=${CONCLAVE_SANITIZERS} -fno-omit-frame-pointer)
  if(CONCLAVE_SANITIZERS MATCHES "undefined")
    list(APPEND CONCLAVE_SANITIZE_FLAGS -fno-sanitize-recover=undefined)
  endif()
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC's instrumentation makes -Wmaybe-uninitialized report library code (std::regex,
    # std::function) that is fine, and -Wtsan reports the fences inside Boost.Asio, which TSan
    # does not model. Under -Werror both would stop the sanitizer builds in CI for no finding
    # of ours.
    list(APPEND CONCLAVE_SANITIZE_FLAGS -Wno-maybe-uninitialized)
    if(CONCLAVE_SANITIZERS MATCHES "thread")
      list(APPEND CONCLAVE_SANITIZE_FLAGS -Wno-tsan)
    endif()
  endif()
  message(STATUS "Conclave: sanitizers ${CONCLAVE_SANITIZERS}")
endif()

function(conclave_target_defaults target)
  target_compile_features(${target} PUBLIC cxx_std_20)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
                         -Wnon-virtual-dtor -Wno-missing-field-initializers)
  if(CONCLAVE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(CONCLAVE_SANITIZE_FLAGS)
    target_compile_options(${target} PRIVATE ${CONCLAVE_SANITIZE_FLAGS})
    target_link_options(${target} PRIVATE ${CONCLAVE_SANITIZE_FLAGS})
  endif()
endfunction()

# A layer library: conclave_layer(NAME sources... DEPS libs...)
function(conclave_layer name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(conclave_${name} STATIC ${ARG_SOURCES})
  target_include_directories(conclave_${name} PUBLIC ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(conclave_${name} PUBLIC ${ARG_DEPS})
  conclave_target_defaults(conclave_${name})
  if(CONCLAVE_FUZZ)
    target_compile_options(conclave_${name} PRIVATE -fsanitize=fuzzer-no-link,address,undefined
                           -fno-sanitize-recover=undefined)
  endif()
endfunction()

# A GoogleTest executable registered with ctest: conclave_test(NAME sources... DEPS libs... LABELS ...)
function(conclave_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests)
  conclave_target_defaults(${name})
  target_compile_definitions(${name} PRIVATE
    CONCLAVE_SOURCE_DIR="${CMAKE_SOURCE_DIR}" CONCLAVE_BINARY_DIR="${CMAKE_BINARY_DIR}")
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 30 PROPERTIES LABELS "${ARG_LABELS}")
  # Every test also gets its executable's name as a label (ctest -L '^sfu_tests$'). A list of
  # labels does not survive gtest_discover_tests' PROPERTIES, so a file that ctest reads after
  # the discovered tests sets them, from the list of names discovery leaves in <name>_TESTS.
  set(labels ${ARG_LABELS} ${name})
  set(labels_file ${CMAKE_CURRENT_BINARY_DIR}/${name}_labels.cmake)
  file(WRITE ${labels_file}
       "if(${name}_TESTS)\n  set_tests_properties(\${${name}_TESTS} PROPERTIES LABELS \"${labels}\")\nendif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${labels_file})
endfunction()

function(conclave_add_subdirs parent)
  file(GLOB children LIST_DIRECTORIES true RELATIVE ${parent} ${parent}/*)
  list(SORT children)
  foreach(child ${children})
    # CONCLAVE_LAYERS (a list of folder names) restricts the build to those layers, so that
    # work on one layer is not held up by another folder that does not configure yet.
    if(CONCLAVE_LAYERS AND NOT child IN_LIST CONCLAVE_LAYERS)
      continue()
    endif()
    if(IS_DIRECTORY ${parent}/${child} AND EXISTS ${parent}/${child}/CMakeLists.txt)
      add_subdirectory(${parent}/${child})
    endif()
  endforeach()
endfunction()

# A libFuzzer target (clang, -DCONCLAVE_FUZZ=ON), registered with ctest as a short run over its
# committed corpus: conclave_fuzz(NAME SOURCES files... DEPS libs... CORPUS dir)
# New inputs go to a scratch folder in the build tree; the committed corpus is only read.
set(CONCLAVE_FUZZ_SECONDS 8 CACHE STRING "Seconds each fuzz target runs under ctest")
function(conclave_fuzz name)
  cmake_parse_arguments(ARG "" "CORPUS" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  conclave_target_defaults(${name})
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)
  set(work ${CMAKE_CURRENT_BINARY_DIR}/${name}-work)
  file(MAKE_DIRECTORY ${work})
  add_test(NAME ${name}
    COMMAND ${name} -max_total_time=${CONCLAVE_FUZZ_SECONDS} -rss_limit_mb=2048
            -artifact_prefix=${CMAKE_CURRENT_BINARY_DIR}/ ${work} ${ARG_CORPUS})
  set_tests_properties(${name} PROPERTIES LABELS fuzz)
endfunction()

# conclave_libsrtp_oracle: libsrtp2 behind SrtpSession's interface (tests/srtp/libsrtp_oracle.h),
# a library of its own because the SRTP tests, the benchmark and the fuzz target all use it and
# the fuzz build has no tests/.
function(conclave_libsrtp_oracle)
  add_library(conclave_libsrtp_oracle STATIC ${CMAKE_SOURCE_DIR}/tests/srtp/libsrtp_oracle.cpp)
  target_include_directories(conclave_libsrtp_oracle PUBLIC ${CMAKE_SOURCE_DIR}/tests)
  target_link_libraries(conclave_libsrtp_oracle PUBLIC conclave_srtp PkgConfig::SRTP2 OpenSSL::Crypto)
  conclave_target_defaults(conclave_libsrtp_oracle)
  if(CONCLAVE_FUZZ)
    target_compile_options(conclave_libsrtp_oracle PRIVATE -fsanitize=fuzzer-no-link,address,undefined
                           -fno-sanitize-recover=undefined)
  endif()
endfunction()
