#pragma once
/// \file model.hpp
/// Loading an ONNX model into a `dfgpar::onnx::model`: parse, inline external
/// data, validate, run the ONNX checker and shape inference, and build the
/// dataflow graph with per-node costs.
///
/// Every failure is a `dfgpar::graph_error` whose `what()` is one line naming
/// the problem; nothing else escapes `load_model`/`build_model`.
///
/// Subgraphs (If/Loop/Scan bodies) are not expanded: the node that owns them
/// is one vertex, and every outer-scope tensor its subgraphs read becomes an
/// input of that vertex (an edge from its producer), so no dependency is
/// missed. Its cost is the estimate of its body (If: the dearer branch; Loop
/// and Scan: body x trip count when it is known, else one iteration).

#include <dfgpar/error.hpp>
#include <dfgpar/onnx/attributes.hpp>
#include <dfgpar/onnx/cost_model.hpp>
#include <dfgpar/onnx/graph.hpp>
#include <dfgpar/onnx/op_table.hpp>
#include <dfgpar/onnx/profile.hpp>

#include <onnx/checker.h>
#include <onnx/defs/schema.h>
#include <onnx/defs/shape_inference.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>

#if __has_include(<sys/mman.h>) && __has_include(<fcntl.h>) && __has_include(<unistd.h>)
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#define DFGPAR_ONNX_HAVE_MMAP 1
#else
#define DFGPAR_ONNX_HAVE_MMAP 0
#endif

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <istream>
#include <map>
#include <new>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace dfgpar::onnx {

