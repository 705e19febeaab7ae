#!/usr/bin/env bash
# Issue 31's figures for two binaries side by side in one run: the binary of the
# commit before the issue's work ("before", dacd271) and the work tree's ("now"),
# each the static binary its image ships. Prints a table (before, now, now/before,
# the issue's target where it has one) and writes bench/results/compare-<time>.json.
# Not part of ./test.sh: the figures are for reading.
#
#   bench/compare.sh                      full sizes: 12-15 minutes on 2 cores, and the two image builds
#   BENCH_N_PEBBLE=100 BENCH_N_TENK=1000 BENCH_ISSUANCE_RUNS=3 bench/compare.sh   a quick run
#   BENCH_NETNS=bench bench/compare.sh    in a network namespace of that name (made if missing;
#                                         Pebble's ports are fixed)
#
# Settings (defaults in brackets):
#   BENCH_BEFORE=REF        the "before" commit [dacd271], built from a git worktree
#   BENCH_SKIP_BUILD=1      build nothing: take BENCH_BEFORE_BIN [/work/img/sidecert-before],
#                           BENCH_NOW_BIN [/work/img/sidecert-head] and the image sizes of
#                           BENCH_BEFORE_IMAGE [sidecert:before] and BENCH_NOW_IMAGE [sidecert:head]
#   BENCH_N_PEBBLE [1000]   lineages of the `once` from Pebble; BENCH_PEBBLE_RUNS [3] runs of each
#   BENCH_ISSUANCE_RUNS [7] issuances of one certificate per binary (each with an idle RSS)
#   BENCH_IDLE [10]         seconds of idling before an idle RSS is read
#   BENCH_N_TENK [10000]    self-signed lineages in one `run`; BENCH_TENK_RUNS [1] runs of each
#   BENCH_ONLY="..."        some parts: image pebble issuance tenk [all]; the others are "not measured"
#
# Figures, each from an existing bench piece run once per binary per round, the
# two binaries alternating (before, now, before, now: drift in the machine's load
# hits both alike):
#   bench/profile.sh time   one `once` over N lineages from Debian's Pebble without
#                           validation sleeps: wall, user, sys, peak RSS
#   bench/run.sh issuance own   one issuance from a fresh account (wall, CPU, peak
#                           RSS), then `run` holding that one set: RSS after BENCH_IDLE s
#   bench/tenk.sh           N self-signed lineages in one `run`: start to all published,
#                           idle RSS, threads, descriptors, a dropped user set noticed
#   docker image inspect    the image's size
# A figure that fails for a binary is reported as failed with the reason, and the
# run goes on.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

if [ -n "${BENCH_NETNS:-}" ] && [ "$(ip netns identify $$ 2>/dev/null)" != "$BENCH_NETNS" ]; then
  ip netns list | grep -qw "$BENCH_NETNS" || ip netns add "$BENCH_NETNS"
  ip netns exec "$BENCH_NETNS" ip link set lo up
  exec ip netns exec "$BENCH_NETNS" "$ROOT/bench/compare.sh" "$@"
fi

source scripts/deps.sh
ensure_packages pebble jq time bc python3 openssl procps
source scripts/docker.sh

