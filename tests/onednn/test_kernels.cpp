// The native runtime's kernels, one small model each, against naive
// references written here (or the folding evaluator), in blocked and plain
// layouts, on 1 and 2 workers.

#include "model_builder.hpp"

#include <dfgpar/onednn/session.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace {

using onednn_test::model;
using onednn_test::random_tensor;
using tensor = dfgpar::onnx::tensor;
namespace onednn = dfgpar::onednn;

tensor make(std::vector<std::int64_t> dims) { return dfgpar::onnx::make_tensor(::onnx::TensorProto::FLOAT, std::move(dims)); }

/// Naive NCHW convolution (groups, strides, pads, dilations) + bias.
tensor conv_ref(const tensor& x, const tensor& w, const tensor* b, std::int64_t group, std::vector<std::int64_t> st,
                std::vector<std::int64_t> pad, std::vector<std::int64_t> dil = {1, 1}) {
  const auto N = x.dims[0], C = x.dims[1], H = x.dims[2], W = x.dims[3];
  const auto O = w.dims[0], CG = w.dims[1], KH = w.dims[2], KW = w.dims[3];
  const auto OH = (H + pad[0] + pad[2] - ((KH - 1) * dil[0] + 1)) / st[0] + 1;
  const auto OW = (W + pad[1] + pad[3] - ((KW - 1) * dil[1] + 1)) / st[1] + 1;
  tensor y = make({N, O, OH, OW});
  const auto& xv = x.values<float>();
  const auto& wv = w.values<float>();
  auto& yv = y.values<float>();
  const auto OG = O / group;
  (void)C;
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t o = 0; o < O; ++o)
      for (std::int64_t oh = 0; oh < OH; ++oh)
        for (std::int64_t ow = 0; ow < OW; ++ow) {
          double s = b ? b->values<float>()[static_cast<std::size_t>(o)] : 0.0;
          const auto g = o / OG;
          for (std::int64_t c = 0; c < CG; ++c)
            for (std::int64_t kh = 0; kh < KH; ++kh)
              for (std::int64_t kw = 0; kw < KW; ++kw) {
                const auto ih = oh * st[0] - pad[0] + kh * dil[0], iw = ow * st[1] - pad[1] + kw * dil[1];
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                s += static_cast<double>(xv[static_cast<std::size_t>(((n * C + g * CG + c) * H + ih) * W + iw)]) *
                     wv[static_cast<std::size_t>(((o * CG + c) * KH + kh) * KW + kw)];
              }
          yv[static_cast<std::size_t>(((n * O + o) * OH + oh) * OW + ow)] = static_cast<float>(s);
        }
  return y;
}

/// Naive 2-D pooling: max, or average counting the padding or not.
tensor pool_ref(const tensor& x, bool is_max, bool include_pad, std::vector<std::int64_t> k, std::vector<std::int64_t> st,
                std::vector<std::int64_t> pad) {
  const auto N = x.dims[0], C = x.dims[1], H = x.dims[2], W = x.dims[3];
  const auto OH = (H + pad[0] + pad[2] - k[0]) / st[0] + 1, OW = (W + pad[1] + pad[3] - k[1]) / st[1] + 1;
  tensor y = make({N, C, OH, OW});
  const auto& xv = x.values<float>();
  auto& yv = y.values<float>();
  for (std::int64_t nc = 0; nc < N * C; ++nc)
    for (std::int64_t oh = 0; oh < OH; ++oh)
      for (std::int64_t ow = 0; ow < OW; ++ow) {
        double s = is_max ? -INFINITY : 0;
        std::int64_t count = 0;
        for (std::int64_t kh = 0; kh < k[0]; ++kh)
          for (std::int64_t kw = 0; kw < k[1]; ++kw) {
            const auto ih = oh * st[0] - pad[0] + kh, iw = ow * st[1] - pad[1] + kw;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) {
              if (include_pad) ++count;
              continue;
            }
            const double v = xv[static_cast<std::size_t>((nc * H + ih) * W + iw)];
            s = is_max ? std::max(s, v) : s + v;
            ++count;
          }
        yv[static_cast<std::size_t>((nc * OH + oh) * OW + ow)] = static_cast<float>(is_max ? s : s / static_cast<double>(count));
      }
  return y;
}

template <class F>
tensor map(tensor t, F f) {
  for (float& v : t.values<float>()) v = f(v);
  return t;
}

void require_close(const tensor& got, const tensor& want, double tol = 1e-4) {
  REQUIRE(got.dims == want.dims);
  double worst = 0;
  for (std::size_t i = 0; i < got.size(); ++i)
    worst = std::max(worst, std::fabs(got.as_double(i) - want.as_double(i)) / (1 + std::fabs(want.as_double(i))));
  CHECK(worst <= tol);
}

/// Runs the model in every configuration (blocked/plain layouts, 1/2
/// workers) and checks the single output against `want`.
void check_all(const model& m, const std::string& stem, const std::vector<tensor>& in, const tensor& want, double tol = 1e-4) {
  const auto path = m.save(stem);
  for (bool blocked : {true, false})
    for (std::size_t workers : {std::size_t{1}, std::size_t{2}}) {
      CAPTURE(blocked);
      CAPTURE(workers);
      onednn::session s(path, {.workers = workers, .threads = 1, .cores = 2, .kernels = {.blocked = blocked}});
      const auto out = s.run(in);
      REQUIRE(out.size() == 1);
      require_close(out[0], want, tol);
      const auto again = s.run(in);
      CHECK(again[0].values<float>() == out[0].values<float>());  // bit-identical
    }
}

}  // namespace

TEST_CASE("[dfgpar] onednn: Conv with bias, pads, strides, and a fused Relu") {
  model m;
  m.input("x", {1, 5, 11, 9});
  const auto w = m.weight("w", {16, 5, 3, 3});
  const auto b = m.weight("b", {16});
  m.node("Conv", {"x", "w", "b"}, {"c"}).ints("pads", {1, 0, 1, 2}).ints("strides", {2, 1});
  m.node("Relu", {"c"}, {"y"});
  m.output("y");
  const auto x = random_tensor({1, 5, 11, 9});
  check_all(m, "conv_relu", {x}, map(conv_ref(x, w, &b, 1, {2, 1}, {1, 0, 1, 2}), [](float v) { return std::max(v, 0.f); }));
}

TEST_CASE("[dfgpar] onednn: depthwise Conv with a fused Clip (ReLU6), and a dilated grouped Conv") {
  model m;
  m.input("x", {1, 8, 10, 10});
  const auto w = m.weight("w", {8, 1, 3, 3});
  const auto w2 = m.weight("w2", {8, 4, 3, 3});
  m.constant("lo", dfgpar::onnx::make_tensor<float>(::onnx::TensorProto::FLOAT, {}, {0.f}));
  m.constant("hi", dfgpar::onnx::make_tensor<float>(::onnx::TensorProto::FLOAT, {}, {0.5f}));
  m.node("Conv", {"x", "w"}, {"c"}).i("group", 8).ints("pads", {1, 1, 1, 1});
  m.node("Clip", {"c", "lo", "hi"}, {"d"});
  m.node("Conv", {"d", "w2"}, {"y"}).i("group", 2).ints("dilations", {2, 2}).ints("pads", {2, 2, 2, 2});
  m.output("y");
  const auto x = random_tensor({1, 8, 10, 10});
  const auto d = map(conv_ref(x, w, nullptr, 8, {1, 1}, {1, 1, 1, 1}), [](float v) { return std::clamp(v, 0.f, 0.5f); });
  check_all(m, "dwconv", {x}, conv_ref(d, w2, nullptr, 2, {1, 1}, {2, 2, 2, 2}, {2, 2}));
}

