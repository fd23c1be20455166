package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// A page with text styles a theme might have, which a placeholder must not
// take over, and held embeds of 300×120 and 200×100.
const styledEmbeds = pageHead + `<style>body{margin:24px;font:italic 20px/3 Georgia,serif;letter-spacing:4px;word-spacing:12px;text-transform:uppercase;text-indent:40px;text-align:right;white-space:nowrap}</style>
<script src="/b/demo.js" async></script></head><body>
<div id="a"><iframe id="f300" data-samtycke="marketing" data-samtycke-src="/demo/video.html" data-samtycke-provider="Demobutiken Play" width="300" height="120" title="Liten film"></iframe></div>
<div id="b"><iframe id="f200" data-samtycke="marketing" data-samtycke-src="/demo/video.html" data-samtycke-provider="Demobutiken Play" width="200" height="100" title="Minsta filmen"></iframe></div>
</body></html>`

// Placeholders: usable down to 200×100 (text and both buttons inside the
// box, nothing scrolls), free of the page's inherited text styles, removed
// with their iframe when a single-page app removes it, one per iframe when
// it comes back, and moved with it.
func TestBannerPlaceholders(t *testing.T) {
	s := newStack(t, nil)
	ctx := browser(t, 1280, 800)
	servePages(t, ctx, s, map[string]string{"embeds": styledEmbeds}, nil)
	do(t, ctx, chromedp.Navigate(s.base+"/t/embeds"))
	waitFor(t, ctx, `document.querySelectorAll("[data-samtycke-placeholder]").length == 2 && [...document.querySelectorAll("[data-samtycke-placeholder]")]
		.every(p => getComputedStyle(p.shadowRoot.querySelector(".p")).display == "flex")`, "two styled placeholders")
	type fit struct {
		W, H                              float64
		TextIn, ButtonsIn, Scrolls        bool
		Spacing, Transform, Style, Indent string
		Line, Lines                       float64
	}
	for _, id := range []string{"f300", "f200"} {
		f := js[fit](t, ctx, `(() => { const ph = document.getElementById("`+id+`").nextElementSibling, box = ph.shadowRoot.querySelector(".p"),
			r = box.getBoundingClientRect(), inside = e => { const q = e.getBoundingClientRect(); return q.width > 0 && q.top >= r.top - 0.5 && q.bottom <= r.bottom + 0.5 && q.left >= r.left - 0.5 && q.right <= r.right + 0.5 },
			p = box.querySelector("p"), s = getComputedStyle(p);
			return {W: r.width, H: r.height, TextIn: inside(p), ButtonsIn: [...box.querySelectorAll("button")].every(inside),
				Scrolls: box.scrollHeight > box.clientHeight + 1 || box.scrollWidth > box.clientWidth + 1,
				Spacing: s.letterSpacing, Transform: s.textTransform, Style: s.fontStyle, Indent: s.textIndent, Line: parseFloat(s.lineHeight),
				Lines: p.clientHeight / parseFloat(s.lineHeight)} })()`)
		// At least two whole lines of text: none cut through the middle.
		if whole := f.Lines - float64(int(f.Lines+0.05)); !f.TextIn || !f.ButtonsIn || f.Scrolls || f.Lines < 1.95 || whole > 0.05 {
			t.Errorf("%s: placeholder %vx%v does not fit its text and buttons: %+v", id, f.W, f.H, f)
		}
		if f.Spacing != "normal" || f.Transform != "none" || f.Style != "normal" || f.Indent != "0px" || f.Line > 20 {
			t.Errorf("%s: the page's text styles reached the placeholder: %+v", id, f)
		}
	}
	if n := js[int](t, ctx, `[...document.querySelector("[data-samtycke-placeholder]").shadowRoot.querySelectorAll("button")].filter(b => b.getBoundingClientRect().height < 24).length`); n > 0 {
		t.Errorf("%d placeholder buttons under 24 px", n)
	}
	js[bool](t, ctx, `(document.getElementById("b").style.marginTop = "8px", true)`)
	screenshotElement(t, ctx, "#a", "placeholder-300x120")
	screenshotElement(t, ctx, "#b", "placeholder-200x100")

	// A single-page app removes the iframe, then puts it back, three times.
	for i := 0; i < 3; i++ {
		js[bool](t, ctx, `(window.f = document.getElementById("f300"), f.remove(), true)`)
		waitFor(t, ctx, `document.querySelectorAll("[data-samtycke-placeholder]").length == 1`, "the placeholder to go with its iframe")
		js[bool](t, ctx, `(document.getElementById("a").append(f), true)`)
		waitFor(t, ctx, `document.querySelectorAll("[data-samtycke-placeholder]").length == 2 && f.nextElementSibling?.hasAttribute("data-samtycke-placeholder")`, "one placeholder for the iframe put back")
	}
	// Moved elsewhere, it takes its placeholder along.
	js[bool](t, ctx, `(document.getElementById("b").prepend(f), true)`)
	waitFor(t, ctx, `f.nextElementSibling?.hasAttribute("data-samtycke-placeholder") && document.querySelectorAll("#a [data-samtycke-placeholder]").length == 0`, "the placeholder to follow its iframe")
	if n := js[int](t, ctx, `document.querySelectorAll("[data-samtycke-placeholder]").length`); n != 2 {
		t.Errorf("%d placeholders for two iframes", n)
	}
}

