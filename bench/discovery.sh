#!/usr/bin/env bash
# Names from the stack, measured: `sidecert run` discovering containers from a
# scriptable engine on a unix socket (tests/bats/lib/fake_engine.py: its own cost
# is in the figures; a real engine answers faster) and ordering each name from
# Pebble on loopback (no validation sleeps). Not part of ./test.sh.
#
#   bench/discovery.sh                      10 containers one by one, then 100 at once
#   BENCH_RUNS=10 BENCH_MANY=100 BENCH_SIDECERT=PATH bench/discovery.sh
#
# Figures: seconds from a container's start (as the engine reports it) to its CA
# certificate in the volume, where the gateway reads it at the next handshake
# (median, min, max of BENCH_RUNS); BENCH_MANY containers started at once: wall
# time until every one has its CA certificate, and the peak RSS of the process.
# SIDECERT_DISCOVER_SETTLE is 0 here: the default (5 s) is a deliberate wait a
# crash loop must outlast, and adds itself to the first figure.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
source "$ROOT/scripts/pebble.sh"
RUNS=${BENCH_RUNS:-10} MANY=${BENCH_MANY:-100}
SIDECERT=${BENCH_SIDECERT:-$ROOT/build/sidecert}
WORK="$(mktemp -d /tmp/sidecert-bench-discovery.XXXXXX)"
ENGINE_PID= SUP_PID=
cleanup() {
  [ -z "$SUP_PID" ] || { kill "$SUP_PID" 2>/dev/null; wait "$SUP_PID" 2>/dev/null || true; }
  [ -z "$ENGINE_PID" ] || { kill "$ENGINE_PID" 2>/dev/null; wait "$ENGINE_PID" 2>/dev/null || true; }
  pebble_stop
  rm -rf "$WORK"
}
trap cleanup EXIT

now_ms() { date +%s%3N; }
# The engine runs containers app<FIRST>..app<LAST>, each started now or as before.
engine_runs() { # FIRST LAST
  /usr/bin/python3 - "$WORK/state.json" "$1" "$2" <<'PY'
import datetime, json, os, sys
path, first, last = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
old = {}
if os.path.exists(path):
    old = {c["Id"]: c for c in json.load(open(path))["containers"]}
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
cs = [old.get("c%06d" % i, {"Id": "c%06d" % i, "Name": "app%d" % i, "StartedAt": now,
      "Labels": {"sidecert.domains": "app%d.bench.test" % i}}) for i in range(first, last + 1)]
json.dump({"containers": cs}, open(path + ".tmp", "w"))
os.rename(path + ".tmp", path)
PY
}
from_ca() { openssl x509 -in "$WORK/vol/live/app$1.bench.test/cert.pem" -noout -issuer 2>/dev/null | grep -q Pebble; }
wait_ca() { # FIRST LAST: every one has its CA certificate (at most 300 s)
  local i deadline=$((SECONDS + 300))
  for i in $(seq "$1" "$2"); do
    until from_ca "$i"; do
      [ "$SECONDS" -lt "$deadline" ] || { echo "app$i: no CA certificate after 300 s" >&2; return 1; }
      sleep 0.02
    done
  done
}

pebble_start "$WORK/pebble" PEBBLE_AUTHZREUSE=0
echo '{"containers": []}' >"$WORK/state.json"
/usr/bin/python3 "$ROOT/tests/bats/lib/fake_engine.py" "$WORK/docker.sock" "$WORK/state.json" "$WORK/requests.log" &
ENGINE_PID=$!
for _ in $(seq 1 100); do [ -S "$WORK/docker.sock" ] && break; sleep 0.05; done
env SIDECERT_VOLUME="$WORK/vol" SIDECERT_STATE_DIR="$WORK/state" SIDECERT_DISCOVER=docker \
  SIDECERT_DISCOVER_ALLOW='*.bench.test' SIDECERT_DISCOVER_SETTLE=0s SIDECERT_DOCKER_SOCKET="$WORK/docker.sock" \
  SIDECERT_LOG_LEVEL=warn /usr/bin/time -f "%M" -o "$WORK/rss" "$SIDECERT" run 2>"$WORK/sidecert.log" &
SUP_PID=$!

singles=()
for i in $(seq 1 "$RUNS"); do
  t0=$(now_ms)
  engine_runs 1 "$i"
  wait_ca "$i" "$i"
  singles+=($(( $(now_ms) - t0 )))
done
t0=$(now_ms)
engine_runs 1 $((RUNS + MANY))
wait_ca $((RUNS + 1)) $((RUNS + MANY))
many_ms=$(( $(now_ms) - t0 ))
kill "$(pgrep -P "$SUP_PID")"   # sidecert itself: /usr/bin/time then writes its figure
wait "$SUP_PID" 2>/dev/null || true; SUP_PID=
read -r median min max < <(printf '%s\n' "${singles[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)], a[1], a[NR]}')
printf 'discovery, %s (%s)\n' "$("$SIDECERT" version | head -1)" "$(date -u +%FT%TZ)"
printf '  start to CA certificate, one container:  median %.2f s  (min %.2f, max %.2f; %d runs)\n' \
  "$(bc -l <<<"$median/1000")" "$(bc -l <<<"$min/1000")" "$(bc -l <<<"$max/1000")" "$RUNS"
printf '  %d containers at once: all served after %.2f s; peak RSS %d KiB\n' "$MANY" "$(bc -l <<<"$many_ms/1000")" "$(cat "$WORK/rss")"
mkdir -p "$ROOT/bench/results"
printf '{"section": "discovery", "time": "%s", "single_ms": {"median": %d, "min": %d, "max": %d, "runs": %d}, "many": {"count": %d, "wall_ms": %d, "peak_rss_kib": %d}}\n' \
  "$(date -u +%FT%TZ)" "$median" "$min" "$max" "$RUNS" "$MANY" "$many_ms" "$(cat "$WORK/rss")" \
  >"$ROOT/bench/results/discovery-$(date -u +%Y%m%dT%H%M%SZ).json"
