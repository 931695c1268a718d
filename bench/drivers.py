#!/usr/bin/python3
"""Child-process drivers shared by the benchmarks: one configuration of
dfgpar's native runtime (`dfgpar run`), ONNX Runtime (npm onnxruntime-node,
scripts/ort_run.js), PyTorch eager (torchvision's model) or a module that
`dfgpar emit` wrote, run in a process of its own with its thread counts set
in its environment, returning the time of every timed run.

    job = drivers.ort_job(model, [input_pb], threads=2, iters=30, warmup=10)
    run = job.run()            # blocks; run.times_ms, run.info
    proc = job.start(); ...; run = job.finish(proc)   # several side by side

A child that fails raises `child_error` with a one-line message; `refused`
is set when the runtime said it cannot run the model (an operator it lacks),
as opposed to a crash or a timeout.

Every benchmark that times runtimes against each other goes through here
(bench/headline.py, bench/onednn_vs_ort.py, bench/onednn_load.py), so each
runtime is driven one way: the same warm-up, the same thread settings, the
same clock (each child times its own runs with its monotonic clock).
"""

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Debian's torch + torchvision (the `python3` on PATH may lack them);
# DFGPAR_TORCH_PY names another interpreter that has them
TORCH_PY = os.environ.get("DFGPAR_TORCH_PY", "/usr/bin/python3")
ORT_RUN = os.path.join(ROOT, "scripts", "ort_run.js")
ORT_RUN_PY = os.path.join(ROOT, "scripts", "ort_run.py")


def ort_binding():
    """'node' (npm onnxruntime-node, scripts/ort_run.js) where node and the
    package are here, else 'python' (the onnxruntime Python package,
    scripts/ort_run.py, run by DFGPAR_ORT_PY or this interpreter);
    DFGPAR_ORT=node|python chooses."""
    want = os.environ.get("DFGPAR_ORT", "")
    if want in ("node", "python"):
        return want
    import shutil
    has_node = shutil.which("node") and os.path.isdir(os.path.join(ROOT, "node_modules", "onnxruntime-node"))
    return "node" if has_node else "python"


def ort_python():
    return os.environ.get("DFGPAR_ORT_PY", sys.executable)


class child_error(RuntimeError):
    """A child that exited non-zero, timed out or printed no result."""

    def __init__(self, message, refused=False):
        super().__init__(message)
        self.refused = refused


class run_result:
    """The per-run times (ms) of one process, and what it said about itself."""

    def __init__(self, times_ms, info=None):
        self.times_ms = list(times_ms)
        self.info = info or {}

    @property
    def median_ms(self):
        return statistics.median(self.times_ms)


def thread_env(threads, base=None):
    """The environment of a child that may use `threads` threads: OpenMP
    (libgomp: oneDNN, PyTorch), MKL and OpenBLAS are told explicitly, so no
    runtime starts a pool sized by the cores behind the benchmark's back."""
    env = dict(os.environ if base is None else base)
    for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[k] = str(threads)
    return env


def last_line(text):
    lines = [x for x in (text or "").strip().splitlines() if x.strip()]
    return lines[-1].strip() if lines else ""


# `dfgpar run` and `dfgpar emit` refuse a model they cannot run or translate
# with one of these (exit status 1, before any run)
REFUSAL = re.compile(r"cannot run|not supported|cannot translate|refus|unsupported", re.I)


class job:
    """One child process: its command, environment, and how to read its times
    from what it printed (`parse(stdout) -> run_result`)."""

    def __init__(self, cmd, env, parse, label, cleanup=(), timeout=600):
        self.cmd, self.env, self.parse, self.label = cmd, env, parse, label
        self.cleanup, self.timeout = list(cleanup), timeout

    def start(self):
        return subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.env,
                                cwd=ROOT)

    def finish(self, proc):
        try:
            out, err = proc.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            proc.kill()  # our own child, by its pid
            proc.communicate()
            self._clean()
            raise child_error("%s: timed out after %d s" % (self.label, self.timeout))
        try:
            if proc.returncode != 0:
                msg = last_line(err) or last_line(out) or "exit status %d" % proc.returncode
                msg = re.sub(r"^(dfgpar|ort_run\.js|ort_run\.py): (error: )?", "", msg)
                raise child_error("%s: %s" % (self.label, msg[:300]),
                                  refused=proc.returncode == 1 and bool(REFUSAL.search(msg)))
            try:
                return self.parse(out)
            except (ValueError, KeyError, OSError, IndexError) as e:
                raise child_error("%s: no result (%s): %s" % (self.label, e, last_line(err)[:200]))
        finally:
            self._clean()

    def run(self):
        return self.finish(self.start())

    def _clean(self):
        for p in self.cleanup:
            try:
                os.remove(p)
            except OSError:
                pass


