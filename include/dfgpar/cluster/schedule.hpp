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
  /// Cores of each entry of `vertices` (its allotment); empty: 1 core each.
  /// An entry with k > 1 cores needs k - 1 `reservation`s of other workers.
  std::vector<std::size_t> threads{};
};

/// A worker held idle while a multi-core vertex copy of another worker runs:
/// the copy starts once every reserved worker has run its first `position`
/// own vertex copies, and those workers go on only after the copy finished.
/// So at every instant the busy cores (workers x their copies' cores) are at
/// most P.
struct reservation {
  std::size_t worker = 0;    ///< the reserved (idle) worker
  std::size_t position = 0;  ///< own vertex copies of `worker` that run before it (in its run order)
  std::size_t cluster = 0;   ///< cluster of the multi-core copy
  std::size_t index = 0;     ///< position of the copy in that cluster's `vertices`
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
/// A vertex copy may run on several cores (its allotment, `cluster::threads`):
/// it runs on its cluster's worker while the other workers named in
/// `reservations` stay idle for its duration.
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
  /// Workers reserved for multi-core copies; reservations at the same
  /// position of one worker are taken in this order. Empty without allotments.
  std::vector<reservation> reservations;

  /// Cores of entry i of cluster c (1 unless an allotment says otherwise).
  std::size_t threads_of(std::size_t c, std::size_t i) const {
    const auto& t = clusters[c].threads;
    return i < t.size() ? t[i] : 1;
  }
  /// True when some vertex copy runs on more than one core.
  bool has_allotments() const {
    for (const auto& c : clusters)
      for (std::size_t k : c.threads)
        if (k > 1) return true;
    return false;
  }

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
