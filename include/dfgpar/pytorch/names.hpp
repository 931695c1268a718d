#pragma once
/// \file names.hpp
/// Turning text from a model file into safe Python literals (string, float
/// and list) and wrapping generated lines to 79 columns. Whatever the model
/// contains, the results are plain ASCII and can only be read by Python as a
/// literal, never as code. Identifiers are made by naming.hpp.
/// \code
///   dfgpar::pytorch::python_string("it's\n");  // "'it\\'s\\n'"
///   dfgpar::pytorch::python_float(0.1);        // "0.1"
/// \endcode

#include <dfgpar/io/text.hpp>

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dfgpar::pytorch {

namespace detail {

// one UTF-8 decoder in dfgpar (io/text.hpp); weights.hpp reads it from here too
using dfgpar::detail::next_code_point;

}  // namespace detail

/// A Python string literal (single-quoted, pure ASCII) whose value is the
/// UTF-8 text `s`: quotes, backslashes and control characters escaped,
/// non-ASCII written as \\u/\\U escapes; an invalid UTF-8 byte becomes U+FFFD.
inline std::string python_string(std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "'";
  auto put_hex = [&](std::int32_t v, int digits) {
    for (int k = digits - 1; k >= 0; --k) out += hex[(v >> (4 * k)) & 15];
  };
  for (std::size_t i = 0; i < s.size();) {
    std::int32_t cp = detail::next_code_point(s, i);
    if (cp < 0) cp = 0xfffd;
    switch (cp) {
      case '\\': out += "\\\\"; continue;
      case '\'': out += "\\'"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      default: break;
    }
    if (cp < 0x20 || cp == 0x7f) {
      out += "\\x";
      put_hex(cp, 2);
    } else if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x10000) {
      out += "\\u";
      put_hex(cp, 4);
    } else {
      out += "\\U";
      put_hex(cp, 8);
    }
  }
  return out + "'";
}

/// Text from a model made safe for a Python comment: one line, ASCII, control
/// characters and non-ASCII escaped, cut at `max` characters.
inline std::string python_comment_text(std::string_view s, std::size_t max = 60) {
  std::string q = python_string(s);
  q = q.substr(1, q.size() - 2);
  if (q.size() > max) q = q.substr(0, max) + "...";
  return q;
}

/// A Python float literal that reads back as exactly `x` (shortest round
/// trip); inf and nan as `float('inf')`, `float('nan')`.
inline std::string python_float(double x) {
  if (std::isnan(x)) return "float('nan')";
  if (std::isinf(x)) return x > 0 ? "float('inf')" : "-float('inf')";
  std::array<char, 64> buf{};
  auto [p, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), x);
  std::string s(buf.data(), p);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

/// A Python list literal of integers: `[1, -1, 3]`.
template <class Ints>
std::string python_int_list(const Ints& v) {
  std::string s = "[";
  bool first = true;
  for (auto x : v) {
    if (!first) s += ", ";
    first = false;
    s += std::to_string(static_cast<long long>(x));
  }
  return s + "]";
}

/// Wraps one line of generated Python to at most `width` columns (PEP 8),
/// breaking after the commas of its brackets and aligning continuation lines
/// with the opening bracket (visual indent). Lines without a bracket to
/// break in are returned as they are. Expects the generator's own output:
/// quotes hold no brackets or commas that matter, no comments after code.
inline std::vector<std::string> wrap_python_line(const std::string& line, std::size_t width = 79);

namespace detail {

/// A character of an assignment's target: a name, an attribute or a subscript.
inline bool is_name_char_or_dot(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == '[' || c == ']';
}

/// Splits `text` at each top-level `sep` (outside brackets and quotes); the
/// next piece starts `keep` characters into the separator, leading spaces
/// dropped.
inline std::vector<std::string> split_top_level(std::string_view text, std::string_view sep, std::size_t keep) {
  std::vector<std::string> out;
  int depth = 0;
  char quote = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote) {
      if (c == '\\') ++i;
      else if (c == quote) quote = 0;
      continue;
    }
    if (c == '\'' || c == '"') quote = c;
    else if (c == '(' || c == '[' || c == '{') ++depth;
    else if (c == ')' || c == ']' || c == '}') --depth;
    else if (depth == 0 && text.compare(i, sep.size(), sep) == 0) {
      out.emplace_back(text.substr(start, i - start));
      start = i + keep;
      while (start < text.size() && text[start] == ' ') ++start;
      i += sep.size() - 1;
    }
  }
  out.emplace_back(text.substr(start));
  return out;
}

