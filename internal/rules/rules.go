package rules

import (
	"time"

	sw "github.com/stormwatch/stormwatch"
)

// Field is what a condition compares.
type Field string

// Fields a condition may test.
const (
	FieldSeverity    Field = "severity"
	FieldDuration    Field = "duration"
	FieldAttack      Field = "attack" // the main vector (classification)
	FieldVector      Field = "vector" // any vector of the attack
	FieldBPS         Field = "bps"
	FieldPPS         Field = "pps"
	FieldNode        Field = "node"
	FieldComponent   Field = "component"
	FieldMaintenance Field = "maintenance" // "during maintenance"
	FieldLocations   Field = "locations"   // locations agreeing a check is down
	FieldCheck       Field = "check"       // the failing check's name
)

// Expr is a condition: a comparison, a combination, or a negation.
type Expr interface{ isExpr() }

// Compare is `field op value`.
type Compare struct {
	Field Field
	Op    string // == != >= <= > <
	// One of these holds the value, by field.
	Severity sw.Severity
	Duration time.Duration
	Rate     uint64
	Text     string // attack/vector name or node/component glob
}

// And holds when both sides hold.
type And struct{ L, R Expr }

// Or holds when either side holds.
type Or struct{ L, R Expr }

// Not holds when X does not.
type Not struct{ X Expr }

// During holds while a maintenance window covers the component.
type During struct{}

func (Compare) isExpr() {}
func (And) isExpr()     {}
func (Or) isExpr()      {}
func (Not) isExpr()     {}
func (During) isExpr()  {}

// Publication is what a rule says about publishing.
type Publication int

// Publication actions, from least to most eager.
const (
	PublishUnset   Publication = iota // the rule only escalates
	PublishNever                      // do not publish
	PublishObserve                    // record what would be published
	PublishDraft                      // make a draft an operator publishes
	PublishAfter                      // publish after a delay if unresolved
	PublishNow                        // publish immediately
)

var publicationNames = map[Publication]string{
	PublishUnset: "", PublishNever: "do not publish", PublishObserve: "observe", PublishDraft: "draft",
	PublishAfter: "publish after", PublishNow: "publish immediately",
}

func (p Publication) String() string { return publicationNames[p] }

// Action is what a rule does when its condition holds.
type Action struct {
	Publish Publication
	After   time.Duration // with PublishAfter
	// Escalations raise the component status or the incident impact.
	Status sw.ComponentStatus
	Impact sw.Impact
	// Optional templates of the public title and first message, and the
	// name of an incident template to take them from.
	Title, Message, Template string
	// Titles and Messages are the texts in other languages, by language
	// code (title de "…" message de "…").
	Titles, Messages map[string]string
}

// Rule is one line of a rule set.
type Rule struct {
	Line int
	Text string // the line as written, for explanations and the audit log
	// Component, when set, limits the rule to components matching this
	// glob; such rules override the workspace's.
	Component string
	Cond      Expr
	Action    Action
}

// Set is a parsed rule text.
type Set struct {
	Rules []Rule
}

// DefaultText is the rule set every workspace starts with.
const DefaultText = `# Publish serious attacks at once, medium ones if they last a minute,
# and keep quiet about small ones. Escalate long attacks.
severity >= high   -> publish immediately
severity == medium -> publish after 60s if unresolved
severity == low    -> do not publish
duration > 5m      -> escalate to major_outage
duration > 30m     -> escalate to critical
`
