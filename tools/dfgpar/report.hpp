#pragma once
// Text output of the CLI: number formatting, op-type summaries, a plain
// aligned table and the warning lines.

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <map>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace dfgpar_cli {

/// `x` with `decimals` digits after the point.
inline std::string fixed(double x, int decimals = 2) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, x);
  return buf;
}

/// µs as milliseconds, e.g. "12.345 ms".
inline std::string ms(double us) { return fixed(us / 1000.0, 3) + " ms"; }

/// "Conv x3, Relu x3, Concat": op types by count (most first, ties in order
/// of first appearance), at most `max_kinds` of them, then "+N more".
inline std::string op_summary(const std::vector<std::string>& ops, std::size_t max_kinds = 6) {
  struct kind {
    std::string op;
    std::size_t count = 0, first = 0;
  };
  std::vector<kind> kinds;
  std::map<std::string, std::size_t> at;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    auto [it, fresh] = at.emplace(ops[i], kinds.size());
    if (fresh) kinds.push_back({ops[i], 0, i});
    ++kinds[it->second].count;
  }
  std::stable_sort(kinds.begin(), kinds.end(), [](const kind& a, const kind& b) { return a.count > b.count; });
  std::string out;
  for (std::size_t k = 0; k < kinds.size(); ++k) {
    if (k == max_kinds) {
      out += ", +" + std::to_string(kinds.size() - k) + " more";
      break;
    }
    if (!out.empty()) out += ", ";
    out += kinds[k].op;
    if (kinds[k].count > 1) out += " x" + std::to_string(kinds[k].count);
  }
  return out;
}

/// A library message without the prefixes its layers put in front of it
/// ("dfgpar: ", "dfgpar: pytorch: ") at its start or after a ": " (where a
/// caller added the file name): the CLI prints "dfgpar: error: " once.
inline std::string without_prefixes(std::string s) {
  for (const std::string_view p : {std::string_view("dfgpar: pytorch: "), std::string_view("dfgpar: ")}) {
    for (std::size_t at = 0; (at = s.find(p, at)) != std::string::npos;) {
      if (at == 0 || (at >= 2 && s.compare(at - 2, 2, ": ") == 0)) s.erase(at, p.size());
      else at += p.size();
    }
  }
  return s;
}

/// One "dfgpar: warning: ..." line per warning.
inline void print_warnings(std::ostream& os, const std::vector<std::string>& warnings) {
  for (const auto& w : warnings) os << "dfgpar: warning: " << without_prefixes(w) << '\n';
}

/// A table printed with columns padded to their widest cell; the last
/// column is not padded. `right` marks right-aligned (numeric) columns.
class text_table {
 public:
  text_table(std::vector<std::string> header, std::vector<bool> right) : right_(std::move(right)) {
    rows_.push_back(std::move(header));
  }
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void print(std::ostream& os, std::string_view indent = "  ") const {
    std::vector<std::size_t> width(rows_[0].size(), 0);
    for (const auto& r : rows_)
      for (std::size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
    for (const auto& r : rows_) {
      std::string line(indent);
      for (std::size_t c = 0; c < r.size(); ++c) {
        const bool last = c + 1 == r.size();
        const std::string pad(width[c] - r[c].size(), ' ');
        if (c < right_.size() && right_[c]) line += pad + r[c];
        else line += last ? r[c] : r[c] + pad;
        if (!last) line += "  ";
      }
      os << line << '\n';
    }
  }

 private:
  std::vector<std::vector<std::string>> rows_;
  std::vector<bool> right_;
};

}  // namespace dfgpar_cli
