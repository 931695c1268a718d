// Passes: constant folding, dead-code elimination, prune, cloning. Small
// expression graphs with known answers, a graph where cloning provably
// reaches the optimum, and property tests on seeded random DAGs.

#include <dfgpar/dfgpar.hpp>

#include "graph_types.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

using namespace dfgpar_test;

namespace {

enum class op { constant, input, add, mul, sub, rand, print };

// An arithmetic expression as plain data; `-` subtracts its higher-index input
// from its lower-index one.
struct expr {
  std::vector<op> ops;
  std::vector<double> value;  // of constants
  std::vector<char> output;
  dfgpar::dag_data data;

  std::size_t add(op o, std::vector<std::size_t> in = {}, double v = 0, bool out = false) {
    const std::size_t id = ops.size();
    ops.push_back(o);
    value.push_back(v);
    output.push_back(out ? 1 : 0);
    data.cost.push_back(o == op::constant ? 0.0 : 1.0);
    for (auto u : in) {
      data.edges.emplace_back(u, id);
      data.comm.push_back(static_cast<double>(100 * u + id));  // unique, to check edge bundles survive prune
    }
    return id;
  }
};

// The op semantics and liveness policy of `expr`, for any graph type.
template <class G>
struct expr_semantics {
  using vertex = typename boost::graph_traits<G>::vertex_descriptor;
  const G& g;
  const expr& e;
  std::vector<double> value = e.value;
  double limit = 1e300;  // fold declines larger results

  std::size_t idx(vertex v) const { return get(get(boost::vertex_index, g), v); }
  bool is_constant(vertex v) const { return e.ops[idx(v)] == op::constant; }
  bool is_foldable(vertex v) const {
    const op o = e.ops[idx(v)];
    return o == op::add || o == op::mul || o == op::sub || o == op::print;  // print lies: it has side effects
  }
  bool has_side_effects(vertex v) const { return e.ops[idx(v)] == op::print; }
  bool is_output(vertex v) const { return e.output[idx(v)] != 0; }
  bool fold(vertex v) {
    std::vector<std::size_t> in;
    for (auto [it, end] = in_edges(v, g); it != end; ++it) in.push_back(idx(source(*it, g)));
    std::sort(in.begin(), in.end());
    double r = 0;
    switch (e.ops[idx(v)]) {
      case op::add: r = value[in.at(0)] + value[in.at(1)]; break;
      case op::mul: r = value[in.at(0)] * value[in.at(1)]; break;
      case op::sub: r = value[in.at(0)] - value[in.at(1)]; break;
      default: FAIL("fold called on a vertex that is not foldable");
    }
    if (std::abs(r) > limit) return false;
    value[idx(v)] = r;
    return true;
  }
};

//   0: 2   1: 3   2: x   3: 0+1   4: 3*x   5: 0-3   6: 5*1   7: rand(0)   8: 7+1 (out)
//   9: print(6)   10: 0+1 (dead)   11: x-0 (dead)   12: 4+6 (out)
expr sample() {
  expr e;
  e.add(op::constant, {}, 2);
  e.add(op::constant, {}, 3);
  e.add(op::input);
  e.add(op::add, {0, 1});
  e.add(op::mul, {3, 2});
  e.add(op::sub, {3, 0});
  e.add(op::mul, {5, 1});
  e.add(op::rand, {0});
  e.add(op::add, {7, 1}, 0, true);
  e.add(op::print, {6});
  e.add(op::add, {0, 1});
  e.add(op::sub, {2, 0});
  e.add(op::add, {4, 6}, 0, true);
  return e;
}

std::vector<std::size_t> set_of(const std::vector<char>& mask) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < mask.size(); ++i)
    if (mask[i]) out.push_back(i);
  return out;
}

using idx = std::vector<std::size_t>;

// r feeds `chains` chains of two expensive vertices; every edge costs 50.
// With one chain per worker only cloning r avoids a hand-off.
dfgpar::dag_data fan_out(std::size_t chains, std::size_t cheap_prefix = 1) {
  std::vector<double> cost(cheap_prefix, 1.0);
  std::vector<std::pair<std::size_t, std::size_t>> edges;
  for (std::size_t i = 1; i < cheap_prefix; ++i) edges.emplace_back(i - 1, i);
  for (std::size_t c = 0; c < chains; ++c) {
    const std::size_t a = cost.size();
    cost.push_back(100);
    cost.push_back(100);
    edges.emplace_back(cheap_prefix - 1, a);
    edges.emplace_back(a, a + 1);
  }
  return make_dag(cost, edges, std::vector<double>(edges.size(), 50.0));
}

}  // namespace

