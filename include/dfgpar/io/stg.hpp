#pragma once
/// \file stg.hpp
/// Reader and writer for the Standard Task Graph Set format (STG, Kasahara
/// lab, Waseda University): the usual benchmark of multiprocessor scheduling.
///
/// \code
///          3                                  <- n: tasks without the two dummies
///          0          0          0            <- task id, processing time, #predecessors, predecessor ids...
///          1          5          1          0
///          2          7          1          0
///          3          2          2          1          2
///          4          0          1          3   <- dummy exit task n+1
/// # lines starting with '#', and everything after the n+2 task lines, are comments
/// \endcode
///
/// Task 0 is the dummy entry task and task n+1 the dummy exit task; both take
/// time 0. Task lines may come in any order and name predecessors with higher
/// ids. Fields are separated by any whitespace (the files use 11-wide columns).
///
/// \code
/// dfgpar::stg_graph g = dfgpar::read_stg_file("rand0000.stg");
/// auto s = dfgpar::parallelize(g, dfgpar::stg_times(g), dfgpar::options{.workers = 4});
/// \endcode

#include <dfgpar/concepts.hpp>
#include <dfgpar/error.hpp>
#include <dfgpar/io/text.hpp>

#include <boost/graph/adjacency_list.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <istream>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dfgpar {

/// One STG task: its id (== its vertex index) and processing time.
struct stg_task {
  int id = 0;
  double time = 0;
};

/// An STG task graph. Vertex index == task id, dummies 0 and n+1 included;
/// an edge u -> v means u precedes v.
using stg_graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, stg_task>;

/// The processing times of an STG graph as a vertex cost map.
/// \code auto s = dfgpar::parallelize(g, dfgpar::stg_times(g), dfgpar::options{.workers = 8}); \endcode
inline auto stg_times(const stg_graph& g) { return get(&stg_task::time, g); }

/// What an STG file says besides the graph (its "information part").
/// Nothing in here is needed to use the graph; every field may be empty.
struct stg_info {
  std::size_t tasks = 0;                                    ///< n, without the two dummies
  std::size_t edges = 0;                                    ///< precedence edges, those of the dummies included
  std::vector<std::string> comments;                        ///< comment lines, without the leading '#'
  std::vector<std::pair<std::string, std::string>> facts;   ///< "key : value" comment lines, trimmed
  std::optional<double> critical_path;                      ///< stated CP length ("CP Length : 43"), if any
  std::optional<double> parallelism;                        ///< stated parallelism, if any

  /// Value of the fact whose key equals `key` (ASCII case-insensitive), or nullptr.
  const std::string* fact(std::string_view key) const {
    for (const auto& [k, v] : facts)
      if (std::equal(k.begin(), k.end(), key.begin(), key.end(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
          }))
        return &v;
    return nullptr;
  }
};

namespace detail {

inline bool stg_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

inline std::string_view stg_trim(std::string_view s) {
  while (!s.empty() && stg_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && stg_space(s.back())) s.remove_suffix(1);
  return s;
}

inline void stg_split(std::string_view s, std::vector<std::string_view>& out) {
  out.clear();
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && stg_space(s[i])) ++i;
    const std::size_t b = i;
    while (i < s.size() && !stg_space(s[i])) ++i;
    if (i > b) out.push_back(s.substr(b, i - b));
  }
}

/// A field as it may be shown in a one-line message: printable ASCII, short.
inline std::string stg_show(std::string_view tok) {
  std::string out = "'";
  for (std::size_t i = 0; i < tok.size() && i < 32; ++i) {
    const auto c = static_cast<unsigned char>(tok[i]);
    out += (c >= 0x20 && c < 0x7F) ? static_cast<char>(c) : '?';
  }
  if (tok.size() > 32) out += "...";
  return out + "'";
}

inline std::string stg_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// Reads the leading number of a fact's value ("43", "6.093 (approx.)").
inline std::optional<double> stg_leading_number(std::string_view s) {
  double x = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
  if (ec != std::errc{} || p == s.data() || !std::isfinite(x)) return std::nullopt;
  return x;
}

class stg_parser {
 public:
  stg_parser(std::istream& in, std::string_view name, stg_info* info) : in_(in), name_(name), info_(info) {}