namespace detail {

/// Domain given to nodes without a schema while the ONNX checker and shape
/// inference run (they would refuse an unknown op in the default domain).
inline constexpr const char* unknown_domain = "dfgpar.unknown";

inline std::string node_label(const ::onnx::NodeProto& n, std::size_t index) {
  std::string s = n.name().empty() ? "#" + std::to_string(index) : quote(n.name());
  return "node " + s + " (" + quote_raw(n.op_type()) + ")";
}

/// Calls f(TensorProto&, where) for every tensor in a graph: initializers,
/// sparse initializers, tensor attributes, recursively into subgraphs.
template <class F>
void for_each_tensor(::onnx::GraphProto& g, F& f, int depth = 0) {
  if (depth > 64) fail("subgraphs nested more than 64 deep");
  for (auto& t : *g.mutable_initializer()) f(t);
  for (auto& s : *g.mutable_sparse_initializer()) {
    f(*s.mutable_values());
    f(*s.mutable_indices());
  }
  for (auto& n : *g.mutable_node())
    for (auto& a : *n.mutable_attribute()) {
      if (a.has_t()) f(*a.mutable_t());
      for (auto& t : *a.mutable_tensors()) f(t);
      if (a.has_sparse_tensor()) {
        f(*a.mutable_sparse_tensor()->mutable_values());
        f(*a.mutable_sparse_tensor()->mutable_indices());
      }
      for (auto& s : *a.mutable_sparse_tensors()) {
        f(*s.mutable_values());
        f(*s.mutable_indices());
      }
      if (a.has_g()) for_each_tensor(*a.mutable_g(), f, depth + 1);
      for (auto& sg : *a.mutable_graphs()) for_each_tensor(sg, f, depth + 1);
    }
}

/// Calls f(NodeProto&) for every node, subgraphs included (parents first).
template <class F>
void for_each_node(::onnx::GraphProto& g, F& f, int depth = 0) {
  if (depth > 64) fail("subgraphs nested more than 64 deep");
  for (auto& n : *g.mutable_node()) {
    f(n);
    for (auto& a : *n.mutable_attribute()) {
      if (a.has_g()) for_each_node(*a.mutable_g(), f, depth + 1);
      for (auto& sg : *a.mutable_graphs()) for_each_node(sg, f, depth + 1);
    }
  }
}

/// Names a graph reads from its enclosing scopes (used but not defined in it).
inline void outer_refs(const ::onnx::GraphProto& g, std::set<std::string>& out, int depth = 0) {
  if (depth > 64) fail("subgraphs nested more than 64 deep");
  std::unordered_set<std::string> local;
  for (const auto& i : g.input()) local.insert(i.name());
  for (const auto& t : g.initializer()) local.insert(t.name());
  for (const auto& s : g.sparse_initializer()) local.insert(s.values().name());
  for (const auto& n : g.node())
    for (const auto& o : n.output()) local.insert(o);
  auto use = [&](const std::string& name) {
    if (!name.empty() && !local.count(name)) out.insert(name);
  };
  for (const auto& n : g.node()) {
    for (const auto& i : n.input()) use(i);
    for (const auto& a : n.attribute()) {
      std::set<std::string> inner;
      if (a.has_g()) outer_refs(a.g(), inner, depth + 1);
      for (const auto& sg : a.graphs()) outer_refs(sg, inner, depth + 1);
      for (const auto& name : inner) use(name);
    }
  }
  for (const auto& o : g.output()) use(o.name());
}

/// Outer-scope names the subgraphs of node n read (its implicit inputs).
inline std::set<std::string> implicit_inputs(const ::onnx::NodeProto& n) {
  std::set<std::string> out;
  for (const auto& a : n.attribute()) {
    if (a.has_g()) outer_refs(a.g(), out);
    for (const auto& sg : a.graphs()) outer_refs(sg, out);
  }
  return out;
}

/// Renames the names graph `g` reads from its enclosing scopes (node inputs
/// and graph outputs it does not define itself, recursively through nested
/// bodies) to `f(name)`: what a rewrite of the outer graph that renames or
/// aliases a tensor must also do inside the bodies that read it.
using rename_fn = std::function<std::string(const std::string&)>;
inline void rename_outer_refs(::onnx::GraphProto& g, const rename_fn& f, int depth = 0) {
  if (depth > 64) fail("subgraphs nested more than 64 deep");
  std::unordered_set<std::string> local;
  for (const auto& i : g.input()) local.insert(i.name());
  for (const auto& t : g.initializer()) local.insert(t.name());
  for (const auto& s : g.sparse_initializer()) local.insert(s.values().name());
  for (const auto& n : g.node())
    for (const auto& o : n.output()) local.insert(o);
  const rename_fn map = [&](const std::string& name) -> std::string {
    return name.empty() || local.count(name) ? name : f(name);
  };
  for (auto& n : *g.mutable_node()) {
    for (auto& i : *n.mutable_input()) i = map(i);
    for (auto& a : *n.mutable_attribute()) {
      if (a.has_g()) rename_outer_refs(*a.mutable_g(), map, depth + 1);
      for (auto& sg : *a.mutable_graphs()) rename_outer_refs(sg, map, depth + 1);
    }
  }
  for (auto& o : *g.mutable_output()) o.set_name(map(o.name()));
}

/// Renames what the subgraphs of node `n` read from outside to `f(name)`.
inline void rename_implicit_inputs(::onnx::NodeProto& n, const rename_fn& f) {
  for (auto& a : *n.mutable_attribute()) {
    if (a.has_g()) rename_outer_refs(*a.mutable_g(), f);
    for (auto& sg : *a.mutable_graphs()) rename_outer_refs(sg, f);
  }
}

inline bool has_subgraph(const ::onnx::NodeProto& n) {
  for (const auto& a : n.attribute())
    if (a.has_g() || a.graphs_size() > 0) return true;
  return false;
}

// ------------------------------------------------------------ external data

inline bool parse_u64(const std::string& s, std::uint64_t& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size();
}

/// Resolves an external-data location against the model folder, refusing
/// absolute paths and paths that leave the folder (also through symlinks).
inline std::filesystem::path resolve_external(const std::filesystem::path& base, const std::string& location,
                                              const std::string& tensor) {
  namespace fs = std::filesystem;
  const std::string what = "tensor " + quote(tensor) + ": external data " + quote(location);
  if (location.empty()) fail("tensor " + quote(tensor) + ": external data without a location");
  if (location.find('\0') != std::string::npos) fail(what + " has a NUL byte in its location");
  const fs::path loc(location);
  if (loc.is_absolute() || loc.has_root_name() || loc.has_root_directory())
    fail(what + " is an absolute path (only paths inside the model's folder are allowed)");
  const fs::path norm = loc.lexically_normal();
  if (norm.empty() || *norm.begin() == ".." || norm == ".")
    fail(what + " points outside the model's folder");
  std::error_code ec;
  const fs::path base_abs = fs::weakly_canonical(base.empty() ? fs::path(".") : base, ec);
  if (ec) fail(what + ": cannot resolve the model's folder");
  const fs::path full = fs::weakly_canonical(base_abs / norm, ec);
  if (ec) fail(what + ": cannot resolve the path");
  const auto rel = full.lexically_relative(base_abs);
  if (rel.empty() || *rel.begin() == "..") fail(what + " points outside the model's folder (through a link)");
  return full;
}

/// Reads every external tensor into raw_data, checking location, offset and
/// length against the file; `budget` caps the bytes read in total.
inline void inline_external_data(::onnx::ModelProto& proto, const std::filesystem::path& base, bool read,
                                 std::uint64_t budget) {
  namespace fs = std::filesystem;
  std::uint64_t total = 0;
  auto visit = [&](::onnx::TensorProto& t) {
    if (t.data_location() != ::onnx::TensorProto::EXTERNAL) {
      if (t.external_data_size() > 0) fail("tensor " + quote(t.name()) + " has external_data but is not EXTERNAL");
      return;
    }
    std::string location;
    std::uint64_t offset = 0, length = 0;
    bool has_length = false;
    for (const auto& kv : t.external_data()) {
      if (kv.key() == "location") {
        location = kv.value();
      } else if (kv.key() == "offset") {
        if (!parse_u64(kv.value(), offset))
          fail("tensor " + quote(t.name()) + ": external data offset " + quote(kv.value()) + " is not a number");
      } else if (kv.key() == "length") {
        if (!parse_u64(kv.value(), length))
          fail("tensor " + quote(t.name()) + ": external data length " + quote(kv.value()) + " is not a number");
        has_length = true;
      }
    }
    const fs::path file = resolve_external(base, location, t.name());
    const std::string what = "tensor " + quote(t.name()) + ": external data " + quote(location);
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) fail(what + " is missing (looked in the model's folder)");
    const std::uint64_t size = fs::file_size(file, ec);
    if (ec) fail(what + ": cannot read its size");
    if (offset > size) fail(what + ": offset " + std::to_string(offset) + " is past the end of the file (" +
                            std::to_string(size) + " bytes)");
    if (!has_length) length = size - offset;
    if (length > size - offset)
      fail(what + ": offset " + std::to_string(offset) + " + length " + std::to_string(length) +
           " is past the end of the file (" + std::to_string(size) + " bytes)");
    // The declared shape must match the stored bytes.
    const std::uint64_t es = element_size(t.data_type());
    if (es > 0) {
      std::uint64_t n = 1;
      for (auto d : t.dims()) {
        if (d < 0) fail("tensor " + quote(t.name()) + " has a negative dimension (" + std::to_string(d) + ")");
        if (__builtin_mul_overflow(n, static_cast<std::uint64_t>(d), &n))
          fail("tensor " + quote(t.name()) + ": dimensions overflow");
      }
      std::uint64_t expect = 0;
      if (__builtin_mul_overflow(n, es, &expect)) fail("tensor " + quote(t.name()) + ": byte size overflows");
      if (expect != length)
        fail(what + ": holds " + std::to_string(length) + " bytes but the tensor's shape needs " +
             std::to_string(expect));
    }
    total += length;
    if (total > budget) fail("external data exceeds the limit of " + std::to_string(budget) + " bytes");
    if (!read) return;
    std::string bytes(static_cast<std::size_t>(length), '\0');
    std::ifstream in(file, std::ios::binary);
    if (!in) fail(what + ": cannot open the file");
    in.seekg(static_cast<std::streamoff>(offset));
    in.read(bytes.data(), static_cast<std::streamsize>(length));
    if (static_cast<std::uint64_t>(in.gcount()) != length) fail(what + ": short read");
    t.set_raw_data(std::move(bytes));
    t.clear_external_data();
    t.set_data_location(::onnx::TensorProto::DEFAULT);
  };
  if (proto.has_graph()) for_each_tensor(*proto.mutable_graph(), visit);
}

