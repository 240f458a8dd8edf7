#!/usr/bin/env bash
# Starts a Conclave server and runs conclave-load against it; prints the table and the JSON line.
#
#   bench/load/run.sh [--conclave BIN] [--load BIN] [--address ADDR] [--server-flag FLAG]... \
#                     [-- conclave-load options]
#   bench/load/run.sh -- --scenario meeting --participants 5 --duration 20
#   bench/load/run.sh -- --scenario audio --subscribers 100
#
# The server gets a fresh data directory (removed afterwards), listens for HTTPS on ADDR (default
# 127.0.0.1) at a free port, and announces its media there too, so the load tool's sessions reach
# it; it runs with the budgets a load from one address would hit raised:
#   --max-participants 1000            (default 100 per meeting; 1,000 is a meeting's hard limit)
#   --max-connections 5000             (default 2,000 HTTPS/WebSocket connections)
#   --max-connections-per-source 5000  (default 100 from one address)
#   --max-handshakes-per-source 1000   (default 20 TLS handshakes in progress from one address;
#                                       conclave-load has at most 16 in progress anyway)
#   --max-room-tracks 2000             (default 200 published tracks per meeting)
# The message rate (50/s per connection) and the relay budgets are not raised: a load session
# sends a few messages a minute and relays nothing. --server-flag passes more (e.g.
# --server-flag --media-workers --server-flag 1). conclave-load reads the server's CPU time and
# memory from /proc (--server-pid) over its window.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
conclave=$root/build/src/app/conclave
load=$root/build/bench/load/conclave-load
address=127.0.0.1
server_flags=()
while [ $# -gt 0 ]; do
  case $1 in
    --conclave) conclave=$2; shift 2 ;;
    --load) load=$2; shift 2 ;;
    --address) address=$2; shift 2 ;;
    --server-flag) server_flags+=("$2"); shift 2 ;;
    --) shift; break ;;
    *) sed -n '2,9p' "$0" >&2; exit 2 ;;
  esac
done

data=$(mktemp -d "${TMPDIR:-/tmp}/conclave-load.XXXXXX")
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  fi
  # Under the sanitizer builds (scripts/test.sh) a report in the server's log fails the suite.
  if [ -n "${CONCLAVE_SANITIZER_REPORTS:-}" ] && grep -qE 'runtime error:|Sanitizer:' "$data/log" 2>/dev/null; then
    cp "$data/log" "$CONCLAVE_SANITIZER_REPORTS/report.conclave-load-server.$$"
  fi
  rm -rf "$data"
}
trap cleanup EXIT

"$conclave" --port 0 --listen "$address" --data-dir "$data/server" --media-port 0 --media-listen "$address" \
  --media-announced-address "$address" --max-participants 1000 --max-connections 5000 \
  --max-connections-per-source 5000 --max-handshakes-per-source 1000 --max-room-tracks 2000 --log-level warn \
  "${server_flags[@]}" >"$data/stdout" 2>"$data/log" &
pid=$!

# The server prints its URL once it listens (within 30 s, or it failed).
port=
for _ in $(seq 300); do
  port=$(sed -n 's|.*https://[^/]*:\([0-9][0-9]*\)/.*|\1|p' "$data/stdout" 2>/dev/null | head -1)
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$port" ]; then
  echo "run.sh: the server did not start:" >&2
  cat "$data/log" >&2
  exit 1
fi

host=$address
[[ $address == *:* ]] && host="[$address]"
"$load" --server "$host:$port" --server-pid "$pid" "$@"
status=$?
if [ $status -ne 0 ]; then
  echo "run.sh: conclave-load exited with $status; the server's log:" >&2
  tail -n 40 "$data/log" >&2
fi
exit $status
