// Schedules a Standard Task Graph Set file (STG, Kasahara lab) onto P workers
// and compares dfgpar's schedule with the lower bound max(CP, W/P) and with
// plain HLFET list scheduling.
//
//   stg_schedule rand0000.stg --workers 4 [--effort 1] [--json report.json] [--dot schedule.dot]

#include <dfgpar/cluster/list_scheduling.hpp>
#include <dfgpar/dfgpar.hpp>
#include <dfgpar/io/dot.hpp>
#include <dfgpar/io/json_report.hpp>
#include <dfgpar/io/stg.hpp>

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iostream>
#include <new>
#include <optional>
#include <string>
#include <string_view>

namespace {

constexpr const char* usage =
    "usage: stg_schedule FILE.stg --workers P [--effort E] [--json FILE] [--dot FILE]\n"
    "\n"
    "Reads a task graph in Standard Task Graph Set format, schedules it onto P\n"
    "workers with dfgpar and prints W, CP, the lower bound max(CP, W/P), the\n"
    "makespan of dfgpar's schedule and of plain HLFET.\n"
    "\n"
    "  --workers P   number of workers (1..65536), required\n"
    "  --effort E    search effort of the merge step (>= 0, default 1; 0: constructive only)\n"
    "  --json FILE   write a JSON report of the schedule\n"
    "  --dot FILE    write the schedule as a Graphviz DOT graph\n"
    "  --help        this text\n";

struct usage_error {
  std::string what;
};

struct args {
  std::string file;
  std::size_t workers = 0;
  double effort = 1.0;
  std::optional<std::string> json, dot;
};

args parse_args(int argc, char** argv) {
  args a;
  bool have_workers = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&]() -> std::string_view {
      if (i + 1 >= argc) throw usage_error{std::string(arg) + " needs a value"};
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      std::cout << usage;
      std::exit(0);
    } else if (arg == "--workers" || arg == "-p") {
      const auto v = value();
      unsigned long long p = 0;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), p);
      if (ec != std::errc{} || end != v.data() + v.size() || p < 1 || p > 65536)
        throw usage_error{"--workers wants an integer from 1 to 65536, not '" + std::string(v) + "'"};
      a.workers = static_cast<std::size_t>(p);
      have_workers = true;
    } else if (arg == "--effort") {
      const auto v = value();
      double e = 0;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), e);
      if (ec != std::errc{} || end != v.data() + v.size() || !(e >= 0) || !std::isfinite(e))
        throw usage_error{"--effort wants a number >= 0, not '" + std::string(v) + "'"};
      a.effort = e;
    } else if (arg == "--json") {
      a.json = std::string(value());
    } else if (arg == "--dot") {
      a.dot = std::string(value());
    } else if (arg.size() > 1 && arg[0] == '-') {
      throw usage_error{"unknown option '" + std::string(arg) + "'"};
    } else if (a.file.empty()) {
      a.file = arg;
    } else {
      throw usage_error{"more than one input file ('" + a.file + "', '" + std::string(arg) + "')"};
    }
  }
  if (a.file.empty()) throw usage_error{"no input file"};
  if (!have_workers) throw usage_error{"--workers P is required"};
  return a;
}

template <class Write>
void write_file(const std::string& path, Write&& write) {
  std::ofstream f(path, std::ios::binary);
  if (!f) throw dfgpar::graph_error(path + ": cannot open for writing");
  write(f);
  f.close();
  if (!f) throw dfgpar::graph_error(path + ": write failed");
}

int run(const args& a) {
  using clock = std::chrono::steady_clock;
  const dfgpar::stg_graph g = dfgpar::read_stg_file(a.file);
  const auto cost = dfgpar::stg_times(g);
  const std::size_t P = a.workers;

  const auto b = dfgpar::compute_bounds(g, cost, P);
  dfgpar::merge_report report;
  const auto t0 = clock::now();
  const dfgpar::schedule s = dfgpar::parallelize(g, cost, dfgpar::options{.workers = P, .effort = a.effort, .report = &report});
  const double ms = std::chrono::duration<double, std::milli>(clock::now() - t0).count();
  const double m = dfgpar::makespan(g, s, cost);
  if (const auto why = dfgpar::validation_error(g, s); !why.empty())
    throw dfgpar::graph_error("internal error: the schedule is invalid: " + why);

  // HLFET: vertices by bottom level onto the worker where they start earliest
  const auto d = dfgpar::detail::make_flat_dag(g, cost, dfgpar::no_edge_cost{});
  const auto lv = dfgpar::detail::compute_levels(d);
  const auto t1 = clock::now();
  const auto hlfet = dfgpar::detail::list_schedule_tasks(d, P, dfgpar::detail::priority{lv.bottom, {}});
  const double hlfet_ms = std::chrono::duration<double, std::milli>(clock::now() - t1).count();

  auto num = [](double x) { return dfgpar::detail::format_number(x); };
  auto fixed = [](double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4f", x);
    return std::string(buf);
  };
  auto ratio = [&](double x) { return fixed(b.lower_bound > 0 ? x / b.lower_bound : 1.0); };
  char tbuf[32];
  std::cout << "file           " << a.file << '\n'
            << "tasks n        " << num_vertices(g) - 2 << " (+2 dummies), " << num_edges(g) << " edges\n"
            << "workers P      " << P << '\n'
            << "work W         " << num(b.work) << '\n'
            << "critical path  " << num(b.critical_path) << "  (W/CP = " << fixed(b.parallelism()) << ")\n"
            << "lower bound    " << num(b.lower_bound) << "  (max(CP, W/P))\n"
            << "dfgpar         " << num(m) << "  ratio " << ratio(m) << "  heuristic: " << report.heuristic << ", "
            << report.passes << " passes";
  std::snprintf(tbuf, sizeof tbuf, "%.3f", ms);
  std::cout << ", " << tbuf << " ms\n";
  std::snprintf(tbuf, sizeof tbuf, "%.3f", hlfet_ms);
  std::cout << "HLFET          " << num(hlfet.makespan) << "  ratio " << ratio(hlfet.makespan) << ", " << tbuf << " ms\n";

  auto label = [&](auto v) { return "T" + std::to_string(g[v].id) + " (" + num(g[v].time) + ")"; };
  if (a.json) write_file(*a.json, [&](std::ostream& os) { dfgpar::write_json_report(os, g, s, cost, label); });
  if (a.dot) write_file(*a.dot, [&](std::ostream& os) { dfgpar::write_dot(os, g, s, label); });
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse_args(argc, argv));
  } catch (const usage_error& e) {
    std::cerr << "stg_schedule: " << e.what << " (try --help)\n";
    return 2;
  } catch (const std::bad_alloc&) {
    std::cerr << "stg_schedule: out of memory\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "stg_schedule: " << e.what() << '\n';
    return 1;
  }
}
