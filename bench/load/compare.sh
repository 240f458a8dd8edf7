#!/usr/bin/env bash
# The same conclave-load scenario against Conclave, then against Janus, in the load lab: prints
# both tables, one JSON line each, and a last line (and JSON line) with the forwarded packets per
# server CPU-second of each and their ratio (Conclave / Janus).
#
#   sudo bench/load/lab.sh -- bench/load/compare.sh [--load BIN] [-- conclave-load options]
#   sudo bench/load/lab.sh -- bench/load/compare.sh -- --scenario audio --subscribers 100 --duration 15
#
# Runs inside lab.sh's load namespace, from its environment: CONCLAVE_SERVER and CONCLAVE_PID,
# JANUS_WS and JANUS_PID. Each server is idle while the other is measured; both stay up (and
# keep what the first run left behind) until lab.sh tears the lab down.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
load=$root/build/bench/load/conclave-load
while [ $# -gt 0 ]; do
  case $1 in
    --load) load=$2; shift 2 ;;
    --) shift; break ;;
    *) sed -n '2,11p' "$0" >&2; exit 2 ;;
  esac
done
for v in CONCLAVE_SERVER CONCLAVE_PID JANUS_WS JANUS_PID; do
  if [ -z "${!v:-}" ]; then
    echo "compare.sh: $v is not set: run it under bench/load/lab.sh (without --no-janus)" >&2
    exit 2
  fi
done
exec "$load" --server-kind both --conclave "$CONCLAVE_SERVER" --conclave-pid "$CONCLAVE_PID" \
  --janus "$JANUS_WS" --janus-pid "$JANUS_PID" "$@"
