#!/bin/sh
# A swarm node (Docker-in-Docker): a fresh tmpfs over /sys/fs/cgroup and on it the
# cgroup v1 hierarchies the host has, writable (the ones Docker gave this
# container are read-only), then dockerd in the foreground.
hierarchies=$(ls /sys/fs/cgroup)
mount -t tmpfs -o mode=755 cgroup-root /sys/fs/cgroup
for h in $hierarchies; do
  case "$h" in
    systemd) opts="none,name=systemd" ;;
    unified) continue ;;
    *) opts="$h" ;;
  esac
  mkdir -p "/sys/fs/cgroup/$h"
  mount -t cgroup -o "$opts" "cgroup-$h" "/sys/fs/cgroup/$h" || echo "cgroup $h: not mounted" >&2
done
exec dockerd >/var/log/dockerd.log 2>&1
