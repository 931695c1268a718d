// Shared by test_odr_a.cpp and test_odr_b.cpp, which include the ONNX
// adapter's headers in opposite orders before this file. The order once
// decided which of two functions named detail::attr_int the inline
// evaluate() called (an ODR violation: Flatten's `axis` read as a->i() in one
// translation unit, as the default in the other). Both must agree on a
// Flatten node whose `axis` has the wrong type.
#pragma once

#include <string>
#include <vector>

namespace odr_test {

/// What evaluate() makes of Flatten with a FLOAT axis, seen from the
/// translation unit of the suffix: "invalid: <message>", "declined" or the shape.
std::string flatten_float_axis_a();
std::string flatten_float_axis_b();

namespace {

// internal linkage: each translation unit compiles its own copy, with its
// own view of the headers included before this file
std::string flatten_float_axis_here() {
  ::onnx::NodeProto n;
  n.set_op_type("Flatten");
  n.set_name("f");
  n.add_input("x");
  n.add_output("y");
  auto* a = n.add_attribute();
  a->set_name("axis");
  a->set_type(::onnx::AttributeProto::FLOAT);
  a->set_f(2.0f);
  const auto x = dfgpar::onnx::make_tensor<float>(::onnx::TensorProto::FLOAT, {2, 3, 4}, std::vector<float>(24, 1.0f));
  std::vector<const dfgpar::onnx::tensor*> in{&x};
  try {
    auto out = dfgpar::onnx::evaluate(n, in, 13);
    if (!out) return "declined";
    return "dims " + std::to_string((*out)[0].dims[0]) + "x" + std::to_string((*out)[0].dims[1]);
  } catch (const dfgpar::graph_error& e) {
    return std::string("invalid: ") + e.what();
  }
}

}  // namespace

}  // namespace odr_test