static_assert(dfgpar::op_semantics<expr_semantics<vec_graph>, vec_graph>);
static_assert(dfgpar::liveness_semantics<expr_semantics<vec_graph>, vec_graph>);
static_assert(!dfgpar::op_semantics<int, vec_graph>);
static_assert(!dfgpar::liveness_semantics<dfgpar::clone_all, vec_graph>);
static_assert(dfgpar::clone_policy<dfgpar::clone_all, csr_graph>);
static_assert(dfgpar::clone_policy<dfgpar::clone_none, list_graph>);
static_assert(dfgpar::clone_policy<dfgpar::clone_if_cheaper_than<dfgpar::detail::unit_cost>, vec_graph>);
static_assert(!dfgpar::clone_policy<expr_semantics<vec_graph>, vec_graph>);

TEST_CASE_TEMPLATE("[dfgpar] constant folding: known answer", G, DFGPAR_GRAPH_TYPES) {
  const expr e = sample();
  const G g = build<G>(e.data);
  expr_semantics<G> sem{g, e};
  const auto constant = dfgpar::fold_constants(g, sem);
  // rand (7) is not foldable, x (2) is an input, print (9) has side effects
  CHECK(set_of(constant) == idx{0, 1, 3, 5, 6, 10});
  CHECK(sem.value[3] == 5);
  CHECK(sem.value[5] == -3);
  CHECK(sem.value[6] == -9);
  CHECK(sem.value[10] == 5);
  CHECK(sem.value[9] == 0);  // never evaluated
}

TEST_CASE_TEMPLATE("[dfgpar] constant folding: a declined fold stops the propagation", G, DFGPAR_GRAPH_TYPES) {
  const expr e = sample();
  const G g = build<G>(e.data);
  expr_semantics<G> sem{g, e};
  sem.limit = 4;  // 0+1 = 5 is "too large"
  CHECK(set_of(dfgpar::fold_constants(g, sem)) == idx{0, 1});
}

TEST_CASE("[dfgpar] constant folding: a chain folds in topological order whatever the vertex numbering") {
  // 3 = 2 * 1 (=2*(0-4)), 4: const 10, 0: const 7, 1 = 0 - 4 -> -3, 2: const 2 -> 3 = -6
  expr e;
  e.add(op::constant, {}, 7);  // 0
  e.add(op::constant, {}, 0);  // 1, rewired below
  e.add(op::constant, {}, 2);  // 2
  e.add(op::constant, {}, 0);  // 3, rewired below
  e.add(op::constant, {}, 10);  // 4
  e.ops[1] = op::sub, e.ops[3] = op::mul;
  e.data.edges = {{0, 1}, {4, 1}, {1, 3}, {2, 3}};
  e.data.comm.assign(4, 0);
  e.output[3] = 1;
  const auto g = build<vec_graph>(e.data);
  expr_semantics<vec_graph> sem{g, e};
  CHECK(set_of(dfgpar::fold_constants(g, sem)) == idx{0, 1, 2, 3, 4});
  CHECK(sem.value[1] == -3);
  CHECK(sem.value[3] == -6);
}

TEST_CASE_TEMPLATE("[dfgpar] dead code: outputs, side effects and what they read", G, DFGPAR_GRAPH_TYPES) {
  const expr e = sample();
  const G g = build<G>(e.data);
  expr_semantics<G> sem{g, e};
  // without folding only the two unused vertices are dead
  CHECK(set_of(dfgpar::live_vertices(g, sem)) == idx{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12});
  // with folding the inputs of folded 6 (5, and 5's inputs) are not needed; 9 (print) stays
  const auto constant = dfgpar::fold_constants(g, sem);
  CHECK(set_of(dfgpar::live_vertices(g, sem, constant)) == idx{0, 1, 2, 3, 4, 6, 7, 8, 9, 12});
  CHECK_THROWS_AS(dfgpar::live_vertices(g, sem, std::vector<char>(3, 0)), dfgpar::graph_error);
}

TEST_CASE("[dfgpar] dead code: a side effect keeps its inputs even when folded by a careless mask") {
  expr e;
  e.add(op::constant, {}, 1);
  e.add(op::add, {0, 0});  // a self-sum written as two edges
  e.add(op::print, {1});
  const auto g = build<vec_graph>(e.data);
  expr_semantics<vec_graph> sem{g, e};
  const std::vector<char> all_known(3, 1);
  CHECK(set_of(dfgpar::live_vertices(g, sem, all_known)) == idx{1, 2});  // 1 is known, so 0 is not needed
  CHECK(set_of(dfgpar::live_vertices(g, sem)) == idx{0, 1, 2});
}

