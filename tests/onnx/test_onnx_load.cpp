// The ONNX adapter: loading, graph structure, shapes, costs, profiles, bad input.
#include <dfgpar/dfgpar.hpp>
#include <dfgpar/onnx/onnx.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace fs = std::filesystem;
using namespace dfgpar::onnx;

namespace {

const fs::path testdata = [] {
  const char* env = std::getenv("ONNX_TESTDATA");
  return fs::path(env ? env : "/usr/share/libonnx-testdata/data");
}();

// A fresh temporary folder per test, removed at the end.
struct temp_dir {
  fs::path path;
  temp_dir() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("dfgpar_onnx_test_" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path write(const std::string& name, const std::string& bytes) const {
    std::ofstream(path / name, std::ios::binary) << bytes;
    return path / name;
  }
};

// ---------------------------------------------------------------- model builders

::onnx::ValueInfoProto value(const std::string& name, std::vector<std::int64_t> dims,
                             int type = ::onnx::TensorProto::FLOAT) {
  ::onnx::ValueInfoProto v;
  v.set_name(name);
  auto* t = v.mutable_type()->mutable_tensor_type();
  t->set_elem_type(type);
  auto* s = t->mutable_shape();
  for (auto d : dims) s->add_dim()->set_dim_value(d);
  return v;
}

::onnx::TensorProto weights(const std::string& name, std::vector<std::int64_t> dims, float fill = 0.5f) {
  ::onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(::onnx::TensorProto::FLOAT);
  std::int64_t n = 1;
  for (auto d : dims) {
    t.add_dims(d);
    n *= d;
  }
  for (std::int64_t i = 0; i < n; ++i) t.add_float_data(fill);
  return t;
}

::onnx::NodeProto* add_node(::onnx::GraphProto& g, const std::string& op, std::vector<std::string> in,
                            std::vector<std::string> out, const std::string& name = {}) {
  auto* n = g.add_node();
  n->set_op_type(op);
  n->set_name(name.empty() ? op + "_" + std::to_string(g.node_size()) : name);
  for (auto& s : in) n->add_input(s);
  for (auto& s : out) n->add_output(s);
  return n;
}

void set_ints(::onnx::NodeProto* n, const std::string& name, std::vector<std::int64_t> v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(::onnx::AttributeProto::INTS);
  for (auto x : v) a->add_ints(x);
}

::onnx::ModelProto empty_model() {
  ::onnx::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("dfgpar-test");
  auto* o = m.add_opset_import();
  o->set_domain("");
  o->set_version(13);
  m.mutable_graph()->set_name("g");
  return m;
}

// x[1,3,8,8] -> Conv(3x3, 4 ch, pad 1) -> c -> { Relu -> r1 ; Sigmoid -> r2 } -> Add -> y
::onnx::ModelProto branchy_model() {
  auto m = empty_model();
  auto& g = *m.mutable_graph();
  *g.add_input() = value("x", {1, 3, 8, 8});
  *g.add_initializer() = weights("w", {4, 3, 3, 3});
  auto* conv = add_node(g, "Conv", {"x", "w"}, {"c"}, "conv");
  set_ints(conv, "pads", {1, 1, 1, 1});
  set_ints(conv, "kernel_shape", {3, 3});
  add_node(g, "Relu", {"c"}, {"r1"}, "relu");
  add_node(g, "Sigmoid", {"c"}, {"r2"}, "sigmoid");
  add_node(g, "Add", {"r1", "r2"}, {"y"}, "add");
  *g.add_output() = value("y", {1, 4, 8, 8});
  return m;
}

std::string serialize(const ::onnx::ModelProto& m) {
  std::string s;
  REQUIRE(m.SerializeToString(&s));
  return s;
}

// The error message of loading `file`, or "" if it loaded.
std::string load_error(const fs::path& file, model* out = nullptr) {
  try {
    auto m = load_model(file);
    if (out) *out = std::move(m);
    return {};
  } catch (const dfgpar::graph_error& e) {
    return e.what();
  }
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

/// The message parse_profile gives for `text` ("" when it reads it).
std::string profile_error(std::string_view text) {
  try {
    (void)parse_profile(text, "p.json");
  } catch (const dfgpar::graph_error& e) {
    return std::string(e.what());
  }
  return std::string();
}

void check_one_line(const std::string& msg) {
  CHECK(msg.find('\n') == std::string::npos);
  CHECK(msg.size() < 800);
}

auto cost_of(const model& m) { return get(&node_info::cost, m.g); }
auto comm_of(const model& m) { return get(&edge_info::comm, m.g); }

}  // namespace

// ====================================================================== structure

TEST_CASE("[dfgpar][onnx] a branchy model: vertices, edges, shapes and analytic costs") {
  temp_dir dir;
  const auto file = dir.write("branchy.onnx", serialize(branchy_model()));
  const model m = load_model(file);
  REQUIRE(num_vertices(m.g) == 4);
  CHECK(num_edges(m.g) == 4);  // conv->relu, conv->sigmoid, relu->add, sigmoid->add
  for (std::size_t i = 0; i < 4; ++i) CHECK(m.g[i].node == i);  // the invariant
  CHECK(m.g[0].op_type == "Conv");
  CHECK(m.producer.at("c") == 0);
  CHECK(m.producer.at("y") == 3);
  CHECK_FALSE(m.producer.count("x"));
  const auto& c = m.tensors.at("c");
  CHECK(c.shape_known);
  CHECK(c.shape == std::vector<std::int64_t>{1, 4, 8, 8});
  CHECK(c.bytes == 4 * 64 * 4);
  CHECK(m.tensors.at("w").constant);
  CHECK_FALSE(m.tensors.at("x").constant);
  // Conv: 2 * |Y| * (C/g * kh * kw) = 2 * 256 * 27
  CHECK(m.g[0].flops == doctest::Approx(2.0 * 256 * 27));
  CHECK(m.g[0].bytes == doctest::Approx(4.0 * (192 + 108 + 256)));
  for (std::size_t i = 0; i < 4; ++i) {
    CHECK(m.g[i].cost > 0);
    CHECK(m.g[i].known_op);
  }
  CHECK(m.g[2].flops > m.g[1].flops);  // Sigmoid does more arithmetic than Relu on the same tensor
  for (auto [it, end] = edges(m.g); it != end; ++it) {
    CHECK(m.g[*it].bytes == 1024);
    CHECK(m.g[*it].comm > 0);
  }
  CHECK(m.warnings.empty());

  const auto s = dfgpar::parallelize(m.g, cost_of(m), comm_of(m), dfgpar::options{.workers = 2});
  CHECK(dfgpar::validate(m.g, s));
  const auto b = dfgpar::compute_bounds(m.g, cost_of(m), 2);
  CHECK(dfgpar::makespan(m.g, s, cost_of(m), comm_of(m)) >= b.lower_bound - 1e-9);
}

TEST_CASE("[dfgpar][onnx] the cost model follows the roofline constants") {
  temp_dir dir;
  const auto file = dir.write("m.onnx", serialize(branchy_model()));
  load_options slow;
  slow.costs.peak_gflops = 1;      // 1 GFLOP/s: the Conv's 13824 FLOPs take 13.824 µs
  slow.costs.bandwidth_gbs = 1000; // bytes are nearly free
  slow.costs.overhead_us = 0;
  slow.costs.comm_latency_us = 2;
  slow.costs.comm_bandwidth_gbs = 1;  // 1024 bytes: 1.024 µs
  const model m = load_model(file, slow);
  CHECK(m.g[0].cost == doctest::Approx(13.824));
  for (auto [it, end] = edges(m.g); it != end; ++it) CHECK(m.g[*it].comm == doctest::Approx(3.024));
  CHECK(roofline_defaults.peak_gflops > 0);
  CHECK(roofline_defaults.bandwidth_gbs > 0);
}

TEST_CASE("[dfgpar][onnx] nodes out of topological order are reordered, keeping g[i].node == i") {
  auto p = branchy_model();
  auto& nodes = *p.mutable_graph()->mutable_node();
  nodes.SwapElements(0, 3);  // Add first, Conv last
  temp_dir dir;
  const model m = load_model(dir.write("m.onnx", serialize(p)));
  REQUIRE(num_vertices(m.g) == 4);
  CHECK(m.proto.graph().node(0).op_type() == "Conv");
  CHECK(m.proto.graph().node(3).op_type() == "Add");
  for (std::size_t i = 0; i < 4; ++i) CHECK(m.g[i].op_type == m.proto.graph().node(static_cast<int>(i)).op_type());
  CHECK(std::any_of(m.warnings.begin(), m.warnings.end(), [](auto& w) { return contains(w, "reordered"); }));
}

TEST_CASE("[dfgpar][onnx] a subgraph's outer-scope reads become edges into its node") {
  // t = Relu(x); y = If(cond) { then: Neg(t) } else { Abs(t) }  -- t is read only inside the branches
  auto p = empty_model();
  auto& g = *p.mutable_graph();
  *g.add_input() = value("x", {2, 3});
  *g.add_input() = value("cond", {}, ::onnx::TensorProto::BOOL);
  add_node(g, "Relu", {"x"}, {"t"}, "relu");
  auto* n = add_node(g, "If", {"cond"}, {"y"}, "if");
  for (const char* branch : {"then_branch", "else_branch"}) {
    auto* a = n->add_attribute();
    a->set_name(branch);
    a->set_type(::onnx::AttributeProto::GRAPH);
    auto* sg = a->mutable_g();
    sg->set_name(branch);
    const std::string out = std::string(branch) + "_out";
    add_node(*sg, std::string(branch) == "then_branch" ? "Neg" : "Abs", {"t"}, {out});
    *sg->add_output() = value(out, {2, 3});
  }
  *g.add_output() = value("y", {2, 3});
  temp_dir dir;
  const model m = load_model(dir.write("if.onnx", serialize(p)));
  REQUIRE(num_vertices(m.g) == 2);
  REQUIRE(num_edges(m.g) == 1);
  const auto e = *edges(m.g).first;
  CHECK(source(e, m.g) == 0);
  CHECK(target(e, m.g) == 1);
  CHECK(m.g[e].tensor == "t");
  CHECK(m.g[e].bytes == 24);
  CHECK(m.g[1].cost > 0);
}

TEST_CASE("[dfgpar][onnx] test data models: structure, shapes, costs") {
  SUBCASE("conv with strides and padding") {
    const model m = load_model(testdata / "node/test_conv_with_strides_padding/model.onnx");
    REQUIRE(num_vertices(m.g) == 1);
    CHECK(m.g[0].op_type == "Conv");
    const auto& y = m.tensors.at(m.proto.graph().node(0).output(0));
    CHECK(y.shape == std::vector<std::int64_t>{1, 1, 4, 3});
    CHECK(m.g[0].flops == doctest::Approx(2.0 * 12 * 9));
  }
  SUBCASE("gemm") {
    const model m = load_model(testdata / "node/test_gemm_default_matrix_bias/model.onnx");
    REQUIRE(num_vertices(m.g) == 1);
    const auto& a = m.tensors.at(m.proto.graph().node(0).input(0));
    const auto& y = m.tensors.at(m.proto.graph().node(0).output(0));
    REQUIRE(a.shape.size() == 2);
    REQUIRE(y.shape.size() == 2);
    const double mn = static_cast<double>(y.shape[0] * y.shape[1]);
    CHECK(m.g[0].flops == doctest::Approx(2 * mn * static_cast<double>(a.shape[1]) + mn));
  }
  SUBCASE("multi-node PyTorch exports") {
    std::size_t multi = 0;
    for (const auto& entry : fs::directory_iterator(testdata / "pytorch-converted")) {
      const auto file = entry.path() / "model.onnx";
      if (!fs::exists(file)) continue;
      const model m = load_model(file);
      CHECK(num_vertices(m.g) == static_cast<std::size_t>(m.proto.graph().node_size()));
      if (num_vertices(m.g) < 2) continue;
      ++multi;
      // every edge carries a tensor its producer writes and its consumer reads
      for (auto [it, end] = edges(m.g); it != end; ++it) {
        const auto& e = m.g[*it];
        const auto& src = m.proto.graph().node(static_cast<int>(m.g[source(*it, m.g)].node));
        CHECK(std::count(src.output().begin(), src.output().end(), e.tensor) == 1);
        CHECK(m.producer.at(e.tensor) == source(*it, m.g));
      }
    }
    MESSAGE("pytorch-converted models with 2+ nodes: " << multi);
    CHECK(multi > 5);
  }
}

// ====================================================================== the whole node test suite

TEST_CASE("[dfgpar][onnx] every ONNX node test model loads and parallelizes, or is refused with a reason") {
  const auto dir = testdata / "node";
  if (!fs::is_directory(dir)) {
    MESSAGE("no ONNX test data at " << dir << "; skipped");
    return;
  }
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (fs::exists(e.path() / "model.onnx")) files.push_back(e.path() / "model.onnx");
  std::sort(files.begin(), files.end());
  std::size_t loaded = 0, refused = 0, with_warnings = 0, subgraphs = 0;
  std::map<std::string, std::size_t> reasons;
  for (const auto& f : files) {
    try {
      const model m = load_model(f);
      const auto s = dfgpar::parallelize(m.g, cost_of(m), comm_of(m), dfgpar::options{.workers = 2, .effort = 0});
      CHECK_MESSAGE(dfgpar::validate(m.g, s), f);
      for (auto [it, end] = vertices(m.g); it != end; ++it) CHECK_MESSAGE(m.g[*it].cost >= 0, f);
      with_warnings += m.warnings.empty() ? 0 : 1;
      for (const auto& n : m.proto.graph().node())
        if (n.op_type() == "If" || n.op_type() == "Loop" || n.op_type() == "Scan") {
          ++subgraphs;
          break;
        }
      ++loaded;
    } catch (const dfgpar::graph_error& e) {
      const std::string msg = e.what();
      check_one_line(msg);
      // group by the problem: the text after the file name, up to the first quote
      std::string reason = msg.substr(std::min(msg.size(), f.string().size() + 2));
      reason = reason.substr(0, reason.find('\''));
      ++reasons[reason];
      ++refused;
    }
  }
  MESSAGE("ONNX node tests: " << files.size() << " models, " << loaded << " loaded and parallelized ("
                              << with_warnings << " with warnings, " << subgraphs << " with subgraphs), " << refused
                              << " refused");
  for (const auto& [r, n] : reasons) MESSAGE("  refused x" << n << ": " << r);
  CHECK(files.size() > 900);
  CHECK(loaded + refused == files.size());
  CHECK(loaded > files.size() * 9 / 10);
}

// ====================================================================== bad input

TEST_CASE("[dfgpar][onnx] bad input gets a one-line error naming the problem") {
  temp_dir dir;
  const std::string good = serialize(branchy_model());
  struct bad_case {
    std::string name, bytes, expect;
  };
  std::vector<bad_case> cases;
  cases.push_back({"empty.onnx", "", "empty file"});
  cases.push_back({"text.onnx", "this is not an ONNX model, just some text\n", "not an ONNX model"});
  cases.push_back({"truncated.onnx", good.substr(0, good.size() / 2), "not an ONNX model"});
  {
    auto p = empty_model();  // x -> A -> b -> B -> a -> A : a cycle
    auto& g = *p.mutable_graph();
    *g.add_input() = value("x", {2});
    add_node(g, "Add", {"x", "a"}, {"b"}, "A");
    add_node(g, "Relu", {"b"}, {"a"}, "B");
    *g.add_output() = value("b", {2});
    cases.push_back({"cycle.onnx", serialize(p), "cycle"});
  }
  {
    auto p = empty_model();
    auto& g = *p.mutable_graph();
    *g.add_input() = value("x", {2});
    add_node(g, "Add", {"x", "ghost"}, {"y"}, "reader");
    *g.add_output() = value("y", {2});
    cases.push_back({"missing_producer.onnx", serialize(p), "reads tensor 'ghost' that no node"});
  }
  {
    auto p = empty_model();
    auto& g = *p.mutable_graph();
    *g.add_input() = value("x", {2});
    add_node(g, "Relu", {"x"}, {"y"}, "first");
    add_node(g, "Neg", {"x"}, {"y"}, "second");
    *g.add_output() = value("y", {2});
    cases.push_back({"duplicate_output.onnx", serialize(p), "duplicate output name 'y'"});
  }
  {
    auto p = empty_model();
    auto& g = *p.mutable_graph();
    *g.add_input() = value("x", {2, -3});
    add_node(g, "Relu", {"x"}, {"y"});
    *g.add_output() = value("y", {2, 3});
    cases.push_back({"negative_dim.onnx", serialize(p), "negative dimension"});
  }
  {
    auto p = empty_model();
    auto& g = *p.mutable_graph();
    *g.add_input() = value("x", {1ll << 40, 1ll << 40});
    add_node(g, "Relu", {"x"}, {"y"});
    *g.add_output() = value("y", {});
    cases.push_back({"overflow_dim.onnx", serialize(p), "overflow"});
  }
  {
    auto p = empty_model();
    auto& g = *p.mutable_graph();
    *g.add_input() = value("x", {2});
    auto t = weights("w", {2});
    t.clear_float_data();
    t.add_dims(1ll << 62);  // 2 * 2^62 elements
    *g.add_initializer() = t;
    add_node(g, "Add", {"x", "w"}, {"y"});
    *g.add_output() = value("y", {2});
    cases.push_back({"overflow_initializer.onnx", serialize(p), "overflow"});
  }
  {
    auto p = empty_model();
    auto& g = *p.mutable_graph();
    *g.add_input() = value("x", {2});
    auto t = weights("w", {2});
    t.add_float_data(1);  // 3 values for 2 elements
    *g.add_initializer() = t;
    add_node(g, "Add", {"x", "w"}, {"y"});
    *g.add_output() = value("y", {2});
    cases.push_back({"wrong_size_initializer.onnx", serialize(p), "holds 3 values but its shape needs 2"});
  }
  {
    // ONNX 1.12's Gemm shape inference reads dim(1) of B unchecked (a crash the fuzzer found)
    auto p = empty_model();
    auto& g = *p.mutable_graph();
    *g.add_input() = value("a", {2, 3});
    *g.add_input() = value("b", {4});
    add_node(g, "Gemm", {"a", "b"}, {"y"}, "gemm");
    *g.add_output() = value("y", {2, 4});
    cases.push_back({"gemm_rank.onnx", serialize(p), "input B 'b' has rank 1, expected 2"});
  }
  {
    auto p = branchy_model();
    auto* k = p.mutable_graph()->mutable_node(0)->mutable_attribute(1);  // kernel_shape of a 2-d conv
    k->add_ints(3);
    cases.push_back({"conv_attr.onnx", serialize(p), "attribute kernel_shape has 3 values"});
  }
  {
    auto p = branchy_model();
    auto* a = p.mutable_graph()->mutable_node(1)->add_attribute();  // Relu has no attribute 'bogus'
    a->set_name("bogus");
    a->set_type(::onnx::AttributeProto::INT);
    a->set_i(1);
    cases.push_back({"checker.onnx", serialize(p), "invalid model (ONNX checker)"});
  }
  // external data
  auto external = [&](const std::string& location, const std::string& offset, const std::string& length) {
    auto p = empty_model();
    auto& g = *p.mutable_graph();
    *g.add_input() = value("x", {4});
    ::onnx::TensorProto t;
    t.set_name("w");
    t.set_data_type(::onnx::TensorProto::FLOAT);
    t.add_dims(4);
    t.set_data_location(::onnx::TensorProto::EXTERNAL);
    auto kv = [&](const char* k, const std::string& v) {
      if (v.empty()) return;
      auto* e = t.add_external_data();
      e->set_key(k);
      e->set_value(v);
    };
    kv("location", location);
    kv("offset", offset);
    kv("length", length);
    *g.add_initializer() = t;
    add_node(g, "Add", {"x", "w"}, {"y"});
    *g.add_output() = value("y", {4});
    return serialize(p);
  };
  dir.write("weights.bin", std::string(16, '\0'));
  cases.push_back({"ext_missing.onnx", external("nothere.bin", "", ""), "is missing"});
  cases.push_back({"ext_absolute.onnx", external((dir.path / "weights.bin").string(), "", ""), "absolute path"});
  cases.push_back({"ext_escape.onnx", external("../weights.bin", "", ""), "outside the model's folder"});
  cases.push_back({"ext_escape2.onnx", external("sub/../../weights.bin", "", ""), "outside the model's folder"});
  cases.push_back({"ext_past_end.onnx", external("weights.bin", "8", "16"), "past the end of the file"});
  cases.push_back({"ext_bad_offset.onnx", external("weights.bin", "-1", ""), "is not a number"});
  cases.push_back({"ext_wrong_length.onnx", external("weights.bin", "0", "12"), "shape needs 16"});

  for (const auto& c : cases) {
    CAPTURE(c.name);
    const auto msg = load_error(dir.write(c.name, c.bytes));
    CHECK_MESSAGE(contains(msg, c.expect), msg);
    CHECK(contains(msg, c.name));  // names the file
    check_one_line(msg);
  }
  CHECK(contains(load_error(dir.path / "no_such.onnx"), "no such file"));
  CHECK(contains(load_error(dir.path), "is a directory"));

  // every truncation of a good model is refused or loads; never anything else
  for (std::size_t n = 1; n < good.size(); n += std::max<std::size_t>(1, good.size() / 97)) {
    try {
      (void)load_model_from_memory(std::string_view(good).substr(0, n), dir.path);
    } catch (const dfgpar::graph_error& e) {
      check_one_line(e.what());
    }
  }
}

TEST_CASE("[dfgpar][onnx] external data inside the folder is read into raw_data") {
  temp_dir dir;
  std::string bin(8, 'x');  // 8 bytes of padding, then 4 floats
  const float w[4] = {1, 2, 3, 4};
  bin.append(reinterpret_cast<const char*>(w), sizeof w);
  fs::create_directories(dir.path / "data");
  dir.write("data/weights.bin", bin);
  auto p = empty_model();
  auto& g = *p.mutable_graph();
  *g.add_input() = value("x", {4});
  ::onnx::TensorProto t;
  t.set_name("w");
  t.set_data_type(::onnx::TensorProto::FLOAT);
  t.add_dims(4);
  t.set_data_location(::onnx::TensorProto::EXTERNAL);
  for (auto [k, v] : {std::pair{"location", "data/./weights.bin"}, {"offset", "8"}, {"length", "16"}}) {
    auto* e = t.add_external_data();
    e->set_key(k);
    e->set_value(v);
  }
  *g.add_initializer() = t;
  add_node(g, "Add", {"x", "w"}, {"y"});
  *g.add_output() = value("y", {4});
  const model m = load_model(dir.write("m.onnx", serialize(p)));
  const auto& init = m.proto.graph().initializer(0);
  CHECK(init.data_location() == ::onnx::TensorProto::DEFAULT);
  CHECK(init.external_data_size() == 0);
  REQUIRE(init.raw_data().size() == 16);
  float back[4];
  std::memcpy(back, init.raw_data().data(), 16);
  CHECK(back[2] == 3.0f);
  CHECK(m.tensors.at("w").constant);
}

TEST_CASE("[dfgpar][onnx] unknown operators and domains: analysis goes on with a default cost and says so") {
  auto p = branchy_model();
  p.mutable_graph()->mutable_node(1)->set_op_type("FancyRelu");  // unknown op in the default domain
  auto* n = p.mutable_graph()->mutable_node(2);
  n->set_op_type("Swish");
  n->set_domain("com.example");  // a custom domain, no opset import
  temp_dir dir;
  model m;
  const auto msg = load_error(dir.write("m.onnx", serialize(p)), &m);
  REQUIRE_MESSAGE(msg.empty(), msg);
  CHECK_FALSE(m.g[1].known_op);
  CHECK_FALSE(m.g[2].known_op);
  CHECK(m.g[0].known_op);
  CHECK(m.g[1].cost == doctest::Approx(roofline_defaults.unknown_op_us));
  CHECK(m.g[2].domain == "com.example");                // restored after checking
  CHECK(m.proto.graph().node(1).domain().empty());
  for (const auto& o : m.proto.opset_import()) CHECK(o.domain() != "dfgpar.unknown");
  REQUIRE_FALSE(m.warnings.empty());
  CHECK(contains(m.warnings.front(), "unknown operator"));
  CHECK(contains(m.warnings.front(), "FancyRelu"));
  CHECK(contains(m.warnings.front(), "com.example::Swish"));
  const auto s = dfgpar::parallelize(m.g, cost_of(m), comm_of(m), dfgpar::options{.workers = 2});
  CHECK(dfgpar::validate(m.g, s));
}

// ====================================================================== profiles

TEST_CASE("[dfgpar][onnx] measured profiles replace analytic costs") {
  temp_dir dir;
  const auto file = dir.write("m.onnx", serialize(branchy_model()));
  SUBCASE("dfgpar's format, by index and by name, averaged") {
    dir.write("p.json", R"({"dfgpar_profile": 1, "nodes": [
      {"name": "conv", "node": 0, "us": 100},
      {"name": "relu", "us": 4}, {"name": "relu", "us": 6},
      {"name": "not-in-model", "us": 1}]})");
    load_options o;
    o.profile = dir.path / "p.json";
    const model m = load_model(file, o);
    CHECK(m.g[0].cost == doctest::Approx(100));
    CHECK(m.g[1].cost == doctest::Approx(5));
    const model plain = load_model(file);
    CHECK(m.g[2].cost == doctest::Approx(plain.g[2].cost));  // unmatched: analytic
    CHECK(std::any_of(m.warnings.begin(), m.warnings.end(), [](auto& w) { return contains(w, "2 of 4"); }));
    CHECK(std::any_of(m.warnings.begin(), m.warnings.end(), [](auto& w) { return contains(w, "match no node"); }));
  }
  SUBCASE("ONNX Runtime's trace events") {
    const auto p = parse_profile(R"([
      {"cat": "Session", "name": "model_run", "dur": 5000},
      {"cat": "Node", "name": "conv_fence_before", "dur": 0},
      {"cat": "Node", "name": "conv_kernel_time", "dur": 40, "args": {"op_name": "Conv"}},
      {"cat": "Node", "name": "conv_kernel_time", "dur": 60, "args": {"op_name": "Conv"}},
      {"cat": "Node", "name": "add_kernel_time", "dur": 7}])");
    CHECK(p.onnxruntime);
    CHECK(p.by_name.size() == 2);
    model m = load_model(file);
    apply_profile(m, p);
    CHECK(m.g[0].cost == doctest::Approx(50));
    CHECK(m.g[3].cost == doctest::Approx(7));
  }
  SUBCASE("write_profile round-trips") {
    model m = load_model(file);
    m.g[1].name = "needs \"escaping\"\n";
    std::ostringstream os;
    write_profile(os, m.g);
    const auto p = parse_profile(os.str());
    REQUIRE(p.by_node.size() == 4);
    for (std::size_t i = 0; i < 4; ++i) CHECK(p.by_node.at(i) == doctest::Approx(m.g[i].cost));
  }
  SUBCASE("malformed profiles name the place") {
    const auto err = profile_error;
    CHECK(contains(err("{\"dfgpar_profile\": 1,\n \"nodes\": [1, }"), "line 2"));
    CHECK(contains(err("{\"dfgpar_profile\": 1, \"nodes\": [{\"name\": \"a\", \"us\": -1}]}"), "negative"));
    CHECK(contains(err("{\"dfgpar_profile\": 2, \"nodes\": []}"), "version"));
    CHECK(contains(err("{\"something\": 1}"), "neither a dfgpar profile"));
    CHECK(contains(err("[\"\\ud800\"]"), "surrogate"));
    CHECK(contains(err(std::string(100000, '[')), "nested too deeply"));
    CHECK(contains(err("[1e999]"), "out of range"));
    CHECK(err("[]").empty());
  }
}

