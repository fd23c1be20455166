package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/samtycke/samtycke/server/internal/notice"
	"github.com/samtycke/samtycke/server/internal/testutil"
)

// axeSource is axe-core from .data/npm (make test installs it).
func axeSource(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for ; dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		b, err := os.ReadFile(filepath.Join(dir, ".data/npm/node_modules/axe-core/axe.min.js"))
		if err == nil {
			return string(b)
		}
	}
	if os.Getenv("SAMTYCKE_TEST_BROWSER") == "required" {
		t.Fatal("axe-core is missing: make test installs it under .data/npm")
	}
	t.Skip("axe-core not installed (make test installs it under .data/npm)")
	return ""
}

type axeResult struct {
	Violations []struct {
		ID    string `json:"id"`
		Help  string `json:"help"`
		Nodes []struct {
			Target []any `json:"target"`
		} `json:"nodes"`
	} `json:"violations"`
	Passes []struct{} `json:"passes"`
}

// runAxe checks the page with axe-core's WCAG 2.x A/AA and best-practice
// rules. CDP's Runtime.evaluate is not bound by the page's CSP.
func runAxe(t *testing.T, ctx context.Context, src, scope string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](src)); err != nil {
		t.Fatal(err)
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](`axe.run(`+scope+`, {runOnly: {type: "tag",
		values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]}}).then(r => ({violations: r.violations, passes: r.passes.map(() => ({}))}))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	var res axeResult
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Passes) == 0 {
		t.Fatal("axe ran no rule")
	}
	for _, v := range res.Violations {
		var where []string
		for _, n := range v.Nodes {
			where = append(where, fmt.Sprint(n.Target...))
		}
		t.Errorf("axe %s: %s at %s", v.ID, v.Help, strings.Join(where, ", "))
	}
}

// TestNoticeInBrowser: a visitor who chose on the demo page opens the
// notice: it shows their consent ID, offers "change your choice" (which
// opens the banner), makes no third-party request, and axe-core finds no
// violation, in both languages and on a phone.
func TestNoticeInBrowser(t *testing.T) {
	s := newStack(t, nil)
	axe := axeSource(t)
	for _, tt := range []struct {
		lang, chosen  string
		width, height int
	}{{"sv", "valt", 1280, 900}, {"en", "chosen", 390, 844}} {
		t.Run(fmt.Sprintf("%s-%d", tt.lang, tt.width), func(t *testing.T) {
			ctx := browser(t, tt.width, tt.height)
			accept := chromedp.JSPath(fmt.Sprintf(bannerButton, "accept_all"))
			if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/demo"), chromedp.WaitVisible(accept), chromedp.Click(accept)); err != nil {
				t.Fatal(err)
			}
			var id string
			for deadline := time.Now().Add(10 * time.Second); id == ""; {
				id, _ = consentCookie(readState(t, ctx).Cookie)
				if id == "" && time.Now().After(deadline) {
					t.Fatal("no consent cookie after Accept all")
				}
			}
			// Record every Content-Security-Policy violation of the pages.
			if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
				Source: `window.__csp = []; document.addEventListener("securitypolicyviolation", e => __csp.push(e.violatedDirective + " " + e.blockedURI))`}); err != nil {
				t.Fatal(err)
			}
			shown := chromedp.CSS("#consent-id")
			if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/s/demo/cookies?lang="+tt.lang), chromedp.WaitVisible(shown),
				chromedp.WaitVisible(chromedp.CSS("button[data-samtycke-open]"))); err != nil {
				t.Fatal(err)
			}
			text, err := chromedp.Run(ctx, chromedp.Text(shown))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(text, id) {
				t.Errorf("consent ID: %q, want %s", text, id)
			}
			// The day of the choice is written as the server writes days.
			_, rest := consentCookie(readState(t, ctx).Cookie)
			m := regexp.MustCompile(`^\d+\.(?:[0-9a-f]{16}\.)?(\d+)\.`).FindStringSubmatch(rest)
			if m == nil {
				t.Fatalf("consent cookie %q has no time", rest)
			}
			sec, err := strconv.ParseInt(m[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			if day := notice.Date(tt.lang, time.Unix(sec, 0)); !strings.Contains(text, "("+tt.chosen+" "+day+")") {
				t.Errorf("consent ID line %q, want the day of the choice as %q", text, day)
			}
			// Only this server was contacted.
			hosts, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`performance.getEntriesByType("resource").map(e => new URL(e.name).origin)`))
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range hosts {
				if h != s.base {
					t.Errorf("the notice requested %s", h)
				}
			}
			runAxe(t, ctx, axe, "document")
			screenshot(t, ctx, fmt.Sprintf("notice-%s-%dpx", tt.lang, tt.width))
			full, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			testutil.SaveArtifact(t, fmt.Sprintf("notice-%s-%dpx-full.png", tt.lang, tt.width), full)
			for _, part := range []string{"cat-necessary", "cat-statistics", "change-consent"} {
				if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("`+part+`").scrollIntoView()`)); err != nil {
					t.Fatal(err)
				}
				screenshot(t, ctx, fmt.Sprintf("notice-%s-%dpx-%s", tt.lang, tt.width, part))
			}

			if tt.lang == "sv" {
				// The print stylesheet: no navigation, no buttons, links spelled out.
				if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
					t.Fatal(err)
				}
				hidden, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`getComputedStyle(document.querySelector(".toc")).display == "none" && getComputedStyle(document.querySelector(".change")).display == "none"`))
				if err != nil || !hidden {
					t.Errorf("print: navigation and buttons must not be printed (%v)", err)
				}
				if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("cat-marketing").scrollIntoView()`)); err != nil {
					t.Fatal(err)
				}
				screenshot(t, ctx, "notice-sv-print")
				if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{}); err != nil {
					t.Fatal(err)
				}
			}
			// "Change your choice" opens the banner again.
			if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("button[data-samtycke-open]")), chromedp.WaitVisible(accept)); err != nil {
				t.Fatalf("the change button did not open the banner: %v", err)
			}
			// The page's strict CSP lets the banner run and style itself.
			violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__csp`))
			if err != nil || len(violations) > 0 {
				t.Errorf("CSP violations on the notice page: %v %v", violations, err)
			}
			screenshot(t, ctx, fmt.Sprintf("notice-%s-%dpx-banner", tt.lang, tt.width))
		})
	}
}

