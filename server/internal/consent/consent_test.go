package consent

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/apierr"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

const validBody = `{"site":"demo","consent_id":"8f1e2d3c-4b5a-4c6d-8e7f-0a1b2c3d4e5f","config_version":1,` +
	`"choices":{"necessary":true,"statistics":false},"method":"custom","lang":"sv","url":"https://shop.example/page?q=secret#x"}`

func TestDecode(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		status int
		code   string
		field  string
	}{
		{"valid", validBody, 0, "", ""},
		{"empty", ``, 400, "empty_body", ""},
		{"not json", `site=demo`, 400, "malformed_json", ""},
		{"array", `[]`, 400, "malformed_json", ""},
		{"truncated", validBody[:40], 400, "malformed_json", ""},
		{"trailing data", validBody + `{}`, 400, "malformed_json", ""},
		{"invalid utf8", strings.Replace(validBody, "demo", "de\xffmo", 1), 400, "invalid_utf8", ""},
		{"too large", `{"site":"` + strings.Repeat("a", MaxBodyBytes) + `"}`, 413, "body_too_large", ""},
		{"unknown field", strings.Replace(validBody, `"lang"`, `"ip":"1.2.3.4","lang"`, 1), 400, "unknown_field", "ip"},
		{"duplicate field", strings.Replace(validBody, `"lang":"sv"`, `"lang":"sv","lang":"en"`, 1), 400, "duplicate_field", "lang"},
		{"duplicate choice", strings.Replace(validBody, `"statistics":false`, `"statistics":false,"statistics":true`, 1), 400, "duplicate_field", "choices.statistics"},
		{"version as string", strings.Replace(validBody, `"config_version":1`, `"config_version":"1"`, 1), 400, "wrong_type", "config_version"},
		{"negative version", strings.Replace(validBody, `"config_version":1`, `"config_version":-1`, 1), 400, "wrong_type", "config_version"},
		{"fractional version", strings.Replace(validBody, `"config_version":1`, `"config_version":1.5`, 1), 400, "wrong_type", "config_version"},
		{"choice as string", strings.Replace(validBody, `"statistics":false`, `"statistics":"no"`, 1), 400, "wrong_type", "choices.statistics"},
		{"null choice", strings.Replace(validBody, `"statistics":false`, `"statistics":null`, 1), 400, "wrong_type", "choices"},
		{"choices as array", strings.Replace(validBody, `{"necessary":true,"statistics":false}`, `["necessary"]`, 1), 400, "wrong_type", "choices"},
		{"missing site", strings.Replace(validBody, `"site":"demo",`, ``, 1), 400, "missing_field", "site"},
		{"bad site", strings.Replace(validBody, `"site":"demo"`, `"site":"../x"`, 1), 400, "invalid_field", "site"},
		{"missing version", strings.Replace(validBody, `"config_version":1,`, ``, 1), 400, "missing_field", "config_version"},
		{"uuid v1", strings.Replace(validBody, `4c6d`, `1c6d`, 1), 400, "invalid_field", "consent_id"},
		{"uuid braces", strings.Replace(validBody, `"8f1e2d3c-4b5a-4c6d-8e7f-0a1b2c3d4e5f"`, `"{8f1e2d3c-4b5a-4c6d-8e7f-0a1b2c3d4e5f}"`, 1), 400, "invalid_field", "consent_id"},
		{"empty choices", strings.Replace(validBody, `{"necessary":true,"statistics":false}`, `{}`, 1), 400, "invalid_field", "choices"},
		{"bad category id", strings.Replace(validBody, `"statistics"`, `"Stat istics"`, 1), 400, "invalid_field", "choices"},
		{"bad method", strings.Replace(validBody, `"custom"`, `"maybe"`, 1), 400, "invalid_field", "method"},
		{"bad lang", strings.Replace(validBody, `"lang":"sv"`, `"lang":"swedish"`, 1), 400, "invalid_field", "lang"},
		{"relative url", strings.Replace(validBody, `https://shop.example/page?q=secret#x`, `/page`, 1), 400, "invalid_field", "url"},
		{"javascript url", strings.Replace(validBody, `https://shop.example/page?q=secret#x`, `javascript:alert(1)`, 1), 400, "invalid_field", "url"},
		{"bad source", strings.Replace(validBody, `"lang"`, `"source":"robot","lang"`, 1), 400, "invalid_field", "source"},
		{"event id", strings.Replace(validBody, `"lang"`, `"event_id":"0190b3c4-7d2e-7a6b-9c1d-2e3f4a5b6c7d","lang"`, 1), 0, "", ""},
		{"bad event id", strings.Replace(validBody, `"lang"`, `"event_id":"retry-1","lang"`, 1), 400, "invalid_field", "event_id"},
		{"gpc as string", strings.Replace(validBody, `"lang"`, `"gpc":"1","lang"`, 1), 400, "wrong_type", "gpc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Decode([]byte(tt.body))
			if tt.status == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if r.Source != SourceBanner {
					t.Errorf("source defaults to banner, got %q", r.Source)
				}
				return
			}
			var ae *apierr.Error
			if !errors.As(err, &ae) {
				t.Fatalf("want *apierr.Error, got %v", err)
			}
			if ae.Status != tt.status || ae.Code != tt.code || ae.Field != tt.field {
				t.Errorf("got %d %s field %q (%s), want %d %s field %q", ae.Status, ae.Code, ae.Field, ae.Message, tt.status, tt.code, tt.field)
			}
		})
	}
}

