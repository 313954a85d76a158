#!/usr/bin/env bash
# Runs every Incubator test: unit, integration, component (bUnit) and browser (Playwright + Debian Chromium).
# Installs what it needs when it can (Debian's chromium, as root); otherwise says exactly what to install.
set -euo pipefail
cd "$(dirname "$0")"

chromium_path="${INCUBATOR_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium_path" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's chromium for the browser tests..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "The browser tests need Chromium at $chromium_path." >&2
    echo "Install Debian's package:  sudo apt-get install -y chromium" >&2
    echo "or point INCUBATOR_CHROMIUM at a Chromium binary, then run this again." >&2
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
