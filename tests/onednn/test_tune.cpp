// tune(): t(v, k) is measured, every configuration it tries (the moldable
// schedule among them) is prepared and timed, the fastest is returned ready
// to run, and its results equal the serial session's (within rounding).

#include "model_builder.hpp"

#include <dfgpar/onednn/openmp_spin.hpp>
#include <dfgpar/onednn/tune.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

namespace {
namespace onednn = dfgpar::onednn;

// Threads of this process now (Linux: /proc/self/task; 0 where unknown).
std::size_t threads_in_process() {
  std::error_code ec;
  std::size_t n = 0;
  for (std::filesystem::directory_iterator it("/proc/self/task", ec), end; !ec && it != end; it.increment(ec)) ++n;
  return ec ? 0 : n;
}

// The thread count once `done(count)` holds, or after 2 s: a joined thread
// can stay listed in /proc/self/task for a moment after pthread_join returns
// (2 of 20 runs read one thread too many without the wait).
template <class Done>
std::size_t threads_when(Done done) {
  std::size_t n = threads_in_process();
  for (int i = 0; i < 2000 && !done(n); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    n = threads_in_process();
  }
  return n;
}

// Conv 3x3 on two branches, big enough that oneDNN runs it on every thread it is given.
std::filesystem::path two_branch_model(const char* name) {
  onednn_test::model m;
  m.input("x", {1, 16, 28, 28});
  m.weight("w1", {16, 16, 3, 3});
  m.weight("w2", {16, 16, 3, 3});
  m.node("Conv", {"x", "w1"}, {"a"}).ints("pads", {1, 1, 1, 1});
  m.node("Conv", {"x", "w2"}, {"b"}).ints("pads", {1, 1, 1, 1});
  m.node("Add", {"a", "b"}, {"y"});
  m.output("y");
  return m.save(name);
}

std::vector<float> output_of(const onednn::session& s) {
  const auto bytes = s.output(0);
  std::vector<float> v(bytes.size() / sizeof(float));
  std::memcpy(v.data(), bytes.data(), bytes.size());
  return v;
}
}  // namespace

TEST_CASE("[dfgpar] onednn: quiet_cores: under a quarter core on 2 cores, under half a core from 4 on") {
  CHECK(onednn::quiet_cores(0.0, 2));
  CHECK(onednn::quiet_cores(0.24, 2));
  CHECK_FALSE(onednn::quiet_cores(0.25, 2));  // a busy loop on one of 2 cores reads 0.5-1
  CHECK_FALSE(onednn::quiet_cores(0.6, 2));
  CHECK(onednn::quiet_cores(0.49, 4));
  CHECK_FALSE(onednn::quiet_cores(0.5, 4));
  CHECK(onednn::quiet_cores(0.31, 16));  // the idle 16-core VM read 0.20-0.31
  CHECK_FALSE(onednn::quiet_cores(0.5, 16));
  CHECK_FALSE(onednn::quiet_cores(1.0, 16));
  CHECK(onednn::quiet_cores(0.1, 1));
  CHECK_FALSE(onednn::quiet_cores(0.125, 1));
}

TEST_CASE("[dfgpar] onednn: busy_cores reads a share of the cores between 0 and n") {
  const auto busy = onednn::busy_cores(20, 2);
#if defined(__linux__)
  REQUIRE(busy);
  CHECK(*busy >= 0.0);
  CHECK(*busy <= 2.0);
#else
  CHECK_FALSE(busy);
#endif
}

TEST_CASE("[dfgpar] onednn: release_threads frees a session's threads and OpenMP teams; the next run starts them again") {
  if (threads_in_process() == 0) return;  // no /proc here
  const auto path = two_branch_model("release");
  const auto x = onednn_test::random_tensor({1, 16, 28, 28}, 3);
  onednn::session serial(path, {.workers = 1, .threads = 1, .cores = 4});
  const auto want = serial.run({x})[0].values<float>();
  // each session below ends released: the count goes back to this (the
  // release frees the calling thread's OpenMP team, one an earlier test
  // left included)
  serial.release_threads();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // its threads leave /proc
  const std::size_t base = threads_in_process();
  for (auto [workers, threads] : {std::pair<std::size_t, std::size_t>{2, 1}, {1, 2}, {2, 2}}) {
    CAPTURE(workers);
    CAPTURE(threads);
    onednn::session s(path, {.workers = workers, .threads = threads, .cores = 4});
    CHECK(s.openmp_threads() == 1 + workers * (threads - 1));  // the calling thread, and each worker's team less itself
    s.run({x});
    // worker 1's thread, or the calling thread's OpenMP team, or both
    const std::size_t running = threads_in_process();
    CHECK(running > base);
    s.release_threads();
    CHECK(threads_when([&](std::size_t n) { return n == base; }) == base);
    for (int r = 0; r < 3; ++r) {
      const auto got = s.run({x})[0].values<float>();
      REQUIRE(got.size() == want.size());
      for (std::size_t i = 0; i < got.size(); ++i) CHECK(std::fabs(got[i] - want[i]) <= 1e-4f * (1 + std::fabs(want[i])));
      CHECK(threads_in_process() == running);
      s.release_threads();
      CHECK(threads_when([&](std::size_t n) { return n == base; }) == base);
    }
  }
}

