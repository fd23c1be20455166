package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/samtycke/samtycke/server/internal/demo"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// The banner in real Chromium, one test per numbered point of issue 12, on the
// demo pages (/demo in Swedish, /demo/en.html in English, /demo/strict under a
// strict CSP) of a whole Samtycke on real ClickHouse and Redis.

// storedNothing is true when the page has no cookie and nothing in any storage.
const storedNothing = `indexedDB.databases().then(d => document.cookie === "" && localStorage.length === 0 &&
	sessionStorage.length === 0 && d.length === 0 && !window.demoStatsRan)`

// 1. First layer: three equal buttons, readable, focus on the heading; before
// any choice nothing is stored and nothing blocked is requested; Escape,
// clicking outside and reloading grant nothing. The same under a strict CSP.
func TestBanner1FirstLayer(t *testing.T) {
	s := newStack(t, nil)
	for _, path := range []string{"/demo", "/demo/strict"} {
		t.Run(strings.TrimPrefix(path, "/"), func(t *testing.T) {
			ctx := browser(t, 1280, 800)
			reqs := recordRequests(t, ctx)
			// Any CSP violation (an inline style, a script without the nonce) is kept.
			beforeLoad(t, ctx, `window.cspViolations = []; document.addEventListener("securitypolicyviolation",
				e => window.cspViolations.push(e.violatedDirective + " " + e.blockedURI))`)
			visit(t, ctx, s, path)
			if !js[bool](t, ctx, storedNothing) {
				t.Fatalf("before any choice: %s", js[string](t, ctx, "document.cookie"))
			}
			type box struct {
				W, H                                float64
				Font, Size, Weight, Bg, Color, Text string
				Contrast                            float64
			}
			boxes := js[[]box](t, ctx, `(() => {
				const lum = c => { const [r, g, b] = c.match(/\d+(\.\d+)?/g).slice(0, 3).map(v => { v /= 255;
					return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4 }); return 0.2126 * r + 0.7152 * g + 0.0722 * b };
				const ratio = (a, b) => (Math.max(lum(a), lum(b)) + 0.05) / (Math.min(lum(a), lum(b)) + 0.05);
				return [...`+inShadow(".b")+`.querySelectorAll("button")].map(b => { const r = b.getBoundingClientRect(), s = getComputedStyle(b);
					return {W: r.width, H: r.height, Font: s.fontFamily, Size: s.fontSize, Weight: s.fontWeight, Bg: s.backgroundColor,
						Color: s.color, Text: b.textContent, Contrast: ratio(s.color, s.backgroundColor)} }) })()`)
			if len(boxes) != 3 {
				t.Fatalf("first layer buttons: %+v", boxes)
			}
			for _, b := range boxes[1:] {
				a := boxes[0]
				if d := b.W - a.W; d > 2 || d < -2 || b.H-a.H > 2 || a.H-b.H > 2 || a.Font != b.Font || a.Size != b.Size || a.Weight != b.Weight || a.Bg != b.Bg || a.Color != b.Color {
					t.Errorf("buttons differ:\n%+v\n%+v", a, b)
				}
				if b.Contrast < 4.5 {
					t.Errorf("%q: contrast %.2f", b.Text, b.Contrast)
				}
			}
			waitFor(t, ctx, `document.querySelector("#samtycke-root").shadowRoot.activeElement`, "focus in the banner")
			if got := js[string](t, ctx, `(() => { const a = document.querySelector("#samtycke-root").shadowRoot.activeElement; return a ? a.tagName + (a.dataset.action || "") : "" })()`); got != "H2" {
				t.Errorf("initial focus on %q, want the heading", got)
			}
			// Escape, a click outside the banner, scrolling and a reload grant nothing.
			do(t, ctx, chromedp.KeyEvent(kb.Escape), chromedp.MouseClickXY(640, 150))
			js[bool](t, ctx, `(window.scrollTo(0, 400), true)`)
			do(t, ctx, chromedp.Reload())
			waitFor(t, ctx, inShadow(".b h2"), "the first layer after a reload")
			if !js[bool](t, ctx, storedNothing) || len(reqs.matching("/v1/consents")) > 0 {
				t.Fatalf("Escape, clicking outside or reloading granted something: %s %v", js[string](t, ctx, "document.cookie"), reqs.matching("/v1/consents"))
			}
			for _, blocked := range []string{"/demo/stats.js", "/demo/video.html", "details.json", "embed.json"} {
				if r := reqs.matching(blocked); len(r) > 0 {
					t.Errorf("requested before any choice: %v", r)
				}
			}
			click(t, ctx, inShadow(`.b [data-action=accept_all]`))
			waitFor(t, ctx, "window.demoStatsRan", "the statistics script")
			if path == "/demo/strict" {
				if !js[bool](t, ctx, `!![...document.scripts].find(s => s.src.endsWith("/demo/stats.js") && s.nonce)`) {
					t.Error("the activated script did not get the banner's nonce")
				}
			}
			if v := js[[]string](t, ctx, "window.cspViolations"); len(v) > 0 {
				t.Errorf("CSP violations: %v", v)
			}
		})
	}
}

