// dfgpar's cluster_executor against oneTBB's flow graph (what a C++ user
// would pick to run a DAG) and OpenMP tasks with depend clauses, on the same
// graphs and the same tasks:
//
//  * the graph shapes of Taskflow's benchmark suite: linear chain, binary
//    tree, 2D wavefront, random DAG (about 1000 tasks each);
//  * the six torchvision graphs (bench/data/*.stg, made by
//    bench/data/export_stg.cpp from the ONNX models with dfgpar's analytic
//    per-node costs);
//
// with empty tasks, busy-wait tasks of 1, 10 and 100 µs, and (torchvision)
// busy-wait tasks of their analytic cost. dfgpar runs the schedule
// `parallelize` makes from the task durations (plus --task-overhead-us) and a
// hand-off cost per edge (--handoff-us); TBB runs one continue_node per
// vertex in a task_arena of P threads; OpenMP one task per vertex with
// depend(in: inputs) depend(out: itself), created by one thread.
//
// Engines never spin at the same time: each measurement builds one engine,
// runs it, destroys it and sleeps 30 ms (so that idle pool threads have gone
// to sleep) before the next; engines take turns over --rounds rounds, and
// the median of all runs is reported.
//
// Columns: median wall time per run (µs) per engine; ns per task and per
// dependency (edge) of dfgpar and TBB; with known task times the lower
// bound LB = max(critical path, work / P) and each engine's wall / LB, plus
// dfgpar's simulated makespan / LB; TBB / dfgpar (> 1: dfgpar faster); and
// the fastest run of dfgpar and TBB (µs; what a run costs when no other
// process takes the cores).
//
//   executor_vs_tbb [--workers 1,2] [--rounds R] [--data DIR] [--only NAME] [--handoff-us X]
//                   [--task-overhead-us X] [--no-omp] [--kinds 0,1,10,100,model] [--spin N]

#include <dfgpar/dfgpar.hpp>
#include <dfgpar/io/stg.hpp>

#include "graph_types.hpp"

#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/task_arena.h>

#ifdef DFGPAR_BENCH_HAVE_OPENMP
#include <omp.h>
#endif

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#ifndef DFGPAR_BENCH_DATA_DIR
#define DFGPAR_BENCH_DATA_DIR "bench/data"
#endif

namespace {

using clock_type = std::chrono::steady_clock;
using graph = dfgpar_test::vec_graph;

struct dag {
  std::string name;
  dfgpar::dag_data data;   // costs: analytic µs (torchvision) or 0
  bool has_model_costs = false;
};

// ---------------------------------------------------------------- graphs
dag linear_chain(std::size_t n) {
  dag g{"linear chain", {}, false};
  g.data.cost.assign(n, 0.0);
  for (std::size_t i = 1; i < n; ++i) g.data.edges.emplace_back(i - 1, i);
  return g;
}

dag binary_tree(std::size_t levels) {
  dag g{"binary tree", {}, false};
  const std::size_t n = (std::size_t{1} << levels) - 1;
  g.data.cost.assign(n, 0.0);
  for (std::size_t i = 1; i < n; ++i) g.data.edges.emplace_back((i - 1) / 2, i);
  return g;
}

dag wavefront(std::size_t side) {
  dag g{"2D wavefront", {}, false};
  g.data.cost.assign(side * side, 0.0);
  for (std::size_t i = 0; i < side; ++i)
    for (std::size_t j = 0; j < side; ++j) {
      if (i + 1 < side) g.data.edges.emplace_back(i * side + j, (i + 1) * side + j);
      if (j + 1 < side) g.data.edges.emplace_back(i * side + j, i * side + j + 1);
    }
  return g;
}

dag random_graph(std::size_t n) {
  dag g{"random DAG", dfgpar::random_dag({.vertices = n, .out_degree = 4, .seed = 7}), false};
  std::fill(g.data.cost.begin(), g.data.cost.end(), 0.0);
  return g;
}

dag from_stg(const std::string& dir, const std::string& name) {
  const dfgpar::stg_graph s = dfgpar::read_stg_file(dir + "/" + name + ".stg");
  dag g{name, {}, true};
  const std::size_t n = num_vertices(s);
  g.data.cost.resize(n);
  for (std::size_t v = 0; v < n; ++v) g.data.cost[v] = s[v].time;
  for (auto [e, end] = edges(s); e != end; ++e) g.data.edges.emplace_back(source(*e, s), target(*e, s));
  return g;
}

// ---------------------------------------------------------------- tasks
void spin_for(double us) {
  if (us <= 0) {
    asm volatile("" ::: "memory");
    return;
  }
  const auto end = clock_type::now() + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double, std::micro>(us));
  while (clock_type::now() < end) dfgpar::detail::cpu_pause();
}

