#pragma once
/// \file kernels.hpp
/// The kernel policy of the native runtime: every ONNX node of a model is
/// prepared once into a `detail::kernel` (see program.hpp).
///
/// * oneDNN primitives for Conv (grouped and depthwise too; a following
///   BatchNormalization folded into its weights, a following Relu / Clip /
///   LeakyRelu / ... fused as a post-op, each only when it is the tensor's
///   only reader), Gemm (inner product), MatMul, MaxPool / AveragePool /
///   GlobalAveragePool / GlobalMaxPool (a zero Pad before an AveragePool is
///   folded into its padding), LRN, BatchNormalization, element-wise ops,
///   binary ops with broadcasting (Add, Sub, Mul, Div, Max, Min), Sum,
///   Softmax / LogSoftmax, Concat, ConvTranspose (deconvolution), Resize /
///   Upsample where oneDNN's resampling formula is ONNX's (resampling),
///   LayerNormalization, Reduce{Mean,Sum,Max,Min,Prod,L1,L2,SumSquare}
///   (reduction), and Clip with run-time bounds (a binary max, then min).
/// * Plain C++ on the argument layer's rules: Pad (constant, edge, reflect;
///   a zero Pad before a Conv or AveragePool is folded into its padding).
/// * Layouts: with `blocked` (the default) Conv chooses its own layouts
///   (`format_tag::any`), and the ops after it keep the layout they are
///   given, so chains of oneDNN ops run in oneDNN's blocked layouts; a reorder
///   is added only where a consumer needs another layout (a view, plain C++,
///   a graph output). Weights are reordered once, here.
/// * Views (Flatten, Reshape, Squeeze, Unsqueeze, Identity, inference
///   Dropout) of a plain tensor share its buffer and run nothing.
/// * Every other operator the folding evaluator computes (onnx/evaluate.hpp)
///   runs through it, on plain tensors: one reference implementation, not two.
///   It allocates its result each run.
/// * If: both branches prepared once as nested programs of these same
///   kernels, one run serially by the If's kernel (control_flow.hpp).
/// * An operator, attribute or type nothing here supports is refused while
///   the kernels are prepared, naming the node: before any run.

#include <dfgpar/error.hpp>
#include <dfgpar/onednn/pool_loops.hpp>
#include <dfgpar/onednn/program.hpp>
#include <dfgpar/onnx/args/clip.hpp>
#include <dfgpar/onnx/args/common.hpp>
#include <dfgpar/onnx/args/pad.hpp>
#include <dfgpar/onnx/args/reduce.hpp>
#include <dfgpar/onnx/args/resize.hpp>
#include <dfgpar/onnx/args/softmax.hpp>
#include <dfgpar/onnx/attributes.hpp>
#include <dfgpar/onnx/evaluate.hpp>
#include <dfgpar/onnx/graph.hpp>
#include <dfgpar/onnx/model.hpp>
#include <dfgpar/onnx/tensor.hpp>

#include <boost/graph/topological_sort.hpp>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace dfgpar::onednn {

/// How nodes are prepared.
struct kernel_options {
  /// Let oneDNN choose blocked layouts for convolutions and keep them across
  /// chains of oneDNN ops (false: plain row-major layouts everywhere, slower;
  /// for checking).
  bool blocked = true;
  /// Fold BatchNormalization into the Conv before it and fuse element-wise
  /// consumers as post-ops.
  bool fuse = true;
  /// OpenMP threads each vertex's primitives are created for, by vertex
  /// index (oneDNN with OpenMP picks its blocking by the thread count at
  /// creation, so a node that runs on k threads is created under k); empty:
  /// the caller's count for every vertex. A session fills it from its
  /// schedule's allotments.
  std::vector<std::size_t> threads{};
};

namespace detail {

using dnnl::memory;
using tp = ::onnx::TensorProto;

/// Builds the program of one model (see the file comment).
class builder {
 public:
  builder(program& p, const onnx::model& m, const kernel_options& o) : p_(p), m_(m), o_(o) {
    for (const auto& op : m.proto.opset_import())
      if (op.domain().empty() || op.domain() == "ai.onnx") opset_ = op.version();
  }

  void build() {
    const auto& gp = m_.proto.graph();
    for (const auto& t : gp.initializer()) {
      const int v = add_value(t.name());
      auto& c = p_.values[static_cast<std::size_t>(v)];
      c.constant = true;
      c.elem_type = t.data_type();
      c.dims.assign(t.dims().begin(), t.dims().end());
      if (c.elem_type == tp::FLOAT) c.md = plain_md(c.dims);
      initializer_[t.name()] = &t;
    }
    for (const auto& i : gp.input()) {
      if (initializer_.count(i.name())) continue;
      const int v = add_value(i.name());
      auto& val = p_.values[static_cast<std::size_t>(v)];
      val.input = true;
      if (auto it = m_.tensors.find(i.name()); it == m_.tensors.end() || !it->second.shape_known)
        throw graph_error("dfgpar: graph input '" + i.name() +
                          "' has dimensions not known before the run; the native runtime needs them fixed "
                          "(input shapes option, dfgpar run --input-shape '" + i.name() + "=d0,d1,...')");
      val.md = val.elem_type == tp::FLOAT ? plain_md(val.dims) : memory::desc();
      p_.inputs.push_back(v);
    }
    const std::size_t n = num_vertices(m_.g);
    p_.kernels.resize(n);
    node_of_.resize(n);
    for (std::size_t v = 0; v < n; ++v) {
      node_of_[v] = &gp.node(static_cast<int>(m_.g[v].node));
      for (const auto& o : node_of_[v]->output())
        if (!o.empty()) p_.values[static_cast<std::size_t>(add_value(o))].producer = static_cast<long>(v);
      for (const auto& i : node_of_[v]->input())
        if (!i.empty()) readers_[i].push_back(v);
      // what an If's branches read counts as read by the If: no fusion may rewrite it in place
      if (onnx::detail::has_subgraph(*node_of_[v]))
        for (const auto& i : onnx::detail::implicit_inputs(*node_of_[v])) readers_[i].push_back(v);
    }
    for (const auto& o : gp.output()) {
      const int v = index_of(o.name());
      p_.values[static_cast<std::size_t>(v)].output = true;
      p_.outputs.push_back(v);
    }
    std::vector<std::size_t> order;
    boost::topological_sort(m_.g, std::back_inserter(order));
    std::reverse(order.begin(), order.end());
    for (std::size_t v : order) {
      if (p_.kernels[v].fused) continue;
      if (v < o_.threads.size() && omp_get_max_threads() != static_cast<int>(o_.threads[v]))
        omp_set_num_threads(static_cast<int>(o_.threads[v]));  // the caller restores its own count
      prepare(v);
    }
    for (std::size_t i = 0; i < p_.outputs.size(); ++i) finish_output(i);
    // readers, for the buffer plan: every node that reads a value (or one of its aliases) reads its root
    for (std::size_t v = 0; v < n; ++v)
      for (const auto& a : read_by_[v]) {
        auto& r = p_.values[static_cast<std::size_t>(p_.root(a))].readers;
        if (std::find(r.begin(), r.end(), v) == r.end()) r.push_back(v);
      }
    if (o_.fuse) place_concat_inputs();
  }

 private:
  program& p_;
  const onnx::model& m_;
  kernel_options o_;
  std::int64_t opset_ = 13;
  std::unordered_map<std::string, int> index_;
  std::unordered_map<std::string, const tp*> initializer_;
  std::unordered_map<std::string, std::vector<std::size_t>> readers_;  // tensor -> reading vertices
  std::unordered_map<std::size_t, std::vector<int>> read_by_;          // vertex -> values it reads
  std::unordered_map<std::size_t, std::pair<int, std::vector<std::int64_t>>> fused_pad_;  // pool vertex -> (pad input, pads)
  std::vector<const ::onnx::NodeProto*> node_of_;
  std::unordered_map<int, onnx::tensor> const_cache_;
  std::unordered_set<std::string> known_from_branches_;  // If outputs whose shape only the branches tell
  struct concat_record {
    std::size_t vertex;
    int output;
    std::size_t step;  // the copies, in the Concat's kernel (a graph output's plain copy may follow)
    std::vector<std::pair<int, std::size_t>> parts;  // (value, bytes), in output order
  };
  std::vector<concat_record> concat_parts_;  // the Concats done by copies, in preparation order

  // ------------------------------------------------------------ values

  int add_value(const std::string& name) {
    if (auto it = index_.find(name); it != index_.end()) return it->second;
    value val;
    val.name = name;
    if (auto it = m_.tensors.find(name); it != m_.tensors.end()) {
      val.elem_type = it->second.elem_type;
      val.dims = it->second.shape;
    }
    const int id = static_cast<int>(p_.values.size());
    p_.values.push_back(std::move(val));
    index_[name] = id;
    return id;
  }
  int index_of(const std::string& name) const {
    auto it = index_.find(name);
    if (it == index_.end()) throw graph_error("dfgpar: tensor '" + name + "' is not in the model");
    return it->second;
  }
  value& val(int v) { return p_.values[static_cast<std::size_t>(v)]; }

  [[noreturn]] void refuse(const ::onnx::NodeProto& n, const std::string& why) const {
    throw graph_error("dfgpar: the native runtime cannot run " + onnx::detail::node_where(n) + ": " + why);
  }

  /// Dimensions of value v, which must be fully known.
  const std::vector<std::int64_t>& dims_of(const ::onnx::NodeProto& n, int v) {
    auto& x = val(v);
    if ((m_.tensors.count(x.name) == 0 || !m_.tensors.at(x.name).shape_known) && !known_from_branches_.count(x.name))
      refuse(n, "the shape of tensor '" + x.name + "' is not known before the run (dynamic shapes are not supported yet)");
    return x.dims;
  }

  bool is_const(const std::string& name) const { return initializer_.count(name) > 0; }
  const onnx::tensor& const_value(int v) {
    auto it = const_cache_.find(v);
    if (it != const_cache_.end()) return it->second;
    return const_cache_[v] = onnx::from_proto(*initializer_.at(val(v).name));
  }
  std::vector<float> const_floats(const ::onnx::NodeProto& n, const std::string& name) {
    const auto& t = const_value(index_of(name));
    if (t.elem_type != tp::FLOAT) refuse(n, "tensor '" + name + "' is not float32");
    return t.values<float>();
  }

  /// The single node that reads tensor t, when t is no graph output and exactly one node reads it once.
  std::optional<std::size_t> only_reader(const std::string& t) const {
    auto it = readers_.find(t);
    if (it == readers_.end() || it->second.size() != 1) return std::nullopt;
    if (p_.values[static_cast<std::size_t>(index_.at(t))].output) return std::nullopt;
    return it->second.front();
  }

  /// A oneDNN memory owned by the program holding `data` in layout `plain`,
  /// reordered once into `want` (when given and different).
  std::size_t make_weight(const std::vector<float>& data, const memory::desc& plain,
                          const memory::desc* want = nullptr) {
    memory src(plain, p_.engine);
    copy_bytes(src.get_data_handle(), data.data(), std::min(plain.get_size(), data.size() * sizeof(float)));
    if (want && *want != plain) {
      memory dst(*want, p_.engine);
      dnnl::stream s(p_.engine);
      dnnl::reorder(src, dst).execute(s, src, dst);
      s.wait();
      src = dst;
    }
    p_.weights.push_back(src);
    return p_.weights.size() - 1;
  }

  /// Argument `arg` reading value v in layout `want`: v itself when it has
  /// that layout, else a temp filled by a reorder step added to kernel k.
  /// A constant is reordered once instead.
  arg_ref want(kernel& k, std::size_t vertex, int arg, int v, const memory::desc& want_md) {
    read_by_[vertex].push_back(v);
    auto& x = val(v);
    if (x.constant) {
      const auto& t = const_value(v);
      return {arg, ref_kind::weight, make_weight(t.values<float>(), x.md, &want_md), want_md};
    }
    if (x.md == want_md) return {arg, ref_kind::value, static_cast<std::size_t>(v), want_md};
    p_.temps.push_back({want_md, nullptr});
    const std::size_t t = p_.temps.size() - 1;
    step s;
    s.prim = dnnl::reorder(dnnl::reorder::primitive_desc(p_.engine, x.md, p_.engine, want_md));
    s.args = {{DNNL_ARG_FROM, ref_kind::value, static_cast<std::size_t>(v), x.md},
              {DNNL_ARG_TO, ref_kind::temp, t, want_md}};
    s.reorder = true;
    k.steps.push_back(std::move(s));
    return {arg, ref_kind::temp, t, want_md};
  }
  /// Value v as it is (its own layout).
  arg_ref as_is(std::size_t vertex, int arg, int v) {
    if (val(v).constant) return want(p_.kernels[vertex], vertex, arg, v, val(v).md);
    read_by_[vertex].push_back(v);
    return {arg, ref_kind::value, static_cast<std::size_t>(v), val(v).md};
  }

  /// Output value of a node: the layout `md`.
  arg_ref produce(int arg, int v, const memory::desc& md) {
    auto& x = val(v);
    x.md = md;
    x.bytes = md.get_size();
    return {arg, ref_kind::value, static_cast<std::size_t>(v), md};
  }

  static dnnl::primitive_attr scratch_attr() {
    dnnl::primitive_attr a;
    a.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    return a;
  }

  void add_primitive(kernel& k, dnnl::primitive prim, const dnnl::primitive_desc_base& pd, std::vector<arg_ref> args) {
    step s;
    s.prim = std::move(prim);
    const std::size_t sz = pd.scratchpad_desc().get_size();
    if (sz > 0) args.push_back({DNNL_ARG_SCRATCHPAD, ref_kind::scratch, 0, pd.scratchpad_desc()});
    k.scratch = std::max(k.scratch, sz);
    s.args = std::move(args);
    k.steps.push_back(std::move(s));
    if (!k.what.empty()) k.what += " ";
    k.what += "[" + std::string(pd.impl_info_str()) + "]";
  }

  // ------------------------------------------------------------ dispatch

