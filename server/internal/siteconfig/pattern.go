package siteconfig

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A cookie pattern is read by two engines: the banner runs it as
// new RegExp(pattern) in JavaScript (no flags) to delete cookies on
// withdrawal, and the scanner with Go's regexp to match what it saw. Where
// the two read a construct differently a declaration would cover one set
// of names in the browser and another in the report, so only the subset
// that both read alike is accepted:
//
//	literals, ^ $ . | ( ) (?: ), classes [..] [^..] with ranges,
//	\d \D \w \W, escaped punctuation (\. \- \\ ...), \t \n \r \f \v, \xHH,
//	quantifiers * + ? {n} {n,} {n,m} (n, m <= 1000), each optionally lazy (?).
//
// Everything else is refused by name: backreferences, lookarounds, named
// groups, inline flags, \b \B (JavaScript's [\b] is a backspace), \s (JavaScript's
// includes Unicode spaces), \p{..}, \u, POSIX classes, literal { } ] and
// characters outside the Basic Multilingual Plane (JavaScript without the u
// flag sees them as two UTF-16 units, so a quantifier after one differs).

// PatternError names the construct of a pattern that is outside the syntax
// Go and JavaScript share, and where it is.
type PatternError struct {
	Offset    int    // byte offset in the pattern
	Construct string // as written, e.g. `(?=` or `\b`
	Reason    string
}

func (e *PatternError) Error() string {
	c := "`" + e.Construct + "`"
	if strings.ContainsFunc(e.Construct, func(r rune) bool { return !unicode.IsPrint(r) || r == '`' }) {
		c = strconv.Quote(e.Construct)
	}
	return fmt.Sprintf("%s at offset %d: %s", c, e.Offset, e.Reason)
}

// CompilePattern checks p (CheckPattern) and compiles it for Go with
// JavaScript's meaning: outside a class, . does not match the line
// terminators \r, U+2028 and U+2029 in JavaScript, so it is compiled as a
// class without them (Go's . already excludes \n).
func CompilePattern(p string) (*regexp.Regexp, error) {
	if !utf8.ValidString(p) {
		return nil, &PatternError{0, p, "not valid UTF-8"}
	}
	c := &patternChecker{p: p}
	if err := c.alternation(0); err != nil {
		return nil, err
	}
	return regexp.Compile(goPattern(p))
}

