#!/usr/bin/env python3
"""Times an ONNX model in ONNX Runtime through its Python package, with the
session options and the --json line of scripts/ort_run.js, for machines
that have `onnxruntime` for Python but no node (bench/drivers.py uses it
when node or node_modules/onnxruntime-node is missing, or when
DFGPAR_ORT=python).

    python3 scripts/ort_run.py MODEL.onnx INPUT.pb [INPUT2.pb ...]
        [--threads N] [--inter-threads N] [--mode sequential|parallel]
        [--ort-opt all|extended|basic|disabled] [--runs K] [--warmup W] [--json]

The same library (MLAS kernels, the same graph optimiser) as the npm
package of the same version; the JSON line carries "binding": "python" and
the version, so a table says which one it timed.
"""

import argparse
import json
import os
import statistics
import sys
import time


def fail(msg):
    print("ort_run.py: %s" % msg, file=sys.stderr)
    sys.exit(2)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+", help="MODEL.onnx then one TensorProto file per graph input")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--inter-threads", type=int, default=1)
    ap.add_argument("--mode", choices=["sequential", "parallel"], default="sequential")
    ap.add_argument("--ort-opt", choices=["all", "extended", "basic", "disabled"], default="all")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if a.threads < 1 or a.inter_threads < 1 or a.runs < 1 or a.warmup < 0:
        fail("--threads, --inter-threads and --runs must be at least 1, --warmup at least 0")
    try:
        import onnx.numpy_helper
        import onnxruntime as ort
    except ImportError as e:
        fail("needs the Python packages onnx and onnxruntime (%s)" % e)
    model, inputs = a.files[0], a.files[1:]
    so = ort.SessionOptions()
    so.intra_op_num_threads = a.threads
    so.inter_op_num_threads = a.inter_threads
    so.execution_mode = ort.ExecutionMode.ORT_PARALLEL if a.mode == "parallel" else ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = {
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL, "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "disabled": ort.GraphOptimizationLevel.ORT_DISABLE_ALL}[a.ort_opt]
    try:
        sess = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    except Exception as e:  # ORT's own exception types differ between versions
        fail("%s: %s" % (os.path.basename(model), str(e).splitlines()[0] if str(e) else type(e).__name__))
    names = [i.name for i in sess.get_inputs()]
    if len(inputs) != len(names):
        fail("%s has %d input(s) (%s), got %d file(s)" % (os.path.basename(model), len(names), ", ".join(names),
                                                          len(inputs)))
    feeds = {}
    for name, path in zip(names, inputs):
        t = onnx.TensorProto()
        with open(path, "rb") as f:
            t.ParseFromString(f.read())
        feeds[name] = onnx.numpy_helper.to_array(t)
    for _ in range(a.warmup):
        sess.run(None, feeds)
    times = []
    for _ in range(a.runs):
        t0 = time.perf_counter()
        sess.run(None, feeds)
        times.append((time.perf_counter() - t0) * 1000)
    med = statistics.median(times)
    if a.json:
        print(json.dumps({"model": model, "threads": a.threads, "mode": a.mode, "ortOpt": a.ort_opt, "runs": a.runs,
                          "medianMs": med, "minMs": min(times), "timesMs": times, "binding": "python",
                          "version": ort.__version__, "ok": True}))
    else:
        print("median %.3f ms, min %.3f ms over %d runs (%d intra-op thread(s), %s, ORT optimisation %s, "
              "onnxruntime %s, Python)" % (med, min(times), a.runs, a.threads, a.mode, a.ort_opt, ort.__version__))
    return 0


if __name__ == "__main__":
    sys.exit(main())
