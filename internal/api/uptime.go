package api

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"time"

	sw "github.com/stormwatch/stormwatch"
	"github.com/stormwatch/stormwatch/internal/page"
	"github.com/stormwatch/stormwatch/internal/subscription"
)

// uptimeReport answers every component's uptime over a calendar month
// (?month=2026-11, default this month, in the page's time zone) as JSON,
// or as CSV with ?format=csv, for SLA reports. Figures are those of the
// page's bars: measured by checks where a component has them.
func (s *Server) uptimeReport(w http.ResponseWriter, r *http.Request, c *caller) error {
	ws, err := s.store.Workspace(r.Context(), c.workspace)
	if err != nil {
		return err
	}
	loc := page.Location(ws)
	now := time.Now()
	month := time.Date(now.In(loc).Year(), now.In(loc).Month(), 1, 0, 0, 0, 0, loc)
	if m := r.URL.Query().Get("month"); m != "" {
		t, err := time.ParseInLocation("2006-01", m, loc)
		if err != nil {
			return sw.Invalid("month", "must be a month such as 2026-11")
		}
		if t.After(now) {
			return sw.Invalid("month", "%s has not started yet", m)
		}
		month = t
	}
	format := r.URL.Query().Get("format")
	if format != "" && format != "json" && format != "csv" {
		return sw.Invalid("format", "must be json or csv")
	}
	snap, err := s.store.Snapshot(r.Context(), c.workspace, month, now)
	if err != nil {
		return err
	}
	rows := page.MonthlyUptime(snap, month)
	if format != "csv" {
		writeJSON(w, http.StatusOK, map[string]any{"month": month.Format("2006-01"), "timezone": loc.String(), "components": rows})
		return nil
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	_ = cw.Write([]string{"component", "name", "month", "measured", "uptime_percent", "downtime_seconds", "known_seconds", "days"})
	for _, m := range rows {
		_ = cw.Write([]string{m.Component, subscription.CSVSafe(m.Name), m.Month, strconv.FormatBool(m.Measured),
			strconv.FormatFloat(m.Percent, 'f', 4, 64), strconv.FormatFloat(m.DowntimeSeconds, 'f', 0, 64),
			strconv.FormatFloat(m.KnownSeconds, 'f', 0, 64), strconv.Itoa(m.Days)})
	}
	cw.Flush()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="uptime-%s-%s.csv"`, ws.Slug, month.Format("2006-01")))
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
	return nil
}
