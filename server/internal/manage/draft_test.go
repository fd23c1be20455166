package manage_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samtycke/samtycke/server/internal/auth"
	"github.com/samtycke/samtycke/server/internal/cache/memory"
	"github.com/samtycke/samtycke/server/internal/manage"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
	"github.com/samtycke/samtycke/server/internal/store/clickhouse"
	"github.com/samtycke/samtycke/server/internal/testutil"
)

// unpublished: a site with no published version.
type unpublished struct{ noVersions }

func (unpublished) Current(context.Context, string) (*siteconfig.Version, error) {
	return nil, manage.ErrNotFound
}

// sharedInstances is two Managers as two servers of one deployment: each
// on its own ClickHouse connection to one fresh database, both claiming on
// one Redis.
func sharedInstances(t *testing.T) (a, b *manage.Manager) {
	t.Helper()
	url := testutil.ClickHouseURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	rc := testutil.Redis(t)
	open := func() *clickhouse.Store {
		st, err := clickhouse.Open(ctx, url, testutil.Logger(t))
		if err != nil {
			testutil.ClickHouse(t) // skips or fails with the reason
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	sa, sb := open(), open()
	if _, err := sa.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	mk := func(st *clickhouse.Store) *manage.Manager {
		kv := memory.New(1000)
		return manage.New(st, unpublished{}, auth.NewSessions(kv, time.Hour, 12*time.Hour), auth.NewLoginLimit(kv), slog.New(slog.DiscardHandler)).WithClaims(rc)
	}
	return mk(sa), mk(sb)
}

// withName is the draft js with another site name.
func withName(t *testing.T, js []byte, name string) []byte {
	t.Helper()
	var c map[string]any
	if err := json.Unmarshal(js, &c); err != nil {
		t.Fatal(err)
	}
	c["name"] = name
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Two editors on two instances save over the same revision at the same
// moment, round after round: exactly one save lands, the other is refused
// with the winner's revision, name and change, and nothing is lost.
func TestConcurrentDraftSavesOnTwoInstancesNeverOverwrite(t *testing.T) {
	a, b := sharedInstances(t)
	ctx := context.Background()
	setup(t, a, "shop")
	for _, e := range []string{"alice@example.se", "bob@example.se"} {
		if err := a.AddUser(ctx, owner, e, password); err != nil {
			t.Fatal(err)
		}
	}
	for round := range 6 {
		d, err := a.Draft(ctx, "shop")
		if err != nil {
			t.Fatal(err)
		}
		type result struct {
			v   *manage.DraftView
			err error
		}
		res := make([]result, 2)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, m := range []*manage.Manager{a, b} {
			who := []string{"alice@example.se", "bob@example.se"}[i]
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				v, err := m.SaveDraftAt(ctx, manage.Principal{Email: who}, "shop", d.Revision, withName(t, d.Config, fmt.Sprintf("%s %d", who, round)))
				res[i] = result{v, err}
			}()
		}
		close(start)
		wg.Wait()
		var won, lost []int
		for i, r := range res {
			var stale *manage.StaleDraftError
			switch {
			case r.err == nil:
				won = append(won, i)
			case errors.As(r.err, &stale):
				lost = append(lost, i)
			default:
				t.Fatalf("round %d: save %d: %v", round, i, r.err)
			}
		}
		if len(won) != 1 || len(lost) != 1 {
			t.Fatalf("round %d: %d saves landed over revision %s, %d refused (%v, %v)", round, len(won), d.Revision, len(lost), res[0].err, res[1].err)
		}
		w := res[won[0]].v
		var stale *manage.StaleDraftError
		errors.As(res[lost[0]].err, &stale)
		if stale.Current.Revision != w.Revision || stale.Current.UpdatedBy != w.UpdatedBy || stale.Base != d.Revision {
			t.Errorf("round %d: the refusal names revision %s by %s over %s, the winner saved %s as %s over %s",
				round, stale.Current.Revision, stale.Current.UpdatedBy, stale.Base, w.Revision, w.UpdatedBy, d.Revision)
		}
		if !strings.Contains(string(stale.Current.Config), w.UpdatedBy) {
			t.Errorf("round %d: the refusal does not carry the winner's change: %s", round, stale.Current.Config)
		}
		for _, m := range []*manage.Manager{a, b} {
			now, err := m.Draft(ctx, "shop")
			if err != nil {
				t.Fatal(err)
			}
			if now.Revision != w.Revision || !strings.Contains(string(now.Config), fmt.Sprintf(`"name":"%s %d"`, w.UpdatedBy, round)) {
				t.Fatalf("round %d: the draft is revision %s (%s), the winner saved %s", round, now.Revision, now.UpdatedBy, w.Revision)
			}
		}
	}
}

// A save based on an old revision is refused even long after the rival
// save (no claim left in Redis); one based on the current revision lands
// and advances it; the same content again keeps the revision; * replaces
// the draft whatever it is.
func TestStaleDraftSaveIsRefusedAndAnyRevisionReplaces(t *testing.T) {
	a, b := sharedInstances(t)
	ctx := context.Background()
	setup(t, a, "shop")
	d0, err := a.Draft(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	d1, err := a.SaveDraftAt(ctx, owner, "shop", d0.Revision, withName(t, d0.Config, "One"))
	if err != nil {
		t.Fatal(err)
	}
	if d1.Revision == d0.Revision {
		t.Fatalf("a save kept revision %s", d1.Revision)
	}
	same, err := b.SaveDraftAt(ctx, owner, "shop", d1.Revision, withName(t, d0.Config, "One"))
	if err != nil || same.Revision != d1.Revision {
		t.Fatalf("an unchanged save: revision %v, %v (want %s)", same, err, d1.Revision)
	}
	var stale *manage.StaleDraftError
	if _, err := b.SaveDraftAt(ctx, owner, "shop", d0.Revision, withName(t, d0.Config, "Two")); !errors.As(err, &stale) || stale.Current.Revision != d1.Revision {
		t.Fatalf("a save over an old revision: %v", err)
	}
	if _, err := b.SaveDraftAt(ctx, owner, "shop", "12x", d0.Config); err == nil || !strings.Contains(err.Error(), "invalid_revision") {
		t.Errorf("a malformed revision: %v", err)
	}
	d3, err := b.SaveDraft(ctx, owner, "shop", withName(t, d0.Config, "Three"))
	if err != nil || !strings.Contains(string(d3.Config), `"name":"Three"`) || d3.Revision == d1.Revision {
		t.Fatalf("SaveDraft over any revision: %v, %v", d3, err)
	}
}

// Two read-modify-writes on two instances at once (a scan finding added to
// the draft while an editor renames the site) both take effect.
func TestConcurrentUpdateDraftKeepsBothChanges(t *testing.T) {
	a, b := sharedInstances(t)
	ctx := context.Background()
	setup(t, a, "shop")
	set := func(key, value string) func([]byte) ([]byte, error) {
		return func(js []byte) ([]byte, error) {
			var c map[string]any
			if err := json.Unmarshal(js, &c); err != nil {
				return nil, err
			}
			c[key] = value
			if key == "default_language" {
				c["languages"] = []string{"sv", "en", "de"}
			}
			return json.Marshal(c)
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, m := range []*manage.Manager{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i == 0 {
				_, errs[i] = m.UpdateDraft(ctx, owner, "shop", set("name", "Renamed"))
			} else {
				_, errs[i] = m.UpdateDraft(ctx, owner, "shop", set("default_language", "de"))
			}
		}()
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	d, err := a.Draft(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if s := string(d.Config); !strings.Contains(s, `"name":"Renamed"`) || !strings.Contains(s, `"default_language":"de"`) {
		t.Errorf("a change was lost: %s", s)
	}
}
