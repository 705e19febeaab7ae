#!/usr/bin/env bats
# The supervisor as a process: signals, the reload action, the logs.
load lib/helpers
bats_require_minimum_version 1.5.0

setup() {
  fresh_env
  export SIDECERT_USER_GRACE=2s
  make_ca "$CERTS" root
  make_leaf "$CERTS" good root example.test,www.example.test
}

teardown() {
  stop_supervisor
  [ -z "${GW_PID:-}" ] || { kill "$GW_PID" 2>/dev/null; wait "$GW_PID" 2>/dev/null || true; GW_PID=; }
  pkill -f "$BATS_TEST_TMPDIR/gw-stand-in" 2>/dev/null || true
}


@test "SIGTERM and SIGINT stop the supervisor within a second, exit 0" {
  overhead=$(process_overhead_ms)
  for sig in TERM INT; do
    : >"$LOG"   # start_supervisor waits for this run's first pass, not the last one's
    start_supervisor
    signal_and_time_exit "$sig"
    [ "$EXIT_RC" -eq 0 ]
    echo "# SIG$sig: exit in $EXIT_MS ms (a process start and exit costs $overhead ms here)" >&3
    [ "$EXIT_MS" -lt $((1000 + overhead)) ]
    log_has stopping
  done
}

@test "the first start puts a self-signed set in place before anything else" {
  start_supervisor
  live_pair_matches
  first_event="$(grep -v -e ' started ' -e privileges_dropped "$LOG" | head -1)"
  [[ "$first_event" == *"cert_issued"*"source=self-signed"* ]]
}

@test "the reload command runs once per change of the live set, with its output logged" {
  make_reload_script 0
  start_supervisor
  [ "$(reloads)" -eq 1 ]
  grep "reload_output" "$LOG" | grep -q "gateway says: reloaded"
  drop "$CERTS/good.key" privkey.pem
  drop "$CERTS/good.pem" cert.pem
  wait_until 5 log_has "user_cert_accepted"
  wait_until 5 reloads_at_least 2
  sleep 1.5
  [ "$(reloads)" -eq 2 ]
  # the gateway was told after the new set was in place: it saw the user's serial
  tail -1 "$BATS_TEST_TMPDIR/reloads" | grep -qi "$(openssl x509 -in "$CERTS/good.pem" -noout -serial | cut -d= -f2)"
  # a pass with no change does not reload
  kill -HUP "$SUP_PID"
  sleep 1
  [ "$(reloads)" -eq 2 ]
}

@test "a failing reload is logged, keeps the new set, and is retried by the next pass" {
  make_reload_script 3
  start_supervisor
  grep "reload_failed" "$LOG" | grep -q "exited with status 3"
  serial="$(live_serial)"
  kill -HUP "$SUP_PID"
  wait_until 5 reloads_at_least 2
  [ "$(live_serial)" = "$serial" ]
  live_pair_matches
}

@test "a reload command that hangs is killed after SIDECERT_RELOAD_TIMEOUT" {
  printf '#!/bin/sh\nsleep 30\n' >"$BATS_TEST_TMPDIR/hang.sh"
  chmod +x "$BATS_TEST_TMPDIR/hang.sh"
  export SIDECERT_RELOAD="command:$BATS_TEST_TMPDIR/hang.sh" SIDECERT_RELOAD_TIMEOUT=1s
  start=$SECONDS
  run --separate-stderr "$SIDECERT" once
  [ $((SECONDS - start)) -lt 10 ]
  [[ "$stderr" == *"reload_failed"*"did not finish within 1s"* ]]
  [ "$status" -eq 0 ]
}

