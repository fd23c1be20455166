package siteconfig

import "testing"

func TestFingerprint(t *testing.T) {
	base := func() *Config {
		return &Config{
			Languages:  []string{"sv", "en"},
			Categories: []Category{{ID: NecessaryID, Title: Localized{"sv": "Nödvändiga", "en": "Necessary"}}},
			Texts:      map[string]Texts{"sv": {Title: "Kakor"}, "en": {Title: "Cookies"}},
			Appearance: Appearance{Position: "bottom", Background: "#ffffff"},
			Controller: Controller{Name: "Demo AB", Email: "a@example.se"},
		}
	}
	want := base().Fingerprint()
	if len(want) != 16 {
		t.Fatalf("fingerprint %q: want 16 hex digits", want)
	}
	for name, tc := range map[string]struct {
		change func(c *Config)
		same   bool
	}{
		"appearance":      {func(c *Config) { c.Appearance.Background = "#000000" }, true},
		"allowed origins": {func(c *Config) { c.AllowedOrigins = []string{"https://x.se"} }, true},
		"retention":       {func(c *Config) { c.Consent.RetentionMonths = 12 }, true},
		"text":            {func(c *Config) { c.Texts["en"] = Texts{Title: "Cookies!"} }, false},
		"category":        {func(c *Config) { c.Categories[0].Title["en"] = "Required" }, false},
		"item":            {func(c *Config) { c.Items = []Item{{Name: "_ga"}} }, false},
		"controller":      {func(c *Config) { c.Controller.Name = "Other AB" }, false},
	} {
		c := base()
		tc.change(c)
		if got := c.Fingerprint(); (got == want) != tc.same {
			t.Errorf("%s: fingerprint %s vs %s, want same=%v", name, got, want, tc.same)
		}
	}
}
