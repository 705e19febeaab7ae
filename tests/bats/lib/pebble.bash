# Each test starts its own Pebble (scripts/pebble.sh) and stops it in teardown.
source "$ROOT/scripts/pebble.sh"

start_pebble() { pebble_start "$BATS_TEST_TMPDIR/pebble" "$@"; }
stop_pebble() { pebble_stop_ca; }
stop_dns() { pebble_stop; }
pebble_orders() { grep -c "Added order" "$BATS_TEST_TMPDIR/pebble/pebble.log" || true; }  # created, not POSTed (badNonce retries)

# Pebble v2.10.1 (ARI, profiles, IP identifiers), built once per file in setup_file;
# need_newer_pebble in a test points start_pebble at it, or fails saying why.
build_newer_pebble() {
  PEBBLE_BIN_NEWER="$(pebble_build_newer "$ROOT" "$ROOT/build/pebble-newer")" || PEBBLE_BIN_NEWER=
  export PEBBLE_BIN_NEWER
}
need_newer_pebble() {
  [ -n "${PEBBLE_BIN_NEWER:-}" ] || { echo "# no Pebble v2.10.1 could be built: see above" >&3; return 1; }
  export PEBBLE_BIN="$PEBBLE_BIN_NEWER"
}
