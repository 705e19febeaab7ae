#!/usr/bin/env bats
# Every command and its exit statuses, on a volume of its own.
load lib/helpers
bats_require_minimum_version 1.5.0

setup() { fresh_env; }

@test "version prints the version and library versions, exit 0" {
  run "$SIDECERT" version
  [ "$status" -eq 0 ]
  [[ "$output" == "sidecert "* ]]
  [[ "$output" == *OpenSSL* ]]
  [[ "$output" == *Poco* ]]
  # the libcurl linked, and protocols that include what sidecert speaks
  echo "$output" | grep -E "^  libcurl [0-9.]+ \(.*HTTPS.*\)$" | grep -q "SMTPS"
}

@test "an unknown command or flag exits 2 and names it" {
  run "$SIDECERT" frobnicate
  [ "$status" -eq 2 ]
  [[ "$output" == *"unknown command 'frobnicate'"* ]]
  run "$SIDECERT" status --jsn
  [ "$status" -eq 2 ]
  [[ "$output" == *"unknown flag '--jsn'"* ]]
  run "$SIDECERT"
  [ "$status" -eq 2 ]
}

@test "once on an empty volume puts a self-signed set in place and says so, exit 0" {
  run "$SIDECERT" once
  [ "$status" -eq 0 ]
  [[ "$output" == *"self-signed certificate for example.test,www.example.test in place"* ]]
  live_pair_matches
  openssl x509 -in "$LIVE/cert.pem" -noout -ext subjectAltName | grep -q "DNS:www.example.test"
  # For self-signed, chain.pem is the certificate itself
  cmp -s "$LIVE/cert.pem" "$LIVE/chain.pem"
}

@test "once with a swarm: reload action refuses, exit 2, and writes nothing: the service's task works under the lease" {
  SIDECERT_RELOAD=swarm:express-gw run --separate-stderr "$SIDECERT" once
  [ "$status" -eq 2 ]
  [[ "$stderr" == *"once does not run with a swarm: reload action"* ]]
  [ ! -e "$LIVE" ]
}

@test "the volume has certbot's layout, a relative link, a 0600 key; sidecert's state is in a 0700 folder of its own" {
  "$SIDECERT" once 2>/dev/null
  [ -L "$VOL/live/example.test" ]
  target="$(readlink "$VOL/live/example.test")"
  [[ "$target" == ../archive/example.test/set-* ]]
  for f in privkey.pem cert.pem chain.pem fullchain.pem; do [ -f "$LIVE/$f" ]; done
  [ "$(stat -L -c %a "$LIVE/privkey.pem")" = 600 ]
  [ "$(stat -c %a "$STATE")" = 700 ]
  [ "$(ls "$VOL" | tr '\n' ' ')" = "archive aside live " ]   # nothing of sidecert's own in the gateway's volume
  [ -f "$STATE/state-example.test.json" ] && [ -d "$STATE/sets/example.test" ]
  # the volume works at another mount point: the link is relative
  cp -a "$VOL" "$BATS_TEST_TMPDIR/moved"
  live_pair_matches "$BATS_TEST_TMPDIR/moved/live/example.test"
}

@test "SIDECERT_FILE_GROUP makes the key 0640 and owned by that group" {
  SIDECERT_FILE_GROUP=0 "$SIDECERT" once 2>/dev/null
  [ "$(stat -L -c %a:%g "$LIVE/privkey.pem")" = 640:0 ]
  SIDECERT_FILE_GROUP=no-such-group-here run "$SIDECERT" once
  [ "$status" -eq 2 ]
  [[ "$output" == *"SIDECERT_FILE_GROUP"* ]]
}

@test "a second once keeps the valid set: no new serial, no new set" {
  "$SIDECERT" once 2>/dev/null
  first="$(live_serial)"
  "$SIDECERT" once 2>/dev/null
  [ "$(live_serial)" = "$first" ]
  [ "$(ls "$VOL/archive/example.test" | wc -l)" -eq 1 ]
}

@test "a renewal margin longer than what is left renews the self-signed set" {
  "$SIDECERT" once 2>/dev/null
  first="$(live_serial)"
  SIDECERT_RENEW_BEFORE=129630m "$SIDECERT" once 2>/dev/null
  [ "$(live_serial)" != "$first" ]
  live_pair_matches
}

@test "a renewal margin at or past the lifetime is a third of it: no renewal, one warning" {
  "$SIDECERT" once 2>/dev/null
  first="$(live_serial)"
  SIDECERT_RENEW_BEFORE=1000d run --separate-stderr "$SIDECERT" once
  [ "$status" -eq 0 ]
  [ "$(live_serial)" = "$first" ]
  [ "$(grep -c renew_before_too_long <<<"$stderr")" -eq 1 ]
  grep renew_before_too_long <<<"$stderr" | grep -q "used=30d"
}

