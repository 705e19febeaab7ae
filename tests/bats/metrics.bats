#!/usr/bin/env bats
# /metrics on its own port, scraped by a real Prometheus (Debian's), and the
# alerting rules in deploy/prometheus checked with promtool.
load lib/helpers
load lib/pebble
load lib/prometheus
bats_require_minimum_version 1.5.0

METRICS_PORT=19464

setup() {
  fresh_env
  export SIDECERT_METRICS_LISTEN="127.0.0.1:$METRICS_PORT"
}

teardown() {
  [ -z "${HOLD_PID:-}" ] || release_connections
  stop_supervisor
  prometheus_stop
  stop_pebble
  stop_dns
}

metrics() { curl -fsS "http://127.0.0.1:$METRICS_PORT/metrics"; }
metric() { metrics | awk -v m="$1" '$1 == m {print $2}'; }   # NAME{LABELS} exactly as printed


@test "Prometheus scrapes sidecert and its API answers the certificate's expiry" {
  start_pebble
  start_supervisor
  [ "$(status_field source)" = acme ]
  promtool check metrics < <(metrics)
  not_after=$(date -d "$(openssl x509 -in "$LIVE/cert.pem" -noout -enddate | cut -d= -f2)" +%s)
  prometheus_start "$BATS_TEST_TMPDIR/prometheus" "127.0.0.1:$METRICS_PORT"
  wait_until 60 prom_has 'sidecert_certificate_expiry_timestamp_seconds{lineage="example.test"}' ||
    { cat "$PROM_LOG" >&2; false; }
  [ "$(prom_query 'sidecert_certificate_expiry_timestamp_seconds{lineage="example.test"}')" = "$not_after" ]
  [ "$(prom_query 'sidecert_certificate_source{lineage="example.test",source="acme"}')" = 1 ]
  [ "$(prom_query 'up{job="sidecert"}')" = 1 ]
  # the rules loaded, and none fires for a fresh ACME certificate
  curl -fsS "http://127.0.0.1:$PROM_PORT/api/v1/rules" | jq -e '[.data.groups[].rules[]] | length == 6'
  [ "$(curl -fsS "http://127.0.0.1:$PROM_PORT/api/v1/alerts" | jq '.data.alerts | length')" -eq 0 ]
}

@test "/metrics: each lineage's figures, the responder's answers; the port-80 responder serves none of it" {
  start_pebble
  start_supervisor
  issued=$(metric 'sidecert_last_issuance_timestamp_seconds{lineage="example.test"}')
  [ -n "$issued" ] && [ "$issued" -le "$(date +%s)" ]
  [ -n "$(metric 'sidecert_last_renewal_attempt_timestamp_seconds{lineage="example.test"}')" ]
  [ "$(metric 'sidecert_certificate_valid{lineage="example.test"}')" = 1 ]
  [ "$(metric 'sidecert_renewal_consecutive_failures{lineage="example.test"}')" = 0 ]
  next=$(metric 'sidecert_next_check_timestamp_seconds{lineage="example.test"}')
  [ "$next" -gt "$(date +%s)" ]
  # Pebble fetched the challenge tokens: served, counted
  [ "$(metric 'sidecert_http01_requests_total{result="served"}')" -ge 2 ]
  before=$(metric 'sidecert_http01_requests_total{result="not_found"}')
  run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:5002/metrics"
  [ "$output" = 404 ]
  [ "$(metric 'sidecert_http01_requests_total{result="not_found"}')" -eq $((before + 1)) ]
  # and the metrics port serves nothing else
  run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$METRICS_PORT/.well-known/acme-challenge/x"
  [ "$output" = 404 ]
  run curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$METRICS_PORT/metrics"
  [ "$output" = 405 ]
}

@test "/metrics counts failed attempts and reloads; a port in use is logged and certificates go on" {
  export SIDECERT_ACME_DIRECTORY="https://127.0.0.1:9/dir"   # nothing listens: every attempt fails
  printf '#!/bin/sh\nexit 0\n' >"$BATS_TEST_TMPDIR/reload.sh" && chmod +x "$BATS_TEST_TMPDIR/reload.sh"
  export SIDECERT_RELOAD="command:$BATS_TEST_TMPDIR/reload.sh"
  start_supervisor
  [ "$(metric 'sidecert_renewal_failures_total{lineage="example.test"}')" = 1 ]
  [ "$(metric 'sidecert_renewal_consecutive_failures{lineage="example.test"}')" = 1 ]
  [ "$(metric 'sidecert_certificate_source{lineage="example.test",source="self-signed"}')" = 1 ]
  [ "$(metric 'sidecert_reloads_total{lineage="example.test"}')" = 1 ]
  # a second sidecert (another state folder) finds the port taken: it says so and serves its set anyway
  SIDECERT_STATE_DIR="$BATS_TEST_TMPDIR/state2" SIDECERT_VOLUME="$BATS_TEST_TMPDIR/vol2" \
    SIDECERT_ACME_DIRECTORY=none "$SIDECERT" run 2>"$BATS_TEST_TMPDIR/second.log" &
  second=$!
  wait_until 10 grep -q renewal_scheduled "$BATS_TEST_TMPDIR/second.log"
  kill -TERM "$second"; wait "$second"
  grep -q "metrics_failed.*127.0.0.1:$METRICS_PORT" "$BATS_TEST_TMPDIR/second.log"
}

@test "the alerting rules in deploy/prometheus pass promtool's checks and unit tests" {
  cd "$ROOT/deploy/prometheus"
  run promtool check rules sidecert-rules.yml
  [ "$status" -eq 0 ]
  [[ "$output" == *"6 rules found"* ]]
  run promtool test rules sidecert-rules.test.yml
  [ "$status" -eq 0 ]
  [[ "$output" == *SUCCESS* ]]
}

# 1,000 connections that sent half a request line and wait (a slowloris), kept at
# that count as sidecert drops them: started in the background, stopped by a file.
hold_connections() {
  HOLD_STOP="$BATS_TEST_TMPDIR/hold.stop" HOLD_STATUS="$BATS_TEST_TMPDIR/hold.count"
  rm -f "$HOLD_STOP" "$HOLD_STATUS"
  /usr/bin/python3 "$ROOT/tests/bats/lib/hold_connections.py" 127.0.0.1 "$METRICS_PORT" 1000 "$HOLD_STOP" 300 \
    "$HOLD_STATUS" &
  HOLD_PID=$!
  held_at_least() { [ "$(cat "$HOLD_STATUS" 2>/dev/null || echo 0)" -ge "$1" ]; }
  wait_until 60 held_at_least 1000
}
release_connections() { touch "$HOLD_STOP"; wait "$HOLD_PID" 2>/dev/null || true; }
fds_of() { ls "/proc/$1/fd" | wc -l; }
scrape_seconds() { curl -fsS -o /dev/null --max-time 10 -w '%{time_total}' "http://127.0.0.1:$METRICS_PORT/metrics"; }

@test "a scrape is answered promptly while 1,000 idle and half-sent connections are held; descriptors and memory return" {
  start_supervisor
  scrape_seconds >/dev/null
  unloaded=$(for _ in 1 2 3; do scrape_seconds; echo; done | sort -n | head -1)
  # well inside Prometheus' 10 s timeout: 50 times the unloaded scrape, at least 0.5 s, at most half of it
  bound=$(awk -v u="$unloaded" 'BEGIN {b = 50 * u; if (b < 0.5) b = 0.5; if (b > 5) b = 5; print b}')
  fds_before=$(fds_of "$SUP_PID")
  rss_before=$(awk '/^VmRSS/ {print $2}' "/proc/$SUP_PID/status")
  hold_connections
  slowest=0
  for _ in $(seq 1 20); do
    t=$(scrape_seconds)
    slowest=$(awk -v a="$slowest" -v b="$t" 'BEGIN {print (b > a) ? b : a}')
    (( $(fds_of "$SUP_PID") <= fds_before + 1024 + 4 ))   # bounded: the oldest go beyond 1,024
  done
  rss_loaded=$(awk '/^VmRSS/ {print $2}' "/proc/$SUP_PID/status")
  echo "# scrape unloaded ${unloaded} s; under 1,000 held connections the slowest of 20: ${slowest} s (bound ${bound} s); fds $fds_before -> up to $(fds_of "$SUP_PID"); RSS ${rss_before} -> ${rss_loaded} KiB" >&3
  awk -v s="$slowest" -v b="$bound" 'BEGIN {exit !(s <= b)}'
  (( rss_loaded <= rss_before + 32 * 1024 ))
  release_connections
  fds_back() { [ "$(fds_of "$SUP_PID")" -le "$fds_before" ]; }
  wait_until 20 fds_back
  [ "$(metrics | grep -c '^sidecert_')" -gt 0 ]
}

@test "SIGTERM ends the supervisor within a second while 1,000 connections hold the metrics port" {
  overhead=$(process_overhead_ms)
  start_supervisor
  hold_connections
  signal_and_time_exit TERM
  release_connections
  echo "# exit in $EXIT_MS ms under load (a process start and exit costs $overhead ms here)" >&3
  [ "$EXIT_RC" -eq 0 ]
  [ "$EXIT_MS" -lt $((1000 + overhead)) ]
}
