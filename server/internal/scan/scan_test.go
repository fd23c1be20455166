package scan

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

func TestPublicAddr(t *testing.T) {
	for _, tt := range []struct {
		addr   string
		public bool
	}{
		{"93.184.216.34", true}, {"2a00:1450:4001:80b::200e", true},
		{"127.0.0.1", false}, {"::1", false}, {"10.1.2.3", false}, {"172.16.0.1", false}, {"192.168.1.1", false},
		{"169.254.169.254", false}, {"169.254.1.1", false}, {"fe80::1", false}, {"fc00::1", false}, {"fd00:ec2::254", false},
		{"100.100.100.200", false}, {"0.0.0.0", false}, {"::", false}, {"::ffff:127.0.0.1", false}, {"::ffff:10.0.0.1", false},
		{"64:ff9b::7f00:1", false}, {"2002:7f00:1::", false}, {"224.0.0.1", false}, {"255.255.255.255", false},
	} {
		if got := publicAddr(netip.MustParseAddr(tt.addr)); got != tt.public {
			t.Errorf("publicAddr(%s) = %v, want %v", tt.addr, got, tt.public)
		}
	}
}

func TestCheckPage(t *testing.T) {
	g := &Guard{Origins: map[string]bool{"https://shop.example": true, "http://127.0.0.1:8080": true, "http://[::1]:9000": true}}
	ctx := context.Background()
	for _, tt := range []struct{ url, want string }{
		{"https://other.example/", "not one of the site's allowed origins"},
		{"https://shop.example.evil.example/", "not one of the site's allowed origins"},
		{"http://127.0.0.1:8080/", "a loopback, private, link-local or metadata address"},
		{"http://[::1]:9000/", "a loopback, private, link-local or metadata address"},
		{"https://user:pw@shop.example/", "credentials"},
		{"ftp://shop.example/", "not an absolute http(s) URL"},
		{"/relative", "not an absolute http(s) URL"},
	} {
		err := g.CheckPage(ctx, tt.url)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("CheckPage(%s) = %v, want %q", tt.url, err, tt.want)
		}
	}
	g.AllowPrivate = true
	if err := g.CheckPage(ctx, "http://127.0.0.1:8080/x"); err != nil {
		t.Errorf("with AllowPrivate: %v", err)
	}
	// The guard checks the address it dials, not only the page's host.
	if _, err := (&Guard{}).dial(ctx, "tcp", "127.0.0.1:1"); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("dial 127.0.0.1: %v", err)
	}
}

func TestOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"HTTPS://Shop.Example:443/a?b": "https://shop.example",
		"http://shop.example:80/":      "http://shop.example",
		"http://shop.example:8080":     "http://shop.example:8080",
		"http://[::1]:9000/":           "http://[::1]:9000",
	} {
		u, err := url.Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := Origin(u); got != want {
			t.Errorf("Origin(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestDuration(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { x := now.Add(d); return &x }
	day := 24 * time.Hour
	for _, tt := range []struct {
		o    Observed
		want string
	}{
		{Observed{Type: "cookie"}, "session"},
		{Observed{Type: "cookie", Expires: at(-time.Minute)}, "session"},
		{Observed{Type: "cookie", Expires: at(30 * time.Second)}, "PT30S"},
		{Observed{Type: "cookie", Expires: at(time.Minute)}, "PT1M"},
		{Observed{Type: "cookie", Expires: at(30 * time.Minute)}, "PT30M"},
		{Observed{Type: "cookie", Expires: at(30*time.Minute - 4*time.Second)}, "PT30M"}, // set a moment before it was read
		{Observed{Type: "cookie", Expires: at(59*time.Minute + 58*time.Second)}, "PT1H"},
		{Observed{Type: "cookie", Expires: at(6 * time.Hour)}, "PT6H"},
		{Observed{Type: "cookie", Expires: at(day - 3*time.Second)}, "P1D"},
		{Observed{Type: "cookie", Expires: at(7 * day)}, "P7D"},
		{Observed{Type: "cookie", Expires: at(30 * day)}, "P30D"},
		{Observed{Type: "cookie", Expires: at(90 * day)}, "P3M"},
		{Observed{Type: "cookie", Expires: at(182 * day)}, "P6M"},
		{Observed{Type: "cookie", Expires: at(360 * day)}, "P1Y"},
		{Observed{Type: "cookie", Expires: at(365 * day)}, "P1Y"},
		{Observed{Type: "cookie", Expires: at(396 * day)}, "P13M"},
		{Observed{Type: "cookie", Expires: at(730 * day)}, "P2Y"},
		// Read later than it was first seen: measured from when it was seen.
		{Observed{Type: "cookie", Expires: at(30 * time.Minute), seenAt: now.Add(-time.Hour)}, "PT90M"},
		{Observed{Type: "local_storage"}, "persistent"},
		{Observed{Type: "indexeddb"}, "persistent"},
		{Observed{Type: "session_storage"}, "session"},
	} {
		if got := lifetime(&tt.o, nil, now); got != tt.want {
			t.Errorf("lifetime(%v) = %s, want %s", tt.o.Expires.Sub(now), got, tt.want)
		}
	}
	// Chromium keeps a cookie at most 400 days: a _ga cookie meant for two
	// years is seen with 400, and the database says two years.
	ga := lookupName("_ga", "shop.example")
	if got := lifetime(&Observed{Type: "cookie", Expires: at(400 * day)}, ga, now); got != "P2Y" {
		t.Errorf("_ga capped at 400 days: %s, want P2Y", got)
	}
	if got := lifetime(&Observed{Type: "cookie", Expires: at(400 * day)}, nil, now); got != "P13M" {
		t.Errorf("400 days, nothing known: %s, want P13M", got)
	}
}

// TestLookup: names and hosts come from the Open Cookie Database where it
// has them, from the built-in table where it lacks or misfiles them.
func TestLookup(t *testing.T) {
	for _, tt := range []struct {
		name, domain              string
		provider, category, where string
	}{
		{"_ga", "shop.example", "Google", "statistics", "db"},
		{"_ga_ABC123", "shop.example", "Google", "statistics", "db"},
		{"_clck", "shop.example", "Microsoft", "statistics", "db"},
		{"_fbp", "shop.example", "Facebook", "marketing", "db"},
		{"mp_0123456789abcdef0123456789abcdef_mixpanel", "shop.example", "Mixpanel", "statistics", "db"},
		{"AMP_0123456789", "shop.example", "Amplitude", "statistics", "db"},
		{"_pk_ses.1.ab12", "shop.example", "", "statistics", "db"},
		{"ajs_anonymous_id", "shop.example", "Twilio Inc. (Segment)", "statistics", "builtin"}, // the database files it under Trustpilot
		{"ph_phc_AbC123_posthog", "shop.example", "PostHog Inc.", "statistics", "builtin"},
		{"ph_phc_AbC123_window_id", "shop.example", "PostHog Inc.", "statistics", "builtin"},
		{"persisted-queue:v1:wk:dest-Segment.io:items", "shop.example", "Twilio Inc. (Segment)", "statistics", "builtin"},
		{"mixpanelBrowserDb", "shop.example", "Mixpanel", "statistics", "builtin"},
		{"connect.sid", "shop.example", "", "necessary", "builtin"}, // the database says Zendesk, on zendesk.com
		{"vuid", "vimeo.com", "Vimeo", "statistics", "db"},
		{"token", "shop.example", "", "", ""}, // too plain to be anyone's in particular
	} {
		e := lookupName(tt.name, tt.domain)
		switch {
		case tt.where == "" && e != nil:
			t.Errorf("%s: found %+v, want nothing", tt.name, e)
		case tt.where == "":
		case e == nil:
			t.Errorf("%s: not found", tt.name)
		case e.builtin != (tt.where == "builtin") || e.category != tt.category || (tt.provider != "" && e.provider != tt.provider):
			t.Errorf("%s: %s %s builtin=%v, want %s %s from %s", tt.name, e.provider, e.category, e.builtin, tt.provider, tt.category, tt.where)
		}
	}
	for host, want := range map[string]string{
		"fonts.googleapis.com": "Google Fonts", "fonts.gstatic.com": "Google Fonts", "api-js.mixpanel.com": "Mixpanel",
		"cdn.mxpnl.com": "Mixpanel", "cdn.segment.com": "Segment", "api.segment.io": "Segment", "eu.i.posthog.com": "PostHog",
		"api2.amplitude.com": "Amplitude", "www.youtube-nocookie.com": "YouTube", "player.vimeo.com": "Vimeo",
		"i.vimeocdn.com": "Vimeo", "www.google-analytics.com": "Google Analytics",
	} {
		if e := lookupHost(host, nil); e == nil || e.platform != want {
			t.Errorf("host %s: %+v, want %s", host, e, want)
		}
	}
	if e := lookupHost("statistik.shop.example", []string{"/js/", "/matomo.php"}); e == nil || e.platform != "Matomo" {
		t.Errorf("a self-hosted Matomo: %+v", e)
	}
	if e := lookupHost("cdn.shop.example", []string{"/lib.js"}); e != nil {
		t.Errorf("an unknown host: %+v", e)
	}
}

// TestDeclaredName: instance-named cookies are suggested as a pattern.
func TestDeclaredName(t *testing.T) {
	for _, tt := range []struct{ name, decl, pattern string }{
		{"_ga_ABC123", "_ga_*", `^_ga_[A-Z0-9]+$`},
		{"_ga", "_ga", ""},
		{"mp_0123456789abcdef0123456789abcdef_mixpanel", "mp_*", `^mp_[a-z0-9_]+$`},
		{"_pk_id.1.1fff", "_pk_id.*", `^_pk_id\.[a-z0-9.]+$`},
		{"ph_phc_AbC123dEf456_posthog", "ph_<project key>_*", `^ph_phc_[A-Za-z0-9]+_[a-z_]+$`},
		{"_hjSession_123456", "_hjSession_*", `^_hjSession_[0-9]+$`},
		{"sess_8f3a9c2b1d", "sess_*", `^sess_[a-z0-9]+$`},
		{"cart-7f3e9a1c2b4d-v2", "cart-*-v2", `^cart-[a-z0-9]+-v2$`},
		{"lang", "lang", ""},
		{"session2", "session2", ""},
	} {
		decl, pattern := declaredName(tt.name, lookupName(tt.name, "shop.example"))
		if decl != tt.decl || pattern != tt.pattern {
			t.Errorf("declaredName(%s) = %q %q, want %q %q", tt.name, decl, pattern, tt.decl, tt.pattern)
			continue
		}
		if pattern == "" {
			continue
		}
		re, err := siteconfig.CompilePattern(pattern)
		if err != nil || !re.MatchString(tt.name) {
			t.Errorf("%s: the pattern %q does not match it (%v)", tt.name, pattern, err)
		}
	}
}

func TestPageURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://shop.example/a#top":        "https://shop.example/a",
		"https://shop.example/a#":           "https://shop.example/a",
		"https://shop.example/app/#/cart":   "https://shop.example/app/#/cart",
		"https://shop.example/app/#!/cart":  "https://shop.example/app/#!/cart",
		"https://shop.example/app#/a?b=1":   "https://shop.example/app#/a?b=1",
		"https://shop.example/p?q=1#/route": "https://shop.example/p?q=1#/route",
	} {
		if got := pageURL(in); got != want {
			t.Errorf("pageURL(%s) = %s, want %s", in, got, want)
		}
	}
	if !sameDocument("https://shop.example/app/#/a", "https://shop.example/app/#/b") || sameDocument("https://shop.example/a", "https://shop.example/b") {
		t.Error("sameDocument")
	}
	for in, want := range map[string]string{
		"https://shop.example/img/1.JPG": ".jpg", "https://shop.example/villkor.pdf?v=2": ".pdf", "https://shop.example/v.mp4": ".mp4",
		"https://shop.example/about": "", "https://shop.example/page.html": "", "https://shop.example/x.php": "",
	} {
		if got := mediaExtension(in); got != want {
			t.Errorf("mediaExtension(%s) = %q, want %q", in, got, want)
		}
	}
	for ct, want := range map[string]bool{"text/html; charset=utf-8": true, "application/xhtml+xml": true, "": true,
		"image/jpeg": false, "application/pdf": false, "video/mp4": false, "TEXT/HTML": true} {
		if isHTML(ct) != want {
			t.Errorf("isHTML(%q) != %v", ct, want)
		}
	}
}

