package web_test

import "testing"

// Strict-Transport-Security on answers served over https (a trusted proxy
// says so, or the public URL is https), never over plain http, and never
// because an untrusted client claims https.
func TestHSTSOverHTTPSOnly(t *testing.T) {
	s := newStack(t, map[string]string{"SAMTYCKE_TRUSTED_PROXIES": "127.0.0.1"})
	for _, c := range []struct {
		header map[string]string
		want   bool
	}{
		{nil, false},
		{map[string]string{"X-Forwarded-Proto": "https"}, true},
		{map[string]string{"X-Forwarded-Proto": "http"}, false},
	} {
		for _, path := range []string{"/healthz", "/admin/login", "/b/demo.js"} {
			r := s.do(t, "GET", path, nil, c.header)
			if got := r.header.Get("Strict-Transport-Security"); (got != "") != c.want {
				t.Errorf("%s %v: HSTS %q, want it %v", path, c.header, got, c.want)
			}
		}
	}
	untrusted := newStack(t, nil)
	if got := untrusted.do(t, "GET", "/healthz", nil, map[string]string{"X-Forwarded-Proto": "https"}).header.Get("Strict-Transport-Security"); got != "" {
		t.Errorf("an untrusted client's X-Forwarded-Proto gave HSTS %q", got)
	}
	public := newStack(t, map[string]string{"SAMTYCKE_PUBLIC_URL": "https://consent.example.se"})
	if got := public.do(t, "GET", "/healthz", nil, nil).header.Get("Strict-Transport-Security"); got != "max-age=63072000" {
		t.Errorf("public URL https: HSTS %q", got)
	}
}
