#!/usr/bin/python3
"""Writes the bad-input models of the ONNX adapter into DIR (default: ./bad-onnx)
with a manifest `expected.txt` (file<TAB>text the one-line error must contain).
The same cases are built in C++ by tests/onnx/test_onnx_load.cpp; these files
seed the fuzzer (fuzz/make_corpus.sh) and let a command-line tool be checked:
    for f in DIR/*.onnx; do <tool> "$f"; done   # each: one line on stderr, exit != 0

Usage: /usr/bin/python3 tests/onnx/bad/make_bad.py [DIR]
"""
import os
import sys

import onnx
from onnx import TensorProto, helper

out = sys.argv[1] if len(sys.argv) > 1 else "bad-onnx"
os.makedirs(out, exist_ok=True)
cases = []


def model(nodes, inputs, outputs, inits=(), opset=13):
    g = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="dfgpar-bad")
    m.ir_version = 8
    return m.SerializeToString()


def vi(name, dims, t=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, t, dims)


def add(name, data, expect):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
    cases.append((name, expect))


good = model([helper.make_node("Relu", ["x"], ["y"], name="r")], [vi("x", [2, 3])], [vi("y", [2, 3])],
             [helper.make_tensor("w", TensorProto.FLOAT, [2, 3], [0.5] * 6)])
add("empty.onnx", b"", "empty file")
add("text.onnx", b"this is not an ONNX model\n", "not an ONNX model")
add("truncated.onnx", good[: len(good) // 2], "not an ONNX model")
add("cycle.onnx", model([helper.make_node("Add", ["x", "a"], ["b"], name="A"), helper.make_node("Relu", ["b"], ["a"], name="B")],
                        [vi("x", [2])], [vi("b", [2])]), "cycle")
add("missing_producer.onnx", model([helper.make_node("Add", ["x", "ghost"], ["y"], name="reader")], [vi("x", [2])], [vi("y", [2])]),
    "that no node")
add("duplicate_output.onnx", model([helper.make_node("Relu", ["x"], ["y"], name="a"), helper.make_node("Neg", ["x"], ["y"], name="b")],
                                   [vi("x", [2])], [vi("y", [2])]), "duplicate output name")
add("negative_dim.onnx", model([helper.make_node("Relu", ["x"], ["y"])], [vi("x", [2, -3])], [vi("y", [2, 3])]), "negative dimension")
add("overflow_dim.onnx", model([helper.make_node("Relu", ["x"], ["y"])], [vi("x", [1 << 40, 1 << 40])], [vi("y", [1 << 40, 1 << 40])]), "overflow")
add("unknown_op.onnx", model([helper.make_node("FancyRelu", ["x"], ["y"])], [vi("x", [2])], [vi("y", [2])]), "")  # loads, warns


def external(location, offset=None, length=None):
    t = helper.make_tensor("w", TensorProto.FLOAT, [4], [0.0] * 4)
    t.ClearField("float_data")
    t.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", offset), ("length", length)):
        if v is not None:
            e = t.external_data.add()
            e.key, e.value = k, str(v)
    return model([helper.make_node("Add", ["x", "w"], ["y"])], [vi("x", [4])], [vi("y", [4])], [t])


with open(os.path.join(out, "weights.bin"), "wb") as f:
    f.write(bytes(16))
add("ext_missing.onnx", external("nothere.bin"), "is missing")
add("ext_absolute.onnx", external("/etc/passwd"), "absolute path")
add("ext_escape.onnx", external("../weights.bin"), "outside the model's folder")
add("ext_past_end.onnx", external("weights.bin", 8, 16), "past the end of the file")
with open(os.path.join(out, "expected.txt"), "w") as f:
    for name, expect in cases:
        f.write(f"{name}\t{expect}\n")
print(f"make_bad: {len(cases)} files in {out}")
