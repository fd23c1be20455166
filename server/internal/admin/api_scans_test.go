package admin_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/demo"
	"github.com/samtycke/samtycke/server/internal/manage"
)

type apiFinding struct {
	Kind, Name, Domain string
	Findings           []string
	InDraft            bool `json:"in_draft"`
	Suggestion         *struct{ Type, Name, Domain, Category string }
}

// The scans API on stored reports in ClickHouse: every role and token of
// the site reads the history and the latest report with its findings;
// owners and editors (by session or token) add a suggested declaration to
// the draft, once (409 after), without losing edits made in between;
// auditors cannot, and another site's owner learns nothing.
func TestScansAPIPerRole(t *testing.T) {
	s := newStack(t, nil)
	ctx := context.Background()
	owner := s.login(t, adminEmail, adminPassword)
	editor := s.user(t, "editor@example.se", demo.SiteID, manage.Editor)
	auditor := s.user(t, "auditor@example.se", demo.SiteID, manage.Auditor)
	editorToken, auditorToken := s.token(t, demo.SiteID, manage.Editor), s.token(t, demo.SiteID, manage.Auditor)
	if _, err := s.svc.Manager.CreateSite(ctx, manage.Principal{Email: adminEmail}, "other", "Other", nil); err != nil {
		t.Fatal(err)
	}
	stranger := s.token(t, "other", manage.Owner)

	if r := s.do(t, editorToken, "GET", "/v1/sites/demo/scans", nil); r.status != http.StatusOK || strings.TrimSpace(string(r.body)) != `{"scans":[]}` {
		t.Errorf("no scans yet: %d %s", r.status, r.body)
	}
	if r := s.do(t, editorToken, "GET", "/v1/sites/demo/scans/latest", nil); r.status != http.StatusNotFound || !strings.Contains(string(r.body), `"no_scans"`) {
		t.Errorf("latest without scans: %d %s", r.status, r.body)
	}
	old := demoScan(t, s, time.Now().UTC().Add(-48*time.Hour).Truncate(time.Second))
	latest := demoScan(t, s, time.Now().UTC().Add(-time.Hour).Truncate(time.Second))

	for _, c := range []client{owner, editor, auditor, editorToken, auditorToken} {
		list := decode[struct {
			Scans []struct {
				ID         string
				Undeclared int
				Pages      int
			}
		}](t, s.do(t, c, "GET", "/v1/sites/demo/scans", nil))
		if len(list.Scans) != 2 || list.Scans[0].ID != latest.ID || list.Scans[1].ID != old.ID || list.Scans[0].Undeclared != 2 || list.Scans[0].Pages != 2 {
			t.Errorf("%s: history %+v", c.name, list.Scans)
		}
		r := s.do(t, c, "GET", "/v1/sites/demo/scans/latest", nil)
		rep := decode[struct {
			ID       string
			Findings []apiFinding
			Report   struct{ Site string }
		}](t, r)
		if r.status != http.StatusOK || rep.ID != latest.ID || rep.Report.Site != demo.SiteID || len(rep.Findings) != 3 {
			t.Fatalf("%s: latest %d %s", c.name, r.status, r.body)
		}
		f := rep.Findings[0]
		if f.Name != "_hjSessionUser_123456" || f.Suggestion == nil || f.Suggestion.Name != "_hjSessionUser_*" || f.Suggestion.Category != "statistics" || f.InDraft {
			t.Errorf("%s: first finding %+v", c.name, f)
		}
		if h := rep.Findings[1]; h.Kind != "host" || h.Name != "px.ads.example" || strings.Join(h.Findings, ",") != "undeclared,pre-consent" {
			t.Errorf("%s: host finding %+v", c.name, h)
		}
		if u := rep.Findings[2]; u.Name != "_old" || u.Suggestion != nil || u.Findings[0] != "unseen" {
			t.Errorf("%s: unseen finding %+v", c.name, u)
		}
	}
	if r := s.do(t, owner, "GET", "/v1/sites/demo/scans/"+old.ID, nil); r.status != http.StatusOK || !strings.Contains(string(r.body), old.ID) {
		t.Errorf("an older scan: %d", r.status)
	}
	for path, want := range map[string]int{"/scans": 404, "/scans/latest": 404, "/scans/" + latest.ID: 404} {
		if r := s.do(t, stranger, "GET", "/v1/sites/demo"+path, nil); r.status != want {
			t.Errorf("another site's owner: GET %s: %d", path, r.status)
		}
	}
	for id, want := range map[string]int{"not-a-uuid": 400, uuid.NewString(): 404} {
		if r := s.do(t, owner, "GET", "/v1/sites/demo/scans/"+id, nil); r.status != want {
			t.Errorf("scan %s: %d, want %d: %s", id, r.status, want, r.body)
		}
	}

	hotjar := map[string]string{"type": "cookie", "name": "_hjSessionUser_*", "domain": ""}
	pixel := map[string]string{"type": "pixel", "name": "px.ads.example", "domain": "px.ads.example"}
	add := "/v1/sites/demo/scans/" + latest.ID + "/add"
	for _, c := range []client{auditor, auditorToken} {
		if r := s.do(t, c, "POST", add, hotjar); r.status != http.StatusForbidden {
			t.Errorf("%s adds: %d", c.name, r.status)
		}
	}
	if r := s.do(t, stranger, "POST", add, hotjar); r.status != http.StatusNotFound {
		t.Errorf("another site's owner adds: %d", r.status)
	}
	for _, bad := range []struct {
		body any
		want int
		code string
	}{
		{map[string]string{"type": "cookie", "name": "_nothing"}, 404, "no_suggestion"},
		{map[string]string{"type": "cookie"}, 400, `"field":"name"`},
		{map[string]string{"name": "_hjSessionUser_*"}, 400, `"field":"type"`},
		{map[string]any{"type": "cookie", "name": 3}, 400, "invalid_type"},
		{map[string]string{"type": "cookie", "name": "x", "extra": "y"}, 400, "invalid_json"},
	} {
		if r := s.do(t, editorToken, "POST", add, bad.body); r.status != bad.want || !strings.Contains(string(r.body), bad.code) {
			t.Errorf("add %v: %d %s, want %d %s", bad.body, r.status, r.body, bad.want, bad.code)
		}
	}
	if r := s.do(t, editorToken, "POST", "/v1/sites/demo/scans/"+uuid.NewString()+"/add", hotjar); r.status != http.StatusNotFound {
		t.Errorf("add from a scan that does not exist: %d", r.status)
	}

	// An edit of the draft made meanwhile stays; two adds at once both land.
	d := decode[struct {
		Config   map[string]any
		Revision string
	}](t, s.do(t, editor, "GET", "/v1/sites/demo/draft", nil))
	d.Config["name"] = "Demo, edited meanwhile"
	if r := s.do(t, editor, "PUT", "/v1/sites/demo/draft", withIfMatch{`"` + d.Revision + `"`, d.Config}); r.status != http.StatusOK {
		t.Fatalf("edit: %d %s", r.status, r.body)
	}
	var wg sync.WaitGroup
	res := make([]response, 2)
	for i, c := range []struct {
		cl   client
		body map[string]string
	}{{editorToken, hotjar}, {owner, pixel}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i] = s.do(t, c.cl, "POST", "/v1/sites/demo/scans/latest/add", c.body)
		}()
	}
	wg.Wait()
	for i, r := range res {
		if r.status != http.StatusCreated || r.header.Get("ETag") == "" || !strings.Contains(string(r.body), `"revision"`) {
			t.Errorf("add %d: %d %s", i, r.status, r.body)
		}
	}
	draft, err := s.svc.Manager.Draft(ctx, demo.SiteID)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := manage.LenientConfig(draft.Config)
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, it := range cfg.Items {
		n[it.Name]++
		if it.Name == "_hjSessionUser_*" && (it.Pattern != `^_hjSessionUser_[0-9]+$` || it.Provider != "Hotjar Ltd") {
			t.Errorf("added as %+v", it)
		}
	}
	if n["_hjSessionUser_*"] != 1 || n["px.ads.example"] != 1 || cfg.Name != "Demo, edited meanwhile" {
		t.Errorf("the draft after the adds: %v, name %q", n, cfg.Name)
	}
	if r := s.do(t, editor, "POST", add, hotjar); r.status != http.StatusConflict || !strings.Contains(string(r.body), `"in_draft"`) {
		t.Errorf("adding twice: %d %s", r.status, r.body)
	}
	rep := decode[struct{ Findings []apiFinding }](t, s.do(t, auditorToken, "GET", "/v1/sites/demo/scans/latest", nil))
	if len(rep.Findings) < 2 || !rep.Findings[0].InDraft || !rep.Findings[1].InDraft {
		t.Errorf("the findings do not say their suggestions are in the draft: %+v", rep.Findings)
	}
}
