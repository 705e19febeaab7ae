#!/usr/bin/env bats
# Gateways that serve every lineage by name with no edit of their own (issue 32,
# item 5): Debian's real nginx and HAProxy, configured as deploy/ ships them,
# serve each lineage's set by SNI from the files sidecert keeps beside live/, and
# the default set to a name they do not know, "../x" and "a/b" included. The sets
# are self-signed: which set a name gets is what is shown, and a CA adds nothing
# to that. Needs nginx and haproxy (scripts/deps.sh TEST_PACKAGES).
load lib/helpers
bats_require_minimum_version 1.5.0

NGINX_PORT=18443
HAPROXY_PORT=18444
PROXY_PORT=18445

setup() {
  command -v nginx >/dev/null && command -v haproxy >/dev/null || skip "nginx and haproxy are not installed"
  fresh_env
  unset SIDECERT_DOMAINS
  export SIDECERT_CONFIG="$BATS_TEST_TMPDIR/sidecert.yml"
  GW="$BATS_TEST_TMPDIR/gateway"
  mkdir -p "$GW"
  # The lineage named default is the default set, though it comes last.
  lineages "a: [a.example.org, www.a.example.org]" "w: ['*.example.org']" "default: [localhost]"
}

teardown() {
  local f
  for f in "$GW"/*.pid; do
    [ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
  done
}

lineages() { # "NAME: [DOMAINS]"...
  local l
  echo "certificates:" >"$SIDECERT_CONFIG"
  for l in "$@"; do
    printf '  - name: %s\n    domains: %s\n    challenge: dns-persist-01\n' "${l%%:*}" "${l#*: }" >>"$SIDECERT_CONFIG"
  done
}

sidecert_once() { "$SIDECERT" once 2>>"$LOG" || { cat "$LOG" >&2; return 1; }; }

# The subject CN of the certificate PORT serves to SNI name NAME ("" sends none).
served_cn() { # PORT NAME
  local sni=(-servername "$2")
  [ -n "$2" ] || sni=(-noservername)
  echo | timeout 5 openssl s_client -connect "127.0.0.1:$1" "${sni[@]}" 2>/dev/null |
    openssl x509 -noout -subject -nameopt multiline 2>/dev/null | sed -n 's/^ *commonName *= *//p'
}
serves() { [ "$(served_cn "$1" "$2")" = "$3" ]; } # PORT NAME CN

# deploy/nginx/sni.conf as shipped, with the volume's path, loopback ports, files
# under $GW and no Docker DNS. Its workers run as root here: sidecert's keys are
# 0600 (a gateway's workers read them through SIDECERT_FILE_GROUP).
start_nginx() { # CONFIG
  sed -e "s#/var/lib/certs#$VOL#g" -e "s/listen 80;/listen 127.0.0.1:18080;/" \
    -e "s/listen 443 ssl;/listen 127.0.0.1:$NGINX_PORT ssl;/" -e '/resolver 127.0.0.11/d' \
    -e "1i user root; daemon on; pid $GW/nginx.pid; error_log $GW/nginx.log info;" \
    -e 's/^http {/http { access_log off;/' "$1" >"$GW/nginx.conf"
  nginx -c "$GW/nginx.conf" -p "$GW" || { cat "$GW/nginx.log" >&2; return 1; }
  wait_until 10 test -s "$GW/nginx.pid"
}

# deploy/haproxy/sni.cfg as shipped, likewise; the master runs in the background.
start_haproxy() {
  sed -e "s#/var/lib/certs#$VOL#g" -e "s/bind :80/bind 127.0.0.1:18081/" \
    -e "s/bind :443 /bind 127.0.0.1:$HAPROXY_PORT /" -e '/^  user \|^  group /d' \
    -e '/^resolvers docker/,/^  hold/d' -e 's/^  server sidecert .*/  server sidecert 127.0.0.1:9/' \
    -e 's/^  log stdout .*/  log stderr format raw local0 info/' "$ROOT/deploy/haproxy/sni.cfg" >"$GW/haproxy.cfg"
  haproxy -f "$GW/haproxy.cfg" -D -p "$GW/haproxy.pid" 2>"$GW/haproxy.log" || { cat "$GW/haproxy.log" >&2; return 1; }
  wait_until 10 test -s "$GW/haproxy.pid"
}

@test "nginx as shipped serves each lineage by SNI, the default set to unknown names and to '/' or '..', and a new lineage after a reload" {
  sidecert_once
  grep -qx 'a.example.org a;' "$VOL/nginx/sni.map"
  start_nginx "$ROOT/deploy/nginx/sni.conf"
  wait_until 10 serves $NGINX_PORT a.example.org a.example.org
  serves $NGINX_PORT www.a.example.org a.example.org
  serves $NGINX_PORT B.Example.Org '*.example.org'
  for name in unknown.test ../a "a/../a" .. "../../../etc/passwd" "live/a" ""; do
    run served_cn $NGINX_PORT "$name"
    [ "$output" = localhost ] || { echo "'$name' got '$output'" >&2; false; }
  done
  # nginx never opened a path built from the client's text
  run ! grep -E 'cannot load certificate' "$GW/nginx.log"

  # A new lineage: sidecert rewrites the map; the gateway's configuration is not edited.
  cp "$GW/nginx.conf" "$GW/nginx.conf.before"
  lineages "a: [a.example.org, www.a.example.org]" "w: ['*.example.org']" "default: [localhost]" "c: [c.other.test]"
  sidecert_once
  kill -HUP "$(cat "$GW/nginx.pid")"   # what SIDECERT_RELOAD=signal:nginx:HUP does
  wait_until 10 serves $NGINX_PORT c.other.test c.other.test
  cmp "$GW/nginx.conf" "$GW/nginx.conf.before"
}

