package admin_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/samtycke/samtycke/server/internal/demo"
)

// An auditor's Consents page in Chromium: a lookup shows the visitor's
// decisions and the version's texts; an export downloads with progress;
// the signing key is listed. Checked with axe-core and photographed.
func TestConsentsPageInBrowser(t *testing.T) {
	axe := axeSource(t)
	s := newStack(t, nil)
	visitor, _, now := shipDecisions(t, s)
	s.user(t, "dpo@example.se", demo.SiteID, "auditor")
	ctx := browser(t, 1280, 900)
	signIn(t, ctx, s.base, "dpo@example.se", adminPassword)

	do(t, ctx, chromedp.Navigate(s.base+"/admin/sites/"+demo.SiteID+"/consents?consent_id="+visitor.String()),
		chromedp.WaitVisible(chromedp.ID("hist-h")))
	if n := eval[int](t, ctx, `document.querySelectorAll('[aria-label="Decisions of this consent ID"] tbody tr').length`); n != 3 {
		t.Errorf("%d decisions shown, want 3", n)
	}
	if !strings.Contains(eval[string](t, ctx, `document.body.textContent`), s.svc.Ledger.Key().ID) {
		t.Error("the signing key is not listed")
	}
	checkAxe(t, ctx, axe, "consents")
	screenshot(t, ctx, "dashboard-consents-lookup")

	setField(t, ctx, "e-from", now.AddDate(0, 0, -1).Format(time.DateOnly))
	setField(t, ctx, "e-to", now.AddDate(0, 0, 1).Format(time.DateOnly))
	do(t, ctx, chromedp.Click(chromedp.CSS(`#export-form button[type=submit]`)))
	waitFor(t, ctx, "the export to finish", `document.getElementById("export-text").textContent.startsWith("30 records")`)
	if href := eval[string](t, ctx, `document.querySelector("#export-text a").href`); !strings.HasPrefix(href, "blob:") {
		t.Errorf("no download link: %q", href)
	}
	viewShot(t, ctx, "dashboard-consents-export")
}
