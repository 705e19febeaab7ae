#!/usr/bin/env bats
# deploy/stack.yml on a swarm of three nodes (three managers), each node a
# Docker-in-Docker container (tests/e2e/swarm-node), with Pebble beside them on
# the network they share, resolving the certified name to all three. The
# gateway runs on every node; sidecert once. The tests run in order and build
# on each other: one swarm is made for the file and torn down after it.
load lib/e2e
bats_require_minimum_version 1.5.0

NET=sce2e-swarm
NODES=(sce2e-n1 sce2e-n2 sce2e-n3)
STACK=sce2e
PEBBLE=sce2e-pebble
APP_HOST=app.example.test   # a service's own name (discovery), also resolved to the nodes
GRACE=20   # seconds a discovered service's lineage outlives it
# The stack is deployed with discovery on, as an operator turns it on: the last
# test's service asks for its name; the stack's own services ask for none.
DISCOVER_ENV=(-e SIDECERT_DISCOVER=swarm -e SIDECERT_DISCOVER_ALLOW='*.example.test' -e SIDECERT_DISCOVER_GRACE=${GRACE}s)

node_ip() { docker inspect -f "{{(index .NetworkSettings.Networks \"$NET\").IPAddress}}" "$1"; }
node_up() { [ "$(docker inspect -f '{{.State.Running}}' "$1" 2>/dev/null)" = true ]; }
docker_in() { local n="$1"; shift; docker exec "$n" docker "$@"; }
dockerd_ready() { docker_in "$1" info >/dev/null 2>&1; }
# a live manager to run swarm commands on
manager() { local n; for n in "${NODES[@]}"; do node_up "$n" && docker_in "$n" node ls >/dev/null 2>&1 && { echo "$n"; return; }; done; return 1; }
on_swarm() { docker_in "$(manager)" "$@"; }

# The node that runs the certbot task, and its container there.
certbot_node() {
  on_swarm service ps --filter desired-state=running --format '{{.Node}} {{.CurrentState}}' "${STACK}_certbot" |
    awk '$2 == "Running" {print $1; exit}'
}
certbot_container() { local n; n="$(certbot_node)" && [ -n "$n" ] && docker_in "$n" ps -q --filter "label=com.docker.swarm.service.name=${STACK}_certbot" | head -1; }
# (bounded: the logs of a task on a node that is gone never end)
certbot_logs() { timeout 30 docker exec "$(manager)" docker service logs --raw "${STACK}_certbot" 2>&1 || true; }

# "serial issuer" served on a node's port 443, or "" when nothing answers there.
served_at() {
  openssl s_client -connect "$(node_ip "$1"):443" -servername "$HOST" </dev/null 2>/dev/null |
    openssl x509 -noout -serial -issuer 2>/dev/null | tr '\n' ' '
}
serial_at() { served_at "$1" | grep -o 'serial=[0-9A-F]*' | cut -d= -f2; }
live_nodes() { local n; for n in "${NODES[@]}"; do node_up "$n" && echo "$n"; done; }
all_serve() { # SERIAL: every live node's gateway serves it
  local n
  for n in $(live_nodes); do [ "$(serial_at "$n")" = "$1" ] || return 1; done
}
all_serve_same_from() { # ISSUER-TEXT: every live node serves one certificate of that issuer
  local n first=""
  for n in $(live_nodes); do
    served_at "$n" | grep "$1" >/dev/null || return 1
    s="$(serial_at "$n")"
    [ -z "$first" ] && first="$s"
    [ "$s" = "$first" ] || return 1
  done
}
all_moved_from() { # SERIAL: every live node serves another certificate
  local n s
  for n in $(live_nodes); do
    s="$(serial_at "$n")"
    [ -n "$s" ] && [ "$s" != "$1" ] || return 1
  done
}
chain_verifies_at() {
  openssl s_client -connect "$(node_ip "$1"):443" -servername "$HOST" -CAfile "$BATS_FILE_TMPDIR/root.pem" \
    -verify_return_error </dev/null 2>&1 | grep "Verify return code: 0 (ok)" >/dev/null
}
pebble_orders() { docker logs "$PEBBLE" 2>&1 | grep -c "Added order" || true; }

# Samples the live nodes' port 443 every half second until STOPFILE appears or
# LIMIT seconds pass; one line per sample: how many answered, and their serials.
probe() { # OUT STOPFILE LIMIT
  local deadline=$((SECONDS + $3)) n up line
  while [ "$SECONDS" -lt "$deadline" ] && [ ! -e "$2" ]; do
    up=0 line=""
    for n in $(live_nodes); do
      s="$(serial_at "$n")"
      [ -n "$s" ] && up=$((up + 1))
      line="$line ${s:--}"
    done
    echo "$up$line" >>"$1"
    sleep 0.5
  done
}

