#pragma once
/// \file control_flow.hpp
/// If, Loop and Scan: `if`/`else`, a loop with its carried values
/// and scan outputs (a `for` loop that breaks when the condition turns
/// false), and a `for` loop over the scanned axis, all TorchScript.
/// The bodies are translated by the code generator (op_context::body) and
/// written inline in the method that runs the node, so they read outer-scope
/// values as the method's locals and weights as buffers; a body's own
/// parallel branches run in order (they are never forked).
/// Temporaries are named after the node's first output plus "__" (see
/// context.hpp), so nested loops never share one.

#include <dfgpar/pytorch/ops/context.hpp>
#include <dfgpar/pytorch/ops/registry.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dfgpar::pytorch {

namespace detail {

/// Appends a body's lines one level deeper.
inline void emit_nested(op_context& c, const std::vector<std::string>& lines, const std::string& indent = "    ") {
  for (const auto& l : lines) c.emit(indent + l);
}

}  // namespace detail

/// Output `k` = `list` stacked on a new first axis: a scan output of Loop.
/// No iteration gives [0, ...] (the element's dimensions from output `k`'s
/// shape, else an empty 1-D tensor).
inline void assign_stacked(op_context& c, const std::string& list, std::size_t k) {
  const auto* info = k < c.output_info.size() ? c.output_info[k] : nullptr;
  std::vector<std::int64_t> empty{0};
  bool known = info && info->rank_known() && !info->shape.empty();
  for (std::size_t d = 1; known && d < info->shape.size(); ++d) {
    known = info->shape[d] >= 0;
    empty.push_back(info->shape[d]);
  }
  if (!known) empty = {0};
  std::string dt = info ? detail::torch_dtype(info->elem_type) : "";
  if (dt.empty()) dt = "torch.float32";
  c.emit("if len(" + list + ") > 0:");
  c.emit("    " + c.out(k) + " = torch.stack(" + list + ", 0)");
  c.emit("else:");
  c.emit("    " + c.out(k) + " = torch.zeros(" + python_int_list(empty) + ", dtype=" + dt + ")");
}

/// If: both branches inline; each assigns the node's outputs.
inline void if_(op_context& c) {
  using namespace detail;
  check_types(c);
  // A branch that cannot be translated while the other can becomes a
  // `raise` naming why: after --input-shape (or the batch default) a branch
  // can be one the original model could not run either at those shapes
  // (Silero VAD v5's 8 kHz branch on a 512-sample input gives an LSTM a
  // rank-5 tensor in ONNX Runtime too). Both failing is an error as before.
  std::optional<body_code> tb, eb;
  std::string why_then, why_else;
  try { tb = c.body("then_branch"); } catch (const unsupported_op& x) { why_then = x.what(); }
  try { eb = c.body("else_branch"); } catch (const unsupported_op& x) { why_else = x.what(); }
  if (!tb && !eb) throw unsupported_op(why_then);
  if (!tb || !eb) {
    const bool then_ok = tb.has_value();
    const body_code& ok = then_ok ? *tb : *eb;
    if (ok.outputs.size() != c.outputs.size())
      c.unsupported("a branch has " + std::to_string(ok.outputs.size()) + " outputs for " +
                    std::to_string(c.outputs.size()));
    const std::string head = "If " + python_comment_text(c.node->name(), 32) + ": the " +
                             (then_ok ? "else" : "then") + " branch was not translated";
    std::string why;  // printable ASCII only: it goes into comments
    for (char ch : then_ok ? why_else : why_then)
      if (why.size() < 600) why += (ch >= 0x20 && ch < 0x7f) ? ch : '?';
    auto fail = [&] {
      // The reason as comment lines of at most 52 characters, cut at spaces.
      std::string line;
      std::size_t i = 0;
      while (i < why.size()) {
        std::size_t j = why.find(' ', i);
        if (j == std::string::npos) j = why.size();
        std::string word = why.substr(i, j - i);
        i = j + 1;
        while (word.size() > 52) c.emit("    # " + word.substr(0, 52)), word.erase(0, 52);
        if (!line.empty() && line.size() + 1 + word.size() > 52) c.emit("    # " + line), line.clear();
        line += (line.empty() ? "" : " ") + word;
      }
      if (!line.empty()) c.emit("    # " + line);
      c.emit("    raise RuntimeError(");
      c.emit("        " + python_string(head));
      c.emit("        " + python_string(" (the reason is in model.py)") + ")");
    };
    auto good = [&] {
      emit_nested(c, ok.lines);
      bool any = !ok.lines.empty();
      for (std::size_t i = 0; i < c.outputs.size(); ++i)
        if (c.has_output(i)) c.emit("    " + c.outputs[i] + " = " + ok.outputs[i]), any = true;
      if (!any) c.emit("    pass");
    };
    c.emit("if bool(" + c.in(0) + "):");
    if (then_ok) good(); else fail();
    c.emit("else:");
    if (then_ok) fail(); else good();
    return;
  }
  const body_code& t = *tb;
  const body_code& e = *eb;
  if (t.outputs.size() != c.outputs.size() || e.outputs.size() != c.outputs.size())
    c.unsupported("a branch has " + std::to_string(t.outputs.size()) + " and the other " +
                  std::to_string(e.outputs.size()) + " outputs for " + std::to_string(c.outputs.size()));
  c.emit("if bool(" + c.in(0) + "):");
  auto branch = [&](const body_code& b) {
    emit_nested(c, b.lines);
    bool any = !b.lines.empty();
    for (std::size_t i = 0; i < c.outputs.size(); ++i)
      if (c.has_output(i)) c.emit("    " + c.outputs[i] + " = " + b.outputs[i]), any = true;
    if (!any) c.emit("    pass");
  };
  branch(t);
  c.emit("else:");
  branch(e);
}

