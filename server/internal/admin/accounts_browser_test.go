package admin_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/samtycke/samtycke/server/internal/auth"
)

// TestAccountsInBrowser follows an owner who invites an editor (who makes
// their account through the link), sets up a second factor, requires it of
// the site's members and signs in with it, on the real server. Every page
// is checked with axe-core and photographed.
func TestAccountsInBrowser(t *testing.T) {
	axe := axeSource(t)
	s := newStack(t, nil)
	owner := browser(t, 1280, 900)
	signIn(t, owner, s.base, adminEmail, adminPassword)

	// Invite: the link is shown once, to be passed on.
	do(t, owner, chromedp.Navigate(s.base+"/admin/sites/demo/members"), chromedp.WaitVisible(chromedp.ID("m-email")))
	do(t, owner, chromedp.SendKeys(chromedp.ID("m-email"), "nyredaktor@example.se"), chromedp.Submit(chromedp.ID("m-email")))
	waitFor(t, owner, "the invitation link", `!!document.getElementById("invite-link")`)
	link := eval[string](t, owner, `document.getElementById("invite-link").value`)
	screenshot(t, owner, "members-invited")
	checkAxe(t, owner, axe, "members, invited")

	// The invited person, in a browser of their own.
	guest := browser(t, 390, 844)
	do(t, guest, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("i-password")))
	screenshot(t, guest, "invitation")
	checkAxe(t, guest, axe, "invitation")
	do(t, guest, chromedp.SendKeys(chromedp.ID("i-password"), "mitt eget långa lösenord"),
		chromedp.SendKeys(chromedp.ID("i-password2"), "mitt eget långa lösenord"), chromedp.Submit(chromedp.ID("i-password2")))
	waitFor(t, guest, "the site, joined", `location.pathname === "/admin/sites/demo" && document.body.textContent.includes("Invitation accepted")`)
	if role := eval[string](t, guest, `document.querySelector(".page-head .badge").textContent`); role != "editor" {
		t.Errorf("the invited person's role: %q", role)
	}

	// Two-factor set-up: scan (here: read the key), type the code.
	do(t, owner, chromedp.Navigate(s.base+"/admin/account"), chromedp.WaitVisible(chromedp.ID("pw-current")))
	screenshot(t, owner, "account")
	checkAxe(t, owner, axe, "account")
	do(t, owner, chromedp.Navigate(s.base+"/admin/account/two-factor"), chromedp.WaitVisible(chromedp.ID("tf-code")))
	waitFor(t, owner, "the QR code", `document.querySelector("img.qr").naturalWidth > 0`)
	screenshot(t, owner, "two-factor-setup")
	checkAxe(t, owner, axe, "two-factor set-up")
	secret := eval[string](t, owner, `document.querySelector("input[name=secret]").value`)
	now := time.Now()
	code, err := auth.TOTPCode(secret, now)
	if err != nil {
		t.Fatal(err)
	}
	do(t, owner, chromedp.SendKeys(chromedp.ID("tf-code"), code), chromedp.Submit(chromedp.ID("tf-code")))
	waitFor(t, owner, "the recovery codes", `document.querySelectorAll(".recovery-codes li").length === 10`)
	screenshot(t, owner, "two-factor-recovery-codes")

	// Require it of the members: the editor, without one, is kept out.
	do(t, owner, chromedp.Navigate(s.base+"/admin/sites/demo/members"), chromedp.WaitVisible(chromedp.CSS(`input[name=require_two_factor]`)))
	do(t, owner, chromedp.Click(chromedp.CSS(`input[name=require_two_factor]`)), chromedp.Submit(chromedp.CSS(`input[name=require_two_factor]`)))
	waitFor(t, owner, "the policy saved", `document.body.textContent.includes("Security policy saved")`)
	screenshot(t, owner, "members-security")
	// Who has a second factor (read from ClickHouse for every member at once).
	rows := eval[[]string](t, owner, `[...document.querySelectorAll(".panel table tbody tr")].slice(0, 2).map(r => r.cells[0].textContent + " " + r.cells[2].textContent)`)
	if len(rows) != 2 || rows[0] != adminEmail+" on" || rows[1] != "nyredaktor@example.se off" {
		t.Errorf("the members' two-factor column: %q", rows)
	}
	do(t, guest, chromedp.Navigate(s.base+"/admin/sites/demo/edit"))
	waitFor(t, guest, "the refusal", `document.body.textContent.includes("require two-factor authentication")`)
	screenshot(t, guest, "two-factor-required")

	// Signing in again takes the code.
	again := browser(t, 1280, 900)
	do(t, again, chromedp.Navigate(s.base+"/admin/"), chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), adminEmail), chromedp.SendKeys(chromedp.ID("password"), adminPassword),
		chromedp.Submit(chromedp.ID("password")))
	waitFor(t, again, "the code form", `!!document.getElementById("code")`)
	screenshot(t, again, "login-code")
	checkAxe(t, again, axe, "sign-in code")
	next, err := auth.TOTPCode(secret, now.Add(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	do(t, again, chromedp.SendKeys(chromedp.ID("code"), next), chromedp.Submit(chromedp.ID("code")))
	waitFor(t, again, "the sites page", `location.pathname === "/admin/" && !!document.querySelector("h1")`)
}
