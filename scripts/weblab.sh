#!/usr/bin/env bash
# The web lab: a synthetic web (`fanout serve --hosts`), a real DNS resolver that names its hosts
# (Debian's dnsmasq) and a place for a crawler, each in a network namespace of its own, joined by a
# LAN (a bridge) whose private addresses exist only inside these namespaces. There is no default
# route: nothing leaves the machine. A crawler run in the crawler namespace (`weblab.sh exec`, or
# `ip netns exec NS_CRAWLER`) resolves hK.DOMAIN through the lab's resolver, as on the real web:
# /etc/netns/NS_CRAWLER/resolv.conf names it, and glibc and c-ares both read /etc/resolv.conf.
#
#   scripts/weblab.sh up [OPTIONS] [-- SERVE_ARGS...]  make the lab, print what was made (KEY=VALUE)
#   scripts/weblab.sh down                   stop the lab's processes, delete it all (idempotent)
#   scripts/weblab.sh facts                  print up's KEY=VALUE lines again
#   scripts/weblab.sh cut dns|web|crawler    take that namespace off the LAN (its bridge port down)
#   scripts/weblab.sh heal dns|web|crawler   put it back (returns once the port forwards)
#   scripts/weblab.sh queries                the queries the resolver got so far: "COUNT TYPE NAME" lines
#   scripts/weblab.sh ask NAME [A|AAAA] [S]  one query to the resolver, from the crawler namespace, S
#                                            seconds at most (default 3): "NOERROR 10.204.0.10 ttl=300
#                                            2 ms", "NXDOMAIN 1 ms", "SERVFAIL 0 ms"; "timeout" exits 1
#   scripts/weblab.sh exec CMD [ARG...]      run CMD in the crawler namespace
#
# up's options [defaults]:
#   --hosts N [100]       the web's hosts, h0.DOMAIN .. h{N-1}.DOMAIN (fanout serve --hosts)
#   --pages P [10]        pages per host (fanout serve --synthetic)
#   --domain D [web.test] the web's domain; the resolver is authoritative for it: a name it does not
#                         list is NXDOMAIN
#   --ips K [4]           the web listens on K IPv4 addresses, host i on the (i mod K)-th, and the
#                         resolver says so (fanout serve --ips); 1..240
#   --ttl S [300]         the TTL of the resolver's answers (dnsmasq --local-ttl)
#   --dns-delay MS [0]    every answer of the resolver MS later: tc netem on the dns namespace's
#                         link where the kernel has it, else a relay in front of dnsmasq (in Python,
#                         one epoll loop, the answers due in a FIFO); DNS_DELAY_BY says which
#   --nxdomain F [0]      a share F of the hosts is not listed: NXDOMAIN
#   --servfail F [0]      a share F of the hosts answers SERVFAIL (below)
#   --silent M [0]        M hosts whose queries are never answered (below)
#   --ipv6-only M [0]     M hosts with an AAAA record only, on the web's IPv6 address (A: no data)
#   --port P [80]         the web's port
#   --resolv-options S    an `options` line for the crawler's resolv.conf ("timeout:1 attempts:2")
#   --lifetime S [3600]   the web server stops by itself after S seconds (fanout serve --duration)
#   -- SERVE_ARGS         more fanout serve options: --latency 50 --robots-mix --links 10 ...
# The faulty hosts are leaves of the web's host tree (fanout serve: hosts linked from no other
# host's root), picked by a hash, so every other host stays reachable from the seed by links.
# Besides, three names of the domain always fail the same way: nosuch.D (NXDOMAIN), servfail.D
# and silent.D.
#
# How dnsmasq fails: a SERVFAIL name is forwarded to a second dnsmasq (127.0.0.2 in the dns
# namespace) that answers it unsigned, while the resolver validates DNSSEC with a trust anchor for
# that name: the answer is BOGUS and the client gets SERVFAIL. (Forwarding to an address that answers
# port unreachable gets no answer at all from dnsmasq 2.90, and one without a route REFUSED.) A
# silent name is forwarded to 10.204.0.254, which a permanent neighbour entry sends to a MAC that
# no one has: the query vanishes on the LAN and the client times out.
#
# up prints, one KEY=VALUE a line (and keeps them in LAB_DIR/facts): LAB_PREFIX, LAB_DIR,
# NS_CRAWLER, NS_WEB, NS_DNS, NS_BRIDGE, DOMAIN, HOSTS, PAGES, IPS, PORT, SEED (the web's first
# page), RESOLVER, RESOLVER6, CRAWLER_ADDRESS, CRAWLER_ADDRESS6, WEB_ADDRESSES (comma-separated,
# host i on the (i mod IPS)-th), WEB_ADDRESS6 (serves every host), IPS_URL, HOSTS_URL, STATS_URL
# (the web's /__ips, /__hosts, /__stats, reached from the crawler namespace), TTL, DNS_DELAY_MS,
# DNS_DELAY_BY (none, netem or relay), QUERY_LOG (dnsmasq's log: "query[A] h3.web.test from
# 10.204.0.3", from 127.0.0.1 through the relay), NAMES (a file, "NAME KIND ADDRESS" a line for every host and the three fixed names,
# KIND one of a, aaaa, nxdomain, servfail, silent), NXDOMAIN_NAME, SERVFAIL_NAME, SILENT_NAME,
# NXDOMAIN_COUNT, SERVFAIL_COUNT, SILENT_HOSTS, IPV6_ONLY_HOSTS (comma-separated names),
# RESOLVABLE_HOSTS (hosts with an A or AAAA record), WEB_LOG (fanout serve's stderr), UP_SECONDS.
#
# Addresses (LAN 10.204.0.0/24 and fd00:204::/64, which scripts/netns.sh's 10.203.x never meets):
#   PREFIXdns 10.204.0.2 fd00:204::2   PREFIXcrawler 10.204.0.3 fd00:204::3
#   PREFIXweb 10.204.0.10 .. 10.204.0.(9+K), fd00:204::10            PREFIXbr the bridge `lan`
# Inside each namespace the interface is `lan`, and `lo` is up.
# Environment: FANOUT_LAB_PREFIX (default `fanout-lab-`; two labs with different prefixes do not
# collide), FANOUT (the binary; default build/cli/fanout), FANOUT_LAB_DIR (default
# /tmp/PREFIXstate). Run as root, with iproute2, dnsmasq-base, curl and python3 installed.
# Exit status: 0; 1 when the lab cannot be made or used; 2 for a bad command or option; 3 when
# this machine cannot make network namespaces (not root, no iproute2).
set -euo pipefail

