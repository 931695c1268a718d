#pragma once
/// \file registry.hpp
/// The table of The PyTorch translations of keyed by (domain, op type, since
/// version) as onnx2torch keys its converters: a translation registered with
/// since version v handles the operator's versions from v up to the next
/// registration of the same op. A node is resolved against the ONNX schema
/// registry: the op version in effect at the model's opset is the schema's
/// SinceVersion(), and the registration with the largest since version not
/// above it translates the node. \code   dfgpar::pytorch::op_registry r;
/// r.add("Relu", 1, [](op_context& c) { c.assign("torch.relu(" + c.in(0) +
/// ")"); });   r.add("Clip", 1, clip_from_attributes);   // Clip-1 and Clip-6
/// r.add("Clip", 11, clip_from_inputs);      // Clip-11 and later
/// r.translate(ctx);   // appends ctx.lines or throws unsupported_op \endcode
/// The standard registry, `op_registry::standard()`, is defined in
/// <dfgpar/pytorch/ops.hpp>, which includes every operator family.
/// Each is registered with the operator version it starts at (see
/// registry.hpp) by the add_*_translations function at the end.

#include <dfgpar/pytorch/ops/context.hpp>

#include <onnx/defs/schema.h>

#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace dfgpar::pytorch {

/// One registered translation's key.
struct op_key {
  std::string domain;   ///< "" for the default domain (ai.onnx)
  std::string op_type;
  int since_version = 1;
  friend auto operator<=>(const op_key&, const op_key&) = default;
};

/// Translations by (domain, op type, since version).
class op_registry {
 public:
  /// The built-in translations of every operator family (defined in
  /// <dfgpar/pytorch/ops.hpp>).
  static const op_registry& standard();

  /// Registers `f` for `op_type` of `domain` ("" or "ai.onnx": the default
  /// domain) from operator version `since_version` on.
  void add(std::string_view domain, std::string_view op_type, int since_version, op_translation f) {
    table_[op_key{canonical_domain(domain), std::string(op_type), since_version}] = std::move(f);
  }
  /// Registers `f` for the default-domain `op_type` from `since_version` on.
  void add(std::string_view op_type, int since_version, op_translation f) {
    add("", op_type, since_version, std::move(f));
  }

  /// Whether some version of the default-domain `op_type` has a translation.
  bool supports(const std::string& op_type) const { return supports("", op_type); }
  bool supports(std::string_view domain, const std::string& op_type) const {
    auto it = table_.lower_bound(op_key{canonical_domain(domain), op_type, 0});
    return it != table_.end() && it->first.domain == canonical_domain(domain) && it->first.op_type == op_type;
  }
  /// The default-domain op types that have a translation, sorted, each once.
  std::vector<std::string> op_types() const {
    std::vector<std::string> v;
    for (const auto& [k, f] : table_)
      if (k.domain.empty() && (v.empty() || v.back() != k.op_type)) v.push_back(k.op_type);
    return v;
  }
  /// Every registration's key, sorted by domain, op type and since version.
  std::vector<op_key> keys() const {
    std::vector<op_key> v;
    for (const auto& [k, f] : table_) v.push_back(k);
    return v;
  }

  /// The operator version in effect for `op_type` of `domain` at `opset`
  /// as the linked ONNX library's schema registry knows it (the schema's
  /// since version); 0 when it has no such operator at that opset.
  static int op_version(std::string_view domain, const std::string& op_type, std::int64_t opset) {
    const std::string dom = canonical_domain(domain);
    const auto* s = ::onnx::OpSchemaRegistry::Schema(op_type, static_cast<int>(opset), dom);
    return s ? s->SinceVersion() : 0;
  }
  /// The newest opset of `domain` that the linked ONNX library knows.
  static std::int64_t library_opset(std::string_view domain) {
    const auto& m = ::onnx::OpSchemaRegistry::DomainToVersionRange::Instance().Map();
    auto it = m.find(canonical_domain(domain));
    return it == m.end() ? 0 : it->second.second;
  }

  /// The registration that translates `op_type` of `domain` at `opset`, or
  /// null: the one with the largest since version not above the op version
  /// in effect (above the library's newest opset: not above the opset).
  const std::pair<const op_key, op_translation>* resolve(std::string_view domain, const std::string& op_type,
                                                         std::int64_t opset) const {
    const std::string dom = canonical_domain(domain);
    std::int64_t version = op_version(dom, op_type, opset);
    if (opset > library_opset(dom)) version = opset;  // versions the library does not know yet
    if (version <= 0) return nullptr;
    auto it = table_.upper_bound(op_key{dom, op_type, static_cast<int>(std::min<std::int64_t>(version, 1 << 30))});
    if (it == table_.begin()) return nullptr;
    --it;
    if (it->first.domain != dom || it->first.op_type != op_type) return nullptr;
    return &*it;
  }

  /// Runs the translation of c's node; then checks that every attribute was
  /// read. \throws unsupported_op naming the op (and attribute).
  void translate(op_context& c) const {
    const auto& n = *c.node;
    if (!(n.domain().empty() || n.domain() == "ai.onnx"))
      c.unsupported("domain " + python_string(n.domain()) + " is not supported");
    const auto* r = resolve(n.domain(), n.op_type(), c.opset);
    if (!r) {
      if (supports(n.domain(), n.op_type()) && op_version(n.domain(), n.op_type(), c.opset) == 0)
        c.unsupported("not an operator of opset " + std::to_string(c.opset));
      c.unsupported("not supported by the PyTorch back end");
    }
    c.since_version = r->first.since_version;
    c.input_used.assign(c.inputs.size(), 0);
    try {
      r->second(c);
    } catch (const onnx::argument_error& e) {
      c.unsupported(e.why);  // a missing or wrongly typed attribute, inputs that contradict each other
    }
    if (const auto unread = c.attrs().unread(); !unread.empty())
      c.unsupported("attribute " + python_string(unread.front()) + " is not supported");
  }

 private:
  static std::string canonical_domain(std::string_view d) { return d == "ai.onnx" ? std::string() : std::string(d); }

  std::map<op_key, op_translation> table_;
};

}  // namespace dfgpar::pytorch
