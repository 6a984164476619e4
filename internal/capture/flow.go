package capture

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/netsampler/goflow2/v2/decoders/netflow"
	"github.com/netsampler/goflow2/v2/decoders/netflowlegacy"
	"github.com/netsampler/goflow2/v2/decoders/sflow"
	"github.com/stormwatch/stormwatch/internal/detect"
)

// Flow protocols a collector speaks.
const (
	FlowNetFlow = "netflow" // NetFlow v5, v9 and IPFIX, told apart by version
	FlowSFlow   = "sflow"   // sFlow v5
)

// FlowCollector receives flow exports from routers and switches on UDP
// and turns them into packet summaries, sampling rates applied.
//
// Flow records describe many packets over a span of time; a record
// counts as its packets spread over that span and seen for one second
// (rate × 1 s), so exporters should use short active timeouts (1–2 s) for
// timely detection. sFlow samples single packet headers and needs nothing
// of the kind.
type FlowCollector struct {
	kind     string
	conn     *net.UDPConn
	sampling uint32
	exp      map[string]*exporter

	// Datagrams, Records and Errors count what arrived.
	Datagrams, Records, Errors atomic.Uint64
}

// exporter is what a collector remembers of one exporting device.
type exporter struct {
	templates netflow.NetFlowTemplateSystem
	sampling  uint32 // from its options records, 0 if unknown
}

// ListenFlows listens on addr (host:port) for kind exports. sampling is
// the rate to assume when an exporter does not say (1: unsampled).
func ListenFlows(kind, addr string, sampling uint32) (*FlowCollector, error) {
	if kind != FlowNetFlow && kind != FlowSFlow {
		return nil, fmt.Errorf("flow kind %q: want netflow or sflow", kind)
	}
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s address %q: %w", kind, addr, err)
	}
	conn, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, fmt.Errorf("listen for %s on %s: %w", kind, addr, err)
	}
	_ = conn.SetReadBuffer(8 << 20)
	return &FlowCollector{kind: kind, conn: conn, sampling: max(sampling, 1), exp: map[string]*exporter{}}, nil
}

// Addr is where the collector listens.
func (c *FlowCollector) Addr() net.Addr { return c.conn.LocalAddr() }

// Name says what the collector is.
func (c *FlowCollector) Name() string { return c.kind + ":" + c.conn.LocalAddr().String() }

// Close stops listening.
func (c *FlowCollector) Close() error { return c.conn.Close() }

// Run decodes datagrams until ctx ends, handing each datagram's packets to
// fn. Malformed datagrams are counted in Errors and skipped.
func (c *FlowCollector) Run(ctx context.Context, fn func([]detect.Packet) error) error {
	stop := context.AfterFunc(ctx, func() { _ = c.conn.SetReadDeadline(time.Now()) })
	defer stop()
	buf := make([]byte, 65535)
	var batch []detect.Packet
	for {
		n, from, err := c.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("%s collector: %w", c.kind, err)
		}
		c.Datagrams.Add(1)
		batch = batch[:0]
		if c.kind == FlowSFlow {
			batch, err = c.decodeSFlow(buf[:n], batch)
		} else {
			batch, err = c.decodeNetFlow(from.Addr().String(), buf[:n], batch)
		}
		if err != nil {
			c.Errors.Add(1)
		}
		c.Records.Add(uint64(len(batch)))
		if len(batch) > 0 {
			if err := fn(batch); err != nil {
				return err
			}
		}
	}
}

func (c *FlowCollector) exporterOf(key string) *exporter {
	e := c.exp[key]
	if e == nil {
		e = &exporter{templates: netflow.CreateTemplateSystem()}
		c.exp[key] = e
	}
	return e
}

