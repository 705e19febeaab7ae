#!/usr/bin/env bats
# Names from the stack on a real Docker engine (issue 32): sidecert discovering
# this engine's containers, Pebble as the CA. deploy/docker-compose.discover.yml
# as shipped (nginx serving every lineage by SNI through deploy/nginx/sni.conf),
# and sidecert in acme-companion's place beside an nginx configured as
# nginx-proxy's template configures it. One compose project per test.
load lib/e2e
bats_require_minimum_version 1.5.0

setup() {
  e2e_setup discover
  COMPOSE_FILES=(-f "$ROOT/deploy/docker-compose.discover.yml" -f "$ROOT/tests/e2e/discover.pebble.yml")
}
teardown() { e2e_teardown; }

compose() { docker-compose -p "$PROJECT" "${COMPOSE_FILES[@]}" "$@"; }

# One line per NAME: the name, then serial, issuer and names of the certificate the
# gateway serves for it on 443 (one client container for them all).
served_all() { # NAME...
  on_network sh -c 'for n; do
      echo "$n $(openssl s_client -connect gateway:443 -servername "$n" </dev/null 2>/dev/null |
        openssl x509 -noout -serial -issuer -ext subjectAltName 2>/dev/null | tr "\n" " ")"
    done' sh "$@"
}
serves_ca_certs() { # NAME...: each gets a Pebble certificate for its own name
  local out n
  out="$(served_all "$@")"
  for n in "$@"; do
    grep -E "^$n .*Pebble Intermediate.*DNS:$n( |,|\$)" <<<"$out" >/dev/null || return 1
  done
}
serial_for() { served_all "$1" | grep -o 'serial=[0-9A-F]*' | cut -d= -f2; }
# NAME gets what a name no lineage has gets: the default set
serves_default_for() { local s; s="$(serial_for "$1")"; [ -n "$s" ] && [ "$s" = "$(serial_for unknown.example.test)" ]; }

# The JSON log's EVENT lines that mention TEXT, since TIME (docker logs --since).
events() { docker logs --since "${3:-0}" "$(container_of sidecert)" 2>&1 | grep "\"event\":\"$1\"" | grep -F "$2" || true; }
logged_event() { [ -n "$(events "$@")" ]; }
status_json() { docker exec "$(container_of sidecert)" sidecert status --json; }
started() { docker inspect -f '{{.RestartCount}} {{.State.StartedAt}}' "$(container_of sidecert)"; }

@test "discovery as shipped: labelled and LETSENCRYPT_HOST containers get Pebble certificates served by SNI, live; refused, retired after the grace; a restart orders nothing" {
  export SIDECERT_DISCOVER_ALLOW='*.example.test' APP_DOMAIN=a.example.test SIDECERT_DISCOVER_GRACE=10s \
    SIDECERT_LOG_FORMAT=json
  local t0=$SECONDS
  compose up -d pebble sidecert gateway app app2 legacy evil
  local first; first="$(started)"
  wait_until 180 serves_ca_certs a.example.test b.example.test legacy.example.test
  echo "# three containers served their Pebble certificates $((SECONDS - t0)) s after compose up" >&3
  [ "$(started)" = "$first" ]   # without sidecert restarting
  status_json >"$BATS_TEST_TMPDIR/status"
  jq -e '.lineages[] | select(.name == "legacy.example.test") | .from | test("^container .*legacy")' \
    "$BATS_TEST_TMPDIR/status" >/dev/null
  jq -e '.lineages[] | select(.name == "a.example.test") | .from | test("^container .*_app_")' \
    "$BATS_TEST_TMPDIR/status" >/dev/null
  # the name outside SIDECERT_DISCOVER_ALLOW: refused, said once, never ordered, the default set served
  wait_until 30 logged_event discovery_refused bank.other.test
  events discovery_refused bank.other.test | grep -F '*.example.test' | grep -q evil
  [ "$(events discovery_refused bank.other.test | wc -l)" -eq 1 ]
  serves_default_for bank.other.test
  [ "$(pebble_orders)" -eq 3 ]

  # A fourth, started now, gets its own; sidecert still not restarted.
  t0=$SECONDS
  compose up -d late
  wait_until 120 serves_ca_certs late.example.test
  echo "# the container started later was served its certificate $((SECONDS - t0)) s after it started" >&3
  [ "$(started)" = "$first" ]
  [ "$(pebble_orders)" -eq 4 ]

  # Stopped: its lineage kept through the grace (10 s), retired after, the default set served for it.
  compose stop app2
  wait_until 60 logged_event discovered_gone b.example.test
  local gone=$SECONDS
  serves_ca_certs b.example.test
  wait_until 60 logged_event discovered_retired b.example.test
  [ $((SECONDS - gone)) -ge 9 ]   # not before the grace (whole seconds measured)
  wait_until 30 serves_default_for b.example.test || {
    echo "# sni.map: $(in_gateway cat /var/lib/certs/nginx/sni.map | grep -v '^#' | tr '\n' ' ')" >&3
    echo "# live/: $(in_gateway ls /var/lib/certs/live | tr '\n' ' ')" >&3
    false
  }
  status_json | jq -e '.retired[] | select(.name == "b.example.test") | .retired_at' >/dev/null
  serves_ca_certs a.example.test legacy.example.test late.example.test

  # sidecert restarted: its first read of the engine (the refusal said again) orders nothing.
  local orders since
  orders="$(pebble_orders)"
  since="$(date -u +%Y-%m-%dT%H:%M:%S)"
  docker restart "$(container_of sidecert)" >/dev/null
  wait_until 60 logged_event discovery_refused bank.other.test "$since"
  for n in a.example.test legacy.example.test late.example.test; do
    wait_until 60 logged_event renewal_scheduled "\"$n\"" "$since"
  done
  wait_until 60 serves_ca_certs a.example.test legacy.example.test late.example.test
  [ -z "$(events discovered example.test "$since")" ]   # each lineage taken up as remembered
  [ "$(pebble_orders)" -eq "$orders" ]
}

