#!/usr/bin/env bash
# A newcomer's first run: installs what is missing (Debian 12), builds, and starts
# the supervisor on a working default — a volume folder in .run/volume, the HTTP-01
# responder on an unprivileged port, the rest from SIDECERT_* variables.
#
#   ./run.sh                      supervisor in the foreground (Ctrl-C stops it)
#   ./run.sh --pebble             the same, with a real ACME issuance from a local
#                                 Pebble (Let's Encrypt's test CA) on loopback
#   SIDECERT_DOMAINS=a.test ./run.sh
set -euo pipefail
cd "$(dirname "$0")"
source scripts/deps.sh

pebble=false
case "${1:-}" in
  --pebble) pebble=true ;;
  "") ;;
  *) echo "usage: ./run.sh [--pebble]" >&2; exit 2 ;;
esac

ensure_packages "${BUILD_PACKAGES[@]}"
build_sidecert build sidecert >/dev/null

export SIDECERT_VOLUME="${SIDECERT_VOLUME:-$PWD/.run/volume}"
export SIDECERT_STATE_DIR="${SIDECERT_STATE_DIR:-$PWD/.run/state}"
export SIDECERT_HTTP01_LISTEN="${SIDECERT_HTTP01_LISTEN:-127.0.0.1:5002}"

if ! $pebble; then
  export SIDECERT_DOMAINS="${SIDECERT_DOMAINS:-localhost}"
  export SIDECERT_ACME_DIRECTORY="${SIDECERT_ACME_DIRECTORY:-none}"
  echo "sidecert: volume $SIDECERT_VOLUME, names $SIDECERT_DOMAINS; see it with:" >&2
  echo "  SIDECERT_VOLUME=$SIDECERT_VOLUME SIDECERT_STATE_DIR=$SIDECERT_STATE_DIR SIDECERT_DOMAINS=$SIDECERT_DOMAINS build/sidecert status" >&2
  exec build/sidecert run
fi

# Pebble validates on 127.0.0.1:5002 (where the responder listens) and its DNS
# resolves every name to 127.0.0.1, so any name works here.
ensure_packages pebble curl jq
source scripts/pebble.sh
export SIDECERT_DOMAINS="${SIDECERT_DOMAINS:-example.test,www.example.test}"
trap pebble_stop EXIT
pebble_start "$PWD/.run/pebble"
echo "pebble: $SIDECERT_ACME_DIRECTORY (log in .run/pebble/pebble.log)" >&2

build/sidecert once
build/sidecert status
name="${SIDECERT_NAME:-${SIDECERT_DOMAINS%%,*}}"
openssl x509 -in "$SIDECERT_VOLUME/live/$name/cert.pem" -noout -subject -issuer -ext subjectAltName -dates

echo "sidecert: now supervising (Ctrl-C stops it and Pebble)" >&2
build/sidecert run