prefix=${FANOUT_LAB_PREFIX:-fanout-lab-}
[[ "$prefix" =~ ^[A-Za-z0-9_.-]+$ ]] || { echo "weblab.sh: FANOUT_LAB_PREFIX '$prefix' is not a plain name" >&2; exit 2; }
root_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir=${FANOUT_LAB_DIR:-${TMPDIR:-/tmp}/${prefix}state}
python=/usr/bin/python3
[ -x "$python" ] || python=python3

lan4=10.204.0
lan6=fd00:204:
dns4=$lan4.2 dns6=${lan6}:2
crawler4=$lan4.3 crawler6=${lan6}:3
web6=${lan6}:10
upstream4=127.0.0.2            # the second dnsmasq, inside the dns namespace
silent4=$lan4.254              # where silent names are forwarded: a MAC that no one has
silent_mac=02:00:0a:cc:00:fe
# IANA's root key (KSK-2017): dnsmasq validates nothing without a root anchor; nothing here asks the root.
root_anchor=.,20326,8,2,E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D
# The anchor each SERVFAIL name gets: a key that does not exist. (One anchor for the whole domain
# would not do: dnsmasq then forwards the names below its --local domain without DNSSEC.)
name_anchor=4711,8,2,0000000000000000000000000000000000000000000000000000000000000000

usage() {
  { sed -n '9,/^#   -- SERVE_ARGS/p' "$0"; echo "# (the header of $0 says more: the faults, the keys up prints)"; } >&2
  exit 2
}
die() { echo "weblab.sh: $*" >&2; exit 1; }

