#!/usr/bin/env bats
# Many lineages on one ACME account: new orders are paced to the account-wide
# limit (SIDECERT_ACCOUNT_ORDER_LIMIT), the most urgent first, and a rateLimited
# answer holds every lineage of the account until its Retry-After. What is
# checked is measured from the orders' own times (sidecert's JSON log, the CA's
# log of requests), never from a guess of how long things take.
load lib/helpers
load lib/pebble
load lib/hostile_ca
bats_require_minimum_version 1.5.0

setup() {
  fresh_env
  unset SIDECERT_DOMAINS
  export SIDECERT_LOG_FORMAT=json SIDECERT_LOG_LEVEL=debug   # debug: order_counted
}

teardown() {
  stop_supervisor
  stop_pebble
  stop_dns
  stop_hostile_ca
}

# "name=domain;..." for N lineages PREFIX1..PREFIXN with names PREFIXi.test.
lineages() { # PREFIX N
  local out="" i
  for i in $(seq 1 "$2"); do out+="$1$i=$1$i.test;"; done
  echo "${out%;}"
}

# Lineages with an ACME certificate issued, by name (distinct), from the JSON log.
issued_count() { jq -Rr 'fromjson? | select(.event=="cert_issued" and .source=="acme") | .name' "$LOG" 2>/dev/null | sort -u | wc -l; }
issued_at_least() { [ "$(issued_count)" -ge "$1" ]; }
# `status` shows at least N lineages waiting their turn (order_at).
waiting_shown() { [ "$("$SIDECERT" status --json | jq '[.lineages[] | select(.order_at != null)] | length')" -ge "$1" ]; }

# "EPOCH_SECONDS NAME" of every order_placed, in the order logged.
orders_placed() {
  jq -Rr 'fromjson? | select(.event=="order_placed") | "\(.ts) \(.name)"' "$LOG" |
    while read -r ts name; do echo "$(date -d "$ts" +%s.%3N) $name"; done
}

# Fails, naming them, when more than COUNT new orders were counted within WINDOW
# seconds: the moments sidecert counted each order at the account (order_counted,
# logged just before the request goes out), from the JSON log.
at_most_per_window() { # COUNT WINDOW
  python3 - "$1" "$2" "$LOG" <<'PY'
import datetime, json, sys
count, window, log = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
times = []
for line in open(log):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("event") == "order_counted":
        times.append(datetime.datetime.fromisoformat(e["ts"].replace("Z", "+00:00")).timestamp())
times.sort()
for i in range(len(times) - count):
    if times[i + count] - times[i] < window:
        sys.exit(f"{count + 1} orders counted within {times[i + count] - times[i]:.3f}s, from {times[i]:.3f}")
print(f"{len(times)} orders counted, at most {count} in any {window:g}s")
PY
}

# The same from the CA's side, Pebble's log ("Added order" lines, stamped to the
# second): orders stamped within WINDOW-2 whole seconds of each other arrived less
# than WINDOW apart, so no more than COUNT may be. Prints how many it read.
pebble_at_most_per_window() { # COUNT WINDOW
  python3 - "$1" "$2" "$BATS_TEST_TMPDIR/pebble/pebble.log" <<'PY'
import datetime, re, sys
count, window, log = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
stamp = re.compile(r"(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d).*Added order")
times = sorted(datetime.datetime.strptime(m.group(1), "%Y/%m/%d %H:%M:%S").timestamp()
               for m in map(stamp.search, open(log)) if m)
for i in range(len(times) - count):
    if times[i + count] - times[i] <= window - 2:
        sys.exit(f"Pebble received {count + 1} orders within {window}s, from {times[i]:.0f}")
print(len(times))
PY
}

@test "50 new names with a limit of 10 per 10 s are ordered at that pace, and every one is issued" {
  start_pebble
  export SIDECERT_CERTIFICATES="$(lineages n 50)" SIDECERT_ACCOUNT_ORDER_LIMIT=10/10s
  start_supervisor
  # While they wait, status says when each will be ordered: a time to come.
  wait_until 20 waiting_shown 30
  "$SIDECERT" status --json >"$BATS_TEST_TMPDIR/status.json" || true
  now=$(date +%s)
  jq -r '.lineages[] | select(.order_at != null) | .order_at' "$BATS_TEST_TMPDIR/status.json" |
    while read -r at; do [ "$(date -d "$at" +%s)" -ge $((now - 1)) ] || { echo "order_at $at passed" >&2; exit 1; }; done
  wait_until 100 issued_at_least 50 || { echo "issued: $(issued_count)" >&2; false; }
  orders_placed >"$BATS_TEST_TMPDIR/orders"
  [ "$(wc -l <"$BATS_TEST_TMPDIR/orders")" -eq 50 ]               # one order per name, none again
  [ "$(cut -d' ' -f2 "$BATS_TEST_TMPDIR/orders" | sort -u | wc -l)" -eq 50 ]
  [ "$(pebble_orders)" -eq 50 ]                                     # as the CA counted them
  at_most_per_window 10 10
  [ "$(pebble_at_most_per_window 10 10)" -eq 50 ]
  # Most waited their turn, and said when it would come.
  [ "$(jq -Rr 'fromjson? | select(.event=="order_paced") | .name' "$LOG" | sort -u | wc -l)" -ge 40 ]
  run "$SIDECERT" status --json
  [ "$status" -eq 0 ]
  [ "$(jq -r '[.lineages[] | select(.source=="acme")] | length' <<<"$output")" -eq 50 ]
}

