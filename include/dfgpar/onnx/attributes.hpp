#pragma once
/// \file attributes.hpp
/// The one reader of ONNX node attributes: typed, with read tracking.
///
/// Every layer that looks at a node's attributes (the cost model, the folding
/// evaluator, the loader's guards, the argument layer in onnx/args/, the
/// PyTorch translations) reads them through `attribute_reader`, so that
///  - a wrongly typed attribute is an error everywhere (`attribute_error`),
///    never silently the default, and
///  - a consumer can ask which attributes it did not read (`unread()`): an
///    attribute it does not understand may change the meaning of the node,
///    so it declines the node instead of computing something else.
///
/// How to use it:
/// \code
///   dfgpar::onnx::attribute_reader a(node);
///   const std::int64_t axis = a.get_int("axis", 1);            // INT, default 1 when absent
///   const auto perm = a.find_ints("perm");                      // optional<vector<int64_t>>
///   const std::string mode = a.get_string("mode", "constant");
///   a.ignore("seed");                                           // read, does not change the result
///   if (!a.unread().empty()) ... decline: an attribute we do not understand
/// \endcode
/// A value of the wrong type (e.g. a FLOAT `axis`) throws `attribute_error`,
/// a `graph_error` whose `why` is the problem without the node's name (for
/// consumers that rethrow it as their own error type).
///
/// Attributes without a `type` (files older than IR version 2 may omit it) are
/// typed by the field that holds their value.

