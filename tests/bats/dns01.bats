#!/usr/bin/env bats
# dns-01 over RFC 2136 against real parts: BIND 9 takes sidecert's TSIG-signed
# updates for example.test, and Pebble (Debian's) validates at BIND what sidecert
# wrote there.
load lib/helpers
load lib/pebble
load lib/bind
bats_require_minimum_version 1.5.0

setup() {
  fresh_env
  bind_start "$BATS_TEST_TMPDIR/bind"
  PEBBLE_DNS_SERVER="$BIND_ADDR:53" start_pebble
  unset SIDECERT_HTTP01_LISTEN
  export SIDECERT_DOMAINS='*.example.test,example.test' SIDECERT_NAME=wild SIDECERT_CHALLENGE=dns-01 \
    SIDECERT_DNS_SERVER="$BIND_ADDR" SIDECERT_DNS_RESOLVER="$BIND_ADDR" \
    SIDECERT_DNS_TSIG_KEY="$BIND_KEY_NAME" SIDECERT_DNS_TSIG_SECRET_FILE="$BIND_KEY_FILE"
  LIVE="$VOL/live/wild"
}

teardown() {
  stop_supervisor
  [ -z "${STOPPED_BIND:-}" ] || { kill -CONT "$STOPPED_BIND"; kill "$STOPPED_BIND"; wait "$STOPPED_BIND" 2>/dev/null || true; }
  stop_pebble
  bind_stop
}

san_of() { openssl x509 -in "$LIVE/cert.pem" -noout -ext subjectAltName | sed -n 2p | sed 's/^ *//'; }
challenge_txt() { bind_txt _acme-challenge.example.test; }
# The line of named.log where PATTERN first appears (0: nowhere).
first_line() { grep -n -m1 -E "$1" "$BIND_DIR/named.log" | cut -d: -f1 || echo 0; }

@test "a wildcard and its apex through dns-01: records at BIND before Pebble asks, gone after, no port 80, the secret never shown" {
  "$SIDECERT" once 2>"$LOG" || { cat "$LOG"; false; }
  [ "$(san_of)" = "DNS:*.example.test, DNS:example.test" ]
  live_pair_matches
  [ "$(status_field source)" = acme ]
  [ "$(pebble_orders)" -eq 1 ]
  # both values went in by a signed update, before Pebble (which asks with
  # recursion desired, where sidecert's own checks ask without) looked them up
  added=$(first_line "adding an RR at '_acme-challenge.example.test' TXT")
  asked=$(first_line "query: _acme-challenge.example.test IN TXT \+")
  echo "# named.log: added at line $added, Pebble asked at line $asked" >&3
  [ "$added" -gt 0 ] && [ "$asked" -gt "$added" ]
  [ "$(grep -c "adding an RR at '_acme-challenge.example.test' TXT" "$BIND_DIR/named.log")" -eq 2 ]
  grep -q "/key $BIND_KEY_NAME: updating zone 'example.test/IN': adding an RR at '_acme-challenge.example.test' TXT" "$BIND_DIR/named.log"
  # checked at the zone's own server (its NS, found through DNS) before the CA was told
  grep "dns_records_served" "$LOG" | grep -q "example.test: $BIND_ADDR:53"
  grep -qE "query: _acme-challenge.example.test IN TXT -" "$BIND_DIR/named.log"
  # and removed once the order was done
  [ "$(grep -c "deleting an RR at _acme-challenge.example.test TXT" "$BIND_DIR/named.log")" -eq 2 ]
  [ -z "$(challenge_txt)" ]
  [ ! -e "$STATE/dns01-wild.json" ]
  # nothing listened for HTTP-01, and the TSIG secret appears in no output
  ! log_has "responder_listening" || false
  run --separate-stderr "$SIDECERT" check-config
  [ "$status" -eq 0 ]
  [[ "$output" == *"challenge    dns-01: RFC 2136 updates to $BIND_ADDR of each name's zone (found by SOA through $BIND_ADDR), signed with the TSIG key $BIND_KEY_NAME (hmac-sha256)"* ]]
  [[ "$output" == *"http-01      none: no certificate uses it, nothing listens"* ]]
  ! grep -qF "$BIND_KEY_SECRET" <<<"$output$stderr" || false
  ! grep -qF "$BIND_KEY_SECRET" "$LOG" || false
}

