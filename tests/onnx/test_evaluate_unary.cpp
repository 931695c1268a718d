// The folding evaluator's element-wise math, activations, Clip, Mod,
// BitShift (include/dfgpar/onnx/evaluate_unary.hpp) and its ArgMax/ArgMin and
// L1/L2/SumSquare/LogSum/LogSumExp reductions (evaluate_math.hpp), against
// values computed by hand.

#include <dfgpar/onnx/evaluate.hpp>

#include "onnx_node.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

namespace {

namespace ox = dfgpar::onnx;
using onnx_test::f32;
using onnx_test::i64;
using onnx_test::node;
using ints = std::vector<std::int64_t>;
using tp = ::onnx::TensorProto;

std::optional<std::vector<ox::tensor>> try_eval(const ::onnx::NodeProto& n, std::vector<const ox::tensor*> in,
                                                std::int64_t opset = 13) {
  return ox::evaluate(n, in, opset);
}

ox::tensor eval1(const ::onnx::NodeProto& n, std::vector<const ox::tensor*> in, std::int64_t opset = 13) {
  auto r = ox::evaluate(n, in, opset);
  REQUIRE_MESSAGE(r.has_value(), n.op_type() << " declined");
  REQUIRE(r->size() == 1);
  return (*r)[0];
}

/// The float values of `t`, each checked against `want` within 1e-6 relative.
void check_near(const ox::tensor& t, const std::vector<double>& want) {
  REQUIRE(t.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    CAPTURE(i);
    if (std::isnan(want[i])) {
      CHECK(std::isnan(t.as_double(i)));
      continue;
    }
    if (std::isinf(want[i])) {
      CHECK(t.as_double(i) == want[i]);
      continue;
    }
    CHECK(t.as_double(i) == doctest::Approx(want[i]).epsilon(1e-6));
  }
}

template <class T>
ox::tensor typed(std::int32_t type, ints dims, std::vector<T> v) {
  return ox::make_tensor<T>(type, std::move(dims), std::move(v));
}

TEST_CASE("[dfgpar][onnx] evaluate: trigonometric, hyperbolic and other unary math against hand values") {
  const auto x = f32({3}, {0.0f, 0.5f, -1.0f});
  check_near(eval1(node("Sin", {"x"}), {&x}), {0.0, 0.479425538604203, -0.8414709848078965});
  check_near(eval1(node("Cos", {"x"}), {&x}), {1.0, 0.8775825618903728, 0.5403023058681398});
  check_near(eval1(node("Tan", {"x"}), {&x}), {0.0, 0.5463024898437905, -1.5574077246549023});
  check_near(eval1(node("Asin", {"x"}), {&x}), {0.0, 0.5235987755982989, -1.5707963267948966});
  check_near(eval1(node("Acos", {"x"}), {&x}), {1.5707963267948966, 1.0471975511965979, 3.141592653589793});
  check_near(eval1(node("Atan", {"x"}), {&x}), {0.0, 0.4636476090008061, -0.7853981633974483});
  check_near(eval1(node("Sinh", {"x"}), {&x}), {0.0, 0.5210953054937474, -1.1752011936438014});
  check_near(eval1(node("Cosh", {"x"}), {&x}), {1.0, 1.1276259652063807, 1.5430806348152437});
  check_near(eval1(node("Asinh", {"x"}), {&x}), {0.0, 0.48121182505960347, -0.881373587019543});
  check_near(eval1(node("Atanh", {"x"}), {&x}), {0.0, 0.5493061443340549, -INFINITY});
  check_near(eval1(node("Erf", {"x"}), {&x}), {0.0, 0.5204998778130465, -0.8427007929497149});
  check_near(eval1(node("Exp", {"x"}), {&x}), {1.0, 1.6487212707001282, 0.36787944117144233});
  const auto y = f32({3}, {1.0f, 2.0f, 0.5f});
  check_near(eval1(node("Acosh", {"y"}), {&y}), {0.0, 1.3169578969248166, NAN});
  check_near(eval1(node("Log", {"y"}), {&y}), {0.0, 0.6931471805599453, -0.6931471805599453});
  // double stays double
  const auto d = typed<double>(tp::DOUBLE, {1}, {1.0});
  const auto sd = eval1(node("Sin", {"d"}), {&d});
  CHECK(sd.elem_type == tp::DOUBLE);
  CHECK(sd.values<double>()[0] == std::sin(1.0));
  // integers: no trigonometry
  const auto k = i64({1}, {1});
  CHECK_FALSE(try_eval(node("Sin", {"k"}), {&k}));
}

TEST_CASE("[dfgpar][onnx] evaluate: Sign, IsNaN, IsInf (detect_negative / detect_positive)") {
  const auto x = f32({5}, {-2.0f, 0.0f, 3.0f, INFINITY, -INFINITY});
  check_near(eval1(node("Sign", {"x"}), {&x}), {-1, 0, 1, 1, -1});
  const auto k = typed<std::int32_t>(tp::INT32, {3}, {-7, 0, 9});
  CHECK(eval1(node("Sign", {"k"}), {&k}) == typed<std::int32_t>(tp::INT32, {3}, {-1, 0, 1}));
  const auto u = typed<std::uint8_t>(tp::UINT8, {2}, {0, 200});
  CHECK(eval1(node("Sign", {"u"}), {&u}) == typed<std::uint8_t>(tp::UINT8, {2}, {0, 1}));

  const auto n = f32({3}, {NAN, 1.0f, INFINITY});
  CHECK(eval1(node("IsNaN", {"n"}), {&n}) == typed<std::uint8_t>(tp::BOOL, {3}, {1, 0, 0}));
  CHECK(eval1(node("IsInf", {"x"}), {&x}) == typed<std::uint8_t>(tp::BOOL, {5}, {0, 0, 0, 1, 1}));
  CHECK(eval1(node("IsInf", {"x"}).i("detect_negative", 0), {&x}, 10) ==
        typed<std::uint8_t>(tp::BOOL, {5}, {0, 0, 0, 1, 0}));
  CHECK(eval1(node("IsInf", {"x"}).i("detect_positive", 0), {&x}, 10) ==
        typed<std::uint8_t>(tp::BOOL, {5}, {0, 0, 0, 0, 1}));
}

TEST_CASE("[dfgpar][onnx] evaluate: activations with their default and given attributes") {
  const auto x = f32({4}, {-2.0f, -0.5f, 0.0f, 1.5f});
  check_near(eval1(node("Relu", {"x"}), {&x}), {0, 0, 0, 1.5});
  check_near(eval1(node("LeakyRelu", {"x"}), {&x}), {-0.02, -0.005, 0, 1.5});
  check_near(eval1(node("LeakyRelu", {"x"}).f("alpha", 0.5f), {&x}), {-1.0, -0.25, 0, 1.5});
  // Elu: alpha (e^x - 1) below 0
  check_near(eval1(node("Elu", {"x"}).f("alpha", 2.0f), {&x}), {2 * (std::exp(-2.0) - 1), 2 * (std::exp(-0.5) - 1), 0, 1.5});
  // Selu: gamma x above 0, gamma alpha (e^x - 1) below
  const double sa = 1.67326319217681884765625, sg = 1.05070102214813232421875;
  check_near(eval1(node("Selu", {"x"}), {&x}), {sg * sa * (std::exp(-2.0) - 1), sg * sa * (std::exp(-0.5) - 1), 0, sg * 1.5});
  // Celu(alpha = 2): max(0, x) + min(0, 2 (e^(x/2) - 1))
  check_near(eval1(node("Celu", {"x"}).f("alpha", 2.0f), {&x}), {2 * (std::exp(-1.0) - 1), 2 * (std::exp(-0.25) - 1), 0, 1.5});
  check_near(eval1(node("Sigmoid", {"x"}), {&x}),
             {1 / (1 + std::exp(2.0)), 1 / (1 + std::exp(0.5)), 0.5, 1 / (1 + std::exp(-1.5))});
  check_near(eval1(node("Tanh", {"x"}), {&x}), {std::tanh(-2.0), std::tanh(-0.5), 0, std::tanh(1.5)});
  check_near(eval1(node("Softsign", {"x"}), {&x}), {-2.0 / 3, -0.5 / 1.5, 0, 1.5 / 2.5});
  check_near(eval1(node("Softplus", {"x"}), {&x}),
             {std::log(1 + std::exp(-2.0)), std::log(1 + std::exp(-0.5)), std::log(2.0), std::log(1 + std::exp(1.5))});
  check_near(eval1(node("ThresholdedRelu", {"x"}), {&x}), {0, 0, 0, 1.5});
  check_near(eval1(node("ThresholdedRelu", {"x"}).f("alpha", 2.0f), {&x}), {0, 0, 0, 0});
  // HardSigmoid: clip(0.2 x + 0.5, 0, 1); HardSwish: x clip(x / 6 + 0.5, 0, 1)
  check_near(eval1(node("HardSigmoid", {"x"}), {&x}), {0.1, 0.4, 0.5, 0.8});
  check_near(eval1(node("HardSigmoid", {"x"}).f("alpha", 0.5f).f("beta", 0.6f), {&x}), {0.0, 0.35, 0.6, 1.0});
  check_near(eval1(node("HardSwish", {"x"}), {&x}), {-2 * (1.0 / 6), -0.5 * (5.0 / 12), 0, 1.5 * 0.75});
  // Shrink (lambd 0.5 by default, bias 0): 0 inside [-lambd, lambd], x -+ bias outside
  check_near(eval1(node("Shrink", {"x"}), {&x}), {-2, 0, 0, 1.5});
  check_near(eval1(node("Shrink", {"x"}).f("lambd", 1.0f).f("bias", 0.5f), {&x}), {-1.5, 0, 0, 1.0});
  // Relu on integers (opset 14)
  const auto k = typed<std::int8_t>(tp::INT8, {3}, {-5, 0, 7});
  CHECK(eval1(node("Relu", {"k"}), {&k}, 14) == typed<std::int8_t>(tp::INT8, {3}, {0, 0, 7}));
  // an attribute it does not read declines the node
  CHECK_FALSE(try_eval(node("Relu", {"x"}).f("alpha", 1.0f), {&x}));
}

TEST_CASE("[dfgpar][onnx] evaluate: PRelu broadcasts the slope to the input") {
  const auto x = f32({2, 2}, {-1.0f, 2.0f, -3.0f, 4.0f});
  const auto s = f32({2}, {0.5f, 0.25f});
  check_near(eval1(node("PRelu", {"x", "s"}), {&x, &s}), {-0.5, 2, -1.5, 4});
  const auto s1 = f32({1}, {0.1f});
  check_near(eval1(node("PRelu", {"x", "s"}), {&x, &s1}), {-0.1, 2, -0.3, 4});
  const auto big = f32({3, 2, 2}, std::vector<float>(12, 1.0f));
  CHECK_THROWS_AS(try_eval(node("PRelu", {"x", "s"}), {&x, &big}), dfgpar::graph_error);  // slope larger than x
}

TEST_CASE("[dfgpar][onnx] evaluate: Clip with bounds as attributes (opset 6) and inputs (opset 13), any numeric type") {
  const auto x = f32({4}, {-2.0f, 0.0f, 1.0f, 5.0f});
  check_near(eval1(node("Clip", {"x"}).f("min", -1.0f).f("max", 2.0f), {&x}, 6), {-1, 0, 1, 2});
  check_near(eval1(node("Clip", {"x"}), {&x}, 6), {-2, 0, 1, 5});  // unbounded
  const auto lo = f32({}, {0.5f}), hi = f32({}, {3.0f});
  check_near(eval1(node("Clip", {"x", "lo", "hi"}), {&x, &lo, &hi}), {0.5, 0.5, 1, 3});
  check_near(eval1(node("Clip", {"x", "", "hi"}), {&x, nullptr, &hi}), {-2, 0, 1, 3});
  // min > max: every value is max
  check_near(eval1(node("Clip", {"x", "hi", "lo"}), {&x, &hi, &lo}), {0.5, 0.5, 0.5, 0.5});
  const auto k = typed<std::int8_t>(tp::INT8, {4}, {-128, -3, 4, 127});
  const auto klo = typed<std::int8_t>(tp::INT8, {}, {-4});
  CHECK(eval1(node("Clip", {"k", "lo"}), {&k, &klo}) == typed<std::int8_t>(tp::INT8, {4}, {-4, -3, 4, 127}));
}

TEST_CASE("[dfgpar][onnx] evaluate: Mod (the divisor's sign, or fmod: the dividend's) and BitShift") {
  const auto a = typed<std::int32_t>(tp::INT32, {4}, {-4, 7, 5, -9});
  const auto b = typed<std::int32_t>(tp::INT32, {4}, {3, -3, 2, -4});
  CHECK(eval1(node("Mod", {"a", "b"}), {&a, &b}) == typed<std::int32_t>(tp::INT32, {4}, {2, -2, 1, -1}));
  CHECK(eval1(node("Mod", {"a", "b"}).i("fmod", 1), {&a, &b}) == typed<std::int32_t>(tp::INT32, {4}, {-1, 1, 1, -1}));
  const auto z = typed<std::int32_t>(tp::INT32, {}, {0});
  CHECK_FALSE(try_eval(node("Mod", {"a", "z"}), {&a, &z}));  // undefined: declined
  const auto fa = f32({3}, {-4.5f, 7.0f, 5.5f}), fb = f32({1}, {2.0f});
  check_near(eval1(node("Mod", {"a", "b"}).i("fmod", 1), {&fa, &fb}), {-0.5, 1.0, 1.5});
  CHECK_THROWS_AS(try_eval(node("Mod", {"a", "b"}), {&fa, &fb}), dfgpar::graph_error);  // floats need fmod 1
  const auto u = typed<std::uint8_t>(tp::UINT8, {3}, {16, 4, 1}), s = typed<std::uint8_t>(tp::UINT8, {3}, {1, 2, 8});
  CHECK(eval1(node("BitShift", {"u", "s"}).s("direction", "LEFT"), {&u, &s}) ==
        typed<std::uint8_t>(tp::UINT8, {3}, {32, 16, 0}));
  CHECK(eval1(node("BitShift", {"u", "s"}).s("direction", "RIGHT"), {&u, &s}) ==
        typed<std::uint8_t>(tp::UINT8, {3}, {8, 1, 0}));
  CHECK_THROWS_AS(try_eval(node("BitShift", {"u", "s"}), {&u, &s}), dfgpar::graph_error);  // direction is required
}

TEST_CASE("[dfgpar][onnx] evaluate: Min, Max and Mod on 16-bit floats (exact through float)") {
  const auto h = [](std::vector<float> v) {
    std::vector<std::uint16_t> b;
    for (float f : v) b.push_back(ox::float_to_half(f));
    const auto n = static_cast<std::int64_t>(b.size());
    return typed<std::uint16_t>(tp::FLOAT16, {n}, b);
  };
  const auto a = h({1.5f, -2.0f, 7.0f}), b = h({0.5f, 3.0f, 2.0f});
  CHECK(eval1(node("Max", {"a", "b"}), {&a, &b}) == h({1.5f, 3.0f, 7.0f}));
  CHECK(eval1(node("Min", {"a", "b"}), {&a, &b}) == h({0.5f, -2.0f, 2.0f}));
  CHECK(eval1(node("Mod", {"a", "b"}).i("fmod", 1), {&a, &b}) == h({0.0f, -2.0f, 1.0f}));
  CHECK_FALSE(try_eval(node("Sum", {"a", "b"}), {&a, &b}));  // rounding would differ from half arithmetic
}

TEST_CASE("[dfgpar][onnx] evaluate: ArgMax / ArgMin with keepdims, negative axes and select_last_index") {
  const auto x = f32({2, 3}, {1.0f, 5.0f, 5.0f, 7.0f, 0.0f, 7.0f});
  const auto mx = eval1(node("ArgMax", {"x"}).i("axis", 1), {&x});
  CHECK(mx == i64({2, 1}, {1, 0}));
  CHECK(eval1(node("ArgMax", {"x"}).i("axis", -1).i("select_last_index", 1), {&x}) == i64({2, 1}, {2, 2}));
  CHECK(eval1(node("ArgMax", {"x"}).i("keepdims", 0), {&x}) == i64({3}, {1, 0, 1}));
  CHECK(eval1(node("ArgMin", {"x"}).i("axis", 1).i("keepdims", 0), {&x}) == i64({2}, {0, 1}));
  const auto k = typed<std::int32_t>(tp::INT32, {4}, {3, 1, 1, 3});
  CHECK(eval1(node("ArgMin", {"k"}).i("select_last_index", 1), {&k}) == i64({1}, {2}));
  CHECK(eval1(node("ArgMax", {"k"}), {&k}) == i64({1}, {0}));
  CHECK_THROWS_AS(try_eval(node("ArgMax", {"k"}).i("axis", 1), {&k}), dfgpar::graph_error);
}

TEST_CASE("[dfgpar][onnx] evaluate: ReduceL1, ReduceL2, ReduceSumSquare, ReduceLogSum, ReduceLogSumExp") {
  const auto x = f32({2, 2}, {3.0f, -4.0f, 1.0f, 2.0f});
  check_near(eval1(node("ReduceL1", {"x"}).ints("axes", {1}), {&x}), {7, 3});
  check_near(eval1(node("ReduceL2", {"x"}).ints("axes", {1}).i("keepdims", 0), {&x}), {5, std::sqrt(5.0)});
  check_near(eval1(node("ReduceSumSquare", {"x"}), {&x}), {30});
  CHECK(eval1(node("ReduceSumSquare", {"x"}), {&x}).dims == ints{1, 1});
  check_near(eval1(node("ReduceLogSum", {"x"}).ints("axes", {0}), {&x}), {std::log(4.0), std::log(-2.0)});
  check_near(eval1(node("ReduceLogSumExp", {"x"}).ints("axes", {0}).i("keepdims", 0), {&x}),
             {std::log(std::exp(3.0) + std::exp(1.0)), std::log(std::exp(-4.0) + std::exp(2.0))});
  // integers: L1 and SumSquare exact; L2 and the logarithms are for floating point
  const auto k = i64({3}, {-2, 3, -4});
  CHECK(eval1(node("ReduceL1", {"k"}), {&k}) == i64({1}, {9}));
  CHECK(eval1(node("ReduceSumSquare", {"k"}), {&k}) == i64({1}, {29}));
  CHECK_FALSE(try_eval(node("ReduceL2", {"k"}), {&k}));
  // opset 18 takes the axes as input 1
  const auto ax = i64({1}, {-1});
  check_near(eval1(node("ReduceL1", {"x", "a"}), {&x, &ax}, 18), {7, 3});
}

}  // namespace
