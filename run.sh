#!/usr/bin/env bash
# A newcomer's first run: installs what is missing (Debian 12), builds, and starts
# the supervisor on a working default — a volume folder in .run/volume, the HTTP-01
# responder on an unprivileged port, the rest from SIDECERT_* variables.
#
#   ./run.sh                      supervisor in the foreground (Ctrl-C stops it)
#   SIDECERT_DOMAINS=a.test ./run.sh
set -euo pipefail
cd "$(dirname "$0")"
source scripts/deps.sh

ensure_packages "${BUILD_PACKAGES[@]}"
build_sidecert build sidecert >/dev/null

export SIDECERT_VOLUME="${SIDECERT_VOLUME:-$PWD/.run/volume}"
export SIDECERT_HTTP01_LISTEN="${SIDECERT_HTTP01_LISTEN:-127.0.0.1:5002}"
export SIDECERT_DOMAINS="${SIDECERT_DOMAINS:-localhost}"
export SIDECERT_ACME_DIRECTORY="${SIDECERT_ACME_DIRECTORY:-none}"

echo "sidecert: volume $SIDECERT_VOLUME, names $SIDECERT_DOMAINS; see it with:" >&2
echo "  SIDECERT_VOLUME=$SIDECERT_VOLUME SIDECERT_DOMAINS=$SIDECERT_DOMAINS build/sidecert status" >&2
exec build/sidecert run
