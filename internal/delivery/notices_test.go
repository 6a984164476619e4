package delivery_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/delivery"
	"github.com/stormwatch/stormwatch/internal/notify"
	"github.com/stormwatch/stormwatch/internal/smtptest"
	"github.com/stormwatch/stormwatch/internal/store"
	"github.com/stormwatch/stormwatch/internal/store/storetest"
)

// TestAdminsHearOfADisabledSubscriber: when a receiver has failed for a
// day, the workspace's owners and admins get a mail (editors do not), and
// the notice is kept until a mailer can send it.
func TestAdminsHearOfADisabledSubscriber(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		in, addr := smtptest.Start(t)
		w := start(t, st, &notify.Guard{AllowPrivate: true}, delivery.Retry{Base: 20 * time.Millisecond, Max: 50 * time.Millisecond, GiveUp: 300 * time.Millisecond})
		err := st.Tx(ctx, func(tx *store.Tx) error {
			for _, m := range []struct {
				email string
				role  sw.Role
			}{{"owner@example.com", sw.RoleOwner}, {"admin@example.com", sw.RoleAdmin}, {"editor@example.com", sw.RoleEditor}} {
				u := &sw.User{Email: m.email}
				if err := tx.CreateUser(ctx, u, ""); err != nil {
					return err
				}
				if err := tx.AddMember(ctx, w.ws, u.ID, m.role); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		rc := newReceiver(t, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500)
		sub := w.subscribe(t, rc.URL, "", sw.ImpactNone)
		w.incident(t, "edge", sw.MajorOutage)
		// No mailer in this worker: the notice waits.
		waitFor(t, "a pending notice", func() bool { n, _ := st.PendingNotices(ctx, w.ws); return len(n) == 1 })
		n, _ := st.PendingNotices(ctx, w.ws)
		if !strings.Contains(n[0].Subject, rc.URL) || !strings.Contains(n[0].Body, sub.ID) {
			t.Errorf("notice %+v", n[0])
		}
		// A worker with a mailer sends it to the owner and the admin.
		mailingWorker(t, st, addr)
		waitFor(t, "two mails", func() bool { return len(in.Received()) >= 2 })
		time.Sleep(100 * time.Millisecond)
		got := in.Received()
		var to []string
		for _, m := range got {
			to = append(to, m.To)
			if !strings.Contains(m.Data, "Notifications to "+rc.URL+" stopped") || !strings.Contains(m.Data, "http://status.test/admin/") {
				t.Errorf("mail to %s:\n%s", m.To, m.Data)
			}
		}
		if len(got) != 2 || strings.Join(to, " ") != "admin@example.com owner@example.com" && strings.Join(to, " ") != "owner@example.com admin@example.com" {
			t.Errorf("notice mailed to %v", to)
		}
		if n, _ := st.PendingNotices(ctx, w.ws); len(n) != 0 {
			t.Errorf("%d notices still pending", len(n))
		}
	})
}

// mailingWorker runs a delivery worker that mails through the SMTP
// server at addr.
func mailingWorker(t *testing.T, st *store.Store, addr string) {
	t.Helper()
	mailingWorkerRetry(t, st, addr, delivery.DefaultRetry)
}

func mailingWorkerRetry(t *testing.T, st *store.Store, addr string, retry delivery.Retry) {
	t.Helper()
	cfg, err := notify.ParseSMTPURL("smtp://" + addr + "?starttls=off")
	if err != nil {
		t.Fatal(err)
	}
	mailer := notify.NewMailer(cfg, 1, 5*time.Second)
	t.Cleanup(mailer.Close)
	wk := delivery.New(delivery.Config{Store: st, Webhooks: notify.NewWebhookSender(&notify.Guard{}, time.Second), Mailer: mailer,
		MailFrom: "status@status.test", BaseURL: "http://status.test", Log: slog.New(slog.DiscardHandler), Poll: 20 * time.Millisecond, Retry: retry})
	st.OnNotify(wk.Wake)
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { wk.Run(runCtx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// TestWorkspaceMailIsDKIMSigned: a workspace that sends from its own
// domain gets a key, and its subscribers' mail verifies against the
// record the dashboard shows.
func TestWorkspaceMailIsDKIMSigned(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		in, addr := smtptest.Start(t)
		w := start(t, st, &notify.Guard{AllowPrivate: true}, fast)
		w.stop()
		err := st.Tx(ctx, func(tx *store.Tx) error {
			ws, err := tx.Workspace(ctx, w.ws)
			if err != nil {
				return err
			}
			ws.MailFrom = "status@acme.example"
			if err := tx.UpdateWorkspace(ctx, ws); err != nil {
				return err
			}
			if err := tx.EnsureDKIMKey(ctx, ws.ID, ws.MailDomain(), notify.NewDKIMKey); err != nil {
				return err
			}
			now := time.Now()
			return tx.CreateSubscriber(ctx, &sw.Subscriber{WorkspaceID: w.ws, Type: sw.SubscriberEmail, Email: "ops@example.com",
				MinImpact: sw.ImpactNone, ConfirmedAt: &now}, "", []string{})
		})
		if err != nil {
			t.Fatal(err)
		}
		mailingWorker(t, st, addr)
		w.incident(t, "edge", sw.MajorOutage)
		waitFor(t, "a mail", func() bool { return len(in.Received()) >= 1 })
		k, err := st.DKIMKey(ctx, w.ws, "acme.example")
		if err != nil {
			t.Fatal(err)
		}
		signer, _ := notify.ParseDKIMKey(k.PrivateKey)
		record, _ := notify.DKIMRecord(signer)
		raw := in.Received()[0].Data
		vs, err := dkim.VerifyWithOptions(strings.NewReader(raw), &dkim.VerifyOptions{LookupTXT: func(name string) ([]string, error) {
			if name != k.Selector+"._domainkey.acme.example" {
				return nil, fmt.Errorf("no TXT at %s", name)
			}
			return []string{record}, nil
		}})
		if err != nil || len(vs) != 1 || vs[0].Err != nil || vs[0].Domain != "acme.example" {
			t.Fatalf("verification %+v, %v\n%s", vs, err, raw)
		}
		if !strings.Contains(raw, "From: \"Acme Games\" <status@acme.example>") {
			t.Errorf("mail not from the workspace's address:\n%s", raw)
		}
	})
}

// TestSMTPServerDownThenBack: mails wait, retried with backoff, while the
// SMTP server is down, and all arrive once it is back; none is lost.
func TestSMTPServerDownThenBack(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close() // nothing listens there yet
		w := start(t, st, &notify.Guard{AllowPrivate: true}, fast)
		w.stop()
		err = st.Tx(ctx, func(tx *store.Tx) error {
			now := time.Now()
			for i := range 20 {
				if err := tx.CreateSubscriber(ctx, &sw.Subscriber{WorkspaceID: w.ws, Type: sw.SubscriberEmail, Email: fmt.Sprintf("ops%d@example.com", i),
					MinImpact: sw.ImpactNone, ConfirmedAt: &now}, "", []string{}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		mailingWorkerRetry(t, st, addr, fast)
		w.incident(t, "edge", sw.MajorOutage)
		waitFor(t, "failed attempts", func() bool {
			return len(w.deliveries(t, store.DeliveryFilter{State: sw.DeliveryPending})) == 20 && attempts(t, st, w.ws) >= 40
		})
		in, _ := smtptest.StartOn(t, addr)
		waitFor(t, "20 mails", func() bool { return len(in.Received()) >= 20 })
		waitFor(t, "all delivered", func() bool { return len(w.deliveries(t, store.DeliveryFilter{State: sw.DeliveryDelivered})) == 20 })
		if n := len(in.Received()); n != 20 {
			t.Errorf("%d mails arrived, want 20", n)
		}
	})
}

// attempts counts the delivery attempts logged in workspace ws.
func attempts(t *testing.T, st *store.Store, ws string) int {
	t.Helper()
	ds, _, err := st.Deliveries(context.Background(), ws, store.DeliveryFilter{}, store.Page{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range ds {
		n += d.Attempts
	}
	return n
}
