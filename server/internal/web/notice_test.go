package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/samtycke/samtycke/server/internal/demo"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

func TestNoticeRoutes(t *testing.T) {
	s := newStack(t, nil)
	sv := s.do(t, "GET", "/s/demo/cookies?lang=sv", nil, nil)
	if sv.status != 200 || !strings.HasPrefix(sv.header.Get("Content-Type"), "text/html") || !bytes.Contains(sv.body, []byte(`<html lang="sv">`)) {
		t.Fatalf("sv: %d %v %.200s", sv.status, sv.header, sv.body)
	}
	csp := sv.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "script-src 'sha256-") {
		t.Errorf("CSP %q", csp)
	}
	// The demo is served on one of its own origins: the page loads its banner.
	if !bytes.Contains(sv.body, []byte(`<script src="`+s.base+`/b/demo.js" async>`)) {
		t.Error("the notice page does not load the site's banner")
	}
	// A site on other origins: its notice here cannot offer its banner.
	other, err := demo.Config(s.base)
	if err != nil {
		t.Fatal(err)
	}
	other.AllowedOrigins = []string{"https://shop.example"}
	if _, _, err := s.svc.Versions.Publish(context.Background(), "shop", other, "test", ""); err != nil {
		t.Fatal(err)
	}
	if r := s.do(t, "GET", "/s/shop/cookies?lang=en", nil, nil); r.status != 200 || bytes.Contains(r.body, []byte("<script src=")) || !bytes.Contains(r.body, []byte("data-samtycke-open hidden")) {
		t.Errorf("shop: %d, the page must not load a banner it cannot use", r.status)
	}
	etag := sv.header.Get("ETag")
	if r := s.do(t, "GET", "/s/demo/cookies?lang=sv", nil, map[string]string{"If-None-Match": etag}); r.status != 304 {
		t.Errorf("If-None-Match: %d", r.status)
	}
	if r := s.do(t, "GET", "/s/demo/cookies", nil, map[string]string{"Accept-Language": "en-GB,en;q=0.9,sv;q=0.5"}); !bytes.Contains(r.body, []byte(`<html lang="en">`)) || r.header.Get("Content-Language") != "en" || !strings.Contains(r.header.Get("Vary"), "Accept-Language") {
		t.Errorf("Accept-Language en: %v", r.header)
	}
	if r := s.do(t, "GET", "/s/demo/cookies", nil, map[string]string{"Accept-Language": "de"}); !bytes.Contains(r.body, []byte(`<html lang="sv">`)) {
		t.Error("without a configured language the site's default (sv) must be used")
	}
	if r := s.do(t, "GET", "/s/demo/cookies/v/1?lang=sv", nil, nil); r.status != 200 || !bytes.Equal(r.body, sv.body) {
		t.Errorf("v/1 must equal the current version 1: %d", r.status)
	}
	br := s.do(t, "GET", "/s/demo/cookies?lang=sv", nil, map[string]string{"Accept-Encoding": "br"})
	if br.header.Get("Content-Encoding") != "br" || len(br.body)*3 > len(sv.body) {
		t.Errorf("brotli: %s, %d of %d bytes", br.header.Get("Content-Encoding"), len(br.body), len(sv.body))
	}

	js := s.do(t, "GET", "/s/demo/cookies.json?lang=en", nil, nil)
	var d struct {
		Version    int
		Lang       string
		Categories []struct{ ID string }
	}
	if err := json.Unmarshal(js.body, &d); err != nil || d.Version != 1 || d.Lang != "en" || len(d.Categories) != 4 {
		t.Fatalf("cookies.json: %v %+v", err, d)
	}
	if r := s.do(t, "GET", "/s/demo/cookies/v/1.json?lang=en", nil, nil); !bytes.Equal(r.body, js.body) {
		t.Error("v/1.json must equal cookies.json of version 1")
	}

	emb := s.do(t, "GET", "/s/demo/cookies/embed.json?lang=sv", nil, map[string]string{"Origin": "https://shop.example"})
	var e struct{ HTML, CSS string }
	if err := json.Unmarshal(emb.body, &e); err != nil || emb.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("embed: %v %v", err, emb.header)
	}
	if !strings.Contains(e.HTML, "data-samtycke-open") || strings.Contains(e.HTML, "<script") || strings.Contains(e.HTML, "style=") || !strings.Contains(e.CSS, "table") {
		t.Errorf("embed html must be self-contained markup with the open button: %.300s", e.HTML)
	}

	for _, tt := range []struct {
		path   string
		status int
		code   string
	}{
		{"/s/demo/cookies?lang=de", 404, "unknown_language"},
		{"/s/demo/cookies?lang=sv%3Cx", 400, "bad_lang"},
		{"/s/demo/cookies/v/0", 400, "bad_version"},
		{"/s/demo/cookies/v/abc", 400, "bad_version"},
		{"/s/demo/cookies/v/99999999999", 400, "bad_version"},
		{"/s/demo/cookies/v/7", 404, "unknown_version"},
		{"/s/nosuchsite/cookies", 404, "unknown_site"},
		{"/s/Bad!Site/cookies.json", 404, "unknown_site"},
		{"/s/nosuchsite/cookies/embed.json", 404, "unknown_site"},
	} {
		r := s.do(t, "GET", tt.path, nil, nil)
		if code, _ := apiError(t, r); r.status != tt.status || code != tt.code {
			t.Errorf("%s: %d %s, want %d %s", tt.path, r.status, code, tt.status, tt.code)
		}
	}
}

