// The PyTorch back end (include/dfgpar/pytorch/): Python names and literals
// from hostile text, the safetensors weights round trip, op translations that
// refuse what they cannot do, and emitting a small hostile model serial and
// parallel. When /usr/bin/python3 has torch, the emitted model.py is also
// compiled and run (parallel against serial) and must not have touched the
// file system.
//
// Stage planning alone is tested in test_plan.cpp; the real models are
// checked by tests/pytorch/check_models.sh.

#include <dfgpar/cluster/moldable_schedule.hpp>
#include <dfgpar/onnx/cost_model.hpp>
#include <dfgpar/onnx/model.hpp>
#include <dfgpar/onnx/split.hpp>
#include <dfgpar/onnx/tensor.hpp>
#include <dfgpar/pytorch/emitter.hpp>
#include <dfgpar/pytorch/names.hpp>
#include <dfgpar/pytorch/naming.hpp>
#include <dfgpar/pytorch/ops.hpp>
#include <dfgpar/pytorch/plan.hpp>
#include <dfgpar/pytorch/runtime_text.hpp>
#include <dfgpar/pytorch/weights.hpp>

#include "model_builder.hpp"

#include <boost/graph/adjacency_list.hpp>
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace py = dfgpar::pytorch;
using namespace dfgpar_test::pytorch;

bool is_ascii_printable_or_newline(const std::string& s) {
  for (unsigned char c : s)
    if (c != '\n' && (c < 0x20 || c >= 0x7f)) return false;
  return true;
}

const std::string hostile_input = "x'); __import__('os').system('touch PWNED') #";
const std::string hostile_output = "__import__('os').system('touch PWNED2')";

/// Two branches from one input, with names built to break naive emitters:
/// quotes, newlines, backslashes, keywords, non-ASCII, code, collisions.
::onnx::ModelProto hostile_model() {
  ::onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  auto* g = m.mutable_graph();
  g->set_name("hostile\n\"\"\"graph");
  add_value_info(g->add_input(), hostile_input, {1, 3, 8, 8});
  *g->add_initializer() = float_tensor("conv.weight", {4, 3, 3, 3}, -0.1f);
  *g->add_initializer() = float_tensor("conv\\bias\n'", {4}, 0.05f);
  *g->add_initializer() = float_tensor("class", {1, 3, 1, 1}, 0.5f);
  add_node(g, "Relu", "n\nA\"\"\"", {hostile_input}, {"def"});
  auto* conv = add_node(g, "Conv", "conv'\\", {hostile_input, "conv.weight", "conv\\bias\n'"}, {"a.b"});
  conv->add_attribute()->CopyFrom(ints_attr("pads", {1, 1, 1, 1}));
  add_node(g, "Sigmoid", "sig", {"def"}, {"a_b"});
  add_node(g, "Mul", "mul", {"a_b", "class"}, {"\xc3\xa9\"\xc3\xbc\xf0\x9f\x98\x80"});
  add_node(g, "Relu", "relu2", {"a.b"}, {"1st"});
  add_node(g, "Concat", "cat", {"1st", "\xc3\xa9\"\xc3\xbc\xf0\x9f\x98\x80"}, {hostile_output})
      ->add_attribute()
      ->CopyFrom(int_attr("axis", 1));
  add_value_info(g->add_output(), hostile_output, {1, 7, 8, 8});
  return m;
}

}  // namespace

TEST_CASE("[dfgpar][pytorch] python_string escapes everything that could end the literal") {
  CHECK(py::python_string("abc") == "'abc'");
  CHECK(py::python_string("it's") == "'it\\'s'");
  CHECK(py::python_string("a\\b") == "'a\\\\b'");
  CHECK(py::python_string("a\nb\r\t") == "'a\\nb\\r\\t'");
  CHECK(py::python_string(std::string("a\0b", 3)) == "'a\\x00b'");
  CHECK(py::python_string("\"\"\"") == "'\"\"\"'");
  CHECK(py::python_string("\xc3\xa9") == "'\\u00e9'");
  CHECK(py::python_string("\xf0\x9f\x98\x80") == "'\\U0001f600'");
  CHECK(py::python_string("\xff") == "'\\ufffd'");            // invalid UTF-8
  CHECK(py::python_string("\xed\xa0\x80") == "'\\ufffd\\ufffd\\ufffd'");  // encoded surrogate
  CHECK(py::python_string("\xc0\xaf") == "'\\ufffd\\ufffd'");  // overlong '/'
  CHECK(py::python_string("\xff\x80\x80") == "'\\ufffd\\ufffd\\ufffd'");  // no lead byte above 0xf4
  CHECK(py::python_string("\xf4\x90\x80\x80") == "'\\ufffd\\ufffd\\ufffd\\ufffd'");  // above U+10FFFF
  CHECK(py::python_string("\xe2\x82\xac\xf4\x8f\xbf\xbf") == "'\\u20ac\\U0010ffff'");
  CHECK(py::python_string("\xe2\x82") == "'\\ufffd\\ufffd'");  // cut short
  const std::string h = py::python_string(hostile_input);
  CHECK(is_ascii_printable_or_newline(h));
  CHECK(h.find('\n') == std::string::npos);
  // the only unescaped quotes are the delimiters
  for (std::size_t i = 1; i + 1 < h.size(); ++i)
    if (h[i] == '\'') CHECK(h[i - 1] == '\\');
}