@test "the configured key type is used for the self-signed key" {
  SIDECERT_KEY_TYPE=rsa2048 "$SIDECERT" once 2>/dev/null
  openssl pkey -in "$LIVE/privkey.pem" -noout -text | grep -q "Private-Key: (2048 bit"
  rm -rf "$VOL" "$STATE"
  SIDECERT_KEY_TYPE=ec384 "$SIDECERT" once 2>/dev/null
  openssl pkey -in "$LIVE/privkey.pem" -noout -text | grep -q "NIST CURVE: P-384"
}

@test "status exits 1 on an empty volume and 0 once a set is in place" {
  run "$SIDECERT" status
  [ "$status" -eq 1 ]
  [[ "$output" == *"no certificate"* ]]
  "$SIDECERT" once 2>/dev/null
  run "$SIDECERT" status
  [ "$status" -eq 0 ]
  [[ "$output" == *"source      self-signed"* ]]
}

@test "status --json gives source, names, issuer, dates, serial and next check" {
  "$SIDECERT" once 2>/dev/null
  run "$SIDECERT" status --json
  [ "$status" -eq 0 ]
  echo "$output" | jq -e '.source == "self-signed" and .healthy == true' >/dev/null
  echo "$output" | jq -e '.names == ["example.test","www.example.test"]' >/dev/null
  echo "$output" | jq -e '.issuer == "CN=example.test"' >/dev/null
  [ "$(echo "$output" | jq -r .serial)" = "$(live_serial)" ]
  [ "$(echo "$output" | jq -r .not_after)" = "$(date -u -d "$(openssl x509 -in "$LIVE/cert.pem" -noout -enddate | cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ)" ]
  echo "$output" | jq -e '.not_before and .next_check' >/dev/null
}

@test "status reports a damaged live set as unhealthy, exit 1" {
  "$SIDECERT" once 2>/dev/null
  make_key "$CERTS/other.key"
  cp "$CERTS/other.key" "$LIVE/privkey.pem"
  run "$SIDECERT" status --json
  [ "$status" -eq 1 ]
  echo "$output" | jq -e '.healthy == false' >/dev/null
}

@test "check-config says what would be done, exit 0" {
  run "$SIDECERT" check-config
  [ "$status" -eq 0 ]
  [[ "$output" == *"example.test,www.example.test"* ]]
  [[ "$output" == *"self-signed"* ]]
}

@test "check-config: a bad value exits 2 with one message naming the variable" {
  SIDECERT_RENEW_BEFORE=30 run "$SIDECERT" check-config
  [ "$status" -eq 2 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ "$output" == *"SIDECERT_RENEW_BEFORE"*"no unit"* ]]
  SIDECERT_DOMAINS="bad_name.test" run "$SIDECERT" check-config
  [ "$status" -eq 2 ]
  [[ "$output" == *"SIDECERT_DOMAINS"*"bad_name.test"* ]]
  SIDECERT_DOMIANS=x.test run "$SIDECERT" check-config
  [ "$status" -eq 2 ]
  [[ "$output" == *"SIDECERT_DOMIANS: unknown setting"* ]]
}

@test "check-config: a bad YAML value, key or syntax names the file, line and key" {
  printf 'domains:\n  - a.test\nkey_type: ec512\n' >"$BATS_TEST_TMPDIR/c.yml"
  unset SIDECERT_DOMAINS
  run "$SIDECERT" check-config --config "$BATS_TEST_TMPDIR/c.yml"
  [ "$status" -eq 2 ]
  [[ "$output" == *"c.yml:3: key_type: unknown key type 'ec512'"* ]]
  printf 'domains: a.test\nrenew_befor: 10d\n' >"$BATS_TEST_TMPDIR/c.yml"
  run "$SIDECERT" check-config --config "$BATS_TEST_TMPDIR/c.yml"
  [ "$status" -eq 2 ]
  [[ "$output" == *"c.yml:2: renew_befor: unknown setting"* ]]
  printf 'domains: [a.test\nemail: x\n' >"$BATS_TEST_TMPDIR/c.yml"
  run "$SIDECERT" check-config --config "$BATS_TEST_TMPDIR/c.yml"
  [ "$status" -eq 2 ]
  [[ "$output" == *"c.yml:"*"not valid YAML"* ]]
  run "$SIDECERT" check-config --config "$BATS_TEST_TMPDIR/missing.yml"
  [ "$status" -eq 2 ]
  [[ "$output" == *"missing.yml"* ]]
}

# VAR VALUE EXPECTED: check-config exits 2 with one line naming VAR and saying EXPECTED.
refused() {
  run env "$1=$2" "$SIDECERT" check-config
  [ "$status" -eq 2 ] || { echo "$1=$2 gave status $status: $output" >&2; return 1; }
  [ "${#lines[@]}" -eq 1 ] && [[ "$output" == *"$1"*"$3"* ]] || { echo "$1=$2: $output" >&2; return 1; }
}

