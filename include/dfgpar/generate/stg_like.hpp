#pragma once
/// \file stg_like.hpp
/// Seeded task graphs made the way the Standard Task Graph Set was made
/// (T. Tobita and H. Kasahara, "A standard task graph set for fair evaluation
/// of multiprocessor scheduling algorithms", J. Scheduling 5(5), 2002).
///
/// The STG set combines graph-generation methods with processing-time
/// distributions; the published optima are for P = 2, 4, 8, 16 without
/// communication costs. The methods reproduced here:
///
///  * sameprob: an edge i -> j (i < j) with the same probability p for every pair;
///  * samepred: every task draws its number of predecessors (same mean for all)
///    among the tasks before it;
///  * layrprob: tasks are put into layers; an edge from any task of an earlier
///    layer with the same probability p;
///  * layrpred: layers, and every task draws its number of predecessors among
///    the earlier layers;
///  * fan_in_fan_out: grown by fan-out steps (an open task gets 1..max_fan
///    successors) and fan-in steps (2..max_fan open tasks get one common successor);
///  * random: each task draws successors in a window of the next tasks
///    (long chains and wide levels both occur).
///
/// Processing times are integers in [min_cost, max_cost] (1..10 by default, as
/// in the set), drawn uniform, exponential (mean at a third of the range,
/// rounded up and clipped) or normal (centred, sd a sixth of the range, clipped).
/// The graphs carry no dummy entry/exit tasks and no communication costs;
/// index order is a topological order.

#include <dfgpar/generate/random_dag.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace dfgpar {

/// Graph-generation methods of the STG set.
enum class stg_method { sameprob, samepred, layrprob, layrpred, fan_in_fan_out, random };
/// Processing-time distributions.
enum class stg_cost { uniform, exponential, normal };

inline constexpr stg_method all_stg_methods[] = {stg_method::sameprob, stg_method::samepred,       stg_method::layrprob,
                                                 stg_method::layrpred, stg_method::fan_in_fan_out, stg_method::random};

inline const char* to_string(stg_method m) {
  switch (m) {
    case stg_method::sameprob: return "sameprob";
    case stg_method::samepred: return "samepred";
    case stg_method::layrprob: return "layrprob";
    case stg_method::layrpred: return "layrpred";
    case stg_method::fan_in_fan_out: return "fan-in/fan-out";
    case stg_method::random: return "random";
  }
  return "?";
}
inline const char* to_string(stg_cost c) {
  switch (c) {
    case stg_cost::uniform: return "uniform";
    case stg_cost::exponential: return "exponential";
    case stg_cost::normal: return "normal";
  }
  return "?";
}

/// Parameters of `stg_like`.
struct stg_like_options {
  std::size_t tasks = 50;
  stg_method method = stg_method::sameprob;
  stg_cost cost = stg_cost::uniform;
  double min_cost = 1, max_cost = 10;  ///< integer processing times in this range
  double mean_preds = 2;               ///< mean number of predecessors of a non-entry task (sets p for *prob methods)
  std::size_t layers = 0;              ///< layered methods: 0 picks about sqrt(tasks)
  std::size_t max_fan = 5;             ///< fan-in/fan-out: largest fan
  std::uint64_t seed = 1;
};

namespace detail {

/// Adds the edge u -> v once (u < v).
struct edge_sink {
  dag_data& g;
  std::vector<std::vector<std::size_t>> pred;
  void add(std::size_t u, std::size_t v) {
    auto& p = pred[v];
    if (std::find(p.begin(), p.end(), u) != p.end()) return;
    p.push_back(u);
    g.edges.emplace_back(u, v);
    g.comm.push_back(0.0);
  }
};

/// k distinct values from [lo, hi) (k clipped to the range), Floyd's algorithm.
inline std::vector<std::size_t> sample_distinct(std::mt19937_64& rng, std::size_t lo, std::size_t hi, std::size_t k) {
  std::vector<std::size_t> out;
  if (hi <= lo) return out;
  const std::size_t n = hi - lo;
  k = std::min(k, n);
  for (std::size_t j = n - k; j < n; ++j) {
    const std::size_t x = std::uniform_int_distribution<std::size_t>(0, j)(rng);
    const bool seen = std::find(out.begin(), out.end(), lo + x) != out.end();
    out.push_back(lo + (seen ? j : x));
  }
  return out;
}

}  // namespace detail

