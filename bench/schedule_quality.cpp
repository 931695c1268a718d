// Schedule quality against optimal schedules, the way the Standard Task Graph
// Set is used (P = 2, 4, 8, 16, no communication costs).
//
// For each graph and P it computes
//   * HLFET: dfgpar::detail::list_schedule_tasks with bottom-level priority;
//   * dfgpar: dfgpar::parallelize with default options;
//   * the optimum, by the exact branch and bound of optimal_solver.hpp (or,
//     where the node limit stops it, the best schedule found and the best
//     proven lower bound),
// and prints per P: graphs, how often each method is optimal, mean and max %
// above the optimum, and the mean time per graph.
//
// Usage:
//   schedule_quality [--n50 N] [--n100 N] [--seed S] [--nodes LIMIT] [--samples DIR] [--verbose] [--independent]
//   schedule_quality --stg FILE...      (evaluate the given STG files instead)
// Defaults: 180 STG-like 50-task graphs (6 methods x 3 time distributions x
// 10 densities, like the 180 graphs per size of the real set), the STG
// samples in tests/data/stg (if present), 60 STG-like 100-task graphs.
// --independent: the exact solver starts from its own HLFET schedule instead of
// the better of HLFET and dfgpar (a cross-check of solver and heuristics:
// the solver must then find the same optima on its own).

#include <dfgpar/dfgpar.hpp>
#include <dfgpar/generate/stg_like.hpp>

#include "optimal_solver.hpp"

#if __has_include(<dfgpar/io/stg.hpp>)
#include <dfgpar/io/stg.hpp>
#define DFGPAR_BENCH_HAVE_STG_IO 1
#else
#include <fstream>
#include <sstream>
#endif

#include <boost/graph/adjacency_list.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace {

struct vprop {
  double cost = 0;
};
using graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, vprop>;

struct named_dag {
  std::string name;
  dfgpar::dag_data data;
};

// Reads an STG file into plain DAG data, dropping the zero-time dummy entry and exit tasks.
dfgpar::dag_data load_stg(const std::string& path) {
  std::size_t n = 0;
  std::vector<double> time;
  std::vector<std::pair<std::size_t, std::size_t>> edges;  // by STG id
#ifdef DFGPAR_BENCH_HAVE_STG_IO
  const dfgpar::stg_graph g = dfgpar::read_stg_file(path);
  n = num_vertices(g);
  for (std::size_t v = 0; v < n; ++v) time.push_back(g[v].time);
  for (auto [e, end] = boost::edges(g); e != end; ++e) edges.emplace_back(source(*e, g), target(*e, g));
#else
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::size_t tasks = 0;
  in >> tasks;
  n = tasks + 2;
  time.assign(n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t id = 0, k = 0;
    double t = 0;
    if (!(in >> id >> t >> k) || id >= n) throw std::runtime_error("bad task line in " + path);
    time[id] = t;
    for (std::size_t j = 0; j < k; ++j) {
      std::size_t p = 0;
      in >> p;
      edges.emplace_back(p, id);
    }
  }
#endif
  // keep tasks with a time, or any task that is not one of the two dummies
  std::vector<std::size_t> index(n, SIZE_MAX);
  dfgpar::dag_data d;
  for (std::size_t v = 0; v < n; ++v)
    if (time[v] != 0 || (v != 0 && v + 1 != n)) index[v] = d.cost.size(), d.cost.push_back(time[v]);
  for (auto [u, v] : edges)
    if (index[u] != SIZE_MAX && index[v] != SIZE_MAX) d.edges.emplace_back(index[u], index[v]), d.comm.push_back(0);
  return d;
}