TEST_CASE("[dfgpar][pytorch] python_float round-trips and spells the specials") {
  CHECK(py::python_float(1.0) == "1.0");
  CHECK(py::python_float(-0.5) == "-0.5");
  CHECK(py::python_float(1e-5) == "1e-05");
  CHECK(py::python_float(1.0 / 0.0) == "float('inf')");
  CHECK(py::python_float(-1.0 / 0.0) == "-float('inf')");
  CHECK(py::python_float(0.0 / 0.0) == "float('nan')");
  CHECK(std::stod(py::python_float(0.1)) == 0.1);
}

TEST_CASE("[dfgpar][pytorch] identifier_table makes safe, unique, deterministic names") {
  py::identifier_table ids;
  CHECK(ids.make("conv1.weight") == "conv1_weight");
  CHECK(ids.make("conv1/weight") == "conv1_weight_2");
  CHECK(ids.make("conv1::weight") == "conv1_weight_3");
  CHECK(ids.make("class") == "class_");
  CHECK(ids.make("class") == "class_2");  // the keyword fix and the collision suffix do not stack
  CHECK(ids.make("self") == "self_");
  CHECK(ids.make("forward") == "forward_");
  CHECK(ids.make("torch") == "torch_");
  CHECK(ids.make("123abc") == "t_123abc");
  CHECK(ids.make("__init__") == "init");
  CHECK(ids.make("") == "t");
  CHECK(ids.make("\xc3\xa9\xc3\xa8") == "t_2");
  CHECK(ids.make(hostile_input) == "x_import_os_system_touch_PWNED");
  CHECK(ids.make("a\nb") == "a_b");
  CHECK(ids.make(std::string(200, 'x')).size() <= 48);
  // every result is a safe identifier
  py::identifier_table more;
  for (const std::string s : {"None", "True", "lambda", "0", "_", "__", "x y", "\"", "'\\''", "match", "print"}) {
    const std::string id = more.make(s);
    CHECK_MESSAGE(py::is_safe_identifier(id), id);
  }
  // deterministic
  py::identifier_table a, b;
  for (const std::string s : {"x", "x", "x.1", "x_1", "x-1"}) CHECK(a.make(s) == b.make(s));
}

TEST_CASE("[dfgpar][pytorch] long hierarchical names keep their distinguishing tail, unique and deterministic") {
  py::identifier_table ids;
  CHECK(ids.make("StatefulPartitionedCall/functional_1/conv2d_33/BiasAdd") == "conv2d_33_BiasAdd");
  CHECK(ids.make("StatefulPartitionedCall/functional_2/conv2d_33/BiasAdd") == "functional_2_conv2d_33_BiasAdd");
  CHECK(ids.make("WireFrameModel_with_alpha/block_7_expand_relu/Relu6_WireFrameModel_with_alpha/x") ==
        "with_alpha_x");
  CHECK(ids.make("p2o.Conv.0") == "p2o_Conv_0");  // short names as before
  const std::string id = ids.make("Range_test_range_float_type_positive_delta_expanded_function_ceil_result_relu_int");
  CHECK(id.size() <= 24);
  CHECK(id.ends_with("ceil_result_relu_int"));
  CHECK(ids.make(std::string(200, 'x')) == std::string(24, 'x'));
  for (const std::string& n : std::vector<std::string>{"a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t/u/v/w/x/y/z/0123456789",
                                                       "/////////class", std::string(60, '_') + "1",
                                                       "x/" + std::string(60, '9')}) {
    const std::string made = ids.make(n);
    CHECK_MESSAGE(py::is_safe_identifier(made), made);
    CHECK(made.size() <= 48);
  }
  py::identifier_table a, b;
  for (int k = 0; k < 3; ++k)
    for (const std::string& n : std::vector<std::string>{"StatefulPartitionedCall/functional_1/conv2d_33/BiasAdd",
                                                         "Other/functional_1/conv2d_33/BiasAdd", std::string(70, 'y')})
      CHECK(a.make(n) == b.make(n));
}

TEST_CASE("[dfgpar][pytorch] a model specialised to input shapes says so and checks them at run time") {
  const auto m = dfgpar::onnx::build_model(hostile_model(), fs::temp_directory_path());
  const auto files = py::emit_pytorch(m, schedule_for(m, 1),
                                      py::emit_options{.input_shapes = {{hostile_input, {1, 3, 8, 8}}}});
  const std::string& code = files[0].content;
  CHECK(code.find("# shapes were folded for these input shapes") != std::string::npos);
  CHECK(code.find(".shape != [1, 3, 8, 8]:") != std::string::npos);
  CHECK(is_ascii_printable_or_newline(code));
  if (!have_torch()) {
    MESSAGE("skipping the run of model.py: /usr/bin/python3 has no torch");
    return;
  }
  const fs::path dir = temp_dir("specialised");
  write_files(dir, files);
  {
    std::ofstream f(dir / "wrong.py");
    f << "import torch\nimport model\nm = torch.jit.script(model.Model())\n"
         "m(torch.zeros(1, 3, 8, 8))\n"
         "try:\n    m(torch.zeros(2, 3, 8, 8))\nexcept Exception as e:\n"
         "    print(str(e).strip().splitlines()[-1])\n";
  }
  const std::string text = run_python(dir, "wrong.py");
  CHECK_MESSAGE(text.starts_with("rc=0"), text);
  CHECK_MESSAGE(text.find("has shape [2, 3, 8, 8]; this module was emitted for [1, 3, 8, 8] (dfgpar emit "
                          "--input-shape ") != std::string::npos,
                text);
  CHECK_FALSE(fs::exists(dir / "PWNED"));
  fs::remove_all(dir);
}

