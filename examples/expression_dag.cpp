// The three generic passes on a non-ML dataflow graph: an arithmetic
// expression DAG over two variables x and y.
//
//   1. constant folding: a semantics policy evaluates + * - on constants;
//   2. dead-code elimination: subexpressions no output needs are dropped
//      (a `print` with a side effect stays), then the graph is rebuilt;
//   3. parallelize with cloning: the cheap shared subexpression s = x + y is
//      copied onto both workers so neither branch waits for it;
// then the schedule runs on dfgpar::cluster_executor and the result is
// checked against evaluating the original expression directly.

#include <dfgpar/dfgpar.hpp>
#include <dfgpar/exec/cluster_executor.hpp>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/topological_sort.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <map>
#include <string>
#include <vector>

namespace {

enum class kind { constant, variable, add, sub, mul, print };

struct node {
  kind op = kind::constant;
  double value = 0;    // constants
  std::string name;    // variables, outputs and for printing
  double cost = 0;     // time units
  bool output = false;
};
struct operand {
  int slot = 0;       // 0: left, 1: right
  double comm = 0;    // time to hand the value to another worker
};

using expr_graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, node, operand>;
using vertex = boost::graph_traits<expr_graph>::vertex_descriptor;

constexpr double hand_off = 3;  // communication cost of every edge

struct builder {
  expr_graph g;
  vertex constant(double v) { return add_vertex(node{kind::constant, v, fmt(v), 0, false}, g); }
  vertex variable(std::string n) { return add_vertex(node{kind::variable, 0, std::move(n), 0, false}, g); }
  vertex op(kind k, std::string n, vertex a, vertex b) {
    const vertex v = add_vertex(node{k, 0, std::move(n), k == kind::mul ? 4.0 : 1.0, false}, g);
    add_edge(a, v, operand{0, hand_off}, g);
    add_edge(b, v, operand{1, hand_off}, g);
    return v;
  }
  vertex print(vertex a) {
    const vertex v = add_vertex(node{kind::print, 0, "print", 1, false}, g);
    add_edge(a, v, operand{0, hand_off}, g);
    return v;
  }
  static std::string fmt(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%g", v);
    return b;
  }
};

double apply(kind k, double a, double b) {
  switch (k) {
    case kind::add: return a + b;
    case kind::sub: return a - b;
    case kind::mul: return a * b;
    default: return a;
  }
}

/// The op semantics (constant folding) and liveness policy (dead code) of
/// expression graphs: values are kept by vertex index.
struct arith_semantics {
  const expr_graph& g;
  std::vector<double> value = std::vector<double>(num_vertices(g), 0.0);

  bool is_constant(vertex v) const { return g[v].op == kind::constant; }
  bool is_foldable(vertex v) const { return g[v].op == kind::add || g[v].op == kind::sub || g[v].op == kind::mul; }
  bool has_side_effects(vertex v) const { return g[v].op == kind::print; }
  bool is_output(vertex v) const { return g[v].output; }
  bool fold(vertex v) {
    std::array<double, 2> in{};
    for (auto [e, end] = in_edges(v, g); e != end; ++e) {
      const vertex u = source(*e, g);
      in[g[*e].slot] = g[u].op == kind::constant ? g[u].value : value[u];
    }
    value[v] = apply(g[v].op, in[0], in[1]);
    return std::abs(value[v]) < 1e15;  // keep only constants that print exactly
  }
};

/// Which vertices parallelize may copy: cheap ones without side effects.
struct clone_cheap_pure {
  const expr_graph& g;
  bool may_clone(vertex v) const { return g[v].op != kind::print && g[v].cost <= 1; }
};

/// Direct, serial evaluation of a whole expression graph (the reference).
std::vector<double> evaluate(const expr_graph& g, const std::map<std::string, double>& vars) {
  std::vector<vertex> order;
  boost::topological_sort(g, std::back_inserter(order));
  std::vector<double> val(num_vertices(g), 0.0);
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const vertex v = *it;
    std::array<double, 2> in{};
    for (auto [e, end] = in_edges(v, g); e != end; ++e) in[g[*e].slot] = val[source(*e, g)];
    switch (g[v].op) {
      case kind::constant: val[v] = g[v].value; break;
      case kind::variable: val[v] = vars.at(g[v].name); break;
      case kind::print: val[v] = in[0]; break;
      default: val[v] = apply(g[v].op, in[0], in[1]);
    }
  }
  return val;
}

