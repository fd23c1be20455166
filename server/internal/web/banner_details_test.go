package web_test

import (
	"bytes"
	"encoding/json"
	"io"
	"regexp"
	"testing"

	"github.com/andybalholm/brotli"
)

func TestBannerDetails(t *testing.T) {
	s := newStack(t, nil)
	r := s.do(t, "GET", "/b/demo/1/details.json?lang=en", nil, map[string]string{"Accept-Encoding": "br"})
	if r.status != 200 || r.header.Get("Content-Encoding") != "br" || r.header.Get("Access-Control-Allow-Origin") != "*" ||
		r.header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Fatalf("details: %d %v", r.status, r.header)
	}
	raw, err := io.ReadAll(brotli.NewReader(bytes.NewReader(r.body)))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Items []struct{ Name string } `json:"items"`
		None  string                  `json:"none"`
	}
	if err := json.Unmarshal(raw, &d); err != nil || len(d.Items) < 10 || d.None != "No cookies in this category." {
		t.Fatalf("details body %s (%v)", raw, err)
	}
	if again := s.do(t, "GET", "/b/demo/1/details.json?lang=en", nil, map[string]string{"Accept-Encoding": "br", "If-None-Match": r.header.Get("ETag")}); again.status != 304 {
		t.Errorf("revalidation: %d", again.status)
	}
	for path, code := range map[string]string{
		"/b/demo/9/details.json":   "unknown_version",
		"/b/demo/0/details.json":   "unknown_version",
		"/b/demo/x/details.json":   "unknown_version",
		"/b/Nope!/1/details.json":  "unknown_site",
		"/b/nosuch/1/details.json": "unknown_version",
	} {
		r := s.do(t, "GET", path, nil, nil)
		if got, _ := apiError(t, r); r.status != 404 || got != code {
			t.Errorf("%s: %d %s, want 404 %s", path, r.status, got, code)
		}
	}
}

// The second layer's stylesheet: at the address the banner names, public,
// compressed, cached for good; under any other name, never cached.
func TestBannerStyles(t *testing.T) {
	s := newStack(t, nil)
	b := s.do(t, "GET", "/b/demo.js", nil, nil)
	m := regexp.MustCompile(`"styles":"http://[^/"]+(/b/settings\.css\?v=[0-9a-f]{12})"`).FindSubmatch(b.body)
	if b.status != 200 || m == nil {
		t.Fatalf("banner: %d, no stylesheet URL in it", b.status)
	}
	r := s.do(t, "GET", string(m[1]), nil, map[string]string{"Accept-Encoding": "br"})
	if r.status != 200 || r.header.Get("Content-Type") != "text/css; charset=utf-8" || r.header.Get("Content-Encoding") != "br" ||
		r.header.Get("Access-Control-Allow-Origin") != "*" || r.header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Fatalf("stylesheet: %d %v", r.status, r.header)
	}
	css, err := io.ReadAll(brotli.NewReader(bytes.NewReader(r.body)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(css, []byte(".m{")) || bytes.Contains(css, []byte("/*")) {
		t.Errorf("stylesheet is not the minified settings.css: %.80s", css)
	}
	// Another release's name (a rolling deploy): served, but not kept.
	for _, path := range []string{"/b/settings.css?v=000000000000", "/b/settings.css"} {
		if r := s.do(t, "GET", path, nil, nil); r.status != 200 || r.header.Get("Cache-Control") != "no-cache" {
			t.Errorf("%s: %d, Cache-Control %q; want 200, no-cache", path, r.status, r.header.Get("Cache-Control"))
		}
	}
}
