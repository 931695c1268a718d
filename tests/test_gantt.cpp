// SVG Gantt chart writer.

#include <dfgpar/dfgpar.hpp>

#include "graph_types.hpp"

#include <doctest/doctest.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

std::size_t count(std::string_view hay, std::string_view needle) {
  std::size_t k = 0;
  for (auto at = hay.find(needle); at != std::string_view::npos; at = hay.find(needle, at + needle.size())) ++k;
  return k;
}

// A small well-formedness checker for the XML subset an SVG writer produces:
// one prolog, one root element, matched tags, quoted attributes without a
// duplicate, only the five predefined entities and numeric character
// references, no raw '<' or '&' in text, no control characters, valid UTF-8.
// Records every element name with its attributes.
struct xml_checker {
  std::string_view s;
  std::size_t i = 0;
  std::string error{};
  std::vector<std::pair<std::string, std::map<std::string, std::string>>> elements{};

  bool fail(std::string what) {
    if (error.empty()) error = what + " at byte " + std::to_string(i);
    return false;
  }
  static bool name_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == ':' || c == '.';
  }
  std::string name() {
    const std::size_t b = i;
    while (i < s.size() && name_char(s[i])) ++i;
    return std::string(s.substr(b, i - b));
  }
  void ws() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) ++i;
  }
  // character data up to `stop`; checks references, control bytes and UTF-8
  bool chars(char stop) {
    while (i < s.size() && s[i] != stop) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c == '<') return fail("raw '<' in text");
      if (c < 0x20 && c != '\n' && c != '\r' && c != '\t') return fail("control character");
      if (c == '&') {
        const auto end = s.find(';', i);
        if (end == std::string_view::npos) return fail("unterminated reference");
        const std::string_view ref = s.substr(i + 1, end - i - 1);
        const bool named = ref == "amp" || ref == "lt" || ref == "gt" || ref == "quot" || ref == "apos";
        bool numeric = ref.size() > 1 && ref[0] == '#';
        for (std::size_t k = 1; numeric && k < ref.size(); ++k)
          numeric = std::isdigit(static_cast<unsigned char>(ref[k])) != 0;
        if (!named && !numeric) return fail("bad reference &" + std::string(ref) + ";");
        i = end + 1;
        continue;
      }
      if (c >= 0x80) {
        const std::size_t len = dfgpar::detail::utf8_sequence_length(s, i);
        if (len == 0) return fail("invalid UTF-8");
        i += len;
        continue;
      }
      ++i;
    }
    return true;
  }
  bool element(int depth) {
    if (depth > 64) return fail("too deep");
    if (s.substr(i, 1) != "<") return fail("expected '<'");
    ++i;
    const std::string tag = name();
    if (tag.empty()) return fail("empty tag name");
    std::map<std::string, std::string> attrs;
    for (;;) {
      const std::size_t before = i;
      ws();
      if (s.substr(i, 2) == "/>") {
        i += 2;
        elements.emplace_back(tag, attrs);
        return true;
      }
      if (s.substr(i, 1) == ">") {
        ++i;
        break;
      }
      if (i == before) return fail("no space before attribute");
      const std::string a = name();
      if (a.empty() || s.substr(i, 2) != "=\"") return fail("bad attribute in <" + tag + ">");
      i += 2;
      const std::size_t vb = i;
      if (!chars('"')) return false;
      if (i >= s.size()) return fail("unterminated attribute");
      if (!attrs.emplace(a, std::string(s.substr(vb, i - vb))).second) return fail("duplicate attribute " + a);
      ++i;
    }
    elements.emplace_back(tag, attrs);
    for (;;) {
      if (!chars('<')) return false;
      if (i >= s.size()) return fail("unclosed <" + tag + ">");
      if (s.substr(i, 2) == "</") {
        i += 2;
        if (name() != tag) return fail("mismatched </...> for <" + tag + ">");
        ws();
        if (s.substr(i, 1) != ">") return fail("bad end tag");
        ++i;
        return true;
      }
      if (!element(depth + 1)) return false;
    }
  }
  bool document() {
    if (s.substr(0, 5) != "<?xml") return fail("no XML declaration");
    const auto end = s.find("?>");
    if (end == std::string_view::npos) return fail("unterminated declaration");
    i = end + 2;
    ws();
    if (!element(0)) return false;
    ws();
    return i == s.size() || fail("content after the root element");
  }
  std::size_t count(std::string_view tag, std::string_view cls = {}) const {
    std::size_t k = 0;
    for (const auto& [t, a] : elements) {
      auto c = a.find("class");
      k += t == tag && (cls.empty() || (c != a.end() && c->second == cls)) ? 1 : 0;
    }
    return k;
  }
};

