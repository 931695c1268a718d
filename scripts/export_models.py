#!/usr/bin/python3
"""Export torchvision models to ONNX for dfgpar's tests and benchmarks.

    /usr/bin/python3 scripts/export_models.py OUTDIR [NAME...]

For each NAME (default: all of MODELS) this writes into OUTDIR
    NAME.onnx         the model, batch 1, opset 13, random weights (weights=None)
    NAME.input.pb     a fixed random input, as an ONNX TensorProto
    NAME.output.pb    torchvision's output for that input, as an ONNX TensorProto
    NAME.output64.pb  the same model run in float64 (model.double()): the
                      exact result that fp32 outputs are judged against when
                      the model's own fp32 rounding exceeds a tolerance
    NAME.input.npy / NAME.output.npy  the same tensors for numpy users
    NAME.stamp        torch/torchvision/onnx versions, seed and opset

Random weights leave activations badly scaled (inception_v3's logits reach
1e12, mobilenet_v2's 1e-9), which makes output comparisons meaningless. So
before export the BatchNorm running statistics are calibrated: a few forward
passes in training mode on random batches (cumulative average), then eval mode.
Outputs then have a spread of about 1 and abs/rel tolerances mean something.
Models whose files and stamp already exist with the same versions are skipped,
so running it again is cheap. Needs Debian's /usr/bin/python3 (python3-torch,
python3-torchvision, python3-onnx).
"""

import argparse
import copy
import json
import os
import sys
import time

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torchvision

OPSET = 13
SEED = 0

# name -> (constructor kwargs besides weights=None, input side)
MODELS = {
    "squeezenet1_1": ({}, 224),
    "googlenet": ({"aux_logits": False, "init_weights": True}, 224),
    "inception_v3": ({"aux_logits": False, "init_weights": True}, 299),
    "resnet50": ({}, 224),
    "densenet121": ({}, 224),
    "mobilenet_v2": ({}, 224),
}


CALIBRATION_BATCHES = 3
CALIBRATION_BATCH_SIZE = 4


def stamp_of(name):
    return {
        "calibration": [CALIBRATION_BATCHES, CALIBRATION_BATCH_SIZE],
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "onnx": onnx.__version__,
        "opset": OPSET,
        "seed": SEED,
        "kwargs": MODELS[name][0],
        "side": MODELS[name][1],
    }


def files_of(outdir, name):
    return [os.path.join(outdir, name + s) for s in (".onnx", ".input.pb", ".output.pb", ".output64.pb", ".stamp")]


def is_cached(outdir, name):
    paths = files_of(outdir, name)
    if not all(os.path.exists(p) for p in paths):
        return False
    try:
        with open(paths[-1]) as f:
            return json.load(f) == stamp_of(name)
    except (OSError, ValueError):
        return False


def save_tensor(path, array, tensor_name):
    t = onnx.numpy_helper.from_array(np.ascontiguousarray(array), tensor_name)
    with open(path + ".tmp", "wb") as f:
        f.write(t.SerializeToString())
    os.replace(path + ".tmp", path)


def calibrate_batchnorm(model, side):
    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative moving average over the calibration batches
    model.train()
    with torch.no_grad():
        for _ in range(CALIBRATION_BATCHES):
            model(torch.randn(CALIBRATION_BATCH_SIZE, 3, side, side))


def export(outdir, name):
    kwargs, side = MODELS[name]
    torch.manual_seed(SEED)
    model = getattr(torchvision.models, name)(weights=None, **kwargs)
    calibrate_batchnorm(model, side)
    model.eval()
    torch.manual_seed(SEED + 1)
    x = torch.randn(1, 3, side, side, dtype=torch.float32)
    with torch.no_grad():
        y = model(x)
    if isinstance(y, tuple):  # some models return (logits, aux) even in eval mode
        y = y[0]
    with torch.no_grad():
        y64 = copy.deepcopy(model).double()(x.double())
    if isinstance(y64, tuple):
        y64 = y64[0]

    onnx_path = os.path.join(outdir, name + ".onnx")
    tmp = onnx_path + ".tmp"
    with torch.no_grad():
        torch.onnx.export(model, (x,), tmp, opset_version=OPSET, input_names=["input"],
                          output_names=["output"], do_constant_folding=False)
    onnx.checker.check_model(onnx.load(tmp))
    os.replace(tmp, onnx_path)

    stem = os.path.join(outdir, name)
    save_tensor(stem + ".input.pb", x.numpy(), "input")
    save_tensor(stem + ".output.pb", y.numpy(), "output")
    save_tensor(stem + ".output64.pb", y64.numpy(), "output")
    np.save(stem + ".input.npy", x.numpy())
    np.save(stem + ".output.npy", y.numpy())
    with open(stem + ".stamp", "w") as f:
        json.dump(stamp_of(name), f)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir")
    ap.add_argument("names", nargs="*", help="models to export (default: %s)" % " ".join(MODELS))
    ap.add_argument("--threads", type=int, default=int(os.environ.get("DFGPAR_EXPORT_THREADS", "1")),
                    help="torch intra-op threads (default 1: the machine is shared)")
    ap.add_argument("--force", action="store_true", help="export even when cached")
    args = ap.parse_args()

    names = args.names or list(MODELS)
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        ap.error("unknown model(s): %s; known: %s" % (" ".join(unknown), " ".join(MODELS)))
    torch.set_num_threads(args.threads)
    os.makedirs(args.outdir, exist_ok=True)

    for name in names:
        if not args.force and is_cached(args.outdir, name):
            print("%-14s cached" % name)
            continue
        t0 = time.perf_counter()
        export(args.outdir, name)
        print("%-14s exported in %.1f s" % (name, time.perf_counter() - t0), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
