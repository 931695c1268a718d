// Graphviz DOT and JSON report writers.

#include <dfgpar/dfgpar.hpp>

#include "graph_types.hpp"

#include <doctest/doctest.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#ifndef DFGPAR_SHARED_DATA_DIR
#define DFGPAR_SHARED_DATA_DIR "tests/data"  // the STG samples live in tests/data/stg
#endif

namespace {

std::size_t count(std::string_view hay, std::string_view needle) {
  std::size_t k = 0;
  for (auto at = hay.find(needle); at != std::string_view::npos; at = hay.find(needle, at + needle.size())) ++k;
  return k;
}

// A strict JSON syntax checker (RFC 8259), enough to prove the output parses.
struct json_checker {
  std::string_view s;
  std::size_t i = 0;
  void ws() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) ++i;
  }
  bool lit(std::string_view w) {
    if (s.substr(i, w.size()) != w) return false;
    i += w.size();
    return true;
  }
  bool string() {
    if (!lit("\"")) return false;
    while (i < s.size()) {
      const auto c = static_cast<unsigned char>(s[i++]);
      if (c == '"') return true;
      if (c < 0x20) return false;
      if (c == '\\') {
        if (i >= s.size()) return false;
        const char e = s[i++];
        if (e == 'u') {
          for (int k = 0; k < 4; ++k, ++i)
            if (i >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
        } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
          return false;
        }
      }
    }
    return false;
  }
  bool number() {
    const std::size_t b = i;
    lit("-");
    if (lit("0")) {
    } else if (i < s.size() && s[i] >= '1' && s[i] <= '9') {
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    } else {
      return false;
    }
    if (lit(".")) {
      const std::size_t d = i;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
      if (i == d) return false;
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
      ++i;
      if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
      const std::size_t d = i;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
      if (i == d) return false;
    }
    return i > b;
  }
  bool value(int depth = 0) {
    if (depth > 64) return false;
    ws();
    if (i >= s.size()) return false;
    bool ok;
    if (s[i] == '{') {
      ++i;
      ws();
      ok = true;
      if (!lit("}")) {
        do {
          ws();
          ok = string();
          ws();
          ok = ok && lit(":") && value(depth + 1);
          ws();
        } while (ok && lit(","));
        ok = ok && lit("}");
      }
    } else if (s[i] == '[') {
      ++i;
      ws();
      ok = true;
      if (!lit("]")) {
        do ok = value(depth + 1), ws();
        while (ok && lit(","));
        ok = ok && lit("]");
      }
    } else if (s[i] == '"') {
      ok = string();
    } else {
      ok = lit("true") || lit("false") || lit("null") || number();
    }
    ws();
    return ok;
  }
  static bool valid(std::string_view text) {
    json_checker c{text};
    return c.value() && c.i == text.size();
  }
};

// The number printed after `"key": ` (first occurrence), as text.
std::string field(const std::string& json, const std::string& key) {
  const std::string k = "\"" + key + "\": ";
  const auto at = json.find(k);
  if (at == std::string::npos) return "<missing>";
  const auto b = at + k.size();
  return json.substr(b, json.find_first_of(",}\n", b) - b);
}

bool have_dot() { return std::system("command -v dot >/dev/null 2>&1") == 0; }

// Runs `dot -Tsvg` on the text; returns its exit status (0: it rendered).
int render_with_dot(const std::string& text) {
  std::random_device rd;
  const auto dir = std::filesystem::temp_directory_path();
  const auto base = dir / ("dfgpar_test_" + std::to_string(rd()) + "_" + std::to_string(rd()));
  const auto in = base.string() + ".dot", out = base.string() + ".svg", err = base.string() + ".err";
  {
    std::ofstream f(in, std::ios::binary);
    f << text;
  }
  const int rc = std::system(("dot -Tsvg '" + in + "' -o '" + out + "' 2>'" + err + "'").c_str());
  std::ifstream e(err);
  const std::string warnings((std::istreambuf_iterator<char>(e)), std::istreambuf_iterator<char>());
  if (!warnings.empty()) MESSAGE("dot said: " << warnings);
  std::error_code ec;
  const bool svg = std::filesystem::file_size(out, ec) > 0 && !ec;
  for (const auto& p : {in, out, err}) std::filesystem::remove(p, ec);
  return rc == 0 && svg ? 0 : (rc == 0 ? -1 : rc);
}

// Labels that break naive writers.
const std::vector<std::string> nasty = {
    "plain",
    "a \"quoted\" name",
    "back\\slash and \\N \\G \\l escapes",
    "two\nlines\r\nand\rcarriage",
    "tab\there, bell\a, nul-free control \x01\x1f",
    "braces { } [ ] ; , = -> <html>",
    "unicode: caf\xC3\xA9 \xE2\x86\x92 \xF0\x9F\x98\x80",
    "broken utf-8: \xFF \xC3 \xE2\x82 end",
    "trailing backslash \\",
    "",
};

