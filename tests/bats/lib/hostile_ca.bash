# The scriptable hostile ACME server (tests/hostile_ca), one per test, on loopback.
HOSTILE_PORT=14100
HOSTILE_DIR_URL="https://localhost:$HOSTILE_PORT/dir"

# MODE [ARG...]: one of hostile_ca.py's modes, and more of its options (--lifetime
# SECONDS). Exports what points sidecert at it.
start_hostile_ca() {
  local dir="$BATS_TEST_TMPDIR/hostile"
  mkdir -p "$dir"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost -keyout "$dir/tls.key" -out "$dir/tls.pem" 2>/dev/null
  HOSTILE_LOG="$dir/requests.log"
  : >"$HOSTILE_LOG"
  /usr/bin/python3 "$ROOT/tests/hostile_ca/hostile_ca.py" --mode "$1" "${@:2}" --port "$HOSTILE_PORT" \
    --tls-cert "$dir/tls.pem" --tls-key "$dir/tls.key" --log "$HOSTILE_LOG" >"$dir/server.log" 2>&1 &
  HOSTILE_PID=$!
  wait_until 20 curl -fs --cacert "$dir/tls.pem" -o /dev/null "$HOSTILE_DIR_URL" ||
    { cat "$dir/server.log" >&2; return 1; }
  export SIDECERT_ACME_DIRECTORY="$HOSTILE_DIR_URL" SIDECERT_ACME_CA_BUNDLE="$dir/tls.pem"
  export SIDECERT_HTTP01_LISTEN=127.0.0.1:5002
}

stop_hostile_ca() {
  [ -n "${HOSTILE_PID:-}" ] || return 0
  kill "$HOSTILE_PID" 2>/dev/null || true
  wait "$HOSTILE_PID" 2>/dev/null || true
  HOSTILE_PID=
}

hostile_count() { grep -c -- "$1" "$HOSTILE_LOG" || true; }   # PATTERN: requests that match
hostile_orders() { grep -c '^POST /order$' "$HOSTILE_LOG" || true; }