std::string check_xml(const std::string& svg) {
  xml_checker x{svg};
  return x.document() ? std::string() : x.error;
}

// xmllint, where installed, as a second opinion.
void xmllint_agrees(const std::string& svg) {
  if (std::system("xmllint --version >/dev/null 2>&1") != 0) return;
  const auto file = std::filesystem::temp_directory_path() / ("dfgpar_gantt_" + std::to_string(std::rand()) + ".svg");
  {
    std::ofstream f(file, std::ios::binary);
    f << svg;
  }
  const int rc = std::system(("xmllint --noout '" + file.string() + "' 2>/dev/null").c_str());
  std::filesystem::remove(file);
  CHECK_MESSAGE(rc == 0, "xmllint rejects the SVG");
}

// A fork-join graph: 0 -> {1,2,3} -> 4, with edge costs.
const dfgpar::dag_data fork_join =
    dfgpar_test::make_dag({1, 4, 3, 2, 1}, {{0, 1}, {0, 2}, {0, 3}, {1, 4}, {2, 4}, {3, 4}}, {1, 1, 1, 1, 1, 1});

}  // namespace

TEST_CASE("[dfgpar] gantt: XML escaping") {
  using dfgpar::detail::xml_escape;
  CHECK(xml_escape("a<b>&\"c'") == "a&lt;b&gt;&amp;&quot;c&apos;");
  CHECK(xml_escape("x\ny") == "x&#10;y");
  CHECK(xml_escape(std::string("a\x01\x1f\x7f" "b", 5)) == "a   b");
  CHECK(xml_escape("\xff") == "\xEF\xBF\xBD");                // invalid byte
  CHECK(xml_escape("\xEF\xBF\xBF") == "\xEF\xBF\xBD");        // U+FFFF is not an XML character
  CHECK(xml_escape("caf\xC3\xA9") == "caf\xC3\xA9");          // valid UTF-8 passes through
  CHECK(xml_escape("abcdef", 3) == "abc\xE2\x80\xA6");        // cut with an ellipsis
  CHECK(xml_escape("\xC3\xA9\xC3\xA9\xC3\xA9", 2) == "\xC3\xA9\xC3\xA9\xE2\x80\xA6");  // cut between code points
  CHECK(xml_escape("abc", 3) == "abc");
}

TEST_CASE("[dfgpar] gantt: tick steps are 1, 2 or 5 x 10^k") {
  using dfgpar::detail::tick_step;
  CHECK(tick_step(100) == doctest::Approx(10));
  CHECK(tick_step(37) == doctest::Approx(5));
  CHECK(tick_step(0.9) == doctest::Approx(0.1));
  CHECK(tick_step(1500) == doctest::Approx(200));
  CHECK(tick_step(0) == 1);
}

