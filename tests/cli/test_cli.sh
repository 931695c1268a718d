#!/usr/bin/env bash
# Checks the dfgpar command-line tool: help texts, usage errors (exit 2), bad
# input (exit 1, one line on stderr, no output file), successful analyses and
# their output files.
#
# Usage: tests/cli/test_cli.sh DFGPAR_BINARY MODELS_DIR
#   MODELS_DIR holds googlenet.onnx / inception_v3.onnx from
#   scripts/export_models.py; cases needing a missing model are skipped.
#   The bad-input models come from tests/onnx/bad/make_bad.py (needs the
#   Python onnx package; skipped without it).
set -u

if [ $# -ne 2 ]; then
  echo "usage: $0 DFGPAR_BINARY MODELS_DIR" >&2
  exit 2
fi
BIN=$(realpath "$1")
MODELS=$(realpath "$2")
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PY=${PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=python3
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dfgpar_cli.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
LIMIT=${DFGPAR_CLI_TIMEOUT:-300}

passed=0
failed=0
skipped=0
pass() { passed=$((passed + 1)); echo "PASS $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1: $2"; }
skip() { skipped=$((skipped + 1)); echo "SKIP $1: $2"; }

# run ARGS...: runs the binary with a time limit; sets rc, out, err
run() {
  timeout "$LIMIT" "$BIN" "$@" >"$TMP/out" 2>"$TMP/err"
  rc=$?
  out=$(cat "$TMP/out")
  err=$(cat "$TMP/err")
}

# expect_rc NAME WANT: checks the exit status (and that it is neither a
# signal nor a timeout)
expect_rc() {
  if [ "$rc" -eq 124 ]; then fail "$1" "timed out (hang?)"; return 1; fi
  if [ "$rc" -gt 128 ]; then fail "$1" "killed by signal $((rc - 128)) (crash): $err"; return 1; fi
  if [ "$rc" -ne "$2" ]; then fail "$1" "exit $rc, want $2; stderr: $err"; return 1; fi
  return 0
}

# expect_error NAME RC TEXT ARGS...: fails with RC, one stderr line holding TEXT, nothing on stdout
expect_error() {
  local name=$1 want=$2 text=$3
  shift 3
  run "$@"
  expect_rc "$name" "$want" || return
  local lines
  lines=$(printf '%s' "$err" | grep -c '')
  if [ "$lines" -ne 1 ]; then fail "$name" "want one line on stderr, got $lines: $err"; return; fi
  if [[ "$err" != *"$text"* ]]; then fail "$name" "stderr lacks '$text': $err"; return; fi
  if [ -n "$out" ]; then fail "$name" "printed on stdout: $out"; return; fi
  pass "$name"
}

# contains NAME HAYSTACK NEEDLE...
contains() {
  local name=$1 hay=$2
  shift 2
  for needle in "$@"; do
    if [[ "$hay" != *"$needle"* ]]; then fail "$name" "output lacks '$needle'"; return 1; fi
  done
  return 0
}

# no_leftovers NAME DIR: no temporary output files left in DIR
no_leftovers() {
  if compgen -G "$2/.*dfgpar-tmp*" >/dev/null || compgen -G "$2/*.tmp" >/dev/null; then
    fail "$1" "temporary files left in $2: $(ls -A "$2")"
    return 1
  fi
  return 0
}

xml_ok() {
  if command -v xmllint >/dev/null; then xmllint --noout "$1" 2>/dev/null
  else "$PY" -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$1" 2>/dev/null; fi
}
json_ok() { "$PY" -c 'import json, sys; json.load(open(sys.argv[1]))' "$1" 2>/dev/null; }

# ------------------------------------------------------------------ help
run --help
expect_rc "dfgpar --help" 0 && contains "dfgpar --help" "$out" "analyze" "Exit status" && pass "dfgpar --help"
run help
expect_rc "dfgpar help" 0 && contains "dfgpar help" "$out" "analyze" && pass "dfgpar help"
run --version
expect_rc "dfgpar --version" 0 && contains "dfgpar --version" "$out" "dfgpar " && pass "dfgpar --version"
for form in "analyze --help" "analyze -h" "help analyze" "analyze x.onnx --help"; do
  # shellcheck disable=SC2086
  run $form
  expect_rc "dfgpar $form" 0 &&
    contains "dfgpar $form" "$out" --workers --profile --cost-model --effort --clone --json --dot --svg \
      --save-optimized --time-limit --seed --no-optimize "Unknown operators" &&
    pass "dfgpar $form"
done

# ------------------------------------------------------------------ usage errors (exit 2)
run
expect_rc "no arguments" 2 && contains "no arguments" "$err" "Usage" && pass "no arguments"
expect_error "unknown command" 2 "unknown command 'frobnicate'" frobnicate
expect_error "help on unknown command" 2 "no help on" help frobnicate
expect_error "analyze without model" 2 "needs a model file" analyze --workers 2
expect_error "two models" 2 "one model file" analyze a.onnx b.onnx
expect_error "unknown option" 2 "unknown option '--frobnicate'" analyze a.onnx --frobnicate
expect_error "missing value" 2 "--workers needs a value" analyze a.onnx --workers
for bad in 0 -1 abc 2x 1025 ""; do
  expect_error "--workers '$bad'" 2 "--workers must be an integer" analyze a.onnx --workers "$bad"
done
expect_error "--workers=abc" 2 "--workers must be an integer" analyze a.onnx --workers=abc
expect_error "--effort nan" 2 "--effort must be a number" analyze a.onnx --effort nan
expect_error "--effort -1" 2 "--effort must be a number" analyze a.onnx --effort -1
expect_error "--time-limit 0" 2 "--time-limit must be" analyze a.onnx --time-limit 0
expect_error "--seed x" 2 "--seed must be" analyze a.onnx --seed x
expect_error "--clone=yes" 2 "--clone takes no value" analyze a.onnx --clone=yes
expect_error "--cost-model bogus" 2 "--cost-model must be" analyze a.onnx --cost-model bogus
expect_error "--cost-model profile alone" 2 "needs --profile" analyze a.onnx --cost-model profile
expect_error "--profile vs analytic" 2 "contradicts" analyze a.onnx --cost-model analytic --profile p.json
expect_error "output overwrites model" 2 "would overwrite the model" analyze "$TMP/a.onnx" --json "$TMP/a.onnx"
expect_error "two outputs, one file" 2 "would overwrite --json" analyze a.onnx --json "$TMP/r" --svg "$TMP/r"

expect_error "empty file name" 2 "--json needs a file name" analyze a.onnx --json ""

# ------------------------------------------------------------------ bad input (exit 1)
expect_error "missing model" 1 "no such file" analyze "$TMP/nothere.onnx" -p 2
expect_error "model is a folder" 1 "is a directory" analyze "$TMP" -p 2
printf 'not a model' >"$TMP/text.onnx"
expect_error "output folder missing" 1 "does not exist" analyze "$TMP/text.onnx" --json "$TMP/no/such/dir/r.json"
expect_error "output is a folder" 1 "it is a folder" analyze "$TMP/text.onnx" --svg "$TMP"

BAD="$TMP/bad"
if "$PY" "$ROOT/tests/onnx/bad/make_bad.py" "$BAD" >/dev/null 2>&1; then
  mkdir -p "$TMP/outs"
  while IFS=$'\t' read -r file text; do
    [ -n "$file" ] || continue
    if [ "$file" = unknown_op.onnx ]; then continue; fi
    expect_error "bad model $file" 1 "$text" analyze "$BAD/$file" -p 2 \
      --json "$TMP/outs/r.json" --svg "$TMP/outs/g.svg" --dot "$TMP/outs/c.dot" --save-optimized "$TMP/outs/m.onnx"
    if [ -n "$(ls -A "$TMP/outs")" ]; then fail "bad model $file" "left output files: $(ls -A "$TMP/outs")"; fi
  done <"$BAD/expected.txt"

  # unknown operator: the analysis goes on with a default cost and says so
  run analyze "$BAD/unknown_op.onnx" -p 2 --json "$TMP/outs/u.json" --svg "$TMP/outs/u.svg"
  expect_rc "unknown operator" 0 &&
    contains "unknown operator" "$err" "dfgpar: warning: unknown operator" "FancyRelu" &&
    contains "unknown operator" "$out" "unknown operators   1 node(s), given the default cost: FancyRelu" "makespan" &&
    json_ok "$TMP/outs/u.json" && xml_ok "$TMP/outs/u.svg" && pass "unknown operator"

  # a profile that is not JSON, and one that is
  printf '{"dfgpar_profile": 1, "nodes": [' >"$TMP/bad_profile.json"
  expect_error "bad profile" 1 "bad_profile.json" analyze "$BAD/unknown_op.onnx" --profile "$TMP/bad_profile.json"
  expect_error "missing profile" 1 "cannot open the profile" analyze "$BAD/unknown_op.onnx" --profile "$TMP/none.json"
  printf '{"dfgpar_profile": 1, "nodes": [{"node": 0, "us": 1234}]}\n' >"$TMP/profile.json"
  run analyze "$BAD/unknown_op.onnx" -p 2 --profile "$TMP/profile.json"
  expect_rc "profile" 0 && contains "profile" "$out" "cost model          profile" "work W              1.234 ms" &&
    pass "profile"
  run analyze "$BAD/unknown_op.onnx" -p 2 --profile "$TMP/profile.json" --no-optimize
  expect_rc "profile --no-optimize" 0 && contains "profile --no-optimize" "$out" "work W              1.234 ms" &&
    pass "profile --no-optimize"
else
  skip "bad models" "tests/onnx/bad/make_bad.py needs the Python onnx package"
fi

# ------------------------------------------------------------------ real models
analyze_model() {  # NAME P EXTRA_ARGS...
  local name=$1 p=$2
  shift 2
  local model="$MODELS/$name.onnx"
  if [ ! -f "$model" ]; then
    skip "$name" "$model missing (scripts/export_models.py $MODELS $name)"
    return
  fi
  local dir="$TMP/$name"
  mkdir -p "$dir"
  run analyze "$model" --workers "$p" --json "$dir/r.json" --dot "$dir/c.dot" --svg "$dir/g.svg" \
    --save-optimized "$dir/opt.onnx" "$@"
  expect_rc "$name P=$p $*" 0 || return
  contains "$name P=$p $*" "$out" "nodes " "after folding/DCE" "work W" "critical path CP" "W/CP" "clusters" \
    "cross-worker edges" "lower bound" "max(CP, W/P)" "makespan" "speedup" "phases (ms)" "load" "optimize" \
    "cost model" "clustering+merge" "output" "worker" "Conv" || return
  no_leftovers "$name P=$p $*" "$dir" || return
  json_ok "$dir/r.json" || { fail "$name P=$p $*" "JSON report does not parse"; return; }
  xml_ok "$dir/g.svg" || { fail "$name P=$p $*" "SVG is not well-formed XML"; return; }
  local boxes nodes
  boxes=$(grep -c 'class="box"' "$dir/g.svg")
  nodes=$("$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); print(sum(len(c["vertices"]) for c in r["clusters"]))' "$dir/r.json")
  if [ "$boxes" != "$nodes" ]; then fail "$name P=$p $*" "SVG has $boxes boxes, the report $nodes node copies"; return; fi
  if [ "$(grep -c '>worker ' "$dir/g.svg")" -ne "$p" ]; then fail "$name P=$p $*" "SVG does not have $p rows"; return; fi
  if command -v dot >/dev/null && ! dot -Tsvg "$dir/c.dot" -o "$dir/c.svg" 2>"$dir/dot.err"; then
    fail "$name P=$p $*" "dot rejects the DOT file: $(head -c 300 "$dir/dot.err")"
    return
  fi
  # the saved optimised model loads again, with nothing left to fold
  local after
  after=$(printf '%s\n' "$out" | sed -n 's/^nodes *[0-9]* loaded, \([0-9]*\) after.*/\1/p')
  [ -n "$after" ] || { fail "$name P=$p $*" "no node count in the output"; return; }
  run analyze "$dir/opt.onnx" --workers "$p" --effort 0
  expect_rc "$name optimised model reloads" 0 || return
  contains "$name optimised model reloads" "$out" "nodes               $after loaded, $after after" || return
  pass "$name P=$p $*"
}

analyze_model googlenet 2
analyze_model googlenet 4 --clone --effort 0
analyze_model googlenet 1 --no-optimize --seed 7 --time-limit 100
analyze_model inception_v3 2
analyze_model inception_v3 3 --cost-model analytic --effort 2

# devices are written directly (and never replaced); a symbolic link is followed and stays a link
if [ -f "$MODELS/googlenet.onnx" ]; then
  run analyze "$MODELS/googlenet.onnx" -p 2 --json /dev/null --svg /dev/null --dot /dev/null
  expect_rc "outputs to /dev/null" 0 && [ -c /dev/null ] && pass "outputs to /dev/null"
  expect_error "--save-optimized /dev/null" 1 "not a regular file" analyze "$MODELS/googlenet.onnx" --save-optimized /dev/null
  mkdir -p "$TMP/link/real"
  ln -s real/r.json "$TMP/link/r.json"
  run analyze "$MODELS/googlenet.onnx" -p 2 --json "$TMP/link/r.json"
  if expect_rc "output through a symbolic link" 0; then
    if [ -L "$TMP/link/r.json" ] && json_ok "$TMP/link/real/r.json"; then pass "output through a symbolic link"
    else fail "output through a symbolic link" "the link was replaced or the target not written"; fi
  fi
fi

# an output that cannot be written aborts without touching the others
if [ -f "$MODELS/googlenet.onnx" ]; then
  mkdir -p "$TMP/atomic"
  echo old >"$TMP/atomic/r.json"
  chmod 0555 "$TMP/atomic" 2>/dev/null
  if [ "$(id -u)" -ne 0 ]; then
    expect_error "unwritable folder" 1 "not writable" analyze "$MODELS/googlenet.onnx" --json "$TMP/atomic/r.json"
    if [ "$(cat "$TMP/atomic/r.json")" != old ]; then fail "unwritable folder" "the old file changed"; fi
  else
    skip "unwritable folder" "running as root, folder permissions do not apply"
  fi
  chmod 0755 "$TMP/atomic"
fi

# emit: usage errors, refusal without output, and a model.py with its weights
expect_error "emit without -o" 2 "-o DIR" emit "$MODELS/googlenet.onnx"
expect_error "emit bad --fork" 2 "--fork takes auto, always or never" emit "$MODELS/googlenet.onnx" -o "$TMP/e" --fork sometimes
run emit --help
if expect_rc "emit --help" 0 && [[ "$out" == *"--split"* && "$out" == *"--fork WHEN"* ]]; then pass "emit --help"; fi
if [ -f "$MODELS/googlenet.onnx" ]; then
  echo "not a folder" >"$TMP/efile"
  expect_error "emit into a file" 1 "is not a folder" emit "$MODELS/googlenet.onnx" -o "$TMP/efile"
  run emit "$MODELS/googlenet.onnx" -o "$TMP/emit" --workers 2 --split
  if expect_rc "emit googlenet" 0; then
    if [ -s "$TMP/emit/model.py" ] && [ -s "$TMP/emit/weights.safetensors" ] && [[ "$out" == *"convolutions split into 2 parts"* ]] &&
      grep -q "def inception3a(self, parallel: bool" "$TMP/emit/model.py"; then
      pass "emit googlenet"
    else
      fail "emit googlenet" "missing files, split note or the inception3a region: $out"
    fi
  fi
  run emit "$MODELS/googlenet.onnx" -o "$TMP/emit1" --workers 2 --fork never
  if expect_rc "emit --fork never" 0; then
    if ! grep -q "_part0" "$TMP/emit1/model.py" && ! grep -q " = True$" "$TMP/emit1/model.py"; then
      pass "emit --fork never"
    else
      fail "emit --fork never" "found split parts or a region forked by default"
    fi
  fi
fi

# ------------------------------------------------------------------ input shapes (issue 9)
# x [N,3,H,W] -> Conv -> Relu: a batch-only symbolic N and spatial H, W
if "$PY" - "$TMP/sym.onnx" <<'PYEOF' 2>/dev/null; then
import sys
import numpy as np
from onnx import helper, numpy_helper, TensorProto, save
w = numpy_helper.from_array(np.ones((4, 3, 3, 3), np.float32), 'w')
g = helper.make_graph(
    [helper.make_node('Conv', ['x', 'w'], ['c'], name='conv', pads=[1, 1, 1, 1]),
     helper.make_node('Relu', ['c'], ['y'], name='relu')], 'sym',
    [helper.make_tensor_value_info('x', TensorProto.FLOAT, ['N', 3, 'H', 'W'])],
    [helper.make_tensor_value_info('y', TensorProto.FLOAT, ['N', 4, 'H', 'W'])], [w])
save(helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)]), sys.argv[1])
PYEOF
  SYM="$TMP/sym.onnx"
  run analyze "$SYM" -p 2
  expect_rc "symbolic dims named" 0 &&
    contains "symbolic dims named" "$err" "symbolic batch dimension 'N' of input 'x' taken as 1" \
      "input 'x' [1,3,H,W] has dimensions of unknown value" &&
    contains "symbolic dims named" "$out" "input shapes        x [1,3,-1,-1]" && pass "symbolic dims named"
  run analyze "$SYM" -p 2 --input-shape x=1,3,64,64
  if expect_rc "--input-shape" 0 && contains "--input-shape" "$out" "input shapes        x [1,3,64,64]"; then
    if [[ "$err" == *"unknown"* ]]; then fail "--input-shape" "still warns: $err"; else pass "--input-shape"; fi
  fi
  expect_error "--input-shape no such input" 1 "input shape 'z': the model has no such input (its inputs: 'x')" \
    analyze "$SYM" --input-shape z=1
  expect_error "--input-shape rank" 1 "has rank 4 [N,3,H,W], the shape given has 3" analyze "$SYM" --input-shape x=1,3,8
  expect_error "--input-shape conflict" 1 "dimension 1 is 3 in the model, not 4" analyze "$SYM" --input-shape x=1,4,8,8
  expect_error "--input-shape twice" 1 "given twice" analyze "$SYM" --input-shape x=1,3,8,8 --input-shape x=1,3,8,8
  expect_error "--input-shape syntax" 2 "--input-shape: input shape 'x=1,a': 'a' is not a dimension" \
    analyze "$SYM" --input-shape x=1,a
  expect_error "--input-shape no =" 2 "expected NAME=d0,d1,..." emit "$SYM" -o "$TMP/sym_py" --input-shape x
  run analyze --help
  contains "analyze --help --input-shape" "$out" "--input-shape NAME=d0,d1,..." && pass "analyze --help --input-shape"
  run emit --help
  contains "emit --help --input-shape" "$out" "--input-shape NAME=d0,d1,..." && pass "emit --help --input-shape"