TEST_CASE("[dfgpar] onednn: BatchNormalization folded into the Conv before it, and standalone with a fused Relu") {
  model m;
  m.input("x", {1, 4, 6, 6});
  const auto w = m.weight("w", {8, 4, 1, 1});
  const auto g = m.weight("g", {8}, 0.5, 1.5), be = m.weight("be", {8}), mu = m.weight("mu", {8}), var = m.weight("var", {8}, 0.5, 2);
  const auto g2 = m.weight("g2", {16}, 0.5, 1.5), be2 = m.weight("be2", {16}), mu2 = m.weight("mu2", {16}),
             var2 = m.weight("var2", {16}, 0.5, 2);
  m.node("Conv", {"x", "w"}, {"c"});
  m.node("BatchNormalization", {"c", "g", "be", "mu", "var"}, {"bn"}).f("epsilon", 1e-3f);
  m.node("Relu", {"x"}, {"r"});
  m.node("Conv", {"r", "w"}, {"c2"});
  m.node("Concat", {"bn", "c2"}, {"cat"}).i("axis", 1);
  // a BN after a Concat: not folded, run by oneDNN with the Relu fused
  m.node("BatchNormalization", {"cat", "g2", "be2", "mu2", "var2"}, {"bn2"});
  m.node("Relu", {"bn2"}, {"y"});
  m.output("y");
  const auto x = random_tensor({1, 4, 6, 6});
  auto bn = [](tensor t, const tensor& g, const tensor& b, const tensor& mu, const tensor& var, float eps) {
    const auto C = t.dims[1], HW = t.dims[2] * t.dims[3];
    auto& v = t.values<float>();
    for (std::int64_t c = 0; c < C; ++c)
      for (std::int64_t i = 0; i < HW; ++i) {
        auto& e = v[static_cast<std::size_t>(c * HW + i)];
        const auto k = static_cast<std::size_t>(c);
        e = static_cast<float>((e - mu.values<float>()[k]) / std::sqrt(var.values<float>()[k] + eps) * g.values<float>()[k] +
                               b.values<float>()[k]);
      }
    return t;
  };
  const auto c = conv_ref(x, w, nullptr, 1, {1, 1}, {0, 0, 0, 0});
  const auto c2 = conv_ref(map(x, [](float v) { return std::max(v, 0.f); }), w, nullptr, 1, {1, 1}, {0, 0, 0, 0});
  tensor cat = make({1, 16, 6, 6});
  const auto first = bn(c, g, be, mu, var, 1e-3f);
  std::copy(first.values<float>().begin(), first.values<float>().end(), cat.values<float>().begin());
  std::copy(c2.values<float>().begin(), c2.values<float>().end(), cat.values<float>().begin() + 8 * 36);
  check_all(m, "bn", {x}, map(bn(cat, g2, be2, mu2, var2, 1e-5f), [](float v) { return std::max(v, 0.f); }));
}

TEST_CASE("[dfgpar] onednn: MaxPool (ceil mode), AveragePool with and without counting pads, global pooling") {
  const auto x = random_tensor({1, 3, 9, 9});
  {
    model m;
    m.input("x", {1, 3, 10, 10});
    m.node("MaxPool", {"x"}, {"y"}).ints("kernel_shape", {3, 3}).ints("strides", {2, 2}).i("ceil_mode", 1);
    m.output("y");
    // ceil mode: 10 -> 5 outputs (floor: 4), the last window runs over the edge
    const auto x10 = random_tensor({1, 3, 10, 10});
    check_all(m, "maxpool", {x10}, pool_ref(x10, true, false, {3, 3}, {2, 2}, {0, 0, 1, 1}));
  }
  for (int include : {0, 1}) {
    model m;
    m.input("x", {1, 3, 9, 9});
    m.node("AveragePool", {"x"}, {"y"}).ints("kernel_shape", {3, 3}).ints("pads", {1, 1, 1, 1}).i("count_include_pad", include);
    m.output("y");
    check_all(m, "avgpool" + std::to_string(include), {x}, pool_ref(x, false, include != 0, {3, 3}, {1, 1}, {1, 1, 1, 1}));
  }
  {
    model m;
    m.input("x", {1, 3, 9, 9});
    m.node("GlobalAveragePool", {"x"}, {"y"});
    m.output("y");
    check_all(m, "gap", {x}, pool_ref(x, false, false, {9, 9}, {1, 1}, {0, 0, 0, 0}));
  }
}

TEST_CASE("[dfgpar] onednn: a zero Pad folded into the AveragePool after it") {
  model m;
  m.input("x", {1, 2, 7, 7});
  m.constant("pads", dfgpar::onnx::make_tensor<std::int64_t>(::onnx::TensorProto::INT64, {8}, {0, 0, 1, 2, 0, 0, 1, 0}));
  m.node("Pad", {"x", "pads"}, {"p"}).s("mode", "constant");
  m.node("AveragePool", {"p"}, {"y"}).ints("kernel_shape", {3, 3});
  m.output("y");
  const auto x = random_tensor({1, 2, 7, 7});
  check_all(m, "padpool", {x}, pool_ref(x, false, true, {3, 3}, {1, 1}, {1, 2, 1, 0}));
}

TEST_CASE("[dfgpar] onednn: Flatten + Gemm (transB, bias), Softmax") {
  model m;
  m.input("x", {1, 3, 2, 2});
  const auto w = m.weight("w", {5, 12});
  const auto b = m.weight("b", {5});
  m.node("Flatten", {"x"}, {"f"});
  m.node("Gemm", {"f", "w", "b"}, {"g"}).i("transB", 1).f("alpha", 0.5f);
  m.node("Softmax", {"g"}, {"y"}).i("axis", 1);
  m.output("y", 2);
  const auto x = random_tensor({1, 3, 2, 2});
  tensor want = make({1, 5});
  double total = 0;
  for (std::size_t o = 0; o < 5; ++o) {
    double s = b.values<float>()[o];
    for (std::size_t i = 0; i < 12; ++i) s += 0.5 * w.values<float>()[o * 12 + i] * x.values<float>()[i];
    want.values<float>()[o] = static_cast<float>(std::exp(s));
    total += std::exp(s);
  }
  for (float& v : want.values<float>()) v = static_cast<float>(v / total);
  check_all(m, "gemm", {x}, want);
}

TEST_CASE("[dfgpar] onednn: binary ops with broadcasting; a non-commutative broadcast runs on the evaluator") {
  model m;
  m.input("x", {1, 4, 3, 3});
  const auto s = m.weight("s", {1, 4, 1, 1});
  m.node("Mul", {"s", "x"}, {"a"});       // swapped: the broadcast operand second
  m.node("Sub", {"s", "a"}, {"b"});       // the broadcast operand first: the evaluator
  m.node("Add", {"a", "b"}, {"y"});       // a residual add of two activations
  m.output("y");
  const auto x = random_tensor({1, 4, 3, 3});
  tensor want = make({1, 4, 3, 3});
  for (std::size_t i = 0; i < 36; ++i) {
    const float sc = s.values<float>()[i / 9], a = sc * x.values<float>()[i];
    want.values<float>()[i] = a + (sc - a);
  }
  check_all(m, "binary", {x}, want);
  onednn::session sess(m.save("binary"), {.workers = 1, .threads = 1});
  CHECK(sess.statistics().evaluator == 1);
}

