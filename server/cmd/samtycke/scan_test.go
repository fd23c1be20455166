package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/samtycke/samtycke/server/internal/config"
	"github.com/samtycke/samtycke/server/internal/demo"
	"github.com/samtycke/samtycke/server/internal/scan"
	"github.com/samtycke/samtycke/server/internal/service"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
	"github.com/samtycke/samtycke/server/internal/store/clickhouse"
	"github.com/samtycke/samtycke/server/internal/testutil"
)

// startStack runs a whole Samtycke (its own ClickHouse database, the demo
// seeded) on a random port, for the banner the test site embeds.
func startStack(t testing.TB) (string, *service.Service) {
	t.Helper()
	testutil.Chromium(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	vars := map[string]string{"SAMTYCKE_PUBLIC_URL": base, "SAMTYCKE_LISTEN": ln.Addr().String(),
		"SAMTYCKE_CLICKHOUSE_URL": testutil.ClickHouseURL(t), "SAMTYCKE_REDIS_URL": "none",
		"SAMTYCKE_DATA_DIR": t.TempDir(), "SAMTYCKE_DEMO": "on"}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	svc, err := service.New(ctx, cfg, testutil.Logger(t), "test", 5*time.Second)
	if err != nil {
		cancel()
		ln.Close()
		testutil.ClickHouse(t) // skips or fails with the reason when ClickHouse is missing
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- svc.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		svc.Close()
	})
	return base, svc
}

// testShop is a small site on localhost that embeds the real banner of the
// stack. Before any consent it sets the declared necessary cookie session_id
// (from the server), sessionStorage key checkout_step and IndexedDB database
// shopdb, and the localStorage key region (declared as a preference: a
// violation), and loads a pixel from another host. Its
// statistics script, blocked until consent, sets the declared _demo_stats
// and the undeclared _clck. /redirect leads to another origin, which the
// scanner must never load.
type testShop struct {
	url, otherHits, pixel string
	other                 *atomic.Int64
	userAgent             *atomic.Value // of the last request for /
}

