// Issue 9's pipeline side: the folding rules real exports need (Split,
// Min/Max, comparisons, logic, rounding, Pow, reductions, Tile), input shapes
// fixed by the user or defaulted for the batch, folding to a fixed point,
// constant If conditions inlined, subgraphs that read outer initializers,
// control-flow costs, and the warning that names unknown dimensions.

#include <dfgpar/onnx/cost_model.hpp>
#include <dfgpar/onnx/evaluate.hpp>
#include <dfgpar/onnx/model.hpp>
#include <dfgpar/onnx/optimize.hpp>
#include <dfgpar/onnx/pipeline.hpp>
#include <dfgpar/onnx/save.hpp>

#include "onnx_node.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

namespace fs = std::filesystem;
namespace ox = dfgpar::onnx;
using tp = ::onnx::TensorProto;
using onnx_test::f32;
using onnx_test::i64;
using onnx_test::node;

ox::tensor boolean(std::vector<std::int64_t> dims, std::vector<std::uint8_t> v) {
  return ox::make_tensor<std::uint8_t>(tp::BOOL, std::move(dims), std::move(v));
}

/// evaluate() with one output expected.
ox::tensor eval1(const ::onnx::NodeProto& n, std::vector<const ox::tensor*> in, std::int64_t opset = 13) {
  auto out = ox::evaluate(n, in, opset);
  REQUIRE(out);
  REQUIRE(out->size() == 1);
  return (*out)[0];
}

/// A dimension: a value, or a symbolic name.
struct dim {
  std::int64_t value = -1;
  std::string param;
  dim(std::int64_t v) : value(v) {}  // NOLINT: 1 and "N" both read as dimensions
  dim(const char* p) : param(p) {}   // NOLINT
};

void value_info(::onnx::ValueInfoProto* v, const std::string& name, std::int32_t type, const std::vector<dim>& dims) {
  v->set_name(name);
  auto* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(type);
  auto* sh = t->mutable_shape();
  for (const auto& d : dims) {
    auto* x = sh->add_dim();
    if (d.param.empty()) x->set_dim_value(d.value);
    else x->set_dim_param(d.param);
  }
}

struct graph_builder {
  ::onnx::GraphProto g;
  graph_builder& input(const std::string& name, std::int32_t type, const std::vector<dim>& dims) {
    value_info(g.add_input(), name, type, dims);
    return *this;
  }
  graph_builder& output(const std::string& name) {  // float, shape left to inference
    auto* v = g.add_output();
    v->set_name(name);
    v->mutable_type()->mutable_tensor_type()->set_elem_type(tp::FLOAT);
    return *this;
  }
  graph_builder& output(const std::string& name, std::int32_t type, const std::vector<dim>& dims) {
    value_info(g.add_output(), name, type, dims);
    return *this;
  }
  graph_builder& init(const std::string& name, const ox::tensor& t) {
    *g.add_initializer() = ox::to_proto(t, name);
    return *this;
  }
  graph_builder& add(const ::onnx::NodeProto& n) {
    *g.add_node() = n;
    return *this;
  }
};

::onnx::ModelProto model_of(graph_builder b, std::int64_t opset = 13) {
  ::onnx::ModelProto m;
  m.set_ir_version(8);
  auto* o = m.add_opset_import();
  o->set_domain("");
  o->set_version(opset);
  b.g.set_name("test");
  *m.mutable_graph() = std::move(b.g);
  return m;
}

ox::model build(const ::onnx::ModelProto& m, const ox::load_options& o = {}) {
  return ox::build_model(m, fs::temp_directory_path(), o);
}

std::size_t count_op(const ox::model& m, const std::string& op) {
  std::size_t k = 0;
  for (const auto& n : m.proto.graph().node()) k += n.op_type() == op;
  return k;
}

bool has_initializer(const ox::model& m, const std::string& name) {
  for (const auto& t : m.proto.graph().initializer())
    if (t.name() == name) return true;
  return false;
}

