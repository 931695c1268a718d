#!/usr/bin/env python3
"""How `dfgpar run` degrades when something else takes a core (issue 11,
item 3), beside ONNX Runtime (npm onnxruntime-node, scripts/ort_run.js) and
PyTorch eager (torchvision's model, torch.set_num_threads) under the same
load. Batch 1, float32, on the 2-core development machine.

    /usr/bin/python3 bench/onednn_load.py build/dfgpar build/models \
        [--models googlenet,squeezenet1_1] [--rounds 3] [--iters 30]

Loads:
  quiet  nothing else runs (run this only on an otherwise idle machine)
  busy   a busy loop (`sh -c 'while :; do :; done'`) pinned to core 0
  pair   two processes of the same configuration side by side

Every measurement is its own process (two for `pair`), one at a time,
round-robin over the configurations for `--rounds` rounds; a process reports
the median of `--iters` runs after 10 warm-up runs, and the table shows the
median over rounds. The targets of the issue:
  * busy: dfgpar at P = 2 no slower than 1.1x its own quiet 1x1 latency;
  * pair: each of two dfgpar processes within 2.2x of its quiet latency.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TORCH_PY = "/usr/bin/python3"

# PyTorch eager on torchvision's model, the construction of scripts/export_models.py
TORCH_SCRIPT = r"""
import json, statistics, sys, time
import torch, torchvision
name, threads, iters = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
kwargs = {"googlenet": {"aux_logits": False, "init_weights": True},
          "inception_v3": {"aux_logits": False, "init_weights": True}}.get(name, {})
side = 299 if name == "inception_v3" else 224
m = getattr(torchvision.models, name)(weights=None, **kwargs).eval()
x = torch.rand(1, 3, side, side)
ms = []
with torch.no_grad():
    for i in range(10 + iters):
        t = time.perf_counter()
        m(x)
        if i >= 10:
            ms.append((time.perf_counter() - t) * 1000)
print(json.dumps({"medianMs": statistics.median(ms)}))
"""


def dfgpar_cmd(a, model, workers, threads, json_path):
    return [a.dfgpar, "run", os.path.join(a.models_dir, model + ".onnx"), "--workers", str(workers),
            "--threads", str(threads), "--iters", str(a.iters), "--warmup", "10", "--json", json_path]


def ort_cmd(a, model, threads, _json_path):
    return ["node", os.path.join(ROOT, "scripts", "ort_run.js"), os.path.join(a.models_dir, model + ".onnx"),
            os.path.join(a.models_dir, model + ".input.pb"), "--threads", str(threads), "--runs", str(a.iters),
            "--warmup", "10", "--json"]


def torch_cmd(a, model, threads, _json_path):
    return [TORCH_PY, "-c", TORCH_SCRIPT, model, str(threads), str(a.iters)]


def finish(proc, json_path):
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(proc.args[:3]), proc.returncode, err.strip()[-500:]))
    if proc.args[1] == "run":  # dfgpar writes its report to --json
        with open(json_path) as f:
            return json.load(f)["median_ms"]
    return json.loads(out.strip().splitlines()[-1])["medianMs"]


def measure(make, copies, env, tmp):
    """Medians of `copies` processes of one configuration started together."""
    paths = [os.path.join(tmp, "run%d.json" % i) for i in range(copies)]
    procs = [subprocess.Popen(make(p), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for p in paths]
    return [finish(p, path) for p, path in zip(procs, paths)]


class busy_loop:
    """A spinning shell process pinned to core 0, for the `busy` load."""

    def __enter__(self):
        self.proc = subprocess.Popen(["taskset", "-c", "0", "sh", "-c", "while :; do :; done"])
        threading.Event().wait(0.2)  # let it start spinning
        return self

    def __exit__(self, *exc):
        self.proc.kill()  # our own child, by its pid
        self.proc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dfgpar")
    ap.add_argument("models_dir")
    ap.add_argument("--models", default="googlenet,squeezenet1_1")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--iters", type=int, default=30)
    ap.add_argument("--no-torch", action="store_true", help="skip PyTorch eager")
    ap.add_argument("--no-ort", action="store_true", help="skip ONNX Runtime")
    a = ap.parse_args()
    env = dict(os.environ)
    env.pop("OMP_NUM_THREADS", None)  # each runtime sets its own thread count
    # `dfgpar run` sets GOMP_SPINCOUNT=300 for itself unless told otherwise; ORT and
    # PyTorch run with their defaults, as a user would run them
    systems = [("dfgpar 1x1", lambda m, p: dfgpar_cmd(a, m, 1, 1, p)),
               ("dfgpar 2x1", lambda m, p: dfgpar_cmd(a, m, 2, 1, p)),
               ("dfgpar 1x2", lambda m, p: dfgpar_cmd(a, m, 1, 2, p))]
    if not a.no_ort:
        systems += [("ORT 1 thr", lambda m, p: ort_cmd(a, m, 1, p)), ("ORT 2 thr", lambda m, p: ort_cmd(a, m, 2, p))]
    if not a.no_torch:
        systems += [("torch 1 thr", lambda m, p: torch_cmd(a, m, 1, p)),
                    ("torch 2 thr", lambda m, p: torch_cmd(a, m, 2, p))]
    loads = ["quiet", "busy", "pair"]
    tmp = tempfile.mkdtemp(prefix="dfgpar_load_")
    load1 = os.getloadavg()[0]
    print("load average before: %.2f%s" % (load1, "" if load1 < 0.5 else
                                            "  (not quiet: the 'quiet' column is under load too)"))
    print("ms, median over %d rounds of process medians (each %d runs after 10 warm-up); pair: both processes" %
          (a.rounds, a.iters))
    for model in a.models.split(","):
        res = {(s, l): [] for s, _ in systems for l in loads}
        for _ in range(a.rounds):
            for s, make in systems:
                f = lambda p, make=make: make(model, p)
                res[(s, "quiet")] += measure(f, 1, env, tmp)
                with busy_loop():
                    res[(s, "busy")] += measure(f, 1, env, tmp)
                res[(s, "pair")] += measure(f, 2, env, tmp)
        med = {k: statistics.median(v) for k, v in res.items()}
        print("\n%s" % model)
        print("  %-13s %9s %9s %9s %12s %12s" % ("", "quiet", "busy", "pair", "busy/quiet", "pair/quiet"))
        for s, _ in systems:
            q, b = med[(s, "quiet")], med[(s, "busy")]
            print("  %-13s %9.2f %9.2f %9.2f %11.2fx %11.2fx" % (s, q, b, med[(s, "pair")], b / q, med[(s, "pair")] / q))
        q1 = med[("dfgpar 1x1", "quiet")]
        for s in ("dfgpar 2x1", "dfgpar 1x2"):
            r = med[(s, "busy")] / q1
            print("  target: %s busy / dfgpar 1x1 quiet = %.2fx (<= 1.1x: %s)" % (s, r, "met" if r <= 1.1 else "MISSED"))
        for s in ("dfgpar 1x1", "dfgpar 2x1", "dfgpar 1x2"):
            worst = max(res[(s, "pair")]) / med[(s, "quiet")]
            print("  target: %s pair, worst process / quiet = %.2fx (<= 2.2x: %s)" %
                  (s, worst, "met" if worst <= 2.2 else "MISSED"))
        for s in ("ORT 2 thr", "torch 2 thr"):
            if (s, "busy") in med:
                base = med[(s.split()[0] + " 1 thr", "quiet")]
                print("  beside: %s busy / its quiet 1 thread = %.2fx" % (s, med[(s, "busy")] / base))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
