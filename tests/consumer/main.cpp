// Uses dfgpar as an installed package: a diamond-shaped dataflow graph,
// its critical path, and a 2-worker schedule that must be valid.
#include <dfgpar/dfgpar.hpp>

#include <boost/graph/adjacency_list.hpp>

#include <cstdio>

int main() {
  struct op {
    double cost = 0;
  };
  using graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, op>;
  // 0 -> {1, 2} -> 3, costs 1, 4, 2, 1: the critical path is 0 1 3 (length 6).
  graph g(4);
  const double costs[] = {1, 4, 2, 1};
  for (std::size_t v = 0; v < 4; ++v) g[v].cost = costs[v];
  add_edge(0, 1, g);
  add_edge(0, 2, g);
  add_edge(1, 3, g);
  add_edge(2, 3, g);
  const auto cost = get(&op::cost, g);

  const auto cp = dfgpar::critical_path(g, cost);
  const auto s = dfgpar::parallelize(g, cost, dfgpar::options{.workers = 2});
  const bool ok = cp.length == 6.0 && cp.vertices.size() == 3 && cp.vertices[1] == 1 && dfgpar::validate(g, s) &&
                  dfgpar::makespan(g, s, cost) >= cp.length;
  std::printf("dfgpar consumer: critical path %.1f over %zu vertices, makespan %.1f on 2 workers: %s\n", cp.length,
              cp.vertices.size(), dfgpar::makespan(g, s, cost), ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
}
