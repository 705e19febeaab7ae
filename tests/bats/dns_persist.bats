#!/usr/bin/env bats
# dns-persist-01 against real parts: Pebble v2.10.1 (draft-01) validating at BIND 9,
# the zone's own server, where the test plays the person who creates the record
# once. sidecert holds no DNS credential: it only reads the record, through BIND.
load lib/helpers
load lib/pebble
load lib/bind
bats_require_minimum_version 1.5.0

setup_file() { build_newer_pebble; }

setup() {
  need_newer_pebble
  fresh_env
  bind_start "$BATS_TEST_TMPDIR/bind"
  # the key stays in this shell, for bind_update: sidecert, started from it, must not inherit it
  export -n BIND_KEY_NAME BIND_KEY_SECRET BIND_KEY_FILE
  PEBBLE_DNS_SERVER="$BIND_ADDR:53" start_pebble
  unset SIDECERT_HTTP01_LISTEN
  export SIDECERT_DOMAINS='*.example.test,example.test' SIDECERT_NAME=wild SIDECERT_CHALLENGE=dns-persist-01 \
    SIDECERT_DNS_RESOLVER="$BIND_ADDR"
  LIVE="$VOL/live/wild"
}

teardown() {
  stop_supervisor
  stop_pebble
  bind_stop
  [ -z "${SILENT_PID:-}" ] || { kill "$SILENT_PID" 2>/dev/null; wait "$SILENT_PID" 2>/dev/null || true; }
}

san_of() { openssl x509 -in "$LIVE/cert.pem" -noout -ext subjectAltName | sed -n 2p | sed 's/^ *//'; }
# The record's value from a zone line dns-record printed: NAME. IN TXT "VALUE"
record_value() { sed -n 's/^_validation-persist\.example\.test\. IN TXT "\(.*\)"$/\1/p' <<<"$1"; }
# The TCP ports the running supervisor listens on (its responder's would be among them).
supervisor_listens() { ss -ltnpH | grep "pid=$SUP_PID," || true; }
# What the running supervisor was given: its environment and arguments, one a line.
supervisor_given() { tr '\0' '\n' <"/proc/$SUP_PID/environ"; tr '\0' '\n' <"/proc/$SUP_PID/cmdline"; }