setup_file() {
  docker network create "$NET" >/dev/null
  local n
  for n in "${NODES[@]}"; do
    docker run -d --name "$n" --hostname "$n" --network "$NET" --network-alias "$HOST" --network-alias "$APP_HOST" \
      --cap-add ALL --cap-drop SYS_RESOURCE --security-opt seccomp=unconfined --security-opt systempaths=unconfined \
      --cgroupns private --device-cgroup-rule 'a *:* rwm' --tmpfs /run -v "$n-docker:/var/lib/docker" \
      sidecert-swarm-node >/dev/null
  done
  docker run -d --name "$PEBBLE" --network "$NET" "$PEBBLE_IMAGE" >/dev/null
  for n in "${NODES[@]}"; do wait_until 90 dockerd_ready "$n"; done
  # the images, into every node at once
  local pids=()
  for n in "${NODES[@]}"; do
    (docker save sidecert sidecert-express-gateway | docker exec -i "$n" docker load >/dev/null) &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  docker_in sce2e-n1 swarm init --advertise-addr "$(node_ip sce2e-n1)" >/dev/null
  local token
  token="$(docker_in sce2e-n1 swarm join-token -q manager)"
  for n in sce2e-n2 sce2e-n3; do docker_in "$n" swarm join --token "$token" "$(node_ip sce2e-n1):2377" >/dev/null; done
  # the stack's files, as an operator has them on a manager
  docker exec sce2e-n1 mkdir -p /stack
  docker cp "$ROOT/deploy/stack.yml" sce2e-n1:/stack/stack.yml
  docker cp "$ROOT/tests/e2e/swarm.pebble.yml" sce2e-n1:/stack/pebble.yml
  docker exec "$PEBBLE" cat /etc/pebble/tls.pem >"$BATS_FILE_TMPDIR/pebble-ca.pem"
  docker cp "$BATS_FILE_TMPDIR/pebble-ca.pem" sce2e-n1:/stack/pebble-ca.pem
  curl -fsS --cacert "$BATS_FILE_TMPDIR/pebble-ca.pem" --resolve "pebble:15000:$(node_ip "$PEBBLE")" \
    https://pebble:15000/roots/0 >"$BATS_FILE_TMPDIR/root.pem"
  SWARM_UP_AT=$SECONDS
  docker exec -w /stack -e AIOTES_HOSTNAME="$HOST" -e AIOTES_SYSADMIN_EMAIL=ops@example.test \
    -e PEBBLE_ADDRESS="$(node_ip "$PEBBLE")" "${DISCOVER_ENV[@]}" sce2e-n1 docker stack deploy -c stack.yml -c pebble.yml "$STACK" >/dev/null
}

teardown_file() {
  local n
  for n in "${NODES[@]}" "$PEBBLE"; do docker rm -f "$n" >/dev/null 2>&1 || true; done
  for n in "${NODES[@]}"; do docker volume rm "$n-docker" >/dev/null 2>&1 || true; done
  docker network rm "$NET" >/dev/null 2>&1 || true
}

teardown() {
  if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
    certbot_logs | tail -40 >&3 || true
    on_swarm service ps --no-trunc "${STACK}_express-gw" "${STACK}_certbot" >&3 2>&1 || true
  fi
}

@test "swarm: the first certificate, one order, the same serial on all three nodes, chaining to Pebble's root" {
  local t0=$SECONDS
  wait_until 400 all_serve_same_from "Pebble Intermediate"
  echo "# all three gateways served Pebble's certificate $((SECONDS - t0)) s after the stack was deployed" >&3
  [ "$(pebble_orders)" -eq 1 ]
  for n in "${NODES[@]}"; do chain_verifies_at "$n"; done
  certbot_logs | grep "swarm_lease_taken" >/dev/null
  certbot_logs | grep "swarm_service_updated.*name=aiotes" >/dev/null
  # before Pebble was asked to validate, sidecert fetched the challenge through each node's gateway
  certbot_logs | grep "challenge_reachable.*gateway=express-gw gateways=3" >/dev/null
}

