// Stage planning of the PyTorch back end (include/dfgpar/pytorch/plan.hpp)
// and the names it leads to (naming.hpp), on small hand-made graphs with
// hand-made schedules: no text is produced. A chain, a diamond, a
// GoogLeNet-like block (four branches joined by a Concat) and a region where
// one worker reads another's value mid-way (cut points and hand-offs).

#include <dfgpar/onnx/model.hpp>
#include <dfgpar/pytorch/naming.hpp>
#include <dfgpar/pytorch/plan.hpp>

#include "model_builder.hpp"

#include <doctest/doctest.h>

#include <cstddef>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace {

namespace py = dfgpar::pytorch;
using namespace dfgpar_test::pytorch;
using strings = std::vector<std::string>;
using indices = std::vector<std::size_t>;

dfgpar::onnx::model build(const ::onnx::ModelProto& proto) {
  return dfgpar::onnx::build_model(proto, std::filesystem::temp_directory_path());
}

/// x -> A -> B -> C
::onnx::ModelProto chain_model() {
  auto m = empty_model("chain");
  auto* g = m.mutable_graph();
  add_value_info(g->add_input(), "x", {1, 4});
  add_node(g, "Relu", "/a/Relu", {"x"}, {"a"});
  add_node(g, "Sigmoid", "/b/Sigmoid", {"a"}, {"b"});
  add_node(g, "Tanh", "/c/Tanh", {"b"}, {"y"});
  add_value_info(g->add_output(), "y", {1, 4});
  return m;
}

/// x -> A -> {L, R} -> D
::onnx::ModelProto diamond_model() {
  auto m = empty_model("diamond");
  auto* g = m.mutable_graph();
  add_value_info(g->add_input(), "x", {1, 4});
  add_node(g, "Relu", "/a/Relu", {"x"}, {"a"});       // 0
  add_node(g, "Sigmoid", "/l/Sigmoid", {"a"}, {"l"});  // 1
  add_node(g, "Tanh", "/r/Tanh", {"a"}, {"r"});        // 2
  add_node(g, "Add", "/d/Add", {"l", "r"}, {"y"});     // 3
  add_value_info(g->add_output(), "y", {1, 4});
  return m;
}

/// stem -> four branches (1, 2, 2 and 2 nodes) -> Concat -> tail: the
/// shape of a GoogLeNet inception block.
::onnx::ModelProto inception_model() {
  auto m = empty_model("inception");
  auto* g = m.mutable_graph();
  add_value_info(g->add_input(), "x", {1, 4});
  add_node(g, "Relu", "/stem/Relu", {"x"}, {"/stem/Relu_output_0"});                                        // 0
  const std::string s = "/stem/Relu_output_0";
  add_node(g, "Sigmoid", "/inception/b1/Sigmoid", {s}, {"/inception/b1/Sigmoid_output_0"});                 // 1
  add_node(g, "Relu", "/inception/b2/Relu", {s}, {"/inception/b2/Relu_output_0"});                          // 2
  add_node(g, "Tanh", "/inception/b2/Tanh", {"/inception/b2/Relu_output_0"}, {"/inception/b2/Tanh_output_0"});  // 3
  add_node(g, "Relu", "/inception/b3/Relu", {s}, {"/inception/b3/Relu_output_0"});                          // 4
  add_node(g, "Sigmoid", "/inception/b3/Sigmoid", {"/inception/b3/Relu_output_0"},
           {"/inception/b3/Sigmoid_output_0"});                                                             // 5
  add_node(g, "Tanh", "/inception/b4/Tanh", {s}, {"/inception/b4/Tanh_output_0"});                          // 6
  add_node(g, "Relu", "/inception/b4/Relu", {"/inception/b4/Tanh_output_0"}, {"/inception/b4/Relu_output_0"});  // 7
  add_node(g, "Concat", "/inception/Concat",
           {"/inception/b1/Sigmoid_output_0", "/inception/b2/Tanh_output_0", "/inception/b3/Sigmoid_output_0",
            "/inception/b4/Relu_output_0"},
           {"/inception/Concat_output_0"})
      ->add_attribute()
      ->CopyFrom(int_attr("axis", 1));                                                                      // 8
  add_node(g, "Relu", "/tail/Relu", {"/inception/Concat_output_0"}, {"y"});                                 // 9
  add_value_info(g->add_output(), "y", {1, 16});
  return m;
}

