package admin_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/samtycke/samtycke/server/internal/manage"
	"github.com/samtycke/samtycke/server/internal/testutil"
)

// browser starts Debian's Chromium, headless, with a fresh profile.
func browser(t *testing.T, width, height int) context.Context {
	t.Helper()
	exe := testutil.Chromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 240*time.Second)
	t.Cleanup(cancel3)
	viewport := chromedp.EmulateViewport(int64(width), int64(height))
	if width < 600 {
		viewport = chromedp.EmulateViewport(int64(width), int64(height), chromedp.EmulateMobile, chromedp.EmulateScale(2))
	}
	if err := chromedp.Do(ctx, viewport); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// screenshot saves the whole page as a PNG under $SAMTYCKE_ARTIFACTS.
func screenshot(t *testing.T, ctx context.Context, name string) {
	shoot(t, ctx, name, chromedp.FullScreenshot(100))
}

// viewShot saves what the viewport shows (long pages, sticky panes).
func viewShot(t *testing.T, ctx context.Context, name string) {
	shoot(t, ctx, name, chromedp.CaptureScreenshot())
}

func shoot(t *testing.T, ctx context.Context, name string, capture chromedp.Action[[]byte]) {
	t.Helper()
	png, err := chromedp.Run(ctx, capture)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", testutil.SaveArtifact(t, name+".png", png))
}

// axeSource is axe-core from .data/npm (make test installs it).
func axeSource(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	p := filepath.Join(filepath.Dir(file), "../../../.data/npm/node_modules/axe-core/axe.min.js")
	b, err := os.ReadFile(p)
	if err != nil {
		if os.Getenv("SAMTYCKE_TEST_BROWSER") == "required" {
			t.Fatalf("axe-core is required: %v (make test installs it)", err)
		}
		t.Skipf("axe-core missing: %v", err)
	}
	return string(b)
}

// checkAxe runs axe-core on the current page and fails on any violation.
func checkAxe(t *testing.T, ctx context.Context, axe, page string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](axe+";true")); err != nil {
		t.Fatalf("%s: load axe: %v", page, err)
	}
	type violation struct {
		ID    string `json:"id"`
		Help  string `json:"help"`
		Nodes []struct {
			Target []any `json:"target"`
		} `json:"nodes"`
	}
	vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]violation](
		`axe.run(document, {resultTypes: ["violations"], iframes: false}).then(r => r.violations)`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: axe: %v", page, err)
	}
	for _, v := range vs {
		var where []string
		for _, n := range v.Nodes {
			where = append(where, fmt.Sprint(n.Target...))
		}
		t.Errorf("%s: axe %s: %s at %s", page, v.ID, v.Help, strings.Join(where, ", "))
	}
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

// waitFor polls a JavaScript predicate until it is true.
func waitFor(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	// Only on a parsed page: under load the condition can hold on the top of
	// a page still loading, and the next step then misses what comes later.
	js = `document.readyState !== "loading" && (` + js + `)`
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// setField sets a form control's value as typing would (an input event).
func setField(t *testing.T, ctx context.Context, id, value string) {
	t.Helper()
	eval[bool](t, ctx, fmt.Sprintf(`(() => { const e = document.getElementById(%q); e.value = %q;
		e.dispatchEvent(new Event("input", {bubbles: true})); return true; })()`, id, value))
}

func signIn(t *testing.T, ctx context.Context, base, email, password string) {
	t.Helper()
	do(t, ctx, chromedp.Navigate(base+"/admin/"), chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), email), chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Submit(chromedp.ID("password")))
	waitFor(t, ctx, "the sites page", `location.pathname === "/admin/" && !!document.querySelector("h1")`)
}

// previewText is the text of the banner inside the editor's preview frame.
// It is empty while the frame still shows an earlier page (each save
// reloads it).
const previewText = `(() => { const f = document.getElementById("preview-frame"); const d = f && f.contentDocument;
	const h = d && d.location.href === f.src && d.querySelector("#samtycke-root"); return h && h.shadowRoot ? h.shadowRoot.textContent : ""; })()`

// previewDialog is, like previewText, the text of the preview's open
// settings layer.
const previewDialog = `(() => { const f = document.getElementById("preview-frame"); const d = f && f.contentDocument;
	const h = d && d.location.href === f.src && d.querySelector("#samtycke-root");
	const m = h && h.shadowRoot && h.shadowRoot.querySelector("dialog[open]"); return m ? m.textContent : ""; })()`