/// Node `n` with a graph attribute `name`.
void set_graph(::onnx::NodeProto& n, const std::string& name, ::onnx::GraphProto g) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(::onnx::AttributeProto::GRAPH);
  g.set_name(name);
  *a->mutable_g() = std::move(g);
}

/// x [1,4] -> If(cond) { then: x + w_then, else: x - w_else } -> y.
::onnx::ModelProto if_model(bool cond_is_input, bool cond = true) {
  graph_builder then_b, else_b;
  then_b.add(node("Add", {"x", "w_then"}, {"then_add"})).add(node("Relu", {"then_add"}, {"then_sum"}));
  then_b.output("then_sum", tp::FLOAT, {1, 4});
  else_b.add(node("Sub", {"x", "w_else"}, {"else_diff"})).output("else_diff", tp::FLOAT, {1, 4});
  node n("If", {"c"}, {"y"});
  set_graph(n.n, "then_branch", then_b.g);
  set_graph(n.n, "else_branch", else_b.g);
  graph_builder b;
  b.input("x", tp::FLOAT, {1, 4});
  if (cond_is_input) b.input("c", tp::BOOL, {});
  else b.init("c", boolean({}, {static_cast<std::uint8_t>(cond)}));
  b.init("w_then", f32({4}, {1, 2, 3, 4})).init("w_else", f32({4}, {4, 3, 2, 1}));
  b.add(n).output("y", tp::FLOAT, {1, 4});
  return model_of(b);
}

}  // namespace

// ================================================================== folding rules

TEST_CASE("[dfgpar][onnx] evaluate: Split by input, attribute, equal parts and num_outputs") {
  const auto x = i64({6}, {1, 2, 3, 4, 5, 6});
  const auto sizes = i64({2}, {4, 2});
  {
    node n("Split", {"x", "s"}, {"a", "b"});
    auto out = ox::evaluate(n, std::vector<const ox::tensor*>{&x, &sizes}, 13);
    REQUIRE(out);
    REQUIRE(out->size() == 2);
    CHECK((*out)[0].values<std::int64_t>() == std::vector<std::int64_t>{1, 2, 3, 4});
    CHECK((*out)[1].values<std::int64_t>() == std::vector<std::int64_t>{5, 6});
  }
  {
    node n("Split", {"x"}, {"a", "b"});
    n.ints("split", {1, 5});
    auto out = ox::evaluate(n, std::vector<const ox::tensor*>{&x}, 11);
    REQUIRE(out);
    CHECK((*out)[1].values<std::int64_t>() == std::vector<std::int64_t>{2, 3, 4, 5, 6});
  }
  {
    const auto m = f32({2, 4}, {0, 1, 2, 3, 4, 5, 6, 7});
    node n("Split", {"m"}, {"a", "b"});
    n.i("axis", 1);
    auto out = ox::evaluate(n, std::vector<const ox::tensor*>{&m}, 13);
    REQUIRE(out);
    CHECK((*out)[0].dims == std::vector<std::int64_t>{2, 2});
    CHECK((*out)[1].values<float>() == std::vector<float>{2, 3, 6, 7});
  }
  {
    const auto five = i64({5}, {1, 2, 3, 4, 5});
    node n("Split", {"x"}, {"a", "b"});
    n.i("num_outputs", 2);
    auto out = ox::evaluate(n, std::vector<const ox::tensor*>{&five}, 18);
    REQUIRE(out);
    CHECK((*out)[0].values<std::int64_t>() == std::vector<std::int64_t>{1, 2, 3});
    CHECK((*out)[1].values<std::int64_t>() == std::vector<std::int64_t>{4, 5});
  }
  node bad("Split", {"x", "s"}, {"a", "b"});
  const auto wrong = i64({2}, {4, 4});
  CHECK_THROWS_AS(ox::evaluate(bad, std::vector<const ox::tensor*>{&x, &wrong}, 13), dfgpar::graph_error);
}

