#!/usr/bin/python3
"""The headline comparison (issue 12, item 3): dfgpar's native runtime
against ONNX Runtime, PyTorch eager and the PyTorch module `dfgpar emit`
writes, batch 1, float32, on the six torchvision models and the real-model
corpus, with each model's lower bound from a measured profile beside it.

    /usr/bin/python3 bench/headline.py build/dfgpar [--models-dir build/models]
        [--models all|torchvision|corpus|NAME,...] [--iters 30] [--rounds 3]
        [--warmup 10] [--cores P] [--json OUT.json] [--chart OUT.png]

Configurations (P = --cores, default: the cores here), each in its own
process, one at a time (never two thread pools at once), round-robin over
`--rounds` rounds per model; a process times `--iters` runs after
`--warmup` untimed ones, and a configuration's figure is the median of all
its timed runs (rounds x iters, at least 30 by default: 3 x 30):

  dfgpar 1x1     `dfgpar run --workers 1 --threads 1`
  dfgpar auto    `dfgpar run --workers auto`: the tool chooses workers and
                 threads per operator for the P cores (what it chose is shown)
  ORT 1          ONNX Runtime 1.30, sequential, 1 intra-op thread (npm
                 onnxruntime-node; the Python package where node is missing,
                 or with DFGPAR_ORT=python: scripts/ort_run.py)
  ORT P          sequential, P intra-op threads
  ORT par        executionMode 'parallel', P inter-op and P intra-op threads
  torch 1/P      PyTorch eager (torchvision's model, torch.set_num_threads);
                 '-' for corpus models (no PyTorch original exists)
  emitted P      `dfgpar emit --workers P` (with the measured profile), its
                 model.py under Debian's torch: set_threads(P), scripted,
                 optimize()d, the fork flags it was emitted with

The bound: `dfgpar run --workers 1 --threads 1 --profile` measures every
node (µs; "us_by_threads": [t1, t2, ...] per node where the runtime measures
several thread counts), and on the graph dfgpar schedules (`dfgpar analyze
--save-optimized`) bound = max(CP, area / P) with CP the longest path over
min_k t(v, k) and area = sum_v min_k k t(v, k), k <= P. With t(v, 1) only it
is max(CP1, W1 / P), marked "t1": a bound for schedules that run each
operator on one core, not for intra-op threading.

Every configuration's command line is in --json. Run it on a quiet machine
(no builds, load average near 0): one busy thread on one of 2 cores made a
2-thread run 10x slower.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import drivers  # noqa: E402

ROOT = drivers.ROOT
TORCHVISION = ["squeezenet1_1", "googlenet", "inception_v3", "resnet50", "densenet121", "mobilenet_v2"]

CONFIGS = ["dfgpar 1x1", "dfgpar auto", "ORT 1", "ORT P", "ORT par", "torch 1", "torch P", "emitted P"]


def load_corpus_helpers():
    """tests/corpus/run_corpus.py's seeded inputs and the corpus list: one definition."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("run_corpus", os.path.join(ROOT, "tests", "corpus", "run_corpus.py"))
    rc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(rc)
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    import fetch_corpus
    return rc, fetch_corpus


# ------------------------------------------------------------------ models

class model_case:
    """One model: its file, input files (.pb for the runtimes, .npy for
    PyTorch), fixed input shapes and its torchvision name (None: corpus)."""

    def __init__(self, name, path, pbs, npys, shapes=None, torchvision=None, input_names=None):
        self.name, self.path, self.pbs, self.npys = name, path, pbs, npys
        self.shapes, self.torchvision = shapes or {}, torchvision
        # `dfgpar run --input`: NAME=FILE where the names are known, else graph order
        self.run_inputs = ["%s=%s" % (n, f) for n, f in zip(input_names, pbs)] if input_names else list(pbs)


def torchvision_case(name, models_dir):
    base = os.path.join(models_dir, name)
    files = [base + ".onnx", base + ".input.pb", base + ".input.npy"]
    missing = [f for f in files if not os.path.isfile(f)]
    if missing:
        raise FileNotFoundError("%s missing (scripts/export_models.py writes it)" % missing[0])
    return model_case(name, files[0], [files[1]], [files[2]], torchvision=name)


