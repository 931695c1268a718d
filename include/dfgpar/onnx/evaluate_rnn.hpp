#pragma once
/// \file evaluate_rnn.hpp
/// The recurrent rules of the folding evaluator (evaluate.hpp dispatches to
/// them): LSTM, GRU and RNN as the ONNX operator specification writes them
/// (gate order i, o, f, c for LSTM and z, r, h for GRU; directions forward,
/// reverse and bidirectional; optional B, sequence_lens, initial_h,
/// initial_c and P; activations, with activation_alpha/beta consumed in the
/// order of the activations that take them, as ONNX Runtime does; clip;
/// layout 0 and 1; every output optional). One reference implementation: the
/// native runtime (onednn/) runs it for these nodes. Computed in double, for
/// float and double tensors. LSTM's input_forget = 1 is declined. Not a user
/// entry point: `evaluate()` is.

#include <dfgpar/error.hpp>
#include <dfgpar/onnx/attributes.hpp>
#include <dfgpar/onnx/evaluate_nn.hpp>
#include <dfgpar/onnx/tensor.hpp>

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace dfgpar::onnx::detail {

/// The three recurrent operators.
enum class rnn_kind { rnn, gru, lstm };

/// One activation of a recurrent operator, with its alpha and beta.
struct rnn_activation {
  std::string name;
  double alpha = 0, beta = 0;

  double operator()(double x) const {
    if (name == "Sigmoid") return 1 / (1 + std::exp(-x));
    if (name == "Tanh") return std::tanh(x);
    if (name == "Relu") return std::max(x, 0.0);
    if (name == "Affine") return alpha * x + beta;
    if (name == "LeakyRelu") return x >= 0 ? x : alpha * x;
    if (name == "ThresholdedRelu") return x > alpha ? x : 0;
    if (name == "ScaledTanh") return alpha * std::tanh(beta * x);
    if (name == "HardSigmoid") return std::clamp(alpha * x + beta, 0.0, 1.0);
    if (name == "Elu") return x >= 0 ? x : alpha * (std::exp(x) - 1);
    if (name == "Softsign") return x / (1 + std::abs(x));
    return std::log1p(std::exp(x));  // Softplus
  }
};

/// The activations of a recurrent node: `per_dir` per direction, defaults
/// `defaults`; alpha/beta taken in order by the activations that use them
/// (their ONNX defaults otherwise). Nullopt for an unknown activation.
inline std::optional<std::vector<rnn_activation>> rnn_activations(attribute_reader& a, std::size_t per_dir,
                                                                  std::size_t dirs,
                                                                  const std::vector<std::string>& defaults) {
  std::vector<std::string> names;
  if (auto s = a.find_strings("activations")) names = *s;
  else
    for (std::size_t d = 0; d < dirs; ++d) names.insert(names.end(), defaults.begin(), defaults.end());
  if (names.size() != per_dir * dirs) return std::nullopt;
  std::vector<float> alphas, betas;
  if (auto f = a.find_floats("activation_alpha")) alphas = *f;
  if (auto f = a.find_floats("activation_beta")) betas = *f;
  std::size_t ia = 0, ib = 0;
  std::vector<rnn_activation> out;
  for (const auto& s : names) {
    rnn_activation f{s};
    bool uses_alpha = true, uses_beta = false;
    if (s == "Sigmoid" || s == "Tanh" || s == "Relu" || s == "Softsign" || s == "Softplus") uses_alpha = false;
    else if (s == "Affine") { f.alpha = 1; uses_beta = true; }
    else if (s == "LeakyRelu") f.alpha = 0.01;
    else if (s == "ThresholdedRelu" || s == "Elu") f.alpha = 1;
    else if (s == "ScaledTanh") { f.alpha = 1; f.beta = 1; uses_beta = true; }
    else if (s == "HardSigmoid") { f.alpha = 0.2; f.beta = 0.5; uses_beta = true; }
    else return std::nullopt;
    if (uses_alpha && ia < alphas.size()) f.alpha = alphas[ia++];
    if (uses_beta && ib < betas.size()) f.beta = betas[ib++];
    out.push_back(std::move(f));
  }
  return out;
}

/// LSTM, GRU or RNN on inputs X, W, R, B, sequence_lens, initial_h (LSTM:
/// initial_c, P). Returns Y, Y_h (LSTM: Y_c), or nullopt for what is declined.
inline std::optional<std::vector<tensor>> eval_recurrent(const ::onnx::NodeProto& n, attribute_reader& a, rnn_kind kind,
                                                         std::span<const tensor* const> in, std::int64_t opset) {
  auto input = [&](std::size_t i) -> const tensor* { return i < in.size() ? in[i] : nullptr; };
  const tensor *x = input(0), *w = input(1), *r = input(2);
  if (!x || !w || !r) bad_node(n, "X, W and R are required");
  const std::int32_t type = x->elem_type;
  if (!is_real_type(type) || w->elem_type != type || r->elem_type != type) return std::nullopt;
  const std::size_t gates = kind == rnn_kind::lstm ? 4 : kind == rnn_kind::gru ? 3 : 1;
  const std::int64_t layout = opset >= 14 ? a.get_int("layout", 0) : 0;
  if (layout != 0 && layout != 1) bad_node(n, "layout must be 0 or 1");
  const std::string direction = a.get_string("direction", "forward");
  const std::size_t dirs = direction == "bidirectional" ? 2 : 1;
  if (direction != "forward" && direction != "reverse" && direction != "bidirectional")
    bad_node(n, "unknown direction '" + direction + "'");
  if (x->dims.size() != 3) bad_node(n, "X must have rank 3");
  const auto S = static_cast<std::size_t>(x->dims[layout ? 1 : 0]), N = static_cast<std::size_t>(x->dims[layout ? 0 : 1]),
             I = static_cast<std::size_t>(x->dims[2]);
  const auto hidden = a.find_int("hidden_size");
  if (!hidden || *hidden <= 0) bad_node(n, "attribute 'hidden_size' is missing");
  const auto H = static_cast<std::size_t>(*hidden);
  const auto G = gates * H;
  auto D = [](std::size_t v) { return static_cast<std::int64_t>(v); };
  if (w->dims != std::vector<std::int64_t>{D(dirs), D(G), D(I)}) bad_node(n, "W has the wrong shape");
  if (r->dims != std::vector<std::int64_t>{D(dirs), D(G), D(H)}) bad_node(n, "R has the wrong shape");
  const double clip = a.get_float("clip", 0);
  const bool clipped = a.find_float("clip").has_value();
  if (clipped && clip <= 0) bad_node(n, "clip must be positive");
  const bool linear_before_reset = kind == rnn_kind::gru && a.get_int("linear_before_reset", 0) != 0;
  if (kind == rnn_kind::lstm && a.get_int("input_forget", 0) != 0) return std::nullopt;
  const std::size_t per_dir = kind == rnn_kind::lstm ? 3 : kind == rnn_kind::gru ? 2 : 1;
  const std::vector<std::string> defaults = kind == rnn_kind::lstm  ? std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"}
                                            : kind == rnn_kind::gru ? std::vector<std::string>{"Sigmoid", "Tanh"}
                                                                    : std::vector<std::string>{"Tanh"};
  const auto acts = rnn_activations(a, per_dir, dirs, defaults);
  if (!acts) return std::nullopt;

  const auto vx = real_values(*x), vw = real_values(*w), vr = real_values(*r);
  std::vector<double> vb(dirs * 2 * G, 0.0);
  if (const tensor* b = input(3)) {
    if (b->elem_type != type || b->dims != std::vector<std::int64_t>{D(dirs), D(2 * G)}) bad_node(n, "B has the wrong shape");
    vb = real_values(*b);
  }
  std::vector<std::int64_t> lens(N, static_cast<std::int64_t>(S));
  if (const tensor* sl = input(4)) {
    if (sl->elem_type != ::onnx::TensorProto::INT32 || sl->dims != std::vector<std::int64_t>{D(N)})
      bad_node(n, "sequence_lens must be int32 [batch_size]");
    for (std::size_t b = 0; b < N; ++b) {
      lens[b] = sl->values<std::int32_t>()[b];
      if (lens[b] < 0 || lens[b] > static_cast<std::int64_t>(S)) bad_node(n, "sequence_lens out of range");
    }
  }
  // a state input: [dirs, N, H] (layout 1: [N, dirs, H]) -> [dirs][N][H]
  auto state_in = [&](std::size_t i, const char* what) {
    std::vector<double> s(dirs * N * H, 0.0);
    const tensor* t = input(i);
    if (!t) return s;
    const std::vector<std::int64_t> want = layout ? std::vector<std::int64_t>{D(N), D(dirs), D(H)}
                                                  : std::vector<std::int64_t>{D(dirs), D(N), D(H)};
    if (t->elem_type != type || t->dims != want) bad_node(n, std::string(what) + " has the wrong shape");
    const auto v = real_values(*t);
    for (std::size_t d = 0; d < dirs; ++d)
      for (std::size_t b = 0; b < N; ++b)
        for (std::size_t h = 0; h < H; ++h)
          s[(d * N + b) * H + h] = layout ? v[(b * dirs + d) * H + h] : v[(d * N + b) * H + h];
    return s;
  };
  std::vector<double> hs = state_in(5, "initial_h");
  std::vector<double> cs = kind == rnn_kind::lstm ? state_in(6, "initial_c") : std::vector<double>{};
  std::vector<double> vp(dirs * 3 * H, 0.0);
  if (kind == rnn_kind::lstm)
    if (const tensor* p = input(7)) {
      if (p->elem_type != type || p->dims != std::vector<std::int64_t>{D(dirs), D(3 * H)}) bad_node(n, "P has the wrong shape");
      vp = real_values(*p);
    }

  std::vector<double> y(S * dirs * N * H, 0.0);  // [S][dirs][N][H]
  auto xt = [&](std::size_t t, std::size_t b) { return &vx[(layout ? b * S + t : t * N + b) * I]; };
  auto clamp = [&](double v) { return clipped ? std::clamp(v, -clip, clip) : v; };
  std::vector<double> pre(G), rec(G), hn(H), cn(H), z(H), rg(H);
  for (std::size_t d = 0; d < dirs; ++d) {
    const bool reverse = direction == "reverse" || d == 1;
    const double* W = &vw[d * G * I];
    const double* R = &vr[d * G * H];
    const double* Wb = &vb[d * 2 * G];
    const double* Rb = Wb + G;
    const rnn_activation* f = &(*acts)[d * per_dir];
    for (std::size_t b = 0; b < N; ++b) {
      double* h = &hs[(d * N + b) * H];
      double* c = kind == rnn_kind::lstm ? &cs[(d * N + b) * H] : nullptr;
      const auto len = static_cast<std::size_t>(lens[b]);
      for (std::size_t step = 0; step < len; ++step) {
        const std::size_t t = reverse ? len - 1 - step : step;
        const double* xv = xt(t, b);
        for (std::size_t g = 0; g < G; ++g) {
          double s = Wb[g], q = Rb[g];
          for (std::size_t i = 0; i < I; ++i) s += xv[i] * W[g * I + i];
          for (std::size_t k = 0; k < H; ++k) q += h[k] * R[g * H + k];
          pre[g] = s;
          rec[g] = q;
        }
        if (kind == rnn_kind::rnn) {
          for (std::size_t k = 0; k < H; ++k) hn[k] = f[0](clamp(pre[k] + rec[k]));
        } else if (kind == rnn_kind::gru) {
          for (std::size_t k = 0; k < H; ++k) {
            z[k] = f[0](clamp(pre[k] + rec[k]));
            rg[k] = f[0](clamp(pre[H + k] + rec[H + k]));
          }
          for (std::size_t k = 0; k < H; ++k) {
            double q = rec[2 * H + k];  // linear_before_reset: (H R^T + Rb) scaled by r
            if (linear_before_reset) {
              q *= rg[k];
            } else {  // (r * H) R^T + Rb
              q = Rb[2 * H + k];
              for (std::size_t j = 0; j < H; ++j) q += rg[j] * h[j] * R[(2 * H + k) * H + j];
            }
            const double hh = f[1](clamp(pre[2 * H + k] + q));
            hn[k] = (1 - z[k]) * hh + z[k] * h[k];
          }
        } else {
          const double* P = &vp[d * 3 * H];
          for (std::size_t k = 0; k < H; ++k) {
            const double it = f[0](clamp(pre[k] + rec[k] + P[k] * c[k]));
            const double ft = f[0](clamp(pre[2 * H + k] + rec[2 * H + k] + P[2 * H + k] * c[k]));
            const double ct = f[1](clamp(pre[3 * H + k] + rec[3 * H + k]));
            cn[k] = ft * c[k] + it * ct;
            const double ot = f[0](clamp(pre[H + k] + rec[H + k] + P[H + k] * cn[k]));
            hn[k] = ot * f[2](cn[k]);
          }
        }
        if (kind == rnn_kind::lstm) std::copy(cn.begin(), cn.end(), c);
        std::copy(hn.begin(), hn.end(), h);
        std::copy(hn.begin(), hn.end(), &y[((t * dirs + d) * N + b) * H]);
      }
    }
  }
  // outputs in the layout asked for
  std::vector<tensor> out;
  std::vector<double> yo(y.size());
  for (std::size_t t = 0; t < S; ++t)
    for (std::size_t d = 0; d < dirs; ++d)
      for (std::size_t b = 0; b < N; ++b)
        for (std::size_t k = 0; k < H; ++k)
          yo[(layout ? (b * S + t) * dirs + d : (t * dirs + d) * N + b) * H + k] =
              y[((t * dirs + d) * N + b) * H + k];
  out.push_back(real_tensor(type, layout ? std::vector<std::int64_t>{D(N), D(S), D(dirs), D(H)}
                                         : std::vector<std::int64_t>{D(S), D(dirs), D(N), D(H)},
                            yo));
  auto state_out = [&](const std::vector<double>& s) {
    std::vector<double> v(s.size());
    for (std::size_t d = 0; d < dirs; ++d)
      for (std::size_t b = 0; b < N; ++b)
        for (std::size_t k = 0; k < H; ++k) v[((layout ? b * dirs + d : d * N + b)) * H + k] = s[(d * N + b) * H + k];
    return real_tensor(type, layout ? std::vector<std::int64_t>{D(N), D(dirs), D(H)} : std::vector<std::int64_t>{D(dirs), D(N), D(H)},
                       v);
  };
  out.push_back(state_out(hs));
  if (kind == rnn_kind::lstm) out.push_back(state_out(cs));
  out.resize(std::min<std::size_t>(out.size(), static_cast<std::size_t>(std::max(n.output_size(), 1))));
  return out;
}

}  // namespace dfgpar::onnx::detail