TEST_CASE("[dfgpar][onnx] evaluate: shape arithmetic stays exact in int64 (Min, Max, comparisons, logic)") {
  constexpr auto big = std::numeric_limits<std::int64_t>::max();
  const auto a = i64({3}, {big, 5, -7}), b = i64({3}, {big - 1, 9, -7});
  CHECK(eval1(node("Min", {"a", "b"}), {&a, &b}).values<std::int64_t>() == std::vector<std::int64_t>{big - 1, 5, -7});
  CHECK(eval1(node("Max", {"a", "b"}), {&a, &b}).values<std::int64_t>() == std::vector<std::int64_t>{big, 9, -7});
  CHECK(eval1(node("Less", {"a", "b"}), {&a, &b}).values<std::uint8_t>() == std::vector<std::uint8_t>{0, 1, 0});
  CHECK(eval1(node("GreaterOrEqual", {"a", "b"}), {&a, &b}).values<std::uint8_t>() == std::vector<std::uint8_t>{1, 0, 1});
  CHECK(eval1(node("Equal", {"a", "b"}), {&a, &b}).values<std::uint8_t>() == std::vector<std::uint8_t>{0, 0, 1});
  const auto p = boolean({2}, {1, 0}), q = boolean({2}, {1, 1});
  CHECK(eval1(node("Not", {"p"}), {&p}).values<std::uint8_t>() == std::vector<std::uint8_t>{0, 1});
  CHECK(eval1(node("And", {"p", "q"}), {&p, &q}).values<std::uint8_t>() == std::vector<std::uint8_t>{1, 0});
  CHECK(eval1(node("Or", {"p", "q"}), {&p, &q}).values<std::uint8_t>() == std::vector<std::uint8_t>{1, 1});
  CHECK(eval1(node("Xor", {"p", "q"}), {&p, &q}).values<std::uint8_t>() == std::vector<std::uint8_t>{0, 1});
  // Sum of three, broadcasting a scalar
  const auto one = i64({}, {1});
  CHECK(eval1(node("Sum", {"a", "b", "o"}), {&a, &one, &one}).values<std::int64_t>()[1] == 7);
  // mixed types are an invalid node
  const auto f = f32({3}, {1, 2, 3});
  CHECK_THROWS_AS(ox::evaluate(node("Min", {"a", "f"}), std::vector<const ox::tensor*>{&a, &f}, 13),
                  dfgpar::graph_error);
}

TEST_CASE("[dfgpar][onnx] evaluate: rounding, Pow, Sqrt, Abs, reductions and Tile") {
  const auto x = f32({4}, {2.5f, 3.5f, -1.5f, 0.2f});
  CHECK(eval1(node("Round", {"x"}), {&x}).values<float>() == std::vector<float>{2, 4, -2, 0});
  CHECK(eval1(node("Floor", {"x"}), {&x}).values<float>() == std::vector<float>{2, 3, -2, 0});
  CHECK(eval1(node("Ceil", {"x"}), {&x}).values<float>() == std::vector<float>{3, 4, -1, 1});
  CHECK(eval1(node("Abs", {"x"}), {&x}).values<float>()[2] == 1.5f);
  const auto base = f32({2}, {2, 3}), two = i64({}, {2});
  CHECK(eval1(node("Pow", {"b", "e"}), {&base, &two}).values<float>() == std::vector<float>{4, 9});
  const auto sq = f32({2}, {4, 9});
  CHECK(eval1(node("Sqrt", {"x"}), {&sq}).values<float>() == std::vector<float>{2, 3});
  const auto ints = i64({2}, {-3, 4});
  CHECK(eval1(node("Abs", {"x"}), {&ints}).values<std::int64_t>() == std::vector<std::int64_t>{3, 4});
  // Floor of an integer: not a floating-point op, declined rather than guessed
  CHECK_FALSE(ox::evaluate(node("Floor", {"x"}), std::vector<const ox::tensor*>{&ints}, 13));

  const auto shape = i64({3}, {2, 3, 4});
  {
    node n("ReduceProd", {"s"});
    n.i("keepdims", 0);
    const auto p = eval1(n, {&shape});
    CHECK(p.dims.empty());
    CHECK(p.values<std::int64_t>() == std::vector<std::int64_t>{24});
  }
  const auto m = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  {
    const auto axes = i64({1}, {1});
    const auto s = eval1(node("ReduceSum", {"m", "axes"}), {&m, &axes});  // opset 13: axes as input
    CHECK(s.dims == std::vector<std::int64_t>{2, 1});
    CHECK(s.values<float>() == std::vector<float>{6, 15});
  }
  {
    node n("ReduceMax", {"m"});
    n.ints("axes", {0}).i("keepdims", 0);
    CHECK(eval1(n, {&m}).values<float>() == std::vector<float>{4, 5, 6});
    node mean("ReduceMean", {"m"});
    mean.ints("axes", {-1});
    CHECK(eval1(mean, {&m}).values<float>() == std::vector<float>{2, 5});
  }
  const auto reps = i64({2}, {2, 1});
  const auto t = eval1(node("Tile", {"m", "r"}), {&m, &reps});
  CHECK(t.dims == std::vector<std::int64_t>{4, 3});
  CHECK(t.values<float>()[9] == 4);
}

