#!/usr/bin/env bash
# Makes the labelled detection corpus with real tools, on this machine
# only: two network namespaces joined by a veth pair, an attacker side
# (hping3, and real servers that answer spoofed requests: bind9, snmpd,
# memcached, nginx) and a victim side (nginx, iperf3, bind9)
# captured with tcpdump. Every capture is labelled in labels.txt with the
# family the detector must name, or "none" for benign traffic.
#
#   sudo scripts/corpus.sh [DIR]          # default testdata/corpus
#   CORPUS_ONLY=syn-spoofed scripts/corpus.sh   # one capture
#
# Needs root and: iproute2 hping3 bind9 snmpd memcached nginx-light
# wrk apache2-utils iperf3 tcpdump dnsperf curl iputils-ping (scripts/test.sh
# installs them).
# Nothing leaves the machine: every address is inside the namespaces.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-testdata/corpus}")
mkdir -p "$out"
only="${CORPUS_ONLY:-}"

ATK=swc-atk VIC=swc-vic
A=10.99.0.1 V=10.99.0.2
DNS=10.99.0.53 WEB=10.99.0.80 SNMP=10.99.0.161 MEMC=10.99.0.211
work=$(mktemp -d /tmp/swcorpus.XXXXXX)
pids=()

cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	ip netns del "$ATK" 2>/dev/null || true
	ip netns del "$VIC" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
cleanup_ns() { ip netns del "$ATK" 2>/dev/null || true; ip netns del "$VIC" 2>/dev/null || true; }
cleanup_ns

atk() { ip netns exec "$ATK" "$@"; }
vic() { ip netns exec "$VIC" "$@"; }
say() { printf '==> %s\n' "$*" >&2; }

# The network: attacker 10.99.0.1 (and its servers' addresses) <-> victim
# 10.99.0.2; a carpet-bombing range 10.99.2.0/24 routed to the victim.
ip netns add "$ATK"
ip netns add "$VIC"
ip link add vatk netns "$ATK" type veth peer name vvic netns "$VIC"
atk ip link set lo up
vic ip link set lo up
atk ip addr add "$A/24" dev vatk
for x in $DNS $WEB $SNMP $MEMC; do atk ip addr add "$x/32" dev vatk; done
vic ip addr add "$V/24" dev vvic
atk ip link set vatk up
vic ip link set vvic up
vic ip route add default via "$A"
atk ip route add 10.99.2.0/24 via "$V"
# Spoofed sources everywhere: no reverse-path filtering, no SYN cookies
# hiding the handshake state, no ICMP rate limit shaping the replies.
for ns in "$ATK" "$VIC"; do
	ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.ipv4.icmp_ratelimit=0 net.ipv4.tcp_max_syn_backlog=65536
done
sleep 1

go run ./scripts/corpus/payload "$work"

# --- servers -------------------------------------------------------------
mkdir -p "$work/bind-atk" "$work/bind-vic" "$work/www"
txt() { for i in $(seq 1 9); do printf '"%s%s" ' "$1" "$(printf '%0190d' "$i")"; done; }
cat >"$work/bind-atk/zone" <<EOF
\$TTL 300
@ IN SOA ns.corpus.test. hostmaster.corpus.test. 1 3600 600 86400 300
@ IN NS ns.corpus.test.
ns IN A $DNS
big IN TXT $(txt alpha)
big IN TXT $(txt omega)
www IN A $WEB
EOF
named_conf() { # dir address
	cat >"$1/named.conf" <<EOF
options { directory "$1"; listen-on { $2; }; listen-on-v6 { none; }; recursion no; pid-file "$1/pid";
  max-udp-size 4096; edns-udp-size 4096; dnssec-validation no; rate-limit { responses-per-second 0; }; };
zone "corpus.test" { type primary; file "$1/zone"; };
EOF
}
cp "$work/bind-atk/zone" "$work/bind-vic/zone"
named_conf "$work/bind-atk" "$DNS"
named_conf "$work/bind-vic" "$V"
ip netns exec "$ATK" named -g -u root -c "$work/bind-atk/named.conf" >"$work/named-atk.log" 2>&1 & pids+=($!)
ip netns exec "$VIC" named -g -u root -c "$work/bind-vic/named.conf" >"$work/named-vic.log" 2>&1 & pids+=($!)

cat >"$work/snmpd.conf" <<EOF
agentAddress udp:$SNMP:161
rocommunity public default
EOF
ip netns exec "$ATK" snmpd -f -Lo -C -c "$work/snmpd.conf" -p "$work/snmpd.pid" >"$work/snmpd.log" 2>&1 & pids+=($!)
ip netns exec "$ATK" memcached -u root -l "$MEMC" -p 11211 -U 11211 >"$work/memcached.log" 2>&1 & pids+=($!)

