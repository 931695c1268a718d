// Time of the compile-time pipeline on seeded random DAGs of growing size
// (average out-degree 4): conversion to the flat form, critical-path linear
// clustering, merging onto P workers. Prints medians over repeated runs, in
// ms and in ns per (V+E).
//
//   clustering_speed [--workers P] [--reps R] [--max-vertices N]

#include <dfgpar/dfgpar.hpp>

#include <boost/graph/compressed_sparse_row_graph.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct vprop {
  double cost = 0;
};
using graph = boost::compressed_sparse_row_graph<boost::bidirectionalS, vprop>;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

template <class F>
double time_ms(F&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t workers = 4, reps = 5, max_n = 1'000'000;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::size_t {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "clustering_speed: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return std::strtoull(argv[++i], nullptr, 10);
    };
    if (a == "--workers") workers = next();
    else if (a == "--reps") reps = next();
    else if (a == "--max-vertices") max_n = next();
    else {
      std::fprintf(stderr, "usage: clustering_speed [--workers P] [--reps R] [--max-vertices N]\n");
      return 2;
    }
  }
  std::printf("random DAGs, average out-degree 4, P = %zu, median of %zu runs\n", workers, reps);
  std::printf("%10s %10s | %9s %9s %9s %9s | %9s %12s | %8s\n", "V", "E", "flat ms", "cluster", "merge", "total ms",
              "ns/(V+E)", "makespan/LB", "winner");
  for (std::size_t n = 1000; n <= max_n; n *= 10) {
    const auto data = dfgpar::random_dag({.vertices = n, .out_degree = 4, .seed = 42});
    std::vector<vprop> vp(n);
    graph g(boost::edges_are_unsorted_multi_pass, data.edges.begin(), data.edges.end(), n);
    for (std::size_t v = 0; v < n; ++v) g[v].cost = data.cost[v];
    const auto cost = get(&vprop::cost, g);
    std::vector<double> t_flat, t_cluster, t_merge, t_total;
    double ratio = 0;
    std::string winner;
    const std::size_t r = n >= 1'000'000 ? std::max<std::size_t>(1, reps / 2) : reps;
    for (std::size_t k = 0; k < r; ++k) {
      dfgpar::detail::flat_dag d;
      dfgpar::clustering cl;
      t_flat.push_back(time_ms([&] { d = dfgpar::detail::make_flat_dag(g, cost, dfgpar::no_edge_cost{}); }));
      t_cluster.push_back(time_ms([&] { cl = dfgpar::detail::linear_clustering(d); }));
      t_merge.push_back(time_ms([&] {
        auto [s, rep] = dfgpar::detail::merge(d, cl, dfgpar::merge_options{.workers = workers});
        ratio = rep.makespan / rep.lower_bound;
        winner = rep.heuristic;
      }));
      t_total.push_back(time_ms([&] {
        auto s = dfgpar::parallelize(g, cost, dfgpar::options{.workers = workers});
        if (s.num_vertices != n) std::abort();
      }));
    }
    const double total = median(t_total);
    std::printf("%10zu %10zu | %9.2f %9.2f %9.2f %9.2f | %9.1f %12.4f | %s\n", n, data.edges.size(), median(t_flat),
                median(t_cluster), median(t_merge), total, total * 1e6 / static_cast<double>(n + data.edges.size()),
                ratio, winner.c_str());
    std::fflush(stdout);
  }
}
