// `dfgpar run MODEL.onnx [--workers P] [--threads T] ...`: runs the model on
// the native runtime (dfgpar::onednn::session: the pipeline's schedule on the
// cluster executor, oneDNN kernels) and prints its latency and schedule.
// Built only when oneDNN is found (cmake/dfgpar_onednn.cmake).

#include "args.hpp"
#include "commands.hpp"
#include "compile.hpp"
#include "moldable_report.hpp"
#include "output_files.hpp"
#include "report.hpp"

#include <dfgpar/detail/json.hpp>
#include <dfgpar/error.hpp>
#include <dfgpar/onednn/npy.hpp>
#include <dfgpar/onednn/openmp_spin.hpp>
#include <dfgpar/onednn/session.hpp>
#include <dfgpar/onednn/tune.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <unistd.h>
#endif

namespace dfgpar_cli {

namespace {

namespace fs = std::filesystem;
namespace onnx = dfgpar::onnx;
namespace onednn = dfgpar::onednn;

constexpr std::string_view run_help = R"(Usage: dfgpar run MODEL.onnx [--workers auto|moldable|P] [--threads T] [options]

Runs an ONNX model on dfgpar's native runtime: the model is folded and
scheduled as `dfgpar analyze` does, every node is prepared once (oneDNN
primitives in blocked layouts, post-ops fused, weights prepacked; plain C++
for the rest), tensors share buffers by lifetime, and each run is one pass
of the cluster executor. Prints the median, p90 and minimum latency and the
schedule used.

By default (--workers auto) the tool chooses how many workers run side by
side and how many threads each node gets: it measures every node's time on
1..%CORES% threads, t(v, k) (one worker x k threads per count), schedules
the model with the moldable scheduler on those times (per region between
width-one nodes: branches side by side, one node on all cores, or a mix),
then times that schedule against pure inter-op (P workers x 1 thread), pure
intra-op (1 worker x P threads) and one core (1 x 1), round-robin (each
in turn: one untimed run, then two timed), and keeps the one of the lowest
median (the moldable schedule only when it wins by 5%). It prints the plan
per region with the predicted gain, and the predicted makespan beside the
measured latency. On 2 cores this costs 4 preparations and about 150 runs
of the model at load (at most about 4 s of the candidates' runs, at least
5 timed runs of each).
`--workers P` runs today's single-core-per-node schedule on P workers x T
threads instead; `--workers 1 --threads 1` is the serial baseline.

Operators or attributes the runtime cannot run are refused with a message
naming the node (exit status 1), before any run.

Options:
  -p, --workers auto|moldable|P
                       auto (the default): measure t(v, k), and time the
                       moldable schedule, P x 1, 1 x P and 1 x 1 (and 2 x P/2
                       from 4 cores) for all the cores here, round-robin, up
                       to 15 timed runs each; keep the fastest median (it
                       prints what it measured and why). P: workers running
                       clusters side by side, every node on its worker's T
                       threads. moldable: measure t(v, k) and run the
                       moldable schedule whatever the other forms would
                       measure (needs 2 cores; not timed against them)
  -t, --threads T      intra-op (OpenMP) threads of each worker with --workers
                       P (default: the cores divided by P); P x T may not
                       exceed the cores. --threads without --workers: 1 worker
      --iters N        timed runs (default 30)
      --warmup N       untimed runs first (default 5)
      --input [NAME=]FILE  an input (.npy or a TensorProto .pb, any element
                       type); repeatable: FILEs without NAME= go to the graph
                       inputs in order, NAME=FILE to the input NAME; inputs
                       not given: seeded pseudo-random values in [-1, 1)
                       (float32 inputs only)
      --output PATH    write the outputs of the last run (.npy): a model with
                       one output writes the file PATH (.pb: a TensorProto);
                       with several outputs, or when PATH is a folder or ends
                       in '/', the folder PATH gets output_0.npy, output_1.npy,
                       ... in graph-output order (created if missing)
      --check          also run the model on 1 worker (serial) and compare; with
                       --reference, compare both with it (abs 1e-4 / rel 1e-3);
                       exit status 1 on a mismatch
      --reference [NAME=]FILE  an expected output (.npy or .pb), for --check;
                       repeatable like --input (graph-output order or NAME=)
      --atol X, --rtol Y  the --reference tolerance (default 1e-4 and 1e-3):
                       |got - want| <= X + Y |want|; NaN equals NaN; a
                       bfloat16 output allows Y >= 2^-7 (one bfloat16 unit)
      --reference64 FILE  the same output computed in float64: a result outside
                       the tolerance still passes when its largest error
                       against it is at most 1.5x that of --reference
      --json FILE      write the latencies, schedule and kernels as JSON
      --spin N         executor spin rounds before a waiting worker sleeps
                       (default 256; 0 sleeps at once)
      --plain          plain row-major layouts only (no blocked layouts)
      --no-fuse        no post-op fusion or BatchNormalization folding
      --no-winograd    direct convolution only (by default 3x3 stride-1
                       convolutions run with oneDNN's Winograd kernels where
                       it has them: AVX-512; results differ by rounding)
      --no-optimize    skip constant folding and dead-code elimination
      --kernels        list how every node runs
      --input-shape NAME=d0,d1,...  fix an input's dimensions (repeatable; a
                       symbolic batch dimension defaults to 1, said on stderr)
      --profile OUT    measure every node at each thread count (1..4, then
                       powers of two up to the cores, and the cores; 1 worker
                       x k threads, N = --iters profiled runs each): write
                       the median wall time of each node's kernel, t(v, k), to
                       OUT in the format `dfgpar analyze --profile` reads
                       (each count's medians scaled by one factor so that they
                       add up to that count's median latency, the factor in
                       "scale_by_threads"; "us" is t(v, 1), "us_by_threads"
                       t(v, 1..cores),
                       counts between measured ones interpolated; fused
                       nodes 0, with the node they run in), and print the
                       time per operator type on 1 thread
      --rss            soak test: print the resident memory (VmRSS) at the
                       start, after preparing, after the warm-up and after the
                       timed runs; exit status 1 when it grew by more than
                       1 MiB over the timed runs (e.g. --iters 100000 --rss)
      --effort E, --time-limit MS, --seed S, --dynamic-batch
                       the scheduling options of `dfgpar analyze`
  -h, --help           this text

OpenMP: Debian's oneDNN uses libgomp, whose idle threads spin (300,000
rounds) before they sleep. On cores that another process also uses, that
spinning made a 2-thread run up to 25x slower (squeezenet1_1: 740 ms against
31 ms); sleeping at once (OMP_WAIT_POLICY=PASSIVE) pays a wake-up per
primitive. `run` spins a thread on every core for 100 ms, and starts itself
again with GOMP_SPINCOUNT=10000 when they got the cores (less than a
quarter of a core went to other processes on 2 cores, half a core from 4
cores on), to catch the next primitive (googlenet 1 x 2: 25.7 ms, against 36.1
at 300), and GOMP_SPINCOUNT=300 when another process is running, to yield
its core (googlenet 1 x 2 beside a busy loop: 46.4 ms, against 83.5 at
10,000; two such processes started together see each other and both take
300); the `openmp` line says which. OMP_WAIT_POLICY or GOMP_SPINCOUNT
set by you are kept (libgomp reads them only when it loads). With T = 1
there are no OpenMP threads at all.

