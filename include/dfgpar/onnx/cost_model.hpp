#pragma once
/// \file cost_model.hpp
/// Analytic per-node cost of an ONNX model: FLOPs and bytes moved from the
/// inferred shapes, turned into microseconds by a roofline
///   time = max(flops / peak, bytes / bandwidth) + overhead,
/// and edge (hand-off) cost latency + bytes / bandwidth.
///
/// Default constants (`roofline_defaults`) were calibrated on the development
/// machine (2-core AMD EPYC, Debian 12, Debian torch 1.13 with oneDNN, one
/// intra-op thread) with bench/calibrate_roofline.py and bench/calibrate_comm.cpp,
/// taking the best of four runs. The box was shared (load average 10-12 on 2
/// cores) during calibration, so the figures are pessimistic; rerun both
/// programs on an idle machine and pass the printed values in
/// `load_options::costs`.

#include <dfgpar/onnx/attributes.hpp>
#include <dfgpar/onnx/graph.hpp>
#include <dfgpar/onnx/op_table.hpp>

#include <onnx/defs/schema.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>

namespace dfgpar::onnx {

/// The calibrated constants (see bench/calibrate_roofline.py).
inline constexpr roofline roofline_defaults{
    .peak_gflops = 15.0,        // Conv2d 64->64 3x3 on 56x56 (oneDNN), best of 4 runs: 8.8-14.9 GFLOP/s
    .bandwidth_gbs = 4.7,       // torch.add on 3 x 64 MiB fp32: 3.5-4.7 GB/s
    .overhead_us = 6.8,         // torch.add on 1-element tensors (dispatch of one eager op): 6.8-7.9 µs
    .comm_latency_us = 2.0,     // one-way atomic hand-off between two threads (spin, then wait): 2.1-33 µs under load
    .comm_bandwidth_gbs = 12.0, // reading 4 MiB the other thread has just written: 7.6-13.4 GB/s
    .unknown_op_us = 20.0,      // an unknown operator: about a mid-sized element-wise op (not measured)
};

/// `r` with every unset field taken from `roofline_defaults`.
inline roofline resolve(roofline r) {
  const roofline& d = roofline_defaults;
  if (!(r.peak_gflops > 0)) r.peak_gflops = d.peak_gflops;
  if (!(r.bandwidth_gbs > 0)) r.bandwidth_gbs = d.bandwidth_gbs;
  if (!(r.overhead_us >= 0)) r.overhead_us = d.overhead_us;
  if (!(r.comm_latency_us >= 0)) r.comm_latency_us = d.comm_latency_us;
  if (!(r.comm_bandwidth_gbs > 0)) r.comm_bandwidth_gbs = d.comm_bandwidth_gbs;
  if (!(r.unknown_op_us >= 0)) r.unknown_op_us = d.unknown_op_us;
  return r;
}

/// Roofline time in µs of a node doing `flops` and moving `bytes`.
inline double roofline_us(double flops, double bytes, const roofline& r) {
  return std::max(flops / (r.peak_gflops * 1e3), bytes / (r.bandwidth_gbs * 1e3)) + r.overhead_us;
}

/// Time in µs to hand a tensor of `bytes` to another worker.
inline double comm_us(double bytes, const roofline& r) { return r.comm_latency_us + bytes / (r.comm_bandwidth_gbs * 1e3); }

/// Analytic estimate of one node.
struct node_estimate {
  double flops = 0;
  double bytes = 0;
  double us = 0;           ///< roofline time
  bool known = true;       ///< false: operator unknown, `us` is the default cost
  bool shapes_known = true;  ///< false: some input or output had no inferred shape (estimate too low)
  bool trip_count_known = true;  ///< false: a Loop whose trip count is not known: its body is costed once
};

/// Finds what is known about a tensor by name (nullptr: nothing).
using tensor_lookup = std::function<const tensor_info*(const std::string&)>;

/// The value of a scalar integer tensor known before run time (a Loop's trip
/// count), by name; nullopt when it is computed at run time.
using count_lookup = std::function<std::optional<std::int64_t>(const std::string&)>;

namespace detail {

inline bool is_default_domain(const std::string& d) { return d.empty() || d == "ai.onnx"; }

inline tensor_info info_from_value(const ::onnx::ValueInfoProto& v) {
  tensor_info t;
  t.name = v.name();
  if (!v.has_type() || !v.type().has_tensor_type()) return t;
  const auto& tt = v.type().tensor_type();
  t.elem_type = tt.elem_type();
  if (!tt.has_shape()) return t;
  t.shape_known = true;
  for (const auto& d : tt.shape().dim()) {
    if (d.has_dim_value()) {
      if (d.dim_value() < 0)
        fail("tensor " + quote(v.name()) + " has a negative dimension (" + std::to_string(d.dim_value()) + ")");
      t.shape.push_back(d.dim_value());
    } else {
      t.shape.push_back(-1);
      t.shape_known = false;
    }
  }
  return t;
}

inline tensor_info info_from_tensor(const ::onnx::TensorProto& x) {
  tensor_info t;
  t.name = x.name();
  t.elem_type = x.data_type();
  t.shape.assign(x.dims().begin(), x.dims().end());
  t.shape_known = true;
  t.constant = true;
  return t;
}

/// Fills `bytes` (0 when unknown); refuses shapes whose size overflows.
inline void set_bytes(tensor_info& t) {
  t.bytes = 0;
  for (auto d : t.shape)
    if (d < 0 && t.shape_known) fail("tensor " + quote(t.name) + " has a negative dimension");
  if (!t.shape_known) return;
  const std::uint64_t es = element_size(t.elem_type);
  std::uint64_t n = 1;
  for (auto d : t.shape)
    if (__builtin_mul_overflow(n, static_cast<std::uint64_t>(d), &n))
      fail("tensor " + quote(t.name) + ": dimensions overflow");
  if (__builtin_mul_overflow(n, es, &t.bytes)) fail("tensor " + quote(t.name) + ": byte size overflows");
}

inline void collect_tensors(const ::onnx::GraphProto& g, std::unordered_map<std::string, tensor_info>& out) {
  auto put = [&](tensor_info t) {
    set_bytes(t);
    auto [it, fresh] = out.emplace(t.name, t);
    if (!fresh) {  // keep the better-known description (an initializer beats its input's value_info)
      if ((t.constant && !it->second.constant) || (!it->second.shape_known && t.shape_known)) it->second = std::move(t);
    }
  };
  for (const auto& v : g.input()) put(info_from_value(v));
  for (const auto& v : g.value_info()) put(info_from_value(v));
  for (const auto& v : g.output()) put(info_from_value(v));
  for (const auto& t : g.initializer()) put(info_from_tensor(t));
  for (const auto& s : g.sparse_initializer()) {
    tensor_info t;
    t.name = s.values().name();
    t.elem_type = s.values().data_type();
    t.shape.assign(s.dims().begin(), s.dims().end());
    t.shape_known = true;
    t.constant = true;
    put(std::move(t));
  }
  for (const auto& n : g.node()) {
    for (const auto& o : n.output())
      if (!o.empty() && !out.count(o)) { tensor_info t; t.name = o; put(std::move(t)); }
    if (n.op_type() == "Constant" && is_default_domain(n.domain()) && n.output_size() == 1) {
      auto& t = out[n.output(0)];
      t.constant = true;
      for (const auto& a : n.attribute())
        if (a.name() == "value" && a.has_t()) {
          tensor_info c = info_from_tensor(a.t());
          c.name = n.output(0);
          set_bytes(c);
          t = std::move(c);
        }
    }
  }
}


/// Elements of a tensor with unknown dimensions taken as 1 (batch 1); 0 when
/// nothing is known.
inline double numel_est(const tensor_info* t) {
  if (!t || !t->rank_known()) return 0;
  double n = 1;
  for (auto d : t->shape) n *= d < 0 ? 1.0 : static_cast<double>(d);
  return n;
}
inline double bytes_est(const tensor_info* t) {
  if (!t) return 0;
  const auto es = element_size(t->elem_type);
  return numel_est(t) * static_cast<double>(es ? es : 4);
}
inline bool known_shape(const tensor_info* t) { return t && t->rank_known(); }
/// Product of dims [from, end) (unknown dims as 1).
inline double prod_from(const tensor_info* t, std::size_t from) {
  double n = 1;
  if (!t) return 0;
  for (std::size_t i = from; i < t->shape.size(); ++i) n *= t->shape[i] < 0 ? 1.0 : static_cast<double>(t->shape[i]);
  return n;
}
inline double dim_at(const tensor_info* t, std::ptrdiff_t i) {
  if (!t || t->shape.empty()) return 1;
  const auto r = static_cast<std::ptrdiff_t>(t->shape.size());
  if (i < 0) i += r;
  if (i < 0 || i >= r) return 1;
  return t->shape[static_cast<std::size_t>(i)] < 0 ? 1.0 : static_cast<double>(t->shape[static_cast<std::size_t>(i)]);
}

/// Product of the positive values of INTS attribute `name` (1 when absent).
inline double attr_ints_prod(attribute_reader& a, std::string_view name) {
  double p = 1;
  for (auto v : a.get_ints(name)) p *= v > 0 ? static_cast<double>(v) : 1.0;
  return p;
}

inline node_estimate estimate_node(const ::onnx::NodeProto& n, const tensor_lookup& find, const roofline& r, int depth,
                                   const count_lookup* counts = nullptr);

/// Sum of the estimates of a subgraph's nodes, seen from an outer scope.
inline node_estimate estimate_subgraph(const ::onnx::GraphProto& g, const tensor_lookup& outer, const roofline& r,
                                       int depth) {
  std::unordered_map<std::string, tensor_info> local;
  collect_tensors(g, local);
  tensor_lookup find = [&](const std::string& name) -> const tensor_info* {
    auto it = local.find(name);
    return it != local.end() ? &it->second : outer(name);
  };
  node_estimate s;
  for (const auto& n : g.node()) {
    const auto e = estimate_node(n, find, r, depth + 1);
    s.flops += e.flops;
    s.bytes += e.bytes;
    s.us += e.us;
    s.known = s.known && e.known;
    s.shapes_known = s.shapes_known && e.shapes_known;
  }
  return s;
}

inline node_estimate estimate_node(const ::onnx::NodeProto& n, const tensor_lookup& find, const roofline& r,
                                   int depth, const count_lookup* counts) {
  node_estimate e;
  const std::string& op = n.op_type();
  auto in = [&](int i) -> const tensor_info* {
    return i < n.input_size() && !n.input(i).empty() ? find(n.input(i)) : nullptr;
  };
  auto out = [&](int i) -> const tensor_info* {
    return i < n.output_size() && !n.output(i).empty() ? find(n.output(i)) : nullptr;
  };
  double in_bytes = 0, out_bytes = 0, out_numel = 0;
  for (int i = 0; i < n.input_size(); ++i) {
    const auto* t = in(i);
    in_bytes += bytes_est(t);
    if (!n.input(i).empty() && !known_shape(t)) e.shapes_known = false;
  }
  for (int i = 0; i < n.output_size(); ++i) {
    const auto* t = out(i);
    out_bytes += bytes_est(t);
    out_numel += numel_est(t);
    if (!n.output(i).empty() && !known_shape(t)) e.shapes_known = false;
  }
  e.bytes = in_bytes + out_bytes;
  const bool std_domain = is_default_domain(n.domain()) || n.domain() == "ai.onnx.ml";
  // the ai.onnx.ml domain has no row: its operators take the schema fallback below
  const op_info* row = is_default_domain(n.domain()) ? find_op(n.domain(), op) : nullptr;
  const op_cost cost = row ? row->cost : op_cost{};
  attribute_reader attrs(n);

  if (std_domain && depth < 64 && cost.kind == cost_kind::control_flow) {
    node_estimate body;
    for (const auto& a : n.attribute()) {
      if (!a.has_g()) continue;
      const auto b = estimate_subgraph(a.g(), find, r, depth);
      if (op == "If") {
        if (b.us > body.us) body = b;
      } else {
        body = b;
      }
    }
    double trips = 1;
    bool trips_known = true;
    if (op == "Scan") {
      const auto states = n.input_size() - attrs.get_int("num_scan_inputs", 0);
      trips = dim_at(in(static_cast<int>(std::max<std::int64_t>(states, 0))), 0);
    } else if (op == "Loop") {
      // the trip count M (input 0) when it is a constant; a `while` loop or a
      // computed count: one iteration, said by `trip_count_known`
      std::optional<std::int64_t> m;
      if (counts && n.input_size() > 0 && !n.input(0).empty()) m = (*counts)(n.input(0));
      trips_known = m.has_value();
      if (m) trips = static_cast<double>(std::max<std::int64_t>(*m, 0));
    }
    e.flops = body.flops * trips;
    e.bytes += body.bytes * trips;
    e.us = body.us * trips + r.overhead_us;
    e.known = body.known;
    e.shapes_known = e.shapes_known && body.shapes_known;
    e.trip_count_known = trips_known;
    return e;
  }

  if (!std_domain) {
    e.known = false;
  } else {
    switch (cost.kind) {
      case cost_kind::conv:
        e.flops = 2 * out_numel * prod_from(in(cost.weight_input), 1);
        break;
      case cost_kind::conv_transpose:
        e.flops = 2 * numel_est(in(0)) * prod_from(in(1), 1);
        break;
      case cost_kind::gemm: {
        const auto* a = in(0);
        const double k = attrs.get_int("transA", 0) ? dim_at(a, 0) : dim_at(a, 1);
        e.flops = 2 * out_numel * k + (in(2) ? out_numel : 0);
        break;
      }
      case cost_kind::matmul:
        e.flops = 2 * out_numel * dim_at(in(0), -1);
        break;
      case cost_kind::einsum:
        e.flops = 2 * std::max(out_numel, numel_est(in(0)) * (n.input_size() > 1 ? dim_at(in(1), -1) : 1.0));
        break;
      case cost_kind::window:
        e.flops = numel_est(out(0)) * attr_ints_prod(attrs, cost.window_attr);
        break;
      case cost_kind::per_input:
        e.flops = cost.factor * numel_est(in(0));
        break;
      case cost_kind::lrn:
        e.flops = (2 + static_cast<double>(std::max<std::int64_t>(attrs.get_int("size", 1), 1))) * numel_est(in(0));
        break;
      case cost_kind::resize:
        e.flops = 4 * out_numel;
        e.bytes = out_bytes + bytes_est(in(0));
        break;
      case cost_kind::recurrent: {
        const double seq = dim_at(in(0), 0), batch = dim_at(in(0), 1);
        e.flops = 2 * seq * batch * (numel_est(in(1)) + numel_est(in(2))) + 10 * out_numel;
        break;
      }
      case cost_kind::nms:
        e.flops = numel_est(in(1)) * dim_at(in(0), 1);
        break;
      case cost_kind::view:
        e.bytes = 0;
        break;
      case cost_kind::copy:
        e.flops = 0;
        // data-dependent reads (Gather, Slice) touch about as much as they write
        e.bytes = 2 * out_bytes;
        break;
      case cost_kind::elementwise:
        e.flops = cost.factor * out_numel;
        break;
      case cost_kind::generic:
      case cost_kind::control_flow:  // nested deeper than 64: as a standard op
        if (::onnx::OpSchemaRegistry::Schema(op, n.domain() == "ai.onnx" ? std::string() : n.domain()) != nullptr)
          e.flops = out_numel;  // a standard op the table does not model: treated as memory-bound
        else
          e.known = false;
        break;
    }
  }
  e.us = e.known ? roofline_us(e.flops, e.bytes, r) : r.unknown_op_us;
  return e;
}

}  // namespace detail

/// Analytic estimate of one node of a model (FLOPs, bytes moved, roofline µs).
inline node_estimate estimate_node(const ::onnx::NodeProto& n, const tensor_lookup& find, const roofline& r = {}) {
  return detail::estimate_node(n, find, resolve(r), 0);
}

namespace detail {

/// "[1,3,?,?]", with the symbolic dimensions' names where `dims` has them.
inline std::string dims_text(const tensor_info& t, const ::onnx::ValueInfoProto* declared = nullptr) {
  if (!t.rank_known()) return "(no shape)";
  std::string s = "[";
  for (std::size_t i = 0; i < t.shape.size(); ++i) {
    if (i) s += ",";
    if (t.shape[i] >= 0) {
      s += std::to_string(t.shape[i]);
      continue;
    }
    std::string param;
    if (declared && declared->type().tensor_type().has_shape() &&
        static_cast<int>(i) < declared->type().tensor_type().shape().dim_size())
      param = declared->type().tensor_type().shape().dim(static_cast<int>(i)).dim_param();
    s += param.empty() ? "?" : quote_raw(param, 40);
  }
  return s + "]";
}

/// Whether some dimension of `t` (or its rank) is not known.
inline bool has_unknown_dims(const tensor_info* t) {
  if (!t || !t->rank_known()) return true;
  for (auto d : t->shape)
    if (d < 0) return true;
  return false;
}

/// The tensors a graph's nodes read or write whose dimensions are not all
/// known, in node order, recursively into bodies (names looked up locally first).
inline void unknown_dim_tensors(const ::onnx::GraphProto& g, const tensor_lookup& find,
                                std::vector<std::pair<std::string, std::string>>& out,
                                std::set<std::string>& seen, int depth) {
  if (depth > 64) return;
  auto note = [&](const std::string& name) {
    if (name.empty() || seen.count(name)) return;
    const tensor_info* t = find(name);
    if (t && (t->constant || !has_unknown_dims(t))) return;
    if (t && t->elem_type != 0 && element_size(t->elem_type) == 0) return;  // strings: no bytes to cost
    seen.insert(name);
    out.emplace_back(name, t ? dims_text(*t) : "(no shape)");
  };
  for (const auto& n : g.node()) {
    for (const auto& i : n.input()) note(i);
    for (const auto& o : n.output()) note(o);
    for (const auto& a : n.attribute()) {
      std::vector<const ::onnx::GraphProto*> bodies;
      if (a.has_g()) bodies.push_back(&a.g());
      for (const auto& sg : a.graphs()) bodies.push_back(&sg);
      for (const auto* b : bodies) {
        std::unordered_map<std::string, tensor_info> local;
        collect_tensors(*b, local);
        const tensor_lookup inner = [&](const std::string& name) -> const tensor_info* {
          auto it = local.find(name);
          return it != local.end() ? &it->second : find(name);
        };
        unknown_dim_tensors(*b, inner, out, seen, depth + 1);
      }
    }
  }
}

}  // namespace detail

/// The warning `apply_costs` gives when some tensor's dimensions are not
/// known (they are costed as 1, so W and CP come out too low): the inputs'
/// symbolic dimensions by name, then the first few other tensors and how
/// many more; empty when every dimension is known.
inline std::string unknown_dimensions_warning(const model& m) {
  const auto& g = m.proto.graph();
  std::set<std::string> inits;
  for (const auto& t : g.initializer()) inits.insert(t.name());
  std::vector<std::string> inputs;
  std::set<std::string> seen;
  for (const auto& v : g.input()) {
    if (inits.count(v.name())) continue;
    auto it = m.tensors.find(v.name());
    const tensor_info* t = it == m.tensors.end() ? nullptr : &it->second;
    if (t && t->elem_type != 0 && element_size(t->elem_type) == 0) continue;
    if (!detail::has_unknown_dims(t)) continue;
    seen.insert(v.name());
    inputs.push_back(detail::quote(v.name()) + " " + (t ? detail::dims_text(*t, &v) : std::string("(no shape)")));
  }
  tensor_lookup find = [&](const std::string& name) -> const tensor_info* {
    auto it = m.tensors.find(name);
    return it != m.tensors.end() ? &it->second : nullptr;
  };
  std::vector<std::pair<std::string, std::string>> others;
  detail::unknown_dim_tensors(g, find, others, seen, 0);
  if (inputs.empty() && others.empty()) return {};
  std::string w;
  if (!inputs.empty()) {
    w = "input";
    w += inputs.size() > 1 ? "s " : " ";
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      if (i) w += ", ";
      w += inputs[i];
    }
    w += inputs.size() > 1 ? " have" : " has";
    w += " dimensions of unknown value (give them with --input-shape NAME=d0,d1,...)";
    if (!others.empty()) w += "; ";
  }
  if (!others.empty()) {
    constexpr std::size_t show = 4;
    w += std::to_string(others.size()) + " tensor(s) of unknown shape or dimensions: ";
    for (std::size_t i = 0; i < others.size() && i < show; ++i)
      {
      if (i) w += ", ";
      w += detail::quote(others[i].first) + " " + others[i].second;
    }
    if (others.size() > show) w += ", and " + std::to_string(others.size() - show) + " more";
  }
  w += "; unknown dimensions are costed as 1, so W and CP are too low";
  return w;
}

