// STG reader and writer: the shared samples, every kind of malformed file,
// round trips, and scheduling the samples.

#include <dfgpar/dfgpar.hpp>

#include "graph_types.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <streambuf>
#include <string>
#include <utility>
#include <vector>

#ifndef DFGPAR_TEST_DATA_DIR
#define DFGPAR_TEST_DATA_DIR "tests/data"
#endif
#ifndef DFGPAR_SHARED_DATA_DIR
#define DFGPAR_SHARED_DATA_DIR "tests/data"  // the STG samples live in tests/data/stg
#endif

namespace {

const std::string test_data = DFGPAR_TEST_DATA_DIR;
const std::string stg_samples = std::string(DFGPAR_SHARED_DATA_DIR) + "/stg";

struct sample {
  const char* file;
  std::size_t n;  // tasks without the dummies
  double work, critical_path;
  std::size_t edges;  // dummy edges included
};

// W and CP worked out by hand for 00-02 (see the comments) and cross-checked
// with a separate script; 04 from that script only.
const sample samples[] = {
    // W = 1+3+3+2+6+7+4+5; CP = 1 -> 3 -> 6 -> 7 = 1+3+7+4
    {"sample00.stg", 8, 31, 15, 13},
    // CP = 5 -> 2 = 9000+8000 (predecessors with higher ids, e.g. 2 <- 7, 9)
    {"sample01.stg", 10, 51000, 17000, 18},
    // CP = 3 -> 5 -> 10 -> 6 -> 8 = 7000+4000+4000+18000+16000
    {"sample02.stg", 10, 88000, 49000, 20},
    {"sample04.stg", 50, 245, 26, 87},
};

// An independent longest-path computation straight from the graph's edges
// (Bellman-Ford style relaxation; no dfgpar code involved).
std::pair<double, double> naive_work_and_cp(const dfgpar::stg_graph& g) {
  const std::size_t V = num_vertices(g);
  std::vector<double> finish(V, 0);
  double work = 0;
  for (std::size_t v = 0; v < V; ++v) finish[v] = g[v].time, work += g[v].time;
  for (std::size_t round = 0; round < V; ++round)
    for (auto [e, end] = edges(g); e != end; ++e)
      finish[target(*e, g)] = std::max(finish[target(*e, g)], finish[source(*e, g)] + g[target(*e, g)].time);
  return {work, *std::max_element(finish.begin(), finish.end())};
}

dfgpar::dag_data to_dag_data(const dfgpar::stg_graph& g) {
  dfgpar::dag_data d;
  for (std::size_t v = 0; v < num_vertices(g); ++v) d.cost.push_back(g[v].time);
  for (auto [e, end] = edges(g); e != end; ++e) d.edges.emplace_back(source(*e, g), target(*e, g));
  d.comm.assign(d.edges.size(), 0.0);
  return d;
}

std::set<std::pair<std::size_t, std::size_t>> edge_set(const dfgpar::stg_graph& g) {
  std::set<std::pair<std::size_t, std::size_t>> out;
  for (auto [e, end] = edges(g); e != end; ++e) out.emplace(source(*e, g), target(*e, g));
  return out;
}

void check_same_graph(const dfgpar::stg_graph& a, const dfgpar::stg_graph& b) {
  REQUIRE(num_vertices(a) == num_vertices(b));
  for (std::size_t v = 0; v < num_vertices(a); ++v) {
    CHECK(a[v].id == b[v].id);
    CHECK(a[v].time == b[v].time);
  }
  CHECK(edge_set(a) == edge_set(b));
  CHECK(num_edges(a) == num_edges(b));
}

std::string error_of(const std::string& text, const std::string& name = "inline") {
  std::istringstream in(text);
  try {
    (void)dfgpar::read_stg(in, name);
  } catch (const dfgpar::graph_error& e) {
    return e.what();
  }
  return "";
}

// A stream that cannot seek (like a pipe): the reader cannot learn the size.
struct pipe_buf : std::streambuf {
  std::string data;
  explicit pipe_buf(std::string s) : data(std::move(s)) { setg(data.data(), data.data(), data.data() + data.size()); }
};

}  // namespace

