#!/usr/bin/env bats
# The ACME source against the real Pebble on loopback, each test with its own.
load lib/helpers
load lib/pebble
bats_require_minimum_version 1.5.0

setup() { fresh_env; }

teardown() {
  stop_supervisor
  stop_pebble
  stop_dns
}

chain_verifies() { # against Pebble's root, from its management port
  pebble_root "$BATS_TEST_TMPDIR/root.pem"
  openssl verify -CAfile "$BATS_TEST_TMPDIR/root.pem" -untrusted "$LIVE/chain.pem" "$LIVE/cert.pem"
}

@test "issuance with two names: the chain verifies against Pebble's root" {
  start_pebble
  run --separate-stderr "$SIDECERT" once
  [ "$status" -eq 0 ]
  [[ "$output" == "acme certificate for example.test,www.example.test in place"* ]]
  chain_verifies
  live_pair_matches
  openssl x509 -in "$LIVE/cert.pem" -noout -ext subjectAltName | grep -q "DNS:www.example.test"
  cat "$LIVE/cert.pem" "$LIVE/chain.pem" | cmp - "$LIVE/fullchain.pem"
  [ "$(status_field source)" = acme ]
  # every decision was logged: the fallback first, then the order, the challenges, the certificate
  for ev in "source=self-signed" order_placed challenge_served "cert_issued.*source=acme" "source_chosen.*source=acme"; do
    grep -q "$ev" <<<"$stderr" || { echo "missing $ev" >&2; false; }
  done
  # the account key is kept 0600 under the state folder's accounts/
  [ "$(stat -c %a "$STATE"/accounts/*/key.pem)" = 600 ]
}

@test "half of all nonces rejected (PEBBLE_WFE_NONCEREJECT=50): badNonce is retried" {
  start_pebble PEBBLE_WFE_NONCEREJECT=50
  SIDECERT_LOG_LEVEL=debug run --separate-stderr "$SIDECERT" once
  [ "$status" -eq 0 ]
  [ "$(status_field source)" = acme ]
  # Pebble rejected nonces, and sidecert retried past each one
  retries="$(grep -o 'bad_nonce_retries=[0-9]*' <<<"$stderr" | cut -d= -f2)"
  [ "$retries" -ge 1 ]
}

@test "reused authorizations (PEBBLE_AUTHZREUSE=100): a second order needs no new challenge" {
  start_pebble PEBBLE_AUTHZREUSE=100
  "$SIDECERT" once 2>/dev/null
  first="$(live_serial)"
  SIDECERT_RENEW_BEFORE="$(margin_under_lifetime)" run --separate-stderr "$SIDECERT" once
  [ "$status" -eq 0 ]
  [ "$(live_serial)" != "$first" ]
  [ "$(status_field source)" = acme ]
  ! grep -q challenge_served <<<"$stderr" || false
}

@test "some authorizations reused (PEBBLE_AUTHZREUSE=50): every renewal succeeds" {
  start_pebble PEBBLE_AUTHZREUSE=50
  "$SIDECERT" once 2>/dev/null
  for i in 1 2 3; do
    before="$(live_serial)"
    SIDECERT_RENEW_BEFORE="$(margin_under_lifetime)" run --separate-stderr "$SIDECERT" once
    [ "$status" -eq 0 ]
    [ "$(live_serial)" != "$before" ]
    [ "$(status_field source)" = acme ]
    # Pebble's validators fetch each token three times; at most one token per name
    tokens="$(grep -o 'challenge_served token_prefix=[^ ]*' <<<"$stderr" | sort -u | wc -l)"
    [ "$tokens" -le 2 ]
  done
}

@test "Pebble's default validation sleeps: polling waits them out and succeeds" {
  PEBBLE_VA_NOSLEEP= start_pebble PEBBLE_VA_SLEEPTIME=3
  run --separate-stderr "$SIDECERT" once
  [ "$status" -eq 0 ]
  [ "$(status_field source)" = acme ]
}

