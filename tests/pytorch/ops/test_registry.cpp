// The PyTorch translation registry (include/dfgpar/pytorch/ops/registry.hpp):
// its registrations' since versions against the ONNX schema registry, and how
// a node's opset picks a translation. That every translation has an operator
// table row marked `pytorch`, and every such row a translation, is checked
// with the table (tests/onnx/test_op_table.cpp).

#include <dfgpar/onnx/op_table.hpp>
#include <dfgpar/pytorch/ops.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace {

namespace py = dfgpar::pytorch;
namespace on = dfgpar::onnx;

/// The since version of the registration that translates op at opset (0: none).
int resolved(const std::string& op, std::int64_t opset) {
  const auto* r = py::op_registry::standard().resolve("", op, opset);
  return r ? r->first.since_version : 0;
}

}  // namespace

TEST_CASE("[dfgpar][pytorch] every registration starts at a version of its operator") {
  // 1 means "from the operator's first version"; a version above the newest
  // opset of the linked ONNX library is one that library does not know yet
  for (const auto& k : py::op_registry::standard().keys()) {
    CAPTURE(k.op_type);
    CAPTURE(k.since_version);
    const auto* row = on::find_op(k.domain, k.op_type);
    REQUIRE(row != nullptr);
    const auto versions = on::since_versions(*row);
    const bool real = std::find(versions.begin(), versions.end(), k.since_version) != versions.end();
    CHECK((real || k.since_version == 1 || k.since_version > py::op_registry::library_opset(k.domain)));
  }
}

TEST_CASE("[dfgpar][pytorch] a node's opset picks the registration of the operator version in effect") {
  CHECK(resolved("Add", 6) == 1);  // Add-6: the legacy broadcast attributes
  CHECK(resolved("Add", 7) == 7);
  CHECK(resolved("Add", 14) == 7);
  CHECK(resolved("BatchNormalization", 6) == 1);
  CHECK(resolved("BatchNormalization", 9) == 7);
  CHECK(resolved("BatchNormalization", 15) == 14);
  CHECK(resolved("Concat", 3) == 1);
  CHECK(resolved("Concat", 13) == 4);
  CHECK(resolved("Cast", 13) == 1);
  CHECK(resolved("Cast", 19) == 19);       // newer than the library: the opset decides
  CHECK(resolved("LessOrEqual", 11) == 0);  // the operator does not exist yet
  CHECK(resolved("LessOrEqual", 12) == 12);
  CHECK(resolved("NoSuchOp", 13) == 0);
  CHECK(py::op_registry::standard().resolve("com.microsoft", "Gelu", 1) == nullptr);
}

TEST_CASE("[dfgpar][pytorch] a registry of one's own: translations by version range") {
  py::op_registry r;
  r.add("Clip", 1, [](py::op_context& c) { c.assign("old"); });
  r.add("ai.onnx", "Clip", 11, [](py::op_context& c) { c.assign("new"); });
  CHECK(r.supports("Clip"));
  CHECK(r.op_types() == std::vector<std::string>{"Clip"});
  CHECK(r.keys().size() == 2);
  CHECK(r.resolve("", "Clip", 6)->first.since_version == 1);
  CHECK(r.resolve("", "Clip", 13)->first.since_version == 11);
}