// settlePreview scrolls the preview into view and lets the banner's
// entrance animation in the frame finish.
func settlePreview(t *testing.T, ctx context.Context) {
	t.Helper()
	eval[bool](t, ctx, `(() => { document.getElementById("preview-h").scrollIntoView(); return true; })()`)
	// Jump every animation to its end rather than wait for it: a frame that
	// Chromium does not render (throttled) never advances its animations,
	// and waiting for them hung the test for minutes.
	eval[bool](t, ctx, `(() => { const d = document.getElementById("preview-frame").contentDocument;
		const h = d.querySelector("#samtycke-root");
		const as = d.getAnimations().concat(h && h.shadowRoot ? h.shadowRoot.getAnimations() : []);
		for (const a of as) { try { a.finish(); } catch (e) { /* an endless animation has no end */ } }
		return true; })()`)
}

// TestDashboardInBrowser follows an owner: sign in, create a site, edit
// texts and categories while the preview follows, publish (the diff says
// visitors will be asked again), and see the new version on a page that
// embeds the site; then an editor, an auditor, and a form without its
// CSRF token. Every page is checked with axe-core and photographed.
func TestDashboardInBrowser(t *testing.T) {
	axe := axeSource(t)
	// The page that embeds the new site, on an origin of its own.
	embed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := newStack(t, nil)
	origin := "http://" + embed.Addr().String()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="sv"><head><title>Butiken</title><script src="%s/b/shop.js"></script></head><body><h1>Butiken</h1></body></html>`, s.base)
	})}
	go srv.Serve(embed)
	t.Cleanup(func() { srv.Close() })
	if err := s.svc.Store.GenerateConsents(context.Background(), "demo", 20000, time.Now().AddDate(0, 0, -29), 30); err != nil {
		t.Fatal(err)
	}

	ctx := browser(t, 1440, 900)
	do(t, ctx, chromedp.Navigate(s.base+"/admin/sites/demo"), chromedp.WaitVisible(chromedp.ID("email")))
	screenshot(t, ctx, "dashboard-login")
	checkAxe(t, ctx, axe, "login")

	t.Run("a wrong password is refused", func(t *testing.T) {
		do(t, ctx, chromedp.SendKeys(chromedp.ID("email"), adminEmail), chromedp.SendKeys(chromedp.ID("password"), "not the password"),
			chromedp.Submit(chromedp.ID("password")))
		waitFor(t, ctx, "the error", `document.querySelector(".notice-error") !== null`)
	})

	signIn(t, ctx, s.base, adminEmail, adminPassword)
	t.Run("session cookie", func(t *testing.T) {
		res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{s.base + "/admin/"}})
		if err != nil {
			t.Fatal(err)
		}
		var found bool
		for _, c := range res.Cookies {
			if c.Name == "samtycke_session" {
				found = true
				if !c.HTTPOnly || c.SameSite != network.CookieSameSiteLax || c.Path != "/" || !c.Session {
					t.Errorf("session cookie: HttpOnly %v SameSite %s Path %s session-only %v", c.HTTPOnly, c.SameSite, c.Path, c.Session)
				}
				// Secure is set when SAMTYCKE_PUBLIC_URL is https (TestSecureCookie); this one is http.
			}
		}
		if !found {
			t.Fatal("no session cookie")
		}
		if js := eval[string](t, ctx, `document.cookie`); strings.Contains(js, "samtycke_session") {
			t.Error("the session cookie is readable from script")
		}
	})

	do(t, ctx, chromedp.SendKeys(chromedp.ID("new-id"), "shop"), chromedp.SendKeys(chromedp.ID("new-name"), "Butiken"),
		chromedp.SendKeys(chromedp.ID("new-origins"), origin), chromedp.Submit(chromedp.ID("new-id")))
	waitFor(t, ctx, "the editor", `location.pathname === "/admin/sites/shop/edit"`)
	do(t, ctx, chromedp.Navigate(s.base+"/admin/"), chromedp.WaitVisible(chromedp.CSS(".site-card")))
	screenshot(t, ctx, "dashboard-sites")
	checkAxe(t, ctx, axe, "sites")

	t.Run("edit texts and categories, the preview follows", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(s.base+"/admin/sites/shop/edit"), chromedp.WaitVisible(chromedp.ID("f-controller-email")))
		waitFor(t, ctx, "the preview banner", previewText+`.length > 0`)
		// The starter draft lacks the controller's email: flagged next to the field.
		if msg := eval[string](t, ctx, `document.getElementById("err-f-controller-email").textContent`); msg == "" {
			t.Error("no problem shown next to the controller's email")
		}
		do(t, ctx, chromedp.SendKeys(chromedp.ID("f-controller-email"), "integritet@butiken.example"))
		setField(t, ctx, "f-texts-title-sv", "")
		do(t, ctx, chromedp.SendKeys(chromedp.ID("f-texts-title-sv"), "Hej från Butiken"))
		waitFor(t, ctx, "the new title in the preview", previewText+`.includes("Hej från Butiken")`)
		waitFor(t, ctx, "no problems left", `document.getElementById("problems").hidden`)

		do(t, ctx, chromedp.Click(chromedp.CSS(`button[value=add_category]`)))
		waitFor(t, ctx, "the new category", `!!document.getElementById("f-categories-1-id")`)
		eval[bool](t, ctx, `(() => { document.getElementById("save-state").textContent = ""; return true; })()`)
		do(t, ctx, chromedp.SendKeys(chromedp.ID("f-categories-1-id"), "statistics"))
		for id, v := range map[string]string{
			"f-categories-1-title-sv": "Statistik", "f-categories-1-title-en": "Statistics",
			"f-categories-1-description-sv": "Hjälper oss förstå hur sidan används.", "f-categories-1-description-en": "Helps us understand how the site is used.",
		} {
			setField(t, ctx, id, v)
		}
		waitFor(t, ctx, "the draft saved", `document.getElementById("save-state").textContent.startsWith("Draft saved")`)
		do(t, ctx, chromedp.Click(chromedp.CSS(`[data-preview-layer="2"]`)))
		// Autosave runs as the visitor types: an early save may hold half the
		// id, so wait for the one that has it all.
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			var cfg string
			d, err := s.svc.Manager.Draft(context.Background(), "shop")
			if err == nil {
				cfg = string(d.Config)
			}
			if strings.Contains(cfg, `"id":"statistics"`) && strings.Contains(cfg, "Statistik") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the new category is not in the draft after 10 s: %v %s", err, cfg)
			}
		}
		// The settings layer alone, from the last save's reload.
		waitFor(t, ctx, "the settings layer with the new category", `document.getElementById("preview-frame").src.includes("layer=2") && `+
			`document.getElementById("save-state").textContent.startsWith("Draft saved") && `+previewDialog+`.includes("Statistik")`)
		if eval[bool](t, ctx, previewText+`.includes("Hej från Butiken")`) {
			t.Error("the preview shows the first layer beside the settings layer")
		}
		settlePreview(t, ctx)
		viewShot(t, ctx, "dashboard-editor-preview")
		checkAxe(t, ctx, axe, "editor")
		do(t, ctx, chromedp.Click(chromedp.CSS(`[data-preview-lang="en"]`)), chromedp.Click(chromedp.CSS(`[data-preview-width="mobile"]`)))
		waitFor(t, ctx, "English in the preview", previewDialog+`.includes("Statistics")`)
		settlePreview(t, ctx)
		viewShot(t, ctx, "dashboard-editor-preview-en-mobile")
	})

	t.Run("the draft survives signing out", func(t *testing.T) {
		do(t, ctx, chromedp.Click(chromedp.CSS(`.topbar button`)))
		waitFor(t, ctx, "the sign-in page", `location.pathname === "/admin/login"`)
		signIn(t, ctx, s.base, adminEmail, adminPassword)
		do(t, ctx, chromedp.Navigate(s.base+"/admin/sites/shop/edit"), chromedp.WaitVisible(chromedp.ID("f-texts-title-sv")))
		if v := eval[string](t, ctx, `document.getElementById("f-texts-title-sv").value`); v != "Hej från Butiken" {
			t.Errorf("title after signing in again: %q", v)
		}
	})

	t.Run("publish with a diff", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(s.base+"/admin/sites/shop/publish"), chromedp.WaitVisible(chromedp.ID("reprompt")))
		if txt := eval[string](t, ctx, `document.getElementById("reprompt").textContent`); !strings.Contains(txt, "Every visitor will be asked") {
			t.Errorf("first publish notice: %q", txt)
		}
		screenshot(t, ctx, "dashboard-publish-diff")
		checkAxe(t, ctx, axe, "publish")
		do(t, ctx, chromedp.SendKeys(chromedp.ID("note"), "First version"), chromedp.Submit(chromedp.ID("note")))
		waitFor(t, ctx, "the version history", `location.pathname === "/admin/sites/shop/versions" && document.querySelector("tbody tr") !== null`)
		checkAxe(t, ctx, axe, "versions")
		// A second, small change: the diff shows old and new side by side.
		do(t, ctx, chromedp.Navigate(s.base+"/admin/sites/shop/edit"), chromedp.WaitVisible(chromedp.ID("f-appearance-button_background")))
		eval[bool](t, ctx, `(() => { document.getElementById("save-state").textContent = ""; return true; })()`)
		setField(t, ctx, "f-appearance-button_background", "#0f766e")
		waitFor(t, ctx, "the draft saved", `document.getElementById("save-state").textContent.startsWith("Draft saved")`)
		do(t, ctx, chromedp.Navigate(s.base+"/admin/sites/shop/publish"), chromedp.WaitVisible(chromedp.ID("reprompt")))
		if txt := eval[string](t, ctx, `document.getElementById("reprompt").textContent`); !strings.Contains(txt, "will not be asked again") {
			t.Errorf("a colour change re-prompts: %q", txt)
		}
		screenshot(t, ctx, "dashboard-publish-diff-v2")
		do(t, ctx, chromedp.SendKeys(chromedp.ID("note"), "Teal buttons"), chromedp.Submit(chromedp.ID("note")))
		waitFor(t, ctx, "version 2", `location.pathname === "/admin/sites/shop/versions" && document.querySelectorAll("tbody tr").length === 2`)
		screenshot(t, ctx, "dashboard-versions")
	})

	t.Run("a page embedding the site shows the new version", func(t *testing.T) {
		visitor := browser(t, 1280, 800)
		do(t, visitor, chromedp.Navigate(origin+"/"))
		waitFor(t, visitor, "the banner", `(() => { const h = document.querySelector("#samtycke-root"); return !!h && h.shadowRoot.textContent.includes("Hej från Butiken"); })()`)
		eval[bool](t, visitor, `Promise.all(document.querySelector("#samtycke-root").shadowRoot.getAnimations().map(a => a.finished)).then(() => true)`)
		screenshot(t, visitor, "dashboard-embedded-banner")
		if r := s.do(t, client{}, "GET", "/b/shop.js", nil); !strings.Contains(string(r.body), `"version":2`) || !strings.Contains(string(r.body), "Statistik") {
			t.Errorf("the banner does not carry version 2 with the new category")
		}
	})

	for _, p := range []struct{ path, name string }{
		{"/admin/sites/shop", "overview"}, {"/admin/sites/shop/versions/1", "version"},
		{"/admin/sites/demo/stats", "stats"}, {"/admin/sites/shop/audit", "audit"},
		{"/admin/sites/shop/members", "members"}, {"/admin/sites/shop/tokens", "tokens"},
	} {
		do(t, ctx, chromedp.Navigate(s.base+p.path), chromedp.WaitVisible(chromedp.CSS("main h2")))
		checkAxe(t, ctx, axe, p.name)
		screenshot(t, ctx, "dashboard-"+p.name)
	}
	t.Run("the audit trail shows members' sign-ins and filters", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(s.base+"/admin/sites/shop/audit?action=login"), chromedp.WaitVisible(chromedp.CSS("main h2")))
		rows := eval[[]string](t, ctx, `[...document.querySelectorAll("tbody tr td:nth-child(3)")].map(td => td.textContent)`)
		// Only sign-ins since the member joined this site count: the owner's
		// sign-in before creating it is not this site's business.
		if len(rows) < 1 {
			t.Errorf("sign-ins in the trail: %v", rows)
		}
		for _, r := range rows {
			if r != "login" {
				t.Errorf("filter by action=login shows %q", r)
			}
		}
	})

	t.Run("an API token is shown once and works", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(s.base+"/admin/sites/shop/tokens"), chromedp.WaitVisible(chromedp.ID("t-name")),
			chromedp.SendKeys(chromedp.ID("t-name"), "CI deploy"), chromedp.Submit(chromedp.ID("t-name")))
		waitFor(t, ctx, "the secret", `!!document.getElementById("token-secret")`)
		secret := strings.TrimSpace(eval[string](t, ctx, `document.getElementById("token-secret").textContent`))
		checkAxe(t, ctx, axe, "token created")
		screenshot(t, ctx, "dashboard-token-created")
		if r := s.do(t, client{bearer: secret}, "GET", "/v1/sites/shop/versions", nil); r.status != http.StatusOK {
			t.Errorf("the new token: %d %s", r.status, r.body)
		}
		do(t, ctx, chromedp.Navigate(s.base+"/admin/sites/shop/tokens"), chromedp.WaitVisible(chromedp.ID("t-name")))
		if html := eval[string](t, ctx, `document.body.innerHTML`); strings.Contains(html, secret) {
			t.Error("the secret is shown again")
		}
	})

	t.Run("stats at 360 px", func(t *testing.T) {
		small := browser(t, 360, 780)
		signIn(t, small, s.base, adminEmail, adminPassword)
		do(t, small, chromedp.Navigate(s.base+"/admin/sites/demo/stats"), chromedp.WaitVisible(chromedp.CSS("main h2")))
		if w := eval[int](t, small, `document.documentElement.scrollWidth`); w > 360 {
			t.Errorf("the stats page is %d px wide at 360 px", w)
		}
		viewShot(t, small, "dashboard-stats-360px")
		do(t, small, chromedp.Navigate(s.base+"/admin/sites/shop/edit"), chromedp.WaitVisible(chromedp.ID("f-name")))
		if w := eval[int](t, small, `document.documentElement.scrollWidth`); w > 360 {
			t.Errorf("the editor is %d px wide at 360 px", w)
		}
		viewShot(t, small, "dashboard-editor-360px")
	})

	t.Run("a form post without its CSRF token is refused", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(s.base+"/admin/"), chromedp.WaitVisible(chromedp.ID("new-id")))
		status := eval[int](t, ctx, `(async () => (await fetch("/admin/sites", {method: "POST", body: new URLSearchParams({id: "evil", name: "Evil"})})).status)()`)
		if status != http.StatusForbidden {
			t.Errorf("POST without token: %d", status)
		}
		status = eval[int](t, ctx, `(async () => (await fetch("/admin/sites", {method: "POST", body: new URLSearchParams({id: "evil", name: "Evil", _csrf: "guess"})})).status)()`)
		if status != http.StatusForbidden {
			t.Errorf("POST with a wrong token: %d", status)
		}
		if _, err := s.svc.Manager.Site(context.Background(), "evil"); !manage.IsNotFound(err) {
			t.Errorf("the site was created: %v", err)
		}
	})

	by := manage.Principal{Email: adminEmail}
	for _, u := range []struct {
		email string
		role  manage.Role
	}{{"editor@example.se", manage.Editor}, {"auditor@example.se", manage.Auditor}} {
		if _, err := s.svc.Manager.PutMember(context.Background(), by, "shop", u.email, u.role, adminPassword); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("an editor cannot manage members", func(t *testing.T) {
		ed := browser(t, 1280, 800)
		signIn(t, ed, s.base, "editor@example.se", adminPassword)
		do(t, ed, chromedp.Navigate(s.base+"/admin/sites/shop"), chromedp.WaitVisible(chromedp.CSS(".tabs")))
		if eval[bool](t, ed, `!!document.querySelector('.tabs a[href$="/members"]')`) {
			t.Error("the editor sees the Members tab")
		}
		do(t, ed, chromedp.Navigate(s.base+"/admin/sites/shop/members"), chromedp.WaitVisible(chromedp.CSS("main h1")))
		if h := eval[string](t, ed, `document.querySelector("main h1").textContent`); h != "Not allowed" {
			t.Errorf("members page for an editor: %q", h)
		}
		status := eval[int](t, ed, `(async () => { await fetch("/admin/sites/shop/edit"); const r = await fetch("/admin/sites/shop");
			const html = await r.text(); const tok = /name="_csrf" value="([^"]+)"/.exec(html)[1];
			return (await fetch("/admin/sites/shop/members", {method: "POST", body: new URLSearchParams({_csrf: tok, email: "x@example.se", role: "owner"})})).status; })()`)
		if status != http.StatusForbidden {
			t.Errorf("an editor added a member: %d", status)
		}
	})
	t.Run("an auditor cannot edit", func(t *testing.T) {
		au := browser(t, 1280, 800)
		signIn(t, au, s.base, "auditor@example.se", adminPassword)
		do(t, au, chromedp.Navigate(s.base+"/admin/sites/shop/edit"), chromedp.WaitVisible(chromedp.ID("f-name")))
		if !eval[bool](t, au, `document.getElementById("f-name").readOnly && !document.querySelector(".savebar")`) {
			t.Error("the auditor's editor is not read-only")
		}
		status := eval[int](t, au, `(async () => { const tok = document.querySelector('input[name=_csrf]').value;
			return (await fetch("/admin/sites/shop/edit", {method: "POST", body: new URLSearchParams({_csrf: tok, "/name": "Hacked"})})).status; })()`)
		if status != http.StatusForbidden {
			t.Errorf("an auditor saved the draft: %d", status)
		}
		do(t, au, chromedp.Navigate(s.base+"/admin/sites/shop/audit"), chromedp.WaitVisible(chromedp.CSS("main h2")))
	})
}
