#!/usr/bin/env bash
# Installs what is missing on Debian 12, builds, and runs every test tier:
# GoogleTest units through ctest, the Bats suites against the real binary, the
# units and Bats suites again on an AddressSanitizer + UBSan build, the Bats suites
# whose passes run at once on a ThreadSanitizer build, the fuzz targets (libFuzzer,
# FUZZ_SECONDS each, 60 by default, from the corpora in tests/fuzz/corpus), then
# the end-to-end suites with Docker (images built here, Pebble, the gateways).
# The later tiers' builds, fuzz runs and images are made in the background while
# the earlier tiers run. Exits non-zero on any failure. `./test.sh TIER` runs one
# tier, all in the foreground. A skipped test counts as neither passed nor failed: each
# tier says how many it skipped, and which, with the reason; under CI=true (as .ci/run
# sets) a skip fails the run, since on CI every test must run.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/deps.sh
source scripts/docker.sh
source scripts/pebble.sh   # pebble_build_newer, for the e2e images
source scripts/bats_parallel.sh
source scripts/test_counts.sh

tier="${1:-all}"
case "$tier" in all | unit | bats | fuzz | asan | tsan | e2e) ;; *) echo "usage: ./test.sh [unit|bats|fuzz|asan|tsan|e2e]" >&2; exit 2 ;; esac
runs() { [ "$tier" = all ] || [ "$tier" = "$1" ]; }
# The Bats files, longest first as measured: two run at once (scripts/bats_parallel.sh).
BATS_FILES=(timeliness ari_profiles alerts discovery pacing atomicity acme user_certs dns_persist dns01 hostile_ca supervisor ca_citizen
            commands metrics ip_names hostile_volume lineages views watch_limits webroot)