def corpus_case(row, cache, work, rc):
    import numpy as np
    import onnx
    path = os.path.join(cache, "corpus", row["name"] + ".onnx")
    if not os.path.isfile(path):
        raise FileNotFoundError("%s not cached (scripts/fetch_corpus.py)" % path)
    shapes = rc.parse_assignments(row["input_shapes"], "input_shapes")
    values = rc.parse_assignments(row["input_values"], "input_values")
    d = os.path.join(work, row["name"])
    os.makedirs(d, exist_ok=True)
    pbs, npys, names = [], [], []
    for i, (iname, arr) in enumerate(rc.make_inputs(onnx.load(path, load_external_data=False), row["name"], shapes,
                                                    values)):
        pb, npy = os.path.join(d, "input_%d.pb" % i), os.path.join(d, "input_%d.npy" % i)
        rc.save_pb(pb, iname, arr)
        np.save(npy, arr)
        pbs.append(pb)
        npys.append(npy)
        names.append(iname)
    return model_case(row["name"], path, pbs, npys, shapes, input_names=names)


def model_names(spec, corpus_rows):
    """The model names `--models SPEC` asks for (all, torchvision, corpus, or
    a comma-separated list), torchvision's first; ValueError names an unknown one."""
    if spec in ("all", "torchvision", "corpus"):
        return (TORCHVISION if spec != "corpus" else []) + (list(corpus_rows) if spec != "torchvision" else [])
    names = [n.strip() for n in spec.split(",") if n.strip()]
    bad = [n for n in names if n not in TORCHVISION and n not in corpus_rows]
    if bad:
        raise ValueError("unknown model %s (the six torchvision models or a name in tests/corpus/models.tsv)" % bad[0])
    return names


def shape_args(shapes):
    out = []
    for name, dims in shapes.items():
        out += ["--input-shape", "%s=%s" % (name, ",".join(str(d) for d in dims))]
    return out


# ------------------------------------------------------------------ the bound

def subgraph_reads(node):
    """Names a node's subgraphs (If/Loop/Scan bodies) read from outside them."""
    import onnx
    out = []
    for attr in node.attribute:
        graphs = [attr.g] if attr.type == onnx.AttributeProto.GRAPH else \
            list(attr.graphs) if attr.type == onnx.AttributeProto.GRAPHS else []
        for g in graphs:
            local = {i.name for i in g.input} | {t.name for t in g.initializer}
            for n in g.node:
                local |= set(n.output)
            for n in g.node:
                out += [x for x in list(n.input) + subgraph_reads(n) if x and x not in local]
            out += [o.name for o in g.output if o.name not in local]
    return out


def file_node_indices(original, optimized):
    """The index in the model file of each node of the optimized graph, as
    `dfgpar run --profile` numbers them (tools/dfgpar/run.cpp,
    file_node_indices): by the name when it is unique in the file, else by an
    output tensor's producer; None for a node the optimiser made."""
    count, index_of_name, producer = {}, {}, {}
    for i, n in enumerate(original.graph.node):
        if n.name:
            count[n.name] = count.get(n.name, 0) + 1
            index_of_name.setdefault(n.name, i)
        for t in n.output:
            if t:
                producer.setdefault(t, i)
    out = []
    for n in optimized.graph.node:
        idx = index_of_name[n.name] if n.name and count.get(n.name) == 1 else None
        for t in n.output:
            if idx is None and t in producer:
                idx = producer[t]
        out.append(idx)
    return out


def read_profile(path):
    """{'by_node': {index: [t1, t2, ...]}, 'by_name': {...}} in µs, entry
    k-1 = the time on k threads (just [t1] without "us_by_threads");
    repeated entries are averaged (as onnx/profile.hpp does)."""
    with open(path) as f:
        root = json.load(f)
    acc = {"by_node": {}, "by_name": {}}
    for e in root["nodes"]:
        ts = e.get("us_by_threads") or [e["us"]]
        ts = [float(t) if t is not None else None for t in ts]
        if "node" in e:
            acc["by_node"].setdefault(int(e["node"]), []).append(ts)
        elif e.get("name"):
            acc["by_name"].setdefault(e["name"], []).append(ts)
    for table in acc.values():
        for k, lists in table.items():
            width = max(len(ts) for ts in lists)
            cols = [[ts[i] for ts in lists if i < len(ts) and ts[i] is not None] for i in range(width)]
            table[k] = [sum(c) / len(c) if c else None for c in cols]
    return acc