/// Dimensions, types and stored sizes of every tensor agree.
inline void validate_tensor(const ::onnx::TensorProto& t) {
  const std::string what = "tensor " + quote(t.name());
  if (t.data_location() == ::onnx::TensorProto::EXTERNAL) return;  // external data not read (load_external_data = false)
  if (!::onnx::TensorProto_DataType_IsValid(t.data_type()) || t.data_type() == 0)
    fail(what + " has an invalid data type (" + std::to_string(t.data_type()) + ")");
  std::uint64_t n = 1;
  for (auto d : t.dims()) {
    if (d < 0) fail(what + " has a negative dimension (" + std::to_string(d) + ")");
    if (__builtin_mul_overflow(n, static_cast<std::uint64_t>(d), &n)) fail(what + ": dimensions overflow");
  }
  using TP = ::onnx::TensorProto;
  const auto dt = t.data_type();
  const std::uint64_t es = element_size(dt);
  if (t.has_raw_data()) {
    if (dt == TP::STRING) fail(what + ": a string tensor cannot use raw_data");
    std::uint64_t expect = 0;
    if (__builtin_mul_overflow(n, es, &expect)) fail(what + ": byte size overflows");
    if (t.raw_data().size() != expect)
      fail(what + ": raw_data holds " + std::to_string(t.raw_data().size()) + " bytes but the shape needs " +
           std::to_string(expect));
    return;
  }
  std::uint64_t have = 0, per = 1;
  switch (dt) {
    case TP::FLOAT: have = t.float_data_size(); break;
    case TP::COMPLEX64: have = t.float_data_size(); per = 2; break;
    case TP::DOUBLE: have = t.double_data_size(); break;
    case TP::COMPLEX128: have = t.double_data_size(); per = 2; break;
    case TP::INT64: have = t.int64_data_size(); break;
    case TP::UINT32:
    case TP::UINT64: have = t.uint64_data_size(); break;
    case TP::STRING: have = t.string_data_size(); break;
    default: have = t.int32_data_size(); break;
  }
  std::uint64_t expect = 0;
  if (__builtin_mul_overflow(n, per, &expect)) fail(what + ": dimensions overflow");
  if (have != expect)
    fail(what + ": holds " + std::to_string(have) + " values but its shape needs " + std::to_string(expect));
}

inline void validate_tensors(::onnx::ModelProto& proto) {
  auto visit = [](::onnx::TensorProto& t) { validate_tensor(t); };
  if (proto.has_graph()) for_each_tensor(*proto.mutable_graph(), visit);
}

// ------------------------------------------------------------ structure

