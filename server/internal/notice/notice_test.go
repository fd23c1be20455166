package notice

import (
	"bytes"
	"encoding/json"
	"html"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/samtycke/samtycke/server/internal/demo"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
	"github.com/samtycke/samtycke/server/internal/testutil"
)

const base = "https://consent.example.se"

func demoVersion(t *testing.T) *siteconfig.Version {
	t.Helper()
	cfg, err := demo.Config(base)
	if err != nil {
		t.Fatal(err)
	}
	js, err := cfg.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	if cfg, err = siteconfig.Parse(js); err != nil {
		t.Fatal(err)
	}
	return &siteconfig.Version{Site: "demo", Number: 3, Hash: siteconfig.Hash(js), JSON: js, Config: cfg,
		PublishedAt: time.Date(2026, 6, 3, 9, 30, 0, 0, time.UTC)}
}

func earlier() []Earlier {
	return []Earlier{{1, time.Date(2026, 1, 15, 8, 0, 0, 0, time.UTC)}, {2, time.Date(2026, 3, 1, 23, 59, 0, 0, time.UTC)}}
}

// visibleText is the page as a reader gets it: tags dropped, entities decoded,
// white space collapsed.
func visibleText(b []byte) string {
	s := regexp.MustCompile(`(?s)<style>.*?</style>|<script.*?</script>`).ReplaceAllString(string(b), " ")
	s = regexp.MustCompile(`<[^>]+>`).ReplaceAllString(s, " ")
	return strings.Join(strings.Fields(html.UnescapeString(s)), " ")
}

