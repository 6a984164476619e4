// Package subscription turns what an operator gives (an API body, a
// dashboard form, a CSV file) into subscribers, and subscribers back into
// CSV: one set of checks whichever way they come in.
package subscription

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/locale"
	"github.com/stormwatch/stormwatch/internal/notify"
	"github.com/stormwatch/stormwatch/internal/store"
)

// Input describes a subscriber to make.
type Input struct {
	Type       string     `json:"type"`
	Email      string     `json:"email"`
	URL        string     `json:"url"`
	Secret     string     `json:"secret"`
	Components []string   `json:"components"`
	MinImpact  *sw.Impact `json:"min_impact"`
	Format     string     `json:"format"`
	// Confirmed skips the double opt-in mail for an address the operator
	// vouches for (moved from another status page).
	Confirmed bool `json:"confirmed"`
	// Operator makes a chat or on-call subscriber an operators' alert
	// channel: it hears admin notices instead of public incidents.
	Operator bool `json:"operator"`
	// The credentials of tools reached through their API.
	BotToken   string `json:"bot_token"`
	ChatID     string `json:"chat_id"`
	RoutingKey string `json:"routing_key"`
	APIKey     string `json:"api_key"`
	// Language of the subscriber's mails (default: the page's).
	Language string `json:"language"`
}

var (
	botToken = regexp.MustCompile(`^[0-9]{3,15}:[A-Za-z0-9_-]{20,100}$`)
	chatID   = regexp.MustCompile(`^(-?[0-9]{1,20}|@[A-Za-z][A-Za-z0-9_]{4,31})$`)
	apiKey   = regexp.MustCompile(`^[A-Za-z0-9_-]{20,100}$`)
)

// buildChannel checks the fields of a chat or on-call subscriber. The
// credential is returned as the subscriber's secret (used to send, never
// shown again); its url names it without revealing it.
func buildChannel(ctx context.Context, guard *notify.Guard, sub *sw.Subscriber, in *Input) (string, error) {
	if in.Email != "" || in.Secret != "" || in.Format != "" {
		return "", sw.Invalid("type", "%s subscribers take no email, secret or format", in.Type)
	}
	given := map[string]string{"bot_token": in.BotToken, "chat_id": in.ChatID, "routing_key": in.RoutingKey, "api_key": in.APIKey}
	allowed := map[string][]string{sw.SubscriberTelegram: {"bot_token", "chat_id"}, sw.SubscriberPagerDuty: {"routing_key"},
		sw.SubscriberOpsgenie: {"api_key"}}[in.Type]
	for field, v := range given {
		if v != "" && !slices.Contains(allowed, field) {
			return "", sw.Invalid(field, "is not a field of %s subscribers", in.Type)
		}
	}
	switch in.Type {
	case sw.SubscriberTelegram:
		if !botToken.MatchString(in.BotToken) {
			return "", sw.Invalid("bot_token", "must be a bot token as BotFather gives it (123456789:AA…)")
		}
		if !chatID.MatchString(in.ChatID) {
			return "", sw.Invalid("chat_id", "must be a chat id (-1001234567890) or a public channel's @name")
		}
		sub.URL, sub.ChatID = "telegram:"+in.ChatID, in.ChatID
		return in.BotToken, nil
	case sw.SubscriberPagerDuty:
		if !apiKey.MatchString(in.RoutingKey) {
			return "", sw.Invalid("routing_key", "must be the integration key of an Events API v2 integration (32 characters)")
		}
		sub.URL = "pagerduty:" + fingerprint(in.RoutingKey)
		return in.RoutingKey, nil
	case sw.SubscriberOpsgenie:
		if !apiKey.MatchString(in.APIKey) {
			return "", sw.Invalid("api_key", "must be the API key of an Opsgenie API integration")
		}
		sub.URL = "opsgenie:" + fingerprint(in.APIKey)
		return in.APIKey, nil
	}
	// A chat tool's incoming webhook: the URL is the credential.
	if err := guard.CheckURL(ctx, in.URL); err != nil {
		return "", err
	}
	sub.URL = in.URL
	return "", nil
}