/// Duplicate outputs, tensors nobody produces, cycles. Reorders the nodes
/// topologically when they are acyclic but out of order (ONNX requires the
/// order; many hand-written files get it wrong). Returns true when reordered.
inline bool check_structure(::onnx::GraphProto& g) {
  const int n = g.node_size();
  std::unordered_map<std::string, int> producer;      // node outputs
  std::unordered_set<std::string> sources;            // graph inputs and initializers
  for (const auto& i : g.input()) sources.insert(i.name());
  std::unordered_set<std::string> inits;
  for (const auto& t : g.initializer()) {
    if (t.name().empty()) fail("an initializer has no name");
    if (!inits.insert(t.name()).second) fail("duplicate initializer name " + quote(t.name()));
    sources.insert(t.name());
  }
  for (const auto& s : g.sparse_initializer()) sources.insert(s.values().name());
  for (int i = 0; i < n; ++i) {
    const auto& node = g.node(i);
    for (const auto& o : node.output()) {
      if (o.empty()) continue;
      if (sources.count(o))
        fail("duplicate output name " + quote(o) + ": " + node_label(node, i) +
             " writes a tensor that is a graph input or initializer");
      auto [it, fresh] = producer.emplace(o, i);
      if (!fresh)
        fail("duplicate output name " + quote(o) + ": written by " + node_label(g.node(it->second), it->second) +
             " and " + node_label(node, i));
    }
  }
  // Dependencies (explicit and through subgraphs).
  std::vector<std::vector<int>> preds(n);
  for (int i = 0; i < n; ++i) {
    const auto& node = g.node(i);
    std::set<std::string> reads(node.input().begin(), node.input().end());
    if (has_subgraph(node)) reads.merge(implicit_inputs(node));
    for (const auto& name : reads) {
      if (name.empty()) continue;
      if (auto it = producer.find(name); it != producer.end()) {
        preds[i].push_back(it->second);
      } else if (!sources.count(name)) {
        fail(node_label(node, i) + " reads tensor " + quote(name) +
             " that no node, graph input or initializer produces");
      }
    }
  }
  for (const auto& o : g.output())
    if (!producer.count(o.name()) && !sources.count(o.name()))
      fail("graph output " + quote(o.name()) + " is produced by no node, graph input or initializer");
  // Kahn's algorithm, keeping the file's order among ready nodes.
  std::vector<std::vector<int>> succs(n);
  std::vector<int> indeg(n, 0);
  for (int i = 0; i < n; ++i)
    for (int p : preds[i]) {
      succs[p].push_back(i);
      ++indeg[i];
    }
  std::set<int> ready;
  for (int i = 0; i < n; ++i)
    if (indeg[i] == 0) ready.insert(i);
  std::vector<int> order;
  order.reserve(n);
  while (!ready.empty()) {
    int v = *ready.begin();
    ready.erase(ready.begin());
    order.push_back(v);
    for (int s : succs[v])
      if (--indeg[s] == 0) ready.insert(s);
  }
  if (static_cast<int>(order.size()) != n) {
    // Walk back along unfinished predecessors until a node repeats: a cycle.
    int v = 0;
    while (indeg[v] == 0) ++v;
    std::vector<int> seen(n, -1), path;
    while (seen[v] < 0) {
      seen[v] = static_cast<int>(path.size());
      path.push_back(v);
      for (int p : preds[v])
        if (indeg[p] > 0) {
          v = p;
          break;
        }
    }
    std::string msg = "graph has a cycle: ";
    std::vector<int> cyc(path.begin() + seen[v], path.end());
    std::reverse(cyc.begin(), cyc.end());
    cyc.push_back(cyc.front());
    for (std::size_t k = 0; k < cyc.size() && k < 8; ++k)
      msg += (k ? " -> " : "") + node_label(g.node(cyc[k]), static_cast<std::size_t>(cyc[k]));
    if (cyc.size() > 8) msg += " -> ...";
    fail(msg);
  }
  bool sorted = true;
  for (int i = 0; i < n; ++i) sorted = sorted && order[i] == i;
  if (!sorted) {
    google::protobuf::RepeatedPtrField<::onnx::NodeProto> nodes;
    nodes.Swap(g.mutable_node());
    for (int i : order) g.add_node()->Swap(nodes.Mutable(i));
  }
  return !sorted;
}

// ------------------------------------------------------------ shapes and the graph

/// Refuses dimension values that are negative anywhere in value_info.
inline void check_value_infos(const ::onnx::GraphProto& g, int depth = 0) {
  if (depth > 64) fail("subgraphs nested more than 64 deep");
  auto check = [](const ::onnx::ValueInfoProto& v) { (void)info_from_value(v); };
  for (const auto& v : g.input()) check(v);
  for (const auto& v : g.output()) check(v);
  for (const auto& v : g.value_info()) check(v);
  for (const auto& n : g.node())
    for (const auto& a : n.attribute()) {
      if (a.has_g()) check_value_infos(a.g(), depth + 1);
      for (const auto& sg : a.graphs()) check_value_infos(sg, depth + 1);
    }
}

