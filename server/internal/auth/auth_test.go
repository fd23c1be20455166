package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/samtycke/samtycke/server/internal/auth"
	"github.com/samtycke/samtycke/server/internal/cache/memory"
	"github.com/samtycke/samtycke/server/internal/testutil"
)

func TestPassword(t *testing.T) {
	h, err := auth.HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q", h)
	}
	if ok, err := auth.CheckPassword(h, "correct horse battery"); !ok || err != nil {
		t.Errorf("right password: %v %v", ok, err)
	}
	if ok, err := auth.CheckPassword(h, "correct horse batterx"); ok || err != nil {
		t.Errorf("wrong password: %v %v", ok, err)
	}
	if h2, err := auth.HashPassword("correct horse battery"); err != nil || h2 == h {
		t.Errorf("two hashes of one password are equal (no salt), or %v", err)
	}
	if _, err := auth.HashPassword("short"); !errors.Is(err, auth.ErrWeakPassword) {
		t.Errorf("short password: %v", err)
	}
	for _, bad := range []string{"", "$argon2id$", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=x$AA$AA"} {
		if ok, err := auth.CheckPassword(bad, "x"); ok || err == nil {
			t.Errorf("malformed hash %q: %v %v", bad, ok, err)
		}
	}
}

func TestAPIToken(t *testing.T) {
	id, secret, hash := auth.NewAPIToken()
	got, ok := auth.ParseAPIToken(secret)
	if !ok || got != id || !auth.CheckSecret(hash, secret) {
		t.Fatalf("token %q: id %q ok %v", secret, got, ok)
	}
	if auth.CheckSecret(hash, secret+"x") {
		t.Error("a changed secret matches")
	}
	for _, bad := range []string{"", "smt_", "smt_abc_def", "xyz_" + secret[4:]} {
		if _, ok := auth.ParseAPIToken(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

// counters is every cache the sessions and the login limit run on.
func counters(t *testing.T) map[string]auth.Counter {
	return map[string]auth.Counter{"memory": memory.New(1000), "redis": testutil.Redis(t)}
}

// One contract, both caches: sessions expire when idle and after the
// absolute timeout, end on logout and on "log out everywhere".
func TestSessions(t *testing.T) {
	for name, kv := range counters(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			ss := auth.NewSessions(kv, time.Hour, 2*time.Hour)
			a, err := ss.Create(ctx, "a@example.se")
			if err != nil {
				t.Fatal(err)
			}
			b, err := ss.Create(ctx, "a@example.se")
			if err != nil {
				t.Fatal(err)
			}
			if a.ID == b.ID || a.CSRF == b.CSRF || len(a.ID) < 40 {
				t.Fatalf("ids %q %q", a.ID, b.ID)
			}
			got, err := ss.Get(ctx, a.ID)
			if err != nil || got.Email != "a@example.se" || !got.CheckCSRF(a.CSRF) || got.CheckCSRF(b.CSRF) || got.CheckCSRF("") {
				t.Fatalf("get: %+v %v", got, err)
			}
			if _, err := ss.Get(ctx, "made-up"); !errors.Is(err, auth.ErrNoSession) {
				t.Errorf("made-up id: %v", err)
			}
			if err := ss.Delete(ctx, a.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := ss.Get(ctx, a.ID); !errors.Is(err, auth.ErrNoSession) {
				t.Errorf("after logout: %v", err)
			}
			if _, err := ss.Get(ctx, b.ID); err != nil {
				t.Errorf("the other session ended too: %v", err)
			}
			other, err := ss.Create(ctx, "other@example.se")
			if err != nil {
				t.Fatal(err)
			}
			if err := ss.LogoutEverywhere(ctx, "a@example.se"); err != nil {
				t.Fatal(err)
			}
			if _, err := ss.Get(ctx, b.ID); !errors.Is(err, auth.ErrNoSession) {
				t.Errorf("after logout everywhere: %v", err)
			}
			if _, err := ss.Get(ctx, other.ID); err != nil {
				t.Errorf("another user's session ended: %v", err)
			}
			if c, err := ss.Create(ctx, "a@example.se"); err != nil {
				t.Fatal(err)
			} else if _, err := ss.Get(ctx, c.ID); err != nil {
				t.Errorf("a new login after logout everywhere: %v", err)
			}
		})
	}
}

func TestSessionTimeouts(t *testing.T) {
	for name, kv := range counters(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			idle := auth.NewSessions(kv, 150*time.Millisecond, time.Hour)
			s, err := idle.Create(ctx, "idle@example.se")
			if err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(5 * time.Second)
			for {
				if _, err := idle.Get(ctx, s.ID); errors.Is(err, auth.ErrNoSession) {
					break
				} else if err != nil || time.Now().After(deadline) {
					t.Fatalf("idle session still alive: %v", err)
				}
				time.Sleep(50 * time.Millisecond)
			}
			// Requests every 50 ms keep the idle timer at bay, not the absolute one.
			abs := auth.NewSessions(kv, time.Hour, 300*time.Millisecond)
			s, err = abs.Create(ctx, "abs@example.se")
			if err != nil {
				t.Fatal(err)
			}
			deadline = time.Now().Add(5 * time.Second)
			for {
				if _, err := abs.Get(ctx, s.ID); errors.Is(err, auth.ErrNoSession) {
					break
				} else if err != nil || time.Now().After(deadline) {
					t.Fatalf("session past its absolute timeout: %v", err)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}

func TestLoginLimit(t *testing.T) {
	for name, kv := range counters(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			l := auth.NewLoginLimit(kv)
			l.PerAccount, l.PerIP = 3, 5
			for i := range 3 {
				if ok, err := l.Allowed(ctx, "a@x.se", "10.0.0.1"); !ok || err != nil {
					t.Fatalf("attempt %d refused: %v", i, err)
				}
				if err := l.Failed(ctx, "a@x.se", "10.0.0.1"); err != nil {
					t.Fatal(err)
				}
			}
			if ok, err := l.Allowed(ctx, "a@x.se", "10.0.0.2"); err != nil || ok {
				t.Errorf("a fourth attempt on the account, from another address, was allowed (%v)", err)
			}
			if ok, err := l.Allowed(ctx, "b@x.se", "10.0.0.1"); err != nil || !ok {
				t.Errorf("another account from the address was refused before the address limit (%v)", err)
			}
			for range 2 {
				if err := l.Failed(ctx, "c@x.se", "10.0.0.1"); err != nil {
					t.Fatal(err)
				}
			}
			if ok, err := l.Allowed(ctx, "d@x.se", "10.0.0.1"); err != nil || ok {
				t.Errorf("the sixth failure from one address was allowed (%v)", err)
			}
		})
	}
}

// Long is not enough: common passwords, and common ones dressed up with
// digits, punctuation or repetition, are refused; real passphrases pass.
func TestPasswordStrength(t *testing.T) {
	for _, bad := range []string{"aaaaaaaaaaaa", "password1234", "Password1234!", "qwertyuiop12", "Summer2024!!!", "iloveyouiloveyou",
		"123456789012", "abababababab", "1q2w3e4r5t6y", "!!football!!1"} {
		if err := auth.CheckPasswordStrength(bad); !errors.Is(err, auth.ErrCommonPassword) {
			t.Errorf("%q: %v, want ErrCommonPassword", bad, err)
		}
		if _, err := auth.HashPassword(bad); err == nil {
			t.Errorf("%q hashed", bad)
		}
	}
	for _, short := range []string{"password12", "aaaaaaaaaa", "k7#Vq9!zR2"} {
		if err := auth.CheckPasswordStrength(short); !errors.Is(err, auth.ErrWeakPassword) {
			t.Errorf("%q: %v, want ErrWeakPassword", short, err)
		}
	}
	for _, good := range []string{"correct horse battery", "a new password", "tranbär-i-snö-2026", "k7#Vq9!zR2xW"} {
		if err := auth.CheckPasswordStrength(good); err != nil {
			t.Errorf("%q refused: %v", good, err)
		}
	}
}
