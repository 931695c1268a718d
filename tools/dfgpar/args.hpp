#pragma once
// Command-line parsing for the dfgpar CLI: a tiny option scanner that
// accepts `--name value`, `--name=value` and short aliases, and checked
// number conversion. Every problem is a usage_error (exit status 2).

#include <charconv>
#include <cmath>
#include <cstddef>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace dfgpar_cli {

/// A mistake in the command line (exit status 2).
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Walks argv; `next_option` / `value` / `positional` pull from it in order.
class arg_scanner {
 public:
  arg_scanner(std::string command, std::vector<std::string> args) : command_(std::move(command)), args_(std::move(args)) {}

  bool done() const { return i_ >= args_.size(); }

  /// The next argument. Options come back as their name ("--workers"); a
  /// glued `--name=value` keeps its value for `value()`. Anything else (and
  /// everything after "--") is positional: `is_option` tells.
  std::string next() {
    pending_.reset();
    std::string a = args_[i_++];
    is_option_ = false;
    if (a == "--") {
      only_positional_ = true;
      return done() ? std::string() : next();
    }
    if (!only_positional_ && a.size() > 1 && a[0] == '-') {
      is_option_ = true;
      if (auto eq = a.find('='); a.starts_with("--") && eq != std::string::npos) {
        pending_ = a.substr(eq + 1);
        a.resize(eq);
      }
    }
    current_ = a;
    return a;
  }
  bool is_option() const { return is_option_; }

  /// The value of the current option (glued or the next argument).
  std::string value() {
    if (pending_) {
      std::string v = *pending_;
      pending_.reset();
      return v;
    }
    if (done()) throw usage_error(current_ + " needs a value");
    return args_[i_++];
  }
  /// Throws when a flag was given a glued value (`--clone=yes`).
  void no_value() const {
    if (pending_) throw usage_error(current_ + " takes no value");
  }

  [[noreturn]] void unknown() const {
    throw usage_error("unknown option '" + current_ + "' (see dfgpar " + command_ + " --help)");
  }

 private:
  std::string command_;
  std::vector<std::string> args_;
  std::size_t i_ = 0;
  std::string current_;
  std::optional<std::string> pending_;
  bool is_option_ = false;
  bool only_positional_ = false;
};

/// An integer in [lo, hi], or usage_error naming the option.
inline std::size_t parse_count(std::string_view option, std::string_view text, std::size_t lo, std::size_t hi) {
  std::size_t x = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), x);
  if (text.empty() || ec != std::errc{} || p != text.data() + text.size() || x < lo || x > hi)
    throw usage_error(std::string(option) + " must be an integer from " + std::to_string(lo) + " to " +
                      std::to_string(hi) + ", not '" + std::string(text) + "'");
  return x;
}

/// A finite number in [lo, hi], or usage_error naming the option.
inline double parse_number(std::string_view option, std::string_view text, double lo, double hi) {
  double x = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), x);
  if (text.empty() || ec != std::errc{} || p != text.data() + text.size() || !std::isfinite(x) || x < lo || x > hi) {
    char buf[2][32];
    auto a = std::to_chars(buf[0], buf[0] + 32, lo), b = std::to_chars(buf[1], buf[1] + 32, hi);
    throw usage_error(std::string(option) + " must be a number from " + std::string(buf[0], a.ptr) + " to " +
                      std::string(buf[1], b.ptr) + ", not '" + std::string(text) + "'");
  }
  return x;
}

}  // namespace dfgpar_cli
