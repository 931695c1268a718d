// The argument layer (include/dfgpar/onnx/args/): each family's opset rules,
// with arguments known before run time and computed at run time.

#include <dfgpar/onnx/args/args.hpp>

#include "onnx_node.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <vector>

namespace {

namespace ox = dfgpar::onnx;
using onnx_test::f32;
using onnx_test::i64;
using onnx_test::node;
using ints = std::vector<std::int64_t>;

/// Inputs known except the ones marked null but given (computed at run time).
ox::node_inputs known_except(const ::onnx::NodeProto& n, std::vector<const ox::tensor*> values) {
  return ox::node_inputs::of(n, [&](std::size_t i) { return i < values.size() ? values[i] : nullptr; });
}

TEST_CASE("[dfgpar][onnx] args: Slice from attributes (opset 9) and inputs (opset 10+), defaults filled") {
  const node old = node("Slice", {"x"}).ints("starts", {1}).ints("ends", {3});
  ox::attribute_reader a(old);
  const auto s9 = ox::read_slice(old, a, 9, known_except(old, {}));
  CHECK(s9.starts.source == ox::arg_source::attribute);
  CHECK(*s9.axes.value == ints{0});
  CHECK(*s9.steps.value == ints{1});
  CHECK(a.all_read());

  const auto st = i64({2}, {0, -2}), en = i64({2}, {2, std::numeric_limits<std::int64_t>::max()}), ax = i64({2}, {1, 0});
  const node n("Slice", {"x", "st", "en", "ax"});
  ox::attribute_reader b(n);
  const auto s13 = ox::read_slice(n, b, 13, known_except(n, {nullptr, &st, &en, &ax}));
  CHECK(s13.all_known());
  CHECK(s13.starts.input == 1);
  CHECK(*s13.steps.value == ints{1, 1});
  const auto p = ox::resolve_slice(n, s13, {5, 4});
  CHECK(p.start == ints{3, 0});
  CHECK(p.count == ints{2, 2});

  // ends computed at run time: reported, nothing invented
  const auto s_rt = ox::read_slice(n, b, 13, known_except(n, {nullptr, &st, nullptr, &ax}));
  CHECK(s_rt.ends.at_run_time());
  CHECK(s_rt.ends.input == 2);
  CHECK_FALSE(s_rt.all_known());

  const auto short_ends = i64({1}, {1});
  CHECK_THROWS_AS(ox::read_slice(n, b, 13, known_except(n, {nullptr, &st, &short_ends})), ox::argument_error);
  const node missing("Slice", {"x"});
  ox::attribute_reader c(missing);
  CHECK_THROWS_WITH(ox::read_slice(missing, c, 13, known_except(missing, {})), doctest::Contains("missing starts/ends"));
}

TEST_CASE("[dfgpar][onnx] args: Squeeze/Unsqueeze axes: attribute before opset 13, input since") {
  const node old = node("Unsqueeze", {"x"}).ints("axes", {0, -1});
  ox::attribute_reader a(old);
  CHECK(*ox::read_squeeze_axes(old, a, 11, known_except(old, {})).value == ints{0, -1});
  CHECK(ox::unsqueeze_dims(old, {3}, {0, -1}) == ints{1, 3, 1});
  const node now("Unsqueeze", {"x", "axes"});
  ox::attribute_reader b(now);
  CHECK(ox::read_squeeze_axes(now, b, 13, known_except(now, {})).at_run_time());
  const node none("Unsqueeze", {"x"});
  ox::attribute_reader c(none);
  CHECK_THROWS_AS(ox::read_squeeze_axes(none, c, 13, known_except(none, {})), ox::argument_error);
  const node sq("Squeeze", {"x"});
  ox::attribute_reader d(sq);
  CHECK_FALSE(ox::read_squeeze_axes(sq, d, 13, known_except(sq, {})).given());  // every dimension of size 1
  CHECK(ox::squeeze_dims(sq, {1, 3, 1}, nullptr) == ints{3});
  const ints bad{1};
  CHECK_THROWS_AS(ox::squeeze_dims(sq, {1, 3, 1}, &bad), ox::argument_error);
}

TEST_CASE("[dfgpar][onnx] args: Reshape allowzero and shape attribute (opset < 5); Flatten axis") {
  const auto shape = i64({3}, {0, -1, 2});
  const node n = node("Reshape", {"x", "s"}).i("allowzero", 0);
  ox::attribute_reader a(n);
  const auto r = ox::read_reshape(n, a, 14, known_except(n, {nullptr, &shape}));
  CHECK_FALSE(r.allowzero);
  CHECK(ox::reshape_dims(n, {2, 3, 4}, *r.shape.value, r.allowzero) == ints{2, 6, 2});
  CHECK(ox::reshape_dims(n, {0, 3}, {0, 3}, true) == ints{0, 3});
  CHECK_THROWS_AS(ox::reshape_dims(n, {2, 3}, {-1, -1}, false), ox::argument_error);
  const node old = node("Reshape", {"x"}).ints("shape", {6});
  ox::attribute_reader b(old);
  CHECK(ox::read_reshape(old, b, 4, known_except(old, {})).shape.source == ox::arg_source::attribute);
  const node fl = node("Flatten", {"x"}).i("axis", -1);
  ox::attribute_reader c(fl);
  CHECK(ox::read_flatten_axis(fl, c, 3) == 2);
  CHECK(ox::flatten_dims({2, 3, 4}, 2) == ints{6, 4});
}

TEST_CASE("[dfgpar][onnx] args: Pad by opset: paddings (1), pads and value attributes (2-10), inputs (11+), axes") {
  const node p1 = node("Pad", {"x"}).ints("paddings", {1, 1}).f("value", 2.0f);
  ox::attribute_reader a(p1);
  const auto r1 = ox::read_pad(p1, a, 1, known_except(p1, {}));
  CHECK(*r1.pads.value == ints{1, 1});
  CHECK(*r1.value.value == 2.0);
  CHECK(r1.mode == "constant");
  const node p2 = node("Pad", {"x"}).ints("pads", {0, 1}).s("mode", "reflect");
  ox::attribute_reader b(p2);
  const auto r2 = ox::read_pad(p2, b, 2, known_except(p2, {}));
  CHECK(r2.mode == "reflect");
  CHECK(*r2.value.value == 0.0);
  const auto pads = i64({2}, {1, 2}), axes = i64({1}, {-1}), v = f32({}, {3.0f});
  const node p18("Pad", {"x", "p", "v", "a"});
  ox::attribute_reader c(p18);
  const auto r18 = ox::read_pad(p18, c, 18, known_except(p18, {nullptr, &pads, &v, &axes}));
  CHECK(*r18.value.value == 3.0);
  CHECK(ox::full_pads(p18, r18, 3) == ints{0, 0, 1, 0, 0, 2});
  const auto r_rt = ox::read_pad(p18, c, 18, known_except(p18, {nullptr, &pads, nullptr, &axes}));
  CHECK(r_rt.value.at_run_time());
}

TEST_CASE("[dfgpar][onnx] args: Resize and Upsample modes and where scales or sizes come from") {
  const node up7 = node("Upsample", {"x"}).s("mode", "bilinear").floats("scales", {1, 1, 2, 2});
  ox::attribute_reader a(up7);
  const auto u = ox::read_resize(up7, a, 7, known_except(up7, {}));
  CHECK(u.legacy);
  CHECK(u.mode == "linear");
  CHECK(u.coordinate_transformation_mode == "asymmetric");
  CHECK(*u.scales.value == std::vector<double>{1, 1, 2, 2});
  const auto sizes = i64({4}, {1, 3, 8, 8}), empty = f32({0}, {});
  const node r13 = node("Resize", {"x", "", "s", "z"}).s("mode", "cubic");
  ox::attribute_reader b(r13);
  const auto r = ox::read_resize(r13, b, 13, known_except(r13, {nullptr, nullptr, &empty, &sizes}));
  CHECK_FALSE(r.legacy);
  CHECK(r.coordinate_transformation_mode == "half_pixel");
  CHECK(r.nearest_mode == "round_prefer_floor");
  CHECK(*r.sizes.value == ints{1, 3, 8, 8});
  CHECK_FALSE(r.scales.given());
  const auto scales = f32({4}, {1, 1, 2, 2});
  CHECK_THROWS_WITH(ox::read_resize(r13, b, 13, known_except(r13, {nullptr, nullptr, &scales, &sizes})),
                    doctest::Contains("both scales and sizes"));
}

TEST_CASE("[dfgpar][onnx] args: Cast targets (a type name before opset 6), CastLike") {
  const node c1 = node("Cast", {"x"}).s("to", "INT64");
  ox::attribute_reader a(c1);
  CHECK(ox::read_cast(c1, a, 1).to == ::onnx::TensorProto::INT64);
  const node c13 = node("Cast", {"x"}).i("to", ::onnx::TensorProto::FLOAT16);
  ox::attribute_reader b(c13);
  CHECK(ox::read_cast(c13, b, 13).to == ::onnx::TensorProto::FLOAT16);
  const node bad = node("Cast", {"x"}).i("to", 999);
  ox::attribute_reader c(bad);
  CHECK_THROWS_AS(ox::read_cast(bad, c, 13), ox::argument_error);
  const node s13 = node("Cast", {"x"}).s("to", "INT64");
  ox::attribute_reader d(s13);
  CHECK_THROWS_AS(ox::read_cast(s13, d, 13), ox::argument_error);  // a STRING `to` only before opset 6
}

TEST_CASE("[dfgpar][onnx] args: Dropout in inference by opset (is_test, always, training_mode input)") {
  const node d6 = node("Dropout", {"x"}).i("is_test", 1).f("ratio", 0.3f);
  ox::attribute_reader a(d6);
  const auto r6 = ox::read_dropout(d6, a, 6, known_except(d6, {}));
  CHECK(r6.is_identity());
  CHECK(*r6.ratio.value == doctest::Approx(0.3));
  const node d6t("Dropout", {"x"});
  ox::attribute_reader b(d6t);
  CHECK(ox::read_dropout(d6t, b, 6, known_except(d6t, {})).mode == ox::dropout_mode::training);  // is_test defaults to 0
  CHECK(ox::read_dropout(d6t, b, 7, known_except(d6t, {})).is_identity());
  const node d13("Dropout", {"x", "r", "t"}, {"y", "mask"});
  ox::attribute_reader c(d13);
  const auto yes = ox::make_tensor<std::uint8_t>(::onnx::TensorProto::BOOL, {}, {1});
  const auto no = ox::make_tensor<std::uint8_t>(::onnx::TensorProto::BOOL, {}, {0});
  CHECK(ox::read_dropout(d13, c, 13, known_except(d13, {nullptr, nullptr, &yes})).mode == ox::dropout_mode::training);
  const auto inf = ox::read_dropout(d13, c, 13, known_except(d13, {nullptr, nullptr, &no}));
  CHECK(inf.mode == ox::dropout_mode::inference);
  CHECK(inf.mask_output);
  CHECK_FALSE(inf.is_identity());  // the mask is an output
  CHECK(ox::read_dropout(d13, c, 13, known_except(d13, {})).mode == ox::dropout_mode::at_run_time);
}

TEST_CASE("[dfgpar][onnx] args: Reduce axes (attribute until ReduceSum-13 / others-18), Clip, Split, TopK, Softmax, Shape") {
  const node rs = node("ReduceSum", {"x"}).ints("axes", {1}).i("keepdims", 0);
  ox::attribute_reader a(rs);
  const auto r11 = ox::read_reduce(rs, a, 11, known_except(rs, {}));
  CHECK(*r11.axes.value == ints{1});
  CHECK_FALSE(r11.keepdims);
  CHECK_FALSE(ox::read_reduce(rs, a, 13, known_except(rs, {})).axes.given());
  const node rm = node("ReduceMean", {"x"}).ints("axes", {1});
  ox::attribute_reader b(rm);
  CHECK(ox::read_reduce(rm, b, 13, known_except(rm, {})).axes.given());

  const node c6 = node("Clip", {"x"}).f("min", 0.0f);
  ox::attribute_reader c(c6);
  const auto cl = ox::read_clip(c6, c, 6, known_except(c6, {}));
  CHECK(*cl.min.value == 0.0);
  CHECK_FALSE(cl.max.given());
  const node c13("Clip", {"x", "", "hi"});
  ox::attribute_reader d(c13);
  const auto cl13 = ox::read_clip(c13, d, 13, known_except(c13, {}));
  CHECK_FALSE(cl13.min.given());
  CHECK(cl13.max.at_run_time());

  const node s11 = node("Split", {"x"}, {"a", "b"}).ints("split", {1, 2}).i("axis", 1);
  ox::attribute_reader e(s11);
  const auto sp = ox::read_split(s11, e, 11, known_except(s11, {}));
  CHECK(*sp.split.value == ints{1, 2});
  CHECK(sp.axis == 1);
  const auto k = i64({1}, {3});
  const node tk("TopK", {"x", "k"}, {"v", "i"});
  ox::attribute_reader f(tk);
  CHECK(*ox::read_topk(tk, f, 11, known_except(tk, {nullptr, &k})).k.value == 3);
  const node sm("Softmax", {"x"});
  ox::attribute_reader g(sm);
  CHECK(ox::read_softmax(sm, g, 11).axis == 1);
  CHECK(ox::read_softmax(sm, g, 11).coerce_2d);
  CHECK(ox::read_softmax(sm, g, 13).axis == -1);
  const node sh = node("Shape", {"x"}).i("start", -2);
  ox::attribute_reader h(sh);
  CHECK(ox::shape_range(sh, h, 15, 4) == std::pair<std::int64_t, std::int64_t>{2, 4});
  CHECK(ox::shape_range(sh, h, 13, 4) == std::pair<std::int64_t, std::int64_t>{0, 4});
}

}  // namespace