// 2. Second layer: optional switches start off, necessary is on, locked and
// justified; every item shows its details; saving records exactly what is
// switched on (cookie, Samtycke.choices() and ClickHouse row), and the
// consent ID and date are shown afterwards.
func TestBanner2SecondLayer(t *testing.T) {
	s := newStack(t, nil)
	ctx := browser(t, 1280, 800)
	visit(t, ctx, s, "/demo")
	click(t, ctx, inShadow(`.b [data-action=settings]`))
	waitFor(t, ctx, inShadow("dialog[open] #j")+"?.textContent", "the second layer's details")
	type sw struct {
		Cat              string
		Checked, Disable bool
	}
	sws := js[[]sw](t, ctx, `[...`+inShadow("dialog")+`.querySelectorAll("input[role=switch]")].map(i => ({Cat: i.dataset.cat, Checked: i.checked, Disable: i.disabled}))`)
	want := []sw{{"necessary", true, true}, {"preferences", false, false}, {"statistics", false, false}, {"marketing", false, false}}
	if fmt.Sprint(sws) != fmt.Sprint(want) {
		t.Fatalf("switches %v, want %v", sws, want)
	}
	if j := js[string](t, ctx, inShadow("#j")+".textContent"); !strings.Contains(j, "2022:482") {
		t.Errorf("necessary's justification: %q", j)
	}
	// Every declared item, under its category, with the seven facts.
	items := js[[]string](t, ctx, `[...`+inShadow("dialog")+`.querySelectorAll("ul[data-cat] li")].map(li => li.closest("ul").dataset.cat + ":" +
		li.querySelector("h4").textContent + ":" + [...li.querySelectorAll("dt")].map(d => d.textContent).join("|"))`)
	cfg, err := demo.Config(s.base)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != len(cfg.Items) {
		t.Fatalf("%d items shown, %d declared: %v", len(items), len(cfg.Items), items)
	}
	for i, it := range cfg.Items {
		if want := it.Category + ":" + it.Name + ":Leverantör|Part|Ändamål|Lagringstid|Typ|Överföring till tredjeland"; items[i] != want {
			t.Errorf("item %d: %q, want %q", i, items[i], want)
		}
	}
	click(t, ctx, inShadow(`details:has(#l-marketing) summary`))
	if !js[bool](t, ctx, inShadow(`details:has(#l-marketing)`)+`.open && `+inShadow("#l-marketing")+`.checkVisibility()`) {
		t.Error("the marketing details did not expand")
	}
	if got := js[string](t, ctx, inShadow("#l-marketing")+".textContent"); !strings.Contains(got, "Ja: US (EU-US Data Privacy Framework)") || !strings.Contains(got, "13 månader") || !strings.Contains(got, "Tredjepart (doubleclick.net)") {
		t.Errorf("marketing details: %s", got)
	}
	click(t, ctx, inShadow(`#s-statistics`))
	click(t, ctx, inShadow(`dialog [data-action=custom]`))
	waitFor(t, ctx, "window.demoStatsRan", "the statistics script")
	if st := cookieState(t, ctx); st != "statistics" {
		t.Errorf("cookie grants %q, want statistics", st)
	}
	if got := js[map[string]bool](t, ctx, "Samtycke.choices()"); fmt.Sprint(got) != "map[marketing:false necessary:true preferences:false statistics:true]" {
		t.Errorf("choices() = %v", got)
	}
	id := cookieID(t, ctx)
	r := rows(t, s, id, 1)[0]
	if r.Method != "custom" || r.Source != "settings" || fmt.Sprint(r.Granted) != "map[marketing:false necessary:true preferences:false statistics:true]" {
		t.Errorf("row %+v", r)
	}
	// Reopened from a settings link: the current state, the consent ID and the date.
	click(t, ctx, `document.querySelector("footer [data-samtycke-open]")`)
	waitFor(t, ctx, inShadow("dialog[open]"), "the second layer again")
	if !js[bool](t, ctx, inShadow("#s-statistics")+".checked && !"+inShadow("#s-marketing")+".checked") {
		t.Error("the second layer does not show the current choice")
	}
	if line := js[string](t, ctx, inShadow(".id")+".textContent"); !strings.Contains(line, id) || !strings.Contains(line, fmt.Sprint(time.Now().Year())) {
		t.Errorf("consent ID line %q", line)
	}
}

// The second layer's stylesheet comes with its first open; when it cannot
// be had, the layer opens with the browser's own styles and still takes a
// choice.
func TestBanner2SecondLayerWithoutStyles(t *testing.T) {
	s := newStack(t, nil)
	ctx := browser(t, 1280, 800)
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: []*network.BlockPattern{
		{URLPattern: "*://*:*/b/settings.css*", Block: true}}}); err != nil {
		t.Fatal(err)
	}
	visit(t, ctx, s, "/demo")
	click(t, ctx, inShadow(`.b [data-action=settings]`))
	waitFor(t, ctx, inShadow("dialog[open] #j")+"?.textContent", "the second layer without its stylesheet")
	if w := js[string](t, ctx, `getComputedStyle(`+inShadow("dialog")+`).width`); w == "640px" {
		t.Errorf("the dialog has its stylesheet's width, %s: was the stylesheet blocked?", w)
	}
	screenshot(t, ctx, "banner-settings-unstyled")
	click(t, ctx, inShadow(`dialog [data-action=reject_all]`))
	waitFor(t, ctx, `document.cookie.includes("samtycke=")`, "the choice made in the unstyled layer")
}

// The settings' stylesheet is not part of the load of a page without held
// iframes (those have it for their placeholders): a visitor heading for the
// Settings button (pointer over it, or focus on it) has it fetched before
// they click, so the settings open at once.
func TestBanner2SettingsStylesOnIntent(t *testing.T) {
	s := newStack(t, nil)
	for _, how := range []string{"pointer", "focus"} {
		t.Run(how, func(t *testing.T) {
			ctx := browser(t, 1280, 800)
			reqs := recordRequests(t, ctx)
			servePages(t, ctx, s, map[string]string{"plain": pageHead + `<script src="/b/demo.js" async></script></head><body><p>Text</p></body></html>`}, nil)
			visit(t, ctx, s, "/t/plain")
			button := inShadow(`.b [data-action=settings]`)
			if got := reqs.matching("/b/settings.css"); len(got) > 0 {
				t.Fatalf("the settings' stylesheet was fetched with the page: %v", got)
			}
			if how == "pointer" {
				xy := js[[]float64](t, ctx, `(r => [r.x + r.width / 2, r.y + r.height / 2])(`+button+`.getBoundingClientRect())`)
				do(t, ctx, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, xy[0], xy[1]))
			} else {
				js[bool](t, ctx, button+`.focus() || true`)
			}
			for deadline := time.Now().Add(10 * time.Second); len(reqs.matching("/b/settings.css")) == 0; time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("the settings' stylesheet was not fetched before the click")
				}
			}
			click(t, ctx, button)
			waitFor(t, ctx, inShadow("dialog[open]"), "the settings")
			if got := reqs.matching("/b/settings.css"); len(got) != 1 {
				t.Errorf("the stylesheet was fetched %d times: %v", len(got), got)
			}
		})
	}
}

