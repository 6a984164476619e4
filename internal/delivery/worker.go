package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/channel"
	"github.com/stormwatch/stormwatch/internal/notify"
	"github.com/stormwatch/stormwatch/internal/page"
	"github.com/stormwatch/stormwatch/internal/store"
)

// Config is what a Worker sends with.
type Config struct {
	Store    *store.Store
	Webhooks *notify.WebhookSender
	// Mailer is nil when no --smtp-url is set: mails then wait, retried,
	// and the log says why.
	Mailer *notify.Mailer
	Links  notify.Links
	// MailFrom is the sender address of workspaces that set none.
	MailFrom string
	// BaseURL is the main host's URL: pages without a custom domain are
	// at BaseURL/s/{slug}.
	BaseURL string
	Log     *slog.Logger
	// Concurrency is how many deliveries are in flight at once.
	Concurrency int
	// Lease is how long a claimed delivery is this worker's; after it, a
	// crashed worker's deliveries go out again (same id).
	Lease time.Duration
	Retry Retry
	// Poll is how often the outbox is looked at without a wake-up.
	Poll time.Duration
	Now  func() time.Time
	// Channels send to chat and on-call subscribers, by type.
	Channels map[string]channel.Sender
	// Observe hears every attempt's channel (email, webhook) and
	// outcome (delivered, failed, refused), for metrics; it may be nil.
	Observe func(channel, outcome string)
}

// Worker runs the fan-out and the sending. Every replica may run one.
type Worker struct {
	cfg  Config
	wake chan struct{}

	mu     sync.Mutex
	events map[string]*sw.NotificationEvent
	sites  map[string]*siteEntry
}

type siteEntry struct {
	loaded time.Time
	snap   *sw.Snapshot
	root   string
	// dkim signs mail from the workspace's own sender address.
	dkim *notify.DKIM
}

// New returns a worker; call Run.
func New(cfg Config) *Worker {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 128
	}
	if cfg.Lease <= 0 {
		cfg.Lease = time.Minute
	}
	if cfg.Retry.Base <= 0 {
		cfg.Retry = DefaultRetry
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Worker{cfg: cfg, wake: make(chan struct{}, 1), events: map[string]*sw.NotificationEvent{}, sites: map[string]*siteEntry{}}
}

// Wake makes the worker look at the outbox now (a transaction wrote to it).
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run fans out and sends until ctx ends; what is in flight then is left
// to its lease.
func (w *Worker) Run(ctx context.Context) {
	results := make(chan store.Outcome, 4*w.cfg.Concurrency)
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		w.record(results)
	}()
	slots := make(chan struct{}, w.cfg.Concurrency)
	var inflight sync.WaitGroup
	tick := time.NewTicker(w.cfg.Poll)
	defer tick.Stop()
	for ctx.Err() == nil {
		if err := w.fanOut(ctx); err != nil && ctx.Err() == nil {
			w.cfg.Log.Error("notification fan-out", "err", err)
		}
		free := cap(slots) - len(slots)
		var claimed []store.Outbound
		if free > 0 {
			err := w.cfg.Store.Tx(ctx, func(tx *store.Tx) error {
				var err error
				claimed, err = tx.ClaimDeliveries(ctx, min(free, 500), w.cfg.Lease)
				return err
			})
			if err != nil && ctx.Err() == nil {
				w.cfg.Log.Error("claim deliveries", "err", err)
			}
		}
		for _, o := range claimed {
			slots <- struct{}{}
			inflight.Go(func() {
				defer func() { <-slots }()
				results <- w.send(ctx, &o)
			})
		}
		if len(claimed) > 0 && len(claimed) == free {
			// There may be more due: claim again as slots free up.
			select {
			case slots <- struct{}{}:
				<-slots
			case <-ctx.Done():
			}
			continue
		}
		if len(claimed) > 0 {
			continue
		}
		if err := w.sendNotices(ctx); err != nil && ctx.Err() == nil {
			w.cfg.Log.Error("admin notices", "err", err)
		}
		select {
		case <-ctx.Done():
		case <-w.wake:
		case <-tick.C:
		}
	}
	inflight.Wait()
	close(results)
	<-recorded
}

// fanOut turns every pending event into deliveries.
func (w *Worker) fanOut(ctx context.Context) error {
	for {
		ids, err := w.cfg.Store.PendingEvents(ctx, 50)
		if err != nil || len(ids) == 0 {
			return err
		}
		for _, id := range ids {
			err := w.cfg.Store.Tx(ctx, func(tx *store.Tx) error {
				_, err := tx.FanOut(ctx, id)
				return err
			})
			if err != nil {
				return err
			}
		}
	}
}