// ================================================================== input shapes

TEST_CASE("[dfgpar][onnx] parse_input_shape: NAME=d0,d1,... and one-line errors") {
  CHECK(ox::parse_input_shape("x=1,3,224,224") == ox::input_shape{"x", {1, 3, 224, 224}});
  CHECK(ox::parse_input_shape("input:0=1,128") == ox::input_shape{"input:0", {1, 128}});
  CHECK(ox::parse_input_shape("a=b=2") == ox::input_shape{"a=b", {2}});
  CHECK(ox::parse_input_shape("sr=") == ox::input_shape{"sr", {}});
  for (const char* bad : {"x", "=1,2", "x=1,", "x=1,-2", "x=1,a", "x=1,,2", "x= 1"}) {
    CAPTURE(bad);
    CHECK_THROWS_WITH_AS(ox::parse_input_shape(bad), doctest::Contains("input shape"), dfgpar::graph_error);
  }
}

TEST_CASE("[dfgpar][onnx] input shapes fix symbolic dimensions before shape inference") {
  graph_builder b;
  b.input("x", tp::FLOAT, {"N", 3, "H", "W"}).add(node("Relu", {"x"}, {"r"})).add(node("Sigmoid", {"r"}, {"y"}));
  b.output("y", tp::FLOAT, {"N", 3, "H", "W"});
  const auto proto = model_of(b);

  // as shipped: the rank is known, the values are not, and the warning names them
  const auto as_is = build(proto);
  REQUIRE(as_is.tensors.count("r"));
  CHECK(as_is.tensors.at("r").rank_known());
  CHECK_FALSE(as_is.tensors.at("r").shape_known);
  const std::string w = ox::unknown_dimensions_warning(as_is);
  CHECK(w.find("'x' [N,3,H,W]") != std::string::npos);
  CHECK(w.find("'r' [?,3,?,?]") != std::string::npos);
  CHECK(as_is.specialised_inputs.empty());

  ox::load_options o;
  o.input_shapes = {{"x", {1, 3, 8, 8}}};
  const auto fixed = build(proto, o);
  CHECK(fixed.tensors.at("y").shape == std::vector<std::int64_t>{1, 3, 8, 8});
  CHECK(fixed.tensors.at("y").shape_known);
  CHECK(ox::unknown_dimensions_warning(fixed).empty());
  REQUIRE(fixed.specialised_inputs.size() == 1);
  CHECK(fixed.specialised_inputs[0] == ox::input_shape{"x", {1, 3, 8, 8}});

  auto fails_with = [&](ox::input_shape s, const char* text) {
    ox::load_options bad;
    bad.input_shapes = {std::move(s)};
    CHECK_THROWS_WITH_AS(build(proto, bad), doctest::Contains(text), dfgpar::graph_error);
  };
  fails_with({"z", {1}}, "the model has no such input (its inputs: 'x')");
  fails_with({"x", {1, 3, 8}}, "has rank 4 [N,3,H,W], the shape given has 3");
  fails_with({"x", {1, 4, 8, 8}}, "dimension 1 is 3 in the model, not 4");
}

