package scan

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// suggester drafts declarations that fit the site's configuration: its
// categories and languages, so that a suggestion added to the
// configuration is valid as it stands (the owner still has to check it).
type suggester struct {
	cfg  *siteconfig.Config
	cats map[string]bool
	last string // the last category: where what is unknown goes, refused until consent
}

func newSuggester(cfg *siteconfig.Config) *suggester {
	s := &suggester{cfg: cfg, cats: map[string]bool{}, last: siteconfig.NecessaryID}
	for _, c := range cfg.Categories {
		s.cats[c.ID] = true
		s.last = c.ID
	}
	return s
}

// category picks the site's category for a usual one. A third party's
// "functional" cookie becomes a preference: necessity is the site's claim
// to make, not a database's.
func (s *suggester) category(usual, party string) string {
	if usual == siteconfig.NecessaryID && party == "third" {
		usual = "preferences"
	}
	if usual == siteconfig.NecessaryID || (usual != "" && s.cats[usual]) {
		return usual
	}
	return s.last
}

// owner is the site's own name for what it runs itself.
func (s *suggester) owner() string {
	if s.cfg.Controller.Name != "" {
		return s.cfg.Controller.Name
	}
	if s.cfg.Name != "" {
		return s.cfg.Name
	}
	return "?"
}

// Generic purposes per category, for entries known only in English.
var purposeSV = map[string]string{
	"necessary":   "krävs för att webbplatsen ska fungera.",
	"preferences": "kommer ihåg inställningar och val.",
	"statistics":  "besöksstatistik: mäter hur webbplatsen används.",
	"marketing":   "marknadsföring: känner igen webbläsaren för annonser och mätning.",
}

var purposeEN = map[string]string{
	"necessary":   "required for the site to work.",
	"preferences": "remembers settings and choices.",
	"statistics":  "usage statistics: measures how the site is used.",
	"marketing":   "marketing: recognises the browser for advertising and measurement.",
}

const (
	unknownSV = "Okänt ändamål: beskriv vad den används till."
	unknownEN = "Unknown purpose: describe what it is used for."
)

// purpose is one text per configured language; languages other than
// Swedish get the English text to translate.
func (s *suggester) purpose(e *entry) siteconfig.Localized {
	sv, en := unknownSV, unknownEN
	if e != nil {
		en = e.en
		if en == "" {
			en = e.platform + ": " + purposeEN[e.category]
		}
		sv = e.sv
		if sv == "" {
			sv = e.platform + ": " + purposeSV[e.category]
		}
	}
	en, sv = clip(en, 4000), clip(sv, 4000)
	out := siteconfig.Localized{}
	for _, l := range s.cfg.Languages {
		if l == "sv" {
			out[l] = sv
		} else {
			out[l] = en
		}
	}
	if len(out) == 0 {
		out["sv"], out["en"] = sv, en
	}
	return out
}

// item drafts a declaration for an observed item.
func (s *suggester) item(o *Observed, now time.Time) *siteconfig.Item {
	e := lookupName(o.Name, o.Domain)
	if e == nil && o.Party == "third" {
		e = lookupHost(o.Domain, nil)
	}
	it := &siteconfig.Item{Name: o.Name, Type: o.Type, Party: o.Party, Duration: lifetime(o, e, now)}
	if o.Party == "third" {
		it.Domain = o.Domain
	}
	it.Name, it.Pattern = declaredName(o.Name, e)
	s.fill(it, e, o.Party, o.Domain)
	return it
}

// host drafts a declaration for requests to a third-party host: a pixel
// (the configuration's type for a request that stores nothing itself) on
// that domain.
func (s *suggester) host(h string, paths []string) *siteconfig.Item {
	e := lookupHost(h, paths)
	it := &siteconfig.Item{Name: h, Type: "pixel", Party: "third", Domain: h, Duration: "session"}
	s.fill(it, e, "third", h)
	return it
}

