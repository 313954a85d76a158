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
  echo "Tests: $(get passed) passed, $(get failed) failed, $(( $(get total) - $(get executed) )) skipped"
fi
exit $status
