package banner

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/samtycke/samtycke/server/internal/siteconfig"
	"github.com/samtycke/samtycke/server/internal/words"
)

// Details is what the second layer loads when it first opens: every item of
// a version, worded in one language, so that the first load stays small.
type Details struct {
	Items []Detail `json:"items"`
	// None is said for a category without items.
	None string `json:"none"`
	// Justification says why the necessary category needs no consent.
	Justification string `json:"justification"`
	// Descriptions of the categories by id.
	Descriptions map[string]string `json:"descriptions"`
}

// Detail is one item as the visitor reads it: its name, its category and
// label/value rows (provider, party, purpose, duration, type, third-country
// transfer).
type Detail struct {
	Name     string      `json:"name"`
	Category string      `json:"category"`
	Rows     [][2]string `json:"rows"`
}

// DetailsOf words a version's items in lang (the version's default language
// when it has no texts in lang).
func DetailsOf(c *siteconfig.Config, lang string) Details {
	if !c.HasLanguage(lang) {
		lang = c.DefaultLanguage
	}
	ws := words.Or(lang)
	w := ws.Details
	pick := func(l siteconfig.Localized) string {
		if s := l[lang]; s != "" {
			return s
		}
		return l[c.DefaultLanguage]
	}
	out := Details{Items: make([]Detail, 0, len(c.Items)), None: w.None, Descriptions: map[string]string{}}
	for _, cat := range c.Categories {
		out.Descriptions[cat.ID] = pick(cat.Description)
		if cat.ID == siteconfig.NecessaryID {
			out.Justification = pick(cat.Justification)
		}
	}
	for _, it := range c.Items {
		party := w.FirstParty
		if it.Party == "third" {
			party = w.ThirdParty
			if it.Domain != "" {
				party += " (" + it.Domain + ")"
			}
		}
		transfer := w.No
		if tc := it.ThirdCountry; tc.Transfer {
			transfer = w.Yes + ": " + strings.Join(tc.Countries, ", ")
			if tc.Safeguard != "" {
				transfer += " (" + tc.Safeguard + ")"
			}
		}
		out.Items = append(out.Items, Detail{Name: it.Name, Category: it.Category, Rows: [][2]string{
			{w.Provider, it.Provider}, {w.Party, party}, {w.Purpose, pick(it.Purpose)},
			{w.Duration, ws.Duration(it.Duration)}, {w.Type, w.Types[it.Type]}, {w.Transfer, transfer},
		}})
	}
	return out
}

// Details returns the artifact of a version's item details in lang, the
// JSON the second layer loads when it is first opened.
func (b *Builder) Details(v *siteconfig.Version, lang string) (*Artifact, error) {
	if !v.Config.HasLanguage(lang) {
		lang = v.Config.DefaultLanguage
	}
	return b.build(artifactKey{v.Site, v.Number, lang}, func() ([]byte, error) {
		raw, err := json.Marshal(DetailsOf(v.Config, lang))
		if err != nil {
			return nil, fmt.Errorf("banner: details: %w", err)
		}
		return raw, nil
	})
}