head -c 300 /dev/urandom | base64 >"$work/www/index.html"
head -c 100000000 /dev/zero >"$work/www/big.bin"
nginx_conf() { # name address
	cat >"$work/nginx-$1.conf" <<EOF
daemon off; user root; worker_processes 2; pid $work/nginx-$1.pid; error_log $work/nginx-$1.err;
events { worker_connections 4096; }
http { access_log off; sendfile on; keepalive_requests 1000000;
  server { listen $2:80 backlog=4096; root $work/www; } }
EOF
}
nginx_conf atk "$WEB"
nginx_conf vic "$V"
ip netns exec "$ATK" nginx -c "$work/nginx-atk.conf" & pids+=($!)
ip netns exec "$VIC" nginx -c "$work/nginx-vic.conf" & pids+=($!)
ip netns exec "$VIC" iperf3 -s -B "$V" >/dev/null 2>&1 & pids+=($!)
ip netns exec "$ATK" iperf3 -s -B "$A" >/dev/null 2>&1 & pids+=($!)
sleep 2

: >"$out/labels.new"
label() { printf '%-32s %-18s %s\n' "$1.pcap" "$2" "$3" >>"$out/labels.new"; }

# capture NAME PREFIX LABEL SECONDS -- commands...: runs the commands
# (each a string, in the background) while tcpdump records the victim's
# side for SECONDS, one quiet second before and two after.
capture() {
	local name=$1 prefix=$2 lab=$3 secs=$4
	shift 5
	if [ -n "$only" ] && [ "$only" != "$name" ]; then label "$name" "$prefix" "$lab"; return; fi
	say "$name ($lab)"
	ip netns exec "$VIC" tcpdump -i vvic -s 192 -B 131072 -U -n -q -w "$out/$name.pcap" 2>"$work/tcpdump.log" &
	local dump=$!
	sleep 1.5
	local jobs=()
	for c in "$@"; do bash -c "$c" >/dev/null 2>&1 & jobs+=($!); done
	sleep "$secs"
	for j in "${jobs[@]}"; do kill "$j" 2>/dev/null || true; done
	pkill -f "^hping3" 2>/dev/null || true
	wait "${jobs[@]}" 2>/dev/null || true
	sleep 2
	kill -INT "$dump"
	wait "$dump" 2>/dev/null || true
	label "$name" "$prefix" "$lab"
}

# capture_at_least PPS NAME PREFIX LABEL SECONDS -- commands...: capture,
# and capture again (three tries) while the flood reached fewer than PPS
# packets a second on average (the victim's answers count too): on a
# busy machine hping3 falls short of its rate, and a capture of a flood
# that never happened would test nothing.
capture_at_least() {
	local want=$1 name=$2 secs=$5 got=0
	shift
	for try in 1 2 3; do
		capture "$@"
		if [ -n "$only" ] && [ "$only" != "$name" ]; then return; fi
		got=$(( $(tcpdump -r "$out/$name.pcap" -n -q 2>/dev/null | wc -l) / secs ))
		if [ "$got" -ge "$want" ]; then return; fi
		if [ "$try" -lt 3 ]; then
			say "$name: $got pps, short of $want: again"
			sed -i "/^$name.pcap /d" "$out/labels.new"
		fi
	done
	# Kept as it is: the tests that use it will say what it lacks.
	echo "corpus: warning: $name reached $got pps, short of $want, three times: the machine is busy" >&2
}

X="ip netns exec $ATK"
Y="ip netns exec $VIC"
ONE="$V/32"
# hping3 with -i sends a packet, then sleeps: on a busy machine one
# process falls far short of its nominal rate (u20 is 50 kpps on paper,
# 11 kpps measured on a loaded CI machine), so each flood is several
# processes at a lower nominal rate, and capture_at_least checks what
# arrived.
# The 30 kpps SYN flood (high severity: 2.5x the 10 kpps limit): the
# victim's RSTs count in the capture too.
capture_at_least 55000 syn-spoofed "$ONE" syn_flood 5 -- "$X hping3 -q -S -p 27015 --rand-source --flood $V"
capture_at_least 12000 syn-one-source "$ONE" syn_flood 5 -- "$X hping3 -q -S -p 80 --flood $V" \
	"$X wrk -t1 -c8 -d6s http://$V/index.html"
capture_at_least 20000 syn-open-port "$ONE" syn_flood 5 -- "$X hping3 -q -S -p 80 --rand-source -i u30 $V" \
	"$X hping3 -q -S -p 80 --rand-source -i u30 $V"
capture_at_least 20000 ack-flood "$ONE" ack_flood 5 -- "$X hping3 -q -A -p 80 --rand-source -i u30 $V" \
	"$X hping3 -q -A -p 80 --rand-source -i u30 $V"
capture_at_least 12000 rst-flood "$ONE" rst_fin_flood 5 -- "$X hping3 -q -R -p 80 --rand-source -i u30 $V" \
	"$X hping3 -q -R -p 80 --rand-source -i u30 $V"
capture_at_least 12000 udp-flood "$ONE" udp_flood 5 -- "$X hping3 -q --udp -p 27015 --rand-source -d 512 -i u40 $V" \
	"$X hping3 -q --udp -p 27015 --rand-source -d 512 -i u40 $V"