TEST_CASE_TEMPLATE("[dfgpar] prune: index maps, bundles, and folded vertices become sources", G, DFGPAR_GRAPH_TYPES) {
  const expr e = sample();
  const G g = build<G>(e.data);
  expr_semantics<G> sem{g, e};
  const auto constant = dfgpar::fold_constants(g, sem);
  const auto live = dfgpar::live_vertices(g, sem, constant);
  const auto p = dfgpar::prune(g, live, constant);
  using P = std::remove_cvref_t<decltype(p)>;
  static_assert(std::is_same_v<decltype(p.graph), dfgpar::pruned_graph_t<G>>);
  REQUIRE(num_vertices(p.graph) == 10);
  CHECK(p.old_index == idx{0, 1, 2, 3, 4, 6, 7, 8, 9, 12});
  REQUIRE(p.new_index.size() == 13);
  for (std::size_t k = 0; k < p.old_index.size(); ++k) CHECK(p.new_index[p.old_index[k]] == k);
  CHECK(p.new_index[5] == P::npos);
  CHECK(p.new_index[10] == P::npos);
  CHECK(p.new_index[11] == P::npos);
  // kept edges: 3->4, 2->4, 0->7, 7->8, 1->8, 6->9, 4->12, 6->12 (edges into folded 3 and 6 dropped)
  std::vector<std::pair<std::size_t, std::size_t>> edges;
  for (auto [it, end] = boost::edges(p.graph); it != end; ++it) {
    const std::size_t u = p.old_index[source(*it, p.graph)], v = p.old_index[target(*it, p.graph)];
    edges.emplace_back(u, v);
    CHECK(p.graph[*it].comm == static_cast<double>(100 * u + v));
  }
  std::sort(edges.begin(), edges.end());
  CHECK(edges == std::vector<std::pair<std::size_t, std::size_t>>{{0, 7}, {1, 8}, {2, 4}, {3, 4}, {4, 12}, {6, 9}, {6, 12}, {7, 8}});
  CHECK(in_degree(p.new_index[3], p.graph) == 0);
  CHECK(in_degree(p.new_index[6], p.graph) == 0);
  for (std::size_t k = 0; k < p.old_index.size(); ++k) CHECK(p.graph[k].cost == e.data.cost[p.old_index[k]]);
  // the pruned graph is a dataflow graph the pipeline accepts
  const auto s = dfgpar::parallelize(p.graph, cost_map(p.graph), comm_map(p.graph), dfgpar::options{.workers = 2});
  CHECK(dfgpar::validate(p.graph, s));
  CHECK_THROWS_AS(dfgpar::prune(g, std::vector<char>(2, 1)), dfgpar::graph_error);
}

TEST_CASE_TEMPLATE("[dfgpar] cloning: a cheap shared input reaches the optimum", G, DFGPAR_GRAPH_TYPES) {
  // r -> a1 -> a2 and r -> b1 -> b2, w(r) = 1, chains 100 each, edges 50, P = 2.
  // Without cloning one chain waits 50 for r's value: best 1 + 50 + 200 = 251.
  // With r on both workers both chains start at 1: 201 = CP, optimal.
  const G g = build<G>(fan_out(2));
  const auto cost = cost_map(g);
  const auto comm = comm_map(g);
  const auto plain = dfgpar::parallelize(g, cost, comm, dfgpar::options{.workers = 2});
  CHECK(dfgpar::makespan(g, plain, cost, comm) == 251);
  CHECK(plain.num_copies() == 5);

  const auto cloned = dfgpar::clone_vertices(g, plain, cost, comm, dfgpar::clone_all{});
  CHECK(dfgpar::validation_error(g, cloned) == "");
  CHECK(dfgpar::makespan(g, cloned, cost, comm) == 201);
  CHECK(cloned.num_copies() == 6);
  CHECK(cloned.num_cross_worker_edges() == 0);

  // the pipeline: .clone = true uses the default policy (cost below half the mean: r qualifies)
  dfgpar::merge_report report;
  const auto piped = dfgpar::parallelize(g, cost, comm, dfgpar::options{.workers = 2, .clone = true, .report = &report});
  CHECK(dfgpar::validate(g, piped));
  CHECK(dfgpar::makespan(g, piped, cost, comm) == 201);
  CHECK(report.makespan == 201);
  CHECK(report.heuristic.find("cloning") != std::string::npos);

  // an explicit policy turns cloning on; clone_none and a too low threshold leave the schedule alone
  CHECK(dfgpar::makespan(g, dfgpar::parallelize(g, cost, comm, dfgpar::options{.workers = 2}, dfgpar::clone_all{}), cost, comm) == 201);
  CHECK(dfgpar::makespan(g, dfgpar::parallelize(g, cost, comm, dfgpar::options{.workers = 2}, dfgpar::clone_none{}), cost, comm) == 251);
  CHECK(dfgpar::makespan(g, dfgpar::parallelize(g, cost, comm, dfgpar::options{.workers = 2},
                                                dfgpar::clone_if_cheaper_than{1.0, cost}), cost, comm) == 251);
  CHECK(dfgpar::makespan(g, dfgpar::parallelize(g, cost, comm, dfgpar::options{.workers = 2},
                                                dfgpar::clone_if_cheaper_than{2.0, cost}), cost, comm) == 201);
  CHECK(dfgpar::clone_vertices(g, plain, cost, comm, dfgpar::clone_none{}).num_copies() == 5);
}