@test "records a killed run left are removed before the next order, which issues" {
  stop_pebble
  PEBBLE_DNS_SERVER="$BIND_ADDR:53" PEBBLE_VA_NOSLEEP= start_pebble PEBBLE_VA_SLEEPTIME=30
  "$SIDECERT" run 2>>"$LOG" &
  SUP_PID=$!
  wait_until 60 log_has "dns_records_served" || { cat "$LOG"; false; }
  kill -KILL "$SUP_PID"; wait "$SUP_PID" 2>/dev/null || true; SUP_PID=
  left="$(challenge_txt | sort)"
  [ "$(wc -l <<<"$left")" -eq 2 ]
  jq -e '.records | length == 2' "$STATE/dns01-wild.json"
  # status shows them as added and not yet removed
  jq -e '.challenge == "dns-01" and (.dns_records | length == 2) and all(.dns_records[]; .zone == "example.test")' \
    <<<"$("$SIDECERT" status --json)" >/dev/null
  # a CA that forgot the order (restarted) leaves nothing to resume: a new order,
  # and the killed run's records go first
  stop_pebble
  PEBBLE_DNS_SERVER="$BIND_ADDR:53" start_pebble
  "$SIDECERT" once 2>"$BATS_TEST_TMPDIR/second.log" || { cat "$BATS_TEST_TMPDIR/second.log"; false; }
  grep -q order_not_resumed "$BATS_TEST_TMPDIR/second.log"
  removed=$(grep -n -m1 "dns_record_removed" "$BATS_TEST_TMPDIR/second.log" | cut -d: -f1)
  placed=$(grep -n -m1 "order_placed" "$BATS_TEST_TMPDIR/second.log" | cut -d: -f1)
  [ -n "$removed" ] && [ "$removed" -lt "$placed" ]
  grep -q "dns_record_removed record=_acme-challenge.example.test" "$BATS_TEST_TMPDIR/second.log"
  [ "$(status_field source)" = acme ]
  [ -z "$(challenge_txt)" ]
  [ ! -e "$STATE/dns01-wild.json" ]
  jq -e '.dns_records == []' <<<"$("$SIDECERT" status --json)" >/dev/null
}

@test "a DNS server that takes the connection and never answers holds up no other lineage, and SIGTERM still ends sidecert within a second" {
  # a second BIND, for the updates, stopped: the kernel still accepts its TCP
  # connections, and nothing ever answers them
  keep=("$BIND_DIR" "$BIND_PID")
  BIND_PORT=5353 bind_start "$BATS_TEST_TMPDIR/bind-stopped"
  STOPPED_BIND=$BIND_PID
  kill -STOP "$STOPPED_BIND"
  BIND_DIR=${keep[0]} BIND_PID=${keep[1]}
  cat >"$BATS_TEST_TMPDIR/sidecert.yml" <<YAML
certificates:
  - name: wild
    domains: '*.example.test'
    challenge: dns-01
  - name: site
    domains: example.test
YAML
  export SIDECERT_CONFIG="$BATS_TEST_TMPDIR/sidecert.yml" SIDECERT_DNS_SERVER=127.0.0.1:5353 SIDECERT_DNS_ZONE=example.test \
    SIDECERT_HTTP01_LISTEN=127.0.0.1:5002
  unset SIDECERT_DOMAINS SIDECERT_NAME SIDECERT_CHALLENGE
  overhead=$(process_overhead_ms)
  "$SIDECERT" run 2>>"$LOG" &
  SUP_PID=$!
  # the http-01 lineage is issued while the dns-01 one waits on the silent server
  wait_until 60 log_has "cert_issued name=site .*source=acme" || { cat "$LOG"; false; }
  ! log_has "cert_issued name=wild .*source=acme" || false
  wait_until 30 bash -c "ss -tn state established '( dport = :5353 )' | grep -q 127.0.0.1:5353"
  signal_and_time_exit TERM
  echo "# exit $EXIT_MS ms after SIGTERM during an update nobody answers (process start and exit: $overhead ms)" >&3
  [ "$EXIT_RC" -eq 0 ]
  [ "$EXIT_MS" -lt $((1000 + overhead)) ]
}

@test "each TSIG algorithm sidecert accepts signs updates BIND 9 takes and verifies BIND's signed replies; the rest are refused by check-config" {
  # the accepted list as sidecert says it, so an algorithm added there is tried here
  run --separate-stderr env SIDECERT_DNS_TSIG_ALGORITHM=hmac-none "$SIDECERT" check-config
  [ "$status" -eq 2 ]
  accepted=$(sed -n 's/.*: expected \(.*\) (make the key.*/\1/p' <<<"$stderr" | sed 's/,//g; s/ or / /')
  echo "# accepted: $accepted" >&3
  [ "$(wc -w <<<"$accepted")" -ge 2 ]
  for alg in $accepted; do
    # a lineage of its own for each key: sidecert-ALG in BIND, of that algorithm;
    # and an account of its own, so Pebble reuses no authorization another key won
    SIDECERT_NAME="alg-$alg" SIDECERT_STATE_DIR="$STATE-$alg" \
      SIDECERT_DNS_TSIG_KEY="sidecert-$alg" SIDECERT_DNS_TSIG_ALGORITHM="$alg" \
      SIDECERT_DNS_TSIG_SECRET_FILE="$BIND_DIR/$alg.secret" "$SIDECERT" once 2>"$BATS_TEST_TMPDIR/$alg.log" ||
      { echo "# $alg:" >&3; cat "$BATS_TEST_TMPDIR/$alg.log"; false; }
    # BIND took the update and the removal under that key; sidecert took BIND's
    # signed replies (an unverified one fails the update, and the order with it)
    grep -q "/key sidecert-$alg: updating zone 'example.test/IN': adding an RR at '_acme-challenge.example.test' TXT" "$BIND_DIR/named.log"
    grep -q "/key sidecert-$alg: updating zone 'example.test/IN': deleting an RR at _acme-challenge.example.test TXT" "$BIND_DIR/named.log"
    [ -s "$VOL/live/alg-$alg/cert.pem" ]
    ! grep -q "not signed with the TSIG key" "$BATS_TEST_TMPDIR/$alg.log" || false
  done
  # RFC 4635's other two, which BIND makes keys of but ldns cannot sign with
  for alg in hmac-sha384 hmac-sha224; do
    run --separate-stderr env SIDECERT_DNS_TSIG_ALGORITHM="$alg" "$SIDECERT" check-config
    [ "$status" -eq 2 ]
    [[ "$stderr" == *"SIDECERT_DNS_TSIG_ALGORITHM: '$alg' is not a TSIG algorithm sidecert can sign with (its DNS library, ldns, cannot): expected hmac-sha256, "* ]]
  done
}