@test "a wildcard and its apex through dns-persist-01: no order until the record stands, then issuance with no DNS credential and no port 80" {
  run --separate-stderr "$SIDECERT" dns-record
  [ "$status" -eq 0 ] || { echo "$stderr"; false; }
  echo "# $output" >&3
  value="$(record_value "$output")"
  # the CA's issuer name (its directory's caaIdentities), the account dns-record made, the wildcard policy
  [[ "$value" =~ ^pebble\.letsencrypt\.org\;\ accounturi=https://localhost:14000/my-account/[0-9a-f]+\;\ policy=wildcard$ ]]
  [ "$(pebble_orders)" -eq 0 ]
  start_supervisor
  wait_until 20 log_has "dns_record_missing" || { cat "$LOG"; false; }
  log_has "dns_record .*record=_validation-persist.example.test"   # run says it at start too
  jq -e '.dns_records[0].seen == false' <<<"$("$SIDECERT" status --json)" >/dev/null
  grep "dns_record_missing" "$LOG" | head -1 | grep -q "_validation-persist.example.test. IN TXT"
  [ "$(pebble_orders)" -eq 0 ]   # a missing record spends no order and no failed validation
  live_pair_matches                # the self-signed fallback serves meanwhile
  # sidecert listens on nothing, for HTTP-01 (the responder's default is port 80) or else:
  # the lineage has no use for an inbound port
  listening="$(supervisor_listens)"
  [ -z "$listening" ] || { echo "sidecert listens: $listening"; false; }
  bind_update "update add _validation-persist.example.test 60 TXT \"$value\""
  wait_until 60 acme_issued 1 || { cat "$LOG"; false; }
  [ "$(san_of)" = "DNS:*.example.test, DNS:example.test" ]
  live_pair_matches
  [ "$(pebble_orders)" -eq 1 ]
  # Pebble read the record at BIND itself
  grep -q "set VALID by completed challenge" "$BATS_TEST_TMPDIR/pebble/pebble.log"
  bind_asked_over_tcp _validation-persist.example.test
  # sidecert was given no DNS credential of any kind: no TSIG setting or update server in
  # its environment or arguments (no config file either), the key's secret nowhere in
  # them nor in its state folder
  given="$(supervisor_given)"
  ! grep -E '^SIDECERT_(DNS_TSIG_|DNS_SERVER=|CONFIG=)|^--config' <<<"$given" || false
  ! grep -qF "$BIND_KEY_SECRET" <<<"$given" || false
  ! grep -rqF "$BIND_KEY_SECRET" "$STATE" || false
  run --separate-stderr "$SIDECERT" status --json
  jq -e '.names == ["*.example.test", "example.test"] and .source == "acme" and .challenge == "dns-persist-01"' <<<"$output" >/dev/null
  # per name: the record, its value, and that it was seen in DNS (not seen at first)
  jq -e --arg v "$value" '.dns_records == [.dns_records[0]] and .dns_records[0].domain == "example.test" and
    .dns_records[0].record == "_validation-persist.example.test" and .dns_records[0].value == $v and
    .dns_records[0].seen == true' <<<"$output" >/dev/null || { echo "$output"; false; }
  # revoking the certificate leaves the account's grant: revoke says how to rotate it
  run --separate-stderr "$SIDECERT" revoke
  [ "$status" -eq 0 ] || { echo "$stderr"; false; }
  [[ "$output" == *"to rotate the account: stop sidecert, remove accounts/ from the state folder"* ]]
}

@test "a record naming another account, or lacking policy=wildcard: no order, and the log says what is wrong and what to create" {
  "$SIDECERT" dns-record >/dev/null
  bind_update "update add _validation-persist.example.test 60 TXT \"pebble.letsencrypt.org; accounturi=https://localhost:14000/my-account/999999; policy=wildcard\""
  start_supervisor
  wait_until 20 log_has "dns_record_missing" || { cat "$LOG"; false; }
  grep "dns_record_missing" "$LOG" | grep -q "names another account: https://localhost:14000/my-account/999999"
  [ "$(pebble_orders)" -eq 0 ]
  # the person fixes the account but leaves out the policy: sidecert sees the new
  # record at its next look (every 30 s) and says what is still wrong
  value="$(record_value "$("$SIDECERT" dns-record)")"
  bind_update "update delete _validation-persist.example.test TXT
update add _validation-persist.example.test 60 TXT \"${value%; policy=wildcard}\""
  wait_until 90 log_has "lacks policy=wildcard" || { cat "$LOG"; false; }
  grep "lacks policy=wildcard" "$LOG" | grep -q "dns_record_missing"
  [ "$(pebble_orders)" -eq 0 ]
}

@test "a wildcard with http-01 is refused, naming the setting; an IP address with a DNS challenge too" {
  export SIDECERT_CHALLENGE=http-01
  run --separate-stderr "$SIDECERT" check-config
  [ "$status" -eq 2 ]
  [[ "$stderr" == *"'*.example.test' is a wildcard, which http-01 cannot prove: set SIDECERT_CHALLENGE to dns-persist-01 or dns-01"* ]]
  export SIDECERT_CHALLENGE=dns-persist-01 SIDECERT_DOMAINS=example.test,127.0.0.1
  run --separate-stderr "$SIDECERT" check-config
  [ "$status" -eq 2 ]
  [[ "$stderr" == *"'127.0.0.1' is an IP address, which dns-persist-01 cannot prove"* ]]
}

@test "a DNS server that never answers: SIGTERM still ends sidecert within a second" {
  # a UDP socket at the resolver's address that reads every query and answers none
  python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.3", 53))
open(sys.argv[1], "w").close()
deadline = time.time() + 120
s.settimeout(1)
while time.time() < deadline:
    try:
        s.recvfrom(4096); open(sys.argv[2], "a").write("q\n")
    except socket.timeout:
        pass' "$BATS_TEST_TMPDIR/silent.up" "$BATS_TEST_TMPDIR/silent.queries" &
  SILENT_PID=$!
  wait_until 10 test -f "$BATS_TEST_TMPDIR/silent.up"
  export SIDECERT_DNS_RESOLVER=127.0.0.3
  overhead=$(process_overhead_ms)
  "$SIDECERT" run 2>>"$LOG" &
  SUP_PID=$!
  wait_until 30 test -s "$BATS_TEST_TMPDIR/silent.queries" || { cat "$LOG"; false; }
  signal_and_time_exit TERM
  echo "# exit $EXIT_MS ms after SIGTERM during an unanswered lookup (process start and exit: $overhead ms)" >&3
  [ "$EXIT_RC" -eq 0 ]
  [ "$EXIT_MS" -lt $((1000 + overhead)) ]
  [ "$(pebble_orders)" -eq 0 ]
}
