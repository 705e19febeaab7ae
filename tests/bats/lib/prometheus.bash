# A real Prometheus (Debian's package) on loopback, scraping sidecert's /metrics
# at TARGET every second with the rules of deploy/prometheus; stopped by PID.
PROM_PORT=${PROM_PORT:-19099}

prometheus_start() { # DIR TARGET
  local dir="$1"
  mkdir -p "$dir"
  cp "$ROOT/deploy/prometheus/sidecert-rules.yml" "$dir/"
  cat >"$dir/prometheus.yml" <<YAML
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [sidecert-rules.yml]
scrape_configs:
  - job_name: sidecert
    static_configs: [{targets: ["$2"]}]
YAML
  PROM_LOG="$dir/log"
  prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
    --web.listen-address="127.0.0.1:$PROM_PORT" >"$PROM_LOG" 2>&1 &
  PROM_PID=$!
}

prometheus_stop() {
  [ -z "${PROM_PID:-}" ] || { kill "$PROM_PID" 2>/dev/null; wait "$PROM_PID" 2>/dev/null || true; PROM_PID=; }
}

prom_query() { # PROMQL: the first result's value, or nothing
  curl -fsS --get "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode "query=$1" 2>/dev/null |
    jq -r '.data.result[0].value[1] // empty'
}
prom_has() { [ -n "$(prom_query "$1")" ]; }
