#!/usr/bin/env bash
# Runs every Incubator test: unit, integration, component (bUnit) and browser (Playwright + Debian Chromium).
# Installs what it needs when it can (Debian's chromium, postgresql and redis-server, as root); otherwise says exactly
# what to install.
set -euo pipefail
cd "$(dirname "$0")"

# Debian packages the tests need: Chromium (browser tests), PostgreSQL and Redis (the tests start private servers on
# free ports in temporary folders; nothing is started as a service).
missing=()
chromium_path="${INCUBATOR_CHROMIUM:-/usr/bin/chromium}"
[ -x "$chromium_path" ] || missing+=(chromium)
if [ -z "${INCUBATOR_PG_BIN:-}" ] && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then missing+=(postgresql); fi
if [ -z "${INCUBATOR_REDIS_SERVER:-}" ] && ! command -v redis-server >/dev/null 2>&1; then missing+=(redis-server); fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's ${missing[*]} for the tests..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "The tests need Debian's packages: ${missing[*]}." >&2
    echo "Install them:  sudo apt-get install -y ${missing[*]}" >&2
    echo "(or point INCUBATOR_CHROMIUM, INCUBATOR_PG_BIN, INCUBATOR_REDIS_SERVER at your own binaries), then run this again." >&2
    exit 1
  fi
fi
if ! command -v dotnet >/dev/null 2>&1; then
  echo "The .NET 10 SDK is required: https://dotnet.microsoft.com/download" >&2
  exit 1
fi

results="$(pwd)/TestResults"
rm -rf "$results"
status=0
dotnet test Incubator.sln --logger "trx;LogFileName=results.trx" --logger "console;verbosity=normal" \
  --results-directory "$results" "$@" || status=$?

# One plain summary line from the TRX counters, whatever the runner printed above.
trx=$(find "$results" -name '*.trx' -print -quit 2>/dev/null || true)
if [ -n "$trx" ]; then
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  get() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  # The names and messages of failed tests last, so that the end of a long log says what broke.
  if [ "$(get failed)" != "0" ]; then
    echo "Failed tests:"
    awk '
      function plain(s) { gsub(/<\/?Message>/, "", s); gsub(/&quot;/, "\"", s); gsub(/&apos;/, "\047", s);
        gsub(/&lt;/, "<", s); gsub(/&gt;/, ">", s); gsub(/&amp;/, "\\&", s); sub(/^[ \t]+/, "", s); return s }
      /<UnitTestResult / && /outcome="Failed"/ {
        name = $0; sub(/.*testName="/, "", name); sub(/".*/, "", name); print "  FAILED " plain(name); inside = 1; n = 0 }
      inside && /<Message>/ { message = 1 }
      inside && message && n < 12 { print "    " plain($0); n++ }
      inside && /<\/Message>/ { message = 0 }
      inside && /<\/UnitTestResult>/ { inside = 0; message = 0 }
    ' "$trx"
  fi
  echo "Tests: $(get passed) passed, $(get failed) failed, $(( $(get total) - $(get executed) )) skipped"
fi
exit $status
