package siteconfig

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// The schema says what shape a value has; these say whether it means
// something: a font family the browser parses, a duration that lasts, a
// link a visitor can follow without running script.

// checkFontFamily parses a CSS font-family list: comma-separated families,
// each a quoted string or a sequence of identifiers. A stray quote would
// end the banner's whole stylesheet, so it is refused with where it is.
func checkFontFamily(s string) error {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	for i, fam := range splitFamilies(s) {
		fam = strings.TrimSpace(fam)
		switch {
		case fam == "":
			return fmt.Errorf("font %d is empty: remove the extra comma", i+1)
		case fam[0] == '"' || fam[0] == '\'':
			q := fam[0]
			if len(fam) < 2 || fam[len(fam)-1] != q || strings.IndexByte(fam[1:len(fam)-1], q) >= 0 {
				return fmt.Errorf("the quote that opens %s is not closed: write it as %c…%c", fam, q, q)
			}
		default:
			for _, word := range strings.Fields(fam) {
				if !cssIdent.MatchString(word) {
					return fmt.Errorf("%q is not a font name: put a name with spaces, digits or quotes in quotes, like \"Open Sans\"", fam)
				}
			}
		}
	}
	return nil
}

var cssIdent = regexp.MustCompile(`^-?[A-Za-z_][A-Za-z0-9_-]*$`)

// splitFamilies splits at commas outside quotes; an unclosed quote keeps
// the rest of the list in one family, where checkFontFamily finds it.
func splitFamilies(s string) []string {
	var out []string
	var quote byte
	start := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '"' || c == '\''):
			quote = c
		case quote == 0 && c == ',':
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

var isoDuration = regexp.MustCompile(`^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$`)

// checkDuration refuses an ISO 8601 duration without any amount (P, PT)
// or one that lasts nothing (P0D): the notice would show no lifetime.
func checkDuration(s string) error {
	if s == "session" || s == "persistent" {
		return nil
	}
	m := isoDuration.FindStringSubmatch(s)
	if m == nil {
		return fmt.Errorf("write session, persistent, or a length like P13M (13 months), P30D (30 days) or PT30M (30 minutes)")
	}
	if strings.HasSuffix(s, "T") {
		return fmt.Errorf("%q has a T with no hours, minutes or seconds after it", s)
	}
	some := false
	for _, n := range m[1:] {
		if n != "" && strings.Trim(n, "0") != "" {
			some = true
		}
	}
	if !some {
		return fmt.Errorf("%q lasts no time: give an amount, like P13M (13 months) or PT30M (30 minutes)", s)
	}
	return nil
}

// checkLink accepts absolute http(s) links to a host, and mailto:.
func checkLink(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("not a link: %v", err)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		if u.Host == "" {
			return fmt.Errorf("a web address needs a host, like https://www.example.se/integritet")
		}
	case "mailto":
		if u.Opaque == "" {
			return fmt.Errorf("mailto: needs an address")
		}
	case "":
		return fmt.Errorf("write the whole address, starting with https://")
	default:
		return fmt.Errorf("only https://, http:// and mailto: links are allowed, not %q", u.Scheme+":")
	}
	return nil
}

// meaning adds the problems of values whose shape is right but whose
// meaning is not.
func (c *Config) meaning(add func(field, format string, args ...any)) {
	if err := checkFontFamily(c.Appearance.FontFamily); err != nil {
		add("/appearance/font_family", "%v", err)
	}
	for i, it := range c.Items {
		if err := checkDuration(it.Duration); err != nil {
			add(fmt.Sprintf("/items/%d/duration", i), "%v", err)
		}
	}
	if u := c.Controller.PrivacyPolicyURL; u != "" {
		if err := checkLink(u); err != nil {
			add("/controller/privacy_policy_url", "%v", err)
		}
	}
}
