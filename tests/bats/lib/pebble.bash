# Pebble, Let's Encrypt's test CA, on loopback, with pebble-challtestsrv as its DNS
# (every name resolves to 127.0.0.1, so Pebble validates against our responder
# on 127.0.0.1:5002). Each test starts its own, and stops it by PID.
#
#   start_pebble [ENV=VALUE...]     e.g. start_pebble PEBBLE_WFE_NONCEREJECT=50
#   PEBBLE_EAB=1 start_pebble       a Pebble that requires External Account Binding
#   stop_pebble

PEBBLE_PORT=14000
PEBBLE_MGMT_PORT=15000
PEBBLE_DNS_PORT=8053
PEBBLE_EAB_KID=kid-1
PEBBLE_EAB_KEY=zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W

pebble_tls() { # DIR: a CA and a localhost certificate for Pebble's own TLS
  [ -f "$1/pebble-ca.pem" ] && return 0
  make_ca "$1" pebble-ca
  make_leaf "$1" pebble-tls pebble-ca localhost
}

start_dns() {
  pebble-challtestsrv -defaultIPv4 127.0.0.1 -defaultIPv6 "" -dns01 "127.0.0.1:$PEBBLE_DNS_PORT" \
    -http01 "" -https01 "" -tlsalpn01 "" -management 127.0.0.1:8055 >"$BATS_TEST_TMPDIR/dns.log" 2>&1 &
  DNS_PID=$!
}

pebble_up() { curl -fsS --cacert "$PEBBLE_DIR/pebble-ca.pem" "https://localhost:$PEBBLE_PORT/dir" >/dev/null 2>&1; }

start_pebble() {
  PEBBLE_DIR="$BATS_TEST_TMPDIR/pebble"
  mkdir -p "$PEBBLE_DIR"
  pebble_tls "$PEBBLE_DIR"
  local eab=false keys='{}'
  if [ -n "${PEBBLE_EAB:-}" ]; then eab=true; keys="{\"$PEBBLE_EAB_KID\": \"$PEBBLE_EAB_KEY\"}"; fi
  cat >"$PEBBLE_DIR/config.json" <<JSON
{"pebble": {"listenAddress": "127.0.0.1:$PEBBLE_PORT", "managementListenAddress": "127.0.0.1:$PEBBLE_MGMT_PORT",
 "certificate": "$PEBBLE_DIR/pebble-tls.pem", "privateKey": "$PEBBLE_DIR/pebble-tls.key",
 "httpPort": 5002, "tlsPort": 5001, "ocspResponderURL": "",
 "externalAccountBindingRequired": $eab, "externalAccountMACKeys": $keys}}
JSON
  [ -n "${DNS_PID:-}" ] || start_dns
  env PEBBLE_VA_NOSLEEP="${PEBBLE_VA_NOSLEEP-1}" PEBBLE_WFE_NONCEREJECT="${PEBBLE_WFE_NONCEREJECT-0}" "$@" \
    pebble -config "$PEBBLE_DIR/config.json" -dnsserver "127.0.0.1:$PEBBLE_DNS_PORT" >>"$BATS_TEST_TMPDIR/pebble.log" 2>&1 &
  PEBBLE_PID=$!
  wait_until 20 pebble_up || { cat "$BATS_TEST_TMPDIR/pebble.log" >&2; return 1; }
  export SIDECERT_ACME_DIRECTORY="https://localhost:$PEBBLE_PORT/dir"
  export SIDECERT_ACME_CA_BUNDLE="$PEBBLE_DIR/pebble-ca.pem"
  export SIDECERT_HTTP01_LISTEN=127.0.0.1:5002
}

stop_pebble() {
  [ -z "${PEBBLE_PID:-}" ] || { kill "$PEBBLE_PID" 2>/dev/null; wait "$PEBBLE_PID" 2>/dev/null || true; PEBBLE_PID=; }
}

stop_dns() {
  [ -z "${DNS_PID:-}" ] || { kill "$DNS_PID" 2>/dev/null; wait "$DNS_PID" 2>/dev/null || true; DNS_PID=; }
}

pebble_root() { # OUT: Pebble's root, from its management port
  curl -fsS --cacert "$PEBBLE_DIR/pebble-ca.pem" "https://localhost:$PEBBLE_MGMT_PORT/roots/0" >"$1"
}

pebble_cert_status() { # SERIAL: Valid or Revoked
  curl -fsS --cacert "$PEBBLE_DIR/pebble-ca.pem" "https://localhost:$PEBBLE_MGMT_PORT/cert-status-by-serial/$1" | jq -r .Status
}

pebble_orders() { grep -c "POST /order-plz" "$BATS_TEST_TMPDIR/pebble.log" || true; }
