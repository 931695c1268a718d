#pragma once
// The body of a dfgpar program's main (tools/dfgpar/main.cpp, and the
// run-only sanitizer program run_only_main.cpp): one-line errors and the exit
// statuses 0 success, 1 bad input (model, profile, unwritable output, out of
// memory), 2 bad command line.

#include "args.hpp"
#include "report.hpp"

#include <dfgpar/error.hpp>

#include <google/protobuf/stubs/logging.h>

#include <exception>
#include <iostream>
#include <new>
#include <string>
#include <vector>

namespace dfgpar_cli {

/// Calls `body(arguments without the program name)` and turns what it throws
/// into one line on stderr and an exit status.
template <class Body>
int guarded_main(int argc, char** argv, Body body) {
  // protobuf would print parse problems itself, over several lines; the
  // loader reports them in its one-line error instead
  google::protobuf::SetLogHandler(nullptr);
  std::ios::sync_with_stdio(false);
  try {
    return body(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const usage_error& e) {
    std::cerr << "dfgpar: " << without_prefixes(e.what()) << '\n';
    return 2;
  } catch (const std::bad_alloc&) {
    std::cerr << "dfgpar: error: out of memory\n";
    return 1;
  } catch (const std::exception& e) {  // dfgpar::graph_error and anything else: bad input
    std::cerr << "dfgpar: error: " << dfgpar::one_line(without_prefixes(e.what()), 600) << '\n';
    return 1;
  } catch (...) {
    std::cerr << "dfgpar: error: unknown failure\n";
    return 1;
  }
}

}  // namespace dfgpar_cli
