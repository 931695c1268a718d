#pragma once
/// \file profile.hpp
/// Measured per-node times, the profile-guided alternative to the analytic
/// cost model.
///
/// dfgpar's own format (written by `write_profile`, and by the executor):
/// \code{.json}
/// {"dfgpar_profile": 1,
///  "nodes": [{"name": "conv1", "node": 0, "us": 12.3}, ...]}
/// \endcode
/// `us` is the time of one run of the node in microseconds; `node` (the
/// node's index in the graph, optional) wins over `name` because ONNX node
/// names need not be unique or present. Repeated entries are averaged.
///
/// Times per thread count t(v, k), for the moldable scheduler (optional,
/// still version 1: a reader that knows only `us` reads t(v, 1)):
/// \code{.json}
/// {"dfgpar_profile": 1, "threads": [1, 2, 4, 8],
///  "nodes": [{"name": "conv1", "node": 0, "us": 12.3,
///             "us_by_threads": [12.3, 6.4, 4.6, 3.5, 3.2, 2.9, 2.6, 2.4]}, ...]}
/// \endcode
/// `us_by_threads` is dense: entry k-1 is the time on k threads, for k = 1 up
/// to the largest count measured; `us` is t(v, 1). `threads` lists the
/// counts that were measured (ascending, starting at 1); the entries for the
/// counts between them were filled by the writer by linear interpolation
/// between the two nearest measured counts (`fill_thread_counts`), so a
/// reader needs no rule for them. Past the end of a node's table, more
/// threads are taken not to help (the table repeats its last entry, as
/// cluster/moldable_cost.hpp reads tables); non-monotone tables (noise) are
/// repaired there too. A node without `us_by_threads` in such a profile has
/// t(v, k) = `us` for every k. (Profiles written by `dfgpar run` before
/// this, with one thread count, have a number in `"threads"`: it is ignored.)
///
/// ONNX Runtime's profile (`SessionOptions.enable_profiling`) is accepted as
/// well: a JSON array of trace events; those with `"cat": "Node"` and a name
/// ending in `_kernel_time` carry the node name and `dur` in µs. Repeated runs
/// are averaged.
///
/// Nodes the profile does not mention keep their analytic cost (the same
/// for every thread count); a warning says how many.

#include <dfgpar/detail/json.hpp>
#include <dfgpar/error.hpp>
#include <dfgpar/onnx/graph.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <span>
#include <vector>
#include <fstream>
#include <map>
#include <ostream>
#include <sstream>
#include <string>
#include <unordered_map>

namespace dfgpar::onnx {

/// Measured mean time per node, by index and by name, and where measured,
/// per thread count.
struct profile {
  std::unordered_map<std::size_t, double> by_node;  ///< node index -> µs (on 1 thread)
  std::unordered_map<std::string, double> by_name;  ///< node name -> µs (on 1 thread)
  /// node index -> t(v, k) in µs, entry k-1 for k threads (`us_by_threads`)
  std::unordered_map<std::size_t, std::vector<double>> threads_by_node;
  /// node name -> t(v, k) in µs (`us_by_threads` of entries without `node`)
  std::unordered_map<std::string, std::vector<double>> threads_by_name;
  std::vector<std::size_t> threads;  ///< the thread counts measured (`"threads"`), ascending; empty if not given
  bool onnxruntime = false;          ///< read from an ONNX Runtime trace