// 0 -> 1, 0 -> 2, 1 -> 3, 2 -> 3, with vertex 0 cloned into both clusters.
dfgpar::dag_data diamond() { return dfgpar_test::make_dag({1, 5, 7, 2}, {{0, 1}, {0, 2}, {1, 3}, {2, 3}}, {3, 3, 3, 3}); }

template <class G>
dfgpar::schedule diamond_with_clone(const G& g) {
  dfgpar::schedule s;
  s.workers = 2;
  s.clusters = {{0, {0, 1, 3}}, {1, {0, 2}}};
  dfgpar::finalize(g, s);
  return s;
}

}  // namespace

TEST_CASE("[dfgpar] io: JSON string escaping") {
  // the one quoter of every JSON writer (report, profile, safetensors header)
  const auto json_quote = [](std::string_view s) { return dfgpar::detail::json::quote(s); };
  CHECK(json_quote("") == "\"\"");
  CHECK(json_quote("a\"b\\c/d") == "\"a\\\"b\\\\c/d\"");
  CHECK(json_quote("\n\r\t\b\f") == "\"\\n\\r\\t\\b\\f\"");
  CHECK(json_quote(std::string("\x01\x1f\x7f", 3)) == "\"\\u0001\\u001f\x7f\"");
  CHECK(json_quote(std::string("nul\0x", 5)) == "\"nul\\u0000x\"");
  CHECK(json_quote("caf\xC3\xA9 \xF0\x9F\x98\x80") == "\"caf\xC3\xA9 \xF0\x9F\x98\x80\"");  // UTF-8 passes
  CHECK(json_quote("\xFF") == "\"\xEF\xBF\xBD\"");                                    // invalid byte -> U+FFFD
  CHECK(json_quote("\xC0\xAF") == "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");                    // overlong '/'
  CHECK(json_quote("\xED\xA0\x80") == "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");    // surrogate
  CHECK(json_quote("\xE2\x82") == "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");                    // truncated
  CHECK(json_quote("\xF4\x8F\xBF\xBF") == "\"\xF4\x8F\xBF\xBF\"");                    // U+10FFFF passes
  const std::string fffd = "\xEF\xBF\xBD";
  CHECK(json_quote("\xF4\x90\x80\x80") == "\"" + fffd + fffd + fffd + fffd + "\"");  // above U+10FFFF
  CHECK(json_quote("\xF8\x80\x80") == "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");     // no 5-byte forms
  for (const auto& s : nasty) CHECK(json_checker::valid(json_quote(s)));
  // valid UTF-8 reads back unchanged; anything reads back as valid UTF-8
  for (const std::string s : {"", "plain", "caf\xC3\xA9 \xF0\x9F\x98\x80", "a\"b\\c\n\x01\x7f", "\xE6\x97\xA5\xE6\x9C\xAC"})
    CHECK(dfgpar::detail::json::parse(json_quote(s)).string() == s);
  for (const auto& s : nasty) {
    const std::string back = dfgpar::detail::json::parse(json_quote(s)).string();
    for (std::size_t i = 0; i < back.size(); i += dfgpar::detail::utf8_sequence_length(back, i))
      REQUIRE(dfgpar::detail::utf8_sequence_length(back, i) > 0);
  }
}

TEST_CASE("[dfgpar] io: DOT string escaping") {
  using dfgpar::detail::dot_quote;
  CHECK(dot_quote("a\"b") == "\"a\\\"b\"");
  CHECK(dot_quote("a\\nb") == "\"a\\\\nb\"");  // a literal backslash-n stays literal
  CHECK(dot_quote("a\nb") == "\"a\\nb\"");     // a real line break becomes a DOT line break
  CHECK(dot_quote("a\r\nb") == "\"a\\nb\"");
  CHECK(dot_quote("x\\") == "\"x\\\\\"");
  CHECK(dot_quote("\xFF") == "\"\xEF\xBF\xBD\"");
  // Graphviz rejects one quoted string over 16384 bytes: long ones come in pieces
  const std::string q = dot_quote(std::string(40000, '"'));
  CHECK(count(q, "\" + \"") >= 9);
  if (have_dot()) CHECK(render_with_dot("digraph { a [label=" + q + "]; }") == 0);
  for (const auto& s : nasty) {
    const std::string q = dot_quote(s);
    // no unescaped quote inside, no raw control character
    for (std::size_t i = 1; i + 1 < q.size(); ++i) {
      CHECK(static_cast<unsigned char>(q[i]) >= 0x20);
      if (q[i] == '\\') ++i;
      else CHECK(q[i] != '"');
    }
  }
}