@test "check-config: numbers out of range, IP literals, bad addresses and derived names exit 2 naming the key" {
  refused SIDECERT_FILE_GROUP 99999999999999999999999 "not a group number"
  refused SIDECERT_FILE_GROUP 4294967296 "not a group number"
  refused SIDECERT_FILE_GROUP 4294967295 "not a group number"
  for ip in 127.1 0x7f.0.0.1 0177.0.0.1 2130706433 0x7f000001 1.2.3.04 a.b.123; do
    refused SIDECERT_DOMAINS "$ip" "IP address"
  done
  refused SIDECERT_EMAIL "ops@" "not an email address"
  refused SIDECERT_EMAIL "ops@bad_domain.test" "not an email address"
  refused SIDECERT_EMAIL "o p@a.test" "not an email address"
  refused SIDECERT_ACME_DIRECTORY "https:///dir" "not an https:// URL"
  refused SIDECERT_ACME_DIRECTORY "https://user:pw@ca.test/dir" "not an https:// URL"
  refused SIDECERT_ACME_DIRECTORY "https://ca.test/d ir" "not an https:// URL"
  refused SIDECERT_HTTP01_LISTEN "example.test:80" "not an IPv4 or [IPv6] address"
  refused SIDECERT_HTTP01_LISTEN "999.1.1.1:80" "not an IPv4 or [IPv6] address"
  long="$(printf 'a%.0s' $(seq 1 60)).$(printf 'b%.0s' $(seq 1 10)).test"
  refused SIDECERT_DOMAINS "$long" "set SIDECERT_NAME"
  SIDECERT_DOMAINS="$long" SIDECERT_NAME=short run "$SIDECERT" check-config
  [ "$status" -eq 0 ]
  # and what is right still passes
  SIDECERT_FILE_GROUP=4294967294 SIDECERT_EMAIL="o.p+x@a.test" SIDECERT_HTTP01_LISTEN="[::1]:80" \
    SIDECERT_ACME_DIRECTORY="https://ca.test:14000/dir" run "$SIDECERT" check-config
  [ "$status" -eq 0 ] || { echo "$output" >&2; false; }
}

@test "check-config: a YAML key set twice, or a file over 1 MiB, is refused with exit 2" {
  unset SIDECERT_DOMAINS
  printf 'domains: a.test\nkey_type: ec256\nkey_type: rsa2048\n' >"$BATS_TEST_TMPDIR/c.yml"
  run "$SIDECERT" check-config --config "$BATS_TEST_TMPDIR/c.yml"
  [ "$status" -eq 2 ]
  [[ "$output" == *"c.yml:3: key_type: set twice (first at "*"c.yml:2)"* ]]
  { echo "domains: a.test"; head -c 1100000 /dev/zero | tr '\0' '#'; echo; } >"$BATS_TEST_TMPDIR/big.yml"
  run "$SIDECERT" check-config --config "$BATS_TEST_TMPDIR/big.yml"
  [ "$status" -eq 2 ]
  [[ "$output" == *"big.yml: the config file is larger than 1 MiB"* ]]
}

@test "a bad setting makes every command exit 2, and writes nothing" {
  SIDECERT_KEY_TYPE=dsa run "$SIDECERT" once
  [ "$status" -eq 2 ]
  [ ! -e "$VOL" ]
  SIDECERT_LOG_FORMAT=xml run "$SIDECERT" run
  [ "$status" -eq 2 ]
}

@test "YAML file and environment: the environment wins" {
  unset SIDECERT_DOMAINS
  printf 'domains: [yaml.test]\nname: gw\nkey_type: ec384\n' >"$BATS_TEST_TMPDIR/c.yml"
  SIDECERT_KEY_TYPE=ec256 "$SIDECERT" once --config "$BATS_TEST_TMPDIR/c.yml" 2>/dev/null
  openssl x509 -in "$VOL/live/gw/cert.pem" -noout -subject | grep -q "CN = yaml.test"
  openssl pkey -in "$VOL/live/gw/privkey.pem" -noout -text | grep -q "NIST CURVE: P-256"
}

@test "AIOTES_HOSTNAME and AIOTES_SYSADMIN_EMAIL are honoured, lineage name aiotes" {
  unset SIDECERT_DOMAINS
  AIOTES_HOSTNAME=gw.example.test AIOTES_SYSADMIN_EMAIL=ops@example.test run "$SIDECERT" check-config
  [ "$status" -eq 0 ]
  [[ "$output" == *"ops@example.test"* ]]
  AIOTES_HOSTNAME=gw.example.test "$SIDECERT" once 2>/dev/null
  openssl x509 -in "$VOL/live/aiotes/cert.pem" -noout -subject | grep -q "CN = gw.example.test"
}

@test "with no domain configured the set is for the host's name" {
  unset SIDECERT_DOMAINS
  "$SIDECERT" once 2>/dev/null
  host="$(hostname | tr 'A-Z' 'a-z')"
  openssl x509 -in "$VOL/live/$host/cert.pem" -noout -subject | grep -q "CN = $host"
}

@test "once while another sidecert holds the volume waits, then says so, exit 1" {
  "$SIDECERT" once 2>/dev/null
  ( exec 9>"$STATE/lock"; flock 9; exec sleep 12 ) &
  holder=$!
  sleep 0.3
  run "$SIDECERT" once
  kill "$holder" 2>/dev/null || true
  wait "$holder" 2>/dev/null || true
  [ "$status" -eq 1 ]
  [[ "$output" == *"another sidecert holds"* ]]
}
