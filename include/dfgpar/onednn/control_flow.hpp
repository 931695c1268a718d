#pragma once
/// \file control_flow.hpp
/// The native runtime's `If`: both branches are prepared once, at load, as
/// programs of their own with the same kernels as the model's graph (oneDNN
/// primitives, the folding evaluator where there is none, nested Ifs by the
/// same rule). Each branch becomes a small model of its own: the
/// outer-scope values it reads are its graph inputs (copied in, plain, at
/// each run) or, where they are constants of the enclosing graph, its
/// initializers (so that their weights are prepacked once); it is then
/// folded like the model (onnx::optimize). At run time the If's kernel reads
/// the condition and runs the branch it selects serially on the calling
/// worker, writing the If's outputs. The If reads every outer value of both
/// branches: the ONNX adapter already makes them its inputs (graph edges,
/// model.hpp), and the builder records them as read, so the buffer plan
/// keeps them alive until the If has run.
///
/// Refused at load: an operator nothing supports in either branch (naming
/// it and the branch, checked before anything is prepared), and branch
/// outputs whose types or shapes differ between the branches or from the
/// If's declared output. Where shape inference could not tell an If output's
/// shape (nested Ifs hide it), the shape both branches give is taken.
///
/// A branch that cannot be prepared for the model's shapes is kept
/// unprepared, with the reason: taking it at run time is an error that
/// gives it (the session stays usable). An exporter's untaken branch may not
/// fit the shapes the model is specialised to: silero_vad_v5's 8 kHz
/// branch, fed the 16 kHz input of 512 samples, computes a 5-d LSTM input,
/// and ONNX Runtime never looks at it either. When neither branch can be
/// prepared the If is refused at load.
///
/// Included at the end of kernels.hpp: `builder::if_node` is declared there.

#include <dfgpar/error.hpp>
#include <dfgpar/onednn/kernels.hpp>
#include <dfgpar/onednn/program.hpp>
#include <dfgpar/onnx/graph.hpp>
#include <dfgpar/onnx/model.hpp>
#include <dfgpar/onnx/optimize.hpp>
#include <dfgpar/onnx/tensor.hpp>

#include <boost/graph/topological_sort.hpp>

#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <memory>
#include <new>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace dfgpar::onednn::detail {

/// Frees what std::aligned_alloc gave (a branch's buffers).
struct branch_free {
  void operator()(std::byte* p) const noexcept { std::free(p); }
};

/// One branch of an If, prepared as a program of its own and run serially.
struct branch_program {
  std::unique_ptr<onnx::model> model;  ///< the branch as a model: the kernels point into its proto
  program prog;
  std::vector<std::size_t> order;      ///< the kernels' run order (topological)
  std::unique_ptr<std::byte, branch_free> arena;
  std::optional<dnnl::stream> stream;
  /// The branch's graph inputs: (its value, index into the If's outer values).
  std::vector<std::pair<int, std::size_t>> inputs;
  /// Where each If output comes from: a value of the branch (its plain
  /// copy), an outer value passed through, or a constant.
  struct output {
    enum class from : std::uint8_t { value, outer, constant } kind = from::value;
    std::size_t index = 0;
    std::vector<std::byte> data;  ///< the constant's bytes
  };
  std::vector<output> outputs;

  /// Buffers for every value (no reuse: branches are small and run
  /// serially), temps and one scratchpad, then the primitives' arguments.
  void plan() {
    auto& p = prog;
    auto align = [](std::size_t n) { return (n + 63) / 64 * 64; };
    std::size_t total = 0, scratch = 0;
    std::vector<std::size_t> offset(p.values.size(), SIZE_MAX), temp_offset(p.temps.size());
    for (std::size_t i = 0; i < p.values.size(); ++i) {
      auto& v = p.values[i];
      if (v.alias_of >= 0 || v.constant || v.virtual_) continue;
      if (v.bytes == 0) v.bytes = onnx::element_count(v.dims) * onnx::element_size(v.elem_type);
      if (v.bytes == 0) continue;
      offset[i] = total;
      total += align(v.bytes);
    }
    for (std::size_t t = 0; t < p.temps.size(); ++t) {
      temp_offset[t] = total;
      total += align(p.temps[t].md.get_size());
    }
    for (const auto& k : p.kernels) scratch = std::max(scratch, k.scratch);
    const std::size_t scratch_offset = total;
    total += align(scratch);
    arena.reset(static_cast<std::byte*>(std::aligned_alloc(64, std::max<std::size_t>(total, 64))));
    if (!arena) throw std::bad_alloc();
    std::fill(arena.get(), arena.get() + total, std::byte{0});
    for (std::size_t i = 0; i < p.values.size(); ++i)
      if (offset[i] != SIZE_MAX) p.values[i].ptr = arena.get() + offset[i];
    for (std::size_t t = 0; t < p.temps.size(); ++t) p.temps[t].ptr = arena.get() + temp_offset[t];
    for (auto& k : p.kernels) bind_kernel(p, k, arena.get() + scratch_offset, " in an If branch");
    stream.emplace(p.engine);
  }

