package pcapring

import (
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// WriteNG writes frames as pcapng, their times moved by shift (a replay's
// frames onto the wall clock its events were reported on), with comment
// in the section header (what the capture is, and its sampling). Each
// link type gets an interface of its own.
func WriteNG(w io.Writer, frames []Frame, shift time.Duration, comment, application string) error {
	link := layers.LinkTypeEthernet
	if len(frames) > 0 {
		link = layers.LinkType(frames[0].Link)
	}
	opts := pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: application, Comment: comment}}
	intf := pcapgo.DefaultNgInterface
	intf.LinkType, intf.SnapLength = link, SnapLen
	nw, err := pcapgo.NewNgWriterInterface(w, intf, opts)
	if err != nil {
		return fmt.Errorf("pcapng: %w", err)
	}
	index := map[int]int{int(link): 0}
	for _, f := range frames {
		i, ok := index[f.Link]
		if !ok {
			in := pcapgo.DefaultNgInterface
			in.LinkType, in.SnapLength = layers.LinkType(f.Link), SnapLen
			if i, err = nw.AddInterface(in); err != nil {
				return fmt.Errorf("pcapng: %w", err)
			}
			index[f.Link] = i
		}
		ci := gopacket.CaptureInfo{Timestamp: f.At.Add(shift), CaptureLength: len(f.Data), Length: max(f.OrigLen, len(f.Data)), InterfaceIndex: i}
		var opts pcapgo.NgPacketOptions
		if f.Count > 1 {
			// A frame synthesized from a flow record: its comment says
			// how much traffic it stands for.
			opts.Comments = []string{fmt.Sprintf("flow record: %d packets, %d bytes", f.Count, f.OrigLen)}
		}
		if err := nw.WritePacketWithOptions(ci, f.Data, opts); err != nil {
			return fmt.Errorf("pcapng: %w", err)
		}
	}
	return nw.Flush()
}