  void prepare(std::size_t v) {
    const auto& n = *node_of_[v];
    kernel& k = p_.kernels[v];
    k.what = n.op_type();
    if (!n.domain().empty() && n.domain() != "ai.onnx") refuse(n, "operators of domain '" + n.domain() + "' are not supported");
    const std::string& op = n.op_type();
    // every float input of a native op must be float32; other types go to the evaluator
    bool all_f32 = true;
    for (const auto& i : n.input())
      if (!i.empty() && val(index_of(i)).elem_type != tp::FLOAT) all_f32 = false;
    for (const auto& o : n.output())
      if (!o.empty() && val(index_of(o)).elem_type != tp::FLOAT) all_f32 = false;
    try {
      if (op == "If") return if_node(v, n, k);  // control_flow.hpp
      // Pad's pads are int64: checked apart
      if (op == "Pad" && val(index_of(n.input(0))).elem_type == tp::FLOAT)
        return pad_into_reader(v, n, k) ? void() : pad(v, n, k);
      // ops whose other inputs (sizes, axes) are int64: only the data must be float32
      const bool data_f32 = n.input_size() > 0 && !n.input(0).empty() && n.output_size() > 0 && !n.output(0).empty() &&
                            val(index_of(n.input(0))).elem_type == tp::FLOAT &&
                            val(index_of(n.output(0))).elem_type == tp::FLOAT;
      if (data_f32 && (op == "Resize" || op == "Upsample")) return resize(v, n, k);
      if (data_f32 && op == "Slice" && slice(v, n, k)) return;
      if (data_f32 && (op == "ReduceMean" || op == "ReduceSum" || op == "ReduceMax" || op == "ReduceMin" ||
                       op == "ReduceProd" || op == "ReduceL1" || op == "ReduceL2" || op == "ReduceSumSquare"))
        return reduce(v, n, k);
      if (all_f32) {
        if (op == "Conv") return conv(v, n, k);
        if (op == "MaxPool" || op == "AveragePool" || op == "GlobalAveragePool" || op == "GlobalMaxPool")
          return pool(v, n, k);
        if (op == "Concat") return concat(v, n, k);
        if (op == "Gemm") return gemm(v, n, k);
        if (op == "MatMul") return matmul(v, n, k);
        if (op == "BatchNormalization") return batch_norm(v, n, k);
        if (op == "LRN") return lrn(v, n, k);
        if (op == "Softmax" || op == "LogSoftmax") return softmax(v, n, k);
        if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || ((op == "Max" || op == "Min") && n.input_size() == 2))
          return linear_chain(v, n, k) ? void() : binary(v, n, k);
        if (op == "Sum") return sum(v, n, k);
        if (auto e = eltwise_of(n)) return eltwise(v, n, k, *e);
        if (op == "Clip") return clip_by_binary(v, n, k);
        if (op == "ConvTranspose") return conv_transpose(v, n, k);
        if (op == "LayerNormalization") return layer_norm(v, n, k);
        if (op == "Log" && !val(index_of(n.input(0))).constant && n.attribute_size() == 0) return plain_log(v, n, k);
        if (op == "Transpose" && transpose(v, n, k)) return;
      }
      if (op == "Flatten" || op == "Reshape" || op == "Squeeze" || op == "Unsqueeze" || op == "Identity" ||
          (op == "Dropout" && n.output_size() == 1))
        return view(v, n, k);
      return fallback(v, n, k);
    } catch (const dnnl::error& e) {
      refuse(n, std::string("oneDNN: ") + e.what());
    } catch (const onnx::argument_error& e) {
      refuse(n, e.why);
    }
  }

  // ------------------------------------------------------------ element-wise

  struct eltwise_op {
    dnnl::algorithm alg;
    float alpha = 0, beta = 0;
    /// A second algorithm applied after the first (HardSigmoid = clip(linear)):
    /// `then_alg` is eltwise_clip when `two_step`.
    bool two_step = false;
    float then_alpha = 0, then_beta = 0;

    /// This linear followed by the linear `next`: a2 (a1 x + b1) + b2.
    void then_linear(const eltwise_op& next) {
      beta = next.alpha * beta + next.beta;
      alpha *= next.alpha;
    }

    /// Appends this operation to `po` (one or two eltwise post-ops).
    void append_to(dnnl::post_ops& po) const {
      po.append_eltwise(1.f, alg, alpha, beta);
      if (two_step) po.append_eltwise(1.f, dnnl::algorithm::eltwise_clip, then_alpha, then_beta);
    }
  };

  /// The oneDNN algorithm of a unary element-wise node, or nullopt.
  std::optional<eltwise_op> eltwise_of(const ::onnx::NodeProto& n) {
    using a = dnnl::algorithm;
    const std::string& op = n.op_type();
    onnx::attribute_reader r(n);
    std::optional<eltwise_op> e;
    if (op == "Relu") e = eltwise_op{a::eltwise_relu};
    else if (op == "LeakyRelu") e = eltwise_op{a::eltwise_relu, static_cast<float>(r.get_float("alpha", 0.01))};
    else if (op == "Elu") e = eltwise_op{a::eltwise_elu, static_cast<float>(r.get_float("alpha", 1.0))};
    else if (op == "Sigmoid") e = eltwise_op{a::eltwise_logistic};
    else if (op == "Tanh") e = eltwise_op{a::eltwise_tanh};
    else if (op == "Exp") e = eltwise_op{a::eltwise_exp};
    else if (op == "Sqrt") e = eltwise_op{a::eltwise_sqrt};
    else if (op == "Abs") e = eltwise_op{a::eltwise_abs};
    else if (op == "Softplus") e = eltwise_op{a::eltwise_soft_relu};
    else if (op == "Neg") e = eltwise_op{a::eltwise_linear, -1.f, 0.f};
    else if (op == "Pow" && n.input_size() == 2 && is_const(n.input(1)) &&
             onnx::element_count(val(index_of(n.input(1))).dims) == 1 &&
             val(index_of(n.input(1))).elem_type == tp::FLOAT && const_value(index_of(n.input(1))).as_double(0) == 2.0)
      e = eltwise_op{a::eltwise_square};  // x * x, exact (a layer norm written out squares its deviations)
    else if (op == "HardSigmoid")  // max(0, min(1, alpha x + beta)): linear, then clip to [0, 1]
      e = eltwise_op{a::eltwise_linear, static_cast<float>(r.get_float("alpha", 0.2)),
                     static_cast<float>(r.get_float("beta", 0.5)), true, 0.f, 1.f};
    else if (op == "Clip") {
      std::vector<const onnx::tensor*> ins;
      for (const auto& i : n.input())
        ins.push_back(!i.empty() && is_const(i) ? &const_value(index_of(i)) : nullptr);
      const auto in = onnx::node_inputs::of(n, [&](std::size_t i) { return ins[i]; });
      const auto c = onnx::read_clip(n, r, opset_, in);
      if (c.min.at_run_time() || c.max.at_run_time()) return std::nullopt;
      const float lo = c.min.known() ? static_cast<float>(*c.min.value) : -std::numeric_limits<float>::max();
      const float hi = c.max.known() ? static_cast<float>(*c.max.value) : std::numeric_limits<float>::max();
      e = eltwise_op{a::eltwise_clip, lo, hi};
    }
    if (e && !r.all_read()) return std::nullopt;  // an attribute we do not read: let the fallback refuse it
    return e;
  }

  /// Two or more Add / Sub / Mul / Div by one-element constants in a row (the
  /// x c + d after each hardswish in PP-LCNet) as one eltwise_linear
  /// primitive: one pass over the tensor, not one per node. False when `n`
  /// starts no such chain.
  bool linear_chain(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
    if (!o_.fuse || n.input_size() != 2 || n.output_size() != 1) return false;
    const std::string& xname = is_const(n.input(0)) ? n.input(1) : n.input(0);
    if (is_const(xname) || !same_float_shape(xname, n.output(0))) return false;
    auto e = linear_of(n, xname);
    if (!e) return false;
    chain c;
    c.last = n.output(0);
    while (auto st = chain_step(c.last)) {
      if (st->nodes.size() != 1 || !linear_of(*node_of_[st->nodes[0]], c.last)) break;
      e->then_linear(st->op);
      c.fused.push_back(st->nodes[0]);
      c.names += "+" + st->name;
      c.last = st->out;
    }
    if (c.fused.empty()) return false;
    const int x = index_of(xname), y = index_of(n.output(0));
    const auto src = as_is(v, DNNL_ARG_SRC, x);
    dnnl::eltwise_forward::primitive_desc pd(
        {dnnl::prop_kind::forward_inference, dnnl::algorithm::eltwise_linear, src.md, e->alpha, e->beta}, scratch_attr(),
        p_.engine);
    k.what += c.names + " (one linear)";
    add_primitive(k, dnnl::eltwise_forward(pd), pd, {src, produce(DNNL_ARG_DST, y, pd.dst_desc())});
    absorb(c, y);
    return true;
  }

  /// Transpose as one oneDNN reorder: the input read through a descriptor of
  /// the output's dimensions with the input's strides permuted, written in
  /// plain layout (the evaluator's element loop took 2.5 ms for each of
  /// M-LSD's two transposes of its 320 x 320 x 4 input, on one thread). False
  /// when the permutation is not one (the evaluator refuses it, naming it).
  bool transpose(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
    onnx::attribute_reader r(n);
    const int x = index_of(n.input(0)), y = index_of(n.output(0));
    const std::vector<std::int64_t> xd = dims_of(n, x);
    const std::vector<std::int64_t> yd = dims_of(n, y);
    const std::size_t rank = xd.size();
    std::vector<std::int64_t> perm = r.get_ints("perm", {});
    if (perm.empty())
      for (std::size_t i = rank; i-- > 0;) perm.push_back(static_cast<std::int64_t>(i));
    if (!r.all_read() || rank < 1 || rank > 6 || perm.size() != rank || yd.size() != rank ||
        onnx::element_count(xd) == 0)
      return false;
    std::vector<bool> seen(rank, false);
    for (std::size_t i = 0; i < rank; ++i) {
      if (perm[i] < 0 || perm[i] >= static_cast<std::int64_t>(rank) || seen[static_cast<std::size_t>(perm[i])] ||
          yd[i] != xd[static_cast<std::size_t>(perm[i])])
        return false;
      seen[static_cast<std::size_t>(perm[i])] = true;
    }
    const auto x_strides = onnx::detail::strides_of(xd);
    memory::dims strides(rank);
    for (std::size_t i = 0; i < rank; ++i)
      strides[i] = static_cast<memory::dim>(x_strides[static_cast<std::size_t>(perm[i])]);
    reorder_through(v, k, x, xd, memory::desc(to_dims(yd), memory::data_type::f32, strides), y, yd);
    return true;
  }

  /// One reorder that reads the plain input `x` (dims `xd`) through `view`,
  /// a descriptor of the same bytes (permuted strides, a sub-memory), into a
  /// plain output `y` (dims `yd`): Transpose and Slice.
  void reorder_through(std::size_t v, kernel& k, int x, const std::vector<std::int64_t>& xd, const memory::desc& view,
                       int y, const std::vector<std::int64_t>& yd) {
    const memory::desc out = plain_md(yd);
    arg_ref src = want(k, v, DNNL_ARG_FROM, x, plain_md(xd));
    src.md = view;
    const dnnl::reorder::primitive_desc pd(p_.engine, view, p_.engine, out);
    add_primitive(k, dnnl::reorder(pd), pd, {src, produce(DNNL_ARG_TO, y, out)});
  }

  /// Slice with steps of 1 as one oneDNN reorder from a sub-memory of the
  /// input (M-LSD's two slices of its input took 2.6 ms of 52 on the
  /// evaluator). False (the evaluator runs it) for other steps, bounds that
  /// are not constants, or an opset-9 Slice.
  bool slice(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
    if (opset_ < 10 || n.input_size() < 3 || n.attribute_size() != 0) return false;
    const int x = index_of(n.input(0)), y = index_of(n.output(0));
    const std::vector<std::int64_t> xd = dims_of(n, x);
    const std::vector<std::int64_t> yd = dims_of(n, y);
    const std::size_t rank = xd.size();
    auto ints = [&](int i, std::vector<std::int64_t>& out) {
      if (n.input_size() <= i || n.input(i).empty()) return true;  // absent: the default
      if (!is_const(n.input(i))) return false;
      const onnx::tensor& t = const_value(index_of(n.input(i)));
      out.clear();
      if (t.elem_type == tp::INT64) out = t.values<std::int64_t>();
      else if (t.elem_type == tp::INT32)
        for (std::int32_t e : t.values<std::int32_t>()) out.push_back(e);
      else return false;
      return true;
    };
    std::vector<std::int64_t> starts, ends, axes, steps;
    if (!ints(1, starts) || !ints(2, ends) || !ints(3, axes) || !ints(4, steps)) return false;
    if (axes.empty())
      for (std::size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<std::int64_t>(i));
    if (steps.empty()) steps.assign(starts.size(), 1);
    if (rank < 1 || rank > 6 || yd.size() != rank || starts.size() != ends.size() || axes.size() != starts.size() ||
        steps.size() != starts.size() || onnx::element_count(yd) == 0)
      return false;
    memory::dims offsets(rank, 0), size = to_dims(xd);
    std::vector<bool> seen(rank, false);
    for (std::size_t j = 0; j < axes.size(); ++j) {
      std::int64_t a = axes[j] < 0 ? axes[j] + static_cast<std::int64_t>(rank) : axes[j];
      if (a < 0 || a >= static_cast<std::int64_t>(rank) || seen[static_cast<std::size_t>(a)] || steps[j] != 1) return false;
      seen[static_cast<std::size_t>(a)] = true;
      const std::int64_t d = xd[static_cast<std::size_t>(a)];
      auto clamp = [d](std::int64_t e) { return std::clamp(e < 0 ? (e < -d ? 0 : e + d) : e, std::int64_t{0}, d); };
      const std::int64_t b = clamp(starts[j]), e = clamp(ends[j]);
      offsets[static_cast<std::size_t>(a)] = b;
      size[static_cast<std::size_t>(a)] = std::max<std::int64_t>(e - b, 0);
    }
    if (size != to_dims(yd)) return false;  // what shape inference said: trust neither silently
    reorder_through(v, k, x, xd, plain_md(xd).submemory_desc(size, offsets), y, yd);
    return true;
  }

