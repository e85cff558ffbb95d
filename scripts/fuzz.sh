#!/usr/bin/env bash
# Runs every fuzz target in the module for the given time each (default 30s).
# Usage: scripts/fuzz.sh [DURATION]     e.g. scripts/fuzz.sh 10m
# Seed corpora live in each package's testdata/fuzz/<FuzzName>/ and also run
# as ordinary tests under `go test ./...`. A failing input is written there
# too; commit it with the fix so that it stays a regression test.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${1:-30s}"
failed=0
start=$SECONDS
# Only packages that declare fuzz targets are built: listing a package's
# tests compiles its test binary, which for the others is wasted time.
dirs=$(grep -rlE --include='*_test.go' '^func Fuzz[A-Z]' . | xargs -n1 dirname | sort -u)
for dir in $dirs; do
  if ! targets=$(go test -list '^Fuzz' "$dir"); then
    echo "== $dir: cannot list its fuzz targets (does it build?)"
    failed=1
    continue
  fi
  for target in $(grep '^Fuzz' <<<"$targets" || true); do
    echo "== $dir $target ($fuzztime)"
    if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$dir"; then
      failed=1
    fi
  done
done
echo "== fuzzing took $((SECONDS - start))s"
exit $failed