std::string label(const expr_graph& g, vertex v) {
  const node& n = g[v];
  if (n.op == kind::constant) return n.name == builder::fmt(n.value) ? n.name : n.name + "=" + builder::fmt(n.value);
  return n.name;
}

}  // namespace

int main() {
  // out  = (((s*k2)*s - x) * k1) - ((((s*y) - k2) * (s*y)) + s)   with s = x + y,
  //        k1 = 2*3, k2 = k1 + 4 (both constant)
  // kk   = k2 * k1                                              (a constant output)
  // print(k2)                                                   (a side effect)
  // dead = (x * k1) - y,  unused = 3 + 4                         (nobody reads them)
  builder b;
  const vertex x = b.variable("x"), y = b.variable("y");
  const vertex c2 = b.constant(2), c3 = b.constant(3), c4 = b.constant(4);
  const vertex k1 = b.op(kind::mul, "k1", c2, c3);
  const vertex k2 = b.op(kind::add, "k2", k1, c4);
  const vertex s = b.op(kind::add, "s", x, y);
  const vertex a1 = b.op(kind::mul, "a1", s, k2);
  const vertex a2 = b.op(kind::mul, "a2", a1, s);
  const vertex a3 = b.op(kind::sub, "a3", a2, x);
  const vertex a4 = b.op(kind::mul, "a4", a3, k1);
  const vertex b1 = b.op(kind::mul, "b1", s, y);
  const vertex b2 = b.op(kind::sub, "b2", b1, k2);
  const vertex b3 = b.op(kind::mul, "b3", b2, b1);
  const vertex b4 = b.op(kind::add, "b4", b3, s);
  const vertex out = b.op(kind::sub, "out", a4, b4);
  const vertex kk = b.op(kind::mul, "kk", k2, k1);
  b.print(k2);
  const vertex dead = b.op(kind::mul, "dead", x, k1);
  b.op(kind::sub, "dead2", dead, y);
  b.op(kind::add, "unused", c3, c4);
  b.g[out].output = b.g[kk].output = true;
  const expr_graph& g = b.g;
  std::printf("expression graph: %zu vertices, %zu edges\n", num_vertices(g), num_edges(g));

  // 1. constant folding
  arith_semantics sem{g};
  const std::vector<char> constant = dfgpar::fold_constants(g, sem);
  std::printf("\nconstant folding:");
  for (vertex v = 0; v < num_vertices(g); ++v)
    if (constant[v] && g[v].op != kind::constant) std::printf(" %s=%g", g[v].name.c_str(), sem.value[v]);
  std::printf("\n");

  // 2. dead-code elimination, then rebuild: folded vertices become constants
  const std::vector<char> live = dfgpar::live_vertices(g, sem, constant);
  std::printf("dead code:");
  for (vertex v = 0; v < num_vertices(g); ++v)
    if (!live[v]) std::printf(" %s", label(g, v).c_str());
  std::printf("\n");
  auto pruned = dfgpar::prune(g, live, constant);
  expr_graph& h = pruned.graph;
  for (vertex v = 0; v < num_vertices(h); ++v) {
    const vertex old = pruned.old_index[v];
    if (constant[old] && g[old].op != kind::constant) h[v] = node{kind::constant, sem.value[old], g[old].name, 0, g[old].output};
  }
  // constants are known before the run and shared: handing them over is free
  for (auto [e, end] = edges(h); e != end; ++e)
    if (h[source(*e, h)].op == kind::constant) h[*e].comm = 0;
  std::printf("after the passes: %zu vertices, %zu edges (was %zu, %zu)\n", num_vertices(h), num_edges(h),
              num_vertices(g), num_edges(g));

  // 3. parallelize on 2 workers, with and without cloning
  const auto cost = get(&node::cost, h);
  const auto comm = get(&operand::comm, h);
  const dfgpar::options o{.workers = 2};
  const dfgpar::schedule plain = dfgpar::parallelize(h, cost, comm, o);
  const dfgpar::schedule sched = dfgpar::parallelize(h, cost, comm, o, clone_cheap_pure{h});
  const auto bounds = dfgpar::compute_bounds(h, cost, o.workers);
  std::printf("\nschedule (%zu vertex copies for %zu vertices, %zu cross-worker edges):\n", sched.num_copies(),
              num_vertices(h), sched.num_cross_worker_edges());
  for (std::size_t w = 0; w < sched.workers; ++w) {
    std::printf("  worker %zu:", w);
    for (std::size_t c : sched.clusters_of(w))
      for (std::size_t v : sched.clusters[c].vertices)
        std::printf(" %s%s", label(h, v).c_str(), sched.home[v] == c ? "" : "'");
    std::printf("\n");
  }
  std::printf("  (' marks a clone)\n");
  // (cloning runs after merging and does not reorder: here `print` stays ahead of `out` on worker 0)
  std::printf("makespan: %g without cloning, %g with cloning; lower bound max(CP, W/P) = %g, serial W = %g\n",
              dfgpar::makespan(h, plain, cost, comm), dfgpar::makespan(h, sched, cost, comm), bounds.lower_bound,
              bounds.work);
  if (!dfgpar::validate(h, sched)) return std::printf("invalid schedule: %s\n", dfgpar::validation_error(h, sched).c_str()), 1;

  // 4. run it on the executor: every copy of a vertex runs, so values are kept per (cluster, vertex)
  const std::map<std::string, double> vars{{"x", 1.5}, {"y", -2.0}};
  std::vector<std::vector<double>> val(sched.clusters.size(), std::vector<double>(num_vertices(h), 0.0));
  // info.inputs has one entry per in-edge, ordered by source index: the operand slot of each
  std::vector<std::vector<int>> slots(num_vertices(h));
  for (vertex v = 0; v < num_vertices(h); ++v) {
    std::vector<std::pair<vertex, int>> by_source;
    for (auto [e, end] = in_edges(v, h); e != end; ++e) by_source.emplace_back(source(*e, h), h[*e].slot);
    std::sort(by_source.begin(), by_source.end());
    for (const auto& p : by_source) slots[v].push_back(p.second);
  }
  std::vector<std::string> printed;  // only the one print vertex writes it
  dfgpar::cluster_executor ex(h, sched, [&](vertex v, const dfgpar::task_info& info) {
    const node& n = h[v];
    std::array<double, 2> in{};
    for (std::size_t i = 0; i < info.inputs.size(); ++i) in[slots[v][i]] = val[info.inputs[i].cluster][info.inputs[i].vertex];
    double r = 0;
    switch (n.op) {
      case kind::constant: r = n.value; break;
      case kind::variable: r = vars.at(n.name); break;
      case kind::print: r = in[0], printed.push_back("print: " + builder::fmt(in[0])); break;
      default: r = apply(n.op, in[0], in[1]);
    }
    val[info.cluster][v] = r;
  });
  ex.run();
  for (const auto& line : printed) std::printf("\n%s (from the executor)\n", line.c_str());

  const std::vector<double> want = evaluate(g, vars);
  bool ok = true;
  std::printf("x = %g, y = %g\n", vars.at("x"), vars.at("y"));
  for (vertex v = 0; v < num_vertices(h); ++v) {
    if (!h[v].output) continue;
    const double got = val[sched.home[v]][v], expected = want[pruned.old_index[v]];
    std::printf("  %-4s executor %-10g direct evaluation %-10g %s\n", h[v].name.c_str(), got, expected,
                got == expected ? "ok" : "MISMATCH");
    ok = ok && got == expected;
  }
  return ok ? 0 : 1;
}
