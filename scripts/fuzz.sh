#!/usr/bin/env bash
# Runs every fuzz target in the module for the given time each (default 30s).
# Usage: scripts/fuzz.sh [DURATION]     e.g. scripts/fuzz.sh 10m
# Seed corpora live in each package's testdata/fuzz/<FuzzName>/ and also run
# as ordinary tests under `go test ./...`.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${1:-30s}"
failed=0
for pkg in $(go list ./...); do
  for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
    echo "== $pkg $target ($fuzztime)"
    if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg"; then
      failed=1
    fi
  done
done
exit $failed
