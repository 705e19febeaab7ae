#!/usr/bin/env bats
# Against the scriptable hostile ACME server (tests/hostile_ca): each test one way a
# CA misbehaves, and what sidecert must still do. Orders are counted at the server.
load lib/helpers
load lib/hostile_ca
bats_require_minimum_version 1.5.0

setup() { fresh_env; }

teardown() {
  stop_sampler
  stop_supervisor
  stop_hostile_ca
}

# Records the issuer of the live certificate every 0.1 s, at most 600 times.
start_sampler() {
  SAMPLES="$BATS_TEST_TMPDIR/issuers"
  (for _ in $(seq 1 600); do
    openssl x509 -in "$LIVE/cert.pem" -noout -issuer 2>/dev/null >>"$SAMPLES" || true
    sleep 0.1
  done) &
  SAMPLER_PID=$!
}
stop_sampler() {
  [ -n "${SAMPLER_PID:-}" ] || return 0
  kill "$SAMPLER_PID" 2>/dev/null || true
  wait "$SAMPLER_PID" 2>/dev/null || true
  SAMPLER_PID=
}

ms_now() { echo $(( $(date +%s%N) / 1000000 )); }
ms_of_log() { date -d "$(grep -m1 -- "$1" "$LOG" | cut -d' ' -f1)" +%s%3N; }

# MODE: the CA issues something unusable. One order, nothing of it published, the
# next order a backoff away; watched for three times the attempt's length, and at
# least three of the watcher's 1 s quiet periods, where a storm would show.
unusable_certificate_is_kept_aside() {
  start_hostile_ca "$1"
  start_sampler
  "$SIDECERT" run 2>>"$LOG" &
  SUP_PID=$!
  wait_until 30 log_has issue_failed
  attempt=$(( $(ms_of_log issue_failed) - $(ms_of_log order_placed) ))
  watch=$(( 3 * attempt > 3000 ? 3 * attempt : 3000 ))
  sleep "$(printf '%d.%03d' $((watch / 1000)) $((watch % 1000)))"
  stop_sampler
  [ "$(hostile_orders)" -eq 1 ]
  log_has "cert_unusable.*reason="
  [ "$(ls "$VOL/aside" | wc -l)" -eq 1 ]
  [ -s "$SAMPLES" ]
  ! grep -q Hostile "$SAMPLES" || false  # never published, not for a moment
  [ "$(status_field source)" = self-signed ]
  next=$(status_field "orders[\"$HOSTILE_DIR_URL\"].next_order_at")
  (( $(date -d "$next" +%s) >= $(date +%s) + 30 ))   # a minute's backoff, less what passed
  echo "# $1: 1 order in $((watch + attempt)) ms; next allowed at $next" >&3
}

@test "the hostile CA's baseline: a well-behaved mode issues, HTTP-01 checked against the responder" {
  start_hostile_ca good
  run --separate-stderr "$SIDECERT" once
  [ "$status" -eq 0 ]
  [ "$(status_field source)" = acme ]
  [ "$(hostile_orders)" -eq 1 ]
  [ "$(hostile_count '^POST /chall/')" -eq 2 ]
}

@test "a certificate for other names is kept aside, never published, and not ordered again at once" {
  unusable_certificate_is_kept_aside wrong-names
  grep -q "does not cover" "$LOG"
}

@test "an expired certificate from the CA is kept aside, never published" {
  unusable_certificate_is_kept_aside expired
  grep -q "expired on" "$LOG"
}

@test "a chain that does not link is kept aside, never published" {
  unusable_certificate_is_kept_aside unlinked-chain
  grep -q "does not link" "$LOG"
}

@test "replies that once crashed or flooded it are protocol errors: no abort, one order over three restarts" {
  for mode in null-authz many-authz huge-reply not-json; do
    rm -rf "$VOL" "$STATE"
    start_hostile_ca "$mode"
    for restart in 1 2 3; do
      run --separate-stderr "$SIDECERT" once
      [ "$status" -eq 0 ] || { echo "$mode: exit $status" >&2; echo "$stderr" >&2; false; }
    done
    [ "$(hostile_orders)" -eq 1 ] || { echo "$mode: $(hostile_orders) orders" >&2; false; }
    [ "$(hostile_count '^POST /authz/')" -eq 0 ]   # no request per listed authorization
    [ "$(status_field source)" = self-signed ]
    stop_hostile_ca
  done
}