# The namespaces of this prefix only: another prefix that starts with ours is not ours.
ours() {
  ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^${prefix//./\\.}(br|dns|web|crawler)\$" || true
}

newns() {
  ip netns add "$1"
  ip -n "$1" link set lo up
  # No router ever answers here: don't look for one, and don't make new addresses wait for DAD.
  ip netns exec "$1" sysctl -q -w net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 \
    net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 >/dev/null 2>&1 || true
}

# Joins namespace PREFIX$1 to the LAN: a veth pair, one end the bridge's port p-$1, the other the
# namespace's `lan`.
attach() {
  local ns=${prefix}$1
  ip -n "${prefix}br" link add "p-$1" type veth peer name lan netns "$ns"
  ip -n "${prefix}br" link set "p-$1" master lan up
  ip -n "$ns" link set lan up
}

# A background process in namespace $1 (the rest: the command), its own session, its output in
# files, its PID in $dir/$2.pid.
start_in() {
  local ns=${prefix}$1 name=$2
  shift 2
  setsid ip netns exec "$ns" "$@" </dev/null >"$dir/$name.out" 2>"$dir/$name.err" &
  echo $! >"$dir/$name.pid"
}

# Waits (10 s at most) until file $1 has a line, while PID $2 lives.
await_line() {
  local file=$1 pid=$2
  for _ in $(seq 1 500); do
    [ -s "$file" ] && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.02
  done
  return 1
}

fact() { echo "$1=$2" >>"$dir/facts"; }
facts_value() { sed -n "s/^$1=//p" "$dir/facts" 2>/dev/null | head -n 1; }

# The relay that delays the resolver's answers where tc netem is missing: UDP and TCP on the
# resolver's addresses, to dnsmasq on 127.0.0.1; each answer is sent DELAY ms later. Every answer
# waits the same, so the answers due form a FIFO (no timer per answer), and the UDP side is one
# epoll loop that drains each socket per wake-up: its CPU counts against the crawl on a small
# machine, and the lab should cost little beside what it imitates. TCP (rare: truncated answers)
# gets a thread per connection.
read -r -d '' relay_py <<'EOF' || true
import collections, select, socket, sys, threading, time
listen, upstream, delay = sys.argv[1].split(','), (sys.argv[2], 53), float(sys.argv[3]) / 1000

def pump(src, dst, wait):
    try:
        while data := src.recv(65536):
            if wait: time.sleep(wait)
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try: s.shutdown(socket.SHUT_RDWR)
            except OSError: pass

def tcp_client(conn):
    try:
        up = socket.create_connection(upstream)
    except OSError:
        conn.close()
        return
    threading.Thread(target=pump, args=(conn, up, 0), daemon=True).start()
    pump(up, conn, delay)

def tcp_accept(server):
    while True:
        conn, _ = server.accept()
        threading.Thread(target=tcp_client, args=(conn,), daemon=True).start()

up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
up.connect(upstream)
up.setblocking(False)
poller, by_fd = select.epoll(), {up.fileno(): up}
for address in listen:
    family = socket.AF_INET6 if ':' in address else socket.AF_INET
    front = socket.socket(family, socket.SOCK_DGRAM)
    front.bind((address, 53))
    front.setblocking(False)
    by_fd[front.fileno()] = front
    server = socket.socket(family, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((address, 53))
    server.listen(64)
    threading.Thread(target=tcp_accept, args=(server,), daemon=True).start()
for fd in by_fd:
    poller.register(fd, select.EPOLLIN)
# Query ids are rewritten on the one upstream socket; an id is reused 65536 queries later.
pending, due, next_id = {}, collections.deque(), 0
print('ready', flush=True)
while True:
    timeout = max(0.0, due[0][0] - time.monotonic()) if due else -1
    for fd, _ in poller.poll(timeout):
        sock = by_fd[fd]
        while True:
            try:
                data, client = sock.recvfrom(65536)
            except BlockingIOError:
                break
            if sock is up:
                entry = pending.pop(data[:2], None)
                if entry is not None:
                    due.append((time.monotonic() + delay, entry[0], entry[2] + data[2:], entry[1]))
            elif len(data) >= 12:
                next_id = (next_id + 1) & 0xffff
                key = next_id.to_bytes(2, 'big')
                pending[key] = (sock, client, data[:2])
                try:
                    up.send(key + data[2:])
                except BlockingIOError:
                    pass  # lost, as on a busy link: the client asks again
    now = time.monotonic()
    while due and due[0][0] <= now:
        _, front, data, client = due.popleft()
        try:
            front.sendto(data, client)
        except BlockingIOError:
            pass
EOF

# One DNS query over UDP, the answer summarised on one line.
read -r -d '' ask_py <<'EOF' || true
import random, socket, struct, sys, time
server, name, qtype, timeout = sys.argv[1], sys.argv[2], sys.argv[3].upper(), float(sys.argv[4])
types = {'A': 1, 'AAAA': 28}
qid = random.randrange(65536)
query = struct.pack('>HHHHHH', qid, 0x0100, 1, 0, 0, 0)
for label in name.rstrip('.').split('.'):
    query += bytes([len(label)]) + label.encode()
query += b'\0' + struct.pack('>HH', types[qtype], 1)
s = socket.socket(socket.AF_INET6 if ':' in server else socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(timeout)
start = time.monotonic()
try:
    s.sendto(query, (server, 53))
    while True:
        data, _ = s.recvfrom(4096)
        if data[:2] == query[:2]: break
except (socket.timeout, OSError) as e:
    print('timeout' if isinstance(e, socket.timeout) else 'error %s' % e)
    sys.exit(1)
ms = (time.monotonic() - start) * 1000
flags, qd, an = struct.unpack('>HHH', data[2:8])
rcodes = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED']
out = [rcodes[flags & 15] if flags & 15 < len(rcodes) else 'RCODE%d' % (flags & 15)]
def skip(pos):
    while True:
        n = data[pos]
        if n == 0: return pos + 1
        if n & 0xc0 == 0xc0: return pos + 2
        pos += n + 1
pos = 12
for _ in range(qd): pos = skip(pos) + 4
for _ in range(an):
    pos = skip(pos)
    rtype, _, ttl, size = struct.unpack('>HHIH', data[pos:pos + 10])
    rdata = data[pos + 10:pos + 10 + size]
    pos += 10 + size
    if rtype in (1, 28):
        out.append('%s ttl=%d' % (socket.inet_ntop(socket.AF_INET if rtype == 1 else socket.AF_INET6, rdata), ttl))
print(' '.join(out + ['%.0f ms' % ms]))
EOF

cmd_up() {
  local hosts=100 pages=10 domain=web.test ips=4 ttl=300 delay=0 nx=0 sf=0 silent=0 v6only=0 port=80
  local resolv_options="" lifetime=3600 serve_args=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --hosts) hosts=${2:?}; shift 2 ;;
      --pages) pages=${2:?}; shift 2 ;;
      --domain) domain=${2:?}; shift 2 ;;
      --ips) ips=${2:?}; shift 2 ;;
      --ttl) ttl=${2:?}; shift 2 ;;
      --dns-delay) delay=${2:?}; shift 2 ;;
      --nxdomain) nx=${2:?}; shift 2 ;;
      --servfail) sf=${2:?}; shift 2 ;;
      --silent) silent=${2:?}; shift 2 ;;
      --ipv6-only) v6only=${2:?}; shift 2 ;;
      --port) port=${2:?}; shift 2 ;;
      --resolv-options) resolv_options=${2?}; shift 2 ;;
      --lifetime) lifetime=${2:?}; shift 2 ;;
      --) shift; serve_args=("$@"); break ;;
      *) echo "weblab.sh: unknown option '$1'" >&2; usage ;;
    esac
  done
  local n
  for n in "$hosts" "$pages" "$ips" "$ttl" "$delay" "$silent" "$v6only" "$port" "$lifetime"; do
    [[ "$n" =~ ^[0-9]+$ ]] || { echo "weblab.sh: '$n' is not a whole number" >&2; exit 2; }
  done
  for n in "$nx" "$sf"; do
    [[ "$n" =~ ^(0|1|0?\.[0-9]+)$ ]] || { echo "weblab.sh: '$n' is not a share between 0 and 1" >&2; exit 2; }
  done
  [ "$hosts" -ge 1 ] && [ "$pages" -ge 1 ] || { echo "weblab.sh: --hosts and --pages must be at least 1" >&2; exit 2; }
  [ "$ips" -ge 1 ] && [ "$ips" -le 240 ] || { echo "weblab.sh: --ips must be 1..240" >&2; exit 2; }
  [ "$port" -ge 1 ] && [ "$port" -le 65535 ] || { echo "weblab.sh: --port must be 1..65535" >&2; exit 2; }
  domain=${domain,,}
  [[ "$domain" =~ ^[a-z0-9-]+(\.[a-z0-9-]+)*$ ]] || { echo "weblab.sh: --domain '$domain' is not a domain name" >&2; exit 2; }
  local fanout=${FANOUT:-$root_dir/build/cli/fanout}
  [ -x "$fanout" ] || die "no fanout binary at $fanout (build it, or set FANOUT=path)"
  command -v dnsmasq >/dev/null || PATH=$PATH:/usr/sbin
  command -v dnsmasq >/dev/null || die "no dnsmasq (apt-get install dnsmasq-base)"
  command -v curl >/dev/null || die "no curl (apt-get install curl)"

  [ -z "$(ours)" ] || die "namespaces ${prefix}* exist already: scripts/weblab.sh down first"
  local err
  if ! err=$(ip netns add "${prefix}br" 2>&1); then
    echo "weblab.sh: cannot create network namespaces here (root and iproute2 needed): $err" >&2
    exit 3
  fi
  local started
  started=$(date +%s.%N)
  # A half-made lab is worse than none.
  trap 'status=$?; [ $status -eq 0 ] || bash "$0" down >/dev/null 2>&1; exit $status' EXIT
  if [ -e "$dir" ]; then
    [ -f "$dir/.weblab" ] || die "$dir exists and is not a lab's: set FANOUT_LAB_DIR elsewhere"
    rm -rf "$dir"
  fi
  mkdir -p "$dir"
  : >"$dir/.weblab"

  ip -n "${prefix}br" link set lo up
  # No STP: a port forwards as soon as it is up, so heal takes effect at once.
  ip -n "${prefix}br" link add lan type bridge stp_state 0 forward_delay 0
  ip -n "${prefix}br" link set lan up
  local ns
  for ns in dns web crawler; do newns "${prefix}$ns" && attach "$ns"; done
  ip -n "${prefix}dns" addr add "$dns4/24" dev lan
  ip -n "${prefix}dns" addr add "$dns6/64" dev lan nodad
  ip -n "${prefix}crawler" addr add "$crawler4/24" dev lan
  ip -n "${prefix}crawler" addr add "$crawler6/64" dev lan nodad
  local web_addresses=() j
  for ((j = 0; j < ips; j++)); do web_addresses+=("$lan4.$((10 + j))"); done
  for a in "${web_addresses[@]}"; do echo "addr add $a/24 dev lan"; done | ip -n "${prefix}web" -batch -
  ip -n "${prefix}web" addr add "$web6/64" dev lan nodad
  ip -n "${prefix}dns" neigh add "$silent4" lladdr "$silent_mac" dev lan nud permanent

  # The web, on its K addresses and the IPv6 one (which serves every host).
  local host_args=() a
  for a in "${web_addresses[@]}" "$web6"; do host_args+=(--host "$a"); done
  start_in web web "$fanout" serve --synthetic "$pages" --hosts "$hosts" --domain "$domain" --ips "$ips" \
    "${host_args[@]}" --port "$port" --duration "$lifetime" "${serve_args[@]}"
  if ! await_line "$dir/web.out" "$(cat "$dir/web.pid")"; then
    die "fanout serve did not start in ${prefix}web: $(tail -n 5 "$dir/web.err")"
  fi
  local origin="http://${web_addresses[0]}" seed="http://h0.$domain/"
  [ "$port" -eq 80 ] || { origin+=":$port"; seed="http://h0.$domain:$port/"; }
  local branching
  branching=$(ip netns exec "${prefix}web" curl -s --max-time 5 "$origin/__hosts" |
    grep -o '"host_branching": *[0-9]*' | grep -o '[0-9]*$' || true)
  [ -n "$branching" ] || die "the web in ${prefix}web does not answer $origin/__hosts"

  # Which hosts fail how: leaves of the host tree (no host's root links from theirs; host k's
  # children are k*B+1 .. k*B+B), in the order of a hash, so that the rest stay linked.
  local leaves_from=$(((hosts - 1 + branching - 1) / branching))
  [ "$leaves_from" -ge 1 ] || leaves_from=1
  local n_nx n_sf
  n_nx=$(awk -v f="$nx" -v n="$hosts" 'BEGIN { printf "%d", f * n + 0.5 }')
  n_sf=$(awk -v f="$sf" -v n="$hosts" 'BEGIN { printf "%d", f * n + 0.5 }')
  local faulty=$((n_nx + n_sf + silent + v6only)) leaves=$((hosts - leaves_from))
  [ "$faulty" -le "$leaves" ] || {
    echo "weblab.sh: $faulty faulty hosts asked for, but only $leaves of the $hosts hosts are leaves of the host tree (host_branching $branching)" >&2
    exit 2
  }
  awk -v from="$leaves_from" -v n="$hosts" 'BEGIN { for (k = from; k < n; k++) printf "%d %d\n", (k * 2654435761) % 4294967296, k }' |
    sort -n -k1,1 | awk -v a="$n_nx" -v b="$n_sf" -v c="$silent" -v d="$v6only" '
      NR <= a { print $2, "nxdomain"; next }
      NR <= a + b { print $2, "servfail"; next }
      NR <= a + b + c { print $2, "silent"; next }
      NR <= a + b + c + d { print $2, "aaaa" }' >"$dir/faults"
  # The names, the resolver's hosts file, the upstream's, and the forwarding lines.
  awk -v n="$hosts" -v k="$ips" -v d="$domain" -v lan="$lan4" -v v6="$web6" -v up="$upstream4" -v sil="$silent4" \
      -v dir="$dir" -v anchor="$name_anchor" '
    FILENAME == ARGV[1] { kind[$1] = $2; next }
    END {
      for (i = 0; i < n; i++) {
        name = "h" i "." d
        v4 = lan "." (10 + i % k)
        how = (i in kind) ? kind[i] : "a"
        emit(name, how, v4)
      }
      emit("nosuch." d, "nxdomain", "-")
      emit("servfail." d, "servfail", lan ".10")
      emit("silent." d, "silent", "-")
    }
    function emit(name, how, v4) {
      address = how == "a" ? v4 : how == "aaaa" ? v6 : "-"
      print name, how, address > (dir "/names")
      if (how == "a" || how == "aaaa") print address, name > (dir "/hosts")
      if (how == "servfail") {
        print v4, name > (dir "/upstream.hosts")
        print "server=/" name "/" up > (dir "/servers.conf")
        print "trust-anchor=" name "," anchor > (dir "/servers.conf")
      }
      if (how == "silent") print "server=/" name "/" sil > (dir "/servers.conf")
    }' "$dir/faults"
  touch "$dir/hosts" "$dir/upstream.hosts" "$dir/servers.conf"

  # Latency: netem on the dns namespace's link if this kernel has it, else the relay.
  local delay_by=none listen4=$dns4 listen6=$dns6
  if [ "$delay" -gt 0 ]; then
    if ip netns exec "${prefix}dns" tc qdisc add dev lan root netem delay "${delay}ms" 2>/dev/null; then
      delay_by=netem
    else
      delay_by=relay listen4=127.0.0.1 listen6=""
    fi
  fi

  cat >"$dir/upstream.conf" <<EOF