func testVersion() *siteconfig.Version {
	return &siteconfig.Version{Site: "demo", Number: 3, Hash: "abc", Config: &siteconfig.Config{
		Languages:  []string{"sv", "en"},
		Consent:    siteconfig.Consent{LifetimeDays: 182, RetentionMonths: 24},
		Categories: []siteconfig.Category{{ID: "necessary"}, {ID: "statistics"}, {ID: "marketing"}},
	}}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name    string
		choices map[string]bool
		method  string
		lang    string
		code    string
		field   string
	}{
		{"custom", map[string]bool{"necessary": true, "statistics": true, "marketing": false}, MethodCustom, "sv", "", ""},
		{"accept all", map[string]bool{"necessary": true, "statistics": true, "marketing": true}, MethodAcceptAll, "en", "", ""},
		{"reject all", map[string]bool{"necessary": true, "statistics": false, "marketing": false}, MethodRejectAll, "sv", "", ""},
		{"gpc", map[string]bool{"necessary": true, "statistics": false, "marketing": false}, MethodGPC, "sv", "", ""},
		{"unknown language", map[string]bool{"necessary": true, "statistics": false, "marketing": false}, MethodCustom, "de", "unknown_language", "lang"},
		{"missing category", map[string]bool{"necessary": true, "statistics": false}, MethodCustom, "sv", "missing_choice", "choices.marketing"},
		{"extra category", map[string]bool{"necessary": true, "statistics": false, "marketing": false, "ads": false}, MethodCustom, "sv", "unknown_category", "choices.ads"},
		{"necessary refused", map[string]bool{"necessary": false, "statistics": false, "marketing": false}, MethodCustom, "sv", "necessary_refused", "choices.necessary"},
		{"accept all with a refusal", map[string]bool{"necessary": true, "statistics": true, "marketing": false}, MethodAcceptAll, "sv", "method_mismatch", "choices.marketing"},
		{"reject all with a grant", map[string]bool{"necessary": true, "statistics": true, "marketing": false}, MethodRejectAll, "sv", "method_mismatch", "choices.statistics"},
		{"withdraw", map[string]bool{"necessary": true, "statistics": false, "marketing": false}, MethodWithdraw, "sv", "", ""},
		{"withdraw grants nothing", map[string]bool{"necessary": true, "statistics": true, "marketing": false}, MethodWithdraw, "sv", "method_mismatch", "choices.statistics"},
		{"gpc never grants", map[string]bool{"necessary": true, "statistics": false, "marketing": true}, MethodGPC, "sv", "method_mismatch", "choices.marketing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Request{Site: "demo", Choices: tt.choices, Method: tt.method, Lang: tt.lang}
			err := r.Check(testVersion())
			if tt.code == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var ae *apierr.Error
			if !errors.As(err, &ae) || ae.Status != 422 || ae.Code != tt.code || ae.Field != tt.field {
				t.Fatalf("got %v, want 422 %s field %s", err, tt.code, tt.field)
			}
		})
	}
}

