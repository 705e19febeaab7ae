#!/usr/bin/env bats
# The stacks of deploy/ on a real Docker engine, with Pebble as the CA and the
# real gateways (Express Gateway, nginx, HAProxy, Caddy). Each test has its own compose project:
# its own network and volume, removed after.
load lib/e2e
load ../bats/lib/prometheus
bats_require_minimum_version 1.5.0

setup() { e2e_setup compose; }
teardown() {
  prometheus_stop
  e2e_teardown
}

user_set() { # NAME NAMES: DIR/NAME.{key,pem} under a user CA, key 0600 owned by uid 1000
  make_ca "$BATS_TEST_TMPDIR" userca
  make_leaf "$BATS_TEST_TMPDIR" "$1" userca "$2"
  chmod 600 "$BATS_TEST_TMPDIR/$1.key"
  chown 1000:1000 "$BATS_TEST_TMPDIR/$1.key"
}

docker_cp_set() { # NAME: as the AIoTES README says, into the running sidecert container
  local c live=/etc/letsencrypt/live/aiotes
  c="$(container_of sidecert)"
  docker cp -a "$BATS_TEST_TMPDIR/$1.key" "$c:$live/privkey.pem"   # -a: keeps uid 1000 and 0600
  docker cp "$BATS_TEST_TMPDIR/$1.pem" "$c:$live/cert.pem"
  docker cp "$BATS_TEST_TMPDIR/userca.pem" "$c:$live/chain.pem"
}

logged() { # EVENT [JQ_CONDITION]: some line of the JSON log is that event (and meets the condition)
  jq -s -e --arg ev "$1" "any(.[]; .event == \$ev and (${2:-true}))" "$BATS_TEST_TMPDIR/logs" >/dev/null
}

serial_of() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }

@test "compose with Pebble: Express Gateway serves a certificate that verifies against Pebble's root; JSON logs; healthy; Prometheus scrapes it" {
  export SIDECERT_LOG_FORMAT=json SIDECERT_METRICS_LISTEN=:9464
  compose up -d
  wait_until 120 served_issuer_has "Pebble Intermediate"
  # The gateway is restarted once the certificate is there (the reload); it may have
  # come up before or after it. Read what it serves once that restart is done.
  wait_until 90 sidecert_logged_after "cert_issued.*acme" reload_done
  wait_until 60 served_issuer_has "Pebble Intermediate"
  served_chain_verifies
  # A real Prometheus on the host scrapes the container's /metrics; its API gives
  # the expiry of the certificate the gateway serves.
  local ip not_after
  ip="$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$(container_of sidecert)")"
  prometheus_start "$BATS_TEST_TMPDIR/prometheus" "$ip:9464"
  wait_until 60 prom_has 'sidecert_certificate_expiry_timestamp_seconds{lineage="aiotes"}' || { cat "$PROM_LOG" >&2; false; }
  not_after="$(date -d "$(served_cert | openssl x509 -noout -enddate | cut -d= -f2)" +%s)"
  [ "$(prom_query 'sidecert_certificate_expiry_timestamp_seconds{lineage="aiotes"}')" = "$not_after" ]
  [ "$(prom_query 'sidecert_certificate_source{lineage="aiotes",source="acme"}')" = 1 ]
  prometheus_stop
  sidecert_logs >"$BATS_TEST_TMPDIR/logs"
  # every line is one JSON object
  [ "$(jq -c . "$BATS_TEST_TMPDIR/logs" | wc -l)" -eq "$(wc -l <"$BATS_TEST_TMPDIR/logs")" ]
  for ev in responder_listening privileges_dropped started source_chosen order_placed challenge_served cert_issued \
            reload_done renewal_scheduled; do
    logged "$ev" || { echo "no $ev" >&2; false; }
  done
  logged cert_issued '.source == "acme" and .names == "gw.example.test"'
  logged reload_done '.action == "docker-restart:gateway"'
  # no key material in any line
  [ "$(grep -c "PRIVATE KEY" "$BATS_TEST_TMPDIR/logs")" -eq 0 ]
  wait_until 90 is_healthy
  # In the container (cap_add NET_BIND_SERVICE, DAC_READ_SEARCH): every thread holds
  # DAC_READ_SEARCH alone, with no_new_privs; read from the host's /proc.
  local pid task threads=0
  pid="$(docker inspect -f '{{.State.Pid}}' "$(container_of sidecert)")"
  for task in /proc/"$pid"/task/*; do
    for set in CapEff CapPrm; do
      [ "$(awk -v k="$set:" '$1 == k {print $2}' "$task/status")" = 0000000000000004 ]
    done
    [ "$(awk '$1 == "CapInh:" {print $2}' "$task/status")" = 0000000000000000 ]
    [ "$(awk '$1 == "NoNewPrivs:" {print $2}' "$task/status")" = 1 ]
    echo "# container thread $(cat "$task/comm"): $(grep -E '^Cap(Eff|Prm|Bnd)' "$task/status" | tr '\t\n' '  ')" >&3
    threads=$((threads + 1))
  done
  (( threads >= 2 ))
  # sidecert's state is in a volume of its own: the one the gateway mounts holds no account key
  local certs state
  certs="$(docker volume inspect -f '{{.Mountpoint}}' "${PROJECT}_certs")"
  state="$(docker volume inspect -f '{{.Mountpoint}}' "${PROJECT}_state")"
  [ -L "$certs/live/aiotes" ] && [ ! -e "$certs/sidecert" ]
  ls "$state"/accounts/*/key.pem >/dev/null
}

