package admin_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/samtycke/samtycke/server/internal/demo"
	"github.com/samtycke/samtycke/server/internal/manage"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// editDemoDraft changes the demo site's draft the way an editor would in
// a few minutes: words in the Swedish texts, a category's description, a
// cookie added and one removed, the banner's colour.
func editDemoDraft(t *testing.T, s *stack) {
	t.Helper()
	ctx := context.Background()
	d, err := s.svc.Manager.Draft(ctx, demo.SiteID)
	if err != nil {
		t.Fatal(err)
	}
	var c siteconfig.Config
	if err := json.Unmarshal(d.Config, &c); err != nil {
		t.Fatal(err)
	}
	sv := c.Texts["sv"]
	sv.Title = strings.Replace(sv.Title, "Vi", "Vi på Demobutiken", 1)
	sv.Desc = strings.Replace(sv.Desc, "cookies", "kakor", 1) + " Läs mer i vår policy."
	c.Texts["sv"] = sv
	c.Categories[len(c.Categories)-1].Description["sv"] += " Vi delar inget med annonsnätverk utan ditt samtycke."
	c.Items = append(c.Items[1:], siteconfig.Item{Name: "_hjSessionUser_*", Pattern: `^_hjSessionUser_[0-9]+$`, Type: "cookie",
		Provider: "Hotjar Ltd", Party: "first", Category: "statistics", Duration: "P1Y",
		Purpose: siteconfig.Localized{"sv": "Känner igen återkommande besökare.", "en": "Recognises returning visitors."}})
	c.Appearance.ButtonBackground = "#0b5c3b"
	js, err := json.Marshal(&c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.Manager.SaveDraft(ctx, manage.Principal{Email: adminEmail}, demo.SiteID, js); err != nil {
		t.Fatal(err)
	}
}

// TestPublishDiffInBrowser photographs what an owner reads before
// publishing and rolling back, and the scan reports: the grouped diff with
// word changes, a first publish's summary, the rollback's diff against an
// unpublished draft, the scans page and the overview.
func TestPublishDiffInBrowser(t *testing.T) {
	axe := axeSource(t)
	s := newStack(t, nil)
	ctx := context.Background()
	editDemoDraft(t, s)
	demoScan(t, s, time.Now().UTC().Add(-72*time.Hour).Truncate(time.Second))
	demoScan(t, s, time.Now().UTC().Add(-2*time.Hour).Truncate(time.Second))
	if _, err := s.svc.Manager.CreateSite(ctx, manage.Principal{Email: adminEmail}, "butik", "Butiken", []string{"https://butik.example"}); err != nil {
		t.Fatal(err)
	}

	b := browser(t, 1280, 900)
	signIn(t, b, s.base, adminEmail, adminPassword)

	do(t, b, chromedp.Navigate(s.base+"/admin/sites/demo/publish"))
	waitFor(t, b, "the diff", `!!document.querySelector("#changes .diff-group")`)
	groups := eval[[]string](t, b, `[...document.querySelectorAll("#changes .diff-group")].map(g => g.dataset.group)`)
	if strings.Join(groups, ",") != "texts,categories,items,appearance" {
		t.Errorf("groups %v", groups)
	}
	ins := eval[[]string](t, b, `[...document.querySelectorAll("#changes ins")].map(e => e.textContent.trim())`)
	del := eval[[]string](t, b, `[...document.querySelectorAll("#changes del")].map(e => e.textContent.trim())`)
	if !contains(ins, "på Demobutiken") || !contains(ins, "kakor") || !contains(del, "cookies") {
		t.Errorf("word changes: inserted %q, deleted %q", ins, del)
	}
	if n := eval[int](t, b, `document.querySelectorAll("#changes tr").length`); n != 0 {
		t.Errorf("%d rows of JSON pointers", n)
	}
	screenshot(t, b, "publish-diff")
	checkAxe(t, b, axe, "publish diff")

	// On a phone the fields stack; nothing is wider than the screen.
	phone := browser(t, 360, 740)
	signIn(t, phone, s.base, adminEmail, adminPassword)
	do(t, phone, chromedp.Navigate(s.base+"/admin/sites/demo/publish"))
	waitFor(t, phone, "the diff", `!!document.querySelector("#changes .diff-group")`)
	if w := eval[int](t, phone, `document.documentElement.scrollWidth`); w > 360 {
		t.Errorf("the publish page is %d px wide on a 360 px screen", w)
	}
	screenshot(t, phone, "publish-diff-phone")

	do(t, b, chromedp.Navigate(s.base+"/admin/sites/butik/publish"))
	waitFor(t, b, "the summary", `!!document.getElementById("first-publish")`)
	summary := eval[string](t, b, `document.getElementById("first-publish").textContent`)
	for _, want := range []string{"Visitors will see a banner with", "1 category: necessary", "0 items", "2 languages: Swedish (sv), English (en)"} {
		if !strings.Contains(summary, want) {
			t.Errorf("the first publish's summary lacks %q: %s", want, summary)
		}
	}
	screenshot(t, b, "publish-first")

	do(t, b, chromedp.Navigate(s.base+"/admin/sites/demo/versions/1"))
	waitFor(t, b, "the rollback", `!!document.querySelector("#rollback-changes .diff-group")`)
	if !eval[bool](t, b, `!!document.getElementById("unpublished-warning") && !!document.querySelector("input[name=replace_draft][required]")`) {
		t.Error("the rollback does not ask before replacing the unpublished draft")
	}
	eval[bool](t, b, `(() => { document.getElementById("rollback").scrollIntoView(); return true; })()`)
	viewShot(t, b, "version-rollback")
	checkAxe(t, b, axe, "version rollback")

	do(t, b, chromedp.Navigate(s.base+"/admin/sites/demo/scans"))
	waitFor(t, b, "the findings", `!!document.getElementById("findings")`)
	screenshot(t, b, "scans")
	checkAxe(t, b, axe, "scans")
	eval[bool](t, b, `(() => { document.querySelector("form.add-form button").click(); return true; })()`)
	waitFor(t, b, "the added item", `!!document.querySelector(".notice-ok") && document.querySelector(".notice-ok").textContent.includes("to the draft")`)
	viewShot(t, b, "scans-added")

	// Shorter retention: the warning with the log's records, and the id to type.
	if err := s.svc.Store.GenerateConsents(ctx, demo.SiteID, 500, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), 30); err != nil {
		t.Fatal(err)
	}
	shortenDemoRetention(t, s)
	do(t, b, chromedp.Navigate(s.base+"/admin/sites/demo/publish"))
	waitFor(t, b, "the retention warning", `!!document.getElementById("retention-records") && !!document.getElementById("confirm_site")`)
	if txt := eval[string](t, b, `document.getElementById("retention-records").textContent`); !strings.Contains(txt, "500 records already in the log (2026-03-01 to 2026-03-30)") {
		t.Errorf("retention warning: %s", txt)
	}
	screenshot(t, b, "publish-retention")
	checkAxe(t, b, axe, "publish retention")

	do(t, b, chromedp.Navigate(s.base+"/admin/sites/demo"))
	waitFor(t, b, "the overview", `!!document.getElementById("snippet")`)
	// The copy button keeps its distance from the line below it.
	gap := eval[float64](t, b, `(() => { const btn = document.querySelector("[data-copy=snippet]").getBoundingClientRect();
		const next = document.getElementById("notice-link").closest("p").getBoundingClientRect(); return next.top - btn.bottom; })()`)
	if gap < 10 {
		t.Errorf("%.0f px between the copy button and the notice link", gap)
	}
	screenshot(t, b, "overview")
	checkAxe(t, b, axe, "overview")
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