// TestClassify runs the classification on hand-made observations: each
// finding appears exactly where SPEC §3 says it should.
func TestClassify(t *testing.T) {
	cfg := testConfig(t)
	c := &collector{siteHosts: map[string]bool{"shop.example": true}, samtycke: "https://consent.example"}
	c.storage(Before, "cookie", "sid", "shop.example", "/")
	c.storage(Before, "cookie", "_ga_ABC123", "shop.example", "/")
	c.storage(After, "cookie", "IDE", "doubleclick.net", "/")
	c.storage(After, "cookie", "_fbp", "shop.example", "/")
	c.storage(Before, "session_storage", "sid", "shop.example", "/")
	c.request(Before, "https://www.facebook.com/tr?id=1", "/")
	c.request(Before, "https://cdn.example/lib.js", "/")                // unknown: pre-consent all the same
	c.request(Before, "https://fonts.googleapis.com/css?family=x", "/") // known by the built-in table
	c.request(Before, "https://static.shop-cdn.example/app.js", "/")    // declared necessary
	c.request(Before, "https://consent.example/b/shop.js", "/")
	c.request(After, "https://www.google-analytics.com/g/collect", "/")
	rep := &Report{}
	classify(rep, cfg, c, time.Now())
	got := map[string]string{}
	for _, o := range rep.Items {
		got[o.Type+" "+o.Name] = strings.Join(o.Findings, ",") + "|" + o.Party
	}
	for k, want := range map[string]string{
		"cookie sid":          "|first",
		"cookie _ga_ABC123":   "pre-consent|first",
		"cookie IDE":          "|third",
		"cookie _fbp":         "undeclared|first",
		"session_storage sid": "undeclared,pre-consent|first",
	} {
		if got[k] != want {
			t.Errorf("%s: %q, want %q", k, got[k], want)
		}
	}
	hosts := map[string]string{}
	for _, tp := range rep.ThirdParties {
		hosts[tp.Host] = strings.Join(tp.Findings, ",") + "|" + tp.Category + "|" + tp.Provider
	}
	want := map[string]string{
		"www.facebook.com":         "pre-consent|marketing|Meta Platforms Ireland Ltd",
		"cdn.example":              "pre-consent|marketing|",
		"fonts.googleapis.com":     "pre-consent|preferences|Google Fonts",
		"static.shop-cdn.example":  "|necessary|Testbutiken AB",
		"www.google-analytics.com": "|statistics|Google Analytics",
	}
	if len(hosts) != len(want) {
		t.Errorf("third parties: %v", hosts)
	}
	for h, w := range want {
		if hosts[h] != w {
			t.Errorf("host %s: %q, want %q", h, hosts[h], w)
		}
	}
	if len(rep.Unseen) != 1 || rep.Unseen[0].Name != "never" {
		t.Errorf("unseen: %+v", rep.Unseen)
	}
	if rep.Counts[Undeclared] != 2 || rep.Counts[PreConsent] != 5 || rep.Counts[Unseen] != 1 {
		t.Errorf("counts: %v", rep.Counts)
	}
	if !rep.Failed([]string{Unseen}) || (&Report{Counts: map[string]int{}}).Failed([]string{Undeclared}) {
		t.Error("Failed")
	}
	for _, o := range rep.Items {
		if o.Name == "_fbp" && (o.Suggestion == nil || o.Suggestion.Category != "marketing" || o.Suggestion.Provider != "Facebook") {
			t.Errorf("suggestion for _fbp: %+v", o.Suggestion)
		}
	}
	// One suggestion per undeclared item and host: _fbp, sid (session
	// storage), cdn.example, fonts.googleapis.com, www.google-analytics.com.
	if len(rep.Suggestions) != 5 {
		t.Errorf("suggestions: %+v", rep.Suggestions)
	}
	validSuggestions(t, cfg, rep.Suggestions)
}