// TestNoticeWithoutJavaScript: the page is complete without scripts; the
// change button (which needs the banner) stays hidden.
func TestNoticeWithoutJavaScript(t *testing.T) {
	s := newStack(t, nil)
	ctx := browser(t, 1024, 768)
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void]("0")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/s/demo/cookies?lang=sv"), chromedp.WaitVisible(chromedp.CSS("#cat-marketing table"))); err != nil {
		t.Fatal(err)
	}
	hidden, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`getComputedStyle(document.querySelector("button[data-samtycke-open]")).display == "none" && !document.querySelector("#samtycke-root")`))
	if err != nil || !hidden {
		t.Errorf("without JavaScript the change button must stay hidden: %v", err)
	}
}

// TestDeclarationInBrowser renders embed.json the way the banner does for
// <div data-samtycke-declaration> (html in an open shadow root, css as a
// constructed stylesheet) on the demo page: axe-core finds no violation in
// it, and it needs no inline style under the page's CSP.
func TestDeclarationInBrowser(t *testing.T) {
	s := newStack(t, nil)
	axe := axeSource(t)
	ctx := browser(t, 1100, 900)
	accept := chromedp.JSPath(fmt.Sprintf(bannerButton, "accept_all"))
	if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/demo"), chromedp.WaitVisible(accept), chromedp.Click(accept)); err != nil {
		t.Fatal(err)
	}
	// Its own element, not data-samtycke-declaration: the banner may render
	// that one itself.
	const render = `fetch("/s/demo/cookies/embed.json?lang=sv").then(r => r.json()).then(e => {
		const host = document.createElement("div");
		host.id = "declaration";
		document.querySelector("main").append(host);
		const root = host.attachShadow({mode: "open"});
		const sheet = new CSSStyleSheet();
		sheet.replaceSync(e.css);
		root.adoptedStyleSheets = [sheet];
		root.innerHTML = e.html;
		host.scrollIntoView();
		return root.querySelectorAll("table").length;
	})`
	tables, err := chromedp.Run(ctx, chromedp.Evaluate[int](render, chromedp.EvalAwaitPromise))
	if err != nil || tables != 4 {
		t.Fatalf("declaration: %d tables, %v", tables, err)
	}
	runAxe(t, ctx, axe, `document.querySelector("#declaration")`)
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector("#declaration").shadowRoot.querySelector("#cat-statistics").scrollIntoView()`)); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "declaration-embedded-sv")
}