# The zone's "authoritative" server for the SERVFAIL names: it answers them, unsigned.
no-resolv
no-hosts
listen-address=$upstream4
bind-interfaces
addn-hosts=$dir/upstream.hosts
local=/$domain/
pid-file=$dir/upstream.pid
EOF
  cat >"$dir/dnsmasq.conf" <<EOF
# The lab's resolver: authoritative (local) for $domain, nothing forwarded but the fault names.
no-resolv
no-hosts
listen-address=$listen4${listen6:+,$listen6}
bind-interfaces
local=/$domain/
addn-hosts=$dir/hosts
local-ttl=$ttl
auth-ttl=$ttl
cache-size=10000
# Silent names hold a forwarding slot each until dnsmasq gives up on them: room for many.
dns-forward-max=10000
# SERVFAIL: each SERVFAIL name has a trust anchor (servers.conf), so its answers must be signed,
# and the upstream's are not.
dnssec
trust-anchor=$root_anchor
conf-file=$dir/servers.conf
log-queries
log-facility=$dir/queries.log
pid-file=$dir/dnsmasq.pid
EOF
  ip netns exec "${prefix}dns" dnsmasq --conf-file="$dir/upstream.conf" </dev/null >/dev/null 2>"$dir/upstream.err" ||
    die "dnsmasq (upstream) did not start: $(cat "$dir/upstream.err")"
  ip netns exec "${prefix}dns" dnsmasq --conf-file="$dir/dnsmasq.conf" </dev/null >/dev/null 2>"$dir/dnsmasq.err" ||
    die "dnsmasq did not start: $(cat "$dir/dnsmasq.err")"
  if [ "$delay_by" = relay ]; then
    start_in dns relay "$python" -c "$relay_py" "$dns4,$dns6" 127.0.0.1 "$delay"
    await_line "$dir/relay.out" "$(cat "$dir/relay.pid")" || die "the DNS relay did not start: $(tail -n 5 "$dir/relay.err")"
  fi

  mkdir -p "/etc/netns/${prefix}crawler"
  {
    echo "# scripts/weblab.sh: the lab's resolver"
    echo "nameserver $dns4"
    [ -z "$resolv_options" ] || echo "options $resolv_options"
  } >"/etc/netns/${prefix}crawler/resolv.conf"

  local joined silent_hosts v6_hosts
  joined=$(IFS=,; echo "${web_addresses[*]}")
  silent_hosts=$(awk '$2 == "silent" && $1 ~ /^h[0-9]/ { printf "%s%s", sep, $1; sep = "," }' "$dir/names")
  v6_hosts=$(awk '$2 == "aaaa" { printf "%s%s", sep, $1; sep = "," }' "$dir/names")
  : >"$dir/facts"
  fact LAB_PREFIX "$prefix"
  fact LAB_DIR "$dir"
  fact NS_CRAWLER "${prefix}crawler"
  fact NS_WEB "${prefix}web"
  fact NS_DNS "${prefix}dns"
  fact NS_BRIDGE "${prefix}br"
  fact DOMAIN "$domain"
  fact HOSTS "$hosts"
  fact PAGES "$pages"
  fact IPS "$ips"
  fact PORT "$port"
  fact SEED "$seed"
  fact RESOLVER "$dns4"
  fact RESOLVER6 "$dns6"
  fact CRAWLER_ADDRESS "$crawler4"
  fact CRAWLER_ADDRESS6 "$crawler6"
  fact WEB_ADDRESSES "$joined"
  fact WEB_ADDRESS6 "$web6"
  fact IPS_URL "$origin/__ips"
  fact HOSTS_URL "$origin/__hosts"
  fact STATS_URL "$origin/__stats"
  fact TTL "$ttl"
  fact DNS_DELAY_MS "$delay"
  fact DNS_DELAY_BY "$delay_by"
  fact QUERY_LOG "$dir/queries.log"
  fact NAMES "$dir/names"
  fact NXDOMAIN_NAME "nosuch.$domain"
  fact SERVFAIL_NAME "servfail.$domain"
  fact SILENT_NAME "silent.$domain"
  fact NXDOMAIN_COUNT "$n_nx"
  fact SERVFAIL_COUNT "$n_sf"
  fact SILENT_HOSTS "$silent_hosts"
  fact IPV6_ONLY_HOSTS "$v6_hosts"
  fact RESOLVABLE_HOSTS "$((hosts - n_nx - n_sf - silent))"
  fact WEB_LOG "$dir/web.err"
  fact UP_SECONDS "$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')"
  cat "$dir/facts"
}

