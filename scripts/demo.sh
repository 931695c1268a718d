#!/usr/bin/env bash
# The main job on the built-in default model: installs what is missing,
# builds the dfgpar CLI, exports GoogLeNet from torchvision (once, cached in
# build/models), analyses it for 2 workers, emits it as a parallel PyTorch
# module and runs that against its serial forward (max difference and both
# latencies), and ends by running the model on dfgpar's native runtime
# (`dfgpar run`, oneDNN kernels; built when libdnnl-dev is there) serial
# (1 worker x 1 thread) and parallel (WORKERS workers x 1 thread) next to
# ONNX Runtime at 1 and WORKERS threads (npm onnxruntime-node, when node and
# node_modules/ are there), and prints the latencies.
#
#   bash scripts/demo.sh [MODEL] [WORKERS]     # MODEL: googlenet (default), inception_v3,
#                                              # squeezenet1_1, resnet50, densenet121, mobilenet_v2
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
model=${1:-googlenet}
workers=${2:-2}
build=${BUILD_DIR:-build}

bash scripts/setup.sh
[ -f "$build/build.ninja" ] || cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target dfgpar_cli -j 2
/usr/bin/python3 scripts/export_models.py "$build/models" "$model"

out="$build/demo"
mkdir -p "$out"
"$build/dfgpar" analyze "$build/models/$model.onnx" --workers "$workers" \
  --json "$out/$model.json" --dot "$out/$model.dot" --svg "$out/$model.svg"
dot -Tsvg "$out/$model.dot" -o "$out/$model.clusters.svg"
echo
echo "wrote $out/$model.svg (Gantt chart), $out/$model.clusters.svg (clustered graph), $out/$model.json (report)"
echo
"$build/dfgpar" emit "$build/models/$model.onnx" -o "$out/${model}_py" --workers "$workers"
/usr/bin/python3 "$out/${model}_py/model.py" --threads "$workers" --tune

# ------------------------------------------------------------------ the native runtime
echo
if ! "$build/dfgpar" run --help >/dev/null 2>&1; then
  echo "dfgpar run: not built (needs libdnnl-dev); skipping the native runtime"
  exit 0
fi
# the median latency (ms) of one configuration: "dfgpar W T" or "ort T"
latency() {
  if [ "$1" = dfgpar ]; then
    local threads=(--threads "$3")
    [ "$2" = auto ] && threads=()  # auto chooses the threads too
    "$build/dfgpar" run "$build/models/$model.onnx" --workers "$2" "${threads[@]}" --iters 30 --warmup 5 \
      --input "$build/models/$model.input.npy" --json "$out/run.json" >/dev/null
    /usr/bin/python3 -c 'import json, sys; print("%.2f" % json.load(open(sys.argv[1]))["median_ms"])' "$out/run.json"
  else
    node scripts/ort_run.js "$build/models/$model.onnx" "$build/models/$model.input.pb" --threads "$2" \
      --runs 30 --warmup 5 --json |
      /usr/bin/python3 -c 'import json, sys; print("%.2f" % json.load(sys.stdin)["medianMs"])'
  fi
}
# --check: the parallel result equals the serial one and the reference outputs
"$build/dfgpar" run "$build/models/$model.onnx" --workers "$workers" --threads 1 --iters 5 --check \
  --input "$build/models/$model.input.npy" --reference "$build/models/$model.output.npy" | grep '^check'
serial=$(latency dfgpar 1 1)
parallel=$(latency dfgpar "$workers" 1)
auto=$(latency dfgpar auto 0)
auto_chose=$(/usr/bin/python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); print("%dx%d%s" % (r["workers"], r["threads"], " moldable" if r.get("moldable") else ""))' "$out/run.json")
have_ort=0
if command -v node >/dev/null && [ -d node_modules/onnxruntime-node ]; then
  have_ort=1
  ort1=$(latency ort 1)
  ortp=$(latency ort "$workers")
fi
echo
echo "$model, batch 1, median of 30 runs (one configuration at a time):"
printf '  %-44s %9s ms\n' "dfgpar run, serial (1 worker x 1 thread)" "$serial"
printf '  %-44s %9s ms\n' "dfgpar run, parallel ($workers workers x 1 thread)" "$parallel"
printf '  %-44s %9s ms\n' "dfgpar run --workers auto (chose $auto_chose)" "$auto"
if [ "$have_ort" = 1 ]; then
  printf '  %-44s %9s ms\n' "ONNX Runtime, 1 thread" "$ort1"
  printf '  %-44s %9s ms\n' "ONNX Runtime, $workers threads" "$ortp"
else
  echo "  ONNX Runtime: not measured (needs node and node_modules/onnxruntime-node: npm install --ignore-scripts)"
fi
