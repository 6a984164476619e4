package delivery

import (
	"context"
	"fmt"
	"html"
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/stormwatch/stormwatch/internal/channel"
	"github.com/stormwatch/stormwatch/internal/notify"
	"github.com/stormwatch/stormwatch/internal/store"
)

// sendNotices mails due notices to their workspaces' owners and admins
// and posts them to the workspaces' operator channels, retrying with the
// deliveries' backoff but never giving up. Without a mailer, notices
// wait for a replica that has one (like subscribers' mails); a notice for
// a workspace nobody administers through the dashboard is done, as the
// audit log already holds what happened.
func (w *Worker) sendNotices(ctx context.Context) error {
	if w.cfg.Mailer == nil && len(w.cfg.Channels) == 0 {
		return nil
	}
	var notices []store.Notice
	err := w.cfg.Store.Tx(ctx, func(tx *store.Tx) error {
		var err error
		notices, err = tx.ClaimNotices(ctx, 20, w.cfg.Lease)
		return err
	})
	if err != nil {
		return err
	}
	for _, n := range notices {
		done := true
		for _, to := range n.To {
			if w.cfg.Mailer == nil {
				break // installed without mail: the channels carry it
			}
			if err := w.cfg.Mailer.Send(ctx, w.noticeMail(&n, to)); err != nil {
				w.cfg.Log.Warn("mail admin notice", "notice", n.ID, "to", to, "err", err)
				done = false
			}
		}
		if err := w.noticeChannels(ctx, &n); err != nil {
			w.cfg.Log.Warn("post admin notice", "notice", n.ID, "err", err)
			done = false
		}
		err := w.cfg.Store.Tx(ctx, func(tx *store.Tx) error {
			if done {
				return tx.NoticeSent(ctx, n.ID)
			}
			wait := min(float64(w.cfg.Retry.Base)*math.Pow(2, float64(n.Attempts-1)), float64(w.cfg.Retry.Max))
			return tx.RetryNotice(ctx, n.ID, w.cfg.Now().Add(time.Duration(wait)))
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (w *Worker) noticeMail(n *store.Notice, to string) *notify.Mail {
	host := "localhost"
	if u, err := url.Parse(w.cfg.BaseURL); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	link := strings.TrimSuffix(w.cfg.BaseURL, "/") + "/admin/"
	text := n.Body + "\n\n" + link + "\n"
	body := "<p>" + strings.ReplaceAll(html.EscapeString(n.Body), "\n\n", "</p><p>") + "</p><p><a href=\"" + html.EscapeString(link) + "\">Open the dashboard</a></p>"
	return &notify.Mail{From: w.cfg.MailFrom, FromName: "stormwatch", To: to, Subject: "[stormwatch] " + n.Subject,
		MessageID: fmt.Sprintf("%s.%s@%s", n.ID, strings.ReplaceAll(to, "@", "."), host), Text: text, HTML: body}
}

// noticeChannels posts notice n to its workspace's operator channels.
func (w *Worker) noticeChannels(ctx context.Context, n *store.Notice) error {
	subs, secrets, err := w.cfg.Store.OperatorChannels(ctx, n.WorkspaceID)
	if err != nil || len(subs) == 0 {
		return err
	}
	page := "stormwatch"
	if ws, err := w.cfg.Store.Workspace(ctx, n.WorkspaceID); err == nil {
		page = ws.PageName()
	}
	m := &channel.Message{Event: "notice." + n.Kind, Page: page, Title: n.Subject, Status: "Operator notice", Text: n.Body,
		Link: strings.TrimSuffix(w.cfg.BaseURL, "/") + "/admin/", Subject: n.ID, At: w.cfg.Now()}
	var firstErr error
	for i := range subs {
		sender, ok := w.cfg.Channels[subs[i].Type]
		if !ok {
			continue
		}
		res := sender.Send(ctx, channel.Target{URL: subs[i].URL, Credential: secrets[i], ChatID: subs[i].ChatID}, m)
		if res.Err != nil && firstErr == nil {
			firstErr = fmt.Errorf("%s channel %s: %w", subs[i].Type, subs[i].ID, res.Err)
		}
	}
	return firstErr
}