  /// One run: the outer values in (plain), the kernels in order, the If's
  /// outputs out.
  void run(const std::vector<const std::byte*>& outer, const std::vector<std::byte*>& outs,
           const std::vector<std::size_t>& out_bytes) {
    auto& p = prog;
    for (const auto& [inner, slot] : inputs) {
      const auto& v = p.values[static_cast<std::size_t>(inner)];
      copy_bytes(v.ptr, outer[slot], v.bytes);
    }
    for (std::size_t vtx : order) {
      const auto& k = p.kernels[vtx];
      for (const auto& st : k.steps) {
        if (st.fn) {
          st.fn();
          continue;
        }
        const dnnl_status_t r = dnnl_primitive_execute(st.prim.get(), stream->get(), static_cast<int>(st.c_args.size()),
                                                       st.c_args.data());
        if (r != dnnl_success)
          throw graph_error("dfgpar: oneDNN failed (status " + std::to_string(static_cast<int>(r)) + ") in " + k.what +
                            " (in an If branch)");
      }
    }
    for (std::size_t o = 0; o < outputs.size(); ++o) {
      if (!outs[o]) continue;
      const auto& src = outputs[o];
      switch (src.kind) {
        case output::from::value: copy_bytes(outs[o], p.data(static_cast<int>(src.index)), out_bytes[o]); break;
        case output::from::outer: copy_bytes(outs[o], outer[src.index], out_bytes[o]); break;
        case output::from::constant: copy_bytes(outs[o], src.data.data(), out_bytes[o]); break;
      }
    }
  }
};

