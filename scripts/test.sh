#!/usr/bin/env bash
# Runs the whole test suite, exactly as CI does (.ci/run calls this).
# It starts and installs what the tests need on a fresh machine:
#   - PostgreSQL on 127.0.0.1:5432 with a database "test" (trust auth),
#   - staticcheck, pinned in go.mod's tool block (go tool staticcheck),
#   - Debian's chromium for the browser tests (screenshots go to test-artifacts/),
#   - tcpreplay, softflowd, pmacct and iproute2 for the live capture and
#     flow exporter tests (in network namespaces the tests create).
# Tests whose real parts are missing skip on a laptop and fail under CI=true.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '==> %s\n' "$*"; }

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi
}

ensure_postgres() {
	if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then return 0; fi
	if ! command -v pg_ctlcluster >/dev/null; then
		say "installing PostgreSQL"
		apt_install postgresql || return 1
		local conf
		conf=$(ls -d /etc/postgresql/*/main | head -n 1)
		# Tests connect over loopback without a password, as on CI machines.
		as_root sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$conf/pg_hba.conf"
	fi
	say "starting PostgreSQL"
	as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
	for _ in $(seq 1 30); do
		pg_isready -q -h 127.0.0.1 -p 5432 && break
		sleep 1
	done
}

apt_install() {
	as_root apt-get update -qq >/dev/null && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# Real parts of the tests: a browser, a packet replayer, flow exporters,
# network namespaces, and the tools and servers the detection corpus is
# made with (scripts/corpus.sh).
missing=()
need() { command -v "$1" >/dev/null || missing+=("$2"); }
need chromium chromium
need tcpreplay tcpreplay
need softflowd softflowd
need pmacctd pmacct
need ip iproute2
need hping3 hping3
need named bind9
need snmpd snmpd
need memcached memcached
need nginx nginx-light
need wrk wrk
need ab apache2-utils
need iperf3 iperf3
need tcpdump tcpdump
need bird bird2
need dnsperf dnsperf
need curl curl
need ping iputils-ping
if [ ${#missing[@]} -gt 0 ]; then
	say "installing ${missing[*]}"
	apt_install "${missing[@]}" || say "could not install ${missing[*]}: their tests will skip (and fail under CI=true)"
fi

if ensure_postgres && pg_isready -q -h 127.0.0.1 -p 5432; then
	if ! psql -h 127.0.0.1 -U postgres -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1; then
		psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE test"
	fi
else
	say "PostgreSQL is not available: its tests will skip (and fail under CI=true)"
fi

say "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

say "go vet"
go vet ./...

say "staticcheck"
go tool staticcheck ./...

# The labelled detection corpus: real attacks and real benign traffic
# captured in network namespaces (about four minutes); made again when the
# script changed or a capture is missing. Needs root.
corpus_stale() {
	[ scripts/corpus.sh -nt testdata/corpus/labels.stamp ] && return 0
	grep -v '^#' testdata/corpus/labels.txt | awk '{print $1}' | while read -r f; do
		[ -f "testdata/corpus/$f" ] || { echo missing; break; }
	done | grep -q missing
}
if [ "$(id -u)" = 0 ] && corpus_stale; then
	say "detection corpus (scripts/corpus.sh)"
	scripts/corpus.sh testdata/corpus && touch testdata/corpus/labels.stamp
fi

say "go test -race"
export STORMWATCH_ARTIFACTS="$PWD/test-artifacts"
mkdir -p "$STORMWATCH_ARTIFACTS"
go test -race -count=1 "$@" ./...

# Fuzz targets of every parser of untrusted bytes, each for a budget of
# executions (about 10 s each on a 2-core machine) rather than a duration:
# Go 1.26's fuzz coordinator can fail a run with "context deadline
# exceeded" right at a -fuzztime duration (golang/go#75804, fixed in Go
# 1.27); a count has no deadline to race. STORMWATCH_FUZZTIME (a duration
# such as 1m, or a count such as 500000x) overrides every budget. A crasher
# found fails the run and is saved under the package's testdata/fuzz for
# the regression suite.
for target in "FuzzDecode ./internal/capture 100000x" "FuzzNetFlow ./internal/capture 20000x" \
	"FuzzSFlow ./internal/capture 100000x" "FuzzParse ./internal/rules 200000x" "FuzzAdminAPI ./internal/api 30000x"; do
	set -- $target
	budget="${STORMWATCH_FUZZTIME:-$3}"
	say "fuzz $1 ($budget)"
	go test -run='^$' -fuzz="^$1\$" -fuzztime="$budget" "$2"
done
