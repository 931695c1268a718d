#pragma once
// The tiny ONNX model both component consumers use:
// y = (relu(x) + w) * -x with x, y float[4] and w = 1 (two branches into Mul).

#include <onnx/onnx_pb.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>

namespace tiny {

inline void add_node(::onnx::GraphProto& g, const char* op, std::initializer_list<const char*> in, const char* out) {
  auto* n = g.add_node();
  n->set_op_type(op);
  n->set_name(std::string(op) + "_" + out);
  for (const char* i : in) n->add_input(i);
  n->add_output(out);
}

inline void add_value(google::protobuf::RepeatedPtrField<::onnx::ValueInfoProto>& list, const char* name) {
  auto* v = list.Add();
  v->set_name(name);
  auto* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(::onnx::TensorProto::FLOAT);
  t->mutable_shape()->add_dim()->set_dim_value(4);
}

/// Writes the model to `file`; false (and a message naming `who`) when it cannot.
inline bool write_model(const std::filesystem::path& file, const char* who) {
  ::onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  auto& g = *m.mutable_graph();
  g.set_name("tiny");
  add_value(*g.mutable_input(), "x");
  add_value(*g.mutable_output(), "y");
  auto* w = g.add_initializer();
  w->set_name("w");
  w->set_data_type(::onnx::TensorProto::FLOAT);
  w->add_dims(4);
  for (int i = 0; i < 4; ++i) w->add_float_data(1.0f);
  add_node(g, "Relu", {"x"}, "a");
  add_node(g, "Add", {"a", "w"}, "b");
  add_node(g, "Neg", {"x"}, "c");
  add_node(g, "Mul", {"b", "c"}, "y");
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  if (out && m.SerializeToOstream(&out)) return true;
  std::printf("dfgpar consumer (%s): cannot write %s\n", who, file.string().c_str());
  return false;
}

}  // namespace tiny
