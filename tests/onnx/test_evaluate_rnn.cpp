// The folding evaluator's recurrent rules (include/dfgpar/onnx/evaluate_rnn.hpp):
// LSTM, GRU and RNN of hidden size 1, each against the ONNX specification's
// equations written out step by step for scalars.

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
using onnx_test::f32;
using onnx_test::node;
using fl = std::vector<float>;
using ints = std::vector<std::int64_t>;
using tp = ::onnx::TensorProto;

/// LSTM's layout attribute is opset 14.
std::vector<ox::tensor> eval_rnn(const ::onnx::NodeProto& n, std::vector<const ox::tensor*> in) {
  return onnx_test::eval(n, std::move(in), 14);
}

double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

}  // namespace

TEST_CASE("[dfgpar][onnx] evaluate: LSTM of hidden size 1 (gates i, o, f, c), reverse, peepholes, layout 1") {
  // X = [1, 2] over two steps, batch 1, input 1; W = [wi, wo, wf, wc], R = [ri, ro, rf, rc], B = Wb then Rb
  const auto x = f32({2, 1, 1}, {1, 2});
  const auto w = f32({1, 4, 1}, {0.5f, -0.25f, 1.0f, 0.75f});
  const auto r = f32({1, 4, 1}, {0.1f, 0.2f, -0.3f, 0.4f});
  const auto b = f32({1, 8}, {0.01f, 0.02f, 0.03f, 0.04f, 0.05f, 0.06f, 0.07f, 0.08f});
  const auto h0 = f32({1, 1, 1}, {0.2f}), c0 = f32({1, 1, 1}, {-0.1f});
  const auto p = f32({1, 3}, {0.3f, -0.2f, 0.1f});  // peepholes i, o, f
  const double W[4] = {0.5, -0.25, 1.0, 0.75}, R[4] = {0.1, 0.2, -0.3, 0.4};
  const double Bs[4] = {0.01 + 0.05, 0.02 + 0.06, 0.03 + 0.07, 0.04 + 0.08};
  // one step of the specification: i, f, c~, C, o (after C, with the peephole on the new C), H
  auto step = [&](double xt, double& h, double& c, const double* P) {
    const double i = sigmoid(W[0] * xt + R[0] * h + P[0] * c + Bs[0]);
    const double f = sigmoid(W[2] * xt + R[2] * h + P[2] * c + Bs[2]);
    const double g = std::tanh(W[3] * xt + R[3] * h + Bs[3]);
    c = f * c + i * g;
    const double o = sigmoid(W[1] * xt + R[1] * h + P[1] * c + Bs[1]);
    h = o * std::tanh(c);
  };
  const double none[3] = {0, 0, 0}, peep[3] = {0.3, -0.2, 0.1};

  SUBCASE("forward, initial states") {
    double h = 0.2, c = -0.1;
    step(1, h, c, none);
    const double h1 = h;
    step(2, h, c, none);
    const auto out = eval_rnn(node("LSTM", {"x", "w", "r", "b", "", "h0", "c0"}, {"y", "yh", "yc"}).i("hidden_size", 1),
                          {&x, &w, &r, &b, nullptr, &h0, &c0});
    REQUIRE(out.size() == 3);
    check_f32(out[0], {2, 1, 1, 1}, {static_cast<float>(h1), static_cast<float>(h)});
    check_f32(out[1], {1, 1, 1}, {static_cast<float>(h)});
    check_f32(out[2], {1, 1, 1}, {static_cast<float>(c)});
  }
  SUBCASE("reverse: the last step first; Y keeps the time order") {
    double h = 0, c = 0;
    step(2, h, c, none);
    const double h_at_1 = h;
    step(1, h, c, none);
    const auto out = eval_rnn(node("LSTM", {"x", "w", "r", "b"}, {"y", "yh"}).i("hidden_size", 1).s("direction", "reverse"),
                          {&x, &w, &r, &b});
    REQUIRE(out.size() == 2);
    check_f32(out[0], {2, 1, 1, 1}, {static_cast<float>(h), static_cast<float>(h_at_1)});
    check_f32(out[1], {1, 1, 1}, {static_cast<float>(h)});
  }
  SUBCASE("peepholes, layout 1 (batch first)") {
    double h = 0.2, c = -0.1;
    step(1, h, c, peep);
    const double h1 = h;
    step(2, h, c, peep);
    const auto xb = f32({1, 2, 1}, {1, 2});
    const auto out = eval_rnn(node("LSTM", {"x", "w", "r", "b", "", "h0", "c0", "p"}, {"y", "yh", "yc"})
                              .i("hidden_size", 1)
                              .i("layout", 1),
                          {&xb, &w, &r, &b, nullptr, &h0, &c0, &p});
    check_f32(out[0], {1, 2, 1, 1}, {static_cast<float>(h1), static_cast<float>(h)});
    check_f32(out[2], {1, 1, 1}, {static_cast<float>(c)});
  }
  SUBCASE("bidirectional: shapes, and input_forget is declined") {
    const auto w2 = f32({2, 4, 1}, {0.5f, -0.25f, 1.0f, 0.75f, 0.5f, -0.25f, 1.0f, 0.75f});
    const auto r2 = f32({2, 4, 1}, {0.1f, 0.2f, -0.3f, 0.4f, 0.1f, 0.2f, -0.3f, 0.4f});
    const auto out = eval_rnn(node("LSTM", {"x", "w", "r"}, {"y", "yh", "yc"}).i("hidden_size", 1).s("direction", "bidirectional"),
                          {&x, &w2, &r2});
    CHECK(out[0].dims == ints{2, 2, 1, 1});
    CHECK(out[1].dims == ints{2, 1, 1});
    // the reverse direction's Y at step 0 is its final state
    CHECK(out[0].values<float>()[1] == out[1].values<float>()[1]);
    CHECK_FALSE(ox::evaluate(node("LSTM", {"x", "w", "r"}, {"y"}).i("hidden_size", 1).i("input_forget", 1),
                             std::vector<const ox::tensor*>{&x, &w, &r}, 14));
  }
}

