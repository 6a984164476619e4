// Package front is the plain HTTP listener: fasthttp answers the public
// page GETs — the bulk of a ticket storm — straight from the bytes
// prepared for each revision, and hands every other request (dashboard,
// APIs, event streams, forms) to the net/http handler. Measured on this
// machine (BENCHMARKS.md), fasthttp serves the same bytes at 1.6-2x
// what net/http can; TLS and HTTP/2 stay with net/http.
package front

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"
	"unsafe"

	"github.com/stormwatch/stormwatch/internal/web"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
)

// Answerer answers public page GETs from prepared bytes (web.Answerer).
type Answerer interface {
	Answer(ctx context.Context, method, host, path, query, acceptEncoding, acceptLanguage, ifNoneMatch, revision string) (web.PublicAnswer, bool)
}

// Server is the front on one listener.
type Server struct {
	srv *fasthttp.Server
	// onShutdown runs first when the server shuts down: it ends the event
	// streams, which would otherwise keep their connections open.
	onShutdown func()
}

// New returns a front answering with a and handing the rest to h.
func New(a Answerer, h http.Handler, log *slog.Logger, onShutdown func()) *Server {
	fallback := fasthttpadaptor.NewFastHTTPHandler(h)
	handle := func(ctx *fasthttp.RequestCtx) {
		req := &ctx.Request.Header
		// Views, not copies: the Answerer copies what it keeps, and a
		// storm of GETs then allocates nothing here.
		ans, ok := a.Answer(ctx, view(req.Method()), view(req.Host()), view(ctx.Path()), view(ctx.URI().QueryString()),
			view(req.Peek("Accept-Encoding")), view(req.Peek("Accept-Language")), view(req.Peek("If-None-Match")),
			view(req.Peek("X-Stormwatch-Revision")))
		if !ok {
			fallback(ctx)
			return
		}
		res := &ctx.Response
		res.SetStatusCode(ans.Status)
		// The prepared headers' names are canonical already.
		res.Header.DisableNormalizing()
		for k, vs := range ans.Header {
			if k == "Content-Length" {
				continue // fasthttp sets it from the body
			}
			for _, v := range vs {
				res.Header.Add(k, v)
			}
		}
		if ans.Body != nil {
			// Prepared bytes are never written to: no copy.
			res.SetBodyRaw(ans.Body)
		}
		if ctx.IsHead() {
			res.SkipBody = true
			res.Header.SetContentLength(len(ans.Body))
		}
	}
	return &Server{onShutdown: onShutdown, srv: &fasthttp.Server{
		Handler:               handle,
		Name:                  "stormwatch",
		NoDefaultServerHeader: true,
		ReadTimeout:           30 * time.Second,
		IdleTimeout:           2 * time.Minute,
		// Request headers up to 16 KiB (cookies, long queries); bodies
		// up to 16 MiB reach the handlers, which hold their own limits.
		ReadBufferSize:     16 << 10,
		MaxRequestBodySize: 16 << 20,
		Logger:             logAdapter{log},
	}}
}

// Serve accepts connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	err := s.srv.Serve(ln)
	if err == nil {
		return http.ErrServerClosed
	}
	return err
}

// Shutdown ends the event streams, stops accepting and waits for the
// requests in flight, up to ctx's deadline.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.onShutdown != nil {
		s.onShutdown()
	}
	return s.srv.ShutdownWithContext(ctx)
}

// Close stops without waiting long: it ends the event streams and gives
// the requests in flight a second (fasthttp's own Shutdown waits for every
// connection, which an open stream would hold forever).
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return s.Shutdown(ctx)
}

// view is b as a string without a copy; it is valid while the request
// is being answered.
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

type logAdapter struct{ log *slog.Logger }

func (l logAdapter) Printf(format string, args ...any) {
	l.log.Debug("fasthttp", "msg", format, "args", args)
}
