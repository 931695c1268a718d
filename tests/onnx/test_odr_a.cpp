// One of two translation units that include the ONNX headers in different
// orders (see odr_flatten.hpp): evaluate.hpp first, then the cost model.
#include <dfgpar/onnx/evaluate.hpp>
#include <dfgpar/onnx/cost_model.hpp>
#include <dfgpar/onnx/model.hpp>

#include "odr_flatten.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

std::string odr_test::flatten_float_axis_a() { return flatten_float_axis_here(); }

TEST_CASE("[dfgpar][onnx] attributes: two translation units with different include orders agree on a wrongly typed attribute") {
  const std::string a = odr_test::flatten_float_axis_a(), b = odr_test::flatten_float_axis_b();
  CAPTURE(a);
  CAPTURE(b);
  CHECK(a == b);
  // a FLOAT axis is an invalid node, not axis 0 (a->i() of a FLOAT) nor the default 1
  CHECK(a.rfind("invalid: ", 0) == 0);
  CHECK(a.find("attribute 'axis' has type FLOAT, expected INT") != std::string::npos);
}