Examples:
  dfgpar run googlenet.onnx
  dfgpar run googlenet.onnx --workers 1 --threads 1
  dfgpar run googlenet.onnx --workers 1 --threads 2
  dfgpar run googlenet.onnx --workers 2 --threads 1 --check --input googlenet.input.npy --reference googlenet.output.npy
  dfgpar run model.onnx --input ids=ids.npy --input mask=mask.pb --output outs/ --check --reference o0.pb --reference o1.pb
)";

std::string run_help_text() { return with_cores(run_help); }

/// The shared pipeline options (--workers, --no-optimize, --input-shape, ...;
/// `profile` is run's output file) and run's own.
struct run_args : pipeline_args {
  fs::path output, reference64, json;
  std::vector<std::string> inputs, references;  ///< --input / --reference, as given
  double atol = 1e-4, rtol = 1e-3;
  std::size_t threads = 0, iters = 30, warmup = 5;
  std::uint32_t spin = 256;
  bool check = false, plain = false, fuse = true, winograd = true, kernels = false, rss = false;

  bool threads_given = false, workers_given = false;

  run_args() {
    workers = 1;
    workers_auto_allowed = true;
    workers_auto = true;  // the default; --workers P or --threads T alone turn it off
  }
};

std::optional<run_args> parse_run(std::vector<std::string> argv) {
  run_args a;
  arg_scanner args("run", std::move(argv));
  std::vector<std::string> positional;
  while (!args.done()) {
    const std::string opt = args.next();
    if (!args.is_option()) {
      if (!opt.empty()) positional.push_back(opt);
      continue;
    }
    if (opt == "-h" || opt == "--help") return std::nullopt;
    if (opt == "-p" || opt == "--workers") {
      a.workers_given = true;
      a.workers_auto = false;  // parse sets it again for `auto`
    }
    if (a.parse(opt, args)) continue;
    if (opt == "-t" || opt == "--threads") a.threads = parse_count(opt, args.value(), 1, 1024), a.threads_given = true;
    else if (opt == "--iters") a.iters = parse_count(opt, args.value(), 1, 100'000'000);
    else if (opt == "--warmup") a.warmup = parse_count(opt, args.value(), 0, 100'000'000);
    else if (opt == "--input") a.inputs.push_back(args.file_value());
    else if (opt == "--output") a.output = args.file_value();
    else if (opt == "--reference") a.references.push_back(args.file_value());
    else if (opt == "--atol") a.atol = parse_number(opt, args.value(), 0, 1e30);
    else if (opt == "--rtol") a.rtol = parse_number(opt, args.value(), 0, 1e30);
    else if (opt == "--reference64") a.reference64 = args.file_value();
    else if (opt == "--json") a.json = args.file_value();
    else if (opt == "--spin") a.spin = static_cast<std::uint32_t>(parse_count(opt, args.value(), 0, 1u << 30));
    else if (opt == "--check") args.no_value(), a.check = true;
    else if (opt == "--plain") args.no_value(), a.plain = true;
    else if (opt == "--no-fuse") args.no_value(), a.fuse = false;
    else if (opt == "--no-winograd") args.no_value(), a.winograd = false;
    else if (opt == "--kernels") args.no_value(), a.kernels = true;
    else if (opt == "--rss") args.no_value(), a.rss = true;
    else args.unknown();
  }
  a.take_model(positional, "run", "dfgpar run MODEL.onnx [--workers P] [--threads T]");
  if (a.workers_auto && a.threads_given && !a.workers_given) a.workers_auto = false;  // --threads T alone: 1 worker x T
  if (a.workers_auto) {
    const char* form = a.workers_moldable ? "moldable" : "auto";
    if (a.threads_given) throw usage_error(std::string("--workers ") + form + " chooses the threads too: drop --threads");
    if (a.workers_moldable && hardware_threads() < 2)
      throw usage_error("--workers moldable needs at least 2 cores; this machine has 1");
    a.workers = 1;
    a.threads = hardware_threads();  // the most any candidate uses (OpenMP is set up for it)
  }
  if (a.threads == 0) a.threads = std::max<std::size_t>(1, hardware_threads() / a.workers);
  if (!a.references.empty() && !a.check) throw usage_error("--reference needs --check");
  if (!a.reference64.empty() && a.references.size() != 1) throw usage_error("--reference64 needs one --reference");
  if (a.rss && !a.profile.empty()) throw usage_error("--rss measures memory: it cannot be combined with --profile");
  std::error_code ec;
  if (!a.profile.empty() && fs::weakly_canonical(a.profile, ec) == fs::weakly_canonical(a.model, ec))
    throw usage_error("--profile would overwrite the model (" + a.profile.string() + ")");
  return a;
}

