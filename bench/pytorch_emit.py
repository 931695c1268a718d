#!/usr/bin/python3
"""Latency of dfgpar-emitted PyTorch models against PyTorch's own variants,
batch 1, median of R runs after warm-up, every configuration in its own
process (PyTorch's thread pools are set once per process), all in one run.

    /usr/bin/python3 bench/pytorch_emit.py DFGPAR MODELS_DIR [NAME...]
        [--runs R] [--threads P] [--json FILE]

NAME defaults to squeezenet1_1 googlenet inception_v3 resnet50 (exported by
scripts/export_models.py into MODELS_DIR). For each model it emits
`--workers 1` (the serial code) and `--workers P` (P = --threads, default 2)
and prints one line per configuration:

  emitted serial       forward_serial of the --workers 1 code, optimize()d
                       (freeze + optimize_for_inference), 1 and P threads
  emitted parallel     forward of the --workers P code after set_threads(P)
                       (inline stages P intra-op threads, forked parts 1
                       each), optimize()d, with the fork flags that
                       prepare() measured in a separate process first (each
                       region timed forked and inline, forked only where 5%
                       faster, whole forward checked against forward_serial)
  eager                torchvision's module (same architecture, random
                       weights: latency does not depend on them), 1 and P
  TorchScript frozen   torch.jit.freeze(torch.jit.script(torchvision)), 1, P
  frozen + optimize_for_inference   the same through
                       torch.jit.optimize_for_inference, 1 and P

Each configuration runs in --rounds processes (round-robin over the
configurations), and the median of their medians is reported: on this
machine the same configuration differs by up to 5-10% from process to
process. The parallel module's forward and its own forward_serial are also
timed run by run in the same process (the ratio that noise does not move).
Then the parallel efficiency E = (emitted serial 1 thread / P) / emitted
parallel, the speed-up of emitted parallel over the best serial variant,
and the tuned regions (forked / inline ms each).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

CHILD = r'''
import importlib.util, json, os, statistics, sys, time, torch
kind, path, threads, runs, side = sys.argv[1:6]
threads, runs, side = int(threads), int(runs), int(side)
extra = {}
if kind.startswith('emitted') or kind == 'tune':
    spec = importlib.util.spec_from_file_location('m', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.set_threads(threads)
    model = torch.jit.script(mod.Model().eval())
    x = torch.randn(1, 3, side, side)
    if kind == 'tune':
        final, report = mod.prepare(model, [x], runs=15)
        mod.save_fork_flags(model, report)
        print(json.dumps({'median_ms': 0, 'regions': report}))
        sys.exit(0)
    model = mod.optimize(model)
    if kind == 'emitted_parallel':
        extra['forked'] = [f for f, v in mod.read_fork_flags(
            os.path.join(os.path.dirname(path), mod.FLAGS_FILE)).items() if v]
        fn = model.forward
    else:
        fn = model.forward_serial
else:
    torch.set_num_threads(threads)
    import torchvision
    kw = {'aux_logits': False, 'init_weights': False} \
        if path in ('googlenet', 'inception_v3') else {}
    model = getattr(torchvision.models, path)(weights=None, **kw).eval()
    if kind in ('frozen', 'optimized'):
        model = torch.jit.freeze(torch.jit.script(model))
    if kind == 'optimized':
        model = torch.jit.optimize_for_inference(model)
    fn = model
    x = torch.randn(1, 3, side, side)
# the parallel module's own forward_serial, interleaved run by run: the
# same-process ratio
other = model.forward_serial if kind == 'emitted_parallel' else None
with torch.no_grad():
    for _ in range(10):
        fn(x)
        if other is not None:
            other(x)
    ts, ts_other = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn(x)
        ts.append((time.perf_counter() - t0) * 1000)
        if other is not None:
            t0 = time.perf_counter()
            other(x)
            ts_other.append((time.perf_counter() - t0) * 1000)
extra['median_ms'] = statistics.median(ts)
if ts_other:
    extra['serial_same_process_ms'] = statistics.median(ts_other)
print(json.dumps(extra))
'''


def measure(kind, path, threads, runs, side):
    out = subprocess.run(['/usr/bin/python3', '-c', CHILD, kind, path,
                          str(threads), str(runs), str(side)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument('dfgpar')
    p.add_argument('models')
    p.add_argument('names', nargs='*')
    p.add_argument('--runs', type=int, default=30)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--rounds', type=int, default=3,
                   help='processes per configuration, run round-robin; '
                        'the median of their medians is reported')
    p.add_argument('--json', default='')
    a = p.parse_args()
    names = a.names or ['squeezenet1_1', 'googlenet', 'inception_v3',
                        'resnet50']
    P = a.threads
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            side = 299 if name == 'inception_v3' else 224
            for w in (1, P):
                subprocess.run([a.dfgpar, 'emit',
                                os.path.join(a.models, name + '.onnx'),
                                '-o', os.path.join(tmp, name, 'p%d' % w),
                                '--workers', str(w)],
                               check=True, capture_output=True)
            ser = os.path.join(tmp, name, 'p1', 'model.py')
            par = os.path.join(tmp, name, 'p%d' % P, 'model.py')
            rows = [
                ('emitted serial, 1 thread', 'emitted_serial', ser, 1),
                ('emitted serial, %d threads' % P, 'emitted_serial', ser, P),
                ('emitted parallel, %d workers' % P, 'emitted_parallel',
                 par, P),
                ('eager, 1 thread', 'eager', name, 1),
                ('eager, %d threads' % P, 'eager', name, P),
                ('TorchScript frozen, 1 thread', 'frozen', name, 1),
                ('TorchScript frozen, %d threads' % P, 'frozen', name, P),
                ('frozen + optimize_for_inference, 1 thread', 'optimized',
                 name, 1),
                ('frozen + optimize_for_inference, %d threads' % P,
                 'optimized', name, P),
            ]
            print('== %s (batch 1, %dx%d, median of %d runs)'
                  % (name, side, side, a.runs), flush=True)
            # the fork flags, measured once (prepare(), save_fork_flags())
            # in a process of their own: forked work leaves a process
            # 5-10% slower at later serial runs, so the timed processes only
            # fork what the flags say
            regions = measure('tune', par, P, a.runs, side)['regions']
            samples = {label: [] for label, _, _, _ in rows}
            samples['(same process) its forward_serial'] = []
            forked = []
            for _ in range(a.rounds):
                for label, kind, path, th in rows:
                    r = measure(kind, path, th, a.runs, side)
                    samples[label].append(r['median_ms'])
                    forked = r.get('forked', forked)
                    if 'serial_same_process_ms' in r:
                        samples['(same process) its forward_serial'].append(
                            r['serial_same_process_ms'])
            res = {k: statistics.median(v) for k, v in samples.items()}
            for label, _, _, _ in rows:
                print('  %-44s %9.2f ms  (%d processes: %s)'
                      % (label, res[label], len(samples[label]),
                         ' '.join('%.1f' % t for t in samples[label])),
                      flush=True)
            par_ms = res['emitted parallel, %d workers' % P]
            e = (res['emitted serial, 1 thread'] / P) / par_ms
            best_label = min((k for k in res if 'parallel' not in k
                              and 'same process' not in k), key=res.get)
            same = samples['(same process) its forward_serial']
            print('  the parallel module\'s own forward_serial, same processes'
                  ' %.2f ms (%s): parallel / serial = %.3f'
                  % (res['(same process) its forward_serial'],
                     ' '.join('%.1f' % t for t in same),
                     statistics.median(
                         [p / s for p, s in zip(
                             samples['emitted parallel, %d workers' % P],
                             same)])))
            print('  parallel efficiency E = %.2f; emitted parallel is '
                  '%.2fx the best serial variant (%s)'
                  % (e, res[best_label] / par_ms, best_label))
            print('  prepare(): %d of %d regions forked: %s'
                  % (len(forked), len(regions), ' '.join(forked) or '-'))
            for flag, (f, i) in regions.items():
                print('    %-44s forked %7.3f ms  inline %7.3f ms'
                      % (flag, f, i))
            results[name] = {'ms': res, 'E': e, 'regions': regions}
    if a.json:
        with open(a.json, 'w') as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
