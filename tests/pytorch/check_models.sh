#!/bin/bash
# Emits every exported torchvision model with dfgpar (serial: --workers 1,
# parallel: --workers 2), runs the generated model.py under Debian's torch
# and compares both forwards with the reference output of
# scripts/export_models.py (abs 1e-4 / rel 1e-3; see compare.py --exact for
# models whose own fp32 rounding is larger than that).
#
#   tests/pytorch/check_models.sh BUILD_DIR MODELS_DIR [NAME...]
#
# BUILD_DIR holds the dfgpar program (BUILD_DIR/dfgpar); MODELS_DIR holds
# NAME.onnx, NAME.input.pb, NAME.output.pb. Default names: the six models.
# Exit status: 0 all match, 1 a mismatch or failure, 2 usage. Models that are
# missing are skipped with a message. Runs at nice 19, one model at a time.
set -u
if [ $# -lt 2 ]; then
  echo "usage: $0 BUILD_DIR MODELS_DIR [NAME...]" >&2
  exit 2
fi
build=$1
models=$2
shift 2
names=("$@")
[ ${#names[@]} -eq 0 ] && names=(squeezenet1_1 googlenet inception_v3 resnet50 densenet121 mobilenet_v2)
dfgpar=$build/dfgpar
[ -x "$dfgpar" ] || { echo "$0: no dfgpar program in $build" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
for name in "${names[@]}"; do
  if [ ! -f "$models/$name.onnx" ] || [ ! -f "$models/$name.output.pb" ]; then
    echo "SKIP $name (not in $models; run scripts/export_models.py)"
    continue
  fi
  for p in 1 2; do
    out=$work/$name.p$p
    start=$(date +%s)
    fork=()
    [ $p -gt 1 ] && fork=(--fork always)  # run the forked code paths
    if ! nice -n 19 "$dfgpar" emit "$models/$name.onnx" -o "$out" --workers $p "${fork[@]}" > "$work/log" 2>&1; then
      echo "FAIL $name --workers $p: emit failed: $(tail -n 3 "$work/log")"
      fail=1
      continue
    fi
    if ! nice -n 19 "$py" -m py_compile "$out/model.py" 2> "$work/log"; then
      echo "FAIL $name --workers $p: model.py does not compile: $(tail -n 3 "$work/log")"
      fail=1
      continue
    fi
    exact=()
    [ -f "$models/$name.output64.pb" ] && exact=(--exact "$models/$name.output64.pb")
    if nice -n 19 "$py" "$here/compare.py" "$out" "$models/$name.input.pb" "$models/$name.output.pb" "${exact[@]}" > "$work/log" 2>&1; then
      echo "PASS $name --workers $p ($(( $(date +%s) - start )) s): $(tr '\n' ';' < "$work/log")"
    else
      echo "FAIL $name --workers $p: $(tail -n 5 "$work/log" | tr '\n' ';')"
      fail=1
    fi
  done
done
exit $fail
