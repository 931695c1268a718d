#!/usr/bin/env python3
"""dfgpar's native runtime (`dfgpar run`) against ONNX Runtime (npm
onnxruntime-node, scripts/ort_run.js), batch 1, float32.

Every configuration runs in its own process, one at a time (never two
spinning thread pools at once), round-robin over `--rounds` rounds; each
process reports the median of `--iters` runs after warm-up, and the table
shows the median of those medians (and their spread: min-max over rounds).

    /usr/bin/python3 bench/onednn_vs_ort.py build/dfgpar build/models \
        [--models googlenet,squeezenet1_1] [--rounds 3] [--iters 30]

Configurations: dfgpar 1 worker x 1 thread, 1 x 2 (intra-op only), 2 x 1
(the schedule's two workers), `--workers auto` (the tool times 1 x 2 and
2 x 1 when it loads the model and keeps the faster: the 2-thread ratio is
taken against it); ONNX Runtime sequential at 1 and 2 threads.
`--spin 10000,100000` adds dfgpar 1 x 2 with each GOMP_SPINCOUNT (idle
OpenMP threads spin that long, then sleep; `dfgpar run` otherwise restarts
itself with GOMP_SPINCOUNT=300).
Needs node and `node_modules/onnxruntime-node` in the repository root.
The children are driven by bench/drivers.py (as bench/headline.py's are).
"""

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import drivers  # noqa: E402


def dfgpar_job(exe, model, workers, threads, iters):
    # workers 'auto': the tool measures P x 1 and 1 x P and keeps the faster
    return drivers.dfgpar_job(exe, model, workers, None if workers == "auto" else threads, iters=iters, warmup=10)


def ort_job(model, inp, threads, iters):
    return drivers.ort_job(model, [inp], threads, iters=iters, warmup=10)


def median_of(job, extra_env=None):
    """The median of one process's timed runs."""
    if extra_env:
        job.env.update(extra_env)
    return job.run().median_ms


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dfgpar")
    ap.add_argument("models_dir")
    ap.add_argument("--models", default="squeezenet1_1,googlenet,inception_v3,resnet50,densenet121,mobilenet_v2")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--iters", type=int, default=30)
    ap.add_argument("--spin", default="",
                    help="comma-separated GOMP_SPINCOUNT values: also run dfgpar 1x2 with each (libgomp's idle "
                         "threads spin that many rounds, then sleep) instead of run's default")
    a = ap.parse_args()
    # every child gets its thread counts in its environment (drivers.thread_env);
    # `dfgpar run` bounds idle OpenMP threads' spin (GOMP_SPINCOUNT=300) unless told otherwise
    configs = [("dfgpar 1x1", lambda m, i: dfgpar_job(a.dfgpar, m, 1, 1, a.iters)),
               ("dfgpar 1x2", lambda m, i: dfgpar_job(a.dfgpar, m, 1, 2, a.iters)),
               ("dfgpar 2x1", lambda m, i: dfgpar_job(a.dfgpar, m, 2, 1, a.iters)),
               ("dfgpar auto", lambda m, i: dfgpar_job(a.dfgpar, m, "auto", 0, a.iters)),
               ("ORT 1 thr", lambda m, i: ort_job(m, i, 1, a.iters)),
               ("ORT 2 thr", lambda m, i: ort_job(m, i, 2, a.iters))]
    extra = {}
    for n in [x for x in a.spin.split(",") if x]:
        name = "dfgpar 1x2 spin %s" % n
        configs.insert(2, (name, lambda m, i: dfgpar_job(a.dfgpar, m, 1, 2, a.iters)))
        extra[name] = {"GOMP_SPINCOUNT": n}
    names = [c[0] for c in configs]
    print("ms, median of %d process medians (each %d runs after 10 warm-up); min-max over processes" % (a.rounds, a.iters))
    print("%-14s" % "model" + "".join("%22s" % n for n in names) + "   1 thr: ORT/dfgpar   2 cores: best ORT/dfgpar auto")
    for model in a.models.split(","):
        path = os.path.join(a.models_dir, model + ".onnx")
        inp = os.path.join(a.models_dir, model + ".input.pb")
        res = {n: [] for n in names}
        for _ in range(a.rounds):
            for n, make in configs:
                res[n].append(median_of(make(path, inp), extra.get(n)))
        med = {n: statistics.median(v) for n, v in res.items()}
        cells = "".join("%22s" % ("%.2f (%.2f-%.2f)" % (med[n], min(res[n]), max(res[n]))) for n in names)
        best2 = med["dfgpar auto"]
        ort_best = min(med["ORT 1 thr"], med["ORT 2 thr"])  # ONNX Runtime's best on 2 cores
        print("%-14s" % model + cells + "   %18.2f   %22.2f" % (med["ORT 1 thr"] / med["dfgpar 1x1"], ort_best / best2))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
