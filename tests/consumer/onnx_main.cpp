// Uses dfgpar's onnx component as an installed package: writes a tiny ONNX
// model (x -> Relu -> Add(w) and x -> Neg, two branches into Mul), compiles
// it with the library's pipeline and checks the result.
#include <dfgpar/onnx/onnx.hpp>

#include <onnx/onnx_pb.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

void add_node(::onnx::GraphProto& g, const char* op, std::initializer_list<const char*> in, const char* out) {
  auto* n = g.add_node();
  n->set_op_type(op);
  n->set_name(std::string(op) + "_" + out);
  for (const char* i : in) n->add_input(i);
  n->add_output(out);
}

void add_value(google::protobuf::RepeatedPtrField<::onnx::ValueInfoProto>& list, const char* name) {
  auto* v = list.Add();
  v->set_name(name);
  auto* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(::onnx::TensorProto::FLOAT);
  t->mutable_shape()->add_dim()->set_dim_value(4);
}

}  // namespace

int main() {
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

  const auto file = std::filesystem::temp_directory_path() / "dfgpar_consumer_tiny.onnx";
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    if (!out || !m.SerializeToOstream(&out)) {
      std::printf("dfgpar consumer (onnx): cannot write %s\n", file.string().c_str());
      return 1;
    }
  }
  const auto r = dfgpar::onnx::compile(file, {.schedule = {.workers = 2}});
  std::filesystem::remove(file);
  const std::size_t nodes = num_vertices(r.scheduled().g);
  const bool ok = nodes == 4 && r.optimized && r.schedule.num_vertices == 4 && r.bounds.work > 0 &&
                  r.times.makespan >= r.bounds.critical_path && r.merge.linear_clusters >= 2;
  std::printf("dfgpar consumer (onnx): %zu nodes, W %.3f us, CP %.3f us, makespan %.3f us on 2 workers: %s\n", nodes,
              r.bounds.work, r.bounds.critical_path, r.times.makespan, ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
}