/// Seeded pseudo-random values in [-1, 1) (a fixed LCG: the same input every time).
onnx::tensor random_input(const onednn::io_info& io) {
  if (io.elem_type != ::onnx::TensorProto::FLOAT)
    throw dfgpar::graph_error("input '" + io.name + "' is " + onnx::elem_type_name(io.elem_type) +
                              ": give it with --input (random inputs are float32 only)");
  onnx::tensor t = onnx::make_tensor(io.elem_type, io.dims);
  std::uint64_t x = 0x9e3779b97f4a7c15ull;
  for (float& f : t.values<float>()) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    f = static_cast<float>(static_cast<double>(x >> 40) / static_cast<double>(1ull << 24) * 2.0 - 1.0);
  }
  return t;
}

/// The ONNX test data stores bfloat16 values as their bits in a UINT16
/// tensor (numpy has no bfloat16): such a file is read as the type the
/// model declares.
onnx::tensor as_declared(onnx::tensor t, std::int32_t declared) {
  if (t.elem_type == ::onnx::TensorProto::UINT16 && declared == ::onnx::TensorProto::BFLOAT16) t.elem_type = declared;
  return t;
}

/// "[1,3,224,224]".
std::string dims_text(const std::vector<std::int64_t>& d) {
  std::string s = "[";
  for (std::size_t i = 0; i < d.size(); ++i) s += (i ? "," : "") + std::to_string(d[i]);
  return s + "]";
}

struct comparison {
  double max_abs = 0, max_rel = 0, abs_tol = 0, rel_tol = 0;
  std::size_t bad = 0, count = 0;
  std::string mismatch;  ///< a type or shape mismatch, said instead of values
};

/// Element-wise |a - b| against abs + rel * |b| (NaN equals NaN, an
/// infinity equals itself); a type or shape mismatch is one bad comparison.
/// `values_only`: the element types may differ (a float32 result against its
/// float64 reference).
comparison compare(const onnx::tensor& a, const onnx::tensor& b, double abs_tol = 1e-4, double rel_tol = 1e-3,
                   bool values_only = false) {
  comparison c;
  c.abs_tol = abs_tol, c.rel_tol = rel_tol;
  if ((!values_only && a.elem_type != b.elem_type) || a.dims != b.dims || a.size() != b.size()) {
    c.bad = c.count = std::max<std::size_t>(1, b.size());
    c.max_abs = INFINITY;
    c.mismatch = "got " + onnx::elem_type_name(a.elem_type) + " " + dims_text(a.dims) + ", expected " +
                 onnx::elem_type_name(b.elem_type) + " " + dims_text(b.dims);
    return c;
  }
  c.count = a.size();
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double x = a.as_double(i), y = b.as_double(i);
    if (x == y || (std::isnan(x) && std::isnan(y))) continue;
    const double d = std::fabs(x - y);
    c.max_abs = std::isnan(d) ? INFINITY : std::max(c.max_abs, d);
    if (y != 0 && std::isfinite(y)) c.max_rel = std::max(c.max_rel, d / std::fabs(y));
    if (!(d <= abs_tol + rel_tol * std::fabs(y))) ++c.bad;
  }
  return c;
}

std::string describe(const comparison& c) {
  if (!c.mismatch.empty()) return c.mismatch;
  std::ostringstream s, tol;
  tol << std::defaultfloat << "abs " << c.abs_tol << " / rel " << c.rel_tol;
  s << "max abs diff " << std::setprecision(3) << c.max_abs << ", max rel diff " << c.max_rel << ", "
    << (c.bad ? std::to_string(c.bad) + " of " + std::to_string(c.count) + " outside " + tol.str() : "all within " + tol.str());
  return s.str();
}

/// The files of repeated --input / --reference options, matched to the
/// graph's inputs or outputs: NAME=FILE by name (when NAME is one of them),
/// others in order to the slots no NAME= took. Slots left empty stay empty.
std::vector<fs::path> match_files(const std::vector<std::string>& given, const std::vector<onednn::io_info>& ios,
                                  const std::string& option, const std::string& what) {
  std::vector<fs::path> files(ios.size());
  std::vector<fs::path> positional;
  auto names = [&] {
    std::string n;
    for (const auto& io : ios) n += (n.empty() ? "'" : ", '") + io.name + "'";
    return n;
  };
  for (const auto& text : given) {
    const auto eq = text.find('=');
    bool named = false;
    if (eq != std::string::npos) {
      const std::string name = text.substr(0, eq);
      for (std::size_t i = 0; i < ios.size(); ++i)
        if (ios[i].name == name) {
          if (!files[i].empty()) throw usage_error(option + ": " + what + " '" + name + "' given twice");
          files[i] = text.substr(eq + 1);
          if (files[i].empty()) throw usage_error(option + " " + text + ": no file after '='");
          named = true;
        }
      if (!named && !fs::exists(text))
        throw usage_error(option + " " + text + ": the model has no " + what + " named '" + name + "' (its " + what +
                          "s: " + names() + ")");
    }
    if (!named) positional.push_back(text);
  }
  std::size_t next = 0;
  for (const auto& f : positional) {
    while (next < files.size() && !files[next].empty()) ++next;
    if (next == files.size())
      throw usage_error(option + ": " + std::to_string(given.size()) + " files given, the model has " +
                        std::to_string(ios.size()) + " " + what + "(s): " + names());
    files[next++] = f;
  }
  return files;
}

