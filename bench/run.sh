#!/usr/bin/env bash
# sidecert beside certbot, lego and uacme on the same local Pebble, in one run.
# Prints a table and writes bench/results/<time>.json. Not run by CI.
#
#   bench/run.sh                 5 runs per figure, a minute of idle
#   BENCH_RUNS=1 BENCH_IDLE=5 bench/run.sh     a quick smoke run
#   BENCH_ONLY=issuance bench/run.sh           some sections: issuance, ten, lineages, responder, servers, sleeps, own, metrics, image
#   BENCH_LINEAGES="1 10" bench/run.sh         the lineage counts of the lineages section (1 10 100)
#   BENCH_CLIENTS="sidecert uacme" bench/run.sh    some of the clients
#   BENCH_OUT=FILE bench/run.sh                    the JSON elsewhere than bench/results/<time>.json
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
source scripts/pebble.sh

RUNS=${BENCH_RUNS:-5}
IDLE=${BENCH_IDLE:-60}
ONLY=${BENCH_ONLY:-}
WORK="$(mktemp -d /tmp/sidecert-bench.XXXXXX)"
RESULTS="$WORK/results.tsv"   # section  client  metric  value
export PEBBLE_PORT=14100 PEBBLE_MGMT_PORT=15100 PEBBLE_DNS_PORT=8153 PEBBLE_DNS_MGMT_PORT=8155

section() { [ -z "$ONLY" ] || [[ " $ONLY " == *" $1 "* ]]; }
read -r -a CLIENTS <<<"${BENCH_CLIENTS:-sidecert uacme lego certbot}"
# Only the peers this run measures: a run of sidecert alone installs none of them.
PEERS=()
for c in "${CLIENTS[@]}"; do [ "$c" = sidecert ] || PEERS+=("$c"); done
if section responder; then PEERS+=(wrk); fi
if section servers; then PEERS+=(caddy apache2); fi
ensure_packages "${BUILD_PACKAGES[@]}" pebble curl jq time bc python3 "${PEERS[@]}"
source scripts/docker.sh

# The binary the image ships (a static libcurl of HTTP(S) and SMTP(S) only, built
# from Debian's source package), taken out of the image: it links nothing but
# Debian 12 libraries this machine has too, so it runs here without a container's
# start-up in the figures. Without Docker, a native build with Debian's shared
# libcurl stands in, and the report says so.
shipped_binary() {
  ensure_docker && ensure_base_image && image_binary . sidecert build-bench/sidecert-shipped
}
if [ -n "${BENCH_SIDECERT:-}" ]; then
  SIDECERT=$(realpath "$BENCH_SIDECERT") BINARY=given   # a binary to compare, e.g. a build under trial
elif shipped_binary; then
  SIDECERT="$PWD/build-bench/sidecert-shipped" BINARY=shipped
else
  echo "  no Docker: measuring a native build with Debian's shared libcurl, not the shipped binary" >&2
  cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DSIDECERT_TESTS=OFF >/dev/null
  cmake --build build-bench -j"$(nproc)" --target sidecert >/dev/null
  SIDECERT="$PWD/build-bench/sidecert" BINARY=native
fi

