#pragma once
// Command-line parsing for the dfgpar CLI: a tiny option scanner that
// accepts `--name value`, `--name=value` and short aliases, checked number
// conversion, and the options every pipeline command shares. Every problem
// is a usage_error (exit status 2).

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace dfgpar_cli {

/// A mistake in the command line (exit status 2).
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Walks argv; `next` / `value` / `no_value` pull from it in order.
class arg_scanner {
 public:
  arg_scanner(std::string command, std::vector<std::string> args) : command_(std::move(command)), args_(std::move(args)) {}

  bool done() const { return i_ >= args_.size(); }

  /// The next argument. Options come back as their name ("--workers"); a
  /// glued `--name=value` keeps its value for `value()`. Anything else (and
  /// everything after "--") is positional: `is_option` tells.
  std::string next();
  bool is_option() const { return is_option_; }

  /// The value of the current option (glued or the next argument).
  std::string value();
  /// The value of the current option, a file name (not empty).
  std::string file_value();
  /// Throws when a flag was given a glued value (`--clone=yes`).
  void no_value() const;

  [[noreturn]] void unknown() const;

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
std::size_t parse_count(std::string_view option, std::string_view text, std::size_t lo, std::size_t hi);

/// A finite number in [lo, hi], or usage_error naming the option.
double parse_number(std::string_view option, std::string_view text, double lo, double hi);

/// The number of hardware threads (at least 1).
std::size_t hardware_threads();

/// A help text with %CORES% replaced by the number of hardware threads.
std::string with_cores(std::string_view help);

/// The model and the options of the pipeline (onnx::compile) that every
/// command taking a model shares: folding, the cost source, the scheduling.
struct pipeline_args {
  static constexpr std::size_t max_workers = 1024;

  std::filesystem::path model, profile;
  std::size_t workers = hardware_threads();
  double effort = 1, time_limit_ms = 1000;
  std::uint64_t seed = 1;
  bool optimize = true;
  bool default_batch = true;  ///< false: --dynamic-batch (a symbolic batch stays symbolic)
  bool workers_auto_allowed = false;  ///< the command accepts `--workers auto`
  bool workers_auto = false;          ///< `--workers auto` (or `moldable`) was given
  bool workers_moldable = false;      ///< `--workers moldable`: auto's moldable session, not timed against others
  /// `--input-shape NAME=d0,d1,...` as given (repeatable); parsed by
  /// compile_model with the library's parse_input_shape.
  std::vector<std::string> input_shapes;

  /// Takes `opt` (and its value) if it is one of the shared options.
  bool parse(const std::string& opt, arg_scanner& args);
  /// Sets `model` from the positional arguments of `command`.
  void take_model(const std::vector<std::string>& positional, std::string_view command, std::string_view usage);
};

}  // namespace dfgpar_cli
