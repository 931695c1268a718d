// Small ONNX models for the native runtime's tests: one or a few nodes,
// float32 inputs of fixed shape, initializers, written to a temporary file.
#pragma once

#include <dfgpar/onnx/tensor.hpp>

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace onednn_test {

namespace fs = std::filesystem;

/// `model m; m.input("x", {1, 3, 8, 8}); m.weight("w", {4, 3, 3, 3}); m.node("Conv", {"x", "w"}, {"y"}).ints(...); m.output("y");`
struct model {
  ::onnx::ModelProto proto;
  std::uint32_t seed = 1;

  model() {
    proto.set_ir_version(8);
    proto.add_opset_import()->set_version(13);
    proto.mutable_graph()->set_name("test");
  }

  void input(const std::string& name, const std::vector<std::int64_t>& dims) {
    auto* i = proto.mutable_graph()->add_input();
    i->set_name(name);
    auto* t = i->mutable_type()->mutable_tensor_type();
    t->set_elem_type(::onnx::TensorProto::FLOAT);
    t->mutable_shape();  // a scalar has a shape too, of no dimensions
    for (auto d : dims) t->mutable_shape()->add_dim()->set_dim_value(d);
  }
  /// A graph output of rank `rank`, its dimensions left to shape inference.
  void output(const std::string& name, int rank = 4) {
    auto* o = proto.mutable_graph()->add_output();
    o->set_name(name);
    auto* t = o->mutable_type()->mutable_tensor_type();
    t->set_elem_type(::onnx::TensorProto::FLOAT);
    for (int i = 0; i < rank; ++i) t->mutable_shape()->add_dim();
  }
  /// A float32 initializer with seeded values in [lo, hi).
  dfgpar::onnx::tensor weight(const std::string& name, const std::vector<std::int64_t>& dims, float lo = -1, float hi = 1) {
    std::mt19937 rng(seed++);
    std::uniform_real_distribution<float> u(lo, hi);
    auto t = dfgpar::onnx::make_tensor(::onnx::TensorProto::FLOAT, dims);
    for (float& f : t.values<float>()) f = u(rng);
    *proto.mutable_graph()->add_initializer() = dfgpar::onnx::to_proto(t, name);
    return t;
  }
  void constant(const std::string& name, const dfgpar::onnx::tensor& t) {
    *proto.mutable_graph()->add_initializer() = dfgpar::onnx::to_proto(t, name);
  }

  struct node_ref {
    ::onnx::NodeProto* n;
    ::onnx::AttributeProto& add(const std::string& name, ::onnx::AttributeProto::AttributeType t) {
      auto* a = n->add_attribute();
      a->set_name(name);
      a->set_type(t);
      return *a;
    }
    node_ref& i(const std::string& name, std::int64_t v) { add(name, ::onnx::AttributeProto::INT).set_i(v); return *this; }
    node_ref& f(const std::string& name, float v) { add(name, ::onnx::AttributeProto::FLOAT).set_f(v); return *this; }
    node_ref& s(const std::string& name, const std::string& v) { add(name, ::onnx::AttributeProto::STRING).set_s(v); return *this; }
    node_ref& ints(const std::string& name, const std::vector<std::int64_t>& v) {
      auto& a = add(name, ::onnx::AttributeProto::INTS);
      for (auto x : v) a.add_ints(x);
      return *this;
    }
  };
  node_ref node(const std::string& op, const std::vector<std::string>& in, const std::vector<std::string>& out) {
    auto* n = proto.mutable_graph()->add_node();
    n->set_op_type(op);
    n->set_name(op + "_" + std::to_string(proto.graph().node_size()));
    for (const auto& s : in) n->add_input(s);
    for (const auto& s : out) n->add_output(s);
    return {n};
  }

  /// Writes the model to a temporary file and returns its path.
  fs::path save(const std::string& stem) const {
    const fs::path p = fs::temp_directory_path() / ("dfgpar_onednn_" + stem + ".onnx");
    std::ofstream f(p, std::ios::binary);
    proto.SerializeToOstream(&f);
    return p;
  }
};

/// Seeded values in [-1, 1).
inline dfgpar::onnx::tensor random_tensor(const std::vector<std::int64_t>& dims, std::uint32_t seed = 7) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  auto t = dfgpar::onnx::make_tensor(::onnx::TensorProto::FLOAT, dims);
  for (float& f : t.values<float>()) f = u(rng);
  return t;
}

}  // namespace onednn_test
