// The library's pipeline, dfgpar::onnx::compile (onnx/pipeline.hpp): phases
// and their hook, what the result holds, the weights moved (not copied) into
// the optimised model, profiles re-keyed to the optimised nodes, errors
// naming their phase, and the torchvision models when DFGPAR_MODELS_DIR has them.

#include <dfgpar/onnx/onnx.hpp>

#include <dfgpar/dfgpar.hpp>

#include <doctest/doctest.h>

#include <onnx/onnx_pb.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

namespace {

namespace fs = std::filesystem;
namespace ox = dfgpar::onnx;
using tp = ::onnx::TensorProto;

void add_node(::onnx::GraphProto& g, const std::string& op, std::vector<std::string> in, std::string out) {
  auto* n = g.add_node();
  n->set_op_type(op);
  n->set_name(op + "_" + out);
  for (auto& s : in) n->add_input(s);
  n->add_output(out);
}

void add_value(google::protobuf::RepeatedPtrField<::onnx::ValueInfoProto>& list, const std::string& name,
               std::vector<std::int64_t> dims, int type = tp::FLOAT) {
  auto* v = list.Add();
  v->set_name(name);
  auto* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(type);
  for (auto d : dims) t->mutable_shape()->add_dim()->set_dim_value(d);
}

::onnx::TensorProto weight(const std::string& name, std::vector<std::int64_t> dims, float first) {
  std::vector<float> v(1);
  for (auto d : dims) v.resize(v.size() * static_cast<std::size_t>(d));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = first + static_cast<float>(i);
  return ox::to_proto(ox::make_tensor<float>(tp::FLOAT, std::move(dims), std::move(v)), name);
}

/// x[2,8] -> MatMul(w1) -> Relu -> Add(b) -> y, and x -> MatMul(w2) -> Neg -> z
/// (two independent branches), plus a foldable Shape -> Reshape of x, an
/// Identity, and a dead Sigmoid.
::onnx::ModelProto small_model() {
  ::onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  auto& g = *m.mutable_graph();
  g.set_name("small");
  add_value(*g.mutable_input(), "x", {2, 8});
  add_value(*g.mutable_output(), "y", {2, 16});
  add_value(*g.mutable_output(), "z", {2, 16});
  *g.add_initializer() = weight("w1", {8, 16}, 1);
  *g.add_initializer() = weight("w2", {8, 16}, -3);
  *g.add_initializer() = weight("b", {16}, 0.5f);
  *g.add_initializer() = weight("unused", {4}, 0);
  add_node(g, "Shape", {"x"}, "shape_x");
  add_node(g, "Reshape", {"x", "shape_x"}, "x2");
  add_node(g, "Identity", {"x2"}, "x3");
  add_node(g, "MatMul", {"x3", "w1"}, "a");
  add_node(g, "Relu", {"a"}, "r");
  add_node(g, "Add", {"r", "b"}, "y");
  add_node(g, "MatMul", {"x", "w2"}, "c");
  add_node(g, "Neg", {"c"}, "z");
  add_node(g, "Sigmoid", {"x"}, "dead");
  return m;
}

/// A temporary folder removed at the end of the test.
struct temp_dir {
  fs::path path;
  temp_dir() {
    path = fs::temp_directory_path() / ("dfgpar_pipeline_" + std::to_string(::getpid()));
    fs::create_directories(path);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path write(const std::string& name, const ::onnx::ModelProto& m) const {
    const fs::path f = path / name;
    std::ofstream out(f, std::ios::binary);
    REQUIRE(m.SerializeToOstream(&out));
    return f;
  }
};

const ::onnx::TensorProto* initializer(const ::onnx::ModelProto& m, const std::string& name) {
  for (const auto& t : m.graph().initializer())
    if (t.name() == name) return &t;
  return nullptr;
}

}  // namespace

TEST_CASE("[dfgpar][pipeline] compile runs every phase once, in order, and returns what the report needs") {
  temp_dir dir;
  const fs::path file = dir.write("small.onnx", small_model());
  std::vector<std::pair<ox::compile_phase, bool>> events;
  const ox::compile_result r = ox::compile(
      file, {.schedule = {.workers = 2}, .on_phase = [&](ox::compile_phase p, bool done) { events.emplace_back(p, done); }});

  using ph = ox::compile_phase;
  const std::vector<std::pair<ph, bool>> expected = {{ph::load, false},  {ph::load, true},     {ph::optimize, false},
                                                      {ph::optimize, true}, {ph::costs, false}, {ph::costs, true},
                                                      {ph::schedule, false}, {ph::schedule, true}};
  CHECK(events == expected);  // no split phase without `split`
  CHECK(r.phases.load > 0);
  CHECK(r.phases.split == 0);
  CHECK(r.phases.total() >= r.phases.load + r.phases.optimize);

  REQUIRE(r.optimized);
  CHECK(!r.split);
  CHECK(&r.scheduled() == &*r.optimized);
  CHECK(num_vertices(r.original.g) == 9);
  // Shape folded (x's shape is known), Identity removed, Sigmoid dead; the
  // Reshape reads x, which is not constant, and stays
  CHECK(r.optimization.folded >= 1);
  CHECK(r.optimization.identities_removed == 1);
  CHECK(r.optimization.dead_removed == 1);
  const ox::graph& g = r.scheduled().g;
  CHECK(num_vertices(g) == r.optimization.nodes_after);

  // the schedule is for scheduled(), and the figures are its own
  const auto cost = get(&ox::node_info::cost, g);
  const auto comm = get(&ox::edge_info::comm, g);
  CHECK(dfgpar::validate(g, r.schedule));
  const dfgpar::bounds b = dfgpar::compute_bounds(g, cost, 2);
  CHECK(r.bounds.work == doctest::Approx(b.work));
  CHECK(r.bounds.critical_path == doctest::Approx(b.critical_path));
  CHECK(r.times.makespan == doctest::Approx(dfgpar::makespan(g, r.schedule, cost, comm)));
  CHECK(r.times.makespan == doctest::Approx(r.merge.makespan));
  CHECK(r.times.start.size() == r.schedule.clusters.size());
  CHECK(r.merge.linear_clusters == dfgpar::linear_clustering(g, cost, comm).clusters.size());
  CHECK(r.merge.linear_clusters >= 2);
}

TEST_CASE("[dfgpar][pipeline] the weights are moved into the optimised model, never copied, and saved from there") {
  temp_dir dir;
  const ::onnx::ModelProto source = small_model();
  const fs::path file = dir.write("small.onnx", source);
  ox::compile_result r = ox::compile(file, {.schedule = {.workers = 2}});
  REQUIRE(r.optimized);

  // the optimised model holds the weights it reads, byte for byte as in the file
  for (const char* name : {"w1", "w2", "b"}) {
    CAPTURE(name);
    const auto* t = initializer(r.optimized->proto, name);
    REQUIRE(t != nullptr);
    CHECK(ox::from_proto(*t) == ox::from_proto(*initializer(source, name)));
    // the loaded model keeps what describes them, not the data
    const auto* o = initializer(r.original.proto, name);
    REQUIRE(o != nullptr);
    CHECK(o->dims_size() == t->dims_size());
    CHECK(o->data_type() == t->data_type());
    CHECK(o->raw_data().empty());
    CHECK(o->float_data_size() == 0);
  }
  CHECK(initializer(r.optimized->proto, "unused") == nullptr);  // pruned, so it was never moved
  CHECK(r.original.weights_moved);
  CHECK(!r.optimized->weights_moved);
  CHECK(r.original.tensors.at("w1").shape == std::vector<std::int64_t>{8, 16});

  // save_model refuses the emptied model and writes the optimised one whole
  CHECK_THROWS_AS(ox::save_model(r.original, dir.path / "original.onnx"), dfgpar::graph_error);
  CHECK(!fs::exists(dir.path / "original.onnx"));
  ox::save_model(r.scheduled(), dir.path / "opt.onnx");
  const ox::model back = ox::load_model(dir.path / "opt.onnx");
  CHECK(num_vertices(back.g) == num_vertices(r.scheduled().g));
  CHECK(ox::from_proto(*initializer(back.proto, "w2")) == ox::from_proto(*initializer(source, "w2")));

  // optimize() on a model still in use copies instead, and leaves it whole
  const ox::model loaded = ox::load_model(file);
  const ox::model copy = ox::optimize(loaded);
  CHECK(!loaded.weights_moved);
  CHECK(ox::from_proto(*initializer(loaded.proto, "w1")) == ox::from_proto(*initializer(copy.proto, "w1")));
}

TEST_CASE("[dfgpar][pipeline] without optimisation the loaded model is scheduled and keeps its weights") {
  temp_dir dir;
  const fs::path file = dir.write("small.onnx", small_model());
  const ox::compile_result r = ox::compile(file, {.optimize = false, .schedule = {.workers = 3}});
  CHECK(!r.optimized);
  CHECK(&r.scheduled() == &r.original);
  CHECK(!r.original.weights_moved);
  CHECK(num_vertices(r.scheduled().g) == 9);
  CHECK(r.phases.optimize == 0);
  CHECK(r.schedule.workers == 3);
  CHECK(dfgpar::validate(r.scheduled().g, r.schedule));
}

TEST_CASE("[dfgpar][pipeline] a profile of the loaded model is matched to the optimised nodes") {
  temp_dir dir;
  const fs::path file = dir.write("small.onnx", small_model());
  // node indices of the loaded model: 3 MatMul_a, 6 MatMul_c, 0 Shape (folded away)
  {
    std::ofstream p(dir.path / "profile.json");
    p << R"({"dfgpar_profile": 1, "nodes": [{"node": 3, "us": 1000}, {"node": 6, "us": 2000}, {"node": 0, "us": 5}]})";
  }
  const ox::compile_result r = ox::compile(file, {.profile = dir.path / "profile.json", .schedule = {.workers = 2}});
  const ox::graph& g = r.scheduled().g;
  bool saw_a = false, saw_c = false;
  for (std::size_t v = 0; v < num_vertices(g); ++v) {
    if (g[v].name == "MatMul_a") {
      saw_a = true;
      CHECK(g[v].cost == 1000);
    }
    if (g[v].name == "MatMul_c") {
      saw_c = true;
      CHECK(g[v].cost == 2000);
    }
  }
  CHECK(saw_a);
  CHECK(saw_c);
  bool warned = false;
  for (const auto& w : r.warnings) warned = warned || w.find("1 measured node(s) are not in the analysed graph") != std::string::npos;
  CHECK(warned);
  // each warning once
  for (std::size_t i = 0; i < r.warnings.size(); ++i)
    for (std::size_t j = i + 1; j < r.warnings.size(); ++j) CHECK(r.warnings[i] != r.warnings[j]);
}

TEST_CASE("[dfgpar][pipeline] a profile with times per thread count schedules with allotments") {
  temp_dir dir;
  const fs::path file = dir.write("small.onnx", small_model());
  // MatMul_a scales with threads, MatMul_c does not: on 2 cores the moldable scheduler may give MatMul_a both
  {
    std::ofstream p(dir.path / "profile.json");
    p << R"({"dfgpar_profile": 1, "threads": [1, 2], "nodes": [
      {"node": 3, "us": 1000, "us_by_threads": [1000, 520]}, {"node": 6, "us": 300, "us_by_threads": [300, 300]}]})";
  }
  const ox::compile_result r = ox::compile(file, {.profile = dir.path / "profile.json", .schedule = {.workers = 2}});
  REQUIRE(r.moldable);
  REQUIRE(r.thread_times.size() == num_vertices(r.scheduled().g));
  CHECK(dfgpar::validate(r.scheduled().g, r.schedule));
  CHECK(r.moldable->makespan <= r.moldable->inter_op * (1 + 1e-9));
  CHECK(r.moldable->makespan <= r.moldable->intra_op * (1 + 1e-9));
  CHECK(r.times.makespan == doctest::Approx(r.moldable->makespan));
  // off, or from the same times given in memory
  const ox::compile_result plain = ox::compile(file, {.profile = dir.path / "profile.json", .moldable = false, .schedule = {.workers = 2}});
  CHECK_FALSE(plain.moldable);
  CHECK(plain.thread_times.empty());
  const ox::compile_result given = ox::compile(file, {.thread_times = r.thread_times, .schedule = {.workers = 2}});
  REQUIRE(given.moldable);
  CHECK(given.moldable->makespan == doctest::Approx(r.moldable->makespan));
  CHECK_THROWS_AS((void)ox::compile(file, {.thread_times = {{1.0}}, .schedule = {.workers = 2}}), dfgpar::graph_error);
}