TEST_CASE("[dfgpar] onednn: Concat of blocked convolution outputs and a plain input, read by two branches") {
  model m;
  m.input("x", {1, 16, 5, 5});
  const auto w1 = m.weight("w1", {16, 16, 1, 1});
  const auto w2 = m.weight("w2", {32, 16, 3, 3});
  m.node("Conv", {"x", "w1"}, {"a"});
  m.node("Conv", {"x", "w2"}, {"b"}).ints("pads", {1, 1, 1, 1});
  m.node("Concat", {"a", "x", "b"}, {"y"}).i("axis", 1);
  m.output("y");
  const auto x = random_tensor({1, 16, 5, 5});
  const auto a = conv_ref(x, w1, nullptr, 1, {1, 1}, {0, 0, 0, 0});
  const auto b = conv_ref(x, w2, nullptr, 1, {1, 1}, {1, 1, 1, 1});
  tensor want = make({1, 64, 5, 5});
  auto it = want.values<float>().begin();
  for (const tensor* t : {&a, &x, &b}) it = std::copy(t->values<float>().begin(), t->values<float>().end(), it);
  check_all(m, "concat", {x}, want);
}

TEST_CASE("[dfgpar] onednn: Concat inputs written in place (nested, and beside an input that another node reads)") {
  // z = Concat(relu(conv a), conv b): a in place, b is also read by the Relu
  // (so copied); y = Concat(z, conv d, relu(b)): all three in place, z as a
  // slice of y holding a slice of its own. 16 channels each: whole channel blocks in the layouts
  // oneDNN's convolutions write on AVX2 (8) and, with Winograd kernels, on AVX-512 (16)
  model m;
  m.input("x", {1, 16, 6, 6});
  const auto wa = m.weight("wa", {16, 16, 1, 1});
  const auto wb = m.weight("wb", {16, 16, 3, 3});
  const auto wd = m.weight("wd", {16, 16, 1, 1});
  m.node("Conv", {"x", "wa"}, {"ca"});
  m.node("Relu", {"ca"}, {"a"});
  m.node("Conv", {"x", "wb"}, {"b"}).ints("pads", {1, 1, 1, 1});
  m.node("Concat", {"a", "b"}, {"z"}).i("axis", 1);
  m.node("Conv", {"x", "wd"}, {"d"});
  m.node("Relu", {"b"}, {"u"});
  m.node("Concat", {"z", "d", "u"}, {"y"}).i("axis", 1);
  m.output("y");
  const auto x = random_tensor({1, 16, 6, 6});
  auto relu = [](float v) { return std::max(v, 0.f); };
  const tensor a = map(conv_ref(x, wa, nullptr, 1, {1, 1}, {0, 0, 0, 0}), relu);
  const tensor b = conv_ref(x, wb, nullptr, 1, {1, 1}, {1, 1, 1, 1});
  const tensor d = conv_ref(x, wd, nullptr, 1, {1, 1}, {0, 0, 0, 0});
  const tensor u = map(b, relu);
  tensor want = make({1, 64, 6, 6});
  auto it = want.values<float>().begin();
  for (const tensor* t : {&a, &b, &d, &u}) it = std::copy(t->values<float>().begin(), t->values<float>().end(), it);
  check_all(m, "concat_in_place", {x}, want);
  for (bool blocked : {true, false}) {
    CAPTURE(blocked);
    onednn::session s(m.save("concat_in_place"), {.workers = 1, .threads = 1, .kernels = {.blocked = blocked}});
    std::vector<std::string> concats;
    for (std::size_t v = 0; v < s.statistics().nodes; ++v)
      if (s.kernel_of(v).rfind("Concat", 0) == 0) concats.push_back(s.kernel_of(v));
    CHECK(concats == std::vector<std::string>{"Concat (copies, 1 of 2 in place)", "Concat (in place)"});
  }
  // a Concat that copies more than 64 KiB a thread: its copies shared between two OpenMP threads
  {
    model big;
    big.input("x", {1, 16, 48, 48});
    const auto w = big.weight("w", {8, 16, 1, 1});
    big.node("Conv", {"x", "w"}, {"c"});
    big.node("Concat", {"x", "c", "x"}, {"y"}).i("axis", 1);
    big.output("y");
    const auto bx = random_tensor({1, 16, 48, 48});
    const tensor c = conv_ref(bx, w, nullptr, 1, {1, 1}, {0, 0, 0, 0});
    tensor bwant = make({1, 40, 48, 48});
    auto bit = bwant.values<float>().begin();
    for (const tensor* t : {&bx, &c, &bx}) bit = std::copy(t->values<float>().begin(), t->values<float>().end(), bit);
    for (std::size_t threads : {std::size_t{1}, std::size_t{2}}) {
      onednn::session s(big.save("concat_big"), {.workers = 1, .threads = threads, .cores = 2});
      require_close(s.run({bx})[0], bwant, 1e-4);
    }
  }
  // without fusing, every Concat copies
  onednn::session plain(m.save("concat_in_place"), {.workers = 1, .threads = 1, .kernels = {.fuse = false}});
  require_close(plain.run({x})[0], want, 1e-4);
  for (std::size_t v = 0; v < plain.statistics().nodes; ++v)
    if (plain.kernel_of(v).rfind("Concat", 0) == 0) CHECK(plain.kernel_of(v).find("in place") == std::string::npos);
}

TEST_CASE("[dfgpar] onednn: what cannot run is refused at load, naming the node; bad inputs are refused at run") {
  {
    model m;
    m.input("x", {1, 2, 4, 4});
    m.input("w", {2, 2, 1, 1});
    m.node("Conv", {"x", "w"}, {"y"});
    m.output("y");
    CHECK_THROWS_WITH_AS(onednn::session(m.save("dynw"), {}), doctest::Contains("Conv node 'Conv_1'"), dfgpar::graph_error);
  }
  {
    model m;
    m.input("x", {1, 2, 4, 4});
    m.node("Conv", {"x", "w"}, {"y"}).s("auto_pad", "NOTSET").i("foo", 1);
    m.weight("w", {2, 2, 1, 1});
    m.output("y");
    CHECK_THROWS_WITH_AS(onednn::session(m.save("attr"), {}), doctest::Contains("foo"), dfgpar::graph_error);
  }
  {
    model m;  // an operator nothing here computes
    m.input("x", {2, 3, 3});
    m.node("Det", {"x"}, {"y"});
    m.output("y", 1);
    CHECK_THROWS_WITH_AS(onednn::session(m.save("det"), {}), doctest::Contains("Det"), dfgpar::graph_error);
  }
  model m;
  m.input("x", {1, 4});
  m.node("Relu", {"x"}, {"y"});
  m.output("y", 2);
  onednn::session s(m.save("relu"), {});
  CHECK_THROWS_WITH_AS(s.run({random_tensor({1, 5})}), doctest::Contains("must be FLOAT [1, 4]"), dfgpar::graph_error);
  CHECK_THROWS_AS(s.run({}), dfgpar::graph_error);
  CHECK(s.run({random_tensor({1, 4})})[0].dims == std::vector<std::int64_t>{1, 4});
  CHECK_THROWS_WITH_AS(onednn::session(m.save("relu"), {.workers = 2, .threads = 2, .cores = 2}),
                       doctest::Contains("exceed"), dfgpar::graph_error);
}