BATS_FILES=("${BATS_FILES[@]/#/tests/bats/}") BATS_FILES=("${BATS_FILES[@]/%/.bats}")
for f in tests/bats/*.bats; do
  [[ " ${BATS_FILES[*]} " == *" $f "* ]] || { echo "test.sh: $f is not in BATS_FILES" >&2; exit 2; }
done
# How long each tier took, printed at the end: the whole run must stay well inside CI's 90 minutes.
timings=() tier_start=$SECONDS RUN_START=$(date +%s) PREP=build/prep
took() { timings+=("$1 $((SECONDS - tier_start)) s"); tier_start=$SECONDS; echo "$1" >>"$PREP/tiers"; }
# Every PERIOD seconds, one line on what is under way: when CI ends a run at its
# limit, the log still says where the time went.
progress_every() { # PERIOD
  local step name state e2e next=$((SECONDS + $1))
  set +e
  # It ends within 5 s of test.sh, however that ends, and its sleep's output goes
  # nowhere: nothing of it holds CI's pipe open after the run.
  while kill -0 "$$" 2>/dev/null; do
    sleep 5 >/dev/null 2>&1
    [ "$SECONDS" -ge "$next" ] || continue
    next=$((next + $1)) state=""
    for step in "$PREP"/*.start; do
      [ -e "$step" ] || continue
      name=$(basename "$step" .start)
      if [ -f "$PREP/$name.rc" ]; then state+=" $name done in $(cut -d' ' -f2 "$PREP/$name.rc") s,"
      else state+=" $name running for $(($(date +%s) - $(stat -c %Y "$PREP/$name.start"))) s,"; fi
    done
    e2e=$(grep -cE '^(not )?ok ' build/e2e.out 2>/dev/null || true)
    echo "progress at +$(($(date +%s) - RUN_START)) s: tiers ended: $(cat "$PREP/tiers" 2>/dev/null | tr '\n' ' ');" \
      "background:${state:- nothing,} e2e tests ended: ${e2e:-0} ($(grep -E '^(not )?ok ' build/e2e.out 2>/dev/null | tail -1 | cut -c1-80))"
  done
}

# Every package the chosen tiers need, in one apt run.
packages=("${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}")
if runs fuzz; then packages+=("${FUZZ_PACKAGES[@]}"); fi
if runs e2e; then packages+=("${E2E_PACKAGES[@]}"); fi
ensure_packages "${packages[@]}"

# What the later tiers need (the sanitized builds, the fuzzers and their runs, the
# images) is made in the background, at a lower priority, while the earlier tiers
# mostly wait on timers; each tier waits for its part. `./test.sh TIER` makes it
# in the foreground, as before.
PREP_IN_BACKGROUND=
prep_step() { # NAME CMD...: CMD's output in $PREP/NAME.log; "rc seconds" in $PREP/NAME.rc
  local name="$1" start=$SECONDS rc=0; shift
  : >"$PREP/$name.start"
  "$@" >"$PREP/$name.log" 2>&1 || rc=$?
  echo "$rc $((SECONDS - start))" >"$PREP/$name.rc"
}
prepare_images() { ensure_docker && ensure_base_image && build_images; }
# Two chains in the background: the images, which start first, and the builds, one
# after the other. The e2e tier waits for the images and is the longest tier: made
# after the asan build, on a new machine, its end came past CI's 90 minutes.
declare -A PREP_CHAIN=()   # step -> the PID of the chain that makes it
prep_chain() { # "NAME CMD ARGS..."...: the steps one after the other, in the background, niced
  local step pid
  (
    renice -n 10 -p "$BASHPID" >/dev/null || true
    for step in "$@"; do prep_step $step; done
  ) </dev/null &
  pid=$!
  for step in "$@"; do PREP_CHAIN[${step%% *}]=$pid; done
}
if [ "$tier" = all ]; then
  rm -rf "$PREP" build/e2e.out && mkdir -p "$PREP"
  PREP_IN_BACKGROUND=1
  prep_chain "images prepare_images"
  progress_every 600 &
  PROGRESS_PID=$!
fi
build_sidecert build
if [ "$tier" = all ]; then
  prep_chain "asan build_sanitized build-asan" "tsan build_tsan build-tsan" "fuzz build_fuzzers build-fuzz" \
    "fuzz-run run_fuzzers build-fuzz"
fi
mkdir -p "$PREP" && took setup
await_prep() { # NAME: waits for its step; fails with its log
  local rc took pid="${PREP_CHAIN[$1]:-}"
  [ -n "$pid" ] || return 1
  while [ ! -f "$PREP/$1.rc" ] && kill -0 "$pid" 2>/dev/null; do sleep 1; done
  read -r rc took <"$PREP/$1.rc" 2>/dev/null || { echo "prep: $1 never ran" >&2; return 1; }
  echo "prep: $1 in $took s (background), done at +$(($(stat -c %Y "$PREP/$1.rc") - RUN_START)) s"
  [ "$rc" -eq 0 ] || { tail -40 "$PREP/$1.log" >&2; echo "prep: $1 failed (exit $rc), log $PREP/$1.log" >&2; return 1; }
}

unit_passed=0 unit_failed=0 bats_passed=0 bats_failed=0 e2e_passed=0 e2e_failed=0 rc=0
fuzz_passed=0 fuzz_failed=0 asan_passed=0 asan_failed=0 tsan_passed=0 tsan_failed=0
unit_skipped=0 bats_skipped=0 e2e_skipped=0 fuzz_skipped=0 asan_skipped=0 tsan_skipped=0
skipped_tests=()   # "TIER: TEST: REASON", printed at the end
note_skips() { # TIER: each line read, a skipped test of TIER
  local line
  while IFS= read -r line; do skipped_tests+=("$1: $line"); done
}
run_ctest() { # BUILD_DIR: the units, with ctest's output in BUILD_DIR/ctest.out, its JUnit report beside it
  rm -f "$1/ctest.xml"
  (cd "$1" && ctest --output-on-failure -j"$(nproc)" --output-junit "$PWD/ctest.xml") | tee "$1/ctest.out"
}

# The e2e tier mostly waits on containers, and the other tiers on timers: with every
# tier to run, e2e starts at once beside them, waits for its images, and its output
# is printed whole at the end.
run_e2e() { # the tier; its counts in build/e2e.counts
  local start=$SECONDS ok=0
  if { [ -n "$PREP_IN_BACKGROUND" ] && await_prep images; } || { [ -z "$PREP_IN_BACKGROUND" ] && prepare_images; }; then
    grep -hE '^image ' "$PREP/images.log" 2>/dev/null || true
    bats --formatter tap --timing tests/e2e | tee build/e2e.out && ok=1
    echo "$(tap_counts build/e2e.out)" >build/e2e.counts
  else
    echo "e2e: no Docker engine or images; see above" >&2
    : >build/e2e.out
    echo "0 1 0" >build/e2e.counts
  fi
  echo "e2e: the tier took $((SECONDS - start)) s"
  (( ok ))
}
E2E_PID=
if [ "$tier" = all ]; then
  run_e2e >build/e2e.log 2>&1 &
  E2E_PID=$!
fi

if runs unit; then
  run_ctest build || rc=1
  read -r unit_passed unit_failed unit_skipped < <(ctest_counts build/ctest.out)
  note_skips unit < <(ctest_skips build/ctest.xml)
fi
took unit

if runs bats; then
  bats_ok=1
  bats_parallel build/bats "${BATS_FILES[@]}" || bats_ok=0 rc=1
  cp build/bats/all.tap build/bats.out
  read -r bats_passed bats_failed bats_skipped < <(tap_counts build/bats.out)
  note_skips bats < <(tap_skips build/bats/*.bats.tap)
  (( bats_ok || bats_failed )) || bats_failed=1   # a file that could not run at all
  # A negated command that is not a test's last never fails it (set -e ignores `!`):
  # each needs `|| false`, or `run !`.
  if unfailing=$(grep -nE '^\s*! ' tests/bats/*.bats tests/e2e/*.bats | grep -vE '\|\| false( +#.*)?$'); then
    echo "$unfailing" >&2
    echo "bats: these negated checks cannot fail a test; end them with '|| false'" >&2
    bats_failed=$((bats_failed + 1)) rc=1
  fi
fi
took bats

if runs asan; then
  if [ -n "$PREP_IN_BACKGROUND" ]; then await_prep asan || rc=1; else build_sanitized build-asan; fi
  reports="$PWD/build-asan/sanitizer"
  rm -rf "$reports" && mkdir -p "$reports"
  # A finding stops the process and leaves a report here, also from a process a
  # test started in the background and only ended by signal.
  export ASAN_OPTIONS="log_path=$reports/asan:halt_on_error=1:detect_leaks=1"
  export UBSAN_OPTIONS="log_path=$reports/ubsan:halt_on_error=1:print_stacktrace=1"
  run_ctest build-asan || rc=1
  read -r asan_passed asan_failed asan_skipped < <(ctest_counts build-asan/ctest.out)
  note_skips asan < <(ctest_skips build-asan/ctest.xml)
  bats_ok=1
  SIDECERT="$PWD/build-asan/sidecert" bats_parallel build-asan/bats "${BATS_FILES[@]}" || bats_ok=0 rc=1
  cp build-asan/bats/all.tap build-asan/bats.out
  read -r passed_here failed_here skipped_here < <(tap_counts build-asan/bats.out)
  note_skips asan < <(tap_skips build-asan/bats/*.bats.tap)
  (( bats_ok || failed_here )) || failed_here=1
  asan_passed=$((asan_passed + passed_here)) asan_failed=$((asan_failed + failed_here))
  asan_skipped=$((asan_skipped + skipped_here))
  unset ASAN_OPTIONS UBSAN_OPTIONS
  # Only reports of a finding count: LeakSanitizer also notes threads it could not
  # stop ("Unable to get registers") in these files.
  findings=$(grep -l -E "ERROR: [A-Za-z]+Sanitizer|runtime error:" "$reports"/* 2>/dev/null || true)
  if [ -n "$findings" ]; then
    head -n 60 $findings >&2
    echo "asan: sanitizer findings in $(echo "$findings" | wc -l) process(es), reports in $reports" >&2
    asan_failed=$((asan_failed + 1)) rc=1
  fi
fi
took asan

if runs tsan; then
  if [ -n "$PREP_IN_BACKGROUND" ]; then await_prep tsan || rc=1; else build_tsan build-tsan; fi
  reports="$PWD/build-tsan/sanitizer"
  rm -rf "$reports" && mkdir -p "$reports"
  export TSAN_OPTIONS="log_path=$reports/tsan:halt_on_error=1"
  tsan_ok=1
  SIDECERT="$PWD/build-tsan/sidecert" bats_parallel build-tsan/bats tests/bats/lineages.bats tests/bats/supervisor.bats \
    tests/bats/alerts.bats tests/bats/metrics.bats || tsan_ok=0 rc=1
  cp build-tsan/bats/all.tap build-tsan/bats.out
  unset TSAN_OPTIONS
  read -r tsan_passed tsan_failed tsan_skipped < <(tap_counts build-tsan/bats.out)
  note_skips tsan < <(tap_skips build-tsan/bats/*.bats.tap)
  (( tsan_ok || tsan_failed )) || tsan_failed=1
  findings=$(grep -l "WARNING: ThreadSanitizer" "$reports"/* 2>/dev/null || true)
  if [ -n "$findings" ]; then
    head -n 60 $findings >&2
    echo "tsan: data races in $(echo "$findings" | wc -l) process(es), reports in $reports" >&2
    tsan_failed=$((tsan_failed + 1)) rc=1
  fi
fi
took tsan

if runs fuzz; then
  if [ -n "$PREP_IN_BACKGROUND" ]; then
    await_prep fuzz && await_prep fuzz-run || true
  else
    build_fuzzers build-fuzz && run_fuzzers build-fuzz || true
  fi
  for target in "${FUZZ_TARGETS[@]}"; do
    if [ "$(cat "build-fuzz/$target.rc" 2>/dev/null)" = 0 ]; then
      fuzz_passed=$((fuzz_passed + 1))
      echo "fuzz $target: $(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 executions in \2 s/p' \
        "build-fuzz/$target.log"), no finding"
    else
      fuzz_failed=$((fuzz_failed + 1)) rc=1
      grep -E -A20 "^==[0-9]+==|invariant broken|runtime error" "build-fuzz/$target.log" 2>/dev/null | head -40
      echo "fuzz $target: a finding, or it did not run; the input is build-fuzz/$target-*, the log build-fuzz/$target.log" >&2
    fi
  done
fi
took fuzz

if runs e2e; then
  if [ -n "$E2E_PID" ]; then
    wait "$E2E_PID" || rc=1
    cat build/e2e.log
  else
    run_e2e || rc=1
  fi
  read -r e2e_passed e2e_failed e2e_skipped <build/e2e.counts
  note_skips e2e < <(tap_skips build/e2e.out)
fi
took e2e

for t in unit bats fuzz asan tsan e2e; do
  p=${t}_passed f=${t}_failed s=${t}_skipped
  echo "$t: ${!p} passed, ${!f} failed, ${!s} skipped"
done
skipped=$((unit_skipped + bats_skipped + fuzz_skipped + asan_skipped + tsan_skipped + e2e_skipped))
if [ "$skipped" -gt 0 ]; then
  echo "skipped, with the reason each gave:"
  printf '  %s\n' "${skipped_tests[@]}"
  if [ "${CI:-}" = true ]; then echo "CI=true: $skipped test(s) skipped, and on CI every test must run" >&2; rc=1; fi
fi
[ -z "${PROGRESS_PID:-}" ] || kill "$PROGRESS_PID" 2>/dev/null || true
echo "time per tier: $(IFS=,; echo "${timings[*]}" | sed 's/,/, /g'); in all $SECONDS s"
[ -z "$PREP_IN_BACKGROUND" ] || echo "made in the background meanwhile: $(for f in "$PREP"/*.rc; do
  echo -n "$(basename "$f" .rc) $(cut -d' ' -f2 "$f") s, "; done | sed 's/, $//')"
echo "tests: $((unit_passed + bats_passed + fuzz_passed + asan_passed + tsan_passed + e2e_passed)) passed," \
  "$((unit_failed + bats_failed + fuzz_failed + asan_failed + tsan_failed + e2e_failed)) failed, $skipped skipped"
exit "$rc"
