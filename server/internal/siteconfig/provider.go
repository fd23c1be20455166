package siteconfig

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/samtycke/samtycke/server/internal/cache"
)

// ErrNotFound is returned for a site without a published version, or a
// version number that was never published.
var ErrNotFound = errors.New("not found")

// Source is the system of record for published versions (ClickHouse).
type Source interface {
	// LatestVersion is the site's newest published version; CurrentVersion
	// the one it serves, which is none once the site is deleted. Both
	// return ErrNotFound when there is none.
	LatestVersion(ctx context.Context, site string) (uint32, error)
	CurrentVersion(ctx context.Context, site string) (uint32, error)
	Version(ctx context.Context, site string, n uint32) (*Version, error)
	InsertVersion(ctx context.Context, v *Version) error
}

// Provider answers "which version is current" and "what is version n" on the
// hot path (every banner and every consent). Lookups go process memory →
// shared cache (Redis) → Source. Versions are immutable, so they are kept in
// memory for good; only the pointer to the current version expires.
// When the shared cache or the Source fail, a stale pointer is served rather
// than an error, so banners keep working through outages. Its maps keep
// copies of site ids: callers may pass strings that alias a request buffer
// (Fiber reuses them), which must never become keys.
type Provider struct {
	src Source
	kv  cache.Cache // nil without Redis
	log *slog.Logger
	ttl time.Duration
	now func() time.Time // the clock pointers expire by; tests set their own

	mu         sync.Mutex
	latest     map[string]pointer   // sites with a published version
	missing    map[string]time.Time // sites without one, and when that was seen
	refreshing map[string]bool
	versions   map[versionKey]*Version
	// Concurrent cold lookups of one site or version share one query.
	flight singleflight.Group

	publishMu sync.Mutex
}

type pointer struct {
	n       uint32 // 0: the site has no published version
	fetched time.Time
}

type versionKey struct {
	site string
	n    uint32
}

// sharedTTL is how long versions and current-version pointers stay in the
// shared cache. Publishing overwrites the pointer, so it may live long; the
// in-process pointer is what expires after the provider's ttl.
const sharedTTL = 24 * time.Hour

// sharedCheckAfter is how old a shared pointer may be before it is checked
// against the Source. A publish or a delete whose write to the shared cache
// failed (Redis down or cut off) would otherwise leave the old pointer there
// for sharedTTL; checked, it lasts this long at most. Until the Source
// answers, the shared pointer is served (banners through a ClickHouse outage).
const sharedCheckAfter = 5 * time.Minute

const (
	maxVersionsInMemory = 4096
	maxSitesInMemory    = 16384
	// Made-up site ids are remembered apart, so a flood of them costs one
	// query per id per TTL and never pushes a real site out of memory.
	maxMissingInMemory = 65536
)

// NewProvider returns a Provider. kv may be nil. ttl bounds how long a
// publish takes to reach visitors of this instance.
func NewProvider(src Source, kv cache.Cache, ttl time.Duration, log *slog.Logger) *Provider {
	return &Provider{src: src, kv: kv, ttl: ttl, now: time.Now, log: log.With("component", "siteconfig"),
		latest: map[string]pointer{}, missing: map[string]time.Time{}, refreshing: map[string]bool{}, versions: map[versionKey]*Version{}}
}

// Current returns the site's newest published version.
func (p *Provider) Current(ctx context.Context, site string) (*Version, error) {
	ptr, err := p.pointer(ctx, site, p.ttl)
	if err != nil {
		return nil, err
	}
	if ptr.n == 0 {
		return nil, ErrNotFound
	}
	return p.Get(ctx, site, ptr.n)
}

