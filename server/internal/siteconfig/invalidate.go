package siteconfig

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Broker is what publishing across instances needs from a shared server
// (Redis): a lock with expiry and a broadcast channel.
type Broker interface {
	// TryLock takes key for ttl unless it is held; token identifies the holder.
	TryLock(ctx context.Context, key, token string, ttl time.Duration) (bool, error)
	// Unlock releases key if token still holds it.
	Unlock(ctx context.Context, key, token string) error
	// Broadcast sends msg to every subscriber of channel, on every instance.
	Broadcast(ctx context.Context, channel, msg string) error
	// Subscribe calls fn for each message on channel until ctx ends.
	Subscribe(ctx context.Context, channel string, fn func(msg string)) error
}

// ErrBusy is returned when another publish of the same site holds the lock
// for longer than the caller is willing to wait.
var ErrBusy = errors.New("another publish of this site is in progress")

const (
	invalidateChannel = "published"
	publishLockTTL    = 30 * time.Second
)

// Publisher publishes versions so that every instance serves them within a
// second: a shared lock keeps two instances from allocating the same version
// number, and a broadcast makes every instance drop its pointer to the
// current version. Without a Broker (SAMTYCKE_REDIS_URL=none: one instance)
// it is Provider.Publish alone.
type Publisher struct {
	p   *Provider
	b   Broker
	log *slog.Logger
}

// NewPublisher returns a Publisher; b may be nil.
func NewPublisher(p *Provider, b Broker, log *slog.Logger) *Publisher {
	return &Publisher{p: p, b: b, log: log.With("component", "publisher")}
}

// Listen drops the pointers of sites published elsewhere until ctx ends.
// A lost connection is retried; meanwhile pointers still expire with the
// provider's TTL.
func (pp *Publisher) Listen(ctx context.Context) {
	if pp.b == nil {
		return
	}
	pause := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := pp.b.Subscribe(ctx, invalidateChannel, pp.p.Forget)
		if ctx.Err() != nil {
			return
		}
		pp.log.Warn("invalidation channel lost; retrying", "in", pause, "err", err)
		select {
		case <-time.After(pause):
		case <-ctx.Done():
		}
		pause = min(2*pause, 5*time.Second)
	}
}

// Current returns the site's newest published version (Provider.Current).
func (pp *Publisher) Current(ctx context.Context, site string) (*Version, error) {
	return pp.p.Current(ctx, site)
}

// Get returns version n of site (Provider.Get).
func (pp *Publisher) Get(ctx context.Context, site string, n uint32) (*Version, error) {
	return pp.p.Get(ctx, site, n)
}

// Publish stores cfg as the site's next version under the shared lock and
// tells every instance. See Provider.Publish.
func (pp *Publisher) Publish(ctx context.Context, site string, cfg *Config, by, note string) (*Version, bool, error) {
	if pp.b == nil {
		return pp.p.Publish(ctx, site, cfg, by, note)
	}
	key, token := "publish-lock:"+site, fmt.Sprintf("%d", time.Now().UnixNano())
	wait, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		ok, err := pp.b.TryLock(wait, key, token, publishLockTTL)
		if err != nil {
			return nil, false, fmt.Errorf("publish lock: %w", err)
		}
		if ok {
			break
		}
		select {
		case <-wait.Done():
			return nil, false, ErrBusy
		case <-time.After(50 * time.Millisecond):
		}
	}
	defer func() {
		if err := pp.b.Unlock(context.WithoutCancel(ctx), key, token); err != nil {
			pp.log.Warn("publish lock not released; it expires by itself", "site", site, "err", err)
		}
	}()
	v, changed, err := pp.p.Publish(ctx, site, cfg, by, note)
	if err != nil || !changed {
		return v, changed, err
	}
	if err := pp.b.Broadcast(ctx, invalidateChannel, site); err != nil {
		pp.log.Warn("publish not broadcast; other instances see it within the TTL", "site", site, "err", err)
	}
	return v, true, nil
}

// Unpublish stops serving a deleted site on every instance: see
// Provider.Unpublish.
func (pp *Publisher) Unpublish(ctx context.Context, site string) error {
	if err := pp.p.Unpublish(ctx, site); err != nil {
		return err
	}
	if pp.b != nil {
		if err := pp.b.Broadcast(ctx, invalidateChannel, site); err != nil {
			pp.log.Warn("unpublish not broadcast; other instances stop serving the site when their pointer expires", "site", site, "err", err)
		}
	}
	return nil
}