else
  skip "input shapes" "making the model needs the Python onnx package"
fi

# ------------------------------------------------------------------ dfgpar run (issue 11; built with oneDNN)
run run --help
if [ "$rc" -ne 0 ]; then
  skip "dfgpar run" "this dfgpar has no run command (built without oneDNN)"
else
  contains "run --help" "$out" --workers --threads --profile --input-shape --no-optimize --effort && pass "run --help"
  # the shared pipeline options come from pipeline_args::parse: the same messages as analyze
  expect_error "run no model" 2 "run needs a model file" run
  expect_error "run two models" 2 "run takes one model file, got 'b.onnx' too" run a.onnx b.onnx
  expect_error "run --workers 0" 2 "--workers must be an integer from 1 to 1024, not '0'" run a.onnx --workers 0
  expect_error "run -p x" 2 "-p must be an integer from 1 to 1024, not 'x'" run a.onnx -p x
  expect_error "run --threads 0" 2 "--threads must be an integer from 1 to 1024, not '0'" run a.onnx --threads 0
  expect_error "run --no-optimize=1" 2 "--no-optimize takes no value" run a.onnx --no-optimize=1
  expect_error "run --input-shape syntax" 2 "--input-shape: input shape 'x=1,a': 'a' is not a dimension" \
    run a.onnx --input-shape x=1,a
  expect_error "run --profile no value" 2 "--profile needs a value" run a.onnx --profile
  expect_error "run --profile ''" 2 "--profile needs a file name" run a.onnx --profile ''
  expect_error "run unknown option" 2 "unknown option '--frobnicate' (see dfgpar run --help)" run a.onnx --frobnicate
  expect_error "run --reference alone" 2 "--reference needs --check" run a.onnx --reference r.npy
  expect_error "run missing model" 1 "none.onnx" run "$TMP/none.onnx"
  if [ -n "${SYM:-}" ]; then  # H, W symbolic: refused at load, naming the input and the option (after the pipeline's warnings)
    run run "$SYM" --workers 1 --iters 1 --warmup 0
    expect_rc "run symbolic input" 1 && contains "run symbolic input" "$err" \
      "graph input 'x' has dimensions not known before the run; the native runtime needs them fixed (input shapes option, dfgpar run --input-shape 'x=d0,d1,...')" &&
      pass "run symbolic input"
  fi
  SQ="$MODELS/squeezenet1_1.onnx"
  if [ -f "$SQ" ]; then
    # --profile: measured node times that analyze --profile reads back, every node matched
    # (without folding: the Conv -> Relu model of the input-shape cases; squeezenet1_1 needs folding)
    for opt in "" --no-optimize; do
      name="run --profile $opt -> analyze --profile"
      model=$SQ shape=()
      if [ -n "$opt" ]; then
        if [ -z "${SYM:-}" ]; then skip "$name" "needs the Python onnx package"; continue; fi
        model=$SYM shape=(--input-shape x=1,3,16,16)
      fi
      run run "$model" --iters 5 --warmup 1 --profile "$TMP/sq_prof.json" $opt "${shape[@]}"
      if expect_rc "$name" 0 && contains "$name" "$out" "profile by op type" "Conv" "share" "profile             $TMP/sq_prof.json"; then
        if ! grep -q '"dfgpar_profile": 1' "$TMP/sq_prof.json" || ! grep -q '"fused_into"' "$TMP/sq_prof.json" ||
          ! grep -q '"us_by_threads": \[' "$TMP/sq_prof.json"; then
          fail "$name" "not a dfgpar profile with fused nodes: $(head -c 300 "$TMP/sq_prof.json")"
        else
          run analyze "$model" -p 2 --profile "$TMP/sq_prof.json" $opt "${shape[@]}"
          if expect_rc "$name" 0 && contains "$name" "$out" "profile $TMP/sq_prof.json" "moldable plan" "allotments"; then
            if [[ "$err" == *"not measured"* || "$err" == *"match no node"* || "$err" == *"not in the analysed graph"* ]]; then
              fail "$name" "analyze did not match every node: $err"
            else pass "$name"; fi
          fi
        fi
      fi
    done
    expect_error "run --profile over the model" 2 "--profile would overwrite the model" run "$SQ" --profile "$SQ"
    # --workers auto: every candidate measured, the chosen one is what runs
    run run "$SQ" --workers auto --iters 3 --warmup 1
    if expect_rc "run --workers auto" 0 && contains "run --workers auto" "$out" "auto                " "chose "; then
      chosen=$(sed -n 's/.*chose \([0-9]*\)x\([0-9]*\).*/\1 \2/p' <<<"$out")
      read -r cw ct <<<"$chosen"
      unit=$([ "$cw" = 1 ] && echo worker || echo workers)
      tunit=$([ "$ct" = 1 ] && echo thread || echo threads)
      contains "run --workers auto" "$out" "schedule            $cw $unit x $ct $tunit" && pass "run --workers auto"
    fi
    expect_error "run --workers auto --threads" 2 "--workers auto chooses the threads too: drop --threads" \
      run "$SQ" --workers auto --threads 1
    # --workers moldable: the moldable session runs, untimed against the other forms
    # the online processors, as dfgpar counts them (nproc would follow OMP_NUM_THREADS)
    cores=$(getconf _NPROCESSORS_ONLN)
    if [ "$cores" -ge 2 ]; then
      run run "$SQ" --workers moldable --iters 3 --warmup 1
      if expect_rc "run --workers moldable" 0 &&
        contains "run --workers moldable" "$out" "chose ${cores}x1 moldable (--workers moldable" \
          "schedule            $cores workers x 1 thread" "; moldable: " "moldable plan"; then
        if grep -qE "^  [0-9]+x[0-9]+ (intra|inter)-op " <<<"$out"; then fail "run --workers moldable" "other forms timed: $out"
        else pass "run --workers moldable"; fi
      fi
      expect_error "run --workers moldable --threads" 2 "--workers moldable chooses the threads too: drop --threads" \
        run "$SQ" --workers moldable --threads 1
    else
      skip "run --workers moldable" "one core"
    fi
    # auto is the default: t(v, k) measured, the moldable plan explained, the prediction beside the latency
    run run "$SQ" --iters 3 --warmup 1
    if expect_rc "run (auto by default)" 0 && contains "run (auto by default)" "$out" "auto                chose " "candidate" \
      "moldable" "predicted"; then pass "run (auto by default)"; fi
    # --workers N, or --threads T alone, keep the fixed schedule (serial: 1 x 1)
    for args in "--workers 1 --threads 1" "--threads 1"; do
      run run "$SQ" --iters 2 --warmup 1 $args
      if expect_rc "run $args" 0 && contains "run $args" "$out" "schedule            1 worker x 1 thread"; then
        if [[ "$out" == *"auto    "* ]]; then fail "run $args" "measured as auto: $out"; else pass "run $args"; fi
      fi
    done
    # --check with a float64 reference: a result outside the tolerance passes when it is as accurate as
    # the reference (within 1.5x its error against float64; 3x with Winograd convolutions), else fails
    IB="$MODELS/inception_v3"
    if [ -f "$IB.output64.pb" ]; then
      run run "$IB.onnx" --workers 1 --threads 1 --iters 1 --warmup 1 --check --input "$IB.input.pb" --reference "$IB.output.pb" \
        --reference64 "$IB.output64.pb"
      if expect_rc "run --reference64 accepted" 0 && contains "run --reference64 accepted" "$out" \
        "vs float64: max abs diff" ": accepted (at most " "check               passed"; then
        pass "run --reference64 accepted"
      fi
      # the float32 reference given as the float64 one: its own error is 0, ours is not
      run run "$IB.onnx" --workers 1 --threads 1 --iters 1 --warmup 1 --check --input "$IB.input.pb" --reference "$IB.output.pb" \
        --reference64 "$IB.output.pb"
      if expect_rc "run --reference64 refused" 1 && contains "run --reference64 refused" "$out" \
        "the reference's own 0: more than " "check               FAILED"; then
        pass "run --reference64 refused"
      fi
    else
      skip "run --reference64" "no $IB.output64.pb"
    fi
    expect_error "analyze --workers auto" 2 "--workers must be an integer from 1 to 1024, not 'auto'" \
      analyze "$SQ" --workers auto
    # bad inputs: one line, exit 1, before any run
    if "$PY" - "$TMP" <<'PYEOF' 2>/dev/null; then
