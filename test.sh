#!/usr/bin/env bash
# Installs what is missing on Debian 12, builds, and runs every test tier:
# GoogleTest units through ctest, then the Bats suites against the real binary.
# Exits non-zero on any failure. `./test.sh unit` or `./test.sh bats` runs one tier.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/deps.sh

ensure_packages "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
build_sidecert build

tier="${1:-all}"
unit_passed=0 unit_failed=0 bats_passed=0 bats_failed=0 rc=0

if [ "$tier" = all ] || [ "$tier" = unit ]; then
  (cd build && ctest --output-on-failure -j"$(nproc)") | tee build/ctest.out || rc=1
  unit_total=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\1 \2/p' build/ctest.out)
  unit_failed=${unit_total%% *}
  unit_passed=$(( ${unit_total##* } - unit_failed ))
fi

if [ "$tier" = all ] || [ "$tier" = bats ]; then
  bats --formatter tap tests/bats | tee build/bats.out || rc=1
  bats_passed=$(grep -c '^ok ' build/bats.out || true)
  bats_failed=$(grep -c '^not ok ' build/bats.out || true)
fi

echo "unit: $unit_passed passed, $unit_failed failed; bats: $bats_passed passed, $bats_failed failed"
echo "tests: $((unit_passed + bats_passed)) passed, $((unit_failed + bats_failed)) failed"
exit "$rc"
