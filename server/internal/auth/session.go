package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/samtycke/samtycke/server/internal/cache"
)

// ErrNoSession is returned for a missing, expired or revoked session.
var ErrNoSession = errors.New("no session")

// Session is one login. Its ID is the cookie value; the cache holds it under
// the ID's SHA-256, so a cache dump does not hand out live sessions.
type Session struct {
	ID        string    `json:"-"`
	Email     string    `json:"email"`
	CSRF      string    `json:"csrf"`
	Created   time.Time `json:"created"`
	LastSeen  time.Time `json:"last_seen"`
	NotBefore int64     `json:"gen"` // the user's generation at login
}

// Sessions keeps sessions in the shared cache (Redis, or process memory
// without it): rebuildable state, as losing it only logs people out.
type Sessions struct {
	kv       cache.Cache
	idle     time.Duration
	absolute time.Duration
	now      func() time.Time
}

// NewSessions returns a session store. A session ends after idle without a
// request, and absolute after login whatever happens.
func NewSessions(kv cache.Cache, idle, absolute time.Duration) *Sessions {
	return &Sessions{kv: kv, idle: idle, absolute: absolute, now: time.Now}
}

func sessionKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return "session:" + hex.EncodeToString(sum[:])
}

func genKey(email string) string { return "session-gen:" + email }

// generation is the user's current generation: sessions started under an
// earlier one were ended by LogoutEverywhere.
func (s *Sessions) generation(ctx context.Context, email string) (int64, error) {
	b, err := s.kv.Get(ctx, genKey(email))
	if errors.Is(err, cache.ErrMiss) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(string(b), 10, 64)
}

// Create starts a session for email. Each login gets a new ID (no fixation).
func (s *Sessions) Create(ctx context.Context, email string) (*Session, error) {
	gen, err := s.generation(ctx, email)
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	now := s.now().UTC()
	sess := &Session{ID: RandomToken(32), Email: email, CSRF: RandomToken(32), Created: now, LastSeen: now, NotBefore: gen}
	if err := s.save(ctx, sess); err != nil {
		return nil, err
	}
	return sess, nil
}

func (s *Sessions) save(ctx context.Context, sess *Session) error {
	ttl := min(s.idle, sess.Created.Add(s.absolute).Sub(s.now()))
	if ttl <= 0 {
		return ErrNoSession
	}
	b, _ := json.Marshal(sess)
	if err := s.kv.Set(ctx, sessionKey(sess.ID), b, ttl); err != nil {
		return fmt.Errorf("session: %w", err)
	}
	return nil
}

// touchEvery bounds cache writes: the idle timer is renewed at most this often.
const touchEvery = time.Minute

// Get returns the live session with this ID and renews its idle timer.
func (s *Sessions) Get(ctx context.Context, id string) (*Session, error) {
	if id == "" {
		return nil, ErrNoSession
	}
	b, err := s.kv.Get(ctx, sessionKey(id))
	if errors.Is(err, cache.ErrMiss) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	var sess Session
	if err := json.Unmarshal(b, &sess); err != nil {
		return nil, ErrNoSession
	}
	sess.ID = id
	now := s.now()
	if now.Sub(sess.LastSeen) > s.idle || now.Sub(sess.Created) > s.absolute {
		return nil, ErrNoSession
	}
	gen, err := s.generation(ctx, sess.Email)
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	if gen != sess.NotBefore {
		return nil, ErrNoSession
	}
	if now.Sub(sess.LastSeen) > touchEvery {
		sess.LastSeen = now.UTC()
		if err := s.save(ctx, &sess); err != nil {
			return nil, err
		}
	}
	return &sess, nil
}

// Delete ends one session (logout).
func (s *Sessions) Delete(ctx context.Context, id string) error {
	return s.kv.Delete(ctx, sessionKey(id))
}

// LogoutEverywhere ends every session of email (a password change, "log out
// everywhere", a removed account): it moves the user to a new generation.
// The marker outlives every session it ends.
func (s *Sessions) LogoutEverywhere(ctx context.Context, email string) error {
	gen := strconv.FormatInt(s.now().UnixNano(), 10)
	if err := s.kv.Set(ctx, genKey(email), []byte(gen), s.absolute+time.Hour); err != nil {
		return fmt.Errorf("session: %w", err)
	}
	return nil
}

// CheckCSRF reports whether token is the session's CSRF token.
func (sess *Session) CheckCSRF(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(sess.CSRF)) == 1
}