TEST_CASE("[dfgpar] stg: the shared samples parse with the right n, W and CP") {
  for (const auto& s : samples) {
    CAPTURE(s.file);
    dfgpar::stg_info info;
    const auto g = dfgpar::read_stg_file(stg_samples + "/" + s.file, &info);
    CHECK(num_vertices(g) == s.n + 2);
    CHECK(info.tasks == s.n);
    CHECK(num_edges(g) == s.edges);
    CHECK(info.edges == s.edges);
    for (std::size_t v = 0; v < num_vertices(g); ++v) CHECK(g[v].id == static_cast<int>(v));
    CHECK(g[0].time == 0);
    CHECK(g[s.n + 1].time == 0);
    CHECK(in_degree(0, g) == 0);
    const auto [work, cp] = naive_work_and_cp(g);
    CHECK(work == s.work);
    CHECK(cp == s.critical_path);
    const auto b = dfgpar::compute_bounds(g, dfgpar::stg_times(g), 4);
    CHECK(b.work == s.work);
    CHECK(b.critical_path == s.critical_path);
    CHECK(dfgpar::critical_path(g, dfgpar::stg_times(g)).length == s.critical_path);
  }
}

TEST_CASE("[dfgpar] stg: sample01 keeps predecessors with higher ids") {
  const auto g = dfgpar::read_stg_file(stg_samples + "/sample01.stg");
  const auto e = edge_set(g);
  // "2 8000 3 7 9 5": task 2 waits for 7, 9 and 5
  CHECK(e.count({7, 2}) == 1);
  CHECK(e.count({9, 2}) == 1);
  CHECK(e.count({5, 2}) == 1);
  CHECK(e.count({10, 8}) == 1);  // "8 6000 2 10 5"
  CHECK(in_degree(2, g) == 3);
  CHECK(in_degree(11, g) == 4);
}

TEST_CASE("[dfgpar] stg: the samples schedule validly, never below the lower bound") {
  for (const auto& smp : samples) {
    const auto g = dfgpar::read_stg_file(stg_samples + "/" + smp.file);
    const auto cost = dfgpar::stg_times(g);
    for (std::size_t P : {1, 2, 3, 4, 8, 16}) {
      CAPTURE(smp.file);
      CAPTURE(P);
      dfgpar::merge_report report;
      const auto s = dfgpar::parallelize(g, cost, dfgpar::options{.workers = P, .effort = 0.2, .report = &report});
      CHECK(dfgpar::validation_error(g, s) == "");
      const double m = dfgpar::makespan(g, s, cost);
      const auto b = dfgpar::compute_bounds(g, cost, P);
      CHECK(m >= b.lower_bound);
      CHECK(m <= smp.work);  // no edge costs: the chosen list schedules never leave every worker idle
      CHECK(m == report.makespan);
      CHECK(!report.heuristic.empty());
      if (P == 1) CHECK(m == smp.work);
    }
  }
}

TEST_CASE_TEMPLATE("[dfgpar] stg: the samples give the same bounds on every graph type", G, DFGPAR_GRAPH_TYPES) {
  for (const auto& smp : samples) {
    CAPTURE(smp.file);
    const auto stg = dfgpar::read_stg_file(stg_samples + "/" + smp.file);
    const G g = dfgpar_test::build<G>(to_dag_data(stg));
    const auto b = dfgpar::compute_bounds(g, dfgpar_test::cost_map(g), 3);
    CHECK(b.work == smp.work);
    CHECK(b.critical_path == smp.critical_path);
    const auto s = dfgpar::parallelize(g, dfgpar_test::cost_map(g), dfgpar::options{.workers = 3, .effort = 0});
    CHECK(dfgpar::validate(g, s));
    CHECK(dfgpar::makespan(g, s, dfgpar_test::cost_map(g)) >= b.lower_bound);
  }
}