// record writes outcomes in batches: many deliveries, one transaction.
func (w *Worker) record(results <-chan store.Outcome) {
	var batch []store.Outcome
	flush := func() {
		for len(batch) > 0 {
			var disabled []string
			err := w.cfg.Store.Tx(context.Background(), func(tx *store.Tx) error {
				var err error
				disabled, err = tx.RecordOutcomes(context.Background(), batch)
				return err
			})
			if err == nil {
				for _, id := range disabled {
					w.cfg.Log.Warn("subscriber disabled after a day of failed deliveries", "subscriber", id)
				}
				batch = batch[:0]
				return
			}
			// The database is away: keep the outcomes and try again. If
			// the process dies meanwhile, the leases expire and the
			// deliveries go out again under the same ids.
			w.cfg.Log.Error("record delivery outcomes", "err", err, "pending", len(batch))
			time.Sleep(time.Second)
		}
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case o, ok := <-results:
			if !ok {
				flush()
				return
			}
			if len(batch) == 0 {
				timer.Reset(20 * time.Millisecond)
			}
			if batch = append(batch, o); len(batch) >= 500 {
				flush()
			}
		case <-timer.C:
			flush()
		}
	}
}

// send makes one attempt of a claimed delivery.
func (w *Worker) send(ctx context.Context, o *store.Outbound) store.Outcome {
	start := w.cfg.Now()
	out := store.Outcome{DeliveryID: o.ID, WorkspaceID: o.WorkspaceID, SubscriberID: o.SubscriberID, Attempt: o.Attempts, At: start}
	status, permanent, err := w.attempt(ctx, o, start)
	out.Duration, out.StatusCode = w.cfg.Now().Sub(start), status
	outcome := "delivered"
	defer func() {
		if w.cfg.Observe != nil {
			w.cfg.Observe(o.Subscriber.Type, outcome)
		}
	}()
	if err == nil {
		return out
	}
	out.Err = err.Error()
	if len(out.Err) > 500 {
		out.Err = out.Err[:500]
	}
	outcome = "refused"
	if !permanent {
		outcome = "failed"
		out.Retry, _ = w.cfg.Retry.Next(o.Attempts, o.CreatedAt, w.cfg.Now(), rand.Float64())
	}
	// Once per failed attempt, where it is handled: what failed, why, and
	// what happens next.
	w.cfg.Log.Warn("delivery attempt failed", "delivery", o.ID, "subscriber", o.SubscriberID, "channel", o.Subscriber.Type,
		"attempt", o.Attempts, "status", status, "err", err, "permanent", permanent, "retry_at", out.Retry)
	return out
}

func (w *Worker) attempt(ctx context.Context, o *store.Outbound, now time.Time) (status int, permanent bool, err error) {
	ev, err := w.event(o)
	if err != nil {
		return 0, true, err
	}
	site, err := w.site(ctx, o.WorkspaceID, ev.At)
	if err != nil {
		return 0, false, err
	}
	root := site.root
	if o.Subscriber.PageRoot != "" {
		root = o.Subscriber.PageRoot
	}
	switch o.Subscriber.Type {
	case sw.SubscriberWebhook:
		var body []byte
		if o.Subscriber.Format == sw.FormatStatuspage {
			body, err = page.StatuspageWebhook(site.snap, page.Site{RootURL: root}, ev, w.cfg.Links.Unsubscribe(root, o.SubscriberID))
		} else {
			body, err = notify.WebhookBody(ev, &site.snap.Workspace, root)
		}
		if err != nil {
			return 0, true, err
		}
		res := w.cfg.Webhooks.Send(ctx, o.Subscriber.URL, o.ID, o.Secret, now, body)
		return res.StatusCode, res.Permanent, res.Err
	case sw.SubscriberEmail:
		if w.cfg.Mailer == nil {
			return 0, false, errors.New("no SMTP server configured (--smtp-url); the mail waits")
		}
		from := site.snap.Workspace.MailFrom
		if from == "" {
			from = w.cfg.MailFrom
		}
		m, err := notify.ComposeMail(ev, o.ID, &o.Subscriber, notify.MailContext{Workspace: &site.snap.Workspace,
			Components: site.snap.Components, Root: root, From: from, Links: w.cfg.Links, Now: now})
		if err != nil {
			return 0, true, err
		}
		if site.snap.Workspace.MailFrom != "" {
			m.DKIM = site.dkim
		}
		return 0, false, w.cfg.Mailer.Send(ctx, m)
	}
	if sender, ok := w.cfg.Channels[o.Subscriber.Type]; ok {
		return w.toChannel(ctx, sender, o, ev, site, root)
	}
	return 0, true, fmt.Errorf("subscriber type %q", o.Subscriber.Type)
}

