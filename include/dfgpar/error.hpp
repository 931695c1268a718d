#pragma once
/// \file error.hpp
/// The exception dfgpar throws for input it cannot work with.

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace dfgpar {

/// Thrown when a graph is not a DAG, a cost is negative, a schedule does not
/// fit its graph, or an input file is malformed. `what()` is a one-line
/// message meant for the user.
class graph_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// `s` on one line, for an error message: runs of whitespace and control
/// characters become one space, and text past `max` characters becomes "...".
inline std::string one_line(std::string_view s, std::size_t max = 400) {
  std::string out;
  bool space = false;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
    if (out.size() >= max) {
      out += "...";
      break;
    }
  }
  return out;
}

}  // namespace dfgpar
