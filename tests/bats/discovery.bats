#!/usr/bin/env bats
# Names from the stack: containers labelled sidecert.domains (or carrying
# acme-companion's LETSENCRYPT_HOST) become lineages while sidecert runs, read
# from a scriptable engine (lib/fake_engine.py) for what a real one will not do.
load lib/helpers
load lib/fake_engine
bats_require_minimum_version 1.5.0

setup() {
  fresh_env
  unset SIDECERT_DOMAINS
  export SIDECERT_DISCOVER=docker SIDECERT_DISCOVER_ALLOW='*.example.test,example.test' \
    SIDECERT_DISCOVER_SETTLE=1s SIDECERT_LOG_FORMAT=json
  start_fake_engine
}

teardown() {
  stop_supervisor
  stop_fake_engine
}

has_set() { [ -L "$VOL/live/$1" ] && live_pair_matches "$VOL/live/$1"; }
names_of() { openssl x509 -in "$VOL/live/$1/cert.pem" -noout -ext subjectAltName | tail -1 | tr -d ' '; }
event_count() { grep -c "\"event\":\"$1\"" "$LOG" || true; }
start_discovering() {
  "$SIDECERT" run 2>>"$LOG" &
  SUP_PID=$!
  wait_until 20 log_has '"event":"discovery_started"' || { cat "$LOG" >&2; return 1; }
}

@test "labelled containers and LETSENCRYPT_HOST each become a lineage live; a name outside the allow-list is refused once" {
  engine_runs '{"containers": [c("a1", "web", {"sidecert.domains": "web.example.test,www.example.test"}),
                               c("b2", "legacy", env=["LETSENCRYPT_HOST=legacy.example.test", "DB_PASSWORD=x"]),
                               c("e3", "evil", {"sidecert.domains": "bank.other.test"})]}'
  start_discovering
  wait_until 20 has_set web.example.test
  wait_until 20 has_set legacy.example.test
  [ "$(names_of web.example.test)" = "DNS:web.example.test,DNS:www.example.test" ]
  has_set default   # the set served to names no lineage has
  [ ! -e "$VOL/live/bank.other.test" ] || false
  grep '"event":"discovery_refused"' "$LOG" | grep -q 'container evil (e3).*bank.other.test.*outside SIDECERT_DISCOVER_ALLOW (\*.example.test,example.test)'

  # A fourth, started later, gets its own without a restart.
  engine_runs '{"containers": [c("a1", "web", {"sidecert.domains": "web.example.test,www.example.test"}),
                               c("b2", "legacy", env=["LETSENCRYPT_HOST=legacy.example.test"]),
                               c("e3", "evil", {"sidecert.domains": "bank.other.test"}),
                               c("d4", "late", {"sidecert.domains": "late.example.test", "sidecert.name": "late"}, up=0)]}'
  wait_until 20 has_set late
  [ "$(event_count discovery_refused)" -eq 1 ]   # said once, not at every read
  run "$SIDECERT" status --json
  [ "$(jq -r '.lineages[] | select(.name == "late") | .from' <<<"$output")" = "container late (d4)" ]
  [ "$(jq -r '.lineages[] | select(.name == "legacy.example.test") | .from' <<<"$output")" = "container legacy (b2)" ]
  ! grep -q hunter2 "$STATE/discovered.json" || false
}

@test "a container gone keeps its lineage through the grace, then it is retired: live/ withdrawn, the archive kept, the gateway told" {
  export SIDECERT_DISCOVER_GRACE=4s
  cat >"$BATS_TEST_TMPDIR/reload.sh" <<SH
#!/bin/sh
echo "\$SIDECERT_NAME \$SIDECERT_SOURCE" >>"$BATS_TEST_TMPDIR/reloads"
SH
  chmod +x "$BATS_TEST_TMPDIR/reload.sh"
  export SIDECERT_RELOAD="command:$BATS_TEST_TMPDIR/reload.sh"
  engine_runs '{"containers": [c("a1", "web", {"sidecert.domains": "web.example.test"}),
                               c("b2", "api", {"sidecert.domains": "api.example.test"})]}'
  start_discovering
  wait_until 20 has_set web.example.test
  wait_until 20 has_set api.example.test
  engine_runs '{"containers": [c("b2", "api", {"sidecert.domains": "api.example.test"})]}'
  wait_until 20 log_has '"event":"discovered_gone".*"name":"web.example.test"'
  local gone=$SECONDS
  has_set web.example.test    # a redeploy or a crash loop within the grace orders nothing
  wait_until 30 log_has '"event":"discovered_retired".*"name":"web.example.test"'
  [ $((SECONDS - gone)) -ge 3 ]   # not before the grace (4 s, whole seconds measured)
  wait_until 10 bash -c "[ ! -e '$VOL/live/web.example.test' ]"
  ls "$VOL/archive/web.example.test" | grep -q '^set-'
  wait_until 10 grep -qx "web.example.test retired" "$BATS_TEST_TMPDIR/reloads"   # its names now get the default set
  has_set api.example.test
  run "$SIDECERT" status --json
  [ "$(jq -r '.retired[] | select(.name == "web.example.test") | .from' <<<"$output")" = "container web (a1)" ]
  [ -n "$(jq -r '.retired[0].retired_at' <<<"$output")" ]
  # Back after retirement: a lineage anew.
  engine_runs '{"containers": [c("a9", "web", {"sidecert.domains": "web.example.test"}),
                               c("b2", "api", {"sidecert.domains": "api.example.test"})]}'
  wait_until 20 has_set web.example.test
}

