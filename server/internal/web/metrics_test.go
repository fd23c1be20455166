package web_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// /metrics is not public by default: absent from the public listener
// unless a token is set, and served on SAMTYCKE_METRICS_LISTEN.
func TestMetricsAreNotPublic(t *testing.T) {
	s := newStack(t, map[string]string{"SAMTYCKE_METRICS_LISTEN": "127.0.0.1:0"})
	if r := s.do(t, "GET", "/metrics", nil, nil); r.status != 404 || strings.Contains(string(r.body), "go_goroutines") {
		t.Errorf("public /metrics without a token: %d %.80s", r.status, r.body)
	}
	addr := s.svc.MetricsAddr()
	if addr == "" {
		t.Fatal("no metrics listener")
	}
	res, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || !strings.Contains(string(b), "samtycke_spool_bytes") {
		t.Errorf("metrics listener: %d %.200s", res.StatusCode, b)
	}
}
