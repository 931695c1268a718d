#!/usr/bin/python3
"""Runs an emitted model.py on a reference input and compares both forwards
(parallel and serial) with the reference output.

    /usr/bin/python3 compare.py DIR INPUT.pb OUTPUT.pb [--atol A] [--rtol R]
        [--exact OUTPUT64.pb]

DIR holds model.py and its weights (dfgpar emit). INPUT.pb / OUTPUT.pb are
ONNX TensorProto files (scripts/export_models.py writes them). A forward
passes when every element satisfies |got - want| <= atol + rtol * |want|.

With --exact (the original model run in float64), a forward that misses
that tolerance still passes when it is as accurate as the original fp32
model itself: max |got - exact| <= 1.5 * max |want - exact|. This is for
models whose own fp32 rounding exceeds the tolerance (inception_v3: the
torchvision fp32 output is 2.5e-4 off its float64 result). Both the
parallel and the serial forward must pass. Exit status 0 / 1. Needs
Debian's python3-torch and python3-onnx.
"""

import argparse
import importlib.util
import os
import sys

import numpy as np
import onnx
import onnx.numpy_helper
import torch


def load_tensor(path):
    t = onnx.TensorProto()
    with open(path, 'rb') as f:
        t.ParseFromString(f.read())
    return onnx.numpy_helper.to_array(t)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('dir')
    p.add_argument('input')
    p.add_argument('output')
    p.add_argument('--atol', type=float, default=1e-4)
    p.add_argument('--rtol', type=float, default=1e-3)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--exact', default='')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(2)
    spec = importlib.util.spec_from_file_location(
        'emitted_model', os.path.join(a.dir, 'model.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    model = torch.jit.script(mod.Model().eval())
    x = torch.from_numpy(load_tensor(a.input).copy())
    want = load_tensor(a.output)
    exact = load_tensor(a.exact).astype(np.float64) if a.exact else None
    ok = True
    with torch.no_grad():
        for name, fn in (('parallel', model.forward),
                         ('serial', model.forward_serial)):
            got = fn(x).numpy()
            if got.shape != want.shape:
                print('%s: shape %s, expected %s' % (name, got.shape,
                                                     want.shape))
                ok = False
                continue
            err = np.abs(got.astype(np.float64) - want)
            bad = err > a.atol + a.rtol * np.abs(want)
            print('%s: max abs err %.3g, %d of %d outside tolerance'
                  % (name, err.max(), int(bad.sum()), bad.size))
            if bad.any() and exact is not None:
                mine = np.abs(got.astype(np.float64) - exact).max()
                theirs = np.abs(want.astype(np.float64) - exact).max()
                print('%s: vs float64: max abs err %.3g, the original '
                      'model\'s own fp32 error %.3g: %s'
                      % (name, mine, theirs, 'as accurate'
                         if mine <= 1.5 * theirs else 'LESS ACCURATE'))
                if mine <= 1.5 * theirs:
                    continue
            ok = ok and not bad.any()
    return 0 if ok else 1


if __name__ == '__main__':
    status = main()
    # PyTorch 1.13 can abort while the interpreter tears down after
    # torch.jit.fork ran; everything is printed by now, so skip the teardown.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