  stg_graph parse() {
    const std::uint64_t n = read_count();
    const std::uint64_t lines = n + 2;
    check_size(n);
    recs_.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(lines, 1u << 16)));
    while (recs_.size() < lines && next_line()) {
      if (skip_comment()) continue;
      parse_task(n);
    }
    if (recs_.size() < lines) report_missing(n);
    stg_graph g = build(n);
    check_acyclic(g);
    while (next_line()) keep_comment(line_);  // the information part
    if (info_) {
      info_->tasks = static_cast<std::size_t>(n);
      info_->edges = num_edges(g);
    }
    return g;
  }

 private:
  struct record {
    std::size_t line;
    std::uint32_t id;
    double time;
    std::size_t pred_begin, pred_end;  // range in preds_
  };

  std::istream& in_;
  std::string_view name_;
  stg_info* info_;
  std::string line_;
  std::size_t line_no_ = 0;
  std::vector<std::string_view> fields_;
  std::vector<record> recs_;
  std::vector<std::uint32_t> preds_;
  std::vector<std::uint32_t> scratch_;

  [[noreturn]] void fail(std::size_t line, const std::string& msg) const {
    throw graph_error(std::string(name_) + ":" + std::to_string(std::max<std::size_t>(line, 1)) + ": " + msg);
  }
  [[noreturn]] void fail(const std::string& msg) const { fail(line_no_, msg); }

  bool next_line() {
    if (!std::getline(in_, line_)) return false;
    ++line_no_;
    return true;
  }

  void keep_comment(std::string_view text) {
    if (!info_) return;
    text = stg_trim(text);
    if (!text.empty() && text.front() == '#') text = stg_trim(text.substr(1));
    info_->comments.emplace_back(text);
    const auto colon = text.find(':');
    if (colon == std::string_view::npos) return;
    const auto key = stg_trim(text.substr(0, colon));
    const auto value = stg_trim(text.substr(colon + 1));
    if (key.empty()) return;
    info_->facts.emplace_back(std::string(key), std::string(value));
    const std::string k = stg_lower(key);
    if (k.find("cp length") != std::string::npos || k.find("critical path") != std::string::npos) {
      if (auto x = stg_leading_number(value)) info_->critical_path = x;
    } else if (k.find("parallelism") != std::string::npos) {
      if (auto x = stg_leading_number(value)) info_->parallelism = x;
    }
  }

  // Blank and '#' lines before the end of the graph; '#' ones are kept.
  bool skip_comment() {
    const auto t = stg_trim(line_);
    if (t.empty()) return true;
    if (t.front() != '#') return false;
    keep_comment(t);
    return true;
  }

  std::uint64_t parse_uint(std::string_view tok, const char* what) const {
    std::uint64_t x = 0;
    auto [p, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), x);
    if (ec == std::errc::result_out_of_range)
      fail("the " + std::string(what) + " " + stg_show(tok) + " is too large");
    if (ec != std::errc{} || p != tok.data() + tok.size())
      fail("bad " + std::string(what) + " " + stg_show(tok) + " (expected a non-negative integer)");
    return x;
  }

  static bool is_uint(std::string_view tok) {
    return !tok.empty() && std::all_of(tok.begin(), tok.end(), [](char c) { return c >= '0' && c <= '9'; });
  }

  std::uint64_t read_count() {
    while (next_line()) {
      if (skip_comment()) continue;
      stg_split(line_, fields_);
      if (fields_.size() > 1)
        fail("trailing garbage " + stg_show(fields_[1]) + " after the number of tasks");
      const std::uint64_t n = parse_uint(fields_[0], "number of tasks");
      // ids must fit stg_task::id (int) and dfgpar's 32-bit vertex indices
      if (n > std::uint64_t{INT32_MAX} - 2) fail("the number of tasks " + std::to_string(n) + " is too large");
      return n;
    }
    fail(line_no_ == 0 ? "empty file: expected the number of tasks"
                       : "no number of tasks: the file holds only comments and blank lines");
  }

  // A task line is at least "0 0 0" plus a line break; a count the rest of
  // the file cannot hold is refused before anything is sized by it.
  void check_size(std::uint64_t n) {
    const auto here = in_.tellg();
    if (here == std::istream::pos_type(-1)) return;  // not seekable: sizes grow only with what is read
    in_.seekg(0, std::ios::end);
    const auto end = in_.tellg();
    in_.clear();
    in_.seekg(here);
    if (end == std::istream::pos_type(-1) || end < here) return;
    const auto rest = static_cast<std::uint64_t>(end - here);
    const std::uint64_t lines = n + 2, fit = (rest + 1) / 6;
    if (lines > fit)
      fail(line_no_, "the file says " + std::to_string(n) + " tasks (" + std::to_string(lines) +
                         " task lines with the two dummies), but the " + std::to_string(rest) +
                         " bytes after this line can hold at most " + std::to_string(fit) + " task lines");
  }

  void parse_task(std::uint64_t n) {
    stg_split(line_, fields_);
    if (fields_.size() < 3)
      fail("a task line needs the task id, its processing time and its number of predecessors; found " +
           std::to_string(fields_.size()) + " field" + (fields_.size() == 1 ? "" : "s"));
    const std::uint64_t id = parse_uint(fields_[0], "task id");
    if (id > n + 1)
      fail("task id " + std::to_string(id) + " is out of range 0.." + std::to_string(n + 1) + " (the file says " +
           std::to_string(n) + " tasks)");
    const std::string task = "task " + std::to_string(id);
    double time = 0;
    {
      const auto tok = fields_[1];
      auto [p, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), time);
      if (ec != std::errc{} || p != tok.data() + tok.size() || !std::isfinite(time))
        fail("bad processing time " + stg_show(tok) + " of " + task + " (expected a number)");
      if (time < 0) fail(task + " has a negative processing time (" + std::string(tok) + ")");
      time += 0.0;  // -0 -> 0
    }
    if ((id == 0 || id == n + 1) && time != 0)
      fail("the dummy " + std::string(id == 0 ? "entry" : "exit") + " " + task + " must take time 0, not " +
           format_number(time));
    const std::uint64_t k = parse_uint(fields_[2], "number of predecessors");
    const std::size_t listed = fields_.size() - 3;
    if (listed < k)
      fail(task + " declares " + std::to_string(k) + " predecessor" + (k == 1 ? "" : "s") + " but lists only " +
           std::to_string(listed));
    if (id == 0 && k != 0) fail("the dummy entry task 0 must have no predecessors");
    const std::size_t begin = preds_.size();
    for (std::size_t j = 0; j < k; ++j) {
      const std::uint64_t p = parse_uint(fields_[3 + j], "predecessor id");
      if (p > n + 1)
        fail("predecessor " + std::to_string(p) + " of " + task + " is out of range 0.." + std::to_string(n + 1));
      if (p == id) fail(task + " lists itself as a predecessor");
      if (p == n + 1) fail("the dummy exit task " + std::to_string(n + 1) + " cannot precede " + task);
      preds_.push_back(static_cast<std::uint32_t>(p));
    }
    if (listed > k) {
      const bool numbers = std::all_of(fields_.begin() + static_cast<std::ptrdiff_t>(3 + k), fields_.end(), is_uint);
      if (numbers)
        fail(task + " declares " + std::to_string(k) + " predecessor" + (k == 1 ? "" : "s") + " but lists " +
             std::to_string(listed));
      for (std::size_t j = 3 + k; j < fields_.size(); ++j)
        if (!is_uint(fields_[j])) fail("trailing garbage " + stg_show(fields_[j]) + " on the line of " + task);
    }
    scratch_.assign(preds_.begin() + static_cast<std::ptrdiff_t>(begin), preds_.end());
    std::sort(scratch_.begin(), scratch_.end());
    if (auto d = std::adjacent_find(scratch_.begin(), scratch_.end()); d != scratch_.end())
      fail(task + " lists predecessor " + std::to_string(*d) + " twice");
    recs_.push_back({line_no_, static_cast<std::uint32_t>(id), time, begin, preds_.size()});
  }

  [[noreturn]] void report_missing(std::uint64_t n) {
    // sized by what was read, never by n
    scratch_.clear();
    for (const auto& r : recs_) scratch_.push_back(r.id);
    std::sort(scratch_.begin(), scratch_.end());
    scratch_.erase(std::unique(scratch_.begin(), scratch_.end()), scratch_.end());
    std::string missing;
    std::size_t shown = 0;
    std::uint64_t next = 0;
    auto add_range = [&](std::uint64_t lo, std::uint64_t hi) {  // [lo, hi)
      for (std::uint64_t x = lo; x < hi && shown < 8; ++x, ++shown) missing += (missing.empty() ? "" : ", ") + std::to_string(x);
    };
    for (std::uint32_t id : scratch_) {
      add_range(next, id);
      next = std::uint64_t{id} + 1;
    }
    add_range(next, n + 2);
    const std::uint64_t absent = n + 2 - scratch_.size();
    if (absent > shown) missing += ", ...";
    fail(line_no_, "the file ends after " + std::to_string(recs_.size()) + " of " + std::to_string(n + 2) +
                       " task lines (ids 0.." + std::to_string(n + 1) + "); missing task" + (absent == 1 ? " " : "s ") +
                       missing);
  }

  stg_graph build(std::uint64_t n) {
    const auto V = static_cast<std::size_t>(n + 2);  // == recs_.size()
    std::vector<std::size_t> line_of(V, 0);
    for (const auto& r : recs_) {
      if (line_of[r.id] != 0)
        fail(r.line, "task " + std::to_string(r.id) + " is defined twice (first on line " +
                         std::to_string(line_of[r.id]) + ")");
      line_of[r.id] = r.line;
    }
    stg_graph g(V);
    for (std::size_t v = 0; v < V; ++v) g[v].id = static_cast<int>(v);
    std::vector<const record*> by_id(V);
    for (const auto& r : recs_) by_id[r.id] = &r;
    for (std::size_t v = 0; v < V; ++v) {
      const record& r = *by_id[v];
      g[v].time = r.time;
      for (std::size_t i = r.pred_begin; i < r.pred_end; ++i) add_edge(preds_[i], v, g);
    }
    line_of_ = std::move(line_of);
    return g;
  }

  void check_acyclic(const stg_graph& g) {
    const std::size_t V = num_vertices(g);
    std::vector<std::uint32_t> indeg(V);
    std::vector<std::size_t> order;
    order.reserve(V);
    for (std::size_t v = 0; v < V; ++v)
      if ((indeg[v] = static_cast<std::uint32_t>(in_degree(v, g))) == 0) order.push_back(v);
    for (std::size_t i = 0; i < order.size(); ++i)
      for (auto [e, end] = out_edges(order[i], g); e != end; ++e)
        if (--indeg[target(*e, g)] == 0) order.push_back(target(*e, g));
    if (order.size() == V) return;
    // Every vertex left has a predecessor that is left too: walk back until one repeats.
    constexpr std::size_t none = static_cast<std::size_t>(-1);
    std::vector<std::size_t> pos(V, none), walk;
    std::size_t v = 0;
    while (indeg[v] == 0) ++v;
    while (pos[v] == none) {
      pos[v] = walk.size();
      walk.push_back(v);
      for (auto [e, end] = in_edges(v, g); e != end; ++e)
        if (indeg[source(*e, g)] != 0) {
          v = source(*e, g);
          break;
        }
    }
    std::vector<std::size_t> cycle(walk.begin() + static_cast<std::ptrdiff_t>(pos[v]), walk.end());
    std::reverse(cycle.begin(), cycle.end());  // in precedence order
    const auto first = std::min_element(cycle.begin(), cycle.end(),
                                        [&](std::size_t a, std::size_t b) { return line_of_[a] < line_of_[b]; });
    std::rotate(cycle.begin(), first, cycle.end());
    std::string path;
    for (std::size_t i = 0; i < cycle.size() && i < 10; ++i) path += "task " + std::to_string(cycle[i]) + " -> ";
    if (cycle.size() > 10) path += "... -> ";
    path += "task " + std::to_string(cycle.front());
    fail(line_of_[cycle.front()], "the precedences form a cycle: " + path);
  }

  std::vector<std::size_t> line_of_;
};

}  // namespace detail