TEST_CASE("[dfgpar][pytorch] the runtime text's definitions are read from it") {
  const auto names = py::runtime::defined_names(
      "\"\"\"doc\ndef not_this():\n\"\"\"\nimport os\nimport torch.nn.functional as F\nfrom typing import Tuple, List as L\n"
      "X = 1\nY == 2\n  Z = 3\nclass ${class}(object):\n    def method(self):\n        local = 1\ndef helper(a):\n"
      "class Plain:\n");
  CHECK(names == std::vector<std::string>{"os", "F", "Tuple", "L", "X", "method", "helper", "Plain"});
  // model.py's own definitions, as its text has them today
  std::set<std::string> runtime;
  for (const auto& n : py::runtime::defined_names(py::runtime::model_template)) runtime.insert(n);
  for (const auto& n : py::runtime::defined_names(py::python_weights_loader())) runtime.insert(n);
  for (const std::string n : {"torch", "F", "Tensor", "Tuple", "json", "os", "WORKERS", "WEIGHTS", "FLAGS_FILE",
                              "INPUTS", "STAGES", "INPUT_NAMES", "DTYPES", "load_weights", "read_fork_flags",
                              "save_fork_flags", "forward", "forward_serial", "run", "set_threads", "tune",
                              "optimize", "prepare", "main", "pool_task", "start_interop_pool", "random_inputs",
                              "median_ms"})
    CHECK_MESSAGE(runtime.count(n), n);
  // every one of them, and every name the hand-typed list of earlier
  // versions had, is reserved
  for (const auto& n : runtime)
    if (!n.starts_with("_")) CHECK_MESSAGE(!py::is_safe_identifier(n), n);
  for (const std::string n : {"self", "parallel", "Model", "nn", "sys", "math", "List", "Optional", "Future",
                              "statistics", "argparse", "time", "float", "eval", "type", "super", "training",
                              "register_buffer", "state_dict", "half", "cuda"})
    CHECK_MESSAGE(!py::is_safe_identifier(n), n);
  // the template's slots: one value each, no more, no fewer
  CHECK(py::runtime::fill("a ${x} b ${y} ${x}", {{"x", "1"}, {"y", "2"}}) == "a 1 b 2 1");
  CHECK_THROWS_AS(py::runtime::fill("${x}", {}), std::logic_error);
  CHECK_THROWS_AS(py::runtime::fill("x", {{"x", "1"}}), std::logic_error);
}

namespace {

/// Every name model.py defines (read from the runtime text, so a function
/// added there is covered): the input, the tensors, the weights and the nodes
/// are named after them. Two chains from the input, a few weights multiplied
/// in, joined by an Add.
::onnx::ModelProto runtime_names_model(const std::vector<std::string>& names,
                                       const std::vector<std::string>& weights) {
  auto m = empty_model("runtime names");
  auto* g = m.mutable_graph();
  add_value_info(g->add_input(), names[0], {1, 4});
  std::string chain[2] = {names[0], names[0]};
  for (std::size_t i = 1; i + 1 < names.size(); ++i) {
    std::string& prev = chain[i % 2];
    add_node(g, i % 2 ? "Relu" : "Sigmoid", names[(i + 5) % names.size()], {prev}, {names[i]});
    prev = names[i];
  }
  for (std::size_t k = 0; k < weights.size(); ++k) {
    *g->add_initializer() = float_tensor(weights[k], {1, 4}, 0.5f + static_cast<float>(k));
    const std::string out = weights[k] + "_";  // a fresh tensor name; the identifiers come from the weights
    add_node(g, "Mul", weights[k], {chain[k % 2], weights[k]}, {out});
    chain[k % 2] = out;
  }
  add_node(g, "Add", names.back(), {chain[0], chain[1]}, {names.back()});
  add_value_info(g->add_output(), names.back(), {1, 4});
  return m;
}

}  // namespace

TEST_CASE("[dfgpar][pytorch] names that are model.py's own definitions are renamed, and the model runs") {
  std::vector<std::string> names, weights;
  std::set<std::string> runtime;
  for (const auto& n : py::runtime::defined_names(py::runtime::model_template)) runtime.insert(n);
  for (const auto& n : py::runtime::defined_names(py::python_weights_loader())) runtime.insert(n);
  for (const std::string n : {"self", "parallel", "Model"}) runtime.insert(n);
  // the methods of the module are weights (module attributes), the rest tensors
  for (const auto& n : runtime)
    (n == "forward" || n == "forward_serial" || n == "run" || n == "load_weights" ? weights : names).push_back(n);
  REQUIRE(names.size() > 20);
  auto m = dfgpar::onnx::build_model(runtime_names_model(names, weights), fs::temp_directory_path());
  for (std::size_t workers : {1, 2}) {
    CAPTURE(workers);
    const auto s = schedule_for(m, workers);
    const py::model_view view(m);
    const auto plan = py::plan_stages(m, view, s);
    const py::module_names ids(view, plan);
    for (const auto& t : names) {
      CHECK_MESSAGE(!runtime.count(ids.var(t)), t);
      CHECK_MESSAGE(py::is_safe_identifier(ids.var(t)), t);
    }
    for (const auto& t : weights) {
      CHECK_MESSAGE(!runtime.count(ids.var(t)), t);
      CHECK(ids.expr(t) == "self." + ids.var(t));
    }
    for (std::size_t i = 0; i < plan.stages.size(); ++i) CHECK(!runtime.count(ids.stage_method(i)));
    CHECK(ids.var("forward") == "forward_");
    CHECK(ids.var("torch") == "torch_");

    const auto files = py::emit_pytorch(m, s, py::emit_options{.fork = py::emit_options::fork_choice::always});
    const std::string& code = files[0].content;
    CHECK(code.find("    def forward(self, ") != std::string::npos);
    CHECK(code.find("register_buffer('forward_', w['forward_'])") != std::string::npos);
    for (const auto& r : runtime) CHECK_MESSAGE(code.find("\n        " + r + " = ") == std::string::npos, r);
    if (!have_torch()) {
      MESSAGE("skipping the run of model.py: /usr/bin/python3 has no torch");
      continue;
    }
    const fs::path dir = temp_dir("runtime_names" + std::to_string(workers));
    write_files(dir, files);
    const std::string text = run_python(dir, "model.py --threads 1 --runs 2");
    CHECK_MESSAGE(text.starts_with("rc=0"), text);
    fs::remove_all(dir);
  }
}