/// ONNX 1.12's shape-inference functions index dimensions without checking
/// the rank (Gemm reads dim(1) of a rank-1 B and crashes). Shapes a file
/// declares are checked here against the ranks those operators need, so a
/// malformed file is refused instead. (Shapes ONNX infers itself are
/// consistent when the declared ones are.) Found by fuzz/run.sh (Gemm,
/// MaxUnpool); other operators' inference functions may have the same kind
/// of bug: put a new crash input in fuzz/regressions/loader/ and its rule here.
inline void check_ranks(const ::onnx::GraphProto& g, std::unordered_map<std::string, int> ranks, int depth = 0) {
  if (depth > 64) fail("subgraphs nested more than 64 deep");
  auto note = [&](const ::onnx::ValueInfoProto& v) {
    if (v.has_type() && v.type().has_tensor_type() && v.type().tensor_type().has_shape())
      ranks[v.name()] = v.type().tensor_type().shape().dim_size();
  };
  for (const auto& v : g.input()) note(v);
  for (const auto& v : g.value_info()) note(v);
  for (const auto& v : g.output()) note(v);
  for (const auto& t : g.initializer()) ranks[t.name()] = t.dims_size();
  for (const auto& n : g.node())
    if (n.op_type() == "Constant" && n.output_size() == 1)
      for (const auto& a : n.attribute())
        if (a.name() == "value" && a.has_t()) ranks[n.output(0)] = a.t().dims_size();
  for (int i = 0; i < g.node_size(); ++i) {
    const auto& n = g.node(i);
    auto rank = [&](int k) {
      if (k >= n.input_size() || n.input(k).empty()) return -1;
      auto it = ranks.find(n.input(k));
      return it == ranks.end() ? -1 : it->second;
    };
    auto bad = [&](const std::string& what) { fail(node_label(n, static_cast<std::size_t>(i)) + ": " + what); };
    auto need = [&](int k, int lo, int hi, const char* what) {
      const int r = rank(k);
      if (r >= 0 && (r < lo || r > hi))
        bad(std::string(what) + " " + quote(n.input(k)) + " has rank " + std::to_string(r) + ", expected " +
            (lo == hi ? std::to_string(lo) : std::to_string(lo) + ".." + std::to_string(hi)));
    };
    auto attr_len = [&](attribute_reader& attrs, const char* name, int want) {
      if (want < 0) return;
      std::optional<std::vector<std::int64_t>> v;
      try {
        v = attrs.find_ints(name);
      } catch (const argument_error& e) {
        bad(e.why);
      }
      if (v && static_cast<int>(v->size()) != want)
        bad(std::string("attribute ") + name + " has " + std::to_string(v->size()) + " values, expected " +
            std::to_string(want) + " for the input's rank");
    };
    const op_info* op = is_default_domain(n.domain()) ? find_op(n.domain(), n.op_type()) : nullptr;
    if (op && op->guard.any()) {
      const op_guard& gd = op->guard;
      for (const rank_rule& rule : gd.ranks) {
        if (rule.input < 0) continue;
        const std::string what(rule.what);
        const int r0 = rank(0);
        if (rule.same_as_input0 && r0 >= 0) need(rule.input, r0, r0, what.c_str());
        else need(rule.input, rule.lo, rule.hi, what.c_str());
      }
      if (gd.spatial_attributes) {
        attribute_reader attrs(n);
        const int r = rank(0);
        const int sp = r >= 3 ? r - 2 : -1;
        attr_len(attrs, "kernel_shape", sp);
        attr_len(attrs, "strides", sp);
        attr_len(attrs, "dilations", sp);
        attr_len(attrs, "pads", sp < 0 ? -1 : 2 * sp);
        attr_len(attrs, "output_padding", sp);
        attr_len(attrs, "output_shape", sp);
      }
    }
    for (const auto& a : n.attribute()) {
      if (a.has_g()) check_ranks(a.g(), ranks, depth + 1);
      for (const auto& sg : a.graphs()) check_ranks(sg, ranks, depth + 1);
    }
  }
}

/// "[1,3,N,?]" of a declared input shape.
inline std::string declared_dims(const ::onnx::TensorShapeProto& sh) {
  std::string s = "[";
  for (int i = 0; i < sh.dim_size(); ++i) {
    const auto& d = sh.dim(i);
    if (i) s += ',';
    if (d.has_dim_value()) s += std::to_string(d.dim_value());
    else if (d.dim_param().empty()) s += '?';
    else s += quote_raw(d.dim_param(), 40);
  }
  return s + "]";
}

/// Applies `load_options::input_shapes` and `default_batch` to the graph
/// inputs (see there); notes the inputs it specialised in `specialised`.
inline void fix_input_shapes(::onnx::GraphProto& g, const load_options& o, std::vector<std::string>& warnings,
                             std::vector<input_shape>& specialised) {
  if (o.input_shapes.empty() && !o.default_batch) return;
  std::unordered_set<std::string> inits;
  for (const auto& t : g.initializer()) inits.insert(t.name());
  std::vector<std::string> names;
  for (const auto& v : g.input())
    if (!inits.count(v.name())) names.push_back(v.name());
  std::unordered_map<std::string, std::size_t> given;
  for (std::size_t k = 0; k < o.input_shapes.size(); ++k) {
    const auto& s = o.input_shapes[k];
    const std::string what = "input shape " + quote(s.name) + ": ";
    if (!given.emplace(s.name, k).second) fail(what + "given twice");
    if (std::find(names.begin(), names.end(), s.name) == names.end()) {
      std::string list;
      for (std::size_t i = 0; i < names.size() && i < 8; ++i) {
        if (i) list += ", ";
        list += quote(names[i]);
      }
      if (names.size() > 8) list += ", ...";
      fail(what + (inits.count(s.name) ? "that is an initializer, not an input the caller gives" : "the model has no such input") +
           " (its inputs: " + (list.empty() ? "none" : list) + ")");
    }
    for (auto d : s.dims)
      if (d < 0) fail(what + "dimension " + std::to_string(d) + " is negative");
  }
  std::vector<char> changed(static_cast<std::size_t>(g.input_size()), 0);
  for (int i = 0; i < g.input_size(); ++i) {
    auto& v = *g.mutable_input(i);
    auto it = given.find(v.name());
    if (inits.count(v.name()) || it == given.end()) continue;
    const auto& dims = o.input_shapes[it->second].dims;
    const std::string what = "input shape " + quote(v.name()) + ": ";
    if (!v.type().has_tensor_type()) fail(what + "the input is not a tensor");
    auto* tt = v.mutable_type()->mutable_tensor_type();
    if (tt->has_shape() && tt->shape().dim_size() != static_cast<int>(dims.size()))
      fail(what + "the model's input has rank " + std::to_string(tt->shape().dim_size()) + " " +
           declared_dims(tt->shape()) + ", the shape given has " + std::to_string(dims.size()) + " dimension(s)");
    if (!tt->has_shape()) {
      for (std::size_t k = 0; k < dims.size(); ++k) tt->mutable_shape()->add_dim();
      changed[static_cast<std::size_t>(i)] = 1;
    }
    auto* sh = tt->mutable_shape();
    for (int k = 0; k < sh->dim_size(); ++k)
      if (const auto& d = sh->dim(k); d.has_dim_value() && d.dim_value() != dims[static_cast<std::size_t>(k)])
        fail(what + "dimension " + std::to_string(k) + " is " + std::to_string(d.dim_value()) + " in the model, not " +
             std::to_string(dims[static_cast<std::size_t>(k)]) + " (model: " + declared_dims(*sh) + ")");
    for (int k = 0; k < sh->dim_size(); ++k) {
      auto* d = sh->mutable_dim(k);
      const std::int64_t want = dims[static_cast<std::size_t>(k)];
      if (d->has_dim_value()) continue;
      d->clear_dim_param();
      d->set_dim_value(want);
      changed[static_cast<std::size_t>(i)] = 1;
    }
  }
  if (o.default_batch) {
    // a symbolic name used as any dimension but the first of an input or
    // output is not (only) the batch
    std::unordered_set<std::string> elsewhere;
    auto scan = [&](const ::onnx::ValueInfoProto& v) {
      if (!v.type().has_tensor_type() || !v.type().tensor_type().has_shape()) return;
      const auto& sh = v.type().tensor_type().shape();
      for (int k = 1; k < sh.dim_size(); ++k)
        if (!sh.dim(k).dim_param().empty()) elsewhere.insert(sh.dim(k).dim_param());
    };
    for (const auto& v : g.input()) scan(v);
    for (const auto& v : g.output()) scan(v);
    std::map<std::string, std::vector<std::string>> batch_of;  // symbolic name -> inputs
    for (int i = 0; i < g.input_size(); ++i) {
      auto& v = *g.mutable_input(i);
      if (inits.count(v.name()) || given.count(v.name()) || !v.type().has_tensor_type()) continue;
      auto* tt = v.mutable_type()->mutable_tensor_type();
      if (!tt->has_shape() || tt->shape().dim_size() == 0) continue;
      auto* d = tt->mutable_shape()->mutable_dim(0);
      const std::string param = d->dim_param();
      if (d->has_dim_value() || param.empty() || elsewhere.count(param)) continue;
      d->clear_dim_param();
      d->set_dim_value(1);
      changed[static_cast<std::size_t>(i)] = 1;
      batch_of[param].push_back(v.name());
    }
    for (const auto& [param, ins] : batch_of) {
      std::string list;
      for (const auto& n : ins) {
        if (!list.empty()) list += ", ";
        list += quote(n);
      }
      warnings.push_back("symbolic batch dimension " + quote(param) + " of input" + (ins.size() > 1 ? "s " : " ") +
                         list + " taken as 1 (give --input-shape NAME=d0,d1,... for another)");
    }
  }
  for (int i = 0; i < g.input_size(); ++i) {
    if (!changed[static_cast<std::size_t>(i)]) continue;
    input_shape s;
    s.name = g.input(i).name();
    for (const auto& d : g.input(i).type().tensor_type().shape().dim())
      s.dims.push_back(d.has_dim_value() ? d.dim_value() : -1);
    specialised.push_back(std::move(s));
  }
}

