package siteconfig_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
	"unicode"

	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// acceptedPatterns are in the shared syntax.
var acceptedPatterns = []string{
	`^_ga_[A-Z0-9]+$`, `^_pk_(id|ses|ref)(\..*)?$`, `^mp_[0-9a-f]+_mixpanel$`, `^ph_[A-Za-z0-9_]+_posthog$`,
	`^(?:_gid|_gat.*)$`, `^_hj`, `session`, `^a.b$`, `^[^_]\w*$`, `^\d{2,4}$`, `^x{3}$`, `^x{1,}$`, `^[-a]$`, `^[a-]$`,
	`^[a\-z]$`, `^\.$`, `^a+?b*?c??d{1,2}?$`, `()`, `a|`, `^(?:)$`, `^[\]\[]$`, `^\{\}$`, `^\x41\x2d$`, `^[\x30-\x39]+$`,
	`^[\d_]+$`, `^\W$`, `^\D+$`, `^wp-settings-(time-)?\d+$`, `^å+$`, `^a/b$`, `^\/$`, `^[\t]$`, `^(a|b|c){0,3}$`,
}

func TestCheckPatternAccepts(t *testing.T) {
	for _, p := range acceptedPatterns {
		if err := siteconfig.CheckPattern(p); err != nil {
			t.Errorf("CheckPattern(%q): %v", p, err)
		}
	}
}

