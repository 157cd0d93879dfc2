#!/usr/bin/env bash
# 100,000 subscribed sockets on one box: a 3-node NATS cluster (JetStream),
# 6 pushd gateways (each under the 20,000-file limit of one process) and one
# pushbench run whose worker processes (each under the same limit) spread
# their sockets over the gateways in turn and over loopback source addresses
# 127.0.0.2…, then fan out RATE events a second over CHANNELS channels for
# DUR through the gateways' API. Prints pushbench's summary (lost, dup, ooo,
# connect time, latency), then per gateway its connections and RSS per socket,
# and the CPU the NATS servers used.
# Usage: bash bench/cluster100k.sh   (CONNS=100000 CHANNELS=1000 RATE=1000 DUR=60s)
set -euo pipefail
cd "$(dirname "$0")/.."
CONNS=${CONNS:-100000}
CHANNELS=${CHANNELS:-1000}
RATE=${RATE:-1000}
DUR=${DUR:-60s}
GATEWAYS=6
BASE=${BASE:-29400} # ports BASE… (below the ephemeral range)

dir=$(mktemp -d /tmp/pushd-100k.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT
go build -o "$dir/nats-server" github.com/nats-io/nats-server/v2
go build -o "$dir/pushd" ./cmd/pushd
go build -o "$dir/pushbench" ./cmd/pushbench

# 3 nats-server with JetStream, clustered.
routes=""
for i in 0 1 2; do routes="$routes,nats-route://127.0.0.1:$((BASE + 10 + i))"; done
routes=${routes#,}
urls=""
for i in 0 1 2; do
  cat >"$dir/nats-$i.conf" <<EOF
server_name: n$i
listen: 127.0.0.1:$((BASE + i))
http: 127.0.0.1:$((BASE + 20 + i))
max_payload: 1MB
jetstream { store_dir: "$dir/n$i", max_memory_store: 256MB, max_file_store: 4GB }
cluster { name: bench100k, listen: 127.0.0.1:$((BASE + 10 + i)), routes: [$routes] }
EOF
  prlimit --nofile=20000 "$dir/nats-server" -c "$dir/nats-$i.conf" >"$dir/nats-$i.log" 2>&1 &
  pids+=($!)
  nats_pids+=($!)
  urls="$urls,nats://127.0.0.1:$((BASE + i))"
done
urls=${urls#,}
for i in 0 1 2; do
  for _ in $(seq 150); do curl -sf "http://127.0.0.1:$((BASE + 20 + i))/healthz?js-enabled-only=true" >/dev/null && break; sleep 0.2; done
done

# 6 gateways on that cluster, one app.
ws=""
gw_pids=()
for g in $(seq 0 $((GATEWAYS - 1))); do
  cat >"$dir/pushd-$g.yaml" <<EOF
ws_addr: 127.0.0.1:$((BASE + 40 + g))
api_addr: 127.0.0.1:$((BASE + 60 + g))
data_dir: $dir/pushd-$g
nats_url: $urls
log_level: warn
apps:
  - id: "1"
    key: k
    secret: s
    max_channels_per_socket: 10
EOF
  prlimit --nofile=20000 "$dir/pushd" --config "$dir/pushd-$g.yaml" >"$dir/pushd-$g.log" 2>&1 &
  pids+=($!)
  gw_pids+=($!)
  ws="$ws,ws://127.0.0.1:$((BASE + 40 + g))"
done
ws=${ws#,}
for g in $(seq 0 $((GATEWAYS - 1))); do
  for _ in $(seq 300); do curl -sf "http://127.0.0.1:$((BASE + 60 + g))/readyz" >/dev/null && break; sleep 0.2; done
  curl -sf "http://127.0.0.1:$((BASE + 60 + g))/readyz" >/dev/null || { echo "gateway $g not ready" >&2; cat "$dir/pushd-$g.log" >&2; exit 1; }
done
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
before=()
for p in "${gw_pids[@]}"; do before+=("$(rss "$p")"); done
nats_cpu0=0
for p in "${nats_pids[@]}"; do nats_cpu0=$((nats_cpu0 + $(cpu "$p"))); done

# The load: 6 worker processes of ~16,700 sockets, each socket on the next
# gateway in turn, 4 source addresses a process; one coordinator publishes
# through gateway 0's API.
"$dir/pushbench" fanout --conns "$CONNS" --channels "$CHANNELS" --rate "$RATE" --duration "$DUR" \
  --per-proc $(( (CONNS + GATEWAYS - 1) / GATEWAYS )) --sources 4 --concurrency 256 --setup-timeout 120s \
  --publishers 32 --ws "$ws" --api "http://127.0.0.1:$((BASE + 60))" --key k --secret s --app-id 1 \
  >"$dir/summary.json" &
bench=$!
# While the sockets are held: each gateway's connections and RSS, sampled
# once all are up (or after 120 s).
count() { curl -fsS "http://127.0.0.1:$1/metrics" | awk '/^pushd_connections\{/ {s += $2} END {printf "%d", s}'; }
for _ in $(seq 600); do
  total=0
  for g in $(seq 0 $((GATEWAYS - 1))); do total=$((total + $(count $((BASE + 60 + g))))); done
  ((total >= CONNS)) && break
  kill -0 $bench 2>/dev/null || break
  sleep 0.2
done
sleep 2
for g in $(seq 0 $((GATEWAYS - 1))); do
  c=$(count $((BASE + 60 + g)))
  r=$(rss "${gw_pids[$g]}")
  echo "gateway $g: $c connections, RSS $((r / 1024)) MB, $(awk -v a="$r" -v b="${before[$g]}" -v c="$c" 'BEGIN {if (c > 0) printf "%.2f", (a - b) / c; else print "-"}') KB per socket"
done
wait $bench || true
nats_cpu1=0
for p in "${nats_pids[@]}"; do nats_cpu1=$((nats_cpu1 + $(cpu "$p"))); done
echo "nats-server CPU (3 servers, whole run): $(( (nats_cpu1 - nats_cpu0) / $(getconf CLK_TCK) )) s"
echo "load average: $(cat /proc/loadavg)"
echo "pushbench: $(cat "$dir/summary.json")"
