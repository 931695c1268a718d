#pragma once
/// \file linalg.hpp
/// The PyTorch translations of linear algebra: Gemm, MatMul, Einsum, Det,
/// Trilu.
/// Each is registered with the operator version it starts at (see
/// registry.hpp) by the add_*_translations function at the end.

#include <dfgpar/pytorch/ops/context.hpp>
#include <dfgpar/pytorch/ops/elementwise.hpp>
#include <dfgpar/pytorch/ops/registry.hpp>

namespace dfgpar::pytorch {
namespace detail {

inline void gemm(op_context& c) {
  check_types(c);
  const double alpha = c.attr_float("alpha", 1.0), beta = c.attr_float("beta", 1.0);
  const bool ta = c.attr_int("transA", 0) != 0, tb = c.attr_int("transB", 0) != 0;
  c.ignore("broadcast");
  if (c.rank(0) != 2 || c.rank(1) != 2) c.unsupported("A and B must be known to be 2-D");
  const std::string a = ta ? c.in(0) + ".t()" : c.in(0);
  const bool bias = c.has_input(2) && beta != 0;
  if (!ta && tb && alpha == 1.0 && (beta == 1.0 || !bias)) {
    c.assign("F.linear(" + a + ", " + c.in(1) + (bias ? ", " + c.in(2) : "") + ")");
    return;
  }
  const std::string b = tb ? c.in(1) + ".t()" : c.in(1);
  std::string e = "torch.matmul(" + a + ", " + b + ")";
  if (alpha != 1.0) e = python_float(alpha) + " * " + e;
  if (bias) e += " + " + (beta == 1.0 ? c.in(2) : python_float(beta) + " * " + c.in(2));
  c.assign(e);
}

inline void matmul(op_context& c) {
  check_types(c);
  c.assign("torch.matmul(" + c.in(0) + ", " + c.in(1) + ")");
}

inline void trilu(op_context& c) {
  check_types(c);
  const std::string k = c.has_input(1) ? int_scalar(c, 1, "k") : "0";
  c.assign(std::string(c.attr_int("upper", 1) != 0 ? "torch.triu(" : "torch.tril(") + c.in(0) + ", " + k + ")");
}

inline void einsum(op_context& c) {
  check_types(c);
  std::vector<std::string> xs;
  for (std::size_t i = 0; i < c.num_inputs(); ++i) xs.push_back(c.in(i));
  c.assign("torch.einsum(" + python_string(c.attr_string("equation", "")) + ", [" + join(xs) + "])");
}

}  // namespace detail

/// Matrix products, Einsum, Det and Trilu.
inline void add_linalg_translations(op_registry& r) {
  using namespace detail;
  r.add("Gemm", 1, gemm);
  r.add("MatMul", 1, matmul);
  r.add("Einsum", 12, einsum);
  r.add("Det", 11, unary("torch.linalg.det"));
  r.add("Trilu", 14, trilu);
}

}  // namespace dfgpar::pytorch