// testConfig is the demo's configuration with the items TestClassify
// declares.
func testConfig(t *testing.T) *siteconfig.Config {
	t.Helper()
	b, err := os.ReadFile("../demo/site.json")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := siteconfig.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	item := func(name, pattern, typ, domain, category string) siteconfig.Item {
		party := "first"
		if domain != "" {
			party = "third"
		}
		return siteconfig.Item{Name: name, Pattern: pattern, Type: typ, Domain: domain, Category: category, Party: party,
			Provider: "Testbutiken AB", Duration: "session", Purpose: siteconfig.Localized{"sv": "Test.", "en": "Test."}}
	}
	cfg.Items = []siteconfig.Item{
		item("sid", "", "cookie", "", "necessary"),
		item("_ga_<id>", "^_ga_[A-Z0-9]+$", "cookie", "", "statistics"),
		item("IDE", "", "cookie", "doubleclick.net", "marketing"),
		item("tr", "", "pixel", "facebook.com", "marketing"),
		item("never", "", "local_storage", "", "preferences"),
		item("static", "", "pixel", "shop-cdn.example", "necessary"),
	}
	cfg.Items[3].Provider = "Meta Platforms Ireland Ltd"
	return cfg
}

// validSuggestions: the configuration with every suggestion added passes
// the real validator (JSON Schema and the rules beyond it).
func validSuggestions(t *testing.T, cfg *siteconfig.Config, sugg []siteconfig.Item) {
	t.Helper()
	c := *cfg
	c.Items = append(append([]siteconfig.Item(nil), cfg.Items...), sugg...)
	b, err := json.Marshal(&c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := siteconfig.Parse(b); err != nil {
		t.Errorf("the configuration with the suggestions added: %v", err)
	}
}

// TestSuggestionsValid: suggestions for names of every kind the database
// holds, and for unknown names and hosts, are valid in the configuration
// of a site with the usual categories and of one with only two.
func TestSuggestionsValid(t *testing.T) {
	full := testConfig(t)
	small := *full
	small.Categories = []siteconfig.Category{full.Categories[0], full.Categories[2]} // necessary, statistics
	small.Items = nil
	small.ConsentMode = nil
	db := loadCookieDB()
	now := time.Now()
	for _, cfg := range []*siteconfig.Config{full, &small} {
		sg := newSuggester(cfg)
		var out []siteconfig.Item
		add := func(o Observed) {
			exp := now.Add(400 * 24 * time.Hour)
			o.Expires = &exp
			out = append(out, *sg.item(&o, now))
		}
		for _, es := range db.exact {
			for _, e := range es {
				add(Observed{Type: "cookie", Name: e.name, Domain: "shop.example", Party: "first"})
				if len(e.domains) > 0 {
					add(Observed{Type: "cookie", Name: e.name, Domain: e.domains[0], Party: "third"})
				}
			}
		}
		for _, e := range db.prefixes {
			add(Observed{Type: "cookie", Name: e.name + "ABC123.x", Domain: "shop.example", Party: "first"})
		}
		for _, n := range []string{"mystery", "sess_8f3a9c2b1d", "wéird name", "a😀b", "ajs_user_id"} {
			add(Observed{Type: "local_storage", Name: n, Domain: "shop.example", Party: "first"})
		}
		for _, h := range []string{"fonts.googleapis.com", "cdn.example", "statistik.shop.example"} {
			out = append(out, *sg.host(h, []string{"/matomo.js"}))
		}
		// In batches: the schema allows 500 items.
		for i := 0; i < len(out); i += 400 {
			validSuggestions(t, cfg, out[i:min(i+400, len(out))])
		}
		for _, it := range out {
			if !sg.cats[it.Category] {
				t.Fatalf("%s: category %q is not the site's", it.Name, it.Category)
			}
		}
	}
}

// TestWriteTextLanguage: the report's text is in its language.
func TestWriteTextLanguage(t *testing.T) {
	rep := &Report{Site: "shop", Counts: map[string]int{PreConsent: 1}, Limits: []string{"pages"},
		Pages:        []Page{{Pass: Before, URL: "https://shop.example/", Status: 200}},
		ThirdParties: []ThirdParty{{Host: "fonts.googleapis.com", Requests: 1, BeforeConsent: true, Provider: "Google Fonts", Category: "preferences", Findings: []string{PreConsent}}}}
	var sv, en strings.Builder
	rep.Lang = "sv"
	if err := WriteText(&sv, rep); err != nil {
		t.Fatal(err)
	}
	rep.Lang = "en"
	if err := WriteText(&en, rep); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"före samtycke", "TREDJEPARTSVÄRDAR", "gränsen för sidor", "Fynd: 0 odeklarerade, 1 före samtycke"} {
		if !strings.Contains(sv.String(), w) {
			t.Errorf("Swedish report lacks %q:\n%s", w, sv.String())
		}
	}
	for _, w := range []string{"pre-consent", "THIRD-PARTY HOSTS", "the pages limit", "before consent"} {
		if !strings.Contains(en.String(), w) {
			t.Errorf("English report lacks %q:\n%s", w, en.String())
		}
	}
	if strings.ContainsAny(en.String(), "åäöÅÄÖ") {
		t.Errorf("Swedish in the English report:\n%s", en.String())
	}
}

