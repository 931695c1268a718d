// The native runtime's If (include/dfgpar/onednn/control_flow.hpp) and its
// LSTM (the folding evaluator's, include/dfgpar/onnx/evaluate_rnn.hpp) on
// small models: both branches taken, a nested If, outer-scope values and
// top-level weights read inside branches, serial and on 2 workers; what a
// branch cannot run is refused at load, naming it.

#include "model_builder.hpp"

#include <dfgpar/onednn/session.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace {

namespace onednn = dfgpar::onednn;
using onednn_test::model;
using tp = ::onnx::TensorProto;

/// A branch body: nodes and one float output.
struct body {
  ::onnx::GraphProto g;
  explicit body(const std::string& name) { g.set_name(name); }
  ::onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& in, const std::vector<std::string>& out) {
    auto* n = g.add_node();
    n->set_op_type(op);
    n->set_name(g.name() + "_" + op + "_" + std::to_string(g.node_size()));
    for (const auto& s : in) n->add_input(s);
    for (const auto& s : out) n->add_output(s);
    return *n;
  }
  void output(const std::string& name, const std::vector<std::int64_t>& dims) {
    auto* t = g.add_output();
    t->set_name(name);
    auto* tt = t->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(tp::FLOAT);
    for (auto d : dims) tt->mutable_shape()->add_dim()->set_dim_value(d);
  }
};

/// An If node reading `cond`, writing `out`, with these branches.
::onnx::NodeProto& add_if(::onnx::GraphProto& g, const std::string& cond, const std::string& out, const body& then_b,
                          const body& else_b) {
  auto* n = g.add_node();
  n->set_op_type("If");
  n->set_name("If_" + out);
  n->add_input(cond);
  n->add_output(out);
  auto* a = n->add_attribute();
  a->set_name("then_branch");
  a->set_type(::onnx::AttributeProto::GRAPH);
  *a->mutable_g() = then_b.g;
  a = n->add_attribute();
  a->set_name("else_branch");
  a->set_type(::onnx::AttributeProto::GRAPH);
  *a->mutable_g() = else_b.g;
  return *n;
}

dfgpar::onnx::tensor scalar(float v) { return dfgpar::onnx::make_tensor<float>(tp::FLOAT, {}, {v}); }
dfgpar::onnx::tensor f32(std::vector<std::int64_t> d, std::vector<float> v) {
  return dfgpar::onnx::make_tensor<float>(tp::FLOAT, std::move(d), std::move(v));
}

/// c = ReduceSum(x) > 0, a bool scalar computed at run time.
void sum_positive(model& m) {
  m.constant("zero", scalar(0));
  m.node("ReduceSum", {"x"}, {"s"}).i("keepdims", 0);
  m.node("Greater", {"s", "zero"}, {"c"});
}

}  // namespace

TEST_CASE("[dfgpar] onednn: If runs the branch its condition selects; nested Ifs; outer values and weights inside branches") {
  model m;
  m.input("x", {1, 4});
  const auto w = m.weight("w", {1, 4});
  m.constant("ten", scalar(10));
  m.constant("two", scalar(2));
  sum_positive(m);
  m.node("Relu", {"x"}, {"t"});
  // then: a = t + w; if s < 10 then a * 2 else a - w.  else: -t
  body then2("then2"), else2("else2"), then_b("then"), else_b("else");
  then2.node("Mul", {"a", "two"}, {"b_t"});
  then2.output("b_t", {1, 4});
  else2.node("Sub", {"a", "w"}, {"b_e"});
  else2.output("b_e", {1, 4});
  then_b.node("Add", {"t", "w"}, {"a"});
  then_b.node("Less", {"s", "ten"}, {"c2"});
  add_if(then_b.g, "c2", "b", then2, else2);
  then_b.output("b", {1, 4});
  else_b.node("Neg", {"t"}, {"n"});
  else_b.output("n", {1, 4});
  add_if(*m.proto.mutable_graph(), "c", "y", then_b, else_b);
  m.output("y", 2);
  const auto path = m.save("if_nested");
  const auto& wv = w.values<float>();

  for (std::size_t workers : {1u, 2u}) {
    CAPTURE(workers);
    onednn::session s(path, {.workers = workers, .cores = 2});
    struct trial {
      std::vector<float> x;
      int path;  // 0: then/then, 1: then/else, 2: else
    };
    for (const trial& tr : {trial{{1, 2, -0.5f, 0.25f}, 0}, trial{{-1, -2, 0.5f, 0}, 2}, trial{{5, 6, -1, 1}, 1}}) {
      CAPTURE(tr.path);
      const auto out = s.run({f32({1, 4}, tr.x)});
      REQUIRE(out.size() == 1);
      CHECK(out[0].dims == std::vector<std::int64_t>{1, 4});
      const auto& y = out[0].values<float>();
      for (std::size_t i = 0; i < 4; ++i) {
        const float t = std::max(tr.x[i], 0.f);
        const float want = tr.path == 0 ? (t + wv[i]) * 2 : tr.path == 1 ? (t + wv[i]) - wv[i] : -t;
        CHECK(y[i] == doctest::Approx(want).epsilon(1e-6));
      }
      // repeated runs: the same bits
      CHECK(s.run({f32({1, 4}, tr.x)})[0].values<float>() == y);
    }
  }
}

