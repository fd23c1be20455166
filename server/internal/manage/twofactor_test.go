package manage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/samtycke/samtycke/server/internal/auth"
	"github.com/samtycke/samtycke/server/internal/manage"
	"github.com/samtycke/samtycke/server/internal/testutil"
)

// A second factor, end to end on real ClickHouse and two instances: set up
// with a first code; a right password then waits for a code; a code works
// once, a recovery code once, on any instance; removal takes the password
// and a code.
func TestTwoFactorLogin(t *testing.T) {
	a, b, _, _ := twoInstances(t)
	ctx := context.Background()
	setup(t, a, "shop")
	now := time.Now()
	clock := func() time.Time { return now }
	manage.SetClock(a, clock)
	manage.SetClock(b, clock)
	// One Redis for both, as in production: a code is taken once anywhere.
	rc := testutil.Redis(t)
	a.WithClaims(rc)
	b.WithClaims(rc)

	s, err := a.NewTOTP(owner)
	if err != nil {
		t.Fatal(err)
	}
	totpAt := func(at time.Time) string {
		t.Helper()
		c, err := auth.TOTPCode(s.Secret, at)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if _, err := a.EnableTOTP(ctx, owner, s.Secret, "000000"); code(err) != "bad_code" {
		t.Fatalf("a wrong first code: %v", err)
	}
	codes, err := a.EnableTOTP(ctx, owner, s.Secret, totpAt(now))
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != manage.RecoveryCodeCount {
		t.Fatalf("%d recovery codes", len(codes))
	}
	// The password alone no longer signs in, on either instance.
	_, err = b.Login(ctx, owner.Email, password, "10.0.0.1")
	var need *manage.NeedSecondFactor
	if !errors.As(err, &need) {
		t.Fatalf("password only: %v, want a second factor asked for", err)
	}
	// b's challenge lives in b's session store (Redis in production).
	if _, err := b.LoginSecondFactor(ctx, need.Challenge, "123456", "10.0.0.1", "test"); code(err) != "bad_code" {
		t.Fatalf("wrong code: %v", err)
	}
	// The code the set-up used is spent; the next step's code works once.
	if _, err := b.LoginSecondFactor(ctx, need.Challenge, totpAt(now), "10.0.0.1", "test"); code(err) != "code_used" {
		t.Fatalf("the set-up's code again, on the other instance: %v, want code_used", err)
	}
	now = now.Add(30 * time.Second)
	sess, err := b.LoginSecondFactor(ctx, need.Challenge, totpAt(now), "10.0.0.1", "Firefox")
	if err != nil {
		t.Fatal(err)
	}
	if sess.SecondFactor != "totp" || sess.UserAgent != "Firefox" {
		t.Errorf("session %+v", sess)
	}
	if _, err := b.LoginSecondFactor(ctx, need.Challenge, totpAt(now), "10.0.0.1", ""); code(err) != "login_expired" {
		t.Errorf("a finished login's challenge works again: %v", err)
	}
	_, err = b.Login(ctx, owner.Email, password, "10.0.0.1")
	if !errors.As(err, &need) {
		t.Fatal(err)
	}
	if _, err := b.LoginSecondFactor(ctx, need.Challenge, totpAt(now), "10.0.0.1", ""); code(err) != "code_used" {
		t.Errorf("one step's code twice: %v, want code_used", err)
	}
	// A recovery code, once; typed loosely.
	sess, err = b.LoginSecondFactor(ctx, need.Challenge, " "+codes[3]+" ", "10.0.0.1", "")
	if err != nil || sess.SecondFactor != "recovery" {
		t.Fatalf("recovery code: %v %+v", err, sess)
	}
	_, err = a.Login(ctx, owner.Email, password, "10.0.0.1")
	if !errors.As(err, &need) {
		t.Fatal(err)
	}
	if _, err := a.LoginSecondFactor(ctx, need.Challenge, codes[3], "10.0.0.1", ""); code(err) != "bad_code" {
		t.Errorf("a used recovery code on the other instance: %v, want bad_code", err)
	}
	// Removal takes the password and a code.
	if err := a.DisableTOTP(ctx, owner, "wrong password!!", codes[4]); code(err) != "bad_password" {
		t.Errorf("disable with a wrong password: %v", err)
	}
	if err := a.DisableTOTP(ctx, owner, password, codes[4]); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Login(ctx, owner.Email, password, "10.0.0.1"); err != nil {
		t.Errorf("after removal the password signs in: %v", err)
	}
}

// An owner requires a second factor only from a session that has one.
func TestRequireTwoFactor(t *testing.T) {
	a, b, _, _ := twoInstances(t)
	ctx := context.Background()
	setup(t, a, "shop")
	if err := a.RequireTwoFactor(ctx, owner, "", "shop", true); code(err) != "two_factor_yourself" {
		t.Fatalf("required from a password-only session: %v", err)
	}
	if err := a.RequireTwoFactor(ctx, owner, "totp", "shop", true); err != nil {
		t.Fatal(err)
	}
	pol, err := b.SitePolicy(ctx, "shop")
	if err != nil || !pol.RequireTwoFactor || pol.SetBy != owner.Email {
		t.Fatalf("policy on the other instance: %+v %v", pol, err)
	}
	if err := b.RequireTwoFactor(ctx, owner, "", "shop", false); err != nil {
		t.Fatal(err)
	}
	if pol, err := a.SitePolicy(ctx, "shop"); err != nil || pol.RequireTwoFactor {
		t.Fatalf("turned off: %+v %v", pol, err)
	}
}

// Two owners taking each other's ownership away at the same moment, on two
// instances sharing Redis, leave the site with an owner.
func TestTwoOwnersCannotRemoveEachOther(t *testing.T) {
	a, b, _, _ := twoInstances(t)
	ctx := context.Background()
	setup(t, a, "shop")
	rc := testutil.Redis(t)
	a.WithClaims(rc)
	b.WithClaims(rc)
	second := manage.Principal{Email: "second@example.se"}
	if _, err := a.PutMember(ctx, owner, "shop", second.Email, manage.Owner, password); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	go func() { errs <- a.RemoveMember(ctx, owner, "shop", second.Email) }()
	go func() { _, err := b.PutMember(ctx, second, "shop", owner.Email, manage.Editor, ""); errs <- err }()
	var refused int
	for range 2 {
		if err := <-errs; code(err) == "owners_changing" || code(err) == "last_owner" {
			refused++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	ms, err := a.Members(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	owners := 0
	for _, m := range ms {
		if m.Role == manage.Owner {
			owners++
		}
	}
	if owners == 0 || refused != 1 {
		t.Errorf("%d owners left, %d of the two changes refused; want at least one owner and one refusal", owners, refused)
	}
}

// A factor removed while a login waits for its code ends that login in
// words (not a server error).
func TestFactorRemovedDuringLogin(t *testing.T) {
	a, _, _, _ := twoInstances(t)
	ctx := context.Background()
	setup(t, a, "shop")
	s, err := a.NewTOTP(owner)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	manage.SetClock(a, func() time.Time { return now })
	c0, err := auth.TOTPCode(s.Secret, now)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := a.EnableTOTP(ctx, owner, s.Secret, c0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Login(ctx, owner.Email, password, "10.0.0.1")
	var need *manage.NeedSecondFactor
	if !errors.As(err, &need) {
		t.Fatal(err)
	}
	if err := a.DisableTOTP(ctx, owner, password, codes[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := a.LoginSecondFactor(ctx, need.Challenge, codes[1], "10.0.0.1", ""); code(err) != "login_expired" {
		t.Errorf("the code after the factor was removed: %v, want login_expired", err)
	}
}
