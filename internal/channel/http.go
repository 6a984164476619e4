package channel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/stormwatch/stormwatch/internal/notify"
)

func do(ctx context.Context, client *http.Client, method, url, contentType string, header http.Header, body []byte) ([]byte, Result) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return nil, Result{Permanent: true, Err: err}
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", "stormwatch-notify/1")
	res, err := client.Do(req)
	if err != nil {
		return nil, Result{Permanent: errors.Is(err, notify.ErrBlocked), Err: err}
	}
	defer res.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	r := Result{Status: res.StatusCode}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		detail := strings.TrimSpace(string(answer))
		if len(detail) > 300 {
			detail = detail[:300]
		}
		r.Err = fmt.Errorf("answered %s: %s", res.Status, detail)
		r.Permanent = res.StatusCode >= 400 && res.StatusCode < 500 && res.StatusCode != http.StatusRequestTimeout &&
			res.StatusCode != http.StatusTooManyRequests
	}
	return answer, r
}
