package admin_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/bundle"
	"github.com/samtycke/samtycke/server/internal/consent"
	"github.com/samtycke/samtycke/server/internal/demo"
	"github.com/samtycke/samtycke/server/internal/ledger"
	"github.com/samtycke/samtycke/server/internal/manage"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// Decisions go through the real pipeline (spool, shipper, ledger); an
// auditor looks one visitor up and exports the day, and the bundle
// verifies; the visitor reads their own history; an auditor of another
// site gets 404; both reads are in the audit trail.
func TestLookupAndExportThroughThePipeline(t *testing.T) {
	s := newStack(t, nil)
	ctx := context.Background()
	visitor, cur, now := shipDecisions(t, s)
	admin := s.login(t, adminEmail, adminPassword)
	if r := s.do(t, admin, "POST", "/v1/sites", map[string]any{"id": "site-b", "name": "Site B", "allowed_origins": []string{"https://b.example"}}); r.status != http.StatusCreated {
		t.Fatalf("create site-b: %d %s", r.status, r.body)
	}
	auditor := s.user(t, "auditor@example.se", demo.SiteID, manage.Auditor)
	stranger := s.user(t, "auditor-b@example.se", "site-b", manage.Auditor)

	// Lookup by consent ID, with the exact texts of the version shown.
	path := "/v1/sites/" + demo.SiteID + "/consents/" + visitor.String()
	h := decode[struct {
		Records []struct {
			RecordID  string `json:"record_id"`
			ConsentID string `json:"consent_id"`
			IPPrefix  string `json:"ip_prefix"`
		}
		Versions map[string]struct {
			SHA256 string         `json:"sha256"`
			Config map[string]any `json:"config"`
		}
	}](t, s.do(t, auditor, "GET", path, nil))
	if len(h.Records) != 3 || h.Records[0].ConsentID != visitor.String() || h.Records[0].IPPrefix == "" {
		t.Errorf("lookup: %+v, want the visitor's 3 records in full", h.Records)
	}
	if v := h.Versions["1"]; v.SHA256 != cur.Hash || v.Config["texts"] == nil {
		t.Errorf("lookup: version 1 %+v, want its hash and texts", v)
	}
	if r := s.do(t, stranger, "GET", path, nil); r.status != http.StatusNotFound {
		t.Errorf("an auditor of site-b looks up %s: %d, want 404", demo.SiteID, r.status)
	}
	if r := s.do(t, auditor, "GET", "/v1/sites/"+demo.SiteID+"/consents/not-a-uuid", nil); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "invalid_consent_id") {
		t.Errorf("a bad consent ID: %d %s", r.status, r.body)
	}

	// Export of the day, streamed as a bundle that verifies.
	day := now.Format(time.DateOnly)
	export := "/v1/sites/" + demo.SiteID + "/consents/export?format=ndjson&from=" + day + "&to=" + now.Add(time.Second).Format(time.DateOnly)
	r := s.do(t, auditor, "GET", export, nil)
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/zip" || r.header.Get("X-Samtycke-Records") != "30" {
		t.Fatalf("export: %d %v", r.status, r.header)
	}
	zr, err := zip.NewReader(bytes.NewReader(r.body), int64(len(r.body)))
	if err != nil {
		t.Fatal(err)
	}
	key := s.svc.Ledger.Key()
	rep, err := bundle.Verify(zr, bundle.Options{Anchors: ledger.Anchors{ledger.Fingerprint(key.Public): true}})
	if err != nil {
		t.Fatalf("the exported bundle does not verify: %v", err)
	}
	if rep.Records != 30 || !rep.Anchored || len(rep.Signers) != 1 || !strings.Contains(rep.Signers[0], key.ID) {
		t.Errorf("report %+v, want 30 records signed by %s", rep, key.ID)
	}
	if r := s.do(t, stranger, "GET", export, nil); r.status != http.StatusNotFound {
		t.Errorf("an auditor of site-b exports %s: %d, want 404", demo.SiteID, r.status)
	}
	if r := s.do(t, auditor, "GET", "/v1/sites/"+demo.SiteID+"/consents/export?from=2026-13-01&to=2026-01-01", nil); r.status != http.StatusBadRequest {
		t.Errorf("a bad date: %d %s", r.status, r.body)
	}

	// Both reads are in the audit trail, with who made them.
	evs, err := s.svc.Manager.AuditTrail(ctx, manage.AuditQuery{Site: demo.SiteID})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range evs {
		if e.Actor == "auditor@example.se" {
			seen[e.Action] = true
		}
	}
	if !seen["lookup"] || !seen["export"] {
		t.Errorf("audit trail %+v: want the auditor's lookup and export", evs)
	}

	// The visitor's own history: no network or browser details; CORS for
	// the site's origins only.
	pub := s.base + "/v1/consents/" + visitor.String() + "?site=" + demo.SiteID
	res, body := get(t, pub, "")
	if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "no-store" || !strings.Contains(body, `"decisions"`) {
		t.Fatalf("public lookup: %d %v %s", res.StatusCode, res.Header, body)
	}
	for _, leak := range []string{"198.51.100", "Firefox", "ip_prefix", "record_id"} {
		if strings.Contains(body, leak) {
			t.Errorf("the public lookup shows %q: %s", leak, body)
		}
	}
	if strings.Count(body, `"recorded_at"`) != 3 {
		t.Errorf("public lookup: want 3 decisions: %s", body)
	}
	if res, _ := get(t, pub, "https://evil.example"); res.StatusCode != http.StatusForbidden {
		t.Errorf("a foreign origin: %d, want 403", res.StatusCode)
	}
	if res, _ := get(t, s.base+"/v1/consents/nope?site="+demo.SiteID, ""); res.StatusCode != http.StatusBadRequest {
		t.Errorf("a bad consent ID: %d, want 400", res.StatusCode)
	}

	// The public keys, at the well-known URL, each with its fingerprint and
	// logs.
	if _, body := get(t, s.base+"/.well-known/samtycke-keys.json", ""); !strings.Contains(body, key.ID) ||
		!strings.Contains(body, ledger.Fingerprint(key.Public)) || !strings.Contains(body, `"logs":["`+demo.SiteID+"@") {
		t.Errorf("well-known keys: %s", body)
	}

	// The evidence log's public routes: the newest head verifies with the
	// instance's key, and a record's audit path leads to its root.
	res, body = get(t, s.base+"/v1/logs", "")
	var logs struct {
		Logs []struct {
			Log  string      `json:"log_id"`
			Head ledger.Head `json:"head"`
		} `json:"logs"`
	}
	if err := json.Unmarshal([]byte(body), &logs); err != nil || res.Header.Get("Access-Control-Allow-Origin") != "*" || len(logs.Logs) != 1 {
		t.Fatalf("/v1/logs: %v %v %s", err, res.Header, body)
	}
	head := logs.Logs[0].Head
	ring := ledger.NewKeyring([]ledger.PublicKey{key.Published(head.Log[len(demo.SiteID)+1:], time.Now())}, ledger.Anchors{ledger.Fingerprint(key.Public): true})
	if _, err := ring.CheckHead(&head); err != nil {
		t.Fatalf("/v1/logs head: %v", err)
	}
	logURL := s.base + "/v1/logs/" + head.Log
	res, body = get(t, logURL+"/inclusion?record_id="+h.Records[0].RecordID, "")
	var incl struct {
		Index uint64   `json:"leaf_index"`
		Leaf  string   `json:"leaf_hash"`
		Size  uint64   `json:"tree_size"`
		Path  []string `json:"audit_path"`
	}
	if err := json.Unmarshal([]byte(body), &incl); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("inclusion: %d %v %s", res.StatusCode, err, body)
	}
	audit, err := ledger.ParseHashes(incl.Path)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ledger.ParseHashes([]string{incl.Leaf})
	if err != nil {
		t.Fatal(err)
	}
	root, err := head.RootHash()
	if err != nil {
		t.Fatal(err)
	}
	if err := ledger.VerifyInclusion(incl.Index, incl.Size, [32]byte(leaf[0]), audit, root); err != nil || incl.Size != head.Size {
		t.Errorf("the audit path of %s does not lead to the head: %v", h.Records[0].RecordID, err)
	}
	for route, want := range map[string]int{
		"/sth": http.StatusOK, "/consistency?first=1": http.StatusOK, "/consistency?first=2&second=1": http.StatusBadRequest,
		"/inclusion?record_id=" + uuid.NewString(): http.StatusNotFound, "/inclusion": http.StatusBadRequest,
	} {
		if res, body := get(t, logURL+route, ""); res.StatusCode != want {
			t.Errorf("%s: %d, want %d: %s", route, res.StatusCode, want, body)
		}
	}
	if res, _ := get(t, s.base+"/v1/logs/nobody@nowhere/sth", ""); res.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown log: %d, want 404", res.StatusCode)
	}
}

