// Moldable scheduling in simulation: makespans of pure inter-op (every vertex
// on one core, today's parallelize), pure intra-op (every vertex on all P
// cores, in topological order) and dfgpar's moldable schedule, each against
// the lower bound max(CP at the fastest allotments, sum of least work / P),
// on synthetic graphs with Amdahl speed-ups drawn per vertex:
//   STG-style graphs (the six methods of the Standard Task Graph Set),
//   fork-join chains, inception-like blocks, random series-parallel graphs,
//   and chains; at P = 2, 4, 8, 16.
//
//   moldable_schedule [--seeds N] [--time-limit MS] [--verbose]
//
// Prints one line per graph and P with the three makespans over the lower
// bound, then per P and overall: how often moldable <= min(inter, intra),
// and the mean ratios to the lower bound.

#include <dfgpar/dfgpar.hpp>
#include <dfgpar/generate/stg_like.hpp>

#include "graph_types.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace {

using graph = dfgpar_test::vec_graph;

struct workload {
  std::string family, name;
  dfgpar::dag_data dag;
  std::vector<double> serial;  // Amdahl serial fraction per vertex
};

// Most kernels scale well (s in [0, 0.25]); one in five hardly does (s in [0.5, 1]):
// small element-wise operators, pooling, reshapes.
std::vector<double> draw_serial(std::size_t n, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<double> s(n);
  for (auto& x : s) x = u(rng) < 0.2 ? 0.5 + 0.5 * u(rng) : 0.25 * u(rng);
  return s;
}

struct builder {
  dfgpar::dag_data d;
  std::mt19937_64& rng;
  std::size_t add(double cost) {
    d.cost.push_back(cost);
    return d.cost.size() - 1;
  }
  void edge(std::size_t u, std::size_t v) { d.edges.emplace_back(u, v); }
  double uniform(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); }
  std::size_t pick(std::size_t lo, std::size_t hi) { return std::uniform_int_distribution<std::size_t>(lo, hi)(rng); }
};

// blocks of fork -> w branches (chains of 1..3) -> join
dfgpar::dag_data fork_join(std::mt19937_64& rng, std::size_t blocks) {
  builder b{{}, rng};
  std::size_t prev = b.add(b.uniform(2, 10));
  for (std::size_t k = 0; k < blocks; ++k) {
    std::vector<std::size_t> ends;
    for (std::size_t w = b.pick(2, 6); w-- > 0;) {
      std::size_t last = prev;
      for (std::size_t i = b.pick(1, 3); i-- > 0;) {
        const std::size_t v = b.add(b.uniform(1, 10));
        b.edge(last, v);
        last = v;
      }
      ends.push_back(last);
    }
    const std::size_t join = b.add(b.uniform(2, 10));
    for (std::size_t e : ends) b.edge(e, join);
    prev = join;
  }
  return b.d;
}

// GoogLeNet-like inception blocks: input -> {1x1, 1x1 -> 3x3, 1x1 -> 5x5, pool -> 1x1} -> concat
dfgpar::dag_data inception(std::mt19937_64& rng, std::size_t blocks, std::vector<double>& serial) {
  builder b{{}, rng};
  auto add = [&](double cost, double s) {
    serial.push_back(s);
    return b.add(cost);
  };
  std::size_t prev = add(b.uniform(8, 12), 0.05);  // stem convolution
  for (std::size_t k = 0; k < blocks; ++k) {
    const double scale = b.uniform(0.6, 1.4);
    const std::size_t a = add(2 * scale, 0.15);  // 1x1
    const std::size_t r3 = add(1.5 * scale, 0.15), c3 = add(6 * scale, 0.05);
    const std::size_t r5 = add(0.5 * scale, 0.2), c5 = add(2.5 * scale, 0.08);
    const std::size_t pool = add(0.6 * scale, 0.6), pp = add(1 * scale, 0.15);
    const std::size_t cat = add(0.3, 0.9);
    b.edge(prev, a), b.edge(prev, r3), b.edge(r3, c3), b.edge(prev, r5), b.edge(r5, c5), b.edge(prev, pool), b.edge(pool, pp);
    for (std::size_t e : {a, c3, c5, pp}) b.edge(e, cat);
    prev = cat;
  }
  return b.d;
}

