#!/usr/bin/env bash
# Load test of the public status page against nginx as the ceiling.
#
# Seeds a realistic page (bench/seed), serves it with `stormwatch serve`,
# copies the exact bytes of the HTML page and summary.json into a directory
# served by nginx, and runs wrk against both, in turn, in the same run:
# the HTML page, summary.json and a 304 (If-None-Match). Prints a markdown
# table of requests/s and p99 latency with stormwatch/nginx ratios.
#
#   bench/public-page.sh            # 64 connections, 10 s per run
#   CONNS=128 DURATION=20s bench/public-page.sh
#
# Needs wrk and nginx (apt-get install wrk nginx-light); loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
CONNS=${CONNS:-64}
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
SW_PORT=18081
NGINX_PORT=18090
GO_PORT=18092
FAST_PORT=18093

for tool in wrk nginx curl; do
	command -v $tool >/dev/null || { echo "bench: $tool is missing (apt-get install wrk nginx-light curl)" >&2; exit 1; }
done

work=$(mktemp -d)
chmod 755 "$work" # nginx workers run as another user
cleanup() {
	[ -n "${sw_pid:-}" ] && kill "$sw_pid" 2>/dev/null || true
	[ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
	[ -n "${go_pid:-}" ] && kill "$go_pid" 2>/dev/null || true
	[ -n "${fast_pid:-}" ] && kill "$fast_pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/stormwatch" ./cmd/stormwatch
go build -o "$work/gobaseline" ./bench/gobaseline
go build -o "$work/fastbaseline" ./bench/fastbaseline
go run ./bench/seed --data-dir "$work/data" >/dev/null
"$work/stormwatch" serve --data-dir "$work/data" --addr 127.0.0.1:$SW_PORT --log-level warn 2>"$work/serve.log" &
sw_pid=$!
for _ in $(seq 1 50); do curl -sf -o /dev/null http://127.0.0.1:$SW_PORT/readyz && break; sleep 0.1; done

mkdir -p "$work/www"
chmod 755 "$work/www"
curl -sf http://127.0.0.1:$SW_PORT/s/acme/ -o "$work/www/index.html"
curl -sf http://127.0.0.1:$SW_PORT/s/acme/api/v2/summary.json -o "$work/www/summary.json"
# The same precompressed bytes browsers get, for nginx's gzip_static.
curl -sf -H 'Accept-Encoding: gzip' http://127.0.0.1:$SW_PORT/s/acme/ -o "$work/www/index.html.gz"
curl -sf -H 'Accept-Encoding: gzip' http://127.0.0.1:$SW_PORT/s/acme/api/v2/summary.json -o "$work/www/summary.json.gz"
touch -r "$work/www/index.html" "$work/www/index.html.gz"
touch -r "$work/www/summary.json" "$work/www/summary.json.gz"
cat >"$work/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	keepalive_requests 100000;
	open_file_cache max=100;
	gzip_static on;
	types { text/html html; application/json json; }
	server {
		listen 127.0.0.1:$NGINX_PORT;
		root $work/www;
	}
}
CONF
nginx -c "$work/nginx.conf"
for _ in $(seq 1 50); do curl -sf -o /dev/null http://127.0.0.1:$NGINX_PORT/index.html && break; sleep 0.1; done

"$work/gobaseline" --dir "$work/www" --addr 127.0.0.1:$GO_PORT 2>/dev/null &
go_pid=$!
for _ in $(seq 1 50); do curl -sf -o /dev/null http://127.0.0.1:$GO_PORT/index.html && break; sleep 0.1; done
"$work/fastbaseline" --dir "$work/www" --addr 127.0.0.1:$FAST_PORT 2>/dev/null &
fast_pid=$!
for _ in $(seq 1 50); do curl -sf -o /dev/null http://127.0.0.1:$FAST_PORT/index.html && break; sleep 0.1; done

etag() { curl -sfI "$1" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}'; }

# run URL [HEADER] -> "requests/s p99_ms"
run() {
	local out
	if [ -n "${2:-}" ]; then
		out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -H "$2" "$1")
	else
		out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$1")
	fi
	local rps p99 non2xx
	rps=$(awk '/^Requests\/sec/{print $2}' <<<"$out")
	p99=$(awk '$1=="99%"{v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' <<<"$out")
	non2xx=$(awk '/Non-2xx or 3xx/{print $5}' <<<"$out")
	echo "$rps $p99 ${non2xx:-0}"
}

printf '| endpoint | stormwatch req/s | nginx req/s | ratio | stormwatch p99 | nginx p99 | p99 ratio | errors | bare net/http req/s (ratio) | fasthttp req/s (ratio), p99 |\n'
printf '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n'
# bench NAME SW_URL NGINX_PATH [SW_HEADER] [NGINX_HEADER] [GO_HEADER]
bench() {
	local name=$1 sw_url=$2 path=$3 sw_hdr=${4:-} ng_hdr=${5:-} go_hdr=${6:-${5:-}}
	read -r sw_rps sw_p99 sw_err < <(run "$sw_url" "$sw_hdr")
	read -r ng_rps ng_p99 ng_err < <(run "http://127.0.0.1:$NGINX_PORT$path" "$ng_hdr")
	read -r go_rps go_p99 go_err < <(run "http://127.0.0.1:$GO_PORT$path" "$go_hdr")
	read -r fa_rps fa_p99 fa_err < <(run "http://127.0.0.1:$FAST_PORT$path" "$go_hdr")
	awk -v n="$name" -v a="$sw_rps" -v b="$ng_rps" -v c="$sw_p99" -v d="$ng_p99" -v e="$sw_err" -v g="$go_rps" -v f="$fa_rps" -v fp="$fa_p99" \
		'BEGIN{printf "| %s | %.0f | %.0f | %.2f | %.2f ms | %.2f ms | %.2f | %s | %.0f (%.2f) | %.0f (%.2f), %.2f ms |\n", n, a, b, a/b, c, d, c/d, e, g, g/b, f, f/b, fp}'
}
bench "HTML page (identity)" "http://127.0.0.1:$SW_PORT/s/acme/" /index.html
bench "HTML page (gzip)" "http://127.0.0.1:$SW_PORT/s/acme/" /index.html "Accept-Encoding: gzip" "Accept-Encoding: gzip"
bench "summary.json (identity)" "http://127.0.0.1:$SW_PORT/s/acme/api/v2/summary.json" /summary.json
bench "summary.json (gzip)" "http://127.0.0.1:$SW_PORT/s/acme/api/v2/summary.json" /summary.json "Accept-Encoding: gzip" "Accept-Encoding: gzip"
# The page is rendered anew at least once a minute (today's uptime moves
# during the seeded incident), so take the ETag just before the run.
bench "304 Not Modified" "http://127.0.0.1:$SW_PORT/s/acme/" /index.html \
	"If-None-Match: $(etag http://127.0.0.1:$SW_PORT/s/acme/)" "If-None-Match: $(etag http://127.0.0.1:$NGINX_PORT/index.html)" 'If-None-Match: "x"'
echo
echo "stormwatch peak RSS over the whole run: $(awk '/VmHWM/{printf "%.1f MB", $2/1024}' /proc/$sw_pid/status) (GOMEMLIMIT: ${GOMEMLIMIT:-the --memory-limit default})"
echo "page: $(wc -c <"$work/www/index.html") bytes HTML ($(wc -c <"$work/www/index.html.gz") gzipped), $(wc -c <"$work/www/summary.json") bytes summary.json; wrk -t$THREADS -c$CONNS -d$DURATION; $(nproc) cores"
