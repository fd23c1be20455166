package web_test

import (
	"fmt"
	"strings"
	"testing"
)

// The banner in real Chromium, one test per numbered point of issue 12, on the
// demo pages (/demo in Swedish, /demo/en.html in English, /demo/strict under a
// strict CSP) of a whole Samtycke on real ClickHouse and Redis.

// 8. Language: <html lang> chooses; every control speaks it. Screenshots of
// both layers in both languages at 1280 and 360 px.
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
				click(t, ctx, inShadow(`[aria-controls=l-statistics]`))
				screenshot(t, ctx, fmt.Sprintf("banner-settings-%s-%d", tt.lang, width))
				if got := js[string](t, ctx, inShadow("dialog h2")+".textContent"); got != tt.settings {
					t.Errorf("settings title %q, want %q", got, tt.settings)
				}
				_ = strings.TrimSpace
			})
		}
	}
}
