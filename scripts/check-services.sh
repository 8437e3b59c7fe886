#!/usr/bin/env bash
# Says, one line per service, when Redis or PostgreSQL is not reachable and
# how to start it, or when a program the tests run (redis-server,
# prometheus, promtool) is not installed. Starts nothing. Exit status 1
# when one is missing.
set -u
redis_addr=${REDIS_ADDR:-127.0.0.1:6379}
pg_addr=${PG_ADDR:-127.0.0.1:5432}
missing=0
reachable() { (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null; }
if ! reachable "$redis_addr"; then
  echo "Redis is not reachable at $redis_addr; start it with: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save \"\" --appendonly no" >&2
  missing=1
fi
if ! reachable "$pg_addr"; then
  echo "PostgreSQL is not reachable at $pg_addr; start it with: pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start" >&2
  missing=1
fi
for prog in redis-server:redis-server prometheus:prometheus promtool:prometheus; do
  if ! command -v "${prog%%:*}" >/dev/null; then
    echo "${prog%%:*} is not installed; install it with: apt-get update && apt-get install -y ${prog##*:}" >&2
    missing=1
  fi
done
exit $missing
