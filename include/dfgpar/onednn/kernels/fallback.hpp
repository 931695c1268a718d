#pragma once
/// \file fallback.hpp
/// Everything else: the folding evaluator (onnx/evaluate.hpp) on plain tensors,
/// one reference implementation. Members of `detail::builder` (kernels.hpp),
/// defined here; one place per operator rule.

#include <dfgpar/onednn/kernels.hpp>

namespace dfgpar::onednn::detail {

/// The fallback's second trial: the node on ones where its inputs are not
/// constants. True when the evaluator computed it (`out` set).
inline bool builder::retry_on_ones(const ::onnx::NodeProto& n, const std::vector<int>& ins,
                                   std::vector<onnx::tensor> trial, const std::vector<const onnx::tensor*>& ptrs,
                                   std::optional<std::vector<onnx::tensor>>& out) {
  bool changed = false;
  for (std::size_t i = 0, t = 0; i < ins.size(); ++i) {
    if (ins[i] < 0) continue;
    onnx::tensor& x = trial[t++];
    if (val(ins[i]).constant) continue;
    auto one = onnx::detail::cast_to(onnx::make_tensor<double>(tp::DOUBLE, {}, {1.0}), x.elem_type);
    if (!one) return false;
    std::visit([&](auto& v) {
      const auto& o = std::get<std::decay_t<decltype(v)>>(one->data);
      std::fill(v.begin(), v.end(), o[0]);
    }, x.data);
    changed = true;
  }
  if (!changed) return false;
  std::vector<const onnx::tensor*> p2;
  for (std::size_t i = 0, t = 0; i < ptrs.size(); ++i) p2.push_back(ptrs[i] ? &trial[t++] : nullptr);
  try {
    out = onnx::evaluate(n, p2, opset_, {.max_elements = std::numeric_limits<std::size_t>::max()});
  } catch (const graph_error&) {
    return false;
  }
  return out.has_value();
}

/// Plain C++: the folding evaluator, on plain copies of the inputs. Tried
/// here on zeros (and the real constants), then on ones when zeros are
/// declined (an integer divisor), so that a node it declines is refused
/// now, not at run time. Where the output shape follows from a run-time
/// input value (shape_from_values) and the trial fails, the node is kept
/// with the outputs shape inference declared; each run checks the
/// evaluator's outputs against those shapes.
inline void builder::fallback(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
  if (!onnx::can_evaluate(n.op_type(), n.domain()))
    refuse(n, "operator " + n.op_type() + " is not supported (neither a oneDNN kernel nor the evaluator has it)");
  std::vector<int> ins;
  std::vector<onnx::tensor> trial;
  bool run_time_values = false;  // an input is not a constant: the trial sees zeros for it
  for (const auto& i : n.input()) {
    if (i.empty()) {
      ins.push_back(-1);
      continue;
    }
    const int x = index_of(i);
    dims_of(n, x);
    if (!onnx::is_supported_elem_type(val(x).elem_type)) refuse(n, "tensor '" + i + "' has an unsupported type");
    ins.push_back(x);
    run_time_values = run_time_values || !val(x).constant;
    trial.push_back(val(x).constant ? const_value(x) : onnx::make_tensor(val(x).elem_type, val(x).dims));
  }
  std::vector<const onnx::tensor*> ptrs;
  for (std::size_t i = 0, t = 0; i < ins.size(); ++i) ptrs.push_back(ins[i] < 0 ? nullptr : &trial[t++]);
  const onnx::eval_options eo{.max_elements = std::numeric_limits<std::size_t>::max()};
  std::optional<std::vector<onnx::tensor>> out;
  std::string why;
  try {
    out = onnx::evaluate(n, ptrs, opset_, eo);
  } catch (const graph_error& e) {
    why = e.what();
  }
  // zeros may be what the evaluator declines (an integer divisor): try ones before refusing
  if (!out && why.empty() && !retry_on_ones(n, ins, trial, ptrs, out))
    refuse(n, "the evaluator does not support this node (an attribute, a type or a combination of them)");
  std::vector<int> outs;
  if (out)
    for (std::size_t i = 0; i < out->size() && why.empty(); ++i) {
      if (n.output(static_cast<int>(i)).empty()) {  // an optional output left out (LSTM's Y)
        outs.push_back(-1);
        continue;
      }
      const int y = index_of(n.output(static_cast<int>(i)));
      if ((*out)[i].dims != dims_of(n, y) || (*out)[i].elem_type != val(y).elem_type)
        why = "output '" + val(y).name + "' does not have the shape or type shape inference gave it";
      outs.push_back(y);
    }
  if (!why.empty()) {
    if (!run_time_values || !shape_from_values(n.op_type())) refuse(n, why);
    outs.clear();  // every output, as declared; checked at each run
    for (const auto& o : n.output()) {
      if (o.empty()) {
        outs.push_back(-1);
        continue;
      }
      const int y = index_of(o);
      dims_of(n, y);
      outs.push_back(y);
    }
  }
  std::vector<std::vector<std::int64_t>> out_dims;
  std::vector<std::int32_t> out_types;
  for (int y : outs) {
    out_dims.push_back(y < 0 ? std::vector<std::int64_t>{} : val(y).dims);
    out_types.push_back(y < 0 ? 0 : val(y).elem_type);
  }
  // inputs in plain layout (float32 ones may need a reorder); others are plain bytes already
  std::vector<arg_ref> plain_in;
  for (int x : ins)
    if (x >= 0 && val(x).elem_type == tp::FLOAT && !val(x).constant) plain_in.push_back(want(k, v, 0, x, plain_md(val(x).dims)));
    else plain_in.push_back({0, ref_kind::value, static_cast<std::size_t>(std::max(x, 0)), {}});
  for (int x : ins)
    if (x >= 0) read_by_[v].push_back(x);
  for (int y : outs) {
    if (y < 0) continue;
    auto& yv = val(y);
    if (yv.elem_type == tp::FLOAT) produce(0, y, plain_md(yv.dims));
    else yv.bytes = onnx::element_count(yv.dims) * onnx::element_size(yv.elem_type);
  }
  program* prog = &p_;
  const ::onnx::NodeProto* node = &n;
  std::vector<onnx::tensor> consts;
  for (int x : ins) consts.push_back(x >= 0 && val(x).constant ? const_value(x) : onnx::tensor{});
  const std::int64_t opset = opset_;
  step s;
  s.fn = [prog, node, ins, outs, out_dims, out_types, plain_in, consts, opset, eo] {
    std::vector<onnx::tensor> in(ins.size());
    std::vector<const onnx::tensor*> ptr(ins.size(), nullptr);
    for (std::size_t i = 0; i < ins.size(); ++i) {
      if (ins[i] < 0) continue;
      const auto& x = prog->values[static_cast<std::size_t>(ins[i])];
      if (x.constant) {
        ptr[i] = &consts[i];
        continue;
      }
      in[i] = onnx::make_tensor(x.elem_type, x.dims);
      const std::byte* src = plain_in[i].kind == ref_kind::temp ? prog->temps[plain_in[i].index].ptr
                                                                 : prog->data(ins[i]);
      std::visit([&](auto& vec) { copy_bytes(vec.data(), src, vec.size() * sizeof(vec[0])); }, in[i].data);
      ptr[i] = &in[i];
    }
    auto out = onnx::evaluate(*node, ptr, opset, eo);
    if (!out) throw graph_error("dfgpar: " + onnx::detail::node_where(*node) + ": the evaluator declined it at run time");
    if (out->size() < outs.size()) throw graph_error("dfgpar: " + onnx::detail::node_where(*node) + ": the evaluator gave fewer outputs than the model declares");
    for (std::size_t o = 0; o < outs.size(); ++o)
      if (outs[o] >= 0 && ((*out)[o].dims != out_dims[o] || (*out)[o].elem_type != out_types[o]))
        throw graph_error("dfgpar: " + onnx::detail::node_where(*node) + ": output " + std::to_string(o) +
                          " does not have the shape or type the model declares");
    for (std::size_t o = 0; o < outs.size(); ++o) {
      if (outs[o] < 0) continue;
      std::byte* dst = prog->data(outs[o]);
      std::visit([&](const auto& vec) { copy_bytes(dst, vec.data(), vec.size() * sizeof(vec[0])); }, (*out)[o].data);
    }
  };
  s.evaluator = true;
  k.steps.push_back(std::move(s));
  k.what += " (evaluator)";
}

}  // namespace dfgpar::onednn::detail