TEST_CASE("[dfgpar][onnx] evaluate: GRU (gates z, r, h; both reset rules) and RNN of hidden size 1") {
  const auto x = f32({2, 1, 1}, {1, -2});
  SUBCASE("GRU") {
    const auto w = f32({1, 3, 1}, {0.5f, -0.5f, 1.0f});
    const auto r = f32({1, 3, 1}, {0.25f, 0.75f, -0.5f});
    const auto b = f32({1, 6}, {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f});
    const double W[3] = {0.5, -0.5, 1.0}, R[3] = {0.25, 0.75, -0.5}, Wb[3] = {0.1, 0.2, 0.3}, Rb[3] = {0.4, 0.5, 0.6};
    for (int lbr = 0; lbr < 2; ++lbr) {
      CAPTURE(lbr);
      double h = 0;
      std::vector<float> ys;
      for (double xt : {1.0, -2.0}) {
        const double z = sigmoid(W[0] * xt + R[0] * h + Wb[0] + Rb[0]);
        const double rr = sigmoid(W[1] * xt + R[1] * h + Wb[1] + Rb[1]);
        const double hh = lbr ? std::tanh(W[2] * xt + rr * (R[2] * h + Rb[2]) + Wb[2])
                              : std::tanh(W[2] * xt + R[2] * (rr * h) + Rb[2] + Wb[2]);
        h = (1 - z) * hh + z * h;
        ys.push_back(static_cast<float>(h));
      }
      const auto out = eval_rnn(node("GRU", {"x", "w", "r", "b"}, {"y", "yh"}).i("hidden_size", 1).i("linear_before_reset", lbr),
                            {&x, &w, &r, &b});
      check_f32(out[0], {2, 1, 1, 1}, ys);
      check_f32(out[1], {1, 1, 1}, {ys.back()});
    }
  }
  SUBCASE("RNN, with sequence_lens: a shorter sequence stops early, its Y is 0 past its end") {
    const auto xb = f32({2, 2, 1}, {1, 3, -2, 4});  // [t][batch]: batch 0 sees 1, -2; batch 1 sees 3 only
    const auto w = f32({1, 1, 1}, {0.5f}), r = f32({1, 1, 1}, {-0.5f});
    const auto lens = dfgpar::onnx::make_tensor<std::int32_t>(tp::INT32, {2}, {2, 1});
    const double h0a = std::tanh(0.5 * 1), h1a = std::tanh(0.5 * -2 - 0.5 * h0a), h0b = std::tanh(0.5 * 3);
    const auto out = eval_rnn(node("RNN", {"x", "w", "r", "", "l"}, {"y", "yh"}).i("hidden_size", 1), {&xb, &w, &r, nullptr, &lens});
    check_f32(out[0], {2, 1, 2, 1}, {static_cast<float>(h0a), static_cast<float>(h0b), static_cast<float>(h1a), 0});
    check_f32(out[1], {1, 2, 1}, {static_cast<float>(h1a), static_cast<float>(h0b)});
    // a Relu activation, no sequence_lens: batch 0 relu(0.5) then relu(-1 - 0.25); batch 1 relu(1.5) then relu(2 - 0.75)
    node rn("RNN", {"x", "w", "r"}, {"y"});
    rn.i("hidden_size", 1).add("activations", ::onnx::AttributeProto::STRINGS).add_strings("Relu");
    check_f32(eval_rnn(rn, {&xb, &w, &r})[0], {2, 1, 2, 1}, {0.5f, 1.5f, 0, 1.25f});
  }
}