/// Splits `text` at top-level ", " (outside brackets and quotes).
inline std::vector<std::string> split_args(std::string_view text) { return split_top_level(text, ",", 1); }

/// Splits `text` before each top-level " + " (outside brackets and quotes):
/// "a + b + c" -> {"a", "+ b", "+ c"}; a sum inside brackets may break there.
inline std::vector<std::string> split_plus(std::string_view text) { return split_top_level(text, " + ", 1); }

/// Position of the first top-level opening bracket and its match, or npos.
inline std::pair<std::size_t, std::size_t> first_bracket(std::string_view text) {
  char quote = 0;
  int depth = 0;
  std::size_t open = std::string::npos;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote) {
      if (c == '\\') ++i;
      else if (c == quote) quote = 0;
      continue;
    }
    if (c == '\'' || c == '"') quote = c;
    else if (c == '(' || c == '[' || c == '{') {
      if (depth++ == 0 && open == std::string::npos) open = i;
    } else if (c == ')' || c == ']' || c == '}') {
      if (--depth == 0 && open != std::string::npos) return {open, i};
    }
  }
  return {std::string::npos, std::string::npos};
}

/// Lays out `text` starting at column `col`; continuation lines are
/// returned with their leading spaces.
inline std::vector<std::string> wrap_at(const std::string& text, std::size_t col, std::size_t width) {
  if (col + text.size() <= width) return {text};
  auto [open, close] = first_bracket(text);
  if (open == std::string::npos || close == open + 1) return {text};
  const std::string head = text.substr(0, open + 1), tail = text.substr(close);
  const std::size_t inner = col + open + 1;
  if (inner + 12 > width) return {text};  // no room to align: leave it long rather than unreadable
  const auto args = split_args(std::string_view(text).substr(open + 1, close - open - 1));
  std::vector<std::string> lines{head};
  const std::string pad(inner, ' ');
  for (std::size_t k = 0; k < args.size(); ++k) {
    const bool last = k + 1 == args.size();
    const std::string piece = args[k] + (last ? tail : std::string(","));
    std::string& cur = lines.back();
    const std::size_t cur_col = lines.size() == 1 ? col + cur.size() : cur.size();
    const bool at_start = lines.size() == 1 ? cur.size() == head.size() : cur.size() == pad.size();
    const std::size_t need = (at_start ? 0 : 1) + piece.size();
    if (cur_col + need <= width) {
      cur += (at_start ? "" : " ") + piece;
      continue;
    }
    if (!at_start) {
      lines.push_back(pad);
    }
    // the piece alone does not fit: wrap it at this column
    std::string& line = lines.back();
    const std::size_t c0 = lines.size() == 1 ? col + line.size() : line.size();
    auto sub = wrap_at(args[k], c0, width - (last ? tail.size() : 1));
    line += sub[0];
    for (std::size_t j = 1; j < sub.size(); ++j) lines.push_back(sub[j]);
    lines.back() += last ? tail : std::string(",");
  }
  // tail that holds more than the closing bracket may itself be long: leave it
  return lines;
}

