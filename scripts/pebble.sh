# Pebble, Let's Encrypt's test CA, and pebble-challtestsrv as its DNS (every name
# resolves to 127.0.0.1), on loopback only. Sourced by run.sh, bench/ and tests.
#
#   pebble_start DIR [ENV=VALUE...]   e.g. pebble_start "$dir" PEBBLE_WFE_NONCEREJECT=50
#       PEBBLE_EAB=1 for a Pebble that requires External Account Binding.
#       PEBBLE_BIN: another Pebble build (pebble_build_newer); PEBBLE_PROFILES: its
#       certificate profiles, a JSON object, e.g. {"shortlived": {"validityPeriod": 518400}};
#       PEBBLE_VALIDITY: seconds of every certificate (Debian's Pebble, which has no profiles).
#       PEBBLE_DNS_SERVER: ADDRESS:PORT Pebble resolves names at, instead of pebble-challtestsrv
#       (the DNS challenges' tests point it at BIND).
#       Exports SIDECERT_ACME_DIRECTORY, SIDECERT_ACME_CA_BUNDLE, SIDECERT_HTTP01_LISTEN.
#   pebble_stop                       ends the two processes it started, by PID

PEBBLE_PORT=${PEBBLE_PORT:-14000}
PEBBLE_MGMT_PORT=${PEBBLE_MGMT_PORT:-15000}
PEBBLE_DNS_PORT=${PEBBLE_DNS_PORT:-8053}
PEBBLE_DNS_MGMT_PORT=${PEBBLE_DNS_MGMT_PORT:-8055}
PEBBLE_EAB_KID=kid-1
PEBBLE_EAB_KEY=zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W

pebble_tls() { # DIR: Pebble's own TLS certificate, which is also the CA bundle clients trust
  [ -f "$1/pebble-ca.pem" ] && return 0
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$1/pebble-tls.key" -out "$1/pebble-ca.pem" 2>/dev/null
}

_pebble_up() { curl -fsS --cacert "$PEBBLE_DIR/pebble-ca.pem" "https://localhost:$PEBBLE_PORT/dir" >/dev/null 2>&1; }

pebble_start() {
  PEBBLE_DIR="$1"; shift
  mkdir -p "$PEBBLE_DIR"
  pebble_tls "$PEBBLE_DIR"
  local eab=false keys='{}'
  if [ -n "${PEBBLE_EAB:-}" ]; then eab=true; keys="{\"$PEBBLE_EAB_KID\": \"$PEBBLE_EAB_KEY\"}"; fi
  local profiles=
  [ -z "${PEBBLE_PROFILES:-}" ] || profiles=", \"profiles\": $PEBBLE_PROFILES"
  # Debian's Pebble 2.4 has no profiles: one lifetime for every certificate
  [ -z "${PEBBLE_VALIDITY:-}" ] || profiles="$profiles, \"certificateValidityPeriod\": $PEBBLE_VALIDITY"
  cat >"$PEBBLE_DIR/config.json" <<JSON
{"pebble": {"listenAddress": "127.0.0.1:$PEBBLE_PORT", "managementListenAddress": "127.0.0.1:$PEBBLE_MGMT_PORT",
 "certificate": "$PEBBLE_DIR/pebble-ca.pem", "privateKey": "$PEBBLE_DIR/pebble-tls.key",
 "httpPort": 5002, "tlsPort": 5001, "ocspResponderURL": "",
 "externalAccountBindingRequired": $eab, "externalAccountMACKeys": $keys$profiles}}
JSON
  if [ -z "${DNS_PID:-}" ] && [ -z "${PEBBLE_DNS_SERVER:-}" ]; then
    pebble-challtestsrv -defaultIPv4 127.0.0.1 -defaultIPv6 "" -dns01 "127.0.0.1:$PEBBLE_DNS_PORT" -http01 "" \
      -https01 "" -tlsalpn01 "" -management "127.0.0.1:$PEBBLE_DNS_MGMT_PORT" >"$PEBBLE_DIR/dns.log" 2>&1 &
    DNS_PID=$!
  fi
  env PEBBLE_VA_NOSLEEP="${PEBBLE_VA_NOSLEEP-1}" PEBBLE_WFE_NONCEREJECT="${PEBBLE_WFE_NONCEREJECT-0}" "$@" \
    "${PEBBLE_BIN:-pebble}" -config "$PEBBLE_DIR/config.json" -dnsserver "${PEBBLE_DNS_SERVER:-127.0.0.1:$PEBBLE_DNS_PORT}" >>"$PEBBLE_DIR/pebble.log" 2>&1 &
  PEBBLE_PID=$!
  local i
  for i in $(seq 1 200); do _pebble_up && break; sleep 0.1; done
  _pebble_up || { cat "$PEBBLE_DIR/pebble.log" >&2; return 1; }
  export SIDECERT_ACME_DIRECTORY="https://localhost:$PEBBLE_PORT/dir"
  export SIDECERT_ACME_CA_BUNDLE="$PEBBLE_DIR/pebble-ca.pem"
  export SIDECERT_HTTP01_LISTEN=127.0.0.1:5002
}

