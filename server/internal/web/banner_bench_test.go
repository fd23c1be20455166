package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/samtycke/samtycke/server/internal/precompressed"
	"github.com/samtycke/samtycke/server/internal/testutil"
)

// p2Setups are the page loads BenchmarkBannerVisible compares, in its table's order.
var p2Setups = []struct{ path, what string }{
	{"/samtycke", "Samtycke /b/demo.js async, from its own origin (as embedded)"},
	{"/samtycke-preconnect", "the same after <link rel=preconnect> to that origin"},
	{"/cc-cross", "vanilla-cookieconsent from another origin"},
	{"/cc-same", "vanilla-cookieconsent from the page's own origin (self-hosted)"},
	{"/bare", "the page without a banner (first paint; reference for long tasks)"},
}

// BenchmarkBannerVisible measures P2: the time from navigation start to the
// first frame with a visible banner in headless Chromium, in a fresh browser
// context per load (nothing cached), for Samtycke's /b/demo.js and for
// vanilla-cookieconsent 3.1.0 (from npm, installed under .data/npm by
// `make bench`) on the same minimal page with the same four categories.
// vanilla-cookieconsent is measured twice: from another origin (a CDN) and
// from the page's own origin (a site that hosts it itself, which saves a
// connection). Every file is compressed once, before the first load, and
// served like Samtycke's banner (brotli or gzip by Accept-Encoding, strong
// ETag, five minutes of cache), so that a load measures loading, not the
// server's compression. Each round loads every setup once, in an order
// rotating per round, so that machine noise falls on all of them alike.
//
// It prints, per setup, the median time to visible, the median times the
// banner's script arrived (responseEnd) and its root element entered the
// document, and the first contentful paint,
// each setup's ratio to both vanilla-cookieconsent setups, the long tasks
// (> 50 ms) over all loads beside those of the bare page, and the largest
// layout shift. SAMTYCKE_P2_ROUNDS sets the rounds per benchmark iteration
// (default 20).
func BenchmarkBannerVisible(b *testing.B) {
	ccDir := filepath.Join(testutil.RepoRoot(b), ".data/npm/node_modules/vanilla-cookieconsent/dist")
	ccJS, err1 := os.ReadFile(filepath.Join(ccDir, "cookieconsent.umd.js"))
	ccCSS, err2 := os.ReadFile(filepath.Join(ccDir, "cookieconsent.css"))
	if err1 != nil || err2 != nil {
		b.Skipf("vanilla-cookieconsent is not installed under .data/npm (make bench installs it): %v %v", err1, err2)
	}
	rounds := 20
	if v := os.Getenv("SAMTYCKE_P2_ROUNDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("SAMTYCKE_P2_ROUNDS=%q: want a positive number", v)
		}
		rounds = n
	}
	s := newStack(b, nil)
	assets := map[string]*precompressed.Body{}
	for name, raw := range map[string][]byte{"/cc.js": ccJS, "/cc.css": ccCSS, "/cc-init.js": []byte(ccInit)} {
		body, err := precompressed.New(raw)
		if err != nil {
			b.Fatal(err)
		}
		assets[name] = body
	}
	serveAsset := func(w http.ResponseWriter, r *http.Request) bool {
		body, ok := assets[r.URL.Path]
		if !ok {
			return false
		}
		raw, etag, enc := body.Pick(r.Header.Get("Accept-Encoding"))
		ct := "text/javascript; charset=utf-8"
		if strings.HasSuffix(r.URL.Path, ".css") {
			ct = "text/css; charset=utf-8"
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Header().Set("Vary", "Accept-Encoding")
		w.Header().Set("ETag", etag)
		if precompressed.Matches(r.Header.Get("If-None-Match"), etag) {
			w.WriteHeader(http.StatusNotModified)
			return true
		}
		if enc != "" {
			w.Header().Set("Content-Encoding", enc)
		}
		w.Write(raw)
		return true
	}
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !serveAsset(w, r) {
			http.NotFound(w, r)
		}
	}))
	b.Cleanup(cdn.Close)
	cc := func(origin string) string {
		return fmt.Sprintf(p2Page, `<link rel="stylesheet" href="`+origin+`/cc.css">
<script src="`+origin+`/cc.js" defer></script><script src="`+origin+`/cc-init.js" defer></script>`)
	}
	samtycke := `<script src="` + s.base + `/b/demo.js" async></script>`
	pages := map[string]string{
		"/samtycke":            fmt.Sprintf(p2Page, samtycke),
		"/samtycke-preconnect": fmt.Sprintf(p2Page, `<link rel="preconnect" href="`+s.base+`">`+"\n"+samtycke),
		"/cc-cross":            cc(cdn.URL),
		"/cc-same":             cc(""),
		// The reference for long tasks: the page alone, which a cold context
		// on a slow machine may load in a long task of its own.
		"/bare": fmt.Sprintf(p2Page, ""),
	}
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if serveAsset(w, r) {
			return
		}
		p, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, p)
	}))
	b.Cleanup(site.Close)

	ctx := browserFor(b, time.Duration(b.N*rounds)*time.Duration(len(p2Setups))*5*time.Second+time.Minute, 1280, 800)
	results := map[string][]p2Result{}
	turn := 0
	for b.Loop() {
		for range rounds {
			turn++
			k := turn % len(p2Setups)
			order := slices.Concat(p2Setups[k:], p2Setups[:k])
			if turn%2 == 1 {
				slices.Reverse(order)
			}
			for _, setup := range order {
				cctx, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
				r, err := measureVisible(cctx, site.URL+setup.path)
				cancel()
				if err != nil {
					b.Fatalf("%s: %v", setup.path, err)
				}
				results[setup.path] = append(results[setup.path], r)
			}
		}
	}
	median := func(p string, f func(p2Result) float64) float64 {
		var xs []float64
		for _, r := range results[p] {
			xs = append(xs, f(r))
		}
		slices.Sort(xs)
		return (xs[(len(xs)-1)/2] + xs[len(xs)/2]) / 2
	}
	visible := func(r p2Result) float64 { return r.Visible }
	ccCross, ccSame := median("/cc-cross", visible), median("/cc-same", visible)
	var out strings.Builder
	fmt.Fprintf(&out, "P2, %d loads of each setup in fresh browser contexts, medians in ms:\n", len(results["/bare"]))
	fmt.Fprintf(&out, "%-22s %8s %8s %8s %8s %9s %9s %6s %6s  %s\n", "setup", "visible", "script", "built", "fcp",
		"/cc-cross", "/cc-same", "long", "cls", "what")
	for _, setup := range p2Setups {
		p := setup.path
		long, cls := 0.0, 0.0
		for _, r := range results[p] {
			long += r.LongTasks
			cls = max(cls, r.Shift)
		}
		v := median(p, visible)
		fmt.Fprintf(&out, "%-22s %8.1f %8.1f %8.1f %8.1f %8.2fx %8.2fx %6.0f %6.3f  %s\n", p, v,
			median(p, func(r p2Result) float64 { return r.Script }), median(p, func(r p2Result) float64 { return r.Built }),
			median(p, func(r p2Result) float64 { return r.FCP }),
			v/ccCross, v/ccSame, long, cls, setup.what)
		name := strings.TrimPrefix(p, "/")
		if p != "/bare" {
			b.ReportMetric(v, name+"-ms")
		}
		b.ReportMetric(long, name+"-longtasks")
	}
	sam := median("/samtycke", visible)
	b.ReportMetric(sam/ccCross, "ratio-cc-cross")
	b.ReportMetric(sam/ccSame, "ratio-cc-same")
	// Printed, not logged: a benchmark's log is cut to its first lines.
	fmt.Print(out.String())
}