TEST_CASE("[dfgpar] io: numbers are shortest round-trip") {
  using dfgpar::detail::format_number;
  CHECK(format_number(0) == "0");
  CHECK(format_number(1000000) == "1000000");
  CHECK(format_number(0.1) == "0.1");
  CHECK(format_number(-2.5) == "-2.5");
  CHECK(std::stod(format_number(1.0 / 3)) == 1.0 / 3);
  CHECK(std::stod(format_number(1e300)) == 1e300);
  CHECK(dfgpar::detail::json_number(std::numeric_limits<double>::infinity()) == "null");
}

TEST_CASE_TEMPLATE("[dfgpar] io: DOT has one subgraph per cluster and marks cross-worker edges", G, DFGPAR_GRAPH_TYPES) {
  for (std::size_t P : {1, 2, 4}) {
    CAPTURE(P);
    const G g = dfgpar_test::build<G>(dfgpar::random_dag({.vertices = 40, .out_degree = 3, .seed = 7}));
    const auto s = dfgpar::parallelize(g, dfgpar_test::cost_map(g), dfgpar::options{.workers = P, .effort = 0});
    std::ostringstream out;
    dfgpar::write_dot(out, g, s);
    const std::string dot = out.str();
    CHECK(dot.rfind("digraph dfgpar {", 0) == 0);
    CHECK(count(dot, "subgraph cluster_") == s.clusters.size());
    CHECK(count(dot, "[color=red,") == s.num_cross_worker_edges());
    CHECK(count(dot, " -> ") == num_edges(g));
    CHECK(count(dot, "[label=") == s.num_copies());
    if (P == 1) CHECK(count(dot, "color=red") == 0);
    std::ostringstream again;
    dfgpar::write_dot(again, g, s);
    CHECK(again.str() == dot);
  }
}

TEST_CASE_TEMPLATE("[dfgpar] io: DOT shows cloned copies and escapes any label", G, DFGPAR_GRAPH_TYPES) {
  const G g = dfgpar_test::build<G>(diamond());
  const auto s = diamond_with_clone(g);
  REQUIRE(dfgpar::validate(g, s));
  std::ostringstream out;
  dfgpar::write_dot(out, g, s, [&](auto v) { return nasty[dfgpar::detail::index_of(g, v) % nasty.size()] + "!"; });
  const std::string dot = out.str();
  CHECK(count(dot, "subgraph cluster_") == 2);
  CHECK(count(dot, "peripheries=2") == 1);  // the clone in cluster 1
  CHECK(dot.find("v0_c1 [label=") != std::string::npos);
  CHECK(dot.find("v0_c1 -> v2;") != std::string::npos);  // cluster 1 reads its own copy
  CHECK(count(dot, "color=red") == 1);                    // only 2 -> 3 crosses workers
  if (have_dot()) CHECK(render_with_dot(dot) == 0);
}

TEST_CASE("[dfgpar] io: DOT of every STG sample renders with dot") {
  if (!have_dot()) return;
  for (const char* f : {"sample00.stg", "sample01.stg", "sample02.stg", "sample04.stg"}) {
    CAPTURE(f);
    const auto g = dfgpar::read_stg_file(std::string(DFGPAR_SHARED_DATA_DIR) + "/stg/" + f);
    const auto s = dfgpar::parallelize(g, dfgpar::stg_times(g), dfgpar::options{.workers = 3, .effort = 0});
    std::ostringstream out;
    dfgpar::write_dot(out, g, s, [&](auto v) { return "T" + std::to_string(g[v].id) + "\n\"" + std::to_string(g[v].time) + "\""; });
    CHECK(render_with_dot(out.str()) == 0);
  }
}

