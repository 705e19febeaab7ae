#!/usr/bin/env bats
# deploy/stack.yml on a one-node swarm, with Pebble as the CA: the operator's
# `docker service ps` -> `docker cp` flow reaches Express Gateway with no manual
# service update.
load lib/e2e
bats_require_minimum_version 1.5.0

HTTPS_PORT=18443

setup_file() {
  if [ "$(docker info -f '{{.Swarm.LocalNodeState}}')" != active ]; then
    docker swarm init --advertise-addr "$(swarm_address)" >/dev/null
    touch "$BATS_FILE_TMPDIR/we-made-the-swarm"
  fi
}

teardown_file() {
  [ -f "$BATS_FILE_TMPDIR/we-made-the-swarm" ] && docker swarm leave --force >/dev/null || true
}

swarm_address() { ip -4 -o addr show scope global | awk '{print $4}' | cut -d/ -f1 | head -1; }

setup() {
  STACK="sce2e$(date +%s%N | tail -c 7)"
  export PEBBLE_CA="$BATS_TEST_TMPDIR/pebble-ca.pem"
  docker run --rm "$PEBBLE_IMAGE" cat /etc/pebble/tls.pem >"$PEBBLE_CA"
  export AIOTES_HOSTNAME=$HOST AIOTES_SYSADMIN_EMAIL=ops@example.test
  export GATEWAY_HTTP_PUBLISH=18080 GATEWAY_HTTPS_PUBLISH=$HTTPS_PORT
}

teardown() {
  if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
    docker service logs --raw "${STACK}_certbot" 2>&1 | tail -40 >&3 || true
    docker service ps --no-trunc "${STACK}_express-gw" >&3 2>&1 || true
  fi
  docker stack rm "$STACK" >/dev/null 2>&1 || true
  wait_until 60 stack_gone || true
  docker volume rm "${STACK}_certs" "${STACK}_state" >/dev/null 2>&1 || true
  # what sidecert kept in the swarm's store outlives the stack, as it should for a
  # redeploy; the test's own goes
  local kind
  for kind in secret config; do
    docker $kind ls -q --filter "label=sidecert.scope=${STACK}_certbot" | xargs -r docker $kind rm >/dev/null 2>&1 || true
  done
}

stack_gone() { [ -z "$(docker ps -aq --filter "label=com.docker.stack.namespace=$STACK")" ] &&
  [ -z "$(docker network ls -q --filter "label=com.docker.stack.namespace=$STACK")" ]; }

served() { # over the port the gateway's task publishes on this node
  openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -servername "$HOST" </dev/null 2>/dev/null |
    openssl x509 -noout -serial -issuer 2>/dev/null | tr '\n' ' '
}

certbot_container() { # what the AIoTES README has operators do, by label instead of by eye
  docker service ps -q --filter desired-state=running "${STACK}_certbot" >/dev/null &&
    docker ps -q --filter "label=com.docker.swarm.service.name=${STACK}_certbot" | head -1
}

@test "docker stack deploy: Pebble's certificate at the gateway, then a docker cp'd one with no manual step" {
  docker stack deploy -c "$ROOT/deploy/stack.yml" -c "$ROOT/tests/e2e/stack.pebble.yml" "$STACK" >/dev/null
  wait_until 180 served_issuer_has "Pebble Intermediate"
  make_ca "$BATS_TEST_TMPDIR" userca
  make_leaf "$BATS_TEST_TMPDIR" user userca "$HOST"
  chmod 600 "$BATS_TEST_TMPDIR/user.key"
  c="$(certbot_container)"
  [ -n "$c" ]
  live=/etc/letsencrypt/live/aiotes
  docker cp "$BATS_TEST_TMPDIR/user.key" "$c:$live/privkey.pem"
  docker cp "$BATS_TEST_TMPDIR/user.pem" "$c:$live/cert.pem"
  docker cp "$BATS_TEST_TMPDIR/userca.pem" "$c:$live/chain.pem"
  serial="$(openssl x509 -in "$BATS_TEST_TMPDIR/user.pem" -noout -serial | cut -d= -f2)"
  wait_until 120 serves_serial "$serial"
  docker service logs --raw "${STACK}_certbot" 2>&1 | grep "reload_done.*swarm:express-gw" >/dev/null
}