@test "docker cp of a user set into the running container: the gateway serves it, no manual step; a bad one is refused" {
  compose up -d
  wait_until 120 served_issuer_has "Pebble Intermediate"
  user_set user "$HOST"
  docker_cp_set user
  wait_until 60 serves_serial "$(serial_of "$BATS_TEST_TMPDIR/user.pem")"
  # a gateway that (re)starts while the files land reads them before sidecert has judged them
  wait_until 30 sidecert_logged user_cert_accepted
  # a certificate for another name: refused, and the gateway keeps the user's
  user_set wrong other.example.test
  docker_cp_set wrong
  wait_until 30 sidecert_logged "user_cert_refused.*does not cover gw.example.test"
  # the gateway is told again after the refusal, so one that (re)loaded while the
  # refused files sat in live/aiotes/ serves the user's set again
  wait_until 30 sidecert_logged_after user_cert_refused reload_done
  wait_until 30 serves_serial "$(serial_of "$BATS_TEST_TMPDIR/user.pem")"
}

@test "two certificates in one sidecert: the gateway's live/aiotes and a second lineage, both from Pebble" {
  export SIDECERT_CERTIFICATES="admin=admin.example.test" HTTP01_ALIAS_SIDECERT_2=admin.example.test
  compose up -d
  wait_until 120 served_issuer_has "Pebble Intermediate"
  # The CA's set, not a self-signed one made while Pebble was still starting (its
  # retry comes about a minute after that failure).
  wait_until 150 sidecert_logged "cert_issued.*admin.*acme"
  docker exec "$(container_of sidecert)" sidecert status --json >"$BATS_TEST_TMPDIR/status"
  [ "$(jq -r '.lineages | length' "$BATS_TEST_TMPDIR/status")" = 2 ]
  [ "$(jq -r '[.lineages[] | select(.source == "acme")] | length' "$BATS_TEST_TMPDIR/status")" = 2 ]
  jq -e '.lineages[] | select(.name == "admin") | .names == ["admin.example.test"] and (.issuer | test("Pebble"))' \
    "$BATS_TEST_TMPDIR/status" >/dev/null
  jq -e '.lineages[] | select(.name == "aiotes") | .names == ["gw.example.test"]' "$BATS_TEST_TMPDIR/status" >/dev/null
  [ "$(pebble_orders)" -eq 2 ]   # one order each
}