double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const auto hi = std::min(v.size() - 1, lo + 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

std::string mib(std::size_t bytes) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(1) << static_cast<double>(bytes) / (1024.0 * 1024.0) << " MiB";
  return s.str();
}

/// Resident memory of this process in KiB (VmRSS), 0 where unknown.
std::size_t resident_kib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return static_cast<std::size_t>(std::strtoull(line.c_str() + 6, nullptr, 10));
  return 0;
}

/// libgomp reads its wait policy once, when it loads: to bound how long idle
/// OpenMP threads spin (see the help text), the process has to start again
/// with the variable set: a long spin when the cores are idle at start
/// (`quiet_cores`, over 100 ms), a short one otherwise.
/// Returns only when it did not restart.
void restart_with_openmp_spin(const std::vector<std::string>& argv) {
#if defined(__linux__)
  if (std::getenv("OMP_WAIT_POLICY") || std::getenv("GOMP_SPINCOUNT") || std::getenv("DFGPAR_RUN_RESTARTED")) return;
  const long online = ::sysconf(_SC_NPROCESSORS_ONLN);
  const std::size_t cores = online > 0 ? static_cast<std::size_t>(online) : 1;
  const auto busy = onednn::busy_cores(100, cores);
  const bool quiet = busy && onednn::quiet_cores(*busy, cores);
  std::ostringstream why;
  why << std::fixed << std::setprecision(2);
  if (busy) why << *busy << " of " << cores << " cores taken by others at start";
  else why << "the load at start could not be read";
  if (::setenv("GOMP_SPINCOUNT", quiet ? onednn::openmp_spin_quiet : onednn::openmp_spin_busy, 1) != 0 ||
      ::setenv("DFGPAR_RUN_RESTARTED", why.str().c_str(), 1) != 0)
    return;
  // dfgpar offloads nothing: libgomp need not look for offload plugins when
  // a session frees its OpenMP team (session::release_threads)
  if (!std::getenv("OMP_TARGET_OFFLOAD")) ::setenv("OMP_TARGET_OFFLOAD", "DISABLED", 1);
  std::vector<std::string> all{"dfgpar", "run"};
  all.insert(all.end(), argv.begin(), argv.end());
  std::vector<char*> cargv;
  for (auto& a : all) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  std::cout.flush();
  ::execv("/proc/self/exe", cargv.data());
  ::unsetenv("GOMP_SPINCOUNT");  // could not restart: go on with libgomp's default
#else
  (void)argv;
#endif
}

/// The OpenMP wait policy in effect, for the report.
std::string openmp_policy() {
  if (const char* p = std::getenv("OMP_WAIT_POLICY")) {
    std::string s = std::string("OMP_WAIT_POLICY=") + p;
    if (std::getenv("DFGPAR_RUN_RESTARTED")) s += " (set by dfgpar run)";
    return s;
  }
  if (const char* p = std::getenv("GOMP_SPINCOUNT")) {
    std::string s = std::string("GOMP_SPINCOUNT=") + p;
    if (const char* why = std::getenv("DFGPAR_RUN_RESTARTED")) s += std::string(" (set by dfgpar run: ") + why + ")";
    return s;
  }
  return "libgomp's default (idle threads spin, then sleep)";
}

/// For every vertex of the scheduled graph, its node index in the model file
/// (what `analyze --profile` keys a profile by), found as
/// onnx::profile_for_optimized maps it back: by the name when the name is
/// unique in the file, else by an output tensor. None: a node the optimiser
/// made (it is written by name).
std::vector<std::optional<std::size_t>> file_node_indices(const onnx::compile_result& r) {
  const onnx::model& m = r.scheduled();
  const std::size_t n = num_vertices(m.g);
  std::vector<std::optional<std::size_t>> out(n);
  if (&m == &r.original) {
    for (std::size_t v = 0; v < n; ++v) out[v] = m.g[v].node;
    return out;
  }
  std::map<std::string, std::size_t> index_of_name, name_count;
  for (std::size_t i = 0; i < num_vertices(r.original.g); ++i)
    if (!r.original.g[i].name.empty() && ++name_count[r.original.g[i].name] == 1) index_of_name[r.original.g[i].name] = i;
  const auto& proto_nodes = m.proto.graph().node();
  for (std::size_t v = 0; v < n; ++v) {
    const auto& info = m.g[v];
    if (auto c = name_count.find(info.name); !info.name.empty() && c != name_count.end() && c->second == 1)
      out[v] = index_of_name[info.name];
    for (const auto& t : proto_nodes.Get(static_cast<int>(info.node)).output())
      if (auto it = r.original.producer.find(t); !out[v] && it != r.original.producer.end()) out[v] = it->second;
  }
  return out;
}

