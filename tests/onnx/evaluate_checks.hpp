// Checks shared by the folding evaluator's unit tests (test_evaluate*.cpp).
#pragma once

#include <dfgpar/onnx/evaluate.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

namespace onnx_test {

/// Evaluates node n on `in` at `opset`; the test stops when the evaluator declines.
inline std::vector<dfgpar::onnx::tensor> eval(const ::onnx::NodeProto& n,
                                              std::vector<const dfgpar::onnx::tensor*> in, std::int64_t opset = 13) {
  auto r = dfgpar::onnx::evaluate(n, in, opset);
  REQUIRE_MESSAGE(r.has_value(), n.op_type() << " declined");
  return *r;
}

/// Checks a float32 tensor's shape and values (relative 1e-5).
inline void check_f32(const dfgpar::onnx::tensor& t, const std::vector<std::int64_t>& dims,
                      const std::vector<float>& want) {
  REQUIRE(t.elem_type == ::onnx::TensorProto::FLOAT);
  CHECK(t.dims == dims);
  const auto& v = t.values<float>();
  REQUIRE(v.size() == want.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    CAPTURE(i);
    CHECK(v[i] == doctest::Approx(want[i]).epsilon(1e-5));
  }
}

}  // namespace onnx_test