// fingerprint names a credential without revealing it.
func fingerprint(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:6])
}

// Build checks in and returns the subscriber it describes for workspace
// ws with its signing secret (made up when a webhook subscriber brings
// none). Webhook URLs must pass guard.
func Build(ctx context.Context, guard *notify.Guard, ws string, in *Input, now time.Time) (*sw.Subscriber, string, error) {
	if !locale.Valid(in.Language) {
		return nil, "", sw.Invalid("language", "must be one of %s", locale.Codes())
	}
	sub := &sw.Subscriber{WorkspaceID: ws, Type: in.Type, MinImpact: sw.ImpactNone, Operator: in.Operator, Language: in.Language}
	if in.MinImpact != nil {
		sub.MinImpact = *in.MinImpact
	}
	secret := ""
	switch in.Type {
	case sw.SubscriberEmail:
		addr, err := sw.CheckEmail("email", in.Email)
		if err != nil {
			return nil, "", err
		}
		sub.Email = addr
		if in.URL != "" || in.Secret != "" || in.Format != "" {
			return nil, "", sw.Invalid("url", "email subscribers take no url, secret or format")
		}
		if in.Confirmed {
			now := now.UTC()
			sub.ConfirmedAt = &now
		}
	case sw.SubscriberWebhook:
		if err := guard.CheckURL(ctx, in.URL); err != nil {
			return nil, "", err
		}
		sub.URL = in.URL
		secret = in.Secret
		if secret == "" {
			secret = notify.NewWebhookSecret()
		} else if !strings.HasPrefix(secret, "whsec_") || len(secret) < 30 || len(secret) > 200 {
			return nil, "", sw.Invalid("secret", "must be a Standard Webhooks secret: whsec_ and at least 24 base64 characters")
		} else if _, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_")); err != nil {
			return nil, "", sw.Invalid("secret", "must be whsec_ followed by standard base64")
		}
		switch in.Format {
		case "", sw.FormatStormwatch, sw.FormatStatuspage:
			sub.Format = in.Format
		default:
			return nil, "", sw.Invalid("format", "must be stormwatch (the default) or statuspage")
		}
		if in.Email != "" {
			return nil, "", sw.Invalid("email", "webhook subscribers take no email")
		}
		// A webhook owner proves nothing by a click; the URL is theirs.
		now := now.UTC()
		sub.ConfirmedAt = &now
	default:
		if !sw.ValidSubscriberType(in.Type) {
			return nil, "", sw.Invalid("type", "must be one of %s", strings.Join(sw.SubscriberTypes, ", "))
		}
		var err error
		if secret, err = buildChannel(ctx, guard, sub, in); err != nil {
			return nil, "", err
		}
		now := now.UTC()
		sub.ConfirmedAt = &now
	}
	if in.Components == nil {
		in.Components = []string{}
	}
	return sub, secret, nil
}

// CSVHeader is the column order of subscriber export and import.
var CSVHeader = []string{"type", "email", "url", "components", "min_impact", "format", "state", "created_at"}

// Lister pages through a workspace's subscribers.
type Lister interface {
	Subscribers(ctx context.Context, ws string, f store.SubscriberFilter, p store.Page) ([]sw.Subscriber, bool, error)
}

