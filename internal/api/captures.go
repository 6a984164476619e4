package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/gopacket/gopacket/pcapgo"
	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/store"
)

// MaxCaptureBytes bounds an attack capture an agent uploads: the ring's
// default 16 MiB of headers, with room.
const MaxCaptureBytes = 32 << 20

// pcapngType is the media type of pcapng.
const pcapngType = "application/x-pcapng"

// agentCapture takes the pcapng an agent kept around one of its attacks.
// It must be a whole, readable pcapng: a broken upload is refused, not
// kept for a forensic analyst to discover later.
func (s *Server) agentCapture(w http.ResponseWriter, r *http.Request, c *caller) error {
	id := r.PathValue("id")
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxCaptureBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return apiError(http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("a capture must be at most %d bytes", MaxCaptureBytes))
	}
	if err != nil {
		return apiError(http.StatusBadRequest, "invalid_parameter", "the capture could not be read: "+err.Error())
	}
	packets, err := countPcapNG(data)
	if err != nil {
		return &Error{Status: http.StatusUnprocessableEntity, Code: "validation_failed", Field: "body", Message: "not a readable pcapng capture: " + err.Error()}
	}
	err = s.store.Tx(r.Context(), func(tx *store.Tx) error {
		if err := tx.SaveCapture(r.Context(), c.workspace, c.node.ID, id, data, packets); err != nil {
			return err
		}
		return tx.Audit(r.Context(), c.workspace, &sw.AuditEntry{Actor: c.actor(), Action: "attack.capture", TargetType: "attack", TargetID: id,
			Details: json.RawMessage(fmt.Sprintf(`{"bytes":%d,"packets":%d}`, len(data), packets))})
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"attack": id, "bytes": len(data), "packets": packets})
	return nil
}

// countPcapNG reads a pcapng whole and counts its packets.
func countPcapNG(data []byte) (int, error) {
	nr, err := pcapgo.NewNgReader(bytes.NewReader(data), pcapgo.DefaultNgReaderOptions)
	if err != nil {
		return 0, err
	}
	n := 0
	for {
		_, _, err := nr.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("packet %d: %w", n+1, err)
		}
		n++
	}
}

// attackCapture answers the pcapng of an attack, as a download.
func (s *Server) attackCapture(w http.ResponseWriter, r *http.Request, c *caller) error {
	id := r.PathValue("id")
	capture, err := s.store.Capture(r.Context(), c.workspace, id)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", pcapngType)
	h.Set("Content-Disposition", `attachment; filename="`+safeFileName(id)+`.pcapng"`)
	h.Set("Content-Length", strconv.Itoa(len(capture.Data)))
	h.Set("X-Capture-Packets", strconv.Itoa(capture.Packets))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(capture.Data) // a failed write means the client left
	return nil
}

// safeFileName keeps an id usable in a Content-Disposition header.
func safeFileName(id string) string {
	b := []byte(id)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}
