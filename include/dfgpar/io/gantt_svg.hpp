#pragma once
/// \file gantt_svg.hpp
/// An SVG Gantt chart of a schedule: one row per worker, one box per vertex
/// copy at its simulated start and finish, a time axis with ticks, one colour
/// per cluster, labels where they fit and a tooltip (`<title>`) on every box.
/// Cloned copies have a dashed border; a dashed vertical line marks the lower
/// bound max(CP, W/P). A vertex copy on k > 1 cores shows "k cores" and
/// shades the rows of its k - 1 reserved workers for its duration; with a
/// moldable cost (cluster/moldable_cost.hpp) boxes last t(v, k) and the line
/// marks the moldable lower bound. Standalone SVG 1.1, no scripts or style sheets.
///
/// \code
/// std::ofstream f("schedule.svg");
/// dfgpar::write_gantt_svg(f, g, s, cost, comm, [&](auto v) { return g[v].name; });
/// \endcode

#include <dfgpar/analysis/bounds.hpp>
#include <dfgpar/cluster/moldable_cost.hpp>
#include <dfgpar/cluster/schedule.hpp>
#include <dfgpar/concepts.hpp>
#include <dfgpar/detail/flat_dag.hpp>
#include <dfgpar/detail/plan.hpp>
#include <dfgpar/io/text.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dfgpar {

/// Look of `write_gantt_svg`, meant for designated initialisers:
/// `dfgpar::gantt_options{.width = 1600, .time_unit = "µs"}`.
struct gantt_options {
  double width = 1200;          ///< px, whole picture (at least 300)
  double row_height = 26;       ///< px per worker row (at least 10)
  std::string title{};          ///< empty: "<n> vertices, <c> clusters on <P> workers, makespan <m>"
  std::string time_unit{};      ///< shown after the axis and in tooltips, e.g. "ms"
  double time_scale = 1;        ///< times are shown divided by this (costs in µs, `time_unit` "ms": 1000)
  bool show_lower_bound = true; ///< dashed line at max(CP, W/P)
};

namespace detail {

/// `s` as XML character data / attribute text: `& < > " '` escaped, valid
/// UTF-8 passed through, invalid bytes and code points XML 1.0 forbids
/// (control characters other than tab and line breaks, U+FFFE, U+FFFF)
/// replaced by U+FFFD or a space. At most `max_chars` code points are kept;
/// a cut string ends in "…".
inline std::string xml_escape(std::string_view s, std::size_t max_chars = std::string::npos) {
  std::string out;
  out.reserve(s.size());
  std::size_t chars = 0;
  for (std::size_t i = 0; i < s.size();) {
    if (chars == max_chars) {
      out += "\xE2\x80\xA6";  // …
      break;
    }
    ++chars;
    const char c = s[i];
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80) {
      const std::size_t len = utf8_sequence_length(s, i);
      const bool non_char = len == 3 && u == 0xEF && static_cast<unsigned char>(s[i + 1]) == 0xBF &&
                            static_cast<unsigned char>(s[i + 2]) >= 0xBE;  // U+FFFE, U+FFFF
      if (len == 0 || non_char) {
        out += utf8_replacement;
        i += len == 0 ? 1 : len;
      } else {
        out.append(s.substr(i, len));
        i += len;
      }
      continue;
    }
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      case '\n': out += "&#10;"; break;  // kept as a line break, also inside attributes
      case '\t': out += ' '; break;
      default: out += (u < 0x20 || u == 0x7F) ? ' ' : c;
    }
    ++i;
  }
  return out;
}

/// Code points in a string (invalid bytes count as one each).
inline std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++n) i += std::max<std::size_t>(utf8_sequence_length(s, i), 1);
  return n;
}

/// A coordinate or time: fixed, at most `digits` decimals, no trailing zeros.
inline std::string svg_number(double x, int digits = 2) {
  if (!std::isfinite(x)) return "0";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::fixed, digits);
  if (r.ec != std::errc{}) return "0";
  std::string out(buf, r.ptr);
  if (out.find('.') != std::string::npos) {
    while (out.back() == '0') out.pop_back();
    if (out.back() == '.') out.pop_back();
  }
  return out == "-0" ? "0" : out;
}

/// A time for people: 6 significant digits.
inline std::string time_text(double x) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::general, 6);
  return r.ec == std::errc{} ? std::string(buf, r.ptr) : std::string("?");
}

