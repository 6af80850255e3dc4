# Shared by the quick-start scripts: install what is missing, then build. Sourced, not run.
# Idempotent: with everything installed and built, it costs a dpkg query and a no-op ninja run.

FANOUT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Debian 12 packages the build, the tests and the demo need.
FANOUT_PACKAGES=(
  g++ cmake ninja-build pkg-config curl sqlite3
  libcurl4-openssl-dev libgumbo-dev libsqlite3-dev libevent-dev
  libcli11-dev nlohmann-json3-dev libgtest-dev libexpat1-dev zlib1g-dev
  # the shared frontier (--frontier): libpq to build, a PostgreSQL server for its tests
  libpq-dev postgresql-15 iproute2
  # the Python samples (samples/python) and their tests, which run Debian's /usr/bin/python3
  python3 python3-requests python3-aiohttp
  # the WARC archives (warc/): libdeflate compresses each record, OpenSSL's libcrypto digests them
  libdeflate-dev libssl-dev
  # the HTTPS tests: certificates made by the openssl command line, served by a private nginx (tests/support/nginx.h)
  openssl nginx-light
  # content codings: the crawler decodes br and zstd bodies itself (util/http_body.h), the test site encodes them
  libbrotli-dev libzstd-dev
  # IDNA for link hosts (crawler/whatwg_url.cpp), as browsers map them
  libidn2-dev
  # DNS: the crawler's own resolver (c-ares), and the web lab's resolver, dnsmasq (scripts/weblab.sh)
  libc-ares-dev dnsmasq-base
)

fanout_install_deps() {
  local missing=()
  for pkg in "${FANOUT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "fanout: missing Debian packages: ${missing[*]}; run this script as root, or: sudo apt-get install ${missing[*]}" >&2
    return 1
  fi
  echo "fanout: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# fanout_commit: this tree's commit, "+changes" when it has uncommitted ones.
fanout_commit() {
  echo "$(git -C "$FANOUT_ROOT" rev-parse --short HEAD)$(git -C "$FANOUT_ROOT" diff --quiet HEAD -- || echo +changes)"
}

# fanout_machine: what a benchmark ran on (cores, CPU model).
fanout_machine() {
  echo "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
}

# fanout_build [PRESET]: configure once, then build incrementally.
# fanout_build PRESET [TARGET...]: configures once, then builds the targets named (default: all).
fanout_build() {
  local preset="${1:-default}"
  shift || true
  cd "$FANOUT_ROOT"
  local dir=build
  [ "$preset" != default ] && dir="build-$preset"
  [ -f "$dir/build.ninja" ] || cmake --preset "$preset" >/dev/null
  local targets=()
  [ $# -gt 0 ] && targets=(--target "$@")
  cmake --build --preset "$preset" -j "$(nproc)" "${targets[@]}"
}

# The benchmarks' server: fanout_start_server WORK ARGS... runs `$FANOUT serve --port 0 ARGS` in the
# background (it stops by itself after 20 minutes at most), sets $server to its PID and $url to its
# URL; fanout_stop_server stops it. A script traps EXIT with fanout_stop_server.
server=""
fanout_start_server() {
  local work="$1"; shift
  "$FANOUT" serve --port 0 --duration 1200 "$@" >"$work/url" 2>/dev/null &
  server=$!
  for _ in $(seq 200); do [ -s "$work/url" ] && break; sleep 0.05; done
  url="$(head -n 1 "$work/url")"
  [ -n "$url" ] || { echo "$(basename "$0"): fanout serve did not start" >&2; exit 1; }
}
fanout_stop_server() {
  [ -n "$server" ] && { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }
  server=""
}