// 3. Blocking: scripts run in document order once granted, also when
// inserted later; a held iframe shows a placeholder at its aspect ratio that
// loads it once (nothing recorded) or always (its category granted and recorded).
func TestBanner3Blocking(t *testing.T) {
	s := newStack(t, nil)
	ctx := browser(t, 1280, 800)
	visit(t, ctx, s, "/demo")
	type ph struct {
		W, H     float64
		Text     string
		IframeUp bool
	}
	p := js[ph](t, ctx, `(() => { const p = document.querySelector("[data-samtycke-placeholder]"), r = p.getBoundingClientRect(),
		f = document.querySelector("iframe[data-samtycke]");
		return {W: r.width, H: r.height, Text: p.shadowRoot.textContent, IframeUp: f.getBoundingClientRect().height > 0 || !!f.src} })()`)
	if r := p.W / p.H; r < 560.0/315*0.99 || r > 560.0/315*1.01 || p.W != 560 {
		t.Errorf("placeholder %vx%v, want 560x315", p.W, p.H)
	}
	if !strings.Contains(p.Text, "Demobutiken Play") || !strings.Contains(p.Text, "Marknadsföring") || !strings.Contains(p.Text, "Ladda en gång") || p.IframeUp {
		t.Errorf("placeholder %+v", p)
	}
	// A script inserted before consent stays inert.
	js[bool](t, ctx, `(() => { window.order = []; for (const [c, code] of [["statistics", "order.push('a:' + !!window.demoStatsRan)"]]) {
		const s = document.createElement("script"); s.type = "text/plain"; s.dataset.samtycke = c; s.text = code; document.body.append(s) } return true })()`)
	// Load once: the frame loads, nothing is stored or recorded.
	// Centred, so that the banner fixed at the bottom does not cover it.
	js[bool](t, ctx, `(document.querySelector("[data-samtycke-placeholder]").scrollIntoView({block: "center"}), true)`)
	screenshot(t, ctx, "banner-placeholder-sv-1280")
	do(t, ctx, chromedp.Click(chromedp.JSPath(`document.querySelector("[data-samtycke-placeholder]").shadowRoot.querySelector("[data-action=once]")`)))
	waitFor(t, ctx, `document.querySelector("iframe[data-samtycke]").contentDocument?.querySelector(".player")`, "the video frame")
	if js[bool](t, ctx, `!!document.querySelector("[data-samtycke-placeholder]")`) || cookieID(t, ctx) != "" {
		t.Error("load once left the placeholder or stored a choice")
	}
	if r := js[float64](t, ctx, `(() => { const r = document.querySelector("iframe[data-samtycke]").getBoundingClientRect(); return r.width / r.height })()`); r < 1.76 || r > 1.79 {
		t.Errorf("the loaded frame's ratio %.3f", r)
	}
	// After a reload it is held again; Always allow grants marketing and records it.
	do(t, ctx, chromedp.Reload())
	waitFor(t, ctx, `document.querySelector("[data-samtycke-placeholder]")`, "the placeholder again")
	js[bool](t, ctx, `(document.querySelector("[data-samtycke-placeholder]").scrollIntoView({block: "center"}), true)`)
	do(t, ctx, chromedp.Click(chromedp.JSPath(`document.querySelector("[data-samtycke-placeholder]").shadowRoot.querySelector("[data-action=always]")`)))
	waitFor(t, ctx, `document.querySelector("iframe[data-samtycke]").contentDocument?.querySelector(".player")`, "the video frame")
	if st := cookieState(t, ctx); st != "marketing" {
		t.Errorf("cookie grants %q, want marketing", st)
	}
	r := rows(t, s, cookieID(t, ctx), 1)[0]
	if r.Method != "custom" || r.Source != "settings" || !r.Granted["marketing"] || r.Granted["statistics"] {
		t.Errorf("row %+v", r)
	}
	if !js[bool](t, ctx, `!window.demoStatsRan && !window.order`) {
		t.Error("statistics ran without consent")
	}
	// Scripts inserted later run once granted, in document order: the external one first.
	js[bool](t, ctx, `(() => { window.order = []; for (const [src, code] of [["/demo/stats.js", ""], ["", "order.push('b:' + !!window.demoStatsRan)"]]) {
		const s = document.createElement("script"); s.type = "text/plain"; s.dataset.samtycke = "statistics"; if (src) s.src = src; s.text = code;
		document.body.append(s) } return true })()`)
	do(t, ctx, chromedp.Click(chromedp.JSPath(`document.querySelector("footer [data-samtycke-open]")`)))
	waitFor(t, ctx, inShadow("dialog[open]"), "the second layer")
	click(t, ctx, inShadow(`dialog [data-action=accept_all]`))
	waitFor(t, ctx, "window.order.length == 1", "the inline script")
	if got := js[[]string](t, ctx, "window.order"); fmt.Sprint(got) != "[b:true]" {
		t.Errorf("order %v: the inline script must run after the external one before it", got)
	}
}

