package siteconfig_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/samtycke/samtycke/server/internal/cache/memory"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// fakeSource is an in-memory Source that can be made to fail, to test the
// provider's caching logic alone. The real Source is tested in store/clickhouse.
// It is safe for concurrent use; gate, when set, holds every lookup until
// it is closed.
type fakeSource struct {
	mu       sync.Mutex
	versions map[uint32]*siteconfig.Version
	down     bool
	deleted  bool // the site is deleted: CurrentVersion names none
	calls    int
	gate     chan struct{}
}

var errDown = errors.New("source down")

func (f *fakeSource) enter() (down bool) {
	f.mu.Lock()
	f.calls++
	gate := f.gate
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.down
}

func (f *fakeSource) setDown(d bool) { f.mu.Lock(); f.down = d; f.mu.Unlock() }

func (f *fakeSource) callCount() int { f.mu.Lock(); defer f.mu.Unlock(); return f.calls }

func (f *fakeSource) LatestVersion(_ context.Context, site string) (uint32, error) {
	if f.enter() {
		return 0, errDown
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if site != "demo" || len(f.versions) == 0 {
		return 0, siteconfig.ErrNotFound
	}
	return uint32(len(f.versions)), nil
}

func (f *fakeSource) CurrentVersion(ctx context.Context, site string) (uint32, error) {
	n, err := f.LatestVersion(ctx, site)
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil && f.deleted {
		return 0, siteconfig.ErrNotFound
	}
	return n, err
}

func (f *fakeSource) Version(_ context.Context, site string, n uint32) (*siteconfig.Version, error) {
	if f.enter() {
		return nil, errDown
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if v, ok := f.versions[n]; ok && site == "demo" {
		return v, nil
	}
	return nil, siteconfig.ErrNotFound
}

func (f *fakeSource) InsertVersion(_ context.Context, v *siteconfig.Version) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errDown
	}
	f.versions[v.Number] = v
	return nil
}

