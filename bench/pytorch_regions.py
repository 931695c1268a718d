#!/usr/bin/python3
"""Why a region of an emitted model forks or not: per region, the cost
model's prediction and the measured times of its two ways to run.

    /usr/bin/python3 bench/pytorch_regions.py DFGPAR MODELS_DIR NAME
        [--workers P] [--runs R] [--split]

Emits NAME with `--workers P` (default 2) and, in two processes, times each
region (with the code that joins its parts, e.g. the Concat) through
tune() on the optimize()d module:
  1 thread:  inline (one thread: the region's work W) and forked (P parts on
             P pool threads, one intra-op thread each: inter-op parallelism
             alone); their ratio is the inter-op speed-up the region gives;
  P threads: inline (P intra-op threads) and forked (parts one thread each);
             what prepare() chooses between.
The predicted columns are the emitter's: the region's work W and its forked
makespan from the cost model (max(CP, W/P) is the bound of the latter), and
W / forked, the inter-op speed-up the schedule promises.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

CHILD = r'''
import importlib.util, json, sys, torch
path = sys.argv[1]
threads, runs, side = (int(v) for v in sys.argv[2:5])
spec = importlib.util.spec_from_file_location('m', path)
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
mod.set_threads(threads)
model = mod.optimize(torch.jit.script(mod.Model().eval()), keep_flags=True)
x = torch.randn(1, 3, side, side)
print(json.dumps(mod.tune(model, [x], runs)))
'''


def main():
    p = argparse.ArgumentParser()
    p.add_argument('dfgpar')
    p.add_argument('models')
    p.add_argument('name')
    p.add_argument('--workers', type=int, default=2)
    p.add_argument('--runs', type=int, default=20)
    p.add_argument('--split', action='store_true')
    a = p.parse_args()
    side = 299 if a.name == 'inception_v3' else 224
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [a.dfgpar, 'emit', os.path.join(a.models, a.name + '.onnx'),
               '-o', tmp, '--workers', str(a.workers)]
        subprocess.run(cmd + (['--split'] if a.split else []), check=True,
                       capture_output=True)
        path = os.path.join(tmp, 'model.py')
        with open(path) as f:
            code = f.read()
        predicted = {m.group(3): (float(m.group(1)), float(m.group(2)))
                     for m in re.finditer(r'# predicted: work (\d+), forked '
                                          r'(\d+)\n\s+self\.(\w+) = ', code)}
        import json
        times = {}
        for threads in (1, a.workers):
            out = subprocess.run(
                ['/usr/bin/python3', '-c', CHILD, path, str(threads),
                 str(a.runs), str(side)],
                check=True, capture_output=True, text=True)
            times[threads] = json.loads(out.stdout.strip().splitlines()[-1])
    P = a.workers
    print('%s, --workers %d%s: per region (with its join), ms, median of %d'
          % (a.name, P, ' --split' if a.split else '', a.runs))
    print('%-22s | %9s %9s %6s | %8s %8s %6s | %8s %8s %6s'
          % ('region', 'pred W', 'pred fork', 'W/fork', 'inline1', 'forked1',
             'inter', 'inline%d' % P, 'forked%d' % P, 'intra'))
    for flag in times[1]:
        w, mk = predicted.get(flag, (float('nan'), float('nan')))
        i1, f1 = times[1][flag][1], times[1][flag][0]
        iP, fP = times[P][flag][1], times[P][flag][0]
        print('%-22s | %9.0f %9.0f %6.2f | %8.2f %8.2f %6.2f | %8.2f %8.2f '
              '%6.2f' % (flag[len('fork_'):][:22], w, mk, w / mk, i1, f1,
                         i1 / f1, iP, fP, i1 / iP))
    print('inter = inline1 / forked1 (inter-op speed-up measured), '
          'intra = inline1 / inline%d (intra-op speed-up)' % P)
    return 0


if __name__ == '__main__':
    sys.exit(main())
