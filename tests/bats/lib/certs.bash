# Certificates for tests, made with the openssl command line (a real peer, not
# our own code): CAs, leaves with chosen names and dates, chains.
#
# make_key OUT [ec|rsa]                     OUT: a key
# make_ca DIR NAME [ISSUER]                 DIR/NAME.{key,pem}: a CA, self-signed or under ISSUER
# make_leaf DIR NAME ISSUER NAMES [START END]
#     DIR/NAME.{key,pem}: a server certificate for NAMES (comma-separated) signed by
#     ISSUER (DIR/ISSUER.{key,pem}, or "self"), valid from START to END
#     (YYYYMMDDHHMMSSZ; default: an hour ago to 60 days ahead).

utc_offset() { date -u -d "$1" +%Y%m%d%H%M%SZ; }

make_key() {
  if [ "${2:-ec}" = rsa ]; then
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null
  else
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
  fi
}

_ca_sign() { # DIR CSR ISSUER_CERT ISSUER_KEY START END EXTFILE OUT [selfsign]
  local d="$1/.ca.$$.$RANDOM"
  mkdir -p "$d" && touch "$d/index.txt" && openssl rand -hex 16 >"$d/serial"
  cat >"$d/ca.cnf" <<CNF
[ca]
default_ca = x
[x]
database = $d/index.txt
new_certs_dir = $d
serial = $d/serial
default_md = sha256
policy = p
unique_subject = no
[p]
commonName = supplied
CNF
  local issuer=(-cert "$3" -keyfile "$4")
  [ "${9:-}" = selfsign ] && issuer=(-selfsign -keyfile "$4")
  openssl ca -batch -config "$d/ca.cnf" "${issuer[@]}" -in "$2" -out "$8" -startdate "$5" -enddate "$6" \
    -notext -extfile "$7" 2>"$d/err" || { cat "$d/err" >&2; return 1; }
  rm -rf "$d"
}

make_ca() {
  local dir="$1" name="$2" issuer="${3:-}"
  make_key "$dir/$name.key"
  openssl req -new -key "$dir/$name.key" -subj "/CN=$name" -out "$dir/$name.csr" 2>/dev/null
  printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n' >"$dir/$name.ext"
  if [ -z "$issuer" ]; then
    _ca_sign "$dir" "$dir/$name.csr" "" "$dir/$name.key" "$(utc_offset '-1 day')" "$(utc_offset '+3650 days')" \
      "$dir/$name.ext" "$dir/$name.pem" selfsign
  else
    _ca_sign "$dir" "$dir/$name.csr" "$dir/$issuer.pem" "$dir/$issuer.key" "$(utc_offset '-1 day')" \
      "$(utc_offset '+3650 days')" "$dir/$name.ext" "$dir/$name.pem"
  fi
}

make_leaf() {
  local dir="$1" name="$2" issuer="$3" names="$4"
  local start="${5:-$(utc_offset '-1 hour')}" end="${6:-$(utc_offset '+60 days')}"
  make_key "$dir/$name.key" "${LEAF_KEY_TYPE:-ec}"
  local first="${names%%,*}" san=""
  IFS=, read -ra all <<<"$names"
  for n in "${all[@]}"; do san="${san:+$san,}DNS:$n"; done
  openssl req -new -key "$dir/$name.key" -subj "/CN=$first" -out "$dir/$name.csr" 2>/dev/null
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' \
    "$san" >"$dir/$name.ext"
  if [ "$issuer" = self ]; then
    _ca_sign "$dir" "$dir/$name.csr" "" "$dir/$name.key" "$start" "$end" "$dir/$name.ext" "$dir/$name.pem" selfsign
  else
    _ca_sign "$dir" "$dir/$name.csr" "$dir/$issuer.pem" "$dir/$issuer.key" "$start" "$end" "$dir/$name.ext" "$dir/$name.pem"
  fi
}
