// The PyTorch op translations (include/dfgpar/pytorch/ops/) one node at a
// time: what they emit for inputs known only at run time, and that they
// refuse, naming the operator and the attribute, what they cannot translate
// exactly, without pasting model strings into code. The values the code
// computes are checked per family by tests/pytorch/ops/test_<family>.py, and
// for whole models by tests/pytorch/backend_suite.py and
// tests/pytorch/check_models.sh.

#include <dfgpar/onnx/tensor.hpp>
#include <dfgpar/pytorch/ops.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace {

namespace py = dfgpar::pytorch;
using tp = ::onnx::TensorProto;

/// One node with float inputs of known shape (a null shape: unknown) and
/// optional constant inputs; translate() runs the standard registry.
struct node_case {
  ::onnx::NodeProto node;
  std::int64_t opset = 13;
  std::vector<std::string> inputs;
  std::vector<dfgpar::onnx::tensor_info> infos;
  std::vector<std::shared_ptr<const dfgpar::onnx::tensor>> constants;
  std::vector<std::string> outputs{"y"};

  explicit node_case(const std::string& op) { node.set_op_type(op); }

  node_case& input(const std::string& name, std::vector<std::int64_t> shape, std::int32_t type = tp::FLOAT) {
    dfgpar::onnx::tensor_info info;
    info.elem_type = type;
    info.shape = std::move(shape);
    info.shape_known = true;
    inputs.push_back(name);
    infos.push_back(info);
    constants.push_back(nullptr);
    return *this;
  }
  node_case& constant_ints(const std::string& name, std::vector<std::int64_t> values) {
    auto t = std::make_shared<dfgpar::onnx::tensor>(
        dfgpar::onnx::make_tensor(tp::INT64, {static_cast<std::int64_t>(values.size())}));
    t->values<std::int64_t>() = values;
    input(name, {static_cast<std::int64_t>(values.size())}, tp::INT64);
    constants.back() = t;
    return *this;
  }
  node_case& attr_int(const std::string& name, std::int64_t v) {
    auto* a = node.add_attribute();
    a->set_name(name);
    a->set_type(::onnx::AttributeProto::INT);
    a->set_i(v);
    return *this;
  }
  node_case& attr_float(const std::string& name, float v) {
    auto* a = node.add_attribute();
    a->set_name(name);
    a->set_type(::onnx::AttributeProto::FLOAT);
    a->set_f(v);
    return *this;
  }
  node_case& attr_string(const std::string& name, const std::string& v) {
    auto* a = node.add_attribute();
    a->set_name(name);
    a->set_type(::onnx::AttributeProto::STRING);
    a->set_s(v);
    return *this;
  }

  py::op_context context() const {
    py::op_context c;
    c.node = &node;
    c.opset = opset;
    c.inputs = inputs;
    for (const auto& i : infos) c.input_info.push_back(&i);
    c.constants = constants;
    c.outputs = outputs;
    c.output_info.assign(outputs.size(), nullptr);
    return c;
  }
  /// The emitted lines joined by newlines.
  std::string translate() const {
    auto c = context();
    py::op_registry::standard().translate(c);
    std::string s;
    for (const auto& l : c.lines) s += l + "\n";
    return s;
  }
};

}  // namespace

TEST_CASE("[dfgpar][pytorch] inputs known only at run time are read by the generated code") {
  SUBCASE("ReduceSum with computed axes") {
    node_case n("ReduceSum");
    n.input("x", {2, 3, 4}).input("axes", {1}, tp::INT64);
    const auto code = n.translate();
    CHECK(code.find("y__in1 = [int(d__) for d__ in axes.reshape(-1)]") != std::string::npos);
    CHECK(code.find("torch.sum(x, y__dims, True)") != std::string::npos);
  }
  SUBCASE("ReduceSum with constant axes stays a literal") {
    node_case n("ReduceSum");
    n.input("x", {2, 3, 4}).constant_ints("axes", {-1});
    CHECK(n.translate() == "y = torch.sum(x, [2], True)\n");
  }
  SUBCASE("Reshape with a computed shape copies dimensions for zeros") {
    node_case n("Reshape");
    n.input("x", {2, 3}).input("shape", {2}, tp::INT64);
    const auto code = n.translate();
    CHECK(code.find("if y__in1[y__k] == 0:") != std::string::npos);
    CHECK(code.find("y = torch.reshape(x, y__in1)") != std::string::npos);
  }
  SUBCASE("Slice with negative steps walks indices") {
    node_case n("Slice");
    n.input("x", {5}).constant_ints("s", {-1}).constant_ints("e", {-100}).constant_ints("a", {0}).constant_ints("p",
                                                                                                              {-1});
    const auto code = n.translate();
    CHECK(code.find("torch.index_select(y, y__a, torch.arange(y__b, y__e, y__p") != std::string::npos);
  }
}

