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

// LoginLimit bounds failed logins per account and per client address, so
// passwords cannot be guessed online: after PerAccount failures for one
// email, or PerIP for one address, within Window, logins are refused until
// the window ends (for the right password too).
type LoginLimit struct {
	c          Counter
	PerAccount int64
	PerIP      int64
	Window     time.Duration
}

// NewLoginLimit returns a limit of 10 failures per account and 50 per
// address in 15 minutes.
func NewLoginLimit(c Counter) *LoginLimit {
	return &LoginLimit{c: c, PerAccount: 10, PerIP: 50, Window: 15 * time.Minute}
}

// Allowed reports whether a login attempt may be checked at all.
func (l *LoginLimit) Allowed(ctx context.Context, email, ip string) (bool, error) {
	for _, k := range []struct {
		key string
		max int64
	}{{"login-fail:acct:" + email, l.PerAccount}, {"login-fail:ip:" + ip, l.PerIP}} {
		b, err := l.c.Get(ctx, k.key)
		if errors.Is(err, cache.ErrMiss) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("login limit: %w", err)
		}
		if n, _ := strconv.ParseInt(string(b), 10, 64); n >= k.max {
			return false, nil
		}
	}
	return true, nil
}

// Failed records a failed attempt.
func (l *LoginLimit) Failed(ctx context.Context, email, ip string) error {
	for _, key := range []string{"login-fail:acct:" + email, "login-fail:ip:" + ip} {
		if _, err := l.c.Incr(ctx, key, l.Window); err != nil {
			return fmt.Errorf("login limit: %w", err)
		}
	}
	return nil
}
