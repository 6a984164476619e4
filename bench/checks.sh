#!/usr/bin/env bash
# The server running 10,000 checks: peak memory against the same server
# with none (same run), and the checks it completed per second. Each
# check is a TCP connect every 30 s to a loopback port (the server's own
# listener), so the figure is the scheduler's and the store's cost, not a
# network's. Loopback only.
#
#   bench/checks.sh [checks] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
secs=${2:-75}
work=$(mktemp -d)
cleanup() { [ -n "${sw_pid:-}" ] && kill "$sw_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
go build -o "$work/stormwatch" ./cmd/stormwatch

serve() { # data dir -> "peak RSS in MB, CPU in % of one core" after $secs seconds
	"$work/stormwatch" serve --data-dir "$1" --addr 127.0.0.1:18086 --log-level warn --allow-private-webhooks 2>"$1/serve.log" &
	sw_pid=$!
	sleep "$secs"
	rss=$(awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$sw_pid/status")
	cpu=$(awk -v s="$secs" -v hz="$(getconf CLK_TCK)" '{printf "%.0f", 100*($14+$15)/hz/s}' "/proc/$sw_pid/stat")
	kill "$sw_pid"; wait "$sw_pid" 2>/dev/null || true; sw_pid=
	echo "$rss $cpu"
}
"$work/stormwatch" workspace create --slug bench --name Bench --data-dir "$work/none" >/dev/null 2>&1
"$work/stormwatch" workspace create --slug bench --name Bench --data-dir "$work/many" >/dev/null 2>&1
go run ./bench/checkseed --data-dir "$work/many" --checks "$n" --target 127.0.0.1:18086
read -r base base_cpu <<<"$(serve "$work/none")"
start=$(date -u +%Y-%m-%dT%H:%M:%SZ)
read -r many many_cpu <<<"$(serve "$work/many")"
runs=$(go run ./bench/checkseed --data-dir "$work/many" --runs-since "$start")
printf '| server | peak RSS | CPU (one core = 100 %%) |\n|---|---:|---:|\n'
printf '| no check (baseline) | %s MB | %s %% |\n| %d TCP checks every 30 s | %s MB | %s %% |\n' "$base" "$base_cpu" "$n" "$many" "$many_cpu"
awk -v a="$many" -v b="$base" -v r="$runs" -v s="$secs" -v n="$n" \
	'BEGIN{printf "\nRSS ratio: %.2f; %d runs recorded in %d s: %.0f checks/s (%d checks every 30 s need %.0f/s)\n", a/b, r, s, r/s, n, n/30}'
