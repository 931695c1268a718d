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
median over rounds (children driven by bench/drivers.py; PyTorch eager is
torchvision's model built as scripts/export_models.py builds it, on the
reference input). The targets of the issue:
  * busy: dfgpar at P = 2 no slower than 1.1x its own quiet 1x1 latency;
  * pair: each of two dfgpar processes within 2.2x of its quiet latency.
"""

import argparse
import os
import statistics
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import drivers  # noqa: E402


def dfgpar_job(a, model, workers, threads):
    return drivers.dfgpar_job(a.dfgpar, os.path.join(a.models_dir, model + ".onnx"), workers, threads, iters=a.iters,
                              warmup=10)


def ort_job(a, model, threads):
    return drivers.ort_job(os.path.join(a.models_dir, model + ".onnx"),
                           [os.path.join(a.models_dir, model + ".input.pb")], threads, iters=a.iters, warmup=10)


def torch_job(a, model, threads):
    # torchvision's model as scripts/export_models.py builds it, on the reference input
    return drivers.torch_eager_job(model, os.path.join(a.models_dir, model + ".input.npy"), threads, iters=a.iters,
                                   warmup=10)


def measure(make, copies):
    """Medians of `copies` processes of one configuration started together."""
    jobs = [make() for _ in range(copies)]
    procs = [j.start() for j in jobs]
    return [j.finish(p).median_ms for j, p in zip(jobs, procs)]


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
    # every child gets its thread counts in its environment (drivers.thread_env);
    # `dfgpar run` sets GOMP_SPINCOUNT=300 for itself unless told otherwise; ORT and
    # PyTorch run with their defaults, as a user would run them
    systems = [("dfgpar 1x1", lambda m: dfgpar_job(a, m, 1, 1)),
               ("dfgpar 2x1", lambda m: dfgpar_job(a, m, 2, 1)),
               ("dfgpar 1x2", lambda m: dfgpar_job(a, m, 1, 2))]
    if not a.no_ort:
        systems += [("ORT 1 thr", lambda m: ort_job(a, m, 1)), ("ORT 2 thr", lambda m: ort_job(a, m, 2))]
    if not a.no_torch:
        systems += [("torch 1 thr", lambda m: torch_job(a, m, 1)),
                    ("torch 2 thr", lambda m: torch_job(a, m, 2))]
    loads = ["quiet", "busy", "pair"]
    load1 = os.getloadavg()[0]
    quiet = "" if load1 < 0.5 else "  (not quiet: the 'quiet' column is under load too)"
    print("load average before: %.2f%s" % (load1, quiet))
    print("ms, median over %d rounds of process medians (each %d runs after 10 warm-up); pair: both processes" %
          (a.rounds, a.iters))
    for model in a.models.split(","):
        res = {(s, l): [] for s, _ in systems for l in loads}
        for _ in range(a.rounds):
            for s, make in systems:
                f = lambda make=make: make(model)
                res[(s, "quiet")] += measure(f, 1)
                with busy_loop():
                    res[(s, "busy")] += measure(f, 1)
                res[(s, "pair")] += measure(f, 2)
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
