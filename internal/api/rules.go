package api

import (
	"errors"
	"net/http"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/incident"
	"github.com/stormwatch/stormwatch/internal/rules"
	"github.com/stormwatch/stormwatch/internal/store"
)

type ruleSample struct {
	Severity          sw.Severity `json:"severity"`
	Attack            string      `json:"attack"`
	Vectors           []string    `json:"vectors"`
	BPS               uint64      `json:"bps"`
	PPS               uint64      `json:"pps"`
	Duration          string      `json:"duration"`
	Component         string      `json:"component"`
	Node              string      `json:"node"`
	DuringMaintenance bool        `json:"during_maintenance"`
	Locations         int         `json:"locations"` // locations agreeing a check is down (default 1)
	Check             string      `json:"check"`     // the failing check's name
}

type rulesCheckInput struct {
	Rules  string      `json:"rules"`
	Sample *ruleSample `json:"sample"`
	// ReplayDays runs the rules against the attacks recorded in the past
	// days: what would they have published?
	ReplayDays int `json:"replay_days"`
}

type replayItem struct {
	AttackID   string    `json:"attack_id"`
	NodeID     string    `json:"node_id"`
	Title      string    `json:"title"`
	Severity   string    `json:"severity"`
	StartedAt  time.Time `json:"started_at"`
	Publish    string    `json:"publish"`
	Public     bool      `json:"public"`
	Components []string  `json:"components"`
	Rule       *ruleRef  `json:"rule"`
}

type ruleError struct {
	Line    int    `json:"line"`
	Col     int    `json:"col"`
	Message string `json:"message"`
}

type ruleRef struct {
	Line int    `json:"line"`
	Text string `json:"text"`
}

type decisionOutput struct {
	Publish         string    `json:"publish"`
	AfterSeconds    float64   `json:"after_seconds,omitempty"`
	ComponentStatus string    `json:"component_status"`
	Impact          string    `json:"impact"`
	Rule            *ruleRef  `json:"rule"`
	Escalations     []ruleRef `json:"escalations"`
	Title           string    `json:"title,omitempty"`
	Message         string    `json:"message,omitempty"`
	Explanation     string    `json:"explanation"`
}

type rulesCheckOutput struct {
	Valid    bool            `json:"valid"`
	Rules    int             `json:"rules"`
	Errors   []ruleError     `json:"errors"`
	Decision *decisionOutput `json:"decision,omitempty"`
	Replay   []replayItem    `json:"replay"` // null unless replay_days was given
}

// checkRules validates a rule text and, with a sample attack, explains
// what it decides. An invalid text is a normal answer (valid: false),
// not an error: checking is what the caller asked for.
func (s *Server) checkRules(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in rulesCheckInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if in.ReplayDays < 0 || in.ReplayDays > 90 {
		return sw.Invalid("replay_days", "must be from 0 to 90")
	}
	if len(in.Rules) > 256<<10 {
		return sw.Invalid("rules", "at most 256 KiB of rules")
	}
	out := rulesCheckOutput{Errors: []ruleError{}}
	set, err := rules.Parse(in.Rules)
	var list rules.ErrorList
	if errors.As(err, &list) {
		for _, e := range list {
			out.Errors = append(out.Errors, ruleError{e.Line, e.Col, e.Msg})
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
	if err != nil {
		return err
	}
	out.Valid, out.Rules = true, len(set.Rules)
	if in.Sample != nil {
		f, err := in.Sample.facts()
		if err != nil {
			return err
		}
		d := rules.Evaluate(set, f)
		do := &decisionOutput{Publish: d.Publish.String(), AfterSeconds: d.After.Seconds(), ComponentStatus: string(d.Status),
			Impact: string(d.Impact), Escalations: []ruleRef{}, Title: d.Title, Message: d.Message, Explanation: rules.Explain(d)}
		if d.Decided != nil {
			do.Rule = &ruleRef{d.Decided.Line, d.Decided.Text}
		}
		for _, e := range d.Escalated {
			do.Escalations = append(do.Escalations, ruleRef{e.Line, e.Text})
		}
		out.Decision = do
	}
	if in.ReplayDays > 0 {
		verdicts, err := incident.Replay(r.Context(), s.store, c.workspace, set, time.Now().AddDate(0, 0, -in.ReplayDays))
		if err != nil {
			return err
		}
		out.Replay = []replayItem{}
		for _, v := range verdicts {
			item := replayItem{AttackID: v.Attack.ID, NodeID: v.Attack.NodeID, Title: v.Attack.Title, Severity: string(v.Attack.Severity),
				StartedAt: v.Attack.StartedAt, Publish: v.Decision.Publish.String(), Public: v.Public, Components: v.Components}
			if item.Components == nil {
				item.Components = []string{}
			}
			if d := v.Decision.Decided; d != nil {
				item.Rule = &ruleRef{d.Line, d.Text}
			}
			out.Replay = append(out.Replay, item)
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (in *ruleSample) facts() (rules.Facts, error) {
	f := rules.Facts{Severity: in.Severity, Classification: in.Attack, Vectors: in.Vectors, BPS: in.BPS, PPS: in.PPS,
		Component: in.Component, Node: in.Node, DuringMaintenance: in.DuringMaintenance, Locations: max(in.Locations, 1), Check: in.Check}
	if f.Severity == "" {
		f.Severity = sw.SeverityLow
	}
	if !f.Severity.Valid() {
		return f, sw.Invalid("sample.severity", "must be one of low, medium, high, critical")
	}
	if in.Duration != "" {
		d, err := time.ParseDuration(in.Duration)
		if err != nil || d < 0 {
			return f, sw.Invalid("sample.duration", "must be a duration such as 90s or 5m")
		}
		f.Duration = d
	}
	if f.Vectors == nil && f.Classification != "" {
		f.Vectors = []string{f.Classification}
	}
	return f, nil
}

type ruleSetOutput struct {
	Rules     string     `json:"rules"`
	Default   bool       `json:"default"`
	UpdatedAt *time.Time `json:"updated_at"`
}

func (s *Server) getRules(w http.ResponseWriter, r *http.Request, c *caller) error {
	text, at, ok, err := s.store.RuleText(r.Context(), c.workspace)
	if err != nil {
		return err
	}
	out := ruleSetOutput{Rules: text}
	if ok {
		out.UpdatedAt = &at
	} else {
		out.Rules, out.Default = rules.DefaultText, true
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type ruleSetInput struct {
	// Rules is required: a request without it (`{}`, `null`) must not
	// silently empty the rules and leave attacks unpublished.
	Rules *string `json:"rules"`
}

// putRules replaces the workspace's rules. An invalid text is refused
// whole (422, the first problem's line and column in the message, every
// problem in the error's field "rules"), and the old rules stay.
func (s *Server) putRules(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in ruleSetInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if in.Rules == nil {
		return sw.Invalid("rules", "is required: the whole rule text (\"\" deliberately removes every rule)")
	}
	text := *in.Rules
	if len(text) > 256<<10 {
		return sw.Invalid("rules", "at most 256 KiB of rules")
	}
	if _, err := rules.Parse(text); err != nil {
		var list rules.ErrorList
		if errors.As(err, &list) {
			return sw.Invalid("rules", "%s", list.Error())
		}
		return err
	}
	err := s.mutate(r, c, "rules.update", "rules", func(tx *store.Tx) (string, any, error) {
		return c.workspace, map[string]string{"rules": text}, tx.SetRuleText(r.Context(), c.workspace, text)
	})
	if err != nil {
		return err
	}
	return s.getRules(w, r, c)
}