# ------------------------------------------------------------------ dfgpar run

def dfgpar_job(exe, model, workers, threads=None, iters=30, warmup=10, inputs=(), input_shapes=None, extra=(),
               cores=None, timeout=600):
    """`dfgpar run MODEL --workers W [--threads T]`; workers may be 'auto'
    (the tool chooses; leave threads None). inputs: files for --input (graph
    order or NAME=FILE); input_shapes: {name: dims}. The times are those of
    its --json report; info holds its workers, threads, what `auto` printed
    and the schedule line."""
    fd, json_path = tempfile.mkstemp(prefix="dfgpar_run_", suffix=".json")
    os.close(fd)
    cmd = [exe, "run", model, "--workers", str(workers), "--iters", str(iters), "--warmup", str(warmup),
           "--json", json_path]
    if threads is not None:
        cmd += ["--threads", str(threads)]
    for f in inputs:
        cmd += ["--input", f]
    for name, dims in (input_shapes or {}).items():
        cmd += ["--input-shape", "%s=%s" % (name, ",".join(str(d) for d in dims))]
    cmd += list(extra)
    budget = cores if cores else (os.cpu_count() or 1)
    env = thread_env(threads if threads is not None and workers != "auto" else budget)

    def parse(out):
        with open(json_path) as f:
            rep = json.load(f)
        info = {"workers": rep.get("workers"), "threads": rep.get("threads")}
        for key in ("moldable", "predicted_ms"):  # a moldable schedule (--workers auto) and its prediction
            if key in rep:
                info[key] = rep[key]
        if workers == "auto":
            info["report"] = out.strip()  # run's whole report: what it measured, predicted and chose
        for line in out.splitlines():
            key, _, rest = line.partition(" ")
            # run's report: a key, padded, then its text ("auto  1x2 10.05 ms, ...")
            # kept as text under "<key> line" ("moldable" is also a JSON flag)
            if key in ("auto", "schedule", "predicted", "prediction", "allotment", "moldable"):
                k = key + " line"
                info[k] = (info[k] + "\n" if k in info else "") + rest.strip()
        return run_result(rep["times_ms"], info)

    label = "dfgpar run %s %sx%s" % (os.path.basename(model), workers, threads if threads is not None else "")
    return job(cmd, env, parse, label.rstrip("x"), cleanup=[json_path], timeout=timeout)


# ------------------------------------------------------------------ ONNX Runtime

def ort_job(model, inputs, threads, iters=30, warmup=10, mode="sequential", inter_threads=1, timeout=600):
    """ONNX Runtime (scripts/ort_run.js) with `threads` intra-op threads;
    mode 'parallel' runs independent nodes on `inter_threads` inter-op
    threads. inputs: TensorProto files in graph-input order."""
    head = ["node", ORT_RUN] if ort_binding() == "node" else [ort_python(), ORT_RUN_PY]
    cmd = head + [model] + list(inputs) + [
        "--threads", str(threads), "--runs", str(iters), "--warmup", str(warmup), "--mode", mode,
        "--inter-threads", str(inter_threads), "--json"]
    env = thread_env(max(threads, inter_threads) if mode == "parallel" else threads)

    def parse(out):
        rep = json.loads(last_line(out))
        times = rep.get("timesMs") or [rep["medianMs"]]  # an ort_run.js without timesMs: its median only
        return run_result(times, {"threads": threads, "mode": mode, "inter_threads": inter_threads,
                                  "binding": rep.get("binding", "node")})

    return job(cmd, env, parse, "ONNX Runtime %s %s %d thr" % (os.path.basename(model), mode, threads),
               timeout=timeout)


# ------------------------------------------------------------------ PyTorch

