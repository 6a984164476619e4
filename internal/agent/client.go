package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	sw "github.com/stormwatch/stormwatch"
)

// Client talks to the server's agent API with the node's token.
type Client struct {
	base  string
	token string
	http  *http.Client
}

// NewClient returns a client of the server at base (http(s)://host:port).
func NewClient(base, token string) *Client {
	return &Client{base: strings.TrimSuffix(base, "/"), token: token, http: &http.Client{Timeout: 10 * time.Second}}
}

// PermanentError is an answer that retrying the same request cannot
// change (the server refused the content).
type PermanentError struct {
	Status int
	Body   string
}

func (e *PermanentError) Error() string {
	return fmt.Sprintf("server refused the request (%d): %s", e.Status, e.Body)
}

// IsPermanent reports whether err is a refusal that retrying cannot fix.
func IsPermanent(err error) bool {
	var pe *PermanentError
	return errors.As(err, &pe)
}

func (c *Client) post(ctx context.Context, path string, body any, out any) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(raw))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "stormwatch-agent")
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	// The heartbeat answer lists the node's checks: allow for thousands.
	data, _ := io.ReadAll(io.LimitReader(res.Body, 8<<20))
	switch {
	case res.StatusCode >= 200 && res.StatusCode < 300:
		if out != nil && len(data) > 0 {
			return json.Unmarshal(data, out)
		}
		return nil
	case res.StatusCode == http.StatusUnauthorized:
		// A wrong token stays wrong, but an operator may fix it without
		// restarting the agent: keep the events and retry.
		return fmt.Errorf("server rejected the node token (401): check --token")
	case res.StatusCode >= 400 && res.StatusCode < 500 && res.StatusCode != http.StatusTooManyRequests && res.StatusCode != http.StatusRequestTimeout:
		return &PermanentError{Status: res.StatusCode, Body: strings.TrimSpace(string(data))}
	}
	return fmt.Errorf("server answered %d: %s", res.StatusCode, strings.TrimSpace(string(data)))
}

// SendEvents posts a batch; a repeat of events the server has is harmless.
func (c *Client) SendEvents(ctx context.Context, events []sw.AttackEvent) (accepted, duplicates int, err error) {
	var out struct {
		Accepted   int `json:"accepted"`
		Duplicates int `json:"duplicates"`
	}
	err = c.post(ctx, "/api/v1/agent/events", map[string]any{"events": events}, &out)
	return out.Accepted, out.Duplicates, err
}

// Beat is what a heartbeat carries: the traffic summary, the node's
// check runs since the last one, and the checks it declares.
type Beat struct {
	sw.Heartbeat
	Checks   []sw.CheckResult `json:"checks,omitempty"`
	Declared []sw.Check       `json:"declared,omitempty"`
}

// SendHeartbeat posts a heartbeat and returns the checks the node is to
// run (nil from a server that predates checks).
func (c *Client) SendHeartbeat(ctx context.Context, b Beat) ([]sw.Check, json.RawMessage, error) {
	var out struct {
		Checks           []sw.Check      `json:"checks"`
		MitigationPolicy json.RawMessage `json:"mitigation_policy"`
	}
	err := c.post(ctx, "/api/v1/agent/heartbeat", b, &out)
	return out.Checks, out.MitigationPolicy, err
}

// UploadCapture puts an attack's pcapng on the server. A 404 (the server
// has not heard of the attack yet) is not permanent: the events may
// still be on their way.
func (c *Client) UploadCapture(ctx context.Context, attackID string, pcapng []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, c.base+"/api/v1/agent/attacks/"+url.PathEscape(attackID)+"/pcap", bytes.NewReader(pcapng))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", PcapNGType)
	req.Header.Set("User-Agent", "stormwatch-agent")
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	switch {
	case res.StatusCode >= 200 && res.StatusCode < 300:
		return nil
	case res.StatusCode == http.StatusNotFound, res.StatusCode == http.StatusUnauthorized, res.StatusCode == http.StatusTooManyRequests:
		return fmt.Errorf("server answered %d: %s", res.StatusCode, strings.TrimSpace(string(data)))
	case res.StatusCode >= 400 && res.StatusCode < 500:
		return &PermanentError{Status: res.StatusCode, Body: strings.TrimSpace(string(data))}
	}
	return fmt.Errorf("server answered %d: %s", res.StatusCode, strings.TrimSpace(string(data)))
}

// PcapNGType is the media type of pcapng captures.
const PcapNGType = "application/x-pcapng"

// ReportMitigation tells the server of an announce, a withdraw, a
// failure or a BGP session change.
func (c *Client) ReportMitigation(ctx context.Context, r MitigationReport) error {
	return c.post(ctx, "/api/v1/agent/mitigations", r, nil)
}
