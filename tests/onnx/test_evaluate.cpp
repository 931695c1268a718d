// The folding evaluator (include/dfgpar/onnx/evaluate.hpp) through the
// argument layer: the opset variants of each argument rule, an attribute it
// does not read (declined), a wrongly typed one (an invalid node). The
// per-op arithmetic against numpy values and the ONNX backend test data are
// in test_onnx_optimize.cpp.

#include <dfgpar/onnx/evaluate.hpp>

#include "onnx_node.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <vector>

namespace {

namespace ox = dfgpar::onnx;
using onnx_test::f32;
using onnx_test::i64;
using onnx_test::node;
using ints = std::vector<std::int64_t>;

std::optional<std::vector<ox::tensor>> eval(const ::onnx::NodeProto& n, std::vector<const ox::tensor*> in,
                                            std::int64_t opset = 13) {
  return ox::evaluate(n, in, opset);
}

TEST_CASE("[dfgpar][onnx] evaluate: an attribute the evaluator does not read declines the node") {
  const auto x = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  CHECK(eval(node("Flatten", {"x"}).i("axis", 1), {&x}));
  CHECK_FALSE(eval(node("Flatten", {"x"}).i("axis", 1).i("new_attribute_from_the_future", 1), {&x}));
  // attributes without meaning for the result are read: Dropout's seed, the legacy consumed_inputs
  CHECK(eval(node("Dropout", {"x"}).i("seed", 3), {&x}));
  CHECK(eval(node("Neg", {"x"}).ints("consumed_inputs", {0}), {&x}, 1));
  // Shape-13 has no start: ignored, as before opset 15
  CHECK((*eval(node("Shape", {"x"}).i("start", 1), {&x}))[0] == i64({2}, {2, 3}));
}

TEST_CASE("[dfgpar][onnx] evaluate: a wrongly typed attribute is an invalid node, not a default") {
  const auto x = f32({2, 3, 4}, std::vector<float>(24, 1.0f));
  CHECK_THROWS_WITH_AS(eval(node("Flatten", {"x"}).f("axis", 2.0f), {&x}),
                       doctest::Contains("attribute 'axis' has type FLOAT, expected INT"), dfgpar::graph_error);
  const auto s = i64({2}, {1, 2}), k = i64({}, {0});
  CHECK_THROWS_AS(eval(node("Gather", {"s", "k"}).s("axis", "0"), {&s, &k}), dfgpar::graph_error);
  CHECK_THROWS_AS(eval(node("Transpose", {"x"}).i("perm", 0), {&x}), dfgpar::graph_error);
  CHECK_THROWS_WITH(eval(node("Concat", {"s"}), {&s}), doctest::Contains("cannot evaluate Concat node"));
}

TEST_CASE("[dfgpar][onnx] evaluate: argument rules by opset") {
  const auto x = f32({1, 3, 1}, {1, 2, 3});
  SUBCASE("Squeeze: axes attribute (opset 11) vs input (13)") {
    CHECK((*eval(node("Squeeze", {"x"}).ints("axes", {2}), {&x}, 11))[0].dims == ints{1, 3});
    const auto ax = i64({1}, {0});
    CHECK((*eval(node("Squeeze", {"x", "a"}), {&x, &ax}, 13))[0].dims == ints{3, 1});
  }
  SUBCASE("Slice: attributes (opset 9) with axes") {
    const auto m = i64({2, 3}, {0, 1, 2, 3, 4, 5});
    CHECK((*eval(node("Slice", {"m"}).ints("starts", {1}).ints("ends", {3}).ints("axes", {1}), {&m}, 9))[0] ==
          i64({2, 2}, {1, 2, 4, 5}));
  }
  SUBCASE("Reshape allowzero (opset 14)") {
    const auto z = f32({0, 3}, {});
    const auto shape = i64({2}, {3, 0});
    CHECK((*eval(node("Reshape", {"z", "s"}).i("allowzero", 1), {&z, &shape}, 14))[0].dims == ints{3, 0});
    CHECK_THROWS_AS(eval(node("Reshape", {"z", "s"}), {&z, &shape}, 14), dfgpar::graph_error);  // 0 copies 0: [3, 3]
  }
  SUBCASE("Cast: a type name before opset 6, the type number since") {
    const auto f = f32({2}, {1.5f, -2.5f});
    CHECK((*eval(node("Cast", {"f"}).s("to", "INT32"), {&f}, 5))[0].elem_type == ::onnx::TensorProto::INT32);
    CHECK((*eval(node("Cast", {"f"}).i("to", ::onnx::TensorProto::INT64), {&f}, 13))[0] == i64({2}, {1, -2}));
  }
  SUBCASE("Dropout: is_test before opset 7, inference since, training_mode input since 12") {
    CHECK_FALSE(eval(node("Dropout", {"x"}), {&x}, 6));  // is_test defaults to 0: training
    CHECK(eval(node("Dropout", {"x"}).i("is_test", 1), {&x}, 6));
    CHECK(eval(node("Dropout", {"x"}).f("ratio", 0.2f), {&x}, 10));
    const auto no = ox::make_tensor<std::uint8_t>(::onnx::TensorProto::BOOL, {}, {0});
    CHECK(eval(node("Dropout", {"x", "", "t"}), {&x, nullptr, &no}, 13));
    CHECK_FALSE(eval(node("Dropout", {"x"}, {"y", "mask"}), {&x}, 13));
  }
}

}  // namespace