// random series-parallel graph: recursive series / parallel composition
dfgpar::dag_data series_parallel(std::mt19937_64& rng, std::size_t target) {
  builder b{{}, rng};
  // returns (entry, exit)
  std::function<std::pair<std::size_t, std::size_t>(std::size_t)> make = [&](std::size_t size) -> std::pair<std::size_t, std::size_t> {
    if (size <= 1) {
      const std::size_t v = b.add(b.uniform(1, 10));
      return {v, v};
    }
    if (b.pick(0, 1) == 0) {  // series
      const std::size_t left = b.pick(1, size - 1);
      auto [e1, x1] = make(left);
      auto [e2, x2] = make(size - left);
      b.edge(x1, e2);
      return {e1, x2};
    }
    // parallel, between a fork and a join
    const std::size_t fork = b.add(b.uniform(1, 10));
    const std::size_t ways = std::min<std::size_t>(b.pick(2, 4), std::max<std::size_t>(size / 2, 2));
    std::vector<std::size_t> exits;
    const std::size_t inner = size > 2 ? size - 2 : 1;
    for (std::size_t w = 0; w < ways; ++w) {
      auto [e, x] = make(std::max<std::size_t>(1, inner / ways));
      b.edge(fork, e);
      exits.push_back(x);
    }
    const std::size_t join = b.add(b.uniform(1, 10));
    for (std::size_t x : exits) b.edge(x, join);
    return {fork, join};
  };
  make(target);
  // renumber in a topological order (edges may point backwards in creation order)
  const std::size_t n = b.d.cost.size();
  std::vector<std::vector<std::size_t>> succ(n);
  std::vector<std::size_t> indeg(n, 0), order, pos(n);
  for (auto [u, v] : b.d.edges) succ[u].push_back(v), ++indeg[v];
  for (std::size_t v = 0; v < n; ++v)
    if (indeg[v] == 0) order.push_back(v);
  for (std::size_t i = 0; i < order.size(); ++i)
    for (std::size_t v : succ[order[i]])
      if (--indeg[v] == 0) order.push_back(v);
  for (std::size_t i = 0; i < n; ++i) pos[order[i]] = i;
  dfgpar::dag_data out;
  out.cost.resize(n);
  for (std::size_t v = 0; v < n; ++v) out.cost[pos[v]] = b.d.cost[v];
  for (auto [u, v] : b.d.edges) out.edges.emplace_back(pos[u], pos[v]);
  return out;
}

dfgpar::dag_data chain(std::mt19937_64& rng, std::size_t n) {
  builder b{{}, rng};
  for (std::size_t i = 0; i < n; ++i) {
    b.add(b.uniform(1, 10));
    if (i > 0) b.edge(i - 1, i);
  }
  return b.d;
}

std::vector<workload> workloads(std::size_t seeds) {
  std::vector<workload> out;
  for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
    std::mt19937_64 rng(seed * 7919);
    for (auto m : dfgpar::all_stg_methods) {
      auto d = dfgpar::stg_like({.tasks = 100, .method = m, .seed = seed});
      auto s = draw_serial(d.cost.size(), rng);
      out.push_back({"stg", std::string(dfgpar::to_string(m)) + "/" + std::to_string(seed), std::move(d), std::move(s)});
    }
    {
      auto d = fork_join(rng, 8);
      auto s = draw_serial(d.cost.size(), rng);
      out.push_back({"fork-join", "8 blocks/" + std::to_string(seed), std::move(d), std::move(s)});
    }
    {
      std::vector<double> s;
      auto d = inception(rng, 9, s);
      out.push_back({"inception", "9 blocks/" + std::to_string(seed), std::move(d), std::move(s)});
    }
    {
      auto d = series_parallel(rng, 60);
      auto s = draw_serial(d.cost.size(), rng);
      out.push_back({"series-parallel", "60/" + std::to_string(seed), std::move(d), std::move(s)});
    }
    {
      auto d = chain(rng, 20);
      auto s = draw_serial(d.cost.size(), rng);
      out.push_back({"chain", "20/" + std::to_string(seed), std::move(d), std::move(s)});
    }
  }
  return out;
}

