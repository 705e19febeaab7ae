#!/usr/bin/env bash
# 10,000 self-signed lineages in one `sidecert run` (issue 31): no CA
# (SIDECERT_ACME_DIRECTORY=none), lineages from a YAML `certificates:` list,
# volume and state on /dev/shm so that the disk is not what is measured.
# Not part of ./test.sh: the figures are for reading.
#
#   bench/tenk.sh                                   10,000 lineages, build/sidecert
#   BENCH_N=1000 BENCH_SIDECERT=PATH BENCH_IDLE=10 bench/tenk.sh
#   BENCH_SIDECERT="OLD NEW" bench/tenk.sh          two binaries, one after the other
#   BENCH_JSON=FILE: where each binary's JSON line is appended (bench/results/tenk-<date>.json)
#
# Figures: start to every set published (the N-th `renewal_scheduled` line), RSS,
# threads (/proc/PID/task), descriptors (/proc/PID/fd) and CPU time over BENCH_IDLE
# seconds of idling once published, then a user set dropped into one lineage's
# live/<name>/ the way `docker cp` does (a temporary name renamed into place) until
# the `user_cert_accepted` line. That last figure includes the supervisor's
# deliberate quiet period (kQuietPeriod in src/app/settle.h, 0.8 s after the last write), which lets a
# docker cp of three files finish before a pass looks.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
N=${BENCH_N:-10000} IDLE=${BENCH_IDLE:-10}
BINARIES=(${BENCH_SIDECERT:-$ROOT/build/sidecert})
WORK="$(mktemp -d /dev/shm/sidecert-bench-tenk.XXXXXX)"
PID=
cleanup() {
  [ -z "$PID" ] || { kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null || true; }
  rm -rf "$WORK"
}
trap cleanup EXIT

now_ms() { date +%s%3N; }
{
  echo "certificates:"
  for i in $(seq 1 "$N"); do printf '  - name: l%d\n    domains: [l%d.tenk.test]\n' "$i" "$i"; done
} >"$WORK/config.yml"
# The user's set for the lineage in the middle of the list.
PICK=$(( (N + 1) / 2 ))
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/user.key" -out "$WORK/user.pem" \
  -subj "/CN=l$PICK.tenk.test" -addext "subjectAltName=DNS:l$PICK.tenk.test" -days 30 2>/dev/null

count() { local c; c=$(grep -c "$1" "$WORK/log" 2>/dev/null) || true; echo "${c:-0}"; }
proc_cpu_ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
wait_count() { # PATTERN COUNT SECONDS: false when not reached in time
  local deadline=$((SECONDS + $3))
  until [ "$(count "$1")" -ge "$2" ]; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    kill -0 "$PID" 2>/dev/null || return 1
    sleep 0.05
  done
}

measure() { # BINARY
  local bin="$1" vol="$WORK/vol" state="$WORK/state" t0 t_all c0 c1 rss threads fds drop_ms accept_ms
  rm -rf "$vol" "$state" "$WORK/log"
  t0=$(now_ms)
  env -i PATH="$PATH" SIDECERT_VOLUME="$vol" SIDECERT_STATE_DIR="$state" SIDECERT_ACME_DIRECTORY=none \
    SIDECERT_LOG_FORMAT=json SIDECERT_USER_GRACE=0s "$bin" run --config "$WORK/config.yml" 2>"$WORK/log" &
  PID=$!
  if ! wait_count renewal_scheduled "$N" 900; then
    echo "  $bin: only $(count renewal_scheduled) of $N sets published" >&2
    grep -v '"level":"info"' "$WORK/log" | head -5 >&2
    kill "$PID"; wait "$PID" 2>/dev/null || true; PID=; return 1
  fi
  t_all=$(( $(now_ms) - t0 ))
  local peak; peak=$(awk '/^VmHWM/ {print $2}' "/proc/$PID/status")
  sleep 2  # settle: the last passes return to the pool
  c0=$(proc_cpu_ticks); sleep "$IDLE"; c1=$(proc_cpu_ticks)
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$PID/status")
  threads=$(ls "/proc/$PID/task" | wc -l)
  fds=$(ls "/proc/$PID/fd" | wc -l)
  # docker cp's way: each file written under a temporary name, then renamed in.
  local live="$vol/live/l$PICK" before; before=$(count user_cert_accepted)
  drop_ms=$(now_ms)
  install -m 0600 "$WORK/user.key" "$live/.privkey.pem.incoming" && mv -f "$live/.privkey.pem.incoming" "$live/privkey.pem"
  install -m 0644 "$WORK/user.pem" "$live/.cert.pem.incoming" && mv -f "$live/.cert.pem.incoming" "$live/cert.pem"
  if wait_count user_cert_accepted $((before + 1)) 30; then accept_ms=$(( $(now_ms) - drop_ms )); else accept_ms=-1; fi
  local version; version=$("$bin" version | head -1)
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=
  printf '%s (%s)\n' "$version" "$bin"
  printf '  %d lineages: all published after %.2f s; peak RSS %d KiB\n' "$N" "$(bc -l <<<"$t_all/1000")" "$peak"
  printf '  idle: RSS %d KiB (%.1f KiB a lineage), %d threads, %d descriptors, CPU %.2f s over %d s\n' \
    "$rss" "$(bc -l <<<"$rss/$N")" "$threads" "$fds" "$(bc -l <<<"($c1 - $c0) / $(getconf CLK_TCK)")" "$IDLE"
  printf '  a user set dropped into live/l%d/: adopted after %d ms (quiet period of 800 ms included)\n' "$PICK" "$accept_ms"
  printf '  inotify: max_user_watches %s, max_user_instances %s, max_queued_events %s\n' \
    "$(cat /proc/sys/fs/inotify/max_user_watches)" "$(cat /proc/sys/fs/inotify/max_user_instances)" \
    "$(cat /proc/sys/fs/inotify/max_queued_events)"
  local json=${BENCH_JSON:-$ROOT/bench/results/tenk-$(date -u +%Y%m%d).json}
  mkdir -p "$(dirname "$json")"
  printf '{"section": "tenk", "time": "%s", "binary": "%s", "lineages": %d, "start_ms": %d, "peak_rss_kib": %d, "idle_rss_kib": %d, "threads": %d, "fds": %d, "idle_cpu_s": %s, "idle_s": %d, "user_set_adopted_ms": %d}\n' \
    "$(date -u +%FT%TZ)" "$version" "$N" "$t_all" "$peak" "$rss" "$threads" "$fds" \
    "$(bc -l <<<"($c1 - $c0) / $(getconf CLK_TCK)")" "$IDLE" "$accept_ms" \
    >>"$json"
}

for b in "${BINARIES[@]}"; do measure "$b"; done
