# Shared set-up for the Bats suites: a fresh volume per test, the real binary,
# a supervisor started and stopped by PID, and bounded waits.
ROOT="${SIDECERT_ROOT:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}"
SIDECERT="${SIDECERT:-$ROOT/build/sidecert}"
source "$ROOT/tests/bats/lib/certs.bash"

fresh_env() {
  VOL="$BATS_TEST_TMPDIR/vol"
  CERTS="$BATS_TEST_TMPDIR/certs"
  LOG="$BATS_TEST_TMPDIR/sidecert.log"
  mkdir -p "$CERTS"
  unset AIOTES_HOSTNAME AIOTES_SYSADMIN_EMAIL SIDECERT_CONFIG
  while read -r var; do unset "$var"; done < <(env | grep -o '^SIDECERT_[A-Z0-9_]*')
  # The state folder on another file system than the volume, as two Docker volumes
  # are (/dev/shm is a tmpfs); tests run one at a time, so the last one's goes.
  STATE="$BATS_TEST_TMPDIR/state"
  if [ -d /dev/shm ] && [ "$(stat -c %d /dev/shm)" != "$(stat -c %d "$BATS_TEST_TMPDIR")" ]; then
    rm -rf /dev/shm/sidecert-bats && mkdir -p /dev/shm/sidecert-bats && STATE=/dev/shm/sidecert-bats/state
  fi
  export SIDECERT_VOLUME="$VOL" SIDECERT_STATE_DIR="$STATE" SIDECERT_DOMAINS=example.test,www.example.test \
    SIDECERT_ACME_DIRECTORY=none
  LIVE="$VOL/live/example.test"
}

# Polls CONDITION (a command) every 0.1 s until it holds or SECONDS pass.
wait_until() {
  local limit="$1"; shift
  local deadline=$((SECONDS + limit))
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

# What starting and ending the binary costs here and now (the slowest of three
# `version` runs, in ms): added to a promised time, so a loaded machine or a
# sanitizer build does not fail a promise the program kept.
process_overhead_ms() {
  local worst=0 t0 took _
  for _ in 1 2 3; do
    t0=$(date +%s%N)
    "$SIDECERT" version >/dev/null
    took=$(( ($(date +%s%N) - t0) / 1000000 ))
    (( took > worst )) && worst=$took
  done
  echo "$worst"
}

log_has() { grep -q -- "$1" "$LOG"; }
log_count() { grep -c -- "$1" "$LOG" || true; }
# SIGHUPs coalesce: every check they forced is done (needs SIDECERT_LOG_LEVEL=debug).
all_forced_checks_done() { [ "$(log_count check_forced)" -ge 1 ] && [ "$(log_count check_forced)" -eq "$(log_count check_done)" ]; }

start_supervisor() {
  "$SIDECERT" run 2>>"$LOG" &
  SUP_PID=$!
  wait_until 10 log_has "renewal_scheduled" || { cat "$LOG" >&2; return 1; }
  STARTED_SERIAL="$(live_serial)"
}

# Sends SIGNAL to the supervisor and waits (at most 20 s) for it to end: EXIT_MS
# from the signal to the end, EXIT_RC its exit status.
signal_and_time_exit() {
  kill -"$1" "$SUP_PID"
  local start; start=$(date +%s%N)
  wait_until 20 bash -c "! kill -0 $SUP_PID 2>/dev/null"
  EXIT_MS=$(( ($(date +%s%N) - start) / 1000000 ))
  EXIT_RC=0; wait "$SUP_PID" || EXIT_RC=$?
  SUP_PID=
}

stop_supervisor() {
  [ -n "${SUP_PID:-}" ] || return 0
  kill -TERM "$SUP_PID" 2>/dev/null || true
  wait "$SUP_PID" 2>/dev/null || true
  SUP_PID=
}

live_serial() { openssl x509 -in "$LIVE/cert.pem" -noout -serial 2>/dev/null | cut -d= -f2 | tr 'A-F' 'a-f'; }

# At least N certificates came from a CA, and the last of them is the live one:
# cert_issued is logged before the set is published, so the log alone does not
# say the files are in place yet.
acme_issued() {
  [ "$(log_count "cert_issued.*source=acme")" -ge "$1" ] || return 1
  local last; last=$(grep "cert_issued.*source=acme" "$LOG" | tail -1 | sed -n 's/.* serial=\([0-9a-f]*\).*/\1/p')
  [ -n "$last" ] && [ "$(live_serial | sed 's/^0*//')" = "$(sed 's/^0*//' <<<"$last")" ]
}

# The key in privkey.pem belongs to the certificate in cert.pem.
live_pair_matches() {
  local dir="${1:-$LIVE}"
  [ "$(openssl pkey -in "$dir/privkey.pem" -pubout 2>/dev/null | sha256sum)" = \
    "$(openssl x509 -in "$dir/cert.pem" -noout -pubkey 2>/dev/null | sha256sum)" ]
}

status_field() { "$SIDECERT" status --json | jq -r ".$1"; }

# Like `docker cp`: replace the entry (not write through it), as root, mode 0600.
drop() { # SRC NAME
  install -m 0600 "$1" "$LIVE/.$2.incoming" && mv -f "$LIVE/.$2.incoming" "$LIVE/$2"
}

# A supervisor started, a user set of key and certificate dropped in and adopted.
run_and_adopt_user_set() { # KEY CERT
  start_supervisor
  drop "$1" privkey.pem
  drop "$2" cert.pem
  wait_until 5 log_has "user_cert_accepted"
}

# A renewal margin one second short of the live certificate's lifetime: due once
# the certificate is two seconds old (waited for here), yet not a margin "at or
# past the lifetime", which sidecert would treat as a third of it.
margin_under_lifetime() {
  local nb na
  nb=$(date -d "$(openssl x509 -in "$LIVE/cert.pem" -noout -startdate | cut -d= -f2)" +%s)
  na=$(date -d "$(openssl x509 -in "$LIVE/cert.pem" -noout -enddate | cut -d= -f2)" +%s)
  while [ "$(date +%s)" -lt $((nb + 2)) ]; do sleep 0.2; done
  echo "$((na - nb - 1))s"
}

# A reload command that records each call with the serial it saw.
make_reload_script() { # EXIT_STATUS
  cat >"$BATS_TEST_TMPDIR/reload.sh" <<SH
#!/bin/sh
openssl x509 -in "$LIVE/cert.pem" -noout -serial >>"$BATS_TEST_TMPDIR/reloads"
echo "gateway says: reloaded"
exit ${1:-0}
SH
  chmod +x "$BATS_TEST_TMPDIR/reload.sh"
  export SIDECERT_RELOAD="command:$BATS_TEST_TMPDIR/reload.sh"
}

reloads() { wc -l <"$BATS_TEST_TMPDIR/reloads" 2>/dev/null || echo 0; }
reloads_at_least() { [ "$(reloads)" -ge "$1" ]; }

# A test that cannot run here (not root, no tmpfs) skips, saying why; test.sh lists
# every skip. On CI (CI=true: root on Debian 12 with what test.sh installs) every test
# can run, so there the same cause fails the test instead of hiding it as a skip.
skip_unless_ci() { # REASON
  if [ "${CI:-}" = true ]; then
    echo "CI=true, yet this test cannot run here: $1" >&2
    return 1
  fi
  skip "$1"
}