@test "a longer chain (PEBBLE_CHAIN_LENGTH=3) is split into leaf and intermediates that verify" {
  start_pebble PEBBLE_CHAIN_LENGTH=3
  "$SIDECERT" once 2>/dev/null
  [ "$(grep -c BEGIN "$LIVE/chain.pem")" -eq 3 ]   # three intermediates between leaf and root
  [ "$(grep -c BEGIN "$LIVE/cert.pem")" -eq 1 ]
  chain_verifies
}

@test "a CA that requires External Account Binding: a clear error without it, an account with it" {
  PEBBLE_EAB=1 start_pebble
  run --separate-stderr "$SIDECERT" once
  [ "$status" -eq 0 ]   # self-signed is in place
  [ "$(status_field source)" = self-signed ]
  grep "issue_failed" <<<"$stderr" | grep -q "requires External Account Binding: set SIDECERT_EAB_KID and SIDECERT_EAB_HMAC_KEY"
  grep -q "fallback_self_signed" <<<"$stderr"
  rm -f "$STATE/state-example.test.json"   # forget the backoff: new settings
  SIDECERT_EAB_KID="$PEBBLE_EAB_KID" SIDECERT_EAB_HMAC_KEY="$PEBBLE_EAB_KEY" "$SIDECERT" once 2>/dev/null
  [ "$(status_field source)" = acme ]
  ! grep -q "$PEBBLE_EAB_KEY" "$LOG" 2>/dev/null || false
}

@test "a first CA that is down and a second that works: the second issues" {
  start_pebble
  export SIDECERT_ACME_DIRECTORY="https://localhost:14999/dir,$SIDECERT_ACME_DIRECTORY"
  run --separate-stderr "$SIDECERT" once
  [ "$status" -eq 0 ]
  [ "$(status_field source)" = acme ]
  grep "issue_failed" <<<"$stderr" | grep -q "localhost:14999"
  # each CA has an account folder of its own, only the one that answered holds an account
  [ -f "$STATE/accounts/localhost_14000_dir/account-url" ]
  [ ! -f "$STATE/accounts/localhost_14999_dir/account-url" ]
}

@test "the CA down at start: self-signed at once, ACME when the CA comes up, no restart" {
  export SIDECERT_ACME_DIRECTORY="https://localhost:$PEBBLE_PORT/dir" SIDECERT_HTTP01_LISTEN=127.0.0.1:5002
  PEBBLE_DIR="$BATS_TEST_TMPDIR/pebble"; mkdir -p "$PEBBLE_DIR"; pebble_tls "$PEBBLE_DIR"
  export SIDECERT_ACME_CA_BUNDLE="$PEBBLE_DIR/pebble-ca.pem"   # the CA's TLS, before the CA is up
  start_supervisor
  [ "$(status_field source)" = self-signed ]
  grep "issue_failed" "$LOG" | grep -q "retry_at="
  log_has fallback_self_signed
  start_pebble
  # the first retry comes about a minute later
  wait_until 90 bash -c "[ \"\$('$SIDECERT' status --json | jq -r .source)\" = acme ]"
  live_pair_matches
}

@test "a failure's backoff is kept across restarts: no new attempt before it is due" {
  export SIDECERT_ACME_DIRECTORY="https://localhost:14999/dir"
  run --separate-stderr "$SIDECERT" once
  [ "$(grep -c issue_failed <<<"$stderr")" -eq 1 ]
  jq -e '.ledgers["https://localhost:14999/dir"].failures == 1' "$STATE/state-example.test.json" >/dev/null
  run --separate-stderr "$SIDECERT" once
  [ "$status" -eq 0 ]
  [ "$(grep -c issue_failed <<<"$stderr" || true)" -eq 0 ]
}

@test "renewal forced by a long SIDECERT_RENEW_BEFORE: a new serial, the reload run once per change" {
  start_pebble
  printf '#!/bin/sh\necho reload >>"%s/reloads"\n' "$BATS_TEST_TMPDIR" >"$BATS_TEST_TMPDIR/reload.sh"
  chmod +x "$BATS_TEST_TMPDIR/reload.sh"
  export SIDECERT_RELOAD="command:$BATS_TEST_TMPDIR/reload.sh"
  "$SIDECERT" once 2>/dev/null
  first="$(live_serial)"
  [ "$(wc -l <"$BATS_TEST_TMPDIR/reloads")" -eq 1 ]
  SIDECERT_RENEW_BEFORE="$(margin_under_lifetime)" "$SIDECERT" once 2>/dev/null
  [ "$(live_serial)" != "$first" ]
  [ "$(status_field source)" = acme ]
  [ "$(wc -l <"$BATS_TEST_TMPDIR/reloads")" -eq 2 ]
}

