#!/usr/bin/env bash
# HTTPS over HTTP/1.1 and over HTTP/2 against one host, as issue 16 asks: a private nginx (TLS and
# HTTP/2, certificates made here with openssl) in front of `fanout serve --latency 20`, crawled at
# -c 64 --per-host 64, three interleaved runs each. Connections and session reuse are counted at
# nginx, from its access log, not taken from the crawler.
# Usage: bash scripts/bench-tls.sh     Every load is bounded: the site is finite, nginx is stopped.
set -euo pipefail
source "$(dirname "$0")/common.sh"
fanout_install_deps
fanout_build default
cd "$FANOUT_ROOT"
FANOUT=build/cli/fanout
work="$(mktemp -d)"
nginx_pid=""
stop_all() {
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null || true
  fanout_stop_server
  rm -rf "$work"
}
trap stop_all EXIT

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/ca.key" -out "$work/ca.pem" -days 2 -subj "/CN=bench CA" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$work/server.key" -out "$work/server.csr" -subj /CN=127.0.0.1 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$work/ext"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial \
  -out "$work/server.pem" -days 2 -extfile "$work/ext" 2>/dev/null

fanout_start_server "$work" --synthetic 2000 --links 10 --page-bytes 10000 --latency 20
backend="${url#http://}"
backend="${backend%/}"
port1=$((20000 + RANDOM % 20000))
port2=$((port1 + 1))
mkdir -p "$work/nginx/logs"
cat >"$work/nginx/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
error_log $work/nginx/logs/error.log warn;
pid $work/nginx/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  log_format conns '\$server_port \$connection \$ssl_session_reused \$server_protocol';
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  ssl_certificate $work/server.pem;
  ssl_certificate_key $work/server.key;
  # nginx 1.22 (Debian 12) offers at most TLS 1.2 unless told, and resumes sessions only with a cache.
  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_session_cache shared:SSL:10m;
  keepalive_requests 100000;
  http2_max_concurrent_streams 128;
  upstream site { server $backend; keepalive 128; }
  server {
    listen 127.0.0.1:$port1 ssl;
    access_log $work/nginx/logs/access.log conns;
    location / { proxy_pass http://site; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
  server {
    listen 127.0.0.1:$port2 ssl http2;
    access_log $work/nginx/logs/access.log conns;
    location / { proxy_pass http://site; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
CONF
timeout 1200 nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" &
nginx_pid=$!
for _ in $(seq 100); do curl -s -o /dev/null --cacert "$work/ca.pem" "https://127.0.0.1:$port1/" && break; sleep 0.1; done

echo "== HTTPS, one host, --synthetic 2000 at 20 ms, -c 64 --per-host 64 ($(fanout_machine), $(fanout_commit))"
printf '%-9s %-5s %10s %12s %10s %8s\n' protocol run pages/s connections reused http_version
for run in 1 2 3; do
  for proto in 1.1 2; do
    port=$port1; flags=(--no-http2)
    [ "$proto" = 2 ] && { port=$port2; flags=(); }
    : >"$work/nginx/logs/access.log"
    rm -f "$work/c.db"*
    "$FANOUT" crawl "https://127.0.0.1:$port/" --db "$work/c.db" --cacert "$work/ca.pem" -c 64 --per-host 64 \
      --quiet --report "$work/r.json" "${flags[@]}"
    pps=$(grep -o '"pages_per_second":[0-9.e+-]*' "$work/r.json" | cut -d: -f2)
    conns=$(awk -v p="$port" '$1 == p {print $2}' "$work/nginx/logs/access.log" | sort -u | wc -l)
    reused=$(awk -v p="$port" '$1 == p && $3 == "r" {print $2}' "$work/nginx/logs/access.log" | sort -u | wc -l)
    version=$(sqlite3 "$work/c.db" "SELECT group_concat(DISTINCT http_version) FROM pages")
    printf '%-9s %-5s %10.1f %12s %10s %8s\n' "HTTP/$proto" "$run" "$pps" "$conns" "$reused" "$version"
  done
done
