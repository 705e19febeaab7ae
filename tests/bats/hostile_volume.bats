#!/usr/bin/env bats
# The shared volume is hostile ground: whatever the gateway (or anyone with
# `docker cp`) puts there after sidecert started, nothing outside it is written,
# truncated, renamed or deleted. Decoys outside are checked by content, mode,
# owner and mtime.
load lib/helpers
bats_require_minimum_version 1.5.0

setup() {
  fresh_env
  DECOY="$BATS_TEST_TMPDIR/outside"
  mkdir -p "$DECOY"
  printf 'precious\n' >"$DECOY/keep"
  chmod 0640 "$DECOY/keep"
  touch -d '2001-01-01' "$DECOY/keep" "$DECOY"
  DECOY_BEFORE="$(decoy_state)"
}

teardown() {
  [ -z "${RACER_PID:-}" ] || { kill "$RACER_PID" 2>/dev/null; wait "$RACER_PID" 2>/dev/null || true; }
  [ -z "${MNT:-}" ] || ! mountpoint -q "$MNT" || umount "$MNT"
}

decoy_state() { (cd "$DECOY" && find . -printf '%p %s %m %u %T@\n' | sort && cat keep); }
decoy_untouched() { [ "$(decoy_state)" = "$DECOY_BEFORE" ] || { diff <(echo "$DECOY_BEFORE") <(decoy_state) >&2; return 1; }; }

# A pass that publishes: the margin puts the self-signed set due at once.
publishing_pass() { SIDECERT_RENEW_BEFORE=129630m run --separate-stderr "$SIDECERT" once; }

@test "a folder sidecert writes, swapped for a link to outside after the start: nothing is written there" {
  "$SIDECERT" once 2>/dev/null
  for folder in archive/example.test archive/example.test/"$(basename "$(readlink "$LIVE")")" aside live archive; do
    [ -e "$VOL/$folder" ] || mkdir -p "$VOL/$folder"
    mv "$VOL/$folder" "$VOL/$folder.real"
    ln -s "$DECOY" "$VOL/$folder"
    publishing_pass
    (( status < 2 )) || { echo "$folder: exit $status: $stderr" >&2; false; }
    decoy_untouched || { echo "after $folder: $stderr" >&2; false; }
    rm "$VOL/$folder"
    mv "$VOL/$folder.real" "$VOL/$folder"
  done
  publishing_pass   # the volume put back: all is well again
  [ "$status" -eq 0 ]
  live_pair_matches
}

@test "an old set folder swapped for a link to outside: garbage collection removes the link, nothing outside" {
  for i in 1 2 3; do publishing_pass; done
  oldest="$(ls "$VOL/archive/example.test" | sort | head -1)"
  rm -rf "$VOL/archive/example.test/$oldest"
  ln -s "$DECOY" "$VOL/archive/example.test/$oldest"
  for i in 1 2 3 4 5; do publishing_pass; (( status < 2 )); done
  decoy_untouched
  [ ! -e "$VOL/archive/example.test/$oldest" ] || [ -L "$VOL/archive/example.test/$oldest" ]
}

@test "folder names that overflow a number do not stop publication" {
  "$SIDECERT" once 2>/dev/null
  mkdir "$VOL/archive/example.test/set-99999999999999999999" "$VOL/archive/example.test/set-9223372036854775807"
  publishing_pass
  [ "$status" -eq 0 ]
  [[ "$(readlink "$LIVE")" == ../archive/example.test/set-00000[0-9] ]]
  live_pair_matches
}

@test "a rename-exchange race between a folder and a link to outside, during repeated passes: 0 writes outside" {
  "$SIDECERT" once 2>/dev/null
  ln -s "$DECOY" "$VOL/archive/.swap"
  # Swaps archive/example.test and the link, as fast as it can, until stopped (at
  # most 100 million times or 10 minutes): each pass may meet either at any step.
  /usr/bin/python3 - "$VOL/archive/example.test" "$VOL/archive/.swap" "$BATS_TEST_TMPDIR/swaps" <<'PY' &
import ctypes, signal, sys, time
libc = ctypes.CDLL(None, use_errno=True)
a, b, out = (p.encode() for p in sys.argv[1:4])
count = 0
def stop(*_):
    open(out, "w").write(str(count)); sys.exit(0)
signal.signal(signal.SIGTERM, stop)
deadline = time.monotonic() + 600
while count < 100_000_000 and (count % 10_000 or time.monotonic() < deadline):
    libc.renameat2(-100, a, -100, b, 2)   # AT_FDCWD, RENAME_EXCHANGE
    count += 1
stop()
PY
  RACER_PID=$!
  passes=0
  for i in $(seq 1 40); do publishing_pass; passes=$((passes + 1)); (( status < 2 )); done
  kill -TERM "$RACER_PID" 2>/dev/null || true   # it may have reached its bound
  wait "$RACER_PID" || true
  RACER_PID=
  echo "# $passes publishing passes against $(cat "$BATS_TEST_TMPDIR/swaps") swaps: $(find "$DECOY" -mindepth 1 | wc -l) entries outside (1 is the decoy)" >&3
  decoy_untouched
}

@test "state left in the volume by an older version moves to the state folder on first start, aside/ stays for users" {
  # the state folder on a file system of its own, as a volume of its own is: moved by copying
  mkdir -p "$STATE"
  mount -t tmpfs -o size=4m tmpfs "$STATE" 2>/dev/null || skip_unless_ci "cannot mount a tmpfs here"
  MNT="$STATE"
  "$SIDECERT" once 2>/dev/null
  # the older layout: everything of sidecert's under <volume>/sidecert/
  mkdir -p "$VOL/sidecert/accounts/ca.test_dir" "$VOL/sidecert/aside/20260101T000000Z-refused-example.test"
  printf 'account key\n' >"$VOL/sidecert/accounts/ca.test_dir/key.pem"
  printf 'user key\n' >"$VOL/sidecert/aside/20260101T000000Z-refused-example.test/privkey.pem"
  mv "$STATE/sets" "$STATE/state-example.test.json" "$VOL/sidecert/"
  : >"$VOL/sidecert/lock"
  run --separate-stderr "$SIDECERT" once
  [ "$status" -eq 0 ]
  grep -q "state_moved.*what=" <<<"$stderr"
  [ ! -e "$VOL/sidecert" ] || { find "$VOL/sidecert" >&2; echo "$stderr" >&2; false; }
  [ "$(cat "$STATE/accounts/ca.test_dir/key.pem")" = "account key" ]
  [ "$(stat -c %a "$STATE/accounts/ca.test_dir/key.pem")" = 600 ]
  [ "$(cat "$VOL/aside/20260101T000000Z-refused-example.test/privkey.pem")" = "user key" ]
  # what it wrote before is still known as its own: no new set was needed
  [[ "$(readlink "$LIVE")" == ../archive/example.test/set-000001 ]]
  [ "$(status_field source)" = self-signed ]
}

@test "a state folder inside the volume is refused: the gateway would read the account key" {
  SIDECERT_STATE_DIR="$VOL/sidecert" run "$SIDECERT" check-config
  [ "$status" -eq 2 ]
  [[ "$output" == *"SIDECERT_STATE_DIR"*"is inside the volume"* ]]
}