TEST_CASE("[dfgpar] onednn: tune leaves no candidate's threads behind; the chosen session starts its own at its next run") {
  if (threads_in_process() == 0) return;
  const auto path = two_branch_model("tune_release");
  const auto x = onednn_test::random_tensor({1, 16, 28, 28}, 5);
  const std::size_t before = threads_in_process();
  // 4 cores asked for on this machine: 1 x 1, 1 x 4, 4 x 1, 2 x 2 and the
  // moldable session all hold threads of their own while they run
  auto t = onednn::tune(path, {},
                        {.cores = 4, .warmup = 1, .runs = 2, .profile_runs = 1,
                         .inputs = [&](const std::vector<onednn::io_info>&) { return std::vector<dfgpar::onnx::tensor>{x}; }});
  REQUIRE(t.best);
  CHECK(t.tried.size() >= 4);
  // every candidate released its threads after its turns, and the calling
  // thread's OpenMP team too: nothing is left over from the timing
  const std::size_t after = threads_when([&](std::size_t n) { return n <= before; });
  CHECK(after <= before);
  const auto& c = t.tried[t.chosen];
  t.best->run();
  if (c.workers > 1 || c.threads > 1 || c.moldable) CHECK(threads_in_process() > after);
  onednn::session serial(path, {.workers = 1, .threads = 1, .cores = 4});
  const auto want = serial.run({x})[0].values<float>();
  const auto got = output_of(*t.best);
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) CHECK(std::fabs(got[i] - want[i]) <= 1e-4f * (1 + std::fabs(want[i])));
}

TEST_CASE("[dfgpar] onednn: tune with moldable_only prepares and times only the moldable session") {
  const auto path = two_branch_model("moldable_only");
  const auto x = onednn_test::random_tensor({1, 16, 28, 28}, 7);
  const auto feed = [&](const std::vector<onednn::io_info>&) { return std::vector<dfgpar::onnx::tensor>{x}; };
  auto t = onednn::tune(path, {},
                        {.cores = 2, .warmup = 1, .runs = 2, .moldable_only = true, .profile_runs = 1, .inputs = feed});
  REQUIRE(t.best);
  REQUIRE(t.tried.size() == 1);
  CHECK(t.tried[0].moldable);
  CHECK(t.tried[0].workers == 2);
  CHECK(t.best->schedule().workers == 2);
  CHECK(t.plan);
  CHECK(t.times.counts == std::vector<std::size_t>{1, 2});
  CHECK_FALSE(t.times.single);  // the 1 x k sessions are not kept as candidates
  onednn::session serial(path, {.workers = 1, .threads = 1, .cores = 2});
  const auto want = serial.run({x})[0].values<float>();
  const auto got = output_of(*t.best);
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) CHECK(std::fabs(got[i] - want[i]) <= 1e-4f * (1 + std::fabs(want[i])));
  CHECK_THROWS_WITH_AS(onednn::tune(path, {}, {.cores = 1, .moldable_only = true}),
                       "dfgpar: the moldable schedule needs at least 2 cores", dfgpar::graph_error);
}

TEST_CASE("[dfgpar] onednn: tune_candidates covers 1 x 1, P x 1, 1 x P and, from 4 cores, 2 x P/2") {
  auto has = [](const std::vector<onednn::tune_candidate>& c, std::size_t w, std::size_t t) {
    return std::any_of(c.begin(), c.end(), [&](const auto& x) { return x.workers == w && x.threads == t; });
  };
  CHECK(onednn::tune_candidates(1).size() == 1);
  const auto two = onednn::tune_candidates(2);
  CHECK(two.size() == 3);
  CHECK((has(two, 1, 1) && has(two, 1, 2) && has(two, 2, 1)));
  const auto sixteen = onednn::tune_candidates(16);
  CHECK(sixteen.size() == 4);
  CHECK((has(sixteen, 1, 1) && has(sixteen, 1, 16) && has(sixteen, 16, 1) && has(sixteen, 2, 8)));
}

