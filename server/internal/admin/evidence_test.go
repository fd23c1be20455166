package admin_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/samtycke/samtycke/server/internal/demo"
	"github.com/samtycke/samtycke/server/internal/manage"
)

// page GETs a dashboard page with a session, or POSTs a form to it (with
// the session's CSRF token), without following redirects.
func (s *stack) page(t *testing.T, cl client, method, path string, form url.Values) response {
	t.Helper()
	var body io.Reader
	if form != nil {
		form.Set("_csrf", cl.csrf)
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, s.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.AddCookie(&http.Cookie{Name: "samtycke_session", Value: cl.cookie})
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{res.StatusCode, res.Header, b}
}

// shortenDemoRetention saves a draft of the demo site that keeps consent
// records for 6 months instead of 24.
func shortenDemoRetention(t *testing.T, s *stack) {
	t.Helper()
	ctx := context.Background()
	d, err := s.svc.Manager.Draft(ctx, demo.SiteID)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(d.Config, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["consent"].(map[string]any)["retention_months"] = 6
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.Manager.SaveDraft(ctx, manage.Principal{Email: adminEmail}, demo.SiteID, js); err != nil {
		t.Fatal(err)
	}
}

// Giving up evidence names what the consent log holds (counted in
// ClickHouse) and needs the owner to type the site's id: shortening
// retention at publish or rollback, and deleting the site. The audit
// trail records the numbers.
func TestEvidenceNeedsTheOwnerAndTheSiteID(t *testing.T) {
	s := newStack(t, nil)
	ctx := context.Background()
	// 1000 decisions between 3 and 12 January.
	from := time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)
	if err := s.svc.Store.GenerateConsents(ctx, demo.SiteID, 1000, from, 10); err != nil {
		t.Fatal(err)
	}
	owner := s.login(t, adminEmail, adminPassword)
	editor := s.user(t, "editor@example.se", demo.SiteID, manage.Editor)
	auditor := s.user(t, "auditor@example.se", demo.SiteID, manage.Auditor)
	shortenDemoRetention(t, s)

	t.Run("the preview counts the records", func(t *testing.T) {
		pv := decode[manage.Preview](t, s.do(t, editor, "GET", "/v1/sites/demo/publish", nil))
		rc := pv.RetentionShortened
		if rc == nil || rc.Records == nil {
			t.Fatalf("no retention warning with records: %+v", pv)
		}
		if rc.Records.Records != 1000 || !rc.Records.First.Truncate(24*time.Hour).Equal(from) ||
			!rc.Records.Last.Truncate(24*time.Hour).Equal(from.AddDate(0, 0, 9)) || rc.FromMonths != 24 || rc.ToMonths != 6 {
			t.Errorf("retention change %+v, records %+v", rc, rc.Records)
		}
		if !rc.FirstGoesNow.Before(rc.FirstGoesWas) {
			t.Errorf("first deletion %s under 6 months, %s under 24", rc.FirstGoesNow, rc.FirstGoesWas)
		}
		page := string(s.page(t, owner, "GET", "/admin/sites/demo/publish", nil).body)
		for _, want := range []string{"The 1000 records already in the log (2026-01-03 to 2026-01-12)", `name="confirm_site"`} {
			if !strings.Contains(page, want) {
				t.Errorf("the owner's publish page lacks %q", want)
			}
		}
		if page := string(s.page(t, editor, "GET", "/admin/sites/demo/publish", nil).body); !strings.Contains(page, "Only an owner may publish this") {
			t.Error("the editor's publish page does not say only an owner may publish")
		}
	})

	t.Run("publish", func(t *testing.T) {
		if r := s.do(t, editor, "POST", "/v1/sites/demo/publish", map[string]string{"confirm_site": "demo"}); r.status != http.StatusForbidden || !strings.Contains(string(r.body), "owner_only") {
			t.Errorf("an editor, even typing the id: %d %s", r.status, r.body)
		}
		for _, body := range []any{nil, map[string]string{"confirm_site": "Demo"}} {
			r := s.do(t, owner, "POST", "/v1/sites/demo/publish", body)
			if r.status != http.StatusConflict || !strings.Contains(string(r.body), `"code":"confirm_site"`) ||
				!strings.Contains(string(r.body), "1000 records already in the log (2026-01-03 to 2026-01-12)") {
				t.Errorf("an owner without the id (%v): %d %s", body, r.status, r.body)
			}
		}
		// The page asks again, with the same words.
		r := s.page(t, owner, "POST", "/admin/sites/demo/publish", url.Values{"note": {"short"}, "confirm_site": {"dem"}})
		if r.status != http.StatusConflict || !strings.Contains(string(r.body), "Type the site&#39;s id (demo) to confirm") {
			t.Errorf("the page without the id: %d", r.status)
		}
		if v, err := s.svc.Versions.Current(ctx, demo.SiteID); err != nil || v.Config.Consent.RetentionMonths != 24 {
			t.Fatalf("published without the confirmation: %v", err)
		}
		r = s.page(t, owner, "POST", "/admin/sites/demo/publish", url.Values{"note": {"short"}, "confirm_site": {" demo "}})
		if r.status != http.StatusSeeOther {
			t.Fatalf("the owner typing the id: %d %s", r.status, r.body)
		}
		evs, err := s.svc.Manager.AuditTrail(ctx, manage.AuditQuery{Site: demo.SiteID, Action: "publish"})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range evs {
			found = found || strings.Contains(e.Details, `"retention_shortened":{"first_recorded":"2026-01-03T`) && strings.Contains(e.Details, `"records":1000`)
		}
		if !found {
			t.Errorf("the audit trail: %+v", evs)
		}
	})

	t.Run("rollback to the longer retention needs nothing, back to the shorter the id", func(t *testing.T) {
		vs, err := s.svc.Manager.Versions(ctx, demo.SiteID)
		if err != nil || len(vs) < 2 {
			t.Fatalf("versions %v %v", vs, err)
		}
		long, short := vs[1].Number, vs[0].Number
		if r := s.do(t, editor, "POST", "/v1/sites/demo/versions/"+itoa(long)+"/rollback", nil); r.status != http.StatusCreated {
			t.Fatalf("an editor lengthening by rollback: %d %s", r.status, r.body)
		}
		page := string(s.page(t, owner, "GET", "/admin/sites/demo/versions/"+itoa(short), nil).body)
		if !strings.Contains(page, `id="rollback-retention"`) || !strings.Contains(page, "the 1000 records already in the log") {
			t.Error("the version page does not warn of the shorter retention")
		}
		if r := s.do(t, owner, "POST", "/v1/sites/demo/versions/"+itoa(short)+"/rollback", nil); r.status != http.StatusConflict || !strings.Contains(string(r.body), "confirm_site") {
			t.Errorf("an owner's rollback to the shorter retention without the id: %d %s", r.status, r.body)
		}
		if r := s.do(t, owner, "POST", "/v1/sites/demo/versions/"+itoa(short)+"/rollback", map[string]string{"confirm_site": "demo"}); r.status != http.StatusCreated {
			t.Errorf("with the id: %d %s", r.status, r.body)
		}
	})

	t.Run("delete the site", func(t *testing.T) {
		page := string(s.page(t, owner, "GET", "/admin/sites/demo", nil).body)
		if !strings.Contains(page, "The consent log holds 1000 records, from 2026-01-03 to 2026-01-12.") {
			t.Error("the overview does not say what the log holds")
		}
		if page := string(s.page(t, editor, "GET", "/admin/sites/demo", nil).body); strings.Contains(page, "1000 records") || strings.Contains(page, "Delete site") {
			t.Error("an editor sees the deletion")
		}
		for _, c := range []client{editor, auditor} {
			if r := s.do(t, c, "DELETE", "/v1/sites/demo?confirm_site=demo", nil); r.status != http.StatusForbidden {
				t.Errorf("%s deletes: %d", c.name, r.status)
			}
		}
		r := s.do(t, owner, "DELETE", "/v1/sites/demo", nil)
		if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "Its 1000 consent records (2026-01-03 to 2026-01-12) stay in the database until their retention ends (the last on 2100-01-01)") {
			t.Errorf("without the id: %d %s", r.status, r.body)
		}
		if r := s.page(t, owner, "POST", "/admin/sites/demo/delete", url.Values{"confirm": {"dem"}}); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "1000 consent records") {
			t.Errorf("the page without the id: %d", r.status)
		}
		if r := s.do(t, owner, "DELETE", "/v1/sites/demo?confirm_site=demo", nil); r.status != http.StatusNoContent {
			t.Fatalf("with the id: %d %s", r.status, r.body)
		}
		evs, err := s.svc.Manager.AuditTrail(ctx, manage.AuditQuery{Site: demo.SiteID, Action: "site.delete"})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 1 || !strings.Contains(evs[0].Details, `"records":1000`) || !strings.Contains(evs[0].Details, `"kept_until":"2100-01-01T`) {
			t.Errorf("the audit trail of the deletion: %+v", evs)
		}
	})
}

func itoa(n uint32) string { return strconv.FormatUint(uint64(n), 10) }
