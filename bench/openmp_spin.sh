#!/usr/bin/env bash
# The OpenMP spin against the load: `dfgpar run --workers 1 --threads 2` at
# several GOMP_SPINCOUNT values (and 1 x 1), quiet and beside a busy loop
# pinned to core 0, each a process of its own, round-robin over ROUNDS
# rounds. Prints one median latency per line; README "Threads" has the table.
#
#   bash bench/openmp_spin.sh build/dfgpar build/models/googlenet.onnx [ROUNDS] [ITERS]
#
# Run it on an otherwise idle 2-core machine.
set -euo pipefail
dfgpar=${1:?usage: openmp_spin.sh DFGPAR MODEL.onnx [ROUNDS] [ITERS]}
model=${2:?usage: openmp_spin.sh DFGPAR MODEL.onnx [ROUNDS] [ITERS]}
rounds=${3:-2}
iters=${4:-30}
latency() { "$@" --iters "$iters" --warmup 5 2>&1 | awk '/^latency/ {print $3}'; }
busy=
trap '[ -n "$busy" ] && kill "$busy" 2>/dev/null || true' EXIT
for r in $(seq "$rounds"); do
  for load in quiet busy; do
    if [ "$load" = busy ]; then
      taskset -c 0 sh -c 'while :; do :; done' &
      busy=$!
      sleep 0.5
    fi
    for spin in 300 3000 10000 30000; do
      echo "round $r $load GOMP_SPINCOUNT=$spin 1x2 $(GOMP_SPINCOUNT=$spin latency "$dfgpar" run "$model" --workers 1 --threads 2) ms"
    done
    echo "round $r $load 1x1 $(latency "$dfgpar" run "$model" --workers 1 --threads 1) ms"
    if [ "$load" = busy ]; then
      kill "$busy"
      wait "$busy" 2>/dev/null || true
      busy=
    fi
  done
done