/// One STG-like task graph (see the file comment).
inline dag_data stg_like(const stg_like_options& o) {
  dag_data g;
  const std::size_t n = o.tasks;
  std::mt19937_64 rng(o.seed);
  const double lo = std::ceil(o.min_cost), hi = std::max(lo, std::floor(o.max_cost));
  auto clip = [&](double x) { return std::clamp(std::round(x), lo, hi); };
  g.cost.resize(n);
  for (auto& c : g.cost) {
    switch (o.cost) {
      case stg_cost::uniform: c = static_cast<double>(std::uniform_int_distribution<long long>(
                                  static_cast<long long>(lo), static_cast<long long>(hi))(rng)); break;
      case stg_cost::exponential: c = clip(std::ceil(std::exponential_distribution<double>(3.0 / std::max(hi - lo + 1, 1.0))(rng)) + lo - 1); break;
      case stg_cost::normal: c = clip(std::normal_distribution<double>((lo + hi) / 2, std::max((hi - lo) / 6, 0.5))(rng)); break;
    }
  }
  if (n < 2) return g;
  detail::edge_sink es{g, std::vector<std::vector<std::size_t>>(n)};
  const double mean = std::max(o.mean_preds, 0.0);
  // number of predecessors: uniform in [0, 2*mean] (mean `mean`)
  auto draw_preds = [&] {
    const auto top = static_cast<long long>(std::floor(2 * mean));
    const double frac = 2 * mean - static_cast<double>(top);
    long long k = std::uniform_int_distribution<long long>(0, top)(rng);
    if (frac > 0 && std::bernoulli_distribution(frac / (static_cast<double>(top) + 1 + frac))(rng)) k = top + 1;
    return static_cast<std::size_t>(k);
  };
  // layers for the layered methods: sizes drawn so that there are about `layers` of them
  std::vector<std::size_t> layer_begin;  // first task of each layer, plus n
  if (o.method == stg_method::layrprob || o.method == stg_method::layrpred) {
    std::size_t L = o.layers ? o.layers : static_cast<std::size_t>(std::max(2.0, std::round(std::sqrt(static_cast<double>(n)))));
    L = std::clamp<std::size_t>(L, 1, n);
    const double avg = static_cast<double>(n) / static_cast<double>(L);
    std::uniform_int_distribution<std::size_t> width(1, std::max<std::size_t>(1, static_cast<std::size_t>(std::round(2 * avg - 1))));
    for (std::size_t b = 0; b < n; b += width(rng)) layer_begin.push_back(b);
    layer_begin.push_back(n);
  }
  auto layer_start_of = [&](std::size_t v) {  // first task of v's layer
    auto it = std::upper_bound(layer_begin.begin(), layer_begin.end(), v);
    return *(it - 1);
  };
  switch (o.method) {
    case stg_method::sameprob: {
      // mean predecessors of task j is p*j; average over tasks (n-1)p/2
      const double p = std::min(1.0, 2 * mean / static_cast<double>(n - 1));
      std::bernoulli_distribution e(p);
      for (std::size_t v = 1; v < n; ++v)
        for (std::size_t u = 0; u < v; ++u)
          if (e(rng)) es.add(u, v);
      break;
    }
    case stg_method::samepred:
      for (std::size_t v = 1; v < n; ++v)
        for (std::size_t u : detail::sample_distinct(rng, 0, v, draw_preds())) es.add(u, v);
      break;
    case stg_method::layrprob: {
      // earlier-layer tasks of a task: on average about half of n; p to give `mean`
      const double p = std::min(1.0, 2 * mean / static_cast<double>(n));
      std::bernoulli_distribution e(p);
      for (std::size_t v = layer_begin[1]; v < n; ++v) {
        const std::size_t first = layer_start_of(v);
        for (std::size_t u = 0; u < first; ++u)
          if (e(rng)) es.add(u, v);
      }
      break;
    }
    case stg_method::layrpred:
      for (std::size_t v = layer_begin[1]; v < n; ++v)
        for (std::size_t u : detail::sample_distinct(rng, 0, layer_start_of(v), std::max<std::size_t>(1, draw_preds()))) es.add(u, v);
      break;
    case stg_method::fan_in_fan_out: {
      std::vector<std::size_t> open{0};  // tasks without successors yet
      std::size_t next = 1;
      const std::size_t F = std::max<std::size_t>(o.max_fan, 2);
      while (next < n) {
        const bool fan_in = open.size() >= 2 && std::bernoulli_distribution(0.5)(rng);
        if (fan_in) {
          const std::size_t k = std::uniform_int_distribution<std::size_t>(2, std::min(F, open.size()))(rng);
          auto pick = detail::sample_distinct(rng, 0, open.size(), k);
          std::sort(pick.rbegin(), pick.rend());
          for (std::size_t i : pick) {
            es.add(open[i], next);
            open.erase(open.begin() + static_cast<std::ptrdiff_t>(i));
          }
          open.push_back(next++);
        } else {
          const std::size_t i = std::uniform_int_distribution<std::size_t>(0, open.size() - 1)(rng);
          const std::size_t u = open[i];
          open.erase(open.begin() + static_cast<std::ptrdiff_t>(i));
          const std::size_t k = std::min(std::uniform_int_distribution<std::size_t>(1, F)(rng), n - next);
          for (std::size_t j = 0; j < k; ++j) {
            es.add(u, next);
            open.push_back(next++);
          }
        }
      }
      break;
    }
    case stg_method::random: {
      std::size_t window = 4;
      while (window * window < 2 * n) ++window;
      for (std::size_t u = 0; u + 1 < n; ++u) {
        const std::size_t k = draw_preds();  // successors, same mean
        for (std::size_t off : detail::sample_distinct(rng, 1, std::min(window, n - 1 - u) + 1, k)) es.add(u, u + off);
      }
      break;
    }
  }
  return g;
}

/// Options of graph `i` of an STG-like suite: methods cycle fastest, then the
/// processing-time distribution, then the edge density (mean predecessors
/// 1..3.25 in ten steps), so 180 graphs hold every method x distribution
/// combination ten times, like the 180 graphs per size of the real set.
inline stg_like_options stg_like_suite_entry(std::size_t tasks, std::size_t i, std::uint64_t seed = 1) {
  stg_like_options o;
  o.tasks = tasks;
  o.method = all_stg_methods[i % 6];
  o.cost = static_cast<stg_cost>((i / 6) % 3);
  o.mean_preds = 1.0 + 0.25 * static_cast<double>((i / 18) % 10);
  o.seed = seed * 1000003u + i;
  return o;
}

}  // namespace dfgpar
