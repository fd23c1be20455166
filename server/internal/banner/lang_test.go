package banner

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/samtycke/samtycke/server/internal/siteconfig"
	"github.com/samtycke/samtycke/server/internal/words"
)

// withLanguage adds lang to the demo with the English texts as its site
// texts, so that what it adds to the script is the banner's words in lang.
func withLanguage(t testing.TB, langs ...string) *siteconfig.Version {
	v := demoVersion(t)
	c := *v.Config
	c.Languages = append(append([]string{}, c.Languages...), langs...)
	c.Texts = map[string]siteconfig.Texts{}
	for l, tx := range v.Config.Texts {
		c.Texts[l] = tx
	}
	for _, l := range langs {
		c.Texts[l] = v.Config.Texts["en"]
	}
	v.Config = &c
	return v
}

// Only the configured languages' words travel in a script, each in its own
// language's texts; a language costs a few hundred bytes at most.
func TestWordsTravelPerLanguage(t *testing.T) {
	b, err := New("http://127.0.0.1:8080")
	if err != nil {
		t.Fatal(err)
	}
	demo, err := b.For(demoVersion(t))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(demo.Raw), `"intro":"Välj vilka kategorier`) || !strings.Contains(string(demo.Raw), `"once":"Load once"`) {
		t.Error("the demo's script lacks its Swedish or English words")
	}
	de, _ := words.For("de")
	if strings.Contains(string(demo.Raw), de.Banner["once"]) {
		t.Error("the demo's script (sv, en) carries German words")
	}
	var worst int
	for _, l := range words.Languages() {
		if l == "sv" || l == "en" {
			continue
		}
		v := withLanguage(t, l)
		v.Number = 100 + uint32(len(l))
		v.Site = "demo-" + l
		a, err := b.For(v)
		if err != nil {
			t.Fatal(err)
		}
		var pub struct {
			Texts map[string]map[string]string `json:"texts"`
		}
		js := string(a.Raw)[strings.Index(string(a.Raw), `{"site":`):]
		if err := json.NewDecoder(strings.NewReader(js)).Decode(&pub); err != nil {
			t.Fatal(err)
		}
		s, _ := words.For(l)
		for k, w := range s.Banner {
			if pub.Texts[l][k] != w {
				t.Errorf("%s: texts.%s.%s = %q, want %q", l, l, k, pub.Texts[l][k], w)
			}
		}
		if pub.Texts[l]["accept_all"] != v.Config.Texts[l].AcceptAll {
			t.Errorf("%s: the site's own texts are missing beside the words", l)
		}
		grow := len(a.Brotli) - len(demo.Brotli)
		worst = max(worst, grow)
		t.Logf("+%s: %5d B brotli (+%3d), %5d B gzip (+%3d)", l, len(a.Brotli), grow, len(a.Gzip), len(a.Gzip)-len(demo.Gzip))
		if grow > 500 {
			t.Errorf("adding %s grows the banner by %d B brotli; at most 500 expected (Greek and Cyrillic, two bytes a letter, cost most)", l, grow)
		}
	}
	t.Logf("the demo (sv, en): %d B brotli, %d B gzip; the most one language adds: %d B brotli", len(demo.Brotli), len(demo.Gzip), worst)
}
