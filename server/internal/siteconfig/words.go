package siteconfig

import (
	"fmt"
	"path"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// The validator's own messages name its keywords ("minLength: got 0, want
// 1") and print the schema's regular expressions. These say the same in
// words an owner reads, and what the field should hold.

// patternWords describes each patterned field by the last step of its
// pointer (array indexes dropped).
var patternWords = map[string]string{
	"background": "a colour like #1d4ed8", "text": "a colour like #16191d", "button_background": "a colour like #1d4ed8",
	"button_text": "a colour like #ffffff", "countries": "a two-letter country code in capitals, like US",
	"id": "lowercase letters, digits and hyphens, starting with a letter", "languages": "a language code like sv or en",
	"default_language": "a language code like sv or en", "duration": "session, persistent, or a length like P13M or PT30M",
	"font_family":     "font names separated by commas (letters, digits, spaces, quotes and hyphens only)",
	"allowed_origins": "an origin like https://www.example.se, without a path", "cookie_domain": "a domain like example.se",
	"org_number": "an organisation number like 556677-8899",
}

// fieldName is the step of ptr that names the field ("/items/0/duration" →
// "duration", "/languages/2" → "languages").
func fieldName(ptr string) string {
	parts := strings.Split(strings.Trim(ptr, "/"), "/")
	for i := len(parts) - 1; i >= 0; i-- {
		if p := parts[i]; p != "" && strings.Trim(p, "0123456789") != "" {
			return p
		}
	}
	return ""
}

// schemaWords turns one leaf of the validator's tree into problems.
func schemaWords(ptr string, e *jsonschema.ValidationError) []Problem {
	one := func(format string, args ...any) []Problem { return []Problem{{ptr, fmt.Sprintf(format, args...)}} }
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		out := make([]Problem, len(k.Missing))
		for i, m := range k.Missing {
			out[i] = Problem{path.Join(ptr, m), "required"}
			if ptr == "" {
				out[i].Field = "/" + m
			}
		}
		return out
	case *kind.MinLength:
		if k.Want == 1 {
			return one("required: fill it in")
		}
		return one("too short: at least %d characters (now %d)", k.Want, k.Got)
	case *kind.MaxLength:
		return one("too long: at most %d characters (now %d)", k.Want, k.Got)
	case *kind.Pattern:
		if w, ok := patternWords[fieldName(ptr)]; ok {
			return one("%q is not %s", k.Got, w)
		}
		return one("%q is not in the expected form", k.Got)
	case *kind.Enum:
		want := make([]string, len(k.Want))
		for i, w := range k.Want {
			want[i] = fmt.Sprint(w)
		}
		return one("%v is not one of: %s", k.Got, strings.Join(want, ", "))
	case *kind.Type:
		return one("should be %s, not %s", strings.Join(k.Want, " or "), k.Got)
	case *kind.Minimum:
		return one("at least %s", k.Want.RatString())
	case *kind.Maximum:
		return one("at most %s", k.Want.RatString())
	case *kind.MinItems:
		return one("at least %d needed (now %d)", k.Want, k.Got)
	case *kind.MaxItems:
		return one("at most %d allowed (now %d)", k.Want, k.Got)
	case *kind.UniqueItems:
		return one("entries %d and %d are the same", k.Duplicates[0]+1, k.Duplicates[1]+1)
	case *kind.AdditionalProperties:
		return one("unknown field(s): %s", strings.Join(k.Properties, ", "))
	case *kind.Format:
		switch k.Want {
		case "email":
			return one("%v is not an email address", k.Got)
		case "uri":
			return one("%v is not a whole web address like https://www.example.se/integritet", k.Got)
		}
		return one("%v is not a valid %s", k.Got, k.Want)
	}
	return one("%s", e.ErrorKind.LocalizedString(english))
}