// 4. Persistence and re-prompt: an appearance-only publish does not ask
// again, a consent-relevant one does, and the consent ID stays; an expired
// choice asks again; a cookie domain shares one consent across subdomains
// and removes the host-only duplicate.
func TestBanner4RePrompt(t *testing.T) {
	s := newStack(t, nil)
	ctx := browser(t, 1280, 800)
	if _, err := chromedp.Call(ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true}); err != nil {
		t.Fatal(err)
	}
	visit(t, ctx, s, "/demo")
	click(t, ctx, inShadow(`.b [data-action=accept_all]`))
	waitFor(t, ctx, "window.demoStatsRan", "statistics")
	id := cookieID(t, ctx)
	publish := func(edit func(c *siteconfig.Config)) uint32 {
		t.Helper()
		v, err := s.svc.Versions.Current(context.Background(), "demo")
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(v.Config)
		if err != nil {
			t.Fatal(err)
		}
		var c siteconfig.Config
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
		edit(&c)
		nv, changed, err := s.svc.Versions.Publish(context.Background(), "demo", &c, "test", "")
		if err != nil || !changed {
			t.Fatalf("publish: %v %v", changed, err)
		}
		return nv.Number
	}
	publish(func(c *siteconfig.Config) { c.Appearance.ButtonBackground = "#1e40af" })
	do(t, ctx, chromedp.Reload())
	waitFor(t, ctx, `window.Samtycke && window.demoStatsRan`, "the page")
	if js[bool](t, ctx, "!!"+inShadow(".b")) || !js[bool](t, ctx, "!!"+inShadow(".f")) {
		t.Fatal("an appearance-only publish asked again (or the floating button is missing)")
	}
	v3 := publish(func(c *siteconfig.Config) {
		tx := c.Texts["sv"]
		tx.Title = "Vi bryr oss om din integritet"
		c.Texts["sv"] = tx
	})
	do(t, ctx, chromedp.Reload())
	waitFor(t, ctx, inShadow(".b h2"), "the re-prompt")
	if js[bool](t, ctx, "!!window.demoStatsRan") || js[string](t, ctx, inShadow(".b h2")+".textContent") != "Vi bryr oss om din integritet" {
		t.Error("a re-prompt must block again and show the new texts")
	}
	click(t, ctx, inShadow(`.b [data-action=reject_all]`))
	waitFor(t, ctx, inShadow(".f"), "the floating button")
	if got := cookieID(t, ctx); got != id {
		t.Errorf("the re-prompt made a new consent ID %s, want %s", got, id)
	}
	rs := rows(t, s, id, 2)
	if rs[0].Version != 1 || rs[0].Method != "accept_all" || rs[1].Version != v3 || rs[1].Method != "reject_all" {
		t.Errorf("rows %+v", rs)
	}
	// An expired choice (the cookie's time older than the lifetime) asks again, same ID.
	js[bool](t, ctx, `(() => { const p = document.cookie.match(/samtycke=([^;]+)/)[1].split("."); p[3] = String(Math.floor(Date.now() / 1e3) - 183 * 86400);
		document.cookie = "samtycke=" + p.join(".") + "; Path=/; Max-Age=3600"; return true })()`)
	do(t, ctx, chromedp.Reload())
	waitFor(t, ctx, inShadow(".b h2"), "the re-prompt after expiry")
	click(t, ctx, inShadow(`.b [data-action=reject_all]`))
	waitFor(t, ctx, inShadow(".f"), "the floating button")
	if got := cookieID(t, ctx); got != id {
		t.Errorf("expiry made a new consent ID %s, want %s", got, id)
	}

	t.Run("cookie domain", func(t *testing.T) {
		port := s.base[strings.LastIndex(s.base, ":"):]
		a, b := "http://a.samtycke.test"+port, "http://b.samtycke.test"+port
		publish(func(c *siteconfig.Config) {
			c.Consent.CookieDomain = "samtycke.test"
			c.AllowedOrigins = append(c.AllowedOrigins, a, b)
		})
		ctx := browser(t, 1280, 800, chromedp.Flag("host-resolver-rules", "MAP *.samtycke.test 127.0.0.1"))
		cur, err := s.svc.Versions.Current(context.Background(), "demo")
		if err != nil {
			t.Fatal(err)
		}
		do(t, ctx, chromedp.Navigate(a+"/demo/video.html"))
		// A host-only cookie left by an earlier set-up without a cookie domain.
		legacy := fmt.Sprintf("samtycke=%s.1.%s.%d.statistics", id, cur.Config.Fingerprint(), time.Now().Unix()-60)
		js[bool](t, ctx, `(document.cookie = "`+legacy+`; Path=/; Max-Age=3600", true)`)
		do(t, ctx, chromedp.Navigate(a+"/demo"))
		waitFor(t, ctx, `window.demoStatsRan`, "the stored choice")
		do(t, ctx, chromedp.Navigate(b+"/demo"))
		waitFor(t, ctx, `window.demoStatsRan`, "the shared choice on the other subdomain")
		if js[bool](t, ctx, "!!"+inShadow(".b")) || cookieID(t, ctx) != id {
			t.Errorf("subdomain b: banner shown or another consent: %s", js[string](t, ctx, "document.cookie"))
		}
		do(t, ctx, chromedp.Navigate(a+"/demo"))
		waitFor(t, ctx, `window.Samtycke`, "the banner")
		if n := strings.Count(js[string](t, ctx, "document.cookie"), "samtycke="); n != 1 {
			t.Errorf("%d samtycke cookies on a, want 1 (the host-only duplicate removed)", n)
		}
	})
}

// 5. Withdrawal: the floating button opens the current state; Reject all
// there (two clicks, as many as accepting after a refusal) records withdraw,
// sends Consent Mode denied, deletes the withdrawn categories' cookies and
// storage, _demo_stats included, on every path, and reloads the page (the
// statistics script ran); a cookie of a refused category written again is
// gone on the next page view.
func TestBanner5Withdrawal(t *testing.T) {
	s := newStack(t, nil)
	ctx := browser(t, 1280, 800)
	visit(t, ctx, s, "/demo")
	click(t, ctx, inShadow(`.b [data-action=accept_all]`))
	waitFor(t, ctx, `document.cookie.includes("_demo_stats")`, "the statistics cookie")
	js[bool](t, ctx, `(document.cookie = "lang=sv; Path=/", document.cookie = "_ga_ABC123=1; Path=/demo", localStorage.setItem("region", "11"),
		localStorage.setItem("cart", "kept"), true)`)
	click(t, ctx, inShadow(".f"))
	waitFor(t, ctx, inShadow("dialog[open]"), "the second layer")
	if !js[bool](t, ctx, inShadow("#s-statistics")+".checked && "+inShadow("#s-marketing")+".checked") {
		t.Error("the floating button does not open the current state")
	}
	reloadsAfter(t, ctx, func() { click(t, ctx, inShadow(`dialog [data-action=reject_all]`)) })
	if st := cookieState(t, ctx); st != "" {
		t.Fatalf("after Reject all the cookie grants %q", st)
	}
	waitFor(t, ctx, `!document.cookie.includes("_demo_stats")`, "the statistics cookie to go")
	left := js[string](t, ctx, `document.cookie + " " + JSON.stringify(localStorage)`)
	if strings.Contains(left, "lang=") || strings.Contains(left, "_ga_ABC123") || strings.Contains(left, "region") || !strings.Contains(left, "kept") {
		t.Errorf("after withdrawal: %s", left)
	}
	id := cookieID(t, ctx)
	// Rows of one second have no order in the log: find the withdrawal among them.
	byMethod := func(rs []logRow) map[string][]logRow {
		m := map[string][]logRow{}
		for _, r := range rs {
			m[r.Method] = append(m[r.Method], r)
		}
		return m
	}
	rs := byMethod(rows(t, s, id, 2))
	if w := rs["withdraw"]; len(w) != 1 || len(rs["accept_all"]) != 1 || w[0].Source != "settings" || w[0].Granted["statistics"] || w[0].Granted["marketing"] || w[0].Granted["preferences"] {
		t.Errorf("rows after withdrawal %+v", rs)
	}
	if last := js[string](t, ctx, `JSON.stringify(Array.from(dataLayer.filter(e => e[0] == "consent").at(-1)))`); !strings.Contains(last, `"update"`) || strings.Contains(last, "granted") {
		t.Errorf("Consent Mode after withdrawal: %s", last)
	}
	// The API withdraws too, after a new acceptance.
	click(t, ctx, inShadow(".f"))
	waitFor(t, ctx, inShadow("dialog[open]"), "the second layer")
	click(t, ctx, inShadow(`dialog [data-action=accept_all]`))
	waitFor(t, ctx, `document.cookie.includes("statistics+marketing")`, "the acceptance")
	reloadsAfter(t, ctx, func() { js[bool](t, ctx, `(document.cookie = "_demo_stats=2; Path=/", Samtycke.withdraw(), true)`) })
	if rs := byMethod(rows(t, s, id, 4)); len(rs["accept_all"]) != 2 || len(rs["withdraw"]) != 2 {
		t.Errorf("rows %+v", rs)
	}
	if js[bool](t, ctx, `document.cookie.includes("_demo_stats")`) {
		t.Error("Samtycke.withdraw() left _demo_stats")
	}
	// A tracker that wrote its cookie again before it was stopped: the next page view deletes it.
	js[bool](t, ctx, `(document.cookie = "_demo_stats=3; Path=/", document.cookie = "_ga=GA1.1.3; Path=/", localStorage.setItem("region", "12"), true)`)
	do(t, ctx, chromedp.Reload())
	waitFor(t, ctx, "window.Samtycke", "the banner")
	if left := js[string](t, ctx, `document.cookie + " " + JSON.stringify(localStorage)`); strings.Contains(left, "_demo_stats") || strings.Contains(left, "_ga=") || strings.Contains(left, "region") {
		t.Errorf("a page view after the refusal kept a refused category's storage: %s", left)
	}
}

