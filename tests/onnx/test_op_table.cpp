// The operator table (include/dfgpar/onnx/op_table.hpp): sorted, one row per
// operator, and every row's flags agree with what the layers that read it
// do: the evaluator computes every foldable row (and only those), the cost
// model estimates every modelled row, the PyTorch back end translates
// exactly the rows marked `pytorch`, and no row names an operator that
// nothing handles.

#include <dfgpar/onnx/cost_model.hpp>
#include <dfgpar/onnx/evaluate.hpp>
#include <dfgpar/onnx/op_table.hpp>
#include <dfgpar/pytorch/ops.hpp>

#include "onnx_node.hpp"

#include <doctest/doctest.h>

#include <onnx/defs/schema.h>

#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace {

namespace ox = dfgpar::onnx;
using onnx_test::node;

std::string name_of(const ox::op_info& r) { return std::string(r.op_type); }

TEST_CASE("[dfgpar][onnx] op table: sorted, unique, found by find_op in both spellings of the default domain") {
  const ox::op_info* prev = nullptr;
  for (const auto& r : ox::op_table) {
    CAPTURE(name_of(r));
    if (prev) CHECK(std::tie(prev->domain, prev->op_type) < std::tie(r.domain, r.op_type));
    CHECK(ox::find_op(r.domain, r.op_type) == &r);
    if (r.domain.empty()) CHECK(ox::find_op("ai.onnx", r.op_type) == &r);
    prev = &r;
  }
  CHECK(ox::find_op("", "NoSuchOp") == nullptr);
  CHECK(ox::find_op("com.example", "Conv") == nullptr);
}

TEST_CASE("[dfgpar][onnx] op table: no row names an operator nothing handles") {
  for (const auto& r : ox::op_table) {
    CAPTURE(name_of(r));
    CHECK((r.foldable || r.pytorch || r.cost.kind != ox::cost_kind::generic || r.clone != ox::clone_class::never));
  }
}

TEST_CASE("[dfgpar][onnx] op table: every foldable row is computed by evaluate(), every other row declined") {
  std::size_t foldable = 0;
  for (const auto& r : ox::op_table) {
    CAPTURE(name_of(r));
    CHECK(ox::can_evaluate(r.op_type, r.domain) == r.foldable);
    node n(std::string(r.op_type), {});
    const std::vector<const ox::tensor*> none;
    if (!r.foldable) {
      CHECK_FALSE(ox::evaluate(n, none, 13));
      continue;
    }
    ++foldable;
    if (r.op_type == "Constant") {
      n.t("value", onnx_test::i64({1}, {4}));
      CHECK(ox::evaluate(n, none, 13));
      continue;
    }
    // without its inputs (or its required attribute), a dispatched op is an
    // invalid node; an op the dispatch does not know would be declined
    CHECK_THROWS_AS(ox::evaluate(n, none, 13), dfgpar::graph_error);
  }
  CHECK(foldable == 116);
}

TEST_CASE("[dfgpar][onnx] op table: the cost model estimates every modelled row as its kind says") {
  // every tensor of shape [2, 4, 8, 8]: enough for every formula
  ox::tensor_info t;
  t.elem_type = ::onnx::TensorProto::FLOAT;
  t.shape = {2, 4, 8, 8};
  t.shape_known = true;
  const ox::tensor_lookup find = [&](const std::string&) -> const ox::tensor_info* { return &t; };
  const double numel = 2 * 4 * 8 * 8, bytes = 4 * numel;
  for (const auto& r : ox::op_table) {
    CAPTURE(name_of(r));
    if (r.cost.kind == ox::cost_kind::control_flow) continue;  // needs subgraphs
    const node n(std::string(r.op_type), {"a", "b", "c", "d", "e", "f", "g", "h"}, {"y"});  // QLinearConv: weight = input 3
    const auto e = ox::estimate_node(n, find);
    const bool has_schema = ::onnx::OpSchemaRegistry::Schema(std::string(r.op_type), std::string(r.domain)) != nullptr;
    CHECK(e.known == (r.cost.kind != ox::cost_kind::generic || has_schema));
    switch (r.cost.kind) {
      case ox::cost_kind::view: CHECK(e.bytes == 0); CHECK(e.flops == 0); break;
      case ox::cost_kind::copy: CHECK(e.flops == 0); CHECK(e.bytes == 2 * bytes); break;
      case ox::cost_kind::elementwise: CHECK(e.flops == doctest::Approx(r.cost.factor * numel)); break;
      case ox::cost_kind::per_input: CHECK(e.flops == doctest::Approx(r.cost.factor * numel)); break;
      case ox::cost_kind::generic: if (has_schema) CHECK(e.flops == numel); break;
      default: CHECK(e.flops > 0); break;
    }
  }
}

