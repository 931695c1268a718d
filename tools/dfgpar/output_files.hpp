#pragma once
// Output files that appear whole or not at all: each is written to a hidden
// temporary file in the same folder, and only when every output has been
// written are they renamed into place (a rename within one folder is
// atomic). Temporaries left uncommitted are removed.

#include <dfgpar/error.hpp>

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <system_error>
#include <vector>

namespace dfgpar_cli {

namespace fs = std::filesystem;

/// Refuses, before any work is done, an output path that cannot be written:
/// a missing folder, a folder given as the file, an unwritable folder.
inline void check_output_path(const fs::path& file, const char* option) {
  if (file.empty()) throw dfgpar::graph_error(std::string(option) + ": empty file name");
  std::error_code ec;
  const fs::path dir = file.has_parent_path() ? file.parent_path() : fs::path(".");
  if (!fs::is_directory(dir, ec))
    throw dfgpar::graph_error(file.string() + ": cannot write: folder " + dir.string() + " does not exist");
  if (fs::is_directory(file, ec)) throw dfgpar::graph_error(file.string() + ": cannot write: it is a folder");
  if (::access(dir.c_str(), W_OK) != 0)
    throw dfgpar::graph_error(file.string() + ": cannot write: folder " + dir.string() + " is not writable");
}

class staged_outputs {
 public:
  staged_outputs() = default;
  staged_outputs(const staged_outputs&) = delete;
  staged_outputs& operator=(const staged_outputs&) = delete;
  ~staged_outputs() {
    std::error_code ec;
    for (const auto& it : items_) fs::remove(it.tmp, ec);
  }

  /// Writes `file`'s future content with `fill(tmp_path)`.
  void write_file(const fs::path& file, const std::function<void(const fs::path&)>& fill) {
    const fs::path tmp = temp_name(file);
    items_.push_back({file, tmp});
    fill(tmp);
  }

  /// Writes `file`'s future content with `fill(stream)`.
  void write_stream(const fs::path& file, const std::function<void(std::ostream&)>& fill) {
    write_file(file, [&](const fs::path& tmp) {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out) fail(file, tmp);
      fill(out);
      out.flush();
      if (!out) fail(file, tmp);
      out.close();
      if (!out) fail(file, tmp);
    });
  }

  /// Renames every temporary into place.
  void commit() {
    for (auto& it : items_) {
      std::error_code ec;
      fs::rename(it.tmp, it.file, ec);
      if (ec) throw dfgpar::graph_error(it.file.string() + ": cannot write: " + ec.message());
      it.tmp.clear();
    }
    items_.clear();
  }

 private:
  struct item {
    fs::path file, tmp;
  };
  std::vector<item> items_;

  static fs::path temp_name(const fs::path& file) {
    fs::path tmp = file;
    tmp.replace_filename("." + file.filename().string() + ".dfgpar-tmp-" + std::to_string(::getpid()));
    return tmp;
  }
  [[noreturn]] static void fail(const fs::path& file, const fs::path& tmp) {
    const int e = errno;
    throw dfgpar::graph_error(file.string() + ": cannot write " + tmp.filename().string() +
                              (e ? std::string(": ") + std::strerror(e) : std::string()));
  }
};

}  // namespace dfgpar_cli