TEST_CASE("[dfgpar][onnx] a symbolic dimension that is only the batch defaults to 1, with a warning") {
  graph_builder b;
  b.input("x", tp::FLOAT, {"N", 4}).input("h", tp::FLOAT, {"N", 4});
  b.add(node("Add", {"x", "h"}, {"y"})).output("y", tp::FLOAT, {"N", 4});
  ox::load_options o;
  o.default_batch = true;
  const auto m = build(model_of(b), o);
  CHECK(m.tensors.at("y").shape == std::vector<std::int64_t>{1, 4});
  REQUIRE(m.specialised_inputs.size() == 2);
  CHECK(m.specialised_inputs[1] == ox::input_shape{"h", {1, 4}});
  bool said = false;
  for (const auto& w : m.warnings) said = said || w.find("symbolic batch dimension 'N' of inputs 'x', 'h' taken as 1") == 0;
  CHECK(said);

  // the same name as a later dimension elsewhere: not (only) the batch, left open
  graph_builder c;
  c.input("x", tp::FLOAT, {"N", 4}).input("h", tp::FLOAT, {2, "N"});
  c.add(node("Relu", {"x"}, {"y"})).add(node("Relu", {"h"}, {"z"}));
  c.output("y", tp::FLOAT, {"N", 4}).output("z", tp::FLOAT, {2, "N"});
  const auto left = build(model_of(c), o);
  CHECK(left.specialised_inputs.empty());
  CHECK(ox::unknown_dimensions_warning(left).find("inputs 'x' [N,4], 'h' [2,N]") == 0);
}

// ================================================================== subgraphs and folding

TEST_CASE("[dfgpar][onnx] optimize keeps what If branches read from the outer graph") {
  // oww_hey_jarvis: the verifier's weights are top-level initializers read only inside a branch
  const auto m = build(if_model(/*cond_is_input=*/true));
  ox::optimize_report r;
  const auto opt = ox::optimize(m, {}, &r);
  CHECK(count_op(opt, "If") == 1);
  CHECK(has_initializer(opt, "w_then"));
  CHECK(has_initializer(opt, "w_else"));
  CHECK(r.fixed_point);
  // what shape inference found inside the branches reaches the tensor facts
  REQUIRE(opt.tensors.count("then_add"));
  CHECK(opt.tensors.at("then_add").shape == std::vector<std::int64_t>{1, 4});
  CHECK(opt.tensors.at("then_add").shape_known);
}

TEST_CASE("[dfgpar][onnx] optimize inlines the branch a constant If condition takes") {
  for (const bool cond : {true, false}) {
    CAPTURE(cond);
    const auto m = build(if_model(/*cond_is_input=*/false, cond));
    ox::optimize_report r;
    const auto opt = ox::optimize(m, {}, &r);
    CHECK(r.ifs_inlined == 1);
    CHECK(count_op(opt, "If") == 0);
    CHECK(count_op(opt, cond ? "Add" : "Sub") == 1);
    CHECK(count_op(opt, "Relu") == (cond ? 1 : 0));
    CHECK(count_op(opt, cond ? "Sub" : "Add") == 0);
    CHECK(has_initializer(opt, cond ? "w_then" : "w_else"));
    CHECK_FALSE(has_initializer(opt, cond ? "w_else" : "w_then"));
    REQUIRE(opt.proto.graph().output_size() == 1);
    CHECK(opt.proto.graph().output(0).name() == "y");
    CHECK(opt.tensors.at("y").shape == std::vector<std::int64_t>{1, 4});
  }
}

