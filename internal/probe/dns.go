package probe

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"strings"

	"golang.org/x/net/dns/dnsmessage"
)

var recordTypes = map[string]dnsmessage.Type{"A": dnsmessage.TypeA, "AAAA": dnsmessage.TypeAAAA,
	"CNAME": dnsmessage.TypeCNAME, "MX": dnsmessage.TypeMX, "NS": dnsmessage.TypeNS, "TXT": dnsmessage.TypeTXT}

// query asks server (ip:port) for name's records of type record over UDP
// and returns the answers as text; a server failure (SERVFAIL, REFUSED,
// NXDOMAIN) is an error naming the code.
func query(ctx context.Context, server, name, record string) ([]string, error) {
	typ, ok := recordTypes[record]
	if !ok {
		return nil, fmt.Errorf("unknown record type %q", record)
	}
	qname, err := dnsmessage.NewName(dnsFQDN(name))
	if err != nil {
		return nil, fmt.Errorf("%q is not a DNS name: %w", name, err)
	}
	id := uint16(rand.Uint32())
	msg := dnsmessage.Message{Header: dnsmessage.Header{ID: id, RecursionDesired: true},
		Questions: []dnsmessage.Question{{Name: qname, Type: typ, Class: dnsmessage.ClassINET}}}
	packed, err := msg.Pack()
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", server)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if _, err := conn.Write(packed); err != nil {
		return nil, err
	}
	buf := make([]byte, 4096)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return nil, err
		}
		var reply dnsmessage.Message
		if err := reply.Unpack(buf[:n]); err != nil || reply.ID != id || !reply.Response {
			continue // not our answer: keep waiting until the deadline
		}
		if reply.RCode != dnsmessage.RCodeSuccess {
			return nil, fmt.Errorf("the DNS server answered %s for %s %s", rcodeName(reply.RCode), name, record)
		}
		var out []string
		for _, a := range reply.Answers {
			if a.Header.Type != typ {
				continue // CNAME chains: only the asked type counts
			}
			out = append(out, answerText(a.Body))
		}
		return out, nil
	}
}

func rcodeName(c dnsmessage.RCode) string {
	return strings.TrimPrefix(c.String(), "RCode")
}

func answerText(b dnsmessage.ResourceBody) string {
	switch r := b.(type) {
	case *dnsmessage.AResource:
		return netip.AddrFrom4(r.A).String()
	case *dnsmessage.AAAAResource:
		return netip.AddrFrom16(r.AAAA).String()
	case *dnsmessage.CNAMEResource:
		return r.CNAME.String()
	case *dnsmessage.MXResource:
		return r.MX.String()
	case *dnsmessage.NSResource:
		return r.NS.String()
	case *dnsmessage.TXTResource:
		return strings.Join(r.TXT, "")
	}
	return ""
}

func dnsFQDN(name string) string {
	if strings.HasSuffix(name, ".") {
		return name
	}
	return name + "."
}

// systemResolver is the first nameserver of /etc/resolv.conf, or the
// local resolver when there is none.
func systemResolver() string {
	data, err := os.ReadFile("/etc/resolv.conf")
	if err == nil {
		for line := range strings.SplitSeq(string(data), "\n") {
			f := strings.Fields(line)
			if len(f) >= 2 && f[0] == "nameserver" {
				return net.JoinHostPort(f[1], "53")
			}
		}
	}
	return "127.0.0.1:53"
}
