#!/usr/bin/env bash
# Installs what is missing on Debian 12, builds, and runs every test tier:
# GoogleTest units through ctest, the Bats suites against the real binary, then
# the end-to-end suites with Docker (images built here, Pebble, the gateways).
# Exits non-zero on any failure. `./test.sh unit`, `./test.sh bats` or
# `./test.sh e2e` runs one tier.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/deps.sh
source scripts/docker.sh

tier="${1:-all}"
case "$tier" in all | unit | bats | e2e) ;; *) echo "usage: ./test.sh [unit|bats|e2e]" >&2; exit 2 ;; esac
runs() { [ "$tier" = all ] || [ "$tier" = "$1" ]; }

ensure_packages "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
build_sidecert build

unit_passed=0 unit_failed=0 bats_passed=0 bats_failed=0 e2e_passed=0 e2e_failed=0 rc=0

if runs unit; then
  (cd build && ctest --output-on-failure -j"$(nproc)") | tee build/ctest.out || rc=1
  unit_total=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\1 \2/p' build/ctest.out)
  unit_failed=${unit_total%% *}
  unit_passed=$(( ${unit_total##* } - unit_failed ))
fi

if runs bats; then
  bats --formatter tap tests/bats | tee build/bats.out || rc=1
  bats_passed=$(grep -c '^ok ' build/bats.out || true)
  bats_failed=$(grep -c '^not ok ' build/bats.out || true)
fi

if runs e2e; then
  ensure_packages "${E2E_PACKAGES[@]}"
  if ensure_docker && ensure_base_image && build_images; then
    bats --formatter tap tests/e2e | tee build/e2e.out || rc=1
    e2e_passed=$(grep -c '^ok ' build/e2e.out || true)
    e2e_failed=$(grep -c '^not ok ' build/e2e.out || true)
  else
    echo "e2e: no Docker engine or images; see above" >&2
    e2e_failed=1 rc=1
  fi
fi

echo "unit: $unit_passed passed, $unit_failed failed; bats: $bats_passed passed, $bats_failed failed;" \
  "e2e: $e2e_passed passed, $e2e_failed failed"
echo "tests: $((unit_passed + bats_passed + e2e_passed)) passed, $((unit_failed + bats_failed + e2e_failed)) failed"
exit "$rc"
