#pragma once
/// \file json.hpp
/// A small JSON reader (RFC 8259) for profiles and reports: no dependency,
/// bounded nesting, and errors that name the line and column; and the one
/// JSON string quoter every writer uses (`quote`).

#include <dfgpar/error.hpp>
#include <dfgpar/io/text.hpp>  // utf8_sequence_length

#include <charconv>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace dfgpar::detail::json {

struct value;
using array = std::vector<value>;
using object = std::vector<std::pair<std::string, value>>;  ///< members in file order

/// A parsed JSON value.
struct value {
  std::variant<std::nullptr_t, bool, double, std::string, std::unique_ptr<array>, std::unique_ptr<object>> v = nullptr;

  bool is_null() const { return std::holds_alternative<std::nullptr_t>(v); }
  bool is_bool() const { return std::holds_alternative<bool>(v); }
  bool is_number() const { return std::holds_alternative<double>(v); }
  bool is_string() const { return std::holds_alternative<std::string>(v); }
  bool is_array() const { return std::holds_alternative<std::unique_ptr<array>>(v); }
  bool is_object() const { return std::holds_alternative<std::unique_ptr<object>>(v); }
  double number() const { return std::get<double>(v); }
  const std::string& string() const { return std::get<std::string>(v); }
  const array& items() const { return *std::get<std::unique_ptr<array>>(v); }
  const object& members() const { return *std::get<std::unique_ptr<object>>(v); }
  /// Member `key` of an object (the last one if repeated), or nullptr.
  const value* find(std::string_view key) const {
    if (!is_object()) return nullptr;
    const value* hit = nullptr;
    for (const auto& [k, x] : members())
      if (k == key) hit = &x;
    return hit;
  }
};

class parser {
 public:
  parser(std::string_view text, std::string source) : s_(text), source_(std::move(source)) {}

  value parse() {
    // a UTF-8 byte order mark is tolerated
    if (s_.substr(0, 3) == "\xEF\xBB\xBF") p_ = 3;
    value v = parse_value(0);
    skip_ws();
    if (p_ != s_.size()) error("unexpected text after the JSON value");
    return v;
  }

 private:
  std::string_view s_;
  std::string source_;
  std::size_t p_ = 0;
  static constexpr int max_depth = 256;