@test "a restart with a valid ACME certificate places no order" {
  start_pebble
  "$SIDECERT" once 2>/dev/null
  orders="$(pebble_orders)"
  [ "$orders" -eq 1 ]
  start_supervisor
  stop_supervisor
  "$SIDECERT" once 2>/dev/null
  [ "$(pebble_orders)" -eq "$orders" ]
  [ "$(ls "$STATE/accounts")" = localhost_14000_dir ]
}

@test "a CA that forgot the account (Pebble restarted): a new account with the same key, then the order" {
  start_pebble
  "$SIDECERT" once 2>/dev/null
  account="$STATE/accounts/localhost_14000_dir"
  key="$(cat "$account/key.pem")"; url="$(cat "$account/account-url")"; serial="$(live_serial)"
  stop_pebble
  start_pebble
  SIDECERT_RENEW_BEFORE="$(margin_under_lifetime)" run --separate-stderr "$SIDECERT" once
  [ "$status" -eq 0 ]
  [ "$(status_field source)" = acme ]
  [ "$(live_serial)" != "$serial" ]
  grep account_missing <<<"$stderr" | grep -q accountDoesNotExist
  [ "$(cat "$account/key.pem")" = "$key" ]
  [ -s "$account/account-url" ]
  [ "$(cat "$account/account-url")" != "$url" ]
}

@test "revoke: the CA marks it revoked, and a running supervisor replaces it" {
  start_pebble
  start_supervisor
  wait_until 10 bash -c "[ \"\$('$SIDECERT' status --json | jq -r .source)\" = acme ]"
  serial="$(live_serial)"
  run --separate-stderr "$SIDECERT" revoke --reason superseded
  [ "$status" -eq 0 ]
  [ "$(pebble_cert_status "$serial")" = Revoked ]
  wait_until 10 bash -c "[ \"\$(openssl x509 -in '$LIVE/cert.pem' -noout -serial | cut -d= -f2 | tr A-F a-f)\" != '$serial' ]"
  wait_until 10 bash -c "[ \"\$('$SIDECERT' status --json | jq -r .source)\" = acme ]"
  grep "certificate_unusable" "$LOG" | grep -q "revoked"
  run "$SIDECERT" revoke --reason nonsense
  [ "$status" -eq 2 ]
}

@test "revoke with nothing from ACME in place says so, exit 1" {
  export SIDECERT_ACME_DIRECTORY=none
  "$SIDECERT" once 2>/dev/null
  run "$SIDECERT" revoke
  [ "$status" -eq 1 ]
  [[ "$output" == *"nothing to revoke"* ]]
}

@test "a profile the CA does not advertise is a clear error" {
  start_pebble
  SIDECERT_ACME_PROFILE=shortlived run --separate-stderr "$SIDECERT" once
  grep "issue_failed" <<<"$stderr" | grep -q "does not offer the profile 'shortlived'"
  [ "$(status_field source)" = self-signed ]
}

@test "the responder answers only challenge paths of orders in flight" {
  export SIDECERT_ACME_DIRECTORY="https://localhost:14999/dir" SIDECERT_HTTP01_LISTEN=127.0.0.1:5002
  start_supervisor
  wait_until 5 log_has responder_listening
  [ "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:5002/.well-known/acme-challenge/abc_DEF-123)" = 404 ]
  [ "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:5002/)" = 404 ]
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:5002/.well-known/acme-challenge/../../etc/passwd")" = 404 ]
  [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST http://127.0.0.1:5002/.well-known/acme-challenge/abc)" = 404 ]
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:5002/.well-known/acme-challenge/$(head -c 3000 /dev/zero | tr '\0' a)")" = 404 ]
  # no keep-alive: the server closes after one answer
  curl -sv http://127.0.0.1:5002/ 2>&1 | grep -qi "connection: close"
}
