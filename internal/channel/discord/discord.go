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
	sw "github.com/stormwatch/stormwatch"
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
	e := &discordgo.MessageEmbed{Title: sw.Truncate(m.Headline(), 256), URL: m.Link, Description: sw.Truncate(m.Text, 4000), Color: m.Color(),
		Timestamp: m.At.UTC().Format(time.RFC3339),
		Fields: []*discordgo.MessageEmbedField{{Name: "Status", Value: m.Status, Inline: true}, {Name: "Impact", Value: m.ImpactLabel(), Inline: true},
			{Name: "Components", Value: sw.Truncate(m.ComponentList(), 1024)}},
		Footer: &discordgo.MessageEmbedFooter{Text: sw.Truncate(m.Page+" status page", 2048)}}
	return &discordgo.WebhookParams{Username: sw.Truncate(m.Page, 80), Embeds: []*discordgo.MessageEmbed{e},
		AllowedMentions: &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}}
}