  /// Log in plain C++ (std::log): oneDNN 2.6's eltwise_log (jit:avx2) is off
  /// by up to about 10 ulp (log(1) = -1.4e-6), outside the ONNX backend
  /// suite's tolerance (atol 1e-7).
  void plain_log(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
    const int x = index_of(n.input(0)), y = index_of(n.output(0));
    const std::vector<std::int64_t> dims = dims_of(n, x);
    const arg_ref in = want(k, v, 0, x, plain_md(dims));
    produce(0, y, plain_md(dims_of(n, y)));
    const std::size_t count = onnx::element_count(dims);
    program* prog = &p_;
    step s;
    s.fn = [prog, in, x, y, count] {
      const std::byte* src = in.kind == ref_kind::temp ? prog->temps[in.index].ptr
                                                       : prog->data(x);
      const auto* a = reinterpret_cast<const float*>(src);
      auto* b = reinterpret_cast<float*>(prog->data(y));
      for (std::size_t i = 0; i < count; ++i) b[i] = std::log(a[i]);
    };
    k.steps.push_back(std::move(s));
    k.what += " (plain C++)";
  }

  void eltwise(std::size_t v, const ::onnx::NodeProto& n, kernel& k, const eltwise_op& e) {
    const int x = index_of(n.input(0)), y = index_of(n.output(0));
    dims_of(n, x);
    const auto src = as_is(v, DNNL_ARG_SRC, x);
    dnnl::eltwise_forward::primitive_desc pd(
        {dnnl::prop_kind::forward_inference, e.alg, src.md, e.alpha, e.beta}, scratch_attr(), p_.engine);
    const arg_ref dst = produce(DNNL_ARG_DST, y, pd.dst_desc());
    add_primitive(k, dnnl::eltwise_forward(pd), pd, {src, dst});
    if (!e.two_step) return;
    // the second step in place, as a primitive of its own: oneDNN 2.6's
    // reference eltwise (the one it picks for a few elements) leaves an
    // eltwise post-op's output at 0 (test_hardsigmoid_example: 3 elements)
    dnnl::eltwise_forward::primitive_desc pd2(
        {dnnl::prop_kind::forward_inference, dnnl::algorithm::eltwise_clip, dst.md, e.then_alpha, e.then_beta},
        scratch_attr(), p_.engine);
    add_primitive(k, dnnl::eltwise_forward(pd2), pd2, {{DNNL_ARG_SRC, dst.kind, dst.index, dst.md}, dst});
  }

  /// Clip with a bound computed at run time: max(x, min), then min(., max),
  /// each a binary primitive whose second source is the one-element bound
  /// (a constant bound is read the same way).
  void clip_by_binary(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
    if (opset_ < 11 || n.attribute_size() != 0) return fallback(v, n, k);
    const int x = index_of(n.input(0)), y = index_of(n.output(0));
    const auto& xd = dims_of(n, x);
    const memory::desc one = plain_md(std::vector<std::int64_t>(xd.size(), 1));
    arg_ref src0 = as_is(v, DNNL_ARG_SRC_0, x);
    bool first = true;
    memory::desc out;
    for (int i : {1, 2}) {
      if (n.input_size() <= i || n.input(i).empty()) continue;
      const int b = index_of(n.input(i));
      if (onnx::element_count(dims_of(n, b)) != 1) refuse(n, "a bound must have one element");
      arg_ref src1 = want(k, v, DNNL_ARG_SRC_1, b, plain_md(val(b).dims));
      src1.md = one;
      const auto alg = i == 1 ? dnnl::algorithm::binary_max : dnnl::algorithm::binary_min;
      std::optional<dnnl::binary::primitive_desc> pd;
      try {
        pd.emplace(dnnl::binary::desc(alg, src0.md, one, src0.md), scratch_attr(), p_.engine);
      } catch (const dnnl::error&) {  // a blocked source with a broadcast bound: in plain layout
        src0 = want(k, v, DNNL_ARG_SRC_0, x, plain_md(xd));
        pd.emplace(dnnl::binary::desc(alg, src0.md, one, src0.md), scratch_attr(), p_.engine);
      }
      arg_ref dst = first ? produce(DNNL_ARG_DST, y, pd->dst_desc())
                          : arg_ref{DNNL_ARG_DST, ref_kind::value, static_cast<std::size_t>(y), pd->dst_desc()};
      add_primitive(k, dnnl::binary(*pd), *pd, {src0, src1, dst});
      src0 = {DNNL_ARG_SRC_0, ref_kind::value, static_cast<std::size_t>(y), pd->dst_desc()};  // in place next
      first = false;
    }
    if (first) return view(v, n, k);  // no bound at all
    k.what += " (binary max/min)";
  }

  /// Follows the chain after a Conv's output `t`: a BatchNormalization to fold
  /// (bn, when `fold_bn`), then element-wise steps to fuse as post-ops, as
  /// long as each is the only reader of the tensor before it (chain_step).
  struct chain {
    std::optional<std::size_t> bn;
    std::vector<std::size_t> fused;  ///< the element-wise nodes, in order (a hardswish pattern: its four)
    std::vector<eltwise_op> ops;     ///< their post-ops, one per step
    std::string names;               ///< "+Mul+Add+HardSwish..." for the kernel's description
    std::string last;                ///< the tensor the fused kernel writes
    void append_to(dnnl::post_ops& po) const {
      for (const auto& e : ops) e.append_to(po);
    }
  };
  /// `one_unary`: at most one step, a unary node (ConvTranspose: with a linear
  /// and a logistic post-op, ppocr_v4_det's last one took 112 ms instead of 4).
  chain follow(const std::string& t, bool fold_bn, bool one_unary = false) {
    chain c;
    c.last = t;
    if (!o_.fuse) return c;
    auto r = only_reader(t);
    if (r && fold_bn && node_of_[*r]->op_type() == "BatchNormalization" && bn_foldable(*node_of_[*r]) &&
        node_of_[*r]->input(0) == t) {
      c.bn = *r;
      c.last = node_of_[*r]->output(0);
    }
    // PP-LCNet (PP-OCRv4): Conv, then x * a + b (two nodes, one linear post-op), a hardswish
    // written as four nodes (one post-op); the x * c + d after it is a second linear, which
    // oneDNN 2.6 computes with the first one's alpha and beta (two post-ops of one algorithm
    // in a kernel: wrong results, tested), so the chain stops there
    while (auto st = chain_step(c.last)) {
      const bool merge = !c.ops.empty() && !c.ops.back().two_step && c.ops.back().alg == dnnl::algorithm::eltwise_linear &&
                         st->op.alg == dnnl::algorithm::eltwise_linear && !st->op.two_step;
      if (!merge && uses_algorithm(c.ops, st->op)) break;
      if (one_unary && (st->nodes.size() != 1 || !eltwise_of(*node_of_[st->nodes[0]]))) break;
      c.fused.insert(c.fused.end(), st->nodes.begin(), st->nodes.end());
      if (merge) {
        c.ops.back().then_linear(st->op);
      } else {
        c.ops.push_back(st->op);
      }
      c.names += "+" + st->name;
      c.last = st->out;
      if (one_unary) break;
    }
    return c;
  }
  /// Whether `e` (or its second step) uses an algorithm that one of `ops` uses.
  static bool uses_algorithm(const std::vector<eltwise_op>& ops, const eltwise_op& e) {
    auto algs = [](const eltwise_op& o) {
      std::vector<dnnl::algorithm> a{o.alg};
      if (o.two_step) a.push_back(dnnl::algorithm::eltwise_clip);
      return a;
    };
    for (const auto& o : ops)
      for (auto x : algs(o))
        for (auto y : algs(e))
          if (x == y) return true;
    return false;
  }
  /// One element-wise step after tensor t: its nodes, its post-op, and the
  /// tensor it writes.
  struct chain_match {
    std::vector<std::size_t> nodes;
    eltwise_op op;
    std::string name, out;
  };
  /// The step that reads t, when it is a unary element-wise node, an
  /// Add / Sub / Mul / Div by a one-element constant (a linear post-op), or
  /// hardswish written out (hardswish_pattern); each a float32 tensor of t's
  /// shape that is no graph output (but the last may be).
  std::optional<chain_match> chain_step(const std::string& t) {
    const auto r = only_reader(t);
    if (!r) return hardswish_pattern(t);
    const auto& n = *node_of_[*r];
    if (n.output_size() != 1 || !same_float_shape(t, n.output(0))) return std::nullopt;
    if (n.input(0) == t)
      if (auto e = eltwise_of(n)) return chain_match{{*r}, *e, n.op_type(), n.output(0)};
    if (auto e = linear_of(n, t)) return chain_match{{*r}, *e, n.op_type(), n.output(0)};
    return std::nullopt;
  }
  bool same_float_shape(const std::string& a, const std::string& b) {
    const auto &va = val(index_of(a)), &vb = val(index_of(b));
    return va.elem_type == tp::FLOAT && vb.elem_type == tp::FLOAT && va.dims == vb.dims;
  }
  /// x * c, c * x, x + c, c + x, x - c, c - x, x / c with c a one-element
  /// float32 constant, as eltwise_linear (alpha x + beta), or nullopt.
  std::optional<eltwise_op> linear_of(const ::onnx::NodeProto& n, const std::string& x) {
    const std::string& op = n.op_type();
    if ((op != "Mul" && op != "Add" && op != "Sub" && op != "Div") || n.input_size() != 2 || n.attribute_size() != 0 ||
        n.input(0) == n.input(1))
      return std::nullopt;
    const bool x_first = n.input(0) == x;
    if (!x_first && n.input(1) != x) return std::nullopt;
    const std::string& cn = x_first ? n.input(1) : n.input(0);
    if (!is_const(cn)) return std::nullopt;
    const onnx::tensor& ct = const_value(index_of(cn));
    if (ct.elem_type != tp::FLOAT || onnx::element_count(ct.dims) != 1) return std::nullopt;
    const float c = static_cast<float>(ct.as_double(0));
    const auto lin = dnnl::algorithm::eltwise_linear;
    if (op == "Mul") return eltwise_op{lin, c, 0.f};
    if (op == "Add") return eltwise_op{lin, 1.f, c};
    if (op == "Sub") return x_first ? eltwise_op{lin, 1.f, -c} : eltwise_op{lin, -1.f, c};
    if (x_first && c != 0.f) return eltwise_op{lin, 1.f / c, 0.f};  // Div: x * (1 / c), within an ulp of x / c
    return std::nullopt;
  }
  /// hardswish(t) = t * clip(t + 3, 0, 6) / 6 as exporters write it (Paddle,
  /// TensorFlow): t read by Add(t, 3) and Mul(t, Clip(., 0, 6)), then Div by 6
  /// (or Mul by 1/6): oneDNN's eltwise_hardswish, one post-op for four nodes.
  std::optional<chain_match> hardswish_pattern(const std::string& t) {
    auto it = readers_.find(t);
    if (it == readers_.end() || it->second.size() != 2 || val(index_of(t)).output) return std::nullopt;
    auto is_linear = [&](std::size_t v, const std::string& x, float alpha, float beta) {
      const auto& n = *node_of_[v];
      if (n.output_size() != 1 || !same_float_shape(x, n.output(0))) return false;
      const auto e = linear_of(n, x);
      return e && std::fabs(e->alpha - alpha) <= 1e-6f * std::fabs(alpha) && e->beta == beta;
    };
    for (int first : {0, 1}) {
      const std::size_t add = it->second[static_cast<std::size_t>(first)], mul = it->second[static_cast<std::size_t>(1 - first)];
      if (node_of_[add]->op_type() != "Add" || !is_linear(add, t, 1.f, 3.f)) continue;
      const std::string& shifted = node_of_[add]->output(0);
      const auto clip = only_reader(shifted);
      if (!clip || node_of_[*clip]->op_type() != "Clip" || node_of_[*clip]->input(0) != shifted ||
          node_of_[*clip]->output_size() != 1 || !same_float_shape(t, node_of_[*clip]->output(0)))
        continue;
      const auto ce = eltwise_of(*node_of_[*clip]);
      if (!ce || ce->alpha != 0.f || ce->beta != 6.f) continue;
      const std::string& clipped = node_of_[*clip]->output(0);
      const auto& m = *node_of_[mul];
      if (only_reader(clipped) != mul || m.op_type() != "Mul" || m.input_size() != 2 || m.attribute_size() != 0 ||
          !((m.input(0) == t && m.input(1) == clipped) || (m.input(0) == clipped && m.input(1) == t)) ||
          m.output_size() != 1 || !same_float_shape(t, m.output(0)))
        continue;
      const auto div = only_reader(m.output(0));
      if (!div || !is_linear(*div, m.output(0), 1.f / 6.f, 0.f)) continue;
      return chain_match{{add, *clip, mul, *div}, eltwise_op{dnnl::algorithm::eltwise_hardswish}, "HardSwish",
                         node_of_[*div]->output(0)};
    }
    return std::nullopt;
  }
  bool bn_foldable(const ::onnx::NodeProto& bn) {
    if (bn.output_size() != 1) return false;
    for (int i = 1; i < 5; ++i)
      if (bn.input_size() <= i || !is_const(bn.input(i))) return false;
    onnx::attribute_reader r(bn);
    r.get_float("epsilon", 1e-5);
    r.ignore("momentum");
    if (r.get_int("training_mode", 0) != 0) return false;
    r.ignore("spatial");  // opset < 9; 1 (the default) is the only value exporters write
    return r.all_read();
  }
  /// Marks the nodes of a chain fused and makes their outputs aliases of `first`.
  void absorb(const chain& c, int first) {
    std::vector<std::size_t> nodes = c.fused;
    if (c.bn) nodes.insert(nodes.begin(), *c.bn);
    for (std::size_t node : nodes) {
      p_.kernels[node].fused = true;
      p_.kernels[node].what = node_of_[node]->op_type() + " (fused)";
      const int out = index_of(node_of_[node]->output(0));
      val(out).alias_of = first;
      val(out).md = val(first).md;
    }
  }