@test "swarm: a renewal reaches all three nodes one at a time, never all down" {
  local old new c node
  old="$(serial_at sce2e-n1)"
  [ -n "$old" ]
  node="$(certbot_node)"
  c="$(certbot_container)"
  [ -n "$c" ]
  probe "$BATS_TEST_TMPDIR/probe" "$BATS_TEST_TMPDIR/stop" 400 &
  local prober=$! t0=$SECONDS
  docker_in "$node" exec "$c" sidecert revoke >/dev/null
  wait_until 400 all_moved_from "$old"
  local took=$((SECONDS - t0))
  touch "$BATS_TEST_TMPDIR/stop"
  wait "$prober"
  new="$(serial_at sce2e-n1)"
  all_serve "$new"
  served_at sce2e-n1 | grep "Pebble Intermediate" >/dev/null
  [ "$(pebble_orders)" -eq 2 ]
  local samples none
  samples=$(wc -l <"$BATS_TEST_TMPDIR/probe")
  none=$(grep -c '^0 ' "$BATS_TEST_TMPDIR/probe" || true)
  echo "# renewal on all three nodes in ${took} s; $samples samples, $none with no node answering; fewest up: $(cut -d' ' -f1 "$BATS_TEST_TMPDIR/probe" | sort -n | head -1)" >&3
  echo "# sidecert followed the rollouts: $(certbot_logs | grep -o 'swarm_rollout_done.*' | grep -o 'generation=[0-9]* seconds=[0-9]*' | tr '\n' ';')" >&3
  [ "$samples" -ge 5 ]
  [ "$none" -eq 0 ]
  # some sample saw a node down or changing: the rollout was one at a time, not a no-op
  grep -v "^3 $old $old $old\$" "$BATS_TEST_TMPDIR/probe" | grep -v "^3 $new $new $new\$" >/dev/null
}

# The certbot task runs on a node other than $1, and its container is there.
certbot_moved_from() { local n; n="$(certbot_node)" && [ -n "$n" ] && [ "$n" != "$1" ] && [ -n "$(certbot_container)" ]; }
certbot_logged() { docker_in "$(certbot_node)" logs "$(certbot_container)" 2>&1 | grep "$1" >/dev/null; }

@test "swarm: the node that runs sidecert is lost: it comes back on another, orders nothing, serves on, renews from there" {
  local node orders serial
  node="$(certbot_node)"
  [ -n "$node" ]
  orders="$(pebble_orders)"
  serial="$(serial_at "$node")"
  [ -n "$serial" ]
  probe "$BATS_TEST_TMPDIR/probe" "$BATS_TEST_TMPDIR/stop" 600 &
  local prober=$! t0=$SECONDS
  docker kill "$node" >/dev/null
  wait_until 240 certbot_moved_from "$node"
  local moved=$((SECONDS - t0))
  # its first pass over: the lease taken (after the lost task's ran out), the set restored, the next check set
  wait_until 180 certbot_logged "renewal_scheduled"
  echo "# sidecert ran again on $(certbot_node) $moved s after $node was killed; its first pass ended after $((SECONDS - t0)) s" >&3
  certbot_logged "swarm_lease_taken"
  certbot_logged "swarm_set_restored.*source=acme"
  certbot_logged "swarm_account_restored"
  [ "$(pebble_orders)" -eq "$orders" ]
  all_serve "$serial"
  touch "$BATS_TEST_TMPDIR/stop"
  wait "$prober"
  # the gateways on the two nodes left kept serving that certificate, never another (a self-signed one)
  [ "$(wc -l <"$BATS_TEST_TMPDIR/probe")" -ge 5 ]
  ! cut -d' ' -f2- "$BATS_TEST_TMPDIR/probe" | tr ' ' '\n' | grep -v -e "^$serial\$" -e '^-$' -e '^$' || false
  # and a renewal from the new node: same account, a new certificate on both
  docker_in "$(certbot_node)" exec "$(certbot_container)" sidecert revoke >/dev/null
  wait_until 400 all_moved_from "$serial"
  [ "$(pebble_orders)" -eq $((orders + 1)) ]
  for n in $(live_nodes); do served_at "$n" | grep "Pebble Intermediate" >/dev/null; done
}

