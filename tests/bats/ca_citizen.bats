#!/usr/bin/env bats
# A good citizen of the CA under faults: orders counted at the real Pebble.
load lib/helpers
load lib/pebble
bats_require_minimum_version 1.5.0

setup() { fresh_env; }

teardown() {
  stop_supervisor
  [ -z "${HOLD_PID:-}" ] || { kill "$HOLD_PID" 2>/dev/null; wait "$HOLD_PID" 2>/dev/null || true; }
  stop_pebble
  stop_dns
}

# Pebble's check of example.test goes to 127.0.0.2:5002, where it is held unanswered
# (held_validation.py) until the test creates $RELEASE, then passed to the responder at
# 127.0.0.1:5002: a validation is known to be under way, for as long as the test needs,
# instead of for one of Pebble's random sleeps (which let it validate before the kill
# one time in six). Checks that arrive once $CUTOFF exists are never answered.
# Pebble gives up on a check after 15 s.
hold_validations() {
  RELEASE="$BATS_TEST_TMPDIR/release" HELD="$BATS_TEST_TMPDIR/held" CUTOFF="$BATS_TEST_TMPDIR/cutoff"
  curl -fsS -X POST -d '{"host":"example.test","addresses":["127.0.0.2"]}' \
    "http://127.0.0.1:$PEBBLE_DNS_MGMT_PORT/add-a" >/dev/null
  python3 "$ROOT/tests/bats/lib/held_validation.py" 127.0.0.2 5002 127.0.0.1 5002 "$RELEASE" "$HELD" 60 "$CUTOFF" &
  HOLD_PID=$!
  wait_until 10 test -s "$HELD"
}
validation_held() { [ "$(cat "$HELD")" -ge 1 ]; }
# Every check Pebble started for example.test is held: as many as it checks one
# challenge from ("Starting 3 validations.", its perspectives).
whole_check_held() {
  local perspectives
  perspectives=$(sed -n 's/.*Starting \([0-9]*\) validations\..*/\1/p' "$BATS_TEST_TMPDIR/pebble/pebble.log" | head -1)
  [ -n "$perspectives" ] && [ "$(cat "$HELD")" -ge "$perspectives" ]
}
# The responder answers the check that is held: released now, it succeeds.
responder_answers_held_check() {
  local path
  path=$(head -1 "$HELD.requests" | cut -d' ' -f2)
  [ -n "$path" ] && curl -fsS -o /dev/null "http://127.0.0.1:5002$path"
}

@test "kill -9 while an order is being validated: the restart resumes it, Pebble counts one order" {
  start_pebble
  hold_validations
  "$SIDECERT" once 2>"$BATS_TEST_TMPDIR/first.log" &
  pid=$!
  wait_until 20 whole_check_held || { cat "$BATS_TEST_TMPDIR/first.log"; false; }
  # Pebble is checking, and nothing answers it until the restarted responder listens.
  # The restart POSTs the challenge again: that second check is left unanswered.
  touch "$CUTOFF"
  kill -KILL "$pid"
  wait "$pid" 2>/dev/null || true
  ! grep -q "cert_issued.*source=acme" "$BATS_TEST_TMPDIR/first.log" || false
  jq -e '.pending_order.url' "$STATE/state-example.test.json" >/dev/null
  "$SIDECERT" once 2>"$BATS_TEST_TMPDIR/second.log" &
  pid=$!
  # released only once the restarted sidecert answers the resumed order's challenge
  wait_until 20 responder_answers_held_check || { cat "$BATS_TEST_TMPDIR/second.log"; false; }
  touch "$RELEASE"
  wait "$pid" || { cat "$BATS_TEST_TMPDIR/second.log"; false; }
  [ "$(pebble_orders)" -eq 1 ]
  [ "$(status_field source)" = acme ]
  grep -q order_resumed "$BATS_TEST_TMPDIR/second.log"
  ! grep -q order_placed "$BATS_TEST_TMPDIR/second.log" || false
  [ "$(pebble_orders)" -eq 1 ]
  run jq -e '.pending_order' "$STATE/state-example.test.json"
  [ "$status" -ne 0 ]   # ended once the certificate was in hand
}

@test "SIGTERM during validation ends run within a second or so, and no order follows" {
  start_pebble
  hold_validations   # and never released: the check is under way until Pebble gives up, after 15 s
  "$SIDECERT" run 2>>"$LOG" &
  SUP_PID=$!
  wait_until 20 validation_held || { cat "$LOG"; false; }
  orders="$(pebble_orders)"
  t0=$(date +%s%N)
  kill -TERM "$SUP_PID"
  wait "$SUP_PID"
  rc=$?
  SUP_PID=
  took=$(( ($(date +%s%N) - t0) / 1000000 ))
  echo "# exit ${took} ms after SIGTERM, mid-validation" >&3
  [ "$rc" -eq 0 ]
  log_has attempt_stopped
  log_has "stopping"
  ! log_has "cert_issued.*source=acme" || false
  [ "$(pebble_orders)" -eq "$orders" ]
  # within the promised second (and what a process exit costs here), not after
  # Pebble's check, which nothing answers
  (( took < 1000 + $(process_overhead_ms) ))
}

@test "a renewal margin past the lifetime and a stream of SIGHUPs: one order, not a storm" {
  start_pebble
  SIDECERT_RENEW_BEFORE=3650d start_supervisor   # Pebble issues for 5 years
  wait_until 20 log_has cert_issued
  for i in $(seq 1 30); do kill -HUP "$SUP_PID"; sleep 0.1; done
  sleep 2   # the watcher's quiet period, twice: a self-inflicted wake would show by now
  [ "$(pebble_orders)" -eq 1 ]
  [ "$(log_count renew_before_too_long)" -ge 1 ]   # warned, once per set it applies to
  kill -TERM "$SUP_PID"
  wait "$SUP_PID"
  SUP_PID=
  log_has stopping
}

@test "the order budget holds across restarts: a sixth order in a week is refused with a date" {
  start_pebble
  for i in 1 2 3 4 5; do
    SIDECERT_RENEW_BEFORE="$( [ -e "$LIVE/cert.pem" ] && margin_under_lifetime || echo 30d)" "$SIDECERT" once 2>/dev/null
  done
  [ "$(pebble_orders)" -eq 5 ]
  SIDECERT_RENEW_BEFORE="$(margin_under_lifetime)" run --separate-stderr "$SIDECERT" once
  [ "$status" -eq 0 ]   # the valid set stays in place
  [ "$(pebble_orders)" -eq 5 ]
  grep order_deferred <<<"$stderr" | grep -q "next_order_at="
  [ "$(status_field 'orders["https://localhost:14000/dir"].orders_in_window')" -eq 5 ]
  # a setting widens it, for a private CA
  SIDECERT_ORDER_BUDGET=10/7d SIDECERT_RENEW_BEFORE="$(margin_under_lifetime)" "$SIDECERT" once 2>/dev/null
  [ "$(pebble_orders)" -eq 6 ]
}