def lower_bound(model_path, optimized_path, profile_path, cores):
    """max(CP, area / P) on the optimized graph with the profile's times
    (see the module docstring); ms, with its parts and kind."""
    import onnx
    original = onnx.load(model_path, load_external_data=False)
    optimized = onnx.load(optimized_path, load_external_data=False)
    prof = read_profile(profile_path)
    nodes = list(optimized.graph.node)
    file_idx = file_node_indices(original, optimized)
    times, missed, multi = [], 0, False
    for n, idx in zip(nodes, file_idx):
        ts = prof["by_node"].get(idx) if idx is not None else None
        if ts is None and n.name:
            ts = prof["by_name"].get(n.name)
        if ts is None:
            missed += 1
            ts = [0.0]
        ts = [t for t in ts[:cores]]  # t(v, k) for k <= P
        multi = multi or len([t for t in ts if t is not None]) > 1
        times.append(ts)
    cp_cost = [min(t for t in ts if t is not None) for ts in times]
    area = sum(min((k + 1) * t for k, t in enumerate(ts) if t is not None) for ts in times)
    producer = {t: i for i, n in enumerate(nodes) for t in n.output if t}
    preds = [sorted({producer[x] for x in list(n.input) + subgraph_reads(n) if x in producer and producer[x] != i})
             for i, n in enumerate(nodes)]
    # longest path in a topological order (the file's order need not be one)
    succ = [[] for _ in nodes]
    indeg = [len(p) for p in preds]
    for i, ps in enumerate(preds):
        for p in ps:
            succ[p].append(i)
    ready = [i for i, d in enumerate(indeg) if d == 0]
    finish = [0.0] * len(nodes)
    seen = 0
    while ready:
        i = ready.pop()
        seen += 1
        finish[i] = cp_cost[i] + max((finish[p] for p in preds[i]), default=0.0)
        for s in succ[i]:
            indeg[s] -= 1
            if indeg[s] == 0:
                ready.append(s)
    if seen != len(nodes):
        raise ValueError("%s: the optimized graph has a cycle" % optimized_path)
    cp = max(finish, default=0.0) / 1000
    area_p = area / cores / 1000
    return {"bound_ms": max(cp, area_p), "cp_ms": cp, "area_over_p_ms": area_p,
            "work_1_ms": sum(ts[0] or 0.0 for ts in times) / 1000,
            "kind": "t(v,k)" if multi else "t1", "nodes": len(nodes), "unmeasured": missed}


