#pragma once
// The moldable schedule explained, for `analyze --profile` (a profile with
// times per thread count) and `run --workers auto`: per region between
// width-one nodes, whether its branches run side by side (inter-op), one
// node after another on every core (intra-op) or mixed (CPA), with the
// predicted times of each and the gain over pure intra-op.

#include "report.hpp"

#include <dfgpar/cluster/moldable_schedule.hpp>
#include <dfgpar/cluster/schedule.hpp>
#include <dfgpar/onnx/graph.hpp>

#include <cstddef>
#include <map>
#include <ostream>
#include <string>
#include <vector>

namespace dfgpar_cli {

/// "k=1: 40, k=2: 17": how many nodes run on how many cores.
inline std::string allotment_summary(const dfgpar::schedule& s) {
  std::map<std::size_t, std::size_t> count;
  for (std::size_t c = 0; c < s.clusters.size(); ++c)
    for (std::size_t i = 0; i < s.clusters[c].vertices.size(); ++i) ++count[s.threads_of(c, i)];
  std::string out;
  for (const auto& [k, n] : count) out += (out.empty() ? "" : ", ") + std::to_string(n) + " on " + std::to_string(k) + (k == 1 ? " core" : " cores");
  return out.empty() ? "none" : out;
}

/// The summary lines and the per-region table (times in µs in `r`).
inline void print_moldable_plan(std::ostream& os, const dfgpar::onnx::graph& g, const dfgpar::moldable_result& r,
                                std::size_t P) {
  auto field = [&](std::string_view name) -> std::ostream& {
    return os << name << std::string(name.size() < 20 ? 20 - name.size() : 1, ' ');
  };
  const bool by_region = r.method.rfind("regions", 0) == 0;
  double serial = 0;
  for (const auto& reg : r.region_choices) serial += reg.serial;
  field("moldable plan") << "on " << P << " cores: " << r.method << ", predicted " << ms(r.makespan) << " (1 core "
                         << ms(serial) << ", pure inter-op " << ms(r.inter_op) << ", pure intra-op " << ms(r.intra_op)
                         << ", lower bound " << ms(r.bounds.lower_bound) << ")\n";
  field("allotments") << allotment_summary(r.schedule) << '\n';
  if (!by_region) {
    field("regions") << "not used: the whole graph " << r.method << " is faster than region by region\n";
    return;
  }
  // consecutive width-one nodes on one row (a chain: each on its fastest allotment)
  text_table t({"region", "nodes", "runs", "1 core ms", "inter-op", "intra-op", "chosen", "gain vs intra-op", "ops"},
               {false, true, false, true, true, true, true, true, false});
  std::size_t i = 0, number = 0;
  while (i < r.region_choices.size()) {
    const auto& reg = r.region_choices[i];
    std::size_t j = i + 1;
    dfgpar::moldable_region sum = reg;
    std::vector<std::string> ops;
    for (std::size_t v : reg.vertices) ops.push_back(g[v].op_type);
    std::size_t on_more = reg.width_one && reg.method == "intra-op" ? 1 : 0;
    if (reg.width_one)
      for (; j < r.region_choices.size() && r.region_choices[j].width_one; ++j) {
        const auto& x = r.region_choices[j];
        sum.serial += x.serial, sum.inter_op += x.inter_op, sum.intra_op += x.intra_op, sum.makespan += x.makespan;
        sum.vertices.insert(sum.vertices.end(), x.vertices.begin(), x.vertices.end());
        for (std::size_t v : x.vertices) ops.push_back(g[v].op_type);
        on_more += x.method == "intra-op" ? 1 : 0;
      }
    std::string runs;
    if (reg.width_one)
      runs = "chain: " + std::to_string(on_more) + " of " + std::to_string(sum.vertices.size()) + " on several cores";
    else if (reg.method == "inter-op") runs = "side by side";
    else if (reg.method == "intra-op") runs = "intra-op";
    else runs = "mixed (CPA)";
    t.add({std::to_string(++number), std::to_string(sum.vertices.size()), runs, fixed(sum.serial / 1000, 3),
           fixed(sum.inter_op / 1000, 3), fixed(sum.intra_op / 1000, 3), fixed(sum.makespan / 1000, 3),
           sum.makespan > 0 ? fixed(sum.intra_op / sum.makespan, 2) + "x" : "-", op_summary(ops, 3)});
    i = j;
  }
  field("regions") << "between width-one nodes (predicted ms; a region's time is its own makespan)\n";
  t.print(os);
}

}  // namespace dfgpar_cli
