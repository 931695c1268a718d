#pragma once
/// \file kernels.hpp
/// The kernel policy of the native runtime: every ONNX node of a model is
/// prepared once into a `detail::kernel` (see program.hpp).
///
/// * oneDNN primitives for Conv (grouped and depthwise too; 3x3 stride-1
///   ones by Winograd where oneDNN has kernels for them, AVX-512; a following
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
///   (`format_tag::any`; in a model with a Winograd convolution nChw16c
///   wherever the channels fill whole blocks: `choose_conv_layout`,
///   kernels/conv.hpp), and the ops after it keep the layout they are
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
///
/// This file holds the builder: the values, layouts, fusion chains and the
/// dispatch by operator (`prepare`). Each operator family's kernels are
/// builder members defined in a header of their own under kernels/: conv
/// (Conv, ConvTranspose, a Pad folded into its reader), pool, concat,
/// matmul (Gemm, MatMul), normalization (BatchNormalization, LRN, Softmax,
/// LayerNormalization), elementwise (unary, linear chains, Log, Clip,
/// binary, Sum), reduction, movement (Transpose, Slice, Resize, Pad,
/// views) and fallback (the evaluator); If is in control_flow.hpp.

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
  /// Run 3 x 3 stride-1 convolutions with oneDNN's Winograd algorithm where
  /// oneDNN has an implementation for the shape and the fused post-ops (its
  /// AVX-512 kernels; none on AVX2, where they stay direct), and then every
  /// 4-D convolution activation in nChw16c (`choose_conv_layout`). Up to 3.4x
  /// faster than direct per convolution on one thread, 1.2-3.1x on two;
  /// GoogLeNet 27.2 -> 20.1 ms on one thread (bench/README.md, *Winograd*).
  /// Its transforms round more: inception_v3's logits are off by 4.5e-4
  /// against float64 on one thread, 2.2e-4 by direct convolution, where
  /// torchvision's float32 is off by 2.0e-4. false: direct convolution only
  /// (also what oneDNN's own `convolution_auto` chose on every shape tried).
  bool winograd = true;
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
    choose_conv_layout();
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
  /// The layout of 4-D convolution activations whose channels fill whole
  /// blocks; none: each convolution's own choice (choose_conv_layout).
  std::optional<memory::format_tag> conv_tag_;

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

  bool linear_chain(std::size_t v, const ::onnx::NodeProto& n, kernel& k);  // kernels/elementwise.hpp

  bool transpose(std::size_t v, const ::onnx::NodeProto& n, kernel& k);  // kernels/movement.hpp

  void reorder_through(std::size_t v, kernel& k, int x, const std::vector<std::int64_t>& xd, const memory::desc& view,
                       int y, const std::vector<std::int64_t>& yd);  // kernels/movement.hpp

  bool slice(std::size_t v, const ::onnx::NodeProto& n, kernel& k);  // kernels/movement.hpp

  void plain_log(std::size_t v, const ::onnx::NodeProto& n, kernel& k);  // kernels/elementwise.hpp

  void eltwise(std::size_t v, const ::onnx::NodeProto& n, kernel& k, const eltwise_op& e);  // kernels/elementwise.hpp

  void clip_by_binary(std::size_t v, const ::onnx::NodeProto& n, kernel& k);  // kernels/elementwise.hpp

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

  void conv(std::size_t v, const ::onnx::NodeProto& n, kernel& k);  // kernels/conv.hpp
  bool winograd_shape(const ::onnx::NodeProto& n) const;              // kernels/conv.hpp
  void choose_conv_layout();                                           // kernels/conv.hpp

  // ------------------------------------------------------------ pooling

  bool pad_into_reader(std::size_t v, const ::onnx::NodeProto& n, kernel& k);  // kernels/conv.hpp

  void pool(std::size_t v, const ::onnx::NodeProto& n, kernel& k);  // kernels/pool.hpp

  bool pool_by_loops(const ::onnx::NodeProto& n, kernel& k, int x, int y, const arg_ref& src, const memory::desc& dst,
                     const window& w, bool is_max, bool include);  // kernels/pool.hpp

  // ------------------------------------------------------------ the rest of oneDNN

  void concat(std::size_t v, const ::onnx::NodeProto& n, kernel& k);  // kernels/concat.hpp

  bool concat_by_copies(std::size_t v, const ::onnx::NodeProto& n, kernel& k, std::int64_t axis,
                        const std::vector<arg_ref>& args, const memory::desc& dst);  // kernels/concat.hpp

  void place_concat_inputs();  // kernels/concat.hpp

  void gemm(std::size_t v, const ::onnx::NodeProto& n, kernel& k);  // kernels/matmul.hpp

  void matmul(std::size_t v, const ::onnx::NodeProto& n, kernel& k);  // kernels/matmul.hpp

  void batch_norm(std::size_t v, const ::onnx::NodeProto& n, kernel& k);  // kernels/normalization.hpp

  void lrn(std::size_t v, const ::onnx::NodeProto& n, kernel& k);  // kernels/normalization.hpp

  void softmax(std::size_t v, const ::onnx::NodeProto& n, kernel& k);  // kernels/normalization.hpp

  void binary(std::size_t v, const ::onnx::NodeProto& n, kernel& k);  // kernels/elementwise.hpp

  void sum(std::size_t v, const ::onnx::NodeProto& n, kernel& k);  // kernels/elementwise.hpp

  // ------------------------------------------------------------ resampling, deconvolution, normalisation, reductions

  /// The known values of a node's constant inputs, for the argument layer.
  onnx::node_inputs known_inputs(const ::onnx::NodeProto& n) {
    std::vector<const onnx::tensor*> ins;
    for (const auto& i : n.input()) ins.push_back(!i.empty() && is_const(i) ? &const_value(index_of(i)) : nullptr);
    return onnx::node_inputs::of(n, [&](std::size_t i) { return ins[i]; });
  }

  void resize(std::size_t v, const ::onnx::NodeProto& n, kernel& k);  // kernels/movement.hpp

  void conv_transpose(std::size_t v, const ::onnx::NodeProto& n, kernel& k);  // kernels/conv.hpp

  void layer_norm(std::size_t v, const ::onnx::NodeProto& n, kernel& k);  // kernels/normalization.hpp

  void reduce(std::size_t v, const ::onnx::NodeProto& n, kernel& k);  // kernels/reduction.hpp

  void pad(std::size_t v, const ::onnx::NodeProto& n, kernel& k);  // kernels/movement.hpp

  // ------------------------------------------------------------ views and plain C++

  void view(std::size_t v, const ::onnx::NodeProto& n, kernel& k);  // kernels/movement.hpp

  /// Operators whose output shape follows from the value of an input (Resize
  /// scales or sizes, TopK's k, OneHot's depth, Pad's pads, Expand's shape,
  /// Slice's starts, Split's sizes, a reduction's axes): when that input is
  /// computed at run time, the trial on zeros cannot stand for it.
  static bool shape_from_values(const std::string& op) {
    return op == "Resize" || op == "Upsample" || op == "TopK" || op == "OneHot" || op == "Pad" || op == "Expand" ||
           op == "Slice" || op == "Split" || op == "Tile" || op == "Range" || op == "ConstantOfShape" ||
           op.starts_with("Reduce");
  }

  // kernels/fallback.hpp
  bool retry_on_ones(const ::onnx::NodeProto& n, const std::vector<int>& ins, std::vector<onnx::tensor> trial,
                     const std::vector<const onnx::tensor*>& ptrs, std::optional<std::vector<onnx::tensor>>& out);

  void fallback(std::size_t v, const ::onnx::NodeProto& n, kernel& k);  // kernels/fallback.hpp

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

// the kernels of each operator family: builder members defined out of the class
#include <dfgpar/onednn/kernels/conv.hpp>
#include <dfgpar/onednn/kernels/pool.hpp>
#include <dfgpar/onednn/kernels/concat.hpp>
#include <dfgpar/onednn/kernels/matmul.hpp>
#include <dfgpar/onednn/kernels/normalization.hpp>
#include <dfgpar/onednn/kernels/elementwise.hpp>
#include <dfgpar/onednn/kernels/reduction.hpp>
#include <dfgpar/onednn/kernels/movement.hpp>
#include <dfgpar/onednn/kernels/fallback.hpp>

// builder::if_node, which needs the whole builder (a branch is built by one)
#include <dfgpar/onednn/control_flow.hpp>
