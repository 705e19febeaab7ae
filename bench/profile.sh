#!/usr/bin/env bash
# Where the time and memory of one `sidecert once` over N lineages go: Debian's
# Pebble on loopback without validation sleeps, as bench/run.sh's `lineages`
# section, the same run under a profiler. Not run by CI. Run it in a network
# namespace of its own if other Pebbles may run (fixed ports, as run.sh's).
#
#   bench/profile.sh BINARY OUT_DIR TOOL [N]
#     TOOL: time (GNU time: wall, user, sys, peak RSS), strace (strace -c -f),
#           perf (perf record -g; then perf report -i OUT_DIR/perf.data),
#           massif (valgrind --tool=massif; ms_print OUT_DIR/massif.out),
#           heaptrack (heaptrack_print OUT_DIR/heaptrack.*.zst)
#     N: lineages, 1000 by default
#   PROFILE_DIR: where the volume and state go (/tmp; /dev/shm to leave the disk out)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/pebble.sh
bin=$(realpath "$1") out=$(realpath -m "$2") tool=$3 n=${4:-1000}
mkdir -p "$out"
export PEBBLE_PORT=14100 PEBBLE_MGMT_PORT=15100 PEBBLE_DNS_PORT=8153 PEBBLE_DNS_MGMT_PORT=8155
work=$(mktemp -d "${PROFILE_DIR:-/tmp}/sidecert-profile.XXXXXX")   # PROFILE_DIR=/dev/shm: without the disk
trap 'pebble_stop; rm -rf "$work"' EXIT
pebble_start "$work/pebble" PEBBLE_AUTHZREUSE=0 >/dev/null
pebble_cpu_ticks() { awk '{print $14 + $15}' "/proc/$PEBBLE_PID/stat"; }
list=""
for i in $(seq 1 "$n"); do list="$list${list:+; }l$i=l$i.n$n.test"; done
export SIDECERT_VOLUME="$work/vol" SIDECERT_STATE_DIR="$work/state" SIDECERT_CERTIFICATES="$list"
case "$tool" in
  time) start=$EPOCHREALTIME pebble0=$(pebble_cpu_ticks)
        /usr/bin/time -f '%U %S %M' -o "$out/time" "$bin" once >"$out/log" 2>&1
        echo "wall $(echo "$EPOCHREALTIME - $start" | bc -l) user sys rss_kib: $(cat "$out/time")" | tee "$out/summary"
        # The CA shares the two cores: what it spent in the same time.
        echo "pebble_cpu_s $(echo "($(pebble_cpu_ticks) - $pebble0) / $(getconf CLK_TCK)" | bc -l)" | tee -a "$out/summary" ;;
  strace) strace -c -f -o "$out/strace.txt" "$bin" once >"$out/log" 2>&1 ;;
  perf) perf record ${PERF_CALLGRAPH:--g} -F 999 -o "$out/perf.data" "$bin" once >"$out/log" 2>&1 ;;
  heaptrack) heaptrack -o "$out/heaptrack" "$bin" once >"$out/log" 2>&1 ;;
  massif) valgrind --tool=massif --massif-out-file="$out/massif.out" "$bin" once >"$out/log" 2>&1 ;;
  *) echo "unknown tool $tool" >&2; exit 2 ;;
esac
echo "issued: $(grep -c 'acme certificate for' "$out/log") of $n" | tee -a "$out/summary"
