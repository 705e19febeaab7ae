#!/usr/bin/env bats
# A running supervisor and files dropped into live/<name>/ the way `docker cp`
# does it (the AIoTES README's three commands), good and bad.
load lib/helpers
bats_require_minimum_version 1.5.0

setup() {
  fresh_env
  export SIDECERT_USER_GRACE=2s
  make_ca "$CERTS" root
  make_ca "$CERTS" inter root
  make_ca "$CERTS" other-inter root
  make_leaf "$CERTS" good inter example.test,www.example.test
}

teardown() { stop_supervisor; }

drop_set() { # KEY CERT [CHAIN]
  drop "$1" privkey.pem
  drop "$2" cert.pem
  [ -z "${3:-}" ] || drop "$3" chain.pem
}

refused_because() { # REASON
  wait_until 8 log_has "user_cert_refused" || return 1
  grep "user_cert_refused" "$LOG" | tail -1 | grep -q -- "$1"
}

# The set in place when the supervisor started is still there, whole.
expect_refusal_keeps_previous() { # REASON
  refused_because "$1"
  [ "$(live_serial)" = "$STARTED_SERIAL" ]
  live_pair_matches
  [ "$(grep -c user_cert_refused "$LOG")" -eq 1 ]
  ls "$VOL"/aside/*-refused-example.test/* >/dev/null
}

@test "a valid user set is adopted within 5 seconds, with no restart" {
  start_supervisor
  drop_set "$CERTS/good.key" "$CERTS/good.pem" "$CERTS/inter.pem"
  start=$SECONDS
  wait_until 5 log_has "user_cert_accepted"
  [ $((SECONDS - start)) -le 5 ]
  [ "$(live_serial)" = "$(openssl x509 -in "$CERTS/good.pem" -noout -serial | cut -d= -f2 | tr A-F a-f)" ]
  live_pair_matches
  cmp "$LIVE/chain.pem" "$CERTS/inter.pem"
  cat "$CERTS/good.pem" "$CERTS/inter.pem" | cmp - "$LIVE/fullchain.pem"
  [ "$(status_field source)" = user ]
  # the user's originals are kept
  cmp "$VOL"/aside/*-accepted-example.test/privkey.pem "$CERTS/good.key"
}

@test "a user set dropped one file at a time, seconds apart, is adopted whole" {
  export SIDECERT_USER_GRACE=20s
  start_supervisor
  drop "$CERTS/good.key" privkey.pem
  wait_until 5 log_has "user_cert_incomplete"
  # meanwhile live/ still holds a matching pair
  live_pair_matches
  sleep 1.5
  drop "$CERTS/good.pem" cert.pem
  sleep 1.5
  drop "$CERTS/inter.pem" chain.pem
  wait_until 8 log_has "user_cert_accepted"
  wait_until 5 bash -c "openssl verify -CAfile '$CERTS/root.pem' -untrusted '$LIVE/chain.pem' '$LIVE/cert.pem'"
  live_pair_matches
  ! log_has "user_cert_refused" || false
}

@test "a key 0600 owned by another user, as docker cp -a leaves it, is read" {
  start_supervisor
  install -m 0600 -o 1234 -g 1234 "$CERTS/good.key" "$LIVE/.k" && mv "$LIVE/.k" "$LIVE/privkey.pem"
  drop "$CERTS/good.pem" cert.pem
  drop "$CERTS/inter.pem" chain.pem
  wait_until 5 log_has "user_cert_accepted"
  live_pair_matches
}

@test "a user certificate with no well-defined expiry (9999-12-31T23:59:59Z) is adopted and shown as it says" {
  make_leaf "$CERTS" forever inter example.test,www.example.test "$(utc_offset '-1 hour')" 99991231235959Z
  openssl x509 -in "$CERTS/forever.pem" -noout -enddate | grep -q "Dec 31 23:59:59 9999 GMT"
  run_and_adopt_user_set "$CERTS/forever.key" "$CERTS/forever.pem"
  [ "$(status_field not_after)" = "9999-12-31T23:59:59Z" ]
  [ "$(status_field source)" = user ]
  run ! grep -E "user_cert_(refused|expiring)" "$LOG"
}

@test "a user certificate survives a restart: sidecert tells its files from the user's" {
  start_supervisor
  drop_set "$CERTS/good.key" "$CERTS/good.pem" "$CERTS/inter.pem"
  wait_until 5 log_has "user_cert_accepted"
  serial="$(live_serial)"
  stop_supervisor
  start_supervisor
  [ "$(live_serial)" = "$serial" ]
  [ "$(status_field source)" = user ]
  [ "$(log_count user_cert_accepted)" -eq 1 ]
  grep "source_chosen" "$LOG" | tail -1 | grep -q "source=user"
}

@test "a valid user certificate is never replaced, even when renewal is long overdue" {
  export SIDECERT_RENEW_BEFORE=86430m   # under the 60-day lifetime (a third of it would be used), over what is left
  start_supervisor
  drop_set "$CERTS/good.key" "$CERTS/good.pem" "$CERTS/inter.pem"
  wait_until 5 log_has "user_cert_accepted"
  serial="$(live_serial)"
  kill -HUP "$SUP_PID"
  wait_until 5 log_has "user_cert_expiring"
  grep "user_cert_expiring" "$LOG" | grep -q "days_left="
  [ "$(live_serial)" = "$serial" ]
}

@test "an expiring user certificate is warned about, and replaced by self-signed once it expired" {
  make_leaf "$CERTS/" brief inter example.test,www.example.test "$(utc_offset '-1 hour')" "$(utc_offset '+6 seconds')"
  start_supervisor
  drop_set "$CERTS/brief.key" "$CERTS/brief.pem" "$CERTS/inter.pem"
  wait_until 5 log_has "user_cert_accepted"
  log_has "user_cert_expiring"
  wait_until 15 bash -c "grep -q 'source=self-signed' <(grep source_chosen '$LOG' | tail -1)"
  grep "certificate_unusable" "$LOG" | grep -q "expired"
  [ "$(status_field source)" = self-signed ]
  live_pair_matches
}

@test "refused: a certificate for another name" {
  make_leaf "$CERTS" wrong inter other.test
  start_supervisor
  drop_set "$CERTS/wrong.key" "$CERTS/wrong.pem" "$CERTS/inter.pem"
  expect_refusal_keeps_previous "does not cover example.test,www.example.test (it is for other.test)"
}

@test "refused: a certificate covering only some of the names" {
  make_leaf "$CERTS" partial inter example.test
  start_supervisor
  drop_set "$CERTS/partial.key" "$CERTS/partial.pem" "$CERTS/inter.pem"
  expect_refusal_keeps_previous "does not cover www.example.test"
}

@test "refused: a key that does not match the certificate" {
  make_key "$CERTS/stray.key"
  start_supervisor
  drop_set "$CERTS/stray.key" "$CERTS/good.pem" "$CERTS/inter.pem"
  expect_refusal_keeps_previous "privkey.pem does not match the certificate in cert.pem"
}

@test "refused: an expired certificate" {
  make_leaf "$CERTS" old inter example.test,www.example.test "$(utc_offset '-30 days')" "$(utc_offset '-1 day')"
  start_supervisor
  drop_set "$CERTS/old.key" "$CERTS/old.pem" "$CERTS/inter.pem"
  expect_refusal_keeps_previous "the certificate expired on"
}

@test "refused: a certificate not yet valid" {
  make_leaf "$CERTS" future inter example.test,www.example.test "$(utc_offset '+2 days')" "$(utc_offset '+60 days')"
  start_supervisor
  drop_set "$CERTS/future.key" "$CERTS/future.pem" "$CERTS/inter.pem"
  expect_refusal_keeps_previous "the certificate is not valid before"
}

@test "refused: garbage where the certificate should be" {
  head -c 600 /dev/urandom | base64 >"$CERTS/garbage.pem"
  start_supervisor
  drop_set "$CERTS/good.key" "$CERTS/garbage.pem" "$CERTS/inter.pem"
  expect_refusal_keeps_previous "cert.pem: no PEM certificate in it"
}

@test "refused: a damaged PEM block" {
  sed '3s/./#/' "$CERTS/good.pem" >"$CERTS/damaged.pem"
  start_supervisor
  drop_set "$CERTS/good.key" "$CERTS/damaged.pem" "$CERTS/inter.pem"
  expect_refusal_keeps_previous "cert.pem: "
}

@test "refused: a chain that does not link to the certificate" {
  start_supervisor
  drop_set "$CERTS/good.key" "$CERTS/good.pem" "$CERTS/other-inter.pem"
  expect_refusal_keeps_previous "chain.pem does not link to the certificate"
}

@test "refused: a set without its key (a real folder with only cert and chain)" {
  mkdir -p "$LIVE"
  cp "$CERTS/good.pem" "$LIVE/cert.pem"
  cp "$CERTS/inter.pem" "$LIVE/chain.pem"
  start_supervisor
  refused_because "privkey.pem is missing"
  [ "$(status_field source)" = self-signed ]
  live_pair_matches
  ls "$VOL"/aside/*-refused-example.test/cert.pem
}

@test "refused: a key encrypted with a passphrase" {
  openssl pkey -in "$CERTS/good.key" -aes256 -passout pass:secret -out "$CERTS/enc.key"
  start_supervisor
  drop_set "$CERTS/enc.key" "$CERTS/good.pem" "$CERTS/inter.pem"
  expect_refusal_keeps_previous "privkey.pem: the key is encrypted"
}

@test "refused: a symlink that leads outside the volume, and the target is untouched" {
  cp "$CERTS/good.key" "$BATS_TEST_TMPDIR/outside.key"
  start_supervisor
  ln -s "$BATS_TEST_TMPDIR/outside.key" "$LIVE/.l" && mv -T "$LIVE/.l" "$LIVE/privkey.pem"
  drop "$CERTS/good.pem" cert.pem
  expect_refusal_keeps_previous "is a symbolic link that leads outside the volume"
  cmp "$BATS_TEST_TMPDIR/outside.key" "$CERTS/good.key"
  [ -L "$(ls -d "$VOL"/aside/*-refused-example.test)/privkey.pem" ]
}

@test "a file deleted from the live set is put back" {
  start_supervisor
  serial="$(live_serial)"
  rm "$LIVE/privkey.pem"
  wait_until 5 test -f "$LIVE/privkey.pem"
  live_pair_matches
  [ "$(live_serial)" = "$serial" ]
}

@test "combined.pem: key, leaf and chain in one file with the key's mode; one written over ours goes aside" {
  start_supervisor
  cmp "$LIVE/combined.pem" <(cat "$LIVE/privkey.pem" "$LIVE/fullchain.pem")
  [ "$(stat -L -c %a "$LIVE/combined.pem")" = 600 ]
  drop_set "$CERTS/good.key" "$CERTS/good.pem" "$CERTS/inter.pem"
  wait_until 5 log_has user_cert_accepted
  cat "$CERTS/good.key" "$CERTS/good.pem" "$CERTS/inter.pem" >"$BATS_TEST_TMPDIR/expected"
  cmp "$LIVE/combined.pem" "$BATS_TEST_TMPDIR/expected"
  # someone's own combined file is not a drop: it goes aside, ours comes back
  echo "not ours" >"$BATS_TEST_TMPDIR/combined" && drop "$BATS_TEST_TMPDIR/combined" combined.pem
  wait_until 5 log_has user_file_ignored
  wait_until 5 cmp -s "$LIVE/combined.pem" "$BATS_TEST_TMPDIR/expected"
  grep -qx "not ours" "$(ls -d "$VOL"/aside/*-ignored-example.test)/combined.pem"
}

@test "owner and modes of the published files are as asked, also for a user's set; chown is the one capability added" {
  export SIDECERT_FILE_OWNER=1000 SIDECERT_FILE_GROUP=1001 SIDECERT_KEY_MODE=0440 SIDECERT_CERT_MODE=0444
  run "$SIDECERT" check-config
  [[ "$output" == *"owner 1000; privkey.pem and combined.pem 0440 group 1001; cert.pem, chain.pem, fullchain.pem 0444"* ]]
  start_supervisor
  grep privileges_dropped "$LOG" | grep -q "kept=dac_read_search,chown "
  drop_set "$CERTS/good.key" "$CERTS/good.pem" "$CERTS/inter.pem"
  wait_until 5 log_has user_cert_accepted
  for f in privkey.pem combined.pem; do [ "$(stat -L -c '%u %g %a' "$LIVE/$f")" = "1000 1001 440" ]; done
  for f in cert.pem chain.pem fullchain.pem; do [ "$(stat -L -c '%u %a' "$LIVE/$f")" = "1000 444" ]; done
  # what sidecert keeps for itself stays its own
  [ "$(stat -c %u "$STATE"/sets/example.test/set-*/privkey.pem | sort -u)" = 0 ]
  # a key mode that would let every user read the key is refused, naming the key
  run --separate-stderr env SIDECERT_KEY_MODE=0644 "$SIDECERT" check-config
  [ "$status" -eq 2 ]
  [[ "$stderr" == *"SIDECERT_KEY_MODE: '0644' lets every user of the host read the key"* ]]
}

