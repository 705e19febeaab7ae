#!/usr/bin/env bats
# Let's Encrypt's 6-day certificates, from a newer Pebble with certificate profiles
# (built from ../shared/pebble by scripts/pebble.sh; Debian's Pebble 2.4 has none).
load lib/helpers
load lib/pebble
bats_require_minimum_version 1.5.0

setup_file() {
  PEBBLE_BIN="$(pebble_build_newer "$ROOT" "$ROOT/build/pebble-newer")" || PEBBLE_BIN=
  export PEBBLE_BIN
}

setup() {
  [ -n "$PEBBLE_BIN" ] || skip "no newer Pebble (../shared/pebble is not beside the repository)"
  fresh_env
}

teardown() {
  stop_supervisor
  stop_pebble
  stop_dns
}

cert_epoch() { date -d "$(openssl x509 -in "$LIVE/cert.pem" -noout "-$1" | cut -d= -f2)" +%s; }

@test "6-day certificates with a 30-day renew_before: one order, renewal a third of the lifetime before expiry" {
  PEBBLE_PROFILES='{"shortlived": {"description": "six days", "validityPeriod": 518400}}' start_pebble
  SIDECERT_ACME_PROFILE=shortlived SIDECERT_RENEW_BEFORE=30d SIDECERT_LOG_LEVEL=debug start_supervisor
  wait_until 30 log_has "cert_issued.*source=acme"
  lifetime=$(( $(cert_epoch enddate) - $(cert_epoch startdate) ))
  (( lifetime <= 6 * 86400 + 60 ))   # the profile was honoured
  for _ in $(seq 1 20); do kill -HUP "$SUP_PID"; sleep 0.1; done
  wait_until 20 all_forced_checks_done
  sleep 3   # three of the watcher's quiet periods: a self-inflicted wake would show by now
  [ "$(pebble_orders)" -eq 1 ]
  [ "$(log_count renew_before_too_long)" -eq 1 ]   # warned once for the set
  next=$(date -d "$(status_field next_check)" +%s)
  expected=$(( $(cert_epoch enddate) - lifetime / 3 ))
  (( next >= expected - 2 && next <= expected + 2 ))
  echo "# 1 order; next check in $(( (next - $(date +%s)) / 3600 )) h, for a ${lifetime} s certificate" >&3
}
