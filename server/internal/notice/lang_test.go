package notice

import (
	"encoding/json"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
)

var bracePlaceholder = regexp.MustCompile(`\{[a-z_]+\}`)

// Every language of the notice has English's keys and sections (same ids,
// the same conditional paragraphs and links), no empty text, and English's
// placeholders in each text.
func TestLanguageFilesMatchEnglish(t *testing.T) {
	read := func(l string) map[string]any {
		raw, err := langFiles.ReadFile("lang/" + l + ".json")
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	en := read("en")
	for _, l := range Languages {
		like(t, l, "", en, read(l))
	}
}

func like(t *testing.T, l, at string, en, got any) {
	t.Helper()
	switch e := en.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			t.Errorf("%s: %s is not an object", l, at)
			return
		}
		ek, gk := keys(e), keys(g)
		if !reflect.DeepEqual(ek, gk) {
			t.Errorf("%s: %s has keys %v, English %v", l, at, gk, ek)
		}
		for k, v := range e {
			if k == "url" { // each language links to its own pages
				continue
			}
			if k == "when" || k == "id" {
				if !reflect.DeepEqual(v, g[k]) {
					t.Errorf("%s: %s/%s = %v, English %v", l, at, k, g[k], v)
				}
				continue
			}
			if gv, ok := g[k]; ok {
				like(t, l, at+"/"+k, v, gv)
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(e) {
			t.Errorf("%s: %s has %d entries, English %d", l, at, len(g), len(e))
			return
		}
		for i := range e {
			like(t, l, at, e[i], g[i])
		}
	case string:
		g, _ := got.(string)
		if strings.TrimSpace(g) == "" {
			t.Errorf("%s: %s is empty", l, at)
		} else if p, pe := holes(g), holes(e); p != pe {
			t.Errorf("%s: %s = %q has placeholders %q, English %q", l, at, g, p, pe)
		}
	}
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func holes(s string) string {
	p := bracePlaceholder.FindAllString(s, -1)
	sort.Strings(p)
	return strings.Join(p, "")
}
