#pragma once
/// \file schedule.hpp
/// The `schedule` value type: the one hand-off between the clustering
/// algorithms and the back ends (executor, emitters, reports).

#include <cstddef>
#include <limits>
#include <vector>

namespace dfgpar {

/// An ordered list of vertices that one worker runs one after the other.
struct cluster {
  std::size_t worker = 0;             ///< the worker that runs this cluster
  std::vector<std::size_t> vertices;  ///< vertex indices, in run order
};

/// An edge whose value crosses from one cluster to another.
struct cross_edge {
  std::size_t source = 0;          ///< producing vertex (index)
  std::size_t target = 0;          ///< consuming vertex (index)
  std::size_t source_cluster = 0;  ///< cluster of the copy of `source` that is read
  std::size_t target_cluster = 0;  ///< cluster of the consuming copy
  bool cross_worker = false;       ///< true when the two clusters run on different workers (a wait is needed)
};

/// Clusters of a graph mapped onto workers.
///
/// A worker runs its clusters in increasing cluster index. A vertex appears in
/// exactly one cluster unless it was cloned: then each copy runs, consumers in
/// a cluster read the copy of their own cluster or worker when there is an
/// earlier one, and everyone else reads the copy in `home[v]`.
struct schedule {
  static constexpr std::size_t npos = std::numeric_limits<std::size_t>::max();

  std::size_t workers = 1;              ///< P
  std::size_t num_vertices = 0;         ///< vertices of the graph it was made for
  std::vector<cluster> clusters;        ///< ordered vertex lists, each on one worker
  std::vector<std::size_t> home;        ///< per vertex: cluster holding its primary copy (npos: not scheduled)
  std::vector<cross_edge> cross_edges;  ///< every edge between different clusters (filled by `finalize`)

  /// Clusters of worker w, in run order.
  std::vector<std::size_t> clusters_of(std::size_t w) const {
    std::vector<std::size_t> out;
    for (std::size_t c = 0; c < clusters.size(); ++c)
      if (clusters[c].worker == w) out.push_back(c);
    return out;
  }
  /// Number of scheduled vertex copies (num_vertices + clones).
  std::size_t num_copies() const {
    std::size_t k = 0;
    for (const auto& c : clusters) k += c.vertices.size();
    return k;
  }
  /// Number of cross-worker edges (each is one wait in the executor).
  std::size_t num_cross_worker_edges() const {
    std::size_t k = 0;
    for (const auto& e : cross_edges) k += e.cross_worker ? 1 : 0;
    return k;
  }
};

}  // namespace dfgpar
