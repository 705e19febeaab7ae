#!/usr/bin/env bats
# HTTP-01 through the gateway's own web server (SIDECERT_HTTP01_WEBROOT): Debian's
# nginx serves the webroot's .well-known/acme-challenge/ on Pebble's validation
# port, as nginx-proxy's gateway does, and sidecert's responder does not listen.
load lib/helpers
load lib/pebble
bats_require_minimum_version 1.5.0

setup() {
  fresh_env
  command -v nginx >/dev/null || { echo "nginx is missing: source scripts/deps.sh; ensure_packages nginx" >&2; return 1; }
  # Outside the test's own folder (0700): nginx's workers run as nobody, who must
  # reach the token files through folders that let others in, as on a gateway.
  WEB="$(mktemp -d /tmp/sidecert-webroot.XXXXXX)"
  OUTSIDE="$(mktemp -d /tmp/sidecert-outside.XXXXXX)"
  chmod 0755 "$WEB"
  NGINX_DIR="$BATS_TEST_TMPDIR/nginx"
}

teardown() {
  stop_supervisor
  stop_pebble
  stop_dns
  if [ -n "${NGINX_PID:-}" ]; then kill -TERM "$NGINX_PID" 2>/dev/null || true; wait "$NGINX_PID" 2>/dev/null || true; fi
  rm -rf "$WEB" "$OUTSIDE"
}

# nginx on Pebble's HTTP-01 port, serving the challenge folder from the webroot as
# nginx-proxy's template does (location ^~ /.well-known/acme-challenge/ { root DIR; }).
start_nginx() {
  mkdir -p "$NGINX_DIR"
  cat >"$NGINX_DIR/nginx.conf" <<CONF
daemon off;
user nobody nogroup;
worker_processes 1;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/error.log;
events { worker_connections 64; }
http {
  access_log $NGINX_DIR/access.log;
  client_body_temp_path $NGINX_DIR/body;
  proxy_temp_path $NGINX_DIR/proxy;
  fastcgi_temp_path $NGINX_DIR/fastcgi;
  uwsgi_temp_path $NGINX_DIR/uwsgi;
  scgi_temp_path $NGINX_DIR/scgi;
  server {
    listen 127.0.0.1:5002;
    location ^~ /.well-known/acme-challenge/ { auth_basic off; allow all; root $WEB; try_files \$uri =404; }
    location / { return 503; }
  }
}
CONF
  nginx -e "$NGINX_DIR/error.log" -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" &
  NGINX_PID=$!
  wait_until 10 curl -s -o /dev/null http://127.0.0.1:5002/ || { cat "$NGINX_DIR/error.log" >&2; return 1; }
}

# Pebble, with sidecert answering through the webroot only: SIDECERT_HTTP01_LISTEN
# (which pebble_start sets) unset, so the responder does not listen.
start_pebble_for_webroot() {
  start_pebble
  unset SIDECERT_HTTP01_LISTEN
  export SIDECERT_HTTP01_WEBROOT="$WEB"
}

token_files() { find "$WEB/.well-known/acme-challenge" -mindepth 1 2>/dev/null | wc -l; }
served_tokens() { grep -c '"GET /.well-known/acme-challenge/[A-Za-z0-9_-]* HTTP/1.1" 200 ' "$NGINX_DIR/access.log" || true; }

@test "a certificate is issued through nginx serving the webroot, the responder not listening, the tokens gone after" {
  start_nginx
  start_pebble_for_webroot
  run --separate-stderr "$SIDECERT" once
  [ "$status" -eq 0 ]
  [[ "$output" == "acme certificate for example.test,www.example.test in place"* ]]
  [ "$(status_field source)" = acme ]
  # nginx answered Pebble's fetch of each name's token, with the file sidecert wrote
  [ "$(served_tokens)" -ge 2 ]
  ! grep -q responder_listening <<<"$stderr" || false
  ! grep -q responder_failed <<<"$stderr" || false
  [ "$(grep -c challenge_file_written <<<"$stderr")" -eq 2 ]
  # removed after, with the record of them in the state folder
  [ "$(token_files)" -eq 0 ]
  [ ! -e "$STATE/webroot-example.test.tokens" ]
  [ "$(stat -c %a "$WEB/.well-known/acme-challenge")" = 755 ]
}

@test "a link planted at .well-known is refused naming it; nothing is written outside the webroot and no order placed" {
  start_nginx
  start_pebble_for_webroot
  ln -s "$OUTSIDE" "$WEB/.well-known"
  run --separate-stderr "$SIDECERT" once
  [ "$(status_field source)" = self-signed ]
  grep -q "issue_failed.*$WEB/.well-known is a symbolic link (to $OUTSIDE)" <<<"$stderr" || { echo "$stderr" >&2; false; }
  [ -z "$(ls -A "$OUTSIDE")" ]
  [ "$(pebble_orders)" -eq 0 ]
  [ -L "$WEB/.well-known" ]
}

@test "a token file a crash left is removed after the next start's first pass; another client's stays" {
  start_nginx
  start_pebble_for_webroot
  "$SIDECERT" once 2>/dev/null
  [ "$(status_field source)" = acme ]
  # what a sidecert killed between writing a token and removing it leaves
  left=LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0 foreign=evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA
  echo "$left.thumb" >"$WEB/.well-known/acme-challenge/$left"
  echo "$left" >"$STATE/webroot-example.test.tokens"
  echo "acme.sh's" >"$WEB/.well-known/acme-challenge/$foreign"
  run --separate-stderr "$SIDECERT" once  # the certificate is valid: no order, only the start's tidy-up
  [ "$status" -eq 0 ]
  [ "$(pebble_orders)" -eq 1 ]
  [ ! -e "$WEB/.well-known/acme-challenge/$left" ]
  [ -f "$WEB/.well-known/acme-challenge/$foreign" ]
  [ ! -e "$STATE/webroot-example.test.tokens" ]
}

@test "check-config says how http-01 is answered: the webroot, and the responder only when its address is set" {
  export SIDECERT_HTTP01_WEBROOT="$WEB" SIDECERT_ACME_DIRECTORY=https://localhost:14000/dir
  run "$SIDECERT" check-config
  [ "$status" -eq 0 ]
  grep -q "^  http-01      token files in $WEB/.well-known/acme-challenge/ .*; the responder does not listen" <<<"$output"
  grep -q "^  challenge    http-01 through token files the gateway serves from $WEB/.well-known/acme-challenge/$" <<<"$output"
  SIDECERT_HTTP01_LISTEN=127.0.0.1:8080 run "$SIDECERT" check-config
  grep -q "^  http-01      token files in $WEB/.well-known/acme-challenge/ .*; also the responder on 127.0.0.1:8080" <<<"$output"
}
