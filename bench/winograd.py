#!/usr/bin/env python3
"""Winograd against direct convolution in dfgpar's native runtime.

`dfgpar run` runs 3x3 stride-1 convolutions with oneDNN's Winograd kernels
where oneDNN has them (AVX-512), every 4-D activation in nChw16c;
`--no-winograd` runs them direct, each convolution choosing its layout (the
runtime before). This script times both, 1 worker x T threads for T = 1
and T = P, every configuration in its own process, round-robin over
`--rounds` rounds (`--iters` timed runs each, after warm-up), and prints
the medians and the ratio direct / Winograd (> 1: Winograd faster);
models with no convolution by Winograd are named and not timed. For
the six torchvision models it also prints each form's largest error
against the float64 output (scripts/export_models.py), beside
torchvision's own float32 error.

    /usr/bin/python3 bench/winograd.py build/dfgpar [--models all|torchvision|corpus|NAME,...]
        [--rounds 2] [--iters 15] [--cores P]

Needs build/models (scripts/export_models.py) and, for the corpus, its
cache (scripts/fetch_corpus.py).
"""

import argparse
import os
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import drivers  # noqa: E402
import headline  # noqa: E402


def cases(a, work):
    """The models asked for, as headline.py's model cases (exits on an unknown name)."""
    rc, fetch_corpus = headline.load_corpus_helpers()
    corpus_rows = {row["name"]: row for row in fetch_corpus.read_list()}
    try:
        return [headline.torchvision_case(n, a.models_dir) if n in headline.TORCHVISION else
                headline.corpus_case(corpus_rows[n], a.cache, work, rc)
                for n in headline.model_names(a.models, corpus_rows)]
    except (ValueError, FileNotFoundError) as e:
        sys.exit("bench/winograd.py: %s" % e)


def float64_error(a, case, winograd, work):
    """(ours, torchvision's) largest |error| against the float64 output, one thread."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    def pb(path):
        t = onnx.TensorProto()
        with open(path, "rb") as f:
            t.ParseFromString(f.read())
        return numpy_helper.to_array(t).astype(np.float64)

    base = os.path.join(a.models_dir, case.name)
    out = os.path.join(work, "%s_%d.npy" % (case.name, winograd))
    cmd = [a.dfgpar, "run", case.path, "--workers", "1", "--threads", "1", "--iters", "1", "--warmup", "1",
           "--input", case.pbs[0], "--output", out] + ([] if winograd else ["--no-winograd"])
    drivers.run_tool(cmd, a.timeout, env=drivers.thread_env(1))
    ref64, ref32 = pb(base + ".output64.pb"), pb(base + ".output.pb")
    return float(np.abs(np.load(out).astype(np.float64) - ref64).max()), float(np.abs(ref32 - ref64).max())


def winograd_count(a, case):
    """How many convolutions `dfgpar run` runs by Winograd (its kernels line)."""
    cmd = [a.dfgpar, "run", case.path, "--workers", "1", "--threads", "1", "--iters", "1", "--warmup", "0"]
    cmd += headline.shape_args(case.shapes)
    for f in case.run_inputs:
        cmd += ["--input", f]
    out = drivers.run_tool(cmd, a.timeout, env=drivers.thread_env(1))
    for line in out.splitlines():
        if line.startswith("kernels") and "Winograd" in line:
            return int(line.split("reorders, ")[1].split()[0])
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dfgpar", help="the dfgpar program (build/dfgpar)")
    ap.add_argument("--models-dir", default=os.path.join(drivers.ROOT, "build", "models"))
    ap.add_argument("--cache", default=os.environ.get("DFGPAR_CACHE", os.path.expanduser("~/.cache/dfgpar")))
    ap.add_argument("--models", default="torchvision", help="all|torchvision|corpus|NAME,... (default torchvision)")
    ap.add_argument("--rounds", type=int, default=2, help="processes per configuration, round-robin (default 2)")
    ap.add_argument("--iters", type=int, default=15, help="timed runs per process (default 15)")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--cores", type=int, default=os.cpu_count() or 1, help="P (default: the cores here)")
    ap.add_argument("--timeout", type=float, default=600)
    a = ap.parse_args()
    P = a.cores
    threads = [1] if P == 1 else [1, P]
    print("winograd: batch 1, 1 worker x T threads, T in %s; medians of %d x %d runs; %s" %
          (threads, a.rounds, a.iters, headline.cpu_name()), flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="dfgpar_winograd_") as work:
        for case in cases(a, work):
            try:
                n = winograd_count(a, case)
            except drivers.child_error as e:
                print("%-20s refused or failed: %s" % (case.name, e), flush=True)
                continue
            if n == 0:
                print("%-20s no convolution by Winograd: not timed" % case.name, flush=True)
                continue
            samples = {}
            for _ in range(a.rounds):
                for t in threads:
                    for wino in (False, True):
                        extra = [] if wino else ["--no-winograd"]
                        j = drivers.dfgpar_job(a.dfgpar, case.path, 1, t, iters=a.iters, warmup=a.warmup,
                                               inputs=case.run_inputs, input_shapes=case.shapes, extra=extra,
                                               cores=P, timeout=a.timeout)
                        samples.setdefault((t, wino), []).extend(j.run().times_ms)
            med = {k: statistics.median(v) for k, v in samples.items()}
            err = None
            if case.torchvision and os.path.isfile(os.path.join(a.models_dir, case.name + ".output64.pb")):
                err = (float64_error(a, case, False, work), float64_error(a, case, True, work))
            rows.append((case.name, n, med, err))
            line = "%-20s %2d Winograd" % (case.name, n)
            for t in threads:
                d, w = med[(t, False)], med[(t, True)]
                line += "  T=%d direct %.2f winograd %.2f (%.2fx)" % (t, d, w, d / w)
            print(line, flush=True)
    print()
    head = ["model", "Winograd convs"]
    for t in threads:
        head += ["direct %d" % t, "Winograd %d" % t, "direct / Winograd %d" % t]
    head += ["float64 error direct", "float64 error Winograd", "torchvision float32 error"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for name, n, med, err in rows:
        cells = [name, str(n)]
        for t in threads:
            cells += ["%.2f" % med[(t, False)], "%.2f" % med[(t, True)], "%.2f" % (med[(t, False)] / med[(t, True)])]
        cells += ["%.1e" % err[0][0], "%.1e" % err[1][0], "%.1e" % err[0][1]] if err else ["-", "-", "-"]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