func get(t *testing.T, url, origin string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

// shipDecisions ships 30 decisions of the demo site through the spool, the
// shipper and the ledger; every tenth is one visitor's.
func shipDecisions(t *testing.T, s *stack) (visitor uuid.UUID, cur *siteconfig.Version, now time.Time) {
	t.Helper()
	ctx := context.Background()
	cur, err := s.svc.Versions.Current(ctx, demo.SiteID)
	if err != nil {
		t.Fatal(err)
	}
	visitor = uuid.New()
	now = time.Now().UTC().Truncate(time.Millisecond)
	var payloads [][]byte
	for i := range 30 {
		r := consent.Record{RecordID: uuid.New(), ConsentID: uuid.New(), Site: demo.SiteID, RecordedAt: now.Add(time.Duration(i) * time.Millisecond),
			ConfigVersion: cur.Number, ConfigHash: cur.Hash, Lang: "en", Categories: []string{"necessary", "statistics"}, Granted: []bool{true, i%2 == 0},
			Method: consent.MethodCustom, Source: consent.SourceBanner, IPPrefix: "198.51.100.0/24", UA: consent.UserAgent{Browser: "Firefox 140", OS: "Linux", Device: "desktop"},
			PageOrigin: "https://demo.example", PagePath: "/", RetainUntil: now.AddDate(2, 0, 0)}
		if i%10 == 0 {
			r.ConsentID = visitor
		}
		payloads = append(payloads, r.Encode())
	}
	if _, err := s.svc.Spool.Append(payloads...); err != nil {
		t.Fatal(err)
	}
	if err := s.svc.Shipper.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	return visitor, cur, now
}