TEST_CASE("[dfgpar] onednn: pooling of blocked convolution outputs (the loop kernels): max with ceil mode, average without pads") {
  for (int is_max : {1, 0}) {
    model m;
    m.input("x", {1, 3, 10, 10});
    const auto w = m.weight("w", {16, 3, 1, 1});
    m.node("Conv", {"x", "w"}, {"c"});
    if (is_max) m.node("MaxPool", {"c"}, {"y"}).ints("kernel_shape", {3, 3}).ints("strides", {2, 2}).i("ceil_mode", 1);
    else m.node("AveragePool", {"c"}, {"y"}).ints("kernel_shape", {3, 3}).ints("pads", {1, 1, 1, 1});
    m.output("y");
    const auto x = random_tensor({1, 3, 10, 10});
    const auto c = conv_ref(x, w, nullptr, 1, {1, 1}, {0, 0, 0, 0});
    const auto want = is_max ? pool_ref(c, true, false, {3, 3}, {2, 2}, {0, 0, 1, 1}) : pool_ref(c, false, false, {3, 3}, {1, 1}, {1, 1, 1, 1});
    check_all(m, "convpool" + std::to_string(is_max), {x}, want);
    onednn::session s(m.save("convpool" + std::to_string(is_max)), {.workers = 1, .threads = 1});
    MESSAGE("conv kernel: " << s.kernel_of(0) << "; pool kernel: " << s.kernel_of(1));
    // the loops take the 8-channel blocks oneDNN's AVX2 convolutions write; its AVX-512 ones write
    // 16-channel blocks or nhwc, which oneDNN's own pooling runs (checked above all the same)
    const bool avx512 = s.kernel_of(0).find("avx512") != std::string::npos;
    CHECK((s.kernel_of(1).find("(loops)") != std::string::npos) == !avx512);
    // the output rows shared between two OpenMP threads
    onednn::session two(m.save("convpool" + std::to_string(is_max)), {.workers = 1, .threads = 2, .cores = 2});
    require_close(two.run({x})[0], want, 1e-4);
  }
}

TEST_CASE("[dfgpar] onednn: Log is exact where std::log is (log(1) == 0), and a graph output that is a view keeps its buffer") {
  model m;
  m.input("x", {2, 3});
  m.node("Log", {"x"}, {"l"});
  m.node("Flatten", {"l"}, {"mean"}).i("axis", 0);  // an output that is a view of l
  m.node("Exp", {"l"}, {"e"});                      // later tensors must not reuse l's buffer
  m.node("Neg", {"e"}, {"y"});
  m.output("mean", 2);
  m.output("y", 2);
  auto x = make({2, 3});
  for (std::size_t i = 0; i < 6; ++i) x.values<float>()[i] = static_cast<float>(i + 1);
  const auto path = m.save("log_view");
  for (std::size_t workers : {std::size_t{1}, std::size_t{2}}) {
    onednn::session s(path, {.workers = workers, .threads = 1, .cores = 2});
    const auto out = s.run({x});
    REQUIRE(out.size() == 2);
    CHECK(out[0].values<float>()[0] == 0.f);
    for (std::size_t i = 0; i < 6; ++i) CHECK(out[0].values<float>()[i] == std::log(static_cast<float>(i + 1)));
  }
}

TEST_CASE("[dfgpar] onednn: HardSigmoid (linear then clip, fused after a Conv and alone)") {
  auto hsig = [](float v) { return std::clamp(0.25f * v + 0.4f, 0.f, 1.f); };
  {
    model m;
    m.input("x", {1, 3, 6, 6});
    const auto w = m.weight("w", {8, 3, 3, 3});
    m.node("Conv", {"x", "w"}, {"c"}).ints("pads", {1, 1, 1, 1});
    m.node("HardSigmoid", {"c"}, {"y"}).f("alpha", 0.25f).f("beta", 0.4f);
    m.output("y");
    const auto x = random_tensor({1, 3, 6, 6});
    check_all(m, "conv_hardsigmoid", {x}, map(conv_ref(x, w, nullptr, 1, {1, 1}, {1, 1, 1, 1}), hsig));
  }
  {
    model m;
    m.input("x", {1, 2, 5, 5});
    m.node("HardSigmoid", {"x"}, {"y"}).f("alpha", 0.25f).f("beta", 0.4f);
    m.output("y");
    auto x = random_tensor({1, 2, 5, 5});
    for (float& v : x.values<float>()) v *= 6;  // reach both clip bounds
    check_all(m, "hardsigmoid", {x}, map(x, hsig));
  }
  {  // three elements: oneDNN's reference eltwise (picked for so few) lost the clip as a post-op
    model m;
    m.input("x", {3});
    m.node("HardSigmoid", {"x"}, {"y"}).f("alpha", 0.5f).f("beta", 0.6f);
    m.output("y", 1);
    tensor x = make({3});
    x.values<float>() = {-1.f, 0.f, 1.f};
    tensor want = make({3});
    want.values<float>() = {0.1f, 0.6f, 1.f};
    check_all(m, "hardsigmoid3", {x}, want, 1e-6);
  }
}

TEST_CASE("[dfgpar] onednn: a residual Add (and the Relu after it) fused into the Conv as a sum post-op") {
  // ResNet's block: a = relu(conv1(x)); y = relu(conv3(relu(conv2(a))) + a). conv3 accumulates into a's
  // buffer: a's other reader (conv2) is its ancestor. d = conv4(x) + conv5(x) cannot fuse (neither
  // operand is written before the other Conv starts), and must still be right.
  model m;
  m.input("x", {1, 8, 7, 7});
  const auto w1 = m.weight("w1", {16, 8, 3, 3}), w2 = m.weight("w2", {16, 16, 3, 3}), w3 = m.weight("w3", {16, 16, 1, 1});
  const auto w4 = m.weight("w4", {16, 8, 1, 1}), w5 = m.weight("w5", {16, 8, 3, 3});
  m.node("Conv", {"x", "w1"}, {"c1"}).ints("pads", {1, 1, 1, 1});
  m.node("Relu", {"c1"}, {"a"});
  m.node("Conv", {"a", "w2"}, {"c2"}).ints("pads", {1, 1, 1, 1});
  m.node("Relu", {"c2"}, {"r2"});
  m.node("Conv", {"r2", "w3"}, {"c3"});
  m.node("Add", {"c3", "a"}, {"s"});
  m.node("Relu", {"s"}, {"t"});
  m.node("Conv", {"x", "w4"}, {"c4"});
  m.node("Conv", {"x", "w5"}, {"c5"}).ints("pads", {1, 1, 1, 1});
  m.node("Add", {"c4", "c5"}, {"d"});
  m.node("Add", {"t", "d"}, {"y"});
  m.output("y");
  const auto x = random_tensor({1, 8, 7, 7});
  auto relu = [](float v) { return std::max(v, 0.f); };
  const tensor a = map(conv_ref(x, w1, nullptr, 1, {1, 1}, {1, 1, 1, 1}), relu);
  const tensor r2 = map(conv_ref(a, w2, nullptr, 1, {1, 1}, {1, 1, 1, 1}), relu);
  tensor want = conv_ref(r2, w3, nullptr, 1, {1, 1}, {0, 0, 0, 0});
  const tensor c4 = conv_ref(x, w4, nullptr, 1, {1, 1}, {0, 0, 0, 0}), c5 = conv_ref(x, w5, nullptr, 1, {1, 1}, {1, 1, 1, 1});
  for (std::size_t i = 0; i < want.size(); ++i) {
    auto& v = want.values<float>()[i];
    v = relu(v + a.values<float>()[i]) + c4.values<float>()[i] + c5.values<float>()[i];
  }
  check_all(m, "residual", {x}, want);
  for (std::size_t workers : {std::size_t{1}, std::size_t{2}}) {
    onednn::session s(m.save("residual"), {.workers = workers, .threads = 1, .cores = 2});
    std::size_t fused_into_conv = 0;
    for (std::size_t v = 0; v < s.statistics().nodes; ++v)
      if (s.kernel_of(v).rfind("Conv+Relu+Add+Relu", 0) == 0 || s.kernel_of(v).rfind("Conv+Add+Relu", 0) == 0)
        ++fused_into_conv;
    CHECK(fused_into_conv == 1);
  }
}

