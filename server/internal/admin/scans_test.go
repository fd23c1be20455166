package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/demo"
	"github.com/samtycke/samtycke/server/internal/manage"
	"github.com/samtycke/samtycke/server/internal/scan"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// demoScan is a report as `samtycke scan` stores it: an undeclared
// statistics cookie (with its suggested declaration), a third-party host
// contacted before consent, and a declared item never seen.
func demoScan(t *testing.T, s *stack, at time.Time) *scan.Report {
	t.Helper()
	ctx := context.Background()
	cur, err := s.svc.Versions.Current(ctx, demo.SiteID)
	if err != nil {
		t.Fatal(err)
	}
	hotjar := siteconfig.Item{Name: "_hjSessionUser_*", Pattern: `^_hjSessionUser_[0-9]+$`, Type: "cookie", Provider: "Hotjar Ltd",
		Party: "first", Category: "statistics", Duration: "P1Y",
		Purpose: siteconfig.Localized{"sv": "Hotjar: känner igen återkommande besökare.", "en": "Hotjar: recognises returning visitors."}}
	pixel := siteconfig.Item{Name: "px.ads.example", Type: "pixel", Provider: "Ads Example", Party: "third", Domain: "px.ads.example",
		Category: "marketing", Duration: "session", Purpose: siteconfig.Localized{"sv": "Annonser.", "en": "Advertising."}}
	r := &scan.Report{ID: uuid.NewString(), Site: demo.SiteID, ConfigVersion: cur.Number, ConfigHash: cur.Hash, StartedAt: at, DurationMS: 4200,
		Lang: "en", StartURLs: []string{"https://demo.example/"}, BannerFound: true,
		Pages: []scan.Page{{Pass: scan.Before, URL: "https://demo.example/", Status: 200}, {Pass: scan.After, URL: "https://demo.example/", Status: 200}},
		Items: []scan.Observed{
			{Type: "cookie", Name: "_hjSessionUser_123456", Domain: "demo.example", Party: "first", AfterConsent: true,
				Findings: []string{scan.Undeclared}, Suggestion: &hotjar},
			{Type: "cookie", Name: "samtycke", Domain: "demo.example", Party: "first", BeforeConsent: true, AfterConsent: true,
				Declared: &scan.Declared{Name: "samtycke", Type: "cookie", Category: "necessary"}},
		},
		ThirdParties: []scan.ThirdParty{{Host: "px.ads.example", Requests: 3, Example: "https://px.ads.example/p.gif", BeforeConsent: true,
			AfterConsent: true, Findings: []string{scan.Undeclared, scan.PreConsent}, Suggestion: &pixel}},
		Unseen:      []scan.Declared{{Name: "_old", Type: "cookie", Category: "statistics"}},
		Suggestions: []siteconfig.Item{hotjar, pixel},
		Counts:      map[string]int{scan.Undeclared: 2, scan.PreConsent: 1, scan.Unseen: 1},
	}
	if err := s.svc.Store.SaveScan(ctx, r); err != nil {
		t.Fatal(err)
	}
	return r
}

