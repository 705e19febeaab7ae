#!/usr/bin/env bats
# IP address certificates (RFC 8738) from a real CA: Pebble v2.10.1 validates an
# ip identifier over HTTP-01 by connecting to the address itself at its HTTP port
# (5002 here), with the address and port as Host ("[::1]:5002"). sidecert orders
# ip identifiers, answers on its responder, publishes iPAddress SANs and renews.
load lib/helpers
load lib/pebble
bats_require_minimum_version 1.5.0

setup_file() { build_newer_pebble; }

setup() {
  need_newer_pebble
  fresh_env
}

teardown() {
  stop_supervisor
  stop_pebble
  stop_dns
}

san_of() { openssl x509 -in "${1:-$LIVE/cert.pem}" -noout -ext subjectAltName | sed -n 2p | sed 's/^ *//'; }
# The live certificate is not the first one the CA issued (taken from the log, not from
# the volume: at this lifetime the renewal may already be in place when a test looks).
renewed() {
  local first
  first=$(grep "cert_issued.*source=acme" "$LOG" | head -1 | sed -n 's/.* serial=\([0-9a-f]*\).*/\1/p' | sed 's/^0*//')
  [ -n "$first" ] && [ "$(live_serial | sed 's/^0*//')" != "$first" ]
}

# A short lifetime, so that a renewal comes within the test: the CA's window
# (issuance to expiry) puts it in the first half.
LIFE=30
short_profile() { echo "{\"short\": {\"description\": \"$LIFE seconds\", \"validityPeriod\": $LIFE}}"; }

@test "127.0.0.1 beside a DNS name: ordered as an ip identifier, validated at the address, published as an iPAddress SAN, renewed" {
  PEBBLE_PROFILES="$(short_profile)" start_pebble
  export SIDECERT_DOMAINS=example.test,127.0.0.1 SIDECERT_ACME_PROFILE=short SIDECERT_ORDER_BUDGET=20/1h
  start_supervisor
  wait_until 30 acme_issued 1 || { cat "$LOG"; false; }
  [ "$(san_of)" = "DNS:example.test, IP Address:127.0.0.1" ]
  live_pair_matches
  # the CA was asked for an ip identifier and checked the address itself
  grep -q 'Identifier{Type:"ip", Value:"127.0.0.1"}' "$BATS_TEST_TMPDIR/pebble/pebble.log"
  grep -q "validate w/ HTTP: http://127.0.0.1:5002/.well-known/acme-challenge/" "$BATS_TEST_TMPDIR/pebble/pebble.log"
  run --separate-stderr "$SIDECERT" status --json
  [ "$status" -eq 0 ]
  jq -e '.names == ["example.test", "127.0.0.1"] and .source == "acme"' <<<"$output" >/dev/null
  wait_until $((LIFE + 20)) acme_issued 2 || { cat "$LOG"; false; }
  renewed
  [ "$(san_of)" = "DNS:example.test, IP Address:127.0.0.1" ]
  live_pair_matches
}

@test "::1 alone: the responder on [::1] answers Pebble, whose Host is [::1]:5002; the folder is named by SIDECERT_NAME" {
  ip -6 addr show dev lo | grep -q '::1/128' || { echo "# no IPv6 loopback here" >&3; false; }
  PEBBLE_PROFILES="$(short_profile)" start_pebble PEBBLE_AUTHZREUSE=0   # the renewal is validated again
  export SIDECERT_DOMAINS=::1 SIDECERT_NAME=v6 SIDECERT_ACME_PROFILE=short SIDECERT_HTTP01_LISTEN='[::1]:5002'
  LIVE="$VOL/live/v6"
  start_supervisor
  wait_until 30 acme_issued 1 || { cat "$LOG"; false; }
  [ "$(san_of)" = "IP Address:0:0:0:0:0:0:0:1" ]
  grep -q 'Identifier{Type:"ip", Value:"::1"}' "$BATS_TEST_TMPDIR/pebble/pebble.log"
  grep -q 'validate w/ HTTP: http://\[::1\]:5002/' "$BATS_TEST_TMPDIR/pebble/pebble.log"
  ! openssl x509 -in "$LIVE/cert.pem" -noout -subject | grep -q "CN" || false   # no address in a CN
  live_pair_matches
  jq -e '.names == ["::1"]' < <("$SIDECERT" status --json) >/dev/null
  wait_until $((LIFE + 20)) acme_issued 2 || { cat "$LOG"; false; }
  # the renewal is a new certificate, for the address again, validated at it again
  renewed
  [ "$(san_of)" = "IP Address:0:0:0:0:0:0:0:1" ]
  [ "$(grep -o 'validate w/ HTTP: http://\[::1\]:5002/.*' "$BATS_TEST_TMPDIR/pebble/pebble.log" | sort -u | wc -l)" -ge 2 ]   # two tokens
  ! openssl x509 -in "$LIVE/cert.pem" -noout -subject | grep -q "CN" || false
  live_pair_matches
}

