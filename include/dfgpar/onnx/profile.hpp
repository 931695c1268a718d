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
/// ONNX Runtime's profile (`SessionOptions.enable_profiling`) is accepted as
/// well: a JSON array of trace events; those with `"cat": "Node"` and a name
/// ending in `_kernel_time` carry the node name and `dur` in µs. Repeated runs
/// are averaged.
///
/// Nodes the profile does not mention keep their analytic cost; a warning
/// says how many.

#include <dfgpar/detail/json.hpp>
#include <dfgpar/error.hpp>
#include <dfgpar/onnx/graph.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <sstream>
#include <string>
#include <unordered_map>

namespace dfgpar::onnx {

/// Measured mean time per node, by index and by name.
struct profile {
  std::unordered_map<std::size_t, double> by_node;  ///< node index -> µs
  std::unordered_map<std::string, double> by_name;  ///< node name -> µs
  bool onnxruntime = false;                         ///< read from an ONNX Runtime trace
};

namespace detail {

namespace json = ::dfgpar::detail::json;

struct mean_acc {
  double sum = 0;
  std::size_t n = 0;
};

inline double checked_us(const json::value* v, const std::string& source, std::size_t entry, const char* key) {
  if (!v || !v->is_number())
    fail(source + ": entry " + std::to_string(entry) + " has no numeric \"" + key + "\"");
  const double x = v->number();
  if (!std::isfinite(x) || x < 0)
    fail(source + ": entry " + std::to_string(entry) + " has a negative or non-finite \"" + key + "\"");
  return x;
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
    const auto* nodes = root.find("nodes");
    if (!nodes || !nodes->is_array()) detail::fail(source + ": \"nodes\" must be an array");
    std::size_t k = 0;
    for (const auto& e : nodes->items()) {
      if (!e.is_object()) detail::fail(source + ": entry " + std::to_string(k) + " of \"nodes\" is not an object");
      const double us = detail::checked_us(e.find("us"), source, k, "us");
      const auto* node = e.find("node");
      const auto* name = e.find("name");
      if (node) {
        const double x = node->is_number() ? node->number() : -1;
        if (!(x >= 0 && x < 1e15 && x == std::floor(x)))
          detail::fail(source + ": entry " + std::to_string(k) + " has an invalid \"node\" index");
        auto& a = idx[static_cast<std::size_t>(x)];
        a.sum += us;
        ++a.n;
      } else if (name && name->is_string()) {
        auto& a = names[name->string()];
        a.sum += us;
        ++a.n;
      } else {
        detail::fail(source + ": entry " + std::to_string(k) + " has neither \"node\" nor \"name\"");
      }
      ++k;
    }
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

}  // namespace dfgpar::onnx
