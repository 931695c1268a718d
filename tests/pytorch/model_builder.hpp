#pragma once
// Helpers of the PyTorch back end's tests: small hand-made ONNX graphs,
// schedules for them, and running the emitted model.py.

#include <dfgpar/cluster/parallelize.hpp>
#include <dfgpar/cluster/schedule.hpp>
#include <dfgpar/onnx/model.hpp>
#include <dfgpar/pytorch/emitter.hpp>

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

namespace dfgpar_test::pytorch {

namespace fs = std::filesystem;
using tp = ::onnx::TensorProto;

inline void add_value_info(::onnx::ValueInfoProto* v, const std::string& name, std::vector<std::int64_t> dims) {
  v->set_name(name);
  auto* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(tp::FLOAT);
  for (auto d : dims) t->mutable_shape()->add_dim()->set_dim_value(d);
}

inline ::onnx::TensorProto float_tensor(const std::string& name, std::vector<std::int64_t> dims, float start) {
  ::onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(tp::FLOAT);
  std::int64_t n = 1;
  for (auto d : dims) t.add_dims(d), n *= d;
  for (std::int64_t i = 0; i < n; ++i) t.add_float_data(start + 0.01f * static_cast<float>(i % 17));
  return t;
}

inline ::onnx::AttributeProto int_attr(const std::string& name, std::int64_t v) {
  ::onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(::onnx::AttributeProto::INT);
  a.set_i(v);
  return a;
}

inline ::onnx::AttributeProto ints_attr(const std::string& name, std::vector<std::int64_t> v) {
  ::onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(::onnx::AttributeProto::INTS);
  for (auto x : v) a.add_ints(x);
  return a;
}

inline ::onnx::NodeProto* add_node(::onnx::GraphProto* g, const std::string& op, const std::string& name,
                                   std::vector<std::string> in, std::vector<std::string> out) {
  auto* n = g->add_node();
  n->set_op_type(op);
  n->set_name(name);
  for (auto& s : in) n->add_input(s);
  for (auto& s : out) n->add_output(s);
  return n;
}

/// An empty opset-13 model named `name`.
inline ::onnx::ModelProto empty_model(const std::string& name) {
  ::onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  m.mutable_graph()->set_name(name);
  return m;
}

/// x -> A -> {L1, R1} -> D1 -> {L2, R2} -> D2: two diamond regions in a row.
inline ::onnx::ModelProto two_diamonds_model() {
  auto m = empty_model("two_diamonds");
  auto* g = m.mutable_graph();
  add_value_info(g->add_input(), "x", {1, 4});
  add_node(g, "Relu", "A", {"x"}, {"a"});             // 0
  add_node(g, "Sigmoid", "L1", {"a"}, {"l1"});        // 1
  add_node(g, "Tanh", "R1", {"a"}, {"r1"});           // 2
  add_node(g, "Add", "D1", {"l1", "r1"}, {"d1"});     // 3
  add_node(g, "Sigmoid", "L2", {"d1"}, {"l2"});       // 4
  add_node(g, "Tanh", "R2", {"d1"}, {"r2"});          // 5
  add_node(g, "Add", "D2", {"l2", "r2"}, {"y"});      // 6
  add_value_info(g->add_output(), "y", {1, 4});
  return m;
}

/// The schedule dfgpar's clustering makes for `m` on `workers` workers.
inline dfgpar::schedule schedule_for(const dfgpar::onnx::model& m, std::size_t workers) {
  return dfgpar::parallelize(m.g, get(&dfgpar::onnx::node_info::cost, m.g), get(&dfgpar::onnx::edge_info::comm, m.g),
                             dfgpar::options{.workers = workers});
}

/// A hand-made schedule of `n` vertices: one cluster per (worker, vertices)
/// entry, in run order; a vertex's home is the first cluster that runs it.
inline dfgpar::schedule hand_schedule(std::size_t n, std::size_t workers,
                                      const std::vector<std::pair<std::size_t, std::vector<std::size_t>>>& clusters) {
  dfgpar::schedule s;
  s.workers = workers;
  s.num_vertices = n;
  s.home.assign(n, dfgpar::schedule::npos);
  for (const auto& [w, vs] : clusters) {
    for (std::size_t v : vs)
      if (s.home[v] == dfgpar::schedule::npos) s.home[v] = s.clusters.size();
    s.clusters.push_back({w, vs});
  }
  return s;
}

inline fs::path temp_dir(const std::string& tag) {
  fs::path d = fs::temp_directory_path() / ("dfgpar_pytorch_" + tag + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

inline void write_files(const fs::path& dir, const std::vector<dfgpar::pytorch::emitted_file>& files) {
  for (const auto& f : files) {
    std::ofstream out(dir / f.name, std::ios::binary);
    out.write(f.content.data(), static_cast<std::streamsize>(f.content.size()));
  }
}

/// Runs /usr/bin/python3 with `args` in `dir`: "rc=<status>\n" and the output.
inline std::string run_python(const fs::path& dir, const std::string& args) {
  const std::string cmd = "cd '" + dir.string() + "' && nice -n 19 /usr/bin/python3 " + args + " > run.log 2>&1";
  const int rc = std::system(cmd.c_str());
  std::ifstream log(dir / "run.log");
  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  return (rc == 0 ? "rc=0\n" : "rc=" + std::to_string(rc) + "\n") + text;
}

inline bool have_torch() {
  static const bool yes =
      fs::exists("/usr/bin/python3") && std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") == 0;
  return yes;
}

}  // namespace dfgpar_test::pytorch