// 6. Signals: the Consent Mode default comes first in dataLayer, one update
// per decision, UET alongside, no __tcfapi; GPC turns marketing off, says so,
// is recorded as gpc and never grants.
func TestBanner6Signals(t *testing.T) {
	s := newStack(t, nil)
	t.Run("consent mode", func(t *testing.T) {
		ctx := browser(t, 1280, 800)
		visit(t, ctx, s, "/demo")
		waitFor(t, ctx, `dataLayer.some(e => e.event == "demo_page_view")`, "the page's own dataLayer event")
		first := js[string](t, ctx, `JSON.stringify(Array.from(dataLayer[0]))`)
		if first != `["consent","default",{"ad_storage":"denied","ad_user_data":"denied","ad_personalization":"denied","analytics_storage":"denied","functionality_storage":"denied","personalization_storage":"denied","security_storage":"granted","wait_for_update":500}]` {
			t.Errorf("dataLayer[0] = %s", first)
		}
		if uet := js[string](t, ctx, `JSON.stringify(uetq)`); uet != `["consent","default",{"ad_storage":"denied"}]` {
			t.Errorf("uetq = %s", uet)
		}
		if js[bool](t, ctx, `"__tcfapi" in window`) {
			t.Error("__tcfapi exists")
		}
		click(t, ctx, inShadow(`.b [data-action=accept_all]`))
		waitFor(t, ctx, `dataLayer.filter(e => e[1] == "update").length`, "the update")
		upd := js[[]string](t, ctx, `dataLayer.filter(e => e[0] == "consent").map(e => JSON.stringify(Array.from(e)))`)
		if len(upd) != 2 || upd[1] != `["consent","update",{"ad_storage":"granted","ad_user_data":"granted","ad_personalization":"granted","analytics_storage":"granted","functionality_storage":"granted","personalization_storage":"granted"}]` {
			t.Errorf("consent commands %v", upd)
		}
		if uet := js[string](t, ctx, `JSON.stringify(uetq.slice(3))`); uet != `["consent","update",{"ad_storage":"granted"}]` {
			t.Errorf("uetq update = %s", uet)
		}
	})
	t.Run("gpc", func(t *testing.T) {
		ctx := browser(t, 1280, 800)
		beforeLoad(t, ctx, `Object.defineProperty(Navigator.prototype, "globalPrivacyControl", {get: () => true})`)
		if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Sec-GPC": "1"}}); err != nil {
			t.Fatal(err)
		}
		visit(t, ctx, s, "/demo")
		if line := js[string](t, ctx, inShadow(".b .g")+"?.textContent"); !strings.Contains(line, "Global Privacy Control") {
			t.Errorf("GPC line %q", line)
		}
		waitFor(t, ctx, `document.cookie.includes("samtycke=")`, "the automatic GPC decision")
		id := cookieID(t, ctx)
		if r := rows(t, s, id, 1)[0]; r.Method != "gpc" || r.GPC != 1 || r.Granted["marketing"] || r.Granted["statistics"] {
			t.Errorf("gpc row %+v", r)
		}
		do(t, ctx, chromedp.Reload())
		waitFor(t, ctx, inShadow(".b h2"), "the banner, still shown with GPC")
		click(t, ctx, inShadow(`.b [data-action=accept_all]`))
		rs := rows(t, s, id, 2)
		if len(rs) != 2 || rs[1].Method != "custom" || rs[1].GPC != 1 || rs[1].Granted["marketing"] || !rs[1].Granted["statistics"] {
			t.Errorf("rows after Accept all under GPC %+v (exactly one automatic gpc row, then custom without marketing)", rs)
		}
	})
}

