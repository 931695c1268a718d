// Time of `dfgpar::parallelize` on seeded random DAGs of growing size
// (average out-degree 4, no edge costs), the way a user calls it: a Boost CSR
// graph and a cost property map. Per size and P it prints the medians of
// repeated runs of the whole call, in wall time and in CPU time of this
// process (the machine may be shared: CPU time is what the call costs, wall
// time what the user waits), the breakdown into the phases `merge_report`
// records, and, separately, what the linear clustering alone takes (it runs
// inside the call only when a heuristic needs it: with edge costs, or when
// Graham's list schedule misses the lower bound). The load average is printed
// before and after.
//
//   clustering_speed [--workers P[,P...]] [--reps R] [--min-vertices N] [--max-vertices N]
//
// Defaults: P = 2,4,8,16, R = 5, sizes 1000 to 1000000 (x10).

#include <dfgpar/dfgpar.hpp>

#include <boost/graph/compressed_sparse_row_graph.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace {

struct vprop {
  double cost = 0;
};
using graph = boost::compressed_sparse_row_graph<boost::bidirectionalS, vprop>;

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double cpu_ms() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return (static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-3;
}

std::string loadavg() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  if (!(f >> a >> b >> c)) return "unknown";
  return a + " " + b + " " + c;
}

std::vector<std::size_t> parse_list(const char* s) {
  std::vector<std::size_t> out;
  std::string cur;
  for (const char* p = s;; ++p) {
    if (*p == ',' || *p == 0) {
      if (!cur.empty()) out.push_back(std::strtoull(cur.c_str(), nullptr, 10));
      cur.clear();
      if (*p == 0) break;
    } else {
      cur += *p;
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::size_t> workers{2, 4, 8, 16};
  std::size_t reps = 5, min_n = 1000, max_n = 1'000'000;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "clustering_speed: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--workers") workers = parse_list(next());
    else if (a == "--reps") reps = std::strtoull(next(), nullptr, 10);
    else if (a == "--min-vertices") min_n = std::strtoull(next(), nullptr, 10);
    else if (a == "--max-vertices") max_n = std::strtoull(next(), nullptr, 10);
    else {
      std::fprintf(stderr, "usage: clustering_speed [--workers P[,P...]] [--reps R] [--min-vertices N] [--max-vertices N]\n");
      return 2;
    }
  }
  if (workers.empty() || reps == 0 || std::find(workers.begin(), workers.end(), std::size_t{0}) != workers.end()) {
    std::fprintf(stderr, "clustering_speed: --workers and --reps must be positive\n");
    return 2;
  }
  std::printf("random DAGs, average out-degree 4, no edge costs; dfgpar::parallelize(g, cost, options{.workers = P})\n");
  std::printf("median of %zu runs; load average before: %s\n", reps, loadavg().c_str());
  std::printf("%8s %8s %3s | %8s %8s %9s | %s\n", "V", "E", "P", "wall ms", "CPU ms", "ns/(V+E)", "phases (median wall ms)");
  for (std::size_t n = min_n; n <= max_n; n *= 10) {
    const auto data = dfgpar::random_dag({.vertices = n, .out_degree = 4, .seed = 42});
    graph g(boost::edges_are_unsorted_multi_pass, data.edges.begin(), data.edges.end(), n);
    for (std::size_t v = 0; v < n; ++v) g[v].cost = data.cost[v];
    const auto cost = get(&vprop::cost, g);
    for (std::size_t P : workers) {
      std::vector<double> wall, cpu;
      std::vector<std::string> order;
      std::map<std::string, std::vector<double>> phases;
      dfgpar::merge_report rep;
      for (std::size_t k = 0; k < reps; ++k) {
        const double c0 = cpu_ms();
        const auto t0 = std::chrono::steady_clock::now();
        const auto s = dfgpar::parallelize(g, cost, dfgpar::options{.workers = P, .report = &rep});
        wall.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        cpu.push_back(cpu_ms() - c0);
        if (s.num_vertices != n) std::abort();
        for (const auto& [name, ms] : rep.phase_ms) {
          if (!phases.contains(name)) order.push_back(name);
          phases[name].push_back(ms);
        }
      }
      std::string ph;
      for (const auto& name : order) {
        char buf[96];
        std::snprintf(buf, sizeof buf, "%s%s %.1f", ph.empty() ? "" : ", ", name.c_str(), median(phases[name]));
        ph += buf;
      }
      std::printf("%8zu %8zu %3zu | %8.1f %8.1f %9.1f | %s; makespan/LB %.4f (%s)\n", n, data.edges.size(), P, median(wall),
                  median(cpu), median(wall) * 1e6 / static_cast<double>(n + data.edges.size()), ph.c_str(),
                  rep.makespan / rep.lower_bound, rep.heuristic.c_str());
      std::fflush(stdout);
    }
    // The clustering alone (what a call pays on top when a heuristic needs it).
    const auto d = dfgpar::detail::make_flat_dag(g, cost, dfgpar::no_edge_cost{});
    const auto lv = dfgpar::detail::compute_levels(d);
    std::vector<double> wall, cpu;
    std::size_t clusters = 0;
    for (std::size_t k = 0; k < reps; ++k) {
      const double c0 = cpu_ms();
      const auto t0 = std::chrono::steady_clock::now();
      clusters = dfgpar::detail::linear_clustering(d, lv).clusters.size();
      wall.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      cpu.push_back(cpu_ms() - c0);
    }
    std::printf("%8zu %8zu   - | %8.1f %8.1f %9.1f | linear clustering alone (%zu clusters)\n", n, data.edges.size(),
                median(wall), median(cpu), median(wall) * 1e6 / static_cast<double>(n + data.edges.size()), clusters);
    std::fflush(stdout);
  }
  std::printf("load average after: %s\n", loadavg().c_str());
}