TEST_CASE("[dfgpar][pytorch] Cast to bfloat16 truncates before opset 19 and rounds from 19") {
  node_case n("Cast");
  n.input("x", {3});
  n.attr_int("to", tp::BFLOAT16);
  n.opset = 13;
  CHECK(n.translate().find("torch.trunc(") != std::string::npos);
  n.opset = 19;
  CHECK(n.translate() == "y = x.to(torch.bfloat16)\n");
}

TEST_CASE("[dfgpar][pytorch] translations refuse what they cannot compute exactly, by name") {
  auto refused = [](const node_case& n, const std::string& what) {
    auto c = n.context();
    CHECK_THROWS_WITH_AS(py::op_registry::standard().translate(c), doctest::Contains(what.c_str()), py::unsupported_op);
    try {
      auto c2 = n.context();
      py::op_registry::standard().translate(c2);
    } catch (const py::unsupported_op& e) {
      CHECK(std::string(e.what()).find("'" + n.node.op_type() + "'") != std::string::npos);
    }
  };
  SUBCASE("LRN with an even size: PyTorch's window differs") {
    node_case n("LRN");
    n.input("x", {1, 4, 3, 3}).attr_int("size", 2);
    refused(n, "size 2");
  }
  SUBCASE("Resize nearest with exclude_outside") {
    node_case n("Resize");
    n.input("x", {1, 1, 2, 2}).input("roi", {0}).input("scales", {4});
    n.attr_string("mode", "nearest").attr_int("exclude_outside", 1);
    refused(n, "exclude_outside");
  }
  SUBCASE("MaxUnpool with an output_shape input") {
    node_case n("MaxUnpool");
    n.input("x", {1, 1, 2, 2}).input("i", {1, 1, 2, 2}, tp::INT64).input("shape", {4}, tp::INT64);
    auto* k = n.node.add_attribute();
    k->set_name("kernel_shape");
    k->set_type(::onnx::AttributeProto::INTS);
    k->add_ints(2), k->add_ints(2);
    refused(n, "output_shape");
  }
  SUBCASE("RNN with an activation it does not know") {
    node_case n("RNN");
    n.input("x", {2, 1, 3}).input("w", {1, 4, 3}).input("r", {1, 4, 4});
    n.attr_int("hidden_size", 4);
    auto* a = n.node.add_attribute();
    a->set_name("activations");
    a->set_type(::onnx::AttributeProto::STRINGS);
    a->add_strings("Affine");
    refused(n, "activation 'Affine'");
  }
  SUBCASE("a new attribute on a new translation") {
    node_case n("TopK");
    n.input("x", {2, 5}).constant_ints("k", {2});
    n.attr_int("new_attribute_from_the_future", 1);
    refused(n, "new_attribute_from_the_future");
  }
  SUBCASE("a hostile string attribute is quoted in the message, never emitted") {
    const std::string hostile = "mean'); __import__('os').system('touch PWNED') #";
    node_case n("NegativeLogLikelihoodLoss");
    n.input("x", {2, 3}).input("t", {2}, tp::INT64).attr_string("reduction", hostile);
    auto c = n.context();
    try {
      py::op_registry::standard().translate(c);
      FAIL("a bad reduction was accepted");
    } catch (const py::unsupported_op& e) {
      const std::string msg = e.what();
      CHECK(msg.find("reduction") != std::string::npos);
      CHECK(msg.find(py::python_string(hostile)) != std::string::npos);
    }
    for (const auto& l : c.lines) CHECK(l.find("__import__") == std::string::npos);
  }
  SUBCASE("NegativeLogLikelihoodLoss accepts the three reductions only as literals") {
    node_case n("NegativeLogLikelihoodLoss");
    n.input("x", {2, 3}).input("t", {2}, tp::INT32).attr_string("reduction", "sum").attr_int("ignore_index", 1);
    CHECK(n.translate() == "y = F.nll_loss(x, t.to(torch.int64), None, None, 1, None, 'sum')\n");
  }
}

TEST_CASE("[dfgpar][pytorch] the registry names why it refuses a node") {
  node_case n("LessOrEqual");
  n.input("a", {2}).input("b", {2});
  n.opset = 11;
  auto c = n.context();
  CHECK_THROWS_WITH_AS(py::op_registry::standard().translate(c), doctest::Contains("not an operator of opset 11"),
                       py::unsupported_op);
  n.opset = 12;
  CHECK(n.translate() == "y = torch.le(a, b)\n");
}

TEST_CASE("[dfgpar][pytorch] a wrongly typed attribute is refused by name, through the adapter's attribute reader") {
  node_case bad("Flatten");
  bad.input("x", {2, 3, 4}).attr_float("axis", 2.0F);
  auto c = bad.context();
  CHECK_THROWS_WITH_AS(py::op_registry::standard().translate(c), doctest::Contains("'axis' has type FLOAT"),
                       py::unsupported_op);
  node_case ok("Flatten");
  ok.input("x", {2, 3, 4}).attr_int("axis", 2);
  CHECK(ok.translate() == "y = torch.reshape(x, [6, 4])\n");
}
