package siteconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/samtycke/samtycke/schemas"
	"github.com/samtycke/samtycke/server/internal/words"
)

// Problem is one reason a configuration is invalid. Field is a JSON Pointer
// into the configuration ("/categories/1/title/en").
type Problem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// InvalidError lists every problem found in a configuration, so an owner can
// fix them all at once.
type InvalidError struct{ Problems []Problem }

func (e *InvalidError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Field + ": " + p.Message
	}
	return "invalid site configuration: " + strings.Join(parts, "; ")
}

var compiled = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemas.SiteConfig))
	if err != nil {
		return nil, fmt.Errorf("site-config schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	const loc = "site-config.schema.json"
	if err := c.AddResource(loc, doc); err != nil {
		return nil, fmt.Errorf("site-config schema: %w", err)
	}
	return c.Compile(loc)
})

// Parse validates data against the JSON Schema and the rules the schema cannot
// express, and returns the configuration. Invalid input yields *InvalidError.
func Parse(data []byte) (*Config, error) {
	sch, err := compiled()
	if err != nil {
		return nil, err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, &InvalidError{[]Problem{{"", "not valid JSON: " + err.Error()}}}
	}
	var ps []Problem
	if err := sch.Validate(inst); err != nil {
		var ve *jsonschema.ValidationError
		if !errors.As(err, &ve) {
			return nil, err
		}
		ps = schemaProblems(ve)
	}
	var c Config
	if err := json.Unmarshal(data, &c); err != nil {
		if len(ps) > 0 {
			return nil, &InvalidError{ps} // a wrong type: the rules cannot be read
		}
		return nil, &InvalidError{[]Problem{{"", err.Error()}}}
	}
	// Every problem at once: the rules' too, except on a field the schema
	// already refused.
	seen := map[string]bool{}
	for _, p := range ps {
		seen[p.Field] = true
	}
	for _, p := range c.check() {
		if !seen[p.Field] {
			ps = append(ps, p)
		}
	}
	if len(ps) > 0 {
		sort.SliceStable(ps, func(i, j int) bool { return ps[i].Field < ps[j].Field })
		return nil, &InvalidError{ps}
	}
	return &c, nil
}

var english = message.NewPrinter(language.English)

// schemaProblems flattens the validator's tree to its leaves: those name the
// exact field and rule.
func schemaProblems(ve *jsonschema.ValidationError) []Problem {
	var out []Problem
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			ptr := ""
			for _, s := range e.InstanceLocation {
				ptr += "/" + strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
			}
			out = append(out, schemaWords(ptr, e)...)
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out
}

// RequiredLanguages must be complete in every configuration.
var RequiredLanguages = []string{"sv", "en"}

// check enforces what JSON Schema cannot: references between fields and
// complete translations.
func (c *Config) check() []Problem {
	var ps []Problem
	add := func(field, format string, args ...any) {
		ps = append(ps, Problem{field, fmt.Sprintf(format, args...)})
	}
	for _, lang := range RequiredLanguages {
		if !c.HasLanguage(lang) {
			add("/languages", "must include %q: Swedish and English texts are always required", lang)
		}
	}
	if !c.HasLanguage(c.DefaultLanguage) {
		add("/default_language", "%q is not one of languages", c.DefaultLanguage)
	}
	for lang := range c.Texts {
		if !c.HasLanguage(lang) {
			add("/texts/"+lang, "texts for %q, which is not one of languages", lang)
		}
	}
	for i, lang := range c.Languages {
		if _, ok := words.For(lang); !ok {
			add(fmt.Sprintf("/languages/%d", i), "the banner has no words of its own in %q (its buttons and labels); it speaks %s",
				lang, strings.Join(words.Languages(), ", "))
		}
		if _, ok := c.Texts[lang]; !ok {
			add("/texts/"+lang, "missing: the banner has no texts in %q", lang)
		}
	}
	complete := func(field string, l Localized) {
		for _, lang := range c.Languages {
			if l[lang] == "" {
				add(field+"/"+lang, "missing translation")
			}
		}
		for lang := range l {
			if !c.HasLanguage(lang) {
				add(field+"/"+lang, "%q is not one of languages", lang)
			}
		}
	}

	cats := map[string]bool{}
	for i, cat := range c.Categories {
		f := fmt.Sprintf("/categories/%d", i)
		if i == 0 && cat.ID != NecessaryID {
			add(f+"/id", "the first category must be %q", NecessaryID)
		}
		if i > 0 && cat.ID == NecessaryID {
			add(f+"/id", "%q must come first", NecessaryID)
		}
		if cats[cat.ID] {
			add(f+"/id", "duplicate category %q", cat.ID)
		}
		cats[cat.ID] = true
		complete(f+"/title", cat.Title)
		complete(f+"/description", cat.Description)
		if cat.ID == NecessaryID {
			if cat.Justification == nil {
				add(f+"/justification", "required: say why these items need no consent")
			} else {
				complete(f+"/justification", cat.Justification)
			}
		} else if cat.Justification != nil {
			add(f+"/justification", "only the necessary category has a justification; the others need consent")
		}
	}
	for i, it := range c.Items {
		f := fmt.Sprintf("/items/%d", i)
		if !cats[it.Category] {
			add(f+"/category", "unknown category %q", it.Category)
		}
		if it.Pattern != "" {
			if err := CheckPattern(it.Pattern); err != nil {
				add(f+"/pattern", "not a regular expression in the syntax the banner and the scanner share: %v", err)
			}
		}
		complete(f+"/purpose", it.Purpose)
		for name, l := range map[string]Localized{"collects": it.Collects, "third_party_access": it.ThirdPartyAccess, "justification": it.Justification} {
			if l != nil {
				complete(f+"/"+name, l)
			}
		}
		if it.Justification != nil && it.Category != NecessaryID {
			add(f+"/justification", "only necessary items carry a justification")
		}
		if it.ThirdCountry.Transfer && len(it.ThirdCountry.Countries) == 0 {
			add(f+"/third_country/countries", "name the countries the data is transferred to")
		}
	}
	if c.ConsentMode != nil {
		for key, cat := range c.ConsentMode.Mapping {
			if !cats[cat] {
				add("/consent_mode/mapping/"+key, "unknown category %q", cat)
			}
		}
	}
	c.meaning(add)                     // font family, durations, links (meaning.go)
	ps = append(ps, c.compliance()...) // equal prominence and contrast (compliance.go)
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Field < ps[j].Field })
	return ps
}
