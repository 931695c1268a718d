// The folding evaluator's indexing, data-movement, loss, normalisation and
// Resize rules (include/dfgpar/onnx/evaluate_tensor.hpp, evaluate_nn.hpp),
// each against values computed by hand from the ONNX specification.

#include <dfgpar/onnx/evaluate.hpp>

#include "evaluate_checks.hpp"
#include "onnx_node.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <optional>
#include <vector>

namespace {

namespace ox = dfgpar::onnx;
using onnx_test::check_f32;
using onnx_test::eval;
using onnx_test::f32;
using onnx_test::i64;
using onnx_test::node;
using fl = std::vector<float>;
using ints = std::vector<std::int64_t>;
using tp = ::onnx::TensorProto;

}  // namespace

TEST_CASE("[dfgpar][onnx] evaluate: GatherElements, GatherND and the scatters") {
  const auto d = f32({2, 2}, {1, 2, 3, 4});
  const auto gi = i64({2, 2}, {0, 0, 1, 0});
  check_f32(eval(node("GatherElements", {"d", "i"}).i("axis", 1), {&d, &gi})[0], {2, 2}, {1, 1, 4, 3});
  const auto neg = i64({1, 2}, {-1, 0});
  check_f32(eval(node("GatherElements", {"d", "i"}), {&d, &neg})[0], {1, 2}, {3, 2});
  const auto bad = i64({1, 2}, {2, 0});
  CHECK_THROWS_AS(eval(node("GatherElements", {"d", "i"}), {&d, &bad}), dfgpar::graph_error);

  // GatherND: [[0,0],[1,1]] -> [1, 4]; rows [[1],[0]] -> [[3,4],[1,2]]; batch_dims 1
  const auto nd = i64({2, 2}, {0, 0, 1, 1}), rows = i64({2, 1}, {1, 0});
  check_f32(eval(node("GatherND", {"d", "i"}), {&d, &nd})[0], {2}, {1, 4});
  check_f32(eval(node("GatherND", {"d", "i"}), {&d, &rows})[0], {2, 2}, {3, 4, 1, 2});
  const auto bi = i64({2, 1}, {1, 0});
  check_f32(eval(node("GatherND", {"d", "i"}).i("batch_dims", 1), {&d, &bi})[0], {2}, {2, 3});

  // ScatterElements along axis 1, with and without reduction; Scatter (opset 9) is the same rule
  const auto z = f32({1, 5}, {1, 2, 3, 4, 5});
  const auto si = i64({1, 2}, {1, 3}), su = f32({1, 2}, {1.1f, 2.1f});
  check_f32(eval(node("ScatterElements", {"d", "i", "u"}).i("axis", 1), {&z, &si, &su})[0], {1, 5}, {1, 1.1f, 3, 2.1f, 5});
  check_f32(eval(node("Scatter", {"d", "i", "u"}).i("axis", 1), {&z, &si, &su}, 9)[0], {1, 5}, {1, 1.1f, 3, 2.1f, 5});
  const auto dup = i64({1, 2}, {1, 1});
  check_f32(eval(node("ScatterElements", {"d", "i", "u"}).i("axis", 1).s("reduction", "add"), {&z, &dup, &su}, 16)[0],
            {1, 5}, {1, 5.2f, 3, 4, 5});
  // ScatterND: rows 0 and 2 of a [4] vector, then multiply
  const auto v4 = f32({4}, {1, 2, 3, 4}), ndi = i64({2, 1}, {0, 2}), ndu = f32({2}, {10, 20});
  check_f32(eval(node("ScatterND", {"d", "i", "u"}), {&v4, &ndi, &ndu})[0], {4}, {10, 2, 20, 4});
  check_f32(eval(node("ScatterND", {"d", "i", "u"}).s("reduction", "mul"), {&v4, &ndi, &ndu}, 16)[0], {4}, {10, 2, 60, 4});
}