@test "a set published before combined files existed gets one at the next start" {
  "$SIDECERT" once 2>/dev/null
  set_id="$(basename "$(readlink "$LIVE")")"
  rm "$VOL/archive/example.test/$set_id/combined.pem" "$STATE/sets/example.test/$set_id/combined.pem"
  [ ! -e "$LIVE/combined.pem" ]
  start_supervisor
  wait_until 5 test -f "$LIVE/combined.pem"
  cmp "$LIVE/combined.pem" <(cat "$LIVE/privkey.pem" "$LIVE/fullchain.pem")
  [ "$(basename "$(readlink "$LIVE")")" = "$set_id" ]   # the same set: no new one was published
}

@test "a user set present before the first start is adopted from a real folder" {
  mkdir -p "$LIVE"
  cp "$CERTS/good.key" "$LIVE/privkey.pem"
  cp "$CERTS/good.pem" "$LIVE/cert.pem"
  cp "$CERTS/inter.pem" "$LIVE/chain.pem"
  echo "notes" >"$LIVE/README"
  run --separate-stderr "$SIDECERT" once
  [ "$status" -eq 0 ]
  [[ "$output" == "user certificate"* ]]
  [ -L "$VOL/live/example.test" ]
  # the folder it was in, with what else the user kept there, is kept aside
  cat "$VOL"/aside/*-replaced-example.test/example.test/README | grep -q notes
}
