#!/usr/bin/env bash
# Runs the benchmarks of docs/benchmarks.md: every scenario against the raw gws
# ceiling (bench/rawserver) and against pushd, back to back, each on a fresh
# server. Prints one line per run: "<scenario> <server> <pushbench JSON>".
#
#   bench/run.sh                 all scenarios (~6 minutes)
#   bench/run.sh quick           short smoke-sized versions of all scenarios
#   bench/run.sh fanout-1k cpu   only these scenarios
#
# Scenarios: fanout-1k cpu fanout-5k fanout-15k rss-1k storm-15k clientevents presence, and
# clientevents-hook (clientevents against pushd with a webhook URL, so every client event is also
# reported as a webhook; the receiver is pushd's own /healthz, which answers any POST with 200)
# Environment: SERVERS="raw pushd" (which servers), DUR=20s (load phase of fanout runs),
# IDLE=25: before each run wait (up to 2 minutes) until the CPUs are less than 25 % busy;
# set IDLE= to skip the wait. Every summary records the load average anyway.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
scenarios=()
for a in "$@"; do
  if [[ $a == quick ]]; then quick=1; else scenarios+=("$a"); fi
done
((${#scenarios[@]})) || scenarios=(fanout-1k cpu fanout-5k fanout-15k rss-1k storm-15k clientevents presence)
SERVERS=${SERVERS:-"raw pushd"}
DUR=${DUR:-20s}
((quick)) && DUR=2s && IDLE=${IDLE-}
IDLE=${IDLE-25}

bin=$(mktemp -d /tmp/pushd-bench.XXXXXX)
trap 'stop; rm -rf "$bin"' EXIT
go build -o "$bin/pushd" ./cmd/pushd
go build -o "$bin/rawserver" ./bench/rawserver
go build -o "$bin/pushbench" ./cmd/pushbench

# Ports below the ephemeral range (32768-60999), so no client socket can hold them.
WS=127.0.0.1:29310
API=127.0.0.1:29320
pid=
stop() {
  if [[ -n $pid ]]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=
  fi
}
# start <server>: a fresh server with room for 20,000 files, ready on $WS/$API. $PUSHD_ARGS are
# added to pushd's flags.
start() {
  stop
  case $1 in
    pushd)
      rm -rf "$bin/data"
      prlimit --nofile=20000 "$bin/pushd" --data-dir "$bin/data" --ws-addr $WS --api-addr $API \
        --app-id 1 --app-key k --app-secret s --log-level warn ${PUSHD_ARGS:-} >"$bin/server.log" 2>&1 &
      ;;
    raw)
      prlimit --nofile=20000 "$bin/rawserver" --ws-addr $WS --api-addr $API >"$bin/server.log" 2>&1 &
      ;;
  esac
  pid=$!
  for _ in $(seq 200); do
    curl -sf "http://$API/readyz" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "$1 did not start:" >&2
  cat "$bin/server.log" >&2
  exit 1
}
# wait_idle waits, bounded, until the two cores are mostly idle (other work shares them): CPU
# busy under $IDLE % over a 2-second sample of /proc/stat.
busy() {
  local a b
  a=($(head -1 /proc/stat)); sleep 2; b=($(head -1 /proc/stat))
  local idle=$(( (b[4]+b[5]) - (a[4]+a[5]) )) total=0 i
  for i in 1 2 3 4 5 6 7 8; do total=$(( total + b[i] - a[i] )); done
  echo $(( total > 0 ? 100 * (total - idle) / total : 0 ))
}
wait_idle() {
  [[ -n $IDLE ]] || return 0
  local b
  for _ in $(seq 60); do
    b=$(busy)
    (( b < IDLE )) && { echo "cpu busy ${b}% before the run" >&2; return 0; }
  done
  echo "CPU still ${b}% busy after 2 minutes; running anyway" >&2
}
# bench <scenario> <pushbench args…>: the scenario against each server.
bench() {
  local name=$1
  shift
  for s in $SERVERS; do
    wait_idle
    start "$s"
    sleep 0.5 # let the fresh server settle before the RSS baseline
    out=$("$bin/pushbench" "$@" --ws "ws://$WS" --api "http://$API" --pid "$pid" --key k --secret s --app-id 1) || true
    echo "$name $s $out"
  done
}

for sc in "${scenarios[@]}"; do
  if ((quick)); then
    case $sc in
      fanout-1k)    bench $sc fanout --conns 200 --channels 10 --rate 500 --duration $DUR ;;
      cpu)          bench $sc fanout --conns 200 --channels 1 --rate 100 --duration $DUR ;;
      fanout-5k)    bench $sc fanout --conns 500 --channels 50 --rate 100 --duration $DUR ;;
      fanout-15k)   bench $sc fanout --conns 1500 --channels 150 --rate 300 --duration $DUR --sources 8 ;;
      rss-1k)       bench $sc connect --conns 1000 --channels 10 ;;
      storm-15k)    bench $sc connect --conns 2000 --channels 150 --concurrency 256 ;;
      clientevents) bench $sc clientevents --pairs 100 --rate 500 --duration $DUR ;;
      clientevents-hook) SERVERS=pushd PUSHD_ARGS="--webhook-url http://$API/healthz" bench $sc clientevents --pairs 100 --rate 500 --duration $DUR ;;
      presence)     bench $sc presence --conns 400 --channels 10 --rate 200 --duration $DUR ;;
      *) echo "unknown scenario $sc" >&2; exit 2 ;;
    esac
  else
    case $sc in
      fanout-1k)    bench $sc fanout --conns 1000 --channels 10 --rate 500 --duration $DUR ;;
      cpu)          bench $sc fanout --conns 1000 --channels 1 --rate 100 --duration $DUR ;;
      fanout-5k)    bench $sc fanout --conns 5000 --channels 50 --rate 100 --duration $DUR ;;
      fanout-15k)   bench $sc fanout --conns 15000 --channels 150 --rate 300 --duration $DUR --sources 8 ;;
      rss-1k)       bench $sc connect --conns 1000 --channels 10 --settle 2s ;;
      storm-15k)    bench $sc connect --conns 15000 --channels 150 --concurrency 256 --sources 8 --settle 2s ;;
      clientevents) bench $sc clientevents --pairs 1000 --rate 5000 --duration $DUR ;;
      clientevents-hook) SERVERS=pushd PUSHD_ARGS="--webhook-url http://$API/healthz" bench $sc clientevents --pairs 1000 --rate 5000 --duration $DUR ;;
      presence)     bench $sc presence --conns 2000 --channels 40 --rate 1000 --duration $DUR ;;
      *) echo "unknown scenario $sc" >&2; exit 2 ;;
    esac
  fi
done
