#!/usr/bin/env bash
# Configures (once) and builds build/. Extra arguments go to `meson setup` the first time,
# e.g. scripts/build.sh -Db_sanitize=address,undefined (use a fresh BUILD_DIR for that).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
if [[ ! -f "$BUILD_DIR/build.ninja" ]]; then
  meson setup "$BUILD_DIR" "$@" >/dev/null
fi
ninja -C "$BUILD_DIR" >/dev/null || ninja -C "$BUILD_DIR"   # second run shows the errors
