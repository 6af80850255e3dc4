#!/usr/bin/env bash
# Installs webrecorder's warcio (a WARC reader in JavaScript, pinned in tests/warc/js) into DIR, for
# the tests that check the WARC files fanout writes with a reader that is not ours.
#
#   scripts/warcio.sh DIR    # prints the path of the record dumper to run: node "$(scripts/warcio.sh DIR)" FILE...
#
# Idempotent: when DIR/node_modules was installed from the same package.json and lockfile, it installs
# nothing. Needs node >= 18 and npm; only when either is missing does it install Debian's (as root),
# so a newer node from elsewhere stays. The lockfile names no registry: npm fetches from the one it is
# configured with, and checks each package against the lockfile's integrity hash.
set -euo pipefail

src="$(cd "$(dirname "${BASH_SOURCE[0]}")/../tests/warc/js" && pwd)"
dir=${1:-}
[ -n "$dir" ] || { sed -n '2,10p' "$0" >&2; exit 2; }

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "warcio.sh: node and npm are needed; run as root, or: sudo apt-get install nodejs npm" >&2
    exit 1
  fi
  echo "warcio.sh: installing Debian's nodejs and npm" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 18 ] || { echo "warcio.sh: warcio needs node 18 or newer, this is $(node --version)" >&2; exit 1; }

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
# What the install was made from; node_modules is current when its stamp matches.
want=$(cat "$src/package.json" "$src/package-lock.json" | sha256sum | cut -d' ' -f1)
stamp="$dir/node_modules/.fanout-install"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || [ ! -f "$dir/node_modules/warcio/package.json" ]; then
  cp "$src/package.json" "$src/package-lock.json" "$dir/"
  # npm ci removes node_modules first and installs exactly the lockfile's versions; its output goes to
  # stderr, so stdout carries only the path below.
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) >&2
  echo "$want" > "$stamp"
fi
# The script resolves `import "warcio"` from where it lives, so it runs from DIR.
cp "$src/warc_records.mjs" "$dir/"
echo "$dir/warc_records.mjs"