BEFORE_REF=${BENCH_BEFORE:-dacd271}
N_PEBBLE=${BENCH_N_PEBBLE:-1000} PEBBLE_RUNS=${BENCH_PEBBLE_RUNS:-3}
ISSUANCE_RUNS=${BENCH_ISSUANCE_RUNS:-7} IDLE=${BENCH_IDLE:-10}
N_TENK=${BENCH_N_TENK:-10000} TENK_RUNS=${BENCH_TENK_RUNS:-1}
WORK="$(mktemp -d /tmp/sidecert-compare.XXXXXX)"
ROWS="$WORK/rows.tsv"
WORKTREE=
cleanup() {
  [ -z "$WORKTREE" ] || git worktree remove --force "$WORKTREE" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
: >"$ROWS"

machine() { echo "load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores, $(date -u +%FT%TZ)"; }
record() { printf '%s\t%s\t%s\n' "$@" >>"$ROWS"; } # FIGURE WHICH VALUE
fail() { record "$1" "$2" "failed: $3"; }           # FIGURE WHICH REASON
mib() { echo "scale=2; $1 / 1024" | bc -l; }
# The first line of FILE that says what went wrong (of a JSON log line, its event
# and error), shortened: the reason a figure failed.
reason() { # FILE DEFAULT
  local r
  r=$(grep -m1 -ihE 'too many open files|error|fail|refused|not all' "$1" 2>/dev/null |
    sed -E 's/.*"event":"([^"]*)".*"error":"([^"]*)".*/\1: \2/' | cut -c1-200) || true
  echo "${r:-$2}"
}

# The two binaries (BIN[before], BIN[now]) and their images (IMAGE[...]).
declare -A BIN IMAGE
prepare_binaries() {
  if [ -n "${BENCH_SKIP_BUILD:-}" ]; then
    BIN[before]=${BENCH_BEFORE_BIN:-/work/img/sidecert-before} BIN[now]=${BENCH_NOW_BIN:-/work/img/sidecert-head}
    IMAGE[before]=${BENCH_BEFORE_IMAGE:-sidecert:before} IMAGE[now]=${BENCH_NOW_IMAGE:-sidecert:head}
    return 0
  fi
  ensure_docker && ensure_base_image || return 1
  local out="$ROOT/build-bench/compare"
  WORKTREE="$WORK/before-tree"
  git worktree add --detach "$WORKTREE" "$BEFORE_REF" >/dev/null || return 1
  echo "building sidecert:bench-before from $BEFORE_REF" >&2
  image_binary "$WORKTREE" sidecert:bench-before "$out/sidecert-before" || return 1
  echo "building sidecert:bench-now from the work tree" >&2
  image_binary "$ROOT" sidecert:bench-now "$out/sidecert-now" || return 1
  BIN[before]="$out/sidecert-before" BIN[now]="$out/sidecert-now"
  IMAGE[before]=sidecert:bench-before IMAGE[now]=sidecert:bench-now
}

pebble_round() { # WHICH ROUND: one `once` over N_PEBBLE lineages
  local which="$1" out="$WORK/pebble-$1-$2" wall user sys rss issued
  if ! bench/profile.sh "${BIN[$which]}" "$out" time "$N_PEBBLE" >"$out.log" 2>&1; then
    local why; why=$(reason "$out/log" "$(tail -1 "$out.log")")
    for f in pebble_wall pebble_user pebble_sys pebble_peak; do fail "$f" "$which" "$why"; done
    return 0
  fi
  read -r wall user sys rss < <(awk '/^wall/ {print $2, $6, $7, $8}' "$out/summary")
  issued=$(awk '/^issued:/ {print $2}' "$out/summary")
  if [ "$issued" != "$N_PEBBLE" ]; then
    local why="only $issued of $N_PEBBLE issued: $(reason "$out/log" "")"
    for f in pebble_wall pebble_user pebble_sys pebble_peak; do fail "$f" "$which" "$why"; done
    return 0
  fi
  record pebble_wall "$which" "$wall"; record pebble_user "$which" "$user"
  record pebble_sys "$which" "$sys"; record pebble_peak "$which" "$(mib "$rss")"
  record pebble_ca_cpu "$which" "$(awk '/^pebble_cpu_s/ {print $2}' "$out/summary")"
}

issuance_round() { # WHICH ROUND: one issuance, then the idle RSS holding that set
  local which="$1" json="$WORK/issuance-$1-$2.json" log="$WORK/issuance-$1-$2.log"
  BENCH_SIDECERT="${BIN[$which]}" BENCH_ONLY="issuance own" BENCH_CLIENTS=sidecert BENCH_RUNS=1 \
    BENCH_IDLE="$IDLE" BENCH_OUT="$json" bench/run.sh >"$log" 2>&1 || true
  figure() { # SECTION CLIENT METRIC
    [ -f "$json" ] && jq -r --arg s "$1" --arg c "$2" --arg m "$3" \
      '.figures[] | select(.section == $s and .client == $c and .metric == $m) | .median' "$json" || true
  }
  local wall cpu rss idle why
  why=$(reason "$log" "no figure; see bench/run.sh's output")
  wall=$(figure issuance sidecert wall) cpu=$(figure issuance sidecert cpu) rss=$(figure issuance sidecert rss_kib)
  idle=$(figure own sidecert-idle rss_kib)
  if [ -n "$wall" ]; then
    record issuance_wall "$which" "$wall"; record issuance_cpu "$which" "$cpu"
    record issuance_peak "$which" "$(mib "$rss")"
  else
    for f in issuance_wall issuance_cpu issuance_peak; do fail "$f" "$which" "$why"; done
  fi
  if [ -n "$idle" ]; then record idle_rss "$which" "$(mib "$idle")"; else fail idle_rss "$which" "$why"; fi
}

tenk_round() { # WHICH ROUND: N_TENK self-signed lineages in one `run`
  local which="$1" json="$WORK/tenk-$1-$2.json" log="$WORK/tenk-$1-$2.log"
  if ! BENCH_SIDECERT="${BIN[$which]}" BENCH_N="$N_TENK" BENCH_IDLE="$IDLE" BENCH_JSON="$json" \
    bench/tenk.sh >"$log" 2>&1 || [ ! -s "$json" ]; then
    local why; why="$(grep -m1 -o 'only [0-9]* of [0-9]* sets published' "$log" || echo "no figures"): $(reason "$log" "see bench/tenk.sh")"
    for f in tenk_start tenk_idle_rss tenk_threads tenk_fds tenk_notice; do fail "$f" "$which" "$why"; done
    return 0
  fi
  local start rss threads fds notice
  read -r start rss threads fds notice < <(jq -r '"\(.start_ms) \(.idle_rss_kib) \(.threads) \(.fds) \(.user_set_adopted_ms)"' "$json")
  record tenk_start "$which" "$(echo "scale=3; $start / 1000" | bc -l)"
  record tenk_idle_rss "$which" "$(mib "$rss")"
  record tenk_threads "$which" "$threads"; record tenk_fds "$which" "$fds"
  if [ "$notice" -ge 0 ]; then record tenk_notice "$which" "$(echo "scale=3; $notice / 1000" | bc -l)"
  else fail tenk_notice "$which" "a dropped user set not adopted within 30 s"; fi
}

image_sizes() {
  local which size
  for which in before now; do
    if size=$(docker image inspect -f '{{.Size}}' "${IMAGE[$which]}" 2>"$WORK/image.err"); then
      record image "$which" "$(echo "scale=2; $size / 1000000" | bc -l)"
    else
      fail image "$which" "$(head -1 "$WORK/image.err")"
    fi
  done
}

alternate() { # FUNCTION RUNS: before, now, before, now, ...
  local r
  for r in $(seq 1 "$2"); do
    echo "  $1 $r/$2 ($(machine))" >&2
    "$1" before "$r"; "$1" now "$r"
  done
}

# What "now" was built from: the commit, and whether the work tree differs from it.
tree_state() {
  if [ -n "${BENCH_SKIP_BUILD:-}" ]; then echo "given binary"; return; fi
  echo "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src CMakeLists.txt docker || echo ' with uncommitted changes')"
}

LOAD_START=$(machine)
echo "start: $LOAD_START" >&2
prepare_binaries || { echo "could not build the images (before: $BEFORE_REF)" >&2; exit 1; }
echo "before: ${BIN[before]} ($("${BIN[before]}" version | head -1)); now: ${BIN[now]} ($("${BIN[now]}" version | head -1))" >&2
part() { [ -z "${BENCH_ONLY:-}" ] || [[ " $BENCH_ONLY " == *" $1 "* ]]; }
if part image; then image_sizes; fi
if part pebble; then
  echo "$N_PEBBLE lineages from Pebble, $PEBBLE_RUNS runs each" >&2
  alternate pebble_round "$PEBBLE_RUNS"
fi
if part issuance; then
  echo "one issuance and the idle RSS, $ISSUANCE_RUNS runs each" >&2
  alternate issuance_round "$ISSUANCE_RUNS"
fi
if part tenk; then
  echo "$N_TENK self-signed lineages, $TENK_RUNS runs each" >&2
  alternate tenk_round "$TENK_RUNS"
fi
LOAD_END=$(machine)

mkdir -p bench/results
out="bench/results/compare-$(date -u +%Y%m%dT%H%M%SZ).json"
jq -n --arg ls "$LOAD_START" --arg le "$LOAD_END" --arg ref "$BEFORE_REF" --arg bb "${BIN[before]}" --arg bn "${BIN[now]}" \
  --arg vb "$("${BIN[before]}" version | head -1)" --arg vn "$("${BIN[now]}" version | head -1)" \
  --arg head "$(tree_state)" \
  --argjson np "$N_PEBBLE" --argjson nt "$N_TENK" --argjson pr "$PEBBLE_RUNS" --argjson ir "$ISSUANCE_RUNS" \
  --argjson tr "$TENK_RUNS" --argjson idle "$IDLE" \
  '{machine: {start: $ls, end: $le, kernel: "'"$(uname -r)"'"},
    before: {ref: $ref, binary: $bb, version: $vb}, now: {tree: $head, binary: $bn, version: $vn},
    sizes: {pebble_lineages: $np, pebble_runs: $pr, issuance_runs: $ir, idle_s: $idle, tenk_lineages: $nt, tenk_runs: $tr}}' \
  >"$WORK/meta.json"
echo
echo "start: $LOAD_START"
python3 bench/compare.py "$ROWS" "$out" "$WORK/meta.json"
echo "end:   $LOAD_END"
echo "written: $out"