TEST_CASE("[dfgpar][onnx] op table: clone classes, weight roles and guards fit the operators") {
  for (const auto& r : ox::op_table) {
    CAPTURE(name_of(r));
    const auto versions = ox::since_versions(r);
    // what the evaluator folds or the scheduler clones has a schema in the linked ONNX library
    // (a translation may be of an operator newer than it: Mish, opset 18)
    if (r.foldable || r.clone != ox::clone_class::never) CHECK_FALSE(versions.empty());
    const auto* schema = ::onnx::OpSchemaRegistry::Schema(std::string(r.op_type), std::string(r.domain));
    // clones are views, data movement or element-wise arithmetic (never a convolution)
    if (r.clone == ox::clone_class::cheap || r.clone == ox::clone_class::view)
      CHECK((r.cost.kind == ox::cost_kind::view || r.cost.kind == ox::cost_kind::copy ||
             r.cost.kind == ox::cost_kind::elementwise));
    if (!r.weight_roles.empty()) {
      CHECK(ox::input_role(r, 1) == "weight");
      REQUIRE(schema);
      std::size_t roles = 0;
      while (!ox::input_role(r, roles).empty()) ++roles;
      CHECK(roles <= schema->inputs().size());
    }
    for (const auto& rule : r.guard.ranks)
      if (rule.input >= 0 && schema) CHECK(static_cast<std::size_t>(rule.input) < schema->inputs().size());
    if (r.guard.spatial_attributes && schema) CHECK(schema->attributes().count("kernel_shape") == 1);
  }
  const auto* conv = ox::find_op("", "Conv");
  REQUIRE(conv);
  CHECK(ox::input_role(*conv, 0) == "x");
  CHECK(ox::input_role(*conv, 2) == "bias");
  CHECK(ox::input_role(*conv, 3).empty());
  CHECK(ox::since_version(*conv, 13) == 11);
  CHECK(ox::since_versions(*ox::find_op("", "Slice")) == std::vector<int>{1, 10, 11, 13});
  // known to the cost model only, and honest about it
  for (const char* op : {"Gelu", "BitwiseAnd", "GroupNormalization", "LpPool"}) {
    CAPTURE(op);
    const auto* r = ox::find_op("", op);
    REQUIRE(r);
    CHECK(r->cost.kind != ox::cost_kind::generic);
    CHECK_FALSE(r->pytorch);
    CHECK_FALSE(r->foldable);
  }
}

TEST_CASE("[dfgpar][onnx] op table: the pytorch flag is exactly the PyTorch back end's translations") {
  const auto& reg = dfgpar::pytorch::op_registry::standard();
  std::set<std::string> rows;
  for (const auto& r : ox::op_table) {
    CAPTURE(name_of(r));
    CHECK(reg.supports(name_of(r)) == r.pytorch);
    rows.insert(name_of(r));
  }
  for (const auto& op : reg.op_types()) {
    CAPTURE(op);
    CHECK(rows.count(op) == 1);  // every translation has a row
  }
}

}  // namespace