// The scans page shows the latest report and the history to every role;
// editors add a finding's suggested declaration to the draft in one click,
// auditors only read, and other sites' members learn nothing.
func TestScanReportsPerRole(t *testing.T) {
	s := newStack(t, nil)
	ctx := context.Background()
	old := demoScan(t, s, time.Now().UTC().Add(-48*time.Hour).Truncate(time.Second))
	latest := demoScan(t, s, time.Now().UTC().Add(-time.Hour).Truncate(time.Second))

	owner := s.login(t, adminEmail, adminPassword)
	editor := s.user(t, "editor@example.se", demo.SiteID, manage.Editor)
	auditor := s.user(t, "auditor@example.se", demo.SiteID, manage.Auditor)
	if _, err := s.svc.Manager.CreateSite(ctx, manage.Principal{Email: adminEmail}, "other", "Other", nil); err != nil {
		t.Fatal(err)
	}
	stranger := s.user(t, "stranger@example.se", "other", manage.Owner)

	for _, c := range []struct {
		client
		add bool
	}{{owner, true}, {editor, true}, {auditor, false}} {
		r := s.page(t, c.client, "GET", "/admin/sites/demo/scans", nil)
		page := string(r.body)
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d", c.name, r.status)
		}
		for _, want := range []string{"Latest scan", "_hjSessionUser_123456", "Hotjar: känner igen återkommande besökare.", "px.ads.example",
			"before consent", "never seen", "1 year", "/scans?scan=" + old.ID, "/scans?scan=" + latest.ID} {
			if !strings.Contains(page, want) {
				t.Errorf("%s: the page lacks %q", c.name, want)
			}
		}
		if got := strings.Count(page, "Add to draft"); (got == 2) != c.add || (!c.add && got != 0) {
			t.Errorf("%s: %d Add to draft buttons", c.name, got)
		}
	}
	if r := s.page(t, stranger, "GET", "/admin/sites/demo/scans", nil); r.status != http.StatusNotFound {
		t.Errorf("another site's owner: %d", r.status)
	}
	if r := s.page(t, stranger, "GET", "/admin/sites/other/scans", nil); r.status != http.StatusOK || !strings.Contains(string(r.body), "No scans of this site yet") ||
		strings.Contains(string(r.body), "_hjSessionUser") {
		t.Errorf("a site without scans: %d", r.status)
	}
	if r := s.page(t, owner, "GET", "/admin/sites/demo/scans?scan="+old.ID, nil); r.status != http.StatusOK || strings.Contains(string(r.body), "Latest scan ·") || !strings.Contains(string(r.body), "Scan · ") {
		t.Errorf("an older scan: %d", r.status)
	}
	for q, want := range map[string]int{"not-a-uuid": http.StatusBadRequest, uuid.NewString(): http.StatusNotFound} {
		if r := s.page(t, owner, "GET", "/admin/sites/demo/scans?scan="+q, nil); r.status != want {
			t.Errorf("scan=%s: %d, want %d", q, r.status, want)
		}
	}

	add := url.Values{"scan": {latest.ID}, "type": {"cookie"}, "name": {"_hjSessionUser_*"}, "domain": {""}}
	if r := s.page(t, auditor, "POST", "/admin/sites/demo/scans/add", add); r.status != http.StatusForbidden {
		t.Errorf("an auditor adds: %d", r.status)
	}
	if r := s.page(t, stranger, "POST", "/admin/sites/demo/scans/add", add); r.status != http.StatusNotFound {
		t.Errorf("a stranger adds: %d", r.status)
	}
	wrong := url.Values{"scan": {latest.ID}, "type": {"cookie"}, "name": {"_nothing"}, "domain": {""}}
	if r := s.page(t, editor, "POST", "/admin/sites/demo/scans/add", wrong); r.status != http.StatusNotFound {
		t.Errorf("a declaration the scan did not suggest: %d", r.status)
	}
	r := s.page(t, editor, "POST", "/admin/sites/demo/scans/add", add)
	if r.status != http.StatusSeeOther || !strings.Contains(r.header.Get("Location"), "added=") {
		t.Fatalf("an editor adds: %d %s", r.status, r.body)
	}
	d, err := s.svc.Manager.Draft(ctx, demo.SiteID)
	if err != nil {
		t.Fatal(err)
	}
	draft, err := manage.LenientConfig(d.Config)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, it := range draft.Items {
		if it.Name == "_hjSessionUser_*" {
			n++
			if it.Pattern != `^_hjSessionUser_[0-9]+$` || it.Category != "statistics" || it.Provider != "Hotjar Ltd" {
				t.Errorf("added as %+v", it)
			}
		}
	}
	if n != 1 || d.UpdatedBy != "editor@example.se" {
		t.Errorf("%d copies in the draft, saved by %s", n, d.UpdatedBy)
	}
	page := string(s.page(t, editor, "GET", r.header.Get("Location"), nil).body)
	if !strings.Contains(page, "Added cookie _hjSessionUser_* to the draft") || strings.Count(page, "Add to draft") != 1 || !strings.Contains(page, "In the draft.") {
		t.Errorf("after adding, the page does not say so")
	}
	if r := s.page(t, editor, "POST", "/admin/sites/demo/scans/add", add); r.status != http.StatusConflict || !strings.Contains(string(r.body), "is in the draft already") {
		t.Errorf("adding twice: %d", r.status)
	}
}

