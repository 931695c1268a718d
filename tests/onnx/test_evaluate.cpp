// The folding evaluator (include/dfgpar/onnx/evaluate.hpp): each op against
// numpy values, and through the argument layer the opset variants of each
// argument rule, an attribute it does not read (declined), a wrongly typed
// one (an invalid node). Folding whole graphs of the ONNX backend test data
// is in test_onnx_optimize.cpp.

#include <dfgpar/onnx/evaluate.hpp>

#include "evaluate_checks.hpp"
#include "onnx_node.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

namespace {

namespace ox = dfgpar::onnx;
using onnx_test::eval;
using onnx_test::f32;
using onnx_test::i64;
using onnx_test::node;
using ints = std::vector<std::int64_t>;

using tp = ::onnx::TensorProto;

/// Evaluates one node: nullopt when declined.
std::optional<std::vector<ox::tensor>> try_eval(const ::onnx::NodeProto& n, std::vector<const ox::tensor*> in,
                                                std::int64_t opset = 13) {
  return ox::evaluate(n, in, opset);
}

TEST_CASE("[dfgpar][onnx] evaluate: an attribute the evaluator does not read declines the node") {
  const auto x = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  CHECK(try_eval(node("Flatten", {"x"}).i("axis", 1), {&x}));
  CHECK_FALSE(try_eval(node("Flatten", {"x"}).i("axis", 1).i("new_attribute_from_the_future", 1), {&x}));
  // attributes without meaning for the result are read: Dropout's seed, the legacy consumed_inputs
  CHECK(try_eval(node("Dropout", {"x"}).i("seed", 3), {&x}));
  CHECK(try_eval(node("Neg", {"x"}).ints("consumed_inputs", {0}), {&x}, 1));
  // Shape-13 has no start: ignored, as before opset 15
  CHECK((*try_eval(node("Shape", {"x"}).i("start", 1), {&x}))[0] == i64({2}, {2, 3}));
}

TEST_CASE("[dfgpar][onnx] evaluate: a wrongly typed attribute is an invalid node, not a default") {
  const auto x = f32({2, 3, 4}, std::vector<float>(24, 1.0f));
  CHECK_THROWS_WITH_AS(try_eval(node("Flatten", {"x"}).f("axis", 2.0f), {&x}),
                       doctest::Contains("attribute 'axis' has type FLOAT, expected INT"), dfgpar::graph_error);
  const auto s = i64({2}, {1, 2}), k = i64({}, {0});
  CHECK_THROWS_AS(try_eval(node("Gather", {"s", "k"}).s("axis", "0"), {&s, &k}), dfgpar::graph_error);
  CHECK_THROWS_AS(try_eval(node("Transpose", {"x"}).i("perm", 0), {&x}), dfgpar::graph_error);
  CHECK_THROWS_WITH(try_eval(node("Concat", {"s"}), {&s}), doctest::Contains("cannot evaluate Concat node"));
}

TEST_CASE("[dfgpar][onnx] evaluate: argument rules by opset") {
  const auto x = f32({1, 3, 1}, {1, 2, 3});
  SUBCASE("Squeeze: axes attribute (opset 11) vs input (13)") {
    CHECK((*try_eval(node("Squeeze", {"x"}).ints("axes", {2}), {&x}, 11))[0].dims == ints{1, 3});
    const auto ax = i64({1}, {0});
    CHECK((*try_eval(node("Squeeze", {"x", "a"}), {&x, &ax}, 13))[0].dims == ints{3, 1});
  }
  SUBCASE("Slice: attributes (opset 9) with axes") {
    const auto m = i64({2, 3}, {0, 1, 2, 3, 4, 5});
    CHECK((*try_eval(node("Slice", {"m"}).ints("starts", {1}).ints("ends", {3}).ints("axes", {1}), {&m}, 9))[0] ==
          i64({2, 2}, {1, 2, 4, 5}));
  }
  SUBCASE("Reshape allowzero (opset 14)") {
    const auto z = f32({0, 3}, {});
    const auto shape = i64({2}, {3, 0});
    CHECK((*try_eval(node("Reshape", {"z", "s"}).i("allowzero", 1), {&z, &shape}, 14))[0].dims == ints{3, 0});
    CHECK_THROWS_AS(try_eval(node("Reshape", {"z", "s"}), {&z, &shape}, 14), dfgpar::graph_error);  // 0 copies 0: [3, 3]
  }
  SUBCASE("Cast: a type name before opset 6, the type number since") {
    const auto f = f32({2}, {1.5f, -2.5f});
    CHECK((*try_eval(node("Cast", {"f"}).s("to", "INT32"), {&f}, 5))[0].elem_type == ::onnx::TensorProto::INT32);
    CHECK((*try_eval(node("Cast", {"f"}).i("to", ::onnx::TensorProto::INT64), {&f}, 13))[0] == i64({2}, {1, -2}));
  }
  SUBCASE("Dropout: is_test before opset 7, inference since, training_mode input since 12") {
    CHECK_FALSE(try_eval(node("Dropout", {"x"}), {&x}, 6));  // is_test defaults to 0: training
    CHECK(try_eval(node("Dropout", {"x"}).i("is_test", 1), {&x}, 6));
    CHECK(try_eval(node("Dropout", {"x"}).f("ratio", 0.2f), {&x}, 10));
    const auto no = ox::make_tensor<std::uint8_t>(::onnx::TensorProto::BOOL, {}, {0});
    CHECK(try_eval(node("Dropout", {"x", "", "t"}), {&x, nullptr, &no}, 13));
    CHECK_FALSE(try_eval(node("Dropout", {"x"}, {"y", "mask"}), {&x}, 13));
  }
}

// ================================================================== evaluate

TEST_CASE("[dfgpar][onnx] evaluate: shape arithmetic ops against numpy values") {
  const auto x = f32({2, 3, 4}, std::vector<float>(24, 1.0f));

  SUBCASE("Shape, with opset-15 start/end") {
    CHECK(eval(node("Shape", {"x"}, {"y"}), {&x})[0] == i64({3}, {2, 3, 4}));
    CHECK(eval(node("Shape", {"x"}, {"y"}).i("start", 1), {&x}, 15)[0] == i64({2}, {3, 4}));
    CHECK(eval(node("Shape", {"x"}, {"y"}).i("end", -1), {&x}, 15)[0] == i64({2}, {2, 3}));
    CHECK(eval(node("Shape", {"x"}, {"y"}).i("start", 1), {&x}, 13)[0] == i64({3}, {2, 3, 4}));
    CHECK(eval(node("Size", {"x"}, {"y"}), {&x})[0] == i64({}, {24}));
  }
  SUBCASE("Gather: scalar index drops the axis; negative indices; axis 1") {
    const auto s = i64({4}, {1, 3, 224, 224});
    const auto k = i64({}, {0}), neg = i64({2}, {-1, 0});
    CHECK(eval(node("Gather", {"s", "k"}, {"y"}).i("axis", 0), {&s, &k})[0] == i64({}, {1}));
    CHECK(eval(node("Gather", {"s", "k"}, {"y"}), {&s, &neg})[0] == i64({2}, {224, 1}));
    const auto m = i64({2, 3}, {1, 2, 3, 4, 5, 6});
    const auto idx = i64({2}, {2, 0});
    // np.take([[1,2,3],[4,5,6]], [2,0], axis=1) = [[3,1],[6,4]]
    CHECK(eval(node("Gather", {"m", "i"}, {"y"}).i("axis", 1), {&m, &idx})[0] == i64({2, 2}, {3, 1, 6, 4}));
    const auto bad = i64({}, {4});
    CHECK_THROWS_AS(ox::evaluate(node("Gather", {"s", "k"}, {"y"}), std::vector<const ox::tensor*>{&s, &bad}, 13),
                    dfgpar::graph_error);
  }
  SUBCASE("Unsqueeze / Squeeze: axes as input (opset 13) and attribute (opset 11)") {
    const auto v = i64({}, {7});
    const auto ax0 = i64({1}, {0});
    CHECK(eval(node("Unsqueeze", {"v", "a"}, {"y"}), {&v, &ax0})[0] == i64({1}, {7}));
    CHECK(eval(node("Unsqueeze", {"v"}, {"y"}).ints("axes", {0}), {&v}, 11)[0] == i64({1}, {7}));
    const auto ax = i64({2}, {-1, 0});
    CHECK(eval(node("Unsqueeze", {"x", "a"}, {"y"}), {&x, &ax})[0].dims == std::vector<std::int64_t>{1, 2, 3, 4, 1});
    const auto y = f32({1, 3, 1}, {1, 2, 3});
    CHECK(eval(node("Squeeze", {"y"}, {"z"}), {&y})[0] == f32({3}, {1, 2, 3}));
    const auto a2 = i64({1}, {2});
    CHECK(eval(node("Squeeze", {"y", "a"}, {"z"}), {&y, &a2})[0] == f32({1, 3}, {1, 2, 3}));
    CHECK(eval(node("Squeeze", {"y"}, {"z"}).ints("axes", {0}), {&y}, 11)[0] == f32({3, 1}, {1, 2, 3}));
    const auto a1 = i64({1}, {1});
    CHECK_THROWS_AS(ox::evaluate(node("Squeeze", {"y", "a"}, {"z"}), std::vector<const ox::tensor*>{&y, &a1}, 13),
                    dfgpar::graph_error);
  }
  SUBCASE("Concat along axis 0 and -1") {
    const auto a = i64({1}, {1}), b = i64({2}, {-1, 768});
    CHECK(eval(node("Concat", {"a", "b"}, {"y"}).i("axis", 0), {&a, &b})[0] == i64({3}, {1, -1, 768}));
    const auto p = i64({2, 1}, {1, 2}), q = i64({2, 2}, {3, 4, 5, 6});
    CHECK(eval(node("Concat", {"p", "q"}, {"y"}).i("axis", -1), {&p, &q})[0] == i64({2, 3}, {1, 3, 4, 2, 5, 6}));
  }
  SUBCASE("Slice: inputs (opset 13), attributes (opset 9), negative steps, clamping") {
    const auto s = i64({4}, {1, 3, 224, 224});
    const auto st = i64({1}, {-2}), en = i64({1}, {std::numeric_limits<std::int64_t>::max()});
    CHECK(eval(node("Slice", {"s", "st", "en"}, {"y"}), {&s, &st, &en})[0] == i64({2}, {224, 224}));
    CHECK(eval(node("Slice", {"s"}, {"y"}).ints("starts", {1}).ints("ends", {3}), {&s}, 9)[0] ==
          i64({2}, {3, 224}));
    // np.arange(10)[8:1:-3] = [8, 5, 2]
    std::vector<std::int64_t> r(10);
    for (int i = 0; i < 10; ++i) r[static_cast<std::size_t>(i)] = i;
    const auto ar = i64({10}, r), b = i64({1}, {8}), e = i64({1}, {1}), ax = i64({1}, {0}), step = i64({1}, {-3});
    CHECK(eval(node("Slice", {"r", "b", "e", "a", "s"}, {"y"}), {&ar, &b, &e, &ax, &step})[0] ==
          i64({3}, {8, 5, 2}));
    // np.arange(6).reshape(2,3)[:, ::-1]
    const auto m = i64({2, 3}, {0, 1, 2, 3, 4, 5});
    const auto b2 = i64({1}, {-1}), e2 = i64({1}, {std::numeric_limits<std::int64_t>::min()}), ax1 = i64({1}, {1}),
               sm1 = i64({1}, {-1});
    CHECK(eval(node("Slice", {"m", "b", "e", "a", "s"}, {"y"}), {&m, &b2, &e2, &ax1, &sm1})[0] ==
          i64({2, 3}, {2, 1, 0, 5, 4, 3}));
  }
  SUBCASE("Reshape with 0 and -1, allowzero; Flatten") {
    const auto sh = i64({3}, {0, -1, 2});
    CHECK(eval(node("Reshape", {"x", "s"}, {"y"}), {&x, &sh})[0].dims == std::vector<std::int64_t>{2, 6, 2});
    const auto bad = i64({2}, {5, -1});
    CHECK_THROWS_AS(ox::evaluate(node("Reshape", {"x", "s"}, {"y"}), std::vector<const ox::tensor*>{&x, &bad}, 13),
                    dfgpar::graph_error);
    CHECK(eval(node("Flatten", {"x"}, {"y"}), {&x})[0].dims == std::vector<std::int64_t>{2, 12});
    CHECK(eval(node("Flatten", {"x"}, {"y"}).i("axis", 0), {&x})[0].dims == std::vector<std::int64_t>{1, 24});
  }
  SUBCASE("Cast, ConstantOfShape, Range") {
    const auto f = f32({4}, {1.7f, -1.7f, 0.0f, 3.0f});
    CHECK(eval(node("Cast", {"f"}, {"y"}).i("to", tp::INT64), {&f})[0] == i64({4}, {1, -1, 0, 3}));
    const auto c = eval(node("Cast", {"f"}, {"y"}).i("to", tp::BOOL), {&f})[0];
    CHECK(c.values<std::uint8_t>() == std::vector<std::uint8_t>{1, 1, 0, 1});
    const auto big = f32({1}, {1e30f});
    CHECK_FALSE(ox::evaluate(node("Cast", {"f"}, {"y"}).i("to", tp::INT32), std::vector<const ox::tensor*>{&big}, 13));
    const auto shape = i64({2}, {2, 3});
    CHECK(eval(node("ConstantOfShape", {"s"}, {"y"}), {&shape})[0] == f32({2, 3}, std::vector<float>(6, 0.0f)));
    CHECK(eval(node("ConstantOfShape", {"s"}, {"y"}).t("value", i64({1}, {5})), {&shape})[0] ==
          i64({2, 3}, std::vector<std::int64_t>(6, 5)));
    // np.arange(10, 1, -3) = [10, 7, 4]
    const auto s0 = i64({}, {10}), s1 = i64({}, {1}), s2 = i64({}, {-3});
    CHECK(eval(node("Range", {"a", "b", "c"}, {"y"}), {&s0, &s1, &s2})[0] == i64({3}, {10, 7, 4}));
    const auto f0 = f32({}, {0.0f}), f1 = f32({}, {1.0f}), f2 = f32({}, {0.25f});
    CHECK(eval(node("Range", {"a", "b", "c"}, {"y"}), {&f0, &f1, &f2})[0] == f32({4}, {0, 0.25f, 0.5f, 0.75f}));
  }
  SUBCASE("Add/Sub/Mul/Div on int64 and float with broadcasting; integer division truncates") {
    const auto a = i64({2, 1}, {7, -7}), b = i64({3}, {2, 3, 4});
    CHECK(eval(node("Add", {"a", "b"}, {"y"}), {&a, &b})[0] == i64({2, 3}, {9, 10, 11, -5, -4, -3}));
    CHECK(eval(node("Sub", {"a", "b"}, {"y"}), {&a, &b})[0] == i64({2, 3}, {5, 4, 3, -9, -10, -11}));
    CHECK(eval(node("Mul", {"a", "b"}, {"y"}), {&a, &b})[0] == i64({2, 3}, {14, 21, 28, -14, -21, -28}));
    CHECK(eval(node("Div", {"a", "b"}, {"y"}), {&a, &b})[0] == i64({2, 3}, {3, 2, 1, -3, -2, -1}));
    const auto zero = i64({}, {0});
    CHECK_FALSE(ox::evaluate(node("Div", {"a", "b"}, {"y"}), std::vector<const ox::tensor*>{&a, &zero}, 13));
    const auto fa = f32({2}, {1, 2}), fb = f32({}, {4});
    CHECK(eval(node("Div", {"a", "b"}, {"y"}), {&fa, &fb})[0] == f32({2}, {0.25f, 0.5f}));
    CHECK(eval(node("Neg", {"a"}, {"y"}), {&fa})[0] == f32({2}, {-1, -2}));
    CHECK_THROWS_AS(ox::evaluate(node("Add", {"a", "b"}, {"y"}), std::vector<const ox::tensor*>{&a, &fa}, 13),
                    dfgpar::graph_error);
  }
  SUBCASE("Equal, Where, Expand, Transpose, Identity, Dropout, Constant") {
    const auto a = i64({3}, {1, -1, 3}), m1 = i64({}, {-1}), one = i64({}, {1});
    const auto eq = eval(node("Equal", {"a", "b"}, {"y"}), {&a, &m1})[0];
    CHECK(eq.values<std::uint8_t>() == std::vector<std::uint8_t>{0, 1, 0});
    CHECK(eval(node("Where", {"c", "x", "y"}, {"z"}), {&eq, &one, &a})[0] == i64({3}, {1, 1, 3}));
    const auto sh = i64({2}, {2, 1});
    CHECK(eval(node("Expand", {"a", "s"}, {"y"}), {&a, &sh})[0] == i64({2, 3}, {1, -1, 3, 1, -1, 3}));
    const auto m = i64({2, 3}, {1, 2, 3, 4, 5, 6});
    CHECK(eval(node("Transpose", {"m"}, {"y"}), {&m})[0] == i64({3, 2}, {1, 4, 2, 5, 3, 6}));
    CHECK(eval(node("Identity", {"m"}, {"y"}), {&m})[0] == m);
    CHECK(eval(node("Dropout", {"m"}, {"y"}), {&m})[0] == m);
    CHECK_FALSE(ox::evaluate(node("Dropout", {"m"}, {"y", "mask"}), std::vector<const ox::tensor*>{&m}, 13));
    const auto yes = ox::make_tensor<std::uint8_t>(tp::BOOL, {}, {1});
    const auto r = i64({}, {0});
    CHECK_FALSE(ox::evaluate(node("Dropout", {"m", "r", "t"}, {"y"}), std::vector<const ox::tensor*>{&m, &r, &yes}, 13));
    CHECK(eval(node("Constant", {}, {"y"}).t("value", m), {})[0] == m);
    CHECK(eval(node("Constant", {}, {"y"}).ints("value_ints", {4, 5}), {})[0] == i64({2}, {4, 5}));
  }
  SUBCASE("outputs over the element cap are declined") {
    const auto shape = i64({2}, {4096, 4096});
    CHECK_FALSE(ox::evaluate(node("ConstantOfShape", {"s"}, {"y"}), std::vector<const ox::tensor*>{&shape}, 13));
    CHECK(ox::evaluate(node("ConstantOfShape", {"s"}, {"y"}), std::vector<const ox::tensor*>{&shape}, 13,
                       ox::eval_options{.max_elements = std::size_t{1} << 24}));
  }
  SUBCASE("unsupported ops and domains") {
    CHECK_FALSE(ox::can_evaluate("Conv"));
    CHECK_FALSE(ox::can_evaluate("Shape", "com.example"));
    CHECK_FALSE(ox::evaluate(node("Conv", {"x"}, {"y"}), std::vector<const ox::tensor*>{&x}, 13));
  }
}

}  // namespace