func (c *FlowCollector) decodeNetFlow(from string, data []byte, out []detect.Packet) ([]detect.Packet, error) {
	if len(data) < 2 {
		return out, errShort
	}
	now := time.Now()
	switch binary.BigEndian.Uint16(data) {
	case 5:
		var pkt netflowlegacy.PacketNetFlowV5
		if err := netflowlegacy.DecodeMessageVersion(bytes.NewBuffer(data), &pkt); err != nil {
			return out, err
		}
		rate := uint32(pkt.SamplingInterval & 0x3fff)
		if rate == 0 {
			rate = c.sampling
		}
		base := time.Unix(int64(pkt.UnixSecs), int64(pkt.UnixNSecs))
		for _, r := range pkt.Records {
			p := detect.Packet{Src: v4(uint32(r.SrcAddr)), Dst: v4(uint32(r.DstAddr)), Proto: r.Proto, SrcPort: r.SrcPort,
				DstPort: r.DstPort, TCPFlags: r.TCPFlags}
			first := base.Add(-time.Duration(pkt.SysUptime-r.First) * time.Millisecond)
			last := base.Add(-time.Duration(pkt.SysUptime-r.Last) * time.Millisecond)
			out = append(out, flowPacket(p, uint64(r.DPkts), uint64(r.DOctets), rate, first, last, now))
		}
		return out, nil
	case 9, 10:
		if err := checkTemplates(data); err != nil {
			return out, err
		}
		e := c.exporterOf(from)
		var v9 netflow.NFv9Packet
		var ipfix netflow.IPFIXPacket
		if err := netflow.DecodeMessageVersion(bytes.NewBuffer(data), e.templates, &v9, &ipfix); err != nil {
			return out, err
		}
		sets, base, uptime := v9.FlowSets, time.Unix(int64(v9.UnixSeconds), 0), v9.SystemUptime
		if ipfix.Version == 10 {
			sets, base, uptime = ipfix.FlowSets, time.Unix(int64(ipfix.ExportTime), 0), 0
		}
		for _, s := range sets {
			switch set := s.(type) {
			case netflow.OptionsDataFlowSet:
				for _, r := range set.Records {
					for _, f := range r.OptionsValues {
						if f.Type == 34 || f.Type == 50 || f.Type == 305 { // sampling interval
							if v := uintOf(f.Value); v > 0 {
								e.sampling = uint32(v)
							}
						}
					}
				}
			case netflow.DataFlowSet:
				rate := e.sampling
				if rate == 0 {
					rate = c.sampling
				}
				for _, r := range set.Records {
					if p, ok := netflowRecord(r.Values, rate, base, uptime, now); ok {
						out = append(out, p)
					}
				}
			}
		}
		return out, nil
	}
	return out, fmt.Errorf("unknown NetFlow version %d", binary.BigEndian.Uint16(data))
}

// netflowRecord reads the fields detection needs from a v9 or IPFIX record.
func netflowRecord(fields []netflow.DataField, rate uint32, base time.Time, uptime uint32, now time.Time) (detect.Packet, bool) {
	var p detect.Packet
	var pkts, octets uint64
	var first, last time.Time
	for _, f := range fields {
		b, _ := f.Value.([]byte)
		switch f.Type {
		case 1, 85: // octets (delta, total)
			octets = uintOf(b)
		case 2, 86: // packets
			pkts = uintOf(b)
		case 4:
			p.Proto = uint8(uintOf(b))
		case 6:
			p.TCPFlags = uint8(uintOf(b))
		case 7:
			p.SrcPort = uint16(uintOf(b))
		case 11:
			p.DstPort = uint16(uintOf(b))
		case 8, 27:
			p.Src, _ = netip.AddrFromSlice(b)
		case 12, 28:
			p.Dst, _ = netip.AddrFromSlice(b)
		case 22: // FIRST_SWITCHED, ms of uptime
			first = base.Add(-time.Duration(uptime-uint32(uintOf(b))) * time.Millisecond)
		case 21:
			last = base.Add(-time.Duration(uptime-uint32(uintOf(b))) * time.Millisecond)
		case 150:
			first = time.Unix(int64(uintOf(b)), 0)
		case 151:
			last = time.Unix(int64(uintOf(b)), 0)
		case 152:
			first = time.UnixMilli(int64(uintOf(b)))
		case 153:
			last = time.UnixMilli(int64(uintOf(b)))
		}
	}
	if !p.Dst.IsValid() || pkts == 0 {
		return p, false
	}
	return flowPacket(p, pkts, octets, rate, first, last, now), true
}

// flowPacket weighs a flow record: its packets and bytes times the
// sampling rate, spread over its duration and counted as one second's
// worth, at its end time when that is believable (else now).
func flowPacket(p detect.Packet, pkts, octets uint64, rate uint32, first, last, now time.Time) detect.Packet {
	p.Size = uint16(min(octets/max(pkts, 1), 65535))
	pkts *= uint64(rate)
	octets *= uint64(rate)
	if d := last.Sub(first); d > time.Second {
		pkts = pkts * uint64(time.Second) / uint64(d)
		octets = octets * uint64(time.Second) / uint64(d)
	}
	p.Count, p.Bytes = max(pkts, 1), octets
	p.Flow = true
	p.At = now
	if !last.IsZero() && last.Before(now.Add(time.Minute)) && last.After(now.Add(-10*time.Minute)) {
		p.At = last
	}
	return p
}