TEST_CASE("[dfgpar] onednn: thread_counts: 1..4, then powers of two, and the cores") {
  CHECK(onednn::thread_counts(1) == std::vector<std::size_t>{1});
  CHECK(onednn::thread_counts(2) == std::vector<std::size_t>{1, 2});
  CHECK(onednn::thread_counts(4) == std::vector<std::size_t>{1, 2, 3, 4});
  CHECK(onednn::thread_counts(12) == std::vector<std::size_t>{1, 2, 3, 4, 8, 12});
  CHECK(onednn::thread_counts(16) == std::vector<std::size_t>{1, 2, 3, 4, 8, 16});
}

TEST_CASE("[dfgpar] onednn: tune keeps the fastest configuration, and it computes what the serial session does") {
  onednn_test::model m;
  m.input("x", {1, 4, 9, 9});
  m.weight("w1", {8, 4, 3, 3});
  m.weight("w2", {8, 4, 1, 1});
  m.node("Conv", {"x", "w1"}, {"a"}).ints("pads", {1, 1, 1, 1});
  m.node("Conv", {"x", "w2"}, {"b"});
  m.node("Add", {"a", "b"}, {"y"});
  m.output("y");
  const auto path = m.save("tune");
  auto t = onednn::tune(path, {}, {.cores = 2, .warmup = 1, .runs = 3, .profile_runs = 2});
  REQUIRE(t.best);
  REQUIRE(t.plan);
  // 1 x 1 and 1 x 2 (measured with t(v, k)), 2 x 1, and the moldable
  // schedule unless it is pure intra-op or inter-op (then it is 1 x 2 or 2 x 1)
  const bool pure = t.plan->method == "intra-op" || t.plan->method == "inter-op";
  REQUIRE(t.tried.size() == (pure ? 3u : 4u));
  CHECK(std::count_if(t.tried.begin(), t.tried.end(), [](const auto& c) { return c.moldable; }) == (pure ? 0 : 1));
  for (const auto& c : t.tried) CHECK(c.predicted_ms > 0);
  // t(v, k) at 1 and 2 threads for every node of the scheduled graph, and the plan made from it
  CHECK(t.times.counts == std::vector<std::size_t>{1, 2});
  REQUIRE(t.times.times.size() == num_vertices(t.best->compiled().scheduled().g));
  for (const auto& row : t.times.times) CHECK(row.size() == 2);
  REQUIRE(t.plan);
  CHECK(t.plan->makespan > 0);
  CHECK(t.ms > 0);
  CHECK(t.rounds == 3);  // round-robin, every candidate timed 3 times (far under the budget)
  REQUIRE(t.chosen < t.tried.size());
  for (const auto& c : t.tried) CHECK(c.median_ms > 0);
  // the fastest, except that the moldable session must win by the margin
  const auto& chosen = t.tried[t.chosen];
  CHECK(t.moldable_margin == 0.05);
  for (const auto& c : t.tried) {
    if (&c == &chosen) continue;
    if (chosen.moldable) CHECK(chosen.median_ms <= (1 - t.moldable_margin) * c.median_ms);
    else if (c.moldable) CHECK(c.median_ms > (1 - t.moldable_margin) * chosen.median_ms);
    else CHECK(chosen.median_ms <= c.median_ms);
  }
  // a margin no measurement can meet: never the moldable session; one below
  // -100%: the moldable session whenever there is one
  const auto never = onednn::tune(path, {}, {.cores = 2, .warmup = 1, .runs = 3, .moldable_margin = 1.0, .profile_runs = 2});
  CHECK_FALSE(never.tried[never.chosen].moldable);
  const auto always = onednn::tune(path, {}, {.cores = 2, .warmup = 1, .runs = 3, .moldable_margin = -1e9, .profile_runs = 2});
  const bool has_moldable = std::any_of(always.tried.begin(), always.tried.end(), [](const auto& c) { return c.moldable; });
  CHECK(always.tried[always.chosen].moldable == has_moldable);
  CHECK(t.best->options().workers == t.tried[t.chosen].workers);
  CHECK(t.best->options().threads == t.tried[t.chosen].threads);
  CHECK(t.best->compiled().moldable.has_value() == t.tried[t.chosen].moldable);
  const auto x = onednn_test::random_tensor({1, 4, 9, 9});
  onednn::session serial(path, {.workers = 1, .threads = 1, .cores = 2});
  // oneDNN may block a convolution differently for 2 threads: equal within rounding, not bits
  const auto got = t.best->run({x})[0].values<float>(), want = serial.run({x})[0].values<float>();
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) CHECK(std::fabs(got[i] - want[i]) <= 1e-5f * (1 + std::fabs(want[i])));
}