/// S -> {B1 -> B2, C1}, C2 = C1 + B1, J = B2 + C2: on two workers (B on 0,
/// C on 1), C2 reads B1's value from the other worker mid-way.
::onnx::ModelProto handoff_model() {
  auto m = empty_model("handoff");
  auto* g = m.mutable_graph();
  add_value_info(g->add_input(), "x", {1, 4});
  add_node(g, "Relu", "S", {"x"}, {"s"});            // 0
  add_node(g, "Relu", "B1", {"s"}, {"b1"});          // 1
  add_node(g, "Sigmoid", "B2", {"b1"}, {"b2"});      // 2
  add_node(g, "Tanh", "C1", {"s"}, {"c1"});          // 3
  add_node(g, "Add", "C2", {"c1", "b1"}, {"c2"});    // 4
  add_node(g, "Add", "J", {"b2", "c2"}, {"y"});      // 5
  add_value_info(g->add_output(), "y", {1, 4});
  return m;
}

void set_costs(dfgpar::onnx::model& m, const std::vector<double>& costs) {
  for (std::size_t v = 0; v < costs.size(); ++v) m.g[v].cost = costs[v];
}

}  // namespace

TEST_CASE("[dfgpar][pytorch] plan: a chain is one inline stage, on any number of workers") {
  auto m = build(chain_model());
  const py::model_view view(m);
  for (std::size_t workers : {1, 2}) {
    CAPTURE(workers);
    // spread over two workers, the chain is still one inline stage: every node is width-1
    const auto s = workers == 1 ? hand_schedule(3, 1, {{0, {0, 1, 2}}}) : hand_schedule(3, 2, {{0, {0}}, {1, {1, 2}}});
    const auto p = py::plan_stages(m, view, s);
    REQUIRE(p.stages.size() == 1);
    CHECK_FALSE(p.stages[0].region);
    CHECK(p.regions() == 0);
    REQUIRE(p.units.size() == 1);
    CHECK(p.units[0].vertices == indices{0, 1, 2});
    CHECK(p.units[0].inputs == strings{"x"});
    CHECK(p.units[0].outputs == strings{"y"});
    CHECK(p.stages[0].inputs == strings{"x"});
    CHECK(p.stages[0].outputs == strings{"y"});
    CHECK(p.outputs == strings{"y"});
    CHECK(p.width_one == std::vector<char>(3, workers > 1 ? 1 : 0));
  }
}

TEST_CASE("[dfgpar][pytorch] plan: a diamond is an inline stage, then a region whose epilogue joins it") {
  auto m = build(diamond_model());
  set_costs(m, {1, 2, 3, 1});
  const py::model_view view(m);
  const auto s = hand_schedule(4, 2, {{0, {0, 1, 3}}, {1, {2}}});
  const auto p = py::plan_stages(m, view, s, {.fork = py::fork_choice::always});
  CHECK(p.width_one == std::vector<char>{1, 0, 0, 1});
  CHECK(p.workers == 2);
  REQUIRE(p.stages.size() == 2);
  REQUIRE(p.units.size() == 4);  // A; L and R; the epilogue D
  const auto& head = p.stages[0];
  const auto& region = p.stages[1];
  CHECK_FALSE(head.region);
  CHECK(p.units[head.units[0]].vertices == indices{0});
  CHECK(head.outputs == strings{"a"});
  CHECK(region.region);
  CHECK(region.workers == 2);
  REQUIRE(region.units.size() == 2);
  const auto& left = p.units[region.units[0]];
  const auto& right = p.units[region.units[1]];
  CHECK(left.vertices == indices{1});
  CHECK(left.worker == 0);
  CHECK(right.vertices == indices{2});
  CHECK(right.worker == 1);
  CHECK(left.inputs == strings{"a"});
  CHECK(left.outputs == strings{"l"});
  CHECK(right.outputs == strings{"r"});
  REQUIRE(region.epilogue != py::plan_stage::none);
  const auto& join = p.units[region.epilogue];
  CHECK(join.vertices == indices{3});
  CHECK(join.stage == 1);
  CHECK(join.inputs == strings{"l", "r"});
  CHECK(join.deps == std::set<std::size_t>{region.units[0], region.units[1]});
  CHECK(region.inputs == strings{"a"});
  CHECK(region.outputs == strings{"y"});
  CHECK(p.provider[3] == region.epilogue);
  // predicted: the parts run side by side, the join after them
  CHECK(region.work == doctest::Approx(6));
  CHECK(region.makespan == doctest::Approx(3 + 1 / 1.8));
  CHECK(region.fork);
  CHECK_FALSE(py::plan_stages(m, view, s, {.fork = py::fork_choice::never}).stages[1].fork);
  // the cost model: 3 + 2 x 20 forked is not below 5 / 1.8 on one thread
  CHECK_FALSE(py::plan_stages(m, view, s).stages[1].fork);
  CHECK(py::plan_stages(m, view, s, {.fork_overhead = 0, .fork = py::fork_choice::cost_model}).stages[1].fork ==
        (3.0 < 5 / 1.8));
}

