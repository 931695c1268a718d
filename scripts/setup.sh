#!/usr/bin/env bash
# Installs every Debian package dfgpar needs. Idempotent: runs `apt-get update`
# once and installs only what is missing. Works as root on a fresh Debian 12.
set -euo pipefail

core=(g++ cmake ninja-build meson pkg-config git libboost-graph-dev doctest-dev
      graphviz python3 clang libclang-rt-14-dev)
onnx=(libonnx-dev libprotobuf-dev protobuf-compiler python3-onnx libonnx-testdata)
torch=(libtorch-dev python3-torch python3-torchvision libopenblas0-openmp
       python3-matplotlib pycodestyle libdnnl-dev libtbb-dev)

want=("${core[@]}")
case "${1:-all}" in
  core) ;;
  all) want+=("${onnx[@]}" "${torch[@]}") ;;
  *) echo "usage: $0 [core|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: all packages present"
fi