TEST_CASE("[dfgpar] onednn: without times per thread count tune tries 1 x 1, P x 1 and 1 x P only") {
  onednn_test::model m;
  m.input("x", {1, 4, 9, 9});
  m.weight("w1", {8, 4, 3, 3});
  m.node("Conv", {"x", "w1"}, {"y"}).ints("pads", {1, 1, 1, 1});
  m.output("y");
  const auto path = m.save("tune_plain");
  auto t = onednn::tune(path, {}, {.cores = 2, .warmup = 1, .runs = 2, .moldable = false});
  REQUIRE(t.tried.size() == 3);
  CHECK_FALSE(t.plan);
  CHECK(t.times.times.empty());
  const auto one = onednn::tune(path, {}, {.cores = 1, .warmup = 1, .runs = 2});
  REQUIRE(one.tried.size() == 1);  // one core: 1 x 1, nothing to measure per thread count
  CHECK(one.tried[0].workers == 1);
  CHECK(one.tried[0].threads == 1);
}

TEST_CASE("[dfgpar] onednn: the round-robin timing stops at its budget once every session ran min_runs times") {
  onednn_test::model m;
  m.input("x", {1, 4, 9, 9});
  m.node("Relu", {"x"}, {"y"});
  m.output("y");
  const auto path = m.save("tune_budget");
  onednn::session a(path, {.workers = 1, .threads = 1, .cores = 2});
  onednn::session b(path, {.workers = 2, .threads = 1, .cores = 2});
  std::size_t rounds = 0;
  auto med = onednn::detail::time_round_robin({&a, &b}, 1, 100, 4, 0.0, &rounds);
  CHECK(rounds == 4);  // budget 0: only the minimum
  REQUIRE(med.size() == 2);
  CHECK(med[0] > 0);
  CHECK(med[1] > 0);
  med = onednn::detail::time_round_robin({&a, &b}, 0, 7, 2, 1e9, &rounds);
  CHECK(rounds == 7);  // budget far away: every run asked for
}

TEST_CASE("[dfgpar] onednn: tune runs every candidate on the inputs it is given, made once from the declared inputs") {
  onednn_test::model m;
  m.input("x", {1, 4, 9, 9});
  m.weight("w1", {8, 4, 3, 3});
  m.node("Conv", {"x", "w1"}, {"c"}).ints("pads", {1, 1, 1, 1});
  m.node("Relu", {"c"}, {"y"});
  m.output("y");
  const auto path = m.save("tune_inputs");
  const auto x = onednn_test::random_tensor({1, 4, 9, 9}, 11);
  int made = 0;
  auto t = onednn::tune(path, {},
                        {.cores = 2, .warmup = 1, .runs = 2, .profile_runs = 1,
                         .inputs = [&](const std::vector<onednn::io_info>& ios) {
                           ++made;
                           REQUIRE(ios.size() == 1);
                           CHECK(ios[0].name == "x");
                           CHECK(ios[0].dims == x.dims);
                           return std::vector<dfgpar::onnx::tensor>{x};
                         }});
  CHECK(made == 1);  // once, for the measurement per thread count and the candidates alike
  // the chosen session's last run read x: its output buffer is y(x), not y(0)
  onednn::session serial(path, {.workers = 1, .threads = 1, .cores = 2});
  const auto want = serial.run({x})[0].values<float>();
  const auto bytes = t.best->output(0);
  REQUIRE(bytes.size() == want.size() * sizeof(float));
  std::vector<float> got(want.size());
  std::memcpy(got.data(), bytes.data(), bytes.size());
  for (std::size_t i = 0; i < got.size(); ++i) CHECK(std::fabs(got[i] - want[i]) <= 1e-5f * (1 + std::fabs(want[i])));
}
