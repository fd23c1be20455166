package siteconfig_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

func problemsOf(t *testing.T, m map[string]any) map[string]string {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	_, err = siteconfig.Parse(b)
	var ie *siteconfig.InvalidError
	if err != nil && !errors.As(err, &ie) {
		t.Fatal(err)
	}
	out := map[string]string{}
	if ie != nil {
		for _, p := range ie.Problems {
			out[p.Field] += p.Message
		}
	}
	return out
}

// Values of the right shape that mean nothing, or something dangerous, are
// refused with a message in words, at their field.
func TestValuesAreCheckedForMeaning(t *testing.T) {
	item0 := func(m map[string]any) map[string]any { return m["items"].([]any)[0].(map[string]any) }
	tests := []struct {
		name, field, value, says string
		set                      func(m map[string]any, v string)
	}{
		{"font family with one missing quote", "/appearance/font_family", `"Open Sans, sans-serif`, "not closed",
			func(m map[string]any, v string) { m["appearance"].(map[string]any)["font_family"] = v }},
		{"font family with an unquoted digit", "/appearance/font_family", `Font 2, serif`, "not a font name",
			func(m map[string]any, v string) { m["appearance"].(map[string]any)["font_family"] = v }},
		{"font family with an empty entry", "/appearance/font_family", `Arial,, serif`, "extra comma",
			func(m map[string]any, v string) { m["appearance"].(map[string]any)["font_family"] = v }},
		{"duration P", "/items/0/duration", "P", "lasts no time", func(m map[string]any, v string) { item0(m)["duration"] = v }},
		{"duration PT", "/items/0/duration", "PT", "T with no hours", func(m map[string]any, v string) { item0(m)["duration"] = v }},
		{"duration P0D", "/items/0/duration", "P0D", "lasts no time", func(m map[string]any, v string) { item0(m)["duration"] = v }},
		{"javascript link", "/controller/privacy_policy_url", "javascript:alert(1)", "only https://",
			func(m map[string]any, v string) { m["controller"].(map[string]any)["privacy_policy_url"] = v }},
		{"ftp link", "/controller/privacy_policy_url", "ftp://example.se/x", "only https://",
			func(m map[string]any, v string) { m["controller"].(map[string]any)["privacy_policy_url"] = v }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := demoJSON(t)
			tt.set(m, tt.value)
			ps := problemsOf(t, m)
			if !strings.Contains(ps[tt.field], tt.says) {
				t.Errorf("%s = %q: problems %v", tt.field, tt.value, ps)
			}
		})
	}
	for _, ok := range []struct{ field, value string }{
		{"font", `"Open Sans", 'Segoe UI', system-ui, sans-serif`}, {"duration", "PT30M"}, {"duration", "P1Y2M"},
		{"link", "https://www.example.se/integritet"}, {"link", "mailto:dpo@example.se"},
	} {
		m := demoJSON(t)
		switch ok.field {
		case "font":
			m["appearance"].(map[string]any)["font_family"] = ok.value
		case "duration":
			item0(m)["duration"] = ok.value
		case "link":
			m["controller"].(map[string]any)["privacy_policy_url"] = ok.value
		}
		if ps := problemsOf(t, m); len(ps) > 0 {
			t.Errorf("%s %q refused: %v", ok.field, ok.value, ps)
		}
	}
}

// A schema problem does not hide the rules' problems, and neither speaks
// the validator's keywords or prints a regular expression.
func TestEveryProblemAtOnceInWords(t *testing.T) {
	m := demoJSON(t)
	m["name"] = ""                                                                   // schema: minLength
	m["appearance"].(map[string]any)["background"] = "blue"                          // schema: pattern
	m["appearance"].(map[string]any)["text"] = "#ffffff"                             // rule: contrast on the demo's white
	m["categories"].([]any)[1].(map[string]any)["title"].(map[string]any)["en"] = "" // rule: missing translation
	ps := problemsOf(t, m)
	for _, f := range []string{"/name", "/appearance/background", "/categories/1/title/en"} {
		if ps[f] == "" {
			t.Errorf("no problem at %s: %v", f, ps)
		}
	}
	for f, msg := range ps {
		if strings.Contains(msg, "minLength") || strings.Contains(msg, "want") || strings.Contains(msg, "^") || strings.Contains(msg, "pattern") {
			t.Errorf("%s: %q speaks like a validator", f, msg)
		}
	}
	if !strings.Contains(ps["/appearance/background"], "a colour like") {
		t.Errorf("background: %q", ps["/appearance/background"])
	}
}