TEST_CASE_TEMPLATE("[dfgpar] gantt: one box per vertex copy, one row per worker, well-formed", G, DFGPAR_GRAPH_TYPES) {
  const auto dag = dfgpar::random_dag({.vertices = 60, .comm_ratio = 0.3, .seed = 7});
  const G g = dfgpar_test::build<G>(dag);
  const auto cost = dfgpar_test::cost_map(g);
  const auto comm = dfgpar_test::comm_map(g);
  for (std::size_t P : {1u, 3u}) {
    const auto s = dfgpar::parallelize(g, cost, comm, dfgpar::options{.workers = P});
    std::ostringstream os;
    dfgpar::write_gantt_svg(os, g, s, cost, comm, [&](auto v) { return "v" + std::to_string(dfgpar::detail::index_of(g, v)); });
    const std::string svg = os.str();
    xml_checker x{svg};
    REQUIRE_MESSAGE(x.document(), x.error);
    CHECK(x.count("rect", "box") == s.num_copies());
    CHECK(x.count("title") == s.num_copies() + 2);  // boxes, the document, the lower-bound line
    CHECK(count(svg, ">worker ") == P);
    // every box lies inside the plot and has a positive width
    for (const auto& [tag, a] : x.elements)
      if (tag == "rect" && a.count("class")) {
        CHECK(std::stod(a.at("x")) >= 80 - 1e-9);
        CHECK(std::stod(a.at("x")) + std::stod(a.at("width")) <= 1200 - 24 + 0.01);
        CHECK(std::stod(a.at("width")) > 0);
      }
    xmllint_agrees(svg);
  }
}

TEST_CASE_TEMPLATE("[dfgpar] gantt: boxes sit at the simulated times", G, DFGPAR_GRAPH_TYPES) {
  // a chain on one worker: boxes at 0, 2, 5 with widths proportional to cost
  const G g = dfgpar_test::build<G>(dfgpar_test::make_dag({2, 3, 5}, {{0, 1}, {1, 2}}));
  dfgpar::schedule s;
  s.workers = 1;
  s.num_vertices = 3;
  s.clusters = {{0, {0, 1, 2}}};
  s.home = {0, 0, 0};
  std::ostringstream os;
  dfgpar::write_gantt_svg(os, g, s, dfgpar_test::cost_map(g), dfgpar::gantt_options{.width = 1104, .show_lower_bound = false});
  const std::string svg = os.str();
  xml_checker x{svg};
  REQUIRE_MESSAGE(x.document(), x.error);
  // plot width 1104 - 80 - 24 = 1000 px for a makespan of 10: 100 px per unit
  std::vector<std::pair<double, double>> boxes;
  for (const auto& [tag, a] : x.elements)
    if (tag == "rect" && a.count("class")) boxes.emplace_back(std::stod(a.at("x")), std::stod(a.at("width")));
  REQUIRE(boxes.size() == 3);
  CHECK(boxes[0].first == doctest::Approx(80));
  CHECK(boxes[0].second == doctest::Approx(200));
  CHECK(boxes[1].first == doctest::Approx(280));
  CHECK(boxes[2].first == doctest::Approx(580));
  CHECK(boxes[2].second == doctest::Approx(500));
  CHECK(svg.find("makespan 10") != std::string::npos);
  // shown in another unit: same boxes, times divided by time_scale
  std::ostringstream scaled;
  dfgpar::write_gantt_svg(scaled, g, s, dfgpar_test::cost_map(g),
                          dfgpar::gantt_options{.width = 1104, .time_unit = "ks", .time_scale = 1000});
  CHECK(scaled.str().find("makespan 0.01 ks") != std::string::npos);
  CHECK(scaled.str().find("start 0.002, finish 0.005, duration 0.003 ks") != std::string::npos);
  CHECK(check_xml(scaled.str()).empty());
}

