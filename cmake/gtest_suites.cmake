# Run at build time, after a GoogleTest binary links (tests/CMakeLists.txt,
# p2pd_test): lists its tests and writes OUT, a CTest script with one test
# per suite ("Suite" runs --gtest_filter=Suite.*). A suite with skipped
# cases passes when the rest do (GoogleTest prints what it skipped): a skip
# pattern would hide a failure beside the skip.
#
# One process per suite, not per case: a process of a sanitized test binary
# takes about half a second to start and, with LeakSanitizer, to end, which
# over some 1,400 cases was minutes of the test command's run.
#
# SLOW: a regex of suites that mostly wait (routers' leases, namespaces):
# they get a CTest COST, so that a run without cost data (a fresh clone, CI)
# starts them first and the rest runs beside them instead of after.
#
#   cmake -DBIN=<binary> -DOUT=<file> -DTIMEOUT=<s> [-DSLOW=<regex>] -P gtest_suites.cmake
execute_process(COMMAND "${BIN}" --gtest_list_tests
  OUTPUT_VARIABLE listing RESULT_VARIABLE rc ERROR_VARIABLE err TIMEOUT 60)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${BIN} --gtest_list_tests failed (${rc}): ${err}")
endif()
string(REPLACE ";" "\\;" listing "${listing}")
string(REPLACE "\n" ";" lines "${listing}")
set(script "")
set(count 0)
foreach(line IN LISTS lines)
  # Suites start in column 0 ("Suite." or "Prefix/Suite.  # TypeParam = ..."),
  # their cases are indented.
  if(line MATCHES "^([^ #][^ ]*)\\.")
    set(suite "${CMAKE_MATCH_1}")
    if(suite MATCHES "^DISABLED_")
      continue()
    endif()
    string(APPEND script
      "add_test([=[${suite}]=] \"${BIN}\" [=[--gtest_filter=${suite}.*]=])\n"
      "set_tests_properties([=[${suite}]=] PROPERTIES TIMEOUT ${TIMEOUT})\n")
    if(SLOW AND suite MATCHES "${SLOW}")
      string(APPEND script "set_tests_properties([=[${suite}]=] PROPERTIES COST 1000)\n")
    endif()
    math(EXPR count "${count} + 1")
  endif()
endforeach()
if(count EQUAL 0)
  message(FATAL_ERROR "${BIN} lists no test suite")
endif()
file(WRITE "${OUT}" "${script}")
