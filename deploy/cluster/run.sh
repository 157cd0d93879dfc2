#!/usr/bin/env bash
# A local Pushd cluster: 3 nats-server processes clustered with JetStream and
# 3 pushd gateways on loopback, with the configs next to this script.
# Run from anywhere: `go tool task cluster` or `bash deploy/cluster/run.sh`.
# Data and logs go to ./data/cluster/ (CLUSTER_DIR), binaries to ./bin/
# (CLUSTER_BIN); the ports are set in ports.sh (each list can come from the
# environment). Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/../.."
conf=deploy/cluster
source "$conf/ports.sh"
out=${CLUSTER_DIR:-data/cluster}
bin=${CLUSTER_BIN:-bin}
mkdir -p "$bin" "$out"

command -v curl >/dev/null || { echo "run.sh needs curl (readiness checks)" >&2; exit 1; }
for port in "${nats_ports[@]}" "${route_ports[@]}" "${monitor_ports[@]}" "${ws_ports[@]}" "${api_ports[@]}"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is in use: stop what listens there (another cluster run?)" >&2
    exit 1
  fi
done

echo "building nats-server (from the module in go.mod) and pushd into $bin"
go build -o "$bin/nats-server" github.com/nats-io/nats-server/v2
go build -o "$bin/pushd" ./cmd/pushd

nats_pids=()
pushd_pids=()
# stop ends the gateways first (SIGTERM: they drain), then NATS, and exits.
stop() {
  trap - INT TERM EXIT
  echo
  echo "stopping the gateways (SIGTERM: clients get 4200 and reconnect elsewhere), then NATS"
  for p in "${pushd_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pushd_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  for p in "${nats_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${nats_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  echo "stopped; data and logs are in $out/"
  exit "$1"
}
trap 'stop 0' INT   # Ctrl-C is the normal way to stop
trap 'stop 143' TERM
trap 'stop $?' EXIT

# start runs a process in the background in its own session, so that Ctrl-C
# reaches only this script, which then stops everything in order.
start() {
  if command -v setsid >/dev/null; then setsid "$@" & else "$@" & fi
}

# wait_for WHAT SECONDS COMMAND...: polls COMMAND every 200 ms.
wait_for() {
  local what=$1 secs=$2
  shift 2
  for _ in $(seq $((secs * 5))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "timed out after ${secs}s waiting for $what; see the logs in $out/" >&2
  exit 1
}

routes=$(printf 'nats-route://127.0.0.1:%s,' "${route_ports[@]}")
nats_url=$(printf 'nats://127.0.0.1:%s,' "${nats_ports[@]}")
routes=${routes%,} nats_url=${nats_url%,}
for i in 0 1 2; do
  n=$((i + 1))
  start "$bin/nats-server" -c "$conf/nats.conf" --server_name "n$n" --port "${nats_ports[$i]}" \
    --http_port "${monitor_ports[$i]}" --cluster "nats://127.0.0.1:${route_ports[$i]}" --routes "$routes" \
    --store_dir "$out/n$n" >"$out/nats-$n.log" 2>&1
  nats_pids+=($!)
done
meta_leader() { curl -fsS "http://127.0.0.1:$1/jsz" | grep -q '"leader": *"n[123]"'; }
for m in "${monitor_ports[@]}"; do
  wait_for "JetStream (meta leader) on monitor port $m" 60 meta_leader "$m"
done
echo "nats: 3 servers, JetStream meta leader elected"

for i in 0 1 2; do
  n=$((i + 1))
  start "$bin/pushd" --config "$conf/pushd.yaml" --ws-addr "127.0.0.1:${ws_ports[$i]}" --api-addr "127.0.0.1:${api_ports[$i]}" \
    --data-dir "$out/pushd-$n" --nats-url "$nats_url" >"$out/pushd-$n.log" 2>&1
  pushd_pids+=($!)
  echo $! >"$out/pushd-$n.pid"
done
for api in "${api_ports[@]}"; do
  wait_for "pushd on 127.0.0.1:$api" 60 curl -fsS "http://127.0.0.1:$api/readyz"
done

cat <<INFO

pushd cluster ready (app id=1 key=cluster-key secret=cluster-secret)
  websocket  $(printf 'ws://127.0.0.1:%s/app/cluster-key  ' "${ws_ports[@]}")
  http api   $(printf 'http://127.0.0.1:%s  ' "${api_ports[@]}")
  nats       $nats_url (monitoring $(printf ':%s ' "${monitor_ports[@]}"))
  logs       $out/*.log
Ctrl-C stops everything.
INFO

# Stay until Ctrl-C, or until any process exits on its own.
wait -n "${nats_pids[@]}" "${pushd_pids[@]}" || true
echo "a process exited on its own; see $out/*.log" >&2
exit 1