cleanup() { pebble_stop; [ -z "${WEB_PID:-}" ] || kill "$WEB_PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

record() { printf '%s\t%s\t%s\t%s\n' "$@" >>"$RESULTS"; }
record binary sidecert libraries "$(ldd "$SIDECERT" | grep -c '=>')"

# Runs a command under GNU time: records wall (s, from a nanosecond clock: GNU
# time's own has 10 ms steps), cpu (s) and peak RSS (KiB, from the kernel).
measure() { # SECTION CLIENT CMD...
  local sec="$1" client="$2"; shift 2
  local t="$WORK/time.$$" start end
  start=$EPOCHREALTIME   # bash's own clock: no process of its own in the figure
  if ! /usr/bin/time -f '%U %S %M' -o "$t" "$@" >"$WORK/last.out" 2>&1; then
    echo "  $client failed:" >&2; tail -5 "$WORK/last.out" >&2; return 1
  fi
  end=$EPOCHREALTIME
  read -r user sys rss <"$t"
  record "$sec" "$client" wall "$(echo "$end - $start" | bc -l)"
  record "$sec" "$client" cpu "$(echo "$user + $sys" | bc -l)"
  record "$sec" "$client" rss_kib "$rss"
}

# uacme has no responder of its own: a hook writes the token for a plain web server
# started once, before any timing, as a running nginx would be.
start_webroot() {
  mkdir -p "$WORK/webroot/.well-known/acme-challenge"
  python3 -m http.server 5002 --bind 127.0.0.1 --directory "$WORK/webroot" >/dev/null 2>&1 &
  WEB_PID=$!
  sleep 0.5
  cat >"$WORK/uacme-hook.sh" <<SH
#!/bin/sh
# uacme hook: METHOD TYPE IDENT TOKEN AUTH
[ "\$2" = http-01 ] || exit 1
f="$WORK/webroot/.well-known/acme-challenge/\$4"
case "\$1" in begin) printf '%s' "\$5" >"\$f" ;; *) rm -f "\$f" ;; esac
SH
  chmod +x "$WORK/uacme-hook.sh"
}
stop_webroot() { kill "$WEB_PID" 2>/dev/null || true; wait "$WEB_PID" 2>/dev/null || true; WEB_PID=; }

# uacme trusts only the system store: show it Pebble's certificate in a private mount namespace.
uacme_bundle() {
  cat /etc/ssl/certs/ca-certificates.crt "$SIDECERT_ACME_CA_BUNDLE" >"$WORK/uacme-bundle.pem"
}

issue() { # CLIENT DIR NAME: one certificate for NAME, state kept in DIR
  local client="$1" dir="$2" name="$3"
  mkdir -p "$dir"
  case "$client" in
    harness) env SIDECERT_BENCH=1 true ;;  # the chain every client starts through, and one program
    sidecert)
      env SIDECERT_VOLUME="$dir" SIDECERT_STATE_DIR="$dir.state" SIDECERT_DOMAINS="$name" SIDECERT_NAME="$name" \
        SIDECERT_KEY_TYPE=ec256 "$SIDECERT" once ;;
    lego)
      env LEGO_CA_CERTIFICATES="$SIDECERT_ACME_CA_BUNDLE" lego --server "$SIDECERT_ACME_DIRECTORY" --accept-tos \
        --email bench@example.test --domains "$name" --key-type ec256 --http --http.port 127.0.0.1:5002 \
        --path "$dir" run ;;
    certbot)
      env REQUESTS_CA_BUNDLE="$SIDECERT_ACME_CA_BUNDLE" certbot certonly --standalone --http-01-address 127.0.0.1 \
        --http-01-port 5002 --server "$SIDECERT_ACME_DIRECTORY" --config-dir "$dir/c" --work-dir "$dir/w" \
        --logs-dir "$dir/l" --agree-tos -m bench@example.test --no-eff-email -d "$name" --key-type ecdsa \
        --elliptic-curve secp256r1 --non-interactive -q ;;
    uacme)
      unshare -m sh -c "mount --bind '$WORK/uacme-bundle.pem' /etc/ssl/certs/ca-certificates.crt &&
        (uacme -a '$SIDECERT_ACME_DIRECTORY' -c '$dir' -t EC -b 256 -y new bench@example.test >/dev/null 2>&1 || [ -f '$dir/private/key.pem' ]) &&
        uacme -a '$SIDECERT_ACME_DIRECTORY' -c '$dir' -t EC -b 256 -h '$WORK/uacme-hook.sh' issue '$name'" ;;
  esac
}

# /usr/bin/time runs programs, not functions: `issue` goes through bash -c, the same for all;
# the issuance section measures that chain around a program that does nothing (`harness`).
export -f issue
export WORK SIDECERT

