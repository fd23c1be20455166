package manage_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/samtycke/samtycke/server/internal/apierr"
	"github.com/samtycke/samtycke/server/internal/mail"
	"github.com/samtycke/samtycke/server/internal/manage"
	"github.com/samtycke/samtycke/server/internal/testutil"
)

func code(err error) string {
	var ae *apierr.Error
	if errors.As(err, &ae) {
		return ae.Code
	}
	if err != nil {
		return "error: " + err.Error()
	}
	return ""
}

// secretOf is the invitation secret at the end of a link.
func secretOf(t *testing.T, link string) string {
	t.Helper()
	i := strings.LastIndex(link, "/")
	if i < 0 || !strings.HasPrefix(link[i+1:], "smi_") {
		t.Fatalf("no invitation secret in %q", link)
	}
	return link[i+1:]
}

// Adding a person gives them nothing until they accept, signed in as the
// invited address; an email with an account and one without get the same
// answer; a link works once.
func TestInvitationGivesNoRoleUntilAccepted(t *testing.T) {
	a, b, _, _ := twoInstances(t)
	ctx := context.Background()
	setup(t, a, "shop")
	a.WithMail(nil, "https://consent.example.se")
	known, unknown := "known@example.se", "new@example.se"
	if err := a.AddUser(ctx, owner, known, password); err != nil {
		t.Fatal(err)
	}
	k, err := a.Invite(ctx, owner, "shop", known, manage.Editor)
	if err != nil {
		t.Fatal(err)
	}
	u, err := a.Invite(ctx, owner, "shop", unknown, manage.Auditor)
	if err != nil {
		t.Fatal(err)
	}
	// The same shape and fields for both: nothing says which has an account.
	shape := func(in *manage.Invited) []string {
		return []string{reflect.TypeOf(in.Member).String(), boolS(in.Member == nil), boolS(in.Invitation != nil), boolS(in.Link != ""), boolS(in.Mailed), in.MailError}
	}
	if !reflect.DeepEqual(shape(k), shape(u)) || k.Member != nil {
		t.Fatalf("answers differ or give a role: %v vs %v", shape(k), shape(u))
	}
	if !strings.HasPrefix(k.Link, "https://consent.example.se/admin/invitations/smi_") {
		t.Errorf("link %q", k.Link)
	}
	if _, err := b.RoleOn(ctx, manage.Principal{Email: known}, "shop"); !manage.IsNotFound(err) {
		t.Fatalf("an invited person has a role before accepting: %v", err)
	}
	// Another account cannot use the link.
	if err := b.AddUser(ctx, owner, "other@example.se", password); err != nil {
		t.Fatal(err)
	}
	if _, err := b.AcceptInvitation(ctx, manage.Principal{Email: "other@example.se"}, secretOf(t, k.Link)); code(err) != "wrong_account" {
		t.Fatalf("accepting as another account: %v, want wrong_account", err)
	}
	mb, err := b.AcceptInvitation(ctx, manage.Principal{Email: known}, secretOf(t, k.Link))
	if err != nil {
		t.Fatal(err)
	}
	if mb.Role != manage.Editor || mb.AddedBy != owner.Email {
		t.Errorf("member %+v", mb)
	}
	if role, err := a.RoleOn(ctx, manage.Principal{Email: known}, "shop"); err != nil || role != manage.Editor {
		t.Fatalf("after accepting: %v %v", role, err)
	}
	if _, err := a.AcceptInvitation(ctx, manage.Principal{Email: known}, secretOf(t, k.Link)); code(err) != "unknown_invitation" {
		t.Fatalf("a used link worked again: %v", err)
	}
	// The unknown address makes its account through the link.
	if _, _, err := a.AcceptAsNewAccount(ctx, secretOf(t, u.Link), "short", "10.0.0.1"); code(err) != "weak_password" {
		t.Fatalf("weak password: %v", err)
	}
	sess, mb, err := a.AcceptAsNewAccount(ctx, secretOf(t, u.Link), "a long and unusual passphrase", "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if sess.Email != unknown || mb.Role != manage.Auditor {
		t.Errorf("new account: %v %+v", sess.Email, mb)
	}
	evs, err := a.AuditTrail(ctx, manage.AuditQuery{Site: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	var acts []string
	for _, ev := range evs {
		if strings.HasPrefix(ev.Action, "member.") {
			acts = append(acts, ev.Actor+" "+ev.Action)
		}
	}
	want := []string{owner.Email + " member.invite", owner.Email + " member.invite", known + " member.join", unknown + " member.join"}
	if !sameSet(acts, want) {
		t.Errorf("audit trail %q, want %q", acts, want)
	}
	if open, err := b.Invitations(ctx, "shop"); err != nil || len(open) != 0 {
		t.Errorf("open invitations after both accepted: %v %v", open, err)
	}
}

// A withdrawn invitation stays withdrawn, a new one replaces an open one,
// and an expired link says so.
func TestInvitationWithdrawnAndExpired(t *testing.T) {
	a, b, _, _ := twoInstances(t)
	ctx := context.Background()
	setup(t, a, "shop")
	e := "x@example.se"
	if err := a.AddUser(ctx, owner, e, password); err != nil {
		t.Fatal(err)
	}
	first, err := a.Invite(ctx, owner, "shop", e, manage.Editor)
	if err != nil {
		t.Fatal(err)
	}
	second, err := b.Invite(ctx, owner, "shop", e, manage.Auditor)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.AcceptInvitation(ctx, manage.Principal{Email: e}, secretOf(t, first.Link)); code(err) != "unknown_invitation" {
		t.Fatalf("a replaced invitation still works: %v", err)
	}
	if err := a.WithdrawInvitation(ctx, owner, "shop", second.Invitation.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.AcceptInvitation(ctx, manage.Principal{Email: e}, secretOf(t, second.Link)); code(err) != "unknown_invitation" {
		t.Fatalf("a withdrawn invitation works: %v", err)
	}
	third, err := a.Invite(ctx, owner, "shop", e, manage.Auditor)
	if err != nil {
		t.Fatal(err)
	}
	manage.SetClock(b, func() time.Time { return time.Now().Add(manage.InvitationLifetime + time.Minute) })
	if _, err := b.AcceptInvitation(ctx, manage.Principal{Email: e}, secretOf(t, third.Link)); code(err) != "invitation_expired" {
		t.Fatalf("an expired invitation: %v, want invitation_expired", err)
	}
}

// With a mail server, the invitation is mailed with its link.
func TestInvitationMailed(t *testing.T) {
	a, _, _, _ := twoInstances(t)
	ctx := context.Background()
	setup(t, a, "shop")
	srv := testutil.PrivateSMTP(t)
	m, err := mail.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	a.WithMail(m, "https://consent.example.se")
	in, err := a.Invite(ctx, owner, "shop", "asa@example.se", manage.Editor)
	if err != nil {
		t.Fatal(err)
	}
	if !in.Mailed || in.MailError != "" {
		t.Fatalf("not mailed: %+v", in)
	}
	if got := srv.Mail(); !strings.Contains(got, in.Link) || !strings.Contains(got, "To: asa@example.se") {
		t.Errorf("the mail lacks the link %s:\n%s", in.Link, got)
	}
}

func boolS(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	n := map[string]int{}
	for _, x := range a {
		n[x]++
	}
	for _, x := range b {
		n[x]--
	}
	for _, v := range n {
		if v != 0 {
			return false
		}
	}
	return true
}
