#!/usr/bin/env bash
# Sets up, builds and starts cascade-server in the foreground with conf/cascade.conf
# (127.0.0.1:6379, data in ./data). Extra arguments are passed to the server,
# e.g. ./scripts/run.sh --port 7000.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh
exec ./build/cascade-server conf/cascade.conf "$@"
