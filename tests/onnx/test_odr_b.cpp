// One of two translation units that include the ONNX headers in different
// orders (see odr_flatten.hpp): the cost model and the loader first, then evaluate.hpp.
#include <dfgpar/onnx/model.hpp>
#include <dfgpar/onnx/cost_model.hpp>
#include <dfgpar/onnx/evaluate.hpp>

#include "odr_flatten.hpp"

#include <string>
#include <vector>

std::string odr_test::flatten_float_axis_b() { return flatten_float_axis_here(); }