# nginx as nginx-proxy's nginx.tmpl renders it (nginx-proxy 584073d, lines 916-917,
# 974-981 and 1068-1078): the default server with default.crt/.key, a vhost with
# /etc/nginx/certs/<host>.crt, .key and .chain.pem, the challenges from
# /usr/share/nginx/html on port 80.
nginx_proxy_conf() { # HOST ("" for port 80 only, as before any certificate exists)
  local acme='location ^~ /.well-known/acme-challenge/ { auth_basic off; auth_request off; allow all; root /usr/share/nginx/html; try_files $uri =404; break; }'
  {
    echo 'events { worker_connections 64; }'
    echo 'http {'
    echo "  server { server_name _; listen 80; $acme location / { return 503; } }"
    if [ -n "$1" ]; then
      cat <<EOF
  server {
    server_name _;
    listen 443 ssl default_server;
    ssl_session_cache shared:SSL:50m;
    ssl_session_tickets off;
    ssl_certificate /etc/nginx/certs/default.crt;
    ssl_certificate_key /etc/nginx/certs/default.key;
    return 503;
  }
  server {
    server_name $1;
    listen 443 ssl;
    ssl_certificate /etc/nginx/certs/$1.crt;
    ssl_certificate_key /etc/nginx/certs/$1.key;
    ssl_stapling on;
    ssl_stapling_verify on;
    ssl_trusted_certificate /etc/nginx/certs/$1.chain.pem;
    location / { default_type text/plain; return 200 "proxied\n"; }
  }
EOF
    fi
    echo '}'
  } >"$NGINX_PROXY_CONF/nginx.conf"
}
in_gateway() { docker exec "$(container_of gateway)" "$@"; }
crt_from_pebble() { in_gateway cat "/etc/nginx/certs/$1.crt" 2>/dev/null | openssl x509 -noout -issuer 2>/dev/null | grep -q "Pebble Intermediate"; }

@test "SIDECERT_LAYOUT=nginx-proxy with webroot challenges: nginx configured as nginx-proxy's template reads <host>.crt and .key; sidecert binds no port" {
  COMPOSE_FILES=(-f "$ROOT/tests/e2e/discover.nginx-proxy.yml")
  export NGINX_PROXY_CONF="$BATS_TEST_TMPDIR/nginx-proxy"
  mkdir -p "$NGINX_PROXY_CONF"
  nginx_proxy_conf ""
  local t0=$SECONDS host=proxied.example.test
  compose up -d
  # Pebble's check reached the token through nginx's port 80, from the shared webroot
  wait_until 180 crt_from_pebble "$host"
  echo "# the nginx-proxy view of $host held Pebble's certificate $((SECONDS - t0)) s after compose up" >&3
  # what docker-gen would render now that the files exist, and nginx reloaded
  nginx_proxy_conf "$host"
  in_gateway nginx -c /etc/nginx/proxy/nginx.conf -t 2>&1 | grep -q "successful"
  in_gateway nginx -c /etc/nginx/proxy/nginx.conf -s reload
  wait_until 30 serves_ca_certs "$host"
  # a name with no vhost: the default server's default.crt, the self-signed default set
  [ "$(serial_for unknown.example.test)" != "$(serial_for "$host")" ]
  ! served_all unknown.example.test | grep -q "Pebble" || false
  # every file by the name the template reads, each a relative link into live/
  for f in "$host.crt" "$host.key" "$host.chain.pem" default.crt default.key; do
    in_gateway test -s "/etc/nginx/certs/$f"
    [[ "$(in_gateway readlink "/etc/nginx/certs/$f")" == live/* ]]
  done
  # the token was served by nginx from the webroot (Pebble checks from 3 places), and removed after
  [ "$(compose logs --no-color gateway | grep -c 'GET /.well-known/acme-challenge/[A-Za-z0-9_-]* HTTP/1.1" 200')" -ge 1 ]
  in_gateway test -d /usr/share/nginx/html/.well-known/acme-challenge
  [ -z "$(in_gateway ls -A /usr/share/nginx/html/.well-known/acme-challenge/)" ]
  # sidecert listens on no port 80: nothing answers there, and its responder never started
  run on_network curl -s -m 5 -o /dev/null http://sidecert:80/
  [ "$status" -eq 7 ]   # could not connect
  [ -z "$(events responder_listening '')" ]
  [ "$(pebble_orders)" -eq 1 ]
}
