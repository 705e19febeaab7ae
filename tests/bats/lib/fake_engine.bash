# A scriptable Docker Engine API on a unix socket (fake_engine.py): the test
# writes what the engine runs as JSON, and sidecert discovers it.
ENGINE_DIR=
start_fake_engine() {
  ENGINE_DIR="$BATS_TEST_TMPDIR/engine"
  mkdir -p "$ENGINE_DIR"
  [ -f "$ENGINE_DIR/state.json" ] || echo '{"containers": []}' >"$ENGINE_DIR/state.json"
  /usr/bin/python3 "$ROOT/tests/bats/lib/fake_engine.py" "$ENGINE_DIR/docker.sock" "$ENGINE_DIR/state.json" \
    "$ENGINE_DIR/requests.log" 2>"$ENGINE_DIR/engine.err" &
  ENGINE_PID=$!
  wait_until 10 test -S "$ENGINE_DIR/docker.sock"
  export SIDECERT_DOCKER_SOCKET="$ENGINE_DIR/docker.sock"
}
stop_fake_engine() {
  [ -n "${ENGINE_PID:-}" ] || return 0
  kill "$ENGINE_PID" 2>/dev/null || true
  wait "$ENGINE_PID" 2>/dev/null || true
  ENGINE_PID=
}

# engine_runs PYTHON_EXPR: the engine's state becomes the expression's value, written
# whole and renamed into place (the engine never reads half of it). `now` is the
# time as RFC 3339, `ago(s)` that many seconds before.
engine_runs() {
  /usr/bin/python3 - "$ENGINE_DIR/state.json" "$1" <<'PY'
import datetime, json, os, sys
def ago(s): return (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=s)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
now = ago(0)
def c(id, name, labels=None, env=None, up=3600, running=True):
    return {"Id": id, "Name": name, "Labels": labels or {}, "Env": env or [], "StartedAt": ago(up), "Running": running}
state = eval(sys.argv[2])
tmp = sys.argv[1] + ".tmp"
with open(tmp, "w") as f: json.dump(state, f)
os.rename(tmp, sys.argv[1])
PY
}

engine_requests() { grep -c " GET /v1.41$1" "$ENGINE_DIR/requests.log" || true; }
