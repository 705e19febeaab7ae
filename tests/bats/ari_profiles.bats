#!/usr/bin/env bats
# Tomorrow's certificates against a real CA: Pebble v2.10.1 with certificate
# profiles and ARI (RFC 9773), built from ../shared/pebble by scripts/pebble.sh
# (Debian's Pebble 2.4 has neither): profiles named in orders, renewals timed by
# the CA's window and naming what they replace, certificates of 40 seconds renewed
# in real time by `run`, and the CA lost in the middle of that.
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

cert_epoch() { date -d "$(openssl x509 -in "${2:-$LIVE/cert.pem}" -noout "-$1" | cut -d= -f2)" +%s; }

b64url_hex() { printf '%b' "$(sed 's/../\\x&/g' <<<"$1")" | basenc --base64url -w0 | tr -d '='; }

# RFC 9773's certificate id, computed here from the certificate: the authority key
# identifier and the serial's DER value (a zero byte first where the top bit is set).
ari_cert_id() { # CERT_PEM
  local aki serial
  aki=$(openssl x509 -in "$1" -noout -ext authorityKeyIdentifier | sed -n 2p | sed 's/keyid://; s/[ :]//g')
  serial=$(openssl x509 -in "$1" -noout -serial | cut -d= -f2)
  [[ $serial =~ ^[89A-F] ]] && serial="00$serial"
  echo "$(b64url_hex "$aki").$(b64url_hex "$serial")"
}

# The window the CA suggests for CERT, asked of it directly: "START END" in epoch seconds.
ari_window() { # CERT_PEM
  local url
  url=$(curl -fsS --cacert "$SIDECERT_ACME_CA_BUNDLE" "$SIDECERT_ACME_DIRECTORY" | jq -r .renewalInfo)
  curl -fsS --cacert "$SIDECERT_ACME_CA_BUNDLE" "$url/$(ari_cert_id "$1")" |
    jq -r '.suggestedWindow | "\(.start) \(.end)"' | while read -r start end; do
      echo "$(date -d "$start" +%s) $(date -d "$end" +%s)"
    done
}

log_epoch() { date -d "$(cut -d' ' -f1 <<<"$1")" +%s.%N; }   # of a log line
# Pebble shows an order valid (wfe.go's finalization goroutine, CompleteOrder)
# before it files the certificate's serial (AddOrderByIssuedSerial), and looks a
# `replaces` up only there: a renewal sent in between, which a loaded machine and
# renewals at whole seconds allow, is refused with this message and placed again
# without `replaces`. Not the client's fault, and no other refusal is excused.
pebble_had_not_filed_the_serial() { # ISSUED_LINE ORDER_PLACED_LINE: sidecert met that refusal between them
  local from to
  from=$(grep -nF "$1" "$LOG" | head -1 | cut -d: -f1) to=$(grep -nF "$2" "$LOG" | head -1 | cut -d: -f1)
  sed -n "${from},${to}p" "$LOG" | grep -q "order_without_replaces.*could not find an order for the given certificate"
}

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

@test "the order names the profile, the CA echoes it, and ARI's window (asked of the CA) sets the renewal, not the lifetime rule" {
  PEBBLE_PROFILES='{"default": {"description": "90 days", "validityPeriod": 7776000},
    "long": {"description": "180 days", "validityPeriod": 15552000},
    "shortlived": {"description": "six days", "validityPeriod": 518400}}' start_pebble
  curl -fsS --cacert "$SIDECERT_ACME_CA_BUNDLE" "$SIDECERT_ACME_DIRECTORY" |
    jq -e '(.renewalInfo | length > 0) and (.meta.profiles | keys == ["default", "long", "shortlived"])' >/dev/null
  SIDECERT_ACME_PROFILE=long SIDECERT_LOG_LEVEL=debug start_supervisor
  wait_until 30 log_has "renewal_info"
  # the CA's own reply to the order names the profile (Pebble picks one at random for an order that names none)
  [ "$(log_count "order_placed.*profile=long")" -eq 1 ]
  lifetime=$(( $(cert_epoch enddate) - $(cert_epoch startdate) ))
  (( lifetime >= 15552000 - 60 && lifetime <= 15552000 + 60 ))
  grep -q "GET /draft-ietf-acme-ari-03/renewalInfo/" "$BATS_TEST_TMPDIR/pebble/pebble.log"
  read -r start end < <(ari_window "$LIVE/cert.pem")
  renew_at=$(grep "renewal_info" "$LOG" | grep -o 'renew_at=[^ ]*' | cut -d= -f2)
  echo "# ARI window $(date -ud @"$start" +%FT%TZ) .. $(date -ud @"$end" +%FT%TZ); renewal at $renew_at" >&3
  next=$(date -d "$renew_at" +%s)
  (( next >= start && next <= start + (end - start) / 2 ))   # its first half: the rest is left for retries
  # until then, the CA is asked again when its Retry-After (6 hours) says
  ask=$(date -d "$(status_field next_check)" +%s)
  (( ask >= $(date +%s) + 6 * 3600 - 60 && ask <= $(date +%s) + 6 * 3600 ))
  # the lifetime rule (30 days before expiry) falls outside that window: the CA's window decided
  own=$(( $(cert_epoch enddate) - 30 * 86400 ))
  (( own < start || own > end ))
}

