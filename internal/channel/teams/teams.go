// Package teams posts Adaptive Cards to Microsoft Teams through a
// Workflows (Power Automate) webhook or an incoming webhook. The card is
// built with go-teams-notify's adaptivecard package, which validates it
// against what Teams renders (schema version, element and action types)
// before it is sent.
package teams

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/atc0005/go-teams-notify/v2/adaptivecard"
	"github.com/stormwatch/stormwatch/internal/channel"
)

// Sender posts cards.
type Sender struct{ Poster *channel.Poster }

// Send implements channel.Sender.
func (s *Sender) Send(ctx context.Context, t channel.Target, m *channel.Message) channel.Result {
	msg, err := Card(m)
	if err != nil {
		return channel.Result{Permanent: true, Err: err}
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return channel.Result{Permanent: true, Err: err}
	}
	_, r := s.Poster.PostJSON(ctx, t.URL, nil, body)
	return r
}

// Card is m as a message holding one Adaptive Card: the headline, the
// facts, the latest word and a button to the page.
func Card(m *channel.Message) (*adaptivecard.Message, error) {
	card := adaptivecard.NewCard()
	title := adaptivecard.NewTitleTextBlock(m.Headline(), true)
	title.Color = color(m)
	facts := adaptivecard.NewFactSet()
	if err := facts.AddFact(
		adaptivecard.Fact{Title: "Status", Value: m.Status},
		adaptivecard.Fact{Title: "Impact", Value: m.ImpactLabel()},
		adaptivecard.Fact{Title: "Components", Value: m.ComponentList()},
	); err != nil {
		return nil, err
	}
	elements := []adaptivecard.Element{title, adaptivecard.Element(facts)}
	if m.Text != "" {
		elements = append(elements, adaptivecard.NewTextBlock(m.Text, true))
	}
	if err := card.AddElement(false, elements...); err != nil {
		return nil, err
	}
	open, err := adaptivecard.NewActionOpenURL(m.Link, "View on "+m.Page)
	if err != nil {
		return nil, err
	}
	if err := card.AddAction(false, open); err != nil {
		return nil, err
	}
	msg, err := adaptivecard.NewMessageFromCard(card)
	if err != nil {
		return nil, err
	}
	if err := msg.Validate(); err != nil {
		return nil, fmt.Errorf("adaptive card: %w", err)
	}
	if err := msg.Prepare(); err != nil {
		return nil, err
	}
	return msg, nil
}

// color is the title's colour in the card's few named ones.
func color(m *channel.Message) string {
	switch c := m.Color(); {
	case m.Resolved:
		return adaptivecard.ColorGood
	case c == 0xcf222e || c == 0xe16f24:
		return adaptivecard.ColorAttention
	case c == 0xd4a72c:
		return adaptivecard.ColorWarning
	}
	return adaptivecard.ColorAccent
}
