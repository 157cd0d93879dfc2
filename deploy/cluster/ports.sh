# The ports of the local cluster, in one place (deploy/cluster/run.sh and
# bench/cluster50k.sh source this file). Each list may be set in the
# environment, e.g.
#   CLUSTER_WS_PORTS="4131 4141 4151" CLUSTER_API_PORTS="4232 4242 4252" go tool task cluster
# Three ports each: one per nats-server, one per pushd gateway.
CLUSTER_NATS_PORTS=${CLUSTER_NATS_PORTS:-"4222 4223 4224"}       # NATS client ports (the gateways' nats_url)
CLUSTER_ROUTE_PORTS=${CLUSTER_ROUTE_PORTS:-"6222 6223 6224"}     # NATS cluster routes
CLUSTER_MONITOR_PORTS=${CLUSTER_MONITOR_PORTS:-"8222 8223 8224"} # NATS monitoring: /healthz, /jsz, /connz
CLUSTER_WS_PORTS=${CLUSTER_WS_PORTS:-"3131 3141 3151"}           # pushd WebSocket ports
CLUSTER_API_PORTS=${CLUSTER_API_PORTS:-"3232 3242 3252"}         # pushd HTTP API ports

read -r -a nats_ports <<<"$CLUSTER_NATS_PORTS"
read -r -a route_ports <<<"$CLUSTER_ROUTE_PORTS"
read -r -a monitor_ports <<<"$CLUSTER_MONITOR_PORTS"
read -r -a ws_ports <<<"$CLUSTER_WS_PORTS"
read -r -a api_ports <<<"$CLUSTER_API_PORTS"
for list in nats_ports route_ports monitor_ports ws_ports api_ports; do
  declare -n l=$list
  if [ "${#l[@]}" -ne 3 ]; then
    echo "deploy/cluster/ports.sh: $list needs 3 ports, got '${l[*]}'" >&2
    exit 1
  fi
  unset -n l
done
