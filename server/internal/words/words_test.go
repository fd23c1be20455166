package words

import (
	"encoding/json"
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"

	bannerjs "github.com/samtycke/samtycke/banner-js"
)

// The EU's 24 official languages and Norwegian (Bokmål and Nynorsk).
var want = strings.Fields("bg cs da de el en es et fi fr ga hr hu it lt lv mt nl pl pt ro sk sl sv nb nn")

func TestEveryLanguageHasAFile(t *testing.T) {
	have := map[string]bool{}
	for _, l := range Languages() {
		have[l] = true
	}
	for _, l := range want {
		if !have[l] {
			t.Errorf("no words in %s", l)
		}
	}
}

var placeholder = regexp.MustCompile(`\{[a-z]+\}`)

// placeholders lists the {x} in s, sorted.
func placeholders(s string) string {
	p := placeholder.FindAllString(s, -1)
	sort.Strings(p)
	return strings.Join(p, "")
}

// forms are the CLDR plural forms lang uses for whole numbers.
func forms(lang string) map[string]bool {
	out := map[string]bool{}
	for n := 0; n <= 1000; n++ {
		out[Form(plural.Cardinal.MatchPlural(language.Make(lang), n, 0, 0, 0, 0))] = true
	}
	return out
}

// Every file has exactly English's keys, no empty text, English's
// placeholders in each text, and each duration unit in exactly the plural
// forms its language needs, each with one {n} at most.
func TestFilesMatchEnglish(t *testing.T) {
	read := func(name string) map[string]any {
		raw, err := fs.ReadFile(bannerjs.Lang, "lang/"+name)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return m
	}
	en := read("en.json")
	files, err := fs.Glob(bannerjs.Lang, "lang/*.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := strings.TrimPrefix(f, "lang/")
		lang := strings.TrimSuffix(name, ".json")
		checkLike(t, name, lang, "", en, read(name))
	}
}

func checkLike(t *testing.T, file, lang, at string, en, got map[string]any) {
	t.Helper()
	for k := range got {
		if _, ok := en[k]; !ok {
			t.Errorf("%s: %s/%s is not in English", file, at, k)
		}
	}
	for k, ev := range en {
		gv, ok := got[k]
		if !ok {
			t.Errorf("%s: %s/%s is missing", file, at, k)
			continue
		}
		if at == "/details/units" {
			gf, _ := gv.(map[string]any)
			need := forms(lang)
			for f, s := range gf {
				if !need[f] {
					t.Errorf("%s: %s/%s has the plural form %q, which %s does not use", file, at, k, f, lang)
				}
				if s, _ := s.(string); s == "" || strings.Count(s, "{n}") > 1 || placeholders(strings.ReplaceAll(s, "{n}", "")) != "" {
					t.Errorf("%s: %s/%s/%s = %q: want a text with one {n} at most and no other placeholder", file, at, k, f, s)
				}
			}
			for f := range need {
				if _, ok := gf[f]; !ok {
					t.Errorf("%s: %s/%s lacks the plural form %q", file, at, k, f)
				}
			}
			continue
		}
		switch e := ev.(type) {
		case map[string]any:
			g, ok := gv.(map[string]any)
			if !ok {
				t.Errorf("%s: %s/%s is not an object", file, at, k)
				continue
			}
			checkLike(t, file, lang, at+"/"+k, e, g)
		case string:
			g, ok := gv.(string)
			if !ok || strings.TrimSpace(g) == "" {
				t.Errorf("%s: %s/%s is empty or not a text", file, at, k)
			} else if placeholders(g) != placeholders(e) {
				t.Errorf("%s: %s/%s = %q: placeholders %q, English has %q", file, at, k, g, placeholders(g), placeholders(e))
			}
		}
	}
}

func TestFor(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"de", "de"}, {"de-AT", "de"}, {"pt-BR", "pt"}, {"no", "nb"}, {"nn", "nn"}, {"fi", "fi"},
	} {
		s, ok := For(tt.in)
		if !ok || s.Lang != tt.want {
			t.Errorf("For(%q) = %v, %v; want %s", tt.in, s, ok, tt.want)
		}
	}
	if _, ok := For("is"); ok {
		t.Error("For(is) found words; there is no is.json")
	}
	if Or("is").Lang != "en" {
		t.Error("Or(is) should fall back to English")
	}
}

func TestDuration(t *testing.T) {
	for _, tt := range []struct{ lang, in, want string }{
		{"sv", "P2Y", "2 år"},
		{"sv", "P1M", "1 månad"},
		{"sv", "P13M", "13 månader"},
		{"en", "P1Y6M", "1 year 6 months"},
		{"en", "PT30M", "30 minutes"},
		{"en", "P30D", "30 days"},
		{"sv", "session", "Tills webbläsaren stängs"},
		{"en", "persistent", "Until deleted"},
		{"de", "P13M", "13 Monate"},
		{"fi", "P2Y", "2 vuotta"},
		{"pl", "P1Y", "1 rok"},
		{"pl", "P2Y", "2 lata"},
		{"pl", "P5Y", "5 lat"},
		{"pl", "P22D", "22 dni"},
		{"cs", "P3M", "3 měsíce"},
		{"cs", "P13M", "13 měsíců"},
		{"lv", "P21D", "21 diena"},
		{"lv", "P11D", "11 dienu"},
		{"ro", "P20D", "20 de zile"},
		{"sl", "P2Y", "2 leti"},
		{"en", "P99999999999999999999Y", "P99999999999999999999Y"},
		{"en", "about a year", "about a year"},
	} {
		s, ok := For(tt.lang)
		if !ok {
			t.Fatalf("no words in %s", tt.lang)
		}
		if got := s.Duration(tt.in); got != tt.want {
			t.Errorf("%s %s = %q, want %q", tt.lang, tt.in, got, tt.want)
		}
	}
}

// A file with a key the loader does not know fails the start.
func TestLoadRefusesUnknownKeys(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("a file with an unknown key loaded")
		}
	}()
	load(fstest.MapFS{"lang/xx.json": {Data: []byte(`{"banner":{},"details":{"providr":"x"}}`)}})
}