@test "the most urgent first: new names are ordered before renewals that still have time left" {
  export PEBBLE_VALIDITY=3600
  start_pebble
  # Three lineages get their certificate first, unpaced.
  export SIDECERT_CERTIFICATES="$(lineages old 3)"
  start_supervisor
  wait_until 30 issued_at_least 3
  stop_supervisor
  LIVE="$VOL/live/old1"
  margin="$(margin_under_lifetime)"   # due at once, with most of an hour left
  # Then six new names join them, at 3 orders per 10 s: the renewals are listed
  # first and their passes start first, yet the new names take every turn first.
  unset SIDECERT_CERTIFICATES
  {
    echo "certificates:"
    for i in 1 2 3; do printf '  - name: old%s\n    domains: [old%s.test]\n    renew_before: %s\n' "$i" "$i" "$margin"; done
    for i in 1 2 3 4 5 6; do printf '  - name: new%s\n    domains: [new%s.test]\n' "$i" "$i"; done
  } >"$BATS_TEST_TMPDIR/sidecert.yml"
  export SIDECERT_CONFIG="$BATS_TEST_TMPDIR/sidecert.yml" SIDECERT_ACCOUNT_ORDER_LIMIT=3/10s
  mv "$LOG" "$BATS_TEST_TMPDIR/first.log"
  start_supervisor
  wait_until 60 issued_at_least 9 || { echo "issued: $(issued_count)" >&2; false; }
  orders_placed >"$BATS_TEST_TMPDIR/orders"
  cat "$BATS_TEST_TMPDIR/orders"
  [ "$(wc -l <"$BATS_TEST_TMPDIR/orders")" -eq 9 ]
  # Every new name's order comes before every renewal's.
  last_new=$(grep -n ' new' "$BATS_TEST_TMPDIR/orders" | tail -1 | cut -d: -f1)
  first_old=$(grep -n ' old' "$BATS_TEST_TMPDIR/orders" | head -1 | cut -d: -f1)
  [ "$last_new" -lt "$first_old" ]
  at_most_per_window 3 10
}

@test "a rateLimited answer holds every lineage of the account until its Retry-After" {
  retry_after=12   # over the client's inline wait (10 s), so the account's hold is what waits
  start_hostile_ca rate-limited --retry-after "$retry_after" --times-log "$BATS_TEST_TMPDIR/hostile/times.log"
  # One order every 2 s: without the hold, the others would order long before 12 s.
  export SIDECERT_CERTIFICATES="$(lineages r 4)" SIDECERT_ACCOUNT_ORDER_LIMIT=1/2s
  start_supervisor
  # The refused lineage waits out its own backoff (a minute) too; the other three
  # are issued once the hold ends.
  wait_until 45 issued_at_least 3 || { echo "issued: $(issued_count)" >&2; false; }
  grep ' POST /order$' "$BATS_TEST_TMPDIR/hostile/times.log" >"$BATS_TEST_TMPDIR/new_orders"
  refused_at=$(head -1 "$BATS_TEST_TMPDIR/new_orders" | cut -d' ' -f1)
  [ "$(wc -l <"$BATS_TEST_TMPDIR/new_orders")" -ge 4 ]   # the refused one, then three
  python3 -c '
import sys
refused, wait = float(sys.argv[1]), float(sys.argv[2])
later = [float(l.split()[0]) for l in open(sys.argv[3]).read().splitlines()[1:]]
early = ", ".join("%.3fs" % (t - refused) for t in later if t < refused + wait)
if early:
    sys.exit(f"orders {early} after the refusal, inside its Retry-After of {wait:g}s")
print(f"{len(later)} orders after the refusal, the first {min(later) - refused:.3f}s after it")
' "$refused_at" "$retry_after" "$BATS_TEST_TMPDIR/new_orders"
  # Said once, with the time, for the whole account.
  [ "$(jq -Rr 'fromjson? | select(.event=="account_rate_limited") | .hold_until' "$LOG" | wc -l)" -eq 1 ]
  [ "$(jq -Rr 'fromjson? | select(.event=="account_rate_limited") | .retry_after' "$LOG")" = 12s ]
}
