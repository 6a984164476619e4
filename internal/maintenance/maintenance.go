// Package maintenance runs scheduled maintenance windows by the clock:
// reminders before a window, its components under maintenance from its
// start and back at its end, each step announced to subscribers. Steps
// are durable timers claimed once, so one replica does each.
package maintenance

import (
	"context"
	"encoding/json"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/store"
)

// Kinds are the timer kinds Fire handles.
var Kinds = []string{store.TimerMaintenanceRemind24h, store.TimerMaintenanceRemind1h, store.TimerMaintenanceStart, store.TimerMaintenanceEnd}

var scheduler = sw.Actor{Type: sw.ActorSystem, ID: "scheduler", Name: "maintenance scheduler"}

// Fire takes the step timer t stands for, in tx. A window changed by hand
// in the meantime (started early, completed, deleted) makes the step moot.
func Fire(ctx context.Context, tx *store.Tx, t store.Timer) error {
	m, err := tx.Maintenance(ctx, t.WorkspaceID, t.Ref)
	if err != nil {
		return err
	}
	switch t.Kind {
	case store.TimerMaintenanceRemind24h, store.TimerMaintenanceRemind1h:
		if m.State != sw.MaintenanceScheduled {
			return nil
		}
		before := "24 hours"
		if t.Kind == store.TimerMaintenanceRemind1h {
			before = "1 hour"
		}
		return tx.EmitMaintenance(ctx, sw.EventMaintenanceReminder, m, before)
	case store.TimerMaintenanceStart:
		if m.State != sw.MaintenanceScheduled {
			return nil
		}
		return step(ctx, tx, m, sw.MaintenanceInProgress, "maintenance.started")
	case store.TimerMaintenanceEnd:
		if m.State == sw.MaintenanceCompleted {
			return nil
		}
		return step(ctx, tx, m, sw.MaintenanceCompleted, "maintenance.completed")
	}
	return nil
}

func step(ctx context.Context, tx *store.Tx, m *sw.Maintenance, to sw.MaintenanceState, action string) error {
	if err := tx.SetMaintenanceState(ctx, m.WorkspaceID, m.ID, to); err != nil {
		return err
	}
	details, _ := json.Marshal(map[string]any{"reason": "the window's scheduled time came"})
	return tx.Audit(ctx, m.WorkspaceID, &sw.AuditEntry{Actor: scheduler, Action: action, TargetType: "maintenance", TargetID: m.ID, Details: details})
}