def self_test():
    """lower_bound on a hand-made diamond x -> A -> {L, R} -> D with known
    answers; the optimized graph drops a folded node, so the node indices of
    the profile (the file's) differ from the optimized graph's."""
    import onnx
    from onnx import helper, TensorProto
    d = tempfile.mkdtemp(prefix="dfgpar_headline_test_")
    vi = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])]
    out = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])]
    nodes = [helper.make_node("Shape", ["x"], ["dead"], name="Dead"),  # 0: gone after optimisation
             helper.make_node("Relu", ["x"], ["a"], name="A"),  # 1
             helper.make_node("Sigmoid", ["a"], ["l"], name="L"),  # 2
             helper.make_node("Tanh", ["a"], ["r"], name="R"),  # 3
             helper.make_node("Add", ["l", "r"], ["y"], name="D")]  # 4
    orig = helper.make_model(helper.make_graph(nodes, "g", vi, out))
    opt = helper.make_model(helper.make_graph(nodes[1:], "g", vi, out))
    onnx.save(orig, os.path.join(d, "m.onnx"))
    onnx.save(opt, os.path.join(d, "opt.onnx"))

    def bound(entries, P):
        with open(os.path.join(d, "p.json"), "w") as f:
            json.dump({"dfgpar_profile": 1, "nodes": entries}, f)
        return lower_bound(os.path.join(d, "m.onnx"), os.path.join(d, "opt.onnx"), os.path.join(d, "p.json"), P)

    # t(v, 1) only: CP = A + L + D = 1 + 4 + 1 = 6 ms, W1 = 9 ms
    b = bound([{"name": "A", "node": 1, "us": 1000}, {"name": "L", "node": 2, "us": 4000},
               {"name": "R", "node": 3, "us": 3000}, {"name": "D", "node": 4, "us": 1000}], 2)
    assert b["kind"] == "t1" and abs(b["cp_ms"] - 6) < 1e-9 and abs(b["area_over_p_ms"] - 4.5) < 1e-9, b
    assert abs(b["bound_ms"] - 6) < 1e-9 and b["unmeasured"] == 0, b
    # t(v, k): L scales perfectly (4 -> 2 ms), D to 0.5 ms on 3 threads, A
    # and R not at all; P = 2: CP = A + R + D = 5 (L now 2), area = 1 +
    # min(4, 2 x 2) + 3 + 1 = 9 -> 4.5; P = 3: CP = 1 + 3 + 0.5, area 9 -> 3
    entries = [{"name": "A", "node": 1, "us": 1000, "us_by_threads": [1000, 1000]},
               {"name": "L", "node": 2, "us": 4000, "us_by_threads": [4000, 2000]},
               {"name": "R", "node": 3, "us": 3000, "us_by_threads": [3000, 3000]},
               {"name": "D", "node": 4, "us": 1000, "us_by_threads": [1000, 1000, 500]}]
    b = bound(entries, 2)
    assert b["kind"] == "t(v,k)" and abs(b["cp_ms"] - 5) < 1e-9 and abs(b["area_over_p_ms"] - 4.5) < 1e-9, b
    assert abs(b["bound_ms"] - 5) < 1e-9, b
    b = bound(entries, 3)
    assert abs(b["cp_ms"] - 4.5) < 1e-9 and abs(b["area_over_p_ms"] - 3) < 1e-9, b
    # a node known by its name only (made by the optimiser) still counts
    b = bound([{"name": "A", "us": 1000}, {"name": "L", "node": 2, "us": 4000}], 1)
    assert abs(b["cp_ms"] - 5) < 1e-9 and b["unmeasured"] == 2, b
    shutil.rmtree(d, ignore_errors=True)
    print("headline.py self-test passed")


# ------------------------------------------------------------------ one model

def prepare_model(case, a, work, result):
    """The profile, the bound and the emitted module of one model; returns
    the jobs of its configurations (None: not available, with the reason in
    `result`)."""
    d = os.path.join(work, case.name)
    os.makedirs(d, exist_ok=True)
    P = a.cores
    status = {}
    prof = os.path.join(d, "profile.json")
    try:
        cmd = [a.dfgpar, "run", case.path, "--workers", "1", "--threads", "1", "--iters", str(max(a.iters, 10)),
               "--warmup", str(min(a.warmup, 5)), "--profile", prof] + shape_args(case.shapes)
        for f in case.run_inputs:
            cmd += ["--input", f]
        drivers.run_tool(cmd, a.timeout, env=drivers.thread_env(1))
        result["commands"]["profile"] = cmd
        opt = os.path.join(d, "optimized.onnx")
        drivers.run_tool([a.dfgpar, "analyze", case.path, "--workers", str(P), "--save-optimized", opt] +
                         shape_args(case.shapes), a.timeout)
        result["bound"] = lower_bound(case.path, opt, prof, P)
    except drivers.child_error as e:
        if e.refused:
            status["dfgpar 1x1"] = status["dfgpar auto"] = "refused"
        else:
            status["dfgpar 1x1"] = status["dfgpar auto"] = "failed"
        result["notes"].append("dfgpar run: %s" % e)
        prof = None
    except (ValueError, KeyError, OSError) as e:
        result["notes"].append("bound: %s" % e)
    emit_dir = os.path.join(d, "emit")
    try:
        cmd = [a.dfgpar, "emit", case.path, "-o", emit_dir, "--workers", str(P)] + shape_args(case.shapes)
        if prof and os.path.isfile(prof):
            cmd += ["--profile", prof]
        drivers.run_tool(cmd, a.timeout)
        result["commands"]["emit"] = cmd
    except drivers.child_error as e:
        status["emitted P"] = "refused" if e.refused else "failed"
        result["notes"].append("dfgpar emit: %s" % e)
    if not case.torchvision:
        status["torch 1"] = status["torch P"] = "-"
    kw = dict(iters=a.iters, warmup=a.warmup, timeout=a.timeout)
    makers = {
        "dfgpar 1x1": lambda: drivers.dfgpar_job(a.dfgpar, case.path, 1, 1, inputs=case.run_inputs,
                                                 input_shapes=case.shapes, cores=P, **kw),
        "dfgpar auto": lambda: drivers.dfgpar_job(a.dfgpar, case.path, "auto", None, inputs=case.run_inputs,
                                                  input_shapes=case.shapes, cores=P, **kw),
        "ORT 1": lambda: drivers.ort_job(case.path, case.pbs, 1, **kw),
        "ORT P": lambda: drivers.ort_job(case.path, case.pbs, P, **kw),
        "ORT par": lambda: drivers.ort_job(case.path, case.pbs, P, mode="parallel", inter_threads=P, **kw),
        "torch 1": lambda: drivers.torch_eager_job(case.torchvision, case.npys[0], 1, cores=P, **kw),
        "torch P": lambda: drivers.torch_eager_job(case.torchvision, case.npys[0], P, cores=P, **kw),
        "emitted P": lambda: drivers.emitted_job(os.path.join(emit_dir, "model.py"), case.npys, P, **kw),
    }
    return {c: makers[c] for c in CONFIGS if c not in status and c not in a.skip}, status