// pointer returns the site's current-version pointer, refreshed when older
// than maxAge. One caller refreshes a site at a time; the others go on with
// the stale pointer meanwhile, so an expiry under load costs one query, not
// one per request. When the refresh fails, a stale pointer is served.
func (p *Provider) pointer(ctx context.Context, site string, maxAge time.Duration) (pointer, error) {
	p.mu.Lock()
	ptr, ok := p.cachedPointer(site)
	if ok && (p.now().Sub(ptr.fetched) <= maxAge || p.refreshing[site]) {
		p.mu.Unlock()
		return ptr, nil
	}
	p.refreshing[strings.Clone(site)] = true
	p.mu.Unlock()

	res, err, _ := p.flight.Do("latest:"+site, func() (any, error) {
		// A flight that ended after this caller looked may have fetched it.
		p.mu.Lock()
		cur, ok := p.cachedPointer(site)
		p.mu.Unlock()
		if ok && p.now().Sub(cur.fetched) <= maxAge {
			return cur, nil
		}
		ctx, cancel := shared(ctx)
		defer cancel()
		fresh, err := p.fetchLatest(ctx, site)
		if err == nil {
			p.rememberLatest(site, fresh) // before the flight ends, or latecomers start another
		}
		return fresh, err
	})
	fresh, _ := res.(pointer)
	p.mu.Lock()
	delete(p.refreshing, site)
	p.mu.Unlock()
	switch {
	case err == nil:
		return fresh, nil
	case ok:
		p.log.Warn("serving a stale current version", "site", site, "version", ptr.n, "err", err)
		return ptr, nil
	}
	return pointer{}, err
}

// cachedPointer returns the site's pointer in memory, or the time it was
// found to have none as a pointer to version 0; p.mu must be held.
func (p *Provider) cachedPointer(site string) (pointer, bool) {
	if ptr, ok := p.latest[site]; ok {
		return ptr, true
	}
	t, miss := p.missing[site]
	return pointer{0, t}, miss
}

// rememberLatest stores a site's fresh pointer, or that it has none.
func (p *Provider) rememberLatest(site string, fresh pointer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if fresh.n == 0 {
		// Requests name arbitrary sites: made-up ids must not grow the maps.
		cache.MakeRoom(p.missing, maxMissingInMemory)
		p.missing[strings.Clone(site)] = fresh.fetched
		delete(p.latest, site)
		return
	}
	cache.MakeRoom(p.latest, maxSitesInMemory)
	p.latest[strings.Clone(site)] = fresh
	delete(p.missing, site)
}

// fetchLatest reads the site's pointer from the shared cache, or from the
// Source when the cache has none or its pointer is due a check.
func (p *Provider) fetchLatest(ctx context.Context, site string) (pointer, error) {
	key := "latest:" + site
	shared, sharedOK := uint32(0), false
	if p.kv != nil {
		if b, err := p.kv.Get(ctx, key); err == nil {
			n, checked, ok := parseShared(b)
			if ok && p.now().Sub(checked) <= sharedCheckAfter {
				return pointer{n, p.now()}, nil
			}
			shared, sharedOK = n, ok
		} else if !errors.Is(err, cache.ErrMiss) {
			p.log.Warn("shared cache unavailable", "err", err)
		}
	}
	n, err := p.src.CurrentVersion(ctx, site)
	if errors.Is(err, ErrNotFound) {
		n, err = 0, nil // remembered briefly, so unknown sites cannot flood the Source
	}
	if err != nil {
		if sharedOK {
			p.log.Warn("serving the shared current version unchecked", "site", site, "version", shared, "err", err)
			return pointer{shared, p.now()}, nil
		}
		return pointer{}, err
	}
	if p.kv != nil {
		var err error
		if n > 0 {
			err = p.kv.Set(ctx, key, formatShared(n, p.now()), sharedTTL)
		} else if sharedOK {
			err = p.kv.Delete(ctx, key) // a delete that did not reach the shared cache
		}
		if err != nil {
			p.log.Warn("shared cache unavailable", "err", err)
		}
	}
	return pointer{n, p.now()}, nil
}