# Seconds from the CA's last fetch of a token (after any validation sleep) to the
# certificate in place, from sidecert's log.
after_validation() { # LOG
  python3 - "$1" <<'PY'
import sys
from datetime import datetime
def at(line): return datetime.strptime(line.split()[0], "%Y-%m-%dT%H:%M:%S.%fZ")
lines = open(sys.argv[1]).read().splitlines()
fetch = [at(l) for l in lines if " challenge_served " in l]
done = [at(l) for l in lines if " cert_issued " in l and "source=acme" in l]
print(f"{(done[-1] - fetch[-1]).total_seconds():.3f}" if fetch and done else "none")
PY
}

run_issuance() { # SECTION: one issuance from a fresh account, RUNS times per client
  local sec="$1" c i
  for i in $(seq 1 "$RUNS"); do
    measure "$sec" harness bash -c 'issue "$@"' issue harness "$WORK/$sec-harness-$i" none
  done
  for c in "${CLIENTS[@]}"; do
    if [ "$c" = uacme ]; then start_webroot; fi
    for i in $(seq 1 "$RUNS"); do
      measure "$sec" "$c" bash -c 'issue "$@"' issue "$c" "$WORK/$sec-$c-$i" "one-$i.$c.test" || continue
      if [ "$c" = sidecert ]; then record "$sec" sidecert after_validation "$(after_validation "$WORK/last.out")"; fi
    done
    if [ "$c" = uacme ]; then stop_webroot; fi
  done
}

run_ten() { # ten names as ten certificates, one after another, one account per run
  local c i r start
  for c in "${CLIENTS[@]}"; do
    if [ "$c" = uacme ]; then start_webroot; fi
    for r in $(seq 1 "$RUNS"); do
      start=$(date +%s%N)
      for i in $(seq 1 10); do
        issue "$c" "$WORK/ten-$c-$r" "n$i.ten$r.$c.test" >"$WORK/ten.out" 2>&1 || { echo "  $c: name $i failed" >&2; tail -3 "$WORK/ten.out" >&2; }
      done
      record ten "$c" wall "$(echo "($(date +%s%N) - $start) / 1000000000" | bc -l)"
    done
    if [ "$c" = uacme ]; then stop_webroot; fi
  done
}

# N certificates of one name each: sidecert keeps them all in one process (one
# `once` over N lineages, then `run` idle); certbot and lego issue them one command
# at a time, as their cron jobs would, and keep no process between.
run_lineages() {
  local n c r start list i dir
  for n in ${BENCH_LINEAGES:-1 10 100}; do
    for c in "${CLIENTS[@]}"; do
      [ "$c" = uacme ] && continue
      for r in $(seq 1 "$RUNS"); do
        dir="$WORK/lin-$n-$c-$r"
        if [ "$c" = sidecert ]; then
          list=""
          for i in $(seq 1 "$n"); do list="$list${list:+; }l$i=l$i.n$n-r$r.test"; done
          measure "lineages-$n" sidecert env SIDECERT_VOLUME="$dir" SIDECERT_STATE_DIR="$dir.state" \
            SIDECERT_CERTIFICATES="$list" "$SIDECERT" once || continue
          [ "$(grep -c 'acme certificate for' "$WORK/last.out")" -eq "$n" ] || echo "  sidecert: not all $n issued" >&2
        else
          measure "lineages-$n" "$c" bash -c 'for i in $(seq 1 "$3"); do issue "$1" "$2" "l$i.n$3-$4.$1.test" || exit 1; done' \
            loop "$c" "$dir" "$n" "$r" || continue
        fi
      done
    done
    # sidecert's supervisor over the N lineages just issued: memory and CPU while idle
    dir="$WORK/lin-$n-sidecert-1"
    [ -d "$dir" ] || continue
    list=""
    for i in $(seq 1 "$n"); do list="$list${list:+; }l$i=l$i.n$n-r1.test"; done
    env SIDECERT_VOLUME="$dir" SIDECERT_STATE_DIR="$dir.state" SIDECERT_CERTIFICATES="$list" "$SIDECERT" run \
      2>"$WORK/lin-idle.log" &
    local pid=$! t0 t1 k
    for k in $(seq 1 300); do [ "$(grep -c renewal_scheduled "$WORK/lin-idle.log")" -ge "$n" ] && break; sleep 0.1; done
    t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    sleep "$IDLE"
    t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    record "lineages-$n" sidecert idle_rss_kib "$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")"
    record "lineages-$n" sidecert idle_cpu_s "$(echo "($t1 - $t0) / $(getconf CLK_TCK)" | bc -l)"
    record "lineages-$n" sidecert threads "$(awk '/^Threads/ {print $2}' "/proc/$pid/status")"
    kill "$pid"; wait "$pid" || true
  done
}

