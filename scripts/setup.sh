#!/usr/bin/env bash
# Installs everything the build and the tests need, from Debian packages only.
# Idempotent: when every package is present it runs no apt-get at all and prints nothing.
set -euo pipefail

PACKAGES=(
  # build
  meson ninja-build pkg-config g++ clang libclang-rt-dev
  # libraries
  liburing-dev libboost-context-dev libzstd-dev libfmt-dev doctest-dev libxxhash-dev
  # tests and benchmarks: the reference server, its clients, python clients
  redis-server redis-tools python3 python3-redis python3-pytest fio
  rocksdb-tools  # db_bench, the reference for scripts/bench-engine.sh
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi

echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
