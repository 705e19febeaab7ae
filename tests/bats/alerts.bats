#!/usr/bin/env bats
# Alerts through real receivers: mail to an SMTP server (aiosmtpd) and webhooks to
# an HTTP server, both on loopback; `sidecert test-alert`; start, reminder and
# clear from a running supervisor, none repeated by a restart loop, and issuance
# that no slow or refusing receiver holds up.
load lib/helpers
load lib/pebble
bats_require_minimum_version 1.5.0

SMTP_PORT=12525
HOOK_PORT=18099
SINKS="/usr/bin/python3 $ROOT/tests/bats/lib/sinks.py"

setup() {
  fresh_env
  MAIL="$BATS_TEST_TMPDIR/mail"
  HOOK="$BATS_TEST_TMPDIR/hook"
  SINK_PIDS=()
  make_ca "$CERTS" root
  make_leaf "$CERTS" localhost root localhost
  export SIDECERT_EMAIL=ops@example.test SIDECERT_ALERT_CA_BUNDLE="$CERTS/root.pem"
}

teardown() {
  stop_supervisor
  local pid
  for pid in "${SINK_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${SINK_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  stop_pebble
  stop_dns
}

start_sink() { # KIND DIR PORT [ARGS...]
  local kind="$1" dir="$2"
  rm -f "$dir/ready"
  $SINKS "$@" 2>>"$BATS_TEST_TMPDIR/sinks.log" &
  SINK_PIDS+=($!)
  wait_until 10 test -f "$dir/ready" || { cat "$BATS_TEST_TMPDIR/sinks.log" >&2; return 1; }
}

start_smtp() { start_sink smtp "$MAIL" "$SMTP_PORT" --cert "$CERTS/localhost.pem" --key "$CERTS/localhost.key" "$@"; }
start_hook() { start_sink webhook "$HOOK" "$HOOK_PORT" "$@"; }
stop_sink() { # INDEX in SINK_PIDS
  kill -TERM "${SINK_PIDS[$1]}" && wait "${SINK_PIDS[$1]}" 2>/dev/null || true
}