def measure_model(case, a, work):
    result = {"source": "torchvision" if case.torchvision else "corpus", "configs": {}, "bound": None, "notes": [],
              "commands": {}}
    makers, status = prepare_model(case, a, work, result)
    samples = {c: [] for c in makers}
    infos = {c: [] for c in makers}
    for _ in range(a.rounds):
        for c in list(makers):
            j = makers[c]()
            result["commands"].setdefault(c, j.cmd if not j.cmd[0].endswith("python3") else j.cmd[:1] + ["-c", "..."]
                                          + j.cmd[3:])
            try:
                r = j.run()
            except drivers.child_error as e:
                status[c] = "refused" if e.refused else "failed"
                result["notes"].append("%s: %s" % (c, e))
                del makers[c]
                continue
            samples[c].append(r.times_ms)
            infos[c].append(r.info)
    for c in CONFIGS:
        if c in status or c in a.skip:
            result["configs"][c] = {"status": status.get(c, "skipped")}
            continue
        runs = [t for proc in samples[c] for t in proc]
        result["configs"][c] = {"status": "ok", "median_ms": statistics.median(runs), "runs": len(runs),
                                "process_medians_ms": [statistics.median(p) for p in samples[c]],
                                "info": infos[c]}
    result["ratios"] = ratios(result)
    return result


def ok_ms(result, c):
    r = result["configs"].get(c, {})
    return r.get("median_ms") if r.get("status") == "ok" else None


def ratios(result):
    auto, one = ok_ms(result, "dfgpar auto"), ok_ms(result, "dfgpar 1x1")
    orts = [x for x in (ok_ms(result, c) for c in ("ORT 1", "ORT P", "ORT par")) if x]
    bound = result["bound"]["bound_ms"] if result.get("bound") else None
    return {"best_ort_over_auto": min(orts) / auto if orts and auto else None,
            "auto_over_1x1": auto / one if auto and one else None,
            "auto_over_bound": auto / bound if auto and bound else None}


# ------------------------------------------------------------------ output

def cell(result, c):
    r = result["configs"][c]
    if r["status"] != "ok":
        return r["status"]
    return "%.2f" % r["median_ms"]


def auto_choice(result):
    r = result["configs"].get("dfgpar auto", {})
    if r.get("status") != "ok":
        return ""
    seen = []
    for info in r["info"]:
        w, t = info.get("workers"), info.get("threads")
        s = ("%sx%s" % (w, t) if w is not None else "?") + (" moldable" if info.get("moldable") else "")
        if s not in seen:
            seen.append(s)
    return "/".join(seen)


def fmt_ratio(x):
    return "%.2f" % x if x else "-"


def table(results, P, markdown=False):
    """The heading and one row per model: medians (ms), the bound and the ratios."""
    heads = ["model", "bound", "dfgpar 1x1", "dfgpar auto", "chose", "ORT 1", "ORT %d" % P, "ORT par", "torch 1",
             "torch %d" % P, "emitted %d" % P, "best ORT / auto", "auto / 1x1", "auto / bound"]
    rows = []
    for name, r in results.items():
        b = r.get("bound")
        t1 = (" (t1)" if markdown else " t1") if b and b["kind"] == "t1" else ""
        q = r["ratios"]
        rows.append([name, "%.2f%s" % (b["bound_ms"], t1) if b else "-", cell(r, "dfgpar 1x1"),
                     cell(r, "dfgpar auto"), auto_choice(r)] + [cell(r, c) for c in CONFIGS[2:]] +
                    [fmt_ratio(q[k]) for k in ("best_ort_over_auto", "auto_over_1x1", "auto_over_bound")])
    return heads, rows