TEST_CASE("[dfgpar][pipeline] errors name the file and the phase they come from") {
  temp_dir dir;
  try {
    (void)ox::compile(dir.path / "nothere.onnx");
    FAIL("no error");
  } catch (const ox::compile_error& e) {
    CHECK(e.phase() == ox::compile_phase::load);
    CHECK(std::string(e.what()).find("nothere.onnx: no such file") != std::string::npos);
  }
  const fs::path file = dir.write("small.onnx", small_model());
  try {
    (void)ox::compile(file, {.profile = dir.path / "none.json"});
    FAIL("no error");
  } catch (const ox::compile_error& e) {
    CHECK(e.phase() == ox::compile_phase::costs);
    CHECK(std::string(e.what()).find("cannot open the profile") != std::string::npos);
  }
  CHECK(ox::phase_name(ox::compile_phase::schedule) == "schedule");
}

TEST_CASE("[dfgpar][pipeline] the torchvision models compile with their weights read once") {
  const char* dir = std::getenv("DFGPAR_MODELS_DIR");
  if (!dir || !fs::is_directory(dir)) {
    MESSAGE("DFGPAR_MODELS_DIR not set or missing: skipped");
    return;
  }
  for (const char* name : {"googlenet", "inception_v3"}) {
    const fs::path file = fs::path(dir) / (std::string(name) + ".onnx");
    if (!fs::exists(file)) continue;
    CAPTURE(name);
    const ox::compile_result r = ox::compile(file, {.schedule = {.workers = 2}});
    REQUIRE(r.optimized);
    CHECK(r.original.weights_moved);
    std::uint64_t bytes = 0;
    for (const auto& t : r.optimized->proto.graph().initializer()) bytes += t.raw_data().size();
    for (const auto& t : r.original.proto.graph().initializer())
      if (initializer(r.optimized->proto, t.name())) CHECK(t.raw_data().empty());
    CHECK(bytes > fs::file_size(file) / 2);  // the weights are there, once
    CHECK(dfgpar::validate(r.scheduled().g, r.schedule));
    CHECK(r.times.makespan >= r.bounds.lower_bound * (1 - 1e-9));
  }
}