func TestNewRecord(t *testing.T) {
	r, err := Decode([]byte(validBody))
	if err != nil {
		t.Fatal(err)
	}
	r.Choices = map[string]bool{"necessary": true, "marketing": false, "statistics": true}
	now := time.Date(2026, 11, 22, 10, 30, 0, 123456789, time.FixedZone("CET", 3600))
	rec := NewRecord(r, testVersion(), Client{IP: netip.MustParseAddr("203.0.113.77"), UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.85 Safari/537.36", GPC: true}, uuid.New(), now)
	if got := strings.Join(rec.Categories, ","); got != "necessary,statistics,marketing" {
		t.Errorf("categories in version order, got %s", got)
	}
	if rec.Granted[0] != true || rec.Granted[1] != true || rec.Granted[2] != false {
		t.Errorf("granted = %v", rec.Granted)
	}
	if rec.IPPrefix != "203.0.113.0/24" || rec.PageOrigin != "https://shop.example" || rec.PagePath != "/page" {
		t.Errorf("minimisation failed: %q %q %q", rec.IPPrefix, rec.PageOrigin, rec.PagePath)
	}
	if !rec.GPC || rec.ConfigVersion != 3 || rec.ConfigHash != "abc" || rec.Source != SourceBanner {
		t.Errorf("record = %+v", rec)
	}
	if rec.RecordedAt.Location() != time.UTC || rec.RecordedAt.Nanosecond() != 123000000 {
		t.Errorf("recorded_at = %v, want UTC with ms precision", rec.RecordedAt)
	}
	if got := rec.RetainUntil.Format("2006-01-02"); got != "2028-11-23" {
		t.Errorf("retain_until = %s, want 2028-11-23 (24 months, then the next day)", got)
	}
	if rec.UA != (UserAgent{"Chrome 131", "Linux", "desktop"}) {
		t.Errorf("ua = %+v", rec.UA)
	}
}

func TestTruncateIP(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.77":             "203.0.113.0/24",
		"::ffff:203.0.113.77":      "203.0.113.0/24",
		"2001:db8:abcd:12:1:2:3:4": "2001:db8:abcd::/48",
		"fe80::1%eth0":             "fe80::/48",
		"127.0.0.1":                "127.0.0.0/24",
	} {
		if got := TruncateIP(netip.MustParseAddr(in)); got != want {
			t.Errorf("TruncateIP(%s) = %s, want %s", in, got, want)
		}
	}
	if got := TruncateIP(netip.Addr{}); got != "" {
		t.Errorf("invalid address gives %q", got)
	}
}

func TestStripURL(t *testing.T) {
	tests := []struct{ in, origin, path string }{
		{"https://Shop.Example/a/b?email=x@y.se#top", "https://shop.example", "/a/b"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080", "/"},
		{"https://user:pw@shop.example/p", "https://shop.example", "/p"},
		{"https://shop.example/%C3%A5ka", "https://shop.example", "/%C3%A5ka"},
	}
	for _, tt := range tests {
		o, p, err := StripURL(tt.in)
		if err != nil || o != tt.origin || p != tt.path {
			t.Errorf("StripURL(%q) = %q %q %v, want %q %q", tt.in, o, p, err, tt.origin, tt.path)
		}
	}
	for _, bad := range []string{"", "/rel", "ftp://x/y", "mailto:a@b", "https://", strings.Repeat("x", 3000)} {
		if _, _, err := StripURL(bad); err == nil {
			t.Errorf("StripURL(%q) accepted", bad)
		}
	}
}

func TestCoarseUA(t *testing.T) {
	tests := []struct {
		ua   string
		want UserAgent
	}{
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86", UserAgent{"Edge 131", "Windows", "desktop"}},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", UserAgent{"Safari 18", "macOS", "desktop"}},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", UserAgent{"Safari 18", "iOS", "mobile"}},
		{"Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/130.0.6723.90 Mobile/15E148 Safari/604.1", UserAgent{"Chrome 130", "iOS", "tablet"}},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36", UserAgent{"Chrome 131", "Android", "mobile"}},
		{"Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Safari/537.36", UserAgent{"Samsung Internet 26", "Android", "tablet"}},
		{"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", UserAgent{"Firefox 133", "Linux", "desktop"}},
		{"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", UserAgent{"Bot", "Other", "bot"}},
		{"curl/8.5.0", UserAgent{"Bot", "Other", "bot"}},
		{"", UserAgent{"Unknown", "Other", "desktop"}},
	}
	for _, tt := range tests {
		if got := CoarseUA(tt.ua); got != tt.want {
			t.Errorf("CoarseUA(%.40q…) = %+v, want %+v", tt.ua, got, tt.want)
		}
	}
}

// FuzzDecode: no input may panic, and every rejection is a 4xx apierr.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(validBody))
	f.Add([]byte(`{"choices":{"a":true,"a":false}}`))
	f.Add([]byte(`{"config_version":1e99}`))
	f.Add([]byte("\xff\xfe"))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := Decode(body)
		if err == nil {
			if r == nil {
				t.Fatal("nil request without error")
			}
			_ = r.Check(testVersion())
			_ = NewRecord(r, testVersion(), Client{}, uuid.New(), time.Now())
			return
		}
		var ae *apierr.Error
		if !errors.As(err, &ae) || ae.Status < 400 || ae.Status > 499 {
			t.Fatalf("rejection must be a 4xx apierr.Error, got %v", err)
		}
	})
}
