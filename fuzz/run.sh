#!/bin/sh
# Builds the libFuzzer harnesses with clang++ (-fsanitize=fuzzer,address,undefined)
# and either replays the seed corpus once (CI) or fuzzes for a while.
#
#   fuzz/run.sh build            build build/fuzz/fuzz_loader and fuzz_json
#   fuzz/run.sh replay           build, then run every seed once under ASan+UBSan (CI: well under 2 minutes)
#   fuzz/run.sh fuzz SECONDS [loader|json]   build, then fuzz (default: loader) for SECONDS;
#                                the growing corpus is kept in build/fuzz/corpus/<harness>,
#                                crashes land in build/fuzz/artifacts/ (copy them to
#                                fuzz/regressions/<harness>/ once fixed)
#
# Environment: CXX (default clang++), DFGPAR_FUZZ_BUILD (default build/fuzz), ONNX_TESTDATA.
# Needs clang with libFuzzer (Debian: clang + libclang-rt-14-dev), libonnx-dev, libprotobuf-dev.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=${DFGPAR_FUZZ_BUILD:-$root/build/fuzz}
cxx=${CXX:-clang++}
case "$cxx" in *clang*) ;; *) cxx=clang++ ;; esac
mode=${1:-replay}
mkdir -p "$out"

build_one() {
  src="$root/fuzz/fuzz_$1.cpp"
  bin="$out/fuzz_$1"
  # rebuild when the harness or any header is newer than the binary
  if [ -x "$bin" ] && [ -z "$(find "$src" "$root/include" -newer "$bin" -name '*.[ch]pp' 2>/dev/null | head -n 1)" ]; then
    return 0
  fi
  echo "fuzz: building $bin"
  # -g1: line tables are all a sanitizer report needs
  "$cxx" -std=c++20 -O1 -g1 -fno-omit-frame-pointer \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-sanitize=vptr \
    -DONNX_ML=1 -DONNX_NAMESPACE=onnx -I"$root/include" "$src" -o "$bin" \
    -lonnx -lonnx_proto -lprotobuf -pthread
}

# the two harnesses compile side by side (one core each)
build() {
  build_one loader &
  p1=$!
  build_one json &
  p2=$!
  s=0
  wait "$p1" || s=1
  wait "$p2" || s=1
  return "$s"
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

case "$mode" in
  build) build ;;
  replay)
    build
    sh "$root/fuzz/make_corpus.sh" "$out/seeds"
    status=0
    for h in loader json; do
      echo "fuzz: replaying $(ls "$out/seeds/$h" | wc -l | tr -d ' ') $h seeds"
      "$out/fuzz_$h" -runs=0 -timeout=20 -rss_limit_mb=4096 "$out/seeds/$h" > "$out/replay_$h.log" 2>&1 || status=$?
      if [ "$status" -ne 0 ]; then tail -n 40 "$out/replay_$h.log"; echo "fuzz: replay of $h FAILED"; exit "$status"; fi
      tail -n 2 "$out/replay_$h.log"
    done
    echo "fuzz: replay OK" ;;
  fuzz)
    secs=${2:?usage: fuzz/run.sh fuzz SECONDS [loader|json]}
    h=${3:-loader}
    build
    [ -d "$out/seeds/$h" ] || sh "$root/fuzz/make_corpus.sh" "$out/seeds"
    mkdir -p "$out/corpus/$h" "$out/artifacts"
    "$out/fuzz_$h" -max_total_time="$secs" -timeout=10 -rss_limit_mb=4096 -max_len=262144 \
      -print_final_stats=1 -artifact_prefix="$out/artifacts/$h-" "$out/corpus/$h" "$out/seeds/$h" ;;
  *) echo "usage: fuzz/run.sh build | replay | fuzz SECONDS [loader|json]" >&2; exit 2 ;;
esac