/// Reads an STG task graph. `name` is used in error messages
/// ("NAME:LINE: message"). Throws graph_error for any malformed input.
/// \code std::istringstream in(text); auto g = dfgpar::read_stg(in, "inline"); \endcode
inline stg_graph read_stg(std::istream& in, std::string_view name = "<stg>", stg_info* info = nullptr) {
  return detail::stg_parser(in, name, info).parse();
}

/// Reads an STG file; errors read "PATH:LINE: message".
inline stg_graph read_stg_file(const std::filesystem::path& path, stg_info* info = nullptr) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw graph_error(path.string() + ": is a directory, not an STG file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw graph_error(path.string() + ": cannot open: " + std::strerror(errno));
  return read_stg(in, path.string(), info);
}

namespace detail {
inline void write_stg_field(std::ostream& os, const std::string& s) { os << std::setw(11) << s; }
}  // namespace detail

/// Writes `g` in STG format (11-wide columns, predecessors in increasing id).
/// Vertex 0 and the last vertex are the dummy entry and exit tasks.
inline void write_stg(std::ostream& os, const stg_graph& g) {
  const std::size_t V = num_vertices(g);
  if (V < 2) throw graph_error("write_stg: an STG graph has at least the two dummy tasks");
  std::vector<std::size_t> preds;
  detail::write_stg_field(os, std::to_string(V - 2));
  os << '\n';
  for (std::size_t v = 0; v < V; ++v) {
    preds.clear();
    for (auto [e, end] = in_edges(v, g); e != end; ++e) preds.push_back(source(*e, g));
    std::sort(preds.begin(), preds.end());
    detail::write_stg_field(os, std::to_string(v));
    detail::write_stg_field(os, detail::format_number(g[v].time));
    detail::write_stg_field(os, std::to_string(preds.size()));
    for (std::size_t p : preds) detail::write_stg_field(os, std::to_string(p));
    os << '\n';
  }
}

