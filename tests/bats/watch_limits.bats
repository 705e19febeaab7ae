#!/usr/bin/env bats
# The kernel's inotify limits reached (a host with many containers, or 10,000
# lineages): a user's set dropped into live/<name>/ is still adopted within the
# contract's 5 seconds, and the log says once what stands in for the watch. The
# limits are lowered in a user namespace of the test's own (user.max_inotify_*),
# so the host's settings are not touched.
load lib/helpers
bats_require_minimum_version 1.5.0

setup() {
  fresh_env
  unshare -Ur true 2>/dev/null || skip "no user namespace here (unshare -Ur)"
  export SIDECERT_USER_GRACE=2s
  unset SIDECERT_DOMAINS
  export SIDECERT_CERTIFICATES="l1=l1.example.test; l2=l2.example.test; l3=l3.example.test; l4=l4.example.test"
  LIVE="$VOL/live/l3"
  make_leaf "$CERTS" good self l3.example.test
}

teardown() { stop_supervisor; }

# The supervisor in a user namespace where LIMIT (user.max_inotify_watches or
# user.max_inotify_instances) is VALUE.
start_limited() { # LIMIT VALUE
  unshare -Ur sh -c 'echo "$1" >"/proc/sys/user/$0" && exec "$2" run' "$1" "$2" "$SIDECERT" 2>>"$LOG" &
  SUP_PID=$!
  wait_until 10 all_published || { cat "$LOG" >&2; return 1; }
}
all_published() { [ "$(log_count renewal_scheduled)" -ge 4 ]; }

adopted_within_5s() {
  drop "$CERTS/good.key" privkey.pem
  drop "$CERTS/good.pem" cert.pem
  local start=$SECONDS
  wait_until 5 log_has "user_cert_accepted name=l3" || { cat "$LOG" >&2; return 1; }
  [ $((SECONDS - start)) -le 5 ]
  [ "$(live_serial)" = "$(openssl x509 -in "$CERTS/good.pem" -noout -serial | cut -d= -f2 | tr A-F a-f)" ]
}

@test "past the watch limit, a lineage without a watch still adopts a dropped user set, and the log says why once" {
  start_limited max_inotify_watches 2   # live/ and one set folder: the others have none
  adopted_within_5s
  [ "$(log_count watch_limit_reached)" -eq 1 ]
  grep watch_limit_reached "$LOG" | grep -q "user.max_inotify_watches=2"
  run ! log_has watch_failed
}

@test "with no watch at all, not even on live/, a dropped user set is adopted" {
  start_limited max_inotify_watches 0
  adopted_within_5s
  [ "$(log_count watch_limit_reached)" -eq 1 ]
}

@test "with no inotify instance to be had, the supervisor starts and adopts a dropped user set" {
  start_limited max_inotify_instances 0
  [ "$(log_count watch_unavailable)" -eq 1 ]
  adopted_within_5s
}
