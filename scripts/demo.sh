#!/usr/bin/env bash
# The main job on the built-in default model: installs what is missing,
# builds the dfgpar CLI, exports GoogLeNet from torchvision (once, cached in
# build/models), analyses it for 2 workers, emits it as a parallel PyTorch
# module and runs that against its serial forward (max difference and both
# latencies).
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