TEST_CASE("[dfgpar] onednn: Add of a lower-rank constant (a [C] bias on [N, C], a scalar on [1, 1])") {
  for (std::int64_t c : {2, 1}) {
    model m;
    m.input("x", {1, c});
    const auto b = c == 2 ? m.weight("b", {2}) : m.weight("b", {});
    m.node("Relu", {"x"}, {"r"});
    m.node("Add", {"r", "b"}, {"y"});
    m.output("y", 2);
    const auto x = random_tensor({1, c});
    tensor want = make({1, c});
    for (std::size_t i = 0; i < static_cast<std::size_t>(c); ++i)
      want.values<float>()[i] = std::max(x.values<float>()[i], 0.f) + b.values<float>()[i];
    check_all(m, "add_rank" + std::to_string(c), {x}, want);
  }
}

TEST_CASE("[dfgpar] onednn: a one-element or per-channel second source on a blocked Conv output runs in its blocked layout") {
  // 16 channels in and out: blocked by 8 (AVX2) or 16 (AVX-512) alike
  model m;
  m.input("x", {1, 16, 6, 6});
  const auto w = m.weight("w", {16, 16, 3, 3});
  const auto s = m.weight("s", {});           // rank 0
  const auto bias = m.weight("bias", {16, 1, 1});  // lower rank, per channel
  const auto d = m.weight("d", {1}, 2, 3);   // one element, rank 1
  m.node("Conv", {"x", "w"}, {"c"}).ints("pads", {1, 1, 1, 1});
  m.node("Mul", {"s", "c"}, {"m1"});  // the constant first
  m.node("Add", {"m1", "bias"}, {"a1"});
  m.node("GlobalAveragePool", {"a1"}, {"g"});
  m.node("Sigmoid", {"g"}, {"sg"});   // [1, 16, 1, 1], not a constant
  m.node("Mul", {"a1", "sg"}, {"m2"});
  m.node("Div", {"m2", "d"}, {"y"});
  m.output("y");
  const auto x = random_tensor({1, 16, 6, 6});
  tensor want = conv_ref(x, w, nullptr, 1, {1, 1}, {1, 1, 1, 1});
  auto& wv = want.values<float>();
  std::vector<double> mean(16, 0.0);
  for (std::size_t i = 0; i < wv.size(); ++i) {
    wv[i] = s.values<float>()[0] * wv[i] + bias.values<float>()[i / 36];
    mean[i / 36] += wv[i] / 36;
  }
  for (std::size_t i = 0; i < wv.size(); ++i)
    wv[i] = static_cast<float>(wv[i] * (1 / (1 + std::exp(-mean[i / 36]))) / d.values<float>()[0]);
  check_all(m, "per_channel_blocked", {x}, want);
  onednn::session sess(m.save("per_channel_blocked"), {.workers = 1, .threads = 1, .cores = 2});
  std::size_t blocked = 0;
  for (std::size_t v = 0; v < sess.statistics().nodes; ++v)
    if (sess.kernel_of(v).find("(per channel, blocked)") != std::string::npos) ++blocked;
  CHECK(blocked == 3);  // the Add, the second Mul and the Div (the first Mul is the Conv's linear post-op)
  CHECK(sess.kernel_of(0).find("Conv+Mul ") == 0);
  CHECK(sess.statistics().evaluator == 0);
}

TEST_CASE("[dfgpar] onednn: Clip with bounds computed at run time (binary max, then min)") {
  model m;
  m.input("x", {1, 2, 3, 4});
  m.input("lo", {});
  m.input("hi", {1});
  m.node("Conv", {"x", "w"}, {"c"});
  const auto w = m.weight("w", {8, 2, 1, 1});
  m.node("Clip", {"c", "lo", "hi"}, {"y"});
  m.output("y");
  const auto x = random_tensor({1, 2, 3, 4});
  auto lo = make({}), hi = make({1});
  lo.values<float>()[0] = -0.3f;
  hi.values<float>()[0] = 0.4f;
  check_all(m, "clip_rt", {x, lo, hi},
            map(conv_ref(x, w, nullptr, 1, {1, 1}, {0, 0, 0, 0}), [](float v) { return std::clamp(v, -0.3f, 0.4f); }));
}

TEST_CASE("[dfgpar] onednn: a zero Pad folded into the Conv after it") {
  model m;
  m.input("x", {1, 3, 7, 6});
  m.constant("pads", dfgpar::onnx::make_tensor<std::int64_t>(::onnx::TensorProto::INT64, {8}, {0, 0, 1, 2, 0, 0, 2, 1}));
  m.node("Pad", {"x", "pads"}, {"p"});
  const auto w = m.weight("w", {4, 3, 3, 3});
  m.node("Conv", {"p", "w"}, {"y"}).ints("pads", {1, 0, 0, 1}).ints("strides", {2, 1});
  m.output("y");
  const auto x = random_tensor({1, 3, 7, 6});
  check_all(m, "padconv", {x}, conv_ref(x, w, nullptr, 1, {2, 1}, {2, 2, 2, 2}));
  onednn::session s(m.save("padconv"), {.workers = 1, .threads = 1});
  CHECK(s.kernel_of(0).find("folded into the Conv") != std::string::npos);
}

