package siteconfig_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// fakeSource is an in-memory Source that can be made to fail, to test the
// provider's caching logic alone. The real Source is tested in store/clickhouse.
type fakeSource struct {
	versions map[uint32]*siteconfig.Version
	down     bool
	calls    int
}

var errDown = errors.New("source down")

func (f *fakeSource) LatestVersion(_ context.Context, site string) (uint32, error) {
	f.calls++
	if f.down {
		return 0, errDown
	}
	if site != "demo" || len(f.versions) == 0 {
		return 0, siteconfig.ErrNotFound
	}
	return uint32(len(f.versions)), nil
}

func (f *fakeSource) Version(_ context.Context, site string, n uint32) (*siteconfig.Version, error) {
	f.calls++
	if f.down {
		return nil, errDown
	}
	if v, ok := f.versions[n]; ok && site == "demo" {
		return v, nil
	}
	return nil, siteconfig.ErrNotFound
}

func (f *fakeSource) InsertVersion(_ context.Context, v *siteconfig.Version) error {
	if f.down {
		return errDown
	}
	f.versions[v.Number] = v
	return nil
}

func demoConfig(t *testing.T) *siteconfig.Config {
	b, _ := json.Marshal(demoJSON(t))
	c, err := siteconfig.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestProviderPublishesAndServesStaleThroughOutages(t *testing.T) {
	src := &fakeSource{versions: map[uint32]*siteconfig.Version{}}
	p := siteconfig.NewProvider(src, nil, time.Millisecond, slog.New(slog.DiscardHandler))
	ctx := context.Background()
	cfg := demoConfig(t)
	v1, created, err := p.Publish(ctx, "demo", cfg, "test", "")
	if err != nil || !created || v1.Number != 1 {
		t.Fatalf("publish: %v %v %v", v1, created, err)
	}
	if again, created, _ := p.Publish(ctx, "demo", cfg, "test", ""); created || again.Number != 1 {
		t.Fatal("publishing an unchanged configuration must not make a new version")
	}
	cfg.Name = "Renamed"
	v2, created, _ := p.Publish(ctx, "demo", cfg, "test", "")
	if !created || v2.Number != 2 || v2.Hash == v1.Hash {
		t.Fatalf("a change must make version 2: %+v", v2)
	}
	if cur, err := p.Current(ctx, "demo"); err != nil || cur.Number != 2 {
		t.Fatalf("current: %v %v", cur, err)
	}
	src.down = true
	time.Sleep(5 * time.Millisecond) // the pointer is stale now
	if cur, err := p.Current(ctx, "demo"); err != nil || cur.Number != 2 {
		t.Fatalf("with the source down the stale current version is served: %v %v", cur, err)
	}
	if _, err := p.Current(ctx, "never-seen"); !errors.Is(err, errDown) {
		t.Fatalf("an unknown site with the source down: %v", err)
	}
	src.down = false
	if _, err := p.Current(ctx, "nosuch"); !errors.Is(err, siteconfig.ErrNotFound) {
		t.Fatalf("unknown site: %v", err)
	}
}

func TestProviderRemembersUnknownSites(t *testing.T) {
	src := &fakeSource{versions: map[uint32]*siteconfig.Version{}}
	p := siteconfig.NewProvider(src, nil, time.Minute, slog.New(slog.DiscardHandler))
	for range 100 {
		p.Current(context.Background(), "nosuch")
	}
	if src.calls != 1 {
		t.Fatalf("an unknown site reached the source %d times, want 1", src.calls)
	}
}

// Made-up version numbers never reach the source; a version published by
// another instance a moment ago is still found.
func TestProviderVersionNumbers(t *testing.T) {
	src := &fakeSource{versions: map[uint32]*siteconfig.Version{}}
	quiet := slog.New(slog.DiscardHandler)
	here := siteconfig.NewProvider(src, nil, time.Minute, quiet)
	there := siteconfig.NewProvider(src, nil, time.Minute, quiet) // another instance
	ctx := context.Background()
	cfg := demoConfig(t)
	if _, _, err := here.Publish(ctx, "demo", cfg, "test", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := here.Current(ctx, "demo"); err != nil {
		t.Fatal(err)
	}
	before := src.calls
	for n := uint32(2); n < 1000; n++ {
		if _, err := here.Get(ctx, "demo", n); !errors.Is(err, siteconfig.ErrNotFound) {
			t.Fatalf("version %d: %v", n, err)
		}
	}
	if _, err := here.Get(ctx, "demo", 0); !errors.Is(err, siteconfig.ErrNotFound) {
		t.Fatalf("version 0: %v", err)
	}
	if calls := src.calls - before; calls > 1 {
		t.Fatalf("998 made-up version numbers reached the source %d times, want at most 1", calls)
	}
	cfg.Name = "Changed elsewhere"
	if _, _, err := there.Publish(ctx, "demo", cfg, "test", ""); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // the once-a-second refresh allowance
	if v, err := here.Get(ctx, "demo", 2); err != nil || v.Config.Name != "Changed elsewhere" {
		t.Fatalf("a version published on another instance: %v %v", v, err)
	}
}