run_own() { # sidecert alone: first self-signed set, idle cost, adoption of a dropped set
  local i
  for i in $(seq 1 "$RUNS"); do
    measure own sidecert-self-signed env SIDECERT_VOLUME="$WORK/ss-$i" SIDECERT_STATE_DIR="$WORK/ss-$i.state" SIDECERT_DOMAINS=own.test \
      SIDECERT_ACME_DIRECTORY=none "$SIDECERT" once
  done
  local vol="$WORK/idle"
  env SIDECERT_VOLUME="$vol" SIDECERT_STATE_DIR="$vol.state" SIDECERT_DOMAINS=idle.test SIDECERT_NAME=idle "$SIDECERT" once >/dev/null 2>&1
  env SIDECERT_VOLUME="$vol" SIDECERT_STATE_DIR="$vol.state" SIDECERT_DOMAINS=idle.test SIDECERT_NAME=idle "$SIDECERT" run 2>"$WORK/idle.log" &
  local pid=$!
  sleep 1
  local t0 t1
  t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  sleep "$IDLE"
  t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  record own sidecert-idle rss_kib "$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")"
  record own sidecert-idle cpu "$(echo "($t1 - $t0) / $(getconf CLK_TCK)" | bc -l)"
  # a user set dropped in: time until live/ points at a new set
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=idle.test \
    -addext subjectAltName=DNS:idle.test -keyout "$WORK/u.key" -out "$WORK/u.pem" 2>/dev/null
  for i in $(seq 1 "$RUNS"); do
    openssl req -x509 -key "$WORK/u.key" -days 30 -subj /CN=idle.test -addext subjectAltName=DNS:idle.test \
      -out "$WORK/u.pem" 2>/dev/null
    local before start n
    before="$(readlink "$vol/live/idle")"
    start=$(date +%s%N)
    install -m 0600 "$WORK/u.key" "$vol/live/idle/.k" && mv "$vol/live/idle/.k" "$vol/live/idle/privkey.pem"
    install -m 0644 "$WORK/u.pem" "$vol/live/idle/.c" && mv "$vol/live/idle/.c" "$vol/live/idle/cert.pem"
    for n in $(seq 1 1000); do [ "$(readlink "$vol/live/idle")" != "$before" ] && break; sleep 0.01; done
    record own sidecert-adopt wall "$(echo "($(date +%s%N) - $start) / 1000000000" | bc -l)"
    sleep 1.5
  done
  kill "$pid"; wait "$pid" || true
}

run_responder() { # wrk on loopback, then a challenge under 1,000 idle connections
  local vol="$WORK/resp"
  env SIDECERT_VOLUME="$vol" SIDECERT_STATE_DIR="$vol.state" SIDECERT_DOMAINS=resp.test SIDECERT_HTTP01_LISTEN=127.0.0.1:5002 SIDECERT_LOG_LEVEL=debug \
    "$SIDECERT" run 2>"$WORK/resp.log" &
  local pid=$! n
  for n in $(seq 1 100); do grep -q "cert_issued.*source=acme" "$WORK/resp.log" && break; sleep 0.1; done
  wrk -t2 -c64 -d10s --latency http://127.0.0.1:5002/.well-known/acme-challenge/bench-token-not-in-flight \
    >"$WORK/wrk.out" 2>&1 || true
  record responder sidecert rps "$(awk '/^Requests\/sec/ {print $2}' "$WORK/wrk.out")"
  record responder sidecert p99_ms "$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) sub(/ms/,"",v); else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' "$WORK/wrk.out")"
  record responder sidecert rss_kib "$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")"
  # 1,000 idle connections held open (slowloris), then the running supervisor must
  # get a new certificate through its responder: revoke makes it replace the one in place
  python3 - "$WORK/idle.pid" <<'PY' &
