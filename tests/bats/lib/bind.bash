# BIND 9 (Debian's bind9) as the zone's real DNS server, on loopback port 53 in
# the test's own network namespace (test.sh runs each Bats file in one): the zone
# example.test, whose challenge records a TSIG key may update, its NS at the address named listens on.
#   bind_start DIR   starts named (at BIND_ADDR, port BIND_PORT); exports BIND_ADDR, BIND_KEY_NAME, BIND_KEY_SECRET, BIND_KEY_FILE
#   bind_stop        ends it, by PID
#   bind_txt NAME    the TXT values at NAME, as BIND answers them
#   bind_update CMDS nsupdate commands (e.g. "update add NAME 60 TXT \"v\""), signed with the key
BIND_ADDR=${BIND_ADDR:-127.0.0.1}
BIND_PORT=${BIND_PORT:-53}

bind_start() {
  BIND_DIR="$1"; mkdir -p "$BIND_DIR"
  BIND_KEY_NAME=sidecert-key
  BIND_KEY_SECRET="$(head -c 32 /dev/urandom | base64)"
  BIND_KEY_FILE="$BIND_DIR/tsig.secret"; echo "$BIND_KEY_SECRET" >"$BIND_KEY_FILE"; chmod 600 "$BIND_KEY_FILE"
  cat >"$BIND_DIR/example.test.zone" <<ZONE
\$TTL 60
@   IN SOA ns.example.test. admin.example.test. 1 60 60 600 1
@   IN NS  ns.example.test.
ns  IN A   $BIND_ADDR
@   IN A   127.0.0.1
ZONE
  cat >"$BIND_DIR/named.conf" <<CONF
options {
  directory "$BIND_DIR";
  pid-file "$BIND_DIR/named.pid";
  listen-on port $BIND_PORT { $BIND_ADDR; };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
  notify no;
  querylog yes;
};
controls { };
key "$BIND_KEY_NAME" { algorithm hmac-sha256; secret "$BIND_KEY_SECRET"; };
# the key may change the challenge records and nothing else, as the README advises
zone "example.test" {
  type primary; file "$BIND_DIR/example.test.zone";
  update-policy {
    grant $BIND_KEY_NAME name _acme-challenge.example.test. TXT;
    grant $BIND_KEY_NAME name _validation-persist.example.test. TXT;
  };
};
CONF
  named -g -u root -c "$BIND_DIR/named.conf" >"$BIND_DIR/named.log" 2>&1 &
  BIND_PID=$!
  local i
  for i in $(seq 1 100); do
    dig +short +time=1 +tries=1 -p "$BIND_PORT" @"$BIND_ADDR" example.test SOA 2>/dev/null | grep -q ns.example.test && break
    sleep 0.1
  done
  dig +short +time=1 +tries=1 -p "$BIND_PORT" @"$BIND_ADDR" example.test SOA | grep -q ns.example.test || { cat "$BIND_DIR/named.log" >&2; return 1; }
  export BIND_ADDR BIND_KEY_NAME BIND_KEY_SECRET BIND_KEY_FILE
}

bind_stop() {
  [ -z "${BIND_PID:-}" ] || { kill "$BIND_PID" 2>/dev/null; wait "$BIND_PID" 2>/dev/null || true; BIND_PID=; }
}

# NAME was asked for over TCP (as Pebble's validation asks; sidecert asks over UDP).
bind_asked_over_tcp() { grep -E "query: $1 IN TXT [+-][^ ]*T" "$BIND_DIR/named.log" >/dev/null; }

bind_txt() { dig +short +time=2 +tries=1 @"$BIND_ADDR" "$1" TXT | sed 's/^"//; s/"$//; s/" "//g'; }

bind_update() {
  printf 'server %s 53\nzone example.test\n%s\nsend\n' "$BIND_ADDR" "$1" |
    nsupdate -y "hmac-sha256:$BIND_KEY_NAME:$BIND_KEY_SECRET"
}
