#!/usr/bin/env bash
# The storm load run: the public page and summary.json under load while 100
# agents report attacks and an incident fans out to 10,000 webhook
# subscribers, with 1 and with 3 replicas on the local PostgreSQL. Each row
# has its own baseline: the same readers before the storm, in the same run.
#
#   bench/storm.sh
#   RATE=0 bench/storm.sh     # readers as fast as they can instead of 1000 requests/s
#   STORMWATCH_TEST_DATABASE_URL=postgres://… READERS=64 bench/storm.sh
#
# Loopback only; needs PostgreSQL (scripts/test.sh starts it).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/stormwatch" ./cmd/stormwatch
go build -o "$work/seed" ./bench/seed
go build -o "$work/storm" ./bench/storm
DB=${STORMWATCH_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
echo "| replicas | quiet req/s | quiet p50 | quiet p99 | quiet errors | storm req/s | storm p50 | storm p99 | storm errors | agent batches / errors | subscribers | fan-out delivered |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for n in 1 3; do
	"$work/storm" --stormwatch "$work/stormwatch" --seed "$work/seed" --database-url "$DB" --replicas "$n" --readers "${READERS:-32}" --rate "${RATE:-1000}"
done