TEST_CASE("[dfgpar][pytorch] weights round trip through the safetensors layout") {
  namespace on = dfgpar::onnx;
  const on::tensor f = on::make_tensor<float>(tp::FLOAT, {2, 3}, {1, -2, 3.5f, 0, 1e-30f, -7});
  const on::tensor i8 = on::make_tensor<std::int8_t>(tp::INT8, {3}, {-128, 0, 127});
  const on::tensor i64 = on::make_tensor<std::int64_t>(tp::INT64, {}, {-(std::int64_t{1} << 40)});
  const on::tensor d = on::make_tensor<double>(tp::DOUBLE, {1}, {0.1});
  const on::tensor b = on::make_tensor<std::uint8_t>(tp::BOOL, {2}, {1, 0});
  const on::tensor empty = on::make_tensor(tp::FLOAT, {0, 4});
  const on::tensor u16 = on::make_tensor<std::uint16_t>(tp::UINT16, {2}, {65535, 1});
  std::vector<py::named_tensor> in = {{"f", &f},       {"i8", &i8},   {"scalar", &i64}, {"d", &d},
                                      {"b", &b},       {"empty", &empty}, {"u16", &u16},
                                      {"na\"me\\\n\xc3\xa9", &f}};
  std::stringstream buf;
  py::write_safetensors(buf, in);
  const std::string bytes = buf.str();
  // header length, header padded to 8, every tensor aligned to its element size
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = n << 8 | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
  CHECK(n % 8 == 0);
  CHECK(bytes[8] == '{');
  auto out = py::read_safetensors(buf);
  REQUIRE(out.size() == in.size());
  std::map<std::string, on::tensor> got(out.begin(), out.end());
  CHECK(got.at("f") == f);
  CHECK(got.at("i8") == i8);
  CHECK(got.at("scalar") == i64);
  CHECK(got.at("d") == d);
  CHECK(got.at("b") == b);
  CHECK(got.at("empty") == empty);
  CHECK(got.at("na\"me\\\n\xc3\xa9") == f);
  // UINT16 is widened to INT32 (PyTorch 1.13 has no uint16)
  CHECK(got.at("u16").elem_type == tp::INT32);
  CHECK(got.at("u16").values<std::int32_t>() == std::vector<std::int32_t>{65535, 1});

  std::vector<py::named_tensor> dup = {{"x", &f}, {"x", &d}};
  std::stringstream buf2;
  CHECK_THROWS_AS(py::write_safetensors(buf2, dup), dfgpar::graph_error);
  const on::tensor big = on::make_tensor<std::uint64_t>(tp::UINT64, {1}, {~std::uint64_t{0}});
  std::vector<py::named_tensor> bad = {{"big", &big}};
  CHECK_THROWS_AS(py::write_safetensors(buf2, bad), dfgpar::graph_error);
}

TEST_CASE("[dfgpar][pytorch] the op registry refuses what it cannot translate") {
  const auto& reg = py::op_registry::standard();
  CHECK(reg.supports("Conv"));
  CHECK(reg.supports("Gemm"));
  CHECK(reg.supports("Loop"));  // control flow: ops/control_flow.hpp
  CHECK_FALSE(reg.supports("MelWeightMatrix"));
  CHECK(reg.op_types().size() >= 60);

  ::onnx::NodeProto n;
  n.set_op_type("MaxPool");
  n.set_name("pool");
  auto* k = n.add_attribute();
  k->set_name("kernel_shape");
  k->set_type(::onnx::AttributeProto::INTS);
  k->add_ints(2), k->add_ints(2);
  dfgpar::onnx::tensor_info info;
  info.elem_type = tp::FLOAT;
  info.shape = {1, 3, 8, 8};
  info.shape_known = true;
  auto ctx = [&] {
    py::op_context c;
    c.node = &n;
    c.opset = 13;
    c.inputs = {"x"};
    c.input_info = {&info};
    c.constants = {nullptr};
    c.outputs = {"y"};
    c.output_info = {nullptr};
    return c;
  };
  {
    auto c = ctx();
    reg.translate(c);
    REQUIRE(c.lines.size() == 1);
    CHECK(c.lines[0] == "y = F.max_pool2d(x, (2, 2), (1, 1), (0, 0), (1, 1), False)");
  }
  // an attribute the translation does not read is refused, by name
  auto* extra = n.add_attribute();
  extra->set_type(::onnx::AttributeProto::INT);
  extra->set_i(1);
  extra->set_name("new_attribute_from_the_future");
  {
    auto c = ctx();
    CHECK_THROWS_WITH_AS(reg.translate(c), doctest::Contains("new_attribute_from_the_future"), py::unsupported_op);
  }
  n.set_op_type("NoSuchOp");
  {
    auto c = ctx();
    CHECK_THROWS_WITH_AS(reg.translate(c), doctest::Contains("NoSuchOp"), py::unsupported_op);
  }
}

