#!/usr/bin/python3
"""Latency of a dfgpar-emitted PyTorch model against PyTorch's own variants,
batch 1, median of R runs after warm-up; each configuration in its own
process (thread pools are set once per process).

    /usr/bin/python3 bench/pytorch_emit.py DFGPAR MODELS_DIR NAME [--runs R]

Emits NAME with `DFGPAR emit --workers 1` and `--workers 2` into a temporary
folder, then prints one line per configuration:
  emitted serial   (workers 1, scripted), 1 and 2 intra-op threads
  emitted parallel (workers 2, scripted, forward with torch.jit.fork),
                   1 intra-op thread and 2 inter-op threads
  eager torchvision (random weights: the latency does not depend on them),
                   1 and 2 threads
and the parallel efficiency E = (serial 1-thread / 2) / parallel.
"""

import argparse
import os
import subprocess
import sys
import tempfile

CHILD = r'''
import importlib.util, statistics, sys, time, torch
kind, path, threads, interop, runs, side = sys.argv[1:7]
torch.set_num_threads(int(threads))
torch.set_num_interop_threads(int(interop))
if kind == 'eager':
    import torchvision
    kw = {'aux_logits': False, 'init_weights': False} if path in ('googlenet', 'inception_v3') else {}
    model = getattr(torchvision.models, path)(weights=None, **kw).eval()
    fn = model
else:
    spec = importlib.util.spec_from_file_location('m', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    model = torch.jit.script(mod.Model().eval())
    fn = model.forward if kind == 'parallel' else model.forward_serial
x = torch.randn(1, 3, int(side), int(side))
with torch.no_grad():
    for _ in range(5):
        fn(x)
    ts = []
    for _ in range(int(runs)):
        t0 = time.perf_counter()
        fn(x)
        ts.append((time.perf_counter() - t0) * 1000)
print('%.2f' % statistics.median(ts))
'''


def run(kind, path, threads, interop, runs, side):
    out = subprocess.run(
        ['nice', '-n', '19', '/usr/bin/python3', '-c', CHILD, kind, path,
         str(threads), str(interop), str(runs), str(side)],
        check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument('dfgpar')
    p.add_argument('models')
    p.add_argument('name')
    p.add_argument('--runs', type=int, default=30)
    a = p.parse_args()
    side = 299 if a.name == 'inception_v3' else 224
    with tempfile.TemporaryDirectory() as tmp:
        for w in (1, 2):
            subprocess.run([a.dfgpar, 'emit',
                            os.path.join(a.models, a.name + '.onnx'),
                            '-o', os.path.join(tmp, 'p%d' % w),
                            '--workers', str(w)],
                           check=True, capture_output=True)
        ser = os.path.join(tmp, 'p1', 'model.py')
        par = os.path.join(tmp, 'p2', 'model.py')
        rows = [
            ('emitted serial, 1 thread', 'serial', ser, 1, 1),
            ('emitted serial, 2 threads', 'serial', ser, 2, 1),
            ('emitted parallel, 1 thread x 2 workers', 'parallel', par, 1, 2),
            ('emitted parallel, 2 threads x 2 workers', 'parallel', par, 2, 2),
            ('eager, 1 thread', 'eager', a.name, 1, 1),
            ('eager, 2 threads', 'eager', a.name, 2, 1),
        ]
        res = {}
        for label, kind, path, th, io in rows:
            res[label] = run(kind, path, th, io, a.runs, side)
            print('%-42s %8.2f ms' % (label, res[label]), flush=True)
        e = (res['emitted serial, 1 thread'] / 2) / \
            res['emitted parallel, 1 thread x 2 workers']
        print('parallel efficiency E = %.2f' % e)
    return 0


if __name__ == '__main__':
    sys.exit(main())