struct tally {
  std::size_t runs = 0, never_worse = 0, strictly_better = 0;
  double inter = 0, intra = 0, best_pure = 0, mold = 0, worst_mold = 0;
  void add(double lb, double inter_m, double intra_m, double mold_m) {
    ++runs;
    never_worse += mold_m <= std::min(inter_m, intra_m) * (1 + 1e-9) ? 1 : 0;
    strictly_better += mold_m < std::min(inter_m, intra_m) * (1 - 1e-9) ? 1 : 0;
    inter += inter_m / lb;
    intra += intra_m / lb;
    best_pure += std::min(inter_m, intra_m) / lb;
    mold += mold_m / lb;
    worst_mold = std::max(worst_mold, mold_m / lb);
  }
  void print(const char* what) const {
    const double n = static_cast<double>(std::max<std::size_t>(runs, 1));
    std::printf("| %s | %zu | %zu | %zu | %.3f | %.3f | %.3f | %.3f | %.3f |\n", what, runs, never_worse, strictly_better, inter / n,
                intra / n, best_pure / n, mold / n, worst_mold);
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::size_t seeds = 2;
  double time_limit = 200;
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--seeds") && i + 1 < argc)
      seeds = std::strtoul(argv[++i], nullptr, 10);
    else if (!std::strcmp(argv[i], "--time-limit") && i + 1 < argc)
      time_limit = std::strtod(argv[++i], nullptr);
    else if (!std::strcmp(argv[i], "--verbose"))
      verbose = true;
    else {
      std::fprintf(stderr, "usage: moldable_schedule [--seeds N] [--time-limit MS] [--verbose]\n");
      return 2;
    }
  }
  const auto all = workloads(seeds);
  const std::size_t Ps[] = {2, 4, 8, 16};
  std::vector<tally> per_p(4), per_family_all;
  std::vector<std::string> families;
  tally total;
  std::printf("moldable scheduling in simulation: %zu graphs x P = 2, 4, 8, 16; ratios to the lower bound\n"
              "max(CP at the fastest allotments, sum of least work / P); merge time limit %g ms\n\n",
              all.size(), time_limit);
  if (verbose) std::printf("%-16s %-22s %3s %9s %7s %7s %7s  %s\n", "family", "graph", "P", "LB", "inter", "intra", "moldable", "method");
  double seconds = 0;
  for (const auto& w : all) {
    const graph g = dfgpar_test::build<graph>(w.dag);
    const auto t = dfgpar::amdahl_cost(dfgpar_test::cost_map(g),
                                       boost::make_iterator_property_map(w.serial.begin(), get(boost::vertex_index, g)));
    auto fam = std::find(families.begin(), families.end(), w.family);
    if (fam == families.end()) families.push_back(w.family), per_family_all.emplace_back(), fam = families.end() - 1;
    tally& tf = per_family_all[static_cast<std::size_t>(fam - families.begin())];
    for (std::size_t pi = 0; pi < 4; ++pi) {
      const std::size_t P = Ps[pi];
      const auto t0 = std::chrono::steady_clock::now();
      const auto r = dfgpar::parallelize_moldable(g, t, dfgpar::options{.workers = P, .time_limit_ms = time_limit});
      seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (!dfgpar::validate(g, r.schedule)) {
        std::fprintf(stderr, "invalid schedule: %s P=%zu\n", w.name.c_str(), P);
        return 1;
      }
      const double lb = r.bounds.lower_bound;
      per_p[pi].add(lb, r.inter_op, r.intra_op, r.makespan);
      tf.add(lb, r.inter_op, r.intra_op, r.makespan);
      total.add(lb, r.inter_op, r.intra_op, r.makespan);
      if (verbose)
        std::printf("%-16s %-22s %3zu %9.3f %7.3f %7.3f %7.3f  %s\n", w.family.c_str(), w.name.c_str(), P, lb, r.inter_op / lb,
                    r.intra_op / lb, r.makespan / lb, r.method.c_str());
    }
  }
  std::printf("%s| | runs | moldable <= min(inter, intra) | moldable < both | inter / LB | intra / LB | min(inter, intra) / LB | moldable / LB | worst moldable / LB |\n",
              verbose ? "\n" : "");
  std::printf("|---|---|---|---|---|---|---|---|---|\n");
  for (std::size_t pi = 0; pi < 4; ++pi) per_p[pi].print(("P = " + std::to_string(Ps[pi])).c_str());
  for (std::size_t f = 0; f < families.size(); ++f) per_family_all[f].print(families[f].c_str());
  total.print("all");
  std::printf("\nscheduling time: %.2f s for %zu calls (%.1f ms each)\n", seconds, total.runs, 1000 * seconds / static_cast<double>(total.runs));
  return total.never_worse == total.runs ? 0 : 1;
}