def print_table(results, P, out=sys.stdout):
    heads, rows = table(results, P)
    widths = [max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(heads)]

    def line(cells):
        return "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    print(line(heads), file=out)
    for row in rows:
        print(line(row), file=out)
    out.flush()


def markdown_table(results, P):
    """The table as README markdown (models as rows)."""
    heads, rows = table(results, P, markdown=True)
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def chart(results, P, path):
    """Grouped bars: each configuration's speed-up over ONNX Runtime at 1
    thread (log scale), one group per model; a black tick marks the bound."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = [n for n, r in results.items() if ok_ms(r, "ORT 1")]
    labels = {"dfgpar 1x1": "dfgpar 1x1", "dfgpar auto": "dfgpar auto (%d cores)" % P, "ORT 1": "ONNX Runtime 1 thr",
              "ORT P": "ONNX Runtime %d thr" % P, "ORT par": "ONNX Runtime parallel mode", "torch 1": "PyTorch 1 thr",
              "torch P": "PyTorch %d thr" % P, "emitted P": "emitted PyTorch (%d)" % P}
    colors = {"dfgpar 1x1": "#9ecae1", "dfgpar auto": "#08519c", "ORT 1": "#fdd0a2", "ORT P": "#f16913",
              "ORT par": "#a63603", "torch 1": "#c7e9c0", "torch P": "#41ab5d", "emitted P": "#756bb1"}
    configs = [c for c in CONFIGS if any(ok_ms(results[n], c) for n in names)]
    width = 0.8 / max(len(configs), 1)
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(names) + 1) + 3.5, 5.5))
    for k, c in enumerate(configs):
        xs, ys = [], []
        for i, n in enumerate(names):
            ms = ok_ms(results[n], c)
            if ms:
                xs.append(i - 0.4 + (k + 0.5) * width)
                ys.append(ok_ms(results[n], "ORT 1") / ms)
        ax.bar(xs, ys, width, label=labels[c], color=colors[c])
    bound_labels = {}
    for i, n in enumerate(names):
        b = results[n].get("bound")
        if b:
            ax.plot([i - 0.42, i + 0.42], [ok_ms(results[n], "ORT 1") / b["bound_ms"]] * 2, color="black", lw=1.5,
                    ls="-" if b["kind"] != "t1" else "--",
                    label=None if bound_labels.get(b["kind"]) else
                    "bound max(CP, area/P)" + (" from t(v,1) only" if b["kind"] == "t1" else ""))
            bound_labels[b["kind"]] = True
    ax.set_yscale("log")
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=30, ha="right")
    ax.set_ylabel("speed-up over ONNX Runtime, 1 thread (log)")
    from matplotlib.ticker import FuncFormatter
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: "%gx" % y))
    ax.set_title("batch 1, %d cores (%s): speed-up of the median latency" % (P, cpu_name()))
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# ------------------------------------------------------------------ main

def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def write_json(path, meta, results):
    with open(path + ".tmp", "w") as f:
        json.dump({"meta": meta, "models": results}, f, indent=1)
    os.replace(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dfgpar", help="the dfgpar program (build/dfgpar); `--self-test` alone checks the bound")
    ap.add_argument("--models-dir", default=os.path.join(ROOT, "build", "models"),
                    help="the torchvision models of scripts/export_models.py (default build/models)")
    ap.add_argument("--cache", default=os.environ.get("DFGPAR_CACHE", os.path.expanduser("~/.cache/dfgpar")),
                    help="the corpus cache (CACHE/corpus/NAME.onnx)")
    ap.add_argument("--models", default="all",
                    help="all, torchvision, corpus, or a comma-separated list of names (default all)")
    ap.add_argument("--iters", type=int, default=30, help="timed runs per process (default 30)")
    ap.add_argument("--rounds", type=int, default=3, help="processes per configuration, round-robin (default 3)")
    ap.add_argument("--warmup", type=int, default=10, help="untimed runs first in each process (default 10)")
    ap.add_argument("--cores", type=int, default=os.cpu_count() or 1, help="P, the cores to use (default: all here)")
    ap.add_argument("--skip", default="", help="comma-separated configurations to leave out, e.g. 'torch 1,torch P'")
    ap.add_argument("--timeout", type=float, default=600, help="seconds per child process (default 600)")
    ap.add_argument("--json", default="", help="write every result (runs, choices, bound, commands) here")
    ap.add_argument("--chart", default="", help="write a PNG chart (grouped bars, speed-up over ORT 1 thread)")
    ap.add_argument("--markdown", action="store_true", help="also print the table as README markdown")
    ap.add_argument("--work", default="", help="keep profiles, emitted modules and inputs here (default: a temp dir)")
    if "--self-test" in sys.argv[1:]:
        self_test()
        return 0
    a = ap.parse_args()
    a.skip = {s.strip() for s in a.skip.split(",") if s.strip()}
    unknown = a.skip - set(CONFIGS)
    if unknown:
        ap.error("--skip: unknown configuration %s (known: %s)" % (sorted(unknown)[0], ", ".join(CONFIGS)))
    if a.iters < 1 or a.rounds < 1 or a.warmup < 0 or a.cores < 1:
        ap.error("--iters, --rounds and --cores must be at least 1, --warmup at least 0")
    a.dfgpar = os.path.abspath(a.dfgpar)
    if not os.access(a.dfgpar, os.X_OK):
        ap.error("%s is not an executable dfgpar program" % a.dfgpar)
    if a.chart and not a.chart.endswith(".png"):
        ap.error("--chart writes a PNG: give a name ending in .png")
    if drivers.ort_binding() == "python":
        import subprocess
        if subprocess.run([drivers.ort_python(), "-c", "import onnxruntime"], capture_output=True).returncode != 0:
            ap.error("needs node and node_modules/onnxruntime-node in the repository root (npm install "
                     "--ignore-scripts), or a Python with onnxruntime (DFGPAR_ORT_PY)")

    rc, fetch_corpus = load_corpus_helpers()
    corpus_rows = {row["name"]: row for row in fetch_corpus.read_list()}
    try:
        names = model_names(a.models, corpus_rows)
    except ValueError as e:
        ap.error(str(e))

    work = a.work or tempfile.mkdtemp(prefix="dfgpar_headline_")
    os.makedirs(work, exist_ok=True)
    load_before = os.getloadavg()
    meta = {"date": datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC"), "cpu": cpu_name(),
            "cores_here": os.cpu_count(), "P": a.cores, "iters": a.iters, "rounds": a.rounds, "warmup": a.warmup,
            "load_before": load_before[0], "ort_binding": drivers.ort_binding()}
    quiet = "" if load_before[0] < 0.5 else " (NOT quiet)"
    print("headline: batch 1, P = %d cores (%s); medians of %d x %d runs per configuration, each process after %d "
          "warm-up; load average %.2f%s" % (a.cores, meta["cpu"], a.rounds, a.iters, a.warmup, load_before[0], quiet),
          flush=True)
    results = {}
    for name in names:
        try:
            case = torchvision_case(name, a.models_dir) if name in TORCHVISION else \
                corpus_case(corpus_rows[name], a.cache, work, rc)
        except (FileNotFoundError, ValueError) as e:
            print("%s: skipped: %s" % (name, e), flush=True)
            continue
        results[name] = measure_model(case, a, work)
        r = results[name]
        print("%-20s %s" % (name, "  ".join("%s %s" % (c, cell(r, c)) for c in CONFIGS)), flush=True)
        for note in r["notes"]:
            print("    note: %s" % note, flush=True)
        if a.json:  # after every model, so a run cut short keeps what it measured
            write_json(a.json, meta, results)
    meta["load_after"] = os.getloadavg()[0]
    print("\nms (median); bound = max(CP, area/P) from the measured profile (t1: from 1-thread times only); "
          "ratios: best ORT / dfgpar auto (> 1: dfgpar faster), dfgpar auto / 1x1, dfgpar auto / bound")
    print_table(results, a.cores)
    if a.markdown:
        print()
        print(markdown_table(results, a.cores))
    if a.json:
        write_json(a.json, meta, results)
    if a.chart and results:
        chart(results, a.cores, a.chart)
        print("chart: %s" % a.chart)
    if not a.work:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