/// Loop: up to the trip count, while the condition holds (`break`); the
/// carried values are the loop's variables, scan outputs are stacked.
inline void loop(op_context& c) {
  using namespace detail;
  check_types(c);
  const body_code b = c.body("body");
  const std::size_t carried = c.num_inputs() >= 2 ? c.num_inputs() - 2 : 0;
  if (b.inputs.size() != carried + 2) c.unsupported("the body has " + std::to_string(b.inputs.size()) +
                                                    " inputs, expected " + std::to_string(carried + 2));
  if (b.outputs.size() < carried + 1) c.unsupported("the body has too few outputs");
  const std::size_t scans = b.outputs.size() - 1 - carried;
  if (c.outputs.size() > carried + scans) c.unsupported("more outputs than carried values and scan outputs");
  const std::string n = temp(c, "n"), go = temp(c, "go"), i = temp(c, "i");
  c.emit(n + " = " + (c.has_input(0) ? "int(" + c.in(0) + ")" : std::string("9223372036854775807")));
  c.emit(go + " = " + (c.has_input(1) ? "bool(" + c.in(1) + ")" : std::string("True")));
  std::vector<std::string> v(carried), s(scans);
  for (std::size_t k = 0; k < carried; ++k) {
    v[k] = temp(c, "v" + std::to_string(k));
    c.emit(v[k] + " = " + c.in(k + 2));
  }
  for (std::size_t k = 0; k < scans; ++k) {
    s[k] = temp(c, "s" + std::to_string(k));
    c.emit(s[k] + ": List[Tensor] = []");
    c.uses_list = true;
  }
  // a for loop that breaks: a `while` line with both tests could not be
  // wrapped to 79 columns
  c.emit("for " + i + " in range(" + n + "):");
  c.emit("    if not " + go + ":");
  c.emit("        break");
  c.emit("    " + b.inputs[0] + " = torch.tensor(" + i + ", dtype=torch.int64)");
  c.emit("    " + b.inputs[1] + " = torch.tensor(" + go + ")");
  for (std::size_t k = 0; k < carried; ++k) c.emit("    " + b.inputs[k + 2] + " = " + v[k]);
  emit_nested(c, b.lines);
  c.emit("    " + go + " = bool(" + b.outputs[0] + ")");
  for (std::size_t k = 0; k < carried; ++k) c.emit("    " + v[k] + " = " + b.outputs[k + 1]);
  for (std::size_t k = 0; k < scans; ++k) c.emit("    " + s[k] + ".append(" + b.outputs[1 + carried + k] + ")");
  for (std::size_t k = 0; k < carried; ++k)
    if (c.has_output(k)) c.assign(v[k], k);
  for (std::size_t k = 0; k < scans; ++k)
    if (c.has_output(carried + k)) assign_stacked(c, s[k], carried + k);
}

