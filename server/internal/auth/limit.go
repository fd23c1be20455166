package auth

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/samtycke/samtycke/server/internal/cache"
)

// Counter is a cache that also counts events per key in a window starting
// with the first one; Get reads a count as a decimal string. Both caches
// implement it (Redis INCR + EXPIRE, or process memory).
type Counter interface {
	cache.Cache
	Incr(ctx context.Context, key string, window time.Duration) (int64, error)
}

// LoginLimit slows password (and code) guessing with delays that grow
// with each failure, and never locks the owner out:
//
//   - one account from one address: free for Free failures, then a wait of
//     1 s, 2 s, 4 s … up to Max before the next try;
//   - one account from any address (many machines guessing one password):
//     the same after AccountFree failures, but not for an address the
//     account has signed in from before (Known), so its owner still can;
//   - one address against any account: the same after AddressFree.
//
// A sign-in ends the delays of its account from its address. Failures are
// forgotten after Memory.
type LoginLimit struct {
	c           Counter
	Free        int64
	AccountFree int64
	AddressFree int64
	Max         time.Duration
	Memory      time.Duration
	Known       time.Duration
	now         func() time.Time
}

// NewLoginLimit returns the limits: 3 free failures per account and
// address, 10 per account, 50 per address; waits up to 15 minutes; failures
// remembered a day, known addresses 90 days.
func NewLoginLimit(c Counter) *LoginLimit {
	return &LoginLimit{c: c, Free: 3, AccountFree: 10, AddressFree: 50, Max: 15 * time.Minute,
		Memory: 24 * time.Hour, Known: 90 * 24 * time.Hour, now: time.Now}
}

// Delay is the wait after n failures of which free were free.
func (l *LoginLimit) Delay(n, free int64) time.Duration {
	if n < free {
		return 0
	}
	d := time.Second << min(n-free, 30)
	return min(d, l.Max)
}

type limitKey struct {
	name string
	free int64
}

func (l *LoginLimit) keys(email, ip string) []limitKey {
	return []limitKey{{"pair:" + email + "|" + ip, l.Free}, {"acct:" + email, l.AccountFree}, {"ip:" + ip, l.AddressFree}}
}

// Wait is how long a login attempt for email from ip must wait (0: try now).
func (l *LoginLimit) Wait(ctx context.Context, email, ip string) (time.Duration, error) {
	known, err := l.known(ctx, email, ip)
	if err != nil {
		return 0, err
	}
	var wait time.Duration
	for _, k := range l.keys(email, ip) {
		if known && k.name == "acct:"+email {
			continue
		}
		b, err := l.c.Get(ctx, "login-wait:"+k.name)
		if errors.Is(err, cache.ErrMiss) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("login limit: %w", err)
		}
		until, _ := strconv.ParseInt(string(b), 10, 64)
		if d := time.UnixMilli(until).Sub(l.now()); d > wait {
			wait = d
		}
	}
	return wait.Round(time.Second), nil
}

// Failed records a failed attempt and starts the delays it earns.
func (l *LoginLimit) Failed(ctx context.Context, email, ip string) error {
	for _, k := range l.keys(email, ip) {
		n, err := l.c.Incr(ctx, "login-fail:"+k.name, l.Memory)
		if err != nil {
			return fmt.Errorf("login limit: %w", err)
		}
		if d := l.Delay(n, k.free); d > 0 {
			until := strconv.FormatInt(l.now().Add(d).UnixMilli(), 10)
			if err := l.c.Set(ctx, "login-wait:"+k.name, []byte(until), d); err != nil {
				return fmt.Errorf("login limit: %w", err)
			}
		}
	}
	return nil
}

// Succeeded ends the account's delays from this address and remembers the
// address as one its owner uses.
func (l *LoginLimit) Succeeded(ctx context.Context, email, ip string) error {
	pair := "pair:" + email + "|" + ip
	if err := l.c.Delete(ctx, "login-fail:"+pair, "login-wait:"+pair); err != nil {
		return fmt.Errorf("login limit: %w", err)
	}
	if err := l.c.Set(ctx, "login-known:"+email+"|"+ip, []byte("1"), l.Known); err != nil {
		return fmt.Errorf("login limit: %w", err)
	}
	return nil
}

func (l *LoginLimit) known(ctx context.Context, email, ip string) (bool, error) {
	_, err := l.c.Get(ctx, "login-known:"+email+"|"+ip)
	if errors.Is(err, cache.ErrMiss) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("login limit: %w", err)
	}
	return true, nil
}