/// The same with a hanging indent: the opening bracket ends the first line,
/// the arguments follow at `cont` columns (and nest the same way).
inline std::vector<std::string> hang_at(const std::string& text, std::size_t col, std::size_t cont, std::size_t width) {
  if (col + text.size() <= width) return {text};
  auto [open, close] = first_bracket(text);
  if (open == std::string::npos || close == open + 1) return {text};
  const std::string head = text.substr(0, open + 1), tail = text.substr(close);
  const auto args = split_args(std::string_view(text).substr(open + 1, close - open - 1));
  std::vector<std::string> lines{head, std::string(cont, ' ')};
  for (std::size_t k = 0; k < args.size(); ++k) {
    const bool last = k + 1 == args.size();
    const std::string piece = args[k] + (last ? tail : std::string(","));
    const bool at_start = lines.back().size() == cont;
    if (lines.back().size() + (at_start ? 0 : 1) + piece.size() <= width) {
      lines.back() += (at_start ? "" : " ") + piece;
      continue;
    }
    if (!at_start) lines.push_back(std::string(cont, ' '));
    if (const auto terms = split_plus(args[k]); terms.size() > 1) {
      // a long sum: one term per line where they do not fit together
      for (std::size_t t = 0; t < terms.size(); ++t) {
        const std::string term = terms[t] + (t + 1 < terms.size() ? std::string() : last ? tail : std::string(","));
        bool start = lines.back().size() == cont;
        if (!start && lines.back().size() + 1 + term.size() > width) lines.push_back(std::string(cont, ' ')), start = true;
        if (start && cont + term.size() > width) {  // a term too long alone: hang it too
          auto sub = hang_at(term, cont, cont + 4, width);
          lines.back() += sub[0];
          for (std::size_t j = 1; j < sub.size(); ++j) lines.push_back(sub[j]);
          continue;
        }
        lines.back() += (start ? "" : " ") + term;
      }
      continue;
    }
    auto sub = hang_at(args[k], cont, cont + 4, width - (last ? tail.size() : 1));
    lines.back() += sub[0];
    for (std::size_t j = 1; j < sub.size(); ++j) lines.push_back(sub[j]);
    lines.back() += last ? tail : std::string(",");
  }
  return lines;
}

}  // namespace detail

inline std::vector<std::string> wrap_python_line(const std::string& line, std::size_t width) {
  std::size_t indent = 0;
  while (indent < line.size() && line[indent] == ' ') ++indent;
  if (line.size() <= width || line.compare(indent, 1, "#") == 0) return {line};
  auto fits = [&](const std::vector<std::string>& ls) {
    for (std::size_t k = 0; k < ls.size(); ++k)
      if ((k == 0 ? indent : 0) + ls[k].size() > width) return false;
    return true;
  };
  auto lines = detail::wrap_at(line.substr(indent), indent, width);
  if (!fits(lines)) {
    // a `def` line's arguments get 8 columns, not to look like the body
    // a compound statement's head (`def`, `for`, `if`, ...: it ends in ':')
    // gets 8 columns, not to look like its body (E125)
    const std::size_t cont = indent + (line.back() == ':' ? 8 : 4);
    auto hung = detail::hang_at(line.substr(indent), indent, cont, width);
    if (fits(hung) || hung.size() > 1) lines = std::move(hung);
  }
  const bool wrapped = lines.size() > 1 && fits(lines);
  lines[0] = std::string(indent, ' ') + lines[0];
  if (!wrapped) {
    // `name = value` that does not wrap within the width (nothing to break
    // in, or a long name before the first bracket): the value in
    // parentheses, hung on the next lines
    const std::string code = line.substr(indent);
    const std::size_t eq = code.find(" = ");
    bool plain_lhs = eq != std::string::npos && eq > 0;
    for (std::size_t k = 0; plain_lhs && k < eq; ++k)
      plain_lhs = detail::is_name_char_or_dot(code[k]);
    if (plain_lhs) {
      std::vector<std::string> hung{std::string(indent, ' ') + code.substr(0, eq) + " = ("};
      for (auto& l : wrap_python_line(std::string(indent + 4, ' ') + code.substr(eq + 3) + ")", width))
        hung.push_back(std::move(l));
      bool ok = true;
      for (const auto& l : hung) ok = ok && l.size() <= width;
      if (ok) return hung;
    }
  }
  return lines;
}

}  // namespace dfgpar::pytorch