import sys
import numpy as np
np.save(sys.argv[1] + '/shape.npy', np.zeros((1, 3, 10, 10), np.float32))
np.save(sys.argv[1] + '/type.npy', np.zeros((1, 3, 224, 224), np.int64))
PYEOF
      expect_error "run input shape" 1 "input 'input' must be FLOAT [1,3,224,224], the file holds FLOAT [1,3,10,10]" \
        run "$SQ" --iters 1 --input "$TMP/shape.npy"
      expect_error "run input type" 1 "input 'input' must be FLOAT [1,3,224,224], the file holds INT64 [1,3,224,224]" \
        run "$SQ" --iters 1 --input "$TMP/type.npy"
      expect_error "run input name" 2 "--input nosuch=$TMP/shape.npy: the model has no input named 'nosuch' (its inputs: 'input')" \
        run "$SQ" --iters 1 --input "nosuch=$TMP/shape.npy"
      expect_error "run input count" 2 "--input: 2 files given, the model has 1 input(s): 'input'" \
        run "$SQ" --iters 1 --input "$TMP/shape.npy" --input "$TMP/shape.npy"
    else
      skip "run bad inputs" "needs numpy"
    fi
  else
    skip "run --profile" "no $SQ"
  fi
fi

# one "dfgpar:" per error line, whichever layer the message comes from
if [ -f "$BAD/unknown_op.onnx" ]; then
  run emit "$BAD/unknown_op.onnx" -o "$TMP/unknown_py"
  if expect_rc "one prefix" 1; then
    n=$(printf '%s' "$err" | grep -o 'dfgpar:' | wc -l)
    if [ "$n" -eq 1 ] && [[ "$err" == "dfgpar: error: $BAD/unknown_op.onnx: "* ]]; then pass "one prefix"
    else fail "one prefix" "want 'dfgpar: error: FILE: ...' once: $err"; fi
  fi
fi

echo "test_cli.sh: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
