package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/samtycke/samtycke/server/internal/siteconfig"
	"github.com/samtycke/samtycke/server/internal/words"
)

// siteTexts are what an owner writes for German and Finnish; the banner's
// own words come from banner-js/lang.
var siteTexts = map[string]siteconfig.Texts{
	"de": {Title: "Wir verwenden Cookies", Desc: "Mit Ihrer Einwilligung verwenden wir Cookies für Statistik und Marketing. Sie können Ihre Einwilligung jederzeit widerrufen.",
		AcceptAll: "Alle akzeptieren", RejectAll: "Alle ablehnen", Settings: "Einstellungen", Save: "Auswahl speichern", Close: "Schließen",
		AlwaysOn: "Immer aktiv", Withdraw: "Cookie-Einstellungen", NoticeLink: "Cookie-Richtlinie"},
	"fi": {Title: "Käytämme evästeitä", Desc: "Käytämme suostumuksellasi evästeitä tilastointiin ja markkinointiin. Voit perua suostumuksesi milloin tahansa.",
		AcceptAll: "Hyväksy kaikki", RejectAll: "Hylkää kaikki", Settings: "Asetukset", Save: "Tallenna valinnat", Close: "Sulje",
		AlwaysOn: "Aina käytössä", Withdraw: "Evästeasetukset", NoticeLink: "Evästeseloste"},
}

// publishLanguages publishes the demo with langs added: the site's texts
// above, its other translations copied from English.
func publishLanguages(t *testing.T, s *stack, langs ...string) {
	t.Helper()
	v, err := s.svc.Versions.Current(context.Background(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v.Config)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if en, ok := v["en"].(string); ok {
				for _, l := range langs {
					v[l] = en
				}
				return
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(m)
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	var c siteconfig.Config
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	for _, l := range langs {
		c.Languages = append(c.Languages, l)
		c.Texts[l] = siteTexts[l]
	}
	if _, changed, err := s.svc.Versions.Publish(context.Background(), "demo", &c, "test", ""); err != nil || !changed {
		t.Fatalf("publish: %v %v", changed, err)
	}
}

// A site configured in German and Finnish shows each page in its language:
// the site's buttons and the banner's own words (settings, details,
// placeholders), and at 360 px the long words fit their boxes.
func TestBannerLanguages(t *testing.T) {
	s := newStack(t, nil)
	publishLanguages(t, s, "de", "fi")
	for _, lang := range []string{"de", "fi"} {
		t.Run(lang, func(t *testing.T) {
			w, _ := words.For(lang)
			ctx := browser(t, 360, 740)
			servePages(t, ctx, s, map[string]string{
				"page": fmt.Sprintf(`<!doctype html><html lang="%s"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Seite</title>`, lang) +
					`<script src="/b/demo.js" async></script></head><body><main>` + heldVideo + `</main></body></html>`,
			}, nil)
			visit(t, ctx, s, "/t/page")
			tx := siteTexts[lang]
			labels := js[[]string](t, ctx, `[...`+inShadow(".b")+`.querySelectorAll("button")].map(b => b.textContent)`)
			if fmt.Sprint(labels) != fmt.Sprint([]string{tx.AcceptAll, tx.RejectAll, tx.Settings}) && fmt.Sprint(labels) != fmt.Sprint([]string{tx.RejectAll, tx.AcceptAll, tx.Settings}) {
				t.Errorf("first layer's buttons: %q", labels)
			}
			// Nothing is cut: every button and text keeps its content inside its box.
			cut := `[...document.querySelector("#samtycke-root").shadowRoot.querySelectorAll(".b button, .b p, .b h2, dialog[open] button, dialog[open] summary, dialog[open] p, dialog[open] h2, dialog[open] label")]
				.filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent)`
			if c := js[[]string](t, ctx, cut); len(c) > 0 {
				t.Errorf("cut in the first layer at 360 px: %q", c)
			}
			waitFor(t, ctx, `document.querySelector("[data-samtycke-placeholder]")?.shadowRoot.textContent.includes(`+fmt.Sprintf("%q", w.Banner["once"])+`)`, "the placeholder in "+lang)
			screenshot(t, ctx, "banner-"+lang+"-360")
			click(t, ctx, inShadow(`.b [data-action=settings]`))
			waitFor(t, ctx, inShadow("dialog[open] #j")+"?.textContent", "the settings' details")
			if got := js[string](t, ctx, inShadow("dialog[open] .mb p")+".textContent"); got != w.Banner["intro"] {
				t.Errorf("settings' intro: %q, want %q", got, w.Banner["intro"])
			}
			if got := js[string](t, ctx, inShadow("dialog[open] summary")+".textContent"); got != w.Banner["show"] {
				t.Errorf("disclosure: %q, want %q", got, w.Banner["show"])
			}
			click(t, ctx, inShadow(`details:has(#l-statistics) summary`))
			if got := js[string](t, ctx, inShadow("#l-statistics")+".textContent"); !strings.Contains(got, w.Details.Provider) || !strings.Contains(got, w.Details.Duration) {
				t.Errorf("details not in %s: %q", lang, got)
			}
			if c := js[[]string](t, ctx, cut); len(c) > 0 {
				t.Errorf("cut in the settings at 360 px: %q", c)
			}
			screenshot(t, ctx, "banner-settings-"+lang+"-360")
		})
	}
}
