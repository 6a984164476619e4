// Package discord posts to Discord webhooks: one embed coloured by
// impact. The payload is discordgo's WebhookParams and MessageEmbed, the
// Go library Discord bots are written with, so the fields are the ones
// Discord's API takes.
package discord

import (
	"context"
	"encoding/json"
	"net/url"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/stormwatch/stormwatch/internal/channel"
)

// Sender posts embeds.
type Sender struct{ Poster *channel.Poster }

// Send implements channel.Sender. With ?wait=true Discord answers the
// message, whose id is kept.
func (s *Sender) Send(ctx context.Context, t channel.Target, m *channel.Message) channel.Result {
	body, err := json.Marshal(Params(m))
	if err != nil {
		return channel.Result{Permanent: true, Err: err}
	}
	u, err := url.Parse(t.URL)
	if err != nil {
		return channel.Result{Permanent: true, Err: err}
	}
	q := u.Query()
	q.Set("wait", "true")
	u.RawQuery = q.Encode()
	answer, r := s.Poster.PostJSON(ctx, u.String(), nil, body)
	if r.Err == nil {
		var sent discordgo.Message
		if json.Unmarshal(answer, &sent) == nil {
			r.Thread = sent.ID
		}
	}
	return r
}

// Params is m as a webhook message with one embed. Mentions are off: an
// incident text can never ping @everyone.
func Params(m *channel.Message) *discordgo.WebhookParams {
	e := &discordgo.MessageEmbed{Title: truncate(m.Headline(), 256), URL: m.Link, Description: truncate(m.Text, 4000), Color: m.Color(),
		Timestamp: m.At.UTC().Format(time.RFC3339),
		Fields: []*discordgo.MessageEmbedField{{Name: "Status", Value: m.Status, Inline: true}, {Name: "Impact", Value: m.ImpactLabel(), Inline: true},
			{Name: "Components", Value: truncate(m.ComponentList(), 1024)}},
		Footer: &discordgo.MessageEmbedFooter{Text: truncate(m.Page+" status page", 2048)}}
	return &discordgo.WebhookParams{Username: truncate(m.Page, 80), Embeds: []*discordgo.MessageEmbed{e},
		AllowedMentions: &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}}
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