graph build(const dfgpar::dag_data& d) {
  graph g(d.cost.size());
  for (std::size_t v = 0; v < d.cost.size(); ++v) g[v].cost = d.cost[v];
  for (auto [u, v] : d.edges) add_edge(u, v, g);
  return g;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

struct method_stats {
  std::size_t optimal = 0;  // equal to the best known (proven optimal or not)
  double sum_gap = 0, max_gap = 0, sum_ms = 0;
  void add(double m, double ref, double ms) {
    const double gap = ref > 0 ? 100.0 * (m - ref) / ref : 0.0;
    if (m <= ref + 1e-9) ++optimal;
    sum_gap += gap;
    max_gap = std::max(max_gap, gap);
    sum_ms += ms;
  }
};

struct row {
  std::size_t graphs = 0, proven = 0, above_simple = 0;  // above_simple: best > max(CP, ceil(W/P))
  method_stats hlfet, dfgpar, exact;
  double sum_open_gap = 0;  // unproven: % between best found and proven bound
};

struct config {
  std::size_t n50 = 180, n100 = 60;
  std::uint64_t seed = 1, nodes = 1'000'000;
  std::string samples = "tests/data/stg";
  std::vector<std::string> stg_files;
  bool verbose = false, independent = false;
};

void evaluate(const std::string& title, const std::vector<named_dag>& set, const config& cfg) {
  if (set.empty()) return;
  const std::size_t Ps[] = {2, 4, 8, 16};
  std::printf("\n%s: %zu graphs\n", title.c_str(), set.size());
  std::printf("%4s %6s %7s %6s | %-22s | %-22s | %-15s | %s\n", "P", "graphs", "proven", ">CP,W/P", "HLFET  %opt  mean   max",
              "dfgpar %opt  mean   max", "exact open gap", "ms/graph HLFET dfgpar exact");
  for (std::size_t P : Ps) {
    row r;
    for (const auto& [name, data] : set) {
      const graph g = build(data);
      const auto cost = get(&vprop::cost, g);
      const auto d = dfgpar::detail::make_flat_dag(g, cost, dfgpar::no_edge_cost{});
      // HLFET
      auto t0 = std::chrono::steady_clock::now();
      const auto lv = dfgpar::detail::compute_levels(d);
      const auto hl = dfgpar::detail::list_schedule_tasks(d, P, dfgpar::detail::priority{lv.bottom, {}});
      const double hl_ms = ms_since(t0);
      // dfgpar
      t0 = std::chrono::steady_clock::now();
      const auto s = dfgpar::parallelize(g, cost, dfgpar::options{.workers = P});
      const double df_ms = ms_since(t0);
      if (!dfgpar::validate(g, s)) {
        std::fprintf(stderr, "%s P=%zu: dfgpar schedule invalid\n", name.c_str(), P);
        std::exit(1);
      }
      const auto tm = dfgpar::detail::simulate(d, dfgpar::detail::make_plan(d, s));
      const auto plan = dfgpar::detail::make_plan(d, s);
      std::vector<double> df_start(d.n, 0.0);
      for (std::size_t i = 0; i < plan.steps.size(); ++i) df_start[plan.steps[i].vertex] = tm.start[i];
      const double df = tm.makespan;
      // exact, seeded with the better of the two
      t0 = std::chrono::steady_clock::now();
      std::vector<double> seed_start;
      if (!cfg.independent) seed_start = df <= hl.makespan ? df_start : hl.start;
      const auto ex = dfgpar_bench::solve_exact(d, {.workers = P, .node_limit = cfg.nodes}, seed_start);
      const double ex_ms = ms_since(t0);
      if (dfgpar_bench::check_schedule(d, P, ex.start, ex.worker) != ex.makespan) {
        std::fprintf(stderr, "%s P=%zu: exact schedule invalid\n", name.c_str(), P);
        std::exit(1);
      }
      const double ref = std::min({ex.makespan, hl.makespan, df});  // best known
      if ((ex.optimal && ref < ex.makespan - 1e-9) || ex.lower_bound > ref + 1e-9) {
        std::fprintf(stderr, "%s P=%zu: inconsistent (HLFET %g dfgpar %g exact %g bound %g)\n", name.c_str(), P, hl.makespan, df, ref,
                     ex.lower_bound);
        std::exit(1);
      }
      ++r.graphs;
      r.proven += ex.optimal ? 1 : 0;
      r.above_simple += ref > dfgpar::detail::compute_bounds(d, P).lower_bound + 1e-9 ? 1 : 0;
      if (!ex.optimal) r.sum_open_gap += 100.0 * (ref - ex.lower_bound) / ex.lower_bound;
      r.hlfet.add(hl.makespan, ref, hl_ms);
      r.dfgpar.add(df, ref, df_ms);
      r.exact.add(ref, ref, ex_ms);
      if (cfg.verbose)
        std::printf("  %-28s P=%-2zu HLFET %6g dfgpar %6g best %6g bound %6g %s nodes %llu %.1f ms\n", name.c_str(), P, hl.makespan, df, ref,
                    ex.lower_bound, ex.optimal ? "opt" : "open", static_cast<unsigned long long>(ex.nodes), ex_ms);
    }
    const double G = static_cast<double>(r.graphs);
    auto pct = [&](std::size_t k) { return 100.0 * static_cast<double>(k) / G; };
    std::printf("%4zu %6zu %6.1f%% %6zu | %5.1f%% %6.2f%% %6.2f%% | %5.1f%% %6.2f%% %6.2f%% | %14.2f%% | %8.3f %7.2f %7.2f\n", P, r.graphs,
                pct(r.proven), r.above_simple, pct(r.hlfet.optimal), r.hlfet.sum_gap / G, r.hlfet.max_gap, pct(r.dfgpar.optimal), r.dfgpar.sum_gap / G,
                r.dfgpar.max_gap, r.graphs > r.proven ? r.sum_open_gap / static_cast<double>(r.graphs - r.proven) : 0.0, r.hlfet.sum_ms / G,
                r.dfgpar.sum_ms / G, r.exact.sum_ms / G);
    std::fflush(stdout);
  }
}

}  // namespace