// TestRequiredStatements has one row per statement SPEC §4 items 19–20 and
// issue 13 require, per language, checked in the HTML page, the embeddable
// declaration and the JSON document alike.
func TestRequiredStatements(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	v := demoVersion(t)
	type row struct{ what, sv, en string }
	rows := []row{
		{"what cookies are", "En cookie (kaka) är en liten textfil", "A cookie is a small text file"},
		{"local storage is covered", "lokal lagring (localStorage)", "local storage (localStorage)"},
		{"pixels are covered", "spårningspixlar", "tracking pixels"},
		{"fingerprinting is covered", "fingeravtryckstekniker (fingerprinting)", "fingerprinting"},
		{"the law that applies", "9 kap. 28 § lagen (2022:482) om elektronisk kommunikation", "Chapter 9, Section 28 of the Swedish Electronic Communications Act (lagen (2022:482) om elektronisk kommunikation)"},
		{"the law it replaced, and when", "Bestämmelsen ersatte den 3 juni 2022 den tidigare regeln i 6 kap. 18 § lagen (2003:389)", "replaced the earlier rule in Chapter 6, Section 18 of the former Electronic Communications Act (2003:389) on 3 June 2022"},
		{"exemption for necessary items", "9 kap. 28 § andra stycket", "Chapter 9, Section 28, second paragraph"},
		{"Planet49", "mål C-673/17, Planet49", "case C-673/17, Planet49"},
		{"legal basis: consent, art. 6.1 a", "artikel 6.1 a GDPR", "Article 6(1)(a) GDPR"},
		{"conditions of consent, art. 7", "uppfyller villkoren i artikel 7 GDPR", "meets the conditions of Article 7 GDPR"},
		{"withdrawal as easy as consent", "lika enkelt som att lämna det (artikel 7.3 GDPR)", "as easy as giving it (Article 7(3) GDPR)"},
		{"no cookie wall", "du kan använda webbplatsen även om du säger nej", "you can use the site even if you say no"},
		{"how to change or withdraw", "med knappen eller länken ”Cookieinställningar” som finns på varje sida", "with the “Cookie settings” button or link on every page"},
		{"how long a choice lasts", "i 6 månader", "for 6 months"},
		{"refusals kept as long", "Ett nej sparas lika länge som ett ja", "A refusal is kept exactly as long as an acceptance"},
		{"consent ID", "samtyckes-ID", "consent ID"},
		{"browsers: Chrome", "Google Chrome", "Google Chrome"},
		{"browsers: Firefox", "Mozilla Firefox", "Mozilla Firefox"},
		{"browsers: Safari", "Safari på iPhone och iPad", "Safari on iPhone and iPad"},
		{"browsers: Edge", "Microsoft Edge", "Microsoft Edge"},
		{"controller", "Demobutiken AB (org.nr 556000-0000) är personuppgiftsansvarig", "Demobutiken AB (org. no. 556000-0000) is the controller"},
		{"controller address", "Storgatan 1, 111 22 Stockholm", "Storgatan 1, 111 22 Stockholm"},
		{"controller contact", "integritet@demobutiken.example", "integritet@demobutiken.example"},
		{"data protection officer", "dataskydd@demobutiken.example", "dataskydd@demobutiken.example"},
		{"rights", "att få uppgifter raderade (artikel 17)", "to have data erased (Article 17)"},
		{"right to complain to IMY", "lämna in ett klagomål till Integritetsskyddsmyndigheten (IMY)", "lodge a complaint with the Swedish Authority for Privacy Protection (Integritetsskyddsmyndigheten, IMY)"},
		{"IMY's address", "Box 8114, 104 20 Stockholm", "Box 8114, 104 20 Stockholm"},
		{"IMY's site", "imy.se", "imy.se"},
		{"PTS supervises the cookie rules", "Post- och telestyrelsen (PTS)", "Swedish Post and Telecom Authority (PTS)"},
		{"time to answer", "senast inom en månad", "within one month at the latest"},
		{"how to exercise the rights", "Kontakta oss på integritet@demobutiken.example", "Contact us at integritet@demobutiken.example"},
		{"contents of the consent log", "Loggen innehåller aldrig din fullständiga IP-adress", "The log never contains your full IP address"},
		{"how long consent records are kept", "Uppgifterna sparas i 24 månader", "The records are kept for 24 months"},
		{"version", "version 3 av cookiepolicyn för Demobutiken", "version 3 of the cookie notice for Demobutiken"},
		{"effective date", "i kraft från och med den 3 juni 2026", "effective from 3 June 2026"},
		{"version hash", v.Hash, v.Hash},
		{"third-country transfer and safeguard", "Ja, till USA. Skyddsåtgärd: EU-US Data Privacy Framework.", "Yes, to the United States. Safeguard: EU-US Data Privacy Framework."},
		{"no transfer", "Nej", "No"},
		{"first party", "Förstapart", "First party"},
		{"third party", "Tredjepart", "Third party"},
		{"necessary needs no consent", "Kräver inte samtycke: undantaget i 9 kap. 28 § andra stycket", "No consent needed: the exemption in Chapter 9, Section 28, second paragraph"},
		{"the others need consent", "Används bara med ditt samtycke", "Used only with your consent"},
		{"lifetime: session", "sessionen", "the session"},
		{"lifetime: months", "13 månader", "13 months"},
		{"lifetime: years", "2 år", "2 years"},
		{"lifetime: days", "30 dagar", "30 days"},
		{"lifetime: persistent", "tills du raderar den", "until you delete it"},
		{"type: local storage", "Lokal lagring (localStorage)", "Local storage (localStorage)"},
		{"type: pixel", "Spårningspixel", "Tracking pixel"},
	}
	// Every item of the configuration, with its own texts.
	c := v.Config
	for _, it := range c.Items {
		rows = append(rows,
			row{"item name " + it.Name, it.Name, it.Name},
			row{"item provider " + it.Name, it.Provider, it.Provider},
			row{"item purpose " + it.Name, it.Purpose["sv"], it.Purpose["en"]},
			row{"item lifetime " + it.Name, Lifetime("sv", it.Duration), Lifetime("en", it.Duration)})
		if it.Collects != nil {
			rows = append(rows, row{"item collects " + it.Name, it.Collects["sv"], it.Collects["en"]})
		}
		if it.ThirdPartyAccess != nil {
			rows = append(rows, row{"item third-party access " + it.Name, it.ThirdPartyAccess["sv"], it.ThirdPartyAccess["en"]})
		}
	}
	for _, cat := range c.Categories {
		rows = append(rows, row{"category " + cat.ID, cat.Title["sv"], cat.Title["en"]},
			row{"category description " + cat.ID, cat.Description["sv"], cat.Description["en"]})
		if cat.Justification != nil {
			rows = append(rows, row{"necessary justification", cat.Justification["sv"], cat.Justification["en"]})
		}
	}
	for _, lang := range []string{"sv", "en"} {
		d := Build(Input{Version: v, Lang: lang, Earlier: earlier(), PublicBase: base})
		page, err := r.HTML(d, base)
		if err != nil {
			t.Fatal(err)
		}
		emb, err := r.Embed(d, base)
		if err != nil {
			t.Fatal(err)
		}
		var e struct{ HTML, CSS string }
		if err := json.Unmarshal(emb, &e); err != nil {
			t.Fatal(err)
		}
		js, err := r.JSON(d)
		if err != nil {
			t.Fatal(err)
		}
		forms := map[string]string{"html": visibleText(page), "embed": visibleText([]byte(e.HTML)), "json": string(js)}
		for _, rw := range rows {
			want := rw.sv
			if lang == "en" {
				want = rw.en
			}
			for form, got := range forms {
				if form == "json" {
					b, err := json.Marshal(want)
					if err != nil {
						t.Fatal(err)
					}
					want := strings.Trim(string(b), `"`)
					if !strings.Contains(got, want) {
						t.Errorf("%s %s: %s: missing %q", lang, form, rw.what, want)
					}
					continue
				}
				if !strings.Contains(got, want) {
					t.Errorf("%s %s: %s: missing %q", lang, form, rw.what, want)
				}
			}
		}
		// Every necessary item carries a justification (SPEC §4 item 20).
		for _, cat := range d.Categories {
			for _, it := range cat.Items {
				if cat.Necessary && it.Justification == "" {
					t.Errorf("%s: necessary item %s has no justification", lang, it.Name)
				}
			}
		}
		// Links to every earlier version, newest first.
		for _, n := range []string{"2", "1"} {
			if !bytes.Contains(page, []byte(base+"/s/demo/cookies/v/"+n+"?lang="+lang)) {
				t.Errorf("%s: no link to version %s", lang, n)
			}
		}
		if !strings.Contains(e.HTML, "data-samtycke-open") || strings.Contains(e.HTML, "<script") || strings.Contains(e.HTML, "style=") {
			t.Errorf("%s: the embed must have a data-samtycke-open button, no script and no style attribute", lang)
		}
		if strings.Contains(string(page), "style=") || bytes.Contains(page, []byte("src=\"http")) {
			t.Errorf("%s: the page has an inline style attribute or loads something from elsewhere", lang)
		}
		testutil.SaveArtifact(t, "notice-"+lang+".html", page)
	}
}