TEST_CASE("[dfgpar] onednn: what an If's branch cannot run is refused at load, naming it; so are branches of different shapes") {
  {
    model m;
    m.input("x", {2, 3, 3});
    m.constant("k", f32({2}, {1, 2}));
    sum_positive(m);
    body then_b("then"), else_b("else");
    then_b.node("Det", {"x"}, {"d"});
    then_b.output("d", {2});
    else_b.node("Identity", {"k"}, {"e"});
    else_b.output("e", {2});
    add_if(*m.proto.mutable_graph(), "c", "y", then_b, else_b);
    m.output("y", 1);
    CHECK_THROWS_WITH_AS(onednn::session(m.save("if_det"), {}), doctest::Contains("then_branch"), dfgpar::graph_error);
    CHECK_THROWS_WITH_AS(onednn::session(m.save("if_det"), {}), doctest::Contains("Det"), dfgpar::graph_error);
  }
  {
    model m;
    m.input("x", {1, 4});
    sum_positive(m);
    body then_b("then"), else_b("else");
    then_b.node("Relu", {"x"}, {"r"});
    then_b.output("r", {1, 4});
    auto* axis = else_b.node("Concat", {"x", "x"}, {"cc"}).add_attribute();
    axis->set_name("axis");
    axis->set_type(::onnx::AttributeProto::INT);
    axis->set_i(1);
    else_b.output("cc", {1, 8});
    add_if(*m.proto.mutable_graph(), "c", "y", then_b, else_b);
    m.output("y", 2);
    CHECK_THROWS_WITH_AS(onednn::session(m.save("if_shapes"), {}), doctest::Contains("differ in shape"),
                         dfgpar::graph_error);
  }
}

TEST_CASE("[dfgpar] onednn: LSTM runs on the evaluator's reference, against the specification's equations") {
  // hidden size 1, input size 1, two steps: gates i, o, f, c
  model m;
  m.input("x", {2, 1, 1});
  m.constant("w", f32({1, 4, 1}, {0.5f, -0.25f, 1.0f, 0.75f}));
  m.constant("r", f32({1, 4, 1}, {0.1f, 0.2f, -0.3f, 0.4f}));
  m.constant("b", f32({1, 8}, {0.01f, 0.02f, 0.03f, 0.04f, 0.05f, 0.06f, 0.07f, 0.08f}));
  m.node("LSTM", {"x", "w", "r", "b"}, {"y", "yh", "yc"}).i("hidden_size", 1);
  m.output("y", 4);
  m.output("yc", 3);
  onednn::session s(m.save("lstm"), {});
  const double W[4] = {0.5, -0.25, 1.0, 0.75}, R[4] = {0.1, 0.2, -0.3, 0.4};
  const double B[4] = {0.06, 0.08, 0.10, 0.12};
  auto sig = [](double v) { return 1 / (1 + std::exp(-v)); };
  double h = 0, c = 0;
  std::vector<float> ys;
  for (double xt : {0.5, -1.5}) {
    const double i = sig(W[0] * xt + R[0] * h + B[0]), o = sig(W[1] * xt + R[1] * h + B[1]);
    const double f = sig(W[2] * xt + R[2] * h + B[2]), g = std::tanh(W[3] * xt + R[3] * h + B[3]);
    c = f * c + i * g;
    h = o * std::tanh(c);
    ys.push_back(static_cast<float>(h));
  }
  const auto out = s.run({f32({2, 1, 1}, {0.5f, -1.5f})});
  REQUIRE(out.size() == 2);
  CHECK(out[0].dims == std::vector<std::int64_t>{2, 1, 1, 1});
  CHECK(out[0].values<float>()[0] == doctest::Approx(ys[0]).epsilon(1e-6));
  CHECK(out[0].values<float>()[1] == doctest::Approx(ys[1]).epsilon(1e-6));
  CHECK(out[1].values<float>()[0] == doctest::Approx(c).epsilon(1e-6));
}
