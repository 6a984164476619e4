// Package metrics exposes what the server does as Prometheus series:
// counters of what happens in this replica (delivery attempts, rule
// decisions, heartbeats, attack events, certificates, leadership) and
// gauges of the installation's state read from the database at each
// scrape (pending deliveries and the oldest one's age, attacks by phase
// and class, incidents by status and source, nodes alive and silent), so
// every replica reports the same state. Nothing of a workspace is named:
// /metrics is not behind authentication.
package metrics

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stormwatch/stormwatch/internal/store"
)

// State reads the installation's counts; *store.Store is one.
type State interface {
	Telemetry(ctx context.Context, now time.Time, silence time.Duration) (*store.Telemetry, error)
}

// Server holds the series of one replica.
type Server struct {
	deliveries    *prometheus.CounterVec
	decisions     *prometheus.CounterVec
	heartbeats    prometheus.Counter
	attackEvents  *prometheus.CounterVec
	certificates  *prometheus.CounterVec
	leaderChanges *prometheus.CounterVec
	leading       *prometheus.GaugeVec
}

// New registers the series on reg. The state gauges read st at each
// scrape (silence is how long a node may stay quiet before it counts as
// silent); log hears a failed read.
func New(reg prometheus.Registerer, st State, silence time.Duration, log *slog.Logger) *Server {
	s := &Server{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "stormwatch_delivery_attempts_total",
			Help: "Attempts to deliver a notification, by channel (email, webhook) and outcome (delivered, failed, refused: not retried)."},
			[]string{"channel", "outcome"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "stormwatch_rule_decisions_total",
			Help: "Publication decisions of the auto-publish rules for new signals, by decision."}, []string{"decision"}),
		heartbeats: prometheus.NewCounter(prometheus.CounterOpts{Name: "stormwatch_node_heartbeats_total",
			Help: "Heartbeats received from node agents."}),
		attackEvents: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "stormwatch_attack_events_total",
			Help: "New attack events received from node agents, by type."}, []string{"type"}),
		certificates: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "stormwatch_certificates_total",
			Help: "Certificates obtained or failed, by kind (new, renewal) and outcome (obtained, failed)."}, []string{"kind", "outcome"}),
		leaderChanges: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "stormwatch_leader_changes_total",
			Help: "Times this replica took the lead of a job (automation timers, domain checks)."}, []string{"job"}),
		leading: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "stormwatch_leading",
			Help: "1 while this replica leads the job."}, []string{"job"}),
	}
	reg.MustRegister(s.deliveries, s.decisions, s.heartbeats, s.attackEvents, s.certificates, s.leaderChanges, s.leading,
		&stateCollector{st: st, silence: silence, log: log})
	return s
}

// Delivery counts one delivery attempt.
func (s *Server) Delivery(channel, outcome string) {
	s.deliveries.WithLabelValues(channel, outcome).Inc()
}

// Decision counts one publication decision of the rules.
func (s *Server) Decision(decision string) {
	s.decisions.WithLabelValues(strings.ReplaceAll(decision, " ", "_")).Inc()
}

// Heartbeat counts one heartbeat received.
func (s *Server) Heartbeat() { s.heartbeats.Inc() }

// AttackEvent counts one new attack event.
func (s *Server) AttackEvent(typ string) { s.attackEvents.WithLabelValues(typ).Inc() }

// Certificate counts a certificate obtained or failed.
func (s *Server) Certificate(obtained, renewal bool) {
	kind, outcome := "new", "failed"
	if renewal {
		kind = "renewal"
	}
	if obtained {
		outcome = "obtained"
	}
	s.certificates.WithLabelValues(kind, outcome).Inc()
}

// Lead wraps a job run under leadership so that taking the lead is
// counted and shown while it lasts.
func (s *Server) Lead(job string, fn func(ctx context.Context)) func(ctx context.Context) {
	return func(ctx context.Context) {
		s.leaderChanges.WithLabelValues(job).Inc()
		s.leading.WithLabelValues(job).Set(1)
		defer s.leading.WithLabelValues(job).Set(0)
		fn(ctx)
	}
}

var (
	pendingDesc = prometheus.NewDesc("stormwatch_deliveries_pending", "Notifications not yet delivered (waiting or being retried).", nil, nil)
	oldestDesc  = prometheus.NewDesc("stormwatch_deliveries_oldest_pending_age_seconds",
		"Age of the oldest notification not yet delivered (0 when none waits).", nil, nil)
	attacksDesc = prometheus.NewDesc("stormwatch_attacks_active", "Attacks not yet ended, by phase and classification.",
		[]string{"phase", "classification"}, nil)
	incidentsDesc = prometheus.NewDesc("stormwatch_incidents", "Incidents by status and source (auto, manual).", []string{"status", "source"}, nil)
	nodesDesc     = prometheus.NewDesc("stormwatch_nodes", "Nodes by heartbeat state: alive, silent (no heartbeat within --node-silence), never (no heartbeat yet).",
		[]string{"state"}, nil)
	checkUpDesc = prometheus.NewDesc("stormwatch_check_up", "A check's state at a location (node id, or server): 1 up, 0 down.",
		[]string{"check", "type", "location"}, nil)
	checkLatencyDesc = prometheus.NewDesc("stormwatch_check_latency_seconds", "A check's latest response time at a location.",
		[]string{"check", "type", "location"}, nil)
)

type stateCollector struct {
	st      State
	silence time.Duration
	log     *slog.Logger
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{pendingDesc, oldestDesc, attacksDesc, incidentsDesc, nodesDesc, checkUpDesc, checkLatencyDesc} {
		ch <- d
	}
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	now := time.Now()
	t, err := c.st.Telemetry(ctx, now, c.silence)
	if err != nil {
		// The scrape still carries the counters; the missing gauges (and
		// /readyz) tell that the database is away.
		c.log.Warn("metrics: read the installation's state", "err", err)
		return
	}
	ch <- prometheus.MustNewConstMetric(pendingDesc, prometheus.GaugeValue, float64(t.PendingDeliveries))
	age := 0.0
	if !t.OldestPending.IsZero() {
		age = now.Sub(t.OldestPending).Seconds()
	}
	ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, age)
	for _, a := range t.Attacks {
		ch <- prometheus.MustNewConstMetric(attacksDesc, prometheus.GaugeValue, float64(a.N), a.A, a.B)
	}
	for _, i := range t.Incidents {
		ch <- prometheus.MustNewConstMetric(incidentsDesc, prometheus.GaugeValue, float64(i.N), i.A, i.B)
	}
	for state, n := range map[string]int{"alive": t.NodesAlive, "silent": t.NodesSilent, "never": t.NodesNever} {
		ch <- prometheus.MustNewConstMetric(nodesDesc, prometheus.GaugeValue, float64(n), state)
	}
	for _, k := range t.Checks {
		up := 0.0
		if k.Up {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(checkUpDesc, prometheus.GaugeValue, up, k.ID, k.Type, k.Location)
		ch <- prometheus.MustNewConstMetric(checkLatencyDesc, prometheus.GaugeValue, k.LatencyMS/1000, k.ID, k.Type, k.Location)
	}
}