/// "[1, 64]": dimensions for a message.
inline std::string dims_text(const std::vector<std::int64_t>& d) {
  std::string s = "[";
  for (std::size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
  return s + "]";
}

/// A nested error's message without its "dfgpar: " prefix (it goes after the If's).
inline std::string nested_why(const graph_error& e) {
  std::string s = e.what();
  return s.rfind("dfgpar: ", 0) == 0 ? s.substr(8) : s;
}

/// What an If's kernel needs at run time.
struct if_state {
  program* outer = nullptr;
  std::string name;                     ///< the node, for messages
  std::unique_ptr<branch_program> branch[2];  ///< then, else (null: could not be prepared)
  std::string why_not[2];               ///< why a branch could not be prepared
  int cond = -1;                        ///< value index of the condition
  std::optional<bool> const_cond;       ///< the condition, when it is a constant
  std::vector<arg_ref> in;              ///< the outer values both branches read, plain (a value or a temp)
  std::vector<int> outs;                ///< the If's outputs (-1: omitted)
  std::vector<std::size_t> out_bytes;

  void run() {
    auto& p = *outer;
    bool c = false;
    if (const_cond) c = *const_cond;
    else c = *reinterpret_cast<const std::uint8_t*>(p.data(cond)) != 0;
    const int b = c ? 0 : 1;
    if (!branch[b])
      throw graph_error("dfgpar: " + name + " takes its " + (b ? "else" : "then") +
                        "_branch, which could not be prepared for these input shapes: " + why_not[b]);
    std::vector<const std::byte*> src(in.size());
    for (std::size_t i = 0; i < in.size(); ++i)
      src[i] = in[i].kind == ref_kind::temp ? p.temps[in[i].index].ptr
                                            : p.data(static_cast<int>(in[i].index));
    std::vector<std::byte*> dst(outs.size(), nullptr);
    for (std::size_t o = 0; o < outs.size(); ++o)
      if (outs[o] >= 0) dst[o] = p.data(outs[o]);
    branch[b]->run(src, dst, out_bytes);
  }
};

/// Whether some kernel runs operator `op` of the standard domain: a oneDNN
/// kernel, a view, the evaluator or an If. What a branch is checked against
/// before it is prepared, so that an operator nothing runs is refused at
/// load even in a branch that cannot be prepared for the model's shapes.
inline bool runnable_op(const ::onnx::NodeProto& n) {
  if (!n.domain().empty() && n.domain() != "ai.onnx") return false;
  static const std::unordered_set<std::string> native{
      "If", "Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "Gemm", "MatMul",
      "BatchNormalization", "LRN", "Softmax", "LogSoftmax", "Sum", "Dropout", "Identity", "Flatten", "Reshape",
      "Squeeze", "Unsqueeze", "Pad", "Resize", "Upsample", "LayerNormalization", "Clip"};
  return native.count(n.op_type()) > 0 || onnx::can_evaluate(n.op_type(), n.domain());
}

/// The first node of `g` (and the bodies inside it) that no kernel runs, or null.
inline const ::onnx::NodeProto* unrunnable_node(const ::onnx::GraphProto& g, int depth = 0) {
  if (depth > 64) throw graph_error("dfgpar: subgraphs nested more than 64 deep");
  for (const auto& n : g.node()) {
    if (!runnable_op(n)) return &n;
    for (const auto& a : n.attribute())
      if (a.has_g())
        if (const auto* bad = unrunnable_node(a.g(), depth + 1)) return bad;
  }
  return nullptr;
}

inline void builder::if_node(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
  const ::onnx::GraphProto* bodies[2] = {nullptr, nullptr};
  for (const auto& a : n.attribute()) {
    if (a.name() == "then_branch" && a.has_g()) bodies[0] = &a.g();
    else if (a.name() == "else_branch" && a.has_g()) bodies[1] = &a.g();
    else refuse(n, "attribute '" + a.name() + "' is not supported");
  }
  if (!bodies[0] || !bodies[1]) refuse(n, "a branch is missing");
  if (n.input_size() != 1 || n.input(0).empty()) refuse(n, "an If has one input, its condition");
  const char* which[2] = {"then_branch", "else_branch"};
  for (int b = 0; b < 2; ++b)
    if (const auto* bad = unrunnable_node(*bodies[b]))
      refuse(n, "in its " + std::string(which[b]) + ": " + onnx::detail::node_where(*bad) + ": operator " +
                    bad->op_type() + " is not supported (neither a oneDNN kernel nor the evaluator has it)");
  auto st = std::make_shared<if_state>();
  st->outer = &p_;
  st->name = onnx::detail::node_where(n);
  st->cond = index_of(n.input(0));
  {
    const auto& c = val(st->cond);
    if (c.elem_type != tp::BOOL || onnx::element_count(dims_of(n, st->cond)) != 1)
      refuse(n, "the condition must be one bool");
    if (c.constant) st->const_cond = const_value(st->cond).as_double(0) != 0;
    else read_by_[v].push_back(st->cond);
  }
  for (const auto& o : n.output()) st->outs.push_back(o.empty() ? -1 : index_of(o));
  // the outer values either branch reads: constants go into the branch as initializers
  std::set<std::string> refs;
  for (const auto* b : bodies) onnx::detail::outer_refs(*b, refs);
  std::unordered_map<std::string, std::size_t> slot;
  for (const auto& name : refs) {
    const int x = index_of(name);
    if (val(x).constant) continue;
    const auto& xd = dims_of(n, x);
    if (!onnx::is_supported_elem_type(val(x).elem_type)) refuse(n, "tensor '" + name + "' has an unsupported type");
    slot[name] = st->in.size();
    if (val(x).elem_type == tp::FLOAT) st->in.push_back(want(k, v, 0, x, plain_md(xd)));
    else {
      read_by_[v].push_back(x);
      st->in.push_back({0, ref_kind::value, static_cast<std::size_t>(x), {}});
    }
  }
  // each branch, and the type and shape it gives each If output
  using shape = std::pair<std::int32_t, std::vector<std::int64_t>>;
  std::vector<shape> shape_of[2];
  for (int b = 0; b < 2; ++b) {
    try {
      st->branch[b] = prepare_branch(n, *bodies[b], which[b], slot, shape_of[b]);
    } catch (const graph_error& e) {
      st->why_not[b] = nested_why(e);
    }
  }
  if (!st->branch[0] && !st->branch[1]) refuse(n, "in its then_branch: " + st->why_not[0]);
  if (st->branch[0] && st->branch[1])
    for (std::size_t o = 0; o < st->outs.size(); ++o)
      if (st->outs[o] >= 0 && shape_of[0][o] != shape_of[1][o])
        refuse(n, "output '" + val(st->outs[o]).name + "' is " + onnx::elem_type_name(shape_of[0][o].first) + " " +
                      dims_text(shape_of[0][o].second) + " in the then_branch, " +
                      onnx::elem_type_name(shape_of[1][o].first) + " " + dims_text(shape_of[1][o].second) +
                      " in the else_branch (branches whose outputs differ in shape are not supported)");
  const auto& shapes = st->branch[0] ? shape_of[0] : shape_of[1];
  // the If's outputs, plain: of the shape shape inference gave them, or
  // where it could not tell (nested Ifs hide it), of the one the branches give
  for (std::size_t o = 0; o < st->outs.size(); ++o) {
    const int y = st->outs[o];
    st->out_bytes.push_back(0);
    if (y < 0) continue;
    auto& yv = val(y);
    const auto& [type, dims] = shapes[o];
    const auto it = m_.tensors.find(yv.name);
    if (it != m_.tensors.end() && it->second.shape_known) {
      if (type != yv.elem_type || dims != yv.dims)
        refuse(n, "output '" + yv.name + "' is " + onnx::elem_type_name(yv.elem_type) + " " + dims_text(yv.dims) +
                      ", its branch gives " + onnx::elem_type_name(type) + " " + dims_text(dims));
    } else {
      if (yv.elem_type != 0 && yv.elem_type != type)
        refuse(n, "output '" + yv.name + "' is " + onnx::elem_type_name(yv.elem_type) + ", its branch gives " +
                      onnx::elem_type_name(type));
      yv.elem_type = type;
      yv.dims = dims;
      known_from_branches_.insert(yv.name);
    }
    if (!onnx::is_supported_elem_type(yv.elem_type)) refuse(n, "output '" + yv.name + "' has an unsupported type");
    if (yv.elem_type == tp::FLOAT) produce(0, y, plain_md(yv.dims));
    else yv.bytes = onnx::element_count(yv.dims) * onnx::element_size(yv.elem_type);
    st->out_bytes[o] = onnx::element_count(yv.dims) * onnx::element_size(yv.elem_type);
  }
  step s;
  s.fn = [st] { st->run(); };
  k.steps.push_back(std::move(s));
  auto count = [](const std::unique_ptr<branch_program>& b) {
    return b ? std::to_string(b->prog.kernels.size()) + " nodes" : std::string("not prepared");
  };
  k.what += " (then: " + count(st->branch[0]) + ", else: " + count(st->branch[1]) + ")";
}

inline std::unique_ptr<branch_program> builder::prepare_branch(
    const ::onnx::NodeProto& n, const ::onnx::GraphProto& body, const std::string& where,
    const std::unordered_map<std::string, std::size_t>& slot,
    std::vector<std::pair<std::int32_t, std::vector<std::int64_t>>>& shapes) {
  auto bp = std::make_unique<branch_program>();
  {
    ::onnx::ModelProto mp;
    mp.set_ir_version(std::max<std::int64_t>(m_.proto.ir_version(), 7));
    *mp.mutable_opset_import() = m_.proto.opset_import();
    auto& g = *mp.mutable_graph();
    g = body;
    g.set_name(n.name() + "_" + where);
    std::set<std::string> mine;
    onnx::detail::outer_refs(body, mine);
    for (const auto& name : mine) {
      const auto& xv = val(index_of(name));
      if (xv.constant) {
        *g.add_initializer() = *initializer_.at(name);
        continue;
      }
      auto* in = g.add_input();
      in->set_name(name);
      auto* t = in->mutable_type()->mutable_tensor_type();
      t->set_elem_type(xv.elem_type);
      t->mutable_shape();  // a scalar has a shape too, of no dimensions
      for (auto d : xv.dims) t->mutable_shape()->add_dim()->set_dim_value(d);
    }
    onnx::load_options lo;
    lo.check = false;  // the model's checker saw the branch already; IR rules on initializers differ by version
    try {
      onnx::model built = onnx::build_model(std::move(mp), m_.path, lo);
      onnx::optimize_options oo;
      oo.load = lo;
      bp->model = std::make_unique<onnx::model>(onnx::optimize(std::move(built), oo));
    } catch (const graph_error& e) {
      throw graph_error("dfgpar: in its " + where + ": " + nested_why(e));
    }
  }
  // each If output: a value the branch computes, an outer value or a constant
  auto& gp = *bp->model->proto.mutable_graph();
  if (gp.output_size() != n.output_size())
    throw graph_error("dfgpar: its " + where + " has " + std::to_string(gp.output_size()) + " outputs, the If " +
                      std::to_string(n.output_size()));
  std::unordered_map<std::string, const ::onnx::TensorProto*> inits;
  for (const auto& t : gp.initializer()) inits[t.name()] = &t;
  std::unordered_set<std::string> inputs;
  for (const auto& i : gp.input()) inputs.insert(i.name());
  google::protobuf::RepeatedPtrField<::onnx::ValueInfoProto> computed;
  int n_computed = 0;
  for (int o = 0; o < gp.output_size(); ++o) {
    const std::string& name = gp.output(o).name();
    branch_program::output src;
    std::int32_t type = -1;
    std::vector<std::int64_t> dims;
    if (auto it = inits.find(name); it != inits.end()) {
      const onnx::tensor t = onnx::from_proto(*it->second);
      src.kind = branch_program::output::from::constant;
      type = t.elem_type;
      dims = t.dims;
      src.data.resize(t.size() * onnx::element_size(t.elem_type));
      std::visit([&](const auto& vec) { copy_bytes(src.data.data(), vec.data(), src.data.size()); }, t.data);
    } else if (inputs.count(name)) {
      src.kind = branch_program::output::from::outer;
      src.index = slot.at(name);
      type = val(index_of(name)).elem_type;
      dims = val(index_of(name)).dims;
    } else {
      src.kind = branch_program::output::from::value;
      src.index = static_cast<std::size_t>(n_computed++);  // for now: its place among the computed outputs
      *computed.Add() = gp.output(o);
      const auto it = bp->model->tensors.find(name);
      if (it != bp->model->tensors.end() && it->second.shape_known) {
        type = it->second.elem_type;
        dims = it->second.shape;
      }
    }
    bp->outputs.push_back(std::move(src));
    shapes.emplace_back(type, dims);
  }
  gp.mutable_output()->Swap(&computed);  // the builder makes graph outputs of the computed ones only
  try {
    builder(bp->prog, *bp->model, o_).build();
  } catch (const graph_error& e) {
    throw graph_error("dfgpar: in its " + where + ": " + nested_why(e));
  }
  // the shapes of computed outputs: the builder's (a nested If may tell what shape inference could not)
  for (std::size_t o = 0; o < bp->outputs.size(); ++o) {
    auto& src = bp->outputs[o];
    if (src.kind != branch_program::output::from::value) continue;
    const int c = bp->prog.outputs.at(src.index);
    src.index = static_cast<std::size_t>(bp->prog.output_copy.at(src.index));
    const auto& cv = bp->prog.values[static_cast<std::size_t>(c)];
    if (shapes[o].first < 0) shapes[o] = {cv.elem_type, cv.dims};
    if (std::find(cv.dims.begin(), cv.dims.end(), -1) != cv.dims.end() || cv.elem_type == 0)
      throw graph_error("dfgpar: in its " + where + ": the shape of output '" + cv.name + "' is not known before the run");
  }
  for (int i : bp->prog.inputs) bp->inputs.emplace_back(i, slot.at(bp->prog.values[static_cast<std::size_t>(i)].name));
  boost::topological_sort(bp->model->g, std::back_inserter(bp->order));
  std::reverse(bp->order.begin(), bp->order.end());
  bp->plan();
  return bp;
}

}  // namespace dfgpar::onednn::detail
