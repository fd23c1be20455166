// Package words holds the banner's own words in every language it speaks:
// the controls' labels and ARIA names (inlined into a site's script, for the
// site's languages only) and the labels of the item details the second layer
// loads. They are data, one file per language in banner-js/lang; the site's
// own texts (title, description, the first layer's buttons) come from its
// configuration.
package words

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"

	bannerjs "github.com/samtycke/samtycke/banner-js"
)

// Set is one language's words.
type Set struct {
	Lang string
	// Banner are the words the script needs (key → text), inlined beside the
	// site's texts; "held" carries {p} (the provider) and {c} (the category).
	Banner  map[string]string `json:"banner"`
	Details Details           `json:"details"`
}

// Details are the labels of an item's rows in the second layer.
type Details struct {
	Provider   string `json:"provider"`
	Party      string `json:"party"`
	FirstParty string `json:"first_party"`
	ThirdParty string `json:"third_party"`
	Purpose    string `json:"purpose"`
	Duration   string `json:"duration"`
	Type       string `json:"type"`
	Transfer   string `json:"transfer"`
	No         string `json:"no"`
	Yes        string `json:"yes"`
	// None is said for a category without items.
	None       string            `json:"none"`
	Session    string            `json:"session"`
	Persistent string            `json:"persistent"`
	Types      map[string]string `json:"types"`
	// Units of a duration (year … second), each by CLDR plural form ("one",
	// "few", "other" …) as the language needs them, "{n}" standing for the number.
	Units map[string]map[string]string `json:"units"`
}

// unitOrder follows an ISO 8601 duration's fields.
var unitOrder = [7]string{"year", "month", "week", "day", "hour", "minute", "second"}

var isoDuration = regexp.MustCompile(`^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$`)

var sets = load(bannerjs.Lang)

func load(fsys fs.FS) map[string]*Set {
	files, err := fs.Glob(fsys, "lang/*.json")
	if err != nil || len(files) == 0 {
		panic(fmt.Sprintf("words: no language files (%v)", err))
	}
	out := map[string]*Set{}
	for _, f := range files {
		raw, err := fs.ReadFile(fsys, f)
		if err != nil {
			panic("words: " + err.Error())
		}
		s := &Set{Lang: strings.TrimSuffix(strings.TrimPrefix(f, "lang/"), ".json")}
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(s); err != nil {
			panic(fmt.Sprintf("words: %s: %v", f, err))
		}
		out[s.Lang] = s
	}
	return out
}

// Languages lists the languages the banner has words in, sorted.
func Languages() []string {
	out := make([]string, 0, len(sets))
	for l := range sets {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

// For returns the words of lang: exactly, else of its base language
// ("de-AT" → de), Norwegian "no" as Bokmål.
func For(lang string) (*Set, bool) {
	if s, ok := sets[lang]; ok {
		return s, true
	}
	base, _, _ := strings.Cut(lang, "-")
	if base == "no" {
		base = "nb"
	}
	s, ok := sets[strings.ToLower(base)]
	return s, ok
}

// Or returns the words of lang, or English ones when the banner has none in
// it (only a draft's preview can ask for such a language: validation refuses it).
func Or(lang string) *Set {
	if s, ok := For(lang); ok {
		return s
	}
	return sets["en"]
}

// Form names a CLDR plural form as the files do.
func Form(f plural.Form) string {
	return [...]string{plural.Other: "other", plural.Zero: "zero", plural.One: "one", plural.Two: "two", plural.Few: "few", plural.Many: "many"}[f]
}

// Count says n of a unit ("year" … "second") in the set's language: "2 lata", "5 lat".
func (s *Set) Count(n int, unit string) string {
	forms := s.Details.Units[unit]
	w, ok := forms[Form(plural.Cardinal.MatchPlural(language.Make(s.Lang), n, 0, 0, 0, 0))]
	if !ok {
		w = forms["other"]
	}
	return strings.ReplaceAll(w, "{n}", strconv.Itoa(n))
}

// Duration words an item's duration: "P2Y" → "2 år", "session" → "Tills webbläsaren stängs".
// A value that is not ISO 8601 is shown as it is.
func (s *Set) Duration(d string) string {
	switch d {
	case "session":
		return s.Details.Session
	case "persistent":
		return s.Details.Persistent
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
		k, err := strconv.Atoi(n)
		if err != nil { // more digits than an int holds
			return d
		}
		parts = append(parts, s.Count(k, unitOrder[i]))
	}
	return strings.Join(parts, " ")
}
