// Package slack posts to Slack incoming webhooks as Block Kit messages,
// and to the Slack-compatible incoming webhooks of Mattermost and
// Rocket.Chat as attachments (which they render; Block Kit they do not).
// The payloads are slack-go's types: the library Slack's own examples
// point to, kept up with Block Kit, so a block is what Slack accepts.
package slack

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/slack-go/slack"
	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/channel"
)

// Sender posts Block Kit messages (Compatible: attachments).
type Sender struct {
	Poster *channel.Poster
	// Compatible sends attachments instead of blocks, for Mattermost and
	// Rocket.Chat.
	Compatible bool
}

// Send implements channel.Sender. Incoming webhooks cannot thread (that
// needs a bot token): each update is a message of its own that names the
// incident and links to it.
func (s *Sender) Send(ctx context.Context, t channel.Target, m *channel.Message) channel.Result {
	var msg *slack.WebhookMessage
	if s.Compatible {
		msg = Attachments(m)
	} else {
		msg = Blocks(m)
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return channel.Result{Permanent: true, Err: err}
	}
	_, r := s.Poster.PostJSON(ctx, t.URL, nil, body)
	return r
}

// Blocks is m as a Block Kit message, with text as the notification's
// fallback.
func Blocks(m *channel.Message) *slack.WebhookMessage {
	header := slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, sw.Truncate(m.Headline(), 150), false, false))
	fields := []*slack.TextBlockObject{
		slack.NewTextBlockObject(slack.MarkdownType, "*Status*\n"+m.Status, false, false),
		slack.NewTextBlockObject(slack.MarkdownType, "*Impact*\n"+m.ImpactLabel(), false, false),
		slack.NewTextBlockObject(slack.MarkdownType, "*Components*\n"+escape(m.ComponentList()), false, false),
	}
	blocks := []slack.Block{header, slack.NewSectionBlock(nil, fields, nil)}
	if m.Text != "" {
		blocks = append(blocks, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, sw.Truncate(escape(m.Text), 2900), false, false), nil, nil))
	}
	button := slack.NewButtonBlockElement("open", "open", slack.NewTextBlockObject(slack.PlainTextType, "View on "+sw.Truncate(m.Page, 60), false, false))
	button.URL = m.Link
	blocks = append(blocks, slack.NewActionBlock("links", button),
		slack.NewContextBlock("page", slack.NewTextBlockObject(slack.MarkdownType, escape(m.Page)+" status page", false, false)))
	return &slack.WebhookMessage{Text: fmt.Sprintf("%s: %s", m.Headline(), m.Link), Blocks: &slack.Blocks{BlockSet: blocks}}
}

// Attachments is m as a message with one coloured attachment, which
// Slack, Mattermost and Rocket.Chat all render.
func Attachments(m *channel.Message) *slack.WebhookMessage {
	a := slack.Attachment{Color: m.Hex(), Title: m.Headline(), TitleLink: m.Link, Text: m.Text, Fallback: m.Headline() + " " + m.Link,
		Fields: []slack.AttachmentField{{Title: "Status", Value: m.Status, Short: true}, {Title: "Impact", Value: m.ImpactLabel(), Short: true},
			{Title: "Components", Value: m.ComponentList()}},
		Footer: m.Page + " status page", Ts: json.Number(fmt.Sprint(m.At.Unix()))}
	return &slack.WebhookMessage{Text: m.Headline(), Attachments: []slack.Attachment{a}}
}

// escape keeps text from being read as Slack markup or mentions.
func escape(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		switch r {
		case '&':
			out = append(out, []rune("&amp;")...)
		case '<':
			out = append(out, []rune("&lt;")...)
		case '>':
			out = append(out, []rune("&gt;")...)
		default:
			out = append(out, r)
		}
	}
	return string(out)
}