@test "SIGTERM during a slow reload command ends the run at once, and the reload stays due" {
  printf '#!/bin/sh\necho started >>"%s/reloads"\nsleep 600\n' "$BATS_TEST_TMPDIR" >"$BATS_TEST_TMPDIR/slow.sh"
  chmod +x "$BATS_TEST_TMPDIR/slow.sh"
  export SIDECERT_RELOAD="command:$BATS_TEST_TMPDIR/slow.sh" SIDECERT_RELOAD_TIMEOUT=10m
  "$SIDECERT" run 2>>"$LOG" &
  SUP_PID=$!
  wait_until 20 [ -s "$BATS_TEST_TMPDIR/reloads" ]
  kill -TERM "$SUP_PID"
  # Bounded: a run that waited for the command would outlive this by minutes.
  wait_until 30 sh -c "! kill -0 $SUP_PID 2>/dev/null"
  wait "$SUP_PID"
  SUP_PID=
  log_has reload_stopped
  ! pgrep -f "$BATS_TEST_TMPDIR/slow.sh" || false  # the command's group was ended with it
  [ "$(jq -r .reload_pending "$STATE/state-example.test.json")" = true ]
}

@test "a reload command is run without a shell: metacharacters are plain arguments" {
  printf '#!/bin/sh\nprintf "%%s|" "$@" >"%s/args"\n' "$BATS_TEST_TMPDIR" >"$BATS_TEST_TMPDIR/args.sh"
  chmod +x "$BATS_TEST_TMPDIR/args.sh"
  SIDECERT_RELOAD="command:[\"$BATS_TEST_TMPDIR/args.sh\", \"a b\", \"\$(touch $BATS_TEST_TMPDIR/pwned)\", \";\"]" \
    "$SIDECERT" once 2>/dev/null
  [ "$(cat "$BATS_TEST_TMPDIR/args")" = "a b|\$(touch $BATS_TEST_TMPDIR/pwned)|;|" ]
  [ ! -e "$BATS_TEST_TMPDIR/pwned" ]
  SIDECERT_RELOAD="command:nginx -s reload" run "$SIDECERT" check-config
  [ "$status" -eq 2 ]
  [[ "$output" == *"absolute path"* ]]
}

@test "json logs: every line is one JSON object with ts, level, event; decisions are events" {
  export SIDECERT_LOG_FORMAT=json
  run_and_adopt_user_set "$CERTS/good.key" "$CERTS/good.pem"
  stop_supervisor
  while IFS= read -r line; do
    echo "$line" | jq -e 'type == "object" and (.ts | test("^[0-9-]+T[0-9:.]+Z$")) and (.level | test("^(debug|info|warn|error)$")) and (.event | length > 0)' >/dev/null \
      || { echo "not a JSON event: $line" >&2; false; }
  done <"$LOG"
  for ev in started cert_issued source_chosen renewal_scheduled user_files_received user_cert_accepted stopping; do
    jq -s -e --arg ev "$ev" 'any(.[]; .event == $ev)' "$LOG" >/dev/null || { echo "no $ev event" >&2; false; }
  done
  jq -s -e 'map(select(.event == "user_cert_accepted")) | .[0] | .serial and .not_after and .names' "$LOG" >/dev/null
}

@test "no private key material in the logs, even at debug level" {
  export SIDECERT_LOG_LEVEL=debug
  run_and_adopt_user_set "$CERTS/good.key" "$CERTS/good.pem"
  stop_supervisor
  ! grep -q "PRIVATE KEY" "$LOG" || false
  keybody="$(sed -n 2p "$CERTS/good.key")"
  ! grep -qF -- "${keybody:0:40}" "$LOG" || false
}

@test "a second supervisor on the same volume waits for the first, then takes over" {
  start_supervisor
  first=$SUP_PID
  "$SIDECERT" run 2>"$BATS_TEST_TMPDIR/second.log" &
  second=$!
  wait_until 5 grep -q waiting_for_lock "$BATS_TEST_TMPDIR/second.log"
  kill -TERM "$first"; wait "$first" || true
  wait_until 10 grep -q renewal_scheduled "$BATS_TEST_TMPDIR/second.log"
  SUP_PID=$second
  ! grep -q cert_issued "$BATS_TEST_TMPDIR/second.log" || false
}