// Owners rename a site (the audit trail records it); editors and auditors
// cannot; a bad name is a 400 naming the field.
func TestRenameSitePerRole(t *testing.T) {
	s := newStack(t, nil)
	ctx := context.Background()
	owner := s.login(t, adminEmail, adminPassword)
	editor := s.user(t, "editor@example.se", demo.SiteID, manage.Editor)
	auditor := s.user(t, "auditor@example.se", demo.SiteID, manage.Auditor)
	for _, c := range []client{editor, auditor, s.token(t, demo.SiteID, manage.Editor)} {
		if r := s.do(t, c, "PATCH", "/v1/sites/demo", map[string]string{"name": "Taken over"}); r.status != http.StatusForbidden {
			t.Errorf("%s renames: %d", c.name, r.status)
		}
		if c.cookie != "" {
			if r := s.page(t, c, "POST", "/admin/sites/demo/rename", url.Values{"name": {"Taken over"}}); r.status != http.StatusForbidden {
				t.Errorf("%s renames on the page: %d", c.name, r.status)
			}
		}
	}
	for _, bad := range []string{"", "   ", strings.Repeat("x", 201), "two\nlines"} {
		if r := s.do(t, owner, "PATCH", "/v1/sites/demo", map[string]string{"name": bad}); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), `"field":"name"`) {
			t.Errorf("name %q: %d %s", bad, r.status, r.body)
		}
	}
	if r := s.do(t, owner, "PATCH", "/v1/sites/demo", map[string]any{"name": 3}); r.status != http.StatusBadRequest {
		t.Errorf("a number for a name: %d", r.status)
	}
	r := s.do(t, owner, "PATCH", "/v1/sites/demo", map[string]string{"name": "  Demo i Lund  "})
	if got := decode[struct{ Name string }](t, r); r.status != http.StatusOK || got.Name != "Demo i Lund" {
		t.Errorf("the owner renames: %d %s", r.status, r.body)
	}
	if r := s.page(t, owner, "POST", "/admin/sites/demo/rename", url.Values{"name": {"Demo AB"}}); r.status != http.StatusSeeOther {
		t.Errorf("the owner renames on the page: %d", r.status)
	}
	page := string(s.page(t, editor, "GET", "/admin/sites/demo", nil).body)
	if !strings.Contains(page, "<h1>Demo AB</h1>") || strings.Contains(page, `action="/admin/sites/demo/rename"`) {
		t.Error("the new name is not shown, or the editor sees the rename form")
	}
	if !strings.Contains(string(s.page(t, owner, "GET", "/admin/sites/demo", nil).body), `action="/admin/sites/demo/rename"`) {
		t.Error("the owner has no rename form")
	}
	evs, err := s.svc.Manager.AuditTrail(ctx, manage.AuditQuery{Site: demo.SiteID, Action: "site.rename"})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 {
		t.Fatalf("%d rename events", len(evs))
	}
	found := false
	for _, e := range evs {
		found = found || e.Details == `{"from":"Demo i Lund","to":"Demo AB"}`
	}
	if !found {
		t.Errorf("audit: %+v", evs)
	}
}

// The API's rollback, like the page's, replaces a draft with unpublished
// changes only when asked to.
func TestAPIRollbackKeepsAnUnpublishedDraft(t *testing.T) {
	s := newStack(t, nil)
	ctx := context.Background()
	editor := s.token(t, demo.SiteID, manage.Editor)
	d, err := s.svc.Manager.Draft(ctx, demo.SiteID)
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(d.Config), `"name":"`, `"name":"Unpublished `, 1)
	if _, err := s.svc.Manager.SaveDraft(ctx, manage.Principal{Email: adminEmail}, demo.SiteID, []byte(changed)); err != nil {
		t.Fatal(err)
	}
	r := s.do(t, editor, "POST", "/v1/sites/demo/versions/1/rollback", map[string]string{"note": "back"})
	if r.status != http.StatusConflict || !strings.Contains(string(r.body), `"code":"draft_not_published"`) || !strings.Contains(string(r.body), `"field":"replace_draft"`) {
		t.Errorf("a rollback over unpublished changes: %d %s", r.status, r.body)
	}
	if d, err := s.svc.Manager.Draft(ctx, demo.SiteID); err != nil || !strings.Contains(string(d.Config), "Unpublished ") {
		t.Fatalf("the draft was replaced: %v", err)
	}
	if r := s.do(t, editor, "POST", "/v1/sites/demo/versions/1/rollback", map[string]any{"replace_draft": true}); r.status != http.StatusCreated {
		t.Errorf("with replace_draft: %d %s", r.status, r.body)
	}
	if d, err := s.svc.Manager.Draft(ctx, demo.SiteID); err != nil || strings.Contains(string(d.Config), "Unpublished ") {
		t.Errorf("the draft was kept: %v", err)
	}
	// With nothing unpublished, no confirmation is needed.
	if r := s.do(t, editor, "POST", "/v1/sites/demo/versions/1/rollback", nil); r.status != http.StatusCreated {
		t.Errorf("a rollback over a published draft: %d %s", r.status, r.body)
	}
}