mails() { ls "$MAIL"/*.eml 2>/dev/null | wc -l; }
hooks() { ls "$HOOK"/*.json 2>/dev/null | wc -l; }
mails_at_least() { [ "$(mails)" -ge "$1" ]; }
hooks_at_least() { [ "$(hooks)" -ge "$1" ]; }
subject_of() { grep -m1 '^Subject: ' "$MAIL/$1.eml" | cut -d' ' -f2- | tr -d '\r'; }

@test "test-alert: mail over STARTTLS with a password from a file, and a webhook; secrets never printed" {
  start_smtp --tls starttls --auth "alerts:pa55-word"
  start_hook
  printf 'pa55-word\n' >"$BATS_TEST_TMPDIR/smtp-password"
  export SIDECERT_SMTP_URL="smtp://localhost:$SMTP_PORT" SIDECERT_SMTP_USER=alerts \
    SIDECERT_SMTP_PASSWORD_FILE="$BATS_TEST_TMPDIR/smtp-password" \
    SIDECERT_ALERT_WEBHOOK="http://127.0.0.1:$HOOK_PORT/T0KEN-in-url"
  run --separate-stderr "$SIDECERT" test-alert
  [ "$status" -eq 0 ]
  [[ "$output" == *"mail: delivered"* ]]
  [[ "$output" == *"webhook: delivered"* ]]
  [ "$(mails)" -eq 1 ] && [ "$(hooks)" -eq 1 ]
  grep -q '^X-Session-TLS: yes' "$MAIL/1.eml"
  grep -q '^X-Session-Auth: yes' "$MAIL/1.eml"
  grep -q '^X-Envelope-To: ops@example.test' "$MAIL/1.eml"
  [[ "$(subject_of 1)" == "[sidecert] test alert from "* ]]
  [ "$(jq -r .event "$HOOK/1.json")" = test ]
  [[ "$(jq -r .text "$HOOK/1.json")" == *"this channel works"* ]]
  # neither the password nor the webhook's token is in what sidecert printed
  run "$SIDECERT" check-config
  ! grep -q -e pa55-word -e T0KEN <<<"$output$stderr" || false
}

@test "test-alert: implicit TLS (smtps); a refusing relay is named, exit 1, the webhook still gets it" {
  start_smtp --tls tls --refuse
  start_hook
  export SIDECERT_SMTP_URL="smtps://localhost:$SMTP_PORT" SIDECERT_ALERT_WEBHOOK="http://127.0.0.1:$HOOK_PORT/"
  run --separate-stderr "$SIDECERT" test-alert
  [ "$status" -eq 1 ]
  [[ "$output" == *"mail: FAILED"*"451"* ]] || { echo "$output" >&2; false; }
  [[ "$stderr" == *"not delivered through mail"* ]]
  [[ "$output" == *"webhook: delivered"* ]]
  [ "$(hooks)" -eq 1 ]
  # the relay working, both go through
  stop_sink 0
  start_smtp --tls tls
  run "$SIDECERT" test-alert
  [ "$status" -eq 0 ]
  [ "$(mails)" -eq 1 ]
  grep -q '^X-Session-TLS: yes' "$MAIL/1.eml"
}

@test "test-alert: a webhook answering 500 is named; nothing configured is a usage error" {
  start_sink webhook "$HOOK" "$HOOK_PORT" --status 500
  export SIDECERT_ALERT_WEBHOOK="http://127.0.0.1:$HOOK_PORT/"
  run --separate-stderr "$SIDECERT" test-alert
  [ "$status" -eq 1 ]
  [[ "$output" == *"webhook: FAILED: webhook: the receiver answered HTTP 500"* ]]
  unset SIDECERT_ALERT_WEBHOOK
  run --separate-stderr "$SIDECERT" test-alert
  [ "$status" -eq 2 ]
  [[ "$stderr" == *"no alert channel is configured"* ]]
}

@test "test-alert in ntfy's form: the text as the body, title, priority and tags as headers" {
  start_hook
  export SIDECERT_ALERT_WEBHOOK="http://127.0.0.1:$HOOK_PORT/sidecert-topic" SIDECERT_ALERT_WEBHOOK_FORMAT=ntfy
  run "$SIDECERT" test-alert
  [ "$status" -eq 0 ]
  grep -qi '^Content-Type: text/plain' "$HOOK/1.headers"
  grep -qi '^Title: \[sidecert\] test alert from ' "$HOOK/1.headers"
  grep -qi '^Priority: default' "$HOOK/1.headers"
  grep -qi '^Tags: sidecert,test' "$HOOK/1.headers"
  grep -q 'this channel works' "$HOOK/1.json"   # the body, whatever the sink names it
  ! jq -e . "$HOOK/1.json" >/dev/null 2>&1 || false
}

@test "bad alert and metrics settings exit 2 naming the key" {
  for bad in "SIDECERT_SMTP_URL=http://relay.example.test" "SIDECERT_SMTP_URL=smtp//relay" \
    "SIDECERT_SMTP_TLS=ssl" "SIDECERT_ALERT_WEBHOOK=ftp://hooks.example.test/x" \
    "SIDECERT_ALERT_WEBHOOK_FORMAT=slack" "SIDECERT_METRICS_LISTEN=9464" "SIDECERT_ALERT_REMIND=never"; do
    run --separate-stderr env "$bad" SIDECERT_SMTP_URL="${bad#SIDECERT_SMTP_URL=}" "$SIDECERT" check-config
    # (SIDECERT_SMTP_URL is set to the bad value itself, or to a valid relay for the other keys)
    [ "$status" -eq 2 ] || { echo "$bad: status $status" >&2; false; }
    [[ "$stderr" == *"${bad%%=*}"* ]] || { echo "$bad: $stderr" >&2; false; }
  done
}

@test "a running supervisor mails a start, reminders and one clear; the webhook gets the same as JSON" {
  start_smtp --tls starttls
  start_hook
  export SIDECERT_SMTP_URL="smtp://localhost:$SMTP_PORT" SIDECERT_ALERT_WEBHOOK="http://127.0.0.1:$HOOK_PORT/" \
    SIDECERT_ALERT_AFTER=1s SIDECERT_ALERT_REMIND=3s SIDECERT_USER_GRACE=1s
  start_supervisor   # ACME is off: the self-signed fallback serves
  wait_until 20 mails_at_least 2
  [[ "$(subject_of 1)" == "[sidecert] critical: example.test: self signed" ]] || { subject_of 1 >&2; false; }
  [[ "$(subject_of 2)" == "[sidecert] still critical: example.test: self signed" ]]
  grep -q "what to do:" "$MAIL/1.eml"
  [ "$(jq -r .event "$HOOK/1.json")" = start ]
  [ "$(jq -r .condition "$HOOK/1.json")" = self_signed ]
  [ "$(jq -r .lineage "$HOOK/1.json")" = example.test ]
  # a user's certificate ends it: one clear each, and no reminder after it
  make_leaf "$CERTS" good root example.test,www.example.test
  drop "$CERTS/good.key" privkey.pem
  drop "$CERTS/good.pem" cert.pem
  wait_until 10 log_has user_cert_accepted
  wait_until 10 bash -c "grep -l '^Subject: \[sidecert\] resolved: example.test: self signed' '$MAIL'/*.eml"
  wait_until 10 bash -c "jq -e 'select(.event == \"clear\")' '$HOOK'/*.json"
  count=$(mails)
  sleep 4   # longer than the reminder interval
  [ "$(mails)" -eq "$count" ]
  [ "$(grep -c '^Subject: .*resolved' "$MAIL"/*.eml | awk -F: '{s+=$2} END {print s}')" -eq 1 ]
  # nothing is left to tell
  [ "$(jq '.records | length' "$STATE/alerts.json")" -eq 0 ]
}

@test "a restart loop sends the start once: the record survives kill -9" {
  start_smtp --tls starttls
  export SIDECERT_SMTP_URL="smtp://localhost:$SMTP_PORT" SIDECERT_ALERT_AFTER=1s
  start_supervisor
  wait_until 20 mails_at_least 1
  first_latency_log=$(grep -m1 alert_sent "$LOG")
  [ -n "$first_latency_log" ]
  for i in 1 2 3 4 5; do
    kill -KILL "$SUP_PID"; wait "$SUP_PID" 2>/dev/null || true; SUP_PID=
    : >"$LOG"
    start_supervisor
    # a resend would go out right after the first pass, as the first one did (1 s
    # after it): wait past that before the next crash
    sleep 1.5
  done
  [ "$(mails)" -eq 1 ]
  ! log_has alert_sent || false
}

@test "a slow mail relay and a refusing webhook hold up no issuance; the webhook gets it once it answers" {
  start_pebble
  start_smtp --tls starttls --delay 120   # takes the message, answers two minutes later
  start_sink webhook "$HOOK" "$HOOK_PORT" --status 503
  make_leaf "$CERTS" expiring root user.example.test "$(utc_offset '-80 days')" "$(utc_offset '+10 days')"
  cat >"$BATS_TEST_TMPDIR/sidecert.yml" <<YAML
certificates:
  - name: user
    domains: user.example.test
  - name: api
    domains: api.example.test
YAML
  mkdir -p "$VOL/live/user"
  cp "$CERTS/expiring.key" "$VOL/live/user/privkey.pem"
  cp "$CERTS/expiring.pem" "$VOL/live/user/cert.pem"
  export SIDECERT_CONFIG="$BATS_TEST_TMPDIR/sidecert.yml" SIDECERT_DOMAINS= SIDECERT_SMTP_URL="smtp://localhost:$SMTP_PORT" \
    SIDECERT_ALERT_WEBHOOK="http://127.0.0.1:$HOOK_PORT/"
  unset SIDECERT_DOMAINS
  LIVE="$VOL/live/api"
  start_supervisor
  wait_until 20 bash -c "grep -q 'cert_issued name=api source=acme' '$LOG'"
  # the user's certificate is in its margin: the relay has the start notice and sits on it
  wait_until 20 test -f "$MAIL/receiving"
  wait_until 20 log_has "alert_not_delivered channel=webhook"
  grep "alert_not_delivered channel=webhook" "$LOG" | grep -q "HTTP 503"
  serial=$(live_serial)
  # a new certificate for api now, while the mail is stuck and the webhook refuses
  run "$SIDECERT" revoke --name api
  [ "$status" -eq 0 ]
  wait_until 20 bash -c "[ -n \"\$(openssl x509 -in '$LIVE/cert.pem' -noout -serial 2>/dev/null)\" ] && \
    [ \"\$(openssl x509 -in '$LIVE/cert.pem' -noout -serial | cut -d= -f2 | tr A-F a-f)\" != '$serial' ]"
  [ "$(grep -c 'cert_issued name=api source=acme' "$LOG")" -eq 2 ]
  [ "$(mails)" -eq 0 ]   # the relay still holds the first mail: issuance did not wait for it
  # the webhook answers again: the retry delivers the start notice
  stop_sink 1
  start_hook
  wait_until 60 hooks_at_least 1
  [ "$(jq -r .condition "$HOOK/1.json")" = user_cert_expiring ]
  [ "$(jq -r .lineage "$HOOK/1.json")" = user ]
}
