# Installs the Debian 12 packages sidecert needs, skipping what is installed.
# Sourced by run.sh and test.sh: `ensure_packages pkg...`.

ensure_packages() {
  local missing=() pips=() p
  for p in "$@"; do
    if [[ "$p" == pip:* ]]; then pips+=("${p#pip:}"); continue; fi
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then install_debian_packages "${missing[@]}"; fi
  for p in "${pips[@]}"; do ensure_pip_package "$p"; done # after apt, which brings pip
}

install_debian_packages() {
  local missing=("$@")
  echo "installing: ${missing[*]}" >&2
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# A PyPI package for the `python3` on PATH (pyenv's, where there is one), named
# pip:NAME==VERSION in a list above: Debian has no package for it. Debian's own
# python3 refuses pip installs into its tree (PEP 668), so that one gets it per user.
ensure_pip_package() { # NAME==VERSION
  local spec="$1" name="${1%%=*}"
  python3 -m pip show -q "$name" >/dev/null 2>&1 && return 0
  echo "installing: $spec (pip, for $(command -v python3))" >&2
  local user=()
  python3 -c 'import sys, sysconfig, os; sys.exit(not os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")))' &&
    user=(--user --break-system-packages)
  python3 -m pip install -q --disable-pip-version-check "${user[@]}" "$spec"
}

BUILD_PACKAGES=(cmake make g++ pkg-config libpoco-dev libssl-dev libcurl4-openssl-dev libyaml-cpp-dev libspdlog-dev libldns-dev
  ca-certificates openssl)
TEST_PACKAGES=(libgtest-dev bats jq util-linux iproute2 procps curl pebble python3 python3-cryptography
  python3-aiosmtpd prometheus bind9 bind9-dnsutils python3-pip
  nginx haproxy  # views.bats: the shipped gateway configurations, served for real
  pip:lizard==1.24.3) # lizard: function lengths for the unit tier's structure test
# clang 16: libFuzzer, and std::expected with libstdc++ 12 (clang 14 lacks it)
FUZZ_PACKAGES=(clang-16 libclang-rt-16-dev)
E2E_PACKAGES=(docker.io docker-compose iproute2 openssl debootstrap)

build_sidecert() { # BUILD_DIR [TARGET]
  local dir="${1:-build}"
  # line tables (-g1) are what backtraces need; full debug info made the build 20 % slower
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" >/dev/null
  cmake --build "$dir" -j"$(nproc)" ${2:+--target "$2"}
}

# The same with AddressSanitizer and UBSan, every finding fatal.
build_sanitized() { # BUILD_DIR
  cmake -S . -B "$1" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIDECERT_SANITIZE=ON >/dev/null
  cmake --build "$1" -j"$(nproc)"
}

build_tsan() { # BUILD_DIR: the binary only
  cmake -S . -B "$1" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIDECERT_TSAN=ON -DSIDECERT_TESTS=OFF >/dev/null
  cmake --build "$1" -j"$(nproc)" --target sidecert
}

FUZZ_TARGETS=(http01_request acme_reply pem_set dns_answer dns_exchange)
# Each target for FUZZ_SECONDS (60 by default) from the kept corpus in
# tests/fuzz/corpus (only read; new inputs go under BUILD_DIR), two at a time:
# one per core. BUILD_DIR/TARGET.log holds what each printed, BUILD_DIR/TARGET.rc
# its exit status (0: no finding), which test.sh judges.
run_fuzzers() { # BUILD_DIR
  local dir="$1" target running=0
  for target in "${FUZZ_TARGETS[@]}"; do
    mkdir -p "$dir/corpus/$target"
    local dict=()
    [ -f "tests/fuzz/$target.dict" ] && dict=("-dict=tests/fuzz/$target.dict")
    rm -f "$dir/$target.rc"
    (
      rc=0
      "$dir/fuzz_$target" "${dict[@]}" -max_total_time="${FUZZ_SECONDS:-60}" -timeout=10 \
        -artifact_prefix="$dir/$target-" "$dir/corpus/$target" "tests/fuzz/corpus/$target" >"$dir/$target.log" 2>&1 ||
        rc=$?
      echo "$rc" >"$dir/$target.rc"
    ) &
    running=$((running + 1))
    if [ "$running" -ge 2 ]; then wait -n || true; running=$((running - 1)); fi
  done
  wait || true
}
build_fuzzers() { # BUILD_DIR
  CC=clang-16 CXX=clang++-16 cmake -S . -B "$1" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIDECERT_FUZZ=ON \
    -DSIDECERT_TESTS=OFF >/dev/null
  cmake --build "$1" -j"$(nproc)" --target "${FUZZ_TARGETS[@]/#/fuzz_}"
}
