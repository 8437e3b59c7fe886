#!/usr/bin/env bash
# Smoke run of cmd/loadtest for CI, about 20 s: three short runs at 100
# users on 3 replicas, each with -check, which exits non-zero when a
# criterion is missed (docs/loadtest.md lists them):
#
#   outage, strict   every request answered (>= 99.9 %), fallbacks under 1 s,
#                    the breaker opens on at most -threshold (5) recorded
#                    failures, recovers within one open timeout, one probe
#                    at a time
#   flaky, strict    50 % upstream failures: >= 99.9 % answered, fallbacks
#                    under 1 s
#   redis-down       Redis killed and restarted mid-run: no request fails
#                    for it (the tool starts its own redis-server)
#
# Needs Go, redis-server on PATH, and Redis at 127.0.0.1:6379 (REDIS_ADDR
# overrides) for the strict runs. The JSON reports are left in
# $LOADTEST_OUT when it is set.
#
#   bash cmd/loadtest/smoke.sh
set -euo pipefail

cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=${LOADTEST_OUT:-$work}
mkdir -p "$out"
redis=${REDIS_ADDR:-127.0.0.1:6379}

go build -o "$work/loadtest" ./cmd/loadtest

common=(-breaker strict -replicas 3 -vus 100 -open-timeout 2s -redis "$redis")
# The upstream's faults get a roomy store timeout, for a busy CI runner (a
# store call that times out is decided by one replica alone); the probe
# lease must outlast an attempt and two store calls. Redis' own fault keeps
# the default: there the store timeout is what the run is about.
roomy=(-store-timeout 500ms -probe-lease 1500ms)
"$work/loadtest" -scenario outage "${common[@]}" "${roomy[@]}" -duration 6s -fault-at 1s -fault-for 2.5s -check -json "$out/outage.json"
echo
"$work/loadtest" -scenario flaky "${common[@]}" "${roomy[@]}" -error-rate 0.5 -duration 5s -fault-at 1s -fault-for 1.5s -check -json "$out/flaky.json"
echo
"$work/loadtest" -scenario redis-down "${common[@]}" -duration 5s -redis-down-at 1s -redis-down-for 2s -check -json "$out/redis-down.json"
echo
echo "loadtest smoke: every criterion met"
