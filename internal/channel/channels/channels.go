// Package channels assembles the senders of every chat and on-call
// subscriber type, with the API endpoints the operator set.
package channels

import (
	"fmt"
	"net/url"
	"sort"
	"strings"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/channel"
	"github.com/stormwatch/stormwatch/internal/channel/discord"
	"github.com/stormwatch/stormwatch/internal/channel/opsgenie"
	"github.com/stormwatch/stormwatch/internal/channel/pagerduty"
	"github.com/stormwatch/stormwatch/internal/channel/slack"
	"github.com/stormwatch/stormwatch/internal/channel/teams"
	"github.com/stormwatch/stormwatch/internal/channel/telegram"
)

// Endpoints are the base URLs of the tools reached through an API, by
// name (telegram, pagerduty, opsgenie); missing ones are the services'
// own.
type Endpoints map[string]string

// Defaults are the services' own API base URLs.
var Defaults = Endpoints{"telegram": telegram.DefaultEndpoint, "pagerduty": pagerduty.DefaultEndpoint, "opsgenie": opsgenie.DefaultEndpoint}

// ParseEndpoint reads one --integration-endpoint value, NAME=URL.
func ParseEndpoint(e Endpoints, v string) error {
	name, raw, ok := strings.Cut(v, "=")
	if _, known := Defaults[name]; !ok || !known {
		names := make([]string, 0, len(Defaults))
		for n := range Defaults {
			names = append(names, n)
		}
		sort.Strings(names)
		return fmt.Errorf("%q: want NAME=URL with NAME one of %s", v, strings.Join(names, ", "))
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q: %s is not an http(s) URL", v, raw)
	}
	e[name] = strings.TrimSuffix(raw, "/")
	return nil
}

// New returns a sender per subscriber type beside email and webhook.
func New(p *channel.Poster, e Endpoints) map[string]channel.Sender {
	return map[string]channel.Sender{
		sw.SubscriberSlack:      &slack.Sender{Poster: p},
		sw.SubscriberMattermost: &slack.Sender{Poster: p, Compatible: true},
		sw.SubscriberRocketChat: &slack.Sender{Poster: p, Compatible: true},
		sw.SubscriberDiscord:    &discord.Sender{Poster: p},
		sw.SubscriberTeams:      &teams.Sender{Poster: p},
		sw.SubscriberTelegram:   &telegram.Sender{Poster: p, Endpoint: e["telegram"]},
		sw.SubscriberPagerDuty:  &pagerduty.Sender{Poster: p, Endpoint: e["pagerduty"]},
		sw.SubscriberOpsgenie:   &opsgenie.Sender{Poster: p, Endpoint: e["opsgenie"]},
	}
}