/// Scan (opset 9 and later): a `for` loop over the scanned axis of the scan
/// inputs (backwards where a direction is 1); states carried, scan outputs
/// stacked along their axes.
inline void scan(op_context& c) {
  using namespace detail;
  check_types(c);
  const std::int64_t m = c.attr_int("num_scan_inputs", -1);
  const std::size_t nin = c.num_inputs();
  if (m < 1 || static_cast<std::size_t>(m) > nin) c.unsupported("num_scan_inputs out of range");
  const std::size_t states = nin - static_cast<std::size_t>(m), scans_in = static_cast<std::size_t>(m);
  const auto in_axes = c.attr_ints("scan_input_axes", std::vector<std::int64_t>(scans_in, 0));
  const auto in_dirs = c.attr_ints("scan_input_directions", std::vector<std::int64_t>(scans_in, 0));
  const body_code b = c.body("body");
  if (b.inputs.size() != nin) c.unsupported("the body's inputs do not match the states and scan inputs");
  if (b.outputs.size() < states) c.unsupported("the body has too few outputs");
  const std::size_t scans_out = b.outputs.size() - states;
  const auto out_axes = c.attr_ints("scan_output_axes", std::vector<std::int64_t>(scans_out, 0));
  const auto out_dirs = c.attr_ints("scan_output_directions", std::vector<std::int64_t>(scans_out, 0));
  if (in_axes.size() != scans_in || in_dirs.size() != scans_in || out_axes.size() != scans_out ||
      out_dirs.size() != scans_out)
    c.unsupported("the axes and directions do not match the scan inputs and outputs");
  for (auto d : in_dirs)
    if (d != 0 && d != 1) c.unsupported("scan_input_directions must be 0 or 1");
  for (auto d : out_dirs)
    if (d != 0 && d != 1) c.unsupported("scan_output_directions must be 0 or 1");
  const std::string n = temp(c, "n"), i = temp(c, "i");
  std::vector<std::string> v(states), s(scans_out);
  for (std::size_t k = 0; k < states; ++k) {
    v[k] = temp(c, "v" + std::to_string(k));
    c.emit(v[k] + " = " + c.in(k));
  }
  for (std::size_t k = 0; k < scans_out; ++k) {
    s[k] = temp(c, "s" + std::to_string(k));
    c.emit(s[k] + ": List[Tensor] = []");
    c.uses_list = true;
  }
  c.emit(n + " = " + c.in(states) + ".shape[" + std::to_string(in_axes[0]) + "]");
  c.emit("for " + i + " in range(" + n + "):");
  for (std::size_t k = 0; k < states; ++k) c.emit("    " + b.inputs[k] + " = " + v[k]);
  for (std::size_t j = 0; j < scans_in; ++j)
    c.emit("    " + b.inputs[states + j] + " = torch.select(" + c.in(states + j) + ", " + std::to_string(in_axes[j]) +
           ", " + (in_dirs[j] ? n + " - 1 - " + i : i) + ")");
  emit_nested(c, b.lines);
  for (std::size_t k = 0; k < states; ++k) c.emit("    " + v[k] + " = " + b.outputs[k]);
  for (std::size_t k = 0; k < scans_out; ++k) c.emit("    " + s[k] + ".append(" + b.outputs[states + k] + ")");
  for (std::size_t k = 0; k < states; ++k)
    if (c.has_output(k)) c.assign(v[k], k);
  for (std::size_t k = 0; k < scans_out; ++k) {
    if (!c.has_output(states + k)) continue;
    const std::string ax = std::to_string(out_axes[k]);
    const std::string st = "torch.stack(" + s[k] + ", " + ax + ")";
    c.assign(out_dirs[k] ? "torch.flip(" + st + ", [" + ax + "])" : st, states + k);
  }
}