TEST_CASE("[dfgpar][pytorch] emitting a hostile model gives safe, runnable code, serial and parallel") {
  const auto m = dfgpar::onnx::build_model(hostile_model(), fs::temp_directory_path());
  for (std::size_t workers : {1, 2}) {
    CAPTURE(workers);
    const auto s = schedule_for(m, workers);
    const auto files = py::emit_pytorch(m, s, py::emit_options{.fork = py::emit_options::fork_choice::always});
    REQUIRE(files.size() == 2);
    CHECK(files[0].name == "model.py");
    CHECK(files[1].name == "weights.safetensors");
    const std::string& code = files[0].content;
    CHECK(is_ascii_printable_or_newline(code));
    CHECK(code.find("__import__") == std::string::npos);
    CHECK(code.find("PWNED") != std::string::npos);  // as part of an identifier only
    CHECK(code.find("system(") == std::string::npos);
    CHECK(code.find("def forward(self, x_import_os_system_touch_PWNED: Tensor)") != std::string::npos);
    CHECK(code.find("self.class_") != std::string::npos);
    CHECK(code.find("a_b_2") != std::string::npos);  // "a.b" and "a_b" collide
    if (workers == 2) {
      CHECK(code.find("torch.jit.fork") != std::string::npos);
      CHECK(code.find("torch.jit.wait") != std::string::npos);
    } else {
      CHECK(code.find("torch.jit.fork(self.") == std::string::npos);
    }
    // the weights read back
    std::stringstream w(files[1].content);
    const auto weights = py::read_safetensors(w);
    std::set<std::string> names;
    for (const auto& [name, t] : weights) names.insert(name);
    CHECK(names == std::set<std::string>{"class_", "conv_weight", "conv_bias"});

    if (!have_torch()) {
      MESSAGE("skipping the run of model.py: /usr/bin/python3 has no torch");
      continue;
    }
    const fs::path dir = temp_dir("hostile" + std::to_string(workers));
    write_files(dir, files);
    const std::string text = run_python(dir, "model.py --threads 1 --runs 2");
    CHECK_MESSAGE(text.starts_with("rc=0"), text);
    CHECK(text.find("max |parallel - serial| = ") != std::string::npos);  // rc 0: within 1e-5
    CHECK_FALSE(fs::exists(dir / "PWNED"));
    CHECK_FALSE(fs::exists(dir / "PWNED2"));
    fs::remove_all(dir);
  }
}

TEST_CASE("[dfgpar][pytorch] an unsupported operator is refused at emit time, naming it") {
  const auto m = dfgpar::onnx::build_model(hostile_model(), fs::temp_directory_path());
  const py::op_registry nothing;  // translates no operator
  CHECK_THROWS_WITH_AS(py::emit_pytorch(m, schedule_for(m, 2), py::emit_options{.ops = &nothing}),
                       doctest::Contains("Relu"), py::unsupported_op);
}

TEST_CASE("[dfgpar][pytorch] long lines are wrapped at their brackets, within 79 columns") {
  const std::string line =
      "        inception3a_branch3_branch3_0_conv_Conv = F.conv2d(maxpool2_MaxPool, "
      "self.inception3a_branch3_branch3_0_conv_weight, self.inception3a_branch3_branch3_0_conv_bias, (1, 1), "
      "(0, 0), (1, 1), 1)";
  const auto lines = py::wrap_python_line(line);
  CHECK(lines.size() > 1);
  std::string joined;
  for (const auto& l : lines) {
    CHECK(l.size() <= 79);
    joined += l;
  }
  // only whitespace changed
  auto squeeze = [](std::string s) {
    std::string o;
    for (char c : s)
      if (c != ' ') o += c;
    return o;
  };
  CHECK(squeeze(joined) == squeeze(line));
  CHECK(py::wrap_python_line("        x = torch.relu(y)") == std::vector<std::string>{"        x = torch.relu(y)"});
  // commas inside quotes are not break points
  const auto q = py::wrap_python_line("        x = torch.einsum('ij,jk->ik', [aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb])");
  for (const auto& l : q) {
    const bool split_quote = l.find("'ij,") != std::string::npos && l.find("jk->ik'") == std::string::npos;
    CHECK_FALSE(split_quote);
  }
}