// 7. API: a queue filled before the script loads, open/choices/withdraw/on/
// apply, the samtycke:change event, an idempotent start, a warning naming
// an element that would not be blocked, and the embeddable declaration.
func TestBanner7API(t *testing.T) {
	s := newStack(t, nil)
	ctx := browser(t, 1280, 800)
	warnings := recordConsole(t, ctx)
	// The cookie declaration comes from the notice's real endpoint; the
	// browser only notes when it is asked for.
	var embedMu sync.Mutex
	var embedURL string
	intercept(t, ctx, "*/cookies/embed.json*", func(e *fetch.EventRequestPaused) func(context.Context) error {
		embedMu.Lock()
		embedURL = e.Request.URL
		embedMu.Unlock()
		return nil // on to the server
	})
	// Counted across the reload a withdrawal makes.
	beforeLoad(t, ctx, `window.events = () => +sessionStorage.events || 0;
		document.addEventListener("samtycke:change", () => sessionStorage.events = events() + 1);
		window.samtyckeQueue = [S => { window.early = typeof S.open }, ["on", "change", c => { window.changed = c }]]`)
	visit(t, ctx, s, "/demo")
	if got := js[string](t, ctx, "window.early"); got != "function" {
		t.Errorf("a queued function got %q", got)
	}
	if !js[bool](t, ctx, "Samtycke.choices() === null") {
		t.Error("choices() before any choice must be null")
	}
	// A second copy of the script does not start a second banner.
	js[bool](t, ctx, `(() => { const s = document.createElement("script"); s.src = "/b/demo.js"; document.head.append(s); return true })()`)
	js[bool](t, ctx, `(Samtycke.open(), true)`)
	waitFor(t, ctx, inShadow("dialog[open]"), "Samtycke.open()")
	do(t, ctx, chromedp.KeyEvent(kb.Escape))
	waitFor(t, ctx, inShadow(".b h2"), "the first layer after Escape")
	if n := js[int](t, ctx, `document.querySelectorAll("#samtycke-root").length`); n != 1 {
		t.Errorf("%d banners", n)
	}
	click(t, ctx, inShadow(`.b [data-action=accept_all]`))
	waitFor(t, ctx, "window.changed && events() == 1", "the change callback and event")
	// Content a single-page app inserts later: blocked until apply()/the observer sees it granted.
	// The statistics script ran: withdrawing reloads the page.
	reloadsAfter(t, ctx, func() { js[bool](t, ctx, `(Samtycke.withdraw(), true)`) })
	waitFor(t, ctx, "events() == 2", "the withdrawal event")
	js[bool](t, ctx, `(() => { const s = document.createElement("script"); s.type = "text/plain"; s.dataset.samtycke = "statistics";
		s.text = "window.spa = 1"; document.body.append(s); Samtycke.apply(); return true })()`)
	if js[bool](t, ctx, "!!window.spa") {
		t.Error("a later script ran after withdrawal")
	}
	// An element that cannot be blocked is named in a warning.
	js[bool](t, ctx, `(() => { const s = document.createElement("script"); s.dataset.samtycke = "marketing"; s.id = "leaky";
		s.text = "window.leaked = 1"; document.body.append(s); return true })()`)
	waitFor(t, ctx, "window.leaked", "the unblockable script")
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(warnings.all(), `type="text/plain"`) || !strings.Contains(warnings.all(), "leaky") {
		if time.Now().After(deadline) {
			t.Fatalf("no warning naming the unblockable script: %q", warnings.all())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The embeddable declaration: fetched only now that the page has the element.
	embedMu.Lock()
	before := embedURL
	embedMu.Unlock()
	if before != "" {
		t.Errorf("fetched the declaration without the element: %s", before)
	}
	js[bool](t, ctx, `(() => { const d = document.createElement("div"); d.setAttribute("data-samtycke-declaration", ""); document.querySelector("main").append(d); return true })()`)
	waitFor(t, ctx, `document.querySelector("[data-samtycke-declaration]").shadowRoot?.querySelector("table")`, "the declaration")
	if n := js[int](t, ctx, `document.querySelector("[data-samtycke-declaration]").shadowRoot.adoptedStyleSheets.length`); n == 0 {
		t.Error("the declaration's stylesheet is not adopted")
	}
	if !js[bool](t, ctx, `document.querySelector("[data-samtycke-declaration]").shadowRoot.textContent.includes("_demo_stats")`) {
		t.Error("the declaration does not list the demo's items")
	}
	embedMu.Lock()
	got := embedURL
	embedMu.Unlock()
	if got != s.base+"/s/demo/cookies/embed.json?lang=sv" {
		t.Errorf("declaration fetched from %q", got)
	}
	do(t, ctx, chromedp.Click(chromedp.JSPath(`document.querySelector("[data-samtycke-declaration]").shadowRoot.querySelector("[data-samtycke-open]")`)))
	waitFor(t, ctx, inShadow("dialog[open]"), "the settings from the declaration's link")
}

// A page that asks for the settings before the banner has loaded (a queued
// open) gets the second layer alone: the first layer, built a task after the
// script ran, stays away until the settings close undecided.
func TestBanner7QueuedOpen(t *testing.T) {
	s := newStack(t, nil)
	ctx := browser(t, 1280, 800)
	beforeLoad(t, ctx, `window.samtyckeQueue = [["open"]]`)
	do(t, ctx, chromedp.Navigate(s.base+"/demo")) // not visit: it waits for the first layer
	waitFor(t, ctx, inShadow("dialog[open]"), "the settings a queued open asked for")
	// Timers of equal delay run in order: once this one has, so has the banner's.
	if js[bool](t, ctx, `new Promise(r => setTimeout(r)).then(() => !!document.querySelector("#samtycke-root").shadowRoot.querySelector(".b"))`) {
		t.Error("the first layer was built under the open settings")
	}
	click(t, ctx, inShadow("dialog .x"))
	waitFor(t, ctx, inShadow(".b h2"), "the first layer after the settings closed undecided")
}

// A page script that opens the settings on DOMContentLoaded gets them alone,
// also when the banner's first-layer timer ran before the body was parsed
// (here a script held after the banner keeps the parser waiting).
func TestBanner7OpenOnDOMContentLoaded(t *testing.T) {
	s := newStack(t, nil)
	ctx := browser(t, 1280, 800)
	const page = `<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>Opens the settings</title>
<script>document.addEventListener("DOMContentLoaded", () => Samtycke.open())</script>
<script src="/b/demo.js"></script>
<script>setTimeout(() => { window.timerRan = true })</script>
<script src="/held.js"></script>
</head><body><p>A page that opens the cookie settings as it loads.</p></body></html>`
	intercept(t, ctx, "*", func(e *fetch.EventRequestPaused) func(context.Context) error {
		switch {
		case strings.HasSuffix(e.Request.URL, "/opens-settings.html"):
			return fulfil(e, 200, "text/html; charset=utf-8", page)
		case !strings.HasSuffix(e.Request.URL, "/held.js"):
			return nil
		}
		return func(ctx context.Context) error {
			// Timers of equal delay run in order: once the page's has, so has the banner's.
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				ran, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.timerRan === true && !document.body`))
				if err != nil {
					return err
				}
				if ran {
					break
				}
				if time.Now().After(deadline) {
					return fmt.Errorf("the page's timer did not run before its body was parsed")
				}
			}
			return fulfil(e, 200, "text/javascript", "")(ctx)
		}
	})
	do(t, ctx, chromedp.Navigate(s.base+"/opens-settings.html"))
	waitFor(t, ctx, inShadow("dialog[open]"), "the settings the page opened")
	if js[bool](t, ctx, `new Promise(r => setTimeout(r)).then(() => !!document.querySelector("#samtycke-root").shadowRoot.querySelector(".b"))`) {
		t.Error("the first layer was built beside the settings the page opened")
	}
}

// 9. Accessibility: axe-core finds nothing on either layer in either
// language; keyboard only through both layers; targets ≥ 24 px; reflow at
// 320 px; reduced motion; no layout shift.
func TestBanner9Accessibility(t *testing.T) {
	s := newStack(t, nil)
	for _, path := range []string{"/demo", "/demo/en.html"} {
		t.Run("axe"+path, func(t *testing.T) {
			ctx := browser(t, 1280, 800)
			visit(t, ctx, s, path)
			if v := axe(t, ctx); len(v) > 0 {
				t.Errorf("first layer: %s", strings.Join(v, "\n"))
			}
			click(t, ctx, inShadow(`.b [data-action=settings]`))
			waitFor(t, ctx, inShadow("dialog[open] #j")+"?.textContent", "the second layer")
			click(t, ctx, inShadow(`details:has(#l-statistics) summary`))
			if v := axe(t, ctx); len(v) > 0 {
				t.Errorf("second layer: %s", strings.Join(v, "\n"))
			}
		})
	}
	t.Run("keyboard", func(t *testing.T) {
		ctx := browser(t, 1280, 800)
		visit(t, ctx, s, "/demo")
		active := func() string {
			return js[string](t, ctx, `(() => { const a = document.querySelector("#samtycke-root").shadowRoot.activeElement;
				return a ? a.tagName + (a.dataset.action ? ":" + a.dataset.action : a.id ? "#" + a.id : "") : "none" })()`)
		}
		// The banner focuses its heading after its first frame; a visitor's
		// Tab starts from there.
		waitFor(t, ctx, `document.querySelector("#samtycke-root")?.shadowRoot?.activeElement?.tagName === "H2"`, "focus on the heading")
		// Heading → notice link → Accept all → Reject all → Settings.
		for _, k := range []string{kb.Tab, kb.Tab, kb.Tab, kb.Tab} {
			do(t, ctx, chromedp.KeyEvent(k))
		}
		if a := active(); a != "BUTTON:settings" {
			t.Fatalf("focus on %s, want Settings", a)
		}
		do(t, ctx, chromedp.KeyEvent(kb.Enter))
		waitFor(t, ctx, inShadow("dialog[open]"), "the second layer")
		if a := active(); a != "H2#mt" {
			t.Errorf("focus on %s after opening, want the heading", a)
		}
		// Shift+Tab from the heading wraps to the last control, Tab from it to the first.
		do(t, ctx, chromedp.KeyEvent(kb.Tab, chromedp.KeyModifiers(chromedp.ModifierShift)))
		if a := active(); a != "BUTTON:custom" {
			t.Errorf("Shift+Tab from the heading: focus on %s, want Save (the last control)", a)
		}
		do(t, ctx, chromedp.KeyEvent(kb.Tab))
		if a := active(); a != "BUTTON" {
			t.Errorf("Tab from the last control: focus on %s, want the close button", a)
		}
		// Escape closes without choosing; focus returns to Settings.
		do(t, ctx, chromedp.KeyEvent(kb.Escape))
		waitFor(t, ctx, "!"+inShadow("dialog[open]"), "the dialog to close")
		if a := active(); a != "BUTTON:settings" || cookieID(t, ctx) != "" {
			t.Errorf("after Escape: focus on %s, cookie %q", a, js[string](t, ctx, "document.cookie"))
		}
		// Again, and choose statistics with the keyboard only: Tab to its switch, Space, Tab to Save, Enter.
		do(t, ctx, chromedp.KeyEvent(kb.Enter))
		waitFor(t, ctx, inShadow("dialog[open]"), "the second layer")
		for i := 0; i < 12 && active() != "INPUT#s-statistics"; i++ {
			do(t, ctx, chromedp.KeyEvent(kb.Tab))
		}
		do(t, ctx, chromedp.KeyEvent(" "))
		for i := 0; i < 12 && active() != "BUTTON:custom"; i++ {
			do(t, ctx, chromedp.KeyEvent(kb.Tab))
		}
		do(t, ctx, chromedp.KeyEvent(kb.Enter))
		waitFor(t, ctx, "window.demoStatsRan", "statistics chosen by keyboard")
		if st := cookieState(t, ctx); st != "statistics" {
			t.Errorf("keyboard choice stored %q", st)
		}
		// Focus goes to the floating button's place in the page, not lost inside a closed dialog.
		if js[bool](t, ctx, "!!"+inShadow("dialog[open]")) {
			t.Error("the dialog stayed open")
		}
	})
	t.Run("targets, reflow, motion, layout shift", func(t *testing.T) {
		ctx := browser(t, 320, 640)
		// Cumulative layout shift as the metric defines it: shifts right after the visitor's input do not count.
		beforeLoad(t, ctx, `window.shift = 0;
			new PerformanceObserver(l => l.getEntries().forEach(e => { if (!e.hadRecentInput) window.shift += e.value }))
			.observe({type: "layout-shift", buffered: true})`)
		if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-reduced-motion", Value: "reduce"}}}); err != nil {
			t.Fatal(err)
		}
		visit(t, ctx, s, "/demo")
		check := func(layer string) {
			t.Helper()
			small := js[[]string](t, ctx, `[...document.querySelector("#samtycke-root").shadowRoot.querySelectorAll("button, a, input")]
				.filter(e => e.getClientRects().length).map(e => [e, e.getBoundingClientRect()])
				.filter(([e, r]) => (r.width < 24 || r.height < 24) && e.tagName != "A").map(([e, r]) => e.outerHTML.slice(0, 60) + " " + r.width + "x" + r.height)`)
			if len(small) > 0 {
				t.Errorf("%s: targets under 24x24 px: %v", layer, small)
			}
			if w := js[[]int](t, ctx, `[document.documentElement.scrollWidth, ...[...document.querySelector("#samtycke-root").shadowRoot.querySelectorAll(".b, dialog[open] .mb")]
				.map(e => e.scrollWidth - e.clientWidth)]`); w[0] > 320 || len(w) < 2 || w[1] > 0 {
				t.Errorf("%s does not reflow at 320 px: %v", layer, w)
			}
			if n := js[int](t, ctx, `document.querySelector("#samtycke-root").shadowRoot.getAnimations().length`); n != 0 {
				t.Errorf("%s: %d animations with reduced motion", layer, n)
			}
		}
		check("first layer")
		screenshot(t, ctx, "banner-first-sv-320")
		click(t, ctx, inShadow(`.b [data-action=settings]`))
		waitFor(t, ctx, inShadow("dialog[open] #j")+"?.textContent", "the second layer")
		check("second layer")
		if shift := js[float64](t, ctx, "window.shift"); shift != 0 {
			t.Errorf("cumulative layout shift %v, want 0", shift)
		}
	})
}

// 8. Language: <html lang> chooses, then the browser's language, then the
// site default; every control speaks it. Screenshots of both layers in both
// languages at 1280 and 360 px.
func TestBanner8Language(t *testing.T) {
	s := newStack(t, nil)
	for _, tt := range []struct {
		path, lang, title, settings string
	}{
		{"/demo", "sv", "Vi värnar om din integritet", "Cookieinställningar"},
		{"/demo/en.html", "en", "We care about your privacy", "Cookie settings"},
	} {
		for _, width := range []int{1280, 360} {
			t.Run(fmt.Sprintf("%s-%d", tt.lang, width), func(t *testing.T) {
				ctx := browser(t, width, map[int]int{1280: 800, 360: 740}[width])
				visit(t, ctx, s, tt.path)
				if got := js[string](t, ctx, inShadow(".b h2")+".textContent"); got != tt.title {
					t.Errorf("title %q, want %q", got, tt.title)
				}
				screenshot(t, ctx, fmt.Sprintf("banner-first-%s-%d", tt.lang, width))
				click(t, ctx, inShadow(`.b [data-action=settings]`))
				waitFor(t, ctx, inShadow("dialog[open] #j")+"?.textContent", "the second layer with its details")
				click(t, ctx, inShadow(`details:has(#l-statistics) summary`))
				screenshot(t, ctx, fmt.Sprintf("banner-settings-%s-%d", tt.lang, width))
				if got := js[string](t, ctx, inShadow("dialog h2")+".textContent"); got != tt.settings {
					t.Errorf("settings title %q, want %q", got, tt.settings)
				}
				if tt.lang == "en" {
					// Every word a visitor reads or hears, in English: no Swedish letters anywhere.
					words := js[string](t, ctx, `(() => { const r = document.querySelector("#samtycke-root").shadowRoot;
						return r.textContent + [...r.querySelectorAll("[aria-label],[title]")].map(e => e.getAttribute("aria-label") + e.getAttribute("title")).join(" ") })()`)
					if strings.ContainsAny(words, "åäöÅÄÖ") {
						t.Errorf("Swedish in the English banner: %s", words)
					}
				}
			})
		}
	}
	t.Run("browser language", func(t *testing.T) {
		ctx := browser(t, 1280, 800)
		if _, err := chromedp.Call(ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: "Mozilla/5.0 Chrome", AcceptLanguage: "en-GB"}); err != nil {
			t.Fatal(err)
		}
		// A page in a language the site does not have: navigator.language decides.
		beforeLoad(t, ctx, `new MutationObserver((_, o) => { if (document.documentElement) { document.documentElement.lang = "de"; o.disconnect() } }).observe(document, {childList: true})`)
		visit(t, ctx, s, "/demo")
		if got := js[string](t, ctx, inShadow(".b h2")+".textContent"); got != "We care about your privacy" {
			t.Errorf("with <html lang=de> and navigator.language en-GB: %q", got)
		}
	})
}

// 10. Sending: one event_id per decision, the same on every retry after a
// 503, a network failure and a 429; the UI never waits; one row.
func TestBanner10Sending(t *testing.T) {
	s := newStack(t, nil)
	ctx := browser(t, 1280, 800)
	var mu sync.Mutex
	var bodies []string
	intercept(t, ctx, "*/v1/consents", func(e *fetch.EventRequestPaused) func(context.Context) error {
		if e.Request.Method != http.MethodPost {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		bodies = append(bodies, postBody(e))
		switch len(bodies) {
		case 1:
			return fulfil(e, 503, "application/json", `{"error":{"code":"unavailable","message":"x"}}`)
		case 2:
			return func(ctx context.Context) error {
				_, err := chromedp.Call(ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: e.RequestID, ErrorReason: network.ErrorReasonConnectionFailed})
				return err
			}
		case 3:
			return fulfil(e, 429, "application/json", `{"error":{"code":"rate_limited","message":"x"}}`)
		}
		return nil
	})
	visit(t, ctx, s, "/demo")
	click(t, ctx, inShadow(`.b [data-action=reject_all]`))
	if !js[bool](t, ctx, "!"+inShadow(".b")) {
		t.Error("the banner waited for the server")
	}
	id := cookieID(t, ctx)
	rows(t, s, id, 1)
	mu.Lock()
	got := append([]string(nil), bodies...)
	mu.Unlock()
	if len(got) != 4 {
		t.Fatalf("%d attempts, want 4", len(got))
	}
	var first struct {
		EventID string `json:"event_id"`
		Source  string `json:"source"`
	}
	for i, b := range got {
		var req struct {
			EventID string `json:"event_id"`
			Source  string `json:"source"`
		}
		if err := json.Unmarshal([]byte(b), &req); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = req
		}
		if req.EventID == "" || req.EventID != first.EventID || req.Source != "banner" {
			t.Errorf("attempt %d: %+v, want event_id %s", i, req, first.EventID)
		}
	}
	if n := len(rows(t, s, id, 1)); n != 1 {
		t.Errorf("%d rows, want exactly 1", n)
	}
}
