package delivery_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	smtp "github.com/emersion/go-smtp"
	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/delivery"
	"github.com/stormwatch/stormwatch/internal/notify"
	"github.com/stormwatch/stormwatch/internal/store"
	"github.com/stormwatch/stormwatch/internal/store/storetest"
)

// The fan-out benchmarks publish one incident to 10,000 subscribers on
// local receivers and report how long until the first and the last
// delivery arrived. Each has a baseline measured in the same run: the same
// receiver fed the same number of requests (or mails) directly, with the
// same concurrency and no database, so BENCHMARKS.md can give ratios on
// a noisy shared machine.

const fanOutSize = 10_000

// counter is a receiver that notes when the first and the n-th request
// arrived.
type counter struct {
	n           int64
	got         atomic.Int64
	first, last atomic.Int64 // unix nanos
	done        chan struct{}
	once        sync.Once
}

func newCounter(n int) *counter { return &counter{n: int64(n), done: make(chan struct{})} }

func (c *counter) hit() {
	now := time.Now().UnixNano()
	c.first.CompareAndSwap(0, now)
	if c.got.Add(1) == c.n {
		c.last.Store(now)
		c.once.Do(func() { close(c.done) })
	}
}

func (c *counter) wait(b *testing.B) {
	select {
	case <-c.done:
	case <-time.After(2 * time.Minute):
		b.Fatalf("only %d of %d arrived", c.got.Load(), c.n)
	}
}

func webhookReceiver(c *counter) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		c.hit()
	}))
}

func benchFanOut(b *testing.B, d store.Dialect, kind string) {
	for range b.N {
		b.StopTimer()
		st := storetest.Open(b, d)
		c := newCounter(fanOutSize)
		var mailer *notify.Mailer
		var url string
		switch kind {
		case sw.SubscriberWebhook:
			srv := webhookReceiver(c)
			defer srv.Close()
			url = srv.URL
		default:
			addr := smtpSink(b, c)
			host, port, _ := net.SplitHostPort(addr)
			cfg, _ := notify.ParseSMTPURL("smtp://" + host + ":" + port + "?starttls=off")
			mailer = notify.NewMailer(cfg, 8, 10*time.Second)
			defer mailer.Close()
		}
		ctx := context.Background()
		var ws string
		err := st.Tx(ctx, func(tx *store.Tx) error {
			w := &sw.Workspace{Slug: "acme", Name: "Acme Games"}
			if err := tx.CreateWorkspace(ctx, w); err != nil {
				return err
			}
			ws = w.ID
			if err := tx.CreateComponent(ctx, &sw.Component{WorkspaceID: ws, Name: "Edge", Slug: "edge"}); err != nil {
				return err
			}
			now := time.Now()
			for i := range fanOutSize {
				s := &sw.Subscriber{WorkspaceID: ws, Type: kind, MinImpact: sw.ImpactNone, ConfirmedAt: &now}
				if kind == sw.SubscriberWebhook {
					s.URL = fmt.Sprintf("%s/hook/%d", url, i)
				} else {
					s.Email = fmt.Sprintf("user%d@example.com", i)
				}
				if err := tx.CreateSubscriber(ctx, s, secret, []string{}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		wk := delivery.New(delivery.Config{Store: st, Webhooks: notify.NewWebhookSender(&notify.Guard{AllowPrivate: true}, 5*time.Second),
			Mailer: mailer, Links: notify.Links{Key: []byte("k")}, MailFrom: "status@acme.test", BaseURL: "http://status.test",
			Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Poll: time.Second})
		st.OnNotify(wk.Wake)
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { wk.Run(runCtx); close(done) }()
		b.StartTimer()
		start := time.Now()
		err = st.Tx(ctx, func(tx *store.Tx) error {
			inc := &sw.Incident{WorkspaceID: ws, Title: "DDoS attack detected on US-East cluster"}
			return tx.CreateIncident(ctx, inc, []store.ComponentChange{{Ref: "edge", Status: sw.MajorOutage}}, "Mitigating.", nil)
		})
		if err != nil {
			b.Fatal(err)
		}
		c.wait(b)
		b.StopTimer()
		b.ReportMetric(float64(time.Unix(0, c.first.Load()).Sub(start).Milliseconds()), "first-ms")
		b.ReportMetric(time.Unix(0, c.last.Load()).Sub(start).Seconds(), "all-s")
		cancel()
		<-done
	}
}

func BenchmarkFanOutWebhooksSQLite(b *testing.B) { benchFanOut(b, store.SQLite, sw.SubscriberWebhook) }
func BenchmarkFanOutWebhooksPostgres(b *testing.B) {
	benchFanOut(b, store.Postgres, sw.SubscriberWebhook)
}
func BenchmarkFanOutEmailsSQLite(b *testing.B) { benchFanOut(b, store.SQLite, sw.SubscriberEmail) }

// BenchmarkBaselineWebhooks posts 10,000 requests of the same size to the
// same kind of receiver with the worker's concurrency, without database.
func BenchmarkBaselineWebhooks(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 500)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}}
	for b.Loop() {
		c := newCounter(fanOutSize)
		srv := webhookReceiver(c)
		start := time.Now()
		var wg sync.WaitGroup
		next := atomic.Int64{}
		for range 128 {
			wg.Go(func() {
				for next.Add(1) <= fanOutSize {
					res, err := client.Post(srv.URL, "application/json", bytes.NewReader(body))
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
			})
		}
		wg.Wait()
		c.wait(b)
		b.ReportMetric(time.Unix(0, c.last.Load()).Sub(start).Seconds(), "all-s")
		srv.Close()
	}
}

// BenchmarkBaselineEmails sends 10,000 ready-made mails over the same 8
// SMTP connections to the same sink, without database or rendering.
func BenchmarkBaselineEmails(b *testing.B) {
	for b.Loop() {
		c := newCounter(fanOutSize)
		addr := smtpSink(b, c)
		host, port, _ := net.SplitHostPort(addr)
		cfg, _ := notify.ParseSMTPURL("smtp://" + host + ":" + port + "?starttls=off")
		mailer := notify.NewMailer(cfg, 8, 10*time.Second)
		m := &notify.Mail{From: "status@acme.test", FromName: "Acme", To: "user@example.com", Subject: "[Investigating] x",
			MessageID: "x@acme.test", Text: "hello", HTML: "<p>hello</p>"}
		start := time.Now()
		var wg sync.WaitGroup
		next := atomic.Int64{}
		for range 128 {
			wg.Go(func() {
				for next.Add(1) <= fanOutSize {
					if err := mailer.Send(context.Background(), m); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		c.wait(b)
		b.ReportMetric(time.Unix(0, c.last.Load()).Sub(start).Seconds(), "all-s")
		mailer.Close()
	}
}

// smtpSink is a real SMTP server (go-smtp) on loopback that counts mails.
func smtpSink(b *testing.B, c *counter) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	s := smtp.NewServer(sinkBackend{c})
	s.Domain = "sink.test"
	s.AllowInsecureAuth = true
	s.MaxRecipients = 10
	go func() { _ = s.Serve(ln) }()
	b.Cleanup(func() { _ = s.Close() })
	return ln.Addr().String()
}

type sinkBackend struct{ c *counter }

func (k sinkBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return &sinkSession{c: k.c}, nil }

type sinkSession struct{ c *counter }

func (s *sinkSession) Reset()                               {}
func (s *sinkSession) Logout() error                        { return nil }
func (s *sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *sinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *sinkSession) Data(r io.Reader) error               { _, _ = io.Copy(io.Discard, r); s.c.hit(); return nil }
