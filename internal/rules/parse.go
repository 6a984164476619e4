package rules

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/config"
	"github.com/stormwatch/stormwatch/internal/locale"
)

// MaxRules bounds a rule set.
const MaxRules = 500

// Parse reads a rule text. It reports every line's first problem, as an
// ErrorList, and returns no set unless the whole text is valid.
func Parse(text string) (*Set, error) {
	var set Set
	var errs ErrorList
	for i, line := range strings.Split(text, "\n") {
		lineNo := i + 1
		line = strings.TrimRight(line, "\r")
		toks, lerr := lexLine(line, lineNo)
		if lerr != nil {
			errs = append(errs, lerr)
			continue
		}
		if toks[0].kind == tokEOF {
			continue // blank or comment
		}
		p := &parser{toks: toks, line: lineNo}
		r, err := p.rule()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r.Line, r.Text = lineNo, strings.TrimSpace(stripComment(line))
		set.Rules = append(set.Rules, *r)
		if len(set.Rules) > MaxRules {
			errs = append(errs, &Error{lineNo, 1, fmt.Sprintf("too many rules: at most %d", MaxRules)})
			break
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return &set, nil
}

func stripComment(line string) string {
	inString := false
	for i, c := range line {
		switch {
		case c == '"':
			inString = !inString
		case c == '#' && !inString:
			return line[:i]
		}
	}
	return line
}

type parser struct {
	toks []token
	pos  int
	line int
}

func (p *parser) peek() token { return p.toks[p.pos] }

func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tokEOF {
		p.pos++
	}
	return t
}

func (p *parser) errAt(t token, format string, args ...any) *Error {
	return &Error{p.line, t.col, fmt.Sprintf(format, args...)}
}

func (p *parser) word(t token, w string) bool {
	return t.kind == tokWord && strings.EqualFold(t.text, w)
}

// rule := [ "component" STRING ":" ] expr "->" action
func (p *parser) rule() (*Rule, *Error) {
	r := &Rule{}
	if p.word(p.peek(), "component") && p.toks[p.pos+1].kind == tokString && p.toks[p.pos+2].kind == tokColon {
		p.next()
		g := p.next()
		if _, err := path.Match(g.text, "x"); err != nil || g.text == "" {
			return nil, p.errAt(g, "bad component pattern %q: use a slug or a glob such as \"backup-*\"", g.text)
		}
		r.Component = g.text
		p.next()
	}
	cond, err := p.or()
	if err != nil {
		return nil, err
	}
	r.Cond = cond
	if t := p.next(); t.kind != tokArrow {
		return nil, p.errAt(t, "expected -> before the action, found %s", describe(t))
	}
	a, err := p.action()
	if err != nil {
		return nil, err
	}
	r.Action = *a
	if t := p.peek(); t.kind != tokEOF {
		return nil, p.errAt(t, "unexpected %s after the action", describe(t))
	}
	return r, nil
}

func describe(t token) string {
	switch t.kind {
	case tokEOF:
		return "the end of the line"
	case tokString:
		return fmt.Sprintf("%q", t.text)
	}
	return fmt.Sprintf("%q", t.text)
}

func (p *parser) or() (Expr, *Error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.word(p.peek(), "or") {
		p.next()
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = Or{l, r}
	}
	return l, nil
}

func (p *parser) and() (Expr, *Error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.word(p.peek(), "and") {
		p.next()
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = And{l, r}
	}
	return l, nil
}

func (p *parser) unary() (Expr, *Error) {
	t := p.peek()
	switch {
	case p.word(t, "not"):
		p.next()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return Not{x}, nil
	case t.kind == tokLParen:
		p.next()
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tokRParen {
			return nil, p.errAt(c, "expected ) to close the ( at column %d", t.col)
		}
		return x, nil
	case p.word(t, "during"):
		p.next()
		if m := p.next(); !p.word(m, "maintenance") {
			return nil, p.errAt(m, "expected \"maintenance\" after \"during\"")
		}
		return During{}, nil
	case p.word(t, "always"):
		p.next()
		return Not{Compare{Field: FieldSeverity, Op: "<", Severity: sw.SeverityLow}}, nil
	}
	return p.compare()
}

var fieldOps = map[Field]string{
	FieldSeverity: "== != >= <= > <", FieldDuration: ">= <= > <", FieldBPS: ">= <= > <", FieldPPS: ">= <= > <",
	FieldAttack: "== !=", FieldVector: "== !=", FieldNode: "== !=", FieldComponent: "== !=",
	FieldLocations: "== != >= <= > <", FieldCheck: "== !=",
}

func (p *parser) compare() (Expr, *Error) {
	ft := p.next()
	if ft.kind != tokWord {
		return nil, p.errAt(ft, "expected a condition (severity, duration, attack, vector, bps, pps, node, component, locations, check, during maintenance), found %s", describe(ft))
	}
	f := Field(strings.ToLower(ft.text))
	ops, ok := fieldOps[f]
	if !ok {
		return nil, p.errAt(ft, "unknown field %q: use severity, duration, attack, vector, bps, pps, node, component, locations, check or during maintenance", ft.text)
	}
	ot := p.next()
	if ot.kind != tokOp || !strings.Contains(" "+ops+" ", " "+ot.text+" ") {
		return nil, p.errAt(ot, "%s takes one of %s, found %s", f, ops, describe(ot))
	}
	vt := p.next()
	c := Compare{Field: f, Op: ot.text}
	switch f {
	case FieldSeverity:
		c.Severity = sw.Severity(strings.ToLower(vt.text))
		if vt.kind != tokWord || !c.Severity.Valid() {
			return nil, p.errAt(vt, "severity is one of low, medium, high, critical, found %s", describe(vt))
		}
	case FieldDuration:
		d, err := time.ParseDuration(vt.text)
		if vt.kind != tokWord || err != nil || d < 0 {
			return nil, p.errAt(vt, "expected a duration such as 30s, 5m or 1h, found %s", describe(vt))
		}
		c.Duration = d
	case FieldBPS, FieldPPS:
		v, err := config.ParseRate(vt.text)
		if vt.kind != tokWord || err != nil {
			return nil, p.errAt(vt, "expected a rate such as 500k, 10M or 10G, found %s", describe(vt))
		}
		c.Rate = v
	case FieldAttack, FieldVector:
		if vt.kind != tokWord && vt.kind != tokString {
			return nil, p.errAt(vt, "expected an attack kind such as syn_flood, amplification or dns_amplification, found %s", describe(vt))
		}
		c.Text = strings.ToLower(vt.text)
		if !knownAttack(c.Text) {
			return nil, p.errAt(vt, "unknown attack kind %q: use a vector such as udp_flood, syn_flood, synack_reflection, ack_flood, icmp_flood, fragment_flood, gre_flood, carpet_bombing, amplification, <service>_amplification (dns, ntp, …), reflection or reflection_<port>", vt.text)
		}
	case FieldLocations:
		n, err := strconv.ParseUint(vt.text, 10, 16)
		if vt.kind != tokWord || err != nil {
			return nil, p.errAt(vt, "expected a number of locations such as 2, found %s", describe(vt))
		}
		c.Rate = n
	case FieldNode, FieldComponent, FieldCheck:
		if vt.kind != tokString && vt.kind != tokWord {
			return nil, p.errAt(vt, "expected a name or glob in quotes, found %s", describe(vt))
		}
		if _, err := path.Match(vt.text, "x"); err != nil {
			return nil, p.errAt(vt, "bad pattern %q", vt.text)
		}
		c.Text = vt.text
	}
	return c, nil
}

// knownAttack accepts vector kinds, "amplification", every known
// service's "<key>_amplification", and reflection with or without a port.
func knownAttack(s string) bool {
	switch s {
	case sw.VectorUDPFlood, sw.VectorSYNFlood, sw.VectorSYNACKReflection, sw.VectorACKFlood, sw.VectorRSTFINFlood, sw.VectorTCPFlood, sw.VectorICMPFlood,
		sw.VectorFragmentFlood, sw.VectorGREFlood, sw.VectorAmplification, sw.VectorReflection, sw.VectorCarpet, sw.VectorOther,
		sw.VectorUnreachable, sw.VectorMonitorDown, sw.VectorAlert:
		return true
	}
	for _, svc := range sw.Services {
		if s == svc.Key+"_amplification" {
			return true
		}
	}
	if port, ok := strings.CutPrefix(s, "reflection_"); ok {
		var n int
		_, err := fmt.Sscanf(port, "%d", &n)
		return err == nil && n > 0 && n < 65536 && fmt.Sprint(n) == port
	}
	return false
}

// action := "publish immediately" | "publish after" DUR ["if unresolved"]
//
//	| "draft" | "observe" | "do not publish"
//	| "escalate to" (STATUS | IMPACT)
//	followed by optional: title [LANG] "…" message [LANG] "…" template "…"
func (p *parser) action() (*Action, *Error) {
	a := &Action{}
	t := p.next()
	switch {
	case p.word(t, "publish"):
		n := p.next()
		switch {
		case p.word(n, "immediately"), p.word(n, "now"):
			a.Publish = PublishNow
		case p.word(n, "after"):
			dt := p.next()
			d, err := time.ParseDuration(dt.text)
			if dt.kind != tokWord || err != nil || d <= 0 {
				return nil, p.errAt(dt, "expected a delay such as 60s or 5m, found %s", describe(dt))
			}
			a.Publish, a.After = PublishAfter, d
			if p.word(p.peek(), "if") {
				p.next()
				if u := p.next(); !p.word(u, "unresolved") {
					return nil, p.errAt(u, "expected \"unresolved\" after \"if\"")
				}
			}
		default:
			return nil, p.errAt(n, "expected \"immediately\" or \"after <delay>\" after \"publish\", found %s", describe(n))
		}
	case p.word(t, "draft"):
		a.Publish = PublishDraft
	case p.word(t, "observe"):
		a.Publish = PublishObserve
	case p.word(t, "do"):
		if n := p.next(); !p.word(n, "not") {
			return nil, p.errAt(n, "expected \"do not publish\"")
		}
		if n := p.next(); !p.word(n, "publish") {
			return nil, p.errAt(n, "expected \"do not publish\"")
		}
		a.Publish = PublishNever
	case p.word(t, "escalate"):
		if n := p.next(); !p.word(n, "to") {
			return nil, p.errAt(n, "expected \"to\" after \"escalate\"")
		}
		v := p.next()
		s := sw.ComponentStatus(strings.ToLower(v.text))
		i := sw.Impact(strings.ToLower(v.text))
		switch {
		case v.kind == tokWord && (s == sw.DegradedPerformance || s == sw.PartialOutage || s == sw.MajorOutage):
			a.Status = s
		case v.kind == tokWord && (i == sw.ImpactMinor || i == sw.ImpactMajor || i == sw.ImpactCritical):
			a.Impact = i
		default:
			return nil, p.errAt(v, "escalate to a component status (degraded_performance, partial_outage, major_outage) or an impact (minor, major, critical), found %s", describe(v))
		}
	default:
		return nil, p.errAt(t, "expected an action: publish immediately, publish after <delay>, draft, observe, do not publish or escalate to <status>, found %s", describe(t))
	}
	for {
		t := p.peek()
		switch {
		case p.word(t, "title"), p.word(t, "message"), p.word(t, "template"):
			p.next()
			lang := ""
			if n := p.peek(); n.kind == tokWord && !p.word(t, "template") {
				if _, ok := locale.Get(strings.ToLower(n.text)); !ok {
					return nil, p.errAt(n, "expected a quoted text or a language (%s) after %s, found %s", locale.Codes(), t.text, describe(n))
				}
				lang = strings.ToLower(p.next().text)
			}
			s := p.next()
			if s.kind != tokString {
				return nil, p.errAt(s, "expected a quoted text after %s", t.text)
			}
			if a.Publish == PublishUnset || a.Publish == PublishNever {
				return nil, p.errAt(t, "%s goes with a publishing action", t.text)
			}
			if p.word(t, "template") {
				if strings.TrimSpace(s.text) == "" || len(s.text) > sw.MaxNameLen {
					return nil, p.errAt(s, "template names an incident template (1 to %d characters)", sw.MaxNameLen)
				}
				a.Template = s.text
				continue
			}
			if err := checkTemplate(s.text); err != "" {
				return nil, p.errAt(s, "%s", err)
			}
			switch {
			case lang != "" && p.word(t, "title"):
				a.Titles = setText(a.Titles, lang, s.text)
			case lang != "":
				a.Messages = setText(a.Messages, lang, s.text)
			case p.word(t, "title"):
				a.Title = s.text
			default:
				a.Message = s.text
			}
		default:
			return a, nil
		}
	}
}

func setText(m map[string]string, lang, text string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	m[lang] = text
	return m
}
