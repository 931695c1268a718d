"""Recurrent translations (include/dfgpar/pytorch/ops/recurrent.hpp): RNN,
GRU and LSTM against the backend suite's data (defaults, initial bias,
sequence lengths, peepholes, batch-first layout of opset 14) and a GRU
with linear_before_reset and a bidirectional RNN computed here."""

import numpy as np

from optest import OpTest, needs_dfgpar, run_node

RNG = np.random.default_rng(11)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


@needs_dfgpar
class Recurrent(OpTest):
    def test_suite_cases(self):
        for case in ('test_simple_rnn_defaults', 'test_rnn_seq_length',
                     'test_simple_rnn_batchwise', 'test_gru_defaults',
                     'test_gru_with_initial_bias', 'test_gru_seq_length',
                     'test_lstm_defaults', 'test_lstm_with_peepholes',
                     'test_lstm_batchwise'):
            with self.subTest(case=case):
                self.check_suite(case)

    def test_gru_linear_before_reset(self):
        seq, batch, inp, hid = 3, 2, 4, 5
        x = RNG.standard_normal((seq, batch, inp)).astype(np.float32)
        w = RNG.standard_normal((1, 3 * hid, inp)).astype(np.float32) * 0.3
        r = RNG.standard_normal((1, 3 * hid, hid)).astype(np.float32) * 0.3
        b = RNG.standard_normal((1, 6 * hid)).astype(np.float32) * 0.3
        h = np.zeros((batch, hid), np.float32)
        wz, wr, wh = np.split(w[0], 3)
        rz, rr, rh = np.split(r[0], 3)
        wbz, wbr, wbh, rbz, rbr, rbh = np.split(b[0], 6)
        ys = []
        for t in range(seq):
            z = sigmoid(x[t] @ wz.T + h @ rz.T + wbz + rbz)
            rg = sigmoid(x[t] @ wr.T + h @ rr.T + wbr + rbr)
            hh = np.tanh(x[t] @ wh.T + rg * (h @ rh.T + rbh) + wbh)
            h = (1 - z) * hh + z * h
            ys.append(h)
        got = run_node('GRU', [('x', x), ('w', w), ('r', r), ('b', b)],
                       ('y', 'h'), constants=('w', 'r', 'b'),
                       hidden_size=hid, linear_before_reset=1)
        self.check(got[0], np.stack(ys)[:, None], atol=1e-5)
        self.check(got[1], h[None], atol=1e-5)

    def test_rnn_bidirectional(self):
        seq, batch, inp, hid = 3, 1, 2, 3
        x = RNG.standard_normal((seq, batch, inp)).astype(np.float32)
        w = RNG.standard_normal((2, hid, inp)).astype(np.float32) * 0.5
        r = RNG.standard_normal((2, hid, hid)).astype(np.float32) * 0.5
        outs = []
        for d, steps in ((0, range(seq)), (1, reversed(range(seq)))):
            h = np.zeros((batch, hid), np.float32)
            ys = [None] * seq
            for t in steps:
                h = np.tanh(x[t] @ w[d].T + h @ r[d].T)
                ys[t] = h
            outs.append(np.stack(ys))
        got = run_node('RNN', [('x', x), ('w', w), ('r', r)], ('y',),
                       constants=('w', 'r'), hidden_size=hid,
                       direction='bidirectional')
        self.check(got[0], np.stack(outs, 1), atol=1e-5)
