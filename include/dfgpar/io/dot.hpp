#pragma once
/// \file dot.hpp
/// Graphviz DOT picture of a schedule: one box (`subgraph cluster_N`) per
/// cluster, one fill colour per worker, cross-worker edges drawn red, bold
/// and dashed, cloned copies drawn dashed with a double border, a vertex copy
/// on k > 1 cores labelled "(k cores)" with a bold border.
///
/// \code
/// std::ofstream f("schedule.dot");
/// dfgpar::write_dot(f, g, s, [&](auto v) { return g[v].name; });
/// // dot -Tsvg schedule.dot -o schedule.svg
/// \endcode

#include <dfgpar/cluster/schedule.hpp>
#include <dfgpar/concepts.hpp>
#include <dfgpar/detail/flat_dag.hpp>
#include <dfgpar/detail/plan.hpp>
#include <dfgpar/io/text.hpp>

#include <array>
#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace dfgpar {

namespace detail {

/// Fill colours of workers 0, 1, ... (ColorBrewer Set3), reused cyclically.
inline constexpr std::array<std::string_view, 12> worker_palette = {
    "#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462",
    "#b3de69", "#fccde5", "#d9d9d9", "#bc80bd", "#ccebc5", "#ffed6f"};

/// `s` as a DOT double-quoted string: quotes and backslashes escaped, a line
/// break becomes a centred `\n` break, other control characters a space,
/// bytes that are not UTF-8 U+FFFD (Graphviz reads UTF-8). Long strings are
/// written as `"..." + "..."` pieces: Graphviz's scanner rejects a single
/// quoted string longer than 16384 bytes.
inline std::string dot_quote(std::string_view s) {
  constexpr std::size_t piece = 8000;
  std::string out = "\"";
  std::size_t piece_start = 0;
  for (std::size_t i = 0; i < s.size();) {
    if (out.size() - piece_start > piece) {  // between two characters: safe to split
      out += "\" + \"";
      piece_start = out.size();
    }
    const char c = s[i];
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      if (i + 1 >= s.size() || s[i + 1] != '\n') out += "\\n";  // CRLF counts once
    } else if (u < 0x20 || u == 0x7F) {
      out += ' ';
    } else if (u >= 0x80) {
      const std::size_t len = utf8_sequence_length(s, i);
      if (len == 0) {
        out += utf8_replacement;
        ++i;
        continue;
      }
      out.append(s.substr(i, len));
      i += len;
      continue;
    } else {
      out += c;
    }
    ++i;
  }
  return out += '"';
}

inline void write_dot(std::ostream& os, const flat_dag& d, const schedule& s, const std::vector<std::string>& label) {
  const plan p = make_plan(d, s);  // throws graph_error when s does not fit the graph
  std::vector<std::vector<std::uint32_t>> steps_of(s.clusters.size());
  for (std::uint32_t id = 0; id < p.steps.size(); ++id) steps_of[p.steps[id].cluster].push_back(id);
  auto node = [&](std::uint32_t id) {
    const auto& st = p.steps[id];
    std::string name = "v" + std::to_string(st.vertex);
    if (s.home[st.vertex] != st.cluster) name += "_c" + std::to_string(st.cluster);
    return name;
  };
  os << "digraph dfgpar {\n"
     << "  graph [rankdir=TB, fontname=\"Helvetica\", label="
     << dot_quote(std::to_string(d.n) + " vertices, " + std::to_string(s.clusters.size()) + " clusters on " +
                  std::to_string(s.workers) + " workers; red: cross-worker edge, dashed box: cloned copy")
     << "];\n"
     << "  node [shape=box, style=filled, fontname=\"Helvetica\"];\n"
     << "  edge [color=\"#444444\"];\n";
  for (std::size_t c = 0; c < s.clusters.size(); ++c) {
    const std::size_t w = s.clusters[c].worker;
    const std::string_view colour = worker_palette[w % worker_palette.size()];
    os << "  subgraph cluster_" << c << " {\n"
       << "    label=" << dot_quote("cluster " + std::to_string(c) + " (worker " + std::to_string(w) + ")")
       << "; style=rounded; penwidth=2; color=\"" << colour << "\";\n";
    for (std::uint32_t id : steps_of[c]) {
      const std::uint32_t v = p.steps[id].vertex;
      const std::uint32_t k = p.steps[id].threads;
      os << "    " << node(id) << " [label=" << dot_quote(k > 1 ? label[v] + "\n(" + std::to_string(k) + " cores)" : label[v])
         << ", fillcolor=\"" << colour << '"';
      if (k > 1) os << ", penwidth=3";
      if (s.home[v] != c) os << ", style=\"filled,dashed\", peripheries=2, tooltip=\"copy of vertex " << v << '"';
      os << "];\n";
    }
    os << "  }\n";
  }
  for (std::uint32_t id = 0; id < p.steps.size(); ++id)
    for (std::uint32_t k = p.steps[id].dep_begin; k < p.steps[id].dep_end; ++k) {
      const plan_dep& dep = p.deps[k];
      os << "  " << node(dep.step) << " -> " << node(id);
      if (dep.remote)
        os << " [color=red, style=\"bold,dashed\", penwidth=2]";
      else if (p.steps[dep.step].cluster != p.steps[id].cluster)
        os << " [style=dashed]";
      os << ";\n";
    }
  os << "}\n";
}

}  // namespace detail

/// Writes schedule `s` of `g` as a Graphviz DOT digraph. `label` names the
/// vertices (default: their index); any text is escaped. Throws graph_error
/// when `s` does not fit `g`.
template <class Graph, class Label = index_label>
void write_dot(std::ostream& os, const Graph& g, const schedule& s, const Label& label = {}) {
  detail::check_graph<Graph>();
  const auto d = detail::make_flat_dag(g, detail::unit_cost{}, no_edge_cost{});
  detail::write_dot(os, d, s, detail::labels_by_index(g, label));
}

}  // namespace dfgpar