TEST_CASE("[dfgpar] stg: every malformed file is a graph_error naming the line") {
  struct bad {
    const char* file;
    int line;
    const char* says;
  };
  const bad cases[] = {
      {"empty.stg", 1, "empty file"},
      {"only_comments.stg", 4, "no number of tasks"},
      {"bad_count.stg", 1, "bad number of tasks 'eight'"},
      {"overflow_count.stg", 1, "too large"},
      {"count_garbage.stg", 1, "trailing garbage '3'"},
      {"huge_count.stg", 1, "can hold at most"},
      {"bad_number.stg", 3, "bad processing time '1x5'"},
      {"nan_time.stg", 3, "bad processing time 'nan'"},
      {"negative_time.stg", 5, "negative processing time"},
      {"short_line.stg", 3, "found 2 fields"},
      {"too_few_preds.stg", 5, "declares 3 predecessors but lists only 2"},
      {"too_many_preds.stg", 4, "declares 1 predecessor but lists 2"},
      {"trailing_garbage.stg", 4, "trailing garbage 'oops'"},
      {"pred_out_of_range.stg", 5, "predecessor 7 of task 3 is out of range 0..4"},
      {"id_out_of_range.stg", 4, "task id 9 is out of range 0..4"},
      {"duplicate_id.stg", 5, "task 2 is defined twice (first on line 4)"},
      {"duplicate_pred.stg", 5, "lists predecessor 2 twice"},
      {"missing_task.stg", 15, "missing task 2"},
      {"self_loop.stg", 4, "task 2 lists itself"},
      {"cycle.stg", 4, "cycle: task 2 -> task 3 -> task 4 -> task 2"},
      {"entry_time.stg", 2, "dummy entry task 0 must take time 0"},
      {"exit_time.stg", 5, "dummy exit task 3 must take time 0"},
      {"entry_with_preds.stg", 2, "entry task 0 must have no predecessors"},
  };
  for (const auto& c : cases) {
    const std::string path = test_data + "/" + c.file;
    CAPTURE(path);
    std::string msg;
    try {
      (void)dfgpar::read_stg_file(path);
    } catch (const dfgpar::graph_error& e) {
      msg = e.what();
    }
    CHECK(msg.rfind(path + ":" + std::to_string(c.line) + ": ", 0) == 0);
    CHECK(msg.find(c.says) != std::string::npos);
    CHECK(msg.find('\n') == std::string::npos);
  }
}

TEST_CASE("[dfgpar] stg: streams are named in errors, and unopenable files are errors") {
  CHECK(error_of("2\n0 0 0\n1 1 1 0\n2 x 1 1\n3 0 1 2\n", "mem") == "mem:4: bad processing time 'x' of task 2 (expected a number)");
  CHECK(error_of("") == "inline:1: empty file: expected the number of tasks");
  CHECK(error_of("1\n0 0 0\n1 1 1 0\n2 0 1 1 # trailing comment\n").find("inline:4: trailing garbage '#'") == 0);
  CHECK(error_of("1\n0 0 0\n1 +1 1 0\n2 0 1 1\n").find("inline:3: bad processing time '+1'") == 0);
  CHECK(error_of("1\n0 0 0\n1 1 -1 0\n2 0 1 1\n").find("inline:3: bad number of predecessors '-1'") == 0);
  CHECK(error_of("1\n0 0 0\n1 1 1 2\n2 0 1 1\n").find("inline:3: the dummy exit task 2 cannot precede task 1") == 0);
  CHECK(error_of("1\n0 0 0\n1 1 99999999999999999999 0\n2 0 1 1\n").find("inline:3: the number of predecessors") == 0);
  CHECK_THROWS_AS((void)dfgpar::read_stg_file(test_data + "/no_such_file.stg"), dfgpar::graph_error);
  CHECK_THROWS_AS((void)dfgpar::read_stg_file(test_data), dfgpar::graph_error);  // a directory
}

TEST_CASE("[dfgpar] stg: a huge count on a stream that cannot seek fails at the end, without allocating for it") {
  pipe_buf buf("2147483645\n0 0 0\n1 1 1 0\n");
  std::istream in(&buf);
  std::string msg;
  try {
    (void)dfgpar::read_stg(in, "pipe");
  } catch (const dfgpar::graph_error& e) {
    msg = e.what();
  }
  CHECK(msg.rfind("pipe:3: the file ends after 2 of 2147483647 task lines", 0) == 0);
  CHECK(msg.find("missing tasks 2, 3, 4, 5, 6, 7, 8, 9, ...") != std::string::npos);
  CHECK(error_of("2147483646\n").find("inline:1: the number of tasks 2147483646 is too large") == 0);
}

TEST_CASE("[dfgpar] stg: comments, blank lines, tabs, CRLF, any task order, and the information part") {
  dfgpar::stg_info info;
  const auto g = dfgpar::read_stg_file(test_data + "/with_info.stg", &info);
  REQUIRE(num_vertices(g) == 7);
  const std::vector<double> times{0, 2, 3, 4, 1, 6, 0};
  for (std::size_t v = 0; v < 7; ++v) CHECK(g[v].time == times[v]);
  CHECK(edge_set(g) == std::set<std::pair<std::size_t, std::size_t>>{{0, 1}, {1, 2}, {1, 3}, {2, 4}, {3, 4}, {0, 5}, {4, 6}, {5, 6}});
  const auto b = dfgpar::compute_bounds(g, dfgpar::stg_times(g), 2);
  CHECK(b.work == 16);
  CHECK(b.critical_path == 7);
  CHECK(info.tasks == 5);
  REQUIRE(info.critical_path.has_value());
  CHECK(*info.critical_path == 7);
  REQUIRE(info.parallelism.has_value());
  CHECK(*info.parallelism == doctest::Approx(2.286));
  REQUIRE(info.fact("tasks") != nullptr);
  CHECK(*info.fact("tasks") == "5 (+dummy tasks : 2)");
  CHECK(info.fact("no such key") == nullptr);
  CHECK(std::find(info.comments.begin(), info.comments.end(), "comment between tasks") != info.comments.end());
  // a task-like line after the graph is commentary, not a task
  CHECK(info.comments.back().rfind("3 4 1 1 this line", 0) == 0);
}

