# shellcheck shell=bash
# Shared by the server benchmarks (bench.sh, bench-collections.sh), sourced after their
# argument checks: a temporary directory, one server at a time always stopped, free ports.
#
#   bench_init PREFIX   makes $WORK under $TMPDIR and installs the traps that stop the
#                       server and remove $WORK however the script ends (a killed run too)
#   SERVER_PID          the pid of the server the script started (empty: none running)
#   stop_server         TERM, then KILL after 30 s; clears SERVER_PID
#   free_port           a port 127.0.0.1 has free now
#   wait_ready PORT     until the server answers PING; fails if it exits or after 20 s

SERVER_PID=""

stop_server() {
  if [[ -n "$SERVER_PID" ]]; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 300); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}

bench_cleanup() {
  stop_server
  rm -rf "$WORK"
}

bench_init() {
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")"
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM HUP PIPE
}

free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_ready() {
  local port="$1"
  for _ in $(seq 1 200); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then return 1; fi
    if [[ "$(redis-cli -p "$port" ping 2>/dev/null)" == "PONG" ]]; then return 0; fi
    sleep 0.1
  done
  return 1
}