// TestCheckPatternRefuses: each construct outside the shared syntax is
// named in the error, with its offset.
func TestCheckPatternRefuses(t *testing.T) {
	for _, tt := range []struct {
		pattern, construct, says string
		offset                   int
	}{
		{`^(a)\1$`, `\1`, "backreference", 4},
		{`^(?<id>a)\k<id>$`, `(?<`, "named groups", 1},
		{`^(?P<id>a)$`, `(?P<`, "named groups", 1},
		{`^a(?=b)`, `(?=`, "lookahead", 2},
		{`^a(?!b)`, `(?!`, "negative lookahead", 2},
		{`(?<=a)b`, `(?<=`, "lookbehind", 0},
		{`(?<!a)b`, `(?<!`, "negative lookbehind", 0},
		{`(?i)_GA`, `(?i)`, "inline flags", 0},
		{`(?s:.)`, `(?s:`, "inline flags", 0},
		{`\bga\b`, `\b`, "word boundaries", 0},
		{`a\B`, `\B`, "word boundaries", 1},
		{`[\b]`, `\b`, "backspace", 1},
		{`^\p{L}+$`, `\p{L}`, "Unicode properties", 1},
		{`\s`, `\s`, `\s and \S`, 0},
		{`\u0041`, `\u`, `\u is not read by Go`, 0},
		{`\x{41}`, `\x`, "two hex digits", 0},
		{`^[[:alpha:]]$`, `[:`, "POSIX class", 2},
		{`[]a]`, `[]`, "empty classes", 0},
		{`[^]`, `[^]`, "empty classes", 0},
		{`\Aab\z`, `\A`, "Go-only", 0},
		{`\Qa.b\E`, `\Q`, "Go-only", 0},
		{`a**`, `*`, "another one", 2},
		{`a*+`, `+`, "another one", 2},
		{`a{2}{3}`, `{3}`, "another one", 4},
		{`*a`, `*`, "nothing to repeat", 0},
		{`^*`, `*`, "anchor", 1},
		{`a{,3}`, `{`, `escaped as \{`, 1},
		{`a{x}`, `{`, `escaped as \{`, 1},
		{`a}`, `}`, `escaped as \}`, 1},
		{`a]`, `]`, `escaped as \]`, 1},
		{`a{1001}`, `{1001}`, "above 1000", 1},
		{`a{3,2}`, `{3,2}`, "out of order", 1},
		{`[z-a]`, `z-a`, "out of order", 1},
		{`[\d-z]`, `\d-`, "cannot start at a class escape", 1},
		{`[a-\d]`, `a-\d`, "cannot end at a class escape", 1},
		{`[a-c-e]`, `-`, "right after a range", 4},
		{`[ab-]c-]`, `]`, `escaped as \]`, 7},
		{`[a-b`, `[`, "missing ]", 0},
		{`(a`, `(`, "missing )", 0},
		{`a)`, `)`, "unmatched )", 1},
		{`a\`, `\`, "end in a backslash", 1},
		{`a\q`, `\q`, "unknown escape", 1},
		{`\cA`, `\c`, "control escapes", 0},
		{"a\x01", "\x01", "control characters", 1},
		{"a😀+", "😀", "Basic Multilingual Plane", 1},
		{`\0`, `\0`, "octal", 0},
	} {
		err := siteconfig.CheckPattern(tt.pattern)
		var pe *siteconfig.PatternError
		if !errors.As(err, &pe) {
			t.Errorf("CheckPattern(%q) = %v, want a *PatternError", tt.pattern, err)
			continue
		}
		if pe.Construct != tt.construct || pe.Offset != tt.offset || !strings.Contains(pe.Reason, tt.says) {
			t.Errorf("CheckPattern(%q) = %q at %d (%s); want %q at %d saying %q", tt.pattern, pe.Construct, pe.Offset, pe.Reason, tt.construct, tt.offset, tt.says)
		}
		if strings.TrimFunc(tt.construct, unicode.IsPrint) == "" && !strings.Contains(err.Error(), tt.construct) {
			t.Errorf("the error for %q does not name %q: %v", tt.pattern, tt.construct, err)
		}
	}
	// In a configuration, the problem names the item's pattern.
	b, err := os.ReadFile("../demo/site.json")
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.Replace(b, []byte(`"pattern": "^_ga_[A-Z0-9]+$"`), []byte(`"pattern": "^_ga_(?=[A-Z])"`), 1)
	_, err = siteconfig.Parse(b)
	var ie *siteconfig.InvalidError
	if !errors.As(err, &ie) || len(ie.Problems) != 1 || !strings.HasSuffix(ie.Problems[0].Field, "/pattern") || !strings.Contains(ie.Problems[0].Message, "lookahead") {
		t.Errorf("a lookahead in the demo's pattern: %v", err)
	}
}

// TestPatternSameInJavaScript: every pattern CheckPattern accepts, the
// listed ones and a few thousand random ones, compiles in Go and in
// JavaScript (node, as the banner runs it: new RegExp(p).test(name)) and
// matches the same names in both.
func TestPatternSameInJavaScript(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("SAMTYCKE_TEST_SERVICES") == "required" {
			t.Fatalf("node is required (make test installs it): %v", err)
		}
		t.Skipf("node not found: %v", err)
	}
	tokens := []string{"a", "b", "A", "0", "_", "-", ".", "^", "$", "*", "+", "?", "{2}", "{1,}", "{0,2}", "{", "}", "(", ")",
		"(?:", "|", "[", "]", "[a-c]", "[^a]", "[-a]", "[a-]", "[\\d.]", "\\d", "\\w", "\\W", "\\D", "\\.", "\\-", "\\x41",
		"\\b", "\\s", "(?=", "é", "[[:alpha:]]", "\\1", "[]", "??"}
	rng := rand.New(rand.NewPCG(1, 2))
	patterns := append([]string(nil), acceptedPatterns...)
	refused := 0
	for range 6000 {
		var b strings.Builder
		for range 1 + rng.IntN(7) {
			b.WriteString(tokens[rng.IntN(len(tokens))])
		}
		if siteconfig.CheckPattern(b.String()) == nil {
			patterns = append(patterns, b.String())
		} else {
			refused++
		}
	}
	subjects := []string{"", "a", "b", "ab", "aa", "aaa", "A", "0", "09", "_", "-", ".", "a-b", "a.b", "_ga_ABC123", "é", "ée",
		"a\nb", "a\n", "\r", "a\rb", "\u2029", "]", "[", "{2}", "{", "x_y", "ab_", "AA", "\u2028", "a b"}
	for range 40 {
		var b strings.Builder
		for range rng.IntN(6) {
			b.WriteByte("ab_-.0A]{}"[rng.IntN(10)])
		}
		subjects = append(subjects, b.String())
	}
	in, err := json.Marshal(map[string]any{"patterns": patterns, "subjects": subjects})
	if err != nil {
		t.Fatal(err)
	}
	const script = `let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
	  const {patterns, subjects} = JSON.parse(s);
	  process.stdout.write(JSON.stringify(patterns.map(p => {
	    try { const re = new RegExp(p); return subjects.map(x => re.test(x)); } catch (e) { return "error: " + e.message; }
	  })));
	});`
	cmd := exec.Command(node, "-e", script)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	var js []json.RawMessage
	if err := json.Unmarshal(out, &js); err != nil || len(js) != len(patterns) {
		t.Fatalf("node's answer: %v (%d for %d patterns)", err, len(js), len(patterns))
	}
	for i, p := range patterns {
		var got []bool
		if err := json.Unmarshal(js[i], &got); err != nil {
			t.Errorf("JavaScript refuses %q, which CheckPattern accepts: %s", p, js[i])
			continue
		}
		re, err := siteconfig.CompilePattern(p)
		if err != nil {
			t.Fatalf("CompilePattern(%q): %v", p, err)
		}
		for j, s := range subjects {
			if want := re.MatchString(s); got[j] != want {
				t.Errorf("%q on %q: Go %v, JavaScript %v", p, s, want, got[j])
			}
		}
	}
	t.Logf("%d accepted patterns agree on %d names; %d random patterns refused", len(patterns), len(subjects), refused)
}

// FuzzCheckPattern: no pattern panics the checker, and one it accepts
// compiles for Go.
func FuzzCheckPattern(f *testing.F) {
	for _, p := range acceptedPatterns {
		f.Add(p)
	}
	f.Add(`[a-`)
	f.Add(`(?P<`)
	f.Add(`\x4`)
	f.Fuzz(func(t *testing.T, p string) {
		err := siteconfig.CheckPattern(p)
		if err == nil {
			if _, err := siteconfig.CompilePattern(p); err != nil {
				t.Fatalf("accepted %q, then: %v", p, err)
			}
		}
	})
}