// A pointer in the shared cache is "n@t": version n, checked against the
// Source at Unix time t. A bare "n" (written by earlier releases) is due a
// check.
func formatShared(n uint32, checked time.Time) []byte {
	return fmt.Appendf(nil, "%d@%d", n, checked.Unix())
}

func parseShared(b []byte) (n uint32, checked time.Time, ok bool) {
	num, at, _ := strings.Cut(string(b), "@")
	v, err := strconv.ParseUint(num, 10, 32)
	if err != nil {
		return 0, time.Time{}, false
	}
	if t, err := strconv.ParseInt(at, 10, 64); err == nil {
		checked = time.Unix(t, 0)
	}
	return uint32(v), checked, true
}

// Get returns version n of site.
func (p *Provider) Get(ctx context.Context, site string, n uint32) (*Version, error) {
	k := versionKey{site, n}
	p.mu.Lock()
	v := p.versions[k]
	p.mu.Unlock()
	if v != nil {
		return v, nil
	}
	// Versions are numbered 1…latest without gaps, so a number above the
	// latest cannot exist: it is refused without a query, whatever number a
	// request makes up. A version published on another instance a moment ago
	// is found by refreshing the pointer, at most once a second.
	ptr, err := p.pointer(ctx, site, p.ttl)
	if err == nil && n > ptr.n {
		ptr, err = p.pointer(ctx, site, time.Second)
	}
	if err != nil {
		return nil, err
	}
	if n == 0 || n > ptr.n {
		return nil, ErrNotFound
	}
	res, err, _ := p.flight.Do(fmt.Sprintf("version:%s:%d", site, n), func() (any, error) {
		// A flight that ended after this caller looked may have fetched it.
		p.mu.Lock()
		v := p.versions[k]
		p.mu.Unlock()
		if v != nil {
			return v, nil
		}
		ctx, cancel := shared(ctx)
		defer cancel()
		// The version is cached and names its site: it gets its own copy of
		// the caller's string, which may alias a reused request buffer.
		owned := strings.Clone(site)
		v, err := p.fetchVersion(ctx, owned, n)
		if err == nil { // before the flight ends, or latecomers start another
			p.mu.Lock()
			cache.MakeRoom(p.versions, maxVersionsInMemory)
			p.versions[versionKey{owned, n}] = v
			p.mu.Unlock()
		}
		return v, err
	})
	if err != nil {
		return nil, err
	}
	return res.(*Version), nil
}

// shared detaches a lookup that other requests wait for from the request
// that started it: one visitor leaving must not fail the others. It keeps
// the deadline (or 10 s).
func shared(ctx context.Context) (context.Context, context.CancelFunc) {
	d, ok := ctx.Deadline()
	if !ok {
		d = time.Now().Add(10 * time.Second)
	}
	return context.WithDeadline(context.WithoutCancel(ctx), d)
}

// cachedVersion is a Version as stored in the shared cache.
type cachedVersion struct {
	Hash        string          `json:"hash"`
	PublishedAt time.Time       `json:"published_at"`
	PublishedBy string          `json:"published_by"`
	Note        string          `json:"note"`
	Config      json.RawMessage `json:"config"`
}

func (p *Provider) fetchVersion(ctx context.Context, site string, n uint32) (*Version, error) {
	key := fmt.Sprintf("version:%s:%d", site, n)
	if p.kv != nil {
		b, err := p.kv.Get(ctx, key)
		if err == nil {
			var cv cachedVersion
			if json.Unmarshal(b, &cv) == nil && Hash(cv.Config) == cv.Hash {
				if c, err := Published(cv.Config); err == nil {
					return &Version{Site: site, Number: n, Hash: cv.Hash, JSON: cv.Config, Config: c,
						PublishedAt: cv.PublishedAt, PublishedBy: cv.PublishedBy, Note: cv.Note}, nil
				}
			}
			p.log.Warn("ignoring a bad cached version", "site", site, "version", n)
		} else if !errors.Is(err, cache.ErrMiss) {
			p.log.Warn("shared cache unavailable", "err", err)
		}
	}
	v, err := p.src.Version(ctx, site, n)
	if err != nil {
		return nil, err
	}
	p.share(ctx, v)
	return v, nil
}