@test "six dns-01 lineages whose records never reach the zone's server hold up no other lineage: the http-01 one is issued while they wait" {
  # The updates go to the primary, moved to port 5353; port 53, where the zone's
  # NS (ns.example.test, 127.0.0.1) points and the resolvers and Pebble ask, is a
  # second BIND with its own copy of example.test that never gets the primary's
  # updates: every record is placed and never served where sidecert (or a CA) looks.
  bind_stop
  BIND_PORT=5353 BIND_CHALLENGE_NAMES="d1 d2 d3 d4 d5 d6" bind_start "$BATS_TEST_TMPDIR/bind-primary"
  bind_start_copy "$BATS_TEST_TMPDIR/bind-ns" "$BIND_ADDR"
  # six dns-01 lineages first: the pass pool (4 workers) takes passes in this order
  {
    echo "certificates:"
    for i in 1 2 3 4 5 6; do printf '  - name: d%s\n    domains: d%s.example.test\n    challenge: dns-01\n' "$i" "$i"; done
    printf '  - name: site\n    domains: example.test\n'
  } >"$BATS_TEST_TMPDIR/sidecert.yml"
  export SIDECERT_CONFIG="$BATS_TEST_TMPDIR/sidecert.yml" SIDECERT_HTTP01_LISTEN=127.0.0.1:5002 \
    SIDECERT_DNS_SERVER="$BIND_ADDR:5353" SIDECERT_DNS_TSIG_KEY="$BIND_KEY_NAME" SIDECERT_DNS_TSIG_SECRET_FILE="$BIND_KEY_FILE"
  unset SIDECERT_DOMAINS SIDECERT_NAME SIDECERT_CHALLENGE
  "$SIDECERT" run 2>>"$LOG" &
  SUP_PID=$!
  # which comes first: the http-01 lineage's certificate, or a dns-01 lineage's
  # propagation timeout (180 s from its records' first add); bounded beyond that
  first_of() { grep -n -m1 -E "$1" "$LOG" | cut -d: -f1; }
  wait_until 300 bash -c "grep -qE 'cert_issued name=site .*source=acme|after 180 s' '$LOG'" || { cat "$LOG"; false; }
  site=$(first_of "cert_issued name=site .*source=acme")
  gave_up=$(first_of "after 180 s")
  placed=$(head -n "${site:-0}" "$LOG" | grep -oE "dns_record_added record=_acme-challenge\.d[1-6]\." | sort -u | wc -l)
  echo "# site issued at log line ${site:-never}, a dns-01 lineage gave up at line ${gave_up:-not yet}; dns-01 lineages placed before: $placed" >&3
  [ -n "$site" ]
  [ -z "$gave_up" ] || [ "$site" -lt "$gave_up" ]
  # the dns-01 lineages had their records placed (the pool was theirs first) and still wait
  [ "$placed" -ge 3 ]
  ! log_has "cert_issued name=d[1-6] .*source=acme" || false
  grep -q "adding an RR at '_acme-challenge.d1.example.test' TXT" "$BIND_DIR/named.log"
  [ -z "$(bind_txt _acme-challenge.d1.example.test)" ]
  grep -q "query: _acme-challenge.d1.example.test IN TXT -" "$BATS_TEST_TMPDIR/bind-ns/named.log"
}

@test "dns-01 without an update server is refused, naming the setting" {
  unset SIDECERT_DNS_SERVER
  run --separate-stderr "$SIDECERT" check-config
  [ "$status" -eq 2 ]
  [[ "$stderr" == *"SIDECERT_DNS_SERVER: dns-01 needs the address of the DNS server that takes RFC 2136 updates"* ]]
  unset SIDECERT_DNS_TSIG_KEY
  export SIDECERT_DNS_SERVER="$BIND_ADDR"
  run --separate-stderr "$SIDECERT" check-config
  [ "$status" -eq 2 ]
  [[ "$stderr" == *"a TSIG key needs both SIDECERT_DNS_TSIG_KEY (its name) and SIDECERT_DNS_TSIG_SECRET_FILE"* ]]
  ! grep -qF "$BIND_KEY_SECRET" <<<"$output$stderr" || false
}
