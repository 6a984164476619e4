package delivery_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	pd "github.com/PagerDuty/go-pagerduty"
	"github.com/slack-go/slack"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/channel"
	"github.com/stormwatch/stormwatch/internal/channel/channels"
	"github.com/stormwatch/stormwatch/internal/channel/channeltest"
	"github.com/stormwatch/stormwatch/internal/channel/telegram"
	"github.com/stormwatch/stormwatch/internal/delivery"
	"github.com/stormwatch/stormwatch/internal/notify"
	"github.com/stormwatch/stormwatch/internal/store"
	"github.com/stormwatch/stormwatch/internal/store/storetest"
	"github.com/stormwatch/stormwatch/internal/subscription"
)

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// receiver is a real HTTP server that records what it gets and answers
// with the statuses it is told, in turn (then 200).
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	got     []*http.Request
	bodies  [][]byte
	answers []int // 0: hang past the sender's timeout
}

func newReceiver(t *testing.T, answers ...int) *receiver {
	rc := &receiver{answers: answers}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, r)
		rc.bodies = append(rc.bodies, body)
		status := 200
		if len(rc.answers) > 0 {
			status, rc.answers = rc.answers[0], rc.answers[1:]
		}
		rc.mu.Unlock()
		if status == 0 {
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
			return
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) requests() ([]*http.Request, [][]byte) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]*http.Request(nil), rc.got...), append([][]byte(nil), rc.bodies...)
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type fixedDNS map[string]netip.Addr

func (d fixedDNS) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := d[host]; ok {
		return []netip.Addr{a}, nil
	}
	return nil, &net404{host}
}

type net404 struct{ host string }

func (e *net404) Error() string { return "no such host " + e.host }

// world is a workspace with components edge and core, and a running worker.
type world struct {
	st   *store.Store
	ws   string
	stop func()
}

func start(t *testing.T, st *store.Store, guard *notify.Guard, retry delivery.Retry) *world {
	t.Helper()
	return startWith(t, st, guard, retry, nil)
}

