#!/usr/bin/env bash
# 50,000 connections on 3 gateways: the local cluster of deploy/cluster (3
# nats-server with JetStream, 3 pushd) and one pushbench per gateway, run at
# the same time, each holding its share of subscribed sockets for HOLD. One
# process may hold ~19,500 sockets (20,000 files), so each gateway and each
# load process holds a third. Prints one pushbench summary line per gateway,
# then the connections every gateway reported while all were held.
# Usage: bash bench/cluster50k.sh   (CONNS=50000 HOLD=20s to change)
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/cluster/ports.sh # the ports run.sh gives the gateways
CONNS=${CONNS:-50000}
HOLD=${HOLD:-20s}
per=$(( (CONNS + 2) / 3 ))

bin=$(mktemp -d /tmp/pushd-cluster50k.XXXXXX)
go build -o "$bin/pushbench" ./cmd/pushbench
export CLUSTER_DIR=data/cluster
rm -rf "$CLUSTER_DIR"
bash deploy/cluster/run.sh >"$bin/cluster.log" 2>&1 &
cluster=$!
trap 'kill -TERM $cluster 2>/dev/null; wait $cluster 2>/dev/null; rm -rf "$bin"' EXIT
for _ in $(seq 600); do
  grep -q "pushd cluster ready" "$bin/cluster.log" && break
  kill -0 $cluster 2>/dev/null || { cat "$bin/cluster.log" >&2; exit 1; }
  sleep 0.2
done
grep -q "pushd cluster ready" "$bin/cluster.log" || { echo "cluster did not start" >&2; cat "$bin/cluster.log" >&2; exit 1; }

ws=("${ws_ports[@]}")
api=("${api_ports[@]}")
for i in 0 1 2; do
  pid=$(cat "$CLUSTER_DIR/pushd-$((i + 1)).pid")
  "$bin/pushbench" connect --conns $per --channels 150 --concurrency 256 --sources 4 --settle "$HOLD" \
    --setup-timeout 60s --ws "ws://127.0.0.1:${ws[$i]}" --api "http://127.0.0.1:${api[$i]}" --pid "$pid" \
    --key cluster-key --secret cluster-secret --app-id 1 >"$bin/bench-$i.json" &
done
# While the load processes hold their sockets: what each gateway reports,
# polled until all are connected (at most 60 s).
count() { curl -fsS "http://127.0.0.1:$1/metrics" | awk '/^pushd_connections\{/ {s += $2} END {printf "%d", s}'; }
start=$(date +%s%N)
for _ in $(seq 300); do
  total=0
  for a in "${api[@]}"; do total=$(( total + $(count "$a") )); done
  (( total >= per * 3 )) && break
  sleep 0.2
done
took=$(( ($(date +%s%N) - start) / 1000000 ))
for i in 0 1 2; do echo "gateway $((i + 1)) connections: $(count "${api[$i]}")"; done
echo "all gateways: $total connections held, all up ${took} ms after the load started"
wait $(jobs -p | grep -v "^$cluster$") 2>/dev/null || true
for i in 0 1 2; do echo "gateway $((i + 1)) $(cat "$bin/bench-$i.json")"; done