  // ------------------------------------------------------------ convolution

  /// A residual Add after a Conv's chain, fused as a `sum` post-op: the Conv
  /// accumulates into the other operand's buffer (dst = conv + dst), and an
  /// element-wise node after the Add (ResNet's Relu) becomes a post-op too.
  /// Safe only when every other reader of that buffer has finished before the
  /// Conv starts in every schedule: each is an ancestor of the Conv in the
  /// graph (it also makes the operand's producer run first).
  struct residual {
    std::size_t add;                   ///< the Add vertex
    int operand;                       ///< the value whose buffer the Conv accumulates into
    std::optional<std::size_t> act;    ///< an element-wise node after the Add
    std::optional<eltwise_op> act_op;
  };
  std::optional<residual> follow_residual(std::size_t conv_v, const std::string& t, const memory::dims& yd) {
    if (!o_.fuse || !o_.blocked) return std::nullopt;
    const auto r = only_reader(t);
    if (!r) return std::nullopt;
    const auto& add = *node_of_[*r];
    if (add.op_type() != "Add" || add.input_size() != 2 || add.attribute_size() != 0 || add.input(0) == add.input(1))
      return std::nullopt;
    const std::string& other = add.input(0) == t ? add.input(1) : add.input(0);
    const int o = index_of(other);
    const int root = p_.root(o);
    const auto& ov = val(o);
    if (ov.constant || ov.elem_type != tp::FLOAT || to_dims(ov.dims) != yd ||
        val(index_of(add.output(0))).elem_type != tp::FLOAT || val(index_of(add.output(0))).dims != ov.dims)
      return std::nullopt;
    const auto& rv = val(root);
    if (val(index_of(add.output(0))).output) return std::nullopt;  // its plain copy would follow the operand's producer
    if (rv.input || rv.constant || rv.virtual_ || rv.producer < 0 || rv.md.get_size() == 0) return std::nullopt;
    // every tensor in the operand's buffer, and every node that reads one of them
    std::vector<std::string> group;
    for (std::size_t i = 0; i < p_.values.size(); ++i)
      if (p_.root(static_cast<int>(i)) == root) group.push_back(p_.values[i].name);
    const auto ancestors = ancestors_of(conv_v);
    if (!ancestors[static_cast<std::size_t>(rv.producer)]) return std::nullopt;  // the operand must be written first
    for (std::size_t g = 0; g < group.size(); ++g) {
      if (val(index_of(group[g])).output) return std::nullopt;
      auto it = readers_.find(group[g]);
      if (it == readers_.end()) continue;
      for (std::size_t reader : it->second) {
        if (reader == *r) continue;
        if (!ancestors[reader]) return std::nullopt;
        // a view's output shares the buffer: its readers count too
        const auto& rn = *node_of_[reader];
        if (is_view_op(rn))
          for (const auto& out : rn.output())
            if (!out.empty() && std::find(group.begin(), group.end(), out) == group.end()) group.push_back(out);
      }
    }
    residual res{*r, o, std::nullopt, std::nullopt};
    if (auto a = only_reader(add.output(0)); a && node_of_[*a]->input(0) == add.output(0) &&
                                             val(index_of(node_of_[*a]->output(0))).elem_type == tp::FLOAT &&
                                             !val(index_of(node_of_[*a]->output(0))).output)
      if (auto e = eltwise_of(*node_of_[*a])) {
        res.act = *a;
        res.act_op = e;
      }
    return res;
  }
  /// Vertices from which v is reachable.
  std::vector<bool> ancestors_of(std::size_t v) const {
    std::vector<bool> seen(num_vertices(m_.g), false);
    std::vector<std::size_t> stack{v};
    while (!stack.empty()) {
      const std::size_t u = stack.back();
      stack.pop_back();
      for (auto e : boost::make_iterator_range(in_edges(u, m_.g))) {
        const std::size_t s = source(e, m_.g);
        if (!seen[s]) {
          seen[s] = true;
          stack.push_back(s);
        }
      }
    }
    return seen;
  }
  static bool is_view_op(const ::onnx::NodeProto& n) {
    const std::string& op = n.op_type();
    return op == "Flatten" || op == "Reshape" || op == "Squeeze" || op == "Unsqueeze" || op == "Identity" ||
           op == "Dropout";
  }