func newTestShop(t testing.TB, samtycke, site string, pages int) *testShop {
	t.Helper()
	var hits atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(other.Close)
	tracker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/gif")
		w.Write([]byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"))
	}))
	t.Cleanup(tracker.Close)
	mux := http.NewServeMux()
	page := func(w http.ResponseWriter, title, body string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>%s</title>
<script src="%s/b/%s.js" async></script>
<script>localStorage.setItem("region", "SE-AB"); sessionStorage.setItem("checkout_step", "1"); indexedDB.open("shopdb", 1);</script>
<script type="text/plain" data-samtycke="statistics" src="/stats.js"></script>
</head><body><h1>%s</h1>%s<img src="%s/pixel.gif" alt=""></body></html>`, title, samtycke, site, title, body, tracker.URL)
	}
	var ua atomic.Value
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		ua.Store(r.UserAgent())
		http.SetCookie(w, &http.Cookie{Name: "session_id", Value: "abc", Path: "/", HttpOnly: true})
		links := `<a href="/about">Om oss</a> <a href="/redirect">Vidare</a> <a href="` + other.URL + `/elsewhere">Annan sajt</a>`
		for i := 1; i < pages-1; i++ {
			links += fmt.Sprintf(` <a href="/p/%d#top">Sida %d</a>`, i, i)
		}
		page(w, "Testbutiken", links)
	})
	mux.HandleFunc("GET /about", func(w http.ResponseWriter, r *http.Request) { page(w, "Om oss", `<a href="/">Start</a>`) })
	mux.HandleFunc("GET /p/{n}", func(w http.ResponseWriter, r *http.Request) {
		page(w, "Sida "+r.PathValue("n"), `<a href="/">Start</a>`)
	})
	mux.HandleFunc("GET /redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/landing", http.StatusFound)
	})
	mux.HandleFunc("GET /stats.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, `document.cookie = "_demo_stats=1; Path=/; Max-Age=2592000"; document.cookie = "_clck=xyz; Path=/; Max-Age=31536000";`)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: mux}}
	srv.Start()
	t.Cleanup(srv.Close)
	_, port, err := net.SplitHostPort(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	return &testShop{url: "http://localhost:" + port, other: &hits, otherHits: other.URL, pixel: tracker.URL, userAgent: &ua}
}

// publishShop publishes site "shop": the demo's categories and items,
// allowed on the test site's origin.
func publishShop(t testing.TB, svc *service.Service, base, origin string) {
	t.Helper()
	cfg, err := demo.Config(base)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Name, cfg.AllowedOrigins = "Testbutiken", []string{origin}
	for _, it := range []struct{ name, typ string }{{"checkout_step", "session_storage"}, {"shopdb", "indexeddb"}} {
		cfg.Items = append(cfg.Items, siteconfig.Item{Name: it.name, Type: it.typ, Provider: "Testbutiken AB", Party: "first",
			Category: "necessary", Duration: "session", Purpose: siteconfig.Localized{"sv": "Kassan.", "en": "Checkout."}})
	}
	ctx := context.Background()
	if err := svc.Store.PutSite(ctx, clickhouse.Site{ID: "shop", Name: cfg.Name, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Versions.Publish(ctx, "shop", cfg, "test", "scan test"); err != nil {
		t.Fatal(err)
	}
}

func TestScan(t *testing.T) {
	base, svc := startStack(t)
	shop := newTestShop(t, base, "shop", 3)
	publishShop(t, svc, base, shop.url)
	vars := map[string]string{"SAMTYCKE_CLICKHOUSE_URL": svc.Config.ClickHouseURL, "SAMTYCKE_PUBLIC_URL": base}

	out, stderr, err := runCLI(t, vars, "scan", "--site", "shop", "--allow-private", "--json", shop.url+"/", "--fail-on", "undeclared,pre-consent", "--max-pages", "5")
	if err == nil || !strings.Contains(err.Error(), "1 undeclared, 1 pre-consent") {
		t.Errorf("--fail-on: want an error naming 1 undeclared and 1 pre-consent, got %v", err)
	}
	var rep scan.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json: %v\n%s\n%s", err, out, stderr)
	}
	var text strings.Builder
	if err := scan.WriteText(&text, &rep); err != nil {
		t.Fatal(err)
	}
	t.Logf("report:\n%s", text.String())
	if !strings.Contains(stderr, "scan: "+scan.After) {
		t.Errorf("no progress on stderr: %s", stderr)
	}
	if !rep.BannerFound {
		t.Error("the banner's Accept all was not found")
	}
	if ua, _ := shop.userAgent.Load().(string); !strings.Contains(ua, "Chrome/") || strings.Contains(ua, "Headless") {
		t.Errorf("the scanner must look like a visitor's browser: %q", ua)
	}

	items := map[string]scan.Observed{}
	for _, o := range rep.Items {
		items[o.Type+" "+o.Name] = o
	}
	for _, tt := range []struct {
		key           string
		category      string // "" undeclared
		before, after bool
		findings      string
	}{
		{"cookie session_id", "necessary", true, true, ""},
		{"local_storage region", "preferences", true, true, scan.PreConsent},
		{"cookie _demo_stats", "statistics", false, true, ""},
		{"cookie _clck", "", false, true, scan.Undeclared},
		{"cookie samtycke", "necessary", false, true, ""},
		{"session_storage checkout_step", "necessary", true, true, ""},
		{"indexeddb shopdb", "necessary", true, true, ""},
	} {
		o, ok := items[tt.key]
		if !ok {
			t.Errorf("%s: not seen", tt.key)
			continue
		}
		cat := ""
		if o.Declared != nil {
			cat = o.Declared.Category
		}
		if cat != tt.category || o.BeforeConsent != tt.before || o.AfterConsent != tt.after || strings.Join(o.Findings, ",") != tt.findings {
			t.Errorf("%s: declared %q before %v after %v findings %v; want %q %v %v %q", tt.key, cat, o.BeforeConsent, o.AfterConsent, o.Findings, tt.category, tt.before, tt.after, tt.findings)
		}
	}
	if s := items["cookie _clck"].Suggestion; s == nil || !strings.HasPrefix(s.Provider, "Microsoft") || s.Category != "statistics" || s.Duration != "P1Y" || s.Party != "first" {
		t.Errorf("suggestion for _clck: %+v", s)
	}
	if len(items) != 7 {
		t.Errorf("want exactly 7 items, got %v", items)
	}
	unseen := map[string]bool{}
	for _, d := range rep.Unseen {
		unseen[d.Name] = true
	}
	if !unseen["IDE"] || !unseen["_fbp"] || unseen["session_id"] || rep.Counts[scan.Unseen] != len(rep.Unseen) {
		t.Errorf("unseen: %v", rep.Unseen)
	}
	pages := map[string]bool{}
	for _, p := range rep.Pages {
		pages[p.Pass+" "+strings.TrimPrefix(p.URL, shop.url)] = p.Error == ""
	}
	for _, p := range []string{"/", "/about"} {
		if !pages[scan.Before+" "+p] || !pages[scan.After+" "+p] {
			t.Errorf("page %s not visited in both passes: %v", p, pages)
		}
	}
	if strings.Contains(out, shop.otherHits+"/elsewhere\"") {
		t.Error("a link to another origin was followed")
	}
	if n := shop.other.Load(); n != 0 {
		t.Errorf("the redirect to another origin reached it %d times", n)
	}
	refused := false
	for _, r := range rep.Refused {
		refused = refused || strings.HasPrefix(r.URL, shop.otherHits+"/landing")
	}
	if !refused {
		t.Errorf("the redirect to another origin is not reported as refused: %v", rep.Refused)
	}
	third := false
	for _, tp := range rep.ThirdParties {
		third = third || (tp.Host == "127.0.0.1" && tp.BeforeConsent)
	}
	if !third {
		t.Errorf("the pixel host is not among third parties: %+v", rep.ThirdParties)
	}

	// The scanner's Accept all never reaches the consent log.
	var n uint64
	if err := svc.Store.Conn().QueryRow(context.Background(), "SELECT count() FROM consent_log WHERE site = 'shop'").Scan(&n); err != nil || n != 0 {
		t.Errorf("consent log has %d rows for the scan (%v)", n, err)
	}
	// The report is stored for the dashboard.
	scans, err := svc.Store.Scans(context.Background(), "shop", 10)
	if err != nil || len(scans) != 1 || scans[0].ID.String() != rep.ID || scans[0].Undeclared != 1 || scans[0].PreConsent != 1 || !scans[0].BannerFound {
		t.Fatalf("stored scans: %v %+v", err, scans)
	}
	js, err := svc.Store.ScanReport(context.Background(), "shop", scans[0].ID)
	if err != nil || !json.Valid(js) {
		t.Fatalf("stored report: %v", err)
	}
	var kinds []string
	rows, err := svc.Store.Conn().Query(context.Background(), "SELECT toString(kind) || ' ' || name FROM scan_items WHERE site = 'shop' AND has(findings, 'pre-consent') ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, s)
	}
	rows.Close()
	if strings.Join(kinds, ";") != "local_storage region" {
		t.Errorf("scan_items with pre-consent: %v", kinds)
	}
}

// TestScanRefuses: a start URL outside the allowed origins, and a private
// address without --allow-private, are refused before any browser starts.
func TestScanRefuses(t *testing.T) {
	base, svc := startStack(t)
	shop := newTestShop(t, base, "shop", 3)
	publishShop(t, svc, base, shop.url)
	vars := map[string]string{"SAMTYCKE_CLICKHOUSE_URL": svc.Config.ClickHouseURL, "SAMTYCKE_PUBLIC_URL": base}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"origin not allowed", []string{"--allow-private", shop.otherHits + "/"}, "is not one of the site's allowed origins"},
		{"private address", []string{shop.url + "/"}, "resolves to 127.0.0.1, a loopback, private, link-local or metadata address"},
		{"metadata address", []string{"http://169.254.169.254/latest/meta-data/"}, "is not one of the site's allowed origins"},
		{"not http", []string{"file:///etc/passwd"}, "not an absolute http(s) URL"},
		{"unknown site", []string{"--site", "nosuch", shop.url + "/"}, `site "nosuch" has no published configuration`},
	} {
		args := append([]string{"scan", "--site", "shop"}, tt.args...)
		_, _, err := runCLI(t, vars, args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want %q", tt.name, err, tt.want)
		}
	}
	scans, err := svc.Store.Scans(context.Background(), "shop", 10)
	if err != nil || len(scans) != 0 {
		t.Errorf("refused scans must store nothing: %v %v", err, scans)
	}
	if _, stderr, err := runCLI(t, nil, "scan", "--help"); err != nil || !strings.Contains(stderr, "--allow-private") || !strings.Contains(stderr, "samtycke scan --site S") {
		t.Errorf("scan --help: %v %s", err, stderr)
	}
	if _, _, err := runCLI(t, vars, "scan", "--site", "shop", "--fail-on", "typo", shop.url); err != errUsage {
		t.Errorf("--fail-on typo: %v", err)
	}
}
