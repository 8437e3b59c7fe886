#!/usr/bin/env bash
# Runs every Go fuzz target of the module a little (default 20000
# executions each): the seed corpora under testdata/fuzz always run with
# `go test`; this looks a little further.
#
# The budget is a count ("20000x"), not a duration: with a duration, Go
# 1.26's fuzz coordinator can report a spurious "context deadline exceeded"
# when the time runs out (go.dev/issue/75804, fixed in Go 1.27).
set -euo pipefail
budget=${1:-20000x}
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "fuzz: $pkg $target"
    if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$budget" "$pkg" >"$log" 2>&1; then
      cat "$log"
      exit 1
    fi
  done
done
