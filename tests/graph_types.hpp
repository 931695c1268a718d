#pragma once
// The graph types every generic algorithm is tested on, and builders that
// turn plain DAG data into each of them.

#include <dfgpar/generate/random_dag.hpp>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/compressed_sparse_row_graph.hpp>

#include <algorithm>
#include <vector>

namespace dfgpar_test {

struct vprop {
  double cost = 0;
};
struct eprop {
  double comm = 0;
};

using vec_graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, vprop, eprop>;
using list_graph = boost::adjacency_list<boost::listS, boost::vecS, boost::bidirectionalS, vprop, eprop>;
using csr_graph = boost::compressed_sparse_row_graph<boost::bidirectionalS, vprop, eprop>;

/// Builds a graph of type G from plain DAG data.
template <class G>
G build(const dfgpar::dag_data& d) {
  if constexpr (std::is_same_v<G, csr_graph>) {
    // the bidirectional CSR graph is built from an unsorted, multi-pass edge list
    std::vector<eprop> props;
    for (std::size_t i = 0; i < d.edges.size(); ++i) props.push_back({i < d.comm.size() ? d.comm[i] : 0.0});
    G g(boost::edges_are_unsorted_multi_pass, d.edges.begin(), d.edges.end(), props.begin(), d.cost.size());
    for (std::size_t v = 0; v < d.cost.size(); ++v) g[v].cost = d.cost[v];
    return g;
  } else {
    G g(d.cost.size());
    for (std::size_t v = 0; v < d.cost.size(); ++v) g[v].cost = d.cost[v];
    for (std::size_t i = 0; i < d.edges.size(); ++i)
      add_edge(d.edges[i].first, d.edges[i].second, eprop{i < d.comm.size() ? d.comm[i] : 0.0}, g);
    return g;
  }
}

template <class G>
auto cost_map(const G& g) {
  return get(&vprop::cost, g);
}
template <class G>
auto comm_map(const G& g) {
  return get(&eprop::comm, g);
}

/// Plain DAG data from a list of costs and edges.
inline dfgpar::dag_data make_dag(std::vector<double> cost, std::vector<std::pair<std::size_t, std::size_t>> edges,
                                 std::vector<double> comm = {}) {
  dfgpar::dag_data d{std::move(cost), std::move(edges), std::move(comm)};
  d.comm.resize(d.edges.size(), 0.0);
  return d;
}

}  // namespace dfgpar_test

#define DFGPAR_GRAPH_TYPES dfgpar_test::vec_graph, dfgpar_test::list_graph, dfgpar_test::csr_graph
