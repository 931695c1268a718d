// The doctest runner: the only translation unit that defines main().
// Every tests/test_*.cpp is linked into the same executable.
//   dfgpar_tests --test-case='*executor*'     run a subset
//   dfgpar_tests --test-case-exclude='*slow*' skip some
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