@test "swarm: a docker cp'd user set reaches every node; a bad one is refused and every node keeps what it had" {
  make_ca "$BATS_TEST_TMPDIR" userca
  make_leaf "$BATS_TEST_TMPDIR" user userca "$HOST"
  chmod 600 "$BATS_TEST_TMPDIR/user.key"
  local node c live=/etc/letsencrypt/live/aiotes serial
  node="$(certbot_node)"
  c="$(certbot_container)"
  [ -n "$c" ]
  docker_cp_in() { # FILE DEST: into the certbot container, through its node
    docker cp "$1" "$node:/tmp/drop" && docker_in "$node" cp /tmp/drop "$c:$2"
  }
  docker_cp_in "$BATS_TEST_TMPDIR/user.key" "$live/privkey.pem"
  docker_cp_in "$BATS_TEST_TMPDIR/user.pem" "$live/cert.pem"
  docker_cp_in "$BATS_TEST_TMPDIR/userca.pem" "$live/chain.pem"
  serial="$(openssl x509 -in "$BATS_TEST_TMPDIR/user.pem" -noout -serial | cut -d= -f2)"
  wait_until 300 all_serve "$serial"
  # a key that is not the certificate's
  make_key "$BATS_TEST_TMPDIR/other.key"
  docker_cp_in "$BATS_TEST_TMPDIR/other.key" "$live/privkey.pem"
  docker_cp_in "$BATS_TEST_TMPDIR/user.pem" "$live/cert.pem"
  docker_cp_in "$BATS_TEST_TMPDIR/userca.pem" "$live/chain.pem"
  wait_until 120 certbot_logged "user_cert_refused"
  all_serve "$serial"
}

gateway_rollout_over() { # the gateway service's last update is over, done or rolled back
  case "$(on_swarm service inspect -f '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}' "${STACK}_express-gw")" in
    completed | rollback_completed) return 0 ;;
  esac
  return 1
}
certbot_container_is_not() { local c; c="$(certbot_container)" && [ -n "$c" ] && [ "$c" != "$1" ]; }

@test "swarm: the stack deployed again (its spec reset, sidecert's secrets dropped): every node serves the set again, no order" {
  local serial orders before m
  serial="$(serial_at "$(live_nodes | head -1)")"
  [ -n "$serial" ]
  orders="$(pebble_orders)"
  before="$(certbot_container)"
  m="$(manager)"
  docker exec "$m" mkdir -p /stack
  docker cp "$ROOT/deploy/stack.yml" "$m:/stack/stack.yml"
  docker cp "$ROOT/tests/e2e/swarm.pebble.yml" "$m:/stack/pebble.yml"
  docker cp "$BATS_FILE_TMPDIR/pebble-ca.pem" "$m:/stack/pebble-ca.pem"
  probe "$BATS_TEST_TMPDIR/probe" "$BATS_TEST_TMPDIR/stop" 600 &
  local prober=$! t0=$SECONDS
  docker exec -w /stack -e AIOTES_HOSTNAME="$HOST" -e AIOTES_SYSADMIN_EMAIL=ops@example.test \
    -e PEBBLE_ADDRESS="$(node_ip "$PEBBLE")" "${DISCOVER_ENV[@]}" "$m" docker stack deploy -c stack.yml -c pebble.yml "$STACK" >/dev/null
  # sidecert's own spec lost its sealing key: a new task gives it back (the same
  # secret, so every sealed set still opens), takes the lease, and its first pass
  # points the gateway at its set again
  wait_until 300 certbot_container_is_not "$before"
  wait_until 300 certbot_logged "renewal_scheduled"
  wait_until 300 gateway_rollout_over
  wait_until 120 all_serve "$serial"
  touch "$BATS_TEST_TMPDIR/stop"
  wait "$prober"
  echo "# every node served the set again $((SECONDS - t0)) s after the redeploy; fewest nodes up meanwhile: $(cut -d' ' -f1 "$BATS_TEST_TMPDIR/probe" | sort -n | head -1) of $(live_nodes | wc -l)" >&3
  certbot_logs | grep "swarm_seal_mounted.*created=false" >/dev/null
  [ "$(pebble_orders)" -eq "$orders" ]
}

@test "swarm: of the old generations' secrets, only what a service still names is left" {
  local gw="${STACK}_express-gw" names referenced
  names="$(on_swarm secret ls --filter label=sidecert.lineage=aiotes --format '{{.Name}}' | sort)"
  referenced="$(on_swarm service inspect "$gw" --format \
    '{{range .Spec.TaskTemplate.ContainerSpec.Secrets}}{{println .SecretName}}{{end}}{{if .PreviousSpec}}{{range .PreviousSpec.TaskTemplate.ContainerSpec.Secrets}}{{println .SecretName}}{{end}}{{end}}' |
    grep . | sort -u)"
  echo "# secrets left: $(echo "$names" | wc -l)" >&3
  [ -n "$names" ]
  [ "$names" = "$referenced" ]
  # many generations were published (self-signed, two renewals, the user's), and
  # at most two remain: the service's and the one its rollback would return to
  local newest kept
  newest="$(on_swarm config ls --filter label=sidecert.lineage=aiotes --format '{{.Name}}' | wc -l)"
  kept="$(for s in $names; do on_swarm secret inspect --format '{{index .Spec.Labels "sidecert.generation"}}' "$s"; done | sort -u)"
  echo "# generations left: $(echo $kept)" >&3
  [ "$(echo "$kept" | wc -l)" -le 2 ]
  [ "$(echo "$kept" | sort -n | tail -1)" -ge 4 ]
  [ "$newest" -le 7 ]   # two generations' three configs, and the newest sealed set
}