// screenshotElement saves a PNG of the element matching sel, with a margin.
func screenshotElement(t *testing.T, ctx context.Context, sel, name string) {
	t.Helper()
	js[bool](t, ctx, `(document.querySelector(`+fmt.Sprintf("%q", sel)+`).scrollIntoView({block: "center"}), true)`)
	screenshot(t, ctx, name)
}

// A 64-character value (the notice's SHA-256, a long token in the site's
// text) wraps at 320 px in the banner, the notice and the declaration:
// nothing scrolls sideways.
func TestBannerLongValues(t *testing.T) {
	s := newStack(t, nil)
	long := strings.Repeat("0123456789abcdef", 4)
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
	tx := c.Texts["sv"]
	tx.Desc += " Kontrollsumma: " + long + "."
	c.Texts["sv"] = tx
	if _, changed, err := s.svc.Versions.Publish(context.Background(), "demo", &c, "test", ""); err != nil || !changed {
		t.Fatalf("publish: %v %v", changed, err)
	}
	for _, width := range []int{320, 360} {
		t.Run(fmt.Sprint(width), func(t *testing.T) {
			ctx := browser(t, width, 740)
			servePages(t, ctx, s, map[string]string{
				"declaration": pageHead + `<script src="/b/demo.js" async></script></head><body><main><div data-samtycke-declaration></div></main></body></html>`,
			}, nil)
			sideways := func(what string) {
				t.Helper()
				if w := js[[]int](t, ctx, `[document.documentElement.scrollWidth, ...[...document.querySelectorAll("#samtycke-root, [data-samtycke-declaration]")]
					.flatMap(h => [...h.shadowRoot.querySelectorAll(".b, dialog[open] .mb, article")]).map(e => e.scrollWidth - e.clientWidth)]`); w[0] > width || len(w) > 1 && w[1] > 0 {
					t.Errorf("%s scrolls sideways at %d px: %v", what, width, w)
				}
			}
			visit(t, ctx, s, "/demo")
			if !js[bool](t, ctx, inShadow("#sd")+".textContent.includes("+fmt.Sprintf("%q", long)+")") {
				t.Fatal("the banner does not show the long value")
			}
			sideways("the first layer")
			screenshot(t, ctx, fmt.Sprintf("banner-long-value-%d", width))
			click(t, ctx, inShadow(`.b [data-action=reject_all]`)) // the notice below, without the first layer over it
			waitFor(t, ctx, firstLayerGone, "the first layer to go")
			do(t, ctx, chromedp.Navigate(s.base+"/s/demo/cookies?lang=sv"))
			waitFor(t, ctx, `document.body.textContent.includes("SHA-256")`, "the notice")
			sideways("the notice")
			js[bool](t, ctx, `([...document.querySelectorAll("p")].find(p => p.textContent.includes("SHA-256")).scrollIntoView({block: "center"}), true)`)
			screenshot(t, ctx, fmt.Sprintf("notice-sha256-%d", width))
			do(t, ctx, chromedp.Navigate(s.base+"/t/declaration"))
			waitFor(t, ctx, `document.querySelector("[data-samtycke-declaration]").shadowRoot?.querySelector("table")`, "the declaration")
			sideways("the declaration")
		})
	}
}