struct busy_task {
  const double* us;
  void operator()(std::size_t v) const { spin_for(us[v]); }
};

// ---------------------------------------------------------------- timing
struct engine {
  virtual ~engine() = default;
  virtual void run() = 0;
};

struct dfgpar_engine final : engine {
  dfgpar::cluster_executor<graph, busy_task> ex;
  dfgpar_engine(const graph& g, const dfgpar::schedule& s, busy_task t, const dfgpar::executor_options& o)
      : ex(g, s, t, o) {}
  void run() override { ex.run(); }
};

struct tbb_engine final : engine {
  using node = tbb::flow::continue_node<tbb::flow::continue_msg>;
  tbb::task_arena arena;
  std::unique_ptr<tbb::flow::graph> g;
  std::vector<std::unique_ptr<node>> nodes;
  std::vector<std::size_t> roots;
  tbb_engine(const dag& d, busy_task t, std::size_t P) : arena(static_cast<int>(P)) {
    arena.execute([&] {
      g = std::make_unique<tbb::flow::graph>();
      const std::size_t n = d.data.cost.size();
      std::vector<std::size_t> indeg(n, 0);
      nodes.reserve(n);
      for (std::size_t v = 0; v < n; ++v)
        nodes.push_back(std::make_unique<node>(*g, [t, v](const tbb::flow::continue_msg&) { t(v); }));
      for (auto [u, v] : d.data.edges) tbb::flow::make_edge(*nodes[u], *nodes[v]), ++indeg[v];
      for (std::size_t v = 0; v < n; ++v)
        if (indeg[v] == 0) roots.push_back(v);
    });
  }
  ~tbb_engine() override {
    arena.execute([&] {
      nodes.clear();
      g.reset();
    });
  }
  void run() override {
    arena.execute([&] {
      for (std::size_t r : roots) nodes[r]->try_put(tbb::flow::continue_msg{});
      g->wait_for_all();
    });
  }
};

#ifdef DFGPAR_BENCH_HAVE_OPENMP
struct omp_engine final : engine {
  busy_task t;
  int P;
  std::vector<std::uint32_t> topo, pred_begin, preds;
  std::vector<char> token;  // one dependence object per vertex
  omp_engine(const dag& d, busy_task task, std::size_t workers) : t(task), P(static_cast<int>(workers)) {
    const std::size_t n = d.data.cost.size();
    std::vector<std::vector<std::uint32_t>> in(n);
    for (auto [u, v] : d.data.edges) in[v].push_back(static_cast<std::uint32_t>(u));
    pred_begin.push_back(0);
    for (auto& p : in) {
      preds.insert(preds.end(), p.begin(), p.end());
      pred_begin.push_back(static_cast<std::uint32_t>(preds.size()));
    }
    const graph g = dfgpar_test::build<graph>(d.data);
    const auto f = dfgpar::detail::make_flat_dag(g, dfgpar::detail::unit_cost{}, dfgpar::no_edge_cost{});
    topo = f.topo;
    token.assign(n, 0);
  }
  void run() override {
    char* x = token.data();
    (void)x;  // used only in the depend clause (GCC 12 warns anyway)
    const std::uint32_t* pb = pred_begin.data();
    const std::uint32_t* pr = preds.data();
    const busy_task task = t;
#pragma omp parallel num_threads(P)
#pragma omp single
    for (std::uint32_t v : topo) {
      const std::uint32_t b = pb[v];
      const int k = static_cast<int>(pb[v + 1] - b);
#pragma omp task firstprivate(v) depend(iterator(i = 0 : k), in : x[pr[b + i]]) depend(out : x[v])
      task(v);
    }
  }
};
#endif

struct result {
  std::vector<double> us;  // per run
  double median() const {
    std::vector<double> v = us;
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
  }
  double min() const { return us.empty() ? 0 : *std::min_element(us.begin(), us.end()); }
};

