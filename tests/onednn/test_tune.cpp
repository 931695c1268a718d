// tune(): every configuration it tries is prepared and timed, the fastest is
// returned ready to run, and its results equal the serial session's (within rounding).

#include "model_builder.hpp"

#include <dfgpar/onednn/tune.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace {
namespace onednn = dfgpar::onednn;
}  // namespace

TEST_CASE("[dfgpar] onednn: tune_candidates covers P x 1, 1 x P and, from 4 cores, 2 x P/2") {
  auto has = [](const std::vector<onednn::tune_candidate>& c, std::size_t w, std::size_t t) {
    return std::any_of(c.begin(), c.end(), [&](const auto& x) { return x.workers == w && x.threads == t; });
  };
  CHECK(onednn::tune_candidates(1).size() == 1);
  const auto two = onednn::tune_candidates(2);
  CHECK(two.size() == 2);
  CHECK((has(two, 1, 2) && has(two, 2, 1)));
  const auto sixteen = onednn::tune_candidates(16);
  CHECK(sixteen.size() == 3);
  CHECK((has(sixteen, 1, 16) && has(sixteen, 16, 1) && has(sixteen, 2, 8)));
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
  auto t = onednn::tune(path, {}, {.cores = 2, .warmup = 1, .runs = 3});
  REQUIRE(t.best);
  REQUIRE(t.tried.size() == 2);
  REQUIRE(t.chosen < t.tried.size());
  for (const auto& c : t.tried) CHECK(c.median_ms > 0);
  for (const auto& c : t.tried) CHECK(t.tried[t.chosen].median_ms <= c.median_ms);
  CHECK(t.best->options().workers == t.tried[t.chosen].workers);
  CHECK(t.best->options().threads == t.tried[t.chosen].threads);
  const auto x = onednn_test::random_tensor({1, 4, 9, 9});
  onednn::session serial(path, {.workers = 1, .threads = 1, .cores = 2});
  // oneDNN may block a convolution differently for 2 threads: equal within rounding, not bits
  const auto got = t.best->run({x})[0].values<float>(), want = serial.run({x})[0].values<float>();
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) CHECK(std::fabs(got[i] - want[i]) <= 1e-5f * (1 + std::fabs(want[i])));
}