// toChannel sends to a chat or on-call tool, replying to the subject's
// first message where the tool threads.
func (w *Worker) toChannel(ctx context.Context, sender channel.Sender, o *store.Outbound, ev *sw.NotificationEvent, site *siteEntry,
	root string) (int, bool, error) {
	names := make(map[string]string, len(site.snap.Components))
	for _, c := range site.snap.Components {
		names[c.Slug] = c.Name
	}
	m := channel.FromEvent(ev, site.snap.Workspace.PageName(), root, names)
	t := channel.Target{URL: o.Subscriber.URL, Credential: o.Secret, ChatID: o.Subscriber.ChatID}
	var err error
	if t.Thread, err = w.cfg.Store.Thread(ctx, o.SubscriberID, m.Subject); err != nil {
		return 0, false, err
	}
	r := sender.Send(ctx, t, m)
	if r.Err == nil && r.Thread != "" && t.Thread == "" && m.Subject != "" {
		if err := w.cfg.Store.StartThread(ctx, o.SubscriberID, m.Subject, r.Thread); err != nil {
			w.cfg.Log.Warn("keep the thread of a channel message", "subscriber", o.SubscriberID, "err", err)
		}
	}
	return r.Status, r.Permanent, r.Err
}

// event decodes a delivery's event once per process.
func (w *Worker) event(o *store.Outbound) (*sw.NotificationEvent, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ev, ok := w.events[o.EventID]; ok {
		return ev, nil
	}
	var ev sw.NotificationEvent
	if err := json.Unmarshal(o.Payload, &ev); err != nil {
		return nil, fmt.Errorf("event %s does not decode: %w", o.EventID, err)
	}
	ev.WorkspaceID = o.WorkspaceID
	if len(w.events) > 1000 {
		clear(w.events)
	}
	w.events[o.EventID] = &ev
	return &ev, nil
}

// siteTTL is how long a workspace's page state is reused across the
// deliveries of a burst.
const siteTTL = 2 * time.Second

// site returns workspace ws as it is now (branding, components, page
// status) and its default page root, loaded after the event at happened,
// so that a mail's footer shows what the event changed.
func (w *Worker) site(ctx context.Context, ws string, at time.Time) (*siteEntry, error) {
	now := w.cfg.Now()
	w.mu.Lock()
	e, ok := w.sites[ws]
	w.mu.Unlock()
	if ok && e.loaded.After(at) && now.Sub(e.loaded) < siteTTL {
		return e, nil
	}
	snap, err := w.cfg.Store.Snapshot(ctx, ws, now.Add(-24*time.Hour), now)
	if err != nil {
		return nil, err
	}
	root := strings.TrimSuffix(w.cfg.BaseURL, "/") + "/s/" + snap.Workspace.Slug
	if host, err := w.cfg.Store.VerifiedDomain(ctx, ws); err == nil && host != "" {
		scheme := "https"
		if u, err := url.Parse(w.cfg.BaseURL); err == nil && u.Scheme == "http" {
			scheme = "http"
		}
		root = scheme + "://" + host
	}
	e = &siteEntry{loaded: now, snap: snap, root: root}
	if domain := snap.Workspace.MailDomain(); domain != "" {
		if e.dkim, err = w.dkim(ctx, ws, domain); err != nil {
			return nil, err
		}
	}
	w.mu.Lock()
	w.sites[ws] = e
	w.mu.Unlock()
	return e, nil
}

// dkim loads the key that signs workspace ws's mail from domain, if it
// has one.
func (w *Worker) dkim(ctx context.Context, ws, domain string) (*notify.DKIM, error) {
	k, err := w.cfg.Store.DKIMKey(ctx, ws, domain)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	signer, err := notify.ParseDKIMKey(k.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("workspace %s: %w", ws, err)
	}
	return &notify.DKIM{Domain: k.Domain, Selector: k.Selector, Signer: signer}, nil
}