TEST_CASE("[dfgpar] onednn: Resize as a resampling: nearest x2 (asymmetric, floor) and linear (half_pixel)") {
  const auto x = random_tensor({1, 2, 3, 4});
  auto at = [&](std::int64_t c, std::int64_t h, std::int64_t w) {
    return x.values<float>()[static_cast<std::size_t>((c * 3 + h) * 4 + w)];
  };
  {
    model m;
    m.input("x", {1, 2, 3, 4});
    m.constant("roi", make({0}));
    m.constant("scales", dfgpar::onnx::make_tensor<float>(::onnx::TensorProto::FLOAT, {4}, {1, 1, 2, 3}));
    m.node("Resize", {"x", "roi", "scales"}, {"y"}).s("mode", "nearest").s("coordinate_transformation_mode", "asymmetric").s(
        "nearest_mode", "floor");
    m.output("y");
    tensor want = make({1, 2, 6, 12});
    for (std::int64_t c = 0; c < 2; ++c)
      for (std::int64_t h = 0; h < 6; ++h)
        for (std::int64_t w = 0; w < 12; ++w) want.values<float>()[static_cast<std::size_t>((c * 6 + h) * 12 + w)] = at(c, h / 2, w / 3);
    check_all(m, "resize_nearest", {x}, want);
  }
  {
    model m;
    m.input("x", {1, 2, 3, 4});
    m.constant("roi", make({0}));
    m.constant("scales", make({0}));
    m.constant("sizes", dfgpar::onnx::make_tensor<std::int64_t>(::onnx::TensorProto::INT64, {4}, {1, 2, 5, 8}));
    m.node("Resize", {"x", "roi", "scales", "sizes"}, {"y"}).s("mode", "linear");
    m.output("y");
    auto coord = [](std::int64_t o, double scale, std::int64_t in) {
      return std::clamp((static_cast<double>(o) + 0.5) / scale - 0.5, 0.0, static_cast<double>(in - 1));
    };
    tensor want = make({1, 2, 5, 8});
    for (std::int64_t c = 0; c < 2; ++c)
      for (std::int64_t h = 0; h < 5; ++h)
        for (std::int64_t w = 0; w < 8; ++w) {
          const double sh = coord(h, 5.0 / 3, 3), sw = coord(w, 2.0, 4);
          const auto h0 = static_cast<std::int64_t>(sh), w0 = static_cast<std::int64_t>(sw);
          const auto h1 = std::min<std::int64_t>(h0 + 1, 2), w1 = std::min<std::int64_t>(w0 + 1, 3);
          const double fh = sh - static_cast<double>(h0), fw = sw - static_cast<double>(w0);
          want.values<float>()[static_cast<std::size_t>((c * 5 + h) * 8 + w)] =
              static_cast<float>((1 - fh) * ((1 - fw) * at(c, h0, w0) + fw * at(c, h0, w1)) +
                                 fh * ((1 - fw) * at(c, h1, w0) + fw * at(c, h1, w1)));
        }
    check_all(m, "resize_linear", {x}, want);
  }
}

