package web_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/ledger"
	"github.com/samtycke/samtycke/server/internal/manage"
)

func TestBannerDelivery(t *testing.T) {
	s := newStack(t, nil)
	br := s.do(t, "GET", "/b/demo.js", nil, map[string]string{"Accept-Encoding": "gzip, deflate, br"})
	if br.status != 200 || br.header.Get("Content-Encoding") != "br" {
		t.Fatalf("brotli: %d %v", br.status, br.header)
	}
	raw, err := io.ReadAll(brotli.NewReader(bytes.NewReader(br.body)))
	if err != nil {
		t.Fatal(err)
	}
	js := string(raw)
	if strings.Contains(js, "__SAMTYCKE_CONFIG__") || !strings.Contains(js, `"site":"demo"`) || !strings.Contains(js, s.base+"/v1/consents") {
		t.Fatalf("config not inlined: %.300s", js)
	}
	if strings.Contains(js, "allowed_origins") || strings.Contains(js, "integritet@demobutiken") {
		t.Error("owner-only data (origins, controller) leaked into the banner")
	}
	for k, want := range map[string]string{
		"Content-Type":  "text/javascript; charset=utf-8",
		"Cache-Control": "public, max-age=300, stale-while-revalidate=60, stale-if-error=86400",
		"Vary":          "Accept-Encoding",
	} {
		if got := br.header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	gz := s.do(t, "GET", "/b/demo.js", nil, map[string]string{"Accept-Encoding": "gzip"})
	zr, err := gzip.NewReader(bytes.NewReader(gz.body))
	if err != nil {
		t.Fatal(err)
	}
	unz, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	plain := s.do(t, "GET", "/b/demo.js", nil, map[string]string{"Accept-Encoding": "br;q=0, identity"})
	if gz.header.Get("Content-Encoding") != "gzip" || !bytes.Equal(unz, raw) || plain.header.Get("Content-Encoding") != "" || !bytes.Equal(plain.body, raw) {
		t.Fatal("gzip and identity must carry the same script")
	}
	tags := map[string]bool{br.header.Get("ETag"): true, gz.header.Get("ETag"): true, plain.header.Get("ETag"): true}
	if len(tags) != 3 || strings.HasPrefix(br.header.Get("ETag"), "W/") {
		t.Errorf("want three distinct strong ETags, got %v", tags)
	}
	nm := s.do(t, "GET", "/b/demo.js", nil, map[string]string{"Accept-Encoding": "br", "If-None-Match": br.header.Get("ETag")})
	if nm.status != 304 || len(nm.body) != 0 || nm.header.Get("ETag") != br.header.Get("ETag") {
		t.Errorf("If-None-Match: %d, %d bytes", nm.status, len(nm.body))
	}
	t.Logf("/b/demo.js: %d raw, %d gzip, %d brotli bytes", len(raw), len(gz.body), len(br.body))

	for _, path := range []string{"/b/nosuchsite.js", "/b/Not%20A%20Site.js", "/b/" + strings.Repeat("a", 300) + ".js"} {
		missing := s.do(t, "GET", path, nil, nil)
		if code, _ := apiError(t, missing); missing.status != 404 || code != "unknown_site" {
			t.Errorf("%.40s: %d %s", path, missing.status, code)
		}
	}
}

func consentBody(site string, version int, choices string, method string) []byte {
	return fmt.Appendf(nil, `{"site":%q,"consent_id":%q,"config_version":%d,"choices":%s,"method":%q,"lang":"sv","url":"https://shop.example/kassa?email=a@b.se#x","gpc":false}`,
		site, uuid.NewString(), version, choices, method)
}

const rejectChoices = `{"necessary":true,"preferences":false,"statistics":false,"marketing":false}`

func TestConsentIsRecorded(t *testing.T) {
	s := newStack(t, nil)
	body := consentBody("demo", 1, `{"necessary":true,"preferences":true,"statistics":false,"marketing":false}`, "custom")
	var sent struct {
		ConsentID string `json:"consent_id"`
	}
	if err := json.Unmarshal(body, &sent); err != nil {
		t.Fatal(err)
	}
	id := strings.ToUpper(sent.ConsentID) // answered in lower case
	body = bytes.Replace(body, []byte(sent.ConsentID), []byte(id), 1)
	r := s.do(t, "POST", "/v1/consents", body, map[string]string{
		"Content-Type": "application/json", "Origin": s.base, "Sec-GPC": "1",
		"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
	})
	if r.status != 201 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if r.header.Get("Access-Control-Allow-Origin") != s.base {
		t.Errorf("ACAO = %q", r.header.Get("Access-Control-Allow-Origin"))
	}
	var ack struct {
		RecordID   string `json:"record_id"`
		ConsentID  string `json:"consent_id"`
		RecordedAt string `json:"recorded_at"`
		// The instance's signed promise to log the record (package ledger).
		Receipt ledger.Receipt `json:"receipt"`
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ack); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
	if ack.Receipt.RecordID != ack.RecordID || ack.Receipt.Site != "demo" || ack.Receipt.Signature == "" {
		t.Errorf("receipt %+v for record %s", ack.Receipt, ack.RecordID)
	}
	if ack.ConsentID != strings.ToLower(id) {
		t.Errorf("consent_id %q, sent %q", ack.ConsentID, id)
	}
	at, err := time.Parse(time.RFC3339, ack.RecordedAt)
	if err != nil || time.Since(at) > time.Minute {
		t.Errorf("recorded_at %q: %v", ack.RecordedAt, err)
	}
	// The 201 promises the record is durable in the spool; the shipper
	// moves it to ClickHouse.
	if err := s.svc.Shipper.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var (
		cats                                     []string
		granted                                  []uint8
		method, lang, ip, origin, path, ua, hash string
		version                                  uint32
		gpc                                      uint8
	)
	err = s.svc.Store.Conn().QueryRow(context.Background(), `SELECT categories, granted, toString(method), lang, ip_prefix,
		page_origin, page_path, ua_browser, config_hash, config_version, gpc FROM consent_log WHERE record_id = ?`, uuid.MustParse(ack.RecordID)).
		Scan(&cats, &granted, &method, &lang, &ip, &origin, &path, &ua, &hash, &version, &gpc)
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.svc.Versions.Current(context.Background(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(cats, granted) != "[necessary preferences statistics marketing] [1 1 0 0]" || method != "custom" || lang != "sv" ||
		ip != "127.0.0.0/24" || origin != "https://shop.example" || path != "/kassa" || ua != "Firefox 133" ||
		hash != v.Hash || version != 1 || gpc != 1 {
		t.Errorf("row: %v %v %s %s %s %s %s %s %s %d gpc=%d", cats, granted, method, lang, ip, origin, path, ua, hash, version, gpc)
	}
}

func TestConsentRejectsBadInput(t *testing.T) {
	s := newStack(t, nil)
	good := consentBody("demo", 1, rejectChoices, "reject_all")
	json := map[string]string{"Content-Type": "application/json", "Origin": s.base}
	tests := []struct {
		name   string
		body   []byte
		header map[string]string
		status int
		code   string
		field  string
	}{
		{"text/plain", good, map[string]string{"Content-Type": "text/plain"}, 415, "unsupported_media_type", ""},
		{"no content type", good, nil, 415, "unsupported_media_type", ""},
		{"form", []byte("site=demo"), map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, "unsupported_media_type", ""},
		{"json with charset", good, map[string]string{"Content-Type": "application/json; charset=utf-8"}, 201, "", ""},
		{"too large", bytes.Repeat([]byte(" "), 5000), json, 413, "body_too_large", ""},
		{"100 KiB", bytes.Repeat([]byte("x"), 100<<10), json, 413, "body_too_large", ""},
		{"malformed", []byte(`{"site":`), json, 400, "malformed_json", ""},
		{"not utf8", []byte("{\"site\":\"d\xffmo\"}"), json, 400, "invalid_utf8", ""},
		{"unknown field", bytes.Replace(good, []byte(`"gpc"`), []byte(`"ip":"1.2.3.4","gpc"`), 1), json, 400, "unknown_field", "ip"},
		{"unknown site", consentBody("nosuch", 1, rejectChoices, "reject_all"), json, 404, "unknown_site", "site"},
		{"unknown version", consentBody("demo", 7, rejectChoices, "reject_all"), json, 404, "unknown_version", "config_version"},
		{"foreign origin", good, map[string]string{"Content-Type": "application/json", "Origin": "https://evil.example"}, 403, "origin_not_allowed", ""},
		{"no origin (server-side client)", good, map[string]string{"Content-Type": "application/json"}, 201, "", ""},
		{"missing category", consentBody("demo", 1, `{"necessary":true,"statistics":false}`, "custom"), json, 422, "missing_choice", "choices.preferences"},
		{"unknown category", consentBody("demo", 1, `{"necessary":true,"preferences":false,"statistics":false,"marketing":false,"ads":true}`, "custom"), json, 422, "unknown_category", "choices.ads"},
		{"necessary refused", consentBody("demo", 1, `{"necessary":false,"preferences":false,"statistics":false,"marketing":false}`, "custom"), json, 422, "necessary_refused", "choices.necessary"},
		{"reject that grants", consentBody("demo", 1, `{"necessary":true,"preferences":false,"statistics":true,"marketing":false}`, "reject_all"), json, 422, "method_mismatch", "choices.statistics"},
		{"unknown language", bytes.Replace(good, []byte(`"lang":"sv"`), []byte(`"lang":"de"`), 1), json, 422, "unknown_language", "lang"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do(t, "POST", "/v1/consents", tt.body, tt.header)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if tt.status == 201 {
				return
			}
			if code, field := apiError(t, r); code != tt.code || field != tt.field {
				t.Errorf("error %s field %q, want %s field %q", code, field, tt.code, tt.field)
			}
			if tt.status == 403 && r.header.Get("Access-Control-Allow-Origin") != "" {
				t.Error("a refused origin must not be granted CORS access")
			}
		})
	}
}

// A body over the server-wide limit is refused from its Content-Length,
// before it is read, still as a JSON error.
func TestHugeBodyRefusedEarly(t *testing.T) {
	s := newStack(t, nil)
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/consents HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", 64<<20)
	if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 413 || !strings.Contains(string(b), `"code":"body_too_large"`) {
		t.Fatalf("%d %s", res.StatusCode, b)
	}
}

func TestPreflight(t *testing.T) {
	s := newStack(t, nil)
	r := s.do(t, "OPTIONS", "/v1/consents", nil, map[string]string{
		"Origin": s.base, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type",
	})
	if r.status != 204 || r.header.Get("Access-Control-Allow-Origin") != s.base ||
		r.header.Get("Access-Control-Allow-Headers") != "Content-Type, Idempotency-Key" || r.header.Get("Access-Control-Max-Age") != "86400" {
		t.Fatalf("preflight: %d %v", r.status, r.header)
	}
}

func TestOperations(t *testing.T) {
	s := newStack(t, map[string]string{"SAMTYCKE_METRICS_TOKEN": "metrics-token-for-tests"})
	if r := s.do(t, "GET", "/healthz", nil, nil); r.status != 200 {
		t.Errorf("healthz %d", r.status)
	}
	r := s.do(t, "GET", "/readyz", nil, nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"status":"ready"`) || !strings.Contains(string(r.body), `"redis":"ok"`) {
		t.Errorf("readyz %d %s", r.status, r.body)
	}
	s.do(t, "POST", "/v1/consents", consentBody("demo", 1, rejectChoices, "reject_all"), map[string]string{"Content-Type": "application/json"})
	if r := s.do(t, "GET", "/metrics", nil, nil); r.status != 401 || strings.Contains(string(r.body), "go_goroutines") {
		t.Errorf("metrics without the token: %d", r.status)
	}
	m := s.do(t, "GET", "/metrics", nil, map[string]string{"Authorization": "Bearer metrics-token-for-tests"})
	for _, want := range []string{`samtycke_consents_recorded_total{method="reject_all"} 1`, `samtycke_http_requests_total{code="201",route="/v1/consents"} 1`, "go_goroutines"} {
		if !strings.Contains(string(m.body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if r := s.do(t, "GET", "/no/such/page", nil, nil); r.status != 404 {
		t.Errorf("unknown path: %d", r.status)
	} else if code, _ := apiError(t, r); code != "not_found" {
		t.Errorf("unknown path code %s", code)
	}
	// The dashboard asks for a sign-in first.
	if r := s.do(t, "GET", "/admin/", nil, nil); r.status != 303 || !strings.HasPrefix(r.header.Get("Location"), "/admin/login") {
		t.Errorf("admin: %d %s", r.status, r.header.Get("Location"))
	}
}

// With Redis unreachable the instance is degraded but serves banners and
// records consents from process memory and the spool.
func TestRedisUnreachable(t *testing.T) {
	for _, url := range []string{"redis://127.0.0.1:1/0", "none"} {
		t.Run(url, func(t *testing.T) {
			s := newStack(t, map[string]string{"SAMTYCKE_REDIS_URL": url})
			if r := s.do(t, "GET", "/b/demo.js", nil, nil); r.status != 200 {
				t.Fatalf("banner: %d", r.status)
			}
			r := s.do(t, "POST", "/v1/consents", consentBody("demo", 1, rejectChoices, "reject_all"), map[string]string{"Content-Type": "application/json"})
			if r.status != 201 {
				t.Fatalf("consent: %d %s", r.status, r.body)
			}
			ready := s.do(t, "GET", "/readyz", nil, nil)
			want := `"status":"ready"`
			if url != "none" {
				want = `"status":"degraded"`
			}
			if ready.status != 200 || !strings.Contains(string(ready.body), want) {
				t.Errorf("readyz %d %s", ready.status, ready.body)
			}
		})
	}
}

// X-Forwarded-For counts only from a trusted proxy, and only its first valid
// address is kept, truncated.
func TestClientAddressBehindProxy(t *testing.T) {
	for _, tt := range []struct{ trusted, want string }{{"", "127.0.0.0/24"}, {"127.0.0.1", "203.0.113.0/24"}} {
		s := newStack(t, map[string]string{"SAMTYCKE_TRUSTED_PROXIES": tt.trusted})
		r := s.do(t, "POST", "/v1/consents", consentBody("demo", 1, rejectChoices, "reject_all"), map[string]string{
			"Content-Type": "application/json", "X-Forwarded-For": "203.0.113.9, 10.0.0.1",
		})
		var ack struct {
			RecordID string `json:"record_id"`
		}
		if err := json.Unmarshal(r.body, &ack); err != nil || r.status != 201 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if err := s.svc.Shipper.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		var ip string
		if err := s.svc.Store.Conn().QueryRow(context.Background(), "SELECT ip_prefix FROM consent_log WHERE record_id = ?",
			uuid.MustParse(ack.RecordID)).Scan(&ip); err != nil || ip != tt.want {
			t.Errorf("trusted %q: ip_prefix %q (%v), want %q", tt.trusted, ip, err, tt.want)
		}
	}
}

// A deleted site's banner and ingest stop at once (its log stays): an owner
// who deletes a site expects no more banners and no more records for it.
func TestDeletedSiteStopsServing(t *testing.T) {
	s := newStack(t, nil)
	if r := s.do(t, "GET", "/b/demo.js", nil, nil); r.status != 200 {
		t.Fatalf("banner of the live site: %d", r.status)
	}
	if r, _ := post(t, s, consentBody("demo", 1, rejectChoices, "reject_all"), nil); r.status != 201 {
		t.Fatalf("consent for the live site: %d %s", r.status, r.body)
	}
	if err := s.svc.Manager.DeleteSite(context.Background(), manage.Principal{Email: "owner@example.com"}, "demo"); err != nil {
		t.Fatal(err)
	}
	if r := s.do(t, "GET", "/b/demo.js", nil, nil); r.status != 404 {
		t.Errorf("banner of the deleted site: %d, want 404", r.status)
	}
	r, _ := post(t, s, consentBody("demo", 1, rejectChoices, "reject_all"), nil)
	if code, _ := apiError(t, r); r.status != 404 || code != "unknown_site" {
		t.Errorf("consent for the deleted site: %d %s, want 404 unknown_site", r.status, code)
	}
	if n := rowsFor(t, s, "site = 'demo'"); n != 1 {
		t.Errorf("%d rows for the deleted site, want the 1 recorded before: its log stays", n)
	}
}