@test "a token that is not base64url is refused before any challenge is answered" {
  start_hostile_ca bad-token
  run --separate-stderr "$SIDECERT" once
  [ "$status" -eq 0 ]
  grep -q "token is not base64url" <<<"$stderr"
  [ "$(hostile_count '^POST /chall/')" -eq 0 ]
}

@test "a Retry-After of three years, or a date in year 9999, ends the attempt with a wait of at most a week" {
  for mode in retry-after-huge retry-after-date; do
    rm -rf "$VOL" "$STATE"
    start_hostile_ca "$mode"
    run --separate-stderr timeout 120 "$SIDECERT" once
    [ "$status" -eq 0 ]   # not killed by timeout: nothing slept on the CA's word
    grep -q "past the attempt's deadline" <<<"$stderr"
    next=$(date -d "$(status_field "orders[\"$HOSTILE_DIR_URL\"].next_order_at")" +%s)
    (( next > $(date +%s) + 6 * 86400 && next <= $(date +%s) + 7 * 86400 ))
    [ "$(hostile_orders)" -eq 1 ]
    stop_hostile_ca
  done
}

@test "a thousand alternate chains: at most four are fetched" {
  start_hostile_ca many-alternates
  SIDECERT_PREFERRED_CHAIN="Nobody Root" run --separate-stderr "$SIDECERT" once
  [ "$status" -eq 0 ]
  [ "$(status_field source)" = acme ]
  alternates=$(hostile_count '/alt/')
  (( alternates >= 1 && alternates <= 4 ))
}

# MODE, WHAT: SIGTERM while the CA holds sidecert in WHAT; exits at once, no order follows.
sigterm_during() {
  start_hostile_ca "$1"
  "$SIDECERT" run 2>>"$LOG" &
  SUP_PID=$!
  wait_until 30 grep -q "$2" "$HOSTILE_LOG"
  sleep 0.5   # well inside the hold: the CA answers that request in 10 minutes, or never
  for _ in $(seq 1 20); do kill -HUP "$SUP_PID"; done   # SIGTERM is still served first
  t0=$(ms_now)
  kill -TERM "$SUP_PID"
  # Bounded wait: a run stuck in the request would outlive libcurl's 30 s timeout.
  wait_until 25 sh -c "! kill -0 $SUP_PID 2>/dev/null"
  took=$(( $(ms_now) - t0 ))
  wait "$SUP_PID" && rc=0 || rc=$?
  SUP_PID=
  echo "# $1: exit ${took} ms after SIGTERM" >&3
  [ "$rc" -eq 0 ]
  log_has attempt_stopped
  log_has stopping
  [ "$(hostile_orders)" -eq 1 ]
}

@test "SIGTERM while the CA holds the newOrder reply ends the run, no order after it" {
  sigterm_during slow-order '^POST /order$'
}

@test "SIGTERM while polling an authorization that never settles ends the run" {
  sigterm_during pending-forever '^POST /chall/'
}

@test "ARI is asked again only when its Retry-After says, across SIGHUPs and restarts" {
  start_hostile_ca ari
  SIDECERT_LOG_LEVEL=debug start_supervisor
  wait_until 30 log_has "cert_issued.*source=acme"
  wait_until 10 grep -q '^GET /renewal-info/' "$HOSTILE_LOG"
  asked=$(hostile_count '^GET /renewal-info/')
  for _ in $(seq 1 30); do kill -HUP "$SUP_PID"; sleep 0.1; done
  wait_until 20 all_forced_checks_done
  stop_supervisor
  "$SIDECERT" once 2>>"$LOG"
  [ "$(hostile_count '^GET /renewal-info/')" -eq "$asked" ]   # the CA said: 6 hours
  [ "$(hostile_orders)" -eq 1 ]
}