namespace {

/// stem Conv -> { 3x3 Conv + Relu (heavy), 1x1 Conv + Relu } -> Concat -> Relu:
/// the stem and the tail are width-1, the branches a region.
::onnx::ModelProto fork_join_model() {
  ::onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  auto* g = m.mutable_graph();
  g->set_name("fork_join");
  add_value_info(g->add_input(), "x", {1, 3, 16, 16});
  *g->add_initializer() = float_tensor("stem.w", {16, 3, 3, 3}, -0.05f);
  *g->add_initializer() = float_tensor("big.w", {32, 16, 3, 3}, -0.02f);
  *g->add_initializer() = float_tensor("big.b", {32}, 0.01f);
  *g->add_initializer() = float_tensor("small.w", {8, 16, 1, 1}, -0.03f);
  add_node(g, "Conv", "/stem/Conv", {"x", "stem.w"}, {"/stem/Conv_output_0"})->add_attribute()->CopyFrom(ints_attr("pads", {1, 1, 1, 1}));
  add_node(g, "Conv", "/mix/big/Conv", {"/stem/Conv_output_0", "big.w", "big.b"}, {"/mix/big/Conv_output_0"})
      ->add_attribute()
      ->CopyFrom(ints_attr("pads", {1, 1, 1, 1}));
  add_node(g, "Relu", "/mix/big/Relu", {"/mix/big/Conv_output_0"}, {"/mix/big/Relu_output_0"});
  add_node(g, "Conv", "/mix/small/Conv", {"/stem/Conv_output_0", "small.w"}, {"/mix/small/Conv_output_0"});
  add_node(g, "Relu", "/mix/small/Relu", {"/mix/small/Conv_output_0"}, {"/mix/small/Relu_output_0"});
  add_node(g, "Concat", "/mix/Concat", {"/mix/big/Relu_output_0", "/mix/small/Relu_output_0"}, {"/mix/Concat_output_0"})
      ->add_attribute()
      ->CopyFrom(int_attr("axis", 1));
  add_node(g, "Relu", "/tail/Relu", {"/mix/Concat_output_0"}, {"y"});
  add_value_info(g->add_output(), "y", {1, 40, 16, 16});
  return m;
}

}  // namespace

TEST_CASE("[dfgpar][pytorch] width-1 vertices: every other vertex is an ancestor or a descendant") {
  using graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS>;
  //   1 -> {2, 3} -> 4 -> 5 -> {6, 7}; 0 is skipped (a weight feeding 6)
  graph g(8);
  for (auto [u, v] : std::vector<std::pair<int, int>>{{1, 2}, {1, 3}, {2, 4}, {3, 4}, {4, 5}, {5, 6}, {5, 7}, {0, 6}})
    add_edge(u, v, g);
  std::vector<char> skip(8, 0);
  skip[0] = 1;
  CHECK(py::detail::width_one_vertices(g, skip) == std::vector<char>{0, 1, 0, 0, 1, 1, 0, 0});
  // not skipped, 0 is concurrent with everything before 6: nothing is width-1
  CHECK(py::detail::width_one_vertices(g, std::vector<char>(8, 0)) == std::vector<char>(8, 0));
  // out of topological order: no claim
  graph h(2);
  add_edge(1, 0, h);
  CHECK(py::detail::width_one_vertices(h, std::vector<char>(2, 0)) == std::vector<char>(2, 0));
}

TEST_CASE("[dfgpar][pytorch] regions fork their parts, width-1 runs inline, the join ends the region") {
  auto m = dfgpar::onnx::build_model(fork_join_model(), fs::temp_directory_path());
  dfgpar::onnx::apply_costs(m);
  const auto s = schedule_for(m, 2);
  const auto files = py::emit_pytorch(m, s, py::emit_options{.fork = py::emit_options::fork_choice::always});
  const std::string& code = files[0].content;
  // stage 1: the stem; stage 2: the region "mix" with its Concat and the tail Relu as epilogue
  CHECK(code.find("    def stem(self, x: Tensor) -> Tensor:") != std::string::npos);
  CHECK(code.find("    def mix(self, parallel: bool, stem_Conv: Tensor) -> Tensor:") != std::string::npos);
  CHECK(code.find("        if parallel and self.fork_mix:") != std::string::npos);
  CHECK(code.find("    def mix_worker0(self") != std::string::npos);
  CHECK(code.find("    def mix_worker1(self") != std::string::npos);
  CHECK(code.find("        self.fork_mix = True") != std::string::npos);
  CHECK(code.find("    ('mix', 'fork_mix', ['stem_Conv'], ['y']),") != std::string::npos);
  // the default choice follows the cost model: these branches are too small to fork
  const auto predicted = py::emit_pytorch(m, s)[0].content;
  CHECK(predicted.find("        self.fork_mix = False") != std::string::npos);
  for (const auto& l : [&] {
         std::vector<std::string> v;
         std::istringstream in(code);
         for (std::string line; std::getline(in, line);) v.push_back(line);
         return v;
       }())
    CHECK_MESSAGE(l.size() <= 79, l);
  if (!have_torch()) {
    MESSAGE("skipping the run of model.py: /usr/bin/python3 has no torch");
    return;
  }
  const fs::path dir = temp_dir("regions");
  write_files(dir, files);
  const std::string out = run_python(dir, "model.py --threads 1 --runs 2 --tune");
  CHECK_MESSAGE(out.starts_with("rc=0"), out);
  CHECK_MESSAGE(out.find("fork_mix: forked") != std::string::npos, out);
  CHECK_MESSAGE(out.find("max |parallel - serial| = ") != std::string::npos, out);  // rc 0: within 1e-5
  CHECK(fs::exists(dir / "fork_flags.json"));  // --tune saved the flags the model reads
  // a flags file with wrong values or unknown names changes nothing; a broken one is ignored
  std::ofstream(dir / "fork_flags.json") << R"J({"flags": {"fork_mix": "yes", "__import__('os')": true}})J";
  const std::string again = run_python(dir, "model.py --threads 1 --runs 2");
  CHECK_MESSAGE(again.starts_with("rc=0"), again);
  std::ofstream(dir / "fork_flags.json") << "{not json";
  const std::string broken = run_python(dir, "model.py --threads 1 --runs 2");
  CHECK_MESSAGE(broken.starts_with("rc=0"), broken);
  CHECK_MESSAGE(broken.find("ignoring") != std::string::npos, broken);
  fs::remove_all(dir);
}