// clock is a settable clock, safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(p *siteconfig.Provider) *clock {
	c := &clock{t: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
	siteconfig.SetClock(p, c.now)
	return c
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func demoConfig(t *testing.T) *siteconfig.Config {
	b, err := json.Marshal(demoJSON(t))
	if err != nil {
		t.Fatal(err)
	}
	c, err := siteconfig.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestProviderPublishesAndServesStaleThroughOutages(t *testing.T) {
	src := &fakeSource{versions: map[uint32]*siteconfig.Version{}}
	p := siteconfig.NewProvider(src, nil, time.Minute, slog.New(slog.DiscardHandler))
	clk := newClock(p)
	ctx := context.Background()
	cfg := demoConfig(t)
	v1, created, err := p.Publish(ctx, "demo", cfg, "test", "")
	if err != nil || !created || v1.Number != 1 {
		t.Fatalf("publish: %v %v %v", v1, created, err)
	}
	if again, created, err := p.Publish(ctx, "demo", cfg, "test", ""); err != nil || created || again.Number != 1 {
		t.Fatalf("publishing an unchanged configuration must not make a new version: %v", err)
	}
	cfg.Name = "Renamed"
	v2, created, err := p.Publish(ctx, "demo", cfg, "test", "")
	if err != nil || !created || v2.Number != 2 || v2.Hash == v1.Hash {
		t.Fatalf("a change must make version 2: %+v", v2)
	}
	if cur, err := p.Current(ctx, "demo"); err != nil || cur.Number != 2 {
		t.Fatalf("current: %v %v", cur, err)
	}
	src.setDown(true)
	clk.advance(2 * time.Minute) // the pointer is stale now
	if cur, err := p.Current(ctx, "demo"); err != nil || cur.Number != 2 {
		t.Fatalf("with the source down the stale current version is served: %v %v", cur, err)
	}
	if _, err := p.Current(ctx, "never-seen"); !errors.Is(err, errDown) {
		t.Fatalf("an unknown site with the source down: %v", err)
	}
	src.setDown(false)
	if _, err := p.Current(ctx, "nosuch"); !errors.Is(err, siteconfig.ErrNotFound) {
		t.Fatalf("unknown site: %v", err)
	}
}

func TestProviderRemembersUnknownSites(t *testing.T) {
	src := &fakeSource{versions: map[uint32]*siteconfig.Version{}}
	p := siteconfig.NewProvider(src, nil, time.Minute, slog.New(slog.DiscardHandler))
	for range 100 {
		if _, err := p.Current(context.Background(), "nosuch"); !errors.Is(err, siteconfig.ErrNotFound) {
			t.Fatalf("an unknown site: %v, want ErrNotFound", err)
		}
	}
	if n := src.callCount(); n != 1 {
		t.Fatalf("an unknown site reached the source %d times, want 1", n)
	}
}

// A flood of made-up site ids neither reaches the source more than once per
// id nor pushes a real site out of memory.
func TestProviderMadeUpSitesNeverEvictRealOnes(t *testing.T) {
	src := &fakeSource{versions: map[uint32]*siteconfig.Version{}}
	p := siteconfig.NewProvider(src, nil, time.Minute, slog.New(slog.DiscardHandler))
	ctx := context.Background()
	if _, _, err := p.Publish(ctx, "demo", demoConfig(t), "test", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Current(ctx, "demo"); err != nil {
		t.Fatal(err)
	}
	before := src.callCount()
	for i := range 20000 {
		if _, err := p.Current(ctx, fmt.Sprintf("made-up-%d", i)); !errors.Is(err, siteconfig.ErrNotFound) {
			t.Fatalf("made-up site: %v", err)
		}
	}
	if _, err := p.Current(ctx, "demo"); err != nil {
		t.Fatal(err)
	}
	if n := src.callCount() - before; n != 20000 {
		t.Fatalf("%d source lookups for 20000 made-up sites and one real one, want 20000 (the real one from memory)", n)
	}
}

// Concurrent cold lookups of one site share one query to the source.
func TestProviderColdMissesQueryOnce(t *testing.T) {
	src := &fakeSource{versions: map[uint32]*siteconfig.Version{}}
	quiet := slog.New(slog.DiscardHandler)
	if _, _, err := siteconfig.NewProvider(src, nil, time.Minute, quiet).Publish(context.Background(), "demo", demoConfig(t), "test", ""); err != nil {
		t.Fatal(err)
	}
	p := siteconfig.NewProvider(src, nil, time.Minute, quiet) // a cold instance
	before := src.callCount()
	src.mu.Lock()
	src.gate = make(chan struct{})
	src.mu.Unlock()
	const n = 50
	var started, done sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		started.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			started.Done()
			_, err := p.Current(context.Background(), "demo")
			errs <- err
		}()
	}
	started.Wait()
	// Hold the first lookup until the others have queued behind it.
	for deadline := time.Now().Add(5 * time.Second); src.callCount() == before && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	runtime.Gosched()
	close(src.gate)
	done.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// One pointer lookup and one version lookup without the fix would be
	// up to 2×50; a few stragglers may arrive after the first finished.
	if calls := src.callCount() - before; calls > n/5 {
		t.Fatalf("%d concurrent cold lookups made %d source queries, want a handful", n, calls)
	}
}

// Made-up version numbers never reach the source; a version published by
// another instance a moment ago is still found.
func TestProviderVersionNumbers(t *testing.T) {
	src := &fakeSource{versions: map[uint32]*siteconfig.Version{}}
	quiet := slog.New(slog.DiscardHandler)
	here := siteconfig.NewProvider(src, nil, time.Minute, quiet)
	clk := newClock(here)
	there := siteconfig.NewProvider(src, nil, time.Minute, quiet) // another instance
	ctx := context.Background()
	cfg := demoConfig(t)
	if _, _, err := here.Publish(ctx, "demo", cfg, "test", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := here.Current(ctx, "demo"); err != nil {
		t.Fatal(err)
	}
	before := src.callCount()
	for n := uint32(2); n < 1000; n++ {
		if _, err := here.Get(ctx, "demo", n); !errors.Is(err, siteconfig.ErrNotFound) {
			t.Fatalf("version %d: %v", n, err)
		}
	}
	if _, err := here.Get(ctx, "demo", 0); !errors.Is(err, siteconfig.ErrNotFound) {
		t.Fatalf("version 0: %v", err)
	}
	if calls := src.callCount() - before; calls > 1 {
		t.Fatalf("998 made-up version numbers reached the source %d times, want at most 1", calls)
	}
	cfg.Name = "Changed elsewhere"
	if _, _, err := there.Publish(ctx, "demo", cfg, "test", ""); err != nil {
		t.Fatal(err)
	}
	clk.advance(1100 * time.Millisecond) // the once-a-second refresh allowance
	if v, err := here.Get(ctx, "demo", 2); err != nil || v.Config.Name != "Changed elsewhere" {
		t.Fatalf("a version published on another instance: %v %v", v, err)
	}
}

// A site id that aliases a buffer the caller reuses afterwards (as Fiber's
// request strings do) must not become a map key: the provider keeps a copy.
func TestProviderCopiesSiteIDs(t *testing.T) {
	src := &fakeSource{versions: map[uint32]*siteconfig.Version{}}
	p := siteconfig.NewProvider(src, nil, time.Minute, slog.New(slog.DiscardHandler))
	ctx := context.Background()
	if _, _, err := p.Publish(ctx, "demo", demoConfig(t), "test", ""); err != nil {
		t.Fatal(err)
	}
	buf := []byte("demo")
	if _, err := p.Current(ctx, unsafe.String(&buf[0], len(buf))); err != nil {
		t.Fatal(err)
	}
	copy(buf, "xxxx") // the next request reuses the buffer
	before := src.callCount()
	if _, err := p.Current(ctx, "demo"); err != nil {
		t.Fatal(err)
	}
	if n := src.callCount() - before; n != 0 {
		t.Fatalf("the site was looked up again (%d queries): its cached key changed with the caller's buffer", n)
	}
}

// A version fetched for such a caller names its own copy of the site id: it
// is cached, and the banner keys its build by it.
func TestProviderVersionOwnsItsSiteID(t *testing.T) {
	src := &fakeSource{versions: map[uint32]*siteconfig.Version{}}
	kv := memory.New(100)
	quiet := slog.New(slog.DiscardHandler)
	ctx := context.Background()
	if _, _, err := siteconfig.NewProvider(src, kv, time.Minute, quiet).Publish(ctx, "demo", demoConfig(t), "test", ""); err != nil {
		t.Fatal(err)
	}
	cold := siteconfig.NewProvider(src, kv, time.Minute, quiet) // finds the version in the shared cache
	buf := []byte("demo")
	v, err := cold.Current(ctx, unsafe.String(&buf[0], len(buf)))
	if err != nil {
		t.Fatal(err)
	}
	copy(buf, "xxxx") // the next request reuses the buffer
	if v.Site != "demo" {
		t.Fatalf("the cached version's site changed with the caller's buffer: %q", v.Site)
	}
}

// A deleted site stops being served at once, here and on every instance that
// shares the cache: its pointer goes from memory and from the shared cache,
// which would otherwise answer for a day.
func TestProviderUnpublish(t *testing.T) {
	src := &fakeSource{versions: map[uint32]*siteconfig.Version{}}
	kv := memory.New(100)
	p := siteconfig.NewProvider(src, kv, time.Hour, slog.New(slog.DiscardHandler))
	other := siteconfig.NewProvider(src, kv, time.Hour, slog.New(slog.DiscardHandler)) // another instance
	ctx := context.Background()
	if _, _, err := p.Publish(ctx, "demo", demoConfig(t), "test", ""); err != nil {
		t.Fatal(err)
	}
	for _, q := range []*siteconfig.Provider{p, other} {
		if _, err := q.Current(ctx, "demo"); err != nil {
			t.Fatal(err)
		}
	}
	src.mu.Lock()
	src.deleted = true
	src.mu.Unlock()
	if err := p.Unpublish(ctx, "demo"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Current(ctx, "demo"); !errors.Is(err, siteconfig.ErrNotFound) {
		t.Fatalf("after Unpublish, Current: %v; want ErrNotFound", err)
	}
	other.Forget("demo") // what the broadcast does (Publisher.Unpublish)
	if _, err := other.Current(ctx, "demo"); !errors.Is(err, siteconfig.ErrNotFound) {
		t.Fatalf("on another instance after the broadcast, Current: %v; want ErrNotFound", err)
	}
	// Versions stay readable: records name them.
	if _, err := p.Get(ctx, "demo", 1); err != nil {
		t.Fatalf("version 1 of the deleted site: %v", err)
	}
}

// A current-version pointer in the shared cache is checked against the
// Source once it is five minutes old: a publish or a delete whose write to
// the shared cache failed is then seen within minutes, not after the
// pointer's day. While the Source is down, the unchecked pointer is served.
func TestProviderChecksSharedPointer(t *testing.T) {
	src := &fakeSource{versions: map[uint32]*siteconfig.Version{}}
	kv := memory.New(100)
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	p := siteconfig.NewProvider(src, kv, time.Minute, quiet)
	clk := newClock(p)
	other := siteconfig.NewProvider(src, kv, time.Minute, quiet) // another instance
	siteconfig.SetClock(other, clk.now)
	current := func(q *siteconfig.Provider, want uint32, when string) {
		t.Helper()
		v, err := q.Current(ctx, "demo")
		if err != nil {
			t.Fatalf("%s: %v; want version %d", when, err, want)
		}
		if v.Number != want {
			t.Fatalf("%s: version %d; want %d", when, v.Number, want)
		}
	}
	setShared := func(v string) {
		t.Helper()
		if err := kv.Set(ctx, "latest:demo", []byte(v), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	cfg := demoConfig(t)
	if _, _, err := p.Publish(ctx, "demo", cfg, "test", ""); err != nil {
		t.Fatal(err)
	}
	calls := src.callCount()
	current(other, 1, "from a fresh shared pointer")
	if n := src.callCount() - calls; n != 0 {
		t.Errorf("a fresh shared pointer cost %d Source calls", n)
	}

	// Version 2 is published while the shared cache is cut off: it keeps
	// pointing at version 1, checked now.
	cfg.Name = "Renamed"
	if _, _, err := p.Publish(ctx, "demo", cfg, "test", ""); err != nil {
		t.Fatal(err)
	}
	setShared(fmt.Sprintf("1@%d", clk.now().Unix()))
	clk.advance(2 * time.Minute)
	current(other, 1, "two minutes later")
	clk.advance(3*time.Minute + time.Second)
	current(other, 2, "past five minutes")
	if b, err := kv.Get(ctx, "latest:demo"); err != nil || string(b) != fmt.Sprintf("2@%d", clk.now().Unix()) {
		t.Errorf("the shared pointer after its check: %q, %v", b, err)
	}

	// With the Source down, a new instance serves the shared pointer, due a
	// check or not.
	src.setDown(true)
	setShared("2@1")
	cold := siteconfig.NewProvider(src, kv, time.Minute, quiet)
	siteconfig.SetClock(cold, clk.now)
	current(cold, 2, "with the Source down")
	src.setDown(false)

	// The site is deleted while the shared cache is cut off; the pointer,
	// in the older bare form, is checked at once and dropped.
	src.mu.Lock()
	src.deleted = true
	src.mu.Unlock()
	setShared("2")
	clk.advance(time.Minute + time.Second)
	if _, err := other.Current(ctx, "demo"); !errors.Is(err, siteconfig.ErrNotFound) {
		t.Fatalf("a deleted site behind an unchecked shared pointer: %v; want ErrNotFound", err)
	}
	if b, err := kv.Get(ctx, "latest:demo"); err == nil {
		t.Errorf("the deleted site's shared pointer is still there: %q", b)
	}
}