// p2Result is one load: times from navigation start in ms.
type p2Result struct {
	// Visible is the first frame with the banner visible (the bare page: its first frame after load).
	Visible float64 `json:"visible"`
	// Script is when the banner's script (Samtycke's, or cookieconsent.umd.js) had arrived; 0 for none.
	Script float64 `json:"script"`
	// Built is when the banner's root element entered the document; 0 for none.
	Built float64 `json:"built"`
	// FCP is the first contentful paint.
	FCP float64 `json:"fcp"`
	// LongTasks counts tasks over 50 ms until then; Shift adds up layout shifts.
	LongTasks float64 `json:"long"`
	Shift     float64 `json:"shift"`
}

// measureVisible loads url in a fresh browser context and reads what p2Probe saw.
func measureVisible(ctx context.Context, url string) (p2Result, error) {
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: p2Probe}); err != nil {
		return p2Result{}, err
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		return p2Result{}, err
	}
	return chromedp.Run(ctx, chromedp.Poll[p2Result](`window.__p2`))
}

// p2Probe checks every frame whether a banner is visible (box, visibility,
// opacity), whichever of the two it is, and counts long tasks and shifts;
// on the bare page, which has none, it stops at the first frame after load.
const p2Probe = `(() => {
	let long = 0, shift = 0, built = 0;
	new MutationObserver((ms, o) => { if (document.querySelector("#samtycke-root,#cc-main")) { built = performance.now(); o.disconnect() } })
		.observe(document, {childList: true, subtree: true});
	new PerformanceObserver(l => { long += l.getEntries().length }).observe({type: "longtask", buffered: true});
	new PerformanceObserver(l => l.getEntries().forEach(e => { if (!e.hadRecentInput) shift += e.value })).observe({type: "layout-shift", buffered: true});
	const shown = e => { if (!e) return false; const r = e.getBoundingClientRect(), s = getComputedStyle(e);
		return r.width > 0 && r.height > 0 && s.visibility == "visible" && +s.opacity > 0 };
	const frame = () => {
		const sam = document.querySelector("#samtycke-root")?.shadowRoot?.querySelector(".b");
		const bare = location.pathname == "/bare" && document.readyState == "complete";
		if (bare || shown(sam) || shown(document.querySelector("#cc-main .cm"))) {
			const t = performance.now();
			setTimeout(() => {
				const script = performance.getEntriesByType("resource").find(e => /\/b\/demo\.js|\/cc\.js/.test(e.name));
				const fcp = performance.getEntriesByName("first-contentful-paint")[0];
				window.__p2 = {visible: t, script: script ? script.responseEnd : 0, built, fcp: fcp ? fcp.startTime : 0, long, shift};
			}, 100);
		} else requestAnimationFrame(frame);
	};
	requestAnimationFrame(frame);
})()`

