#pragma once
// The commands of the dfgpar CLI. Each lives in its own file (analyze.cpp,
// emit.cpp, ...) and is listed once in main.cpp's table; adding a command
// (e.g. `run`) is one new file plus one line there.

#include <string>
#include <string_view>
#include <vector>

namespace dfgpar_cli {

/// One command: `dfgpar NAME ARGS...`.
struct command {
  std::string_view name;
  std::string_view usage;    ///< what follows `dfgpar NAME` in the usage line
  std::string_view summary;  ///< for `dfgpar --help`: lines after the first indented by 12 spaces
  std::string (*help)();     ///< the text of `dfgpar NAME --help`
  int (*run)(const std::vector<std::string>& args);  ///< ARGS (after NAME); returns the exit status
};

extern const command analyze_command;  // analyze.cpp
extern const command emit_command;     // emit.cpp
#ifdef DFGPAR_HAVE_ONEDNN
extern const command run_command;      // run.cpp (only with oneDNN: cmake/dfgpar_onednn.cmake)
#endif

}  // namespace dfgpar_cli
