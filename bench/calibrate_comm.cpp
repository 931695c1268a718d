// Calibrates the hand-off constants of dfgpar's ONNX cost model
// (roofline_defaults.comm_latency_us and comm_bandwidth_gbs in
// include/dfgpar/onnx/cost_model.hpp): what it costs one worker to pass a
// tensor to a worker on another core.
//   latency:   one-way time of an atomic flag round trip (spin, then C++20 wait/notify)
//   bandwidth: the consumer reads 4 MiB the producer has just written (cache-to-cache / memory)
// Prints the best of several repeats (other load only slows a repeat down). Build: g++ -std=c++20 -O2 -pthread bench/calibrate_comm.cpp
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <thread>
#include <vector>

namespace {
using clk = std::chrono::steady_clock;

void wait_for(std::atomic<std::uint64_t>& a, std::uint64_t v) {
  for (int i = 0; i < 20000; ++i)
    if (a.load(std::memory_order_acquire) == v) return;
  for (auto x = a.load(std::memory_order_acquire); x != v; x = a.load(std::memory_order_acquire)) a.wait(x);
}

double best_low(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }
double best_high(const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); }
}  // namespace

int main() {
  alignas(64) std::atomic<std::uint64_t> ping{0};
  alignas(64) std::atomic<std::uint64_t> pong{0};
  constexpr std::size_t bytes = 4u << 20;
  std::vector<std::uint64_t> buf(bytes / 8, 1);
  constexpr int rounds = 20000, reps = 15;
  std::vector<double> lat, bw;
  std::uint64_t sink = 0;

  std::jthread other([&] {
    std::uint64_t k = 0;
    // latency rounds
    for (int r = 0; r < reps * rounds; ++r) {
      wait_for(ping, ++k);
      pong.store(k, std::memory_order_release);
      pong.notify_one();
    }
    // bandwidth rounds: write the buffer, hand it over
    for (int r = 0; r < reps; ++r) {
      wait_for(ping, ++k);
      for (auto& x : buf) x += 1;
      pong.store(k, std::memory_order_release);
      pong.notify_one();
    }
  });

  std::uint64_t k = 0;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = clk::now();
    for (int i = 0; i < rounds; ++i) {
      ping.store(++k, std::memory_order_release);
      ping.notify_one();
      wait_for(pong, k);
    }
    lat.push_back(std::chrono::duration<double, std::micro>(clk::now() - t0).count() / rounds / 2);
  }
  for (int r = 0; r < reps; ++r) {
    ping.store(++k, std::memory_order_release);
    ping.notify_one();
    wait_for(pong, k);
    const auto t0 = clk::now();
    for (auto x : buf) sink += x;
    bw.push_back(bytes / std::chrono::duration<double, std::micro>(clk::now() - t0).count() / 1e3);
  }
  other.join();
  std::printf("comm_latency_us    = %.3f   (one-way atomic hand-off between two threads)\n", best_low(lat));
  std::printf("comm_bandwidth_gbs = %.2f   (reading 4 MiB just written by the other thread)\n", best_high(bw));
  return sink == 42 ? 1 : 0;
}