// TestNoticeVersionsStay: after a new publish the current notice is version
// 2 and links version 1, and version 1 is byte for byte what it was, also
// when rendered afresh by another instance.
func TestNoticeVersionsStay(t *testing.T) {
	s := newStack(t, nil)
	paths := []string{"/s/demo/cookies/v/1?lang=sv", "/s/demo/cookies/v/1?lang=en", "/s/demo/cookies/v/1.json?lang=sv", "/s/demo/cookies/embed.json?lang=en"}
	before := map[string][]byte{}
	for _, p := range paths {
		before[p] = s.do(t, "GET", p, nil, nil).body
	}
	cfg, err := demo.Config(s.base)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Items = append(cfg.Items, siteconfig.Item{Name: "_hjSessionUser_<id>", Pattern: "^_hjSessionUser_[0-9]+$", Type: "cookie",
		Provider: "Hotjar Ltd", Party: "first", Category: "statistics", Duration: "P1Y",
		Purpose:      siteconfig.Localized{"sv": "Hotjar: känner igen återkommande besökare.", "en": "Hotjar: recognises returning visitors."},
		ThirdCountry: siteconfig.ThirdCountry{Transfer: false}})
	v2, created, err := s.svc.Versions.Publish(context.Background(), "demo", cfg, "test", "add Hotjar")
	if err != nil || !created || v2.Number != 2 {
		t.Fatalf("publish: %v %v", err, created)
	}
	cur := s.do(t, "GET", "/s/demo/cookies/v/2?lang=sv", nil, nil)
	if !bytes.Contains(cur.body, []byte("_hjSessionUser_&lt;id&gt;")) || !bytes.Contains(cur.body, []byte(s.base+"/s/demo/cookies/v/1?lang=sv")) {
		t.Errorf("version 2 must show the new item and link version 1")
	}
	// A second instance on the same database renders version 1 afresh.
	other := newStack(t, map[string]string{"SAMTYCKE_CLICKHOUSE_URL": s.svc.Config.ClickHouseURL, "SAMTYCKE_PUBLIC_URL": s.base})
	for _, p := range paths[:3] {
		if got := other.do(t, "GET", p, nil, nil).body; !bytes.Equal(got, before[p]) {
			t.Errorf("%s changed after a new publish", p)
		}
		if got := s.do(t, "GET", p, nil, nil).body; !bytes.Equal(got, before[p]) {
			t.Errorf("%s changed after a new publish (same instance)", p)
		}
	}
	if got := other.do(t, "GET", paths[3], nil, nil).body; bytes.Equal(got, before[paths[3]]) {
		t.Error("the embed serves the current version: it must show version 2 now")
	}
}
