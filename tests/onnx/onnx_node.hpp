// A small NodeProto builder for the ONNX adapter's unit tests
// (test_attributes.cpp, test_args.cpp, test_op_table.cpp, test_evaluate.cpp).
#pragma once

#include <dfgpar/onnx/tensor.hpp>

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <vector>

namespace onnx_test {

/// Builds a NodeProto: `node("Slice", {"x", "s"}, {"y"}).ints("axes", {0})`.
struct node {
  ::onnx::NodeProto n;
  node(std::string op, std::vector<std::string> in, std::vector<std::string> out = {"y"}) {
    n.set_op_type(op);
    n.set_name(op + "_node");
    for (auto& s : in) n.add_input(s);
    for (auto& s : out) n.add_output(s);
  }
  ::onnx::AttributeProto& add(const std::string& name, ::onnx::AttributeProto::AttributeType t) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(t);
    return *a;
  }
  node& i(const std::string& name, std::int64_t v) { add(name, ::onnx::AttributeProto::INT).set_i(v); return *this; }
  node& f(const std::string& name, float v) { add(name, ::onnx::AttributeProto::FLOAT).set_f(v); return *this; }
  node& s(const std::string& name, const std::string& v) { add(name, ::onnx::AttributeProto::STRING).set_s(v); return *this; }
  node& ints(const std::string& name, std::vector<std::int64_t> v) {
    auto& a = add(name, ::onnx::AttributeProto::INTS);
    for (auto x : v) a.add_ints(x);
    return *this;
  }
  node& floats(const std::string& name, std::vector<float> v) {
    auto& a = add(name, ::onnx::AttributeProto::FLOATS);
    for (auto x : v) a.add_floats(x);
    return *this;
  }
  node& t(const std::string& name, const dfgpar::onnx::tensor& v) {
    *add(name, ::onnx::AttributeProto::TENSOR).mutable_t() = dfgpar::onnx::to_proto(v, "");
    return *this;
  }
  operator const ::onnx::NodeProto&() const { return n; }
};

inline dfgpar::onnx::tensor i64(std::vector<std::int64_t> dims, std::vector<std::int64_t> v) {
  return dfgpar::onnx::make_tensor<std::int64_t>(::onnx::TensorProto::INT64, std::move(dims), std::move(v));
}
inline dfgpar::onnx::tensor f32(std::vector<std::int64_t> dims, std::vector<float> v) {
  return dfgpar::onnx::make_tensor<float>(::onnx::TensorProto::FLOAT, std::move(dims), std::move(v));
}

}  // namespace onnx_test