/// `#rrggbb` of a colour given as hue (degrees), saturation and lightness (0..1).
inline std::string hsl_hex(double h, double s, double l) {
  auto f = [&](double n) {
    const double k = std::fmod(n + h / 30.0, 12.0);
    const double a = s * std::min(l, 1 - l);
    return l - a * std::max(-1.0, std::min({k - 3, 9 - k, 1.0}));
  };
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "#";
  for (double n : {0.0, 8.0, 4.0}) {
    const int v = static_cast<int>(std::lround(std::clamp(f(n), 0.0, 1.0) * 255));
    out += hex[v >> 4];
    out += hex[v & 15];
  }
  return out;
}

/// Fill of the k-th box of cluster c: a hue per cluster (golden angle apart),
/// alternating lightness so that neighbouring boxes stay apart.
inline std::string cluster_fill(std::size_t c, std::size_t k) {
  const double hue = std::fmod(static_cast<double>(c) * 137.508, 360.0);
  return hsl_hex(hue, 0.55, k % 2 == 0 ? 0.70 : 0.80);
}

/// A tick step of 1, 2 or 5 x 10^k giving about `target` ticks over [0, span].
inline double tick_step(double span, double target = 10) {
  if (!(span > 0) || !std::isfinite(span)) return 1;
  const double raw = span / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0})
    if (m * mag >= raw) return m * mag;
  return 10 * mag;
}

