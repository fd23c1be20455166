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

// Failures slow the next attempt more and more, per account and address,
// per account and per address; a sign-in ends its account's delays from
// its address, and an address the account signed in from before is not
// slowed by failures of that account elsewhere.
func TestLoginLimit(t *testing.T) {
	for name, kv := range counters(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			l := auth.NewLoginLimit(kv)
			l.Free, l.AccountFree, l.AddressFree = 2, 4, 6
			wait := func(email, ip string) time.Duration {
				t.Helper()
				d, err := l.Wait(ctx, email, ip)
				if err != nil {
					t.Fatal(err)
				}
				return d
			}
			fail := func(email, ip string) {
				t.Helper()
				if err := l.Failed(ctx, email, ip); err != nil {
					t.Fatal(err)
				}
			}
			// The owner signed in from home once.
			if err := l.Succeeded(ctx, "a@x.se", "10.0.0.9"); err != nil {
				t.Fatal(err)
			}
			fail("a@x.se", "10.0.0.1")
			if d := wait("a@x.se", "10.0.0.1"); d != 0 {
				t.Errorf("one failure: wait %v, want none", d)
			}
			fail("a@x.se", "10.0.0.1")
			if d := wait("a@x.se", "10.0.0.1"); d < 500*time.Millisecond || d > time.Second {
				t.Errorf("two failures: wait %v, want 1 s", d)
			}
			fail("a@x.se", "10.0.0.1")
			if d := wait("a@x.se", "10.0.0.1"); d <= time.Second || d > 2*time.Second {
				t.Errorf("three failures: wait %v, want 2 s (growing)", d)
			}
			// Another address: free of the pair's delay, until the account's.
			if d := wait("a@x.se", "10.0.0.2"); d != 0 {
				t.Errorf("another address after 3 failures: wait %v", d)
			}
			fail("a@x.se", "10.0.0.2")
			if d := wait("a@x.se", "10.0.0.3"); d == 0 {
				t.Error("the account's 4th failure from anywhere slows nobody")
			}
			if d := wait("a@x.se", "10.0.0.9"); d != 0 {
				t.Errorf("the owner's known address waits %v for failures elsewhere", d)
			}
			// One address against many accounts.
			for _, e := range []string{"b@x.se", "c@x.se", "d@x.se", "e@x.se", "f@x.se"} {
				fail(e, "10.0.0.5")
			}
			if d := wait("g@x.se", "10.0.0.5"); d != 0 {
				t.Errorf("five failures from one address: %v", d)
			}
			fail("g@x.se", "10.0.0.5")
			if d := wait("h@x.se", "10.0.0.5"); d == 0 {
				t.Error("an address's 6th failure on any account slows it not")
			}
			// A sign-in ends the pair's delay.
			if err := l.Succeeded(ctx, "a@x.se", "10.0.0.1"); err != nil {
				t.Fatal(err)
			}
			if d := wait("a@x.se", "10.0.0.1"); d != 0 {
				t.Errorf("after a sign-in from the address: wait %v", d)
			}
		})
	}
}

func TestLoginDelays(t *testing.T) {
	l := auth.NewLoginLimit(nil)
	for n, want := range map[int64]time.Duration{0: 0, 2: 0, 3: time.Second, 4: 2 * time.Second, 8: 32 * time.Second, 12: 512 * time.Second, 13: 15 * time.Minute, 500: 15 * time.Minute} {
		if got := l.Delay(n, 3); got != want {
			t.Errorf("Delay(%d) = %v, want %v", n, got, want)
		}
	}
}

// RFC 6238 appendix B, SHA-1 (the last six of its eight digits).
func TestTOTPVectors(t *testing.T) {
	secret := "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" // "12345678901234567890"
	for at, code := range map[int64]string{59: "287082", 1111111109: "081804", 1234567890: "005924", 2000000000: "279037"} {
		step, ok := auth.CheckTOTP(secret, code, time.Unix(at, 0))
		if !ok || step != at/30 {
			t.Errorf("t=%d %s: ok=%v step=%d", at, code, ok, step)
		}
	}
	// A step late or early passes (clock drift); two steps do not.
	if _, ok := auth.CheckTOTP(secret, "287082", time.Unix(59+30, 0)); !ok {
		t.Error("one step late refused")
	}
	if _, ok := auth.CheckTOTP(secret, "287082", time.Unix(59+61, 0)); ok {
		t.Error("two steps late accepted")
	}
	if _, ok := auth.CheckTOTP(secret, "28708", time.Unix(59, 0)); ok {
		t.Error("five digits accepted")
	}
}

func TestRecoveryCodes(t *testing.T) {
	codes := auth.NewRecoveryCodes(10)
	seen := map[string]bool{}
	for _, c := range codes {
		if len(c) != 11 || c[5] != '-' || seen[c] {
			t.Errorf("code %q", c)
		}
		seen[c] = true
		if got := auth.NormalizeRecoveryCode(" " + strings.ToUpper(strings.Replace(c, "-", " ", 1)) + " "); got != c {
			t.Errorf("typed %q back as %q", c, got)
		}
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