// WriteCSV writes workspace ws's subscribers matching f as CSV
// (components separated by spaces; secrets are never exported; cells
// that a spreadsheet would run as formulas are quoted).
func WriteCSV(ctx context.Context, st Lister, ws string, f store.SubscriberFilter, w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	for p := (store.Page{Limit: 200}); ; p.Offset += p.Limit {
		subs, more, err := st.Subscribers(ctx, ws, f, p)
		if err != nil {
			return err
		}
		for _, sub := range subs {
			state := "active"
			switch {
			case sub.DisabledAt != nil:
				state = "disabled"
			case sub.ConfirmedAt == nil:
				state = "pending"
			}
			if err := cw.Write([]string{sub.Type, CSVSafe(sub.Email), CSVSafe(sub.URL), strings.Join(sub.Components, " "), string(sub.MinImpact),
				sub.Format, state, sub.CreatedAt.Format(time.RFC3339)}); err != nil {
				return err
			}
		}
		if !more {
			break
		}
	}
	cw.Flush()
	return cw.Error()
}

// CSVSafe keeps a cell from being read as a formula by a spreadsheet.
func CSVSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// LineError names a line of an import that was refused.
type LineError struct {
	Line    int    `json:"line"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func (e LineError) String() string {
	if e.Field == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Message)
	}
	return fmt.Sprintf("line %d: %s: %s", e.Line, e.Field, e.Message)
}

// ErrBadFile is a CSV file that cannot be read at all.
var ErrBadFile = errors.New("invalid CSV")

// Row is one subscriber read from an import, not stored yet.
type Row struct {
	Sub        *sw.Subscriber
	Secret     string
	Components []string
	Line       int
}

// ParseCSV reads CSV in the export's columns (only type and email or url
// are required) for workspace ws and checks every line. Lines that are
// wrong come back as LineErrors; a file that is not CSV is ErrBadFile.
func ParseCSV(ctx context.Context, guard *notify.Guard, ws string, body []byte, confirmed bool, now time.Time) ([]Row, []LineError, error) {
	cr := csv.NewReader(bytes.NewReader(body))
	cr.FieldsPerRecord = -1
	records, err := cr.ReadAll()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrBadFile, err)
	}
	if len(records) == 0 {
		return nil, nil, fmt.Errorf("%w: the file is empty; the first line names the columns: %s", ErrBadFile, strings.Join(CSVHeader, ","))
	}
	col := map[string]int{}
	for i, name := range records[0] {
		col[strings.TrimSpace(strings.ToLower(name))] = i
	}
	if _, ok := col["type"]; !ok {
		return nil, nil, fmt.Errorf("%w: the first line must name the columns, type among them: %s", ErrBadFile, strings.Join(CSVHeader, ","))
	}
	cell := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimPrefix(strings.TrimSpace(rec[i]), "'")
		}
		return ""
	}
	var rows []Row
	var bad []LineError
	for n, rec := range records[1:] {
		line := n + 2
		in := Input{Type: cell(rec, "type"), Email: cell(rec, "email"), URL: cell(rec, "url"),
			Format: cell(rec, "format"), Components: strings.Fields(cell(rec, "components")), Confirmed: confirmed}
		if v := cell(rec, "min_impact"); v != "" {
			imp := sw.Impact(v)
			in.MinImpact = &imp
		}
		sub, secret, err := Build(ctx, guard, ws, &in, now)
		if err != nil {
			bad = append(bad, lineError(line, err))
			continue
		}
		rows = append(rows, Row{sub, secret, in.Components, line})
	}
	return rows, bad, nil
}

func lineError(line int, err error) LineError {
	var verr *sw.ValidationError
	if errors.As(err, &verr) {
		return LineError{Line: line, Field: verr.Field, Message: verr.Message}
	}
	return LineError{Line: line, Message: err.Error()}
}

// Store stores rows in one transaction, skipping subscribers that exist
// already, and says how many were created and skipped.
func Store(ctx context.Context, tx *store.Tx, rows []Row) (created, skipped int, err error) {
	for _, rw := range rows {
		err := tx.CreateSubscriber(ctx, rw.Sub, rw.Secret, rw.Components)
		switch {
		case errors.Is(err, store.ErrConflict):
			skipped++
		case err != nil:
			return 0, 0, fmt.Errorf("line %d: %w", rw.Line, err)
		default:
			created++
		}
	}
	return created, skipped, nil
}
