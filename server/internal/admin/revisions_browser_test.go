package admin_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/samtycke/samtycke/server/internal/manage"
)

// draftName is the demo draft's site name, read from the server.
func draftName(t *testing.T, s *stack) string {
	t.Helper()
	d, err := s.svc.Manager.Draft(context.Background(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := manage.LenientConfig(d.Config)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Name
}

// waitDraft polls the demo draft until it holds want.
func waitDraft(t *testing.T, s *stack, want string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		d, err := s.svc.Manager.Draft(context.Background(), "demo")
		if err == nil && strings.Contains(string(d.Config), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the draft does not hold %s after 15 s (%v)", want, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Two people edit one site in two browsers. A save over a revision
// someone else saved over is refused: its editor sees who saved, when, and
// where the drafts differ, and nothing is overwritten until they choose:
// apply their own changes to the other draft (both people's changes
// stay), save theirs over it deliberately, or load it.
func TestTwoEditorsInTwoBrowsers(t *testing.T) {
	s := newStack(t, nil)
	if _, err := s.svc.Manager.PutMember(context.Background(), manage.Principal{Email: adminEmail}, "demo", "kollega@example.se", manage.Editor, adminPassword); err != nil {
		t.Fatal(err)
	}
	owner, colleague := browser(t, 1280, 900), browser(t, 1280, 900)
	signIn(t, owner, s.base, adminEmail, adminPassword)
	signIn(t, colleague, s.base, "kollega@example.se", adminPassword)
	for _, b := range []context.Context{owner, colleague} {
		do(t, b, chromedp.Navigate(s.base+"/admin/sites/demo/edit"), chromedp.WaitVisible(chromedp.ID("f-name")))
	}
	setField(t, colleague, "f-name", "Kollegans butik")
	setField(t, colleague, "f-controller-phone", "08-123 45 67")
	waitDraft(t, s, `"phone":"08-123 45 67"`)
	waitDraft(t, s, `"name":"Kollegans butik"`)
	setField(t, owner, "f-name", "Ägarens butik")
	waitFor(t, owner, "the refusal", `!document.getElementById("conflict").hidden`)
	who := eval[string](t, owner, `document.getElementById("conflict-who").textContent`)
	rows := eval[string](t, owner, `document.getElementById("conflict-rows").textContent`)
	if !strings.Contains(who, "kollega@example.se saved this draft at") || !strings.Contains(rows, "Site name") ||
		!strings.Contains(rows, "Kollegans butik") || !strings.Contains(rows, "Ägarens butik") || !strings.Contains(rows, "08-123 45 67") {
		t.Errorf("the refusal shows %q, rows %q", who, rows)
	}
	if state := eval[string](t, owner, `document.getElementById("save-state").textContent`); !strings.Contains(state, "Not saved") {
		t.Errorf("the save state says %q", state)
	}
	viewShot(t, owner, "dashboard-editor-conflict")
	if n := draftName(t, s); n != "Kollegans butik" {
		t.Fatalf("the refused save replaced the draft: %q", n)
	}
	// Typing on while refused is kept for what the owner chooses.
	setField(t, owner, "f-controller-name", "Ägaren AB")
	eval[bool](t, owner, `(() => { document.getElementById("conflict-apply").click(); return true; })()`)
	waitFor(t, owner, "the merged draft", `document.getElementById("f-controller-phone") && document.getElementById("f-controller-phone").value === "08-123 45 67" && document.getElementById("conflict").hidden`)
	for _, want := range []string{`"name":"Ägarens butik"`, `"name":"Ägaren AB"`, `"phone":"08-123 45 67"`} {
		waitDraft(t, s, want)
	}
	if got := eval[string](t, owner, `document.getElementById("f-name").value + " / " + document.getElementById("f-controller-name").value`); got != "Ägarens butik / Ägaren AB" {
		t.Errorf("the owner's page after applying: %q", got)
	}
	// The colleague's page is now stale: their next edit is refused too,
	// and they save theirs over the owner's, deliberately.
	setField(t, colleague, "f-controller-email", "kollega@demobutiken.example")
	waitFor(t, colleague, "the colleague's refusal", `!document.getElementById("conflict").hidden && document.getElementById("conflict-who").textContent.includes("admin@example.se")`)
	eval[bool](t, colleague, `(() => { document.getElementById("conflict-mine").click(); return true; })()`)
	waitFor(t, colleague, "the deliberate save", `document.getElementById("conflict").hidden && document.getElementById("save-state").textContent.startsWith("Draft saved")`)
	waitDraft(t, s, "kollega@demobutiken.example")
	if n := draftName(t, s); n != "Kollegans butik" {
		t.Fatalf("saving theirs over the owner's left the name %q", n)
	}
	// The owner, refused in turn, loads the colleague's draft.
	setField(t, owner, "f-controller-org_number", "556000-0000")
	waitFor(t, owner, "the owner's second refusal", `!document.getElementById("conflict").hidden && document.getElementById("conflict-who").textContent.includes("kollega@example.se")`)
	eval[bool](t, owner, `(() => { document.getElementById("conflict-theirs").click(); return true; })()`)
	waitFor(t, owner, "the colleague's draft", `document.getElementById("conflict") && document.getElementById("conflict").hidden && document.getElementById("f-name").value === "Kollegans butik"`)
	if got := eval[string](t, owner, `document.getElementById("f-controller-email").value`); got != "kollega@demobutiken.example" {
		t.Errorf("the loaded draft lacks the colleague's email: %q", got)
	}
}

// frameOf is the script that finds the preview frame: the editor's, or the
// version page's.
const frameOf = `(document.getElementById("preview-frame") || document.querySelector("[data-preview-src] iframe"))`

// openDialog is the text of the open settings layer in the frame.
const openDialog = `(() => { const f = ` + frameOf + `; const d = f && f.contentDocument;
	const h = d && d.querySelector("#samtycke-root");
	const m = h && h.shadowRoot && h.shadowRoot.querySelector("dialog[open]"); return m ? m.textContent : ""; })()`

// showItems opens every category's list in the frame's settings layer and
// ends its animations, for the photograph.
func showItems(t *testing.T, ctx context.Context) {
	t.Helper()
	eval[bool](t, ctx, `(() => { const f = `+frameOf+`; f.scrollIntoView(); const h = f.contentDocument.querySelector("#samtycke-root");
		for (const d of h.shadowRoot.querySelectorAll("details")) d.open = true;
		for (const a of f.contentDocument.getAnimations().concat(h.shadowRoot.getAnimations())) { try { a.finish(); } catch (e) {} }
		return true; })()`)
}

// The preview's settings layer shows the draft's categories with their
// items (loaded from the dashboard, not the public 404), at 1280 and 360
// pixels scaled into the pane, in each language; a version's page the same.
func TestPreviewSettingsLayerAtRealWidths(t *testing.T) {
	s := newStack(t, nil)
	ctx := browser(t, 1400, 1000)
	signIn(t, ctx, s.base, adminEmail, adminPassword)
	do(t, ctx, chromedp.Navigate(s.base+"/admin/sites/demo/edit"), chromedp.WaitVisible(chromedp.ID("f-name")))
	setField(t, ctx, "f-items-7-provider", "Google Ireland Ltd (utkast)")
	waitDraft(t, s, "Google Ireland Ltd (utkast)")
	do(t, ctx, chromedp.Click(chromedp.CSS(`[data-preview-layer="2"]`)))
	waitFor(t, ctx, "the items in the settings layer", openDialog+`.includes("Google Ireland Ltd (utkast)") && `+openDialog+`.includes("session_id")`)
	if d := eval[string](t, ctx, openDialog); strings.Contains(d, "could not") || !strings.Contains(d, "_ga") {
		t.Errorf("the settings layer: %.600s", d)
	}
	type size struct {
		Inner int     `json:"inner"`
		Scale float64 `json:"scale"`
		Shown float64 `json:"shown"`
		Pane  float64 `json:"pane"`
	}
	measure := `(() => { const f = ` + frameOf + `; return { inner: f.contentWindow.innerWidth, scale: Number(f.dataset.scale),
		shown: f.getBoundingClientRect().width, pane: f.parentElement.getBoundingClientRect().width }; })()`
	desk := eval[size](t, ctx, measure)
	if desk.Inner != 1280 || desk.Scale >= 1 || desk.Shown > desk.Pane+1 {
		t.Errorf("desktop preview: %+v, want 1280 px wide scaled into the pane", desk)
	}
	showItems(t, ctx)
	viewShot(t, ctx, "dashboard-preview-settings-1280")
	do(t, ctx, chromedp.Click(chromedp.CSS(`[data-preview-width="mobile"]`)), chromedp.Click(chromedp.CSS(`[data-preview-lang="en"]`)))
	waitFor(t, ctx, "English items", openDialog+`.includes("Google Ireland Ltd (utkast)") && `+openDialog+`.includes("Provider")`)
	phone := eval[size](t, ctx, measure)
	if phone.Inner != 360 || phone.Shown > phone.Pane+1 {
		t.Errorf("phone preview: %+v, want 360 px wide", phone)
	}
	showItems(t, ctx)
	viewShot(t, ctx, "dashboard-preview-settings-360-en")

	// A published version's page, with the same buttons.
	do(t, ctx, chromedp.Navigate(s.base+"/admin/sites/demo/versions/1"), chromedp.WaitVisible(chromedp.CSS(`[data-preview-src] iframe`)))
	do(t, ctx, chromedp.Click(chromedp.CSS(`[data-preview-src] [data-preview-layer="2"]`)))
	waitFor(t, ctx, "the version's items", openDialog+`.includes("Google Ireland Ltd") && !`+openDialog+`.includes("(utkast)")`)
	if v := eval[size](t, ctx, measure); v.Inner != 1280 || v.Shown > v.Pane+1 {
		t.Errorf("version preview: %+v", v)
	}
	showItems(t, ctx)
	viewShot(t, ctx, "dashboard-version-preview-settings")
}

// A language typed into the languages field gets its text fields, and a
// preview button, without reloading the page; a field the browser scrolls
// into view stops above the sticky save bar.
func TestEditorAddsALanguageInPlace(t *testing.T) {
	s := newStack(t, nil)
	ctx := browser(t, 1280, 800)
	signIn(t, ctx, s.base, adminEmail, adminPassword)
	do(t, ctx, chromedp.Navigate(s.base+"/admin/sites/demo/edit"), chromedp.WaitVisible(chromedp.ID("f-name")))
	eval[bool](t, ctx, `(() => { window.samePage = true; return true; })()`)
	setField(t, ctx, "f-languages", "sv, en, de")
	waitFor(t, ctx, "German fields", `!!document.getElementById("f-texts-title-de") && !!document.querySelector('[data-preview-lang="de"]') && !!document.getElementById("f-categories-1-title-de")`)
	if !eval[bool](t, ctx, `window.samePage === true`) {
		t.Fatal("the page was reloaded")
	}
	setField(t, ctx, "f-texts-title-de", "Wir schützen Ihre Privatsphäre")
	waitDraft(t, s, "Wir schützen Ihre Privatsphäre")
	waitFor(t, ctx, "the preview after the save", previewText+`.includes("Vi värnar")`)
	eval[bool](t, ctx, `(() => { document.getElementById("sec-texts").scrollIntoView(); return true; })()`)
	settlePreview(t, ctx)
	eval[bool](t, ctx, `(() => { document.getElementById("sec-texts").scrollIntoView(); return true; })()`)
	viewShot(t, ctx, "dashboard-editor-language-added")

	// A field scrolled just into view from below (as Tab and the caret
	// move) stops above the save bar, never under it.
	for _, id := range []string{"f-consent-lifetime_days", "f-appearance-position", "f-items-3-name"} {
		covered := eval[bool](t, ctx, `(() => { window.scrollTo(0, 0); const e = document.getElementById("`+id+`");
			e.focus({preventScroll: true}); e.scrollIntoView({block: "nearest"});
			const bar = document.querySelector(".savebar").getBoundingClientRect(); const r = e.getBoundingClientRect();
			return r.bottom > bar.top && r.top < bar.bottom; })()`)
		if covered {
			t.Errorf("the save bar covers #%s scrolled into view", id)
		}
	}
	viewShot(t, ctx, "dashboard-editor-savebar")
}