TEST_CASE("[dfgpar] stg: write_stg then read_stg gives the same graph") {
  for (const auto& smp : samples) {
    CAPTURE(smp.file);
    const auto g = dfgpar::read_stg_file(stg_samples + "/" + smp.file);
    std::ostringstream out;
    dfgpar::write_stg(out, g);
    std::istringstream in(out.str());
    check_same_graph(g, dfgpar::read_stg(in, "round trip"));
  }
  // the writer uses the samples' layout: sample00 lists predecessors in increasing order
  std::ifstream f(stg_samples + "/sample00.stg", std::ios::binary);
  const std::string original((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::ostringstream out;
  dfgpar::write_stg(out, dfgpar::read_stg_file(stg_samples + "/sample00.stg"));
  CHECK(out.str() == original);
  // non-integer times survive exactly
  dfgpar::stg_graph h(3);
  for (int v = 0; v < 3; ++v) h[v].id = v;
  h[1].time = 0.1;
  add_edge(0, 1, h);
  add_edge(1, 2, h);
  std::ostringstream o2;
  dfgpar::write_stg(o2, h);
  std::istringstream i2(o2.str());
  check_same_graph(h, dfgpar::read_stg(i2));
}

TEST_CASE_TEMPLATE("[dfgpar] stg: any graph written with dummies reads back with the same W and CP", G, DFGPAR_GRAPH_TYPES) {
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    const auto d = dfgpar::random_dag({.vertices = 60, .out_degree = 3, .seed = seed});
    const G g = dfgpar_test::build<G>(d);
    std::ostringstream out;
    dfgpar::write_stg(out, g, dfgpar_test::cost_map(g));
    std::istringstream in(out.str());
    const auto back = dfgpar::read_stg(in, "written");
    REQUIRE(num_vertices(back) == 62);
    const auto b0 = dfgpar::compute_bounds(g, dfgpar_test::cost_map(g), 4);
    const auto b1 = dfgpar::compute_bounds(back, dfgpar::stg_times(back), 4);
    CHECK(b0.work == b1.work);
    CHECK(b0.critical_path == b1.critical_path);
    for (std::size_t v = 0; v < 60; ++v) CHECK(back[v + 1].time == d.cost[v]);
    // every original edge is there, shifted by one
    const auto e = edge_set(back);
    for (auto [u, v] : d.edges) CHECK(e.count({u + 1, v + 1}) == 1);
  }
}

TEST_CASE("[dfgpar] stg: damaged files give graph_error or a graph, never anything else") {
  std::ifstream f(stg_samples + "/sample00.stg", std::ios::binary);
  const std::string original((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  REQUIRE(!original.empty());
  std::mt19937_64 rng(42);
  const std::string alphabet = "0123456789 -#x\n\t.9";
  std::size_t errors = 0, parsed = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::string s = original;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < edits; ++k) {
      const std::size_t at = rng() % s.size();
      switch (rng() % 3) {
        case 0: s[at] = alphabet[rng() % alphabet.size()]; break;
        case 1: s.erase(at, 1 + rng() % 12); break;
        default: s.insert(at, 1, alphabet[rng() % alphabet.size()]); break;
      }
      if (s.empty()) s = "\n";
    }
    std::istringstream in(s);
    try {
      const auto g = dfgpar::read_stg(in, "fuzz");
      ++parsed;
      CHECK(dfgpar::validate(g, dfgpar::parallelize(g, dfgpar::stg_times(g), dfgpar::options{.workers = 2, .effort = 0})));
    } catch (const dfgpar::graph_error& e) {
      ++errors;
      const std::string msg = e.what();
      CHECK(msg.rfind("fuzz:", 0) == 0);
      CHECK(msg.find('\n') == std::string::npos);
    }
  }
  CHECK(errors > 0);
  CHECK(parsed > 0);
}
