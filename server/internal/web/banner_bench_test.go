package web_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/samtycke/samtycke/server/internal/testutil"
)

// BenchmarkBannerVisible measures P2: the time from navigation start to a
// visible banner in headless Chromium, median of 10 cold loads, for
// Samtycke's /b/demo.js and for vanilla-cookieconsent 3 (from npm, installed
// under .data/npm by `make bench`) on the same minimal page with the same
// four categories, in the same run and alternating, so that machine noise
// cancels. Both scripts come from another origin than the page, compressed
// with brotli. It reports the medians, their ratio, the long tasks of all
// loads (beside those of the same page without a banner, loaded as often)
// and the largest layout shift of any load.
func BenchmarkBannerVisible(b *testing.B) {
	ccDir := filepath.Join(testutil.RepoRoot(b), ".data/npm/node_modules/vanilla-cookieconsent/dist")
	ccJS, err1 := os.ReadFile(filepath.Join(ccDir, "cookieconsent.umd.js"))
	ccCSS, err2 := os.ReadFile(filepath.Join(ccDir, "cookieconsent.css"))
	if err1 != nil || err2 != nil {
		b.Skipf("vanilla-cookieconsent is not installed under .data/npm (make bench installs it): %v %v", err1, err2)
	}
	s := newStack(b, nil)
	assets := map[string][]byte{"/cc.js": ccJS, "/cc.css": ccCSS, "/cc-init.js": []byte(ccInit)}
	assetSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := assets[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		var br bytes.Buffer
		bw := brotli.NewWriterLevel(&br, brotli.BestCompression)
		bw.Write(body)
		bw.Close()
		ct := "text/javascript"
		if strings.HasSuffix(r.URL.Path, ".css") {
			ct = "text/css"
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Content-Encoding", "br")
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Write(br.Bytes())
	}))
	b.Cleanup(assetSrv.Close)
	pages := map[string]string{
		"/samtycke": fmt.Sprintf(p2Page, `<script src="`+s.base+`/b/demo.js" async></script>`),
		"/cc": fmt.Sprintf(p2Page, `<link rel="stylesheet" href="`+assetSrv.URL+`/cc.css">
<script src="`+assetSrv.URL+`/cc.js" defer></script><script src="`+assetSrv.URL+`/cc-init.js" defer></script>`),
		// The reference for long tasks: the page alone, which a cold context
		// on a slow machine may load in a long task of its own.
		"/bare": fmt.Sprintf(p2Page, ""),
	}
	pageSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, pages[r.URL.Path])
	}))
	b.Cleanup(pageSrv.Close)

	ctx := browser(b, 1280, 800)
	type result struct{ visible, longTasks, shift float64 }
	results := map[string][]result{}
	for b.Loop() {
		for i := 0; i < 10; i++ {
			order := []string{"/samtycke", "/cc", "/bare"}
			if i%2 == 1 {
				slices.Reverse(order)
			}
			for _, p := range order {
				cctx, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
				r, err := measureVisible(cctx, pageSrv.URL+p)
				cancel()
				if err != nil {
					b.Fatalf("%s: %v", p, err)
				}
				results[p] = append(results[p], result{r[0], r[1], r[2]})
			}
		}
	}
	median := func(p string, f func(result) float64) float64 {
		var xs []float64
		for _, r := range results[p] {
			xs = append(xs, f(r))
		}
		slices.Sort(xs)
		return (xs[(len(xs)-1)/2] + xs[len(xs)/2]) / 2
	}
	maxOf := func(p string, f func(result) float64) float64 {
		m := 0.0
		for _, r := range results[p] {
			m = max(m, f(r))
		}
		return m
	}
	vis := func(r result) float64 { return r.visible }
	sm, cm := median("/samtycke", vis), median("/cc", vis)
	b.ReportMetric(sm, "samtycke-ms")
	b.ReportMetric(cm, "cookieconsent-ms")
	b.ReportMetric(sm/cm, "ratio")
	// Long tasks are counted over all runs, not by median: P2 wants none.
	total := func(p string) float64 {
		n := 0.0
		for _, r := range results[p] {
			n += r.longTasks
		}
		return n
	}
	b.ReportMetric(total("/samtycke"), "samtycke-longtasks-total")
	b.ReportMetric(total("/cc"), "cookieconsent-longtasks-total")
	b.ReportMetric(total("/bare"), "bare-page-longtasks-total")
	b.ReportMetric(maxOf("/samtycke", func(r result) float64 { return r.shift }), "samtycke-cls")
	b.ReportMetric(maxOf("/cc", func(r result) float64 { return r.shift }), "cookieconsent-cls")
}

// measureVisible loads url in a fresh browser context and returns the time
// from navigation start to the first frame with a visible banner (ms), the
// number of long tasks (> 50 ms) and the layout shift until then.
func measureVisible(ctx context.Context, url string) ([3]float64, error) {
	var out [3]float64
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: p2Probe}); err != nil {
		return out, err
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		return out, err
	}
	r, err := chromedp.Run(ctx, chromedp.Poll[[]float64](`window.__p2`))
	if err != nil {
		return out, err
	}
	copy(out[:], r)
	return out, nil
}

// p2Probe checks every frame whether a banner is visible (box, visibility,
// opacity), whichever of the two it is, and counts long tasks and shifts;
// on the bare page, which has none, it stops at the first frame after load.
const p2Probe = `(() => {
	let long = 0, shift = 0;
	new PerformanceObserver(l => { long += l.getEntries().length }).observe({type: "longtask", buffered: true});
	new PerformanceObserver(l => l.getEntries().forEach(e => { if (!e.hadRecentInput) shift += e.value })).observe({type: "layout-shift", buffered: true});
	const shown = e => { if (!e) return false; const r = e.getBoundingClientRect(), s = getComputedStyle(e);
		return r.width > 0 && r.height > 0 && s.visibility == "visible" && +s.opacity > 0 };
	const frame = () => {
		const sam = document.querySelector("#samtycke-root")?.shadowRoot?.querySelector(".b");
		const bare = location.pathname == "/bare" && document.readyState == "complete";
		if (bare || shown(sam) || shown(document.querySelector("#cc-main .cm"))) {
			const t = performance.now();
			setTimeout(() => { window.__p2 = [t, long, shift] }, 100);
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
