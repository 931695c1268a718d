#!/usr/bin/env bash
# Checks optimised ONNX models against the originals in ONNX Runtime.
#
#   tests/onnx/compare_ort.sh MODELS_DIR [OPTIMIZED_DIR] [--test-exe PATH] [--runs K] [--threads N]
#
# MODELS_DIR holds NAME.onnx, NAME.input.pb, NAME.output.pb from
# scripts/export_models.py (torchvision's output for the input). OPTIMIZED_DIR
# (default MODELS_DIR/optimized) holds NAME.opt.onnx; with --test-exe they are
# (re)made first by running the ONNX test executable with DFGPAR_MODELS_DIR and
# DFGPAR_OPTIMIZED_DIR set. For each model, the original and the optimised one
# run in ONNX Runtime (scripts/ort_run.js) and their outputs are compared with
# torchvision's (abs 1e-4 + rel 1e-3 per element, as numpy.allclose), and
# with each other. Exit status 1 if the optimised model's outputs differ from
# the original's, or match torchvision worse than the original's do; 77
# (skipped) if there is nothing to compare.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
models=""; optimized=""; exe=""; runs=5; threads=1
while (($#)); do
  case "$1" in
    --test-exe) exe=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) if [[ -z $models ]]; then models=$1; elif [[ -z $optimized ]]; then optimized=$1; else echo "unexpected $1" >&2; exit 2; fi; shift ;;
  esac
done
[[ -n $models ]] || { echo "usage: $0 MODELS_DIR [OPTIMIZED_DIR] [--test-exe PATH]" >&2; exit 2; }
optimized=${optimized:-$models/optimized}
if [[ ! -d $root/node_modules/onnxruntime-node ]]; then
  echo "compare_ort: onnxruntime-node missing; run 'npm install --ignore-scripts' in $root" >&2; exit 77
fi
if [[ -n $exe ]]; then
  DFGPAR_MODELS_DIR=$models DFGPAR_OPTIMIZED_DIR=$optimized "$exe" --test-case='*torchvision*' >/dev/null
fi

status=0; compared=0
ort() { node "$root/scripts/ort_run.js" "$@" --json --runs "$runs" --threads "$threads"; }
field() { node -e 'const r=JSON.parse(require("fs").readFileSync(0,"utf8")); const o=r.outputs[0]; const c=o.compare||{};
  console.log(process.argv[1]==="t" ? r.medianMs.toFixed(2) : `${c.ok?"ok":"FAIL"} ${(c.maxAbs??NaN).toExponential(1)}`)' "$1"; }
printf '%-14s %22s %22s %22s %9s %9s\n' model "orig vs torch" "opt vs torch" "opt vs orig" "orig ms" "opt ms"
for onnx in "$models"/*.onnx; do
  name=$(basename "$onnx" .onnx)
  opt=$optimized/$name.opt.onnx
  [[ -f $models/$name.input.pb && -f $models/$name.output.pb && -f $opt ]] || continue
  tmp=$(mktemp -d)
  a=$(ort "$onnx" "$models/$name.input.pb" --compare "$models/$name.output.pb" --out "$tmp/orig" || true)
  b=$(ort "$opt" "$models/$name.input.pb" --compare "$models/$name.output.pb" || true)
  c=$(ort "$opt" "$models/$name.input.pb" --compare "$tmp/orig0.pb" --runs 1 || true)
  rm -rf "$tmp"
  if [[ -z $a || -z $b || -z $c ]]; then echo "$name: ONNX Runtime failed" >&2; status=1; continue; fi
  ra=$(field c <<<"$a"); rb=$(field c <<<"$b"); rc=$(field c <<<"$c")
  printf '%-14s %22s %22s %22s %9s %9s\n' "$name" "$ra" "$rb" "$rc" "$(field t <<<"$a")" "$(field t <<<"$b")"
  # the optimisation must not change ONNX Runtime's result; where ORT itself
  # differs from torchvision beyond the tolerance (float summation order over
  # a deep network), the optimised model must not be worse than the original
  if [[ $rc != ok* ]] || { [[ $rb != ok* ]] && [[ $ra == ok* ]]; }; then status=1; fi
  [[ $ra == ok* ]] || echo "  note: $name: ONNX Runtime differs from torchvision already on the original model" >&2
  compared=$((compared + 1))
done
if ((compared == 0)); then echo "compare_ort: no exported + optimised models found in $models / $optimized" >&2; exit 77; fi
exit $status
