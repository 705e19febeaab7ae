#!/usr/bin/env bats
# Several certificates in one sidecar, against the real Pebble: each lineage lives
# in live/<name>/, and one's trouble is never another's.
load lib/helpers
load lib/pebble
bats_require_minimum_version 1.5.0

setup() {
  fresh_env
  unset SIDECERT_DOMAINS
  CONFIG="$BATS_TEST_TMPDIR/sidecert.yml"
}

teardown() {
  stop_supervisor
  stop_pebble
  stop_dns
}

# Names under bad.test resolve to an address where nothing answers HTTP-01.
names_cannot_validate() {
  curl -fsS -X POST -d '{"host":"bad.test","addresses":["127.0.0.2"]}' \
    "http://127.0.0.1:$PEBBLE_DNS_MGMT_PORT/add-a" >/dev/null
}

three_lineages() {
  cat >"$CONFIG" <<EOF
certificates:
  - name: api
    domains: [api.example.test, www.example.test]
  - name: refused
    domains: refused.example.test
  - name: bad
    domains: bad.test
EOF
  export SIDECERT_CONFIG="$CONFIG"
}

serial_of() { openssl x509 -in "$VOL/live/$1/cert.pem" -noout -serial | cut -d= -f2; }

# Like docker cp: a user set of NAME.key and NAME.pem (under a new CA), for DOMAIN,
# dropped into live/LINEAGE/.
drop_user_set() { # LINEAGE NAME DOMAIN
  make_ca "$CERTS" root
  make_leaf "$CERTS" "$2" root "$3"
  install -m 0600 "$CERTS/$2.key" "$VOL/live/$1/.k" && mv -f "$VOL/live/$1/.k" "$VOL/live/$1/privkey.pem"
  install -m 0644 "$CERTS/$2.pem" "$VOL/live/$1/.c" && mv -f "$VOL/live/$1/.c" "$VOL/live/$1/cert.pem"
}
issuer_of() { openssl x509 -in "$VOL/live/$1/cert.pem" -noout -issuer; }

@test "three lineages: a bad user file in one and names that cannot validate in another leave the third unaffected" {
  start_pebble
  names_cannot_validate
  three_lineages
  start_supervisor
  wait_until 60 log_has "cert_issued name=api .*source=acme"
  wait_until 60 log_has "cert_issued name=refused .*source=acme"
  wait_until 60 log_has "issue_failed name=bad "
  # a user's broken drop into one lineage is refused there alone
  drop_user_set refused other other.example.test
  wait_until 10 log_has "user_cert_refused name=refused"
  api_serial="$(serial_of api)"
  [[ "$(issuer_of api)" == *Pebble* ]]
  [[ "$(issuer_of refused)" == *Pebble* ]]   # put back: its ACME set stays
  [ "$(openssl x509 -in "$VOL/live/bad/cert.pem" -noout -issuer)" = "$(openssl x509 -in "$VOL/live/bad/cert.pem" -noout -subject | sed 's/subject/issuer/')" ]  # self-signed
  for name in api refused bad; do live_pair_matches "$VOL/live/$name"; done
  # every event names its lineage
  # (but what serves them all: the responder, the account, the process)
  run ! grep -vE " name=| (privileges_dropped|responder_listening|account_ready|challenge_served) " "$LOG"
  # status shows all three: healthy (self-signed counts as a valid set), exit 0
  run "$SIDECERT" status --json
  [ "$status" -eq 0 ]
  [ "$(jq -r '.lineages | length' <<<"$output")" = 3 ]
  [ "$(jq -r '.lineages[] | select(.name=="bad") | .source' <<<"$output")" = self-signed ]
  [ "$(jq -r '.lineages[] | select(.name=="api") | .source' <<<"$output")" = acme ]
  [ "$(jq -r '.lineages[] | select(.name=="bad") | .orders[].failures' <<<"$output")" -ge 1 ]
  run "$SIDECERT" status --name api --json
  [ "$(jq -r .name <<<"$output")" = api ]
  [ "$(serial_of api)" = "$api_serial" ]
}

@test "status exits 1 when any lineage has no valid set, and names it" {
  three_lineages
  export SIDECERT_ACME_DIRECTORY=none
  "$SIDECERT" once 2>/dev/null
  rm -f "$VOL/live/refused"   # gone, and no supervisor to put it back
  run "$SIDECERT" status
  [ "$status" -eq 1 ]
  [[ "$output" == *"no certificate in $VOL/live/refused"* ]]
  [[ "$output" == *"name        api"* ]]
  run "$SIDECERT" status --name api
  [ "$status" -eq 0 ]
  run "$SIDECERT" status --name nosuch
  [ "$status" -eq 2 ]
  [[ "$output" == *"no certificate is named 'nosuch' (configured: api, refused, bad)"* ]]
}

@test "SIDECERT_CERTIFICATES: two lineages from the environment, each in its own folder" {
  export SIDECERT_CERTIFICATES="one=one.example.test; two=two.example.test,www.two.example.test"
  run "$SIDECERT" once
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | grep -c 'certificate for')" = 2 ]
  openssl x509 -in "$VOL/live/two/cert.pem" -noout -ext subjectAltName | grep -q "DNS:www.two.example.test"
  live_pair_matches "$VOL/live/one"
  run "$SIDECERT" revoke
  [ "$status" -eq 2 ]
  [[ "$output" == *"say which with --name"* ]]
}

@test "a lineage removed from the configuration is no longer renewed, and its files stay" {
  export SIDECERT_CERTIFICATES="keep=keep.example.test; gone=gone.example.test"
  "$SIDECERT" once 2>/dev/null
  gone_serial="$(serial_of gone)"
  export SIDECERT_CERTIFICATES="keep=keep.example.test" SIDECERT_RENEW_BEFORE=129630m  # every pass renews
  SIDECERT_LOG_LEVEL=debug "$SIDECERT" once 2>"$LOG"
  [ "$(serial_of gone)" = "$gone_serial" ]
  live_pair_matches "$VOL/live/gone"
  run ! grep -q "name=gone" "$LOG"
  log_has "source_chosen name=keep "
}

@test "one lineage's slow reload does not hold up another's: a user set is adopted meanwhile" {
  cat >"$CONFIG" <<YAML
certificates:
  - name: slow
    domains: slow.example.test
    reload: command:/bin/sleep 60
  - name: fast
    domains: fast.example.test
YAML
  export SIDECERT_CONFIG="$CONFIG" SIDECERT_RELOAD_TIMEOUT=60s
  start_supervisor
  wait_until 10 log_has "renewal_scheduled name=fast"
  drop_user_set fast fast fast.example.test
  wait_until 5 log_has "user_cert_accepted name=fast"
  run ! grep -qE "reload_(done|failed|stopped) name=slow" "$LOG"   # the slow one is still at it
  [ "$(serial_of fast)" = "$(openssl x509 -in "$CERTS/fast.pem" -noout -serial | cut -d= -f2)" ]
}
