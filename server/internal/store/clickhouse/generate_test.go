package clickhouse_test

import (
	"context"
	"testing"
	"time"

	"github.com/samtycke/samtycke/server/internal/manage"
	"github.com/samtycke/samtycke/server/internal/testutil"
)

// The generated rows reach the daily aggregates, and Stats reads them back
// with the totals of the log itself.
func TestGeneratedConsentsReachTheDailyStats(t *testing.T) {
	st := testutil.ClickHouse(t)
	ctx := context.Background()
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	if err := st.GenerateConsents(ctx, "demo", 10000, from, 10); err != nil {
		t.Fatal(err)
	}
	var logged uint64
	if err := st.Conn().QueryRow(ctx, "SELECT count() FROM consent_log WHERE site = 'demo'").Scan(&logged); err != nil {
		t.Fatal(err)
	}
	s, err := st.Stats(ctx, manage.StatsQuery{Site: "demo", From: from, To: from.AddDate(0, 0, 9)})
	if err != nil {
		t.Fatal(err)
	}
	if logged != 10000 || s.Total != 10000 || len(s.Days) != 10 {
		t.Fatalf("log %d rows, stats %d decisions over %d days", logged, s.Total, len(s.Days))
	}
	var perDay uint64
	for _, d := range s.Days {
		perDay += d.Decisions
	}
	if perDay != 10000 {
		t.Errorf("the days add up to %d", perDay)
	}
	var accept uint64
	for _, m := range s.Methods {
		if m.Key == "accept_all" {
			accept = m.N
		}
	}
	if accept != 5000 {
		t.Errorf("accept_all %d, want 5000", accept)
	}
	for _, c := range s.Categories {
		if c.Decisions != 10000 {
			t.Errorf("category %s: %d decisions", c.Category, c.Decisions)
		}
		if c.Category == "necessary" && c.Rate != 1 {
			t.Errorf("necessary opt-in %v", c.Rate)
		}
	}
	// Outside the period: nothing.
	if s, err := st.Stats(ctx, manage.StatsQuery{Site: "demo", From: from.AddDate(0, 0, 10), To: from.AddDate(0, 0, 20)}); err != nil || s.Total != 0 {
		t.Errorf("after the period: %v %v", s, err)
	}
}