int main(int argc, char** argv) {
  config cfg;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--n50") cfg.n50 = std::stoul(next());
    else if (a == "--n100") cfg.n100 = std::stoul(next());
    else if (a == "--seed") cfg.seed = std::stoull(next());
    else if (a == "--nodes") cfg.nodes = std::stoull(next());
    else if (a == "--samples") cfg.samples = next();
    else if (a == "--verbose") cfg.verbose = true;
    else if (a == "--independent") cfg.independent = true;
    else if (a == "--stg") {
      while (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) cfg.stg_files.push_back(argv[++i]);
    } else {
      std::fprintf(stderr,
                   "usage: %s [--n50 N] [--n100 N] [--seed S] [--nodes LIMIT] [--samples DIR] [--verbose] [--independent] | --stg FILE...\n",
                   argv[0]);
      return 2;
    }
  }
  std::printf("Schedule quality vs optimal (P|prec|Cmax, no communication costs). %% above optimum = 100 (makespan - best) / best,\n"
              "best = the exact solver's schedule (proven optimal in the 'proven' share; else open gap = its distance to the bound).\n"
              "Exact solver node limit %llu.\n",
              static_cast<unsigned long long>(cfg.nodes));
  const auto t0 = std::chrono::steady_clock::now();
  if (!cfg.stg_files.empty()) {
    std::vector<named_dag> set;
    for (const auto& f : cfg.stg_files) set.push_back({f, load_stg(f)});
    evaluate("STG files", set, cfg);
  } else {
    auto suite = [&](std::size_t tasks, std::size_t count) {
      std::vector<named_dag> set;
      for (std::size_t i = 0; i < count; ++i) {
        const auto o = dfgpar::stg_like_suite_entry(tasks, i, cfg.seed);
        set.push_back({std::string(dfgpar::to_string(o.method)) + "/" + dfgpar::to_string(o.cost) + "/" + std::to_string(i), dfgpar::stg_like(o)});
      }
      return set;
    };
    evaluate("STG-like, 50 tasks (seed " + std::to_string(cfg.seed) + ")", suite(50, cfg.n50), cfg);
    std::vector<named_dag> samples;
    if (std::filesystem::is_directory(cfg.samples))
      for (const auto& e : std::filesystem::directory_iterator(cfg.samples))
        if (e.path().extension() == ".stg") samples.push_back({e.path().filename().string(), load_stg(e.path().string())});
    std::sort(samples.begin(), samples.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    evaluate("STG samples in " + cfg.samples, samples, cfg);
    evaluate("STG-like, 100 tasks (seed " + std::to_string(cfg.seed) + ")", suite(100, cfg.n100), cfg);
  }
  std::printf("\ntotal %.1f s\n", ms_since(t0) / 1000);
  return 0;
}