// share puts version v into the shared cache, so instances that never saw
// it find it there, even while ClickHouse is down.
func (p *Provider) share(ctx context.Context, v *Version) {
	if p.kv == nil {
		return
	}
	b, _ := json.Marshal(cachedVersion{v.Hash, v.PublishedAt, v.PublishedBy, v.Note, v.JSON})
	if err := p.kv.Set(ctx, fmt.Sprintf("version:%s:%d", v.Site, v.Number), b, sharedTTL); err != nil {
		p.log.Warn("shared cache unavailable", "err", err)
	}
}

// Publish stores cfg as the site's next version, unless it is identical to
// the current one, and returns the current version either way.
//
// Version numbers are allocated from the newest stored one; concurrent
// publishers of one site are serialised in this process. (Across instances
// the dashboard will take a shared lock; today only seeding publishes.)
func (p *Provider) Publish(ctx context.Context, site string, cfg *Config, by, note string) (*Version, bool, error) {
	site = strings.Clone(site) // the new version keeps it
	p.publishMu.Lock()
	defer p.publishMu.Unlock()
	canonical, err := cfg.Canonical()
	if err != nil {
		return nil, false, err
	}
	// Validate what will be stored, exactly as it will be read back.
	if _, err := Parse(canonical); err != nil {
		return nil, false, err
	}
	hash := Hash(canonical)
	n, err := p.src.LatestVersion(ctx, site)
	switch {
	case errors.Is(err, ErrNotFound):
		n = 0
	case err != nil:
		return nil, false, err
	}
	if n > 0 {
		cur, err := p.src.Version(ctx, site, n)
		if err != nil {
			return nil, false, err
		}
		if cur.Hash == hash {
			return cur, false, nil
		}
	}
	v := &Version{Site: site, Number: n + 1, Hash: hash, JSON: canonical, Config: cfg,
		PublishedAt: time.Now().UTC().Truncate(time.Millisecond), PublishedBy: by, Note: note}
	if err := p.src.InsertVersion(ctx, v); err != nil {
		return nil, false, err
	}
	p.mu.Lock()
	delete(p.latest, site)
	delete(p.missing, site)
	p.mu.Unlock()
	// Write through: other instances (and this one after a restart) find the
	// new version in the shared cache at their next pointer refresh, without
	// a query, and even while ClickHouse is down.
	if p.kv != nil {
		p.share(ctx, v)
		if err := p.kv.Set(ctx, "latest:"+site, formatShared(v.Number, p.now()), sharedTTL); err != nil {
			p.log.Warn("shared cache unavailable; other instances find the new version when they next check their pointer",
				"within", sharedCheckAfter, "err", err)
		}
	}
	return v, true, nil
}

// Unpublish stops serving a deleted site: it drops the pointer to its
// current version here and in the shared cache, so that the next lookup
// asks the Source, which no longer names one. Other instances learn it from
// Publisher.Unpublish, or else when they next check the shared pointer
// (within sharedCheckAfter).
func (p *Provider) Unpublish(ctx context.Context, site string) error {
	p.Forget(site)
	if p.kv == nil {
		return nil
	}
	if err := p.kv.Delete(ctx, "latest:"+site); err != nil {
		return fmt.Errorf("unpublish %s: %w", site, err)
	}
	return nil
}

// Forget drops this instance's pointer to the site's current version, so the
// next request reads it again (another instance has just published).
func (p *Provider) Forget(site string) {
	p.mu.Lock()
	delete(p.latest, site)
	p.mu.Unlock()
}