import socket, sys, time, os
open(sys.argv[1], "w").write(str(os.getpid()))
held = []
for _ in range(1000):
    try:
        s = socket.create_connection(("127.0.0.1", 5002), timeout=1); s.send(b"GET /"); held.append(s)
    except OSError:
        pass
time.sleep(120)
PY
  sleep 3
  local start ok=no served
  served=$(grep -c challenge_served "$WORK/resp.log")
  start=$(date +%s%N)
  SIDECERT_VOLUME="$vol" SIDECERT_STATE_DIR="$vol.state" SIDECERT_DOMAINS=resp.test "$SIDECERT" revoke >/dev/null 2>&1
  for n in $(seq 1 6000); do
    [ "$(grep -c "cert_issued.*source=acme" "$WORK/resp.log")" -ge 2 ] && break
    sleep 0.01
  done
  # answered means: a new certificate, and the CA fetched the token while the 1,000 were held
  [ "$(grep -c "cert_issued.*source=acme" "$WORK/resp.log")" -ge 2 ] &&
    [ "$(grep -c challenge_served "$WORK/resp.log")" -gt "$served" ] && ok=yes
  record responder sidecert challenge_under_1000_idle "$ok"
  record responder sidecert challenge_under_1000_idle_s "$(echo "($(date +%s%N) - $start) / 1000000000" | bc -l)"
  # requests per certificate: the first from a fresh account, then a running supervisor's
  # (directory, nonce and account known)
  record responder sidecert requests_fresh_account "$(grep -m1 -o 'acme_requests.*requests=[0-9]*' "$WORK/resp.log" | grep -o '[0-9]*$')"
  record responder sidecert requests_running "$(grep -o 'acme_requests.*requests=[0-9]*' "$WORK/resp.log" | tail -1 | grep -o '[0-9]*$')"
  kill "$(cat "$WORK/idle.pid")" 2>/dev/null || true
  kill "$pid"; wait "$pid" || true
}

# /metrics scraped 200 times with nothing else on the port, then 200 times while
# 1,000 connections that sent half a request line are held (the Bats case's
# slowloris, kept at that count): p50 and p99 of each, in ms.
run_metrics() {
  local vol="$WORK/metrics" port=19564
  env SIDECERT_VOLUME="$vol" SIDECERT_STATE_DIR="$vol.state" SIDECERT_DOMAINS=metrics.test SIDECERT_ACME_DIRECTORY=none \
    SIDECERT_METRICS_LISTEN="127.0.0.1:$port" "$SIDECERT" run 2>"$WORK/metrics.log" &
  local pid=$! n
  for n in $(seq 1 100); do grep -q renewal_scheduled "$WORK/metrics.log" && break; sleep 0.1; done
  scrapes() { # LABEL: 200 scrapes, their p50 and p99 recorded
    for n in $(seq 1 200); do
      curl -fsS -o /dev/null --max-time 10 -w '%{time_total}\n' "http://127.0.0.1:$port/metrics" || echo 10
    done | sort -n >"$WORK/scrapes"
    record metrics sidecert "scrape_p50_ms_$1" "$(awk 'NR == 100 {print $1 * 1000}' "$WORK/scrapes")"
    record metrics sidecert "scrape_p99_ms_$1" "$(awk 'NR == 198 {print $1 * 1000}' "$WORK/scrapes")"
  }
  scrapes unloaded
  /usr/bin/python3 tests/bats/lib/hold_connections.py 127.0.0.1 "$port" 1000 "$WORK/hold.stop" 300 "$WORK/hold.count" &
  local holder=$!
  for n in $(seq 1 600); do [ "$(cat "$WORK/hold.count" 2>/dev/null || echo 0)" -ge 1000 ] && break; sleep 0.1; done
  scrapes held_1000
  record metrics sidecert fds_held_1000 "$(ls "/proc/$pid/fd" | wc -l)"
  record metrics sidecert rss_kib_held_1000 "$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")"
  touch "$WORK/hold.stop"; wait "$holder" || true
  kill "$pid"; wait "$pid" || true
}

