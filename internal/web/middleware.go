package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type ctxKey struct{}

// requestInfo travels with a request through the handlers.
type requestInfo struct {
	id string
	// quiet requests (public page hits, the bulk of all traffic) are
	// logged at debug level; metrics still count them.
	quiet bool
}

// RequestID returns the id of the request ctx belongs to, or "".
func RequestID(ctx context.Context) string {
	if info, ok := ctx.Value(ctxKey{}).(*requestInfo); ok {
		return info.id
	}
	return ""
}

func markQuiet(r *http.Request) {
	if info, ok := r.Context().Value(ctxKey{}).(*requestInfo); ok {
		info.quiet = true
	}
}

var safeID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

// requestIDs makes request ids: a random per-process prefix and a counter,
// unique without a system call per request.
type requestIDs struct {
	prefix string
	n      atomic.Uint64
}

func newRequestIDs() *requestIDs {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return &requestIDs{prefix: hex.EncodeToString(b[:]) + "-"}
}

func (g *requestIDs) next() string {
	return g.prefix + strconv.FormatUint(g.n.Add(1), 36)
}

// statusWriter remembers the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach Flush and deadlines (SSE).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// metrics observes every request: id, access log, counters, recovery.
type metrics struct {
	log      *slog.Logger
	ids      *requestIDs
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer, log *slog.Logger) *metrics {
	m := &metrics{
		log: log,
		ids: newRequestIDs(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stormwatch_http_requests_total", Help: "HTTP requests answered, by route, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "stormwatch_http_request_duration_seconds", Help: "Time to answer HTTP requests, by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// observe wraps every request in one step (one context, one writer):
//   - a request id, from a sane incoming X-Request-ID (a load balancer's)
//     or made up, echoed back;
//   - recovery, so that a panic in one handler answers 500 instead of
//     taking the process down;
//   - counters and a duration histogram labelled by route pattern (never
//     the raw path, so label sets stay bounded; public pages are one
//     "public" route);
//   - one access log line, at debug level for public page hits.
func (m *metrics) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if id == "" || !safeID.MatchString(id) {
			id = m.ids.next()
		}
		w.Header()["X-Request-Id"] = []string{id}
		info := &requestInfo{id: id}
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, info))
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				m.log.ErrorContext(r.Context(), "panic serving request", "path", r.URL.Path, "panic", v,
					"request_id", id, "stack", string(debug.Stack()))
				if sw.status == 0 {
					http.Error(sw, "internal error", http.StatusInternalServerError)
				}
			}
			if sw.status == 0 {
				sw.status = http.StatusOK
			}
			elapsed := time.Since(start)
			route := r.Pattern
			switch {
			case info.quiet:
				route = "public"
			case route == "":
				route = "unmatched"
			}
			m.requests.WithLabelValues(route, r.Method, statusText(sw.status)).Inc()
			m.duration.WithLabelValues(route).Observe(elapsed.Seconds())
			level := slog.LevelInfo
			if info.quiet && sw.status < 500 {
				level = slog.LevelDebug
			}
			if m.log.Enabled(r.Context(), level) {
				m.log.LogAttrs(r.Context(), level, "http",
					slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", sw.status),
					slog.Int("bytes", sw.bytes), slog.Duration("duration", elapsed), slog.String("request_id", id))
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

// statusText avoids formatting the common codes on every request.
func statusText(code int) string {
	switch code {
	case 200:
		return "200"
	case 304:
		return "304"
	case 404:
		return "404"
	}
	return strconv.Itoa(code)
}

func itoa(n int) string { return strconv.Itoa(n) }