/// dfgpar's profile format (onnx/profile.hpp) with the measured medians:
/// one entry per node of the scheduled graph; a fused node has 0 µs and
/// names the node it runs in.
void write_measured_profile(std::ostream& os, const onednn::session& s, const onednn::thread_times_result& t,
                            std::size_t runs) {
  namespace json = dfgpar::detail::json;
  const onnx::graph& g = s.compiled().scheduled().g;
  const auto file_nodes = file_node_indices(s.compiled());
  os << std::setprecision(6) << "{\"dfgpar_profile\": 1, \"source\": \"dfgpar run\", \"runs\": " << runs
     << ", \"workers\": 1, \"threads\": [";
  for (std::size_t i = 0; i < t.counts.size(); ++i) os << (i ? ", " : "") << t.counts[i];
  os << "], \"median_ms_by_threads\": [";
  for (std::size_t i = 0; i < t.median_ms.size(); ++i) os << (i ? ", " : "") << t.median_ms[i];
  os << "], \"scale_by_threads\": [";
  for (std::size_t i = 0; i < t.scale.size(); ++i) os << (i ? ", " : "") << t.scale[i];
  os << "], \"nodes\": [";
  bool first = true;
  for (std::size_t v = 0; v < t.times.size(); ++v) {
    const auto& info = g[v];
    if (!file_nodes[v] && info.name.empty()) continue;  // neither index nor name: nothing could match it
    os << (first ? "\n  " : ",\n  ") << "{\"name\": " << json::quote(info.name);
    if (file_nodes[v]) os << ", \"node\": " << *file_nodes[v];
    os << ", \"op\": " << json::quote(info.op_type) << ", \"us\": " << t.times[v].front() << ", \"us_by_threads\": [";
    for (std::size_t k = 0; k < t.times[v].size(); ++k) os << (k ? ", " : "") << t.times[v][k];
    os << "]";
    if (const auto into = s.fused_into(v)) {
      const auto& host = g[*into];
      os << ", \"fused_into\": " << json::quote(host.name.empty() ? host.op_type + " #" + std::to_string(*into) : host.name);
    }
    os << "}";
    first = false;
  }
  os << "\n]}\n";
}

/// "1, 2, 4".
std::string counts_text(const std::vector<std::size_t>& counts) {
  std::string s;
  for (std::size_t k : counts) s += (s.empty() ? "" : ", ") + std::to_string(k);
  return s;
}

/// What --workers auto measured, predicted and chose, and the moldable plan.
std::string explain_auto(const onednn::tune_result& t, const onnx::graph& g, std::size_t cores) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(2);
  if (!t.times.counts.empty()) {
    os << "auto                measured t(v, k) at " << counts_text(t.times.counts) << " threads (1 worker x k: ";
    for (std::size_t i = 0; i < t.times.median_ms.size(); ++i) os << (i ? ", " : "") << t.times.median_ms[i] << " ms";
    os << "; node medians scaled by ";
    for (std::size_t i = 0; i < t.times.scale.size(); ++i) os << (i ? ", " : "") << std::setprecision(3) << t.times.scale[i];
    os << std::setprecision(2) << " to those), then timed the candidates round-robin (median of " << t.rounds
       << " runs each)\n";
  }
  text_table tab({"candidate", "median ms", "predicted ms", ""}, {false, true, true, false});
  std::size_t second = t.chosen;
  for (std::size_t i = 0; i < t.tried.size(); ++i) {
    const auto& c = t.tried[i];
    const std::string kind = c.moldable ? "moldable" : c.workers == 1 ? "intra-op" : c.threads == 1 ? "inter-op" : "";
    tab.add({std::to_string(c.workers) + "x" + std::to_string(c.threads) + " " + kind, fixed(c.median_ms, 2),
             c.predicted_ms > 0 ? fixed(c.predicted_ms, 2) : "-", i == t.chosen ? "chosen" : ""});
    if (i != t.chosen && (second == t.chosen || c.median_ms < t.tried[second].median_ms)) second = i;
  }
  tab.print(os);
  const auto& c = t.tried[t.chosen];
  os << "auto                chose " << c.workers << "x" << c.threads << (c.moldable ? " moldable" : "");
  if (t.tried.size() == 1 && c.moldable) os << " (--workers moldable: the other forms are not timed)";
  if (second != t.chosen && t.tried[second].median_ms >= c.median_ms)  // else the margin chose (said below)
    os << ", " << std::setprecision(1) << 100 * (t.tried[second].median_ms / c.median_ms - 1) << "% faster than the next ("
       << t.tried[second].workers << "x" << t.tried[second].threads << (t.tried[second].moldable ? " moldable" : "") << ")";
  os << "\n";
  for (const auto& m : t.tried)
    if (m.moldable && !c.moldable && m.median_ms < c.median_ms)
      os << "auto                the moldable schedule was " << std::setprecision(1) << 100 * (1 - m.median_ms / c.median_ms)
         << "% faster, under the " << 100 * t.moldable_margin
         << "% it must win by (its latency spreads more: hand-offs, two OpenMP teams)\n";
  if (t.plan && std::none_of(t.tried.begin(), t.tried.end(), [](const auto& x) { return x.moldable; })) {
    const std::string same = t.plan->method == "intra-op" ? "1x" + std::to_string(cores) : std::to_string(cores) + "x1";
    os << "auto                the moldable plan is pure " << t.plan->method << ": the " << same
       << " candidate, not timed again as a moldable session\n";
  }
  if (t.plan) print_moldable_plan(os, g, *t.plan, cores);
  return os.str();
}

/// The time per operator type: count, total of the node medians, share.
void print_op_breakdown(std::ostream& os, const onednn::session& s, const std::vector<double>& median_us,
                        double latency_ms, double scale) {
  const onnx::graph& g = s.compiled().scheduled().g;
  struct row {
    std::size_t count = 0, fused = 0;
    double us = 0;
  };
  std::map<std::string, row> by_op;
  double total_us = 0;
  for (std::size_t v = 0; v < median_us.size(); ++v) {
    auto& r = by_op[g[v].op_type];
    ++r.count;
    if (s.fused_into(v)) ++r.fused;
    r.us += median_us[v];
    total_us += median_us[v];
  }
  std::vector<std::pair<std::string, row>> rows(by_op.begin(), by_op.end());
  std::stable_sort(rows.begin(), rows.end(), [](const auto& x, const auto& y) { return x.second.us > y.second.us; });
  os << "profile by op type   (1 worker x 1 thread: node medians x " << std::setprecision(3) << scale
     << " to add up to the median latency; their sum " << total_us / 1000 << " ms, that latency " << latency_ms
     << " ms)\n";
  os << "  " << std::left << std::setw(24) << "op" << std::right << std::setw(7) << "count" << std::setw(12)
     << "total ms" << std::setw(9) << "share" << "\n";
  for (const auto& [op, r] : rows) {
    std::string name = op;
    if (r.fused) name += " (" + std::to_string(r.fused) + " fused)";
    os << "  " << std::left << std::setw(24) << name << std::right << std::setw(7) << r.count << std::setw(12)
       << std::setprecision(3) << r.us / 1000 << std::setw(8) << std::setprecision(1)
       << (total_us > 0 ? 100 * r.us / total_us : 0.0) << "%\n";
  }
  os << std::setprecision(3);
}