TEST_CASE("[dfgpar] onednn: ConvTranspose (groups, strides, pads, output_padding, dilations) with a fused Relu") {
  model m;
  m.input("x", {1, 4, 3, 4});
  const auto w = m.weight("w", {4, 3, 3, 2});  // [C_in, C_out / group, kh, kw], group 2: 6 outputs
  const auto b = m.weight("b", {6});
  m.node("ConvTranspose", {"x", "w", "b"}, {"c"})
      .i("group", 2)
      .ints("strides", {2, 3})
      .ints("pads", {1, 0, 0, 1})
      .ints("output_padding", {1, 0})
      .ints("dilations", {1, 2});
  m.node("Relu", {"c"}, {"y"});
  m.output("y");
  const auto x = random_tensor({1, 4, 3, 4});
  // out = s * (in - 1) + op + (k - 1) * d + 1 - pads
  const std::int64_t OH = 2 * 2 + 1 + 3 - 1, OW = 3 * 3 + 0 + 3 - 1;
  tensor want = make({1, 6, OH, OW});
  auto& yv = want.values<float>();
  for (std::int64_t o = 0; o < 6; ++o)
    for (std::size_t i = 0; i < static_cast<std::size_t>(OH * OW); ++i) yv[static_cast<std::size_t>(o) * static_cast<std::size_t>(OH * OW) + i] = b.values<float>()[static_cast<std::size_t>(o)];
  for (std::int64_t ci = 0; ci < 4; ++ci)
    for (std::int64_t ih = 0; ih < 3; ++ih)
      for (std::int64_t iw = 0; iw < 4; ++iw)
        for (std::int64_t oo = 0; oo < 3; ++oo)
          for (std::int64_t kh = 0; kh < 3; ++kh)
            for (std::int64_t kw = 0; kw < 2; ++kw) {
              const std::int64_t o = (ci / 2) * 3 + oo, oh = ih * 2 - 1 + kh, ow = iw * 3 - 0 + kw * 2;
              if (oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;
              yv[static_cast<std::size_t>((o * OH + oh) * OW + ow)] +=
                  x.values<float>()[static_cast<std::size_t>((ci * 3 + ih) * 4 + iw)] *
                  w.values<float>()[static_cast<std::size_t>(((ci * 3 + oo) * 3 + kh) * 2 + kw)];
            }
  check_all(m, "convtranspose", {x}, map(want, [](float v) { return std::max(v, 0.f); }));
}

TEST_CASE("[dfgpar] onednn: LayerNormalization over the last axes, with a run-time scale") {
  for (std::int64_t axis : {-1, 1}) {
    model m;
    m.proto.mutable_opset_import(0)->set_version(17);
    m.input("x", {2, 3, 4});
    const std::vector<std::int64_t> cd = axis == -1 ? std::vector<std::int64_t>{4} : std::vector<std::int64_t>{3, 4};
    m.input("scale", cd);
    const auto bias = m.weight("bias", cd);
    m.node("LayerNormalization", {"x", "scale", "bias"}, {"y"}).i("axis", axis).f("epsilon", 1e-3f);
    m.output("y", 3);
    const auto x = random_tensor({2, 3, 4});
    const auto scale = random_tensor(cd, 11);
    const std::size_t inner = axis == -1 ? 4 : 12, outer = 24 / inner;
    tensor want = make({2, 3, 4});
    for (std::size_t o = 0; o < outer; ++o) {
      double mean = 0, var = 0;
      for (std::size_t i = 0; i < inner; ++i) mean += x.values<float>()[o * inner + i];
      mean /= static_cast<double>(inner);
      for (std::size_t i = 0; i < inner; ++i) var += std::pow(x.values<float>()[o * inner + i] - mean, 2);
      var /= static_cast<double>(inner);
      for (std::size_t i = 0; i < inner; ++i)
        want.values<float>()[o * inner + i] = static_cast<float>(
            (x.values<float>()[o * inner + i] - mean) / std::sqrt(var + 1e-3) * scale.values<float>()[i] + bias.values<float>()[i]);
    }
    check_all(m, "layernorm" + std::to_string(axis + 1), {x, scale}, want);
  }
}

TEST_CASE("[dfgpar] onednn: reductions as oneDNN reductions (ReduceMean keepdims, ReduceL2 without, ReduceSum by input)") {
  const auto x = random_tensor({2, 3, 4});
  auto fold = [&](std::size_t axis, double init, auto f, auto fin, bool keep) {
    std::vector<std::int64_t> d = {2, 3, 4};
    d[axis] = 1;
    if (!keep) d.erase(d.begin() + static_cast<long>(axis));
    tensor y = make(d);
    // strides of x: 12, 4, 1; the reduced axis is walked innermost
    const std::size_t len = axis == 0 ? 2 : axis == 1 ? 3 : 4, stride = axis == 0 ? 12 : axis == 1 ? 4 : 1;
    std::size_t out = 0;
    for (std::size_t i = 0; i < 24; ++i) {
      if ((i / stride) % len != 0) continue;
      double acc = init;
      for (std::size_t j = 0; j < len; ++j) acc = f(acc, static_cast<double>(x.values<float>()[i + j * stride]));
      y.values<float>()[out++] = static_cast<float>(fin(acc, static_cast<double>(len)));
    }
    return y;
  };
  {
    model m;
    m.input("x", {2, 3, 4});
    m.node("ReduceMean", {"x"}, {"y"}).ints("axes", {1});
    m.output("y", 3);
    check_all(m, "reducemean", {x}, fold(1, 0, [](double a, double b) { return a + b; }, [](double a, double n) { return a / n; }, true));
  }
  {
    model m;
    m.input("x", {2, 3, 4});
    m.node("ReduceL2", {"x"}, {"y"}).ints("axes", {-1}).i("keepdims", 0);
    m.output("y", 2);
    check_all(m, "reducel2", {x}, fold(2, 0, [](double a, double b) { return a + b * b; }, [](double a, double) { return std::sqrt(a); }, false));
  }
  {
    model m;
    m.input("x", {2, 3, 4});
    m.constant("axes", dfgpar::onnx::make_tensor<std::int64_t>(::onnx::TensorProto::INT64, {1}, {0}));
    m.node("ReduceSum", {"x", "axes"}, {"y"});
    m.output("y", 3);
    check_all(m, "reducesum", {x}, fold(0, 0, [](double a, double b) { return a + b; }, [](double a, double) { return a; }, true));
    onednn::session s(m.save("reducesum"), {.workers = 1, .threads = 1});
    CHECK(s.statistics().evaluator == 0);
  }
}

TEST_CASE("[dfgpar] onednn: Pad in plain C++ (reflect, edge, constant with a value and a negative pad)") {
  const auto x = random_tensor({1, 2, 3, 4});
  for (std::string mode : {"reflect", "edge", "constant"}) {
    model m;
    m.input("x", {1, 2, 3, 4});
    const bool crop = mode == "constant";
    const std::vector<std::int64_t> pads = {0, 0, 2, 1, 0, 0, 1, crop ? -1 : 2};
    m.constant("pads", dfgpar::onnx::make_tensor<std::int64_t>(::onnx::TensorProto::INT64, {8}, pads));
    m.constant("value", dfgpar::onnx::make_tensor<float>(::onnx::TensorProto::FLOAT, {}, {1.5f}));
    if (crop) m.node("Pad", {"x", "pads", "value"}, {"y"}).s("mode", mode);
    else m.node("Pad", {"x", "pads"}, {"y"}).s("mode", mode);
    m.output("y");
    const std::int64_t OH = 3 + 2 + 1, OW = 4 + 1 + pads[7];
    tensor want = make({1, 2, OH, OW});
    auto src = [&](std::int64_t i, std::int64_t len) -> std::int64_t {
      if (i >= 0 && i < len) return i;
      if (mode == "constant") return -1;
      if (mode == "edge") return std::clamp<std::int64_t>(i, 0, len - 1);
      return i < 0 ? -i : 2 * (len - 1) - i;
    };
    for (std::int64_t c = 0; c < 2; ++c)
      for (std::int64_t h = 0; h < OH; ++h)
        for (std::int64_t w = 0; w < OW; ++w) {
          const auto ih = src(h - 2, 3), iw = src(w - 1, 4);
          want.values<float>()[static_cast<std::size_t>((c * OH + h) * OW + w)] =
              ih < 0 || iw < 0 ? 1.5f : x.values<float>()[static_cast<std::size_t>((c * 3 + ih) * 4 + iw)];
        }
    check_all(m, "pad_" + mode, {x}, want);
  }
}

TEST_CASE("[dfgpar] onednn: element-wise chains after a Conv as post-ops (PP-LCNet: x a + b, hardswish written out, x c + d)") {
  auto scalar = [](model& m, const std::string& name, float v, bool rank0) {
    tensor t = make(rank0 ? std::vector<std::int64_t>{} : std::vector<std::int64_t>{1});
    t.values<float>() = {v};
    m.constant(name, t);
  };
  auto hswish = [](float v) { return v * std::clamp(v + 3.f, 0.f, 6.f) / 6.f; };
  model m;
  m.input("x", {1, 4, 7, 7});
  const auto w = m.weight("w", {8, 4, 3, 3}, -2, 2);
  scalar(m, "a", 1.5f, false);
  scalar(m, "b", 0.5f, false);
  scalar(m, "three", 3.f, true);
  scalar(m, "zero", 0.f, true);
  scalar(m, "six", 6.f, true);
  scalar(m, "c", 0.25f, false);
  scalar(m, "d", -0.75f, false);
  scalar(m, "two", 2.f, true);
  m.node("Conv", {"x", "w"}, {"y"}).ints("pads", {1, 1, 1, 1});
  m.node("Mul", {"a", "y"}, {"ya"});  // the constant first
  m.node("Add", {"ya", "b"}, {"t"});
  m.node("Add", {"t", "three"}, {"s"});
  m.node("Clip", {"s", "zero", "six"}, {"cl"});
  m.node("Mul", {"t", "cl"}, {"tc"});
  m.node("Div", {"tc", "six"}, {"h"});
  m.node("Mul", {"h", "c"}, {"hc"});  // a second linear: oneDNN 2.6 would reuse the first's alpha and beta
  m.node("Add", {"hc", "d"}, {"z"});
  m.node("Pow", {"z", "two"}, {"out"});
  m.output("out");
  const auto x = random_tensor({1, 4, 7, 7});
  const auto want = map(conv_ref(x, w, nullptr, 1, {1, 1}, {1, 1, 1, 1}), [&](float v) {
    const float z = hswish(v * 1.5f + 0.5f) * 0.25f - 0.75f;
    return z * z;
  });
  check_all(m, "lcnet_chain", {x}, want);
  onednn::session s(m.save("lcnet_chain"), {.workers = 1, .threads = 1});
  MESSAGE("conv kernel: " << s.kernel_of(0));
  CHECK(s.kernel_of(0).find("Conv+Mul+Add+HardSwish ") == 0);  // one linear, one hardswish post-op
  // the second linear: one primitive of its own for its two nodes; the square: one of its own
  std::size_t fused = 0;
  for (std::size_t v = 0; v < 10; ++v) fused += s.kernel_of(v).find("(fused)") != std::string::npos;
  CHECK(fused == 7);
  CHECK(s.kernel_of(7).find("Mul+Add (one linear) [") == 0);
  CHECK(s.kernel_of(9).find("Pow [") == 0);  // x * x as oneDNN's eltwise_square, not the evaluator
}

TEST_CASE("[dfgpar] onednn: Transpose as one oneDNN reorder (NHWC to NCHW, the default reversal, after a blocked Conv)") {
  auto transposed = [](const tensor& x, const std::vector<std::int64_t>& perm) {
    const std::size_t rank = x.dims.size();
    std::vector<std::int64_t> yd(rank), xs(rank, 1);
    for (std::size_t i = rank - 1; i-- > 0;) xs[i] = xs[i + 1] * x.dims[i + 1];
    for (std::size_t i = 0; i < rank; ++i) yd[i] = x.dims[static_cast<std::size_t>(perm[i])];
    tensor y = make(yd);
    std::vector<std::int64_t> idx(rank, 0);
    for (std::size_t e = 0; e < y.size(); ++e) {
      std::int64_t off = 0;
      for (std::size_t i = 0; i < rank; ++i) off += idx[i] * xs[static_cast<std::size_t>(perm[i])];
      y.values<float>()[e] = x.values<float>()[static_cast<std::size_t>(off)];
      for (std::size_t i = rank; i-- > 0;)
        if (++idx[i] < yd[i]) break;
        else idx[i] = 0;
    }
    return y;
  };
  {
    model m;
    m.input("x", {1, 5, 6, 4});
    m.node("Transpose", {"x"}, {"y"}).ints("perm", {0, 3, 1, 2});
    m.output("y");
    const auto x = random_tensor({1, 5, 6, 4});
    check_all(m, "transpose_nhwc", {x}, transposed(x, {0, 3, 1, 2}), 0);
    onednn::session s(m.save("transpose_nhwc"), {.workers = 1, .threads = 1});
    CHECK(s.kernel_of(0).find("Transpose [") == 0);
    CHECK(s.statistics().evaluator == 0);
  }
  {
    model m;
    m.input("x", {2, 3, 4});
    m.node("Transpose", {"x"}, {"y"});  // no perm: the axes reversed
    m.output("y", 3);
    const auto x = random_tensor({2, 3, 4});
    check_all(m, "transpose_default", {x}, transposed(x, {2, 1, 0}), 0);
  }
  {
    model m;
    m.input("x", {1, 3, 5, 5});
    const auto w = m.weight("w", {8, 3, 3, 3});
    m.node("Conv", {"x", "w"}, {"c"}).ints("pads", {1, 1, 1, 1});
    m.node("Transpose", {"c"}, {"y"}).ints("perm", {0, 2, 3, 1});
    m.output("y");
    const auto x = random_tensor({1, 3, 5, 5});
    check_all(m, "conv_transpose_nhwc", {x}, transposed(conv_ref(x, w, nullptr, 1, {1, 1}, {1, 1, 1, 1}), {0, 2, 3, 1}));
  }
}

TEST_CASE("[dfgpar] onednn: Slice with steps of 1 as one oneDNN reorder (negative starts and axes, ends past the end)") {
  auto ints = [](model& m, const std::string& name, std::vector<std::int64_t> v) {
    tensor t = dfgpar::onnx::make_tensor(::onnx::TensorProto::INT64, {static_cast<std::int64_t>(v.size())});
    t.values<std::int64_t>() = std::move(v);
    m.constant(name, t);
  };
  model m;
  m.input("x", {1, 6, 5, 4});
  ints(m, "starts", {1, -3});
  ints(m, "ends", {std::numeric_limits<std::int64_t>::max(), 5});
  ints(m, "axes", {-1, 1});
  m.node("Slice", {"x", "starts", "ends", "axes"}, {"y"});
  m.output("y");
  const auto x = random_tensor({1, 6, 5, 4});
  tensor want = make({1, 2, 5, 3});  // channels 3..4, last axis 1..3
  std::size_t e = 0;
  for (std::int64_t c = 3; c < 5; ++c)
    for (std::int64_t h = 0; h < 5; ++h)
      for (std::int64_t w = 1; w < 4; ++w) want.values<float>()[e++] = x.values<float>()[static_cast<std::size_t>((c * 5 + h) * 4 + w)];
  check_all(m, "slice_native", {x}, want, 0);
  onednn::session s(m.save("slice_native"), {.workers = 1, .threads = 1});
  CHECK(s.kernel_of(0).find("Slice [") == 0);
  CHECK(s.statistics().evaluator == 0);
}

TEST_CASE("[dfgpar] onednn: 3x3 stride-1 convolutions by Winograd in one blocked layout (an Inception block)") {
  // GoogLeNet's block after a stem: 1x1, 1x1 -> 3x3 (Relu fused), 3x3 alone, concatenated. Where oneDNN
  // has Winograd kernels (AVX-512) the 3x3s run by Winograd and every activation is nChw16c: no reorder
  // between the convolutions, the Concat in place; elsewhere they run direct. Both against the naive
  // reference.
  model m;
  m.input("x", {1, 32, 12, 12});
  const auto w0 = m.weight("w0", {32, 32, 1, 1});
  const auto w1 = m.weight("w1", {16, 32, 1, 1}), w2 = m.weight("w2", {32, 32, 1, 1}), w3 = m.weight("w3", {48, 32, 3, 3});
  const auto w4 = m.weight("w4", {16, 32, 3, 3});
  const auto b3 = m.weight("b3", {48});
  m.node("Conv", {"x", "w0"}, {"s"});
  m.node("Conv", {"s", "w1"}, {"a"});
  m.node("Conv", {"s", "w2"}, {"b0"});
  m.node("Relu", {"b0"}, {"b1"});
  m.node("Conv", {"b1", "w3", "b3"}, {"b2"}).ints("pads", {1, 1, 1, 1});
  m.node("Relu", {"b2"}, {"b"});
  m.node("Conv", {"s", "w4"}, {"c"}).ints("pads", {1, 1, 1, 1});
  m.node("Concat", {"a", "b", "c"}, {"y"}).i("axis", 1);
  m.output("y");
  const auto x = random_tensor({1, 32, 12, 12});
  auto relu = [](float v) { return std::max(v, 0.f); };
  const tensor st = conv_ref(x, w0, nullptr, 1, {1, 1}, {0, 0, 0, 0});
  const tensor a = conv_ref(st, w1, nullptr, 1, {1, 1}, {0, 0, 0, 0});
  const tensor b1 = map(conv_ref(st, w2, nullptr, 1, {1, 1}, {0, 0, 0, 0}), relu);
  const tensor b = map(conv_ref(b1, w3, &b3, 1, {1, 1}, {1, 1, 1, 1}), relu);
  const tensor c = conv_ref(st, w4, nullptr, 1, {1, 1}, {1, 1, 1, 1});
  tensor want = make({1, 80, 12, 12});
  std::size_t at = 0;
  for (const tensor* t : {&a, &b, &c})
    for (float v : t->values<float>()) want.values<float>()[at++] = v;
  check_all(m, "winograd_block", {x}, want);
  const auto path = m.save("winograd_block");
  for (bool winograd : {true, false}) {
    CAPTURE(winograd);
    onednn::session s(path, {.workers = 1, .threads = 1, .kernels = {.winograd = winograd}});
    require_close(s.run({x})[0], want);
    const auto& stats = s.statistics();
    MESSAGE("winograd " << winograd << ": " << stats.winograd << " Winograd, " << stats.reorders << " reorders; "
                        << s.kernel_of(4) << "; " << s.kernel_of(7));
    if (!winograd) {
      CHECK(stats.winograd == 0);
    } else if (stats.winograd == 0) {
      MESSAGE("no Winograd kernels on this CPU (oneDNN 2.x has them for AVX-512 only): direct convolutions checked");
      CHECK(s.kernel_of(4).find("wino") == std::string::npos);
    } else {
      CHECK(stats.winograd == 2);
      CHECK(s.kernel_of(4).rfind("Conv+Relu [jit_", 0) == 0);  // the Relu a post-op of the Winograd kernel
      CHECK(s.kernel_of(4).find("wino") != std::string::npos);
      CHECK(stats.reorders == 2);  // the plain input into nChw16c and the output back; none in between
      CHECK(s.kernel_of(7).rfind("Concat (in place)", 0) == 0);  // its inputs written into their slices
    }
  }
}
