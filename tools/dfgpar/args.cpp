// Command-line parsing for the dfgpar CLI (see args.hpp).

#include "args.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <system_error>
#include <thread>

namespace dfgpar_cli {

std::string arg_scanner::next() {
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

std::string arg_scanner::value() {
  if (pending_) {
    std::string v = *pending_;
    pending_.reset();
    return v;
  }
  if (done()) throw usage_error(current_ + " needs a value");
  return args_[i_++];
}

std::string arg_scanner::file_value() {
  const std::string opt = current_;
  std::string v = value();
  if (v.empty()) throw usage_error(opt + " needs a file name, not ''");
  return v;
}

void arg_scanner::no_value() const {
  if (pending_) throw usage_error(current_ + " takes no value");
}

void arg_scanner::unknown() const {
  throw usage_error("unknown option '" + current_ + "' (see dfgpar " + command_ + " --help)");
}

std::size_t parse_count(std::string_view option, std::string_view text, std::size_t lo, std::size_t hi) {
  std::size_t x = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), x);
  if (text.empty() || ec != std::errc{} || p != text.data() + text.size() || x < lo || x > hi)
    throw usage_error(std::string(option) + " must be an integer from " + std::to_string(lo) + " to " +
                      std::to_string(hi) + ", not '" + std::string(text) + "'");
  return x;
}

double parse_number(std::string_view option, std::string_view text, double lo, double hi) {
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

std::size_t hardware_threads() { return std::max(1u, std::thread::hardware_concurrency()); }

std::string with_cores(std::string_view help) {
  std::string s(help);
  const std::string key = "%CORES%";
  if (auto at = s.find(key); at != std::string::npos) s.replace(at, key.size(), std::to_string(hardware_threads()));
  return s;
}

bool pipeline_args::parse(const std::string& opt, arg_scanner& args) {
  if (opt == "-p" || opt == "--workers") {
    const std::string v = args.value();
    workers_moldable = workers_auto_allowed && v == "moldable";
    workers_auto = workers_auto_allowed && (v == "auto" || workers_moldable);
    if (!workers_auto) workers = parse_count(opt, v, 1, max_workers);
  }
  else if (opt == "--effort") effort = parse_number(opt, args.value(), 0, 1000);
  else if (opt == "--time-limit") time_limit_ms = parse_number(opt, args.value(), 1, 600000);
  else if (opt == "--seed") seed = parse_count(opt, args.value(), 0, SIZE_MAX);
  else if (opt == "--no-optimize") args.no_value(), optimize = false;
  else if (opt == "--profile") profile = args.file_value();
  else if (opt == "--input-shape") input_shapes.push_back(args.value());
  else if (opt == "--dynamic-batch") args.no_value(), default_batch = false;
  else return false;
  return true;
}

void pipeline_args::take_model(const std::vector<std::string>& positional, std::string_view command,
                               std::string_view usage) {
  const std::string cmd(command);
  if (positional.empty()) throw usage_error(cmd + " needs a model file (" + std::string(usage) + ")");
  if (positional.size() > 1) throw usage_error(cmd + " takes one model file, got '" + positional[1] + "' too");
  model = positional[0];
}

}  // namespace dfgpar_cli
