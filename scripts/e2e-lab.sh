#!/usr/bin/env bash
# Runs a command inside a fresh network namespace, the browser tests' lab:
#   scripts/e2e-lab.sh CMD [ARG...]
# The lab has `lo` and a veth pair, lab0 (10.213.0.1/24) and its peer lab1, with the default route
# through lab0. Browsers need an address that is not loopback (Firefox pairs no loopback
# candidates) and a default route (without one Firefox gathers no candidates at all); both stay
# inside the lab: a packet for any other address leaves lab0, arrives at lab1 and is dropped.
# The lab has IPv6 as well: fd00:213::1/64 on lab0 (CONCLAVE_LAB_ADDRESS6), default route there.
# CMD sees CONCLAVE_LAB_NS (the lab's name, unique per run) and CONCLAVE_LAB_ADDRESS; web/e2e/lab.ts
# adds client namespaces named "$CONCLAVE_LAB_NS-<name>". All of them go when CMD ends.
# Needs root (ip netns); the tests run as root here and in CI.
set -euo pipefail

[ $# -gt 0 ] || { echo "usage: scripts/e2e-lab.sh CMD [ARG...]" >&2; exit 2; }
if [ "$(id -u)" -ne 0 ]; then
  echo "e2e-lab: creating network namespaces needs root (ip netns)" >&2
  exit 1
fi

ns="cvlab$$"
address=10.213.0.1
# IPv6 too (a unique local address), for the dual-stack tests; nodad: usable at once.
address6=fd00:213::1

cleanup() {
  local n
  # (ip netns list complains about the ids of peer namespaces already gone: not our concern.)
  for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$ns(-|$)" || true); do
    ip netns pids "$n" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$n" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add lab0 type veth peer name lab1
ip -n "$ns" addr add "$address/24" dev lab0
ip -n "$ns" link set lab0 up
ip -n "$ns" link set lab1 up
ip -n "$ns" route add default dev lab0
ip -n "$ns" addr add "$address6/64" dev lab0 nodad
ip -n "$ns" -6 route add default dev lab0
# Client namespaces reach the lab through their own veth pairs (web/e2e/lab.ts); the lab answers
# them directly (the server's addresses are its own), so it forwards nothing.
ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=0

status=0
ip netns exec "$ns" env CONCLAVE_LAB_NS="$ns" CONCLAVE_LAB_ADDRESS="$address" CONCLAVE_LAB_ADDRESS6="$address6" \
  "$@" || status=$?
exit $status