inline void write_gantt_svg(std::ostream& os, const flat_dag& d, const schedule& s, const std::vector<std::string>& label,
                            const gantt_options& o, std::span<const double> step_time = {},
                            const moldable_bounds* mb = nullptr) {
  const plan p = make_plan(d, s);  // throws graph_error when s does not fit the graph
  const timing t = simulate(d, p, step_time);
  bounds b = compute_bounds(d, s.workers);
  if (mb != nullptr) b.critical_path = mb->critical_path, b.lower_bound = mb->lower_bound;
  const auto reserved = reserved_workers(p);

  const double width = std::max(o.width, 300.0), row_h = std::max(o.row_height, 10.0);
  const double left = 80, right = 24, top = 44, font = 11, char_w = 0.6 * font;
  const double plot_w = width - left - right;
  const double rows_h = row_h * static_cast<double>(s.workers);
  const double axis_y = top + rows_h, height = axis_y + 48;
  const double span = std::max(t.makespan, o.show_lower_bound ? b.lower_bound : 0.0);
  const double scale = span > 0 ? plot_w / span : 0;
  const std::string unit = o.time_unit.empty() ? std::string() : " " + o.time_unit;
  const double shown = std::isfinite(o.time_scale) && o.time_scale > 0 ? o.time_scale : 1.0;
  auto time_of = [&](double time) { return time_text(time / shown); };
  auto x_of = [&](double time) { return left + time * scale; };

  std::string title = o.title;
  if (title.empty())
    title = std::to_string(d.n) + " vertices, " + std::to_string(s.clusters.size()) + " clusters on " +
            std::to_string(s.workers) + " workers, makespan " + time_of(t.makespan) + unit;

  os << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
     << "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" << svg_number(width) << "\" height=\""
     << svg_number(height) << "\" viewBox=\"0 0 " << svg_number(width) << ' ' << svg_number(height)
     << "\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"" << svg_number(font) << "\">\n"
     << "<title>" << xml_escape(title) << "</title>\n"
     << "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
     << "<text x=\"" << svg_number(left) << "\" y=\"24\" font-size=\"14\" font-weight=\"bold\">" << xml_escape(title)
     << "</text>\n";

  // rows
  os << "<g class=\"rows\">\n";
  for (std::size_t w = 0; w < s.workers; ++w) {
    const double y = top + row_h * static_cast<double>(w);
    os << "<rect x=\"" << svg_number(left) << "\" y=\"" << svg_number(y) << "\" width=\"" << svg_number(plot_w)
       << "\" height=\"" << svg_number(row_h) << "\" fill=\"" << (w % 2 ? "#f4f4f4" : "#fafafa") << "\"/>\n"
       << "<text x=\"" << svg_number(left - 8) << "\" y=\"" << svg_number(y + row_h / 2 + font * 0.35)
       << "\" text-anchor=\"end\">worker " << w << "</text>\n";
  }
  os << "</g>\n";

  // axis: baseline, ticks, labels, grid lines through the rows
  const double step = tick_step(span / shown) * shown;
  os << "<g class=\"axis\" stroke=\"#888888\">\n"
     << "<line x1=\"" << svg_number(left) << "\" y1=\"" << svg_number(axis_y) << "\" x2=\"" << svg_number(left + plot_w)
     << "\" y2=\"" << svg_number(axis_y) << "\"/>\n";
  const std::size_t ticks = span > 0 ? static_cast<std::size_t>(std::floor(span / step + 1e-9)) : 0;
  for (std::size_t k = 0; k <= ticks; ++k) {
    const double time = static_cast<double>(k) * step;
    const std::string x = svg_number(x_of(time));
    os << "<line x1=\"" << x << "\" y1=\"" << svg_number(top) << "\" x2=\"" << x << "\" y2=\"" << svg_number(axis_y)
       << "\" stroke=\"#e0e0e0\"/>\n"
       << "<line x1=\"" << x << "\" y1=\"" << svg_number(axis_y) << "\" x2=\"" << x << "\" y2=\""
       << svg_number(axis_y + 5) << "\"/>\n"
       << "<text x=\"" << x << "\" y=\"" << svg_number(axis_y + 18) << "\" text-anchor=\"middle\" stroke=\"none\">"
       << time_of(time) << "</text>\n";
  }
  os << "<text x=\"" << svg_number(left + plot_w / 2) << "\" y=\"" << svg_number(axis_y + 38)
     << "\" text-anchor=\"middle\" stroke=\"none\">time" << xml_escape(unit) << "</text>\n"
     << "</g>\n";

  // reserved rows: shaded for the duration of the multi-core copy they serve
  if (!s.reservations.empty()) {
    os << "<g class=\"reservations\" fill=\"#9a9a9a\" fill-opacity=\"0.35\">\n";
    for (std::uint32_t id = 0; id < p.steps.size(); ++id)
      for (std::uint32_t r : reserved[id]) {
        const double x = x_of(t.start[id]), w = std::max((t.finish[id] - t.start[id]) * scale, 0.5);
        os << "<rect class=\"reserved\" x=\"" << svg_number(x) << "\" y=\"" << svg_number(top + row_h * static_cast<double>(r) + 2)
           << "\" width=\"" << svg_number(w) << "\" height=\"" << svg_number(row_h - 4) << "\"><title>worker " << r
           << " reserved for " << xml_escape(label[p.steps[id].vertex]) << " (vertex " << p.steps[id].vertex << ", "
           << p.steps[id].threads << " cores)</title></rect>\n";
      }
    os << "</g>\n";
  }

  // one box per vertex copy
  std::vector<std::size_t> nth_in_cluster(s.clusters.size(), 0);
  os << "<g class=\"boxes\" stroke=\"#ffffff\" stroke-width=\"0.5\">\n";
  for (std::uint32_t id = 0; id < p.steps.size(); ++id) {
    const plan_step& st = p.steps[id];
    const bool clone = s.home[st.vertex] != st.cluster;
    const double x = x_of(t.start[id]), y = top + row_h * static_cast<double>(st.worker) + 2;
    const double w = std::max((t.finish[id] - t.start[id]) * scale, 0.5), h = row_h - 4;
    const std::string name = st.threads > 1 ? label[st.vertex] + " \xC3\x97" + std::to_string(st.threads) : label[st.vertex];
    os << "<rect class=\"box\" x=\"" << svg_number(x) << "\" y=\"" << svg_number(y) << "\" width=\"" << svg_number(w)
       << "\" height=\"" << svg_number(h) << "\" fill=\"" << cluster_fill(st.cluster, nth_in_cluster[st.cluster]++)
       << '"';
    if (clone) os << " stroke=\"#333333\" stroke-dasharray=\"3,2\" stroke-width=\"1\"";
    os << "><title>" << xml_escape(name) << "&#10;vertex " << st.vertex << (clone ? " (cloned copy)" : "")
       << ", cluster " << st.cluster << ", worker " << st.worker;
    if (st.threads > 1) os << ", " << st.threads << " cores";
    os << "&#10;start " << time_of(t.start[id])
       << ", finish " << time_of(t.finish[id]) << ", duration " << time_of(t.finish[id] - t.start[id])
       << xml_escape(unit) << "</title></rect>\n";
    // a label, cut with "…" when at least three characters fit
    const double room = w - 6;
    const std::size_t fit = room > 0 ? static_cast<std::size_t>(room / char_w) : 0;
    const std::size_t len = utf8_length(name);
    if (len > 0 && row_h >= font + 4 && (fit >= len || fit >= 4))
      os << "<text x=\"" << svg_number(x + 3) << "\" y=\"" << svg_number(y + h / 2 + font * 0.35)
         << "\" stroke=\"none\" pointer-events=\"none\">" << xml_escape(name, fit >= len ? std::string::npos : fit - 1)
         << "</text>\n";
  }
  os << "</g>\n";

  if (o.show_lower_bound && b.lower_bound > 0) {
    const std::string x = svg_number(x_of(b.lower_bound));
    os << "<g class=\"lower-bound\">\n<line x1=\"" << x << "\" y1=\"" << svg_number(top - 6) << "\" x2=\"" << x
       << "\" y2=\"" << svg_number(axis_y) << "\" stroke=\"#c00000\" stroke-dasharray=\"4,3\"><title>lower bound max(CP, W/P) = "
       << time_of(b.lower_bound) << xml_escape(unit) << "</title></line>\n"
       << "<text x=\"" << x << "\" y=\"" << svg_number(top - 8) << "\" text-anchor=\""
       << (x_of(b.lower_bound) - left > 140 ? "end" : "start") << "\" fill=\"#c00000\">lower bound "
       << time_of(b.lower_bound) << "</text>\n</g>\n";
  }
  os << "</svg>\n";
}

