package manage

import (
	"encoding/json"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// A new site's banner description names the purposes of its own
// categories and no others: the starter has only necessary storage, so
// it asks consent for nothing; with statistics and marketing it names
// those two, in each language, and the draft is valid.
func TestStarterDescriptionNamesOnlyTheSitesPurposes(t *testing.T) {
	m := New(nil, nil, nil, nil, slog.New(slog.DiscardHandler))
	js, err := m.starterConfig("Butiken", []string{"https://butiken.se/"})
	if err != nil {
		t.Fatal(err)
	}
	var c siteconfig.Config
	if err := json.Unmarshal(js, &c); err != nil {
		t.Fatal(err)
	}
	for lang, words := range map[string][]string{"sv": {"inställningar", "statistik", "marknadsföring", "samtycke"},
		"en": {"preferences", "statistics", "marketing", "consent"}} {
		d := strings.ToLower(c.Texts[lang].Desc)
		for _, w := range words {
			if regexp.MustCompile(`\b` + w + `\b`).MatchString(d) {
				t.Errorf("%s: the starter description of a site with only necessary storage names %q: %s", lang, w, c.Texts[lang].Desc)
			}
		}
	}
	c.Categories = append(c.Categories,
		siteconfig.Category{ID: "statistics", Title: siteconfig.Localized{"sv": "Statistik", "en": "Statistics"}},
		siteconfig.Category{ID: "marketing", Title: siteconfig.Localized{"sv": "Marknadsföring", "en": "Marketing"}})
	starterDescriptions(&c)
	if d := c.Texts["sv"].Desc; !strings.Contains(d, "Med ditt samtycke använder vi dem också för statistik och marknadsföring.") || strings.Contains(d, " inställningar") {
		t.Errorf("sv: %s", d)
	}
	if d := c.Texts["en"].Desc; !strings.Contains(d, "With your consent we also use them for statistics and marketing.") || strings.Contains(d, "preferences") {
		t.Errorf("en: %s", d)
	}
	if ps := Problems(js); len(ps) != 0 && !onlyController(ps) {
		t.Errorf("the starter draft has problems beyond the controller's email: %+v", ps)
	}
}

// onlyController: a new site still needs its controller's email, which
// nobody but its owner can give.
func onlyController(ps []siteconfig.Problem) bool {
	for _, p := range ps {
		if !strings.HasPrefix(p.Field, "/controller") {
			return false
		}
	}
	return true
}