  /// True when some node has times per thread count (the moldable scheduler can use it).
  bool moldable() const noexcept { return !threads_by_node.empty() || !threads_by_name.empty(); }
};

/// The dense table t(k), k = 1..counts.back(), from times measured at
/// `counts` (ascending, starting at 1): a count between two measured ones
/// gets the linear interpolation of their times (what `us_by_threads` holds).
/// \code fill_thread_counts({{1, 2, 4}}, {{8, 4.4, 2.6}}) == {8, 4.4, 3.5, 2.6} \endcode
inline std::vector<double> fill_thread_counts(std::span<const std::size_t> counts, std::span<const double> times) {
  if (counts.empty() || counts.size() != times.size() || counts.front() != 1)
    throw graph_error("fill_thread_counts: give one time per thread count, the counts ascending from 1");
  for (std::size_t i = 1; i < counts.size(); ++i)
    if (counts[i] <= counts[i - 1]) throw graph_error("fill_thread_counts: the thread counts must ascend");
  std::vector<double> out(counts.back(), 0.0);
  for (std::size_t i = 0; i < counts.size(); ++i) {
    out[counts[i] - 1] = times[i];
    if (i == 0) continue;
    const auto a = static_cast<double>(counts[i - 1]), b = static_cast<double>(counts[i]);
    for (std::size_t k = counts[i - 1] + 1; k < counts[i]; ++k)
      out[k - 1] = times[i - 1] + (times[i] - times[i - 1]) * (static_cast<double>(k) - a) / (b - a);
  }
  return out;
}

namespace detail {

namespace json = ::dfgpar::detail::json;

struct mean_acc {
  double sum = 0;
  std::size_t n = 0;
};

/// Element-wise mean of tables (a shorter one repeats its last entry).
struct table_acc {
  std::vector<std::vector<double>> rows;
  std::vector<double> mean() const {
    std::size_t len = 0;
    for (const auto& r : rows) len = std::max(len, r.size());
    std::vector<double> out(len, 0.0);
    for (const auto& r : rows)
      for (std::size_t k = 0; k < len; ++k) out[k] += r[std::min(k, r.size() - 1)];
    for (double& x : out) x /= static_cast<double>(rows.size());
    return out;
  }
};

inline double checked_us(const json::value* v, const std::string& source, std::size_t entry, const char* key) {
  if (!v || !v->is_number())
    fail(source + ": entry " + std::to_string(entry) + " has no numeric \"" + key + "\"");
  const double x = v->number();
  if (!std::isfinite(x) || x < 0)
    fail(source + ": entry " + std::to_string(entry) + " has a negative or non-finite \"" + key + "\"");
  return x;
}

/// The `us_by_threads` of entry `entry`, checked (a non-empty array of times).
inline std::vector<double> checked_table(const json::value& t, const std::string& source, std::size_t entry) {
  if (!t.is_array() || t.items().empty())
    fail(source + ": entry " + std::to_string(entry) + " has a \"us_by_threads\" that is not a non-empty array of times");
  std::vector<double> out;
  for (const auto& x : t.items()) out.push_back(checked_us(&x, source, entry, "us_by_threads"));
  return out;
}

}  // namespace detail

/// Parses a profile in dfgpar's or ONNX Runtime's format; `source` names it in errors.
inline profile parse_profile(std::string_view text, const std::string& source = "profile") {
  const auto root = detail::json::parse(text, source);
  profile p;
  std::map<std::size_t, detail::mean_acc> idx;
  std::map<std::string, detail::mean_acc> names;
  if (root.is_object() && root.find("dfgpar_profile")) {
    const auto* ver = root.find("dfgpar_profile");
    if (!ver->is_number() || ver->number() != 1)
      detail::fail(source + ": unsupported dfgpar_profile version (expected 1)");
    if (const auto* th = root.find("threads"); th && th->is_array()) {  // a number: an older run's one count
      for (const auto& x : th->items()) {
        const double c = x.is_number() ? x.number() : 0;
        if (!(c >= 1 && c <= 1e6 && c == std::floor(c)) ||
            (!p.threads.empty() && static_cast<std::size_t>(c) <= p.threads.back()))
          detail::fail(source + ": \"threads\" must list ascending thread counts (1, 2, 4, ...)");
        p.threads.push_back(static_cast<std::size_t>(c));
      }
    }
    const auto* nodes = root.find("nodes");
    if (!nodes || !nodes->is_array()) detail::fail(source + ": \"nodes\" must be an array");
    std::map<std::size_t, detail::table_acc> idx_tables;
    std::map<std::string, detail::table_acc> name_tables;
    std::size_t k = 0;
    for (const auto& e : nodes->items()) {
      if (!e.is_object()) detail::fail(source + ": entry " + std::to_string(k) + " of \"nodes\" is not an object");
      std::vector<double> table;
      if (const auto* t = e.find("us_by_threads")) table = detail::checked_table(*t, source, k);
      // `us` is t(v, 1); with a table it may be left out
      const double us = table.empty() || e.find("us") ? detail::checked_us(e.find("us"), source, k, "us") : table.front();
      const auto* node = e.find("node");
      const auto* name = e.find("name");
      if (node) {
        const double x = node->is_number() ? node->number() : -1;
        if (!(x >= 0 && x < 1e15 && x == std::floor(x)))
          detail::fail(source + ": entry " + std::to_string(k) + " has an invalid \"node\" index");
        auto& a = idx[static_cast<std::size_t>(x)];
        a.sum += us;
        ++a.n;
        if (!table.empty()) idx_tables[static_cast<std::size_t>(x)].rows.push_back(std::move(table));
      } else if (name && name->is_string()) {
        auto& a = names[name->string()];
        a.sum += us;
        ++a.n;
        if (!table.empty()) name_tables[name->string()].rows.push_back(std::move(table));
      } else {
        detail::fail(source + ": entry " + std::to_string(k) + " has neither \"node\" nor \"name\"");
      }
      ++k;
    }
    for (const auto& [i, t] : idx_tables) p.threads_by_node[i] = t.mean();
    for (const auto& [n, t] : name_tables) p.threads_by_name[n] = t.mean();
  } else {
    const detail::json::value* events = root.is_array() ? &root : root.find("traceEvents");
    if (!events || !events->is_array())
      detail::fail(source + ": neither a dfgpar profile ({\"dfgpar_profile\": 1, ...}) nor an ONNX Runtime "
                            "profile (an array of trace events)");
    p.onnxruntime = true;
    static constexpr std::string_view suffix = "_kernel_time";
    std::size_t k = 0;
    for (const auto& e : events->items()) {
      ++k;
      if (!e.is_object()) continue;
      const auto* cat = e.find("cat");
      const auto* name = e.find("name");
      if (!cat || !cat->is_string() || cat->string() != "Node" || !name || !name->is_string()) continue;
      const std::string& n = name->string();
      if (n.size() <= suffix.size() || n.compare(n.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
      auto& a = names[n.substr(0, n.size() - suffix.size())];
      a.sum += detail::checked_us(e.find("dur"), source, k - 1, "dur");
      ++a.n;
    }
  }
  for (const auto& [i, a] : idx) p.by_node[i] = a.sum / static_cast<double>(a.n);
  for (const auto& [n, a] : names) p.by_name[n] = a.sum / static_cast<double>(a.n);
  return p;
}

/// Reads a profile file (see `parse_profile`).
inline profile read_profile(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) detail::fail(file.string() + ": cannot open the profile");
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_profile(ss.str(), file.string());
}

/// Replaces the analytic cost of every node the profile measured; the others
/// keep theirs (a warning names how many).
inline void apply_profile(model& m, const profile& p) {
  std::size_t matched = 0, missed = 0;
  std::string first_missed;
  for (auto [it, end] = vertices(m.g); it != end; ++it) {
    auto& v = m.g[*it];
    double us = -1;
    if (auto f = p.by_node.find(v.node); f != p.by_node.end()) us = f->second;
    else if (auto n = p.by_name.find(v.name); !v.name.empty() && n != p.by_name.end()) us = n->second;
    if (us >= 0) {
      v.cost = us;
      ++matched;
    } else {
      if (missed++ == 0) first_missed = v.name.empty() ? "#" + std::to_string(v.node) : v.name;
    }
  }
  if (missed > 0)
    m.warnings.push_back("profile: " + std::to_string(missed) + " of " + std::to_string(num_vertices(m.g)) +
                         " node(s) not measured (first: " + detail::quote(first_missed) +
                         "); they keep the analytic cost");
  const std::size_t entries = p.by_node.size() + p.by_name.size();
  if (entries > matched)
    m.warnings.push_back("profile: " + std::to_string(entries - matched) +
                         " entr(y/ies) match no node of the model" +
                         (p.onnxruntime ? " (ONNX Runtime fuses and renames nodes)" : ""));
}

/// t(v, k) of every vertex of `m` (indexed like `m.g`'s vertices) from a
/// profile with times per thread count, ready for
/// `dfgpar::make_measured_cost(m.g, ...)` and `parallelize_moldable`; empty
/// when the profile has none (`!p.moldable()`). A vertex the profile
/// measured at one count only has a one-entry table (`us`); one it does not
/// mention, its current cost (analytic): more threads are taken not to help
/// either. Call on the model the profile was keyed for (see
/// onnx::profile_for_optimized).
/// \code
///   auto t = dfgpar::make_measured_cost(m.g, onnx::thread_times(m, p));
///   auto r = dfgpar::parallelize_moldable(m.g, t, {.workers = 8});
/// \endcode
inline std::vector<std::vector<double>> thread_times(const model& m, const profile& p) {
  std::vector<std::vector<double>> out;
  if (!p.moldable()) return out;
  out.resize(num_vertices(m.g));
  for (auto [it, end] = vertices(m.g); it != end; ++it) {
    const auto& v = m.g[*it];
    auto& row = out[*it];
    if (auto f = p.threads_by_node.find(v.node); f != p.threads_by_node.end()) row = f->second;
    else if (auto n = p.threads_by_name.find(v.name); !v.name.empty() && n != p.threads_by_name.end()) row = n->second;
    else if (auto u = p.by_node.find(v.node); u != p.by_node.end()) row = {u->second};
    else if (auto w = p.by_name.find(v.name); !v.name.empty() && w != p.by_name.end()) row = {w->second};
    else row = {v.cost};
  }
  return out;
}

/// Writes dfgpar's profile format: one entry per vertex with its cost
/// (`us_of(v)`, default: the vertex's current cost).
template <class UsOf>
void write_profile(std::ostream& os, const graph& g, UsOf us_of) {
  const auto old = os.precision(9);
  os << "{\"dfgpar_profile\": 1, \"nodes\": [";
  bool first = true;
  for (auto [it, end] = vertices(g); it != end; ++it) {
    const auto& v = g[*it];
    os << (first ? "\n  " : ",\n  ") << "{\"name\": " << detail::json::quote(v.name) << ", \"node\": " << v.node
       << ", \"us\": " << us_of(*it) << "}";
    first = false;
  }
  os << "\n]}\n";
  os.precision(old);
}
inline void write_profile(std::ostream& os, const graph& g) {
  write_profile(os, g, [&](auto v) { return g[v].cost; });
}

/// Writes dfgpar's profile format with times per thread count: `t[v]` is
/// vertex v's dense table (entry k-1: k threads; `us` is its first entry),
/// `counts` the thread counts that were measured (see the file comment).
inline void write_profile(std::ostream& os, const graph& g, const std::vector<std::vector<double>>& t,
                          std::span<const std::size_t> counts) {
  if (t.size() != num_vertices(g)) throw graph_error("write_profile: one table per vertex expected");
  const auto old = os.precision(9);
  os << "{\"dfgpar_profile\": 1, \"threads\": [";
  for (std::size_t i = 0; i < counts.size(); ++i) os << (i ? ", " : "") << counts[i];
  os << "], \"nodes\": [";
  for (auto [it, end] = vertices(g); it != end; ++it) {
    const auto& v = g[*it];
    const auto& row = t[*it];
    if (row.empty()) throw graph_error("write_profile: vertex " + std::to_string(*it) + " has an empty table");
    os << (*it == 0 ? "\n  " : ",\n  ") << "{\"name\": " << detail::json::quote(v.name) << ", \"node\": " << v.node
       << ", \"us\": " << row.front() << ", \"us_by_threads\": [";
    for (std::size_t k = 0; k < row.size(); ++k) os << (k ? ", " : "") << row[k];
    os << "]}";
  }
  os << "\n]}\n";
  os.precision(old);
}

}  // namespace dfgpar::onnx