inline std::string first_lines(std::string_view what) {
  // ONNX messages are "<problem>\n\n==> Context: <where>": keep both, on one line.
  return one_line(what, 360);
}

/// Marks nodes without a schema (unknown op or domain) so that the checker
/// and shape inference skip them; returns the original domains in visit order.
inline std::vector<std::string> hide_unknown_ops(::onnx::ModelProto& proto, std::vector<std::string>& warnings) {
  std::unordered_map<std::string, int> opsets;
  for (const auto& o : proto.opset_import()) opsets[is_default_domain(o.domain()) ? "" : o.domain()] = static_cast<int>(o.version());
  std::set<std::pair<std::string, std::string>> local_functions;
  for (const auto& f : proto.functions()) local_functions.emplace(f.domain(), f.name());
  std::vector<std::string> saved;
  std::map<std::string, int> unknown;
  auto visit = [&](::onnx::NodeProto& n) {
    const std::string dom = is_default_domain(n.domain()) ? "" : n.domain();
    bool known = false;
    if (auto it = opsets.find(dom); it != opsets.end())
      known = ::onnx::OpSchemaRegistry::Schema(n.op_type(), it->second, dom) != nullptr ||
              local_functions.count({n.domain(), n.op_type()}) > 0;
    if (known) return;
    saved.push_back(n.domain());
    n.set_domain(unknown_domain);
    ++unknown[(dom.empty() ? std::string("ai.onnx") : dom) + "::" + n.op_type()];
  };
  if (proto.has_graph()) for_each_node(*proto.mutable_graph(), visit);
  if (!saved.empty()) {
    auto* o = proto.add_opset_import();
    o->set_domain(unknown_domain);
    o->set_version(1);
    std::string list;
    int k = 0;
    for (const auto& [op, count] : unknown) {
      if (k++ == 6) {
        list += ", ...";
        break;
      }
      list += (list.empty() ? "" : ", ") + quote_raw(op) + (count > 1 ? " x" + std::to_string(count) : "");
    }
    warnings.push_back("unknown operator or domain (not checked, shapes not inferred, default cost used): " + list);
  }
  return saved;
}

inline void restore_unknown_ops(::onnx::ModelProto& proto, const std::vector<std::string>& saved) {
  if (saved.empty()) return;
  std::size_t k = 0;
  auto visit = [&](::onnx::NodeProto& n) {
    if (n.domain() == unknown_domain && k < saved.size()) n.set_domain(saved[k++]);
  };
  if (proto.has_graph()) for_each_node(*proto.mutable_graph(), visit);
  // hide_unknown_ops appended exactly one import; neither pass reorders them
  auto* ops = proto.mutable_opset_import();
  if (!ops->empty() && ops->Get(ops->size() - 1).domain() == unknown_domain) ops->RemoveLast();
}