# The lineage NAME's live certificate came from the CA, and is the last one it logged.
issued_for() { # NAME
  local last
  last=$(grep "cert_issued name=$1 .*source=acme" "$LOG" | tail -1 | sed -n 's/.* serial=\([0-9a-f]*\).*/\1/p')
  [ -n "$last" ] && [ "$(LIVE="$VOL/live/$1" live_serial | sed 's/^0*//')" = "$(sed 's/^0*//' <<<"$last")" ]
}

@test "an IP address in a certificates: entry with http-01, alone or beside a DNS name: issued by Pebble with the address as an iPAddress SAN" {
  start_pebble
  cat >"$BATS_TEST_TMPDIR/sidecert.yml" <<YAML
certificates:
  - name: addr
    domains: [127.0.0.1]
    challenge: http-01
  - name: site
    domains: [example.test, 127.0.0.1]
    challenge: http-01
YAML
  unset SIDECERT_DOMAINS
  export SIDECERT_CONFIG="$BATS_TEST_TMPDIR/sidecert.yml"
  run --separate-stderr "$SIDECERT" check-config
  [ "$status" -eq 0 ] || { echo "$stderr"; false; }
  LIVE="$VOL/live/addr"
  start_supervisor
  wait_until 30 issued_for addr || { cat "$LOG"; false; }
  wait_until 30 issued_for site || { cat "$LOG"; false; }
  [ "$(san_of "$VOL/live/addr/cert.pem")" = "IP Address:127.0.0.1" ]
  [ "$(san_of "$VOL/live/site/cert.pem")" = "DNS:example.test, IP Address:127.0.0.1" ]
  live_pair_matches "$VOL/live/addr"
  live_pair_matches "$VOL/live/site"
  # ordered as an ip identifier, and the CA checked the address itself (the second order
  # may reuse the first one's authorization)
  grep -q 'Identifier{Type:"ip", Value:"127.0.0.1"}' "$BATS_TEST_TMPDIR/pebble/pebble.log"
  grep -q "validate w/ HTTP: http://127.0.0.1:5002/.well-known/acme-challenge/" "$BATS_TEST_TMPDIR/pebble/pebble.log"
  [ "$(pebble_orders)" -eq 2 ]
}

@test "an address spelled ambiguously is refused naming the canonical form; check-config warns of Let's Encrypt without shortlived" {
  run --separate-stderr env SIDECERT_DOMAINS=127.1 "$SIDECERT" check-config
  [ "$status" -eq 2 ]
  [[ "$stderr" == *"SIDECERT_DOMAINS"*"write it as 127.0.0.1"* ]]
  run --separate-stderr env SIDECERT_DOMAINS=example.test,2001:DB8::1 SIDECERT_ACME_DIRECTORY=letsencrypt \
    "$SIDECERT" check-config
  [ "$status" -eq 0 ]
  [[ "$output" == *"names        example.test,2001:db8::1"* ]]
  [[ "$output" == *"warning: "*"2001:db8::1"*"SIDECERT_ACME_PROFILE=shortlived"* ]]
  run --separate-stderr env SIDECERT_DOMAINS=2001:db8::1 SIDECERT_NAME=v6 SIDECERT_ACME_DIRECTORY=letsencrypt \
    SIDECERT_ACME_PROFILE=shortlived "$SIDECERT" check-config
  [ "$status" -eq 0 ]
  [[ "$output" != *"warning"* ]]
}

@test "the self-signed fallback covers the addresses, and a user certificate is judged against them" {
  export SIDECERT_DOMAINS=example.test,192.0.2.7
  run --separate-stderr "$SIDECERT" once
  [ "$status" -eq 0 ]
  [ "$(san_of)" = "DNS:example.test, IP Address:192.0.2.7" ]
  # A user set for the name only does not cover the address: refused, saying which
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=example.test \
    -addext subjectAltName=DNS:example.test -keyout "$CERTS/k.pem" -out "$CERTS/c.pem" 2>/dev/null
  drop "$CERTS/k.pem" privkey.pem && drop "$CERTS/c.pem" cert.pem && drop "$CERTS/c.pem" chain.pem
  run --separate-stderr "$SIDECERT" once
  [[ "$stderr" == *"user_cert_refused"*"does not cover 192.0.2.7"* ]]
  # One with the address as an iPAddress SAN is adopted
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=example.test \
    -addext subjectAltName=DNS:example.test,IP:192.0.2.7 -keyout "$CERTS/k.pem" -out "$CERTS/c.pem" 2>/dev/null
  drop "$CERTS/k.pem" privkey.pem && drop "$CERTS/c.pem" cert.pem && drop "$CERTS/c.pem" chain.pem
  run --separate-stderr "$SIDECERT" once
  [[ "$stderr" == *"user_cert_accepted"* ]]
  [ "$(status_field source)" = user ]
}