/// Writes any dataflow graph in STG format: vertex i becomes task i+1, a
/// dummy entry task 0 precedes every source and a dummy exit task n+1
/// follows every sink. Costs must be non-negative and finite.
template <class Graph, class CostMap>
void write_stg(std::ostream& os, const Graph& g, const CostMap& cost) {
  detail::check_graph<Graph>();
  detail::check_vertex_cost<CostMap, Graph>();
  const std::size_t n = num_vertices(g);
  const auto by_index = detail::vertices_by_index(g);
  std::vector<std::size_t> preds;
  std::vector<bool> is_sink(n, true);
  detail::write_stg_field(os, std::to_string(n));
  os << '\n';
  detail::write_stg_field(os, "0");
  detail::write_stg_field(os, "0");
  detail::write_stg_field(os, "0");
  os << '\n';
  for (std::size_t i = 0; i < n; ++i) {
    const auto v = by_index[i];
    const double c = static_cast<double>(get(cost, v));
    if (!(c >= 0) || !std::isfinite(c)) throw graph_error("write_stg: vertex " + std::to_string(i) + " has a negative or non-finite cost");
    preds.clear();
    for (auto [e, end] = in_edges(v, g); e != end; ++e) {
      const std::size_t u = detail::index_of(g, source(*e, g));
      preds.push_back(u + 1);
      is_sink[u] = false;
    }
    std::sort(preds.begin(), preds.end());
    preds.erase(std::unique(preds.begin(), preds.end()), preds.end());  // STG has no parallel edges
    if (preds.empty()) preds.push_back(0);
    detail::write_stg_field(os, std::to_string(i + 1));
    detail::write_stg_field(os, detail::format_number(c));
    detail::write_stg_field(os, std::to_string(preds.size()));
    for (std::size_t p : preds) detail::write_stg_field(os, std::to_string(p));
    os << '\n';
  }
  preds.clear();
  for (std::size_t i = 0; i < n; ++i)
    if (is_sink[i]) preds.push_back(i + 1);
  if (preds.empty()) preds.push_back(0);
  detail::write_stg_field(os, std::to_string(n + 1));
  detail::write_stg_field(os, "0");
  detail::write_stg_field(os, std::to_string(preds.size()));
  for (std::size_t p : preds) detail::write_stg_field(os, std::to_string(p));
  os << '\n';
}

}  // namespace dfgpar