TEST_CASE_TEMPLATE("[dfgpar] io: JSON report has the right totals and parses", G, DFGPAR_GRAPH_TYPES) {
  for (std::uint64_t seed : {3, 4}) {
    for (std::size_t P : {1, 3, 8}) {
      CAPTURE(seed);
      CAPTURE(P);
      const G g = dfgpar_test::build<G>(dfgpar::random_dag({.vertices = 50, .out_degree = 3, .comm_ratio = 0.3, .seed = seed}));
      const auto cost = dfgpar_test::cost_map(g);
      const auto comm = dfgpar_test::comm_map(g);
      const auto s = dfgpar::parallelize(g, cost, comm, dfgpar::options{.workers = P, .effort = 0});
      const auto b = dfgpar::compute_bounds(g, cost, P);
      const double m = dfgpar::makespan(g, s, cost, comm);
      std::ostringstream out;
      dfgpar::write_json_report(out, g, s, cost, comm, [](auto v) { return "op \"" + std::to_string(v) + "\"\n"; });
      const std::string json = out.str();
      CHECK(json_checker::valid(json));
      CHECK(field(json, "vertices") == "50");
      CHECK(field(json, "edges") == std::to_string(num_edges(g)));
      CHECK(field(json, "workers") == std::to_string(P));
      CHECK(field(json, "clusters") == std::to_string(s.clusters.size()));
      CHECK(std::stod(field(json, "work")) == b.work);
      CHECK(std::stod(field(json, "critical_path")) == b.critical_path);
      CHECK(std::stod(field(json, "lower_bound")) == b.lower_bound);
      CHECK(std::stod(field(json, "makespan")) == m);
      CHECK(std::stod(field(json, "speedup")) == b.work / m);
      CHECK(field(json, "cross_worker_edges") == std::to_string(s.num_cross_worker_edges()));
      CHECK(field(json, "clones") == "0");
      CHECK(count(json, "{\"index\": ") == s.clusters.size());
      CHECK(count(json, "{\"id\": ") == s.num_copies());
      CHECK(json.find("\"label\": \"op \\\"0\\\"\\n\"") != std::string::npos);
      // cluster times agree with simulate_clusters
      const auto ct = dfgpar::simulate_clusters(g, s, cost, comm);
      for (std::size_t c = 0; c < s.clusters.size(); ++c) {
        const std::string head = "{\"index\": " + std::to_string(c) + ", \"worker\": " + std::to_string(s.clusters[c].worker) +
                                 ", \"start\": " + dfgpar::detail::format_number(ct.start[c]) +
                                 ", \"finish\": " + dfgpar::detail::format_number(ct.finish[c]) + ",";
        CHECK(json.find(head) != std::string::npos);
      }
      std::ostringstream again;
      dfgpar::write_json_report(again, g, s, cost, comm, [](auto v) { return "op \"" + std::to_string(v) + "\"\n"; });
      CHECK(again.str() == json);
    }
  }
}

TEST_CASE_TEMPLATE("[dfgpar] io: JSON report overloads, clones and nasty labels", G, DFGPAR_GRAPH_TYPES) {
  const G g = dfgpar_test::build<G>(diamond());
  const auto cost = dfgpar_test::cost_map(g);
  const auto s = diamond_with_clone(g);
  std::ostringstream a, b, c, d;
  dfgpar::write_json_report(a, g, s, cost);                                      // no comm, index labels
  dfgpar::write_json_report(b, g, s, cost, dfgpar_test::comm_map(g));            // comm
  dfgpar::write_json_report(c, g, s, cost, [](auto v) { return nasty[v % nasty.size()]; });  // labels
  dfgpar::write_json_report(d, g, s, cost, dfgpar::no_edge_cost{}, [](auto) { return std::string_view("x"); });
  for (const auto* o : {&a, &b, &c, &d}) {
    CHECK(json_checker::valid(o->str()));
    CHECK(field(o->str(), "clones") == "1");
    CHECK(count(o->str(), "\"clone\": true") == 1);
    CHECK(field(o->str(), "cross_worker_edges") == "1");
  }
  // 0 (1) on both workers; 1 (5) then 3 (2) on worker 0; 2 (7) on worker 1; 2 -> 3 crosses
  CHECK(field(a.str(), "makespan") == "10");  // 1 + 7, then 3 runs 8..10
  CHECK(field(b.str(), "makespan") == "13");  // + 3 for the edge 2 -> 3
  CHECK(field(a.str(), "work") == "15");
  CHECK(a.str().find("\"label\": \"0\"") != std::string::npos);
  CHECK(d.str().find("\"label\": \"x\"") != std::string::npos);
}

TEST_CASE("[dfgpar] io: writers refuse a schedule that does not fit the graph") {
  using G = dfgpar_test::vec_graph;
  const G g = dfgpar_test::build<G>(diamond());
  dfgpar::schedule s;
  s.workers = 2;
  s.num_vertices = 4;
  s.home = {0, 0, 0, dfgpar::schedule::npos};
  s.clusters = {{0, {0, 1, 2}}};  // vertex 3 missing
  std::ostringstream out;
  CHECK_THROWS_AS(dfgpar::write_dot(out, g, s), dfgpar::graph_error);
  CHECK_THROWS_AS(dfgpar::write_json_report(out, g, s, dfgpar_test::cost_map(g)), dfgpar::graph_error);
}

TEST_CASE("[dfgpar] io: empty graph") {
  using G = dfgpar_test::vec_graph;
  const G g;
  const auto s = dfgpar::parallelize(g, dfgpar_test::cost_map(g), dfgpar::options{.workers = 2});
  std::ostringstream dot, json;
  dfgpar::write_dot(dot, g, s);
  dfgpar::write_json_report(json, g, s, dfgpar_test::cost_map(g));
  CHECK(json_checker::valid(json.str()));
  CHECK(field(json.str(), "vertices") == "0");
  CHECK(field(json.str(), "speedup") == "1");
  if (have_dot()) CHECK(render_with_dot(dot.str()) == 0);
}
