package siteconfig_test

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

func demoJSON(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile("../demo/site.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDemoConfigIsValid(t *testing.T) {
	b, err := json.Marshal(demoJSON(t))
	if err != nil {
		t.Fatal(err)
	}
	c, err := siteconfig.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.CategoryIDs(), ",") != "necessary,preferences,statistics,marketing" || len(c.Items) < 10 {
		t.Fatalf("the demo site is fixed by SPEC: %v, %d items", c.CategoryIDs(), len(c.Items))
	}
	// Canonical JSON round-trips to the same bytes, so its hash is stable.
	canon, err := c.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	again, err := siteconfig.Parse(canon)
	if err != nil {
		t.Fatal(err)
	}
	canon2, err := again.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	if siteconfig.Hash(canon) != siteconfig.Hash(canon2) {
		t.Fatal("canonical form is not stable")
	}
}

func TestInvalidConfigsNameTheField(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(m map[string]any)
		field  string
		says   string
	}{
		{"swedish missing", func(m map[string]any) { m["languages"] = []any{"en", "de"} }, "/languages", ""},
		{"unknown top-level field", func(m map[string]any) { m["colour"] = "red" }, "", "colour"},
		{"bad colour", func(m map[string]any) { m["appearance"].(map[string]any)["button_background"] = "blue" }, "/appearance/button_background", ""},
		{"lifetime over 13 months", func(m map[string]any) { m["consent"].(map[string]any)["lifetime_days"] = 400 }, "/consent/lifetime_days", ""},
		{"origin with path", func(m map[string]any) { m["allowed_origins"] = []any{"https://shop.example/path"} }, "/allowed_origins/0", ""},
		{"necessary not first", func(m map[string]any) {
			c := m["categories"].([]any)
			c[0], c[1] = c[1], c[0]
		}, "/categories/0/id", "must be \"necessary\""},
		{"missing translation", func(m map[string]any) {
			delete(m["categories"].([]any)[2].(map[string]any)["title"].(map[string]any), "en")
		}, "/categories/2/title/en", "missing translation"},
		{"item in unknown category", func(m map[string]any) {
			m["items"].([]any)[0].(map[string]any)["category"] = "ads"
		}, "/items/0/category", "unknown category"},
		{"bad pattern", func(m map[string]any) { m["items"].([]any)[1].(map[string]any)["pattern"] = "(" }, "/items/1/pattern", "regular expression"},
		{"necessary without justification", func(m map[string]any) {
			delete(m["categories"].([]any)[0].(map[string]any), "justification")
		}, "/categories/0/justification", "required"},
		{"transfer without countries", func(m map[string]any) {
			m["items"].([]any)[5].(map[string]any)["third_country"] = map[string]any{"transfer": true}
		}, "/items/5/third_country/countries", ""},
		{"consent mode to unknown category", func(m map[string]any) {
			m["consent_mode"].(map[string]any)["mapping"].(map[string]any)["ad_storage"] = "ads"
		}, "/consent_mode/mapping/ad_storage", "unknown category"},
		{"texts missing for a language", func(m map[string]any) { delete(m["texts"].(map[string]any), "en") }, "/texts/en", "missing"},
		{"a language the banner has no words in", func(m map[string]any) { addLanguage(m, "is") }, "/languages/2", "no words of its own in \"is\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := demoJSON(t)
			tt.mutate(m)
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			_, err = siteconfig.Parse(b)
			var ie *siteconfig.InvalidError
			if !errors.As(err, &ie) {
				t.Fatalf("want *InvalidError, got %v", err)
			}
			for _, p := range ie.Problems {
				if p.Field == tt.field && strings.Contains(p.Message, tt.says) {
					return
				}
			}
			t.Fatalf("no problem at %q saying %q; got %+v", tt.field, tt.says, ie.Problems)
		})
	}
	if _, err := siteconfig.Parse([]byte(`{"name":`)); err == nil {
		t.Error("truncated JSON accepted")
	}
}

// addLanguage gives m the language lang, its texts copied from English.
func addLanguage(m map[string]any, lang string) {
	m["languages"] = append(m["languages"].([]any), lang)
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if en, ok := v["en"]; ok {
				if _, sv := v["sv"]; sv {
					v[lang] = en
					return
				}
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
}

// Every language the banner has words in may be configured, also by region.
func TestLanguagesWithWords(t *testing.T) {
	m := demoJSON(t)
	for _, l := range []string{"de", "fi", "nb", "nn", "ga", "mt", "pt-BR"} {
		addLanguage(m, l)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := siteconfig.Parse(b); err != nil {
		t.Fatal(err)
	}
}

// FuzzParse: no configuration, however malformed, may panic the validator.
func FuzzParse(f *testing.F) {
	b, err := os.ReadFile("../demo/site.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"categories":[{"id":"necessary"}],"items":[{"pattern":"("}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := siteconfig.Parse(data)
		if err == nil {
			if _, err := c.Canonical(); err != nil {
				t.Fatal(err)
			}
		}
	})
}
