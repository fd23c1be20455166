package banner

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evanw/esbuild/pkg/api"

	"github.com/samtycke/samtycke/server/internal/siteconfig"
	"github.com/samtycke/samtycke/server/internal/testutil"
)

// patternCases are cookie patterns in the syntax the server accepts, each
// with names on which the banner (JavaScript) must agree with the scanner
// (Go): the constructs where the two engines differ unless CompilePattern
// bridges them, and the shapes site owners write.
var patternCases = []struct {
	pattern string
	names   []string
}{
	{`^_ga_.*$`, []string{"_ga_ABC123", "_ga_", "_ga", "x_ga_1"}},
	{`^_pk_id\.\d+\.[0-9a-f]{4}$`, []string{"_pk_id.1.ab12", "_pk_id.12.AB12", "_pk_id.x.ab12", "_pk_idx1.ab12"}},
	{`^mp_[a-z0-9]+_mixpanel$`, []string{"mp_0123abc_mixpanel", "mp__mixpanel", "mp_ABC_mixpanel"}},
	{`^(?:ajs_user_id|ajs_anonymous_id)$`, []string{"ajs_user_id", "ajs_anonymous_id", "ajs_group_id", "ajs_user_idx"}},
	{`^ph_.+_posthog$`, []string{"ph_phc_123_posthog", "ph__posthog"}},
	{`_hj`, []string{"_hjSession_1", "x_hj", "_h"}},
	{`^a.c$`, []string{"abc", "a\rc", "a\nc", "a\u2028c", "a\u2029c", "a\tc", "aéc", "a\u00a0c"}},
	{`^[^a-z]$`, []string{"é", "A", "a", "\r", "\n"}},
	{`^\w+$`, []string{"abc_1", "café", "a-b", "ÅÄÖ"}},
	{`^\W$`, []string{"-", "é", "_"}},
	{`^\D\d$`, []string{"x1", "١1", "11"}},
	{`^\x41\t\n\r\f\v$`, []string{"A\t\n\r\f\v", "A\t\n\r\f"}},
	{`^[\x41-\x43]+$`, []string{"ABC", "ABD"}},
	{`^a{2,3}?b{2}c{1,}$`, []string{"aabbc", "aaabbcc", "abbc", "aaaabbc"}},
	{`^(ab|cd)*?$`, []string{"", "abcd", "abc"}},
	{`^\.\-\\\/\*\+\?\(\)\[\]\{\}\|\^\$$`, []string{`.-\/*+?()[]{}|^$`, "x"}},
	{`^[.\-_]$`, []string{".", "-", "_", "x"}},
	{`^é+$`, []string{"éé", "e"}},
	{`^$`, []string{"", "a"}},
}

// TestBannerUnits bundles banner-js/test/*.test.ts with esbuild and runs
// them with node --test: unit tests of the banner's pure parts (cookie
// format, current choice, patterns). For the patterns it first writes what
// Go (CompilePattern) matches for each case, which the JavaScript side must
// match alike.
func TestBannerUnits(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("SAMTYCKE_TEST_SERVICES") == "required" {
			t.Fatalf("node is required (make test) but not found: %v", err)
		}
		t.Skipf("node not found: %v", err)
	}
	dir := t.TempDir()

	type jsCase struct {
		Pattern string          `json:"pattern"`
		Names   map[string]bool `json:"names"`
	}
	var cases []jsCase
	for _, c := range patternCases {
		re, err := siteconfig.CompilePattern(c.pattern)
		if err != nil {
			t.Fatalf("%q: the server refuses it: %v", c.pattern, err)
		}
		jc := jsCase{c.pattern, map[string]bool{}}
		for _, n := range c.names {
			jc.Names[n] = re.MatchString(n)
		}
		cases = append(cases, jc)
	}
	raw, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	casesFile := filepath.Join(dir, "pattern-cases.json")
	if err := os.WriteFile(casesFile, raw, 0o644); err != nil {
		t.Fatal(err)
	}

	testDir := filepath.Join(testutil.RepoRoot(t), "banner-js", "test")
	entries, err := filepath.Glob(filepath.Join(testDir, "*.test.ts"))
	if err != nil || len(entries) == 0 {
		t.Fatalf("no tests in %s: %v", testDir, err)
	}
	res := api.Build(api.BuildOptions{
		EntryPoints: entries, Bundle: true, Write: true, Outdir: dir, OutExtension: map[string]string{".js": ".mjs"},
		Format: api.FormatESModule, Platform: api.PlatformNode, Target: api.ES2020, LogLevel: api.LogLevelSilent,
	})
	if len(res.Errors) > 0 {
		t.Fatalf("esbuild: %s", strings.Join(api.FormatMessages(res.Errors, api.FormatMessagesOptions{Kind: api.ErrorMessage}), "\n"))
	}
	var bundles []string
	for _, e := range entries {
		bundles = append(bundles, filepath.Join(dir, strings.TrimSuffix(filepath.Base(e), ".ts")+".mjs"))
	}
	cmd := exec.Command(node, append([]string{"--test", "--test-reporter=spec"}, bundles...)...)
	cmd.Env = append(os.Environ(), "SAMTYCKE_PATTERN_CASES="+casesFile)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test: %v\n%s", err, out)
	}
	t.Logf("node --test:\n%s", out)
}
