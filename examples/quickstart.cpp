// The README's API example, kept compiling: a small dataflow graph as a
// Boost adjacency_list, clustered onto 2 workers and run on the executor.

#include <dfgpar/dfgpar.hpp>

#include <boost/graph/adjacency_list.hpp>

#include <atomic>
#include <cstdio>

struct op {
  const char* name;
  double cost;  // µs, or any unit
};
using graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, op>;

int main() {
  graph g;
  auto in = add_vertex({"input", 1}, g);
  auto a1 = add_vertex({"conv_a1", 40}, g), a2 = add_vertex({"conv_a2", 40}, g);
  auto b1 = add_vertex({"conv_b1", 30}, g), b2 = add_vertex({"conv_b2", 50}, g);
  auto cat = add_vertex({"concat", 2}, g);
  add_edge(in, a1, g), add_edge(a1, a2, g), add_edge(a2, cat, g);
  add_edge(in, b1, g), add_edge(b1, b2, g), add_edge(b2, cat, g);

  auto cost = get(&op::cost, g);
  auto cp = dfgpar::critical_path(g, cost);                                // 83: input, conv_b1, conv_b2, concat
  auto s = dfgpar::parallelize(g, cost, dfgpar::options{.workers = 2});   // clusters mapped onto 2 workers
  std::printf("CP %.0f, makespan %.0f on 2 workers (serial %.0f), valid: %d\n", cp.length,
              dfgpar::makespan(g, s, cost), dfgpar::compute_bounds(g, cost, 1).work, dfgpar::validate(g, s));
  for (const auto& c : s.clusters) {
    std::printf("worker %zu:", c.worker);
    for (auto v : c.vertices) std::printf(" %s", g[v].name);
    std::printf("\n");
  }

  std::atomic<int> ran{0};
  dfgpar::cluster_executor ex(g, s, [&](auto v) { ran += g[v].cost > 0; });  // persistent jthreads
  for (int i = 0; i < 1000; ++i) ex.run();                                   // reused by every run
  std::printf("ran %d tasks\n", ran.load());
  return ran == 6000 ? 0 : 1;
}