TEST_CASE_TEMPLATE("[dfgpar] gantt: clones, overloads and nasty labels", G, DFGPAR_GRAPH_TYPES) {
  const G g = dfgpar_test::build<G>(fork_join);
  const auto cost = dfgpar_test::cost_map(g);
  const auto comm = dfgpar_test::comm_map(g);
  // vertex 0 cloned onto both workers
  dfgpar::schedule s;
  s.workers = 2;
  s.num_vertices = 5;
  s.clusters = {{0, {0, 1, 4}}, {1, {0, 2, 3}}};
  s.home = {0, 0, 1, 1, 0};
  dfgpar::finalize(g, s);
  REQUIRE(s.num_copies() == 6);
  const std::vector<std::string> names = {"<conv & relu>", "\"quoted\" 'x'", std::string("nul\0ctl\x01", 8),
                                          "bad \xff\xfe utf8", "\xEF\xBF\xBF end"};
  auto label = [&](auto v) { return names[dfgpar::detail::index_of(g, v)]; };

  std::ostringstream a, b, c, d, e;
  dfgpar::write_gantt_svg(a, g, s, cost, comm, label);
  dfgpar::write_gantt_svg(b, g, s, cost, label, {.title = "a < b", .time_unit = "\xC2\xB5s"});
  dfgpar::write_gantt_svg(c, g, s, cost, comm);
  dfgpar::write_gantt_svg(d, g, s, cost);
  dfgpar::write_gantt_svg(e, g, s, cost, dfgpar::gantt_options{.width = 10, .row_height = 1});
  for (const auto* os : {&a, &b, &c, &d, &e}) {
    const std::string svg = os->str();
    xml_checker x{svg};
    REQUIRE_MESSAGE(x.document(), x.error);
    CHECK(x.count("rect", "box") == 6);
    xmllint_agrees(svg);
  }
  const std::string svg = a.str();
  CHECK(count(svg, "stroke-dasharray=\"3,2\"") == 1);  // the one cloned copy
  CHECK(count(svg, "(cloned copy)") == 1);
  CHECK(svg.find("&lt;conv &amp; relu&gt;") != std::string::npos);
  CHECK(svg.find("&quot;quoted&quot; &apos;x&apos;") != std::string::npos);
  CHECK(svg.find("<conv") == std::string::npos);
  CHECK(b.str().find("a &lt; b") != std::string::npos);
  CHECK(b.str().find("time \xC2\xB5s") != std::string::npos);
}

TEST_CASE("[dfgpar] gantt: long labels are cut or left out, the tooltip keeps them") {
  using G = dfgpar_test::vec_graph;
  const G g = dfgpar_test::build<G>(dfgpar_test::make_dag({1, 100}, {{0, 1}}));
  dfgpar::schedule s;
  s.workers = 1;
  s.num_vertices = 2;
  s.clusters = {{0, {0, 1}}};
  s.home = {0, 0};
  const std::string long_name(300, 'n');
  std::ostringstream os;
  dfgpar::write_gantt_svg(os, g, s, dfgpar_test::cost_map(g), [&](auto) { return long_name; });
  const std::string svg = os.str();
  xml_checker x{svg};
  REQUIRE_MESSAGE(x.document(), x.error);
  CHECK(count(svg, long_name) == 2);               // both tooltips
  CHECK(x.count("text") - count(svg, ">worker ") - count(svg, "text-anchor=\"middle\"") - 2 == 1);  // one box label
  CHECK(svg.find("n\xE2\x80\xA6</text>") != std::string::npos);  // the wide box's label, cut
}

TEST_CASE("[dfgpar] gantt: empty graph, zero costs and a schedule that does not fit") {
  using G = dfgpar_test::vec_graph;
  {
    const G g;
    dfgpar::schedule s;
    s.workers = 2;
    std::ostringstream os;
    dfgpar::write_gantt_svg(os, g, s, dfgpar_test::cost_map(g));
    CHECK(check_xml(os.str()).empty());
    CHECK(count(os.str(), ">worker ") == 2);
  }
  {
    const G g = dfgpar_test::build<G>(dfgpar_test::make_dag({0, 0, 0}, {{0, 1}}));
    const auto s = dfgpar::parallelize(g, dfgpar_test::cost_map(g), dfgpar::options{.workers = 2});
    std::ostringstream os;
    dfgpar::write_gantt_svg(os, g, s, dfgpar_test::cost_map(g));
    CHECK(check_xml(os.str()).empty());
    CHECK(os.str().find("nan") == std::string::npos);
    CHECK(os.str().find("inf") == std::string::npos);
  }
  {
    const G g = dfgpar_test::build<G>(fork_join);
    dfgpar::schedule s;
    s.workers = 1;
    s.num_vertices = 5;
    s.clusters = {{0, {0, 1, 2, 3}}};  // vertex 4 missing
    s.home = {0, 0, 0, 0, 0};
    std::ostringstream os;
    CHECK_THROWS_AS(dfgpar::write_gantt_svg(os, g, s, dfgpar_test::cost_map(g)), dfgpar::graph_error);
  }
}