/// Adds what shape inference found about the values inside If/Loop/Scan
/// bodies (their inputs, value_info, outputs, initializers, node outputs),
/// recursively, under their own names; a name already known (an outer value,
/// or the same name in a sibling branch seen first) keeps the first entry.
inline void collect_body_tensors(const ::onnx::GraphProto& g, std::unordered_map<std::string, tensor_info>& out,
                                 int depth = 0) {
  if (depth > 64) fail("subgraphs nested more than 64 deep");
  for (const auto& n : g.node())
    for (const auto& a : n.attribute()) {
      std::vector<const ::onnx::GraphProto*> bodies;
      if (a.has_g()) bodies.push_back(&a.g());
      for (const auto& sg : a.graphs()) bodies.push_back(&sg);
      for (const auto* b : bodies) {
        std::unordered_map<std::string, tensor_info> local;
        collect_tensors(*b, local);
        for (auto& [name, info] : local) out.emplace(name, std::move(info));
        collect_body_tensors(*b, out, depth + 1);
      }
    }
}

inline model build(::onnx::ModelProto proto, std::filesystem::path base_dir, const load_options& o) {
  model m;
  m.path = base_dir;
  if (!proto.has_graph()) fail("not an ONNX model: it has no graph");
  if (proto.ir_version() <= 0) fail("not an ONNX model: ir_version is missing");
  if (proto.opset_import_size() == 0 && proto.ir_version() >= 3) fail("invalid model: no opset_import");
  inline_external_data(proto, base_dir, o.load_external_data, o.max_external_bytes);
  validate_tensors(proto);
  if (check_structure(*proto.mutable_graph()))
    m.warnings.push_back("nodes were not in topological order; reordered");
  check_value_infos(proto.graph());

  fix_input_shapes(*proto.mutable_graph(), o, m.warnings, m.specialised_inputs);
  check_ranks(proto.graph(), {});
  const auto saved = hide_unknown_ops(proto, m.warnings);
  if (o.check) {
    try {
      ::onnx::checker::check_model(proto);
    } catch (const ::onnx::checker::ValidationError& e) {
      fail("invalid model (ONNX checker): " + first_lines(e.what()));
    }
  }
  if (o.infer_shapes) {
    try {
      ::onnx::ShapeInferenceOptions so(/*check_type=*/false, /*error_mode=*/0, /*data_propagation=*/true);
      ::onnx::shape_inference::InferShapes(proto, ::onnx::OpSchemaRegistry::Instance(), so);
    } catch (const ::onnx::InferenceError& e) {
      fail("shape inference failed: " + first_lines(e.what()));
    } catch (const ::onnx::checker::ValidationError& e) {
      fail("shape inference failed: " + first_lines(e.what()));
    }
  }
  restore_unknown_ops(proto, saved);
  check_value_infos(proto.graph());

  const auto& g = proto.graph();
  collect_tensors(g, m.tensors);
  collect_body_tensors(g, m.tensors);
  const std::size_t n = static_cast<std::size_t>(g.node_size());
  m.g = graph(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& node = g.node(static_cast<int>(i));
    auto& vi = m.g[i];
    vi.node = i;
    vi.name = node.name();
    vi.op_type = node.op_type();
    vi.domain = node.domain();
    for (const auto& out : node.output())
      if (!out.empty()) m.producer.emplace(out, i);
  }
  for (std::size_t i = 0; i < n; ++i) {
    const auto& node = g.node(static_cast<int>(i));
    std::set<std::string> reads(node.input().begin(), node.input().end());
    if (has_subgraph(node)) reads.merge(implicit_inputs(node));
    for (const auto& name : reads) {
      auto it = m.producer.find(name);
      if (name.empty() || it == m.producer.end()) continue;
      edge_info e;
      e.tensor = name;
      if (auto t = m.tensors.find(name); t != m.tensors.end()) e.bytes = t->second.bytes;
      add_edge(it->second, i, e, m.g);
    }
  }
  m.proto = std::move(proto);
  apply_costs(m, o.costs);
  if (!o.profile.empty()) apply_profile(m, read_profile(o.profile));
  return m;
}

/// Runs f, turning every exception into a one-line graph_error.
template <class F>
auto guarded(const std::string& where, F&& f) -> decltype(f()) {
  const std::string prefix = where.empty() ? std::string() : where + ": ";
  try {
    return f();
  } catch (const graph_error& e) {
    throw graph_error(prefix + e.what());
  } catch (const ::onnx::checker::ValidationError& e) {
    throw graph_error(prefix + "invalid model: " + first_lines(e.what()));
  } catch (const ::onnx::InferenceError& e) {
    throw graph_error(prefix + "shape inference failed: " + first_lines(e.what()));
  } catch (const std::bad_alloc&) {
    throw graph_error(prefix + "out of memory while loading the model");
  } catch (const std::exception& e) {
    throw graph_error(prefix + "cannot load the model: " + first_lines(e.what()));
  } catch (...) {
    throw graph_error(prefix + "cannot load the model: unknown error");
  }
}

inline ::onnx::ModelProto parse_proto(std::string_view bytes) {
  if (bytes.empty()) fail("empty file (not an ONNX model)");
  if (bytes.size() > static_cast<std::size_t>(INT32_MAX)) fail("file larger than 2 GiB (protobuf's limit)");
  ::onnx::ModelProto proto;
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  in.SetTotalBytesLimit(static_cast<int>(bytes.size()));
  in.SetRecursionLimit(100);
  if (!proto.ParseFromCodedStream(&in) || !in.ConsumedEntireMessage())
    fail("not an ONNX model: protobuf parsing failed near byte " + std::to_string(in.CurrentPosition()) + " of " +
         std::to_string(bytes.size()) + " (truncated, or not a protobuf file)");
  return proto;
}

