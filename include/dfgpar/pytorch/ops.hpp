#pragma once
/// \file ops.hpp
/// ONNX operator -> PyTorch translation: a registry with one function per
/// (default-domain) op type. A translation gets an `op_context` — the Python
/// expressions of the node's inputs, the variable names of its outputs, its
/// attributes, the opset, the known shapes/types and the values of constant
/// inputs — and appends lines of Python that are valid TorchScript.
///
/// Safety rule: a translation either produces code that computes exactly the
/// ONNX semantics or throws `unsupported_op` naming the op and the attribute
/// or input that it cannot handle. Every attribute a node carries must be
/// read (or explicitly ignored) by its translation; the emitter refuses the
/// node otherwise, so a new attribute never silently changes the meaning.
/// \code
///   auto& reg = dfgpar::pytorch::op_registry::standard();
///   if (!reg.supports("Conv")) ...
///   reg.translate(ctx);   // appends ctx.lines or throws unsupported_op
/// \endcode

#include <dfgpar/error.hpp>
#include <dfgpar/onnx/graph.hpp>
#include <dfgpar/onnx/tensor.hpp>
#include <dfgpar/pytorch/names.hpp>

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace dfgpar::pytorch {

/// An operator, or an attribute/input combination of one, that the PyTorch
/// back end cannot translate faithfully.
struct unsupported_op : graph_error {
  using graph_error::graph_error;
};

/// Everything a translation needs to know about one node.
struct op_context {
  const ::onnx::NodeProto* node = nullptr;
  std::int64_t opset = 0;
  std::vector<std::string> inputs;                              ///< Python expressions ("" = missing optional input)
  std::vector<const onnx::tensor_info*> input_info;             ///< per input, may be null
  std::vector<std::shared_ptr<const onnx::tensor>> constants;   ///< per input: value if constant, else null
  std::vector<std::string> outputs;                             ///< variable names ("" = output not produced)
  std::vector<const onnx::tensor_info*> output_info;            ///< per output, may be null
  std::vector<std::string> lines;                               ///< the translation's result
  ///< (a temporary a translation needs is named after an output plus a part
  ///< with "__", which no identifier_table name contains, so it cannot collide)
  std::vector<char> input_used;                                 ///< which inputs the code reads as tensors
  std::set<std::string> attributes_read;

  const std::string& op() const { return node->op_type(); }

  /// A one-line description for error messages.
  std::string where() const {
    std::string s = "operator " + python_string(node->op_type());
    if (!node->name().empty()) s += " (node " + python_string(node->name()) + ")";
    return s;
  }
  [[noreturn]] void unsupported(const std::string& why) const {
    throw unsupported_op("dfgpar: pytorch: " + where() + ": " + why);
  }

  std::size_t num_inputs() const { return inputs.size(); }
  bool has_input(std::size_t i) const { return i < inputs.size() && !inputs[i].empty(); }
  bool has_output(std::size_t i) const { return i < outputs.size() && !outputs[i].empty(); }

  /// Input i as a tensor expression (marks it read).
  const std::string& in(std::size_t i) {
    if (!has_input(i)) unsupported("input " + std::to_string(i) + " is missing");
    if (input_used.size() < inputs.size()) input_used.resize(inputs.size(), 0);
    input_used[i] = 1;
    return inputs[i];
  }
  /// Output i's variable name.
  const std::string& out(std::size_t i = 0) const {
    if (!has_output(i)) unsupported("output " + std::to_string(i) + " is not produced");
    return outputs[i];
  }
  /// The value of input i when it is a compile-time constant, else null.
  const onnx::tensor* constant(std::size_t i) const {
    return i < constants.size() && constants[i] ? constants[i].get() : nullptr;
  }
  /// Input i as int64 values; it must be constant.
  std::vector<std::int64_t> constant_ints(std::size_t i, const char* what) const {
    const auto* t = constant(i);
    if (!t) unsupported(std::string(what) + " (input " + std::to_string(i) + ") must be a constant");
    return t->to_int64();
  }
  /// Rank of input i when known, else -1.
  int rank(std::size_t i) const {
    const auto* info = i < input_info.size() ? input_info[i] : nullptr;
    if (info && info->shape_known) return static_cast<int>(info->shape.size());
    if (const auto* c = constant(i)) return static_cast<int>(c->dims.size());
    return -1;
  }
  int need_rank(std::size_t i) const {
    const int r = rank(i);
    if (r < 0) unsupported("the rank of input " + std::to_string(i) + " is not known");
    return r;
  }
  /// Shape of input i when every dimension is known.
  std::optional<std::vector<std::int64_t>> shape(std::size_t i) const {
    const auto* info = i < input_info.size() ? input_info[i] : nullptr;
    if (info && info->shape_known) return info->shape;
    if (const auto* c = constant(i)) return c->dims;
    return std::nullopt;
  }
  /// Element type of input i (0 when unknown).
  std::int32_t elem_type(std::size_t i) const {
    const auto* info = i < input_info.size() ? input_info[i] : nullptr;
    if (info && info->elem_type) return info->elem_type;
    if (const auto* c = constant(i)) return c->elem_type;
    return 0;
  }
  std::int32_t out_elem_type(std::size_t i = 0) const {
    const auto* info = i < output_info.size() ? output_info[i] : nullptr;
    return info ? info->elem_type : 0;
  }

  const ::onnx::AttributeProto* attr(const std::string& name) {
    for (const auto& a : node->attribute())
      if (a.name() == name) {
        attributes_read.insert(name);
        return &a;
      }
    return nullptr;
  }
  std::int64_t attr_int(const std::string& name, std::int64_t def) {
    const auto* a = attr(name);
    return a ? a->i() : def;
  }
  double attr_float(const std::string& name, double def) {
    const auto* a = attr(name);
    return a ? static_cast<double>(a->f()) : def;
  }
  std::string attr_string(const std::string& name, const std::string& def) {
    const auto* a = attr(name);
    return a ? a->s() : def;
  }
  std::vector<std::int64_t> attr_ints(const std::string& name, std::vector<std::int64_t> def = {}) {
    const auto* a = attr(name);
    return a ? std::vector<std::int64_t>(a->ints().begin(), a->ints().end()) : def;
  }
  bool has_attr(const std::string& name) const {
    for (const auto& a : node->attribute())
      if (a.name() == name) return true;
    return false;
  }
  /// Marks attributes whose value does not change the result (e.g. a seed).
  void ignore(const std::string& name) { attributes_read.insert(name); }

  void emit(std::string line) { lines.push_back(std::move(line)); }
  /// `out = expr`.
  void assign(const std::string& expr, std::size_t output = 0) { emit(out(output) + " = " + expr); }
};

/// Signature of one translation.
using op_translation = std::function<void(op_context&)>;

namespace detail {

inline std::string torch_dtype(std::int32_t t) {
  using tp = ::onnx::TensorProto;
  switch (t) {
    case tp::FLOAT: return "torch.float32";
    case tp::DOUBLE: return "torch.float64";
    case tp::FLOAT16: return "torch.float16";
    case tp::BFLOAT16: return "torch.bfloat16";
    case tp::INT8: return "torch.int8";
    case tp::UINT8: return "torch.uint8";
    case tp::INT16: return "torch.int16";
    case tp::INT32: return "torch.int32";
    case tp::INT64: return "torch.int64";
    case tp::BOOL: return "torch.bool";
    default: return "";
  }
}

inline bool is_float_type(std::int32_t t) {
  using tp = ::onnx::TensorProto;
  return t == tp::FLOAT || t == tp::DOUBLE || t == tp::FLOAT16 || t == tp::BFLOAT16;
}

inline std::string join(const std::vector<std::string>& v, const std::string& sep = ", ") {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
  return s;
}

inline std::int64_t normalize_axis(op_context& c, std::int64_t axis, int rank, const char* what = "axis") {
  if (axis < -rank || axis >= std::max(rank, 1)) c.unsupported(std::string(what) + " " + std::to_string(axis) + " out of range");
  return axis < 0 ? axis + rank : axis;
}

/// Types PyTorch can hold: refuses unsigned 16/32/64-bit and the rest.
inline void check_types(op_context& c) {
  for (std::size_t i = 0; i < c.inputs.size(); ++i)
    if (c.has_input(i) && c.elem_type(i) != 0 && torch_dtype(c.elem_type(i)).empty())
      c.unsupported("input " + std::to_string(i) + " has element type " + onnx::elem_type_name(c.elem_type(i)) +
                    ", which PyTorch does not have");
  for (std::size_t i = 0; i < c.outputs.size(); ++i)
    if (c.has_output(i) && c.out_elem_type(i) != 0 && torch_dtype(c.out_elem_type(i)).empty())
      c.unsupported("output " + std::to_string(i) + " has element type " + onnx::elem_type_name(c.out_elem_type(i)) +
                    ", which PyTorch does not have");
}

inline void require_float(op_context& c, std::size_t i = 0) {
  const auto t = c.elem_type(i);
  if (t == 0) c.unsupported("the element type of input " + std::to_string(i) + " is not known");
  if (!is_float_type(t)) c.unsupported("input " + std::to_string(i) + " of type " + onnx::elem_type_name(t));
}

/// Input i as a Python list of ints: a literal when it is constant, else
/// read from the tensor at run time.
inline std::string int_list(op_context& c, std::size_t i) {
  if (const auto* t = c.constant(i)) return python_int_list(t->to_int64());
  // a line of its own: a comprehension cannot be wrapped at a comma
  const std::string v = c.out(0) + "__in" + std::to_string(i);
  c.emit(v + " = [int(d__) for d__ in " + c.in(i) + ".reshape(-1)]");
  return v;
}

/// Input i, a one-element tensor, as a Python int (literal when constant).
inline std::string int_scalar(op_context& c, std::size_t i, const char* what) {
  if (const auto* t = c.constant(i)) {
    const auto v = t->to_int64();
    if (v.size() != 1) c.unsupported(std::string(what) + " must be one value");
    return std::to_string(v[0]);
  }
  if (const auto s = c.shape(i)) {
    std::int64_t n = 1;
    for (auto d : *s) n *= d;
    if (n != 1) c.unsupported(std::string(what) + " must be one value");
  }
  return "int(" + c.in(i) + ".reshape(-1)[0])";
}

/// A temporary of the translation: the first produced output's name plus
/// "__" and a part (no identifier_table name contains "__").
inline std::string temp(const op_context& c, const std::string& part) {
  for (std::size_t i = 0; i < c.outputs.size(); ++i)
    if (c.has_output(i)) return c.outputs[i] + "__" + part;
  return c.out(0) + "__" + part;  // throws: no output at all
}

// ------------------------------------------------------------ element-wise

inline op_translation unary(std::string fn) {
  return [fn](op_context& c) {
    check_types(c);
    c.assign(fn + "(" + c.in(0) + ")");
  };
}

/// Element-wise binary op with numpy broadcasting (opset >= 7; older opsets
/// only when no `broadcast` attribute asks for the legacy rule).
inline op_translation binary(std::string fn) {
  return [fn](op_context& c) {
    check_types(c);
    if (c.opset < 7 && c.attr_int("broadcast", 0) != 0) c.unsupported("legacy broadcast=1 (opset < 7)");
    c.attr("axis");
    if (c.opset < 7 && c.has_attr("axis")) c.unsupported("legacy axis attribute (opset < 7)");
    c.assign(fn + "(" + c.in(0) + ", " + c.in(1) + ")");
  };
}

inline void div(op_context& c) {
  check_types(c);
  if (c.opset < 7 && c.attr_int("broadcast", 0) != 0) c.unsupported("legacy broadcast=1 (opset < 7)");
  const auto t = c.elem_type(0);
  if (t == 0) c.unsupported("the element type of input 0 is not known");
  if (is_float_type(t)) c.assign("torch.div(" + c.in(0) + ", " + c.in(1) + ")");
  else c.assign("torch.div(" + c.in(0) + ", " + c.in(1) + ", rounding_mode='trunc')");
}

/// Sum/Max/Min/Mean over any number of inputs.
inline op_translation variadic(std::string fn, bool mean = false) {
  return [fn, mean](op_context& c) {
    check_types(c);
    std::string e = c.in(0);
    for (std::size_t i = 1; i < c.num_inputs(); ++i) e = fn + "(" + e + ", " + c.in(i) + ")";
    if (mean) {
      if (!is_float_type(c.elem_type(0))) c.unsupported("Mean of a non-float tensor");
      e = "torch.div(" + e + ", " + std::to_string(c.num_inputs()) + ")";
    }
    c.assign(e);
  };
}

inline void relu(op_context& c) { unary("torch.relu")(c); }

inline void leaky_relu(op_context& c) {
  check_types(c);
  c.assign("F.leaky_relu(" + c.in(0) + ", " + python_float(c.attr_float("alpha", 0.01)) + ")");
}

inline void elu(op_context& c) {
  check_types(c);
  c.assign("F.elu(" + c.in(0) + ", " + python_float(c.attr_float("alpha", 1.0)) + ")");
}

inline void selu(op_context& c) {
  check_types(c);
  const double alpha = c.attr_float("alpha", 1.67326319217681884765625);
  const double gamma = c.attr_float("gamma", 1.05070102214813232421875);
  c.assign(python_float(gamma) + " * torch.where(" + c.in(0) + " > 0, " + c.in(0) + ", " + python_float(alpha) +
           " * torch.expm1(" + c.in(0) + "))");
}

inline void hard_sigmoid(op_context& c) {
  check_types(c);
  c.assign("torch.clamp(" + python_float(c.attr_float("alpha", 0.2)) + " * " + c.in(0) + " + " +
           python_float(c.attr_float("beta", 0.5)) + ", 0.0, 1.0)");
}

inline void clip(op_context& c) {
  check_types(c);
  std::string lo = "None", hi = "None";
  if (c.opset < 11) {
    if (const auto* a = c.attr("min")) lo = python_float(a->f());
    if (const auto* a = c.attr("max")) hi = python_float(a->f());
  } else {
    auto bound = [&](std::size_t i, std::string& s) {
      if (!c.has_input(i)) return;
      if (const auto* t = c.constant(i)) {
        if (t->size() != 1) c.unsupported("min/max must be scalars");
        s = is_float_type(t->elem_type) ? python_float(t->as_double(0))
                                        : std::to_string(static_cast<long long>(t->as_double(0)));
      } else {
        s = c.in(i);
      }
    };
    bound(1, lo);
    bound(2, hi);
  }
  if (lo == "None" && hi == "None") c.assign(c.in(0));
  else c.assign("torch.clamp(" + c.in(0) + ", " + lo + ", " + hi + ")");
}

inline void softmax_like(op_context& c, const std::string& fn) {
  check_types(c);
  const int r = c.need_rank(0);
  const std::int64_t axis = normalize_axis(c, c.attr_int("axis", c.opset < 13 ? 1 : -1), r);
  if (c.opset >= 13 || axis == r - 1) {
    c.assign(fn + "(" + c.in(0) + ", " + std::to_string(axis) + ")");
  } else {
    // opset < 13: the input is coerced to 2-D at `axis`
    c.assign(fn + "(torch.flatten(" + c.in(0) + ", " + std::to_string(axis) + "), -1).reshape(" + c.in(0) +
             ".shape)");
  }
}

/// x (of ONNX type `from`, 0 = unknown) converted to `to`. float -> int
/// truncates toward zero, as in ONNX. float32 -> bfloat16 truncates the
/// mantissa before opset 19 (the reference of those opsets; Cast-19 rounds
/// to nearest even, as PyTorch does), NaN staying NaN.
inline std::string cast_expr(op_context& c, const std::string& x, std::int32_t from, std::int32_t to) {
  using tp = ::onnx::TensorProto;
  if (to == tp::BFLOAT16 && c.opset < 19 && from != tp::BFLOAT16) {
    if (from == 0) c.unsupported("cast to BFLOAT16 from an unknown type");
    if (from == tp::FLOAT) {
      // x rounded toward zero to bfloat16's precision: units of 2^(e-8) for
      // x = m * 2^e, 0.5 <= |m| < 1, and of 2^-133 below the normal range
      const std::string u = temp(c, "unit");
      c.emit(u + " = torch.exp2(torch.clamp(torch.frexp(" + x + ")[1], min=-125).double() - 8)");
      return "torch.where(torch.isfinite(" + x + "), torch.trunc(" + x + ".double() / " + u + ") * " + u + ", " + x +
             ".double()).to(torch.bfloat16)";
    }
  }
  return x + ".to(" + torch_dtype(to) + ")";
}

inline void cast(op_context& c) {
  check_types(c);
  const auto to = static_cast<std::int32_t>(c.attr_int("to", 0));
  c.ignore("saturate");
  const std::string d = torch_dtype(to);
  if (d.empty()) c.unsupported("cast to " + onnx::elem_type_name(to));
  c.assign(cast_expr(c, c.in(0), c.elem_type(0), to));
}

// ------------------------------------------------------------ convolution and pooling

struct window {
  std::vector<std::int64_t> kernel, strides, dilations, pads;  // pads: begin..., end...
};

/// kernel_shape / strides / dilations / pads / auto_pad of Conv and pools.
inline window read_window(op_context& c, int spatial, std::vector<std::int64_t> kernel_from_weight = {}) {
  window w;
  w.kernel = c.attr_ints("kernel_shape", kernel_from_weight);
  if (static_cast<int>(w.kernel.size()) != spatial) c.unsupported("kernel_shape is missing or has the wrong length");
  w.strides = c.attr_ints("strides", std::vector<std::int64_t>(static_cast<std::size_t>(spatial), 1));
  w.dilations = c.attr_ints("dilations", std::vector<std::int64_t>(static_cast<std::size_t>(spatial), 1));
  w.pads = c.attr_ints("pads", std::vector<std::int64_t>(2 * static_cast<std::size_t>(spatial), 0));
  if (static_cast<int>(w.strides.size()) != spatial || static_cast<int>(w.dilations.size()) != spatial ||
      static_cast<int>(w.pads.size()) != 2 * spatial)
    c.unsupported("strides/dilations/pads have the wrong length");
  const std::string ap = c.attr_string("auto_pad", "NOTSET");
  if (ap == "VALID") {
    std::fill(w.pads.begin(), w.pads.end(), 0);
  } else if (ap == "SAME_UPPER" || ap == "SAME_LOWER") {
    const auto s = c.shape(0);
    if (!s) c.unsupported("auto_pad " + ap + " needs the input shape, which is not known");
    for (int d = 0; d < spatial; ++d) {
      const std::int64_t in = (*s)[static_cast<std::size_t>(d + 2)], st = w.strides[static_cast<std::size_t>(d)];
      const std::int64_t outd = (in + st - 1) / st;
      const std::int64_t eff = (w.kernel[static_cast<std::size_t>(d)] - 1) * w.dilations[static_cast<std::size_t>(d)] + 1;
      const std::int64_t total = std::max<std::int64_t>(0, (outd - 1) * st + eff - in);
      const std::int64_t small = total / 2, big = total - small;
      w.pads[static_cast<std::size_t>(d)] = ap == "SAME_UPPER" ? small : big;
      w.pads[static_cast<std::size_t>(d + spatial)] = ap == "SAME_UPPER" ? big : small;
    }
  } else if (ap != "NOTSET") {
    c.unsupported("auto_pad " + python_string(ap));
  }
  for (auto p : w.pads)
    if (p < 0) c.unsupported("negative pads");
  return w;
}

/// (symmetric padding per dim, or nullopt) and the F.pad list for asymmetric.
inline bool symmetric(const window& w) {
  const std::size_t n = w.kernel.size();
  for (std::size_t d = 0; d < n; ++d)
    if (w.pads[d] != w.pads[d + n]) return false;
  return true;
}

/// F.pad's list (last dimension first) for ONNX begin/end pads of the spatial dims.
inline std::string torch_pad_list(const std::vector<std::int64_t>& pads, std::size_t spatial) {
  std::vector<std::int64_t> p;
  for (std::size_t d = spatial; d-- > 0;) {
    p.push_back(pads[d]);
    p.push_back(pads[d + spatial]);
  }
  return python_int_list(p);
}

inline std::string tuple(const std::vector<std::int64_t>& v) {
  std::string s = "(";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + (v.size() == 1 ? ",)" : ")");
}

/// The F.convNd call of a Conv-like node (attributes read from c; the
/// weight's shape is input `weight`'s) on the expressions x, w and bias.
inline std::string conv_call(op_context& c, std::string x, const std::string& w, const std::string& bias,
                             std::size_t weight = 1) {
  const int r = c.need_rank(0);
  const int spatial = r - 2;
  if (spatial < 1 || spatial > 3) c.unsupported(std::to_string(spatial) + " spatial dimensions");
  std::vector<std::int64_t> wk;
  if (auto ws = c.shape(weight)) wk.assign(ws->begin() + 2, ws->end());
  window win = read_window(c, spatial, wk);
  const std::int64_t group = c.attr_int("group", 1);
  std::string pad = "0";
  if (symmetric(win)) {
    pad = tuple(std::vector<std::int64_t>(win.pads.begin(), win.pads.begin() + spatial));
  } else {
    x = "F.pad(" + x + ", " + torch_pad_list(win.pads, static_cast<std::size_t>(spatial)) + ")";
  }
  return "F.conv" + std::to_string(spatial) + "d(" + x + ", " + w + ", " + bias + ", " + tuple(win.strides) + ", " +
         pad + ", " + tuple(win.dilations) + ", " + std::to_string(group) + ")";
}

inline void conv(op_context& c) {
  check_types(c);
  c.assign(conv_call(c, c.in(0), c.in(1), c.has_input(2) ? c.in(2) : "None"));
}

inline void max_pool(op_context& c) {
  check_types(c);
  const std::int64_t order = c.attr_int("storage_order", 0);
  const auto et = c.elem_type(0);
  if (et == 0) c.unsupported("the element type of input 0 is not known");
  std::string x = c.in(0), back;
  if (!is_float_type(et)) {
    // pooled exactly as float: 8- and 16-bit integers in float32, 32-bit in float64
    using tp = ::onnx::TensorProto;
    if (et == tp::INT8 || et == tp::UINT8 || et == tp::INT16) x += ".to(torch.float32)";
    else if (et == tp::INT32) x += ".to(torch.float64)";
    else c.unsupported("input of type " + onnx::elem_type_name(et));
    back = ".to(" + c.in(0) + ".dtype)";
  }
  const int spatial = c.need_rank(0) - 2;
  if (spatial < 1 || spatial > 3) c.unsupported("MaxPool with " + std::to_string(spatial) + " spatial dimensions");
  window w = read_window(c, spatial);
  const bool ceil = c.attr_int("ceil_mode", 0) != 0;
  std::string pad = "0";
  bool fits = symmetric(w);
  for (int d = 0; d < spatial && fits; ++d) fits = w.pads[static_cast<std::size_t>(d)] * 2 <= w.kernel[static_cast<std::size_t>(d)];
  if (fits) {
    pad = tuple(std::vector<std::int64_t>(w.pads.begin(), w.pads.begin() + spatial));
  } else {
    if (ceil) c.unsupported("ceil_mode with asymmetric or large pads");
    if (c.has_output(1)) c.unsupported("the Indices output with asymmetric or large pads");
    x = "F.pad(" + x + ", " + torch_pad_list(w.pads, static_cast<std::size_t>(spatial)) + ", 'constant', -float('inf'))";
  }
  const std::string args = x + ", " + tuple(w.kernel) + ", " + tuple(w.strides) + ", " + pad + ", " + tuple(w.dilations) +
                           ", " + (ceil ? "True" : "False");
  const std::string nd = std::to_string(spatial) + "d";
  if (!c.has_output(1)) {
    if (order != 0 && order != 1) c.unsupported("storage_order " + std::to_string(order));
    c.assign("F.max_pool" + nd + "(" + args + ")" + back);
    return;
  }
  // Indices: PyTorch's count within each (n, c) plane, row-major; ONNX's
  // over the whole tensor, row-major (storage_order 0) or column-major
  // within the plane (storage_order 1, 2-D only)
  const std::string idx = c.out(1), in = c.in(0), plane = temp(c, "plane");
  c.emit(c.out(0) + ", " + idx + " = F.max_pool" + nd + "_with_indices(" + args + ")");
  if (!back.empty()) c.assign(c.out(0) + back);
  std::string size = in + ".shape[2]";
  for (int d = 1; d < spatial; ++d) size += " * " + in + ".shape[" + std::to_string(d + 2) + "]";
  c.emit(plane + " = " + size);
  if (order == 1) {
    if (spatial != 2) c.unsupported("storage_order=1 with other than 2 spatial dimensions");
    const std::string h = in + ".shape[2]", wd = in + ".shape[3]";
    c.emit(idx + " = torch.add(torch.mul(torch.remainder(" + idx + ", " + wd + "), " + h + "), torch.div(" + idx + ", " +
           wd + ", rounding_mode='floor'))");
  } else if (order != 0) {
    c.unsupported("storage_order " + std::to_string(order));
  }
  std::string ones;
  for (int d = 0; d < spatial; ++d) ones += ", 1";
  c.emit(plane + "_offset = torch.mul(torch.arange(" + in + ".shape[0] * " + in + ".shape[1]), " + plane + ")");
  c.emit(plane + "_offset = " + plane + "_offset.reshape(" + in + ".shape[0], " + in + ".shape[1]" + ones + ")");
  c.emit(idx + " = torch.add(" + idx + ", " + plane + "_offset)");
}

/// AveragePool as (window sums of the zero-padded input) / (window sums of
/// a mask that is 1 on the input, and on the pads when they count): the
/// windows the reference averages, partial ceil_mode windows included.
inline void average_pool_by_sums(op_context& c, const window& w, bool ceil, bool include) {
  require_float(c);
  const auto spatial = w.kernel.size();
  for (std::size_t d = 0; d < spatial; ++d)
    // PyTorch drops a ceil_mode window that starts past the end; ONNX keeps it (empty)
    if (ceil && w.strides[d] > w.kernel[d]) c.unsupported("ceil_mode with strides larger than the kernel");
  const std::string x = c.in(0), pl = torch_pad_list(w.pads, spatial);
  const std::string px = temp(c, "padded"), mask = temp(c, "mask"), cnt = temp(c, "count");
  std::vector<std::int64_t> k = w.kernel, st = w.strides;
  std::string nd = std::to_string(spatial) + "d", unsq, sq;
  if (spatial == 1) {
    // avg_pool1d has no divisor_override: as 2-D with a unit last dimension
    k.push_back(1);
    st.push_back(1);
    nd = "2d";
    unsq = ".unsqueeze(-1)";
    sq = ".squeeze(-1)";
  }
  c.emit(px + " = F.pad(" + x + ", " + pl + ")" + unsq);
  c.emit(mask + " = torch.ones_like(" + x + "[:1, :1])");
  c.emit(mask + " = F.pad(" + mask + ", " + pl + ", 'constant', " + (include ? "1.0" : "0.0") + ")" + unsq);
  const std::string tail = ", " + tuple(k) + ", " + tuple(st) + ", 0, " + (ceil ? "True" : "False") + ", True, 1)";
  c.emit(cnt + " = F.avg_pool" + nd + "(" + mask + tail);
  c.assign("F.avg_pool" + nd + "(" + px + tail);
  c.assign("torch.div(" + c.out(0) + ", " + cnt + ")" + sq);
}

inline void average_pool(op_context& c) {
  check_types(c);
  const int spatial = c.need_rank(0) - 2;
  if (spatial < 1 || spatial > 3) c.unsupported("AveragePool with " + std::to_string(spatial) + " spatial dimensions");
  window w = read_window(c, spatial);
  for (auto d : w.dilations)
    if (d != 1) c.unsupported("dilations other than 1");
  const bool ceil = c.attr_int("ceil_mode", 0) != 0;
  const bool include = c.attr_int("count_include_pad", 0) != 0;
  bool fits = symmetric(w);
  for (int d = 0; d < spatial && fits; ++d) fits = w.pads[static_cast<std::size_t>(d)] * 2 <= w.kernel[static_cast<std::size_t>(d)];
  std::string x = c.in(0), pad = "0";
  if (ceil || (!fits && !include)) {
    // PyTorch and ONNX count the last, partial window differently with
    // ceil_mode, and PyTorch cannot leave asymmetric pads out: sums over
    // the explicitly padded input divided by the counted elements
    average_pool_by_sums(c, w, ceil, include);
    return;
  }
  if (fits) {
    pad = tuple(std::vector<std::int64_t>(w.pads.begin(), w.pads.begin() + spatial));
  } else {
    x = "F.pad(" + x + ", " + torch_pad_list(w.pads, static_cast<std::size_t>(spatial)) + ")";
  }
  c.assign("F.avg_pool" + std::to_string(spatial) + "d(" + x + ", " + tuple(w.kernel) + ", " + tuple(w.strides) + ", " +
           pad + ", " + (ceil ? "True" : "False") + ", " + (include ? "True" : "False") + ")");
}

inline void global_pool(op_context& c, const std::string& fn) {
  check_types(c);
  const int r = c.need_rank(0);
  if (r < 3) c.unsupported("input of rank below 3");
  std::vector<std::int64_t> dims;
  for (int d = 2; d < r; ++d) dims.push_back(d);
  if (fn == "amax") c.assign("torch.amax(" + c.in(0) + ", " + python_int_list(dims) + ", True)");
  else c.assign("torch.mean(" + c.in(0) + ", " + python_int_list(dims) + ", True)");
}

/// BatchNormalization-14/15 with training_mode=1: normalised with the batch
/// statistics (population variance); the running mean/var outputs are
/// the inputs' blended with them by momentum.
inline void batch_norm_training(op_context& c) {
  require_float(c);
  const int r = c.need_rank(0);
  if (r < 2) c.unsupported("input of rank below 2");
  const double momentum = c.attr_float("momentum", 0.9);
  std::vector<std::int64_t> dims{0}, shape(static_cast<std::size_t>(r), 1);
  for (int d = 2; d < r; ++d) dims.push_back(d);
  shape[1] = -1;
  const std::string x = c.in(0), ds = python_int_list(dims), sh = python_int_list(shape);
  const std::string m = temp(c, "mean"), v = temp(c, "var");
  c.emit(m + " = torch.mean(" + x + ", " + ds + ")");
  c.emit(v + " = torch.var(" + x + ", " + ds + ", unbiased=False)");
  c.assign("torch.div(torch.sub(" + x + ", " + m + ".reshape(" + sh + ")), torch.sqrt(torch.add(" + v + ".reshape(" + sh +
           "), " + python_float(c.attr_float("epsilon", 1e-5)) + ")))");
  c.assign("torch.add(torch.mul(" + c.out(0) + ", " + c.in(1) + ".reshape(" + sh + ")), " + c.in(2) + ".reshape(" + sh +
           "))");
  const std::string mo = python_float(momentum), om = python_float(1.0 - momentum);
  if (c.has_output(1)) c.emit(c.out(1) + " = torch.add(torch.mul(" + c.in(3) + ", " + mo + "), torch.mul(" + m + ", " + om + "))");
  if (c.has_output(2)) c.emit(c.out(2) + " = torch.add(torch.mul(" + c.in(4) + ", " + mo + "), torch.mul(" + v + ", " + om + "))");
  for (std::size_t i = 3; i < c.outputs.size(); ++i)
    if (c.has_output(i)) c.unsupported("output " + std::to_string(i));
}

inline void batch_norm(op_context& c) {
  check_types(c);
  if (c.attr_int("training_mode", 0) != 0) {
    if (c.opset < 14) c.unsupported("training_mode before opset 14");
    batch_norm_training(c);
    return;
  }
  if (c.opset < 7 && c.attr_int("is_test", 0) == 0) c.unsupported("is_test=0 (training)");
  if (c.attr_int("spatial", 1) != 1) c.unsupported("spatial=0");
  c.ignore("momentum");
  c.ignore("consumed_inputs");
  for (std::size_t i = 1; i < c.outputs.size(); ++i)
    if (c.has_output(i)) c.unsupported("training outputs (running mean/var)");
  if (c.need_rank(0) < 2) c.unsupported("input of rank below 2");
  c.assign("F.batch_norm(" + c.in(0) + ", " + c.in(3) + ", " + c.in(4) + ", " + c.in(1) + ", " + c.in(2) +
           ", False, 0.0, " + python_float(c.attr_float("epsilon", 1e-5)) + ")");
}

// ------------------------------------------------------------ linear algebra

inline void gemm(op_context& c) {
  check_types(c);
  const double alpha = c.attr_float("alpha", 1.0), beta = c.attr_float("beta", 1.0);
  const bool ta = c.attr_int("transA", 0) != 0, tb = c.attr_int("transB", 0) != 0;
  c.ignore("broadcast");
  if (c.rank(0) != 2 || c.rank(1) != 2) c.unsupported("A and B must be known to be 2-D");
  const std::string a = ta ? c.in(0) + ".t()" : c.in(0);
  const bool bias = c.has_input(2) && beta != 0;
  if (!ta && tb && alpha == 1.0 && (beta == 1.0 || !bias)) {
    c.assign("F.linear(" + a + ", " + c.in(1) + (bias ? ", " + c.in(2) : "") + ")");
    return;
  }
  const std::string b = tb ? c.in(1) + ".t()" : c.in(1);
  std::string e = "torch.matmul(" + a + ", " + b + ")";
  if (alpha != 1.0) e = python_float(alpha) + " * " + e;
  if (bias) e += " + " + (beta == 1.0 ? c.in(2) : python_float(beta) + " * " + c.in(2));
  c.assign(e);
}

inline void matmul(op_context& c) {
  check_types(c);
  c.assign("torch.matmul(" + c.in(0) + ", " + c.in(1) + ")");
}

// ------------------------------------------------------------ shape ops

inline void concat(op_context& c) {
  check_types(c);
  std::vector<std::string> xs;
  for (std::size_t i = 0; i < c.num_inputs(); ++i)
    if (c.has_input(i)) xs.push_back(c.in(i));
  const int r = c.need_rank(0);
  const std::int64_t axis = normalize_axis(c, c.attr_int("axis", c.opset < 4 ? 1 : 0), r);
  c.assign("torch.cat([" + join(xs) + "], " + std::to_string(axis) + ")");
}

inline void flatten(op_context& c) {
  check_types(c);
  const int r = c.need_rank(0);
  std::int64_t axis = c.attr_int("axis", 1);
  if (axis < -r || axis > r) c.unsupported("axis out of range");
  if (axis < 0) axis += r;
  if (auto s = c.shape(0)) {
    std::int64_t a = 1, b = 1;
    for (int d = 0; d < r; ++d) (d < axis ? a : b) *= (*s)[static_cast<std::size_t>(d)];
    c.assign("torch.reshape(" + c.in(0) + ", [" + std::to_string(a) + ", " + std::to_string(b) + "])");
  } else if (axis == 1 && r >= 2) {
    c.assign("torch.flatten(" + c.in(0) + ", 1)");
  } else {
    c.unsupported("Flatten of a tensor with unknown shape");
  }
}

inline void reshape(op_context& c) {
  check_types(c);
  std::vector<std::int64_t> shape;
  const bool allowzero = c.attr_int("allowzero", 0) != 0;
  if (c.opset >= 5 && !c.constant(1)) {
    // the shape is computed: read at run time, a 0 copying the input's dimension
    const std::string x = c.in(0), s = int_list(c, 1);
    if (!allowzero) {
      const std::string k = temp(c, "k");
      c.emit("for " + k + " in range(len(" + s + ")):");
      c.emit("    if " + s + "[" + k + "] == 0:");
      c.emit("        " + s + "[" + k + "] = " + x + ".shape[" + k + "]");
    }
    c.assign("torch.reshape(" + x + ", " + s + ")");
    return;
  }
  if (c.opset < 5) shape = c.attr_ints("shape");
  else shape = c.constant_ints(1, "the shape");
  for (std::size_t d = 0; d < shape.size(); ++d)
    if (shape[d] == 0 && !allowzero) {
      const auto s = c.shape(0);
      if (!s || d >= s->size()) c.unsupported("a 0 in the shape needs the input's shape, which is not known");
      shape[d] = (*s)[d];
    }
  c.assign("torch.reshape(" + c.in(0) + ", " + python_int_list(shape) + ")");
}

inline void transpose(op_context& c) {
  check_types(c);
  const int r = c.need_rank(0);
  std::vector<std::int64_t> perm;
  for (int d = r - 1; d >= 0; --d) perm.push_back(d);
  perm = c.attr_ints("perm", perm);
  if (static_cast<int>(perm.size()) != r) c.unsupported("perm has the wrong length");
  c.assign(c.in(0) + ".permute(" + python_int_list(perm) + ")");
}

inline std::vector<std::int64_t> axes_of(op_context& c, std::size_t input, int version, bool required) {
  if (c.opset < version) {
    if (!c.has_attr("axes") && required) c.unsupported("axes missing");
    return c.attr_ints("axes");
  }
  if (!c.has_input(input)) {
    if (required) c.unsupported("axes missing");
    return {};
  }
  return c.constant_ints(input, "axes");
}

inline void unsqueeze(op_context& c) {
  check_types(c);
  if (c.opset >= 13 && c.has_input(1) && !c.constant(1)) {
    const std::string x = c.in(0), ax = temp(c, "axes"), a = temp(c, "a");
    c.emit(ax + " = [int(d__) % (" + x + ".dim() + " + c.in(1) + ".numel()) for d__ in " + c.in(1) + ".reshape(-1)]");
    c.emit(ax + ".sort()");
    c.assign(x);
    c.emit("for " + a + " in " + ax + ":");
    c.emit("    " + c.out(0) + " = torch.unsqueeze(" + c.out(0) + ", " + a + ")");
    return;
  }
  auto axes = axes_of(c, 1, 13, true);
  const int r = c.need_rank(0) + static_cast<int>(axes.size());
  for (auto& a : axes) a = normalize_axis(c, a, r);
  std::sort(axes.begin(), axes.end());
  std::string e = c.in(0);
  for (auto a : axes) e = "torch.unsqueeze(" + e + ", " + std::to_string(a) + ")";
  c.assign(e);
}

inline void squeeze(op_context& c) {
  check_types(c);
  if (c.opset >= 13 && c.has_input(1) && !c.constant(1)) {
    const std::string x = c.in(0), ax = temp(c, "axes"), a = temp(c, "a");
    c.emit(ax + " = [int(d__) % " + x + ".dim() for d__ in " + c.in(1) + ".reshape(-1)]");
    c.emit(ax + ".sort(reverse=True)");
    c.assign(x);
    c.emit("for " + a + " in " + ax + ":");
    c.emit("    " + c.out(0) + " = torch.squeeze(" + c.out(0) + ", " + a + ")");
    return;
  }
  auto axes = axes_of(c, 1, 13, false);
  if (axes.empty()) {
    c.assign("torch.squeeze(" + c.in(0) + ")");
    return;
  }
  const int r = c.need_rank(0);
  for (auto& a : axes) a = normalize_axis(c, a, r);
  std::sort(axes.rbegin(), axes.rend());
  std::string e = c.in(0);
  for (auto a : axes) e = "torch.squeeze(" + e + ", " + std::to_string(a) + ")";
  c.assign(e);
}

/// F.pad's value (a float in TorchScript, converted to the tensor's type):
/// refused where a double cannot hold an integer exactly.
inline std::string pad_value(op_context& c, double v) {
  if (!is_float_type(c.elem_type(0)) && std::abs(v) > 9007199254740992.0) c.unsupported("an integer pad value beyond 2^53");
  return python_float(v);
}

/// Pad with mode edge or reflect as an index_select per dimension (any rank,
/// type and sign of the pads; reflect needs pads below the dimension).
inline void pad_by_index(op_context& c, const std::string& mode, int r, const std::string& pads) {
  const std::string x = c.in(0), o = c.out(0), p = temp(c, "pads"), n = temp(c, "n"), i = temp(c, "i");
  c.emit(p + " = " + pads);
  c.assign(x);
  for (int d = 0; d < r; ++d) {
    const std::string ds = std::to_string(d);
    c.emit(n + " = " + o + ".shape[" + ds + "]");
    c.emit(i + " = torch.arange(-" + p + "[" + ds + "], " + n + " + " + p + "[" + std::to_string(d + r) + "], device=" + x +
           ".device)");
    if (mode == "edge") c.emit(i + " = torch.clamp(" + i + ", 0, " + n + " - 1)");
    else {
      // reflect: -i before the start, 2 (n - 1) - i after the end
      c.emit(i + " = torch.abs(torch.sub(torch.abs(" + i + "), " + n + " - 1))");
      c.emit(i + " = torch.rsub(" + i + ", " + n + " - 1)");
    }
    c.emit(o + " = torch.index_select(" + o + ", " + ds + ", " + i + ")");
  }
}

/// Pad (opset >= 11) whose pads or value are computed at run time.
inline void pad_runtime(op_context& c, const std::string& mode, int r) {
  if (c.has_input(3)) c.unsupported("axes with computed pads");
  if (mode == "edge" || mode == "reflect") {
    if (c.has_input(2)) c.in(2);  // the value does not matter in these modes
    pad_by_index(c, mode, r, int_list(c, 1));
    return;
  }
  if (mode != "constant") c.unsupported("mode " + python_string(mode));
  std::string value = "0.0";
  if (c.has_input(2)) {
    if (const auto* v = c.constant(2)) {
      if (v->size() != 1) c.unsupported("constant_value must be a scalar");
      value = pad_value(c, v->as_double(0));
    } else {
      if (!is_float_type(c.elem_type(0))) c.unsupported("a computed constant_value on a non-float tensor");
      value = "float(" + c.in(2) + ".reshape(-1)[0])";
    }
  }
  // ONNX [b0, b1, ..., e0, e1, ...] -> F.pad's [b_last, e_last, ..., b0, e0]
  if (c.constant(1)) {
    auto pads = c.constant(1)->to_int64();
    if (static_cast<int>(pads.size()) != 2 * r) c.unsupported("pads has the wrong length");
    std::vector<std::int64_t> p;
    for (int d = r - 1; d >= 0; --d) {
      p.push_back(pads[static_cast<std::size_t>(d)]);
      p.push_back(pads[static_cast<std::size_t>(d + r)]);
    }
    c.assign("F.pad(" + c.in(0) + ", " + python_int_list(p) + ", 'constant', " + value + ")");
    return;
  }
  const std::string pt = temp(c, "pads_t"), pl = temp(c, "pads");
  c.emit(pt + " = " + c.in(1) + ".reshape(2, " + std::to_string(r) + ").flip(1).t().reshape(-1)");
  c.emit(pl + " = [int(d__) for d__ in " + pt + "]");
  c.assign("F.pad(" + c.in(0) + ", " + pl + ", 'constant', " + value + ")");
}

inline void pad(op_context& c) {
  check_types(c);
  const std::string mode = c.attr_string("mode", "constant");
  const int r = c.need_rank(0);
  std::vector<std::int64_t> pads;
  double value = 0;
  std::string value_expr;
  if (c.opset >= 11 && (!c.constant(1) || (c.has_input(2) && !c.constant(2)))) {
    pad_runtime(c, mode, r);
    return;
  }
  if (c.opset < 11) {
    pads = c.attr_ints("pads");
    value = c.attr_float("value", 0.0);
  } else {
    pads = c.constant_ints(1, "pads");
    if (c.has_input(2)) {
      const auto* v = c.constant(2);
      if (!v || v->size() != 1) c.unsupported("constant_value must be a constant scalar");
      value = v->as_double(0);
    }
    if (c.has_input(3)) {
      // axes (opset 18): pads then cover only those axes
      auto axes = c.constant_ints(3, "axes");
      std::vector<std::int64_t> full(2 * static_cast<std::size_t>(r), 0);
      if (pads.size() != 2 * axes.size()) c.unsupported("pads and axes lengths disagree");
      for (std::size_t k = 0; k < axes.size(); ++k) {
        const auto a = static_cast<std::size_t>(normalize_axis(c, axes[k], r));
        full[a] = pads[k];
        full[a + static_cast<std::size_t>(r)] = pads[k + axes.size()];
      }
      pads = full;
    }
  }
  if (static_cast<int>(pads.size()) != 2 * r) c.unsupported("pads has the wrong length");
  // trailing dimensions that are not padded can be left out of F.pad's list
  int last = 0;
  for (int d = 0; d < r; ++d)
    if (pads[static_cast<std::size_t>(d)] != 0 || pads[static_cast<std::size_t>(d + r)] != 0) last = std::max(last, r - d);
  std::vector<std::int64_t> p;
  for (int d = r - 1; d >= r - last; --d) {
    p.push_back(pads[static_cast<std::size_t>(d)]);
    p.push_back(pads[static_cast<std::size_t>(d + r)]);
  }
  if (p.empty()) {
    c.assign(c.in(0));
    return;
  }
  if (mode == "constant") {
    c.assign("F.pad(" + c.in(0) + ", " + python_int_list(p) + ", 'constant', " + pad_value(c, value) + ")");
    return;
  }
  if (mode != "reflect" && mode != "edge") c.unsupported("mode " + python_string(mode));
  bool simple = is_float_type(c.elem_type(0)) && last <= 3 && last <= r - 1;
  for (auto v : p) simple = simple && v >= 0;
  if (!simple) {
    pad_by_index(c, mode, r, python_int_list(pads));
    return;
  }
  c.assign("F.pad(" + c.in(0) + ", " + python_int_list(p) + ", '" + (mode == "edge" ? "replicate" : "reflect") + "')");
}


// ------------------------------------------------------------ reductions, indexing, more


/// Reduce* whose axes are computed at run time.
inline void reduce_runtime(op_context& c, const std::string& kind, int r, bool keep, bool noop) {
  if (r == 0) c.unsupported("computed axes on a scalar");
  const std::string x = c.in(0), o = c.out(0), dims = temp(c, "dims"), k = keep ? "True" : "False";
  const bool fl = is_float_type(c.elem_type(0));
  std::string e;
  if (kind == "sum") e = "torch.sum(" + x + ", " + dims + ", " + k + ")" + (fl ? "" : ".to(" + x + ".dtype)");
  else if (kind == "mean") {
    require_float(c);
    e = "torch.mean(" + x + ", " + dims + ", " + k + ")";
  } else if (kind == "max") e = "torch.amax(" + x + ", " + dims + ", " + k + ")";
  else if (kind == "min") e = "torch.amin(" + x + ", " + dims + ", " + k + ")";
  else if (kind == "l1") e = "torch.sum(torch.abs(" + x + "), " + dims + ", " + k + ")" + (fl ? "" : ".to(" + x + ".dtype)");
  else if (kind == "sumsquare") e = "torch.sum(" + x + " * " + x + ", " + dims + ", " + k + ")" + (fl ? "" : ".to(" + x + ".dtype)");
  else if (kind == "l2" || kind == "logsum" || kind == "logsumexp") {
    require_float(c);
    if (kind == "l2") e = "torch.sqrt(torch.sum(" + x + " * " + x + ", " + dims + ", " + k + "))";
    else if (kind == "logsum") e = "torch.log(torch.sum(" + x + ", " + dims + ", " + k + "))";
    else e = "torch.logsumexp(" + x + ", " + dims + ", " + k + ")";
  } else {
    c.unsupported("computed axes with reduction " + kind);
  }
  c.emit(dims + " = " + int_list(c, 1));
  c.emit("if len(" + dims + ") == 0:");
  if (noop) {
    c.emit("    " + o + " = " + x);
    c.emit("else:");
    c.emit("    " + o + " = " + e);
  } else {
    c.emit("    " + dims + " = [i__ for i__ in range(" + std::to_string(r) + ")]");
    c.assign(e);
  }
}

/// Reduce*: axes from the attribute (before `axes_input_opset`) or input 1.
inline op_translation reduce(std::string kind, int axes_input_opset) {
  return [kind, axes_input_opset](op_context& c) {
    check_types(c);
    const int r = c.need_rank(0);
    const bool keep = c.attr_int("keepdims", 1) != 0;
    const bool noop = c.attr_int("noop_with_empty_axes", 0) != 0;
    std::vector<std::int64_t> axes;
    if (c.opset >= axes_input_opset && c.has_input(1) && !c.constant(1)) {
      reduce_runtime(c, kind, r, keep, noop);
      return;
    }
    if (c.opset < axes_input_opset) axes = c.attr_ints("axes");
    else if (c.has_input(1)) axes = c.constant_ints(1, "axes");
    if (axes.empty()) {
      if (noop) {
        c.assign(c.in(0));
        return;
      }
      for (int d = 0; d < r; ++d) axes.push_back(d);
    }
    for (auto& a : axes) a = normalize_axis(c, a, r);
    std::sort(axes.begin(), axes.end());
    axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
    const std::string x = c.in(0), dims = python_int_list(axes), k = keep ? "True" : "False";
    const bool fl = is_float_type(c.elem_type(0));
    if (r == 0) {
      // a scalar: every reduction over no dimensions is the value (or its square, abs, ...)
      if (kind == "sum" || kind == "mean" || kind == "max" || kind == "min" || kind == "prod") c.assign(x);
      else if (kind == "l1") c.assign("torch.abs(" + x + ")");
      else if (kind == "l2") c.assign("torch.abs(" + x + ")");
      else if (kind == "sumsquare") c.assign(x + " * " + x);
      else if (kind == "logsum") c.assign("torch.log(" + x + ")");
      else c.assign(x);
      return;
    }
    if (kind == "sum") c.assign("torch.sum(" + x + ", " + dims + ", " + k + ")" + (fl ? "" : ".to(" + x + ".dtype)"));
    else if (kind == "mean") {
      require_float(c);
      c.assign("torch.mean(" + x + ", " + dims + ", " + k + ")");
    } else if (kind == "max") c.assign("torch.amax(" + x + ", " + dims + ", " + k + ")");
    else if (kind == "min") c.assign("torch.amin(" + x + ", " + dims + ", " + k + ")");
    else if (kind == "prod") {
      std::string e = x;
      for (auto it = axes.rbegin(); it != axes.rend(); ++it) e = "torch.prod(" + e + ", " + std::to_string(*it) + ", " + k + ")";
      c.assign(fl ? e : e + ".to(" + x + ".dtype)");
    } else if (kind == "l1") c.assign("torch.sum(torch.abs(" + x + "), " + dims + ", " + k + ")" + (fl ? "" : ".to(" + x + ".dtype)"));
    else if (kind == "sumsquare") c.assign("torch.sum(" + x + " * " + x + ", " + dims + ", " + k + ")" + (fl ? "" : ".to(" + x + ".dtype)"));
    else {
      require_float(c);
      if (kind == "l2") c.assign("torch.sqrt(torch.sum(" + x + " * " + x + ", " + dims + ", " + k + "))");
      else if (kind == "logsum") c.assign("torch.log(torch.sum(" + x + ", " + dims + ", " + k + "))");
      else if (kind == "logsumexp") c.assign("torch.logsumexp(" + x + ", " + dims + ", " + k + ")");
      else c.unsupported("reduction " + kind);
    }
  };
}

inline op_translation arg_reduce(std::string fn) {
  return [fn](op_context& c) {
    check_types(c);
    const int r = c.need_rank(0);
    const std::int64_t axis = normalize_axis(c, c.attr_int("axis", 0), r);
    const std::string k = c.attr_int("keepdims", 1) != 0 ? "True" : "False";
    const std::string x = c.in(0), ax = std::to_string(axis);
    if (c.attr_int("select_last_index", 0) != 0)
      c.assign(x + ".shape[" + ax + "] - 1 - " + fn + "(torch.flip(" + x + ", [" + ax + "]), " + ax + ", " + k + ")");
    else c.assign(fn + "(" + x + ", " + ax + ", " + k + ")");
  };
}

/// Indices with negative entries counted from the end of `axis` of x, as int64.
inline std::string fixed_indices(const std::string& x, const std::string& idx, std::int64_t axis) {
  const std::string i64 = idx + ".to(torch.int64)";
  return "torch.where(" + i64 + " < 0, " + i64 + " + " + x + ".shape[" + std::to_string(axis) + "], " + i64 + ")";
}

inline void gather(op_context& c) {
  check_types(c);
  const int r = c.need_rank(0);
  const std::int64_t axis = normalize_axis(c, c.attr_int("axis", 0), r);
  const std::string x = c.in(0), idx = c.in(1), a = std::to_string(axis);
  c.assign("torch.index_select(" + x + ", " + a + ", " + fixed_indices(x, idx, axis) + ".reshape(-1))");
  c.assign(c.out(0) + ".reshape(" + x + ".shape[:" + a + "] + " + idx + ".shape + " + x + ".shape[" +
           std::to_string(axis + 1) + ":])");
}

inline void gather_elements(op_context& c) {
  check_types(c);
  const int r = c.need_rank(0);
  const std::int64_t axis = normalize_axis(c, c.attr_int("axis", 0), r);
  c.assign("torch.gather(" + c.in(0) + ", " + std::to_string(axis) + ", " + fixed_indices(c.in(0), c.in(1), axis) + ")");
}

/// Slice (opset >= 10) with computed starts/ends/axes/steps or negative
/// steps: one index_select per sliced axis, clamped as ONNX says.
inline void slice_runtime(op_context& c) {
  const std::string x = c.in(0), o = c.out(0);
  const std::string st = temp(c, "starts"), en = temp(c, "ends"), ax = temp(c, "axes"), sp = temp(c, "steps");
  const std::string k = temp(c, "k"), a = temp(c, "a"), n = temp(c, "n"), b = temp(c, "b"), e = temp(c, "e"),
                    p = temp(c, "p");
  c.emit(st + " = " + int_list(c, 1));
  c.emit(en + " = " + int_list(c, 2));
  c.emit(ax + " = " + (c.has_input(3) ? int_list(c, 3) : "[i__ for i__ in range(len(" + st + "))]"));
  c.emit(sp + " = " + (c.has_input(4) ? int_list(c, 4) : "[1 for i__ in range(len(" + st + "))]"));
  c.assign(x);
  c.emit("for " + k + " in range(len(" + st + ")):");
  c.emit("    " + a + " = " + ax + "[" + k + "] % " + x + ".dim()");
  c.emit("    " + n + " = " + o + ".shape[" + a + "]");
  c.emit("    " + b + " = " + st + "[" + k + "]");
  c.emit("    " + e + " = " + en + "[" + k + "]");
  c.emit("    " + p + " = " + sp + "[" + k + "]");
  c.emit("    if " + b + " < 0:");
  c.emit("        " + b + " += " + n);
  c.emit("    if " + e + " < 0:");
  c.emit("        " + e + " += " + n);
  c.emit("    if " + p + " > 0:");
  c.emit("        " + b + " = min(max(" + b + ", 0), " + n + ")");
  c.emit("        " + e + " = max(min(max(" + e + ", 0), " + n + "), " + b + ")");
  c.emit("    else:");
  c.emit("        " + b + " = min(max(" + b + ", 0), " + n + " - 1)");
  c.emit("        " + e + " = min(min(max(" + e + ", -1), " + n + " - 1), " + b + ")");
  c.emit("    " + o + " = torch.index_select(" + o + ", " + a + ", torch.arange(" + b + ", " + e + ", " + p +
         ", device=" + x + ".device))");
}

inline void slice(op_context& c) {
  check_types(c);
  const int r = c.need_rank(0);
  std::vector<std::int64_t> starts, ends, axes, steps;
  if (c.opset < 10) {
    starts = c.attr_ints("starts");
    ends = c.attr_ints("ends");
    axes = c.attr_ints("axes");
  } else {
    bool computed = !c.constant(1) || !c.constant(2) || (c.has_input(3) && !c.constant(3)) ||
                    (c.has_input(4) && !c.constant(4));
    if (c.has_input(4) && c.constant(4))
      for (auto st : c.constant(4)->to_int64()) computed = computed || st <= 0;
    if (computed) {
      slice_runtime(c);
      return;
    }
    starts = c.constant_ints(1, "starts");
    ends = c.constant_ints(2, "ends");
    if (c.has_input(3)) axes = c.constant_ints(3, "axes");
    if (c.has_input(4)) steps = c.constant_ints(4, "steps");
  }
  if (axes.empty())
    for (std::size_t k = 0; k < starts.size(); ++k) axes.push_back(static_cast<std::int64_t>(k));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    c.unsupported("starts/ends/axes/steps of different lengths");
  std::vector<std::string> idx(static_cast<std::size_t>(r), ":");
  for (std::size_t k = 0; k < starts.size(); ++k) {
    const auto a = static_cast<std::size_t>(normalize_axis(c, axes[k], r));
    if (steps[k] <= 0) c.unsupported("steps that are not positive");
    idx[a] = std::to_string(starts[k]) + ":" + std::to_string(ends[k]) + (steps[k] != 1 ? ":" + std::to_string(steps[k]) : "");
  }
  while (!idx.empty() && idx.back() == ":") idx.pop_back();
  if (idx.empty()) c.assign(c.in(0));
  else c.assign(c.in(0) + "[" + join(idx) + "]");
}

inline void where(op_context& c) {
  check_types(c);
  c.assign("torch.where(" + c.in(0) + ", " + c.in(1) + ", " + c.in(2) + ")");
}

inline void mod(op_context& c) {
  check_types(c);
  const bool fmod = c.attr_int("fmod", 0) != 0;
  if (!fmod && is_float_type(c.elem_type(0))) c.unsupported("fmod=0 on floating-point inputs");
  c.assign(std::string(fmod ? "torch.fmod(" : "torch.remainder(") + c.in(0) + ", " + c.in(1) + ")");
}

inline void pow_op(op_context& c) {
  check_types(c);
  const auto t = c.elem_type(0);
  if (t == 0) c.unsupported("the element type of input 0 is not known");
  std::string e = "torch.pow(" + c.in(0) + ", " + c.in(1) + ")";
  if (!is_float_type(t) || c.elem_type(1) != t) e += ".to(" + c.in(0) + ".dtype)";
  c.assign(e);
}

inline void expand(op_context& c) {
  check_types(c);
  if (!c.constant(1)) {
    // numpy broadcasting of the input with a computed shape (a stride-0 view)
    const std::string z = temp(c, "zeros");
    c.emit(z + " = torch.zeros([1], dtype=" + c.in(0) + ".dtype).expand(" + int_list(c, 1) + ")");
    c.assign("torch.broadcast_tensors(" + c.in(0) + ", " + z + ")[0]");
    return;
  }
  auto shape = c.constant_ints(1, "the shape");
  auto in = c.shape(0);
  if (!in) c.unsupported("the input shape is not known");
  const std::size_t n = std::max(shape.size(), in->size());
  std::vector<std::int64_t> out(n);
  for (std::size_t k = 0; k < n; ++k) {
    const std::int64_t a = k + in->size() >= n ? (*in)[k + in->size() - n] : 1;
    const std::int64_t b = k + shape.size() >= n ? shape[k + shape.size() - n] : 1;
    if (a != b && a != 1 && b != 1) c.unsupported("shapes that do not broadcast");
    out[k] = a == 1 ? b : a;
  }
  c.assign("torch.broadcast_to(" + c.in(0) + ", " + python_int_list(out) + ")");
}

inline void tile(op_context& c) {
  check_types(c);
  c.assign(c.in(0) + ".repeat(" + int_list(c, 1) + ")");
}

inline void split(op_context& c) {
  check_types(c);
  const int r = c.need_rank(0);
  const std::int64_t axis = normalize_axis(c, c.attr_int("axis", 0), r);
  std::vector<std::int64_t> sizes;
  if (c.opset < 13) sizes = c.attr_ints("split");
  else if (c.has_input(1) && !c.constant(1)) {
    std::vector<std::string> outs;
    for (std::size_t k = 0; k < c.outputs.size(); ++k) {
      if (!c.has_output(k)) c.unsupported("an unnamed output");
      outs.push_back(c.outputs[k]);
    }
    const std::string lhs = outs.size() == 1 ? outs[0] + "," : join(outs);
    c.emit(lhs + " = torch.split(" + c.in(0) + ", " + int_list(c, 1) + ", " + std::to_string(axis) + ")");
    return;
  } else if (c.has_input(1)) sizes = c.constant_ints(1, "split");
  c.attr("num_outputs");
  if (sizes.empty()) {
    for (std::size_t k = 0; k < c.outputs.size(); ++k) {
      const auto* info = c.output_info[k];
      if (!info || !info->shape_known) c.unsupported("output sizes are not known");
      sizes.push_back(info->shape[static_cast<std::size_t>(axis)]);
    }
  }
  if (sizes.size() != c.outputs.size()) c.unsupported("split sizes and outputs differ in number");
  std::vector<std::string> outs;
  for (std::size_t k = 0; k < c.outputs.size(); ++k) {
    if (!c.has_output(k)) c.unsupported("an unnamed output");
    outs.push_back(c.outputs[k]);
  }
  const std::string lhs = outs.size() == 1 ? outs[0] + "," : join(outs);
  c.emit(lhs + " = torch.split(" + c.in(0) + ", " + python_int_list(sizes) + ", " + std::to_string(axis) + ")");
}

inline void cumsum(op_context& c) {
  check_types(c);
  const int r = c.need_rank(0);
  std::string a;
  if (c.constant(1)) {
    const auto ax = c.constant_ints(1, "axis");
    if (ax.size() != 1) c.unsupported("axis must be one value");
    a = std::to_string(normalize_axis(c, ax[0], r));
  } else {
    a = temp(c, "axis");
    c.emit(a + " = " + int_scalar(c, 1, "axis"));
  }
  const bool rev = c.attr_int("reverse", 0) != 0, excl = c.attr_int("exclusive", 0) != 0;
  std::string x = c.in(0);
  std::string e = rev ? "torch.flip(torch.cumsum(torch.flip(" + x + ", [" + a + "]), " + a + "), [" + a + "])"
                      : "torch.cumsum(" + x + ", " + a + ")";
  if (excl) e = "(" + e + " - " + x + ")";
  c.assign(e + ".to(" + x + ".dtype)");
}

inline void layer_norm(op_context& c) {
  check_types(c);
  require_float(c);
  const int r = c.need_rank(0);
  const std::int64_t axis = normalize_axis(c, c.attr_int("axis", -1), r);
  const bool extra = c.has_output(1) || c.has_output(2);
  if (extra || c.attr_int("stash_type", 1) != 1) {
    // the statistics are outputs too: spelled out, computed in float32 (stash_type 1)
    if (c.attr_int("stash_type", 1) != 1) c.unsupported("stash_type other than 1 (float)");
    std::vector<std::int64_t> dims;
    for (int d = static_cast<int>(axis); d < r; ++d) dims.push_back(d);
    const std::string x = c.in(0), xf = x + ".to(torch.float32)", ds = python_int_list(dims);
    const std::string mean = c.has_output(1) ? c.out(1) : c.out(0) + "__mean";  // "__" never occurs in a table identifier
    const std::string inv = c.has_output(2) ? c.out(2) : c.out(0) + "__inv_std";
    c.emit(mean + " = torch.mean(" + xf + ", " + ds + ", True)");
    c.emit(inv + " = torch.rsqrt(torch.mean(torch.square(" + xf + " - " + mean + "), " + ds + ", True) + " +
           python_float(c.attr_float("epsilon", 1e-5)) + ")");
    std::string y = "((" + xf + " - " + mean + ") * " + inv + ").to(" + x + ".dtype) * " + c.in(1);
    if (c.has_input(2)) y += " + " + c.in(2);
    c.assign(y);
    return;
  }
  const auto ws = c.shape(1);
  const auto xs = c.shape(0);
  if (!ws || !xs || ws->size() != static_cast<std::size_t>(r - axis) ||
      !std::equal(ws->begin(), ws->end(), xs->begin() + axis))
    c.unsupported("a scale whose shape is not the normalised shape");
  c.assign("F.layer_norm(" + c.in(0) + ", " + c.in(0) + ".shape[" + std::to_string(axis) + ":], " + c.in(1) + ", " +
           (c.has_input(2) ? c.in(2) : std::string("None")) + ", " + python_float(c.attr_float("epsilon", 1e-5)) + ")");
}

inline void trilu(op_context& c) {
  check_types(c);
  const std::string k = c.has_input(1) ? int_scalar(c, 1, "k") : "0";
  c.assign(std::string(c.attr_int("upper", 1) != 0 ? "torch.triu(" : "torch.tril(") + c.in(0) + ", " + k + ")");
}

inline void is_inf(op_context& c) {
  check_types(c);
  const bool pos = c.attr_int("detect_positive", 1) != 0, neg = c.attr_int("detect_negative", 1) != 0;
  if (pos && neg) c.assign("torch.isinf(" + c.in(0) + ")");
  else if (pos) c.assign("torch.isposinf(" + c.in(0) + ")");
  else if (neg) c.assign("torch.isneginf(" + c.in(0) + ")");
  else c.assign("torch.zeros_like(" + c.in(0) + ", dtype=torch.bool)");
}

inline void shrink(op_context& c) {
  check_types(c);
  require_float(c);
  const std::string l = python_float(c.attr_float("lambd", 0.5)), b = python_float(c.attr_float("bias", 0.0)), x = c.in(0);
  c.assign("torch.where(" + x + " < -" + l + ", " + x + " + " + b + ", torch.where(" + x + " > " + l + ", " + x + " - " + b +
           ", torch.zeros_like(" + x + ")))");
}

inline void hardmax(op_context& c) {
  check_types(c);
  const int r = c.need_rank(0);
  const std::int64_t axis = normalize_axis(c, c.attr_int("axis", c.opset < 13 ? 1 : -1), r);
  if (c.opset < 13 && axis != r - 1) c.unsupported("opset < 13 with an axis other than the last");
  const std::string x = c.in(0), a = std::to_string(axis);
  c.assign("F.one_hot(torch.argmax(" + x + ", " + a + "), " + x + ".shape[" + a + "]).movedim(-1, " + a + ").to(" + x +
           ".dtype)");
}

inline void depth_to_space(op_context& c) {
  check_types(c);
  const auto s = c.shape(0);
  if (!s || s->size() != 4) c.unsupported("needs a known 4-D input shape");
  const std::int64_t bs = c.attr_int("blocksize", 0), b = (*s)[0], ch = (*s)[1], h = (*s)[2], w = (*s)[3];
  if (bs <= 0 || ch % (bs * bs) != 0) c.unsupported("bad blocksize");
  const std::string mode = c.attr_string("mode", "DCR");
  const std::string cs = std::to_string(ch / (bs * bs)), B = std::to_string(b), BS = std::to_string(bs);
  const std::string out = python_int_list(std::vector<std::int64_t>{b, ch / (bs * bs), h * bs, w * bs});
  if (mode == "DCR")
    c.assign("torch.reshape(torch.reshape(" + c.in(0) + ", [" + B + ", " + BS + ", " + BS + ", " + cs + ", " +
             std::to_string(h) + ", " + std::to_string(w) + "]).permute([0, 3, 4, 1, 5, 2]), " + out + ")");
  else if (mode == "CRD")
    c.assign("F.pixel_shuffle(" + c.in(0) + ", " + BS + ")");
  else c.unsupported("mode " + python_string(mode));
}

inline void space_to_depth(op_context& c) {
  check_types(c);
  const auto s = c.shape(0);
  if (!s || s->size() != 4) c.unsupported("needs a known 4-D input shape");
  const std::int64_t bs = c.attr_int("blocksize", 0), b = (*s)[0], ch = (*s)[1], h = (*s)[2], w = (*s)[3];
  if (bs <= 0 || h % bs || w % bs) c.unsupported("bad blocksize");
  c.assign("torch.reshape(torch.reshape(" + c.in(0) + ", " +
           python_int_list(std::vector<std::int64_t>{b, ch, h / bs, bs, w / bs, bs}) + ").permute([0, 3, 5, 1, 2, 4]), " +
           python_int_list(std::vector<std::int64_t>{b, ch * bs * bs, h / bs, w / bs}) + ")");
}

inline void prelu(op_context& c) {
  check_types(c);
  c.assign("torch.where(" + c.in(0) + " < 0, " + c.in(0) + " * " + c.in(1) + ", " + c.in(0) + ")");
}

inline void thresholded_relu(op_context& c) {
  check_types(c);
  require_float(c);
  c.assign("F.threshold(" + c.in(0) + ", " + python_float(c.attr_float("alpha", 1.0)) + ", 0.0)");
}

inline void celu(op_context& c) {
  check_types(c);
  c.assign("F.celu(" + c.in(0) + ", " + python_float(c.attr_float("alpha", 1.0)) + ")");
}

inline void einsum(op_context& c) {
  check_types(c);
  std::vector<std::string> xs;
  for (std::size_t i = 0; i < c.num_inputs(); ++i) xs.push_back(c.in(i));
  c.assign("torch.einsum(" + python_string(c.attr_string("equation", "")) + ", [" + join(xs) + "])");
}

inline void conv_transpose(op_context& c) {
  check_types(c);
  const int r = c.need_rank(0);
  const int spatial = r - 2;
  if (spatial < 1 || spatial > 3) c.unsupported("ConvTranspose with " + std::to_string(spatial) + " spatial dimensions");
  std::vector<std::int64_t> wk;
  if (auto ws = c.shape(1)) wk.assign(ws->begin() + 2, ws->end());
  const auto kernel = c.attr_ints("kernel_shape", wk);
  if (static_cast<int>(kernel.size()) != spatial) c.unsupported("kernel_shape is not known");
  const auto sp = static_cast<std::size_t>(spatial);
  const auto strides = c.attr_ints("strides", std::vector<std::int64_t>(sp, 1));
  const auto dil = c.attr_ints("dilations", std::vector<std::int64_t>(sp, 1));
  auto pads = c.attr_ints("pads", std::vector<std::int64_t>(2 * sp, 0));
  const auto outpad = c.attr_ints("output_padding", std::vector<std::int64_t>(sp, 0));
  const auto out_shape = c.attr_ints("output_shape");
  const std::string ap = c.attr_string("auto_pad", "NOTSET");
  if (strides.size() != sp || dil.size() != sp || pads.size() != 2 * sp || outpad.size() != sp)
    c.unsupported("strides/dilations/pads/output_padding have the wrong length");
  if (ap != "NOTSET" && ap != "SAME_UPPER" && ap != "SAME_LOWER" && ap != "VALID") c.unsupported("auto_pad " + python_string(ap));
  if (!out_shape.empty() || ap == "SAME_UPPER" || ap == "SAME_LOWER") {
    // pads from the requested output size, as the ONNX spec computes them
    const auto xs = c.shape(0);
    if (!xs) c.unsupported("output_shape/auto_pad need the input shape, which is not known");
    std::vector<std::int64_t> want(out_shape.end() - std::min<std::ptrdiff_t>(static_cast<std::ptrdiff_t>(sp),
                                                                              static_cast<std::ptrdiff_t>(out_shape.size())),
                                   out_shape.end());
    if (out_shape.empty())
      for (std::size_t d = 0; d < sp; ++d) want.push_back((*xs)[d + 2] * strides[d]);
    if (want.size() != sp) c.unsupported("output_shape has the wrong length");
    for (std::size_t d = 0; d < sp; ++d) {
      const std::int64_t total = strides[d] * ((*xs)[d + 2] - 1) + outpad[d] + ((kernel[d] - 1) * dil[d] + 1) - want[d];
      if (total < 0) c.unsupported("an output_shape larger than the full transposed convolution");
      const bool upper = ap == "SAME_UPPER";  // else the odd one goes to the start, as the spec says
      pads[d] = upper ? total / 2 : total - total / 2;
      pads[d + sp] = upper ? total - total / 2 : total / 2;
    }
  } else if (ap == "VALID") {
    std::fill(pads.begin(), pads.end(), 0);
  }
  for (auto p : pads)
    if (p < 0) c.unsupported("negative pads");
  for (std::size_t d = 0; d < sp; ++d)
    if (outpad[d] < 0 || (outpad[d] >= strides[d] && outpad[d] >= dil[d]))
      c.unsupported("output_padding not below the stride or the dilation");
  // PyTorch pads symmetrically: the common part there, the rest cut off after
  std::vector<std::int64_t> sym(sp);
  bool cut = false;
  for (std::size_t d = 0; d < sp; ++d) {
    sym[d] = std::min(pads[d], pads[d + sp]);
    cut = cut || pads[d] != pads[d + sp];
  }
  c.assign("F.conv_transpose" + std::to_string(spatial) + "d(" + c.in(0) + ", " + c.in(1) + ", " +
           (c.has_input(2) ? c.in(2) : std::string("None")) + ", " + tuple(strides) + ", " + tuple(sym) + ", " +
           tuple(outpad) + ", " + std::to_string(c.attr_int("group", 1)) + ", " + tuple(dil) + ")");
  if (cut) {
    std::vector<std::string> idx{":", ":"};
    for (std::size_t d = 0; d < sp; ++d) {
      const std::int64_t b = pads[d] - sym[d], e = pads[d + sp] - sym[d];
      idx.push_back(std::to_string(b) + ":" + (e ? std::to_string(-e) : std::string()));
    }
    c.assign(c.out(0) + "[" + join(idx) + "]");
  }
}

inline void shape_op(op_context& c) {
  check_types(c);
  const int r = c.need_rank(0);
  std::int64_t start = c.attr_int("start", 0), end = c.attr_int("end", r);
  start = std::clamp<std::int64_t>(start < 0 ? start + r : start, 0, r);
  end = std::clamp<std::int64_t>(end < 0 ? end + r : end, 0, r);
  c.assign("torch.tensor(" + c.in(0) + ".shape[" + std::to_string(start) + ":" + std::to_string(std::max(start, end)) +
           "], dtype=torch.int64)");
}


// ------------------------------------------------------------ losses

/// The `reduction` attribute of the loss operators as a Python literal.
inline std::string loss_reduction(op_context& c) {
  const std::string r = c.attr_string("reduction", "mean");
  if (r != "mean" && r != "sum" && r != "none") c.unsupported("reduction " + python_string(r));
  return "'" + r + "'";
}

/// F.nll_loss's ignore_index: the attribute, else one no valid class equals
/// (ONNX targets lie in [0, C) when no ignore_index is given).
inline std::string loss_ignore_index(op_context& c) {
  const auto* a = c.attr("ignore_index");
  return a ? std::to_string(a->i()) : std::string("-100");
}

inline void nll_loss(op_context& c) {
  check_types(c);
  require_float(c);
  if (c.need_rank(0) < 2) c.unsupported("input of rank below 2");
  const std::string red = loss_reduction(c), ii = loss_ignore_index(c);
  c.assign("F.nll_loss(" + c.in(0) + ", " + c.in(1) + ".to(torch.int64), " + (c.has_input(2) ? c.in(2) : "None") +
           ", None, " + ii + ", None, " + red + ")");
}

inline void softmax_cross_entropy_loss(op_context& c) {
  check_types(c);
  require_float(c);
  if (c.need_rank(0) < 2) c.unsupported("input of rank below 2");
  const std::string red = loss_reduction(c), ii = loss_ignore_index(c);
  const std::string lp = c.has_output(1) ? c.out(1) : temp(c, "log_prob");
  c.emit(lp + " = torch.log_softmax(" + c.in(0) + ", 1)");
  c.assign("F.nll_loss(" + lp + ", " + c.in(1) + ".to(torch.int64), " + (c.has_input(2) ? c.in(2) : "None") +
           ", None, " + ii + ", None, " + red + ")");
}

// ------------------------------------------------------------ generators

/// A one-element constant tensor as a Python literal of its type.
inline std::string scalar_literal(op_context& c, const onnx::tensor& t, const char* what) {
  if (t.size() != 1) c.unsupported(std::string(what) + " must have one element");
  if (t.elem_type == ::onnx::TensorProto::BOOL) return t.to_int64()[0] ? "True" : "False";
  if (t.is_floating()) return python_float(t.as_double(0));
  return std::to_string(t.to_int64()[0]);
}

inline void constant_of_shape(op_context& c) {
  check_types(c);
  std::string value = "0.0", dtype = "torch.float32";
  if (const auto* a = c.attr("value")) {
    if (!a->has_t()) c.unsupported("value that is not a tensor");
    const auto t = onnx::from_proto(a->t());
    dtype = torch_dtype(t.elem_type);
    if (dtype.empty()) c.unsupported("value of type " + onnx::elem_type_name(t.elem_type));
    value = scalar_literal(c, t, "value");
  }
  c.assign("torch.full(" + int_list(c, 0) + ", " + value + ", dtype=" + dtype + ")");
}

/// Range: start + i * delta for i < max(ceil((limit - start) / delta), 0).
inline void range_op(op_context& c) {
  check_types(c);
  const auto t = c.elem_type(0);
  const std::string d = torch_dtype(t);
  if (d.empty()) c.unsupported("the element type of start is not known");
  const std::string s = c.in(0), l = c.in(1), dl = c.in(2), n = temp(c, "n");
  c.emit(n + " = torch.div(torch.sub(" + l + ".double(), " + s + ".double()), " + dl + ".double())");
  c.emit(n + "_len = int(torch.clamp(torch.ceil(" + n + "), min=0.0))");
  c.assign("torch.add(" + s + ", torch.mul(torch.arange(" + n + "_len, dtype=" + d + "), " + dl + ")).to(" + d + ")");
}

inline void eye_like(op_context& c) {
  check_types(c);
  if (c.need_rank(0) != 2) c.unsupported("input that is not 2-D");
  std::string d = "";
  if (const auto* a = c.attr("dtype")) {
    d = torch_dtype(static_cast<std::int32_t>(a->i()));
    if (d.empty()) c.unsupported("dtype " + onnx::elem_type_name(static_cast<std::int32_t>(a->i())));
  }
  const std::string x = c.in(0);
  if (d.empty()) d = x + ".dtype";
  const std::string k = std::to_string(c.attr_int("k", 0));
  const std::string diff = temp(c, "diff");
  c.emit(diff + " = torch.sub(torch.arange(" + x + ".shape[1]).unsqueeze(0), torch.arange(" + x +
         ".shape[0]).unsqueeze(1))");
  c.assign("torch.eq(" + diff + ", " + k + ").to(" + d + ")");
}

/// Hann/Hamming/Blackman windows (opset 17).
inline op_translation window_op(std::string kind) {
  return [kind](op_context& c) {
    check_types(c);
    const auto dt = static_cast<std::int32_t>(c.attr_int("output_datatype", ::onnx::TensorProto::FLOAT));
    if (!is_float_type(dt) || dt == ::onnx::TensorProto::BFLOAT16)
      c.unsupported("output_datatype " + onnx::elem_type_name(dt));
    const std::string periodic = c.attr_int("periodic", 1) != 0 ? "True" : "False";
    const std::string n = int_scalar(c, 0, "size"), d = torch_dtype(dt);
    if (kind == "hann") c.assign("torch.hann_window(" + n + ", " + periodic + ", dtype=" + d + ")");
    else if (kind == "hamming")
      c.assign("torch.hamming_window(" + n + ", " + periodic + ", " + python_float(25.0 / 46.0) + ", " +
               python_float(21.0 / 46.0) + ", dtype=" + d + ")");
    else c.assign("torch.blackman_window(" + n + ", " + periodic + ", dtype=" + d + ")");
  };
}

// ------------------------------------------------------------ indexing

inline void top_k(op_context& c) {
  check_types(c);
  const int r = c.need_rank(0);
  const std::string a = std::to_string(normalize_axis(c, c.attr_int("axis", -1), r));
  const bool largest = c.attr_int("largest", 1) != 0;
  c.ignore("sorted");  // the k elements are always returned sorted, which sorted=0 allows
  std::string k;
  if (c.opset < 10) k = std::to_string(c.attr_int("k", 0));
  else k = int_scalar(c, 1, "K");
  // a stable sort: among equal values the lower index comes first, as ONNX asks
  const std::string v = temp(c, "sorted"), i = temp(c, "order");
  c.emit(v + ", " + i + " = torch.sort(" + c.in(0) + ", stable=True, dim=" + a + ", descending=" +
         (largest ? "True" : "False") + ")");
  if (c.has_output(0)) c.assign(v + ".narrow(" + a + ", 0, " + k + ")", 0);
  if (c.has_output(1)) c.emit(c.out(1) + " = " + i + ".narrow(" + a + ", 0, " + k + ")");
}

inline void one_hot(op_context& c) {
  check_types(c);
  const int r = c.need_rank(0);
  const std::int64_t axis = normalize_axis(c, c.attr_int("axis", -1), r + 1);
  const std::string depth = c.constant(1) ? std::to_string(static_cast<long long>(c.constant(1)->as_double(0)))
                                          : "int(" + c.in(1) + ".reshape(-1)[0])";
  if (c.constant(1) && c.constant(1)->size() != 1) c.unsupported("depth must be one value");
  const std::string d = temp(c, "depth"), i = temp(c, "index"), v = c.in(2);
  c.emit(d + " = " + depth);
  c.emit(i + " = " + c.in(0) + ".to(torch.int64)");
  c.emit(i + " = torch.where(" + i + " < 0, " + i + " + " + d + ", " + i + ")");
  const std::string hot = temp(c, "hot");
  c.emit(hot + " = torch.eq(" + i + ".unsqueeze(-1), torch.arange(" + d + "))");
  c.assign("torch.where(" + hot + ".movedim(-1, " + std::to_string(axis) + "), " + v + "[1], " + v + "[0])");
}

inline void compress(op_context& c) {
  check_types(c);
  const std::string x = c.in(0), idx = "torch.nonzero(" + c.in(1) + ").reshape(-1)";
  if (c.has_attr("axis")) {
    const int r = c.need_rank(0);
    const std::int64_t axis = normalize_axis(c, c.attr_int("axis", 0), r);
    c.assign("torch.index_select(" + x + ", " + std::to_string(axis) + ", " + idx + ")");
  } else {
    c.assign("torch.index_select(" + x + ".reshape(-1), 0, " + idx + ")");
  }
}

inline void scatter_elements(op_context& c) {
  check_types(c);
  const int r = c.need_rank(0);
  const std::int64_t axis = normalize_axis(c, c.attr_int("axis", 0), r);
  const std::string red = c.attr_string("reduction", "none");
  const std::string x = c.in(0), idx = fixed_indices(x, c.in(1), axis), a = std::to_string(axis), u = c.in(2);
  if (red == "none") c.assign("torch.scatter(" + x + ", " + a + ", " + idx + ", " + u + ")");
  else if (red == "add") c.assign("torch.scatter_add(" + x + ", " + a + ", " + idx + ", " + u + ")");
  else if (red == "mul") c.assign("torch.scatter_reduce(" + x + ", " + a + ", " + idx + ", " + u + ", 'prod')");
  else if (red == "max") c.assign("torch.scatter_reduce(" + x + ", " + a + ", " + idx + ", " + u + ", 'amax')");
  else if (red == "min") c.assign("torch.scatter_reduce(" + x + ", " + a + ", " + idx + ", " + u + ", 'amin')");
  else c.unsupported("reduction " + python_string(red));
}

/// The flat (row-major) index into data's dimensions [b, b + k) of each
/// k-tuple of `indices`, negative entries counted from the end; plus the
/// batch offsets for GatherND's batch_dims b. Needs known shapes.
inline std::string nd_flat_index(op_context& c, const std::vector<std::int64_t>& ds, const std::vector<std::int64_t>& is,
                                 std::int64_t b) {
  const std::int64_t k = is.back();
  if (k < 1 || b + k > static_cast<std::int64_t>(ds.size())) c.unsupported("the last dimension of indices is out of range");
  const std::string idx = temp(c, "idx"), flat = temp(c, "flat"), e = temp(c, "e");
  c.emit(idx + " = " + c.in(1) + ".to(torch.int64)");
  std::int64_t stride = 1;
  for (std::int64_t j = 0; j < k; ++j) {
    const std::string n = std::to_string(ds[static_cast<std::size_t>(b + j)]);
    c.emit(e + " = " + idx + "[..., " + std::to_string(j) + "]");
    c.emit(e + " = torch.where(" + e + " < 0, " + e + " + " + n + ", " + e + ")");
    if (j == 0) c.emit(flat + " = " + e);
    else c.emit(flat + " = torch.add(torch.mul(" + flat + ", " + n + "), " + e + ")");
    stride *= ds[static_cast<std::size_t>(b + j)];
  }
  if (b > 0) {
    std::int64_t batches = 1;
    for (std::int64_t j = 0; j < b; ++j) batches *= ds[static_cast<std::size_t>(j)];
    std::vector<std::int64_t> bshape(is.begin(), is.begin() + b);
    for (std::size_t j = static_cast<std::size_t>(b); j + 1 < is.size(); ++j) bshape.push_back(1);
    c.emit(e + " = torch.arange(" + std::to_string(batches) + ").reshape(" + python_int_list(bshape) + ")");
    c.emit(flat + " = torch.add(" + flat + ", torch.mul(" + e + ", " + std::to_string(stride) + "))");
  }
  c.emit(flat + " = " + flat + ".reshape(-1)");
  return flat;
}

inline void gather_nd(op_context& c) {
  check_types(c);
  const auto ds = c.shape(0), is = c.shape(1);
  if (!ds || !is || is->empty()) c.unsupported("needs the shapes of data and indices");
  for (auto d : *ds)
    if (d < 0) c.unsupported("needs the shapes of data and indices");
  for (auto d : *is)
    if (d < 0) c.unsupported("needs the shapes of data and indices");
  const std::int64_t b = c.attr_int("batch_dims", 0);
  if (b < 0 || b >= static_cast<std::int64_t>(is->size())) c.unsupported("batch_dims out of range");
  const std::int64_t k = is->back();
  std::vector<std::int64_t> tail(ds->begin() + b + k, ds->end()), out(is->begin(), is->end() - 1), flat_shape{-1};
  out.insert(out.end(), tail.begin(), tail.end());
  flat_shape.insert(flat_shape.end(), tail.begin(), tail.end());
  const std::string flat = nd_flat_index(c, *ds, *is, b);
  c.assign(c.in(0) + ".reshape(" + python_int_list(flat_shape) + ")[" + flat + "]");
  c.assign(c.out(0) + ".reshape(" + python_int_list(out) + ")");
}

inline void scatter_nd(op_context& c) {
  check_types(c);
  const auto ds = c.shape(0), is = c.shape(1);
  if (!ds || !is || is->empty()) c.unsupported("needs the shapes of data and indices");
  for (auto d : *ds)
    if (d < 0) c.unsupported("needs the shapes of data and indices");
  for (auto d : *is)
    if (d < 0) c.unsupported("needs the shapes of data and indices");
  const std::string red = c.attr_string("reduction", "none");
  const std::int64_t k = is->back();
  std::vector<std::int64_t> flat_shape{-1};
  flat_shape.insert(flat_shape.end(), ds->begin() + std::min<std::int64_t>(k, static_cast<std::int64_t>(ds->size())),
                    ds->end());
  const std::string flat = nd_flat_index(c, *ds, *is, 0), o = c.out(0), fs = python_int_list(flat_shape);
  const std::string u = c.in(2) + ".reshape(" + fs + ")", f = flat;
  c.assign(c.in(0) + ".clone()");
  if (red == "none") c.emit(o + ".view(" + fs + ").index_copy_(0, " + f + ", " + u + ")");
  else if (red == "add") c.emit(o + ".view(" + fs + ").index_add_(0, " + f + ", " + u + ")");
  else if (red == "mul") c.emit(o + ".view(" + fs + ").index_reduce_(0, " + f + ", " + u + ", 'prod')");
  else if (red == "max") c.emit(o + ".view(" + fs + ").index_reduce_(0, " + f + ", " + u + ", 'amax')");
  else if (red == "min") c.emit(o + ".view(" + fs + ").index_reduce_(0, " + f + ", " + u + ", 'amin')");
  else c.unsupported("reduction " + python_string(red));
}

inline void non_zero(op_context& c) {
  check_types(c);
  if (c.need_rank(0) == 0) c.unsupported("a scalar input");
  c.assign("torch.nonzero(" + c.in(0) + ").t()");
}

inline void reverse_sequence(op_context& c) {
  check_types(c);
  const int r = c.need_rank(0);
  if (r < 2) c.unsupported("input of rank below 2");
  const std::int64_t ta = normalize_axis(c, c.attr_int("time_axis", 0), r),
                     ba = normalize_axis(c, c.attr_int("batch_axis", 1), r);
  if (ta == ba || ta > 1 || ba > 1) c.unsupported("time_axis and batch_axis must be 0 and 1");
  std::vector<std::int64_t> ts(static_cast<std::size_t>(r), 1), bs(static_cast<std::size_t>(r), 1);
  ts[static_cast<std::size_t>(ta)] = -1;
  bs[static_cast<std::size_t>(ba)] = -1;
  const std::string x = c.in(0), t = temp(c, "t"), l = temp(c, "len");
  c.emit(t + " = torch.arange(" + x + ".shape[" + std::to_string(ta) + "]).reshape(" + python_int_list(ts) + ")");
  c.emit(l + " = " + c.in(1) + ".to(torch.int64).reshape(" + python_int_list(bs) + ")");
  c.emit(t + " = torch.where(" + t + " < " + l + ", " + l + " - 1 - " + t + ", " + t + ")");
  c.assign("torch.gather(" + x + ", " + std::to_string(ta) + ", " + t + ".expand(" + x + ".shape))");
}

inline void unique(op_context& c) {
  check_types(c);
  const bool sorted = c.attr_int("sorted", 1) != 0;
  std::string x = c.in(0), dim = "0";
  if (c.has_attr("axis")) {
    const int r = c.need_rank(0);
    dim = std::to_string(normalize_axis(c, c.attr_int("axis", 0), r));
  } else {
    x = x + ".reshape(-1)";
  }
  const std::string y = temp(c, "y"), inv = temp(c, "inverse"), cnt = temp(c, "counts"), first = temp(c, "first"),
                    n = temp(c, "n");
  c.emit(y + ", " + inv + ", " + cnt + " = torch.unique(" + x + ", True, True, True, " + dim + ")");
  // index of each value's first occurrence: the smallest position mapped to it
  c.emit(n + " = " + inv + ".shape[0]");
  c.emit(first + " = torch.full([" + cnt + ".shape[0]], " + n + ", dtype=torch.int64)");
  c.emit(first + " = " + first + ".scatter_reduce(0, " + inv + ", torch.arange(" + n + "), 'amin')");
  if (!sorted) {
    // in the order of first occurrence
    const std::string perm = temp(c, "perm");
    c.emit(perm + " = torch.argsort(" + first + ")");
    c.emit(y + " = torch.index_select(" + y + ", " + dim + ", " + perm + ")");
    c.emit(inv + " = torch.argsort(" + perm + ")[" + inv + "]");
    c.emit(first + " = " + first + "[" + perm + "]");
    c.emit(cnt + " = " + cnt + "[" + perm + "]");
  }
  if (c.has_output(0)) c.emit(c.out(0) + " = " + y);
  if (c.has_output(1)) c.emit(c.out(1) + " = " + first);
  if (c.has_output(2)) c.emit(c.out(2) + " = " + inv);
  if (c.has_output(3)) c.emit(c.out(3) + " = " + cnt);
}

inline void bit_shift(op_context& c) {
  check_types(c);
  const std::string dir = c.attr_string("direction", "");
  if (dir == "LEFT") c.assign("torch.bitwise_left_shift(" + c.in(0) + ", " + c.in(1) + ")");
  else if (dir == "RIGHT") c.assign("torch.bitwise_right_shift(" + c.in(0) + ", " + c.in(1) + ")");
  else c.unsupported("direction " + python_string(dir));
}

// ------------------------------------------------------------ normalisation

inline void instance_norm(op_context& c) {
  check_types(c);
  require_float(c);
  if (c.need_rank(0) < 3) c.unsupported("input of rank below 3");
  c.assign("F.instance_norm(" + c.in(0) + ", None, None, " + c.in(1) + ", " + c.in(2) + ", True, 0.0, " +
           python_float(c.attr_float("epsilon", 1e-5)) + ")");
}

inline void lrn(op_context& c) {
  check_types(c);
  require_float(c);
  if (c.need_rank(0) < 3) c.unsupported("input of rank below 3");
  const std::int64_t size = c.attr_int("size", 0);
  // PyTorch's window is [c - size/2, c + (size-1)/2], ONNX's [c - (size-1)/2, c + size/2]: equal for odd sizes
  if (size <= 0 || size % 2 == 0) c.unsupported("size " + std::to_string(size) + " (only odd sizes)");
  c.assign("F.local_response_norm(" + c.in(0) + ", " + std::to_string(size) + ", " +
           python_float(c.attr_float("alpha", 1e-4)) + ", " + python_float(c.attr_float("beta", 0.75)) + ", " +
           python_float(c.attr_float("bias", 1.0)) + ")");
}

inline void mean_variance_norm(op_context& c) {
  check_types(c);
  require_float(c);
  const int r = c.need_rank(0);
  auto axes = c.attr_ints("axes", {0, 2, 3});
  for (auto& a : axes) a = normalize_axis(c, a, r);
  const std::string x = c.in(0), m = temp(c, "mean"), ds = python_int_list(axes);
  c.emit(m + " = torch.mean(" + x + ", " + ds + ", True)");
  const std::string sd = temp(c, "std");
  c.emit(sd + " = torch.sub(torch.mean(" + x + " * " + x + ", " + ds + ", True), " + m + " * " + m + ")");
  c.assign("torch.div(torch.sub(" + x + ", " + m + "), torch.add(torch.sqrt(" + sd + "), 1e-09))");
}

// ------------------------------------------------------------ quantisation

/// A scale or zero point reshaped to broadcast along `axis` of x (per-axis
/// quantisation) when it is 1-D, as it is when scalar.
inline std::string per_axis(op_context& c, std::size_t i, std::int64_t axis, int r) {
  const int qr = c.need_rank(i);
  if (qr == 0) return c.in(i);
  if (qr != 1) c.unsupported("input " + std::to_string(i) + " must be a scalar or 1-D");
  if (const auto s = c.shape(i); s && (*s)[0] == 1) return c.in(i);
  std::vector<std::int64_t> shape(static_cast<std::size_t>(r), 1);
  shape[static_cast<std::size_t>(axis)] = -1;
  return c.in(i) + ".reshape(" + python_int_list(shape) + ")";
}

inline std::pair<std::string, std::string> quant_range(op_context& c, std::int32_t t) {
  if (t == ::onnx::TensorProto::UINT8) return {"0", "255"};
  if (t == ::onnx::TensorProto::INT8) return {"-128", "127"};
  c.unsupported("quantised type " + onnx::elem_type_name(t));
}

/// The axis of per-axis quantisation (read always; checked only when the
/// scale is 1-D, the only case it is used).
inline std::int64_t quant_axis(op_context& c, int r) {
  const std::int64_t axis = c.attr_int("axis", 1);
  if (c.need_rank(1) == 0) return 0;
  if (const auto s = c.shape(1); s && s->size() == 1 && (*s)[0] == 1) return 0;
  return normalize_axis(c, axis, r);
}

inline void quantize_linear(op_context& c) {
  check_types(c);
  require_float(c);
  const int r = c.need_rank(0);
  const std::int64_t axis = quant_axis(c, r);
  const auto t = c.has_input(2) ? c.elem_type(2) : static_cast<std::int32_t>(::onnx::TensorProto::UINT8);
  const auto [lo, hi] = quant_range(c, t);
  std::string e = "torch.round(torch.div(" + c.in(0) + ", " + per_axis(c, 1, axis, r) + "))";
  if (c.has_input(2)) e = "torch.add(" + e + ", " + per_axis(c, 2, axis, r) + ")";
  c.assign("torch.clamp(" + e + ", " + lo + ", " + hi + ").to(" + torch_dtype(t) + ")");
}

inline void dequantize_linear(op_context& c) {
  check_types(c);
  const int r = c.need_rank(0);
  const std::int64_t axis = quant_axis(c, r);
  std::string e = c.in(0) + ".to(torch.float32)";
  if (c.has_input(2)) e = "torch.sub(" + e + ", " + per_axis(c, 2, axis, r) + ".to(torch.float32))";
  c.assign("torch.mul(" + e + ", " + per_axis(c, 1, axis, r) + ")");
}

inline void dynamic_quantize_linear(op_context& c) {
  check_types(c);
  if (c.elem_type(0) != ::onnx::TensorProto::FLOAT) c.unsupported("input that is not float32");
  const std::string x = c.in(0), lo = temp(c, "lo"), hi = temp(c, "hi"), s = temp(c, "scale"), z = temp(c, "zero");
  c.emit(lo + " = torch.clamp(torch.min(" + x + "), max=0.0)");
  c.emit(hi + " = torch.clamp(torch.max(" + x + "), min=0.0)");
  c.emit(s + " = (" + hi + " - " + lo + ") / 255.0");
  c.emit(z + " = torch.clamp(torch.round((0.0 - " + lo + ") / " + s + "), 0, 255)");
  c.assign("torch.clamp(torch.add(torch.round(torch.div(" + x + ", " + s + ")), " + z + "), 0, 255).to(torch.uint8)");
  if (c.has_output(1)) c.emit(c.out(1) + " = " + s);
  if (c.has_output(2)) c.emit(c.out(2) + " = " + z + ".to(torch.uint8)");
}

/// x minus its zero point, as int64 (exact for 8-bit inputs).
inline std::string minus_zero_point(op_context& c, std::size_t x, std::size_t zp) {
  std::string e = c.in(x) + ".to(torch.int64)";
  if (c.has_input(zp)) {
    if (c.need_rank(zp) > 1 || (c.rank(zp) == 1 && (!c.shape(zp) || (*c.shape(zp))[0] != 1)))
      c.unsupported("a zero point that is not a scalar");
    e = "torch.sub(" + e + ", " + c.in(zp) + ".to(torch.int64))";
  }
  return e;
}

inline void matmul_integer(op_context& c) {
  check_types(c);
  c.assign("torch.matmul(" + minus_zero_point(c, 0, 2) + ", " + minus_zero_point(c, 1, 3) + ").to(torch.int32)");
}

inline void qlinear_matmul(op_context& c) {
  check_types(c);
  for (std::size_t i : {1u, 4u, 6u, 7u})
    if (c.rank(i) > 1 || (c.rank(i) == 1 && (!c.shape(i) || (*c.shape(i))[0] != 1)))
      c.unsupported("per-axis scales or zero points");
  const auto t = c.elem_type(7);
  const auto [lo, hi] = quant_range(c, t);
  const std::string acc = temp(c, "acc"), sc = temp(c, "scale");
  c.emit(acc + " = torch.matmul(" + minus_zero_point(c, 0, 2) + ", " + minus_zero_point(c, 3, 5) + ")");
  c.emit(sc + " = torch.div(torch.mul(" + c.in(1) + ", " + c.in(4) + "), " + c.in(6) + ")");
  c.emit(acc + " = torch.round(torch.mul(" + acc + ".to(torch.float32), " + sc + "))");
  c.assign("torch.clamp(torch.add(" + acc + ", " + c.in(7) + ".to(torch.float32)), " + lo + ", " + hi + ").to(" +
           torch_dtype(t) + ")");
}

/// x - zero point in float64 (exact for 8-bit data); a 1-D weight zero
/// point is per output channel.
inline std::string conv_operand(op_context& c, std::size_t x, std::size_t zp, bool weight) {
  std::string e = c.in(x) + ".to(torch.float64)";
  if (!c.has_input(zp)) return e;
  std::string z = c.in(zp) + ".to(torch.float64)";
  const int zr = c.need_rank(zp);
  if (zr == 1 && weight) {
    std::vector<std::int64_t> shape(static_cast<std::size_t>(c.need_rank(x)), 1);
    shape[0] = -1;
    z += ".reshape(" + python_int_list(shape) + ")";
  } else if (zr != 0 && !(zr == 1 && c.shape(zp) && (*c.shape(zp))[0] == 1)) {
    c.unsupported("zero point of input " + std::to_string(zp) + " must be a scalar");
  }
  return "torch.sub(" + e + ", " + z + ")";
}

inline void conv_integer(op_context& c) {
  check_types(c);
  const std::string a = temp(c, "x"), w = temp(c, "w");
  c.emit(a + " = " + conv_operand(c, 0, 2, false));
  c.emit(w + " = " + conv_operand(c, 1, 3, true));
  c.assign(conv_call(c, a, w, "None"));
  c.assign("torch.round(" + c.out(0) + ").to(torch.int32)");
}

inline void qlinear_conv(op_context& c) {
  check_types(c);
  const auto t = c.elem_type(7);
  const auto [lo, hi] = quant_range(c, t);
  if (c.rank(1) > 0 || c.rank(6) > 0 || c.rank(7) > 0) c.unsupported("per-axis input or output quantisation");
  const std::string a = temp(c, "x"), w = temp(c, "w"), sc = temp(c, "scale");
  c.emit(a + " = " + conv_operand(c, 0, 2, false));
  c.emit(w + " = " + conv_operand(c, 3, 5, true));
  c.assign(conv_call(c, a, w, c.has_input(8) ? c.in(8) + ".to(torch.float64)" : "None", 3));
  std::string ws = c.in(4);
  if (c.rank(4) == 1) {
    std::vector<std::int64_t> shape(static_cast<std::size_t>(c.need_rank(0)), 1);
    shape[1] = -1;
    ws += ".reshape(" + python_int_list(shape) + ")";
  } else if (c.rank(4) != 0) {
    c.unsupported("w_scale must be a scalar or 1-D");
  }
  c.emit(sc + " = torch.div(torch.mul(" + c.in(1) + ", " + ws + "), " + c.in(6) + ")");
  c.assign("torch.round(torch.mul(" + c.out(0) + ", " + sc + ".to(torch.float64)))");
  c.assign("torch.clamp(torch.add(" + c.out(0) + ", " + c.in(7) + ".to(torch.float64)), " + lo + ", " + hi + ").to(" +
           torch_dtype(t) + ")");
}

// ------------------------------------------------------------ more

inline void grid_sample(op_context& c) {
  check_types(c);
  require_float(c);
  if (c.need_rank(0) != 4) c.unsupported("input that is not 4-D");
  const std::string mode = c.attr_string("mode", "bilinear"), pm = c.attr_string("padding_mode", "zeros");
  if (mode != "bilinear" && mode != "nearest" && mode != "bicubic") c.unsupported("mode " + python_string(mode));
  if (pm != "zeros" && pm != "border" && pm != "reflection") c.unsupported("padding_mode " + python_string(pm));
  c.assign("F.grid_sample(" + c.in(0) + ", " + c.in(1) + ", '" + mode + "', '" + pm + "', " +
           (c.attr_int("align_corners", 0) != 0 ? "True" : "False") + ")");
}

inline void max_unpool(op_context& c) {
  check_types(c);
  const int r = c.need_rank(0);
  const int spatial = r - 2;
  if (spatial < 1) c.unsupported("input of rank below 3");
  const auto sp = static_cast<std::size_t>(spatial);
  const auto kernel = c.attr_ints("kernel_shape");
  const auto strides = c.attr_ints("strides", std::vector<std::int64_t>(sp, 1));
  const auto pads = c.attr_ints("pads", std::vector<std::int64_t>(2 * sp, 0));
  if (kernel.size() != sp || strides.size() != sp || pads.size() != 2 * sp)
    c.unsupported("kernel_shape/strides/pads have the wrong length");
  const std::string x = c.in(0);
  // with output_shape, where the inferred output lies in the larger one is
  // not specified
  if (c.has_input(2)) c.unsupported("the output_shape input");
  std::string shape;
  {
    shape = "[" + x + ".shape[0], " + x + ".shape[1]";
    for (std::size_t d = 0; d < sp; ++d)
      shape += ", (" + x + ".shape[" + std::to_string(d + 2) + "] - 1) * " + std::to_string(strides[d]) + " + " +
               std::to_string(kernel[d] - pads[d] - pads[d + sp]);
    shape += "]";
  }
  const std::string s = temp(c, "shape");
  c.emit(s + " = " + shape);
  // the indices count over the whole output tensor (as MaxPool's do)
  std::string size = s + "[0] * " + s + "[1]";
  for (std::size_t d = 0; d < sp; ++d) size += " * " + s + "[" + std::to_string(d + 2) + "]";
  c.assign("torch.zeros([" + size + "], dtype=" + x + ".dtype)");
  c.assign(c.out(0) + ".scatter(0, " + c.in(1) + ".reshape(-1), " + x + ".reshape(-1))");
  c.assign(c.out(0) + ".reshape(" + s + ")");
}

// ------------------------------------------------------------ Resize

/// Resize (opset >= 11), Resize-10 and Upsample, as the ONNX reference
/// computes it: one axis after the other, each output coordinate mapped
/// back to the input (coordinate_transformation_mode), then the nearest
/// input element or a linear/cubic combination of its neighbours (indices
/// outside the input clamped to the edge, or with exclude_outside their
/// weights dropped and the rest renormalised). Scales and sizes may be
/// computed at run time.
inline void resize(op_context& c) {
  check_types(c);
  const int r = c.need_rank(0);
  const bool upsample = c.op() == "Upsample";
  const bool legacy = upsample || c.opset < 11;
  std::string mode = c.attr_string("mode", "nearest");
  if (legacy && (mode == "bilinear" || mode == "trilinear")) mode = "linear";
  if (mode != "nearest" && mode != "linear" && mode != "cubic") c.unsupported("mode " + python_string(mode));
  if (legacy && mode == "cubic") c.unsupported("mode cubic before opset 11");
  std::string ctm = "asymmetric", nearest = "floor";
  double a = -0.75, extrapolation = 0.0;
  bool exclude = false;
  if (!legacy) {
    ctm = c.attr_string("coordinate_transformation_mode", "half_pixel");
    nearest = c.attr_string("nearest_mode", "round_prefer_floor");
    a = c.attr_float("cubic_coeff_a", -0.75);
    exclude = c.attr_int("exclude_outside", 0) != 0;
    extrapolation = c.attr_float("extrapolation_value", 0.0);
  }
  if (c.has_attr("axes") || c.has_attr("keep_aspect_ratio_policy")) c.unsupported("axes / keep_aspect_ratio_policy");
  if (ctm != "half_pixel" && ctm != "pytorch_half_pixel" && ctm != "align_corners" && ctm != "asymmetric" &&
      ctm != "tf_crop_and_resize" && !(ctm == "tf_half_pixel_for_nn" && mode == "nearest"))
    c.unsupported("coordinate_transformation_mode " + python_string(ctm));
  if (nearest != "round_prefer_floor" && nearest != "round_prefer_ceil" && nearest != "floor" && nearest != "ceil")
    c.unsupported("nearest_mode " + python_string(nearest));
  if (exclude && mode == "nearest") c.unsupported("exclude_outside with mode nearest");
  if (mode != "nearest") require_float(c);

  // where the scales or sizes come from
  std::string scales, sizes;
  std::vector<double> const_scales;
  if (upsample && c.opset < 9) {
    const auto* at = c.attr("scales");
    if (!at) c.unsupported("scales missing");
    for (float f : at->floats()) const_scales.push_back(f);
    std::vector<std::string> parts;
    for (double f : const_scales) parts.push_back(python_float(f));
    scales = "[" + join(parts) + "]";
  } else if (legacy) {
    scales = c.in(1);
    if (const auto* t = c.constant(1))
      for (std::size_t i = 0; i < t->size(); ++i) const_scales.push_back(t->as_double(i));
  } else {
    const bool no_scales = !c.has_input(2) || (c.constant(2) && c.constant(2)->size() == 0);
    if (c.has_input(3) && no_scales) sizes = c.in(3);
    else if (c.has_input(2)) {
      if (c.has_input(3) && !(c.constant(3) && c.constant(3)->size() == 0))
        c.unsupported("both scales and sizes");
      scales = c.in(2);
      if (const auto* t = c.constant(2))
        for (std::size_t i = 0; i < t->size(); ++i) const_scales.push_back(t->as_double(i));
    } else c.unsupported("neither scales nor sizes");
  }
  if (legacy && mode == "nearest") {
    // floor is the legacy rule for upsampling only (Upsample requires scales >= 1)
    if (!upsample) {
      if (const_scales.empty()) c.unsupported("Resize-10 nearest with computed scales");
      for (double f : const_scales)
        if (f < 1) c.unsupported("Resize-10 nearest downsampling");
    }
  }
  if (!const_scales.empty() && static_cast<int>(const_scales.size()) != r) c.unsupported("scales of the wrong length");

  const std::string x = c.in(0), o = c.out(0);
  const std::string n = temp(c, "n"), m = temp(c, "m"), s = temp(c, "s"), w = temp(c, "w"), p = temp(c, "x");
  const std::string roi = ctm == "tf_crop_and_resize" ? c.in(1) : "";
  if (ctm == "tf_crop_and_resize" && !c.has_input(1)) c.unsupported("tf_crop_and_resize without roi");
  c.assign(x);
  for (int d = 0; d < r; ++d) {
    const std::string ds = std::to_string(d);
    if (!const_scales.empty() && const_scales[static_cast<std::size_t>(d)] == 1.0 && ctm != "tf_crop_and_resize")
      continue;  // the identity on this axis, whatever the mode
    c.emit(n + " = " + x + ".shape[" + ds + "]");
    if (!sizes.empty()) {
      c.emit(m + " = int(" + sizes + "[" + ds + "])");
      c.emit(s + " = " + m + " / " + n);
      c.emit(w + " = float(" + m + ")");
    } else {
      c.emit(s + " = float(" + scales + "[" + ds + "])");
      c.emit(w + " = " + n + " * " + s);
      c.emit(m + " = int(" + w + ")");
    }
    c.emit(p + " = torch.arange(" + m + ", dtype=torch.float64, device=" + x + ".device)");
    if (ctm == "half_pixel" || ctm == "pytorch_half_pixel") {
      c.emit(p + " = torch.sub(torch.div(torch.add(" + p + ", 0.5), " + s + "), 0.5)");
      if (ctm == "pytorch_half_pixel") {
        c.emit("if " + w + " == 1.0:");
        c.emit("    " + p + " = torch.full_like(" + p + ", -0.5)");
      }
    } else if (ctm == "tf_half_pixel_for_nn") {
      c.emit(p + " = torch.div(torch.add(" + p + ", 0.5), " + s + ")");
    } else if (ctm == "asymmetric") {
      c.emit(p + " = torch.div(" + p + ", " + s + ")");
    } else if (ctm == "align_corners") {
      c.emit("if " + w + " == 1.0:");
      c.emit("    " + p + " = torch.zeros_like(" + p + ")");
      c.emit("else:");
      c.emit("    " + p + " = torch.div(torch.mul(" + p + ", " + n + " - 1), " + w + " - 1)");
    } else {
      const std::string r0 = temp(c, "r0"), r1 = temp(c, "r1");
      c.emit(r0 + " = float(" + roi + "[" + ds + "])");
      c.emit(r1 + " = float(" + roi + "[" + std::to_string(d + r) + "])");
      c.emit("if " + w + " == 1.0:");
      c.emit("    " + p + " = torch.full_like(" + p + ", (" + r1 + " - " + r0 + ") * (" + n + " - 1) / 2)");
      c.emit("else:");
      c.emit("    " + p + " = torch.mul(" + p + ", (" + r1 + " - " + r0 + ") * (" + n + " - 1) / (" + w + " - 1))");
      c.emit(p + " = torch.add(" + p + ", " + r0 + " * (" + n + " - 1))");
    }
    std::vector<std::int64_t> bshape(static_cast<std::size_t>(r - d), 1);
    bshape[0] = -1;
    const std::string bs = python_int_list(bshape);
    const std::string y = temp(c, "y"), idx = temp(c, "i");
    auto clamp_index = [&](const std::string& i) {
      c.emit(i + " = torch.clamp(" + i + ", 0, " + n + " - 1).to(torch.int64)");
    };
    if (mode == "nearest") {
      if (nearest == "round_prefer_floor") c.emit(idx + " = torch.ceil(torch.sub(" + p + ", 0.5))");
      else if (nearest == "round_prefer_ceil") c.emit(idx + " = torch.floor(torch.add(" + p + ", 0.5))");
      else if (nearest == "floor") c.emit(idx + " = torch.floor(" + p + ")");
      else c.emit(idx + " = torch.ceil(" + p + ")");
      clamp_index(idx);
      c.emit(y + " = torch.index_select(" + o + ", " + ds + ", " + idx + ")");
    } else {
      // base = ceil(x) - 1 and ratio t in (0, 1], as the reference prefers
      // the left neighbour; tap k sits at base + offset_k
      const std::string base = temp(c, "base"), t = temp(c, "t"), v = temp(c, "v"), u = temp(c, "u");
      c.emit(base + " = torch.sub(torch.ceil(" + p + "), 1)");
      c.emit(t + " = torch.sub(" + p + ", " + base + ")");
      // weights as polynomials in the distance u to the tap (Horner, highest power first)
      struct tap {
        int offset;
        std::string distance;  // u as an expression of t
        std::vector<double> poly;
      };
      std::vector<tap> taps;
      if (mode == "linear") {
        taps = {{0, t, {-1.0, 1.0}}, {1, t, {1.0, 0.0}}};  // 1 - t and t
      } else {
        const std::vector<double> far{a, -5 * a, 8 * a, -4 * a}, near{a + 2, -(a + 3), 0.0, 1.0};
        taps = {{-1, "torch.add(" + t + ", 1.0)", far},
                {0, t, near},
                {1, "torch.rsub(" + t + ", 1.0)", near},
                {2, "torch.rsub(" + t + ", 2.0)", far}};
      }
      std::vector<std::string> ws;
      for (std::size_t k = 0; k < taps.size(); ++k) {
        const std::string wk = temp(c, "w" + std::to_string(k)), ik = temp(c, "i" + std::to_string(k));
        c.emit(u + " = " + taps[k].distance);
        c.emit(wk + " = torch.full_like(" + u + ", " + python_float(taps[k].poly[0]) + ")");
        for (std::size_t j = 1; j < taps[k].poly.size(); ++j)
          c.emit(wk + " = torch.add(torch.mul(" + wk + ", " + u + "), " + python_float(taps[k].poly[j]) + ")");
        c.emit(ik + " = torch.add(" + base + ", " + std::to_string(taps[k].offset) + ")");
        if (exclude) c.emit(wk + " = torch.where((" + ik + " < 0) | (" + ik + " > " + n + " - 1), torch.zeros_like(" + wk + "), " + wk + ")");
        ws.push_back(wk);
      }
      if (exclude) {
        const std::string sum = temp(c, "sum");
        c.emit(sum + " = " + ws[0]);
        for (std::size_t k = 1; k < ws.size(); ++k) c.emit(sum + " = torch.add(" + sum + ", " + ws[k] + ")");
        for (const auto& wk : ws) c.emit(wk + " = torch.div(" + wk + ", " + sum + ")");
      }
      for (std::size_t k = 0; k < taps.size(); ++k) {
        const std::string ik = temp(c, "i" + std::to_string(k));
        clamp_index(ik);
        c.emit(v + " = torch.index_select(" + o + ", " + ds + ", " + ik + ")");
        c.emit(v + " = torch.mul(" + v + ", " + ws[k] + ".reshape(" + bs + ").to(" + x + ".dtype))");
        c.emit(k == 0 ? y + " = " + v : y + " = torch.add(" + y + ", " + v + ")");
      }
    }
    if (ctm == "tf_crop_and_resize") {
      const std::string out = temp(c, "out");
      c.emit(out + " = torch.logical_or(" + p + " < 0, " + p + " > " + n + " - 1)");
      c.emit(y + " = torch.where(" + out + ".reshape(" + bs + "), torch.full_like(" + y + ", " +
             python_float(extrapolation) + "), " + y + ")");
    }
    c.emit(o + " = " + y);
  }
}

// ------------------------------------------------------------ recurrent

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
  if (const auto* a = c.attr("activations"))
    for (const auto& s : a->strings()) acts.push_back(s);
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
  if (const auto* a = c.attr("clip")) clip = python_float(a->f());
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

// ------------------------------------------------------------ detection, signal

/// NonMaxSuppression: per batch and class, the boxes by descending score
/// (equal scores: lower index first) with score > score_threshold, each
/// kept unless its IoU with a kept box exceeds iou_threshold, at most
/// max_output_boxes_per_class of them.
inline void non_max_suppression(op_context& c) {
  check_types(c);
  require_float(c);
  const std::int64_t center = c.attr_int("center_point_box", 0);
  if (center != 0 && center != 1) c.unsupported("center_point_box " + std::to_string(center));
  const std::string bx = c.in(0), sc = c.in(1), o = c.out(0);
  const std::string nb = temp(c, "boxes"), a = temp(c, "a"), b = temp(c, "b"), area = temp(c, "area"),
                    sel = temp(c, "selected"), limit = temp(c, "limit"), iou_t = temp(c, "iou_thr"),
                    sc_t = temp(c, "score_thr"), n = temp(c, "n"), cl = temp(c, "class"),
                    order = temp(c, "order"), kept = temp(c, "kept"), count = temp(c, "count"), i = temp(c, "i"),
                    k = temp(c, "k"), box = temp(c, "box"), lo = temp(c, "lo"), hi = temp(c, "hi"),
                    inter = temp(c, "inter"), uni = temp(c, "union"), iou = temp(c, "iou");
  c.emit(limit + " = " + (c.has_input(2) ? int_scalar(c, 2, "max_output_boxes_per_class") : std::string("0")));
  c.emit(iou_t + " = " + (c.has_input(3) ? "float(" + c.in(3) + ".reshape(-1)[0])" : std::string("0.0")));
  c.emit(sc_t + " = " + (c.has_input(4) ? "float(" + c.in(4) + ".reshape(-1)[0])" : std::string("-float('inf')")));
  // corners (y1, x1, y2, x2) with y1 <= y2 and x1 <= x2
  if (center == 0) {
    c.emit(a + " = torch.minimum(" + bx + "[..., :2], " + bx + "[..., 2:])");
    c.emit(b + " = torch.maximum(" + bx + "[..., :2], " + bx + "[..., 2:])");
  } else {
    // (x_center, y_center, width, height)
    c.emit(a + " = torch.sub(" + bx + "[..., :2], torch.div(" + bx + "[..., 2:], 2.0)).flip(-1)");
    c.emit(b + " = torch.add(" + bx + "[..., :2], torch.div(" + bx + "[..., 2:], 2.0)).flip(-1)");
  }
  c.emit(nb + " = torch.cat([" + a + ", " + b + "], -1)");
  c.emit(area + " = torch.mul(" + b + "[..., 0] - " + a + "[..., 0], " + b + "[..., 1] - " + a + "[..., 1])");
  c.emit(sel + " = [torch.zeros([0, 3], dtype=torch.int64)]");
  c.emit("for " + n + " in range(" + sc + ".shape[0]):");
  c.emit("    for " + cl + " in range(" + sc + ".shape[1]):");
  const std::string ss = temp(c, "s"), m = temp(c, "m"), sup = temp(c, "sup");
  c.emit("        " + ss + " = " + sc + "[" + n + ", " + cl + "]");
  c.emit("        " + order + " = torch.sort(" + ss + ", stable=True, descending=True)[1]");
  c.emit("        " + order + " = " + order + "[torch.gt(" + ss + "[" + order + "], " + sc_t + ")]");
  c.emit("        " + kept + " = " + order + "[:0]");
  c.emit("        " + count + " = 0");
  c.emit("        " + m + " = " + order + ".shape[0]");
  c.emit("        for " + k + " in range(" + m + "):");
  c.emit("            " + i + " = int(" + order + "[" + k + "])");
  c.emit("            if " + count + " >= " + limit + ":");
  c.emit("                break");
  c.emit("            " + box + " = " + nb + "[" + n + ", " + i + "]");
  c.emit("            " + lo + " = torch.maximum(" + box + "[:2], " + nb + "[" + n + ", " + kept + ", :2])");
  c.emit("            " + hi + " = torch.minimum(" + box + "[2:], " + nb + "[" + n + ", " + kept + ", 2:])");
  c.emit("            " + inter + " = torch.clamp(torch.sub(" + hi + ", " + lo + "), min=0.0).prod(-1)");
  c.emit("            " + uni + " = torch.sub(torch.add(" + area + "[" + n + ", " + i + "], " + area + "[" + n + ", " +
         kept + "]), " + inter + ")");
  c.emit("            " + iou + " = torch.where(torch.logical_and(" + inter + " > 0, " + uni + " > 0), torch.div(" +
         inter + ", " + uni + "), torch.zeros_like(" + inter + "))");
  c.emit("            " + sup + " = bool(torch.any(torch.gt(" + iou + ", " + iou_t + ")))");
  c.emit("            if " + sup + ":");
  c.emit("                continue");
  c.emit("            " + kept + " = torch.cat([" + kept + ", " + order + "[" + k + ":" + k + " + 1]])");
  c.emit("            " + count + " += 1");
  c.emit("            " + sel + ".append(torch.tensor([[" + n + ", " + cl + ", " + i + "]]))");
  c.assign("torch.cat(" + sel + ")");
}

/// DFT-17: along `axis` of a real ([..., 1]) or complex ([..., 2]) signal.
inline void dft(op_context& c) {
  check_types(c);
  require_float(c);
  if (c.elem_type(0) == ::onnx::TensorProto::BFLOAT16 || c.elem_type(0) == ::onnx::TensorProto::FLOAT16)
    c.unsupported("16-bit input");
  const auto s = c.shape(0);
  if (!s || s->empty() || ((*s).back() != 1 && (*s).back() != 2)) c.unsupported("the last dimension must be known, 1 or 2");
  const int r = static_cast<int>(s->size());
  std::int64_t axis = c.attr_int("axis", 1);
  if (axis < 0) axis += r;
  if (axis < 0 || axis >= r - 1) c.unsupported("axis out of range");
  const bool inverse = c.attr_int("inverse", 0) != 0, onesided = c.attr_int("onesided", 0) != 0;
  const bool real = s->back() == 1;
  if (onesided && (inverse || !real)) c.unsupported("onesided with an inverse or complex transform");
  const std::string x = c.in(0), z = temp(c, "z");
  // in double precision, as the reference (numpy) computes it
  c.emit(z + " = " + (real ? x + "[..., 0].double()" : "torch.view_as_complex(" + x + ".double().contiguous())"));
  const std::string n = c.has_input(1) ? int_scalar(c, 1, "dft_length") : std::string("None");
  c.emit(z + " = torch.fft." + (inverse ? "ifft" : "fft") + "(" + z + ", " + n + ", " + std::to_string(axis) + ")");
  if (onesided) c.emit(z + " = " + z + ".narrow(" + std::to_string(axis) + ", 0, " + z + ".shape[" + std::to_string(axis) + "] // 2 + 1)");
  c.assign("torch.view_as_real(" + z + ").to(" + x + ".dtype)");
}

/// STFT-17 of a real signal [batch, length, 1]: frames of frame_length every
/// frame_step, times the window, each transformed (onesided: the first
/// half + 1 bins).
inline void stft(op_context& c) {
  check_types(c);
  require_float(c);
  const auto s = c.shape(0);
  if (!s || s->size() != 3 || (*s)[2] != 1) c.unsupported("needs a real signal of known shape [batch, length, 1]");
  const bool onesided = c.attr_int("onesided", 1) != 0;
  const std::string x = c.in(0), f = temp(c, "frames"), len = temp(c, "length");
  if (c.has_input(3)) c.emit(len + " = " + int_scalar(c, 3, "frame_length"));
  else if (c.has_input(2)) c.emit(len + " = " + c.in(2) + ".shape[0]");
  else c.unsupported("neither window nor frame_length");
  const std::string step = temp(c, "step");
  c.emit(step + " = " + int_scalar(c, 1, "frame_step"));
  c.emit(f + " = " + x + "[..., 0].double()");
  c.emit(f + " = " + f + ".unfold(1, " + len + ", " + step + ")");
  if (c.has_input(2)) c.emit(f + " = torch.mul(" + f + ", " + c.in(2) + ".double())");
  c.emit(f + " = torch.fft.fft(" + f + ", None, -1)");
  if (onesided) c.emit(f + " = " + f + ".narrow(-1, 0, " + len + " // 2 + 1)");
  c.assign("torch.view_as_real(" + f + ").to(" + x + ".dtype)");
}

/// TfIdfVectorizer over integers: for each n in [min, max] and skip in
/// [0, max_skip_count] (unigrams once), every n-gram of X with items
/// skip + 1 apart that is in the pool counts at its ngram_indexes entry;
/// TF: the counts, IDF: weight where the count is not 0, TFIDF: count *
/// weight.
inline void tfidf_vectorizer(op_context& c) {
  check_types(c);
  using tp = ::onnx::TensorProto;
  if (c.elem_type(0) != tp::INT32 && c.elem_type(0) != tp::INT64) c.unsupported("input that is not int32/int64");
  const int r = c.need_rank(0);
  if (r != 1 && r != 2) c.unsupported("input of rank other than 1 or 2");
  const std::string mode = c.attr_string("mode", "");
  if (mode != "TF" && mode != "IDF" && mode != "TFIDF") c.unsupported("mode " + python_string(mode));
  const std::int64_t lo = c.attr_int("min_gram_length", 0), hi = c.attr_int("max_gram_length", 0),
                     skips = c.attr_int("max_skip_count", 0);
  const auto counts = c.attr_ints("ngram_counts"), indexes = c.attr_ints("ngram_indexes"), pool = c.attr_ints("pool_int64s");
  if (c.has_attr("pool_strings")) c.unsupported("pool_strings");
  std::vector<double> weights;
  if (const auto* a = c.attr("weights"))
    for (float f : a->floats()) weights.push_back(f);
  if (lo < 1 || hi < lo || skips < 0 || counts.empty() || indexes.empty()) c.unsupported("bad gram lengths or pool");
  if (!weights.empty() && weights.size() != indexes.size()) c.unsupported("weights and ngram_indexes differ in length");
  std::int64_t width = 0;
  for (auto i : indexes) {
    if (i < 0) c.unsupported("negative ngram_indexes");
    width = std::max(width, i + 1);
  }
  if (std::set<std::int64_t>(indexes.begin(), indexes.end()).size() != indexes.size())
    c.unsupported("ngram_indexes with repeated entries");
  // the pool's n-grams, grouped by n, and their index into ngram_indexes
  std::size_t entry = 0;
  const std::string x = c.in(0), o = c.out(0), cnt = temp(c, "counts"), len = temp(c, "len"), idx = temp(c, "idx"),
                    grams = temp(c, "grams"), hit = temp(c, "hit");
  c.emit(cnt + " = torch.zeros(" + x + ".shape[:-1] + [" + std::to_string(width) + "], dtype=torch.int64)");
  for (std::size_t g = 0; g < counts.size(); ++g) {
    const std::int64_t n = static_cast<std::int64_t>(g) + 1;
    const std::int64_t begin = counts[g], end = g + 1 < counts.size() ? counts[g + 1] : static_cast<std::int64_t>(pool.size());
    if (begin < 0 || end < begin || end > static_cast<std::int64_t>(pool.size()) || (end - begin) % n != 0)
      c.unsupported("ngram_counts do not split the pool");
    const std::size_t k = static_cast<std::size_t>((end - begin) / n);
    if (entry + k > indexes.size()) c.unsupported("fewer ngram_indexes than pool n-grams");
    std::vector<std::int64_t> outs(indexes.begin() + static_cast<std::ptrdiff_t>(entry),
                                   indexes.begin() + static_cast<std::ptrdiff_t>(entry + k));
    entry += k;
    if (n < lo || n > hi || k == 0) continue;
    std::string table = "[";
    for (std::size_t j = 0; j < k; ++j) {
      std::vector<std::int64_t> gram(pool.begin() + begin + static_cast<std::ptrdiff_t>(j) * n,
                                     pool.begin() + begin + static_cast<std::ptrdiff_t>(j + 1) * n);
      table += (j ? ", " : "") + python_int_list(gram);
    }
    table += "]";
    const std::string tb = temp(c, "pool" + std::to_string(n)), ob = temp(c, "index" + std::to_string(n));
    c.emit(tb + " = torch.tensor(" + table + ", dtype=" + x + ".dtype)");
    c.emit(ob + " = torch.tensor(" + python_int_list(outs) + ", dtype=torch.int64)");
    for (std::int64_t s = 0; s <= (n == 1 ? 0 : skips); ++s) {
      const std::int64_t span = (n - 1) * (s + 1);
      c.emit(len + " = " + x + ".shape[-1] - " + std::to_string(span));
      c.emit("if " + len + " > 0:");
      c.emit("    " + idx + " = torch.arange(" + len + ").unsqueeze(1)");
      c.emit("    " + idx + " = torch.add(" + idx + ", torch.mul(torch.arange(" + std::to_string(n) + "), " +
             std::to_string(s + 1) + "))");
      c.emit("    " + grams + " = torch.index_select(" + x + ", -1, " + idx + ".reshape(-1))");
      c.emit("    " + grams + " = " + grams + ".reshape(" + x + ".shape[:-1] + [" + len + ", " + std::to_string(n) + "])");
      c.emit("    " + hit + " = torch.eq(" + grams + ".unsqueeze(-2), " + tb + ").all(-1)");
      c.emit("    " + hit + " = " + hit + ".sum(-2)");
      c.emit("    " + cnt + " = torch.index_add(" + cnt + ", -1, " + ob + ", " + hit + ")");
    }
  }
  std::string w = "1.0";
  if (!weights.empty()) {
    // weights are per ngram_indexes entry: gathered onto the output positions
    std::vector<double> per(static_cast<std::size_t>(width), 0.0);
    for (std::size_t j = 0; j < indexes.size(); ++j) per[static_cast<std::size_t>(indexes[j])] = weights[j];
    std::vector<std::string> ws;
    for (double v : per) ws.push_back(python_float(v));
    w = temp(c, "weights");
    c.emit(w + " = torch.tensor([" + join(ws) + "], dtype=torch.float32)");
  }
  if (mode == "TF") c.assign(cnt + ".to(torch.float32)");
  else if (mode == "IDF") c.assign("torch.mul(torch.gt(" + cnt + ", 0).to(torch.float32), " + w + ")");
  else c.assign("torch.mul(" + cnt + ".to(torch.float32), " + w + ")");
}

}  // namespace detail

/// The table of translations, keyed by (default-domain) op type.
class op_registry {
 public:
  /// The built-in translations.
  static const op_registry& standard() {
    static const op_registry r = make_standard();
    return r;
  }

  void add(const std::string& op_type, op_translation f) { table_[op_type] = std::move(f); }
  bool supports(const std::string& op_type) const { return table_.count(op_type) > 0; }
  std::vector<std::string> op_types() const {
    std::vector<std::string> v;
    for (const auto& [k, f] : table_) v.push_back(k);
    return v;
  }

  /// Runs the translation of c's node; then checks that every attribute was
  /// read. \throws unsupported_op naming the op (and attribute).
  void translate(op_context& c) const {
    const auto& n = *c.node;
    if (!(n.domain().empty() || n.domain() == "ai.onnx"))
      c.unsupported("domain " + python_string(n.domain()) + " is not supported");
    auto it = table_.find(n.op_type());
    if (it == table_.end()) c.unsupported("not supported by the PyTorch back end");
    c.input_used.assign(c.inputs.size(), 0);
    it->second(c);
    for (const auto& a : n.attribute())
      if (!c.attributes_read.count(a.name()))
        c.unsupported("attribute " + python_string(a.name()) + " is not supported");
  }

 private:
  static op_registry make_standard() {
    using namespace detail;
    op_registry r;
    // element-wise
    r.add("Relu", relu);
    r.add("Sigmoid", unary("torch.sigmoid"));
    r.add("Tanh", unary("torch.tanh"));
    r.add("Exp", unary("torch.exp"));
    r.add("Log", unary("torch.log"));
    r.add("Sqrt", unary("torch.sqrt"));
    r.add("Abs", unary("torch.abs"));
    r.add("Neg", unary("torch.neg"));
    r.add("Reciprocal", unary("torch.reciprocal"));
    r.add("Floor", unary("torch.floor"));
    r.add("Ceil", unary("torch.ceil"));
    r.add("Erf", unary("torch.erf"));
    r.add("Sin", unary("torch.sin"));
    r.add("Cos", unary("torch.cos"));
    r.add("Tan", unary("torch.tan"));
    r.add("Asin", unary("torch.asin"));
    r.add("Acos", unary("torch.acos"));
    r.add("Atan", unary("torch.atan"));
    r.add("Sinh", unary("torch.sinh"));
    r.add("Cosh", unary("torch.cosh"));
    r.add("Asinh", unary("torch.asinh"));
    r.add("Acosh", unary("torch.acosh"));
    r.add("Atanh", unary("torch.atanh"));
    r.add("Sign", unary("torch.sign"));
    r.add("Round", unary("torch.round"));  // both round half to even
    r.add("Not", unary("torch.logical_not"));
    r.add("Softplus", unary("F.softplus"));
    r.add("Softsign", unary("F.softsign"));
    r.add("IsNaN", unary("torch.isnan"));
    r.add("LeakyRelu", leaky_relu);
    r.add("Elu", elu);
    r.add("Selu", selu);
    r.add("HardSigmoid", hard_sigmoid);
    r.add("Clip", clip);
    r.add("Add", binary("torch.add"));
    r.add("Sub", binary("torch.sub"));
    r.add("Mul", binary("torch.mul"));
    r.add("Div", div);
    r.add("Pow", pow_op);
    r.add("Equal", binary("torch.eq"));
    r.add("Less", binary("torch.lt"));
    r.add("LessOrEqual", binary("torch.le"));
    r.add("Greater", binary("torch.gt"));
    r.add("GreaterOrEqual", binary("torch.ge"));
    r.add("And", binary("torch.logical_and"));
    r.add("Or", binary("torch.logical_or"));
    r.add("Xor", binary("torch.logical_xor"));
    r.add("Sum", variadic("torch.add"));
    r.add("Max", variadic("torch.maximum"));
    r.add("Min", variadic("torch.minimum"));
    r.add("Mean", variadic("torch.add", true));
    r.add("Softmax", [](op_context& c) { softmax_like(c, "torch.softmax"); });
    r.add("LogSoftmax", [](op_context& c) { softmax_like(c, "torch.log_softmax"); });
    r.add("Cast", cast);
    r.add("Identity", [](op_context& c) {
      check_types(c);
      c.assign(c.in(0));
    });
    r.add("Dropout", [](op_context& c) {
      c.ignore("seed");
      if (c.has_output(1)) c.emit(c.out(1) + " = torch.ones_like(" + c.in(0) + ", dtype=torch.bool)");
      if (c.opset < 7 && c.attr_int("is_test", 0) == 0) c.unsupported("is_test=0 (training)");
      c.ignore("ratio");
      if (c.has_input(2)) {
        const auto* t = c.constant(2);
        if (!t || t->size() != 1 || t->as_double(0) != 0) c.unsupported("training_mode that is not constant false");
      }
      check_types(c);
      c.assign(c.in(0));
    });
    // convolution, pooling, normalisation
    r.add("Conv", conv);
    r.add("MaxPool", max_pool);
    r.add("AveragePool", average_pool);
    r.add("GlobalAveragePool", [](op_context& c) { global_pool(c, "mean"); });
    r.add("GlobalMaxPool", [](op_context& c) { global_pool(c, "amax"); });
    r.add("BatchNormalization", batch_norm);
    // linear algebra
    r.add("Gemm", gemm);
    r.add("MatMul", matmul);
    // shapes
    r.add("Concat", concat);
    r.add("Flatten", flatten);
    r.add("Reshape", reshape);
    r.add("Transpose", transpose);
    r.add("Squeeze", squeeze);
    r.add("Unsqueeze", unsqueeze);
    r.add("Pad", pad);
    // reductions
    r.add("ReduceSum", reduce("sum", 13));
    r.add("ReduceMean", reduce("mean", 18));
    r.add("ReduceMax", reduce("max", 18));
    r.add("ReduceMin", reduce("min", 18));
    r.add("ReduceProd", reduce("prod", 18));
    r.add("ReduceL1", reduce("l1", 18));
    r.add("ReduceL2", reduce("l2", 18));
    r.add("ReduceSumSquare", reduce("sumsquare", 18));
    r.add("ReduceLogSum", reduce("logsum", 18));
    r.add("ReduceLogSumExp", reduce("logsumexp", 18));
    r.add("ArgMax", arg_reduce("torch.argmax"));
    r.add("ArgMin", arg_reduce("torch.argmin"));
    // indexing and more
    r.add("Gather", gather);
    r.add("GatherElements", gather_elements);
    r.add("Slice", slice);
    r.add("Where", where);
    r.add("Mod", mod);
    r.add("Expand", expand);
    r.add("Tile", tile);
    r.add("Split", split);
    r.add("CumSum", cumsum);
    r.add("LayerNormalization", layer_norm);
    r.add("Trilu", trilu);
    r.add("IsInf", is_inf);
    r.add("Shrink", shrink);
    r.add("Hardmax", hardmax);
    r.add("DepthToSpace", depth_to_space);
    r.add("SpaceToDepth", space_to_depth);
    r.add("PRelu", prelu);
    r.add("ThresholdedRelu", thresholded_relu);
    r.add("Celu", celu);
    r.add("HardSwish", unary("F.hardswish"));
    r.add("Mish", unary("F.mish"));
    r.add("Einsum", einsum);
    r.add("ConvTranspose", conv_transpose);
    r.add("Shape", shape_op);
    r.add("Size", [](op_context& c) { c.assign("torch.tensor(" + c.in(0) + ".numel(), dtype=torch.int64)"); });
    r.add("NegativeLogLikelihoodLoss", nll_loss);
    r.add("SoftmaxCrossEntropyLoss", softmax_cross_entropy_loss);
    r.add("ConstantOfShape", constant_of_shape);
    r.add("Range", range_op);
    r.add("EyeLike", eye_like);
    r.add("HannWindow", window_op("hann"));
    r.add("HammingWindow", window_op("hamming"));
    r.add("BlackmanWindow", window_op("blackman"));
    r.add("TopK", top_k);
    r.add("OneHot", one_hot);
    r.add("Compress", compress);
    r.add("ScatterElements", scatter_elements);
    r.add("Scatter", scatter_elements);
    r.add("GatherND", gather_nd);
    r.add("ScatterND", scatter_nd);
    r.add("NonZero", non_zero);
    r.add("ReverseSequence", reverse_sequence);
    r.add("Unique", unique);
    r.add("BitShift", bit_shift);
    r.add("InstanceNormalization", instance_norm);
    r.add("LRN", lrn);
    r.add("MeanVarianceNormalization", mean_variance_norm);
    r.add("QuantizeLinear", quantize_linear);
    r.add("DequantizeLinear", dequantize_linear);
    r.add("DynamicQuantizeLinear", dynamic_quantize_linear);
    r.add("MatMulInteger", matmul_integer);
    r.add("ConvInteger", conv_integer);
    r.add("NonMaxSuppression", non_max_suppression);
    r.add("DFT", dft);
    r.add("TfIdfVectorizer", tfidf_vectorizer);
    r.add("STFT", stft);
    r.add("RNN", [](op_context& c) { recurrent(c, "RNN"); });
    r.add("GRU", [](op_context& c) { recurrent(c, "GRU"); });
    r.add("LSTM", [](op_context& c) { recurrent(c, "LSTM"); });
    r.add("QLinearConv", qlinear_conv);
    r.add("QLinearMatMul", qlinear_matmul);
    r.add("GridSample", grid_sample);
    r.add("MaxUnpool", max_unpool);
    r.add("Det", unary("torch.linalg.det"));
    r.add("Resize", resize);
    r.add("Upsample", resize);
    r.add("CastLike", [](op_context& c) {
      check_types(c);
      c.ignore("saturate");
      const auto to = c.elem_type(1);
      if (to == 0) c.unsupported("the element type of input 1 is not known");
      c.assign(cast_expr(c, c.in(0), c.elem_type(0), to));
    });
    return r;
  }

  std::map<std::string, op_translation> table_;
};

}  // namespace dfgpar::pytorch