  /// ONNX pads -> (left, right) for dnnl, right recomputed from the output size.
  struct window {
    memory::dims strides, kernel, dilation, pad_l, pad_r;
  };
  window make_window(const ::onnx::NodeProto& n, onnx::attribute_reader& r, const std::vector<std::int64_t>& in,
                     const std::vector<std::int64_t>& out, const std::vector<std::int64_t>& kernel,
                     bool dilation_attr) {
    const std::size_t sp = in.size() - 2;
    window w;
    auto strides = r.get_ints("strides", std::vector<std::int64_t>(sp, 1));
    auto dil = dilation_attr ? r.get_ints("dilations", std::vector<std::int64_t>(sp, 1)) : std::vector<std::int64_t>(sp, 1);
    auto pads = r.get_ints("pads", std::vector<std::int64_t>(2 * sp, 0));
    const std::string auto_pad = r.get_string("auto_pad", "NOTSET");
    if (strides.size() != sp || dil.size() != sp || pads.size() != 2 * sp || kernel.size() != sp)
      refuse(n, "strides, dilations, pads or kernel_shape have the wrong length");
    for (std::size_t i = 0; i < sp; ++i) {
      const std::int64_t eff = (kernel[i] - 1) * dil[i] + 1;
      std::int64_t pl = pads[i];
      if (auto_pad == "VALID") pl = 0;
      else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
        const std::int64_t total = std::max<std::int64_t>(0, (out[2 + i] - 1) * strides[i] + eff - in[2 + i]);
        pl = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      } else if (auto_pad != "NOTSET") refuse(n, "auto_pad '" + auto_pad + "' is not supported");
      const std::int64_t pr = (out[2 + i] - 1) * strides[i] + eff - in[2 + i] - pl;
      w.strides.push_back(strides[i]);
      w.kernel.push_back(kernel[i]);
      w.dilation.push_back(dil[i] - 1);
      w.pad_l.push_back(pl);
      w.pad_r.push_back(pr);
    }
    return w;
  }

  /// The pads of a Pad folded into vertex v (pad_into_reader), empty when
  /// none; `x` becomes the Pad's input.
  std::vector<std::int64_t> take_fused_pad(std::size_t v, int& x, kernel& k) {
    auto it = fused_pad_.find(v);
    if (it == fused_pad_.end()) return {};
    x = it->second.first;
    k.what = "Pad+" + k.what;
    return it->second.second;
  }
  /// make_window on the input as the node sees it, with a folded Pad's
  /// zeros (`extra`: spatial begins, then ends) added to its padding.
  window make_padded_window(const ::onnx::NodeProto& n, onnx::attribute_reader& r, const std::vector<std::int64_t>& in,
                            const std::vector<std::int64_t>& out, const std::vector<std::int64_t>& kernel,
                            bool dilation_attr, const std::vector<std::int64_t>& extra) {
    const std::size_t sp = in.size() - 2;
    std::vector<std::int64_t> padded = in;
    if (!extra.empty())
      for (std::size_t i = 0; i < sp; ++i) padded[2 + i] += extra[i] + extra[sp + i];
    window w = make_window(n, r, padded, out, kernel, dilation_attr);
    if (!extra.empty())
      for (std::size_t i = 0; i < sp; ++i) {
        w.pad_l[i] += extra[i];
        w.pad_r[i] += extra[sp + i];
      }
    return w;
  }

  void conv(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
    onnx::attribute_reader r(n);
    int x = index_of(n.input(0));
    const int y = index_of(n.output(0));
    const std::vector<std::int64_t> extra = take_fused_pad(v, x, k);  // a Pad folded into this Conv
    const auto& xd = dims_of(n, x);
    const auto& yd = dims_of(n, y);
    if (xd.size() < 3 || xd.size() > 5) refuse(n, "only 1-D, 2-D and 3-D convolutions are supported");
    if (n.input_size() < 2 || !is_const(n.input(1))) refuse(n, "the weights must be a constant");
    const auto& wt = const_value(index_of(n.input(1)));
    if (wt.elem_type != tp::FLOAT) refuse(n, "the weights must be float32");
    const std::int64_t group = r.get_int("group", 1);
    std::vector<std::int64_t> wd = wt.dims;
    const std::vector<std::int64_t> kernel(wd.begin() + 2, wd.end());
    if (auto ks = r.find_ints("kernel_shape"); ks && *ks != kernel) refuse(n, "kernel_shape disagrees with the weights");
    const window w = make_padded_window(n, r, xd, yd, kernel, true, extra);
    r.require_all_read();
    const std::int64_t oc = wd[0];
    if (group < 1 || oc % group != 0 || xd[1] != wd[1] * group) refuse(n, "group does not fit the channels");
    std::vector<float> weights = wt.values<float>();
    std::vector<float> bias(static_cast<std::size_t>(oc), 0.f);
    const bool has_bias = n.input_size() > 2 && !n.input(2).empty();
    if (has_bias) {
      if (!is_const(n.input(2))) refuse(n, "the bias must be a constant");
      bias = const_floats(n, n.input(2));
    }
    chain c = follow(n.output(0), true);
    if (c.bn) {  // y = (conv - mean) * gamma / sqrt(var + eps) + beta, folded per output channel
      const auto& bn = *node_of_[*c.bn];
      onnx::attribute_reader br(bn);
      const double eps = br.get_float("epsilon", 1e-5);
      const auto gamma = const_floats(bn, bn.input(1)), beta = const_floats(bn, bn.input(2)),
                 mean = const_floats(bn, bn.input(3)), var = const_floats(bn, bn.input(4));
      const std::size_t per = weights.size() / static_cast<std::size_t>(oc);
      for (std::size_t o = 0; o < static_cast<std::size_t>(oc); ++o) {
        const double s = gamma[o] / std::sqrt(static_cast<double>(var[o]) + eps);
        for (std::size_t i = 0; i < per; ++i) weights[o * per + i] = static_cast<float>(weights[o * per + i] * s);
        bias[o] = static_cast<float>((bias[o] - mean[o]) * s + beta[o]);
      }
    }
    std::optional<residual> res = follow_residual(v, c.last, to_dims(yd));
    if (res && p_.root(x) == p_.root(res->operand)) res.reset();  // it would write the buffer it reads (a fused Pad)
    if (res && res->act_op && uses_algorithm(c.ops, *res->act_op)) {  // one algorithm twice: see follow
      res->act.reset();
      res->act_op.reset();
    }
    const auto f32 = memory::data_type::f32;
    const std::size_t sp = xd.size() - 2;
    memory::dims wdims;
    memory::format_tag wtag;
    using ft = memory::format_tag;
    if (group == 1) {
      wdims = to_dims(wd);
      wtag = sp == 1 ? ft::oiw : sp == 2 ? ft::oihw : ft::oidhw;
    } else {
      wdims = {group, oc / group, wd[1]};
      wdims.insert(wdims.end(), wd.begin() + 2, wd.end());
      wtag = sp == 1 ? ft::goiw : sp == 2 ? ft::goihw : ft::goidhw;
    }
    const memory::desc w_plain(wdims, f32, wtag);
    const memory::desc w_any(wdims, f32, ft::any), b_md({oc}, f32, ft::a);
    const memory::desc src_any = o_.blocked ? memory::desc(to_dims(xd), f32, ft::any) : plain_md(xd);
    const memory::desc dst_any = o_.blocked ? memory::desc(to_dims(yd), f32, ft::any) : plain_md(yd);
    auto make_pd = [&](bool with_residual) {
      dnnl::primitive_attr attr = scratch_attr();
      dnnl::post_ops po;
      c.append_to(po);
      if (with_residual) {
        po.append_sum(1.f);
        if (res->act_op) res->act_op->append_to(po);
      }
      attr.set_post_ops(po);
      return dnnl::convolution_forward::primitive_desc(
          {dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src_any, w_any, b_md,
           with_residual ? val(p_.root(res->operand)).md : dst_any, w.strides, w.dilation, w.pad_l, w.pad_r},
          attr, p_.engine);
    };
    std::optional<dnnl::convolution_forward::primitive_desc> pd_or;
    if (res) {
      try {
        pd_or.emplace(make_pd(true));
      } catch (const dnnl::error&) {  // no implementation writes the operand's layout: an Add of its own
        res.reset();
      }
    }
    if (!pd_or && !c.ops.empty()) {
      try {
        pd_or.emplace(make_pd(false));
      } catch (const dnnl::error&) {  // no implementation takes these post-ops: they run as nodes of their own
        c.fused.clear();
        c.ops.clear();
        c.names.clear();
      }
    }
    if (!pd_or) pd_or.emplace(make_pd(false));
    const auto& pd = *pd_or;
    const auto wdesc = pd.weights_desc();
    const std::size_t wi = make_weight(weights, w_plain, &wdesc);
    const std::size_t bi = make_weight(bias, b_md);
    read_by_[v].push_back(index_of(n.input(1)));
    if (c.bn) k.what += "+BatchNormalization";
    k.what += c.names;
    if (res) k.what += "+Add" + (res->act ? "+" + node_of_[*res->act]->op_type() : std::string());
    add_primitive(k, dnnl::convolution_forward(pd), pd,
                  {want(k, v, DNNL_ARG_SRC, x, pd.src_desc()), {DNNL_ARG_WEIGHTS, ref_kind::weight, wi, wdesc},
                   {DNNL_ARG_BIAS, ref_kind::weight, bi, b_md}, produce(DNNL_ARG_DST, y, pd.dst_desc())});
    if (res) {  // the Conv writes into the operand's buffer, which the Add and its consumer share
      const int root = p_.root(res->operand);
      read_by_[v].push_back(res->operand);
      val(y).alias_of = root;
      for (auto node : {std::optional<std::size_t>(res->add), res->act})
        if (node) {
          p_.kernels[*node].fused = true;
          p_.kernels[*node].what = node_of_[*node]->op_type() + " (fused)";
          const int out = index_of(node_of_[*node]->output(0));
          val(out).alias_of = root;
          val(out).md = val(root).md;
        }
    }
    absorb(c, y);
  }

  // ------------------------------------------------------------ pooling

  /// A constant zero Pad of the spatial axes whose only reader is an
  /// AveragePool (counted in its average, as the padded zeros are) or a Conv
  /// (its data input): folded into the reader's padding. The Pad runs nothing.
  bool pad_into_reader(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
    if (!o_.fuse) return false;
    const auto r = only_reader(n.output(0));
    if (!r) return false;
    const std::string& rop = node_of_[*r]->op_type();
    const bool to_conv = rop == "Conv" && node_of_[*r]->input(0) == n.output(0);
    if (rop != "AveragePool" && !to_conv) return false;
    onnx::attribute_reader a(n);
    std::vector<const onnx::tensor*> ins;
    for (const auto& i : n.input()) ins.push_back(!i.empty() && is_const(i) ? &const_value(index_of(i)) : nullptr);
    const auto in = onnx::node_inputs::of(n, [&](std::size_t i) { return ins[i]; });
    const auto pa = onnx::read_pad(n, a, opset_, in);
    if (!a.all_read() || pa.mode != "constant" || !pa.pads.known() || !pa.value.known() || *pa.value.value != 0)
      return false;
    const int x = index_of(n.input(0));
    const auto& xd = dims_of(n, x);
    const auto pads = onnx::full_pads(n, pa, static_cast<std::int64_t>(xd.size()));
    const std::size_t rank = xd.size();
    if (rank < 3 || pads[0] || pads[1] || pads[rank] || pads[rank + 1]) return false;
    for (auto p : pads)
      if (p < 0) return false;
    // the pool must not pad on its own unless it counts its padding too; a
    // Conv's own padding is zeros as well. auto_pad would depend on the padded size.
    onnx::attribute_reader pr(*node_of_[*r]);
    const auto own = pr.get_ints("pads", {});
    const bool own_pads = std::any_of(own.begin(), own.end(), [](auto p) { return p != 0; });
    if ((!to_conv && own_pads && pr.get_int("count_include_pad", 0) == 0) || pr.get_string("auto_pad", "NOTSET") != "NOTSET")
      return false;
    std::vector<std::int64_t> sp;  // spatial begins, then ends
    for (std::size_t i = 2; i < rank; ++i) sp.push_back(pads[i]);
    for (std::size_t i = 2; i < rank; ++i) sp.push_back(pads[rank + i]);
    fused_pad_[*r] = {x, sp};
    k.fused = true;
    k.what = "Pad (folded into the " + rop + ")";
    val(index_of(n.output(0))).virtual_ = true;
    (void)v;
    return true;
  }

  void pool(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
    onnx::attribute_reader r(n);
    const std::string& op = n.op_type();
    int x = index_of(n.input(0));
    const int y = index_of(n.output(0));
    const std::vector<std::int64_t> extra = take_fused_pad(v, x, k);
    const auto& xd = dims_of(n, x);
    const auto& yd = dims_of(n, y);
    if (xd.size() < 3 || xd.size() > 5) refuse(n, "only 1-D, 2-D and 3-D pooling is supported");
    if (n.output_size() > 1 && !n.output(1).empty()) refuse(n, "the Indices output is not supported");
    const std::size_t sp = xd.size() - 2;
    const bool global = op.rfind("Global", 0) == 0;
    const bool is_max = op == "MaxPool" || op == "GlobalMaxPool";
    window w;
    if (global) {
      w.kernel.assign(xd.begin() + 2, xd.end());
      w.strides.assign(sp, 1);
      w.dilation.assign(sp, 0);
      w.pad_l.assign(sp, 0);
      w.pad_r.assign(sp, 0);
    } else {
      const auto kernel = r.get_ints("kernel_shape");
      r.get_int("ceil_mode", 0);  // the output shape (from shape inference) already says
      if (is_max && r.get_int("storage_order", 0) != 0) refuse(n, "storage_order 1 is not supported");
      w = make_padded_window(n, r, xd, yd, kernel, is_max, extra);
    }
    const bool include = !is_max && (r.get_int("count_include_pad", 0) != 0 || !extra.empty());
    r.require_all_read();
    const auto alg = is_max ? dnnl::algorithm::pooling_max
                            : include ? dnnl::algorithm::pooling_avg_include_padding
                                      : dnnl::algorithm::pooling_avg_exclude_padding;
    const auto src = as_is(v, DNNL_ARG_SRC, x);
    const memory::desc dst_any(to_dims(yd), memory::data_type::f32,
                               o_.blocked ? memory::format_tag::any : plain_tag(yd.size()));
    dnnl::pooling_v2_forward::primitive_desc pd({dnnl::prop_kind::forward_inference, alg, src.md, dst_any, w.strides,
                                                 w.kernel, w.dilation, w.pad_l, w.pad_r},
                                                scratch_attr(), p_.engine);
    if (!global && pool_by_loops(n, k, x, y, src, pd.dst_desc(), w, is_max, include)) return;
    add_primitive(k, dnnl::pooling_v2_forward(pd), pd, {src, produce(DNNL_ARG_DST, y, pd.dst_desc())});
  }

  /// 2-D pooling of a batch-1 tensor in the 8-channel-blocked layout as
  /// vector loops on the node's OpenMP threads (pool_loops.hpp says why).
  bool pool_by_loops(const ::onnx::NodeProto& n, kernel& k, int x, int y, const arg_ref& src, const memory::desc& dst,
                     const window& w, bool is_max, bool include) {
    const auto& xd = val(x).dims;
    const auto& yd = val(y).dims;
    using ft = memory::format_tag;
    if (xd.size() != 4 || xd[0] != 1 || xd[1] % 8 != 0 || src.kind != ref_kind::value) return false;
    if (src.md != memory::desc(to_dims(xd), memory::data_type::f32, ft::aBcd8b) ||
        dst != memory::desc(to_dims(yd), memory::data_type::f32, ft::aBcd8b))
      return false;
    if (w.dilation[0] != 0 || w.dilation[1] != 0) return false;
    const pool_geometry g{xd[1] / 8, xd[2], xd[3], yd[2], yd[3], w.kernel[0], w.kernel[1],
                          w.strides[0], w.strides[1], w.pad_l[0], w.pad_l[1]};
    produce(DNNL_ARG_DST, y, dst);
    program* prog = &p_;
    step s;
    s.fn = [prog, g, x, y, is_max, include] {
      pool_blocked8(g, reinterpret_cast<const float*>(prog->data(x)),
                    reinterpret_cast<float*>(prog->data(y)), is_max, include);
    };
    k.steps.push_back(std::move(s));
    k.what += " (loops)";
    (void)n;
    return true;
  }

  // ------------------------------------------------------------ the rest of oneDNN

  void concat(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
    onnx::attribute_reader r(n);
    const int y = index_of(n.output(0));
    const auto& yd = dims_of(n, y);
    const auto axis = onnx::normalize_axis(n, r.need_int("axis"), static_cast<std::int64_t>(yd.size()));
    r.require_all_read();
    std::vector<arg_ref> args;
    std::vector<memory::desc> mds;
    for (int i = 0; i < n.input_size(); ++i) {
      const int x = index_of(n.input(i));
      dims_of(n, x);
      if (val(x).constant) args.push_back(want(k, v, DNNL_ARG_MULTIPLE_SRC + i, x, val(x).md));
      else args.push_back(as_is(v, DNNL_ARG_MULTIPLE_SRC + i, x));
      mds.push_back(args.back().md);
    }
    std::optional<dnnl::concat::primitive_desc> pd;
    if (!o_.blocked) pd.emplace(plain_md(yd), static_cast<int>(axis), mds, p_.engine, scratch_attr());
    else pd.emplace(static_cast<int>(axis), mds, p_.engine, scratch_attr());
    if (concat_by_copies(v, n, k, axis, args, pd->dst_desc())) return;
    args.push_back(produce(DNNL_ARG_DST, y, pd->dst_desc()));
    add_primitive(k, dnnl::concat(*pd), *pd, std::move(args));
  }

  /// A Concat whose inputs are consecutive byte ranges of its output: batch
  /// 1, and every input in the output's layout (plain, or channel-blocked
  /// along the channel axis with whole blocks). It is then one memcpy per
  /// input, where oneDNN's generic concat of blocked tensors ("simple:any")
  /// copied element by element (measured up to several ms per GoogLeNet Concat).
  bool concat_by_copies(std::size_t v, const ::onnx::NodeProto& n, kernel& k, std::int64_t axis,
                        const std::vector<arg_ref>& args, const memory::desc& dst) {
    const int y = index_of(n.output(0));
    const auto& yd = val(y).dims;
    for (std::int64_t i = 0; i < axis; ++i)
      if (yd[static_cast<std::size_t>(i)] != 1) return false;
    using ft = memory::format_tag;
    const std::size_t rank = yd.size();
    std::vector<std::pair<ft, std::int64_t>> tags{{plain_tag(rank), 1}};  // (layout, channel block)
    if (rank == 4 && axis == 1) tags.insert(tags.end(), {{ft::aBcd8b, 8}, {ft::aBcd16b, 16}});
    if (rank == 5 && axis == 1) tags.insert(tags.end(), {{ft::aBcde8b, 8}, {ft::aBcde16b, 16}});
    for (auto [tag, block] : tags) {
      if (dst != memory::desc(to_dims(yd), memory::data_type::f32, tag)) continue;
      bool fits = true;
      for (const auto& a : args) {
        const auto& xv = val(static_cast<int>(a.index));
        if (a.kind != ref_kind::value || (block > 1 && xv.dims[1] % block != 0) ||
            a.md != memory::desc(to_dims(xv.dims), memory::data_type::f32, tag))
          fits = false;
      }
      if (!fits) continue;
      std::vector<std::pair<int, std::size_t>> parts;  // (value, bytes)
      std::size_t total = 0;
      for (const auto& a : args) {
        parts.emplace_back(static_cast<int>(a.index), a.md.get_size());
        total += a.md.get_size();
      }
      if (total != dst.get_size()) return false;
      produce(DNNL_ARG_DST, y, dst);
      program* prog = &p_;
      step s;
      s.fn = [prog, parts, y, total] {
        std::byte* out = prog->data(y);
        // bytes [lo, hi) of the output, from the parts that hold them; a part
        // written in place has its source at its destination: no copy
        auto copy_range = [&](std::size_t lo, std::size_t hi) {
          std::size_t at = 0;
          for (const auto& [x, bytes] : parts) {
            const std::size_t b = std::max(lo, at), e = std::min(hi, at + bytes);
            if (const std::byte* in = prog->data(x); b < e && in != out + at) copy_bytes(out + b, in + (b - at), e - b);
            at += bytes;
          }
        };
        // shared among the node's OpenMP threads, at least 64 KiB each
        // (DenseNet's Concats copy every earlier feature map of the block)
        for_each_share(total, total >> 16, copy_range);
      };
      concat_parts_.push_back({v, y, k.steps.size(), std::move(parts)});
      k.steps.push_back(std::move(s));
      k.what += " (copies)";
      return true;
    }
    return false;
  }

  /// Concat inputs written in place: a Concat done by copies (its inputs
  /// are consecutive byte ranges of its output) lets the producer of an
  /// input write straight into its range of the output when nothing else
  /// reads that input's buffer and it is no graph input, output or
  /// constant. The input's buffer becomes a slice of the output's
  /// (`alias_offset`), the copy finds source and destination equal and
  /// skips it, and a Concat with every input in place runs nothing. GoogLeNet
  /// and Inception-v3: every branch of every block (their Concats took 0.5
  /// and 1.0 ms of a run on one thread, more on two). A nested Concat whose
  /// output is itself in place makes a chain of slices (`program::data`).
  /// Runs once the readers are known; the buffer plan then sees every
  /// producer of a slice as a writer of the output's buffer.
  void place_concat_inputs() {
    for (auto& c : concat_parts_) {
      std::size_t offset = 0, placed = 0;
      for (std::size_t i = 0; i < c.parts.size(); ++i) {
        const auto [x, bytes] = c.parts[i];
        const std::size_t at = offset;
        offset += bytes;
        const int r = p_.root(x);
        auto& rv = val(r);
        if (r == p_.root(c.output) || rv.input || rv.output || rv.constant || rv.virtual_ || rv.producer < 0 ||
            rv.md != val(x).md || rv.md.get_size() != bytes || rv.readers != std::vector<std::size_t>{c.vertex})
          continue;
        bool alone = true;  // the same tensor twice, or a graph output in its buffer
        for (std::size_t j = 0; j < c.parts.size(); ++j)
          if (j != i && p_.root(c.parts[j].first) == r) alone = false;
        for (std::size_t j = 0; j < p_.values.size(); ++j)
          if (p_.values[j].output && p_.root(static_cast<int>(j)) == r) alone = false;
        if (!alone) continue;
        rv.alias_of = c.output;
        rv.alias_offset = at;
        rv.readers.clear();  // only the Concat read it, and that is the output's producer
        ++placed;
      }
      auto& k = p_.kernels[c.vertex];
      if (placed == c.parts.size()) {
        k.steps.erase(k.steps.begin() + static_cast<std::ptrdiff_t>(c.step));
        k.what = "Concat (in place)";
      } else if (placed > 0) {
        k.what = "Concat (copies, " + std::to_string(placed) + " of " + std::to_string(c.parts.size()) + " in place)";
      }
    }
  }

  void gemm(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
    onnx::attribute_reader r(n);
    const float alpha = static_cast<float>(r.get_float("alpha", 1.0)), beta = static_cast<float>(r.get_float("beta", 1.0));
    const bool ta = r.get_int("transA", 0) != 0, tb = r.get_int("transB", 0) != 0;
    r.ignore("broadcast");  // opset < 7: C is broadcast either way here
    r.require_all_read();
    const int a = index_of(n.input(0)), y = index_of(n.output(0));
    const auto& ad = dims_of(n, a);
    const auto& yd = dims_of(n, y);
    if (ta) refuse(n, "transA = 1 is not supported");
    if (!is_const(n.input(1))) refuse(n, "B must be a constant");
    const auto& bt = const_value(index_of(n.input(1)));
    const std::int64_t K = ad[1], N = yd[1];
    if (bt.dims.size() != 2) refuse(n, "B must be 2-D");
    // inner product weights are [N, K]
    std::vector<float> w(static_cast<std::size_t>(N * K));
    const auto& b = bt.values<float>();
    for (std::int64_t i = 0; i < N; ++i)
      for (std::int64_t j = 0; j < K; ++j)
        w[static_cast<std::size_t>(i * K + j)] = alpha * (tb ? b[static_cast<std::size_t>(i * K + j)] : b[static_cast<std::size_t>(j * N + i)]);
    std::vector<float> bias(static_cast<std::size_t>(N), 0.f);
    if (n.input_size() > 2 && !n.input(2).empty()) {
      if (!is_const(n.input(2))) refuse(n, "C must be a constant");
      const auto& ct = const_value(index_of(n.input(2)));
      const auto c = ct.values<float>();
      if (c.size() == 1) std::fill(bias.begin(), bias.end(), beta * c[0]);
      else if (c.size() == static_cast<std::size_t>(N) && (ct.dims.size() == 1 || ct.dims[0] == 1))
        for (std::size_t i = 0; i < bias.size(); ++i) bias[i] = beta * c[i];
      else refuse(n, "C must broadcast along the rows (shape [N] or [1, N])");
    }
    read_by_[v].push_back(index_of(n.input(1)));
    const auto f32 = memory::data_type::f32;
    const memory::desc w_md({N, K}, f32, memory::format_tag::any), b_md({N}, f32, memory::format_tag::a);
    const auto src_md = plain_md(ad);
    dnnl::inner_product_forward::primitive_desc pd(
        {dnnl::prop_kind::forward_inference, src_md, w_md, b_md, plain_md(yd)}, scratch_attr(), p_.engine);
    const auto wdesc = pd.weights_desc();
    const std::size_t wi = make_weight(w, memory::desc({N, K}, f32, memory::format_tag::ab), &wdesc);
    const std::size_t bi = make_weight(bias, b_md);
    add_primitive(k, dnnl::inner_product_forward(pd), pd,
                  {want(k, v, DNNL_ARG_SRC, a, src_md), {DNNL_ARG_WEIGHTS, ref_kind::weight, wi, wdesc},
                   {DNNL_ARG_BIAS, ref_kind::weight, bi, b_md}, produce(DNNL_ARG_DST, y, pd.dst_desc())});
  }

  void matmul(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
    const int a = index_of(n.input(0)), b = index_of(n.input(1)), y = index_of(n.output(0));
    auto ad = dims_of(n, a), bd = dims_of(n, b);
    const auto& yd = dims_of(n, y);
    if (ad.size() < 2 || bd.size() < 2) refuse(n, "1-D inputs are not supported");
    const std::size_t rank = yd.size();
    ad.insert(ad.begin(), rank - ad.size(), 1);
    bd.insert(bd.begin(), rank - bd.size(), 1);
    const auto am = plain_md(ad), bm = plain_md(bd), ym = plain_md(yd);
    dnnl::matmul::primitive_desc pd({am, bm, ym}, scratch_attr(), p_.engine);
    auto src = want(k, v, DNNL_ARG_SRC, a, plain_md(val(a).dims));
    src.md = am;
    auto wts = want(k, v, DNNL_ARG_WEIGHTS, b, plain_md(val(b).dims));
    wts.md = bm;
    add_primitive(k, dnnl::matmul(pd), pd, {src, wts, produce(DNNL_ARG_DST, y, ym)});
  }

  void batch_norm(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
    if (!bn_foldable(n)) refuse(n, "only inference BatchNormalization with constant statistics is supported");
    onnx::attribute_reader r(n);
    const float eps = static_cast<float>(r.get_float("epsilon", 1e-5));
    const int x = index_of(n.input(0)), y = index_of(n.output(0));
    const auto& xd = dims_of(n, x);
    const std::int64_t C = xd.size() > 1 ? xd[1] : 1;
    auto ss = const_floats(n, n.input(1));
    const auto shift = const_floats(n, n.input(2));
    ss.insert(ss.end(), shift.begin(), shift.end());
    const auto f32 = memory::data_type::f32;
    const memory::desc ss_md({2, C}, f32, memory::format_tag::ab), c_md({C}, f32, memory::format_tag::a);
    const auto src = as_is(v, DNNL_ARG_SRC, x);
    auto flags = dnnl::normalization_flags::use_global_stats | dnnl::normalization_flags::use_scale_shift;
    chain c;
    if (o_.fuse)
      if (auto rd = only_reader(n.output(0)); rd && node_of_[*rd]->op_type() == "Relu" && node_of_[*rd]->attribute_size() == 0) {
        c.fused.push_back(*rd);
        flags = flags | dnnl::normalization_flags::fuse_norm_relu;
        k.what += "+Relu";
      }
    dnnl::batch_normalization_forward::primitive_desc pd({dnnl::prop_kind::forward_inference, src.md, eps, flags},
                                                         scratch_attr(), p_.engine);
    for (int i = 1; i < 5; ++i) read_by_[v].push_back(index_of(n.input(i)));
    const std::size_t si = make_weight(ss, ss_md), mi = make_weight(const_floats(n, n.input(3)), c_md),
                      vi = make_weight(const_floats(n, n.input(4)), c_md);
    add_primitive(k, dnnl::batch_normalization_forward(pd), pd,
                  {src, {DNNL_ARG_SCALE_SHIFT, ref_kind::weight, si, ss_md}, {DNNL_ARG_MEAN, ref_kind::weight, mi, c_md},
                   {DNNL_ARG_VARIANCE, ref_kind::weight, vi, c_md}, produce(DNNL_ARG_DST, y, pd.dst_desc())});
    absorb(c, y);
  }

  void lrn(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
    onnx::attribute_reader r(n);
    const auto size = r.need_int("size");
    const float alpha = static_cast<float>(r.get_float("alpha", 1e-4)), beta = static_cast<float>(r.get_float("beta", 0.75)),
                bias = static_cast<float>(r.get_float("bias", 1.0));
    r.require_all_read();
    const int x = index_of(n.input(0)), y = index_of(n.output(0));
    dims_of(n, x);
    const auto src = as_is(v, DNNL_ARG_SRC, x);
    dnnl::lrn_forward::primitive_desc pd(
        {dnnl::prop_kind::forward_inference, dnnl::algorithm::lrn_across_channels, src.md, size, alpha, beta, bias},
        scratch_attr(), p_.engine);
    add_primitive(k, dnnl::lrn_forward(pd), pd, {src, produce(DNNL_ARG_DST, y, pd.dst_desc())});
  }

  void softmax(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
    onnx::attribute_reader r(n);
    const auto s = onnx::read_softmax(n, r, opset_);
    r.require_all_read();
    const int x = index_of(n.input(0)), y = index_of(n.output(0));
    const auto& xd = dims_of(n, x);
    const auto rank = static_cast<std::int64_t>(xd.size());
    const std::int64_t axis = onnx::normalize_axis(n, s.axis, std::max<std::int64_t>(rank, 1));
    std::vector<std::int64_t> dims = xd;
    int dnnl_axis = static_cast<int>(axis);
    if (s.coerce_2d) {
      std::int64_t outer = 1, inner = 1;
      for (std::int64_t i = 0; i < rank; ++i) (i < axis ? outer : inner) *= xd[static_cast<std::size_t>(i)];
      dims = {outer, inner};
      dnnl_axis = 1;
    }
    const auto md = plain_md(dims);
    auto src = want(k, v, DNNL_ARG_SRC, x, plain_md(xd));
    src.md = md;
    auto dst = produce(DNNL_ARG_DST, y, plain_md(xd));
    dst.md = md;
    if (n.op_type() == "Softmax") {
      dnnl::softmax_forward::primitive_desc pd({dnnl::prop_kind::forward_inference, md, dnnl_axis}, scratch_attr(), p_.engine);
      add_primitive(k, dnnl::softmax_forward(pd), pd, {src, dst});
    } else {
      dnnl::logsoftmax_forward::primitive_desc pd({dnnl::prop_kind::forward_inference, md, dnnl_axis}, scratch_attr(),
                                                  p_.engine);
      add_primitive(k, dnnl::logsoftmax_forward(pd), pd, {src, dst});
    }
  }

  void binary(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
    onnx::attribute_reader r(n);
    if (opset_ < 7 && r.has("broadcast")) refuse(n, "legacy broadcasting (attribute 'broadcast') is not supported");
    r.require_all_read();
    const std::string& op = n.op_type();
    int a = index_of(n.input(0)), b = index_of(n.input(1));
    const int y = index_of(n.output(0));
    const auto& yd = dims_of(n, y);
    dims_of(n, a);
    dims_of(n, b);
    const bool commutative = op == "Add" || op == "Mul" || op == "Max" || op == "Min";
    // oneDNN broadcasts only the second source
    if ((val(a).dims != yd || val(a).constant) && val(b).dims == yd && !val(b).constant) {
      if (!commutative) return fallback(v, n, k);
      std::swap(a, b);
    }
    if (val(a).dims != yd) return fallback(v, n, k);
    using al = dnnl::algorithm;
    const al alg = op == "Add" ? al::binary_add : op == "Sub" ? al::binary_sub : op == "Mul" ? al::binary_mul
                 : op == "Div" ? al::binary_div : op == "Max" ? al::binary_max : al::binary_min;
    auto bd = val(b).dims;
    bd.insert(bd.begin(), yd.size() - bd.size(), 1);
    auto src0 = val(a).constant ? want(k, v, DNNL_ARG_SRC_0, a, val(a).md) : as_is(v, DNNL_ARG_SRC_0, a);
    arg_ref src1;
    const auto blocked_tag = tag_of(src0.md);  // nullopt for a plain layout
    // a second source of lower rank (a [C] bias on [N, C]) is read in its own
    // dimensions, then seen in the output's rank: a reorder between ranks does not exist
    if (bd == yd && val(b).dims.size() == yd.size()) {
      src1 = want(k, v, DNNL_ARG_SRC_1, b, src0.md);
    } else if (auto pc = per_channel(yd, bd); pc && blocked_tag && (val(b).constant || (bd == *pc && bd == val(b).dims))) {
      // A per-channel or one-element second source on a blocked first one:
      // oneDNN 2.6 runs that broadcast in its JIT only with both sources in
      // the same blocked layout, and a one-element one never (its reference
      // binary took 80 ns an element: 10.7 s a run of ppocr_v4_det, 0.14 s
      // after). So it is read as [1, C, 1, ...] in the first's layout, a
      // constant one-element operand repeated over the channels.
      const memory::desc md(to_dims(*pc), memory::data_type::f32, *blocked_tag);
      if (val(b).constant) {
        std::vector<float> values = const_value(b).values<float>();
        if (values.size() == 1) values.assign(static_cast<std::size_t>((*pc)[1]), values[0]);
        src1 = {DNNL_ARG_SRC_1, ref_kind::weight, make_weight(values, plain_md(*pc), &md), md};
        read_by_[v].push_back(b);
      } else {
        src1 = want(k, v, DNNL_ARG_SRC_1, b, md);  // same rank, so a reorder exists
      }
      k.what += " (per channel, blocked)";
    } else {
      src1 = want(k, v, DNNL_ARG_SRC_1, b, plain_md(val(b).dims));
      src1.md = plain_md(bd);
    }
    std::optional<dnnl::binary::primitive_desc> pd;
    try {
      pd.emplace(dnnl::binary::desc(alg, src0.md, src1.md, src0.md), scratch_attr(), p_.engine);
    } catch (const dnnl::error&) {  // a blocked first source with a broadcast second: in plain layout
      src0 = want(k, v, DNNL_ARG_SRC_0, a, plain_md(yd));
      pd.emplace(dnnl::binary::desc(alg, src0.md, src1.md, src0.md), scratch_attr(), p_.engine);
    }
    add_primitive(k, dnnl::binary(*pd), *pd, {src0, src1, produce(DNNL_ARG_DST, y, pd->dst_desc())});
  }

  /// The dimensions [1, C, 1, ...] of a second source of dimensions `bd`
  /// (padded to the output's rank) that is per channel on `yd` (or one
  /// element, when only a constant can be repeated), or nullopt.
  static std::optional<std::vector<std::int64_t>> per_channel(const std::vector<std::int64_t>& yd,
                                                             const std::vector<std::int64_t>& bd) {
    if (yd.size() < 3 || bd.size() != yd.size()) return std::nullopt;
    for (std::size_t i = 0; i < bd.size(); ++i)
      if (i != 1 && bd[i] != 1) return std::nullopt;
    if (bd[1] != 1 && bd[1] != yd[1]) return std::nullopt;
    auto pc = std::vector<std::int64_t>(yd.size(), 1);
    pc[1] = yd[1];
    return pc;
  }
  /// The channel-blocked format tag `md` has (aBcd8b, aBcd16b, ... for ranks
  /// 3 to 5), or nullopt for any other layout.
  static std::optional<memory::format_tag> tag_of(const memory::desc& md) {
    using ft = memory::format_tag;
    const auto dims = md.dims();
    const std::vector<ft> tags = dims.size() == 3   ? std::vector<ft>{ft::aBc8b, ft::aBc16b, ft::aBc4b}
                                 : dims.size() == 4 ? std::vector<ft>{ft::aBcd8b, ft::aBcd16b, ft::aBcd4b}
                                 : dims.size() == 5 ? std::vector<ft>{ft::aBcde8b, ft::aBcde16b, ft::aBcde4b}
                                                    : std::vector<ft>{};
    for (ft t : tags)
      if (memory::desc(dims, md.data_type(), t) == md) return t;
    return std::nullopt;
  }

  void sum(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
    const int y = index_of(n.output(0));
    const auto& yd = dims_of(n, y);
    std::vector<arg_ref> args;
    std::vector<memory::desc> mds;
    memory::desc first;
    for (int i = 0; i < n.input_size(); ++i) {
      const int x = index_of(n.input(i));
      if (dims_of(n, x) != yd) refuse(n, "inputs of different shapes (broadcasting) are not supported");
      if (i == 0) args.push_back(val(x).constant ? want(k, v, DNNL_ARG_MULTIPLE_SRC, x, val(x).md) : as_is(v, DNNL_ARG_MULTIPLE_SRC, x));
      else args.push_back(want(k, v, DNNL_ARG_MULTIPLE_SRC + i, x, args.front().md));
      mds.push_back(args.back().md);
    }
    if (n.input_size() == 1) return view(v, n, k);
    dnnl::sum::primitive_desc pd(std::vector<float>(mds.size(), 1.f), mds, p_.engine, scratch_attr());
    args.push_back(produce(DNNL_ARG_DST, y, pd.dst_desc()));
    add_primitive(k, dnnl::sum(pd), pd, std::move(args));
  }

  // ------------------------------------------------------------ resampling, deconvolution, normalisation, reductions

  /// The known values of a node's constant inputs, for the argument layer.
  onnx::node_inputs known_inputs(const ::onnx::NodeProto& n) {
    std::vector<const onnx::tensor*> ins;
    for (const auto& i : n.input()) ins.push_back(!i.empty() && is_const(i) ? &const_value(index_of(i)) : nullptr);
    return onnx::node_inputs::of(n, [&](std::size_t i) { return ins[i]; });
  }

  /// Resize as a oneDNN resampling where its formula is ONNX's: nearest with
  /// asymmetric coordinates and floor rounding (or the legacy rule) at whole
  /// upsampling factors (oneDNN takes round((o + 0.5) / F - 0.5), which is
  /// floor(o / F) for a whole F), and linear with half_pixel coordinates
  /// (pytorch_half_pixel where every output size exceeds 1): oneDNN's
  /// (o + 0.5) * in / out - 0.5 with the edges clamped, as ONNX's when the
  /// scale is out / in. Everything else goes to the evaluator.
  void resize(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
    onnx::attribute_reader r(n);
    const auto ra = onnx::read_resize(n, r, opset_, known_inputs(n));
    const int x = index_of(n.input(0)), y = index_of(n.output(0));
    const auto& xd = dims_of(n, x);
    const auto& yd = dims_of(n, y);
    const std::size_t rank = xd.size();
    // scales or sizes computed at run time: the static output shape says
    // what they must be, and a step checks it before each run's resampling
    const bool checked = ra.scales.at_run_time() || ra.sizes.at_run_time();
    bool ok = r.all_read() && rank >= 3 && rank <= 5 && yd.size() == rank && yd[0] == xd[0] && yd[1] == xd[1] &&
              !ra.axes && ra.keep_aspect_ratio_policy == "stretch" && (ra.scales.known() || ra.sizes.known() || checked);
    if (ok && ra.scales.known()) {
      const auto& sc = *ra.scales.value;
      ok = sc.size() == rank;
      for (std::size_t i = 0; ok && i < rank; ++i) ok = sc[i] * static_cast<double>(xd[i]) == static_cast<double>(yd[i]);
    }
    if (ok && ra.sizes.known()) ok = *ra.sizes.value == yd;
    // run-time scales: only whole upsampling factors, where floor(in * scale) = out
    // leaves no other scale that a usual model gives (the step still checks it)
    for (std::size_t i = 0; ok && ra.scales.at_run_time() && i < rank; ++i) ok = xd[i] > 0 && yd[i] % xd[i] == 0;
    dnnl::algorithm alg = dnnl::algorithm::resampling_nearest;
    if (ok && ra.mode == "nearest") {
      // half_pixel at a whole factor F: (o + 0.5) / F - 0.5 is never a tie, and rounds to floor(o / F)
      const auto& ctm = ra.coordinate_transformation_mode;
      const bool round = ra.nearest_mode == "round_prefer_floor" || ra.nearest_mode == "round_prefer_ceil";
      ok = ra.legacy || (ctm == "asymmetric" && ra.nearest_mode == "floor") ||
           ((ctm == "half_pixel" || ctm == "pytorch_half_pixel") && round);
      for (std::size_t i = 2; ok && i < rank; ++i) ok = yd[i] % xd[i] == 0 && (ctm != "pytorch_half_pixel" || yd[i] > 1);
    } else if (ok && ra.mode == "linear" && !ra.legacy) {
      alg = dnnl::algorithm::resampling_linear;
      const auto& ctm = ra.coordinate_transformation_mode;
      ok = ctm == "half_pixel" || ctm == "pytorch_half_pixel";
      for (std::size_t i = 2; ok && i < rank; ++i) ok = ctm == "half_pixel" || yd[i] > 1;
    } else {
      ok = false;
    }
    if (!ok) return fallback(v, n, k);
    for (int i = 1; i < n.input_size(); ++i)
      if (!n.input(i).empty()) read_by_[v].push_back(index_of(n.input(i)));
    if (checked) {
      const bool by_scales = ra.scales.at_run_time();
      const int a = index_of(n.input(by_scales ? ra.scales.input : ra.sizes.input));
      if (val(a).elem_type != (by_scales ? tp::FLOAT : tp::INT64) || onnx::element_count(dims_of(n, a)) != rank)
        return fallback(v, n, k);
      program* prog = &p_;
      const ::onnx::NodeProto* node = &n;
      step st;
      st.fn = [prog, node, a, by_scales, xd, yd] {
        const std::byte* p = prog->data(a);
        for (std::size_t i = 0; i < xd.size(); ++i) {
          const bool same = by_scales ? static_cast<double>(reinterpret_cast<const float*>(p)[i]) * static_cast<double>(xd[i]) ==
                                            static_cast<double>(yd[i])
                                      : reinterpret_cast<const std::int64_t*>(p)[i] == yd[i];
          if (!same)
            throw graph_error("dfgpar: " + onnx::detail::node_where(*node) +
                              ": its scales or sizes at run time disagree with the output shape prepared at load");
        }
      };
      k.steps.push_back(std::move(st));
    }
    const auto src = as_is(v, DNNL_ARG_SRC, x);
    const memory::desc dst_any(to_dims(yd), memory::data_type::f32, o_.blocked ? memory::format_tag::any : plain_tag(rank));
    dnnl::resampling_forward::primitive_desc pd({dnnl::prop_kind::forward_inference, alg, src.md, dst_any},
                                                scratch_attr(), p_.engine);
    add_primitive(k, dnnl::resampling_forward(pd), pd, {src, produce(DNNL_ARG_DST, y, pd.dst_desc())});
  }

  /// ConvTranspose as a oneDNN deconvolution (groups, strides, dilations,
  /// pads, output_padding, output_shape, auto_pad); ONNX's weights
  /// [C_in, C_out / group, k...] are oneDNN's (g)iohw layout; an element-wise
  /// consumer is fused as a post-op.
  void conv_transpose(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
    onnx::attribute_reader r(n);
    const int x = index_of(n.input(0)), y = index_of(n.output(0));
    const auto& xd = dims_of(n, x);
    const auto& yd = dims_of(n, y);
    if (xd.size() < 3 || xd.size() > 5) refuse(n, "only 1-D, 2-D and 3-D transposed convolutions are supported");
    // weights and bias computed at run time are read in their plain layout
    const int wv = index_of(n.input(1));
    const bool const_w = is_const(n.input(1));
    const std::vector<std::int64_t> wd = dims_of(n, wv);
    if (val(wv).elem_type != tp::FLOAT || wd.size() != xd.size()) refuse(n, "the weights must be float32 of the input's rank");
    const std::size_t sp = xd.size() - 2;
    const std::int64_t group = r.get_int("group", 1);
    const std::vector<std::int64_t> kernel(wd.begin() + 2, wd.end());
    if (auto ks = r.find_ints("kernel_shape"); ks && *ks != kernel) refuse(n, "kernel_shape disagrees with the weights");
    const auto strides = r.get_ints("strides", std::vector<std::int64_t>(sp, 1));
    const auto dil = r.get_ints("dilations", std::vector<std::int64_t>(sp, 1));
    const auto pads = r.find_ints("pads");
    const auto out_pad = r.get_ints("output_padding", std::vector<std::int64_t>(sp, 0));
    const bool out_shape = r.find_ints("output_shape").has_value();
    const std::string auto_pad = r.get_string("auto_pad", "NOTSET");
    r.require_all_read();
    if (strides.size() != sp || dil.size() != sp || out_pad.size() != sp || (pads && pads->size() != 2 * sp))
      refuse(n, "strides, dilations, pads or output_padding have the wrong length");
    const std::int64_t oc = wd[1] * group;
    if (group < 1 || xd[1] != wd[0] || wd[0] % group != 0 || yd[1] != oc) refuse(n, "group does not fit the channels");
    memory::dims st, di, pl, pr;
    for (std::size_t i = 0; i < sp; ++i) {
      const std::int64_t eff = (kernel[i] - 1) * dil[i] + 1;
      // what the pads remove: in oneDNN's terms output_padding is less padding at the end
      const std::int64_t total = strides[i] * (xd[2 + i] - 1) + out_pad[i] + eff - yd[2 + i];
      std::int64_t begin = 0;
      if (auto_pad == "SAME_UPPER") begin = total / 2;
      else if (auto_pad == "SAME_LOWER" || (auto_pad == "NOTSET" && out_shape && !pads)) begin = total - total / 2;
      else if (auto_pad == "NOTSET") begin = pads ? (*pads)[i] : 0;
      else if (auto_pad != "VALID") refuse(n, "auto_pad '" + auto_pad + "' is not supported");
      st.push_back(strides[i]);
      di.push_back(dil[i] - 1);
      pl.push_back(begin);
      pr.push_back(total - out_pad[i] - begin);
    }
    std::vector<float> bias(static_cast<std::size_t>(oc), 0.f);
    const bool has_bias = n.input_size() > 2 && !n.input(2).empty();
    const bool const_b = !has_bias || is_const(n.input(2));
    if (has_bias && const_b) {
      bias = const_floats(n, n.input(2));
      read_by_[v].push_back(index_of(n.input(2)));
    }
    const chain c = follow(n.output(0), false, true);
    dnnl::primitive_attr attr = scratch_attr();
    if (!c.ops.empty()) {
      dnnl::post_ops po;
      c.append_to(po);
      attr.set_post_ops(po);
    }
    using ft = memory::format_tag;
    const auto f32 = memory::data_type::f32;
    memory::dims wdims;
    ft wtag;
    if (group == 1) {
      wdims = {oc, wd[0]};
      wtag = sp == 1 ? ft::bac : sp == 2 ? ft::bacd : ft::bacde;
    } else {
      wdims = {group, wd[1], wd[0] / group};
      wtag = sp == 1 ? ft::acbd : sp == 2 ? ft::acbde : ft::acbdef;
    }
    wdims.insert(wdims.end(), kernel.begin(), kernel.end());
    const memory::desc w_plain(wdims, f32, wtag), w_any(wdims, f32, ft::any), b_md({oc}, f32, ft::a);
    const memory::desc src_any = o_.blocked ? memory::desc(to_dims(xd), f32, ft::any) : plain_md(xd);
    const memory::desc dst_any = o_.blocked ? memory::desc(to_dims(yd), f32, ft::any) : plain_md(yd);
    dnnl::deconvolution_forward::primitive_desc pd({dnnl::prop_kind::forward_inference,
                                                    dnnl::algorithm::deconvolution_direct, src_any,
                                                    const_w ? w_any : w_plain, b_md, dst_any, st, di, pl, pr},
                                                   attr, p_.engine);
    const auto wdesc = pd.weights_desc();
    arg_ref wa, ba;
    if (const_w) {
      wa = {DNNL_ARG_WEIGHTS, ref_kind::weight, make_weight(const_value(wv).values<float>(), w_plain, &wdesc), wdesc};
      read_by_[v].push_back(wv);
    } else {
      wa = want(k, v, DNNL_ARG_WEIGHTS, wv, plain_md(wd));
      wa.md = wdesc;
    }
    if (const_b) {
      ba = {DNNL_ARG_BIAS, ref_kind::weight, make_weight(bias, b_md), b_md};
    } else {
      const int bv = index_of(n.input(2));
      if (onnx::element_count(dims_of(n, bv)) != static_cast<std::size_t>(oc)) refuse(n, "the bias must have C_out elements");
      ba = want(k, v, DNNL_ARG_BIAS, bv, plain_md(val(bv).dims));
      ba.md = b_md;
    }
    k.what += c.names;
    add_primitive(k, dnnl::deconvolution_forward(pd), pd,
                  {want(k, v, DNNL_ARG_SRC, x, pd.src_desc()), wa, ba, produce(DNNL_ARG_DST, y, pd.dst_desc())});
    absorb(c, y);
  }

  /// LayerNormalization (output Y only) as oneDNN's layer normalisation of
  /// the input seen as [outer, inner] (inner: the axes from `axis` on), with
  /// the scale and bias (constants or run-time values) as its scale and shift.
  void layer_norm(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
    onnx::attribute_reader r(n);
    const auto axis_attr = r.get_int("axis", -1);
    const float eps = static_cast<float>(r.get_float("epsilon", 1e-5));
    r.get_int("stash_type", 1);  // float32 statistics: oneDNN's
    r.require_all_read();
    const int x = index_of(n.input(0)), y = index_of(n.output(0));
    const auto& xd = dims_of(n, x);
    const auto rank = static_cast<std::int64_t>(xd.size());
    const auto axis = onnx::normalize_axis(n, axis_attr, std::max<std::int64_t>(rank, 1));
    std::int64_t outer = 1, inner = 1;
    for (std::int64_t i = 0; i < rank; ++i) (i < axis ? outer : inner) *= xd[static_cast<std::size_t>(i)];
    const memory::desc md = plain_md({outer, inner}), c_md = plain_md({inner});
    auto src = want(k, v, DNNL_ARG_SRC, x, plain_md(xd));
    src.md = md;
    auto dst = produce(DNNL_ARG_DST, y, plain_md(xd));
    dst.md = md;
    std::vector<arg_ref> args{src, dst};
    auto flags = dnnl::normalization_flags::use_scale;
    for (int i : {1, 2}) {
      if (n.input_size() <= i || n.input(i).empty()) continue;
      const int s = index_of(n.input(i));
      if (onnx::element_count(dims_of(n, s)) != static_cast<std::size_t>(inner))
        return fallback(v, n, k);  // a scale or bias broadcast over the normalised axes
      auto a = want(k, v, i == 1 ? DNNL_ARG_SCALE : DNNL_ARG_SHIFT, s, plain_md(val(s).dims));
      a.md = c_md;
      args.push_back(a);
      if (i == 2) flags = flags | dnnl::normalization_flags::use_shift;
    }
    // the Mean and InvStdDev outputs: oneDNN's training statistics (mean,
    // variance), then 1 / sqrt(variance + epsilon) in plain C++
    auto given = [&](int o) { return n.output_size() > o && !n.output(o).empty(); };
    const bool stats = given(1) || given(2);
    dnnl::layer_normalization_forward::primitive_desc pd(
        {stats ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference, md, eps, flags}, scratch_attr(),
        p_.engine);
    if (!stats) return add_primitive(k, dnnl::layer_normalization_forward(pd), pd, std::move(args));
    const memory::desc s_md = pd.mean_desc();
    if (given(1)) {
      auto mean = produce(DNNL_ARG_MEAN, index_of(n.output(1)), plain_md(dims_of(n, index_of(n.output(1)))));
      mean.md = s_md;
      args.push_back(mean);
    } else {
      p_.temps.push_back({s_md, nullptr});
      args.push_back({DNNL_ARG_MEAN, ref_kind::temp, p_.temps.size() - 1, s_md});
    }
    p_.temps.push_back({s_md, nullptr});
    const std::size_t var = p_.temps.size() - 1;
    args.push_back({DNNL_ARG_VARIANCE, ref_kind::temp, var, s_md});
    add_primitive(k, dnnl::layer_normalization_forward(pd), pd, std::move(args));
    if (!given(2)) return;
    const int inv = index_of(n.output(2));
    produce(0, inv, plain_md(dims_of(n, inv)));
    program* prog = &p_;
    step st;
    st.fn = [prog, var, inv, outer, eps] {
      const auto* v = reinterpret_cast<const float*>(prog->temps[var].ptr);
      auto* o = reinterpret_cast<float*>(prog->data(inv));
      for (std::int64_t i = 0; i < outer; ++i) o[i] = 1.f / std::sqrt(v[i] + eps);
    };
    k.steps.push_back(std::move(st));
  }

  /// Reduce{Mean,Sum,Max,Min,Prod,L1,L2,SumSquare} with known axes as a oneDNN
  /// reduction (the output keeps the reduced axes as 1; without keepdims it
  /// is the same buffer in fewer dimensions). A reduction over no axis, or of
  /// a tensor oneDNN does not take, runs on the evaluator.
  void reduce(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
    onnx::attribute_reader r(n);
    const auto ra = onnx::read_reduce(n, r, opset_, known_inputs(n));
    const std::string& op = n.op_type();
    const int x = index_of(n.input(0)), y = index_of(n.output(0));
    const auto& xd = dims_of(n, x);
    const auto& yd = dims_of(n, y);
    const auto rank = static_cast<std::int64_t>(xd.size());
    if (!r.all_read() || ra.axes.at_run_time() || rank == 0 || onnx::element_count(xd) == 0) return fallback(v, n, k);
    std::vector<std::int64_t> keep = xd;  // the output with the reduced axes kept as 1
    if (!ra.axes.known() || ra.axes.value->empty()) {
      if (ra.noop_with_empty_axes) return fallback(v, n, k);
      std::fill(keep.begin(), keep.end(), 1);
    } else {
      for (auto a : *ra.axes.value) keep[static_cast<std::size_t>(onnx::normalize_axis(n, a, rank))] = 1;
    }
    if (onnx::element_count(keep) != onnx::element_count(yd) || keep == xd) return fallback(v, n, k);
    using al = dnnl::algorithm;
    al alg = al::reduction_sum;
    float p = 0;
    if (op == "ReduceMean") alg = al::reduction_mean;
    else if (op == "ReduceMax") alg = al::reduction_max;
    else if (op == "ReduceMin") alg = al::reduction_min;
    else if (op == "ReduceProd") alg = al::reduction_mul;
    else if (op == "ReduceL1") alg = al::reduction_norm_lp_sum, p = 1;
    else if (op == "ReduceL2") alg = al::reduction_norm_lp_sum, p = 2;
    else if (op == "ReduceSumSquare") alg = al::reduction_norm_lp_power_p_sum, p = 2;
    for (int i = 1; i < n.input_size(); ++i)
      if (!n.input(i).empty()) read_by_[v].push_back(index_of(n.input(i)));
    const auto src = want(k, v, DNNL_ARG_SRC, x, plain_md(xd));
    const auto keep_md = plain_md(keep);
    dnnl::reduction::primitive_desc pd({alg, src.md, keep_md, p, 0.f}, scratch_attr(), p_.engine);
    auto dst = produce(DNNL_ARG_DST, y, plain_md(yd));
    dst.md = keep_md;
    add_primitive(k, dnnl::reduction(pd), pd, {src, dst});
  }

  /// Pad of a float32 tensor with known pads (constant, edge or reflect;
  /// negative pads crop) in plain C++: per axis a table of the input index
  /// each output index copies (-1: the constant), walked row by row.
  void pad(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
    onnx::attribute_reader a(n);
    const auto pa = onnx::read_pad(n, a, opset_, known_inputs(n));
    if (!a.all_read() || !pa.pads.known() || !pa.value.known() || pa.axes.at_run_time() ||
        (pa.mode != "constant" && pa.mode != "edge" && pa.mode != "reflect"))
      return fallback(v, n, k);
    const int x = index_of(n.input(0)), y = index_of(n.output(0));
    const std::vector<std::int64_t> xd = dims_of(n, x), yd = dims_of(n, y);
    const std::size_t rank = xd.size();
    const auto pads = onnx::full_pads(n, pa, static_cast<std::int64_t>(rank));
    if (rank == 0) return fallback(v, n, k);
    std::vector<std::vector<std::int64_t>> from(rank);
    for (std::size_t d = 0; d < rank; ++d) {
      if (yd[d] != xd[d] + pads[d] + pads[rank + d]) refuse(n, "the output shape disagrees with the pads");
      const std::int64_t len = xd[d];
      for (std::int64_t o = 0; o < yd[d]; ++o) {
        std::int64_t i = o - pads[d];
        if (i < 0 || i >= len) {
          if (pa.mode == "constant") i = -1;
          else if (len == 0) return fallback(v, n, k);
          else if (pa.mode == "edge") i = std::clamp<std::int64_t>(i, 0, len - 1);
          else if (len == 1) i = 0;
          else
            while (i < 0 || i >= len) i = i < 0 ? -i : 2 * (len - 1) - i;
        }
        from[d].push_back(i);
      }
    }
    for (int i = 1; i < n.input_size(); ++i)
      if (!n.input(i).empty()) read_by_[v].push_back(index_of(n.input(i)));
    const arg_ref in = want(k, v, 0, x, plain_md(xd));
    produce(0, y, plain_md(yd));
    std::vector<std::int64_t> in_stride(rank, 1);
    for (std::size_t d = rank - 1; d > 0; --d) in_stride[d - 1] = in_stride[d] * xd[d];
    const auto fill = static_cast<float>(*pa.value.value);
    const std::size_t total = onnx::element_count(yd);
    program* prog = &p_;
    step s;
    s.fn = [prog, in, x, y, from, in_stride, fill, total, rank] {
      const auto* src = reinterpret_cast<const float*>(in.kind == ref_kind::temp ? prog->temps[in.index].ptr
                                                                                  : prog->data(x));
      auto* dst = reinterpret_cast<float*>(prog->data(y));
      std::vector<std::size_t> idx(rank, 0);
      const auto& last = from[rank - 1];
      for (std::size_t o = 0; o < total; o += last.size()) {
        // the offset of the row's outer indices, or -1 when one of them is padding
        std::int64_t base = 0;
        for (std::size_t d = 0; d + 1 < rank && base >= 0; ++d) {
          const std::int64_t i = from[d][idx[d]];
          base = i < 0 ? -1 : base + i * in_stride[d];
        }
        for (std::size_t j = 0; j < last.size(); ++j)
          dst[o + j] = base < 0 || last[j] < 0 ? fill : src[base + last[j]];
        for (std::size_t d = rank - 1; d-- > 0;) {  // next row
          if (++idx[d] < from[d].size()) break;
          idx[d] = 0;
        }
      }
    };
    k.steps.push_back(std::move(s));
    k.what += " (plain C++)";
  }

  // ------------------------------------------------------------ views and plain C++

  /// Flatten, Reshape, Squeeze, Unsqueeze, Identity, Dropout: the output is
  /// the input's buffer in other dimensions (a reorder first when the input
  /// is not plain).
  void view(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
    const int x = index_of(n.input(0)), y = index_of(n.output(0));
    dims_of(n, x);
    const auto& yd = dims_of(n, y);
    if (n.op_type() == "Dropout") {  // inference only: a ratio or training mode input changes nothing unless training
      if (n.input_size() > 2 && !n.input(2).empty()) {
        if (!is_const(n.input(2))) refuse(n, "training_mode must be a constant");
        if (const_value(index_of(n.input(2))).as_double(0) != 0) refuse(n, "training mode is not supported");
      }
    }
    auto& xv = val(x);
    const bool f32 = xv.elem_type == tp::FLOAT;
    if (xv.constant || (f32 && !is_plain(xv.md)) || val(x).virtual_) {
      if (!f32) return fallback(v, n, k);
      // a copy (and reorder) into the output's own buffer
      const auto in_plain = plain_md(xv.dims);
      step s;
      s.prim = dnnl::reorder(dnnl::reorder::primitive_desc(p_.engine, xv.md, p_.engine, in_plain));
      read_by_[v].push_back(x);
      produce(DNNL_ARG_TO, y, plain_md(yd));
      if (xv.constant) {
        const auto& t = const_value(x);
        s.args = {{DNNL_ARG_FROM, ref_kind::weight, make_weight(t.values<float>(), xv.md), xv.md},
                  {DNNL_ARG_TO, ref_kind::value, static_cast<std::size_t>(y), in_plain}};
      } else {
        s.args = {{DNNL_ARG_FROM, ref_kind::value, static_cast<std::size_t>(x), xv.md},
                  {DNNL_ARG_TO, ref_kind::value, static_cast<std::size_t>(y), in_plain}};
      }
      s.reorder = !is_plain(xv.md);
      k.steps.push_back(std::move(s));
      k.what += " (copy)";
      return;
    }
    read_by_[v].push_back(x);
    auto& yv = val(y);
    yv.alias_of = x;
    yv.md = f32 ? plain_md(yd) : memory::desc();
    yv.bytes = xv.bytes;
    k.what += " (view)";
  }

  /// Operators whose output shape follows from the value of an input (Resize
  /// scales or sizes, TopK's k, OneHot's depth, Pad's pads, Expand's shape,
  /// Slice's starts, Split's sizes, a reduction's axes): when that input is
  /// computed at run time, the trial on zeros cannot stand for it.
  static bool shape_from_values(const std::string& op) {
    return op == "Resize" || op == "Upsample" || op == "TopK" || op == "OneHot" || op == "Pad" || op == "Expand" ||
           op == "Slice" || op == "Split" || op == "Tile" || op == "Range" || op == "ConstantOfShape" ||
           op.starts_with("Reduce");
  }

  /// The fallback's second trial: the node on ones where its inputs are not
  /// constants. True when the evaluator computed it (`out` set).
  bool retry_on_ones(const ::onnx::NodeProto& n, const std::vector<int>& ins, std::vector<onnx::tensor> trial,
                     const std::vector<const onnx::tensor*>& ptrs, std::optional<std::vector<onnx::tensor>>& out) {
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
  void fallback(std::size_t v, const ::onnx::NodeProto& n, kernel& k) {
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

  /// An If: both branches prepared as programs of their own (control_flow.hpp).
  void if_node(std::size_t v, const ::onnx::NodeProto& n, kernel& k);
  std::unique_ptr<struct branch_program> prepare_branch(
      const ::onnx::NodeProto& n, const ::onnx::GraphProto& body, const std::string& where,
      const std::unordered_map<std::string, std::size_t>& slot,
      std::vector<std::pair<std::int32_t, std::vector<std::int64_t>>>& shapes);

  /// A graph output gets a plain copy when its layout is blocked.
  void finish_output(std::size_t i) {
    const int y = p_.outputs[i];
    auto& yv = val(y);
    if (yv.input || yv.constant) throw graph_error("dfgpar: graph output '" + yv.name + "' is a graph input or a constant");
    if (yv.elem_type != tp::FLOAT || is_plain(yv.md)) {
      p_.output_copy.push_back(y);
      return;
    }
    // the plain copy is a value of its own, written by a reorder at the end of the producer's kernel
    const int r = p_.root(y);
    const auto producer = static_cast<std::size_t>(val(r).producer);
    value copy;
    copy.name = yv.name + " (plain)";
    copy.elem_type = yv.elem_type;
    copy.dims = yv.dims;
    copy.md = plain_md(yv.dims);
    copy.bytes = copy.md.get_size();
    copy.producer = static_cast<long>(producer);
    copy.output = true;
    p_.values.push_back(std::move(copy));
    const int c = static_cast<int>(p_.values.size()) - 1;
    step s;
    s.prim = dnnl::reorder(dnnl::reorder::primitive_desc(p_.engine, val(y).md, p_.engine, val(c).md));
    s.args = {{DNNL_ARG_FROM, ref_kind::value, static_cast<std::size_t>(y), val(y).md},
              {DNNL_ARG_TO, ref_kind::value, static_cast<std::size_t>(c), val(c).md}};
    s.reorder = true;
    p_.kernels[producer].steps.push_back(std::move(s));
    read_by_[producer].push_back(y);
    p_.output_copy.push_back(c);
  }
};

}  // namespace detail

}  // namespace dfgpar::onednn

// builder::if_node, which needs the whole builder (a branch is built by one)
#include <dfgpar/onednn/control_flow.hpp>