// goPattern rewrites every . outside a class of a checked pattern.
func goPattern(p string) string {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(p); i++ {
		switch ch := p[i]; {
		case ch == '\\' && i+1 < len(p):
			b.WriteString(p[i : i+2])
			i++
		case inClass:
			b.WriteByte(ch)
			inClass = ch != ']'
		case ch == '[':
			b.WriteByte(ch)
			inClass = true
			// A class never starts with ] (CheckPattern refuses it), so
			// the first ] after [ or [^ closes it.
			if i+1 < len(p) && p[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
		case ch == '.':
			b.WriteString(`[^\n\r\x{2028}\x{2029}]`)
		default:
			b.WriteByte(ch)
		}
	}
	return b.String()
}

// maxRepeat is Go's limit on a counted repetition; JavaScript has none.
const maxRepeat = 1000

// CheckPattern reports whether p is in the pattern syntax that Go's regexp
// and JavaScript's RegExp read with the same meaning (see above). The error
// is a *PatternError, or Go's own for a pattern that is in the syntax but
// still too large for it.
func CheckPattern(p string) error {
	_, err := CompilePattern(p)
	return err
}

type patternChecker struct {
	p string
	i int
}

func (c *patternChecker) fail(at int, construct, format string, args ...any) error {
	return &PatternError{at, construct, fmt.Sprintf(format, args...)}
}

// alternation reads sequences separated by | up to the end or the ) that
// closes the group at depth.
func (c *patternChecker) alternation(depth int) error {
	for {
		if err := c.sequence(depth); err != nil {
			return err
		}
		if c.i >= len(c.p) || c.p[c.i] != '|' {
			return nil
		}
		c.i++
	}
}

// atom kinds: what may follow it.
const (
	atomNone       = iota // start of a sequence: nothing to repeat
	atomAnchor            // ^ or $: JavaScript refuses a quantifier after it
	atomRepeatable        // a character, class or group
	atomQuantified        // already has a quantifier
)

func (c *patternChecker) sequence(depth int) error {
	last := atomNone
	for c.i < len(c.p) {
		at := c.i
		ch := c.p[c.i]
		switch ch {
		case '|':
			return nil
		case ')':
			if depth == 0 {
				return c.fail(at, ")", "unmatched ): escape a literal parenthesis as \\)")
			}
			return nil
		case '^', '$':
			c.i++
			last = atomAnchor
		case '.':
			c.i++
			last = atomRepeatable
		case '(':
			if err := c.group(depth); err != nil {
				return err
			}
			last = atomRepeatable
		case '[':
			if err := c.class(); err != nil {
				return err
			}
			last = atomRepeatable
		case '\\':
			if err := c.escape(false); err != nil {
				return err
			}
			last = atomRepeatable
		case '*', '+', '?', '{':
			n, ok, err := c.quantifier()
			if err != nil {
				return err
			}
			if !ok {
				return c.fail(at, "{", "a literal { must be escaped as \\{ (JavaScript and Go differ on braces that are not a quantifier)")
			}
			switch last {
			case atomNone:
				return c.fail(at, c.p[at:at+n], "nothing to repeat")
			case atomAnchor:
				return c.fail(at, c.p[at:at+n], "a quantifier cannot follow the anchor %q", c.p[at-1:at])
			case atomQuantified:
				return c.fail(at, c.p[at:at+n], "a quantifier cannot follow another one (possessive and nested quantifiers are not in the syntax); group the first in (?:…)")
			}
			c.i += n
			if c.i < len(c.p) && c.p[c.i] == '?' { // lazy: the same matches either way
				c.i++
			}
			last = atomQuantified
		case '}', ']':
			return c.fail(at, string(ch), "a literal %c must be escaped as \\%c", ch, ch)
		default:
			if err := c.literal(); err != nil {
				return err
			}
			last = atomRepeatable
		}
	}
	return nil
}

// quantifier measures the quantifier at c.i: its length, or ok false for a
// { that does not start one.
func (c *patternChecker) quantifier() (n int, ok bool, err error) {
	switch c.p[c.i] {
	case '*', '+', '?':
		return 1, true, nil
	}
	end := strings.IndexByte(c.p[c.i:], '}')
	if end < 0 {
		return 0, false, nil
	}
	body := c.p[c.i+1 : c.i+end]
	lo, hi, comma := body, "", false
	if k := strings.IndexByte(body, ','); k >= 0 {
		lo, hi, comma = body[:k], body[k+1:], true
	}
	if !digits(lo) || (hi != "" && !digits(hi)) {
		return 0, false, nil
	}
	min, err1 := strconv.Atoi(lo)
	max := min
	var err2 error
	if hi != "" {
		max, err2 = strconv.Atoi(hi)
	}
	q := c.p[c.i : c.i+end+1]
	if err1 != nil || err2 != nil || min > maxRepeat || max > maxRepeat {
		return 0, false, c.fail(c.i, q, "counts above %d are not accepted by Go", maxRepeat)
	}
	if comma && hi != "" && max < min {
		return 0, false, c.fail(c.i, q, "the counts are out of order")
	}
	return end + 1, true, nil
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func (c *patternChecker) group(depth int) error {
	at := c.i
	rest := c.p[at:]
	switch {
	case strings.HasPrefix(rest, "(?:"):
		c.i += 3
	case strings.HasPrefix(rest, "(?="):
		return c.fail(at, "(?=", "lookahead is not in the syntax: Go's regexp has no lookaround")
	case strings.HasPrefix(rest, "(?!"):
		return c.fail(at, "(?!", "negative lookahead is not in the syntax: Go's regexp has no lookaround")
	case strings.HasPrefix(rest, "(?<="):
		return c.fail(at, "(?<=", "lookbehind is not in the syntax: Go's regexp has no lookaround")
	case strings.HasPrefix(rest, "(?<!"):
		return c.fail(at, "(?<!", "negative lookbehind is not in the syntax: Go's regexp has no lookaround")
	case strings.HasPrefix(rest, "(?<"), strings.HasPrefix(rest, "(?P<"), strings.HasPrefix(rest, "(?P="):
		n := min(len(rest), strings.IndexAny(rest[1:], "<=")+2)
		return c.fail(at, rest[:n], "named groups are not in the syntax: use (…) or (?:…)")
	case strings.HasPrefix(rest, "(?"):
		end := strings.IndexAny(rest, ":)")
		if end < 0 {
			end = len(rest) - 1
		}
		return c.fail(at, rest[:end+1], "inline flags and modifiers are not in the syntax: the banner reads patterns without flags")
	default:
		c.i++
	}
	if err := c.alternation(depth + 1); err != nil {
		return err
	}
	if c.i >= len(c.p) || c.p[c.i] != ')' {
		return c.fail(at, "(", "missing ) to close this group")
	}
	c.i++
	return nil
}

// escape reads a backslash escape.
func (c *patternChecker) escape(inClass bool) error {
	_, err := c.escapeChar(inClass)
	return err
}

// escapeChar reads an escape at c.i; single reports whether it is one
// character (not \d \D \w \W).
func (c *patternChecker) escapeChar(inClass bool) (single bool, err error) {
	at := c.i
	if at+1 >= len(c.p) {
		return false, c.fail(at, `\`, "a pattern cannot end in a backslash")
	}
	r, size := utf8.DecodeRuneInString(c.p[at+1:])
	c.i = at + 1 + size
	construct := c.p[at:c.i]
	switch {
	case strings.ContainsRune(`\^$.|?*+()[]{}/-`, r):
		return true, nil
	case strings.ContainsRune("dDwW", r):
		return false, nil
	case strings.ContainsRune("tnrfv", r):
		return true, nil
	case r == 'x':
		if c.i+2 <= len(c.p) && isHex(c.p[c.i]) && isHex(c.p[c.i+1]) && (c.i+2 == len(c.p) || c.p[c.i+2] != '}') {
			c.i += 2
			return true, nil
		}
		return false, c.fail(at, construct, `write a character code as \x and two hex digits, e.g. \x2d (Go's \x{…} is not read by JavaScript)`)
	case r == 'b' && inClass:
		return false, c.fail(at, construct, `[\b] is a backspace in JavaScript and refused by Go`)
	case r == 'b' || r == 'B':
		return false, c.fail(at, construct, "word boundaries are not in the syntax: JavaScript and Go differ on them; use ^, $ or a class")
	case r >= '0' && r <= '9':
		return false, c.fail(at, construct, "backreferences (and octal escapes) are not in the syntax: JavaScript reads \\1 as a backreference, Go as an octal code")
	case r == 'k':
		return false, c.fail(at, construct, "named backreferences are not in the syntax")
	case r == 'p' || r == 'P':
		n := c.i - at
		if c.i < len(c.p) && c.p[c.i] == '{' {
			if e := strings.IndexByte(c.p[c.i:], '}'); e >= 0 {
				n += e + 1
			}
		}
		return false, c.fail(at, c.p[at:at+n], "Unicode properties are not in the syntax: JavaScript reads them only with the u flag")
	case r == 's' || r == 'S':
		return false, c.fail(at, construct, `\s and \S are not in the syntax: JavaScript's include Unicode spaces, Go's only ASCII ones; write the characters, e.g. [ \t]`)
	case r == 'u':
		return false, c.fail(at, construct, `\u is not read by Go: write the character itself or \xHH`)
	case r == 'c':
		return false, c.fail(at, construct, "control escapes are not in the syntax")
	case strings.ContainsRune("AzQEC", r):
		return false, c.fail(at, construct, "Go-only escapes are not in the syntax: JavaScript reads this as the letter itself")
	}
	return false, c.fail(at, construct, "unknown escape: only punctuation, \\d \\D \\w \\W, \\t \\n \\r \\f \\v and \\xHH may follow a backslash")
}

func isHex(b byte) bool {
	return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F')
}

// literal reads one literal character outside a class.
func (c *patternChecker) literal() error {
	_, err := c.char()
	return err
}

// char reads one literal character: printable, in the Basic Multilingual
// Plane.
func (c *patternChecker) char() (rune, error) {
	at := c.i
	r, size := utf8.DecodeRuneInString(c.p[at:])
	c.i += size
	switch {
	case r < 0x20 || r == 0x7f:
		return r, c.fail(at, c.p[at:c.i], "control characters are not in the syntax: write \\t, \\n or \\xHH")
	case r > 0xffff:
		return r, c.fail(at, c.p[at:c.i], "characters outside the Basic Multilingual Plane are not in the syntax: JavaScript reads them as two UTF-16 units")
	}
	return r, nil
}

// class reads a bracket expression.
func (c *patternChecker) class() error {
	open := c.i
	c.i++
	if c.i < len(c.p) && c.p[c.i] == '^' {
		c.i++
	}
	first := c.i
	if c.i < len(c.p) && c.p[c.i] == ']' {
		return c.fail(open, c.p[open:c.i+1], "empty classes are not in the syntax: JavaScript reads [] as matching nothing and [^] as anything, Go a ] right after [ as a literal; escape it as \\]")
	}
	for {
		if c.i >= len(c.p) {
			return c.fail(open, "[", "missing ] to close this class")
		}
		at := c.i
		switch c.p[at] {
		case ']':
			c.i++
			return nil
		case '[':
			n := 1
			if at+1 < len(c.p) && strings.ContainsRune(":.=", rune(c.p[at+1])) {
				n = 2
			}
			return c.fail(at, c.p[at:at+n], "a [ inside a class must be escaped as \\[ (Go reads [:name:] as a POSIX class, JavaScript as characters)")
		case '-':
			// A literal - first or last, as both read it.
			if at == first || (at+1 < len(c.p) && c.p[at+1] == ']') {
				c.i++
				continue
			}
			return c.fail(at, "-", "a literal - inside a class must be first, last or escaped as \\-")
		}
		single, lo, err := c.classAtom()
		if err != nil {
			return err
		}
		if c.i+1 < len(c.p) && c.p[c.i] == '-' && c.p[c.i+1] != ']' {
			dash := c.i
			if !single {
				return c.fail(at, c.p[at:dash+1], "a range cannot start at a class escape such as \\d")
			}
			c.i++
			if c.p[c.i] == '[' {
				return c.fail(c.i, "[", "a [ inside a class must be escaped as \\[ (Go reads [:name:] as a POSIX class, JavaScript as characters)")
			}
			single, hi, err := c.classAtom()
			if err != nil {
				return err
			}
			if !single {
				return c.fail(at, c.p[at:c.i], "a range cannot end at a class escape such as \\d")
			}
			if hi < lo {
				return c.fail(at, c.p[at:c.i], "the range is out of order")
			}
			if c.i < len(c.p) && c.p[c.i] == '-' && c.i+1 < len(c.p) && c.p[c.i+1] != ']' {
				return c.fail(c.i, "-", "a literal - right after a range must be escaped as \\-")
			}
		}
	}
}

// classAtom reads one character or class escape inside a class, and the
// character's code when it is one.
func (c *patternChecker) classAtom() (single bool, r rune, err error) {
	if c.p[c.i] == '\\' {
		at := c.i
		single, err := c.escapeChar(true)
		if err != nil || !single {
			return single, 0, err
		}
		return true, escapedRune(c.p[at:c.i]), nil
	}
	r, err = c.char()
	return true, r, err
}

// escapedRune is the character a one-character escape stands for.
func escapedRune(esc string) rune {
	switch esc {
	case `\t`:
		return '\t'
	case `\n`:
		return '\n'
	case `\r`:
		return '\r'
	case `\f`:
		return '\f'
	case `\v`:
		return '\v'
	}
	if strings.HasPrefix(esc, `\x`) {
		v, _ := strconv.ParseUint(esc[2:], 16, 8)
		return rune(v)
	}
	r, _ := utf8.DecodeRuneInString(esc[1:])
	return r
}
