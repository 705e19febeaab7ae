# A Docker engine and the base image, for the end-to-end tests and bench/.
# Sourced after scripts/deps.sh:
#   ensure_docker       installs docker.io and starts dockerd when no engine answers
#   ensure_base_image   debian:bookworm-slim, made with debootstrap when no registry
#                       can provide it (the Dockerfile stays the one users build)

DOCKERD_LOG=${DOCKERD_LOG:-/var/log/sidecert-dockerd.log}

ensure_docker() {
  docker info >/dev/null 2>&1 && return 0
  command -v dockerd >/dev/null || ensure_packages docker.io
  command -v docker >/dev/null || ensure_packages docker.io
  echo "starting dockerd (log: $DOCKERD_LOG)" >&2
  # setsid: the engine outlives this script, like a system service would
  setsid dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
  local i
  for i in $(seq 1 60); do docker info >/dev/null 2>&1 && return 0; sleep 1; done
  echo "dockerd did not answer within 60 s; see $DOCKERD_LOG" >&2
  tail -20 "$DOCKERD_LOG" >&2
  return 1
}

ensure_base_image() {
  docker image inspect debian:bookworm-slim >/dev/null 2>&1 && return 0
  ensure_packages debootstrap
  local dir
  dir="$(mktemp -d /var/tmp/sidecert-rootfs.XXXXXX)"
  echo "building debian:bookworm-slim with debootstrap (a few minutes, once)" >&2
  if ! debootstrap --variant=minbase bookworm "$dir" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$dir.log" 2>&1; then
    tail -20 "$dir.log" >&2
    rm -rf "$dir"
    return 1
  fi
  # the same trimming Debian's slim images do: no docs, no apt lists
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/var/cache/apt/*.bin
  tar -C "$dir" -c . | docker import - debian:bookworm-slim >/dev/null
  rm -rf "$dir" "$dir.log"
}