# Servers with an ACME client inside, beside sidecert under `run`: from start to
# the certificate on disk, and the resident memory of all their processes once it
# is there. Each runs in its own process group, ended after.
tree_rss_kib() { # PGID: VmRSS summed over the group's processes
  local total=0 p
  for p in $(pgrep -g "$1"); do total=$((total + $(awk '/^VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0))); done
  echo "$total"
}

caddy_config() { # DIR NAME
  cat >"$1/Caddyfile" <<CADDY
{
	admin off
	http_port 5002
	https_port 5443
	storage file_system $1/storage
	email bench@example.test
	skip_install_trust
	ocsp_stapling off
}
$2 {
	tls {
		key_type p256
		issuer acme {
			dir $SIDECERT_ACME_DIRECTORY
			trusted_roots $SIDECERT_ACME_CA_BUNDLE
			disable_tlsalpn_challenge
		}
	}
	respond "ok"
}
CADDY
}

mod_md_config() { # DIR NAME
  local mods=/usr/lib/apache2/modules
  mkdir -p "$1/md" "$1/run"
  cat >"$1/httpd.conf" <<APACHE
ServerRoot $1
PidFile $1/run/httpd.pid
DefaultRuntimeDir $1/run
ErrorLog $1/error.log
LogLevel warn md:info
LoadModule mpm_event_module $mods/mod_mpm_event.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule socache_shmcb_module $mods/mod_socache_shmcb.so
LoadModule ssl_module $mods/mod_ssl.so
LoadModule md_module $mods/mod_md.so
ServerName $2
Listen 127.0.0.1:5002
Listen 127.0.0.1:5443
MDStoreDir $1/md
MDCertificateAuthority $SIDECERT_ACME_DIRECTORY
MDCACertificateFile $SIDECERT_ACME_CA_BUNDLE
MDCertificateAgreement accepted
MDContactEmail bench@example.test
MDPrivateKeys secp256r1
MDCAChallenges http-01
MDomain $2
<VirtualHost 127.0.0.1:5002>
  ServerName $2
</VirtualHost>
<VirtualHost 127.0.0.1:5443>
  ServerName $2
  SSLEngine on
</VirtualHost>
APACHE
}

run_servers() {
  local c i dir name start end pid cert
  for c in ${BENCH_SERVERS:-sidecert caddy mod_md}; do
    for i in $(seq 1 "$RUNS"); do
      dir="$WORK/srv-$c-$i" name="srv$i-${c//_/-}.test"   # no "_" in a host name
      mkdir -p "$dir"
      start=$(date +%s%N)
      case "$c" in
        sidecert)
          cert="$dir/vol/live/$name/cert.pem"
          setsid env SIDECERT_VOLUME="$dir/vol" SIDECERT_STATE_DIR="$dir/state" SIDECERT_DOMAINS="$name" SIDECERT_NAME="$name" \
            SIDECERT_KEY_TYPE=ec256 "$SIDECERT" run 2>"$dir/log" &
          pid=$! ;;
        caddy)
          caddy_config "$dir" "$name"
          cert="$dir/storage/certificates/localhost-14100-dir/$name/$name.crt"
          (cd "$dir" && exec setsid env HOME="$dir" XDG_DATA_HOME="$dir" XDG_CONFIG_HOME="$dir" \
            caddy run --config "$dir/Caddyfile" --adapter caddyfile >"$dir/log" 2>&1) &
          pid=$! ;;
        mod_md)
          mod_md_config "$dir" "$name"
          cert="$dir/md/staging/$name/pubcert.secp256r1.pem"
          setsid /usr/sbin/apache2 -f "$dir/httpd.conf" -DFOREGROUND >"$dir/log" 2>&1 &
          pid=$! ;;
      esac
      # the certificate, not the self-signed fallback: sidecert's set from Pebble
      for _ in $(seq 1 6000); do
        if [ -s "$cert" ] && openssl x509 -in "$cert" -noout -issuer 2>/dev/null | grep -q Pebble; then break; fi
        sleep 0.01
      done
      end=$(date +%s%N)
      if ! openssl x509 -in "$cert" -noout -issuer 2>/dev/null | grep -q Pebble; then
        echo "  $c: no certificate from Pebble within 60 s" >&2; tail -5 "$dir/log" "$dir/error.log" >&2 || true
      else
        record servers "$c" wall "$(echo "($end - $start) / 1000000000" | bc -l)"
        sleep 2
        record servers "$c" rss_kib "$(tree_rss_kib "$pid")"
      fi
      kill -TERM -- -"$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    done
  done
}

