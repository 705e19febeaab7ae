# Runs Bats files on two workers at once, each in a network namespace and a
# /dev/shm of its own, since the suites listen on fixed loopback ports (Pebble,
# the responder, the receivers) and keep their state folder in /dev/shm. Files
# come from one queue in the order given (longest first keeps the two workers
# even); each file's TAP output is printed whole when it ends, with its time.
#
#   bats_parallel OUT_DIR FILE...    non-zero when a file failed; OUT_DIR/all.tap holds every line

bats_parallel() {
  local dir="$1"; shift
  rm -rf "$dir" && mkdir -p "$dir"
  printf '%s\n' "$@" >"$dir/queue"
  : >"$dir/taken"
  local worker pids=() rc=0 pid
  for worker in 1 2; do
    _bats_worker "$dir" "$worker" &
    pids+=("$!")
  done
  for pid in "${pids[@]}"; do wait "$pid" || rc=1; done
  cat "$dir"/*.tap >"$dir/all.tap" 2>/dev/null || true
  return "$rc"
}

_bats_worker() { # DIR N
  local dir="$1" ns="sidecert-bats-$2-$$" rc=0 file out start
  ip netns add "$ns" && ip netns exec "$ns" ip link set lo up || { echo "bats_parallel: no network namespace" >&2; return 1; }
  while file=$(_bats_next "$dir"); do
    out="$dir/$(basename "$file").tap" start=$SECONDS
    unshare -m sh -c 'mount -t tmpfs tmpfs /dev/shm && exec ip netns exec "$0" bats --formatter tap "$1"' \
      "$ns" "$file" >"$out" 2>&1 || rc=1
    (flock 9; cat "$out"; echo "# $(basename "$file"): $((SECONDS - start)) s") 9>"$dir/print.lock"
  done
  ip netns delete "$ns"
  return "$rc"
}

_bats_next() { # DIR: the next file of the queue, or a failure when none is left
  (
    flock 9
    local next
    next=$(sed -n "$(($(wc -l <"$1/taken") + 1))p" "$1/queue")
    [ -n "$next" ] || exit 1
    echo "$next" >>"$1/taken"
    echo "$next"
  ) 9>"$1/queue.lock"
}
