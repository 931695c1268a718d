#pragma once
/// \file text.hpp
/// What the I/O writers share: the vertex-label concept, shortest round-trip
/// number formatting and UTF-8 validation and decoding (the last two in detail).

#include <dfgpar/concepts.hpp>

#include <charconv>
#include <concepts>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

namespace dfgpar {

/// A function from a vertex descriptor to its display name (anything a
/// std::string can be made from: std::string, std::string_view, const char*).
/// Names may hold any bytes; the writers escape them.
template <class F, class G>
concept vertex_label_function =
    dataflow_graph<G> && std::invocable<const F&, detail::vertex_t<G>> &&
    std::constructible_from<std::string, std::invoke_result_t<const F&, detail::vertex_t<G>>>;

/// The label used when none is given: the vertex index.
struct index_label {};

}  // namespace dfgpar

namespace dfgpar::detail {

/// Label of every vertex, by vertex index.
template <class G, class Label>
std::vector<std::string> labels_by_index(const G& g, const Label& label) {
  std::vector<std::string> out(num_vertices(g));
  if constexpr (std::is_same_v<Label, index_label>) {
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = std::to_string(i);
  } else {
    static_assert(vertex_label_function<Label, G>,
                  "dfgpar: a label function must take a vertex descriptor and return something a std::string can be "
                  "made from");
    for (auto [it, end] = vertices(g); it != end; ++it) out[index_of(g, *it)] = std::string(label(*it));
  }
  return out;
}

/// Shortest decimal text that reads back as exactly `x` (std::to_chars).
/// Integral values below 2^53 are written without exponent ("1000000", not "1e+06").
inline std::string format_number(double x) {
  char buf[64];
  std::to_chars_result r;
  if (std::isfinite(x) && x == std::floor(x) && std::fabs(x) < 9007199254740992.0)
    r = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(x));
  else
    r = std::to_chars(buf, buf + sizeof buf, x);
  return r.ec == std::errc{} ? std::string(buf, r.ptr) : std::string("0");
}

/// Length of the well-formed UTF-8 sequence starting at s[i] (1..4), or 0 when
/// the bytes there are not valid UTF-8 (overlong forms, surrogates and code
/// points above U+10FFFF are rejected, as RFC 3629 requires).
inline std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  std::size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) len = 2;
  else if (c == 0xE0) len = 3, lo = 0xA0;
  else if (c >= 0xE1 && c <= 0xEC) len = 3;
  else if (c == 0xED) len = 3, hi = 0x9F;
  else if (c >= 0xEE && c <= 0xEF) len = 3;
  else if (c == 0xF0) len = 4, lo = 0x90;
  else if (c >= 0xF1 && c <= 0xF3) len = 4;
  else if (c == 0xF4) len = 4, hi = 0x8F;
  else return 0;
  if (i + len > s.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < len; ++k)
    if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
  return len;
}

/// Decodes the UTF-8 sequence at s[i] (validated as `utf8_sequence_length`
/// says) and advances i past it; for bytes that are not valid UTF-8 returns
/// -1 and advances one byte, so a caller writes one U+FFFD per bad byte.
/// The one UTF-8 decoder of dfgpar (the PyTorch emitter's literals use it too).
inline std::int32_t next_code_point(std::string_view s, std::size_t& i) {
  const std::size_t len = utf8_sequence_length(s, i);
  if (len == 0) {
    ++i;
    return -1;
  }
  const auto b = [&](std::size_t k) { return static_cast<std::int32_t>(static_cast<unsigned char>(s[i + k])); };
  std::int32_t cp = len == 1 ? b(0) : b(0) & (len == 2 ? 0x1f : len == 3 ? 0x0f : 0x07);
  for (std::size_t k = 1; k < len; ++k) cp = cp << 6 | (b(k) & 0x3f);
  i += len;
  return cp;
}

/// U+FFFD REPLACEMENT CHARACTER, written for bytes that are not valid UTF-8.
inline constexpr std::string_view utf8_replacement = "\xEF\xBF\xBD";

}  // namespace dfgpar::detail