  [[noreturn]] void error(const std::string& what) const {
    std::size_t line = 1, col = 1;
    for (std::size_t i = 0; i < p_ && i < s_.size(); ++i) {
      if (s_[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    throw graph_error((source_.empty() ? std::string("JSON") : source_) + ": " + what + " at line " +
                      std::to_string(line) + ", column " + std::to_string(col));
  }
  void skip_ws() {
    while (p_ < s_.size() && (s_[p_] == ' ' || s_[p_] == '\t' || s_[p_] == '\n' || s_[p_] == '\r')) ++p_;
  }
  bool eat(std::string_view word) {
    if (s_.substr(p_, word.size()) != word) return false;
    p_ += word.size();
    return true;
  }

  value parse_value(int depth) {
    if (depth > max_depth) error("JSON nested too deeply");
    skip_ws();
    if (p_ >= s_.size()) error("unexpected end of input");
    value out;
    const char c = s_[p_];
    if (c == '{') {
      ++p_;
      auto obj = std::make_unique<object>();
      skip_ws();
      if (p_ < s_.size() && s_[p_] == '}') {
        ++p_;
      } else {
        for (;;) {
          skip_ws();
          if (p_ >= s_.size() || s_[p_] != '"') error("expected a string key");
          std::string key = parse_string();
          skip_ws();
          if (p_ >= s_.size() || s_[p_] != ':') error("expected ':'");
          ++p_;
          obj->emplace_back(std::move(key), parse_value(depth + 1));
          skip_ws();
          if (p_ < s_.size() && s_[p_] == ',') {
            ++p_;
            continue;
          }
          if (p_ < s_.size() && s_[p_] == '}') {
            ++p_;
            break;
          }
          error("expected ',' or '}'");
        }
      }
      out.v = std::move(obj);
    } else if (c == '[') {
      ++p_;
      auto arr = std::make_unique<array>();
      skip_ws();
      if (p_ < s_.size() && s_[p_] == ']') {
        ++p_;
      } else {
        for (;;) {
          arr->push_back(parse_value(depth + 1));
          skip_ws();
          if (p_ < s_.size() && s_[p_] == ',') {
            ++p_;
            continue;
          }
          if (p_ < s_.size() && s_[p_] == ']') {
            ++p_;
            break;
          }
          error("expected ',' or ']'");
        }
      }
      out.v = std::move(arr);
    } else if (c == '"') {
      out.v = parse_string();
    } else if (eat("true")) {
      out.v = true;
    } else if (eat("false")) {
      out.v = false;
    } else if (eat("null")) {
      out.v = nullptr;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      out.v = parse_number();
    } else {
      error("unexpected character");
    }
    return out;
  }

  double parse_number() {
    const std::size_t start = p_;
    auto digits = [&] {
      const std::size_t d = p_;
      while (p_ < s_.size() && s_[p_] >= '0' && s_[p_] <= '9') ++p_;
      return p_ - d;
    };
    if (s_[p_] == '-') ++p_;
    if (p_ < s_.size() && s_[p_] == '0') {
      ++p_;
    } else if (digits() == 0) {
      error("invalid number");
    }
    if (p_ < s_.size() && s_[p_] == '.') {
      ++p_;
      if (digits() == 0) error("invalid number (no digits after '.')");
    }
    if (p_ < s_.size() && (s_[p_] == 'e' || s_[p_] == 'E')) {
      ++p_;
      if (p_ < s_.size() && (s_[p_] == '+' || s_[p_] == '-')) ++p_;
      if (digits() == 0) error("invalid number (no digits in the exponent)");
    }
    double x = 0;
    auto [ptr, ec] = std::from_chars(s_.data() + start, s_.data() + p_, x);
    if (ec == std::errc::result_out_of_range) {
      p_ = start;
      error("number out of range");
    }
    if (ec != std::errc{} || ptr != s_.data() + p_) {
      p_ = start;
      error("invalid number");
    }
    return x;
  }

  unsigned hex4() {
    if (s_.size() - p_ < 4) error("truncated \\u escape");
    unsigned u = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = s_[p_++];
      u <<= 4;
      if (h >= '0' && h <= '9') u |= static_cast<unsigned>(h - '0');
      else if (h >= 'a' && h <= 'f') u |= static_cast<unsigned>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') u |= static_cast<unsigned>(h - 'A' + 10);
      else error("invalid \\u escape");
    }
    return u;
  }

  std::string parse_string() {
    ++p_;  // opening quote
    std::string out;
    for (;;) {
      if (p_ >= s_.size()) error("unterminated string");
      const char c = s_[p_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) {
        --p_;
        error("control character in a string");
      }
      if (c != '\\') {
        out += c;
        continue;
      }
      if (p_ >= s_.size()) error("unterminated string");
      const char e = s_[p_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          unsigned cp = hex4();
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (!eat("\\u")) error("unpaired surrogate in \\u escape");
            const unsigned lo = hex4();
            if (lo < 0xDC00 || lo > 0xDFFF) error("unpaired surrogate in \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            error("unpaired surrogate in \\u escape");
          }
          if (cp < 0x80) {
            out += static_cast<char>(cp);
          } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
          } else if (cp < 0x10000) {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
          } else {
            out += static_cast<char>(0xF0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
          }
          break;
        }
        default:
          --p_;
          error("invalid escape in a string");
      }
    }
  }
};

/// Parses `text`; errors are graph_error "<source>: <what> at line L, column C".
inline value parse(std::string_view text, std::string source = {}) { return parser(text, std::move(source)).parse(); }

/// `s` as a JSON string literal (RFC 8259), quotes included. dfgpar's one
/// JSON quoter (reports, profiles, safetensors headers), with one policy:
/// `"` and `\` are escaped, control characters below U+0020 become `\n`,
/// `\t`, ... or `\u00XX`; well-formed UTF-8 passes through unchanged; every
/// byte that is not part of a well-formed UTF-8 sequence (RFC 3629: no
/// overlong forms, surrogates or code points above U+10FFFF) becomes U+FFFD.
/// So the result is always valid UTF-8 and valid JSON, and `parse` gives `s`
/// back whenever `s` was valid UTF-8.
inline std::string quote(std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "\"";
  out.reserve(s.size() + 2);
  for (std::size_t i = 0; i < s.size();) {
    const char c = s[i];
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80) {
      const std::size_t len = utf8_sequence_length(s, i);
      if (len == 0) {
        out += utf8_replacement;
        ++i;
      } else {
        out.append(s.substr(i, len));
        i += len;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (u < 0x20) {
          out += "\\u00";
          out += hex[u >> 4];
          out += hex[u & 15];
        } else {
          out += c;
        }
    }
    ++i;
  }
  return out += '"';
}

}  // namespace dfgpar::detail::json