func (c *FlowCollector) decodeSFlow(data []byte, out []detect.Packet) ([]detect.Packet, error) {
	var pkt sflow.Packet
	if err := sflow.DecodeMessageVersion(bytes.NewBuffer(data), &pkt); err != nil {
		return out, err
	}
	now := time.Now()
	for _, s := range pkt.Samples {
		var rate uint32
		var records []sflow.FlowRecord
		switch fs := s.(type) {
		case sflow.FlowSample:
			rate, records = fs.SamplingRate, fs.Records
		case sflow.ExpandedFlowSample:
			rate, records = fs.SamplingRate, fs.Records
		default:
			continue
		}
		rate = max(rate, 1)
		for _, r := range records {
			h, ok := r.Data.(sflow.SampledHeader)
			if !ok || h.Protocol != 1 { // 1: Ethernet
				continue
			}
			var p detect.Packet
			if err := Decode(LinkEthernet, h.HeaderData, &p); err != nil {
				continue
			}
			p.At = now
			p.Count = uint64(rate)
			p.Bytes = uint64(p.Size) * uint64(rate)
			p.Sampled = rate > 1
			out = append(out, p)
		}
	}
	return out, nil
}

func v4(a uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)})
}

// uintOf reads a big-endian unsigned field of any width up to 8 bytes.
func uintOf(v any) uint64 {
	b, _ := v.([]byte)
	var x uint64
	for _, c := range b {
		x = x<<8 | uint64(c)
	}
	return x
}

// errEmptyTemplate refuses a template with no field or a field of no
// length: goflow2 decodes a data set record by record until too few
// bytes are left, so a record of no bytes loops forever, and fields of no
// bytes let a small datagram allocate without bound (a datagram from
// anyone who can reach the collector would hang the agent). Real
// exporters send neither.
var errEmptyTemplate = errors.New("flow template with no field or a field of no length")

// checkTemplates walks the template sets of a NetFlow v9 or IPFIX
// datagram and refuses one with a template (or options template) whose
// records would take no bytes. Malformed sets are left to the decoder.
func checkTemplates(data []byte) error {
	version := binary.BigEndian.Uint16(data)
	rest := data
	switch {
	case version == 9 && len(data) >= 20:
		rest = data[20:]
	case version == 10 && len(data) >= 16:
		rest = data[16:]
	default:
		return nil
	}
	for len(rest) >= 4 {
		id, length := binary.BigEndian.Uint16(rest), int(binary.BigEndian.Uint16(rest[2:]))
		if length < 4 {
			return nil
		}
		// goflow2 decodes a set cut short with what is there: so do we.
		length = min(length, len(rest))
		body := rest[4:length]
		rest = rest[length:]
		var err error
		switch {
		case version == 9 && id == 0, version == 10 && id == 2:
			err = checkTemplateRecords(body, version, false)
		case version == 9 && id == 1, version == 10 && id == 3:
			err = checkTemplateRecords(body, version, true)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// checkTemplateRecords checks the records of one template set.
func checkTemplateRecords(b []byte, version uint16, options bool) error {
	for len(b) >= 4 {
		var fields int
		switch {
		case options && version == 9:
			if len(b) < 6 {
				return nil
			}
			// Lengths in bytes, as goflow2 reads them.
			fields = int(binary.BigEndian.Uint16(b[2:]))/4 + int(binary.BigEndian.Uint16(b[4:]))/4
			b = b[6:]
		case options:
			if len(b) < 6 {
				return nil
			}
			fields = int(binary.BigEndian.Uint16(b[2:]))
			b = b[6:]
		default:
			fields = int(binary.BigEndian.Uint16(b[2:]))
			b = b[4:]
		}
		if fields == 0 {
			return errEmptyTemplate
		}
		for range fields {
			if len(b) < 4 {
				return nil
			}
			typ, length := binary.BigEndian.Uint16(b), binary.BigEndian.Uint16(b[2:])
			b = b[4:]
			if version == 10 && typ&0x8000 != 0 {
				if len(b) < 4 {
					return nil
				}
				b = b[4:] // enterprise number
			}
			if length == 0 {
				return errEmptyTemplate
			}
		}
	}
	return nil
}
