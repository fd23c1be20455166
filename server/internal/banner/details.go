package banner

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/samtycke/samtycke/server/internal/siteconfig"
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

// detailWords are the labels of the rows, Swedish and English; other
// languages get English labels around the site's own texts.
type detailWords struct {
	provider, party, first, third, purpose, duration, typ, transfer, no, yes, none string
	session, persistent                                                            string
	types                                                                          map[string]string
	// units: year, month, week, day, hour, minute, second as singular/plural.
	units [7][2]string
}

var words = map[string]detailWords{
	"sv": {
		provider: "Leverantör", party: "Part", first: "Förstapart", third: "Tredjepart", purpose: "Ändamål",
		duration: "Lagringstid", typ: "Typ", transfer: "Överföring till tredjeland", no: "Nej", yes: "Ja",
		none: "Inga cookies i den här kategorin.", session: "Tills webbläsaren stängs", persistent: "Tills den raderas",
		types: map[string]string{"cookie": "Cookie", "local_storage": "Lokal lagring", "session_storage": "Sessionslagring",
			"indexeddb": "IndexedDB", "pixel": "Pixel"},
		units: [7][2]string{{"år", "år"}, {"månad", "månader"}, {"vecka", "veckor"}, {"dag", "dagar"},
			{"timme", "timmar"}, {"minut", "minuter"}, {"sekund", "sekunder"}},
	},
	"en": {
		provider: "Provider", party: "Party", first: "First party", third: "Third party", purpose: "Purpose",
		duration: "Duration", typ: "Type", transfer: "Third-country transfer", no: "No", yes: "Yes",
		none: "No cookies in this category.", session: "Until the browser is closed", persistent: "Until deleted",
		types: map[string]string{"cookie": "Cookie", "local_storage": "Local storage", "session_storage": "Session storage",
			"indexeddb": "IndexedDB", "pixel": "Pixel"},
		units: [7][2]string{{"year", "years"}, {"month", "months"}, {"week", "weeks"}, {"day", "days"},
			{"hour", "hours"}, {"minute", "minutes"}, {"second", "seconds"}},
	},
}

var isoDuration = regexp.MustCompile(`^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$`)

// Duration words an item's duration: "P2Y" → "2 år", "session" → "Tills webbläsaren stängs".
func (w detailWords) Duration(d string) string {
	switch d {
	case "session":
		return w.session
	case "persistent":
		return w.persistent
	}
	m := isoDuration.FindStringSubmatch(d)
	if m == nil {
		return d
	}
	var parts []string
	for i, n := range m[1:] {
		if n == "" {
			continue
		}
		k, _ := strconv.Atoi(n)
		u := w.units[i][1]
		if k == 1 {
			u = w.units[i][0]
		}
		parts = append(parts, n+" "+u)
	}
	return strings.Join(parts, " ")
}

// DetailsOf words a version's items in lang (the version's default language
// when it has no texts in lang).
func DetailsOf(c *siteconfig.Config, lang string) Details {
	if !c.HasLanguage(lang) {
		lang = c.DefaultLanguage
	}
	w, ok := words[lang]
	if !ok {
		w = words["en"]
	}
	pick := func(l siteconfig.Localized) string {
		if s := l[lang]; s != "" {
			return s
		}
		return l[c.DefaultLanguage]
	}
	out := Details{Items: make([]Detail, 0, len(c.Items)), None: w.none, Descriptions: map[string]string{}}
	for _, cat := range c.Categories {
		out.Descriptions[cat.ID] = pick(cat.Description)
		if cat.ID == siteconfig.NecessaryID {
			out.Justification = pick(cat.Justification)
		}
	}
	for _, it := range c.Items {
		party := w.first
		if it.Party == "third" {
			party = w.third
			if it.Domain != "" {
				party += " (" + it.Domain + ")"
			}
		}
		transfer := w.no
		if tc := it.ThirdCountry; tc.Transfer {
			transfer = w.yes + ": " + strings.Join(tc.Countries, ", ")
			if tc.Safeguard != "" {
				transfer += " (" + tc.Safeguard + ")"
			}
		}
		out.Items = append(out.Items, Detail{Name: it.Name, Category: it.Category, Rows: [][2]string{
			{w.provider, it.Provider}, {w.party, party}, {w.purpose, pick(it.Purpose)},
			{w.duration, w.Duration(it.Duration)}, {w.typ, w.types[it.Type]}, {w.transfer, transfer},
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
	k := artifactKey{v.Site, v.Number, lang}
	b.mu.Lock()
	a := b.artifacts[k]
	b.mu.Unlock()
	if a != nil {
		return a, nil
	}
	raw, err := json.Marshal(DetailsOf(v.Config, lang))
	if err != nil {
		return nil, fmt.Errorf("banner: details: %w", err)
	}
	return b.keep(k, raw)
}