// TestProxy: the proxy forwards to allowed addresses, refuses private ones
// without AllowPrivate (on the address it dials), and stops at the budget.
func TestProxy(t *testing.T) {
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(bytes.Repeat([]byte("x"), 10_000))
	}))
	defer site.Close()
	get := func(p *proxy) (int, error) {
		pu, err := url.Parse("http://" + p.addr())
		if err != nil {
			t.Fatal(err)
		}
		c := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(pu)}}
		res, err := c.Get(site.URL + "/")
		if err != nil {
			return 0, err
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != 200 {
			return res.StatusCode, nil
		}
		return len(b), nil
	}
	strict, err := newProxy(&Guard{}, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer strict.close()
	if n, err := get(strict); err != nil || n != http.StatusBadGateway || len(strict.refusals()) != 1 || !strings.Contains(strict.refusals()[0].Reason, "loopback") {
		t.Errorf("private address through the strict proxy: %d %v %v", n, err, strict.refusals())
	}
	local, err := newProxy(&Guard{AllowPrivate: true}, 25_000)
	if err != nil {
		t.Fatal(err)
	}
	defer local.close()
	for i, want := range []int{10_000, 10_000, 5_000} {
		n, err := get(local)
		if i < 2 && (err != nil || n != want) {
			t.Errorf("request %d: %d %v", i, n, err)
		}
		if i == 2 && err == nil && n >= want*2 {
			t.Errorf("request %d passed the byte budget: %d bytes", i, n)
		}
	}
	if n, err := get(local); err != nil || n != http.StatusForbidden {
		t.Errorf("after the budget: %d %v, want 403", n, err)
	}
}