#include <dfgpar/error.hpp>

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dfgpar::onnx {

/// A node whose arguments are invalid: an attribute that is missing where
/// the operator needs it or that has another type than the operator defines,
/// inputs that contradict each other (thrown by attributes.hpp and onnx/args/).
struct argument_error : graph_error {
  argument_error(const std::string& what, std::string reason) : graph_error(what), why(std::move(reason)) {}
  std::string why;  ///< the problem, without the node's name
};
/// The error of a missing or wrongly typed attribute (an `argument_error`).
using attribute_error = argument_error;

namespace detail {

using attr_type = ::onnx::AttributeProto::AttributeType;

/// Name of an attribute type as the ONNX spec writes it ("INT", "FLOATS").
inline const char* attribute_type_name(int t) {
  switch (t) {
    case ::onnx::AttributeProto::FLOAT: return "FLOAT";
    case ::onnx::AttributeProto::INT: return "INT";
    case ::onnx::AttributeProto::STRING: return "STRING";
    case ::onnx::AttributeProto::TENSOR: return "TENSOR";
    case ::onnx::AttributeProto::GRAPH: return "GRAPH";
    case ::onnx::AttributeProto::SPARSE_TENSOR: return "SPARSE_TENSOR";
    case ::onnx::AttributeProto::TYPE_PROTO: return "TYPE_PROTO";
    case ::onnx::AttributeProto::FLOATS: return "FLOATS";
    case ::onnx::AttributeProto::INTS: return "INTS";
    case ::onnx::AttributeProto::STRINGS: return "STRINGS";
    case ::onnx::AttributeProto::TENSORS: return "TENSORS";
    case ::onnx::AttributeProto::GRAPHS: return "GRAPHS";
    case ::onnx::AttributeProto::SPARSE_TENSORS: return "SPARSE_TENSORS";
    case ::onnx::AttributeProto::TYPE_PROTOS: return "TYPE_PROTOS";
    default: return "UNDEFINED";
  }
}

/// The type of `a`: its `type` field, or for an untyped attribute the field
/// that holds a value (a list without values counts as any list type).
inline int attribute_type(const ::onnx::AttributeProto& a) {
  if (a.type() != ::onnx::AttributeProto::UNDEFINED) return a.type();
  if (a.has_i()) return ::onnx::AttributeProto::INT;
  if (a.has_f()) return ::onnx::AttributeProto::FLOAT;
  if (a.has_s()) return ::onnx::AttributeProto::STRING;
  if (a.has_t()) return ::onnx::AttributeProto::TENSOR;
  if (a.has_g()) return ::onnx::AttributeProto::GRAPH;
  if (a.has_sparse_tensor()) return ::onnx::AttributeProto::SPARSE_TENSOR;
  if (a.ints_size()) return ::onnx::AttributeProto::INTS;
  if (a.floats_size()) return ::onnx::AttributeProto::FLOATS;
  if (a.strings_size()) return ::onnx::AttributeProto::STRINGS;
  if (a.tensors_size()) return ::onnx::AttributeProto::TENSORS;
  if (a.graphs_size()) return ::onnx::AttributeProto::GRAPHS;
  return ::onnx::AttributeProto::UNDEFINED;
}

/// `a` holds a value of type `t` (an untyped empty attribute is an empty list).
inline bool attribute_is(const ::onnx::AttributeProto& a, int t) {
  const int have = attribute_type(a);
  if (have == t) return true;
  const bool list = t == ::onnx::AttributeProto::INTS || t == ::onnx::AttributeProto::FLOATS ||
                    t == ::onnx::AttributeProto::STRINGS || t == ::onnx::AttributeProto::TENSORS ||
                    t == ::onnx::AttributeProto::GRAPHS;
  return list && have == ::onnx::AttributeProto::UNDEFINED;
}

/// "Flatten node 'f1'" (or "Flatten node (unnamed)") for messages.
inline std::string node_where(const ::onnx::NodeProto& n) {
  return n.op_type() + " node " + (n.name().empty() ? std::string("(unnamed)") : "'" + n.name() + "'");
}

/// Throws an argument_error "dfgpar: <Op> node '<name>': <why>".
[[noreturn]] inline void fail_node(const ::onnx::NodeProto& n, const std::string& why) {
  throw argument_error("dfgpar: " + node_where(n) + ": " + why, why);
}

}  // namespace detail

/// Typed reads of one node's attributes, remembering which were read. Keeps a
/// pointer to the node: the node must outlive it.
class attribute_reader {
 public:
  explicit attribute_reader(const ::onnx::NodeProto& n)
      : n_(&n), read_(static_cast<std::size_t>(n.attribute_size()), 0) {}

  /// The node read.
  const ::onnx::NodeProto& node() const noexcept { return *n_; }

  /// Whether the node has attribute `name` (does not count as reading it).
  bool has(std::string_view name) const { return index(name) >= 0; }

  /// The attribute `name` (marked read), or null.
  const ::onnx::AttributeProto* find(std::string_view name) {
    const int k = index(name);
    if (k < 0) return nullptr;
    read_[static_cast<std::size_t>(k)] = 1;
    return &n_->attribute(k);
  }

  /// Marks `name` read: its value does not change the result (a seed, a
  /// legacy `consumed_inputs`).
  void ignore(std::string_view name) { (void)find(name); }

  /// INT attribute `name`, or nullopt when absent. \throws attribute_error when of another type.
  std::optional<std::int64_t> find_int(std::string_view name) {
    const auto* a = typed(name, ::onnx::AttributeProto::INT);
    if (!a) return std::nullopt;
    return a->i();
  }
  /// INT attribute `name`, `def` when absent.
  std::int64_t get_int(std::string_view name, std::int64_t def) { return find_int(name).value_or(def); }
  /// INT attribute `name` that the operator requires.
  std::int64_t need_int(std::string_view name) {
    if (auto v = find_int(name)) return *v;
    missing(name);
  }

  /// FLOAT attribute `name`, or nullopt when absent.
  std::optional<double> find_float(std::string_view name) {
    const auto* a = typed(name, ::onnx::AttributeProto::FLOAT);
    if (!a) return std::nullopt;
    return static_cast<double>(a->f());
  }
  /// FLOAT attribute `name`, `def` when absent.
  double get_float(std::string_view name, double def) { return find_float(name).value_or(def); }

  /// STRING attribute `name`, or nullopt when absent.
  std::optional<std::string> find_string(std::string_view name) {
    const auto* a = typed(name, ::onnx::AttributeProto::STRING);
    if (!a) return std::nullopt;
    return a->s();
  }
  /// STRING attribute `name`, `def` when absent.
  std::string get_string(std::string_view name, std::string def) {
    if (auto v = find_string(name)) return *v;
    return def;
  }

  /// INTS attribute `name`, or nullopt when absent.
  std::optional<std::vector<std::int64_t>> find_ints(std::string_view name) {
    const auto* a = typed(name, ::onnx::AttributeProto::INTS);
    if (!a) return std::nullopt;
    return std::vector<std::int64_t>(a->ints().begin(), a->ints().end());
  }
  /// INTS attribute `name`, `def` when absent.
  std::vector<std::int64_t> get_ints(std::string_view name, std::vector<std::int64_t> def = {}) {
    if (auto v = find_ints(name)) return std::move(*v);
    return def;
  }

  /// FLOATS attribute `name`, or nullopt when absent.
  std::optional<std::vector<float>> find_floats(std::string_view name) {
    const auto* a = typed(name, ::onnx::AttributeProto::FLOATS);
    if (!a) return std::nullopt;
    return std::vector<float>(a->floats().begin(), a->floats().end());
  }
  /// FLOATS attribute `name`, `def` when absent.
  std::vector<float> get_floats(std::string_view name, std::vector<float> def = {}) {
    if (auto v = find_floats(name)) return std::move(*v);
    return def;
  }

  /// STRINGS attribute `name`, or nullopt when absent.
  std::optional<std::vector<std::string>> find_strings(std::string_view name) {
    const auto* a = typed(name, ::onnx::AttributeProto::STRINGS);
    if (!a) return std::nullopt;
    return std::vector<std::string>(a->strings().begin(), a->strings().end());
  }

  /// TENSOR attribute `name`, or null when absent.
  const ::onnx::TensorProto* find_tensor(std::string_view name) {
    const auto* a = typed(name, ::onnx::AttributeProto::TENSOR);
    return a ? &a->t() : nullptr;
  }
  /// GRAPH attribute `name`, or null when absent.
  const ::onnx::GraphProto* find_graph(std::string_view name) {
    const auto* a = typed(name, ::onnx::AttributeProto::GRAPH);
    return a ? &a->g() : nullptr;
  }

  /// Names of the attributes not read (nor ignored) so far, in node order.
  std::vector<std::string> unread() const {
    std::vector<std::string> v;
    for (std::size_t k = 0; k < read_.size(); ++k)
      if (!read_[k]) v.push_back(n_->attribute(static_cast<int>(k)).name());
    return v;
  }
  /// Whether every attribute was read or ignored.
  bool all_read() const {
    for (char r : read_)
      if (!r) return false;
    return true;
  }
  /// \throws attribute_error naming the first attribute not read.
  void require_all_read() const {
    const auto u = unread();
    if (!u.empty()) fail("attribute '" + u.front() + "' is not supported");
  }

  /// Throws an argument_error "dfgpar: <Op> node '<name>': <why>".
  [[noreturn]] void fail(const std::string& why) const { detail::fail_node(*n_, why); }

 private:
  int index(std::string_view name) const {
    for (int k = 0; k < n_->attribute_size(); ++k)
      if (n_->attribute(k).name() == name) return k;
    return -1;
  }
  const ::onnx::AttributeProto* typed(std::string_view name, int t) {
    const auto* a = find(name);
    if (a && !detail::attribute_is(*a, t))
      fail("attribute '" + std::string(name) + "' has type " + detail::attribute_type_name(detail::attribute_type(*a)) +
           ", expected " + detail::attribute_type_name(t));
    return a;
  }
  [[noreturn]] void missing(std::string_view name) const { fail("attribute '" + std::string(name) + "' is missing"); }

  const ::onnx::NodeProto* n_;
  std::vector<char> read_;
};

}  // namespace dfgpar::onnx
