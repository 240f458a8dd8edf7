#!/usr/bin/env bash
# The load lab: Conclave and Janus side by side in a network namespace of their own, the load in
# another, joined by one veth pair. Nothing leaves the two namespaces (no default route out),
# and Janus, which skips loopback interfaces, gets a real interface to gather candidates on.
#
#   bench/load/lab.sh [--no-janus] [--conclave-flags "..."] -- COMMAND [ARGS...]
#
# Starts the servers in the server namespace (10.214.0.1), waits until both answer, runs
# COMMAND in the load namespace (10.214.0.2) with these in its environment, and tears all down:
#   LAB_SERVER_ADDRESS  10.214.0.1
#   CONCLAVE_SERVER     10.214.0.1:8443   CONCLAVE_PID  the conclave process
#   JANUS_WS            ws://10.214.0.1:8188  JANUS_PID  the janus process (unless --no-janus)
# Needs root (ip netns) and build/src/app/conclave (CONCLAVE_BIN overrides); Janus is Debian's
# `janus` package. The servers' logs are in $LAB_DIR (a temporary directory, printed).
# Janus logs at warnings (as Conclave does) to $LAB_DIR/janus.log; JANUS_DEBUG_LEVEL=4..7 says more.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
conclave_bin=${CONCLAVE_BIN:-$root/build/src/app/conclave}
janus=1
conclave_flags=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --no-janus) janus=0; shift ;;
    --conclave-flags) conclave_flags=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "usage: $0 [--no-janus] [--conclave-flags \"...\"] -- COMMAND [ARGS...]" >&2; exit 2 ;;
  esac
done
[[ $# -gt 0 ]] || { echo "$0: no command given" >&2; exit 2; }
[[ -x $conclave_bin ]] || { echo "$0: $conclave_bin not built (ninja -C build conclave)" >&2; exit 1; }
if [[ $janus == 1 ]] && ! command -v janus >/dev/null; then
  echo "$0: janus not installed (apt-get install janus), or pass --no-janus" >&2
  exit 1
fi

tag=$$
srv=cll-srv-$tag
load=cll-load-$tag
server_address=10.214.0.1
load_address=10.214.0.2
LAB_DIR=$(mktemp -d /tmp/conclave-load-lab.XXXXXX)
export LAB_DIR
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  ip netns del "$srv" 2>/dev/null || true
  ip netns del "$load" 2>/dev/null || true
}
trap cleanup EXIT

ip netns add "$srv"
ip netns add "$load"
ip link add "v$tag-s" type veth peer name "v$tag-l"
ip link set "v$tag-s" netns "$srv"
ip link set "v$tag-l" netns "$load"
ip -n "$srv" addr add $server_address/24 dev "v$tag-s"
ip -n "$load" addr add $load_address/24 dev "v$tag-l"
for ns in "$srv" "$load"; do
  ip -n "$ns" link set lo up
done
ip -n "$srv" link set "v$tag-s" up
ip -n "$load" link set "v$tag-l" up
# Socket buffers stay capped by the host's net.core.rmem_max/wmem_max (not per namespace here),
# for both servers alike.
ulimit -n 65536 2>/dev/null || true

# Conclave: media on the veth address, limits raised so that one load host may open 1000+
# sessions in one meeting (the defaults protect a real server from exactly that).
ip netns exec "$srv" "$conclave_bin" --listen $server_address --port 8443 --data-dir "$LAB_DIR/conclave-data" \
  --media-announced-address $server_address --media-port 40000 --log-level warn \
  --max-participants 10000 --max-connections 20000 --max-connections-per-source 20000 \
  --max-handshakes-per-source 20000 --ws-join-timeout-seconds 300 $conclave_flags \
  >"$LAB_DIR/conclave.log" 2>&1 &
conclave_pid=$!
pids+=("$conclave_pid")

if [[ $janus == 1 ]]; then
  cfg=$LAB_DIR/janus
  mkdir -p "$cfg"
  for f in "$here"/janus/*.in; do
    sed -e "s|@DIR@|$cfg|g; s|@ADDR@|$server_address|g; s|@PORTS@|20000-60000|g; s|@WSPORT@|8188|g" "$f" \
      >"$cfg/$(basename "$f" .in)"
  done
  ip netns exec "$srv" janus -F "$cfg" -C "$cfg/janus.jcfg" -d "${JANUS_DEBUG_LEVEL:-3}" -D >"$LAB_DIR/janus.log" 2>&1 &
  janus_pid=$!
  pids+=("$janus_pid")
fi

wait_port() {  # namespace, port: until something listens there (20 s at most)
  for _ in $(seq 200); do
    if ip netns exec "$1" ss -ltn "sport = :$2" | grep -q LISTEN; then return 0; fi
    sleep 0.1
  done
  echo "$0: nothing listens on port $2; see $LAB_DIR" >&2
  return 1
}
wait_port "$srv" 8443
[[ $janus == 1 ]] && wait_port "$srv" 8188
echo "lab: servers up in $srv ($server_address), logs in $LAB_DIR" >&2

env_vars=(LAB_SERVER_ADDRESS=$server_address CONCLAVE_SERVER=$server_address:8443 CONCLAVE_PID=$conclave_pid)
[[ $janus == 1 ]] && env_vars+=(JANUS_WS=ws://$server_address:8188 JANUS_PID=$janus_pid)
set +e
ip netns exec "$load" env "${env_vars[@]}" "$@"
status=$?
set -e
exit $status