# "serial issuer" of live/NAME/fullchain.pem as the gateway task on node N has it
# (swarm:express-gw gives each task the sets at /var/lib/certs/live/<name>/).
gateway_set_on() { # N NAME
  local c
  c="$(docker_in "$1" ps -q --filter "label=com.docker.swarm.service.name=${STACK}_express-gw" | head -1)"
  [ -n "$c" ] && docker_in "$1" exec "$c" cat "/var/lib/certs/live/$2/fullchain.pem" 2>/dev/null |
    openssl x509 -noout -serial -issuer 2>/dev/null | tr '\n' ' '
}
every_gateway_has() { # NAME: every live node's gateway task has one Pebble certificate for it
  local n first="" s
  for n in $(live_nodes); do
    s="$(gateway_set_on "$n" "$1")"
    [[ $s == *"Pebble Intermediate"* ]] || return 1
    [ -z "$first" ] && first="$s"
    [ "$s" = "$first" ] || return 1
  done
}
gateway_secrets_of() { # LINEAGE: the secrets of that lineage the gateway service's spec names
  on_swarm service inspect "${STACK}_express-gw" --format \
    '{{range .Spec.TaskTemplate.ContainerSpec.Secrets}}{{println .File.Name}}{{end}}' | grep "/live/$1/" || true
}
app_names() { # the names in the certificate the first live node's gateway task has for $APP_HOST
  local c n
  n="$(live_nodes | head -1)"
  c="$(docker_in "$n" ps -q --filter "label=com.docker.swarm.service.name=${STACK}_express-gw" | head -1)"
  docker_in "$n" exec "$c" cat "/var/lib/certs/live/$APP_HOST/fullchain.pem" | openssl x509 -noout -ext subjectAltName | tail -1 | tr -d ' '
}

@test "swarm: discovery on, a service labelled sidecert.domains gets its certificate on every gateway task, one order; removed, it is retired after the grace" {
  local orders
  orders="$(pebble_orders)"
  certbot_logged "discovery_started"
  # a service of the swarm asking for its name in its deploy labels
  local t0=$SECONDS
  on_swarm service create --detach --name sce2e-app --label "sidecert.domains=$APP_HOST" \
    --entrypoint sleep sidecert-express-gateway infinity >/dev/null
  wait_until 400 every_gateway_has "$APP_HOST"
  echo "# every gateway task ($(live_nodes | wc -l) live nodes) had $APP_HOST's Pebble certificate $((SECONDS - t0)) s after the service was created" >&3
  [ "$(app_names)" = "DNS:$APP_HOST" ]
  certbot_logged "discovered.*name=$APP_HOST.*from=\"\\?service sce2e-app"
  [ "$(pebble_orders)" -eq $((orders + 1)) ]   # one order, for the new name only
  # removed: kept through the grace, then retired
  on_swarm service rm sce2e-app >/dev/null
  wait_until 120 certbot_logged "discovered_gone.*name=$APP_HOST"
  local gone=$SECONDS
  wait_until $((GRACE + 120)) certbot_logged "discovered_retired.*name=$APP_HOST"
  echo "# retired $((SECONDS - gone)) s after sidecert saw the service gone (grace ${GRACE} s)" >&3
  [ $((SECONDS - gone)) -ge $((GRACE - 1)) ]
  docker_in "$(certbot_node)" exec "$(certbot_container)" sidecert status --json |
    jq -e --arg n "$APP_HOST" '.retired[] | select(.name == $n) | .retired_at' >/dev/null
  [ "$(pebble_orders)" -eq $((orders + 1)) ]
  # (measured, not asserted: whether the gateway's spec still gives its tasks the retired lineage's files)
  echo "# after retirement the gateway's spec names $(gateway_secrets_of "$APP_HOST" | wc -l) secret(s) of $APP_HOST" >&3
}
