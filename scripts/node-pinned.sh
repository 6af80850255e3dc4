#!/usr/bin/env bash
# Installs the npm packages pinned in a folder's package.json + package-lock.json into DIR, for the
# tests that check fanout's output with tools that are not ours (warcio.sh, report-browser.sh).
# Sourced, not run: node_pinned_install SRC DIR PACKAGE, where PACKAGE is one the lockfile installs
# (its presence says the install is whole). The folder's *.mjs scripts are copied into DIR, so
# that their imports resolve from DIR/node_modules.
#
# Idempotent: when DIR/node_modules was installed from the same package.json and lockfile, it
# installs nothing. Needs node >= 18 and npm; only when either is missing does it install Debian's
# (as root), so a newer node from elsewhere stays. The lockfiles name no registry: npm fetches from
# the one it is configured with, and checks each package against the lockfile's integrity hash.

source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

node_pinned_install() {
  local src=$1 dir=$2 package=$3 me
  me=$(basename "$0")
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    FANOUT_PACKAGES=(nodejs npm)
    fanout_install_deps || return 1
  fi
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 18 ] || { echo "$me: node 18 or newer is needed, this is $(node --version)" >&2; return 1; }

  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  # What the install was made from; node_modules is current when its stamp matches.
  local want stamp
  want=$(cat "$src/package.json" "$src/package-lock.json" | sha256sum | cut -d' ' -f1)
  stamp="$dir/node_modules/.fanout-install"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || [ ! -f "$dir/node_modules/$package/package.json" ]; then
    cp "$src/package.json" "$src/package-lock.json" "$dir/"
    # npm ci removes node_modules first and installs exactly the lockfile's versions; its output goes
    # to stderr, so a caller's stdout carries only what it prints.
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) >&2
    echo "$want" > "$stamp"
  fi
  cp "$src"/*.mjs "$dir/"
}
