"""Loss translations (include/dfgpar/pytorch/ops/loss.hpp):
NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss with each reduction,
class weights, ignore_index and the log_prob output."""

import numpy as np

from optest import OpTest, needs_dfgpar, run_node

RNG = np.random.default_rng(13)
X = RNG.standard_normal((4, 3)).astype(np.float32)
T = np.array([0, 2, 1, 2], np.int64)
W = np.array([0.5, 1.0, 2.0], np.float32)


def nll(logp, t, weight=None, reduction='mean', ignore=None):
    w = np.ones(logp.shape[1], np.float32) if weight is None else weight
    keep = np.ones_like(t, bool) if ignore is None else t != ignore
    tt = np.where(keep, t, 0)
    per = -logp[np.arange(len(t)), tt] * w[tt] * keep
    if reduction == 'none':
        return per.astype(np.float32)
    if reduction == 'sum':
        return np.float32(per.sum())
    return np.float32(per.sum() / (w[tt] * keep).sum())


@needs_dfgpar
class Loss(OpTest):
    def test_nll_reductions_weight_ignore_index(self):
        for red in ('mean', 'sum', 'none'):
            with self.subTest(reduction=red):
                self.check_node(nll(X, T, W, red), 'NegativeLogLikelihoodLoss',
                                [('x', X), ('t', T), ('w', W)],
                                constants=('w',), reduction=red, atol=1e-5)
        self.check_node(nll(X, T, None, 'mean', 2),
                        'NegativeLogLikelihoodLoss', [('x', X), ('t', T)],
                        ignore_index=2, atol=1e-5)

    def test_softmax_cross_entropy_log_prob(self):
        logp = X - np.log(np.exp(X).sum(axis=1, keepdims=True))
        got = run_node('SoftmaxCrossEntropyLoss', [('x', X), ('t', T)],
                       ('y', 'lp'), reduction='sum')
        self.check(got[0], nll(logp, T, None, 'sum'), atol=1e-5)
        self.check(got[1], logp.astype(np.float32), atol=1e-5)

    def test_unknown_reduction_refused(self):
        self.refused('NegativeLogLikelihoodLoss', [('x', X), ('t', T)],
                     'reduction', reduction='max')