int run_run(const std::vector<std::string>& argv) {
  const auto parsed = parse_run(argv);
  if (parsed && parsed->threads > 1) restart_with_openmp_spin(argv);
  if (!parsed) {
    std::cout << run_help_text();
    return 0;
  }
  const run_args& a = *parsed;
  if (!a.json.empty()) check_output_path(a.json, "--json", true);
  if (!a.profile.empty()) check_output_path(a.profile, "--profile", true);
  const std::size_t rss_start = a.rss ? resident_kib() : 0;

  onednn::session_options so{.workers = a.workers, .threads = a.threads, .spin = a.spin,
                             .kernels = {.blocked = !a.plain, .fuse = a.fuse, .winograd = a.winograd}};
  so.compile = compile_options_of(a);
  so.compile.profile.clear();  // run's --profile is what it writes, not a cost source
  auto fail_model = [&](const std::exception& e) -> dfgpar::graph_error {
    std::string w = e.what();
    if (w.rfind(a.model.string(), 0) != 0) w = a.model.string() + ": " + w;
    return dfgpar::graph_error(w);
  };
  // the inputs of every run, --workers auto's measurements included (an If
  // on an input's value takes the branch it will take in the timed runs);
  // made once, the files read once
  std::vector<onnx::tensor> made_inputs;
  auto make_inputs = [&](const std::vector<onednn::io_info>& ios) {
    if (!made_inputs.empty()) return made_inputs;
    std::vector<onnx::tensor> inputs;
    const auto files = match_files(a.inputs, ios, "--input", "input");
    for (std::size_t i = 0; i < files.size(); ++i) {
      if (files[i].empty()) {
        inputs.push_back(random_input(ios[i]));
        continue;
      }
      const auto& want = ios[i];
      inputs.push_back(as_declared(onednn::read_tensor_file(files[i]), want.elem_type));
      if (inputs.back().elem_type != want.elem_type || inputs.back().dims != want.dims)
        throw dfgpar::graph_error(files[i].string() + ": input '" + want.name + "' must be " +
                                  onnx::elem_type_name(want.elem_type) + " " + dims_text(want.dims) + ", the file holds " +
                                  onnx::elem_type_name(inputs.back().elem_type) + " " + dims_text(inputs.back().dims));
    }
    made_inputs = inputs;
    return inputs;
  };
  std::unique_ptr<onednn::session> s;
  std::string auto_text;                      // --workers auto: what was measured, predicted and chosen
  double predicted_ms = 0;                    // the chosen configuration's predicted makespan (0: none)
  onednn::thread_times_result measured;       // --profile: t(v, k)
  double measure_ms = 0;
  const std::size_t cores = hardware_threads();
  const auto t0 = std::chrono::steady_clock::now();
  try {
    if (a.workers_auto) {
      auto t = onednn::tune(a.model, so,
                            {.cores = cores,
                             .moldable_only = a.workers_moldable,
                             .profile_runs = a.profile.empty() ? std::size_t{5} : a.iters,
                             .inputs = make_inputs});
      s = std::move(t.best);
      predicted_ms = t.tried[t.chosen].predicted_ms;
      measure_ms = t.ms;
      auto_text = explain_auto(t, s->compiled().scheduled().g, cores);
      if (!a.profile.empty()) measured = std::move(t.times);
    } else {
      s = std::make_unique<onednn::session>(a.model, so);
    }
    if (!a.profile.empty() && measured.times.empty())
      measured = onednn::measure_thread_times(
          a.model, so,
          {.cores = cores, .warmup = a.warmup, .runs = std::min<std::size_t>(a.iters, 10), .profile_runs = a.iters,
           .inputs = make_inputs});
  } catch (const dfgpar::graph_error& e) {
    throw fail_model(e);
  }
  const std::size_t workers = s->options().workers, threads = s->options().threads;
  // --output: one file for one output, else a folder of output_<i>.npy
  bool output_folder = false;
  if (!a.output.empty()) {
    std::error_code ec;
    const std::string text = a.output.string();
    output_folder = s->outputs().size() != 1 || fs::is_directory(a.output, ec) || text.back() == '/';
    if (output_folder) {
      if (a.output.extension() == ".npy" || a.output.extension() == ".pb")
        throw usage_error("--output " + text + ": the model has " + std::to_string(s->outputs().size()) +
                          " outputs: give a folder");
      if (!fs::is_directory(a.output, ec) && !fs::create_directories(a.output, ec))
        throw dfgpar::graph_error(text + ": cannot create the folder" + (ec ? ": " + ec.message() : std::string()));
      for (std::size_t i = 0; i < s->outputs().size(); ++i)
        check_output_path(a.output / ("output_" + std::to_string(i) + ".npy"), "--output", true);
    } else {
      check_output_path(a.output, "--output", true);
    }
  }
  const double prepare_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();

  const std::vector<onnx::tensor> inputs = make_inputs(s->inputs());
  const auto reference_files = match_files(a.references, s->outputs(), "--reference", "output");
  const std::size_t rss_prepared = a.rss ? resident_kib() : 0;
  // written before the warm-up, so that its pages count before the timed runs (--rss)
  std::vector<double> ms(a.iters, 0.0);
  std::vector<onnx::tensor> out = s->run(inputs);  // checks the inputs; first (warm-up) run
  for (std::size_t i = 1; i < a.warmup; ++i) s->run();
  const std::size_t rss_warm = a.rss ? resident_kib() : 0;
  for (std::size_t i = 0; i < a.iters; ++i) {
    const auto b = std::chrono::steady_clock::now();
    s->run();
    ms[i] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - b).count();
  }
  const std::size_t rss_end = a.rss ? resident_kib() : 0;
  out = s->run(inputs);
  const double median = percentile(ms, 0.5), p90 = percentile(ms, 0.9), mn = *std::min_element(ms.begin(), ms.end());

  const auto& r = s->compiled();
  const auto& sched = s->schedule();
  const auto& st = s->statistics();
  std::cout << std::fixed << std::setprecision(3);
  std::cout << "model               " << a.model.string() << "\n";
  if (!auto_text.empty()) std::cout << auto_text << std::fixed << std::setprecision(3);
  std::cout << "schedule            " << workers << (workers == 1 ? " worker" : " workers") << " x " << threads
            << (threads == 1 ? " thread" : " threads") << " (executor spin " << a.spin << ")"
            << "; " << st.nodes << " nodes in " << sched.clusters.size()
            << " clusters, " << sched.num_cross_worker_edges() << " cross-worker edges";
  if (r.moldable) std::cout << "; moldable: " << allotment_summary(sched);
  if (workers > 1) {
    std::cout << "; nodes per worker:";
    for (std::size_t w = 0; w < sched.workers; ++w) {
      std::size_t k = 0;
      for (auto c : sched.clusters_of(w)) k += sched.clusters[c].vertices.size();
      std::cout << " " << k;
    }
  }
  std::cout << "\n";
  if (threads > 1 || r.moldable) {
    const std::size_t omp = s->openmp_threads();
    std::cout << "openmp              " << openmp_policy() << "; teams hold up to " << omp << " threads on " << cores
              << " cores";
    if (omp > cores) std::cout << " (more than the cores: libgomp spins about 100 rounds, then sleeps)";
    std::cout << "\n";
  }
  std::cout << "kernels             " << st.primitives << " oneDNN primitives (" << st.reorders << " reorders";
  if (st.winograd) std::cout << ", " << st.winograd << " Winograd convolutions";
  std::cout << "), " << st.fused << " nodes fused, " << st.views << " views, " << st.evaluator << " on the evaluator\n";
  std::cout << "memory              " << mib(st.arena_bytes) << " of buffers (" << mib(st.unplanned_bytes)
            << " without reuse, " << st.tensors << " tensors in " << st.buffers << " buffers), " << mib(st.weight_bytes)
            << " of weights\n";
  std::cout << "prepare             " << std::setprecision(1) << prepare_ms << " ms (pipeline " << r.phases.total()
            << " ms";
  if (measure_ms > 0) std::cout << "; --workers auto measured and chose in " << measure_ms << " ms";
  std::cout << ")\n" << std::setprecision(3);
  std::cout << "latency             median " << median << " ms, p90 " << p90 << " ms, min " << mn << " ms (" << a.iters
            << " runs after " << std::max<std::size_t>(a.warmup, 1) << " warm-up)";
  if (predicted_ms > 0)
    std::cout << "; predicted " << predicted_ms << " ms (" << std::showpos << std::setprecision(1)
              << 100 * (predicted_ms / median - 1) << std::noshowpos << "%)" << std::setprecision(3);
  std::cout << "\n";
  if (a.kernels)
    for (std::size_t v = 0; v < st.nodes; ++v) {
      const auto& info = r.scheduled().g[v];
      const std::size_t home = sched.home[v];
      std::cout << "  node " << std::setw(4) << v << "  worker " << (home < sched.clusters.size() ? sched.clusters[home].worker : 0)
                << "  " << (info.name.empty() ? "(unnamed)" : info.name) << ": " << s->kernel_of(v) << "\n";
    }

  if (!a.profile.empty()) {
    if (measured.times.size() != st.nodes) throw dfgpar::graph_error(a.model.string() + ": the profiled graph differs from the run one");
    std::vector<double> one_thread(st.nodes, 0.0);
    for (std::size_t v = 0; v < st.nodes; ++v) one_thread[v] = measured.times[v].front();
    print_op_breakdown(std::cout, *s, one_thread, measured.median_ms.front(),
                       measured.scale.empty() ? 1.0 : measured.scale.front());
    staged_outputs files;
    files.write_stream(a.profile, [&](std::ostream& os) { write_measured_profile(os, *s, measured, a.iters); });
    files.commit();
    std::cout << "profile             " << a.profile.string() << " (t(v, k) at " << counts_text(measured.counts)
              << " threads, median of " << a.iters << " runs per node and count; `dfgpar analyze MODEL --profile "
              << a.profile.string() << "` reads it)\n";
  }

  int status = 0;
  if (a.rss) {
    // growth over the timed runs only: preparing and the first runs allocate (oneDNN's caches, libgomp)
    const long growth = static_cast<long>(rss_end) - static_cast<long>(rss_warm);
    std::cout << "rss                 start " << rss_start << " KiB, prepared " << rss_prepared << " KiB, after warm-up "
              << rss_warm << " KiB, after " << a.iters << " runs " << rss_end << " KiB (growth "
              << (growth >= 0 ? "+" : "") << growth << " KiB" << (growth > 1024 ? ", more than 1024 KiB: FAILED" : "")
              << ")\n";
    if (growth > 1024 || rss_end == 0) status = 1;
  }
  std::string check_text;
  if (a.check) {
    onednn::session_options serial = so;
    serial.workers = 1;
    onednn::session ser(a.model, serial);
    const auto sout = ser.run(inputs);
    for (std::size_t i = 0; i < out.size(); ++i) {
      const auto c = compare(out[i], sout[i], 0, 0);
      std::cout << "check               " << s->outputs()[i].name << ": parallel vs serial: "
                << (c.bad == 0 ? "identical" : describe(c)) << "\n";
      if (workers > 1 && c.max_abs > 1e-5) status = 1;  // the same kernels in another order: should be equal
    }
    const auto again = s->run(inputs);
    for (std::size_t i = 0; i < out.size(); ++i) {
      const auto c = compare(again[i], out[i], 0, 0);
      std::cout << "check               " << s->outputs()[i].name << ": repeated run " << (c.bad == 0 ? "bit-identical" : describe(c))
                << "\n";
      if (c.bad) status = 1;
    }
    for (std::size_t i = 0; i < out.size(); ++i) {
      if (reference_files[i].empty()) continue;
      const onnx::tensor ref = as_declared(onednn::read_tensor_file(reference_files[i]), s->outputs()[i].elem_type);
      for (const auto& [name, t] : {std::pair<const char*, const onnx::tensor*>{"parallel", &out[i]}, {"serial", &sout[i]}}) {
        // a bfloat16 result may round where the reference truncated (the
        // ONNX test data does): one bfloat16 unit (2^-7 relative) is within tolerance
        const double rtol = ref.elem_type == ::onnx::TensorProto::BFLOAT16 ? std::max(a.rtol, 1.0 / 128) : a.rtol;
        const auto c = compare(*t, ref, a.atol, rtol);
        std::cout << "check               " << s->outputs()[i].name << ": " << name << " vs reference: " << describe(c) << "\n";
        if (c.bad && !a.reference64.empty()) {
          // as accurate as the reference itself, against the float64 result: within 1.5x, or 3x
          // where convolutions ran by Winograd, whose transforms round more (inception_v3 on one
          // thread: 4.5e-4 against float64 where torchvision's float32 is off by 2.0e-4)
          const onnx::tensor ref64 = onednn::read_tensor_file(a.reference64);
          const double ours = compare(*t, ref64, 0, 0, true).max_abs, theirs = compare(ref, ref64, 0, 0, true).max_abs;
          const bool winograd = (name == std::string("serial") ? ser : *s).statistics().winograd > 0;
          const double factor = winograd ? 3.0 : 1.5;
          const bool ok = std::isfinite(ours) && ours <= factor * theirs;
          std::cout << std::defaultfloat << "check               " << name << " vs float64: max abs diff "
                    << std::setprecision(3) << ours << ", the reference's own " << theirs << (ok ? ": accepted (at most " : ": more than ")
                    << factor << "x" << (ok ? "" : " (the bound") << (winograd ? " with Winograd convolutions" : "")
                    << (ok || winograd ? ")" : "") << "\n"
                    << std::fixed << std::setprecision(3);
          if (ok) continue;
        }
        if (c.bad) status = 1;
      }
    }
    std::cout << "check               " << (status == 0 ? "passed" : "FAILED") << "\n";
  }
  if (!a.output.empty() || !a.json.empty()) {
    staged_outputs files;
    if (!a.output.empty()) {
      if (output_folder) {
        for (std::size_t i = 0; i < out.size(); ++i)
          files.write_stream(a.output / ("output_" + std::to_string(i) + ".npy"),
                             [&](std::ostream& os) { onednn::write_npy(out[i], os); });
      } else if (a.output.extension() == ".pb") {
        files.write_file(a.output, [&](const fs::path& tmp) { onnx::write_tensor(out.at(0), s->outputs()[0].name, tmp); });
      } else {
        files.write_stream(a.output, [&](std::ostream& os) { onednn::write_npy(out.at(0), os); });
      }
    }
    if (!a.json.empty())
      files.write_stream(a.json, [&](std::ostream& os) {
        os << std::setprecision(6) << "{\n  \"model\": " << dfgpar::detail::json::quote(a.model.string())
           << ",\n  \"workers\": " << workers << ",\n  \"threads\": " << threads << ",\n  \"moldable\": "
           << (r.moldable ? "true" : "false") << ",\n  \"predicted_ms\": " << predicted_ms << ",\n  \"iters\": " << a.iters
           << ",\n  \"median_ms\": " << median << ",\n  \"p90_ms\": " << p90 << ",\n  \"min_ms\": " << mn
           << ",\n  \"times_ms\": [";
        for (std::size_t i = 0; i < ms.size(); ++i) os << (i ? ", " : "") << ms[i];
        os << "],\n  \"primitives\": " << st.primitives << ",\n  \"reorders\": " << st.reorders
           << ",\n  \"arena_bytes\": " << st.arena_bytes << ",\n  \"check\": "
           << (a.check ? (status == 0 ? "\"passed\"" : "\"failed\"") : "null") << ",\n  \"nodes\": [";
        for (std::size_t v = 0; v < st.nodes; ++v) {
          const std::size_t home = sched.home[v];
          os << (v ? ",\n    " : "\n    ") << "{\"name\": " << dfgpar::detail::json::quote(r.scheduled().g[v].name)
             << ", \"op\": " << dfgpar::detail::json::quote(r.scheduled().g[v].op_type)
             << ", \"worker\": " << sched.clusters[home].worker << ", \"kernel\": " << dfgpar::detail::json::quote(s->kernel_of(v))
             << "}";
        }
        os << "\n  ]\n}\n";
      });
    files.commit();
  }
  std::cout.flush();
  print_warnings(std::cerr, r.warnings);
  return status;
}

}  // namespace

const command run_command{
    "run", "MODEL.onnx [--workers P] [--threads T] [options]",
    R"(the same pipeline, then run the model on the native runtime
            (oneDNN kernels on the cluster executor) and print its latency.)",
    run_help_text, run_run};

}  // namespace dfgpar_cli
