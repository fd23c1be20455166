package scan

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
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
	for _, tt := range []struct {
		o    Observed
		want string
	}{
		{Observed{Type: "cookie"}, "session"},
		{Observed{Type: "cookie", Expires: at(30 * time.Minute)}, "PT1H"},
		{Observed{Type: "cookie", Expires: at(30 * 24 * time.Hour)}, "P30D"},
		{Observed{Type: "cookie", Expires: at(182 * 24 * time.Hour)}, "P6M"},
		{Observed{Type: "cookie", Expires: at(365 * 24 * time.Hour)}, "P1Y"},
		{Observed{Type: "cookie", Expires: at(396 * 24 * time.Hour)}, "P13M"},
		{Observed{Type: "cookie", Expires: at(730 * 24 * time.Hour)}, "P2Y"},
		{Observed{Type: "local_storage"}, "persistent"},
		{Observed{Type: "session_storage"}, "session"},
	} {
		if got := duration(&tt.o, now); got != tt.want {
			t.Errorf("duration(%+v) = %s, want %s", tt.o, got, tt.want)
		}
	}
}

// TestClassify runs the classification on hand-made observations: each
// finding appears exactly where SPEC §3 says it should.
func TestClassify(t *testing.T) {
	cfg := &siteconfig.Config{DefaultLanguage: "sv", Items: []siteconfig.Item{
		{Name: "sid", Type: "cookie", Category: "necessary"},
		{Name: "_ga_<id>", Pattern: "^_ga_[A-Z0-9]+$", Type: "cookie", Category: "statistics"},
		{Name: "IDE", Type: "cookie", Domain: "doubleclick.net", Category: "marketing"},
		{Name: "tr", Type: "pixel", Domain: "facebook.com", Category: "marketing"},
		{Name: "never", Type: "local_storage", Category: "preferences"},
	}}
	c := &collector{siteHosts: map[string]bool{"shop.example": true}, samtycke: "https://consent.example"}
	c.storage(Before, "cookie", "sid", "shop.example", "/")
	c.storage(Before, "cookie", "_ga_ABC123", "shop.example", "/")
	c.storage(After, "cookie", "IDE", "doubleclick.net", "/")
	c.storage(After, "cookie", "_fbp", "shop.example", "/")
	c.storage(Before, "session_storage", "sid", "shop.example", "/")
	c.request(Before, "https://www.facebook.com/tr?id=1", "/")
	c.request(Before, "https://cdn.example/lib.js", "/")
	c.request(Before, "https://consent.example/b/shop.js", "/")
	c.request(After, "https://www.google-analytics.com/g/collect", "/")
	rep := &Report{}
	classify(rep, cfg, c, time.Now(), "sv")
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
		hosts[tp.Host] = strings.Join(tp.Findings, ",") + "|" + tp.Category
	}
	if len(hosts) != 3 || hosts["www.facebook.com"] != "pre-consent|marketing" || hosts["cdn.example"] != "|" || hosts["www.google-analytics.com"] != "|statistics" {
		t.Errorf("third parties: %v", hosts)
	}
	if len(rep.Unseen) != 1 || rep.Unseen[0].Name != "never" {
		t.Errorf("unseen: %+v", rep.Unseen)
	}
	if rep.Counts[Undeclared] != 2 || rep.Counts[PreConsent] != 3 || rep.Counts[Unseen] != 1 {
		t.Errorf("counts: %v", rep.Counts)
	}
	if !rep.Failed([]string{Unseen}) || (&Report{Counts: map[string]int{}}).Failed([]string{Undeclared}) {
		t.Error("Failed")
	}
	for _, o := range rep.Items {
		if o.Name == "_fbp" && (o.Suggestion == nil || o.Suggestion.Category != "marketing" || !strings.HasPrefix(o.Suggestion.Provider, "Meta")) {
			t.Errorf("suggestion for _fbp: %+v", o.Suggestion)
		}
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