@test "signal:NAME sends the signal to the top process of that name, and fails clearly when none is visible" {
  # a gateway stand-in with a name no other process has: a parent and a child, like nginx
  cp "$(command -v sleep)" "$BATS_TEST_TMPDIR/gw-stand-in"
  cat >"$BATS_TEST_TMPDIR/gateway.sh" <<SH
#!/bin/bash
trap 'echo hup >>"$BATS_TEST_TMPDIR/hups"' HUP
"$BATS_TEST_TMPDIR/gw-stand-in" 300 &
# until its child ends, at most 300 s; a trapped HUP ends the wait early
while kill -0 \$! 2>/dev/null && [ "\$SECONDS" -lt 300 ]; do wait \$!; done
SH
  cp "$BATS_TEST_TMPDIR/gateway.sh" "$BATS_TEST_TMPDIR/gw-master"
  chmod +x "$BATS_TEST_TMPDIR/gw-master"
  # a shell cannot trap a signal ignored when it started, as HUP is under nohup: reset it
  env --default-signal=HUP "$BATS_TEST_TMPDIR/gw-master" &
  GW_PID=$!
  wait_until 30 pgrep -f gw-stand-in
  SIDECERT_RELOAD=signal:gw-master:HUP start_supervisor
  wait_until 30 test -s "$BATS_TEST_TMPDIR/hups"
  grep "reload_done" "$LOG" | grep -q "signal:gw-master:SIGHUP"
  kill "$GW_PID"; wait "$GW_PID" 2>/dev/null || true; GW_PID=
  pkill -f "$BATS_TEST_TMPDIR/gw-stand-in" || true
  stop_supervisor
  : >"$LOG"
  rm -rf "$VOL" "$STATE"   # a first start: the reload runs
  SIDECERT_RELOAD=signal:no-such-gateway start_supervisor
  grep reload_failed "$LOG" | grep -q "no process named 'no-such-gateway' is visible"
}

cap_of() { awk -v k="$2:" '$1 == k {print $2}' "$1/status"; }   # TASK FIELD