capture_at_least 12000 icmp-flood "$ONE" icmp_flood 5 -- "$X hping3 -q --icmp --rand-source -d 56 -i u40 $V" \
	"$X hping3 -q --icmp --rand-source -d 56 -i u40 $V"
capture_at_least 12000 gre-flood "$ONE" gre_flood 5 -- "$X hping3 -q -0 -H 47 -d 512 --rand-source -i u40 $V" \
	"$X hping3 -q -0 -H 47 -d 512 --rand-source -i u40 $V"
capture_at_least 12000 fragment-flood "$ONE" fragment_flood 5 -- "$X hping3 -q -0 -H 17 -g 185 -d 600 --rand-source -i u40 $V" \
	"$X hping3 -q -0 -H 17 -g 370 -d 600 --rand-source -i u40 $V"
capture_at_least 12000 synack-reflection "$ONE" synack_reflection 5 -- "$X hping3 -q -S -a $V -p 80 -i u40 $WEB" \
	"$X hping3 -q -S -a $V -p 80 -i u40 $WEB"
capture dns-amplification "$ONE" dns_amplification 5 -- \
	"$X hping3 -q --udp -a $V -p 53 -s 4000 --file $work/dns-txt.bin -d $(stat -c %s "$work/dns-txt.bin") -i u250 $DNS" \
	"$X iperf3 -c $V -t 6 -b 20M"
capture snmp-amplification "$ONE" snmp_amplification 5 -- \
	"$X hping3 -q --udp -a $V -p 161 -s 4000 --file $work/snmp-getbulk.bin -d $(stat -c %s "$work/snmp-getbulk.bin") -i u110 $SNMP"
capture memcached-amplification "$ONE" memcached_amplification 5 -- \
	"$X hping3 -q --udp -a $V -p 11211 -s 4000 --file $work/memcached-stats.bin -d $(stat -c %s "$work/memcached-stats.bin") -i u170 $MEMC"
capture_at_least 22000 carpet-udp "10.99.2.0/24" carpet_bombing 5 -- "$X hping3 -q --udp -p 27015 --rand-dest -I vatk -d 200 -i u25 10.99.2.x" \
	"$X hping3 -q --udp -p 27016 --rand-dest -I vatk -d 200 -i u25 10.99.2.x" "$X hping3 -q --udp -p 27017 --rand-dest -I vatk -d 200 -i u25 10.99.2.x" \
	"$X hping3 -q --udp -p 27018 --rand-dest -I vatk -d 200 -i u25 10.99.2.x"
capture_at_least 12000 multi-syn-dns "$ONE" syn_flood 5 -- "$X hping3 -q -S -p 27015 --rand-source -i u40 $V" \
	"$X hping3 -q -S -p 27016 --rand-source -i u40 $V" \
	"$X hping3 -q --udp -a $V -p 53 -s 4000 --file $work/dns-txt.bin -d $(stat -c %s "$work/dns-txt.bin") -i u300 $DNS"
# A minute and more of a 60 Mbit/s DNS amplification: long enough for the
# default rules' "publish after 60s if unresolved" (the end-to-end test).
capture dns-amplification-70s "$ONE" dns_amplification 70 -- \
	"$X hping3 -q --udp -a $V -p 53 -s 4000 --file $work/dns-txt.bin -d $(stat -c %s "$work/dns-txt.bin") -i u450 $DNS"

# Benign: busy, fast, and asked for.
capture benign-wrk-keepalive "$ONE" none 5 -- "$X wrk -t2 -c64 -d5s http://$V/index.html"
capture benign-wrk-one-client "$ONE" none 5 -- "$X wrk -t1 -c1 -d5s http://$V/index.html"
capture benign-ab-connections "$ONE" none 5 -- "$X ab -q -c 32 -t 5 -n 10000000 http://$V/index.html"
capture benign-download "$ONE" none 5 -- "$Y bash -c 'curl -s -o /dev/null --max-time 5 http://$WEB/big.bin'"
capture benign-iperf-tcp "$ONE" none 5 -- "$X iperf3 -c $V -t 5"
capture benign-iperf-udp "$ONE" none 5 -- "$Y iperf3 -c $A -u -R -b 200M -t 5"
capture benign-dns-server "$ONE" none 5 -- \
	"$X bash -c 'for i in \$(seq 1 200000); do echo \"www.corpus.test A\"; done >$work/queries; dnsperf -q 2000 -s $V -d $work/queries -l 5 -Q 30000'"
capture benign-ping "$ONE" none 5 -- "$Y ping -q -f -c 300000 $A"

if [ -z "$only" ]; then
	{
		echo "# The detection corpus: CAPTURE PREFIX EXPECTED (family the detector must name first, or none)."
		echo "# Made by scripts/corpus.sh with real tools in network namespaces; see README, Agent setup."
		cat "$out/labels.new"
	} >"$out/labels.txt"
fi
rm -f "$out/labels.new"
say "corpus in $out"
