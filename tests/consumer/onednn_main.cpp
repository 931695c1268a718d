// Uses dfgpar's onednn component as an installed package: writes a tiny ONNX
// model (y = (relu(x) + 1) * -x, two branches), runs it on the native
// runtime with 2 workers and checks the output.
#include <dfgpar/onednn/onednn.hpp>

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

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

  const auto file = std::filesystem::temp_directory_path() / "dfgpar_consumer_tiny_onednn.onnx";
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    if (!out || !m.SerializeToOstream(&out)) {
      std::printf("dfgpar consumer (onednn): cannot write %s\n", file.string().c_str());
      return 1;
    }
  }
  dfgpar::onednn::session s(file, {.workers = 2, .threads = 1, .cores = 2});
  std::filesystem::remove(file);
  dfgpar::onnx::tensor x = dfgpar::onnx::make_tensor(::onnx::TensorProto::FLOAT, {4});
  x.values<float>() = {-2.f, -0.5f, 0.5f, 3.f};
  const auto out = s.run({x});
  bool ok = out.size() == 1 && out[0].dims == std::vector<std::int64_t>{4};
  for (std::size_t i = 0; ok && i < 4; ++i) {
    const float v = x.values<float>()[i];
    ok = std::fabs(out[0].values<float>()[i] - (std::max(v, 0.f) + 1.f) * -v) < 1e-6f;
  }
  std::printf("dfgpar consumer (onednn): %zu nodes on %zu workers, y = [%g %g %g %g]: %s\n",
              s.statistics().nodes, s.options().workers, out[0].values<float>()[0], out[0].values<float>()[1],
              out[0].values<float>()[2], out[0].values<float>()[3], ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
}
