package admin_test

import (
	"net/http"
	"testing"
	"time"
)

// Two server instances of one deployment (same ClickHouse database, same
// Redis): a publish through A changes the banner's ETag on B long before
// B's pointer would expire (10 s).
func TestPublishChangesTheBannerOnEveryInstance(t *testing.T) {
	a := newStack(t, nil)
	b := anotherInstance(t, a)
	etag := func(s *stack) string {
		r := s.do(t, client{}, "GET", "/b/demo.js", nil)
		if r.status != http.StatusOK {
			t.Fatalf("banner: %d", r.status)
		}
		return r.header.Get("ETag")
	}
	beforeA, beforeB := etag(a), etag(b)

	admin := a.login(t, adminEmail, adminPassword)
	d := decode[struct {
		Config   map[string]any
		Revision string
	}](t, a.do(t, admin, "GET", "/v1/sites/demo/draft", nil))
	d.Config["name"] = "Demobutiken (ny)"
	if r := a.do(t, admin, "PUT", "/v1/sites/demo/draft", withIfMatch{`"` + d.Revision + `"`, d.Config}); r.status != http.StatusOK {
		t.Fatalf("draft: %d %s", r.status, r.body)
	}
	start := time.Now()
	if r := a.do(t, admin, "POST", "/v1/sites/demo/publish", map[string]string{"note": "rename"}); r.status != http.StatusCreated {
		t.Fatalf("publish: %d %s", r.status, r.body)
	}
	if etag(a) == beforeA {
		t.Error("the publishing instance still serves the old banner")
	}
	for deadline := start.Add(8 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if etag(b) != beforeB {
			t.Logf("instance B serves the new banner %v after the publish on A", time.Since(start).Round(time.Millisecond))
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("instance B still serves the old banner")
		}
	}
}