TEST_CASE("[dfgpar] cloning: three workers waiting on one value") {
  // Only the second copy shortens the makespan; the first must be kept for its
  // effect on the other workers' finish times.
  const auto g = build<vec_graph>(fan_out(3));
  const auto plain = dfgpar::parallelize(g, cost_map(g), comm_map(g), dfgpar::options{.workers = 3});
  CHECK(dfgpar::makespan(g, plain, cost_map(g), comm_map(g)) == 251);
  const auto cloned = dfgpar::clone_vertices(g, plain, cost_map(g), comm_map(g), dfgpar::clone_all{});
  CHECK(dfgpar::validate(g, cloned));
  CHECK(dfgpar::makespan(g, cloned, cost_map(g), comm_map(g)) == 201);
  CHECK(cloned.num_copies() == 7 + 2);
}

TEST_CASE("[dfgpar] cloning: a cheap chain is cloned as a group") {
  // r0 -> r1 -> chains. A copy of r1 alone would read r0 remotely and gain
  // nothing; r0 and r1 together make both chains start at 2: 202 = CP.
  const auto g = build<vec_graph>(fan_out(2, 2));
  const auto cost = cost_map(g);
  const auto comm = comm_map(g);
  const auto plain = dfgpar::parallelize(g, cost, comm, dfgpar::options{.workers = 2});
  CHECK(dfgpar::makespan(g, plain, cost, comm) == 252);
  const auto cloned = dfgpar::clone_vertices(g, plain, cost, comm, dfgpar::clone_all{});
  CHECK(dfgpar::validate(g, cloned));
  CHECK(dfgpar::makespan(g, cloned, cost, comm) == 202);
  CHECK(cloned.num_copies() == 8);
  // with groups of one vertex it cannot get there
  const auto single = dfgpar::clone_vertices(g, plain, cost, comm, dfgpar::clone_all{}, dfgpar::clone_options{.max_group = 1});
  CHECK(dfgpar::makespan(g, single, cost, comm) == 252);
  CHECK(single.num_copies() == 6);
}

TEST_CASE("[dfgpar] cloning: an invalid input schedule is reported") {
  const auto g = build<vec_graph>(fan_out(2));
  dfgpar::schedule s;
  s.workers = 2;
  s.clusters = {{0, {0, 1, 2}}};  // 3 and 4 missing
  CHECK_THROWS_AS(dfgpar::clone_vertices(g, s, cost_map(g), comm_map(g), dfgpar::clone_all{}), dfgpar::graph_error);
}

TEST_CASE_TEMPLATE("[dfgpar] cloning never makes a schedule worse (200 random DAGs with communication)", G,
                   DFGPAR_GRAPH_TYPES) {
  std::size_t helped = 0;
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    CAPTURE(seed);
    const std::size_t n = 8 + seed % 53;
    const double ratio = 0.1 + static_cast<double>(seed % 7) * 0.3;
    const auto d = dfgpar::random_dag({.vertices = n, .out_degree = 2.5, .comm_ratio = ratio, .seed = seed});
    const G g = build<G>(d);
    const auto cost = cost_map(g);
    const auto comm = comm_map(g);
    const dfgpar::options o{.workers = 2 + seed % 3, .effort = 0};
    const auto plain = dfgpar::parallelize(g, cost, comm, o);
    const double before = dfgpar::makespan(g, plain, cost, comm);

    const auto cloned = dfgpar::clone_vertices(g, plain, cost, comm, dfgpar::clone_all{});
    REQUIRE(dfgpar::validation_error(g, cloned) == "");
    CHECK(cloned.num_copies() >= n);
    const double after = dfgpar::makespan(g, cloned, cost, comm);
    CHECK(after <= before);
    CHECK(after >= dfgpar::compute_bounds(g, cost, o.workers).critical_path);
    helped += after < before ? 1 : 0;

    // the pipeline with the default policy: same merge, so never worse either
    const auto piped = dfgpar::parallelize(g, cost, comm, dfgpar::options{.workers = o.workers, .clone = true, .effort = 0});
    REQUIRE(dfgpar::validate(g, piped));
    CHECK(dfgpar::makespan(g, piped, cost, comm) <= before);
  }
  MESSAGE("cloning shortened " << helped << " of 200 schedules");
  CHECK(helped > 0);
}
