#!/bin/sh
# ZONE, ADDRESS (this container's, for the NS record) and KEY_NAME from the
# environment; the key's secret from /run/secrets/tsig_secret.
set -eu
dir=/var/cache/bind
secret="$(cat /run/secrets/tsig_secret)"
cat >"$dir/$ZONE.zone" <<ZONEFILE
\$TTL 60
@   IN SOA ns.$ZONE. admin.$ZONE. 1 60 60 600 1
@   IN NS  ns.$ZONE.
ns  IN A   $ADDRESS
ZONEFILE
cat >/etc/bind/named.conf <<CONF
options {
  directory "$dir";
  listen-on port 53 { any; };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
  notify no;
  querylog yes;
};
controls { };
key "$KEY_NAME" { algorithm hmac-sha256; secret "$secret"; };
zone "$ZONE" {
  type primary; file "$dir/$ZONE.zone";
  update-policy { grant $KEY_NAME name _acme-challenge.$ZONE. TXT; };
};
CONF
chown -R bind:bind "$dir"
exec named -g -u bind -c /etc/bind/named.conf