run_image() {
  [ "$BINARY" = shipped ] || { echo "  no Docker: image sizes skipped" >&2; return 0; }
  printf 'FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y --no-install-recommends certbot && rm -rf /var/lib/apt/lists/*\nENTRYPOINT ["certbot"]\n' |
    docker build -q -t sidecert-bench-certbot - >/dev/null
  record image sidecert mb "$(docker image inspect -f '{{.Size}}' sidecert | awk '{printf "%.1f", $1/1e6}')"
  record image certbot mb "$(docker image inspect -f '{{.Size}}' sidecert-bench-certbot | awk '{printf "%.1f", $1/1e6}')"
}

echo "bench: $RUNS runs per figure; the $BINARY binary; work in $WORK" >&2
if section issuance || section ten || section lineages || section responder || section servers; then
  # no reuse of valid authorizations: every order proves its names through a responder
  pebble_start "$WORK/pebble" PEBBLE_AUTHZREUSE=0
  uacme_bundle
  export SIDECERT_HTTP01_LISTEN=127.0.0.1:5002
fi
if section issuance; then echo "one issuance, fresh account, PEBBLE_VA_NOSLEEP=1" >&2; run_issuance issuance; fi
if section ten; then echo "ten names as ten certificates" >&2; run_ten; fi
if section lineages; then echo "1, 10, 100 certificates: one sidecert, or a command each" >&2; run_lineages; fi
if section responder; then echo "the responder under load" >&2; run_responder; fi
if section sleeps; then
  pebble_stop_ca
  PEBBLE_VA_NOSLEEP= pebble_start "$WORK/pebble" PEBBLE_VA_SLEEPTIME=2 PEBBLE_AUTHZREUSE=0
  uacme_bundle
  echo "one issuance with Pebble's validation sleeps (up to 2 s)" >&2
  run_issuance sleeps
fi
if section servers; then
  echo "servers: sidecert run, Caddy and Apache's mod_md, start to certificate on disk" >&2
  run_servers
fi
if section own; then echo "sidecert alone" >&2; run_own; fi
if section metrics; then echo "/metrics, unloaded and under 1,000 held connections" >&2; run_metrics; fi
if section image; then echo "image sizes" >&2; run_image; fi

out=${BENCH_OUT:-bench/results/$(date -u +%Y%m%dT%H%M%SZ).json}
mkdir -p "$(dirname "$out")"
python3 bench/report.py "$RESULTS" "$out" "$(nproc) cores, $(uname -r), $(awk '/MemTotal/ {print int($2/1048576)" GiB"}' /proc/meminfo)"
echo "written: $out" >&2