pebble_stop_ca() {
  [ -z "${PEBBLE_PID:-}" ] || { kill "$PEBBLE_PID" 2>/dev/null; wait "$PEBBLE_PID" 2>/dev/null || true; PEBBLE_PID=; }
}

pebble_stop() {
  pebble_stop_ca
  [ -z "${DNS_PID:-}" ] || { kill "$DNS_PID" 2>/dev/null; wait "$DNS_PID" 2>/dev/null || true; DNS_PID=; }
}

pebble_root() { # OUT: Pebble's root, from its management port
  curl -fsS --cacert "$PEBBLE_DIR/pebble-ca.pem" "https://localhost:$PEBBLE_MGMT_PORT/roots/0" >"$1"
}

pebble_cert_status() { # SERIAL: Valid or Revoked
  curl -fsS --cacert "$PEBBLE_DIR/pebble-ca.pem" "https://localhost:$PEBBLE_MGMT_PORT/cert-status-by-serial/$1" | jq -r .Status
}

# The newest Pebble (../shared/pebble/pebble-b1e1ca4.tar.gz, v2.10.1: ARI, profiles,
# IP identifiers, dns-persist-01), built unmodified from its vendored sources with a
# Go of at least 1.24 (the machine's /usr/local/go; Debian 12's 1.19 cannot). Built
# once into OUT_DIR; prints the path of its pebble, or fails saying what is missing.
pebble_build_newer() { # ROOT OUT_DIR
  # Two Bats workers may ask at once: one builds, the other waits for it.
  mkdir -p "$(dirname "$2")"
  (flock 9; _pebble_build_newer "$@") 9>"$2.lock"
}
_pebble_build_newer() {
  local tarball="$1/../shared/pebble/pebble-b1e1ca4.tar.gz" out="$2" go= candidate
  [ -x "$out/pebble" ] && [ -x "$out/pebble-challtestsrv" ] && { echo "$out/pebble"; return 0; }
  [ -f "$tarball" ] || { echo "no newer Pebble to build: $tarball is missing" >&2; return 1; }
  for candidate in /usr/local/go/bin/go "$(command -v go 2>/dev/null)"; do
    [ -x "$candidate" ] || continue
    local minor
    minor=$("$candidate" env GOVERSION 2>/dev/null | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
    if [ -n "$minor" ] && [ "$minor" -ge 24 ]; then go=$candidate; break; fi
  done
  [ -n "$go" ] || { echo "Pebble v2.10.1 needs Go 1.24 or later; none found (/usr/local/go/bin/go, PATH)" >&2; return 1; }
  local work
  work=$(mktemp -d)
  mkdir -p "$out"
  tar -xzf "$tarball" -C "$work" &&
    (cd "$work/pebble-b1e1ca4" && GOFLAGS=-mod=vendor GOTOOLCHAIN=local GOPROXY=off GOCACHE="$work/cache" \
      GOPATH="$work/gopath" "$go" build -trimpath -ldflags='-s -w' -o "$out/" ./cmd/pebble ./cmd/pebble-challtestsrv) >&2
  local rc=$?
  rm -rf "$work"
  [ "$rc" -eq 0 ] && echo "$out/pebble"
}
