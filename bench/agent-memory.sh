#!/usr/bin/env bash
# Peak memory (RSS) of the agent while it replays a flood from one million
# distinct sources, against the same agent replaying a flood from 512
# sources in the same run. Loopback only.
#
#   bench/agent-memory.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v /usr/bin/time >/dev/null || { echo "bench: GNU time is missing (apt-get install time)" >&2; exit 1; }
work=$(mktemp -d)
cleanup() { [ -n "${sw_pid:-}" ] && kill "$sw_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

go build -o "$work/stormwatch" ./cmd/stormwatch
go run ./bench/gencapture --out "$work/million.pcap" --sources 1000000 --pps 100000 --seconds 10 >/dev/null
go run ./bench/gencapture --out "$work/few.pcap" --sources 512 --pps 100000 --seconds 10 >/dev/null
key=$("$work/stormwatch" workspace create --slug bench --name Bench --data-dir "$work/data" 2>/dev/null)
"$work/stormwatch" serve --data-dir "$work/data" --addr 127.0.0.1:18085 --log-level warn 2>"$work/serve.log" &
sw_pid=$!
for _ in $(seq 1 50); do curl -sf -o /dev/null http://127.0.0.1:18085/readyz && break; sleep 0.1; done
token=$(curl -sf -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d '{"name":"edge"}' \
	http://127.0.0.1:18085/api/v1/nodes | sed -E 's/.*"token":"([^"]+)".*/\1/')

rss() { # capture -> peak RSS in MB
	/usr/bin/time -f '%M' "$work/stormwatch" agent --server http://127.0.0.1:18085 --token "$token" \
		--prefix 203.0.113.0/24 --threshold-pps 50k --pcap "$1" --replay-speed max --spool-dir "$work/spool-$(basename "$1")" \
		--log-level warn 2>&1 >/dev/null | tail -n 1 | awk '{printf "%.1f", $1/1024}'
}
few=$(rss "$work/few.pcap")
million=$(rss "$work/million.pcap")
printf '| replay of 1 000 000 packets | peak RSS |\n|---|---:|\n'
printf '| 512 distinct sources (baseline) | %s MB |\n| 1 000 000 distinct sources | %s MB |\n' "$few" "$million"
awk -v a="$million" -v b="$few" 'BEGIN{printf "\nratio: %.2f\n", a/b}'
