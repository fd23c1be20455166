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
	// SecondFactor is how the login was confirmed beyond the password
	// ("totp", "recovery"), empty for a password alone.
	SecondFactor string `json:"second_factor,omitempty"`
	IP           string `json:"ip,omitempty"`
	UserAgent    string `json:"ua,omitempty"`
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

func sessionKey(id string) string { return "session:" + Handle(id) }

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
	return s.Start(ctx, Session{Email: email})
}

// Start starts a session like proto (its email, second factor, address and
// browser); the rest is new.
func (s *Sessions) Start(ctx context.Context, proto Session) (*Session, error) {
	gen, err := s.generation(ctx, proto.Email)
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	now := s.now().UTC()
	sess := &proto
	sess.ID, sess.CSRF, sess.Created, sess.LastSeen, sess.NotBefore = RandomToken(32), RandomToken(32), now, now, gen
	if err := s.save(ctx, sess); err != nil {
		return nil, err
	}
	if err := s.index(ctx, sess.Email, func(hs []string) []string { return append(hs, Handle(sess.ID)) }); err != nil {
		return nil, err
	}
	return sess, nil
}

// Handle names a session in lists without being its secret id.
func Handle(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

func indexKey(email string) string { return "sessions-of:" + email }

// index rewrites the list of email's session handles. Two logins at the same
// moment may drop one from the list (read, then write): the session still
// works and LogoutEverywhere still ends it; the list is for people to read.
func (s *Sessions) index(ctx context.Context, email string, f func([]string) []string) error {
	var hs []string
	b, err := s.kv.Get(ctx, indexKey(email))
	if err != nil && !errors.Is(err, cache.ErrMiss) {
		return fmt.Errorf("session: %w", err)
	}
	if err == nil {
		_ = json.Unmarshal(b, &hs)
	}
	hs = f(hs)
	if len(hs) > 100 {
		hs = hs[len(hs)-100:]
	}
	b, _ = json.Marshal(hs)
	if err := s.kv.Set(ctx, indexKey(email), b, s.absolute); err != nil {
		return fmt.Errorf("session: %w", err)
	}
	return nil
}

// Listed is a live session in a list: its handle and what is known of it.
type Listed struct {
	Handle string
	Session
}

// List returns email's live sessions, newest first.
func (s *Sessions) List(ctx context.Context, email string) ([]Listed, error) {
	b, err := s.kv.Get(ctx, indexKey(email))
	if errors.Is(err, cache.ErrMiss) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	var hs []string
	_ = json.Unmarshal(b, &hs)
	gen, err := s.generation(ctx, email)
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	var out []Listed
	for i := len(hs) - 1; i >= 0; i-- {
		b, err := s.kv.Get(ctx, "session:"+hs[i])
		if errors.Is(err, cache.ErrMiss) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("session: %w", err)
		}
		var sess Session
		if json.Unmarshal(b, &sess) != nil || sess.Email != email || sess.NotBefore != gen {
			continue
		}
		out = append(out, Listed{Handle: hs[i], Session: sess})
	}
	return out, nil
}

// End ends one of email's sessions by its handle.
func (s *Sessions) End(ctx context.Context, email, handle string) error {
	b, err := s.kv.Get(ctx, "session:"+handle)
	if errors.Is(err, cache.ErrMiss) {
		return ErrNoSession
	}
	if err != nil {
		return fmt.Errorf("session: %w", err)
	}
	var sess Session
	if json.Unmarshal(b, &sess) != nil || sess.Email != email {
		return ErrNoSession
	}
	return s.kv.Delete(ctx, "session:"+handle)
}

// ConfirmSecondFactor records that this session's person has just proved a
// second factor (setting one up).
func (s *Sessions) ConfirmSecondFactor(ctx context.Context, sess *Session, how string) error {
	sess.SecondFactor = how
	return s.save(ctx, sess)
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

// A challenge is a login whose password was right and whose second factor
// is still to come: it lives a few minutes and allows a few codes.
type challenge struct {
	Email    string `json:"email"`
	Attempts int    `json:"attempts"`
}

// ChallengeTTL is how long a login waits for its second factor, and
// ChallengeAttempts how many wrong codes it takes.
const (
	ChallengeTTL      = 5 * time.Minute
	ChallengeAttempts = 5
)

func challengeKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return "login-2fa:" + hex.EncodeToString(sum[:])
}

// StartChallenge holds a login for email until its second factor.
func (s *Sessions) StartChallenge(ctx context.Context, email string) (string, error) {
	id := RandomToken(32)
	b, _ := json.Marshal(challenge{Email: email})
	if err := s.kv.Set(ctx, challengeKey(id), b, ChallengeTTL); err != nil {
		return "", fmt.Errorf("session: %w", err)
	}
	return id, nil
}

// Challenge returns the email of a pending login, or ErrNoSession.
func (s *Sessions) Challenge(ctx context.Context, id string) (string, error) {
	c, err := s.challenge(ctx, id)
	if err != nil {
		return "", err
	}
	return c.Email, nil
}

func (s *Sessions) challenge(ctx context.Context, id string) (*challenge, error) {
	if id == "" {
		return nil, ErrNoSession
	}
	b, err := s.kv.Get(ctx, challengeKey(id))
	if errors.Is(err, cache.ErrMiss) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	var c challenge
	if err := json.Unmarshal(b, &c); err != nil || c.Attempts >= ChallengeAttempts {
		return nil, ErrNoSession
	}
	return &c, nil
}

// FailChallenge counts a wrong code; the last allowed one ends the login.
// (Two wrong codes at the same moment may count once: the account's and
// address's login limits count each.)
func (s *Sessions) FailChallenge(ctx context.Context, id string) error {
	c, err := s.challenge(ctx, id)
	if err != nil {
		return err
	}
	c.Attempts++
	if c.Attempts >= ChallengeAttempts {
		return s.EndChallenge(ctx, id)
	}
	b, _ := json.Marshal(c)
	return s.kv.Set(ctx, challengeKey(id), b, ChallengeTTL)
}

// EndChallenge ends a pending login.
func (s *Sessions) EndChallenge(ctx context.Context, id string) error {
	return s.kv.Delete(ctx, challengeKey(id))
}