@test "a restart takes the discovered lineages up at once, issues nothing anew, and with the engine gone says so and keeps serving" {
  engine_runs '{"containers": [c("a1", "web", {"sidecert.domains": "web.example.test"})]}'
  start_discovering
  wait_until 20 has_set web.example.test
  local serial; serial=$(openssl x509 -in "$VOL/live/web.example.test/cert.pem" -noout -serial)
  stop_supervisor
  stop_fake_engine
  : >"$LOG"
  start_discovering
  wait_until 20 log_has '"event":"discovery_failed"'
  wait_until 20 log_has '"event":"renewal_scheduled".*"name":"web.example.test"'
  log_has '"event":"started".*"name":"web.example.test"'
  [ "$(openssl x509 -in "$VOL/live/web.example.test/cert.pem" -noout -serial)" = "$serial" ]
  ! log_has '"event":"cert_issued".*"name":"web.example.test"' || false
  [ "$(event_count discovery_failed)" -eq 1 ]
  # The engine back: nothing changes for a lineage it still runs.
  start_fake_engine
  wait_until 30 log_has '"event":"discovery_back"'
  ! log_has '"event":"discovered_gone"' || false
}

@test "a container that keeps restarting is never a lineage; one that stays up past the settle time is" {
  export SIDECERT_DISCOVER_SETTLE=3s
  start_discovering
  local i
  for i in $(seq 1 12); do   # a crash loop: started anew every half second for 6 s
    engine_runs "{\"containers\": [c(\"cl$i\", \"flaky\", {\"sidecert.domains\": \"flaky.example.test\"}, up=0)]}"
    sleep 0.5
  done
  ! log_has '"event":"discovered".*flaky' || false
  wait_until 30 has_set flaky.example.test
}

@test "a changed label gives the lineage a certificate for its new names" {
  engine_runs '{"containers": [c("a1", "web", {"sidecert.domains": "web.example.test", "sidecert.name": "web"})]}'
  start_discovering
  wait_until 20 has_set web
  engine_runs '{"containers": [c("a2", "web", {"sidecert.domains": "web.example.test,new.example.test", "sidecert.name": "web"})]}'
  wait_until 20 log_has '"event":"discovered_changed".*"name":"web"'
  wait_until 20 bash -c "[ \"\$(openssl x509 -in '$VOL/live/web/cert.pem' -noout -ext subjectAltName | tail -1 | tr -d ' ')\" = DNS:web.example.test,DNS:new.example.test ]"
}

@test "a hostile engine: garbage lists, event streams that close every second or stall, garbage events; each said once, nothing breaks" {
  export SIDECERT_DISCOVER_RESYNC=2s
  engine_runs '{"containers": [c("a1", "web", {"sidecert.domains": "web.example.test"})], "events": "close"}'
  start_discovering
  wait_until 20 has_set web.example.test
  local began=$SECONDS
  sleep 8
  local streams; streams=$(engine_requests /events)
  # Reconnected after 1, 2, 4... seconds while each stream lasts a second: far fewer than one a second.
  [ "$streams" -le $(( (SECONDS - began) / 2 + 2 )) ]
  [ "$(event_count discovery_events_lost)" -le 1 ]
  engine_runs '{"containers": [c("a1", "web", {"sidecert.domains": "web.example.test"})], "list": "garbage", "events": "garbage"}'
  wait_until 20 log_has '"event":"discovery_failed".*not JSON'
  wait_until 20 log_has '"event":"discovery_event_garbage"'
  has_set web.example.test    # what it has stays served
  # A stalled stream: changes still come through the full reads.
  engine_runs '{"containers": [c("a1", "web", {"sidecert.domains": "web.example.test"}),
                               c("b2", "api", {"sidecert.domains": "api.example.test"})], "events": "stall"}'
  wait_until 30 has_set api.example.test
  [ "$(event_count discovery_failed)" -eq 1 ]
  # SIGTERM still ends it within a second, the stalled stream's transfer included.
  local overhead; overhead=$(process_overhead_ms)
  signal_and_time_exit TERM
  [ "$EXIT_RC" -eq 0 ]
  echo "# exit in $EXIT_MS ms beside a stalled event stream (a process start and exit costs $overhead ms here)" >&3
  [ "$EXIT_MS" -lt $((1000 + overhead)) ]
}

@test "1,000 containers started at once each get a lineage, bounded in threads" {
  engine_runs '{"containers": [c("n%04d" % i, "app%d" % i, {"sidecert.domains": "app%d.example.test" % i}) for i in range(1000)]}'
  local began=$SECONDS
  start_discovering
  wait_until 300 bash -c "[ \$(ls '$VOL/live' | wc -l) -ge 1001 ]" || { ls "$VOL/live" | wc -l >&2; false; }
  echo "# 1,000 discovered lineages in place after $((SECONDS - began)) s" >&3
  has_set app999.example.test
  [ "$(event_count discovered)" -eq 1000 ]
  [ "$(ls /proc/$SUP_PID/task | wc -l)" -le 16 ]
}
