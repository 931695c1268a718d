#!/bin/sh
# Builds the seed corpora of the fuzz harnesses in DIR (default build/fuzz/seeds):
#   DIR/loader: every model of the ONNX test data (node, simple, pytorch-*),
#               the bad inputs of tests/onnx/bad/, and fuzz/regressions/loader/*
#   DIR/json:   small profiles in both formats and fuzz/regressions/json/*
# Usage: fuzz/make_corpus.sh [DIR]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$root/build/fuzz/seeds}
data=${ONNX_TESTDATA:-/usr/share/libonnx-testdata/data}
rm -rf "$dir/loader" "$dir/json"
mkdir -p "$dir/loader" "$dir/json"
n=0
for f in "$data"/node/*/model.onnx "$data"/simple/*/model.onnx "$data"/pytorch-converted/*/model.onnx \
         "$data"/pytorch-operator/*/model.onnx; do
  [ -f "$f" ] || continue
  t=$(basename "$(dirname "$f")")
  cp "$f" "$dir/loader/$t.onnx"
  n=$((n + 1))
done
if [ -x "$root/tests/onnx/bad/make_bad.py" ] && [ -x /usr/bin/python3 ]; then
  /usr/bin/python3 "$root/tests/onnx/bad/make_bad.py" "$dir/bad" >/dev/null 2>&1 && cp "$dir"/bad/*.onnx "$dir/loader/" 2>/dev/null || true
fi
for f in "$root"/fuzz/regressions/loader/*; do [ -f "$f" ] && cp "$f" "$dir/loader/"; done
printf '%s' '{"dfgpar_profile": 1, "nodes": [{"name": "a", "node": 0, "us": 1.5}, {"name": "b\u00e9", "us": 2e3}]}' > "$dir/json/dfgpar.json"
printf '%s' '[{"cat":"Session","name":"model_run","dur":100},{"cat":"Node","name":"Conv_0_kernel_time","dur":12,"args":{"op_name":"Conv"}}]' > "$dir/json/ort.json"
printf '%s' '{"traceEvents":[{"cat":"Node","name":"x_kernel_time","dur":1}], "a": [true, false, null, -0.5e-3, "\ud83d\ude00"]}' > "$dir/json/trace.json"
for f in "$root"/fuzz/regressions/json/*; do [ -f "$f" ] && cp "$f" "$dir/json/"; done
echo "make_corpus: $n models + $(ls "$dir/loader" | wc -l | tr -d ' ') loader seeds, $(ls "$dir/json" | wc -l | tr -d ' ') json seeds in $dir"
