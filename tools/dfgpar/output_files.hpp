#pragma once
// Output files that appear whole or not at all: each is written to a hidden
// temporary file in the same folder, and only when every output has been
// written are they renamed into place (a rename within one folder is
// atomic). Temporaries left uncommitted are removed. A symbolic link is
// followed (the link stays); a device or pipe (/dev/null, /dev/stdout on a
// terminal) is written directly, since it cannot be replaced.

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

/// Where `file` really is: symbolic links resolved, also one that points to
/// a file yet to be written.
inline fs::path resolved(const fs::path& file) {
  std::error_code ec;
  fs::path p = file;
  for (int hops = 0; hops < 40 && fs::is_symlink(p, ec); ++hops) {
    const fs::path to = fs::read_symlink(p, ec);
    if (ec) break;
    p = to.is_absolute() ? to : p.parent_path() / to;
  }
  fs::path t = fs::weakly_canonical(p, ec);
  return ec ? p : t;
}

/// An existing file that is not a regular file (device, pipe, socket).
inline bool is_special(const fs::path& file) {
  std::error_code ec;
  const auto st = fs::status(file, ec);
  return !ec && fs::exists(st) && !fs::is_regular_file(st) && !fs::is_directory(st);
}

/// Refuses, before any work is done, an output path that cannot be written:
/// a missing folder, a folder given as the file, an unwritable folder, and
/// a device or pipe unless `special_ok`.
inline void check_output_path(const fs::path& file, const std::string& option, bool special_ok) {
  if (file.empty()) throw dfgpar::graph_error(option + ": empty file name");
  std::error_code ec;
  const fs::path target = resolved(file);
  if (is_special(target)) {
    if (special_ok) return;
    throw dfgpar::graph_error(file.string() + ": cannot write: not a regular file");
  }
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
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

  /// Writes `file`'s future content with `fill(tmp_path)`; refuses a
  /// device or pipe.
  void write_file(const fs::path& file, const std::function<void(const fs::path&)>& fill) {
    const fs::path target = resolved(file);
    if (is_special(target)) throw dfgpar::graph_error(file.string() + ": cannot write: not a regular file");
    const fs::path tmp = temp_name(target);
    items_.push_back({target, tmp});
    fill(tmp);
  }

  /// Writes `file`'s future content with `fill(stream)` (a device or pipe
  /// at once).
  void write_stream(const fs::path& file, const std::function<void(std::ostream&)>& fill) {
    auto write = [&](const fs::path& to) {
      std::ofstream out(to, std::ios::binary | std::ios::trunc);
      if (!out) fail(file, to);
      fill(out);
      out.flush();
      if (!out) fail(file, to);
      out.close();
      if (!out) fail(file, to);
    };
    if (const fs::path target = resolved(file); is_special(target)) write(target);
    else write_file(file, write);
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
