package retention_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/consent"
	"github.com/samtycke/samtycke/server/internal/demo"
	"github.com/samtycke/samtycke/server/internal/retention"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
	"github.com/samtycke/samtycke/server/internal/testutil"
)

func record(site string, at time.Time, months int) consent.Record {
	return consent.Record{
		RecordID: uuid.Must(uuid.NewV7()), ConsentID: uuid.New(), Site: site, RecordedAt: at.UTC().Truncate(time.Millisecond),
		ConfigVersion: 1, ConfigHash: "h", Lang: "sv", Categories: []string{"necessary"}, Granted: []bool{true},
		Method: consent.MethodRejectAll, Source: consent.SourceBanner, PageOrigin: "https://x.se", PagePath: "/",
		RetainUntil: consent.RetainUntil(at, months),
	}
}

// On real ClickHouse: partitions of past months are dropped; rows recorded
// under a longer retention than the site has now keep their term (their
// leaves promise it). A second instance holding the lock skips.
func TestRetention(t *testing.T) {
	st := testutil.ClickHouse(t)
	ctx := context.Background()
	versions := siteconfig.NewProvider(st, nil, time.Minute, testutil.Logger(t))
	if _, err := demo.Seed(ctx, st, versions, "http://127.0.0.1:8080"); err != nil {
		t.Fatal(err)
	}
	cfg, err := demo.Config("http://127.0.0.1:8080")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Consent.RetentionMonths = 12 // the owner shortens retention from 24 months
	if _, _, err := versions.Publish(ctx, demo.SiteID, cfg, "test", "shorter retention"); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	recs := []consent.Record{
		record("demo", now.AddDate(-3, 0, 0), 24),   // retain until 2025-11-24: partition 202511, expired
		record("other", now.AddDate(-2, -2, 0), 12), // 2025-09: expired
		record("demo", now.AddDate(0, -14, 0), 24),  // past the new 12 months, kept by its own term
		record("demo", now.AddDate(0, -2, 0), 24),   // within the new 12 months: kept
		record("other", now.AddDate(0, -14, 0), 24), // a site without configuration keeps its rows' terms
	}
	if err := st.AppendBatch(ctx, consent.NewBatch("i", 1, recs)); err != nil {
		t.Fatal(err)
	}
	lock := testutil.Redis(t)
	job := &retention.Job{Store: st, Lock: lock, Instance: "a", Log: testutil.Logger(t), Now: func() time.Time { return now }}

	other := *job
	other.Instance = "b"
	if ok, err := lock.TryLock(ctx, "lock:retention", "b/run", time.Minute); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if r, err := job.RunOnce(ctx); err != nil || !r.Skipped {
		t.Fatalf("with another instance holding the lock: %+v %v", r, err)
	}
	if err := lock.Unlock(ctx, "lock:retention", "b/run"); err != nil {
		t.Fatal(err)
	}
	if r, err := other.RunOnce(ctx); err != nil || r.Skipped {
		t.Fatalf("the holder runs: %+v %v", r, err)
	}

	// The index by consent ID keeps exactly the decisions the log keeps.
	want := []string{"demo 2025-09-23", "other 2025-09-23", "demo 2026-09-23"}
	for _, table := range []string{"consent_log", "consent_by_id"} {
		deadline := time.Now().Add(30 * time.Second)
		var left []string
		for {
			rows, err := st.Conn().Query(ctx, "SELECT concat(toString(site), ' ', toString(toDate(recorded_at))) FROM "+table+" ORDER BY recorded_at")
			if err != nil {
				t.Fatal(err)
			}
			left = left[:0]
			for rows.Next() {
				var s string
				if err := rows.Scan(&s); err != nil {
					t.Fatal(err)
				}
				left = append(left, s)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if len(left) == len(want) || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if !slices.Equal(left, want) {
			t.Errorf("%s: rows left %q, want %q", table, left, want)
		}
	}
	if _, err := lock.Get(ctx, "lock:retention"); err == nil {
		t.Fatal("the lock must be released after a run")
	}
}

// slowStore lets a test act while a run holds the lock.
type slowStore struct{ during func() }

func (s slowStore) ExpiredPartitions(context.Context, time.Time) ([]string, error) {
	s.during()
	return nil, nil
}
func (slowStore) DropPartition(context.Context, string) error { return nil }

// A run that outlives its lock does not release the lock of the run that
// took it over: on Redis (the compare-and-delete script) and in memory.
func TestRetentionReleasesOnlyItsOwnLock(t *testing.T) {
	ctx := context.Background()
	redisLock := testutil.Redis(t)
	clock := time.Now()
	local := &retention.LocalLock{Clock: func() time.Time { return clock }}
	for name, c := range map[string]struct {
		lock   retention.Locker
		expire func() // the first run's lock runs out
	}{
		"redis": {redisLock, func() {
			if err := redisLock.Delete(ctx, "lock:retention"); err != nil {
				t.Fatal(err)
			}
		}},
		"memory": {local, func() { clock = clock.Add(31 * time.Minute) }},
	} {
		t.Run(name, func(t *testing.T) {
			took := false
			job := &retention.Job{Lock: c.lock, Instance: "a", Log: testutil.Logger(t), Now: time.Now}
			job.Store = slowStore{during: func() {
				c.expire()
				ok, err := c.lock.TryLock(ctx, "lock:retention", "b/next", time.Hour)
				if err != nil || !ok {
					t.Fatalf("the next run could not take the expired lock: %v %v", ok, err)
				}
				took = true
			}}
			if r, err := job.RunOnce(ctx); err != nil || r.Skipped || !took {
				t.Fatalf("run: %+v %v (took %v)", r, err, took)
			}
			if ok, err := c.lock.TryLock(ctx, "lock:retention", "c/third", time.Hour); err != nil || ok {
				t.Errorf("the first run released the lock the next one holds (%v)", err)
			}
		})
	}
}