@test "the CA unreachable at start: self-signed at once, the ACME certificate when the CA comes up" {
  compose up -d sidecert gateway
  wait_until 90 served_issuer_has "issuer=CN *= *$HOST"
  wait_until 30 sidecert_logged fallback_self_signed   # after the first attempt, which may end after the gateway is up
  compose up -d pebble
  # the first retry comes about a minute after the failure
  wait_until 180 served_issuer_has "Pebble Intermediate"
  served_chain_verifies
}

@test "the stack restarted: no new order reaches Pebble" {
  compose up -d
  wait_until 120 served_issuer_has "Pebble Intermediate"
  serial="$(served_serial)"
  orders="$(pebble_orders)"
  [ "$orders" -eq 1 ]
  compose rm -sf sidecert gateway >/dev/null 2>&1
  compose up -d sidecert gateway
  wait_until 60 sidecert_logged "reason=\"a valid certificate is in place\""
  wait_until 90 serves_serial "$serial"
  [ "$(pebble_orders)" -eq "$orders" ]
}

@test "nginx variant: issuance through nginx's proxy rule, and SIGHUP over the shared PID namespace" {
  e2e_setup nginx
  compose up -d
  wait_until 120 served_issuer_has "Pebble Intermediate"
  served_chain_verifies
  wait_until 90 sidecert_logged "reload_done.*signal:nginx:SIGHUP"
  user_set user "$HOST"
  docker_cp_set user
  wait_until 30 serves_serial "$(serial_of "$BATS_TEST_TMPDIR/user.pem")"
}

started_at() { docker inspect -f '{{.State.StartedAt}}' "$(container_of "$1")"; }
serves_new_acme_serial() { # OLD_SERIAL: issuer and serial of one handshake
  local now
  now="$(served)"
  [[ $now == *"Pebble Intermediate"* ]] && [[ $now == *serial=* ]] && [[ $now != *"serial=$1 "* ]]
}

# First issuance through the gateway's port 80, a renewal (the certificate revoked,
# the running sidecert replaces it) and a docker cp'd user set, each seen on the
# gateway's TLS port; the gateway told by RELOAD each time and reloaded, never restarted.
gateway_lifecycle() { # RELOAD (as reload_done logs it)
  compose up -d
  wait_until 120 served_issuer_has "Pebble Intermediate"
  served_chain_verifies
  wait_until 90 sidecert_logged "reload_done.*$1"
  local started serial reloads
  started="$(started_at gateway)"
  serial="$(served_serial)"
  reloads="$(sidecert_logs | grep -c reload_done)"
  docker exec "$(container_of sidecert)" sidecert revoke --reason superseded >&3
  wait_until 60 serves_new_acme_serial "$serial"
  served_chain_verifies
  [ "$(sidecert_logs | grep -c reload_done)" -gt "$reloads" ]
  user_set user "$HOST"
  docker_cp_set user
  wait_until 60 serves_serial "$(serial_of "$BATS_TEST_TMPDIR/user.pem")"
  [ "$(started_at gateway)" = "$started" ]   # reloaded in place, not restarted
}

@test "HAProxy variant: the combined file, issuance through its port 80, renewal and a docker cp'd set, SIGUSR2 to its master" {
  e2e_setup haproxy
  gateway_lifecycle "signal:haproxy:SIGUSR2"
}

@test "Caddy variant: its own ACME off, issuance through its port 80, renewal and a docker cp'd set, caddy reload run in its container" {
  e2e_setup caddy
  gateway_lifecycle "docker-exec:gateway:caddy reload"
  # Caddy obtained nothing itself
  ! compose logs --no-color gateway 2>&1 | grep -qi "obtaining certificate\|acme" || false
}

