#!/usr/bin/env bash
# A local Pushd cluster: 3 nats-server processes clustered with JetStream and
# 3 pushd gateways on loopback, with the configs next to this script.
# Run from anywhere: `go tool task cluster` or `bash deploy/cluster/run.sh`.
# Data and logs go to ./data/cluster/; Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/../.."
conf=deploy/cluster
out=data/cluster
mkdir -p bin "$out"

command -v curl >/dev/null || { echo "run.sh needs curl (readiness checks)" >&2; exit 1; }
for port in 4222 4223 4224 6222 6223 6224 8222 8223 8224 3131 3141 3151 3232 3242 3252; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is in use: stop what listens there (another cluster run?)" >&2
    exit 1
  fi
done

echo "building nats-server (from the module in go.mod) and pushd into ./bin"
go build -o bin/nats-server github.com/nats-io/nats-server/v2
go build -o bin/pushd ./cmd/pushd

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

for i in 1 2 3; do
  start bin/nats-server -c "$conf/nats-$i.conf" >"$out/nats-$i.log" 2>&1
  nats_pids+=($!)
done
meta_leader() { curl -fsS "http://127.0.0.1:$1/jsz" | grep -q '"leader": *"n[123]"'; }
for m in 8222 8223 8224; do
  wait_for "JetStream (meta leader) on monitor port $m" 60 meta_leader "$m"
done
echo "nats: 3 servers, JetStream meta leader elected"

for i in 1 2 3; do
  start bin/pushd --config "$conf/pushd-$i.yaml" >"$out/pushd-$i.log" 2>&1
  pushd_pids+=($!)
done
for api in 3232 3242 3252; do
  wait_for "pushd on 127.0.0.1:$api" 60 curl -fsS "http://127.0.0.1:$api/readyz"
done

cat <<INFO

pushd cluster ready (app id=1 key=cluster-key secret=cluster-secret)
  websocket  ws://127.0.0.1:3131/app/cluster-key  ws://127.0.0.1:3141/app/cluster-key  ws://127.0.0.1:3151/app/cluster-key
  http api   http://127.0.0.1:3232  http://127.0.0.1:3242  http://127.0.0.1:3252
  nats       nats://127.0.0.1:4222,nats://127.0.0.1:4223,nats://127.0.0.1:4224 (monitoring :8222 :8223 :8224)
  logs       $out/*.log
Ctrl-C stops everything.
INFO

# Stay until Ctrl-C, or until any process exits on its own.
wait -n "${nats_pids[@]}" "${pushd_pids[@]}" || true
echo "a process exited on its own; see $out/*.log" >&2
exit 1