// startWith starts a worker that also sends to chat and on-call
// subscribers with chans.
func startWith(t *testing.T, st *store.Store, guard *notify.Guard, retry delivery.Retry, chans map[string]channel.Sender) *world {
	t.Helper()
	ctx := context.Background()
	var ws string
	err := st.Tx(ctx, func(tx *store.Tx) error {
		w := &sw.Workspace{Slug: "acme", Name: "Acme Games"}
		if err := tx.CreateWorkspace(ctx, w); err != nil {
			return err
		}
		ws = w.ID
		for _, name := range []string{"Edge", "Core"} {
			if err := tx.CreateComponent(ctx, &sw.Component{WorkspaceID: ws, Name: name, Slug: strings.ToLower(name)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wk := delivery.New(delivery.Config{Store: st, Webhooks: notify.NewWebhookSender(guard, 500*time.Millisecond),
		Links: notify.Links{Key: []byte("k")}, MailFrom: "status@status.test", BaseURL: "http://status.test",
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Retry: retry, Poll: 20 * time.Millisecond, Lease: 5 * time.Second, Channels: chans})
	st.OnNotify(wk.Wake)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { wk.Run(runCtx); close(done) }()
	w := &world{st: st, ws: ws, stop: func() { cancel(); <-done }}
	t.Cleanup(w.stop)
	return w
}

func (w *world) subscribe(t *testing.T, url, format string, minImpact sw.Impact, comps ...string) *sw.Subscriber {
	t.Helper()
	now := time.Now()
	sub := &sw.Subscriber{WorkspaceID: w.ws, Type: sw.SubscriberWebhook, URL: url, Format: format, MinImpact: minImpact, ConfirmedAt: &now}
	if comps == nil {
		comps = []string{}
	}
	if err := w.st.Tx(context.Background(), func(tx *store.Tx) error { return tx.CreateSubscriber(context.Background(), sub, secret, comps) }); err != nil {
		t.Fatal(err)
	}
	return sub
}

func (w *world) incident(t *testing.T, comp string, status sw.ComponentStatus) *sw.Incident {
	t.Helper()
	inc := &sw.Incident{WorkspaceID: w.ws, Title: "DDoS attack detected on US-East cluster"}
	err := w.st.Tx(context.Background(), func(tx *store.Tx) error {
		return tx.CreateIncident(context.Background(), inc, []store.ComponentChange{{Ref: comp, Status: status}}, "We are looking into it.", nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	return inc
}

func (w *world) deliveries(t *testing.T, f store.DeliveryFilter) []sw.Delivery {
	t.Helper()
	ds, _, err := w.st.Deliveries(context.Background(), w.ws, f, store.Page{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

var fast = delivery.Retry{Base: 50 * time.Millisecond, Max: 200 * time.Millisecond, GiveUp: time.Hour}

func TestWebhookBodyAndSignature(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := start(t, st, &notify.Guard{AllowPrivate: true}, fast)
		rc := newReceiver(t)
		w.subscribe(t, rc.URL+"/hook", "", sw.ImpactNone, "edge")
		inc := w.incident(t, "edge", sw.PartialOutage)
		waitFor(t, "the webhook", func() bool { r, _ := rc.requests(); return len(r) == 1 })
		reqs, bodies := rc.requests()
		wh, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			t.Fatal(err)
		}
		if err := wh.Verify(bodies[0], reqs[0].Header); err != nil {
			t.Fatalf("the Standard Webhooks library refuses the signature: %v", err)
		}
		want := `{"event":"incident.created","incident":{"id":"` + inc.ID + `","title":"DDoS attack detected on US-East cluster",` +
			`"severity":"high","status":"investigating","components":["edge"],"created_at":"` + inc.CreatedAt.Format(time.RFC3339) + `",`
		if !strings.HasPrefix(string(bodies[0]), want) {
			t.Fatalf("body starts\n%s\nwant\n%s", bodies[0], want)
		}
		var full map[string]any
		if err := json.Unmarshal(bodies[0], &full); err != nil {
			t.Fatal(err)
		}
		if u := full["incident"].(map[string]any)["url"]; u != "http://status.test/s/acme/incidents/"+inc.ID {
			t.Errorf("incident url %v", u)
		}
		if ct := reqs[0].Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("content type %q", ct)
		}
		ds := w.deliveries(t, store.DeliveryFilter{})
		if len(ds) != 1 || ds[0].ID != reqs[0].Header.Get("webhook-id") {
			t.Fatalf("delivery log %+v, webhook-id %s", ds, reqs[0].Header.Get("webhook-id"))
		}
		waitFor(t, "delivered state", func() bool {
			return w.deliveries(t, store.DeliveryFilter{State: sw.DeliveryDelivered}) != nil
		})

		// Resolving it sends incident.resolved to the same receiver.
		err = st.Tx(context.Background(), func(tx *store.Tx) error {
			resolved, msg := sw.Resolved, "Traffic is back to normal."
			_, err := tx.EditIncident(context.Background(), w.ws, inc.ID, store.IncidentEdit{Status: &resolved, Message: &msg})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the second webhook", func() bool { r, _ := rc.requests(); return len(r) == 2 })
		_, bodies = rc.requests()
		if !strings.HasPrefix(string(bodies[1]), `{"event":"incident.resolved","incident":{"id":"`+inc.ID) ||
			!strings.Contains(string(bodies[1]), `"message":"Traffic is back to normal."`) {
			t.Errorf("resolution body %s", bodies[1])
		}
	})
}

func TestWebhookRetriesUnderTheSameID(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := start(t, st, &notify.Guard{AllowPrivate: true}, fast)
		rc := newReceiver(t, 500, 503, 0, 200) // two errors, a timeout, then success
		w.subscribe(t, rc.URL, "", sw.ImpactNone)
		w.incident(t, "edge", sw.MajorOutage)
		waitFor(t, "four attempts", func() bool { r, _ := rc.requests(); return len(r) >= 4 })
		waitFor(t, "delivered", func() bool { return len(w.deliveries(t, store.DeliveryFilter{State: sw.DeliveryDelivered})) == 1 })
		reqs, _ := rc.requests()
		id := reqs[0].Header.Get("webhook-id")
		for i, r := range reqs {
			if r.Header.Get("webhook-id") != id {
				t.Errorf("attempt %d has webhook-id %s, first had %s", i+1, r.Header.Get("webhook-id"), id)
			}
		}
		d, attempts, err := st.Delivery(context.Background(), w.ws, id)
		if err != nil {
			t.Fatal(err)
		}
		var codes []int
		for _, a := range attempts {
			codes = append(codes, a.StatusCode)
		}
		if d.Attempts != 4 || len(attempts) != 4 || codes[0] != 500 || codes[1] != 503 || codes[2] != 0 || codes[3] != 200 {
			t.Fatalf("delivery %+v attempts %+v", d, attempts)
		}
		if !strings.Contains(attempts[2].Error, "Timeout") && !strings.Contains(attempts[2].Error, "deadline") {
			t.Errorf("the timed-out attempt says %q", attempts[2].Error)
		}
		// The waits grew: backoff, not a hot loop.
		if gap1, gap2 := attempts[1].At.Sub(attempts[0].At), attempts[2].At.Sub(attempts[1].At); gap2 <= gap1/2 || gap1 < 30*time.Millisecond {
			t.Errorf("waits %s then %s: not an exponential backoff", gap1, gap2)
		}
	})
}

func TestFailingSubscriberIsDisabled(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := start(t, st, &notify.Guard{AllowPrivate: true}, delivery.Retry{Base: 20 * time.Millisecond, Max: 50 * time.Millisecond, GiveUp: 400 * time.Millisecond})
		rc := newReceiver(t, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500)
		sub := w.subscribe(t, rc.URL, "", sw.ImpactNone)
		w.incident(t, "edge", sw.MajorOutage)
		waitFor(t, "failed delivery", func() bool { return len(w.deliveries(t, store.DeliveryFilter{State: sw.DeliveryFailed})) == 1 })
		got, err := st.Subscriber(context.Background(), w.ws, sub.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.DisabledAt == nil || !strings.Contains(got.DisabledReason, "500") {
			t.Fatalf("subscriber after a failing day: %+v", got)
		}
		log, _, err := st.AuditLog(context.Background(), w.ws, store.Page{Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(log, func(e sw.AuditEntry) bool { return e.Action == "subscriber.disabled" && e.TargetID == sub.ID }) {
			t.Errorf("no audit notice of the disabling: %+v", log)
		}
		// A disabled subscriber hears nothing more.
		before, _ := rc.requests()
		w.incident(t, "edge", sw.PartialOutage)
		time.Sleep(300 * time.Millisecond)
		if after, _ := rc.requests(); len(after) != len(before) {
			t.Errorf("disabled subscriber got %d more requests", len(after)-len(before))
		}
	})
}

func TestWhoIsTold(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := start(t, st, &notify.Guard{AllowPrivate: true}, fast)
		rc := newReceiver(t)
		w.subscribe(t, rc.URL+"/all", "", sw.ImpactNone)
		w.subscribe(t, rc.URL+"/edge", "", sw.ImpactNone, "edge")
		core := w.subscribe(t, rc.URL+"/core", "", sw.ImpactNone, "core")
		critical := w.subscribe(t, rc.URL+"/critical", "", sw.ImpactCritical)
		inc := w.incident(t, "edge", sw.PartialOutage) // impact major
		waitFor(t, "two webhooks", func() bool { r, _ := rc.requests(); return len(r) >= 2 })
		time.Sleep(200 * time.Millisecond)
		reqs, _ := rc.requests()
		var paths []string
		for _, r := range reqs {
			paths = append(paths, r.URL.Path)
		}
		if len(reqs) != 2 || !slices.ContainsFunc(paths, func(p string) bool { return p == "/all" }) || !slices.ContainsFunc(paths, func(p string) bool { return p == "/edge" }) {
			t.Fatalf("impact %s on edge reached %v; want /all and /edge only", inc.Impact, paths)
		}
		for _, s := range []*sw.Subscriber{core, critical} {
			if ds := w.deliveries(t, store.DeliveryFilter{SubscriberID: s.ID}); len(ds) != 0 {
				t.Errorf("%s got deliveries %+v", s.URL, ds)
			}
		}
	})
}

func TestStatuspageFormat(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := start(t, st, &notify.Guard{AllowPrivate: true}, fast)
		rc := newReceiver(t)
		w.subscribe(t, rc.URL, sw.FormatStatuspage, sw.ImpactNone)
		inc := w.incident(t, "edge", sw.MajorOutage)
		waitFor(t, "the webhook", func() bool { r, _ := rc.requests(); return len(r) == 1 })
		_, bodies := rc.requests()
		var got struct {
			Meta struct {
				Unsubscribe, Documentation string
			}
			Page struct {
				ID                string `json:"id"`
				StatusIndicator   string `json:"status_indicator"`
				StatusDescription string `json:"status_description"`
			}
			Incident map[string]json.RawMessage
		}
		if err := json.Unmarshal(bodies[0], &got); err != nil {
			t.Fatal(err)
		}
		if got.Page.ID != w.ws || got.Page.StatusIndicator != "critical" || got.Page.StatusDescription == "" || !strings.Contains(got.Meta.Unsubscribe, "/subscriptions/unsubscribe?") {
			t.Errorf("meta/page %+v %+v", got.Meta, got.Page)
		}
		for _, field := range []string{"backfilled", "created_at", "impact", "impact_override", "monitoring_at", "postmortem_body",
			"postmortem_body_last_updated_at", "postmortem_ignored", "postmortem_notified_subscribers", "postmortem_notified_twitter",
			"postmortem_published_at", "resolved_at", "scheduled_auto_transition", "scheduled_for", "scheduled_remind_prior",
			"scheduled_reminded_at", "scheduled_until", "shortlink", "status", "updated_at", "id", "organization_id", "incident_updates", "name"} {
			if _, ok := got.Incident[field]; !ok {
				t.Errorf("Statuspage incident field %s missing", field)
			}
		}
		if string(got.Incident["name"]) != `"`+inc.Title+`"` || string(got.Incident["status"]) != `"investigating"` || string(got.Incident["impact"]) != `"critical"` {
			t.Errorf("incident %s", bodies[0])
		}
	})
}

// A webhook host that resolved to a public address when it subscribed and
// to loopback now (DNS rebinding) is refused at the moment of the dial.
func TestRebindingIsRefusedAtDelivery(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		rc := newReceiver(t)
		port := rc.URL[strings.LastIndex(rc.URL, ":")+1:]
		guard := &notify.Guard{Resolver: fixedDNS{"hooks.rebind.example": netip.MustParseAddr("127.0.0.1")}}
		w := start(t, st, guard, fast)
		w.subscribe(t, "http://hooks.rebind.example:"+port+"/x", "", sw.ImpactNone)
		w.incident(t, "edge", sw.MajorOutage)
		waitFor(t, "failed delivery", func() bool { return len(w.deliveries(t, store.DeliveryFilter{State: sw.DeliveryFailed})) == 1 })
		if reqs, _ := rc.requests(); len(reqs) != 0 {
			t.Fatalf("the receiver on loopback was reached %d times", len(reqs))
		}
		d := w.deliveries(t, store.DeliveryFilter{})[0]
		_, attempts, _ := st.Delivery(context.Background(), w.ws, d.ID)
		if len(attempts) != 1 || !strings.Contains(attempts[0].Error, "127.0.0.1") || !strings.Contains(attempts[0].Error, "internal") {
			t.Errorf("attempts %+v", attempts)
		}
	})
}

// Chat and on-call subscribers go through the same worker as webhooks:
// fan-out, retries after a 500 under the same delivery, and threading
// kept in the store (a Telegram update replies to the incident's first
// message, PagerDuty acknowledges and resolves its alert).
func TestChannelsThroughTheWorker(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		tg := channeltest.New(t, channeltest.Telegram, 1)
		pdr := channeltest.New(t, channeltest.PagerDuty, 0)
		e := channels.Endpoints{"telegram": tg.URL, "pagerduty": pdr.URL}
		guard := &notify.Guard{AllowPrivate: true}
		w := startWith(t, st, guard, fast, channels.New(channel.NewPoster(notify.NewWebhookSender(guard, time.Second)), e))
		ctx := context.Background()
		for _, in := range []*subscription.Input{
			{Type: sw.SubscriberTelegram, BotToken: "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", ChatID: "-1001234567890"},
			{Type: sw.SubscriberPagerDuty, RoutingKey: "R0UT1NGK3Y0123456789abcdefABCDEF"},
		} {
			sub, secret, err := subscription.Build(ctx, guard, w.ws, in, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if err := st.Tx(ctx, func(tx *store.Tx) error { return tx.CreateSubscriber(ctx, sub, secret, []string{}) }); err != nil {
				t.Fatal(err)
			}
		}
		inc := w.incident(t, "edge", sw.MajorOutage)
		delivered := func(n int) func() bool {
			return func() bool { return len(w.deliveries(t, store.DeliveryFilter{State: sw.DeliveryDelivered})) == n }
		}
		waitFor(t, "the first messages", delivered(2))
		for _, status := range []sw.IncidentStatus{sw.Identified, sw.Resolved} {
			msg := "Now " + string(status) + "."
			err := st.Tx(ctx, func(tx *store.Tx) error {
				_, err := tx.EditIncident(ctx, w.ws, inc.ID, store.IncidentEdit{Status: &status, Message: &msg})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		waitFor(t, "every message", delivered(6))
		msgs := tg.Accepted()
		if len(msgs) != 3 {
			t.Fatalf("telegram accepted %d messages", len(msgs))
		}
		for _, m := range msgs[1:] {
			if r := m.Decoded.(*telegram.SendMessage).ReplyParameters; r == nil || r.MessageID != 1001 {
				t.Errorf("an update does not reply to the first message (1001): %+v", r)
			}
		}
		var actions []string
		for _, m := range pdr.Accepted() {
			actions = append(actions, m.Decoded.(*pd.V2Event).Action)
		}
		if strings.Join(actions, " ") != "trigger acknowledge resolve" {
			t.Fatalf("pagerduty actions %v", actions)
		}
		ds := w.deliveries(t, store.DeliveryFilter{})
		retried := 0
		for _, d := range ds {
			if d.Attempts == 2 {
				retried++
			}
		}
		if retried != 1 {
			t.Fatalf("%d deliveries took two attempts, want 1 (the telegram 500)", retried)
		}
	})
}

// An operators' alert channel hears the admin notices, not the public
// incidents; notices go out without a mail server too.
func TestOperatorChannelHearsNotices(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		slackRecv := channeltest.New(t, channeltest.Slack, 0)
		guard := &notify.Guard{AllowPrivate: true}
		w := startWith(t, st, guard, fast, channels.New(channel.NewPoster(notify.NewWebhookSender(guard, time.Second)), nil))
		ctx := context.Background()
		sub, secret, err := subscription.Build(ctx, guard, w.ws, &subscription.Input{Type: sw.SubscriberSlack, URL: slackRecv.URL + "/ops", Operator: true}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Tx(ctx, func(tx *store.Tx) error { return tx.CreateSubscriber(ctx, sub, secret, []string{}) }); err != nil {
			t.Fatal(err)
		}
		w.incident(t, "edge", sw.MajorOutage)
		if err := st.Tx(ctx, func(tx *store.Tx) error {
			return tx.AddNotice(ctx, w.ws, "incident.draft", "Draft waiting: DDoS attack affecting Edge", "The rules made a draft.")
		}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the notice", func() bool { return len(slackRecv.Accepted()) == 1 })
		time.Sleep(200 * time.Millisecond)
		got := slackRecv.Accepted()
		if len(got) != 1 || !strings.Contains(got[0].Decoded.(*slack.WebhookMessage).Text, "Draft waiting") {
			t.Fatalf("operator channel got %d messages: %v", len(got), got)
		}
		if ds := w.deliveries(t, store.DeliveryFilter{}); len(ds) != 0 {
			t.Fatalf("the public incident was delivered to the operator channel: %+v", ds)
		}
		bad := &subscription.Input{Type: sw.SubscriberWebhook, URL: slackRecv.URL + "/x", Operator: true}
		sub2, secret2, err := subscription.Build(ctx, guard, w.ws, bad, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Tx(ctx, func(tx *store.Tx) error { return tx.CreateSubscriber(ctx, sub2, secret2, []string{}) }); err == nil {
			t.Fatal("a webhook was made an operator channel")
		}
	})
}
