# Each test starts its own Pebble (scripts/pebble.sh) and stops it in teardown.
source "$ROOT/scripts/pebble.sh"

start_pebble() { pebble_start "$BATS_TEST_TMPDIR/pebble" "$@"; }
stop_pebble() { pebble_stop_ca; }
stop_dns() { pebble_stop; }
pebble_orders() { grep -c "Added order" "$BATS_TEST_TMPDIR/pebble/pebble.log" || true; }  # created, not POSTed (badNonce retries)