// Builds the engine, warms it up, times `runs` runs (at least 3, fewer after
// 250 ms), destroys it, lets its threads fall asleep.
void measure(const std::function<std::unique_ptr<engine>()>& make, std::size_t runs, result& out) {
  {
    auto e = make();
    e->run();
    e->run();
    const auto start = clock_type::now();
    for (std::size_t i = 0; i < runs && (i < 3 || clock_type::now() - start < std::chrono::milliseconds(250)); ++i) {
      const auto t0 = clock_type::now();
      e->run();
      out.us.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - t0).count());
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s + ",") {
    if (c == ',') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::size_t> workers{1, 2};
  std::size_t rounds = 5;
  std::string data_dir = DFGPAR_BENCH_DATA_DIR, only;
  double handoff_us = 0.5, overhead_us = 0.05;
  dfgpar::executor_options exec_options{};  // --spin: executor_options::spin of dfgpar's executor
  bool use_omp = true;
  std::vector<std::string> kinds{"0", "1", "10", "100", "model"};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "executor_vs_tbb: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--workers") {
      workers.clear();
      for (const auto& w : split(next())) workers.push_back(std::strtoull(w.c_str(), nullptr, 10));
    } else if (a == "--rounds") rounds = std::strtoull(next().c_str(), nullptr, 10);
    else if (a == "--data") data_dir = next();
    else if (a == "--only") only = next();
    else if (a == "--handoff-us") handoff_us = std::strtod(next().c_str(), nullptr);
    else if (a == "--task-overhead-us") overhead_us = std::strtod(next().c_str(), nullptr);
    else if (a == "--no-omp") use_omp = false;
    else if (a == "--spin") exec_options.spin = static_cast<std::uint32_t>(std::strtoul(next().c_str(), nullptr, 10));
    else if (a == "--kinds") kinds = split(next());
    else {
      std::fprintf(stderr,
                   "usage: executor_vs_tbb [--workers 1,2] [--rounds R] [--data DIR] [--only NAME] [--handoff-us X] "
                   "[--task-overhead-us X] [--no-omp] [--kinds 0,1,10,100,model] [--spin N]\n");
      return 2;
    }
  }
  if (workers.empty() || rounds == 0 || std::find(workers.begin(), workers.end(), std::size_t{0}) != workers.end()) {
    std::fprintf(stderr, "executor_vs_tbb: --workers and --rounds must be positive\n");
    return 2;
  }
#ifndef DFGPAR_BENCH_HAVE_OPENMP
  use_omp = false;
