#!/usr/bin/env bash
# Network namespaces for shared-frontier tests and benchmarks: a database, a web server and N
# workers on private addresses that exist only inside these namespaces (no default route, nothing
# in the root namespace), so that links between them can be cut like a real network's.
#
#   scripts/netns.sh up [N_WORKERS]   # make them (2 workers by default) and print what was made
#   scripts/netns.sh down             # delete them all (idempotent)
#   scripts/netns.sh cut NAME [LAN]   # pull NAME's cable(s) at the bridge: NAME is db, web or wK
#   scripts/netns.sh heal NAME [LAN]  # plug them back in; LAN is db or web, default both
#
# Two LANs, each a bridge in the namespace PREFIXbr, so that a worker can lose the database and
# keep the web (the partition a lease has to survive):
#   LAN db  10.203.0.0/24: PREFIXdb 10.203.0.2, worker K 10.203.0.(10+K)
#   LAN web 10.203.1.0/24: PREFIXweb 10.203.1.3, worker K 10.203.1.(10+K)
# Inside each namespace the interface is named after its LAN (`db`, `web`), and `lo` is up.
# PREFIX is $FANOUT_NETNS_PREFIX (default `fanout-`): two runs with different prefixes do not
# collide, since the addresses live inside each run's own namespaces. Run as root.
# Exit status: 0, 2 for a bad command, 3 when this machine cannot make network namespaces.
set -euo pipefail

prefix=${FANOUT_NETNS_PREFIX:-fanout-}
usage() { sed -n '2,18p' "$0" >&2; exit 2; }
[[ "$prefix" =~ ^[A-Za-z0-9_.-]+$ ]] || { echo "netns.sh: FANOUT_NETNS_PREFIX '$prefix' is not a plain name" >&2; exit 2; }

# Namespaces of this prefix only: another prefix that starts with ours (fanout-t12-w1) is not ours.
ours() {
  ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^${prefix//./\\.}(br|db|web|w[0-9]+)\$" || true
}

# LAN of an interface name, and the address of host number N on it.
lan_net() { case "$1" in db) echo 10.203.0 ;; web) echo 10.203.1 ;; esac; }

# Joins namespace $1 to LAN $2 as host number $3: a veth pair, one end a port of the LAN's bridge
# (named LAN-SHORTNAME there), the other the namespace's interface named after the LAN.
attach() {
  local ns=$1 lan=$2 host=$3 short=${1#"$prefix"}
  local port="$lan-$short"
  ip -n "${prefix}br" link add "$port" type veth peer name "$lan" netns "$ns"
  ip -n "${prefix}br" link set "$port" master "$lan" up
  ip -n "$ns" addr add "$(lan_net "$lan").$host/24" dev "$lan"
  ip -n "$ns" link set "$lan" up
}

newns() {
  ip netns add "$1"
  ip -n "$1" link set lo up
  # No router ever answers here: don't let IPv6 look for one.
  ip netns exec "$1" sysctl -q -w net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 >/dev/null 2>&1 || true
}

# The bridge-side ends of NAME's cables on LAN ($2, or both).
ports() {
  local short=${1#"$prefix"} lans=${2:-"db web"} lan
  for lan in $lans; do
    case "$lan" in db | web) ;; *) echo "netns.sh: no LAN '$lan' (db or web)" >&2; exit 2 ;; esac
    if ip -n "${prefix}br" link show "$lan-$short" >/dev/null 2>&1; then echo "$lan-$short"; fi
  done
}

cmd=${1:-}
case "$cmd" in
  up)
    workers=${2:-2}
    [[ "$workers" =~ ^[0-9]+$ ]] && [ "$workers" -ge 1 ] && [ "$workers" -le 200 ] || {
      echo "netns.sh: N_WORKERS must be 1..200" >&2; exit 2; }
    [ -z "$(ours)" ] || { echo "netns.sh: namespaces ${prefix}* exist already: scripts/netns.sh down first" >&2; exit 1; }
    if ! err=$(ip netns add "${prefix}br" 2>&1); then
      echo "netns.sh: cannot create network namespaces here (root and iproute2 needed): $err" >&2
      exit 3
    fi
    # A half-made set is worse than none.
    trap 'status=$?; [ $status -eq 0 ] || bash "$0" down >/dev/null 2>&1; exit $status' EXIT
    ip -n "${prefix}br" link set lo up
    for lan in db web; do
      # No STP: a port forwards as soon as it is up, so heal takes effect at once.
      ip -n "${prefix}br" link add "$lan" type bridge stp_state 0 forward_delay 0
      ip -n "${prefix}br" link set "$lan" up
    done
    newns "${prefix}db" && attach "${prefix}db" db 2
    newns "${prefix}web" && attach "${prefix}web" web 3
    for k in $(seq 1 "$workers"); do
      newns "${prefix}w$k"
      attach "${prefix}w$k" db $((10 + k))
      attach "${prefix}w$k" web $((10 + k))
    done
    echo "${prefix}br   bridges db (10.203.0.0/24) and web (10.203.1.0/24)"
    echo "${prefix}db   db 10.203.0.2"
    echo "${prefix}web  web 10.203.1.3"
    for k in $(seq 1 "$workers"); do echo "${prefix}w$k   db 10.203.0.$((10 + k)), web 10.203.1.$((10 + k))"; done
    ;;
  down)
    for ns in $(ours); do ip netns del "$ns" 2>/dev/null || true; done
    ;;
  cut | heal)
    name=${2:-}
    [ -n "$name" ] || usage
    name=${name#"$prefix"}
    ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "${prefix}$name" || {
      echo "netns.sh: no namespace ${prefix}$name" >&2; exit 1; }
    state=down; [ "$cmd" = heal ] && state=up
    # At the bridge, not inside: NAME's interface stays up without a carrier, so packets vanish
    # silently as in a real partition, rather than failing at once with "network unreachable".
    found=$(ports "$name" "${3:-}")
    [ -n "$found" ] || { echo "netns.sh: ${prefix}$name has no link on ${3:-any LAN}" >&2; exit 1; }
    for port in $found; do ip -n "${prefix}br" link set "$port" "$state"; done
    if [ "$cmd" = heal ]; then
      # A port that has just come up takes a moment to forward: heal returns once it does (2 s at most).
      for port in $found; do
        for _ in $(seq 1 40); do
          ip -n "${prefix}br" -d link show "$port" | grep -q 'state forwarding' && break
          sleep 0.05
        done
      done
    fi
    echo "${prefix}$name: $cmd $(echo $found | tr ' ' ',')"
    ;;
  *) usage ;;
esac
