# BIND 9 (Debian's bind9) as the zone's real DNS server, on loopback port 53 in
# the test's own network namespace (test.sh runs each Bats file in one): the zone
# example.test, whose challenge records a TSIG key may update, its NS at the address named listens on.
#   bind_start DIR   starts named (at BIND_ADDR, port BIND_PORT); exports BIND_ADDR, BIND_KEY_NAME, BIND_KEY_SECRET, BIND_KEY_FILE
#                    BIND_NS_ADDR: the address the zone's NS (ns.example.test) names, BIND_ADDR unless set
#                    BIND_CHALLENGE_NAMES: more names under example.test (d1 d2) whose _acme-challenge records the keys may update
#                    one more key for each TSIG algorithm BIND knows: sidecert-ALG, its secret in $BIND_DIR/ALG.secret
#   bind_stop        ends it, by PID
#   bind_start_copy DIR ADDR  another named at ADDR:53 (BIND_PORT another port then) with its own copy of the zone, which no update reaches
#                    (a secondary that never transfers); its PID in BIND_COPY_PID, ended by bind_stop
#   bind_txt NAME    the TXT values at NAME, as BIND answers them
#   bind_update CMDS nsupdate commands (e.g. "update add NAME 60 TXT \"v\""), signed with the key
BIND_ADDR=${BIND_ADDR:-127.0.0.1}
BIND_PORT=${BIND_PORT:-53}
BIND_ALGORITHMS="hmac-md5 hmac-sha1 hmac-sha224 hmac-sha256 hmac-sha384 hmac-sha512"

# bind_zone_file FILE NS_ADDR
bind_zone_file() {
  cat >"$1" <<ZONE
\$TTL 60
@   IN SOA ns.example.test. admin.example.test. 1 60 60 600 1
@   IN NS  ns.example.test.
ns  IN A   $2
@   IN A   127.0.0.1
ZONE
}

# bind_run DIR ADDR PORT: starts named on DIR/named.conf and waits until it answers; the PID in BIND_RUN_PID.
bind_run() {
  named -g -u root -c "$1/named.conf" >"$1/named.log" 2>&1 &
  BIND_RUN_PID=$!
  local i
  for i in $(seq 1 100); do
    dig +short +time=1 +tries=1 -p "$3" @"$2" example.test SOA 2>/dev/null | grep -q ns.example.test && break
    sleep 0.1
  done
  dig +short +time=1 +tries=1 -p "$3" @"$2" example.test SOA | grep -q ns.example.test || {
    cat "$1/named.log" >&2; kill "$BIND_RUN_PID"; wait "$BIND_RUN_PID" 2>/dev/null; return 1
  }
}

# named.conf's options for an authoritative-only server in DIR at ADDR:PORT.
bind_options() { # DIR ADDR PORT
  cat <<CONF
options {
  directory "$1";
  pid-file "$1/named.pid";
  listen-on port $3 { $2; };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
  notify no;
  querylog yes;
};
CONF
}

bind_start() {
  BIND_DIR="$1"; mkdir -p "$BIND_DIR"
  BIND_KEY_NAME=sidecert-key
  BIND_KEY_SECRET="$(head -c 32 /dev/urandom | base64)"
  BIND_KEY_FILE="$BIND_DIR/tsig.secret"; echo "$BIND_KEY_SECRET" >"$BIND_KEY_FILE"; chmod 600 "$BIND_KEY_FILE"
  bind_zone_file "$BIND_DIR/example.test.zone" "${BIND_NS_ADDR:-$BIND_ADDR}"
  local keys="" grants="" alg key name secret
  for alg in $BIND_ALGORITHMS; do
    secret="$(head -c 32 /dev/urandom | base64)"
    echo "$secret" >"$BIND_DIR/$alg.secret"; chmod 600 "$BIND_DIR/$alg.secret"
    keys+="key \"sidecert-$alg\" { algorithm $alg; secret \"$secret\"; };"$'\n'
  done
  for key in "$BIND_KEY_NAME" $(printf 'sidecert-%s ' $BIND_ALGORITHMS); do
    grants+="    grant $key name _acme-challenge.example.test. TXT;"$'\n'
    grants+="    grant $key name _validation-persist.example.test. TXT;"$'\n'
    for name in ${BIND_CHALLENGE_NAMES:-}; do grants+="    grant $key name _acme-challenge.$name.example.test. TXT;"$'\n'; done
  done
  cat >"$BIND_DIR/named.conf" <<CONF
$(bind_options "$BIND_DIR" "$BIND_ADDR" "$BIND_PORT")
controls { };
key "$BIND_KEY_NAME" { algorithm hmac-sha256; secret "$BIND_KEY_SECRET"; };
$keys
# the keys may change the challenge records and nothing else, as the README advises
zone "example.test" {
  type primary; file "$BIND_DIR/example.test.zone";
  update-policy {
$grants  };
};
CONF
  bind_run "$BIND_DIR" "$BIND_ADDR" "$BIND_PORT" || return 1
  BIND_PID=$BIND_RUN_PID
  export BIND_ADDR BIND_KEY_NAME BIND_KEY_SECRET BIND_KEY_FILE
}

bind_start_copy() {
  local dir="$1" addr="$2"; mkdir -p "$dir"
  bind_zone_file "$dir/example.test.zone" "$addr"
  cat >"$dir/named.conf" <<CONF
$(bind_options "$dir" "$addr" 53)
controls { };
zone "example.test" { type primary; file "$dir/example.test.zone"; };
CONF
  bind_run "$dir" "$addr" 53 || return 1
  BIND_COPY_PID=$BIND_RUN_PID
}

bind_stop() {
  [ -z "${BIND_PID:-}" ] || { kill "$BIND_PID" 2>/dev/null; wait "$BIND_PID" 2>/dev/null || true; BIND_PID=; }
  [ -z "${BIND_COPY_PID:-}" ] || { kill "$BIND_COPY_PID" 2>/dev/null; wait "$BIND_COPY_PID" 2>/dev/null || true; BIND_COPY_PID=; }
}

# NAME was asked for over TCP (as Pebble's validation asks; sidecert asks over UDP).
bind_asked_over_tcp() { grep -E "query: $1 IN TXT [+-][^ ]*T" "$BIND_DIR/named.log" >/dev/null; }

bind_txt() { dig +short +time=2 +tries=1 @"$BIND_ADDR" "$1" TXT | sed 's/^"//; s/"$//; s/" "//g'; }

bind_update() {
  printf 'server %s 53\nzone example.test\n%s\nsend\n' "$BIND_ADDR" "$1" |
    nsupdate -y "hmac-sha256:$BIND_KEY_NAME:$BIND_KEY_SECRET"
}
