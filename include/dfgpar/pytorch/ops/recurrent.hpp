#pragma once
/// \file recurrent.hpp
/// The PyTorch translations of recurrent networks: RNN, GRU, LSTM, written out
/// as loops over the time steps.
/// Each is registered with the operator version it starts at (see
/// registry.hpp) by the add_*_translations function at the end.

#include <dfgpar/pytorch/ops/context.hpp>
#include <dfgpar/pytorch/ops/registry.hpp>

namespace dfgpar::pytorch {
namespace detail {

/// RNN, GRU and LSTM written out as a loop over the time steps (one per
/// direction), with the ONNX gate orders (GRU z r h, LSTM i o f c), clip
/// on the activations' inputs, linear_before_reset and peepholes, and
/// forward sequence_lens (later steps: zeros in Y, the state kept).
inline void recurrent(op_context& c, const std::string& kind) {
  check_types(c);
  require_float(c);
  const std::int64_t hs = c.attr_int("hidden_size", 0);
  if (hs <= 0) c.unsupported("hidden_size is missing");
  const std::string dir = c.attr_string("direction", "forward");
  if (dir != "forward" && dir != "reverse" && dir != "bidirectional") c.unsupported("direction " + python_string(dir));
  const int dirs = dir == "bidirectional" ? 2 : 1;
  const bool batch_first = c.attr_int("layout", 0) != 0;
  if (c.has_attr("activation_alpha") || c.has_attr("activation_beta")) c.unsupported("activation_alpha/activation_beta");
  if (kind == "LSTM" && c.attr_int("input_forget", 0) != 0) c.unsupported("input_forget=1");
  const bool lbr = kind == "GRU" && c.attr_int("linear_before_reset", 0) != 0;
  const int gates = kind == "RNN" ? 1 : kind == "GRU" ? 3 : 4;
  std::vector<std::string> defaults = kind == "RNN"   ? std::vector<std::string>{"Tanh"}
                                      : kind == "GRU" ? std::vector<std::string>{"Sigmoid", "Tanh"}
                                                      : std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"};
  std::vector<std::string> acts;
  if (auto a = c.attrs().find_strings("activations")) acts = std::move(*a);
  if (acts.empty())
    for (int d = 0; d < dirs; ++d) acts.insert(acts.end(), defaults.begin(), defaults.end());
  if (acts.size() != defaults.size() * static_cast<std::size_t>(dirs)) c.unsupported("activations of the wrong number");
  auto fn = [&](const std::string& a) -> std::string {
    if (a == "Tanh") return "torch.tanh";
    if (a == "Sigmoid") return "torch.sigmoid";
    if (a == "Relu") return "torch.relu";
    c.unsupported("activation " + python_string(a));
  };
  std::string clip;
  if (const auto v = c.attrs().find_float("clip")) clip = python_float(*v);
  auto act = [&](const std::string& f, const std::string& e) {
    return fn(f) + "(" + (clip.empty() ? e : "torch.clamp(" + e + ", -" + clip + ", " + clip + ")") + ")";
  };
  const bool lens = c.has_input(4);
  if (lens && dir != "forward") c.unsupported("sequence_lens with a reverse direction");
  if (kind == "LSTM" && c.has_input(7) && !c.shape(7)) c.unsupported("peepholes of unknown shape");

  const std::string x = temp(c, "x"), t = temp(c, "t"), h = temp(c, "h"), cs = temp(c, "c"), g = temp(c, "g"),
                    gh = temp(c, "gh"), ys = temp(c, "ys"), m = temp(c, "m"), hn = temp(c, "hn"), cn = temp(c, "cn"),
                    w = temp(c, "w"), r = temp(c, "r"), wb = temp(c, "wb"), rb = temp(c, "rb");
  c.emit(x + " = " + c.in(0) + (batch_first ? ".transpose(0, 1)" : ""));
  const std::string H = std::to_string(hs), GH = std::to_string(gates * hs);
  std::vector<std::string> y_dirs, h_dirs, c_dirs;
  for (int d = 0; d < dirs; ++d) {
    const std::string ds = std::to_string(d), sfx = "_" + ds;
    const bool rev = dir == "reverse" || d == 1;
    const auto* a = &acts[static_cast<std::size_t>(d) * defaults.size()];
    c.emit(w + " = " + c.in(1) + "[" + ds + "].t()");
    c.emit(r + " = " + c.in(2) + "[" + ds + "].t()");
    if (c.has_input(3)) {
      c.emit(wb + " = " + c.in(3) + "[" + ds + ", :" + GH + "]");
      c.emit(rb + " = " + c.in(3) + "[" + ds + ", " + GH + ":]");
    } else {
      c.emit(wb + " = torch.zeros([" + GH + "], dtype=" + x + ".dtype)");
      c.emit(rb + " = " + wb);
    }
    auto initial = [&](std::size_t i, const std::string& v) {
      if (c.has_input(i)) c.emit(v + " = " + c.in(i) + (batch_first ? "[:, " + ds + "]" : "[" + ds + "]"));
      else c.emit(v + " = torch.zeros([" + x + ".shape[1], " + H + "], dtype=" + x + ".dtype)");
    };
    initial(5, h);
    if (kind == "LSTM") initial(6, cs);
    c.emit(ys + " = []");
    c.emit("for " + t + " in range(" + x + ".shape[0]):");
    const std::string step = rev ? x + ".shape[0] - 1 - " + t : t;
    c.emit("    " + g + " = torch.add(torch.matmul(" + x + "[" + step + "], " + w + "), " + wb + ")");
    auto part = [&](const std::string& v, int k) {
      return v + "[:, " + std::to_string(k * hs) + ":" + std::to_string((k + 1) * hs) + "]";
    };
    if (kind == "RNN") {
      c.emit("    " + gh + " = torch.add(torch.matmul(" + h + ", " + r + "), " + rb + ")");
      c.emit("    " + hn + " = " + act(a[0], "torch.add(" + g + ", " + gh + ")"));
    } else if (kind == "GRU") {
      const std::string z = temp(c, "z"), rr = temp(c, "r_gate"), hh = temp(c, "hh");
      c.emit("    " + gh + " = torch.matmul(" + h + ", " + r + ")");
      c.emit("    " + z + " = " + act(a[0], "torch.add(torch.add(" + part(g, 0) + ", " + part(gh, 0) + "), " +
                                         rb + "[:" + H + "])"));
      c.emit("    " + rr + " = " + act(a[0], "torch.add(torch.add(" + part(g, 1) + ", " + part(gh, 1) + "), " +
                                          rb + "[" + H + ":" + std::to_string(2 * hs) + "])"));
      const std::string rbh = rb + "[" + std::to_string(2 * hs) + ":]";
      if (lbr) {
        c.emit("    " + hh + " = torch.mul(" + rr + ", torch.add(" + part(gh, 2) + ", " + rbh + "))");
      } else {
        c.emit("    " + hh + " = torch.matmul(torch.mul(" + rr + ", " + h + "), " + r + "[:, " +
               std::to_string(2 * hs) + ":])");
        c.emit("    " + hh + " = torch.add(" + hh + ", " + rbh + ")");
      }
      c.emit("    " + hh + " = " + act(a[1], "torch.add(" + part(g, 2) + ", " + hh + ")"));
      c.emit("    " + hn + " = torch.add(torch.mul(torch.rsub(" + z + ", 1.0), " + hh + "), torch.mul(" + z + ", " + h +
             "))");
    } else {
      const std::string gi = temp(c, "i"), go = temp(c, "o"), gf = temp(c, "f"), gc = temp(c, "cc");
      c.emit("    " + g + " = torch.add(" + g + ", torch.add(torch.matmul(" + h + ", " + r + "), " + rb + "))");
      std::string pi, po, pf;
      if (c.has_input(7)) {
        const std::string p = c.in(7) + "[" + ds + "]";
        pi = p + "[:" + H + "]";
        po = p + "[" + H + ":" + std::to_string(2 * hs) + "]";
        pf = p + "[" + std::to_string(2 * hs) + ":]";
      }
      auto peep = [&](const std::string& e, const std::string& p, const std::string& state) {
        return p.empty() ? e : "torch.add(" + e + ", torch.mul(" + p + ", " + state + "))";
      };
      c.emit("    " + gi + " = " + act(a[0], peep(part(g, 0), pi, cs)));
      c.emit("    " + gf + " = " + act(a[0], peep(part(g, 2), pf, cs)));
      c.emit("    " + gc + " = " + act(a[1], part(g, 3)));
      c.emit("    " + cn + " = torch.add(torch.mul(" + gf + ", " + cs + "), torch.mul(" + gi + ", " + gc + "))");
      c.emit("    " + go + " = " + act(a[0], peep(part(g, 1), po, cn)));
      c.emit("    " + hn + " = torch.mul(" + go + ", " + fn(a[2]) + "(" + cn + "))");
    }
    if (lens) {
      c.emit("    " + m + " = (" + t + " < " + c.in(4) + ").unsqueeze(1)");
      c.emit("    " + ys + ".append(torch.where(" + m + ", " + hn + ", torch.zeros_like(" + hn + ")))");
      c.emit("    " + h + " = torch.where(" + m + ", " + hn + ", " + h + ")");
      if (kind == "LSTM") c.emit("    " + cs + " = torch.where(" + m + ", " + cn + ", " + cs + ")");
    } else {
      c.emit("    " + ys + ".append(" + hn + ")");
      c.emit("    " + h + " = " + hn);
      if (kind == "LSTM") c.emit("    " + cs + " = " + cn);
    }
    const std::string yd = temp(c, "y" + sfx);
    c.emit(yd + " = torch.stack(" + ys + ")" + (rev ? ".flip(0)" : ""));
    c.emit(temp(c, "h" + sfx) + " = " + h);
    y_dirs.push_back(yd);
    h_dirs.push_back(temp(c, "h" + sfx));
    if (kind == "LSTM") {
      c.emit(temp(c, "c" + sfx) + " = " + cs);
      c_dirs.push_back(temp(c, "c" + sfx));
    }
  }
  // Y: [seq, dirs, batch, hidden] ([batch, seq, dirs, hidden] with layout 1)
  if (c.has_output(0))
    c.emit(c.out(0) + " = torch.stack([" + join(y_dirs) + "], 1)" + (batch_first ? ".permute(2, 0, 1, 3)" : ""));
  if (c.has_output(1))
    c.emit(c.outputs[1] + " = torch.stack([" + join(h_dirs) + "], " + (batch_first ? "1" : "0") + ")");
  if (kind == "LSTM" && c.has_output(2))
    c.emit(c.outputs[2] + " = torch.stack([" + join(c_dirs) + "], " + (batch_first ? "1" : "0") + ")");
}

}  // namespace detail

/// RNN, GRU and LSTM.
inline void add_recurrent_translations(op_registry& r) {
  using namespace detail;
  r.add("RNN", 1, [](op_context& c) { recurrent(c, "RNN"); });
  r.add("GRU", 1, [](op_context& c) { recurrent(c, "GRU"); });
  r.add("LSTM", 1, [](op_context& c) { recurrent(c, "LSTM"); });
}

}  // namespace dfgpar::pytorch