// TestDeterministic: the same version renders to the same bytes, whatever
// is published after it (later versions are never listed).
func TestDeterministic(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	v := demoVersion(t)
	a, err := r.HTML(Build(Input{Version: v, Lang: "sv", Earlier: earlier(), PublicBase: base}), base)
	if err != nil {
		t.Fatal(err)
	}
	later := append(earlier(), Earlier{4, time.Now()}, Earlier{3, v.PublishedAt})
	b, err := r.HTML(Build(Input{Version: v, Lang: "sv", Earlier: later, PublicBase: base}), base)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("rendering the same version twice gave different bytes")
	}
}

func TestSchema(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("../../../schemas/cookie-notice.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("cookie-notice.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("cookie-notice.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"sv", "en"} {
		for _, e := range [][]Earlier{nil, earlier()} {
			js, err := r.JSON(Build(Input{Version: demoVersion(t), Lang: lang, Earlier: e, PublicBase: base}))
			if err != nil {
				t.Fatal(err)
			}
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(inst); err != nil {
				t.Errorf("%s: %v", lang, err)
			}
		}
	}
	// The schema is strict: a document without its legal sections fails.
	var bad map[string]any
	js, err := r.JSON(Build(Input{Version: demoVersion(t), Lang: "sv", PublicBase: base}))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(js, &bad); err != nil {
		t.Fatal(err)
	}
	delete(bad, "controller")
	if err := sch.Validate(bad); err == nil {
		t.Error("a document without a controller passed the schema")
	}
}

func TestLifetime(t *testing.T) {
	for _, tt := range []struct{ lang, in, want string }{
		{"sv", "P6M", "6 månader"}, {"sv", "P1M", "1 månad"}, {"sv", "session", "sessionen"},
		{"sv", "P1Y6M", "1 år och 6 månader"}, {"en", "P1Y6M", "1 year and 6 months"},
		{"en", "PT30M", "30 minutes"}, {"sv", "P1DT2H", "1 dag och 2 timmar"}, {"en", "P2W", "2 weeks"},
		{"en", "P1Y2M3D", "1 year, 2 months and 3 days"}, {"en", "persistent", "until you delete it"},
		{"de", "P1Y", "1 year"},
	} {
		if got := Lifetime(tt.lang, tt.in); got != tt.want {
			t.Errorf("Lifetime(%s, %s) = %q, want %q", tt.lang, tt.in, got, tt.want)
		}
	}
	for _, tt := range []struct {
		n    int
		want string
	}{{182, "6 månader"}, {395, "13 månader"}, {1, "1 dag"}, {45, "45 dagar"}, {30, "1 månad"}} {
		if got := days("sv", tt.n); got != tt.want {
			t.Errorf("days(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

// TestOtherLanguage: a language the site configures beyond Swedish and
// English gets the whole notice in English, never a mix.
func TestOtherLanguage(t *testing.T) {
	v := demoVersion(t)
	v.Config.Languages = append(v.Config.Languages, "de")
	d := Build(Input{Version: v, Lang: "de", PublicBase: base})
	if d.Lang != "en" || d.Categories[0].Title != "Necessary" || !strings.Contains(d.Sections[0].Title, "cookie notice") {
		t.Errorf("lang %s, %q, %q", d.Lang, d.Categories[0].Title, d.Sections[0].Title)
	}
}