cmd_down() {
  local f pid ns
  # The lab's own processes first (by the PIDs it wrote), then anything else still inside its
  # namespaces (a crawler a test left behind), so that nothing outlives them.
  if [ -f "$dir/.weblab" ]; then
    for f in "$dir"/*.pid; do
      [ -f "$f" ] || continue
      pid=$(cat "$f" 2>/dev/null || true)
      [[ "$pid" =~ ^[0-9]+$ ]] && kill "$pid" 2>/dev/null || true
    done
  fi
  local left=()
  for ns in $(ours); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null && left+=("$pid"); done
  done
  # They end within a moment of SIGTERM; SIGKILL what has not after 2 s.
  for pid in "${left[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.02; done
    kill -9 "$pid" 2>/dev/null || true
  done
  for ns in $(ours); do ip netns del "$ns" 2>/dev/null || true; done
  # Only ours: /etc/netns itself may hold another lab's, being made at this moment.
  rm -rf "/etc/netns/${prefix}crawler"
  [ -f "$dir/.weblab" ] && rm -rf "$dir"
  return 0
}

cmd_cut_heal() {
  local what=${2:-} state=down
  [ "$1" = heal ] && state=up
  case "$what" in dns | web | crawler) ;; *) echo "weblab.sh: $1 dns, web or crawler" >&2; exit 2 ;; esac
  ip -n "${prefix}br" link show "p-$what" >/dev/null 2>&1 || die "no lab ${prefix}*: scripts/weblab.sh up first"
  # At the bridge, not inside: the namespace's interface stays up without a carrier, so packets
  # vanish silently as in a real outage, rather than failing at once with "network unreachable".
  ip -n "${prefix}br" link set "p-$what" "$state"
  if [ "$state" = up ]; then
    for _ in $(seq 1 100); do
      ip -n "${prefix}br" -d link show "p-$what" | grep -q 'state forwarding' && break
      sleep 0.02
    done
  fi
  echo "${prefix}$what: $1"
}

cmd=${1:-}
[ $# -eq 0 ] || shift
case "$cmd" in
  up) cmd_up "$@" ;;
  down) cmd_down ;;
  facts) [ -f "$dir/facts" ] || die "no lab ${prefix}*: scripts/weblab.sh up first"; cat "$dir/facts" ;;
  cut | heal) cmd_cut_heal "$cmd" "$@" ;;
  queries)
    log=$(facts_value QUERY_LOG)
    [ -n "$log" ] || die "no lab ${prefix}*: scripts/weblab.sh up first"
    { grep -o 'query\[[A-Za-z0-9]*\] [^ ]* from' "$log" || true; } |
      sed 's/^query\[\([^]]*\)\] \([^ ]*\) from$/\1 \2/' | sort | uniq -c | awk '{ print $1, $2, $3 }'
    ;;
  ask)
    [ $# -ge 1 ] || usage
    resolver=$(facts_value RESOLVER)
    [ -n "$resolver" ] || die "no lab ${prefix}*: scripts/weblab.sh up first"
    case "${2:-A}" in A | a | AAAA | aaaa) ;; *) echo "weblab.sh: ask NAME A or AAAA" >&2; exit 2 ;; esac
    exec ip netns exec "${prefix}crawler" "$python" -c "$ask_py" "$resolver" "$1" "${2:-A}" "${3:-3}"
    ;;
  exec)
    [ $# -ge 1 ] || usage
    exec ip netns exec "${prefix}crawler" "$@"
    ;;
  *) usage ;;
esac