#endif

  std::vector<dag> dags;
  try {
    dags.push_back(linear_chain(1000));
    dags.push_back(binary_tree(10));
    dags.push_back(wavefront(32));
    dags.push_back(random_graph(1000));
    for (const char* m : {"squeezenet1_1", "googlenet", "inception_v3", "resnet50", "densenet121", "mobilenet_v2"})
      dags.push_back(from_stg(data_dir, m));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "executor_vs_tbb: %s (--data DIR names the folder of the .stg files)\n", e.what());
    return 1;
  }

  std::printf("hardware threads %u; dfgpar schedules with task time + %.2f us, hand-off %.2f us per cross edge\n",
              std::thread::hardware_concurrency(), overhead_us, handoff_us);
  std::printf("median wall us per run over %zu rounds (engines take turns, never two pools at once)\n", rounds);
  std::printf("%-14s %5s %5s %6s %2s | %10s %10s %10s | %7s %7s %7s %7s | %10s %7s %7s %7s %7s | %7s %8s %8s\n", "graph", "V", "E",
              "task", "P", "dfgpar", "TBB", "OpenMP", "ns/tsk", "ns/tsk", "ns/dep", "ns/dep", "LB us", "sim/LB", "dfg/LB",
              "TBB/LB", "OMP/LB", "TBB/dfg", "min dfg", "min TBB");
  std::printf("%-14s %5s %5s %6s %2s | %10s %10s %10s | %7s %7s %7s %7s | %10s %7s %7s %7s %7s | %7s %8s %8s\n", "", "", "", "", "",
              "", "", "", "dfgpar", "TBB", "dfgpar", "TBB", "", "", "", "", "", "", "", "");
  for (const dag& d : dags) {
    if (!only.empty() && d.name.find(only) == std::string::npos) continue;
    const std::size_t n = d.data.cost.size(), m = d.data.edges.size();
    const graph g = dfgpar_test::build<graph>(d.data);
    for (const std::string& kind : kinds) {
      if (kind == "model" && !d.has_model_costs) continue;
      std::vector<double> us(n);
      for (std::size_t v = 0; v < n; ++v) us[v] = kind == "model" ? d.data.cost[v] : std::strtod(kind.c_str(), nullptr);
      const busy_task task{us.data()};
      // what dfgpar plans with
      dfgpar::dag_data plan = d.data;
      for (std::size_t v = 0; v < n; ++v) plan.cost[v] = us[v] + overhead_us;
      plan.comm.assign(m, handoff_us);
      const graph pg = dfgpar_test::build<graph>(plan);
      for (std::size_t P : workers) {
        dfgpar::merge_report rep;
        const dfgpar::schedule s =
            dfgpar::parallelize(pg, dfgpar_test::cost_map(pg), dfgpar_test::comm_map(pg), dfgpar::options{.workers = P, .report = &rep});
        double W = 0;
        for (double x : us) W += x;
        const auto f = dfgpar::detail::make_flat_dag(g, dfgpar_test::cost_map(g), dfgpar::no_edge_cost{});
        dfgpar::detail::flat_dag fu = f;
        fu.w = us;
        const double cp = dfgpar::detail::compute_levels(fu).critical_path;
        const double lb = std::max(cp, W / static_cast<double>(P));
        // the schedule's makespan with the true task times and no hand-off cost
        const double sim = dfgpar::detail::simulate(fu, dfgpar::detail::make_plan(fu, s)).makespan;
        // runs per turn: about 20 ms of work, at least 3
        const double est_us = std::max(lb, 0.05 * static_cast<double>(n)) + 20;
        const std::size_t runs = std::clamp<std::size_t>(static_cast<std::size_t>(20000 / est_us), 3, 200);
        result rd, rt, ro;
        for (std::size_t r = 0; r < rounds; ++r) {
          // rotate the order so no engine always goes first
          for (std::size_t k = 0; k < 3; ++k) switch ((r + k) % 3) {
              case 0:
                measure([&] { return std::unique_ptr<engine>(new dfgpar_engine(g, s, task, exec_options)); }, runs, rd);
                break;
              case 1:
                measure([&] { return std::unique_ptr<engine>(new tbb_engine(d, task, P)); }, runs, rt);
                break;
              case 2:
#ifdef DFGPAR_BENCH_HAVE_OPENMP
                if (use_omp) measure([&] { return std::unique_ptr<engine>(new omp_engine(d, task, P)); }, runs, ro);
#endif
                break;
            }
        }
        const double td = rd.median(), tt = rt.median(), to = ro.median();
        const bool known = kind != "0";
        char lbs[5][16];
        if (known) {
          std::snprintf(lbs[0], 16, "%10.1f", lb);
          std::snprintf(lbs[1], 16, "%7.3f", sim / lb);
          std::snprintf(lbs[2], 16, "%7.3f", td / lb);
          std::snprintf(lbs[3], 16, "%7.3f", tt / lb);
          if (use_omp) std::snprintf(lbs[4], 16, "%7.3f", to / lb);
          else std::snprintf(lbs[4], 16, "%s", "-");
        } else {
          for (auto& b : lbs) std::snprintf(b, 16, "%s", "-");
        }
        char omp[16];
        if (use_omp) std::snprintf(omp, 16, "%10.1f", to);
        else std::snprintf(omp, 16, "%10s", "-");
        std::printf("%-14s %5zu %5zu %6s %2zu | %10.1f %10.1f %s | %7.1f %7.1f %7.1f %7.1f | %10s %7s %7s %7s %7s | %7.2f %8.1f %8.1f\n",
                    d.name.c_str(), n, m, kind == "model" ? "model" : (kind + "us").c_str(), P, td, tt, omp,
                    td * 1e3 / static_cast<double>(n), tt * 1e3 / static_cast<double>(n),
                    m ? td * 1e3 / static_cast<double>(m) : 0.0, m ? tt * 1e3 / static_cast<double>(m) : 0.0, lbs[0], lbs[1],
                    lbs[2], lbs[3], lbs[4], tt / td, rd.min(), rt.min());
        std::fflush(stdout);
      }
    }
  }
}