@test "HAProxy as shipped serves each lineage from sidecert's crt-list, the default set first" {
  sidecert_once
  [ "$(grep -v '^#' "$VOL/haproxy/crt-list" | head -1)" = "live/default/combined.pem localhost" ]
  start_haproxy
  wait_until 10 serves $HAPROXY_PORT a.example.org a.example.org
  serves $HAPROXY_PORT www.a.example.org a.example.org
  serves $HAPROXY_PORT b.example.org '*.example.org'
  for name in unknown.test ../a "a/b" .. ""; do
    run served_cn $HAPROXY_PORT "$name"
    [ "$output" = localhost ] || { echo "'$name' got '$output'" >&2; false; }
  done
}

@test "SIDECERT_LAYOUT=nginx-proxy: nginx configured as nginx-proxy's template configures a vhost reads <host>.crt and .key" {
  export SIDECERT_LAYOUT=nginx-proxy
  sidecert_once
  # relative links through live/<name>, as nginx-proxy finds them in /etc/nginx/certs
  [ "$(readlink "$VOL/a.example.org.crt")" = live/a/fullchain.pem ]
  [ "$(readlink "$VOL/a.example.org.key")" = live/a/privkey.pem ]
  [ "$(readlink "$VOL/a.example.org.chain.pem")" = live/a/chain.pem ]
  [ "$(readlink "$VOL/example.org.crt")" = live/w/fullchain.pem ]   # the template's parent-domain lookup
  [ "$(readlink "$VOL/default.crt")" = live/default/fullchain.pem ]
  cmp "$VOL/a.example.org.crt" "$VOL/live/a/fullchain.pem"
  # What nginx.tmpl renders (its lines 916 and 1068-1078 at nginx-proxy 584073d),
  # with /etc/nginx/certs being the volume: a vhost per host, and the default server.
  C="$VOL"
  cat >"$GW/proxy.conf" <<EOF
user root; daemon on; pid $GW/nginx.pid; error_log $GW/nginx.log info;
events { worker_connections 64; }
http {
  access_log off;
  server {
    server_name _;
    listen 127.0.0.1:$PROXY_PORT ssl default_server;
    ssl_certificate $C/default.crt;
    ssl_certificate_key $C/default.key;
    return 503;
  }
  server {
    server_name a.example.org;
    listen 127.0.0.1:$PROXY_PORT ssl;
    ssl_certificate $C/a.example.org.crt;
    ssl_certificate_key $C/a.example.org.key;
    ssl_stapling on;
    ssl_stapling_verify on;
    ssl_trusted_certificate $C/a.example.org.chain.pem;
    location / { return 200; }
  }
  server {
    server_name b.example.org;
    listen 127.0.0.1:$PROXY_PORT ssl;
    ssl_certificate $C/example.org.crt;
    ssl_certificate_key $C/example.org.key;
    location / { return 200; }
  }
}
EOF
  nginx -c "$GW/proxy.conf" -p "$GW" || { cat "$GW/nginx.log" >&2; false; }
  wait_until 10 serves $PROXY_PORT a.example.org a.example.org
  serves $PROXY_PORT b.example.org '*.example.org'
  serves $PROXY_PORT unknown.test localhost
}

@test "SIDECERT_LAYOUT=nginx-proxy: a user's own file and a planted link are left alone, and a retired lineage's links go" {
  export SIDECERT_LAYOUT=nginx-proxy
  mkdir -p "$VOL" "$BATS_TEST_TMPDIR/outside"
  echo "the user's own" >"$VOL/www.a.example.org.crt"
  echo "secret" >"$BATS_TEST_TMPDIR/outside/secret"
  ln -s ../outside/secret "$VOL/a.example.org.key"
  sidecert_once
  [ "$(cat "$VOL/www.a.example.org.crt")" = "the user's own" ]
  [ "$(readlink "$VOL/a.example.org.key")" = ../outside/secret ]
  [ "$(cat "$BATS_TEST_TMPDIR/outside/secret")" = secret ]
  [ "$(grep -c 'gateway_view_left_alone.*file=www.a.example.org.crt' "$LOG")" -eq 1 ]
  [ "$(readlink "$VOL/a.example.org.crt")" = live/a/fullchain.pem ]
  # a goes from the list: its links go, nothing else does
  lineages "w: ['*.example.org']" "default: [localhost]"
  sidecert_once
  [ ! -L "$VOL/a.example.org.crt" ]
  [ ! -L "$VOL/a.example.org.chain.pem" ]
  [ -L "$VOL/a.example.org.key" ]
  [ -f "$VOL/www.a.example.org.crt" ]
  run ! grep -q 'a.example.org' "$VOL/nginx/sni.map"
}
