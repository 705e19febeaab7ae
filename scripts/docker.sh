# A Docker engine and the base image, for the end-to-end tests and bench/.
# Sourced after scripts/deps.sh:
#   ensure_docker       installs docker.io and starts dockerd when no engine answers
#   ensure_base_image   debian:bookworm-slim, made with debootstrap when no registry
#                       can provide it (the Dockerfile stays the one users build)
#   build_images        sidecert, the gateways of deploy/, the tests' Pebble and BIND
#   image_binary        sidecert's image built from a source tree, and its static binary taken out

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
  local start=$SECONDS
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
  echo "image debian:bookworm-slim made in $((SECONDS - start)) s" >&2
}

# sidecert's image built from the tree at CONTEXT as TAG, and the static binary it
# ships copied out to OUT (bench/: it links nothing, so it runs here as it is).
image_binary() { # CONTEXT TAG OUT
  local context="$1" tag="$2" out="$3" id
  docker build -q -f "$context/docker/Dockerfile" -t "$tag" "$context" >/dev/null || return 1
  id=$(docker create "$tag") || return 1
  mkdir -p "$(dirname "$out")"
  docker cp "$id:/usr/local/bin/sidecert" "$out" >/dev/null || { docker rm "$id" >/dev/null; return 1; }
  docker rm "$id" >/dev/null
  "$out" version >/dev/null
}

# A TLS-intercepting proxy between this machine and the npm registry shows up as
# extra CAs in the machine's store; the gateway's build needs them too.
extra_ca_certs() { cat /usr/local/share/ca-certificates/*.crt 2>/dev/null || true; }

# Pebble v2.10.1 in the e2e Pebble image: its context is a folder of its own
# holding the Dockerfile and the binary built from ../shared/pebble.
_build_pebble_newer() {
  local bin context=build/e2e-pebble-newer
  bin=$(pebble_build_newer "$PWD" "$PWD/build/pebble-newer") || return 1
  rm -rf "$context" && mkdir -p "$context"
  cp tests/e2e/pebble-newer/Dockerfile "$bin" "$context/"
  _build sidecert-e2e-pebble-newer "$context"
}

build_images() {
  local log=build/docker-build.log
  : >"$log"
  _build() { # TAG CONTEXT [ARGS...]
    local tag="$1" context="$2" start=$SECONDS; shift 2
    docker build "$@" -t "$tag" "$context" >>"$log" 2>&1 || { tail -30 "$log" >&2; return 1; }
    echo "image $tag built in $((SECONDS - start)) s" >&2
  }
  _build sidecert . -f docker/Dockerfile &&
    _build sidecert-express-gateway deploy/express-gateway --build-arg EXTRA_CA_CERTS="$(extra_ca_certs)" &&
    _build sidecert-nginx deploy/nginx &&
    _build sidecert-haproxy deploy/haproxy &&
    _build sidecert-caddy deploy/caddy &&
    _build sidecert-e2e-pebble tests/e2e/pebble &&
    _build sidecert-e2e-bind tests/e2e/bind &&
    _build_pebble_newer &&
    _build sidecert-swarm-node tests/e2e/swarm-node
}