TEST_CASE("[dfgpar][pytorch] with a moldable schedule, model.py forks the regions it runs side by side only") {
  auto m = dfgpar::onnx::build_model(two_diamonds_model(), fs::temp_directory_path());
  // t(v, k) for k = 1, 2: the first region's branches do not scale (side by
  // side wins: 100 against 200 intra-op), the second's scale perfectly and
  // differ (intra-op wins: 50 + 5 against 100 side by side)
  const std::vector<std::vector<double>> t = {{10, 5}, {100, 100}, {100, 100}, {10, 5}, {100, 50}, {10, 5}, {10, 5}};
  for (std::size_t v = 0; v < t.size(); ++v) m.g[v].cost = t[v][0];
  const auto r = dfgpar::parallelize_moldable(m.g, dfgpar::make_measured_cost(m.g, t), dfgpar::options{.workers = 2});
  const auto s = schedule_for(m, 2);  // the inter-op schedule cuts the regions, as emit does
  const py::model_view view(m);
  const auto plan = py::plan_stages(m, view, s, {.moldable = &r.schedule});
  REQUIRE(plan.stages.size() == 3);
  CHECK(plan.stages[1].fork);
  CHECK_FALSE(plan.stages[2].fork);
  const auto code = py::emit_pytorch(m, s, {.moldable = &r.schedule})[0].content;
  const py::module_names names(view, plan);
  const std::string first = names.stage_flag(1), second = names.stage_flag(2);
  CHECK_MESSAGE(code.find("        self." + first + " = True\n") != std::string::npos, code);
  CHECK_MESSAGE(code.find("        self." + second + " = False\n") != std::string::npos, code);
  CHECK(code.find("# moldable schedule: side by side on 2 workers, 1 core per node") != std::string::npos);
  CHECK(code.find("# moldable schedule: intra-op, up to 2 cores per node") != std::string::npos);
  CHECK(code.find("chosen from the moldable") != std::string::npos);
  // without it, the cost rule decides, and the comments say so
  const auto by_rule = py::emit_pytorch(m, s)[0].content;
  CHECK(by_rule.find("# moldable schedule") == std::string::npos);
  CHECK(by_rule.find("# predicted: work") != std::string::npos);
}