/// Scan-8: a batch axis first, then the scanned axis; no sequence_lens.
inline void scan8(op_context& c) {
  using namespace detail;
  check_types(c);
  if (c.has_input(0)) c.unsupported("sequence_lens is not supported");
  const std::int64_t m = c.attr_int("num_scan_inputs", -1);
  const std::size_t nin = c.num_inputs();
  if (m < 1 || static_cast<std::size_t>(m) + 1 > nin) c.unsupported("num_scan_inputs out of range");
  const std::size_t states = nin - 1 - static_cast<std::size_t>(m), scans_in = static_cast<std::size_t>(m);
  const auto dirs = c.attr_ints("directions", std::vector<std::int64_t>(scans_in, 0));
  if (dirs.size() != scans_in) c.unsupported("directions does not match the scan inputs");
  for (auto d : dirs)
    if (d != 0 && d != 1) c.unsupported("directions must be 0 or 1");
  const body_code b = c.body("body");
  if (b.inputs.size() != nin - 1) c.unsupported("the body's inputs do not match the states and scan inputs");
  if (b.outputs.size() < states) c.unsupported("the body has too few outputs");
  const std::size_t scans_out = b.outputs.size() - states;
  const std::string n = temp(c, "n"), i = temp(c, "i"), bt = temp(c, "b");
  std::vector<std::string> v(states), s(scans_out), vb(states), sb(scans_out);
  for (std::size_t k = 0; k < states; ++k) {
    vb[k] = temp(c, "vb" + std::to_string(k));
    c.emit(vb[k] + ": List[Tensor] = []");
  }
  for (std::size_t k = 0; k < scans_out; ++k) {
    sb[k] = temp(c, "sb" + std::to_string(k));
    c.emit(sb[k] + ": List[Tensor] = []");
  }
  c.uses_list = true;
  c.emit("for " + bt + " in range(" + c.in(1 + states) + ".shape[0]):");
  for (std::size_t k = 0; k < states; ++k) {
    v[k] = temp(c, "v" + std::to_string(k));
    c.emit("    " + v[k] + " = " + c.in(1 + k) + "[" + bt + "]");
  }
  for (std::size_t k = 0; k < scans_out; ++k) {
    s[k] = temp(c, "s" + std::to_string(k));
    c.emit("    " + s[k] + ": List[Tensor] = []");
  }
  c.emit("    " + n + " = " + c.in(1 + states) + ".shape[1]");
  c.emit("    for " + i + " in range(" + n + "):");
  for (std::size_t k = 0; k < states; ++k) c.emit("        " + b.inputs[k] + " = " + v[k]);
  for (std::size_t j = 0; j < scans_in; ++j)
    c.emit("        " + b.inputs[states + j] + " = " + c.in(1 + states + j) + "[" + bt + ", " +
           (dirs[j] ? n + " - 1 - " + i : i) + "]");
  emit_nested(c, b.lines, "        ");
  for (std::size_t k = 0; k < states; ++k) c.emit("        " + v[k] + " = " + b.outputs[k]);
  for (std::size_t k = 0; k < scans_out; ++k) c.emit("        " + s[k] + ".append(" + b.outputs[states + k] + ")");
  for (std::size_t k = 0; k < states; ++k) c.emit("    " + vb[k] + ".append(" + v[k] + ")");
  for (std::size_t k = 0; k < scans_out; ++k) c.emit("    " + sb[k] + ".append(torch.stack(" + s[k] + ", 0))");
  for (std::size_t k = 0; k < states; ++k)
    if (c.has_output(k)) c.assign("torch.stack(" + vb[k] + ", 0)", k);
  for (std::size_t k = 0; k < scans_out; ++k)
    if (c.has_output(states + k)) c.assign("torch.stack(" + sb[k] + ", 0)", states + k);
}

/// Registers If, Loop and Scan.
inline void add_control_flow_translations(op_registry& r) {
  r.add("If", 1, if_);
  r.add("Loop", 1, loop);
  r.add("Scan", 8, scan8);
  r.add("Scan", 9, scan);
}

}  // namespace dfgpar::pytorch