# PID KEPT_MASK: every thread holds at most KEPT_MASK, inherits nothing, has no_new_privs.
threads_hold_only() {
  local task threads=0
  for task in /proc/"$1"/task/*; do
    for set in CapEff CapPrm; do
      (( (0x$(cap_of "$task" $set) & ~$2) == 0 )) || { echo "$task $set $(cap_of "$task" $set)" >&2; return 1; }
    done
    (( 0x$(cap_of "$task" CapInh) == 0 && 0x$(cap_of "$task" CapAmb) == 0 ))
    [ "$(cap_of "$task" NoNewPrivs)" = 1 ]
    echo "# thread $(cat "$task/comm"): CapEff=$(cap_of "$task" CapEff) CapBnd=$(cap_of "$task" CapBnd)" >&3
    threads=$((threads + 1))
  done
  (( threads >= 2 ))   # the supervisor and the responder's loop at least
}

@test "as plain root, the supervisor keeps only the capabilities it uses, on every thread, and no_new_privs" {
  [ "$(id -u)" -eq 0 ] || skip_unless_ci "needs root, as in the container"
  SIDECERT_ACME_DIRECTORY=https://127.0.0.1:9/dir SIDECERT_HTTP01_LISTEN=127.0.0.1:5003 start_supervisor
  grep privileges_dropped "$LOG" | grep -q "kept=dac_read_search "
  threads_hold_only "$SUP_PID" 0x4   # CAP_DAC_READ_SEARCH: user keys owned by others
  if (( (0x$(cap_of /proc/self CapEff) & 0x100) != 0 )); then   # we have CAP_SETPCAP: so had sidecert
    (( 0x$(cap_of "/proc/$SUP_PID" CapBnd) == 0x4 ))
  fi
  stop_supervisor
  : >"$LOG"
  # a file group and a signal reload need CAP_CHOWN and CAP_KILL: those stay too, nothing else
  SIDECERT_FILE_GROUP=0 SIDECERT_RELOAD=signal:no-such-gateway SIDECERT_ACME_DIRECTORY=https://127.0.0.1:9/dir \
    SIDECERT_HTTP01_LISTEN=127.0.0.1:5003 start_supervisor
  grep privileges_dropped "$LOG" | grep -q "kept=dac_read_search,chown,kill "
  threads_hold_only "$SUP_PID" 0x25   # bits 0, 2, 5
}

@test "the reload command gets no capability back, and neither sidecert's descriptors nor its secrets" {
  [ "$(id -u)" -eq 0 ] || skip_unless_ci "needs root, as in the container"
  printf '#!/bin/sh\ngrep -E "^(Cap|NoNewPrivs)" /proc/self/status >"%s/child"\nls /proc/self/fd >"%s/fds"\nenv >"%s/env"\n' \
    "$BATS_TEST_TMPDIR" "$BATS_TEST_TMPDIR" "$BATS_TEST_TMPDIR" >"$BATS_TEST_TMPDIR/probe.sh"
  chmod +x "$BATS_TEST_TMPDIR/probe.sh"
  SIDECERT_RELOAD="command:$BATS_TEST_TMPDIR/probe.sh" SIDECERT_EAB_KID=kid SIDECERT_EAB_HMAC_KEY=c2VjcmV0LWhtYWM \
    SIDECERT_ACME_DIRECTORY=https://127.0.0.1:9/dir SIDECERT_HTTP01_LISTEN=127.0.0.1:5003 start_supervisor
  wait_until 10 [ -s "$BATS_TEST_TMPDIR/env" ]
  cat "$BATS_TEST_TMPDIR/child" >&3
  # a root shell exec'd by a process with no_new_privs gets no more than sidecert kept
  for set in CapEff CapPrm; do
    (( (0x$(awk -v k="$set:" '$1 == k {print $2}' "$BATS_TEST_TMPDIR/child") & ~0x4) == 0 ))
  done
  grep -q "NoNewPrivs:.*1" "$BATS_TEST_TMPDIR/child"
  # 0, 1, 2, the script's own fd (sh reads it), and what ls opens: no socket of sidecert's
  (( $(wc -l <"$BATS_TEST_TMPDIR/fds") <= 5 ))
  ! grep -q -e SIDECERT_EAB -e c2VjcmV0LWhtYWM "$BATS_TEST_TMPDIR/env" || false
  grep -q "^SIDECERT_LIVE=$LIVE$" "$BATS_TEST_TMPDIR/env"
  grep -q "^SIDECERT_SOURCE=self-signed$" "$BATS_TEST_TMPDIR/env"
}

@test "files dropped while a slow reload runs (before the new set is watched) are still adopted" {
  # the first reload is slow, and a user copies a set in meanwhile, as docker cp
  # into a container whose gateway is being restarted would
  cat >"$BATS_TEST_TMPDIR/reload.sh" <<SH
#!/bin/bash
[ -e "$BATS_TEST_TMPDIR/dropped" ] && exit 0
touch "$BATS_TEST_TMPDIR/dropped"
install -m 0600 "$CERTS/good.key" "$LIVE/.k" && mv -f "$LIVE/.k" "$LIVE/privkey.pem"
install -m 0644 "$CERTS/good.pem" "$LIVE/.c" && mv -f "$LIVE/.c" "$LIVE/cert.pem"
sleep 1
SH
  chmod +x "$BATS_TEST_TMPDIR/reload.sh"
  SIDECERT_RELOAD="command:$BATS_TEST_TMPDIR/reload.sh" start_supervisor
  wait_until 5 log_has "user_cert_accepted"
  [ "$(status_field source)" = user ]
}