const p2Page = `<!doctype html>
<html lang="sv"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>P2</title>
%s
</head><body><h1>Demobutiken</h1><p>En minimal sida för att mäta hur snabbt en cookiebanner syns.</p></body></html>`

// ccInit configures vanilla-cookieconsent like the demo site: four
// categories, Swedish texts, a consent modal and a preferences modal.
const ccInit = `CookieConsent.run({
  hideFromBots: false,
  categories: { necessary: { enabled: true, readOnly: true }, preferences: {}, statistics: {}, marketing: {} },
  language: { default: "sv", translations: { sv: {
    consentModal: { title: "Vi värnar om din integritet",
      description: "Vi använder cookies och liknande tekniker som är nödvändiga för att webbplatsen ska fungera. Med ditt samtycke använder vi dem också för inställningar, statistik och marknadsföring.",
      acceptAllBtn: "Godkänn alla", acceptNecessaryBtn: "Bara nödvändiga", showPreferencesBtn: "Inställningar" },
    preferencesModal: { title: "Cookieinställningar", acceptAllBtn: "Godkänn alla", acceptNecessaryBtn: "Bara nödvändiga",
      savePreferencesBtn: "Spara val", closeIconLabel: "Stäng",
      sections: [
        { title: "Nödvändiga", description: "Krävs för att webbplatsen ska fungera.", linkedCategory: "necessary" },
        { title: "Inställningar", description: "Kommer ihåg val du gör.", linkedCategory: "preferences" },
        { title: "Statistik", description: "Hjälper oss förstå hur webbplatsen används.", linkedCategory: "statistics" },
        { title: "Marknadsföring", description: "Visar annonser som är relevanta för dig.", linkedCategory: "marketing" } ] } } } }
});`