TEST_CASE("[dfgpar][onnx] profiles with times per thread count give a moldable cost") {
  temp_dir dir;
  const auto file = dir.write("m.onnx", serialize(branchy_model()));
  SUBCASE("fill_thread_counts interpolates between measured counts") {
    const std::vector<std::size_t> counts{1, 2, 4, 8};
    const std::vector<double> times{80, 44, 26, 18};
    const auto t = fill_thread_counts(counts, times);
    REQUIRE(t.size() == 8);
    CHECK(t[0] == 80);
    CHECK(t[1] == 44);
    CHECK(t[2] == doctest::Approx(35));  // halfway between 2 and 4
    CHECK(t[3] == 26);
    CHECK(t[5] == doctest::Approx(22));  // halfway between 4 and 8
    CHECK(t[7] == 18);
    CHECK(fill_thread_counts(std::vector<std::size_t>{1}, std::vector<double>{5}) == std::vector<double>{5});
    CHECK_THROWS_AS(fill_thread_counts(std::vector<std::size_t>{2, 4}, std::vector<double>{1, 1}), dfgpar::graph_error);
    CHECK_THROWS_AS(fill_thread_counts(std::vector<std::size_t>{1, 4, 2}, std::vector<double>{1, 1, 1}), dfgpar::graph_error);
  }
  SUBCASE("us_by_threads is read per node, averaged, and old readers' us stays t(v, 1)") {
    const auto p = parse_profile(R"({"dfgpar_profile": 1, "threads": [1, 2], "nodes": [
      {"name": "conv", "node": 0, "us": 100, "us_by_threads": [100, 60]},
      {"name": "conv", "node": 0, "us": 120, "us_by_threads": [120, 80]},
      {"name": "relu", "us_by_threads": [4, 3]},
      {"name": "sigmoid", "node": 2, "us": 9}]})");
    CHECK(p.moldable());
    CHECK(p.threads == std::vector<std::size_t>{1, 2});
    CHECK(p.by_node.at(0) == doctest::Approx(110));
    CHECK(p.threads_by_node.at(0) == std::vector<double>{110, 70});
    CHECK(p.by_name.at("relu") == 4);  // no `us`: the table's first entry
    CHECK(p.threads_by_name.at("relu") == std::vector<double>{4, 3});
    model m = load_model(file);
    const double add_cost = m.g[3].cost;
    apply_profile(m, p);
    CHECK(m.g[0].cost == doctest::Approx(110));
    const auto t = thread_times(m, p);
    REQUIRE(t.size() == 4);
    CHECK(t[0] == std::vector<double>{110, 70});
    CHECK(t[1] == std::vector<double>{4, 3});
    CHECK(t[2] == std::vector<double>{9});          // measured at one count: the same for every k
    CHECK(t[3] == std::vector<double>{add_cost});   // not measured: its analytic cost, for every k
    // a moldable cost the moldable scheduler takes
    const auto cost = dfgpar::make_measured_cost(m.g, t);
    const auto r = dfgpar::parallelize_moldable(m.g, cost, dfgpar::options{.workers = 2});
    CHECK(dfgpar::validate(m.g, r.schedule));
    CHECK(r.makespan <= r.inter_op);
    CHECK(r.makespan >= r.bounds.lower_bound * (1 - 1e-9));
    CHECK_FALSE(r.region_choices.empty());
  }
  SUBCASE("a profile without tables is not moldable; an older run's numeric \"threads\" is ignored") {
    const auto p = parse_profile(R"({"dfgpar_profile": 1, "workers": 2, "threads": 2, "nodes": [{"node": 0, "us": 7}]})");
    CHECK_FALSE(p.moldable());
    CHECK(p.threads.empty());
    CHECK(thread_times(load_model(file), p).empty());
  }
  SUBCASE("write_profile with tables round-trips") {
    model m = load_model(file);
    std::vector<std::vector<double>> t{{10, 6, 4.5, 3}, {2, 2, 2, 2}, {3, 2, 1.5, 1}, {1, 1, 1, 1}};
    const std::vector<std::size_t> counts{1, 2, 4};
    std::ostringstream os;
    write_profile(os, m.g, t, counts);
    const auto p = parse_profile(os.str());
    CHECK(p.threads == counts);
    for (std::size_t i = 0; i < 4; ++i) {
      CHECK(p.by_node.at(i) == t[i][0]);
      CHECK(p.threads_by_node.at(i) == t[i]);
    }
    CHECK(thread_times(m, p) == t);
  }
  SUBCASE("malformed tables name the entry") {
    const auto err = profile_error;
    CHECK(contains(err(R"({"dfgpar_profile": 1, "nodes": [{"node": 0, "us_by_threads": []}]})"), "entry 0"));
    CHECK(contains(err(R"({"dfgpar_profile": 1, "nodes": [{"node": 0, "us_by_threads": 3}]})"), "us_by_threads"));
    CHECK(contains(err(R"({"dfgpar_profile": 1, "nodes": [{"node": 0, "us_by_threads": [1, -2]}]})"), "negative"));
    CHECK(contains(err(R"({"dfgpar_profile": 1, "threads": [2, 1], "nodes": []})"), "ascending"));
  }
}
