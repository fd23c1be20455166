package web_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// /metrics and the runtime's profiles are not public: absent from the
// public listener (metrics unless a token is set, profiles always), and
// served on SAMTYCKE_METRICS_LISTEN.
func TestMetricsAreNotPublic(t *testing.T) {
	s := newStack(t, map[string]string{"SAMTYCKE_METRICS_LISTEN": "127.0.0.1:0"})
	for _, path := range []string{"/metrics", "/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/profile?seconds=1"} {
		if r := s.do(t, "GET", path, nil, nil); r.status != 404 || strings.Contains(string(r.body), "go_goroutines") {
			t.Errorf("public %s: %d %.80s", path, r.status, r.body)
		}
	}
	addr := s.svc.MetricsAddr()
	if addr == "" {
		t.Fatal("no metrics listener")
	}
	for path, want := range map[string]string{
		"/metrics":                       "samtycke_spool_bytes",
		"/debug/pprof/":                  "goroutine",
		"/debug/pprof/goroutine?debug=1": "shipper",
		"/debug/pprof/profile?seconds=1": "\x1f\x8b", // a gzipped profile
	} {
		res, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("metrics listener %s: %d %.200q", path, res.StatusCode, b)
		}
	}
}
