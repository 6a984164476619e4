package probe

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"syscall"

	sw "github.com/stormwatch/stormwatch"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// icmp sends one echo request and waits for its reply. It uses an
// unprivileged ping socket where the kernel allows it
// (net.ipv4.ping_group_range) and a raw socket otherwise, which needs
// CAP_NET_RAW.
func (p *Prober) icmp(ctx context.Context, c *sw.Check) error {
	addr, err := p.resolve(ctx, c.Target)
	if err != nil {
		return err
	}
	v6 := addr.Is6()
	network, raw, proto := "udp4", "ip4:icmp", 1
	var echo, reply icmp.Type = ipv4.ICMPTypeEcho, ipv4.ICMPTypeEchoReply
	if v6 {
		network, raw, proto = "udp6", "ip6:ipv6-icmp", 58
		echo, reply = ipv6.ICMPTypeEchoRequest, ipv6.ICMPTypeEchoReply
	}
	conn, err := icmp.ListenPacket(network, "")
	unprivileged := err == nil
	if err != nil {
		if conn, err = icmp.ListenPacket(raw, ""); err != nil {
			if errors.Is(err, os.ErrPermission) || errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
				return fmt.Errorf("ICMP needs net.ipv4.ping_group_range to include this user's group, or CAP_NET_RAW")
			}
			return err
		}
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	id, seq := int(rand.Uint32()&0xffff), int(rand.Uint32()&0xffff)
	msg := icmp.Message{Type: echo, Body: &icmp.Echo{ID: id, Seq: seq, Data: []byte("stormwatch-check")}}
	b, err := msg.Marshal(nil)
	if err != nil {
		return err
	}
	var dst net.Addr = &net.IPAddr{IP: addr.AsSlice()}
	if unprivileged {
		dst = &net.UDPAddr{IP: addr.AsSlice()}
	}
	if _, err := conn.WriteTo(b, dst); err != nil {
		return err
	}
	buf := make([]byte, 1500)
	for {
		n, _, err := conn.ReadFrom(buf)
		if err != nil {
			return err
		}
		m, err := icmp.ParseMessage(proto, buf[:n])
		if err != nil || m.Type != reply {
			continue
		}
		e, ok := m.Body.(*icmp.Echo)
		// The kernel rewrites the id of unprivileged echoes: match the
		// sequence there, both on raw sockets.
		if !ok || e.Seq != seq || (!unprivileged && e.ID != id) {
			continue
		}
		return nil
	}
}
