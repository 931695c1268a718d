// dfgpar: command-line front end of the library.
//
//   dfgpar analyze MODEL.onnx --workers P [options]   (analyze.cpp)
//   dfgpar emit MODEL.onnx -o DIR --workers P [options]   (emit.cpp)
//
// Each command is a thin layer over dfgpar::onnx::compile (the pipeline:
// load, fold constants and remove dead code, cost, cluster, merge onto P
// workers) in a file of its own; this file only dispatches and turns
// failures into exit statuses: 0 success, 1 bad input (model, profile,
// unwritable output), 2 bad command line. A new command (`run`) is one file
// defining a dfgpar_cli::command (commands.hpp), one entry in `commands`
// below and one source in cmake/dfgpar_onnx.cmake.

#include "args.hpp"
#include "commands.hpp"
#include "guarded_main.hpp"
#include "report.hpp"

#include <dfgpar/error.hpp>

#include <algorithm>
#include <array>
#include <exception>
#include <iostream>
#include <new>
#include <string>
#include <vector>

#ifndef DFGPAR_CLI_VERSION
#define DFGPAR_CLI_VERSION "0.1.0"
#endif

namespace {

using dfgpar_cli::usage_error;

/// Every command, in the order `dfgpar --help` lists them.
const std::array commands = {&dfgpar_cli::analyze_command, &dfgpar_cli::emit_command,
#ifdef DFGPAR_HAVE_ONEDNN
                             &dfgpar_cli::run_command,
#endif
};

/// `dfgpar --help`: the usage lines and summaries come from the table.
std::string main_help() {
  std::string s = "dfgpar - find and schedule the task parallelism in a dataflow graph\n\nUsage:\n";
  for (const auto* c : commands) s += "  dfgpar " + std::string(c->name) + " " + std::string(c->usage) + "\n";
  s += "  dfgpar help [COMMAND]\n  dfgpar --help | --version\n\nCommands:\n";
  for (const auto* c : commands) {
    std::string name(c->name);
    name.resize(std::max<std::size_t>(name.size() + 1, 10), ' ');
    s += "  " + name + std::string(c->summary) + "\n";
  }
  s += R"(
Run `dfgpar COMMAND --help` for the options of a command.

Exit status: 0 success, 1 bad input (unreadable or invalid model or profile,
output that cannot be written), 2 bad command line. Errors are one line on
stderr; warnings (e.g. unknown operators, costed with a default) start with
"dfgpar: warning:". Output files are written whole or not at all.
)";
  return s;
}

const dfgpar_cli::command* find_command(const std::string& name) {
  for (const auto* c : commands)
    if (c->name == name) return c;
  return nullptr;
}

std::string command_list() {
  std::string s;
  for (const auto* c : commands) s += (s.empty() ? "" : ", ") + std::string(c->name);
  return s;
}

int run(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::cerr << main_help();
    return 2;
  }
  const std::string& cmd = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (cmd == "-h" || cmd == "--help") {
    std::cout << main_help();
    return 0;
  }
  if (cmd == "--version") {
    std::cout << "dfgpar " << DFGPAR_CLI_VERSION << '\n';
    return 0;
  }
  if (cmd == "help") {
    if (rest.empty()) std::cout << main_help();
    else if (const auto* c = find_command(rest[0])) std::cout << c->help();
    else throw usage_error("no help on '" + rest[0] + "': the commands are: " + command_list());
    return 0;
  }
  if (const auto* c = find_command(cmd)) return c->run(rest);
  throw usage_error("unknown command '" + cmd + "' (see dfgpar --help)");
}

}  // namespace

int main(int argc, char** argv) { return dfgpar_cli::guarded_main(argc, argv, run); }
