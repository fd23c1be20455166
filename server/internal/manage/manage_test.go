package manage_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/samtycke/samtycke/server/internal/auth"
	"github.com/samtycke/samtycke/server/internal/cache/memory"
	"github.com/samtycke/samtycke/server/internal/manage"
	"github.com/samtycke/samtycke/server/internal/store/clickhouse"
	"github.com/samtycke/samtycke/server/internal/testutil"
)

// noVersions: these tests publish nothing.
type noVersions struct{ manage.Versions }

func (noVersions) Unpublish(context.Context, string) error { return nil }

// twoInstances is two Managers, each on its own connection to one fresh
// ClickHouse database, as two servers of one deployment are. Their claims
// live in separate process memories: Redis is lost, the worst case.
func twoInstances(t *testing.T) (a, b *manage.Manager, sa, sb *clickhouse.Store) {
	t.Helper()
	url := testutil.ClickHouseURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	open := func() *clickhouse.Store {
		st, err := clickhouse.Open(ctx, url, testutil.Logger(t))
		if err != nil {
			testutil.ClickHouse(t) // skips or fails with the reason
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	sa, sb = open(), open()
	if _, err := sa.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	mk := func(st *clickhouse.Store) *manage.Manager {
		kv := memory.New(1000)
		return manage.New(st, noVersions{}, auth.NewSessions(kv, time.Hour, 12*time.Hour), auth.NewLoginLimit(kv), slog.New(slog.DiscardHandler)).WithClaims(memory.New(1000))
	}
	return mk(sa), mk(sb), sa, sb
}

var owner = manage.Principal{Email: "owner@example.se"}

const password = "correct horse battery"

func setup(t *testing.T, m *manage.Manager, site string) {
	t.Helper()
	ctx := context.Background()
	if err := m.AddUser(ctx, owner, owner.Email, password); err != nil {
		t.Fatal(err)
	}
	if _, err := m.CreateSite(ctx, owner, site, "Shop", nil); err != nil {
		t.Fatal(err)
	}
}

// Two people create the same site at the same moment on two instances whose
// Redis claims cannot see each other: one of them owns it, the other has no
// role, and every instance agrees which.
func TestTwoCreatorsOfOneSiteMakeOneOwner(t *testing.T) {
	a, b, _, _ := twoInstances(t)
	ctx := context.Background()
	for _, e := range []string{"alice@example.se", "bob@example.se"} {
		if err := a.AddUser(ctx, owner, e, password); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 4 {
		site := fmt.Sprintf("shop-%d", i)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for j, c := range []struct {
			m     *manage.Manager
			email string
		}{{a, "alice@example.se"}, {b, "bob@example.se"}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[j] = c.m.CreateSite(ctx, manage.Principal{Email: c.email}, site, "Shop "+c.email, nil)
			}()
		}
		wg.Wait()
		for _, m := range []*manage.Manager{a, b} {
			ms, err := m.Members(ctx, site)
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) != 1 || ms[0].Role != manage.Owner {
				t.Fatalf("%s: members %+v (create: %v, %v)", site, ms, errs[0], errs[1])
			}
			loser := "alice@example.se"
			if ms[0].Email == loser {
				loser = "bob@example.se"
			}
			if _, err := m.RoleOn(ctx, manage.Principal{Email: loser}, site); !manage.IsNotFound(err) {
				t.Errorf("%s: %s has a role too: %v", site, loser, err)
			}
		}
	}
}

// A token's last-used touch that read the token before it was revoked
// does not bring it back; neither do touches racing the revocation.
func TestRevokedTokenStaysRevoked(t *testing.T) {
	a, b, _, sb := twoInstances(t)
	ctx := context.Background()
	setup(t, a, "shop")
	tok, secret, err := a.CreateToken(ctx, owner, "shop", "ci", manage.Editor)
	if err != nil {
		t.Fatal(err)
	}
	// The old write path: read, revoke elsewhere, write back.
	if _, err := sb.Token(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if err := a.RevokeToken(ctx, owner, "shop", tok.ID); err != nil {
		t.Fatal(err)
	}
	if err := sb.TouchToken(ctx, tok.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Authenticate(ctx, secret); !manage.IsNotFound(err) {
		t.Errorf("a revoked token authenticates after a touch: %v", err)
	}

	// Concurrent uses on one instance while the other revokes.
	tok2, secret2, err := a.CreateToken(ctx, owner, "shop", "ci2", manage.Editor)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := b.Authenticate(ctx, secret2); err != nil && !manage.IsNotFound(err) {
				t.Error(err)
			}
		}()
	}
	if err := a.RevokeToken(ctx, owner, "shop", tok2.ID); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for _, m := range []*manage.Manager{a, b} {
		if _, err := m.Authenticate(ctx, secret2); !manage.IsNotFound(err) {
			t.Errorf("revoked token: %v", err)
		}
		ts, err := m.Tokens(ctx, "shop")
		if err != nil || len(ts) != 0 {
			t.Errorf("tokens after revocation: %+v %v", ts, err)
		}
	}
}

// Removing a member is final against a role change written from a read
// made before the removal; their tokens stop working with them.
func TestMemberRemovalIsFinal(t *testing.T) {
	a, b, _, sb := twoInstances(t)
	ctx := context.Background()
	setup(t, a, "shop")
	ed := "editor@example.se"
	if _, err := a.PutMember(ctx, owner, "shop", ed, manage.Editor, password); err != nil {
		t.Fatal(err)
	}
	_, secret, err := a.CreateToken(ctx, manage.Principal{Email: ed}, "shop", "editor's", manage.Editor)
	if err != nil {
		t.Fatal(err)
	}
	stale, err := sb.Members(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.RemoveMember(ctx, owner, "shop", ed); err != nil {
		t.Fatal(err)
	}
	for _, mb := range stale {
		if mb.Email == ed {
			mb.Role = manage.Owner // what a role change from the stale read writes
			if err := sb.PutMember(ctx, mb); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := b.RoleOn(ctx, manage.Principal{Email: ed}, "shop"); !manage.IsNotFound(err) {
		t.Errorf("the removed member is back: %v", err)
	}
	if _, err := b.Authenticate(ctx, secret); !manage.IsNotFound(err) {
		t.Errorf("the removed member's token works: %v", err)
	}
	// A token made under the member's role while they were being removed
	// (written after the removal's sweep) is refused too.
	late := manage.Token{ID: "latetoken001", Site: "shop", Name: "late", Role: manage.Editor, CreatedBy: ed, Member: ed,
		CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
	lateSecret := auth.TokenPrefix + late.ID + "_" + auth.RandomToken(32)
	late.SecretHash = auth.HashSecret(lateSecret)
	if err := sb.PutToken(ctx, late); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, lateSecret); !manage.IsNotFound(err) {
		t.Errorf("a token of a removed member: %v", err)
	}
	// Invited again, they are a member again (a new membership).
	if _, err := a.PutMember(ctx, owner, "shop", ed, manage.Auditor, ""); err != nil {
		t.Fatal(err)
	}
	if r, err := b.RoleOn(ctx, manage.Principal{Email: ed}, "shop"); err != nil || r != manage.Auditor {
		t.Errorf("added again: %v %v", r, err)
	}
}

// A password change racing the account's removal never brings it back.
func TestPasswordChangeCannotUndeleteAnAccount(t *testing.T) {
	a, b, _, _ := twoInstances(t)
	ctx := context.Background()
	for i := range 4 {
		email := fmt.Sprintf("leaving-%d@example.se", i)
		if err := a.AddUser(ctx, owner, email, password); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			if err := b.SetPassword(ctx, owner, email, "a brand new passphrase"); err != nil && !manage.IsNotFound(err) {
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			if err := a.RemoveUser(ctx, owner, email); err != nil {
				t.Error(err)
			}
		}()
		wg.Wait()
		for _, m := range []*manage.Manager{a, b} {
			if _, err := m.Login(ctx, email, "a brand new passphrase", "10.0.0.1"); !errors.Is(err, manage.ErrBadLogin) {
				t.Errorf("%s signs in after removal: %v", email, err)
			}
		}
	}
}

// Tokens expire; the list shows when.
func TestTokenExpiry(t *testing.T) {
	a, _, sa, _ := twoInstances(t)
	ctx := context.Background()
	setup(t, a, "shop")
	tok, secret, err := a.CreateToken(ctx, owner, "shop", "ci", manage.Auditor)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(tok.ExpiresAt); d < 89*24*time.Hour || d > 90*24*time.Hour {
		t.Errorf("default expiry in %v, want 90 days", d)
	}
	ts, err := a.Tokens(ctx, "shop")
	if err != nil || len(ts) != 1 || !ts[0].ExpiresAt.Equal(tok.ExpiresAt) {
		t.Fatalf("listed %+v %v, want expiry %v", ts, err, tok.ExpiresAt)
	}
	if _, err := a.Authenticate(ctx, secret); err != nil {
		t.Fatal(err)
	}
	old := manage.Token{ID: "expiredtok01", Site: "shop", Name: "old", Role: manage.Auditor, CreatedBy: owner.Email, Member: owner.Email,
		CreatedAt: time.Now().Add(-48 * time.Hour), ExpiresAt: time.Now().Add(-time.Hour)}
	oldSecret := auth.TokenPrefix + old.ID + "_" + auth.RandomToken(32)
	old.SecretHash = auth.HashSecret(oldSecret)
	if err := sa.PutToken(ctx, old); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, oldSecret); !manage.IsNotFound(err) {
		t.Errorf("expired token: %v", err)
	}
	if _, _, err := a.CreateToken(ctx, owner, "shop", "forever", manage.Auditor, 5*365*24*time.Hour); err == nil {
		t.Error("a token of five years was made")
	}
}

// A site's audit trail shows its members' sign-ins only from when they
// joined it.
func TestAuditTrailShowsSignInsFromJoining(t *testing.T) {
	a, _, sa, _ := twoInstances(t)
	ctx := context.Background()
	setup(t, a, "shop")
	e := "later@example.se"
	if err := a.AddUser(ctx, owner, e, password); err != nil {
		t.Fatal(err)
	}
	before := time.Now().Add(-48 * time.Hour).UTC()
	if err := sa.AppendAudit(ctx, manage.Event{At: before, Actor: e, Action: "login", Details: `{"ip":"10.9.9.9"}`}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.PutMember(ctx, owner, "shop", e, manage.Auditor, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Login(ctx, e, password, "10.1.1.1"); err != nil {
		t.Fatal(err)
	}
	evs, err := a.AuditTrail(ctx, manage.AuditQuery{Site: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	var logins []string
	for _, ev := range evs {
		if ev.Actor == e && ev.Action == "login" {
			logins = append(logins, ev.Details)
		}
	}
	if len(logins) != 1 || logins[0] != `{"ip":"10.1.1.1"}` {
		t.Errorf("the site's trail shows %s's sign-ins %q, want only the one after joining", e, logins)
	}
}
