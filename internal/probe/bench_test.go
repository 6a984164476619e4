package probe_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/probe"
)

// The cost of a check run against the bare operation it wraps, on
// loopback: the TCP probe against net.Dial and Close, the HTTP probe
// against an http.Client GET without keep-alive. Run with -cpu 2.

func tcpTarget(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return ln.Addr().String()
}

func BenchmarkTCP(b *testing.B) {
	addr := tcpTarget(b)
	b.Run("bare-dial", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				c, err := net.DialTimeout("tcp", addr, time.Second)
				if err != nil {
					b.Fatal(err)
				}
				c.Close()
			}
		})
	})
	b.Run("probe", func(b *testing.B) {
		p, c := &probe.Prober{}, check("tcp", addr, nil)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if o := p.Run(context.Background(), c); !o.OK {
					b.Fatal(o.Err)
				}
			}
		})
	})
}

func BenchmarkHTTP(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	b.Cleanup(srv.Close)
	b.Run("bare-get", func(b *testing.B) {
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				res, err := client.Get(srv.URL)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
			}
		})
	})
	b.Run("probe", func(b *testing.B) {
		p, c := &probe.Prober{}, check("http", srv.URL, func(c *sw.Check) { c.BodyMatch = "ok" })
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if o := p.Run(context.Background(), c); !o.OK {
					b.Fatal(o.Err)
				}
			}
		})
	})
}
