# End-to-end helpers: the images, one compose project per test, and a client
# container on the project's network (test traffic stays between containers).
ROOT="${SIDECERT_ROOT:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}"
source "$ROOT/tests/bats/lib/certs.bash"

HOST=gw.example.test
PEBBLE_IMAGE=sidecert-e2e-pebble

wait_until() { # SECONDS CMD...: polls every half second, at most SECONDS
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.5
  done
}

e2e_setup() { # VARIANT: compose (Express Gateway), nginx, haproxy, caddy or wildcard (nginx, dns-01)
  PROJECT="sce2e$(date +%s%N | tail -c 7)"
  export PEBBLE_CA="$BATS_TEST_TMPDIR/pebble-ca.pem"
  docker run --rm "$PEBBLE_IMAGE" cat /etc/pebble/tls.pem >"$PEBBLE_CA"
  export AIOTES_HOSTNAME=$HOST AIOTES_SYSADMIN_EMAIL=ops@example.test
  export SIDECERT_HTTP_PUBLISH=127.0.0.1: GATEWAY_HTTPS_PUBLISH=127.0.0.1: GATEWAY_HTTP_PUBLISH=127.0.0.1:
  case "$1" in
    compose) COMPOSE_FILE_MAIN="$ROOT/deploy/docker-compose.yml"; GW_TLS_PORT=8443
             export HTTP01_ALIAS_SIDECERT=$HOST HTTP01_ALIAS_GATEWAY=unused.invalid ;;
    nginx | haproxy | caddy | wildcard)
             COMPOSE_FILE_MAIN="$ROOT/deploy/docker-compose.$1.yml"; GW_TLS_PORT=443
             export HTTP01_ALIAS_SIDECERT=unused.invalid HTTP01_ALIAS_GATEWAY=$HOST ;;
  esac
}

compose() {
  docker-compose -p "$PROJECT" -f "$COMPOSE_FILE_MAIN" -f "$ROOT/tests/e2e/compose.pebble.yml" "$@"
}

e2e_teardown() {
  [ -n "${PROJECT:-}" ] || return 0
  if [ -z "${BATS_TEST_COMPLETED:-}" ]; then  # failed: what each container said
    local s
    for s in sidecert gateway pebble; do
      echo "--- $s" >&3
      compose logs --no-color "$s" 2>&1 | tail -25 >&3 || true
    done
  fi
  # sidecert first: a reload it runs meanwhile (docker-restart) could start the
  # gateway again between down's stop and its removal, and leave it running.
  compose stop sidecert >/dev/null 2>&1 || true
  compose down -v --remove-orphans >/dev/null 2>&1 || true
}

# The first three octets of a /24 that no Docker network here overlaps, for the
# tests that fix addresses (E2E_SUBNET): networks of other projects, or ones a
# killed run left, may hold any of Docker's default pools.
free_subnet() {
  docker network ls -q | xargs -r docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}} {{end}}' |
    python3 -c '
import ipaddress, random, sys
taken = [ipaddress.ip_network(s, strict=False) for s in sys.stdin.read().split() if "." in s]
free = [n for n in range(20, 250) if not any(ipaddress.ip_network(f"10.213.{n}.0/24").overlaps(t) for t in taken)]
print(f"10.213.{random.choice(free)}") if free else sys.exit("no free 10.213.N.0/24 among the Docker networks")'
}

container_of() { docker ps -q --filter "label=com.docker.compose.project=$PROJECT" --filter "label=com.docker.compose.service=$1" | head -1; }

# Runs a command in a throwaway container on the project's network.
on_network() { docker run --rm --network "${PROJECT}_default" --entrypoint "" "$PEBBLE_IMAGE" "$@"; }

# The certificate the gateway serves on its TLS port for $HOST (PEM), and its "serial issuer".
served_cert() {
  on_network sh -c "openssl s_client -connect gateway:$GW_TLS_PORT -servername $HOST </dev/null 2>/dev/null |
    openssl x509" 2>/dev/null
}
served() { served_cert | openssl x509 -noout -serial -issuer 2>/dev/null | tr '\n' ' '; }
served_serial() { served | grep -o 'serial=[0-9A-F]*' | cut -d= -f2; }
served_issuer_has() { served | grep "$1" >/dev/null; }
serves_serial() { [ "$(served_serial)" = "$1" ]; }

# The gateway's chain verifies against Pebble's root, fetched from its management port.
served_chain_verifies() {
  on_network sh -c "curl -fsS --cacert /etc/pebble/tls.pem https://pebble:15000/roots/0 >/tmp/root.pem &&
    openssl s_client -connect gateway:$GW_TLS_PORT -servername $HOST -CAfile /tmp/root.pem -verify_return_error </dev/null 2>&1" |
    grep "Verify return code: 0 (ok)" >/dev/null
}

sidecert_logs() { docker logs "$(container_of sidecert)" 2>&1; }
sidecert_logged() { sidecert_logs | grep "$1" >/dev/null; }  # not -q: an early exit would break the pipe
sidecert_logged_after() { sidecert_logs | sed -n "/$1/,\$p" | grep "$2" >/dev/null; }  # FIRST THEN: THEN on FIRST's line or after
# Orders Pebble created: not its POST /order-plz lines, since it rejects 5% of
# nonces by default and the retried POST of one order logs a second line.
pebble_orders() { docker logs "$(container_of pebble)" 2>&1 | grep -c "Added order" || true; }
health() { docker inspect -f '{{.State.Health.Status}}' "$(container_of sidecert)"; }
is_healthy() { [ "$(health)" = healthy ]; }