func (s *suggester) fill(it *siteconfig.Item, e *entry, party, domain string) {
	it.Purpose = s.purpose(e)
	switch {
	case e != nil && e.provider != "":
		it.Provider = clip(e.provider, 200)
	case (e != nil && e.builtin) || party == "first":
		it.Provider = clip(s.owner(), 200)
	default:
		it.Provider = clip(domain, 200)
	}
	usual := ""
	if e != nil {
		usual = e.category
		if e.country != "" {
			it.ThirdCountry = siteconfig.ThirdCountry{Transfer: true, Countries: []string{e.country}}
		}
	}
	it.Category = s.category(usual, party)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// instanceToken is a part of a name that differs per site or visitor: a
// long mix of letters and digits, a long number or a long hex string.
var instanceToken = regexp.MustCompile(`[A-Za-z0-9]{6,}`)

// declaredName is the declaration's name and pattern for an observed name:
// instance-named cookies (_ga_ABC123, mp_0f3e…_mixpanel) are declared by
// a pattern that covers every instance, under a name such as _ga_*.
func declaredName(name string, e *entry) (string, string) {
	decl, pattern := name, ""
	switch {
	case e != nil && e.pattern != "":
		decl, pattern = e.declName, e.pattern
	case e != nil && e.prefix && len(name) > len(e.name):
		decl = e.name + "*"
		pattern = "^" + regexp.QuoteMeta(e.name) + charClass(name[len(e.name):]) + "$"
	default:
		var b strings.Builder
		last, found := 0, false
		for _, m := range instanceToken.FindAllStringIndex(name, -1) {
			if tok := name[m[0]:m[1]]; !looksRandom(tok) {
				continue
			}
			if !found {
				b.WriteByte('^')
			}
			found = true
			b.WriteString(regexp.QuoteMeta(name[last:m[0]]))
			b.WriteString(charClass(name[m[0]:m[1]]))
			last = m[1]
		}
		if !found {
			return name, ""
		}
		b.WriteString(regexp.QuoteMeta(name[last:]) + "$")
		pattern = b.String()
		decl = instanceToken.ReplaceAllStringFunc(name, func(tok string) string {
			if looksRandom(tok) {
				return "*"
			}
			return tok
		})
	}
	// A pattern the banner and the scanner would read differently is no
	// suggestion: fall back to the literal name.
	if siteconfig.CheckPattern(pattern) != nil || len(pattern) > 200 || len(decl) > 200 {
		return clip(name, 200), ""
	}
	return decl, pattern
}

// looksRandom: a long number, or a long run with two digits or more.
func looksRandom(tok string) bool {
	digits := 0
	for i := 0; i < len(tok); i++ {
		if tok[i] >= '0' && tok[i] <= '9' {
			digits++
		}
	}
	if digits == len(tok) {
		return len(tok) >= 6
	}
	return digits >= 2 && len(tok) >= 8
}

// charClass is a class covering the kinds of characters in s (upper case,
// lower case, digits, and each other character), repeated.
func charClass(s string) string {
	var upper, lower, digit bool
	var other []rune
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= '0' && r <= '9':
			digit = true
		case r > 0x20 && r < 0x7f:
			if !strings.ContainsRune(string(other), r) {
				other = append(other, r)
			}
		default:
			return ".+"
		}
	}
	var b strings.Builder
	b.WriteByte('[')
	if upper {
		b.WriteString("A-Z")
	}
	if lower {
		b.WriteString("a-z")
	}
	if digit {
		b.WriteString("0-9")
	}
	for _, r := range other {
		if strings.ContainsRune(`\]-^[`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteString("]+")
	return b.String()
}

// chromeCap: Chromium keeps no cookie longer than 400 days, whatever the
// site asked for; a cookie seen with that lifetime may be meant to live
// longer, as the database may say.
const chromeCap = 400 * 24 * time.Hour

// lifetime is the declaration's duration for what was observed. A cookie's
// remaining lifetime is measured from when it was first collected.
func lifetime(o *Observed, e *entry, now time.Time) string {
	switch o.Type {
	case "local_storage", "indexeddb":
		return "persistent"
	case "session_storage":
		return "session"
	}
	if o.Expires == nil {
		return "session"
	}
	if !o.seenAt.IsZero() {
		now = o.seenAt
	}
	d := o.Expires.Sub(now)
	if (d-chromeCap).Abs() <= 24*time.Hour && e != nil && e.retention > chromeCap+24*time.Hour {
		d = e.retention
	}
	return humanDuration(d)
}

// humanDuration rounds a lifetime to what a person would write: PT30M, PT1H,
// P1D, P30D, P6M, P13M, P1Y, P2Y.
func humanDuration(d time.Duration) string {
	if d <= 0 {
		return "session"
	}
	round := func(x float64) int { return int(math.Round(x)) }
	if s := d.Seconds(); s < 59.5 {
		return fmt.Sprintf("PT%dS", max(1, round(s)))
	}
	if m := d.Minutes(); m < 57.5 {
		n := round(m)
		if n >= 10 {
			n = 5 * round(m/5)
		}
		return fmt.Sprintf("PT%dM", n)
	}
	if h := d.Hours(); h < 23.5 {
		// 90 minutes is PT90M, not PT2H; beyond a few hours, whole hours.
		if m := d.Minutes(); h < 3 && math.Abs(m-60*math.Round(h)) > 5 {
			return fmt.Sprintf("PT%dM", 5*round(m/5))
		}
		return fmt.Sprintf("PT%dH", max(1, round(h)))
	}
	days := d.Hours() / 24
	if days < 59.5 {
		return fmt.Sprintf("P%dD", max(1, round(days)))
	}
	// Whole years when the lifetime is within 3% of them (cookies are often
	// set for one or two years), else months.
	if y := round(days / 365.25); y >= 1 && math.Abs(days-float64(y)*365.25) <= 0.03*days {
		return fmt.Sprintf("P%dY", y)
	}
	if m := round(days / 30.44); m != 12 {
		return fmt.Sprintf("P%dM", m)
	}
	return "P1Y"
}