TEST_CASE("[dfgpar][onnx] optimize folds inside bodies and inlines a nested constant If") {
  // then-branch: Shape(x)[1] == 4 decides a nested If (Silero's nested Ifs on shapes)
  graph_builder inner_then, inner_else, then_b, else_b;
  inner_then.add(node("Relu", {"x"}, {"inner_relu"})).output("inner_relu", tp::FLOAT, {1, 4});
  inner_else.add(node("Neg", {"x"}, {"inner_neg"})).output("inner_neg", tp::FLOAT, {1, 4});
  node inner("If", {"is4"}, {"nested"});
  set_graph(inner.n, "then_branch", inner_then.g);
  set_graph(inner.n, "else_branch", inner_else.g);
  then_b.add(node("Shape", {"x"}, {"s"}));
  then_b.add(node("Constant", {}, {"one"}).t("value", i64({}, {1})));
  then_b.add(node("Constant", {}, {"four"}).t("value", i64({}, {4})));
  then_b.add(node("Gather", {"s", "one"}, {"k"}));
  then_b.add(node("Equal", {"k", "four"}, {"is4"}));
  then_b.add(inner).add(node("Add", {"nested", "w_then"}, {"then_out"})).output("then_out", tp::FLOAT, {1, 4});
  else_b.add(node("Sub", {"x", "w_then"}, {"else_out"})).output("else_out", tp::FLOAT, {1, 4});
  node top("If", {"c"}, {"y"});
  set_graph(top.n, "then_branch", then_b.g);
  set_graph(top.n, "else_branch", else_b.g);
  graph_builder b;
  b.input("x", tp::FLOAT, {1, 4}).input("c", tp::BOOL, {}).init("w_then", f32({4}, {1, 2, 3, 4}));
  b.add(top).output("y", tp::FLOAT, {1, 4});
  const auto m = build(model_of(b));
  ox::optimize_report r;
  const auto opt = ox::optimize(m, {}, &r);
  CHECK(r.fixed_point);
  CHECK(r.subgraph_nodes_removed >= 6);
  REQUIRE(count_op(opt, "If") == 1);
  const auto& n = opt.proto.graph().node(0);
  const ::onnx::GraphProto* then_branch = nullptr;
  for (const auto& a : n.attribute())
    if (a.name() == "then_branch") then_branch = &a.g();
  REQUIRE(then_branch);
  std::vector<std::string> ops;
  for (const auto& x : then_branch->node()) ops.push_back(x.op_type());
  CHECK(ops == std::vector<std::string>{"Relu", "Add"});
  CHECK(has_initializer(opt, "w_then"));
}

TEST_CASE("[dfgpar][onnx] optimize folds to a fixed point: a fold makes the next shape known") {
  // M-LSD's pads: Concat(Split(initializer)) -> Pad; then Shape of the padded
  // tensor is only known after the pads are folded and shapes inferred again
  graph_builder b;
  b.input("x", tp::FLOAT, {1, 4});
  b.init("table", i64({4}, {1, 0, 2, 0}));
  b.add(node("Split", {"table", "sizes"}, {"p0", "p1"}));
  b.init("sizes", i64({2}, {2, 2}));
  b.add(node("Concat", {"p1", "p0"}, {"pads"}).i("axis", 0));
  b.add(node("Pad", {"x", "pads"}, {"padded"}));
  b.add(node("Shape", {"padded"}, {"s"}));
  b.add(node("Reshape", {"padded", "s"}, {"y"}));
  b.output("y", tp::FLOAT, {"a", "b"});
  const auto m = build(model_of(b));
  CHECK_FALSE(m.tensors.at("padded").shape_known);

  ox::optimize_report one;
  const auto single = ox::optimize(m, {.max_rounds = 1}, &one);
  CHECK(one.rounds == 1);
  CHECK_FALSE(one.fixed_point);
  CHECK(count_op(single, "Shape") == 1);
  CHECK(single.tensors.at("padded").shape == std::vector<std::int64_t>{4, 4});  // pads [2,0,1,0]

  ox::optimize_report r;
  const auto opt = ox::optimize(m, {}, &r);
  CHECK(r.fixed_point);
  CHECK(r.rounds >= 2);
  CHECK(count_op(opt, "Split") == 0);
  CHECK(count_op(opt, "Shape") == 0);
  CHECK(count_op(opt, "Pad") == 1);
  CHECK(opt.tensors.at("y").shape == std::vector<std::int64_t>{4, 4});
  CHECK(ox::unknown_dimensions_warning(opt).empty());
}