template <class Graph, class CostMap, class CommMap, class Label>
void gantt_svg(std::ostream& os, const Graph& g, const schedule& s, const CostMap& cost, const CommMap& comm,
               const Label& label, const gantt_options& o) {
  check_graph<Graph>();
  check_edge_cost<CommMap, Graph>();
  if constexpr (moldable_cost<CostMap, Graph>) {
    const auto tab = make_moldable_table(g, cost, s.workers);
    const auto d = flat_dag_of(g, tab, comm);
    const auto mb = compute_moldable_bounds(d, tab);
    write_gantt_svg(os, d, s, labels_by_index(g, label), o, step_times(make_plan(d, s), tab), &mb);
  } else {
    check_vertex_cost<CostMap, Graph>();
    write_gantt_svg(os, make_flat_dag(g, cost, comm), s, labels_by_index(g, label), o);
  }
}

}  // namespace detail

/// Writes schedule `s` of `g` (vertex costs `cost`, edge costs `comm` paid
/// between workers, names from `label`) as an SVG Gantt chart. Any label text
/// is escaped. Throws graph_error when `s` does not fit `g`.
template <class Graph, class CostMap, class CommMap, class Label>
  requires edge_cost_map<CommMap, Graph> && vertex_label_function<Label, Graph>
void write_gantt_svg(std::ostream& os, const Graph& g, const schedule& s, const CostMap& cost, const CommMap& comm,
                     const Label& label, const gantt_options& o = {}) {
  detail::gantt_svg(os, g, s, cost, comm, label, o);
}

/// Same with vertex indices as labels (and no edge costs unless given).
template <class Graph, class CostMap, class CommMap = no_edge_cost>
  requires edge_cost_map<CommMap, Graph>
void write_gantt_svg(std::ostream& os, const Graph& g, const schedule& s, const CostMap& cost, const CommMap& comm = {},
                     const gantt_options& o = {}) {
  detail::gantt_svg(os, g, s, cost, comm, index_label{}, o);
}

/// Same without edge costs, with labels.
template <class Graph, class CostMap, class Label>
  requires(vertex_label_function<Label, Graph> && !edge_cost_map<Label, Graph>)
void write_gantt_svg(std::ostream& os, const Graph& g, const schedule& s, const CostMap& cost, const Label& label,
                     const gantt_options& o = {}) {
  detail::gantt_svg(os, g, s, cost, no_edge_cost{}, label, o);
}

/// Same without edge costs or labels, with options.
template <class Graph, class CostMap>
void write_gantt_svg(std::ostream& os, const Graph& g, const schedule& s, const CostMap& cost, const gantt_options& o) {
  detail::gantt_svg(os, g, s, cost, no_edge_cost{}, index_label{}, o);
}

}  // namespace dfgpar
