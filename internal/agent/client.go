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
	// The heartbeat answer lists the node's checks: allow for thousands.
	data, err := c.send(ctx, http.MethodPost, path, "application/json", raw, 8<<20, false)
	if err == nil && out != nil && len(data) > 0 {
		return json.Unmarshal(data, out)
	}
	return err
}

// send makes one request with the node's token and sorts the answer: a
// success (its body, up to limit bytes), a refusal retrying cannot fix
// (PermanentError), or an error worth retrying. A 404 is worth retrying
// when notYet (what the request names may still be on its way).
func (c *Client) send(ctx context.Context, method, path, contentType string, body []byte, limit int64, notYet bool) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", "stormwatch-agent")
	res, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(res.Body, limit))
	switch code := res.StatusCode; {
	case code >= 200 && code < 300:
		return data, nil
	case code == http.StatusUnauthorized:
		// A wrong token stays wrong, but an operator may fix it without
		// restarting the agent: keep what is to send and retry.
		return nil, fmt.Errorf("server rejected the node token (401): check --token")
	case code >= 400 && code < 500 && code != http.StatusTooManyRequests && code != http.StatusRequestTimeout && !(notYet && code == http.StatusNotFound):
		return nil, &PermanentError{Status: code, Body: strings.TrimSpace(string(data))}
	}
	return nil, fmt.Errorf("server answered %d: %s", res.StatusCode, strings.TrimSpace(string(data)))
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
	_, err := c.send(ctx, http.MethodPut, "/api/v1/agent/attacks/"+url.PathEscape(attackID)+"/pcap", PcapNGType, pcapng, 64<<10, true)
	return err
}

// PcapNGType is the media type of pcapng captures.
const PcapNGType = "application/x-pcapng"

// ReportMitigation tells the server of an announce, a withdraw, a
// failure or a BGP session change.
func (c *Client) ReportMitigation(ctx context.Context, r MitigationReport) error {
	return c.post(ctx, "/api/v1/agent/mitigations", r, nil)
}
