#!/usr/bin/env bash
# Crash test: cascade-server under write load, killed with SIGKILL at random moments,
# restarted, and every acknowledged write checked (tests/crash/crash_test.py says what is
# written and how it is judged).
#
#   scripts/crash-test.sh [--cycles N] [--seed S] [--appendfsync always|everysec]
#                         [--duration SECONDS] [--writers N] [--shards N] ... (--help)
#
# Builds cascade-server first if build/ has none (CASCADE_BIN names another binary).
# Prints a line per cycle and the cycles survived, writes checked and writes lost; exits
# non-zero if any acknowledged write was lost or the server failed to start cleanly.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export CASCADE_BIN="${CASCADE_BIN:-$ROOT/build/cascade-server}"
if [[ ! -x $CASCADE_BIN && $CASCADE_BIN == "$ROOT/build/cascade-server" ]]; then
  [[ -f $ROOT/build/build.ninja ]] || meson setup "$ROOT/build" >/dev/null
  ninja -C "$ROOT/build" cascade-server >/dev/null
fi
# Debian's interpreter: the project's Python tools use Debian's packages only.
exec /usr/bin/python3 "$ROOT/tests/crash/crash_test.py" "$@"
