#!/usr/bin/env bash
# linkarc's reliability and security suite, in one command.
#
#   scripts/reliability.sh          the fault, misbehaviour and SSRF tests
#                                   (as `go test ./...` runs them; about a minute)
#   scripts/reliability.sh --long   the same, then the long versions: a SIGKILL
#                                   loop over 20 seeds, the archive load benchmark
#                                   (500 vs 5,000 articles on 50 hosts), the viewer
#                                   load benchmark (30 s per phase) and fuzzing
#                                   (1 minute per target)
#
# Environment (each has a default; --long sets the first two):
#   LINKARC_KILL_SEEDS             comma-separated seeds of the kill delays ("1")
#   LINKARC_KILLS                  SIGKILLs per seed before the final run (3)
#   LINKARC_ARCHIVE_LOAD_ARTICLES  larger batch of the archive load benchmark (5000)
#   LINKARC_LOAD_DURATION          per phase of the viewer load benchmark (30s here)
#   LINKARC_FUZZTIME               per fuzz target (1m)
#
# Needs what `go test ./...` needs: Go, and MinIO (built on first use, or
# LINKARC_MINIO_BIN). Everything listens on 127.0.0.0/8 only.
set -euo pipefail
cd "$(dirname "$0")/.."

long=0
case "${1:-}" in
  "") ;;
  --long) long=1 ;;
  *) echo "usage: scripts/reliability.sh [--long]" >&2; exit 2 ;;
esac

step() { printf '\n== %s (%s)\n' "$*" "$(date -u +%H:%M:%S)"; }

step "faults end to end: MinIO outage, signals, SIGKILL loop, misbehaving publishers and Google, SSRF"
go test -count=1 -run 'TestArchive(StoreOutage|Signals|KillLoop|KilledAndResumed|PublisherMisbehaviour|GoogleRefusesLaterChunk|RateLimitedResumes|RefusesInternalTargets)$|TestResolveRefusesInternalTargets$' \
  ./cmd/linkarc

step "faults in the pipeline: store failures, crash windows, redirects to private addresses"
go test -count=1 -run 'TestRunStopsWhenStoreFails|TestRecaptureCrashKeepsMetaConsistent|TestRunRedirectToPrivateAddress' ./archive
go test -count=1 -run 'TestFetch|TestOneGatePerHost' ./archive/fetch
go test -count=1 ./internal/netguard ./internal/redirect ./storage ./storage/record

if [ "$long" = 1 ]; then
  step "SIGKILL loop, long: ${LINKARC_KILL_SEEDS:-20 seeds} x ${LINKARC_KILLS:-5} kills"
  LINKARC_KILL_SEEDS="${LINKARC_KILL_SEEDS:-$(seq -s, 1 20)}" LINKARC_KILLS="${LINKARC_KILLS:-5}" \
    go test -count=1 -v -timeout 60m -run 'TestArchiveKillLoop$' ./cmd/linkarc

  step "archive load: peak RSS and goroutines at 500 and ${LINKARC_ARCHIVE_LOAD_ARTICLES:-5000} articles on 50 hosts"
  go test -run '^$' -bench 'BenchmarkArchiveLoad$' -benchtime 1x -timeout 120m ./cmd/linkarc

  step "viewer load: 100 connections, ${LINKARC_LOAD_DURATION:-30s} per phase, 10,000 articles"
  LINKARC_LOAD_DURATION="${LINKARC_LOAD_DURATION:-30s}" \
    go test -run '^$' -bench 'BenchmarkViewerLoad$' -benchtime 1x -timeout 60m ./viewer

  step "fuzzing: ${LINKARC_FUZZTIME:-1m} per target"
  scripts/fuzz.sh "${LINKARC_FUZZTIME:-1m}"
fi

step "done"