def _json_times(out):
    rep = json.loads(last_line(out))
    return run_result(rep["times_ms"], rep.get("info", {}))


# torchvision's model as scripts/export_models.py builds it (weights=None,
# the same seed and BatchNormalization calibration: the same network as the
# exported ONNX file), timed on the reference input
TORCH_EAGER = r"""
import json, sys, time
import numpy as np, torch
sys.path.insert(0, sys.argv[1])
import export_models as em
name, threads, iters, warmup, x_npy = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
kwargs, side = em.MODELS[name]
torch.manual_seed(em.SEED)
import torchvision
m = getattr(torchvision.models, name)(weights=None, **kwargs)
torch.set_num_threads(int(sys.argv[7]))  # the calibration is not timed: all cores
em.calibrate_batchnorm(m, side)
m = m.eval()
torch.set_num_threads(threads)
x = torch.from_numpy(np.load(x_npy))
ts = []
with torch.no_grad():
    for i in range(warmup + iters):
        t = time.perf_counter()
        m(x)
        if i >= warmup:
            ts.append((time.perf_counter() - t) * 1000)
print(json.dumps({"times_ms": ts, "info": {"threads": torch.get_num_threads()}}))
"""


def torch_eager_job(name, input_npy, threads, iters=30, warmup=10, cores=None, timeout=600):
    """PyTorch eager on torchvision's `name` with torch.set_num_threads(threads)."""
    cmd = [TORCH_PY, "-c", TORCH_EAGER, os.path.join(ROOT, "scripts"), name, str(threads), str(iters), str(warmup),
           input_npy, str(cores or os.cpu_count() or 1)]
    return job(cmd, thread_env(threads), _json_times, "torch eager %s %d thr" % (name, threads), timeout=timeout)


# the emitted module as bench/pytorch_emit.py runs it: set_threads() (inline
# stages `threads` intra-op threads, forked parts 1 each), scripted,
# optimize()d (freeze + optimize_for_inference), forward with the fork flags
# it was emitted with
EMITTED = r"""
import importlib.util, json, os, sys, time
import numpy as np, torch
path, threads, iters, warmup = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
spec = importlib.util.spec_from_file_location('emitted_model', path)
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
mod.set_threads(threads)
model = torch.jit.script(mod.Model().eval())
info = {"threads": threads, "workers": mod.WORKERS}
flags = [f for _, f, _, _ in mod.STAGES if f]
info["regions"] = len(flags)
info["forked"] = sum(1 for f in flags if getattr(model, f))
try:
    model = mod.optimize(model)
    info["optimized"] = True
except Exception as e:  # run the scripted module as it is
    info["optimized"] = False
    info["optimize_error"] = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
xs = [torch.from_numpy(np.load(f)) for f in sys.argv[5:]]
ts = []
with torch.no_grad():
    for i in range(warmup + iters):
        t = time.perf_counter()
        model(*xs)
        if i >= warmup:
            ts.append((time.perf_counter() - t) * 1000)
print(json.dumps({"times_ms": ts, "info": info}), flush=True)
os._exit(0)  # PyTorch 1.13 can abort in the teardown after torch.jit.fork
"""


def emitted_job(model_py, input_npys, threads, iters=30, warmup=10, timeout=600):
    """The module `dfgpar emit` wrote (DIR/model.py) on `threads` cores."""
    cmd = [TORCH_PY, "-c", EMITTED, model_py, str(threads), str(iters), str(warmup)] + list(input_npys)
    return job(cmd, thread_env(threads), _json_times, "emitted %s %d thr" % (model_py, threads), timeout=timeout)


def run_tool(cmd, timeout=600, env=None):
    """A dfgpar command that is not timed (emit, analyze, a profile run):
    its stdout, or child_error (refused when the tool refused the model)."""
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)
    except subprocess.TimeoutExpired:
        raise child_error("%s: timed out after %d s" % (" ".join(cmd[:2]), timeout))
    if r.returncode != 0:
        msg = re.sub(r"^dfgpar: (error: )?", "", last_line(r.stderr) or last_line(r.stdout))
        raise child_error(msg[:300], refused=r.returncode == 1 and bool(REFUSAL.search(msg)))
    return r.stdout


if __name__ == "__main__":
    sys.exit("bench/drivers.py is a module: see bench/headline.py")
