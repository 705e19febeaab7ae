# What each tier's tests did, read from their own reports. A skipped test is neither
# a pass nor a failure: it is counted apart and listed with its reason, so that a run
# where tests could not run does not read as a run where they passed. Sourced by test.sh.
#
#   tap_counts FILE...          "passed failed skipped" of Bats TAP output
#   tap_skips FILE...           each skipped test, "FILE: NAME: REASON", one a line
#   ctest_counts CTEST_OUTPUT   "passed failed skipped" of a ctest run's output
#   ctest_skips JUNIT           each skipped test, "NAME: REASON", from ctest --output-junit

# Bats writes a skipped test as `ok N NAME # skip REASON` (or `# skip` alone).
_TAP_SKIP='^ok [0-9]+ .* # skip( .*)?$'

tap_counts() {
  local ok skipped failed
  ok=$(cat "$@" 2>/dev/null | grep -cE '^ok ' || true)
  skipped=$(cat "$@" 2>/dev/null | grep -cE "$_TAP_SKIP" || true)
  failed=$(cat "$@" 2>/dev/null | grep -cE '^not ok ' || true)
  echo "$((ok - skipped)) $failed $skipped"
}

tap_skips() {
  local f
  for f in "$@"; do
    grep -E "$_TAP_SKIP" "$f" 2>/dev/null |
      sed -E 's/^ok [0-9]+ (.*) # skip ?(.*)$/\1: \2/; s/: $/: (no reason given)/' |
      sed "s|^|$(basename "$f" .tap): |" || true
  done
}

# ctest's summary counts a skipped test as passed ("100% tests passed, 0 tests failed
# out of 3" with one skipped); the skipped ones are listed after it under "The following
# tests did not run", as "(Skipped)", or "(Disabled)", which the total leaves out.
ctest_counts() {
  local summary failed total skipped disabled
  summary=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\1 \2/p' "$1" 2>/dev/null)
  [ -n "$summary" ] || { echo "0 1 0"; return 0; }   # ctest did not get as far as a summary
  read -r failed total <<<"$summary"
  skipped=$(grep -cE '^\s+[0-9]+ - .* \(Skipped\)$' "$1" || true)
  disabled=$(grep -cE '^\s+[0-9]+ - .* \(Disabled\)$' "$1" || true)
  echo "$((total - failed - skipped)) $failed $((skipped + disabled))"
}

# The reason is what GoogleTest printed between "file:line: Skipped" and "[  SKIPPED ]".
ctest_skips() {
  [ -f "$1" ] || return 0
  python3 - "$1" <<'PY'
import re, sys
import xml.etree.ElementTree as ET
for case in ET.parse(sys.argv[1]).getroot().iter("testcase"):
    status = case.get("status")
    if status == "disabled":
        print(f"{case.get('name')}: disabled")
    elif case.find("skipped") is not None:
        out = case.findtext("system-out") or ""
        m = re.search(r":\d+: Skipped\n(.*?)\[  SKIPPED \]", out, re.S)
        reason = " ".join(m.group(1).split()) if m and m.group(1).strip() else "(no reason given)"
        print(f"{case.get('name')}: {reason}")
PY
}