@test "a profile the CA does not offer: an error naming the setting and what it offers, no order, self-signed in place" {
  PEBBLE_PROFILES='{"default": {"description": "90 days", "validityPeriod": 7776000},
    "shortlived": {"description": "six days", "validityPeriod": 518400}}' start_pebble
  SIDECERT_ACME_PROFILE=sixday run --separate-stderr "$SIDECERT" once
  echo "$stderr" | grep "issue_failed" | grep "does not offer the profile 'sixday'" | grep "offers: default, shortlived" |
    grep -q "SIDECERT_ACME_PROFILE"
  [ "$(pebble_orders)" -eq 0 ]
  openssl x509 -in "$LIVE/cert.pem" -noout -issuer | grep -q "CN *= *example.test"
  live_pair_matches
}

@test "40-second certificates: run renews them again and again inside ARI's window, each renewal names the one it replaces; the CA lost: the set kept, then 1 and 10 minutes of backoff" {
  local life=40
  PEBBLE_PROFILES="{\"minute\": {\"description\": \"$life seconds\", \"validityPeriod\": $life}}" start_pebble
  make_reload_script
  SIDECERT_ACME_PROFILE=minute SIDECERT_ORDER_BUDGET=50/1h start_supervisor
  # the first and three renewals: the CA's window here is the whole lifetime, so at most four lifetimes
  wait_until $(( 4 * life + 30 )) acme_issued 4
  mapfile -t issued < <(grep "cert_issued.*source=acme" "$LOG" | head -4)
  mapfile -t placed < <(grep "order_placed" "$LOG" | head -4)
  wait_until 10 reloads_at_least 4
  for i in 0 1 2 3; do
    serial=$(grep -o 'serial=[0-9a-f]*' <<<"${issued[$i]}" | cut -d= -f2)
    grep -qi "$serial" "$BATS_TEST_TMPDIR/reloads"   # the gateway was told of each
    [ "$i" -gt 0 ] || continue
    # renewed before the certificate it replaces expired, and named it: the CA says which order it replaces
    prev_not_after=$(date -d "$(grep -o 'not_after=[^ ]*' <<<"${issued[$((i - 1))]}" | cut -d= -f2)" +%s)
    (( $(log_epoch "${placed[$i]}" | cut -d. -f1) < prev_not_after )) ||
      { grep -E "order_|cert_issued|issue_|renewal_|pass_|backoff" "$LOG"; false; }   # what happened, when it fails
    order=$(grep -o 'order=[^ ]*' <<<"${placed[$i]}" | sed 's,.*/,,')
    prev_order=$(grep -o 'order=[^ ]*' <<<"${placed[$((i - 1))]}" | sed 's,.*/,,')
    grep -q "ARI: order \"$order\" is a replacement of \"$prev_order\"" "$BATS_TEST_TMPDIR/pebble/pebble.log" ||
      pebble_had_not_filed_the_serial "${issued[$((i - 1))]}" "${placed[$i]}" ||
      { echo "# order $i ($order) does not replace $prev_order as Pebble saw it:"
        grep -E "ARI|replace|[Pp]roblem" "$BATS_TEST_TMPDIR/pebble/pebble.log" | tail -20
        grep -E "order_|cert_issued|issue_|renewal_|replaces" "$LOG"; false; }   # seen once in 10 runs
  done
  live_pair_matches
  for set in "$VOL"/archive/example.test/*/; do live_pair_matches "$set"; done
  echo "# 4 certificates of ${life} s in $(( $(log_epoch "${issued[3]}" | cut -d. -f1) - $(log_epoch "${issued[0]}" | cut -d. -f1) )) s" >&3

  # The CA goes away just after a renewal: the set stays while it is valid, and the
  # attempts back off by 1 minute, then 10.
  before=$(log_count "cert_issued.*source=acme") failed=$(log_count issue_failed)
  wait_until $(( 2 * life )) acme_issued $((before + 1))
  stop_pebble
  serial=$(live_serial)
  failures_reach() { [ "$(log_count issue_failed)" -ge $((failed + $1)) ]; }
  wait_until $(( life + 10 )) failures_reach 1
  first=$(grep "issue_failed" "$LOG" | sed -n "$((failed + 1))p")
  [ "$(live_serial)" = "$serial" ]
  live_pair_matches
  wait_until $(( 60 + 30 )) failures_reach 2
  second=$(grep "issue_failed" "$LOG" | sed -n "$((failed + 2))p")
  gap=$(awk -v a="$(log_epoch "$first")" -v b="$(log_epoch "$second")" 'BEGIN {printf "%.1f", b - a}')
  echo "# the CA lost: retried after ${gap} s" >&3
  awk -v g="$gap" 'BEGIN {exit !(g >= 60)}'
  wait_until 10 [ "$(status_field 'orders[]'.failures)" -ge 2 ]
  next=$(date -d "$(status_field 'orders[]'.next_order_at)" +%s)
  (( next >= $(log_epoch "$second" | cut -d. -f1) + 600 - 1 ))
}
