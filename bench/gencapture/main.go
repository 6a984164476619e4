// Command gencapture writes a capture for load and memory tests: a UDP
// flood on 203.0.113.7 from a chosen number of distinct spoofed sources.
//
//	go run ./bench/gencapture --out flood.pcap --sources 1000000 --pps 100000 --seconds 10
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/stormwatch/stormwatch/internal/capture/pcapgen"
)

func main() {
	out := flag.String("out", "flood.pcap", "capture file to write")
	sources := flag.Int("sources", 1_000_000, "distinct source addresses")
	pps := flag.Int("pps", 100_000, "packets per second")
	seconds := flag.Int("seconds", 10, "duration")
	flag.Parse()
	victim := net.IPv4(203, 0, 113, 7)
	n, err := pcapgen.Write(*out, pcapgen.Scenario{Start: time.Date(2026, 6, 7, 2, 14, 0, 0, time.UTC), Variants: *sources,
		Phases: []pcapgen.Phase{{Duration: time.Duration(*seconds) * time.Second, Mixes: []pcapgen.Mix{{Kind: pcapgen.UDPFlood(victim, 64), PPS: *pps}}}}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "gencapture:", err)
		os.Exit(1)
	}
	fmt.Printf("%s: %d packets from %d sources\n", *out, n, *sources)
}