/// A file mapped read-only into memory (POSIX mmap): the parser reads the
/// page cache directly, so the weights are copied once, from the file into
/// the proto. `data()` is null where mapping is not available or fails.
/// (Like every reader of a mapped file, a process that truncates the file
/// while it is being parsed can make the parse fault.)
class mapped_file {
 public:
  mapped_file(const std::filesystem::path& file, std::uint64_t size) {
#if DFGPAR_ONNX_HAVE_MMAP
    if (size == 0 || size > static_cast<std::uint64_t>(INT32_MAX)) return;
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || static_cast<std::uint64_t>(st.st_size) != size) {
      ::close(fd);  // changed since it was measured, or not a plain file: read it as a stream
      return;
    }
    int flags = MAP_PRIVATE;
#ifdef MAP_POPULATE
    flags |= MAP_POPULATE;  // one call maps every page instead of one fault per few pages
#endif
    void* p = ::mmap(nullptr, static_cast<std::size_t>(size), PROT_READ, flags, fd, 0);
    ::close(fd);
    if (p == MAP_FAILED) return;
    data_ = static_cast<const char*>(p);
    size_ = static_cast<std::size_t>(size);
#else
    (void)file;
    (void)size;
#endif
  }
  mapped_file(const mapped_file&) = delete;
  mapped_file& operator=(const mapped_file&) = delete;
  ~mapped_file() {
#if DFGPAR_ONNX_HAVE_MMAP
    if (data_) ::munmap(const_cast<char*>(data_), size_);
#endif
  }
  const char* data() const noexcept { return data_; }
  std::string_view bytes() const noexcept { return {data_, size_}; }

 private:
  const char* data_ = nullptr;
  std::size_t size_ = 0;
};

/// Parses a model straight from a stream of `size` bytes (where the file
/// cannot be mapped): the weights are copied once, from the file into the
/// proto, never through a whole-file buffer.
inline ::onnx::ModelProto parse_proto(std::istream& file, std::uint64_t size) {
  if (size == 0) fail("empty file (not an ONNX model)");
  if (size > static_cast<std::uint64_t>(INT32_MAX)) fail("file larger than 2 GiB (protobuf's limit)");
  ::onnx::ModelProto proto;
  google::protobuf::io::IstreamInputStream stream(&file, 1 << 20);
  google::protobuf::io::CodedInputStream in(&stream);
  in.SetTotalBytesLimit(static_cast<int>(size));
  in.SetRecursionLimit(100);
  if (!proto.ParseFromCodedStream(&in) || !in.ConsumedEntireMessage() || file.bad())
    fail("not an ONNX model: protobuf parsing failed near byte " + std::to_string(in.CurrentPosition()) + " of " +
         std::to_string(size) + " (truncated, or not a protobuf file)");
  return proto;
}

}  // namespace detail

/// Builds the model from a parsed proto; `base_dir` is the folder that
/// external data is relative to (`model::path` is set to it).
/// \throws dfgpar::graph_error with a one-line message.
inline model build_model(::onnx::ModelProto proto, std::filesystem::path base_dir, const load_options& o = {}) {
  return detail::guarded("", [&] { return detail::build(std::move(proto), std::move(base_dir), o); });
}

/// Loads a model from serialized bytes (e.g. a fuzzer's input); external data
/// is looked up in `base_dir`.
inline model load_model_from_memory(std::string_view bytes, std::filesystem::path base_dir,
                                    const load_options& o = {}) {
  return detail::guarded("", [&] { return detail::build(detail::parse_proto(bytes), std::move(base_dir), o); });
}

/// Reads a `.onnx` file (external data relative to its folder), checks it,
/// infers shapes and builds the dataflow graph with costs.
/// \code auto m = dfgpar::onnx::load_model("model.onnx");
/// auto s = dfgpar::parallelize(m.g, get(&node_info::cost, m.g), get(&edge_info::comm, m.g),
///                              dfgpar::options{.workers = 2}); \endcode
/// \throws dfgpar::graph_error "<file>: <problem>".
inline model load_model(const std::filesystem::path& file, const load_options& o = {}) {
  return detail::guarded(file.string(), [&] {
    namespace fs = std::filesystem;
    std::error_code ec;
    const auto st = fs::status(file, ec);
    if (ec || !fs::exists(st)) detail::fail("no such file");
    if (fs::is_directory(st)) detail::fail("is a directory, not an .onnx file");
    const std::uint64_t size = fs::file_size(file, ec);
    if (ec) detail::fail("cannot read the file size");
    if (size > o.max_file_bytes)
      detail::fail("file is " + std::to_string(size) + " bytes, over the limit of " + std::to_string(o.max_file_bytes));
    ::onnx::ModelProto proto;
    if (const detail::mapped_file map(file, size); map.data()) {
      proto = detail::parse_proto(map.bytes());
    } else {
      std::ifstream in(file, std::ios::binary);
      if (!in) detail::fail("cannot open the file");
      proto = detail::parse_proto(in, size);
    }
    model m = detail::build(std::move(proto), file.parent_path(), o);
    m.path = file;
    return m;
  });
}

}  // namespace dfgpar::onnx