TEST_CASE("[dfgpar][onnx] evaluate: Trilu, CumSum, Hardmax, TopK, ReverseSequence") {
  const auto m = f32({3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  check_f32(eval(node("Trilu", {"x"}), {&m}, 14)[0], {3, 3}, {1, 2, 3, 0, 5, 6, 0, 0, 9});
  const auto k1 = i64({}, {1}), km1 = i64({}, {-1});
  check_f32(eval(node("Trilu", {"x", "k"}), {&m, &k1}, 14)[0], {3, 3}, {0, 2, 3, 0, 0, 6, 0, 0, 0});
  check_f32(eval(node("Trilu", {"x", "k"}).i("upper", 0), {&m, &km1}, 14)[0], {3, 3}, {0, 0, 0, 4, 0, 0, 7, 8, 0});

  const auto c = f32({5}, {1, 2, 3, 4, 5});
  const auto ax = i64({}, {0});
  check_f32(eval(node("CumSum", {"x", "a"}), {&c, &ax})[0], {5}, {1, 3, 6, 10, 15});
  check_f32(eval(node("CumSum", {"x", "a"}).i("exclusive", 1).i("reverse", 1), {&c, &ax})[0], {5}, {14, 12, 9, 5, 0});
  const auto ax1 = i64({}, {-1});
  const auto c2 = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  check_f32(eval(node("CumSum", {"x", "a"}), {&c2, &ax1})[0], {2, 3}, {1, 3, 6, 4, 9, 15});

  // Hardmax: the first maximum wins; opset 11 coerces to 2-D at axis 1
  const auto h = f32({2, 3}, {3, 1, 3, 0, 5, 2});
  check_f32(eval(node("Hardmax", {"x"}), {&h})[0], {2, 3}, {1, 0, 0, 0, 1, 0});
  check_f32(eval(node("Hardmax", {"x"}).i("axis", 0), {&h})[0], {2, 3}, {1, 0, 1, 0, 1, 0});
  const auto h3 = f32({1, 2, 2}, {1, 4, 4, 2});
  check_f32(eval(node("Hardmax", {"x"}), {&h3}, 11)[0], {1, 2, 2}, {0, 1, 0, 0});

  // TopK: ties by the lower index; smallest
  const auto t = f32({2, 4}, {1, 3, 3, 2, 4, 0, 4, 1});
  const auto k2 = i64({1}, {2});
  auto r = eval(node("TopK", {"x", "k"}, {"v", "i"}), {&t, &k2});
  REQUIRE(r.size() == 2);
  check_f32(r[0], {2, 2}, {3, 3, 4, 4});
  CHECK(r[1] == i64({2, 2}, {1, 2, 0, 2}));
  r = eval(node("TopK", {"x", "k"}, {"v", "i"}).i("largest", 0).i("axis", 0), {&t, &k2}, 11);
  check_f32(r[0], {2, 4}, {1, 0, 3, 1, 4, 3, 4, 2});
  CHECK(r[1] == i64({2, 4}, {0, 1, 0, 1, 1, 0, 1, 0}));
  const auto k5 = i64({1}, {5});
  CHECK_THROWS_AS(eval(node("TopK", {"x", "k"}, {"v", "i"}), {&t, &k5}), dfgpar::graph_error);

  // ReverseSequence: time axis 0, batch axis 1, lengths [2, 1, 3]
  const auto s = f32({3, 3}, {0, 1, 2, 3, 4, 5, 6, 7, 8});
  const auto lens = i64({3}, {2, 1, 3});
  check_f32(eval(node("ReverseSequence", {"x", "l"}), {&s, &lens})[0], {3, 3}, {3, 1, 8, 0, 4, 5, 6, 7, 2});
}

TEST_CASE("[dfgpar][onnx] evaluate: DepthToSpace, SpaceToDepth, OneHot, EyeLike, Pad") {
  // [1, 4, 1, 1] -> [1, 1, 2, 2]; DCR reads channel (bh * 2 + bw), CRD the same for one output channel
  const auto x = f32({1, 8, 1, 1}, {0, 1, 2, 3, 4, 5, 6, 7});
  // DCR: out channel c, block (bh, bw) <- in channel (bh * 2 + bw) * 2 + c
  check_f32(eval(node("DepthToSpace", {"x"}).i("blocksize", 2), {&x})[0], {1, 2, 2, 2}, {0, 2, 4, 6, 1, 3, 5, 7});
  // CRD: <- in channel c * 4 + bh * 2 + bw
  check_f32(eval(node("DepthToSpace", {"x"}).i("blocksize", 2).s("mode", "CRD"), {&x})[0], {1, 2, 2, 2},
            {0, 1, 2, 3, 4, 5, 6, 7});
  // SpaceToDepth inverts DCR
  const auto sp = eval(node("DepthToSpace", {"x"}).i("blocksize", 2), {&x})[0];
  check_f32(eval(node("SpaceToDepth", {"x"}).i("blocksize", 2), {&sp})[0], {1, 8, 1, 1}, {0, 1, 2, 3, 4, 5, 6, 7});

  const auto ind = i64({3}, {0, -1, 5}), depth = i64({}, {3}), vals = f32({2}, {0, 7});
  check_f32(eval(node("OneHot", {"i", "d", "v"}), {&ind, &depth, &vals}, 11)[0], {3, 3}, {7, 0, 0, 0, 0, 7, 0, 0, 0});
  check_f32(eval(node("OneHot", {"i", "d", "v"}).i("axis", 0), {&ind, &depth, &vals}, 11)[0], {3, 3},
            {7, 0, 0, 0, 0, 0, 0, 7, 0});

  const auto e = f32({2, 3}, fl(6, 5));
  check_f32(eval(node("EyeLike", {"x"}).i("k", 1), {&e})[0], {2, 3}, {0, 1, 0, 0, 0, 1});
  const auto ei = eval(node("EyeLike", {"x"}).i("dtype", tp::INT64), {&e})[0];
  CHECK(ei == i64({2, 3}, {1, 0, 0, 0, 1, 0}));

  const auto p = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  const auto pads = i64({4}, {0, 2, 0, 1}), cv = f32({}, {9});
  check_f32(eval(node("Pad", {"x", "p", "c"}), {&p, &pads, &cv})[0], {2, 6}, {9, 9, 1, 2, 3, 9, 9, 9, 4, 5, 6, 9});
  check_f32(eval(node("Pad", {"x", "p"}).s("mode", "reflect"), {&p, &pads})[0], {2, 6}, {3, 2, 1, 2, 3, 2, 6, 5, 4, 5, 6, 5});
  check_f32(eval(node("Pad", {"x", "p"}).s("mode", "edge"), {&p, &pads})[0], {2, 6}, {1, 1, 1, 2, 3, 3, 4, 4, 4, 5, 6, 6});
  // opset 2: pads and value attributes; negative pads crop
  check_f32(eval(node("Pad", {"x"}).ints("pads", {0, -1, 0, 0}).f("value", 1), {&p}, 2)[0], {2, 2}, {2, 3, 5, 6});
  // a padded output over the folding limit is not computed
  const auto big = i64({4}, {0, 0, 0, 1 << 21});
  CHECK_FALSE(ox::evaluate(node("Pad", {"x", "p"}), std::vector<const ox::tensor*>{&p, &big}, 13));
}

TEST_CASE("[dfgpar][onnx] evaluate: NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss") {
  // log-probabilities of N = 2, C = 3; targets [2, 0]
  const auto lp = f32({2, 3}, {-1, -2, -3, -4, -5, -6});
  const auto t = i64({2}, {2, 0}), w = f32({3}, {0.5f, 1, 2});
  check_f32(eval(node("NegativeLogLikelihoodLoss", {"x", "t"}).s("reduction", "none"), {&lp, &t})[0], {2}, {3, 4});
  check_f32(eval(node("NegativeLogLikelihoodLoss", {"x", "t"}), {&lp, &t})[0], {}, {3.5f});
  // weighted mean: (3 * 2 + 4 * 0.5) / (2 + 0.5)
  check_f32(eval(node("NegativeLogLikelihoodLoss", {"x", "t", "w"}), {&lp, &t, &w})[0], {}, {3.2f});
  check_f32(eval(node("NegativeLogLikelihoodLoss", {"x", "t", "w"}).s("reduction", "sum"), {&lp, &t, &w})[0], {}, {8});
  // ignore_index: the ignored element counts neither in the sum nor in the divisor
  check_f32(eval(node("NegativeLogLikelihoodLoss", {"x", "t"}).i("ignore_index", 0), {&lp, &t})[0], {}, {3});
  const auto out = i64({2}, {3, 0});
  CHECK_THROWS_AS(eval(node("NegativeLogLikelihoodLoss", {"x", "t"}), {&lp, &out}), dfgpar::graph_error);

  // SCE of equal scores: log_prob = -log 3 everywhere, loss = log 3
  const auto s = f32({2, 3}, fl(6, 1.5f));
  const float l3 = std::log(3.0f);
  auto r = eval(node("SoftmaxCrossEntropyLoss", {"x", "t"}, {"y", "lp"}), {&s, &t});
  REQUIRE(r.size() == 2);
  check_f32(r[0], {}, {l3});
  check_f32(r[1], {2, 3}, fl(6, -l3));
  // scores [0, ln 3]: softmax [1/4, 3/4]; target 1 -> -log(3/4)
  const auto s2 = f32({1, 2}, {0, std::log(3.0f)}), t1 = i64({1}, {1});
  r = eval(node("SoftmaxCrossEntropyLoss", {"x", "t"}).s("reduction", "sum"), {&s2, &t1});
  REQUIRE(r.size() == 1);
  check_f32(r[0], {}, {-std::log(0.75f)});
}

TEST_CASE("[dfgpar][onnx] evaluate: LayerNormalization with Mean and InvStdDev") {
  // rows [1, 3] and [2, 6]: means 2, 4; variances 1, 4
  const auto x = f32({2, 2}, {1, 3, 2, 6}), sc = f32({2}, {1, 2}), b = f32({2}, {0, 1});
  auto r = eval(node("LayerNormalization", {"x", "s", "b"}, {"y", "m", "i"}).f("epsilon", 0), {&x, &sc, &b}, 17);
  REQUIRE(r.size() == 3);
  check_f32(r[0], {2, 2}, {-1, 3, -1, 3});
  check_f32(r[1], {2, 1}, {2, 4});
  check_f32(r[2], {2, 1}, {1, 0.5f});
  // axis 0: one row of four, mean 3, variance 3.5
  const auto s4 = f32({2, 2}, fl(4, 1));
  r = eval(node("LayerNormalization", {"x", "s"}).i("axis", 0).f("epsilon", 0), {&x, &s4}, 17);
  REQUIRE(r.size() == 1);
  const float is = 1 / std::sqrt(3.5f);
  check_f32(r[0], {2, 2}, {-2 * is, 0, -1 * is, 3 * is});
}

TEST_CASE("[dfgpar][onnx] evaluate: Resize and Upsample") {
  const auto x = f32({1, 1, 2, 2}, {1, 2, 3, 4});
  const auto sc = f32({4}, {1, 1, 2, 2});
  const ox::tensor* none = nullptr;
  // nearest, asymmetric + floor (the legacy rule): a repeat
  auto up = eval(node("Upsample", {"x", "s"}).s("mode", "nearest"), {&x, &sc}, 9)[0];
  check_f32(up, {1, 1, 4, 4}, {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4});
  // Upsample-7: scales attribute
  check_f32(eval(node("Upsample", {"x"}).floats("scales", {1, 1, 1, 2}), {&x}, 7)[0], {1, 1, 2, 4}, {1, 1, 2, 2, 3, 3, 4, 4});
  // linear, half_pixel (default since opset 11): out 0 -> x_in = -0.25 (edge), out 1 -> 0.25
  const auto x1 = f32({1, 4}, {1, 2, 3, 4}), s1 = f32({2}, {1, 0.5f});
  check_f32(eval(node("Resize", {"x", "", "s"}).s("mode", "linear"), {&x1, none, &s1})[0], {1, 2}, {1.5f, 3.5f});
  const auto s2 = f32({2}, {1, 2});
  const auto x2 = f32({1, 2}, {1, 3});
  // half_pixel x2: x_in = -0.25, 0.25, 0.75, 1.25 -> 1, 1.5, 2.5, 3
  check_f32(eval(node("Resize", {"x", "", "s"}).s("mode", "linear"), {&x2, none, &s2})[0], {1, 4}, {1, 1.5f, 2.5f, 3});
  // align_corners x2 with sizes: x_in = k / 3
  const auto sz = i64({2}, {1, 4});
  check_f32(eval(node("Resize", {"x", "", "", "z"}).s("mode", "linear").s("coordinate_transformation_mode", "align_corners"),
                 {&x2, none, none, &sz})[0],
            {1, 4}, {1, 5.0f / 3, 7.0f / 3, 3});
  // nearest round_prefer_ceil, asymmetric, scale 2: x_in = 0, 0.5, 1, 1.5 -> 0, 1, 1, 1 (clamped)
  check_f32(eval(node("Resize", {"x", "", "s"}).s("coordinate_transformation_mode", "asymmetric").s("nearest_mode", "round_prefer_ceil"),
                 {&x2, none, &s2})[0],
            {1, 4}, {1, 3, 3, 3});
  // cubic, asymmetric, scale 2 on [0, 1, 2, 3]: x_in = 0.5 between 1 and 2 -> 1.5 (symmetric taps)
  const auto c = f32({1, 4}, {0, 1, 2, 3});
  const auto cu = eval(node("Resize", {"x", "", "s"}).s("mode", "cubic").s("coordinate_transformation_mode", "asymmetric"),
                       {&c, none, &s2})[0];
  REQUIRE(cu.dims == ints{1, 8});
  CHECK(cu.values<float>()[2] == doctest::Approx(1.0));
  CHECK(cu.values<float>()[3] == doctest::Approx(1.5));
  // tf_crop_and_resize: roi [0.5, 1] of the row, outside -> extrapolation_value
  const auto roi = f32({4}, {0, 0.5f, 1, 1.5f});
  const auto sz3 = i64({2}, {1, 3});
  check_f32(eval(node("Resize", {"x", "r", "", "z"})
                     .s("mode", "linear")
                     .s("coordinate_transformation_mode", "tf_crop_and_resize")
                     .f("extrapolation_value", -1),
                 {&c, &roi, none, &sz3})[0],
            {1, 3}, {1.5f, 3, -1});
  // both scales and sizes: an invalid node
  CHECK_THROWS_AS(eval(node("Resize", {"x", "", "s", "z"}), {&x2, none, &s2, &sz}), dfgpar::graph_error);
}

TEST_CASE("[dfgpar][onnx] evaluate: Einsum") {
  const auto a = f32({2, 2}, {1, 2, 3, 4}), b = f32({2, 2}, {5, 6, 7, 8});
  check_f32(eval(node("Einsum", {"a", "b"}).s("equation", "ij,jk->ik"), {&a, &b}, 12)[0], {2, 2}, {19, 22, 43, 50});
  check_f32(eval(node("Einsum", {"a"}).s("equation", "ij->ji"), {&a}, 12)[0], {2, 2}, {1, 3, 2, 4});
  check_f32(eval(node("Einsum", {"a"}).s("equation", "ij->i"), {&a}, 12)[0], {2}, {3, 7});
  // implicit output: the letters seen once, sorted; a repeated letter reads the diagonal
  check_f32(eval(node("Einsum", {"a"}).s("equation", "ii"), {&a}, 12)[0], {}, {5});
  check_f32(eval(node("Einsum", {"a", "b"}).s("equation", "i j, i j"), {&a, &b}, 12)[0], {}, {70});
  const auto c = f32({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  check_f32(eval(node("Einsum", {"c"}).s("equation", "...ii->...i"), {&c}, 12)[0], {2, 2}, {1, 4, 5, 8});
  CHECK_THROWS_AS(eval(node("Einsum", {"a", "b"}).s("equation", "ij->ij"), {&a, &b}, 12), dfgpar::graph_error);
}