TEST_CASE("[dfgpar][pytorch] plan: a GoogLeNet-like block is one region with one part per worker") {
  auto m = build(inception_model());
  set_costs(m, {1, 1, 1, 1, 1, 1, 1, 1, 1, 1});
  const py::model_view view(m);
  const auto s = hand_schedule(10, 2, {{0, {0, 1, 2, 3, 8, 9}}, {1, {4, 5, 6, 7}}});
  const auto p = py::plan_stages(m, view, s);
  CHECK(p.width_one == std::vector<char>{1, 0, 0, 0, 0, 0, 0, 0, 1, 1});
  REQUIRE(p.stages.size() == 2);
  const auto& region = p.stages[1];
  REQUIRE(region.region);
  REQUIRE(region.units.size() == 2);  // no value crosses between the workers: no cut
  CHECK(p.units[region.units[0]].vertices == indices{1, 2, 3});
  CHECK(p.units[region.units[1]].vertices == indices{4, 5, 6, 7});
  CHECK(p.units[region.units[0]].part == 1);
  CHECK(p.units[region.units[1]].part == 1);
  CHECK(p.units[region.units[0]].deps.empty());
  CHECK(p.units[region.units[1]].deps.empty());
  // the Concat and the tail (width-1 both) are the region's epilogue
  REQUIRE(region.epilogue != py::plan_stage::none);
  CHECK(p.units[region.epilogue].vertices == indices{8, 9});
  CHECK(p.units[region.units[1]].outputs ==
        strings{"/inception/b3/Sigmoid_output_0", "/inception/b4/Relu_output_0"});
  CHECK(region.inputs == strings{"/stem/Relu_output_0"});
  CHECK(region.outputs == strings{"y"});
  CHECK(region.work == doctest::Approx(9));
  CHECK(region.makespan == doctest::Approx(4 + 2 / 1.8));
  CHECK_FALSE(region.fork);  // 2 parts x 20 of overhead on 7 units of work

  // the names: stages after their nodes' common prefix, parts after the stage
  const py::module_names names(view, p);
  CHECK(names.stage_method(0) == "stem");
  CHECK(names.stage_method(1) == "inception");
  CHECK(names.stage_flag(0).empty());
  CHECK(names.stage_flag(1) == "fork_inception");
  CHECK(names.unit_method(region.units[0]) == "inception_worker0");
  CHECK(names.unit_method(region.units[1]) == "inception_worker1");
  CHECK(names.unit_method(region.epilogue).empty());  // it runs inside the region's method
  CHECK(names.var("/stem/Relu_output_0") == "stem_Relu");
  CHECK(names.var("/inception/Concat_output_0") == "inception_Concat");
  CHECK(names.expr("y") == "y");
  CHECK(names.inputs() == strings{"x"});

  // on one worker: one inline stage of everything, in the cluster's order
  const auto one = py::plan_stages(m, view, hand_schedule(10, 1, {{0, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}}}));
  REQUIRE(one.stages.size() == 1);
  CHECK(one.units[0].vertices == indices{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
}

TEST_CASE("[dfgpar][pytorch] plan: a value crossing workers mid-region cuts both parts and orders them") {
  auto m = build(handoff_model());
  set_costs(m, {1, 1, 1, 5, 1, 1});
  const py::model_view view(m);
  const auto s = hand_schedule(6, 2, {{0, {0, 1, 2, 5}}, {1, {3, 4}}});
  const auto p = py::plan_stages(m, view, s);
  CHECK(p.width_one == std::vector<char>{1, 0, 0, 0, 0, 1});
  REQUIRE(p.stages.size() == 2);
  REQUIRE(p.units.size() == 6);
  // units: S; B1 | B2 (worker 0, cut after B1, which worker 1 reads);
  // C1 | C2 (worker 1, cut before C2, which reads it); the epilogue J
  const auto& u = p.units;
  CHECK(u[1].vertices == indices{1});
  CHECK(u[2].vertices == indices{2});
  CHECK(u[3].vertices == indices{3});
  CHECK(u[4].vertices == indices{4});
  CHECK((u[1].worker == 0 && u[1].part == 1 && u[2].worker == 0 && u[2].part == 2));
  CHECK((u[3].worker == 1 && u[3].part == 1 && u[4].worker == 1 && u[4].part == 2));
  // hand-offs: B1's value leaves its part as a return value, read by both
  CHECK(u[1].outputs == strings{"b1"});
  CHECK(u[2].inputs == strings{"b1"});
  CHECK(u[4].inputs == strings{"c1", "b1"});
  CHECK(u[2].deps == std::set<std::size_t>{1});
  CHECK(u[4].deps == std::set<std::size_t>{1, 3});
  CHECK(u[5].vertices == indices{5});
  CHECK(p.stages[1].epilogue == 5);
  // order: by predicted start, one thread per worker (C1 is the long one)
  CHECK(p.stages[1].units == indices{1, 3, 2, 4});
  CHECK(u[4].est_start == doctest::Approx(5));
  CHECK(u[2].est_start == doctest::Approx(1));
  CHECK(p.stages[1].makespan == doctest::Approx(6 + 1 / 1.8));

  const py::module_names names(view, p);
  CHECK(names.unit_method(1) == "stage2_worker0_part1");  // no common node-name prefix: numbered
  CHECK(names.unit_method(4) == "stage2_worker1_part2");
}

TEST_CASE("[dfgpar][pytorch] plan: a schedule that does not fit the model is refused") {
  auto m = build(diamond_model());
  const py::model_view view(m);
  CHECK_THROWS_AS(py::plan_stages(m, view, hand_schedule(3, 1, {{0, {0, 1, 2}}})), dfgpar::graph_error);
  auto unscheduled = hand_schedule(4, 2, {{0, {0, 1, 3}}});
  CHECK_THROWS_WITH_AS(py::plan_stages(m, view, unscheduled), doctest::Contains("node 2 is not scheduled"),
                       dfgpar::graph_error);
  // a consumer before its producer on one worker (B2 before B1)
  auto h = build(handoff_model());
  const py::model_view hv(h);
  CHECK_THROWS_WITH_AS(py::plan_stages(h, hv, hand_schedule(6, 2, {{0, {0, 2, 1, 5}}, {1, {3, 4}}})),
                       doctest::Contains("before its input"), dfgpar::graph_error);
}

TEST_CASE("[dfgpar][pytorch] plan: a moldable schedule decides each region's fork flag instead of the cost rule") {
  auto m = build(two_diamonds_model());
  // the cost rule would run the cheap first region inline (1 + 2 x 20 is not
  // below 2 / 1.8) and fork the heavy second one (1000 + 40 < 2000 / 1.8)
  set_costs(m, {1, 1, 1, 1, 1000, 1000, 1});
  const py::model_view view(m);
  const auto s = hand_schedule(7, 2, {{0, {0, 1, 3, 4, 6}}, {1, {2, 5}}});
  const auto by_rule = py::plan_stages(m, view, s);
  REQUIRE(by_rule.stages.size() == 3);  // A; L1 | R1 then D1; L2 | R2 then D2
  CHECK_FALSE(by_rule.stages[1].fork);
  CHECK(by_rule.stages[2].fork);
  CHECK(by_rule.stages[1].moldable_cores == 0);
  // the moldable schedule: L1 and R1 side by side on one core each; L2 and
  // R2 one after the other on both cores (worker 1 reserved)
  auto ms = hand_schedule(7, 2, {{0, {0, 1, 3, 4, 5, 6}}, {1, {2}}});
  ms.clusters[0].threads = {1, 1, 1, 2, 2, 1};
  ms.reservations = {{1, 1, 0, 3}, {1, 1, 0, 4}};
  const auto p = py::plan_stages(m, view, s, {.moldable = &ms});
  REQUIRE(p.stages.size() == 3);
  CHECK_FALSE(p.stages[0].region);
  CHECK(p.stages[1].region);
  CHECK(p.stages[1].fork);
  CHECK(p.stages[1].moldable_cores == 1);
  CHECK(p.stages[1].moldable_workers == 2);
  CHECK(p.stages[2].region);
  CHECK_FALSE(p.stages[2].fork);
  CHECK(p.stages[2].moldable_cores == 2);
  // the regions themselves stay as the inter-op schedule cut them: tune() can still try both ways
  CHECK(p.units.size() == by_rule.units.size());
  // always / never still override
  CHECK_FALSE(py::plan_stages(m, view, s, {.fork = py::fork_choice::never, .moldable = &ms}).stages[1].fork);
  // a moldable schedule of another graph is refused
  const auto other = hand_schedule(3, 2, {{0, {0, 1, 2}}});
  CHECK_THROWS_AS(py::plan_stages(m, view, s, {.moldable = &other}), dfgpar::graph_error);
}