@test "an IP address certificate: the gateway's address among the names, validated by Pebble v2.10.1 at that address through nginx, served for it" {
  e2e_setup nginx
  E2E_SUBNET="$(free_subnet)"; export E2E_SUBNET
  local ip="$E2E_SUBNET.10"
  compose() {
    docker-compose -p "$PROJECT" -f "$COMPOSE_FILE_MAIN" -f "$ROOT/tests/e2e/compose.pebble.yml" \
      -f "$ROOT/tests/e2e/compose.ip.yml" "$@"
  }
  compose up -d
  wait_until 120 served_issuer_has "Pebble Intermediate" || { sidecert_logs | tail -20 >&3; false; }
  san=$(served_cert | openssl x509 -noout -ext subjectAltName | sed -n 2p)
  echo "# the gateway serves a certificate for:$san" >&3
  [[ "$san" == *"IP Address:$ip"* ]]
  # a client that asks for the address itself, with no name: the certificate verifies for it
  on_network sh -c "curl -fsS --cacert /etc/pebble/tls.pem https://pebble:15000/roots/0 >/tmp/root.pem &&
    openssl s_client -connect $ip:443 -CAfile /tmp/root.pem -verify_ip $ip -verify_return_error </dev/null 2>&1" |
    grep -q "Verify return code: 0 (ok)"
  docker logs "$(container_of pebble)" 2>&1 | grep -q "validate w/ HTTP: http://$ip:80/.well-known/acme-challenge/"
  sidecert_logs | grep -q "cert_issued.*names=gw.example.test,$ip"
}

@test "a wildcard through dns-01 and no port 80: nginx publishes only 443 and serves *.example.test, whose records were made at BIND and removed" {
  e2e_setup wildcard
  E2E_SUBNET="$(free_subnet)"; export E2E_SUBNET
  export DOMAIN=example.test DNS_SERVER="$E2E_SUBNET.53" TSIG_KEY=sidecert-key TSIG_SECRET_FILE="$BATS_TEST_TMPDIR/tsig.secret"
  head -c 32 /dev/urandom | base64 >"$TSIG_SECRET_FILE"
  compose() {
    docker-compose -p "$PROJECT" -f "$COMPOSE_FILE_MAIN" -f "$ROOT/tests/e2e/compose.pebble.yml" \
      -f "$ROOT/tests/e2e/compose.dns01.yml" "$@"
  }
  compose up -d
  wait_until 120 served_issuer_has "Pebble Intermediate" || { sidecert_logs | tail -20 >&3; false; }
  san=$(served_cert | openssl x509 -noout -ext subjectAltName | sed -n 2p | sed 's/^ *//')
  echo "# the gateway serves a certificate for: $san" >&3
  [ "$san" = "DNS:*.example.test, DNS:example.test" ]
  # any name under the wildcard verifies against Pebble's root
  on_network sh -c "curl -fsS --cacert /etc/pebble/tls.pem https://pebble:15000/roots/0 >/tmp/root.pem &&
    openssl s_client -connect gateway:443 -servername api.example.test -CAfile /tmp/root.pem \
      -verify_hostname api.example.test -verify_return_error </dev/null 2>&1" | grep -q "Verify return code: 0 (ok)"
  # the gateway publishes 443 alone, and no CA connected to any port 80
  [ "$(docker port "$(container_of gateway)" | grep -c .)" -ge 1 ]
  ! docker port "$(container_of gateway)" | grep -q "^80/" || false
  ! docker logs "$(container_of pebble)" 2>&1 | grep "validate w/ HTTP" >/dev/null || false
  # the records went in by signed update, were served before Pebble asked, and are gone
  sidecert_logged "dns_records_served"
  bind_log() { docker logs "$(container_of bind)" 2>&1; }
  bind_log | grep "/key sidecert-key: updating zone 'example.test/IN': adding an RR at '_acme-challenge.example.test' TXT" >/dev/null
  wait_until 30 bash -c "docker logs $(container_of bind) 2>&1 | grep 'deleting an RR at _acme-challenge.example.test TXT' >/dev/null"
  [ -z "$(docker exec "$(container_of bind)" dig +short @127.0.0.1 _acme-challenge.example.test TXT)" ]
  # the secret is in no log line
  ! sidecert_logs | grep -F "$(cat "$TSIG_SECRET_FILE")" >/dev/null || false
}