TEST_CASE("[dfgpar][pytorch] emit from a profile with times per thread count: the moldable schedule's flags") {
  const fs::path dir = temp_dir("moldable_profile");
  {
    std::ofstream out(dir / "two_diamonds.onnx", std::ios::binary);
    REQUIRE(two_diamonds_model().SerializeToOstream(&out));
  }
  // node indices of the file: A 0, L1 1, R1 2, D1 3, L2 4, R2 5, D2 6. The
  // first region's branches do not scale (side by side: 100 against 200
  // intra-op); the second's do (intra-op: 50 + 40 against 100 side by side)
  const char* rows[] = {R"("name": "A", "node": 0, "us": 10, "us_by_threads": [10, 5])",
                        R"("name": "L1", "node": 1, "us": 100, "us_by_threads": [100, 100])",
                        R"("name": "R1", "node": 2, "us": 100, "us_by_threads": [100, 100])",
                        R"("name": "D1", "node": 3, "us": 10, "us_by_threads": [10, 5])",
                        R"("name": "L2", "node": 4, "us": 100, "us_by_threads": [100, 50])",
                        R"("name": "R2", "node": 5, "us": 80, "us_by_threads": [80, 40])",
                        R"("name": "D2", "node": 6, "us": 10, "us_by_threads": [10, 5])"};
  {
    std::ofstream out(dir / "profile.json");
    out << R"({"dfgpar_profile": 1, "threads": [1, 2], "nodes": [)";
    for (std::size_t i = 0; i < std::size(rows); ++i) out << (i ? ",\n" : "\n") << "{" << rows[i] << "}";
    out << "]}\n";
  }
  const dfgpar::options two{.workers = 2};
  const auto r = dfgpar::onnx::compile(dir / "two_diamonds.onnx", {.profile = dir / "profile.json", .schedule = two});
  REQUIRE(r.moldable.has_value());
  py::stage_plan plan;
  const auto code = py::emit_pytorch(r, two, {}, &plan)[0].content;
  REQUIRE(plan.stages.size() == 3);  // A; L1 | R1 then D1; L2 | R2 then D2
  REQUIRE(plan.regions() == 2);      // both regions keep a flag: cut by the single-core schedule
  CHECK(plan.stages[1].fork);
  CHECK_FALSE(plan.stages[2].fork);
  const py::model_view view(r.scheduled());
  const py::module_names names(view, plan);
  CHECK_MESSAGE(code.find("        self." + names.stage_flag(1) + " = True\n") != std::string::npos, code);
  CHECK_MESSAGE(code.find("        self." + names.stage_flag(2) + " = False\n") != std::string::npos, code);
  CHECK(code.find("# moldable schedule: intra-op, up to 2 cores per node") != std::string::npos);

  // the same times on one thread only: no moldable schedule, the cost rule sets the flags
  {
    std::ofstream out(dir / "profile1.json");
    out << R"({"dfgpar_profile": 1, "nodes": [)";
    const double us[] = {10, 100, 100, 10, 100, 80, 10};
    for (std::size_t i = 0; i < std::size(us); ++i) out << (i ? ", " : "") << R"({"node": )" << i << R"(, "us": )" << us[i] << "}";
    out << "]}\n";
  }
  const auto r1 = dfgpar::onnx::compile(dir / "two_diamonds.onnx", {.profile = dir / "profile1.json", .schedule = two});
  CHECK_FALSE(r1.moldable.has_value());
  py::stage_plan plan1;
  const auto code1 = py::emit_pytorch(r1, two, {}, &plan1)[0].content;
  REQUIRE(plan1.regions() == 2);
  CHECK(code1.find("# moldable schedule") == std::string::npos);
  CHECK(code1.find("# predicted: work") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("[dfgpar][pytorch] splitting a heavy Conv into channel parts keeps the model's result") {
  auto m = dfgpar::onnx::build_model(fork_join_model(), fs::temp_directory_path());
  dfgpar::onnx::apply_costs(m);
  dfgpar::onnx::split_report r;
  const auto split = dfgpar::onnx::split_convolutions(m, dfgpar::onnx::split_options{.parts = 2, .min_fraction = 0.3}, &r);
  // only the 3x3 branch Conv is heavy enough; its Relu moves onto the parts and
  // the Concat takes the parts directly
  CHECK(r.split == 1);
  CHECK(r.relus_moved == 1);
  CHECK(r.concats_merged == 1);
  const auto& g = split.proto.graph();
  REQUIRE(g.node_size() == 9);  // stem, 2 x (Conv, Relu), small Conv + Relu, Concat, tail
  std::size_t convs = 0;
  for (const auto& nd : g.node()) {
    if (nd.op_type() == "Concat") CHECK(nd.input_size() == 3);
    if (nd.op_type() == "Conv" && nd.name().starts_with("/mix/big/Conv/part")) ++convs;
  }
  CHECK(convs == 2);
  for (const auto& t : g.initializer()) CHECK(t.name() != "big.w");  // replaced by its parts
  // the parts share the Conv's cost
  double whole = 0, parts = 0;
  for (std::size_t v = 0; v < num_vertices(m.g); ++v)
    if (m.proto.graph().node(static_cast<int>(v)).name() == "/mix/big/Conv") whole = m.g[v].cost;
  for (std::size_t v = 0; v < num_vertices(split.g); ++v)
    if (split.proto.graph().node(static_cast<int>(v)).name().starts_with("/mix/big/Conv/part")) parts += split.g[v].cost;
  CHECK(parts == doctest::Approx(whole));
  // nothing to split: the same model back
  dfgpar::onnx::split_report none;
  CHECK(dfgpar::onnx::split_convolutions(m, dfgpar::onnx::split_options{.parts = 1}, &none).proto.graph().node_size() == 7);
  CHECK(none.split == 0);
  if (!have_torch()) {
    MESSAGE("skipping the numeric check: /usr/bin/python3 has no torch");
    return;
  }
  const fs::path dir = temp_dir("split");
  fs::create_directories(dir / "whole");
  fs::create_directories(dir / "split");
  write_files(dir / "whole", py::emit_pytorch(m, schedule_for(m, 1)));
  write_files(dir / "split", py::emit_pytorch(split, schedule_for(split, 2),
                                              py::emit_options{.fork = py::emit_options::fork_choice::always}));
  std::ofstream(dir / "check.py") << R"PY(import importlib.util
import torch
def load(d):
    spec = importlib.util.spec_from_file_location(d, d + '/model.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return torch.jit.script(mod.Model().eval())
torch.manual_seed(0)
x = torch.randn(1, 3, 16, 16)
a = load('whole').forward_serial(x)
b = load('split')(x)
print('max diff', (a - b).abs().max().item())
assert torch.allclose(a, b, rtol=1e-5, atol=1e-6)
)PY";
  const std::string out = run_python(dir, "check.py");
  CHECK_MESSAGE(out.starts_with("rc=0"), out);
  fs::remove_all(dir);
}

TEST_CASE("[dfgpar][pytorch] a code generator hook changes one piece of model.py, the steps compose as emit_pytorch") {
  auto m = dfgpar::onnx::build_model(fork_join_model(), fs::temp_directory_path());
  dfgpar::onnx::apply_costs(m);
  const auto s = schedule_for(m, 2);
  const py::emit_options o{.fork = py::emit_options::fork_choice::always};
  const py::model_view view(m);
  const auto plan = py::plan_stages(m, view, s, o.planning());
  const py::module_names names(view, plan);
  // the four steps by hand give what emit_pytorch gives
  const auto whole = py::emit_pytorch(m, s, o);
  const auto steps = py::module_codegen(view, plan, names, o).generate();
  REQUIRE(steps.size() == 2);
  CHECK(steps[0].content == whole[0].content);
  CHECK(steps[1].content == whole[1].content);
  // one hook overridden: every node's comment, nothing else
  struct tagged : py::module_codegen {
    using py::module_codegen::module_codegen;
    std::vector<std::string> node_comment(const ::onnx::NodeProto& nd) const override {
      return {"        # node " + py::python_comment_text(nd.name())};
    }
  };
  const std::string code = tagged(view, plan, names, o).generate()[0].content;
  CHECK(code.find("        # node /mix/Concat\n") != std::string::npos);
  CHECK(code.find("# Conv -> ") == std::string::npos);
  auto count = [](const std::string& text, const std::string& what) {
    std::size_t k = 0;
    for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++k;
    return k;
  };
  CHECK(count(code, "        # node ") == 7);
  CHECK(count(code, "\n") == count(whole[0].content, "\n"));
}
