"""Linear algebra translations (include/dfgpar/pytorch/ops/linalg.hpp): Gemm
with transA/transB, alpha, beta and an optional C (F.linear when it
fits), batched MatMul, Einsum, Det and Trilu (upper/lower, k)."""

import numpy as np

from optest import OpTest, needs_dfgpar

RNG = np.random.default_rng(8)
A = RNG.standard_normal((3, 4)).astype(np.float32)
B = RNG.standard_normal((4, 5)).astype(np.float32)
C = RNG.standard_normal((5,)).astype(np.float32)


@needs_dfgpar
class Linalg(OpTest):
    def test_gemm_linear_form(self):
        self.check_node(A @ B + C, 'Gemm',
                        [('a', A), ('b', B.T.copy()), ('c', C)],
                        constants=('b', 'c'), transB=1, atol=1e-5)

    def test_gemm_trans_alpha_beta(self):
        self.check_node(0.5 * A @ B + 2.0 * C, 'Gemm',
                        [('a', A.T.copy()), ('b', B), ('c', C)],
                        transA=1, alpha=0.5, beta=2.0, atol=1e-5)

    def test_gemm_without_c(self):
        self.check_node(A @ B, 'Gemm', [('a', A), ('b', B)], opset=11,
                        atol=1e-5)

    def test_matmul_batched_broadcast(self):
        a = RNG.standard_normal((2, 1, 3, 4)).astype(np.float32)
        b = RNG.standard_normal((3, 4, 2)).astype(np.float32)
        self.check_node(a @ b, 'MatMul', [('a', a), ('b', b)], atol=1e-5)

    def test_einsum(self):
        self.check_node(np.einsum('ij,jk->ik', A, B), 'Einsum',
                        [('a', A), ('b', B)], equation='ij,jk->ik',
                        atol=1e-5)

    def test_det(self):
        m = RNG.standard_normal((2, 3, 3)).astype(np.float32)
        self.check_node(np.linalg.det(m).astype(np.float32), 'Det',
                        [('m', m)], atol=1e-5)

    def test_trilu_upper_lower_k(self):
        k = np.array(1, np.int64)
        self.check_node(np.triu(B), 'Trilu', [('x', B)], opset=14)
        self.check_node(np.tril(B, 1), 'Trilu', [('x', B), ('k', k)],
                        opset=14, constants=('k',), upper=0)
        self.check_node(np.triu(B, -1), 'Trilu',
                        [('x', B), ('k', np.array(-1, np.int64))], opset=14)