/// Fills every vertex's flops/bytes/cost/known_op and every edge's comm from
/// the model's inferred shapes; adds a warning (`unknown_dimensions_warning`)
/// when dimensions were not known, and one for Loops whose trip count is not.
inline void apply_costs(model& m, const roofline& rc = {}) {
  const roofline r = resolve(rc);
  tensor_lookup find = [&](const std::string& name) -> const tensor_info* {
    auto it = m.tensors.find(name);
    return it != m.tensors.end() ? &it->second : nullptr;
  };
  // a Loop's trip count: a scalar integer initializer or Constant of the top level
  const count_lookup counts = [&](const std::string& name) -> std::optional<std::int64_t> {
    const ::onnx::TensorProto* t = nullptr;
    for (const auto& i : m.proto.graph().initializer())
      if (i.name() == name) t = &i;
    if (auto p = m.producer.find(name); !t && p != m.producer.end()) {
      const auto& c = m.proto.graph().node(static_cast<int>(p->second));
      if (c.op_type() == "Constant" && detail::is_default_domain(c.domain()))
        for (const auto& a : c.attribute())
          if (a.name() == "value" && a.has_t()) t = &a.t();
    }
    if (!t || t->dims_size() > 1 || (t->dims_size() == 1 && t->dims(0) != 1)) return std::nullopt;
    if (t->data_type() != ::onnx::TensorProto::INT64) return std::nullopt;
    if (t->has_raw_data() && t->raw_data().size() == 8) {
      std::int64_t v;
      std::memcpy(&v, t->raw_data().data(), 8);
      return v;
    }
    if (t->int64_data_size() == 1) return t->int64_data(0);
    return std::nullopt;
  };
  const auto& nodes = m.proto.graph().node();
  std::vector<std::string> loops_once;
  for (auto [it, end] = vertices(m.g); it != end; ++it) {
    auto& v = m.g[*it];
    if (v.node >= static_cast<std::size_t>(nodes.size())) continue;
    const auto& nd = nodes.Get(static_cast<int>(v.node));
    const auto e = detail::estimate_node(nd, find, r, 0, &counts);
    v.flops = e.flops;
    v.bytes = e.bytes;
    v.cost = e.us;
    v.known_op = e.known;
    if (!e.trip_count_known) loops_once.push_back(nd.name().empty() ? "#" + std::to_string(v.node) : nd.name());
  }
  for (auto [it, end] = edges(m.g); it != end; ++it) {
    auto& e = m.g[*it];
    double b = static_cast<double>(e.bytes);
    if (b == 0)
      if (auto t = m.tensors.find(e.tensor); t != m.tensors.end()) b = detail::bytes_est(&t->second);
    e.comm = comm_us(b, r);
  }
  if (auto w = unknown_dimensions_warning(m); !w.empty()) m.warnings.push_back(std::move(w));
  if (!loops_once.empty()) {
    std::string w = std::to_string(loops_once.size()) + " Loop node(s) whose trip count is not known before run time"
                    " (costed as one iteration of the body):";
    for (std::size_t i = 0; i < loops_once.size() && i < 4; ++i) {
      w += i ? ", " : " ";
      w += detail::quote(loops_once[i]);
    }
    if (loops_once.size() > 4) w += ", and " + std::to_string(loops_once.size() - 4) + " more";
    m.warnings.push_back(std::move(w));
  }
}

}  // namespace dfgpar::onnx
