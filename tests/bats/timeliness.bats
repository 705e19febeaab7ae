#!/usr/bin/env bats
# On time at every lifetime, against real CAs: 30-second certificates from a CA
# whose renewalInfo fails (the scriptable hostile CA) and from one without ARI
# (Debian's Pebble 2.4), 6-minute ones inside Pebble v2.10.1's ARI window, and an
# order budget that cannot allow a renewal before expiry: said at once, alerted.
load lib/helpers
load lib/pebble
load lib/hostile_ca
bats_require_minimum_version 1.5.0

HOOK_PORT=18199

setup_file() { build_newer_pebble; }

setup() { fresh_env; }

teardown() {
  stop_supervisor
  stop_hostile_ca
  stop_pebble
  stop_dns
  [ -z "${HOOK_PID:-}" ] || { kill -TERM "$HOOK_PID" 2>/dev/null; wait "$HOOK_PID" 2>/dev/null || true; }
}

log_epoch() { date -d "$(cut -d' ' -f1 <<<"$1")" +%s.%N; }   # of a log line

# Each of the first N certificates was replaced by an order placed before it expired.
renewed_in_time() { # N
  mapfile -t issued < <(grep "cert_issued.*source=acme" "$LOG" | head -"$1")
  mapfile -t placed < <(grep "order_placed" "$LOG" | head -"$1")
  local i
  for ((i = 1; i < $1; i++)); do
    prev_not_after=$(date -d "$(grep -o 'not_after=[^ ]*' <<<"${issued[$((i - 1))]}" | cut -d= -f2)" +%s)
    awk -v o="$(log_epoch "${placed[$i]}")" -v e="$prev_not_after" 'BEGIN {exit !(o < e)}' ||
      { grep -E "order_|cert_issued|issue_|renewal_|renew_|backoff" "$LOG"; false; }
  done
}

@test "30-second certificates, the CA's renewalInfo answering 500: each renewed on the lifetime rule before the one it replaces expires" {
  start_hostile_ca ari-failing --lifetime 30
  SIDECERT_ORDER_BUDGET=50/1h SIDECERT_LOG_LEVEL=debug start_supervisor
  wait_until $((3 * 30 + 30)) acme_issued 3 || { cat "$LOG"; false; }
  renewed_in_time 3
  [ "$(hostile_count 'GET /renewal-info/')" -ge 2 ]   # asked, and failing
  log_has "renewal_info_failed"
  live_pair_matches
}

@test "30-second certificates from a CA without ARI (Debian's Pebble 2.4): each renewed before the one it replaces expires" {
  PEBBLE_VALIDITY=30 start_pebble
  ! curl -fsS --cacert "$SIDECERT_ACME_CA_BUNDLE" "$SIDECERT_ACME_DIRECTORY" | jq -e .renewalInfo >/dev/null || false
  SIDECERT_ORDER_BUDGET=50/1h start_supervisor
  wait_until $((3 * 30 + 30)) acme_issued 3 || { cat "$LOG"; false; }
  renewed_in_time 3
  live_pair_matches
}

@test "6-minute certificates inside Pebble v2.10.1's ARI window: the renewal in its first half, before expiry" {
  need_newer_pebble
  local life=360
  PEBBLE_PROFILES="{\"six\": {\"description\": \"6 minutes\", \"validityPeriod\": $life}}" \
    start_pebble
  SIDECERT_ACME_PROFILE=six start_supervisor
  wait_until 30 acme_issued 1
  first=$(grep "cert_issued.*source=acme" "$LOG" | head -1)
  not_before=$(date -d "$(openssl x509 -in "$LIVE/cert.pem" -noout -startdate | cut -d= -f2)" +%s)
  # the window runs from issuance to expiry: the renewal comes in its first half, 3 minutes at most
  wait_until $((life / 2 + 30)) acme_issued 2 || { cat "$LOG"; false; }
  renewed_in_time 2
  placed=$(grep "order_placed" "$LOG" | sed -n 2p)
  at=$(log_epoch "$placed" | cut -d. -f1)
  echo "# renewed $((at - not_before)) s into a ${life}-second certificate" >&3
  (( at >= not_before && at <= not_before + life / 2 + 5 ))
}

@test "an order budget that allows no renewal before expiry: renewal_at_risk at once with the reason and the expiry, and the alert" {
  mkdir -p "$BATS_TEST_TMPDIR/hook"
  /usr/bin/python3 "$ROOT/tests/bats/lib/sinks.py" webhook "$BATS_TEST_TMPDIR/hook" "$HOOK_PORT" \
    2>"$BATS_TEST_TMPDIR/sink.log" &
  HOOK_PID=$!
  wait_until 10 test -f "$BATS_TEST_TMPDIR/hook/ready"
  start_hostile_ca good --lifetime 60
  SIDECERT_ORDER_BUDGET=1/1h SIDECERT_ALERT_WEBHOOK="http://127.0.0.1:$HOOK_PORT/" start_supervisor
  wait_until 20 acme_issued 1
  wait_until 10 log_has "renewal_at_risk name="
  issued=$(grep "cert_issued.*source=acme" "$LOG" | head -1)
  risk=$(grep "renewal_at_risk name=" "$LOG" | head -1)
  not_after=$(grep -o 'not_after=[^ ]*' <<<"$issued" | cut -d= -f2)
  [[ "$risk" == *"not_after=$not_after"* ]]
  [[ "$risk" == *"order budget is spent"* ]]
  # said in the pass that placed the order, long before the certificate is even due
  awk -v r="$(log_epoch "$risk")" -v e="$(date -d "$not_after" +%s)" 'BEGIN {exit !(r < e - 30)}'
  [ "$(log_count "renewal_at_risk name=")" -eq 1 ]   # once, not every pass
  webhook_says_risk() { jq -e 'select(.condition == "renewal_at_risk" and .event == "start")' "$BATS_TEST_TMPDIR"/hook/*.json; }
  wait_until 20 webhook_says_risk
  [ "$(hostile_orders)" -eq 1 ]
}
