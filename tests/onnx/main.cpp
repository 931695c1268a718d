// doctest runner of dfgpar_onnx_tests (the ONNX adapter's tests, which link
// the ONNX library and so live apart from dfgpar_tests).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