TEST_CASE("[dfgpar][onnx] costs: a Loop with a known trip count costs its body that often; unknown: once, said") {
  // body: (i, cond, v) -> (cond, v + v)
  auto loop_model = [](bool count_known) {
    graph_builder body;
    body.input("i", tp::INT64, {}).input("cond_in", tp::BOOL, {}).input("v", tp::FLOAT, {256, 256});
    body.add(node("Identity", {"cond_in"}, {"cond_out"})).add(node("Add", {"v", "v"}, {"v_out"}));
    body.output("cond_out", tp::BOOL, {}).output("v_out", tp::FLOAT, {256, 256});
    node loop("Loop", {"m", "", "x"}, {"y"});
    set_graph(loop.n, "body", body.g);
    graph_builder b;
    b.input("x", tp::FLOAT, {256, 256});
    if (count_known) b.init("m", i64({}, {10}));
    else b.input("m", tp::INT64, {});
    b.add(loop).output("y", tp::FLOAT, {256, 256});
    return build(model_of(b));
  };
  const auto known = loop_model(true), unknown = loop_model(false);
  const double body_once = unknown.g[0].cost, ten = known.g[0].cost;
  CHECK(ten > 8 * body_once);
  bool said = false;
  for (const auto& w : unknown.warnings) said = said || w.find("trip count is not known") != std::string::npos;
  CHECK(said);
  for (const auto& w : known.warnings) CHECK(w.find("trip count") == std::string::npos);
}

TEST_CASE("[dfgpar][pipeline] compile takes input shapes, reports the rounds and what it specialised") {
  graph_builder b;
  b.input("x", tp::FLOAT, {"N", 3, "H", "W"}).add(node("Relu", {"x"}, {"y"})).output("y", tp::FLOAT, {"N", 3, "H", "W"});
  const fs::path file = fs::temp_directory_path() / ("dfgpar_shapes_" + std::to_string(::getpid()) + ".onnx");
  ox::save_model(build(model_of(b)), file);
  const auto r = ox::compile(file, {.schedule = {.workers = 2}, .input_shapes = {{"x", {1, 3, 16, 16}}}});
  REQUIRE(r.specialised_inputs.size() == 1);
  CHECK(r.specialised_inputs[0] == ox::input_shape{"x", {1, 3, 16, 16}});
  CHECK(r.optimization.rounds >= 1);
  CHECK(r.scheduled().tensors.at("y").shape == std::vector<std::int64_t>{1, 3, 16, 16});
  for (const auto& w : r.warnings) CHECK(w.find("unknown") == std::string::npos);

  // without them the batch defaults to 1, and H, W are named in a warning
  const auto d = ox::compile(file, {.schedule = {.workers = 2}});
  REQUIRE(d.specialised_inputs.size() == 1);
  CHECK(d.specialised_inputs[0].dims == std::vector<std::int64_t>{1, 3, -1, -1});  // H, W still open
  bool batch = false, named = false;
  for (const auto& w : d.warnings) {
    batch = batch || w.find("symbolic batch dimension 'N'") != std::string::npos;
    named = named || w.find("'x' [1,3,H,W]") != std::string::npos;
  }
  CHECK(batch);
  CHECK(named);
  fs::remove(file);
}
