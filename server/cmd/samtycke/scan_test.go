package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/samtycke/samtycke/server/internal/demo"
	"github.com/samtycke/samtycke/server/internal/scan"
	"github.com/samtycke/samtycke/server/internal/service"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
	"github.com/samtycke/samtycke/server/internal/store/clickhouse"
	"github.com/samtycke/samtycke/server/internal/testutil"
	teststack "github.com/samtycke/samtycke/server/internal/testutil/stack"
)

// startStack runs a whole Samtycke (its own ClickHouse database, the demo
// seeded) on a random port, for the banner the test site embeds.
func startStack(t testing.TB) (string, *service.Service) {
	t.Helper()
	testutil.Chromium(t)
	base, _, svc := serveInstance(t, t.TempDir())
	return base, svc
}

// serveInstance runs a whole Samtycke on a random port with its own
// ClickHouse database and data directory dir, the demo seeded.
func serveInstance(t testing.TB, dir string) (string, map[string]string, *service.Service) {
	t.Helper()
	s := teststack.Start(t, map[string]string{"SAMTYCKE_REDIS_URL": "none", "SAMTYCKE_DATA_DIR": dir, "SAMTYCKE_LOG_LEVEL": "warn"})
	return s.Base, s.Env, s.Svc
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
	// Pre-consent: the region key, and the pixel host asked before consent.
	if err == nil || !strings.Contains(err.Error(), "1 undeclared, 2 pre-consent") {
		t.Errorf("--fail-on: want an error naming 1 undeclared and 2 pre-consent, got %v", err)
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
		third = third || (tp.Host == "127.0.0.1" && tp.BeforeConsent && slices.Contains(tp.Findings, scan.PreConsent))
	}
	if !third {
		t.Errorf("the pixel host is not a pre-consent finding among third parties: %+v", rep.ThirdParties)
	}

	// The scanner's Accept all never reaches the consent log.
	var n uint64
	if err := svc.Store.Conn().QueryRow(context.Background(), "SELECT count() FROM consent_log WHERE site = 'shop'").Scan(&n); err != nil || n != 0 {
		t.Errorf("consent log has %d rows for the scan (%v)", n, err)
	}
	// The report is stored for the dashboard.
	scans, err := svc.Store.Scans(context.Background(), "shop", 10)
	if err != nil || len(scans) != 1 || scans[0].ID.String() != rep.ID || scans[0].Undeclared != 1 || scans[0].PreConsent != 2 || !scans[0].BannerFound {
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
	if strings.Join(kinds, ";") != "host 127.0.0.1;local_storage region" {
		t.Errorf("scan_items with pre-consent: %v", kinds)
	}
}

// TestScanConfigFile: --config scans against a configuration file, with
// no ClickHouse (the URL given leads nowhere) and no SAMTYCKE_PUBLIC_URL
// (the banner's origin is taken from its script); nothing is stored, the
// scan's consent never reaches the log, and the report is in --lang.
func TestScanConfigFile(t *testing.T) {
	base, svc := startStack(t)
	shop := newTestShop(t, base, "shop", 3)
	publishShop(t, svc, base, shop.url) // the banner the pages embed
	cfg, err := demo.Config(base)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Name, cfg.AllowedOrigins = "Testbutiken", []string{shop.url}
	for _, it := range []struct{ name, typ string }{{"checkout_step", "session_storage"}, {"shopdb", "indexeddb"}} {
		cfg.Items = append(cfg.Items, siteconfig.Item{Name: it.name, Type: it.typ, Provider: "Testbutiken AB", Party: "first",
			Category: "necessary", Duration: "session", Purpose: siteconfig.Localized{"sv": "Kassan.", "en": "Checkout."}})
	}
	js, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "site.json")
	if err := os.WriteFile(file, js, 0o644); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"SAMTYCKE_CLICKHOUSE_URL": "clickhouse://127.0.0.1:1/nowhere"}
	out, stderr, err := runCLI(t, vars, "scan", "--config", file, "--allow-private", "--lang", "sv", "--json", "--fail-on", "pre-consent", "--max-pages", "3", shop.url+"/")
	if err == nil || !strings.Contains(err.Error(), "2 pre-consent") {
		t.Errorf("--fail-on pre-consent: %v\n%s", err, stderr)
	}
	var rep scan.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	var text strings.Builder
	if err := scan.WriteText(&text, &rep); err != nil {
		t.Fatal(err)
	}
	t.Logf("report:\n%s", text.String())
	if rep.Lang != "sv" || !rep.BannerFound || rep.ConfigVersion != 0 || rep.ConfigHash == "" || rep.Counts[scan.Undeclared] != 1 {
		t.Errorf("report: lang %q banner %v version %d hash %q counts %v", rep.Lang, rep.BannerFound, rep.ConfigVersion, rep.ConfigHash, rep.Counts)
	}
	for _, w := range []string{"Fynd: 1 odeklarerade, 2 före samtycke", "TREDJEPARTSVÄRDAR", "bannern hittad"} {
		if !strings.Contains(text.String(), w) {
			t.Errorf("the Swedish report lacks %q", w)
		}
	}
	// The Samtycke server, though not named, is no third party: the one
	// third-party host is the pixel's (the same name, another origin).
	if len(rep.ThirdParties) != 1 || !strings.HasPrefix(rep.ThirdParties[0].Example, shop.pixel+"/") {
		t.Errorf("third parties: %+v (the banner's origin is %s)", rep.ThirdParties, base)
	}
	ctx := context.Background()
	var n uint64
	if err := svc.Store.Conn().QueryRow(ctx, "SELECT count() FROM consent_log WHERE site = 'shop'").Scan(&n); err != nil || n != 0 {
		t.Errorf("consent log has %d rows for the scan (%v)", n, err)
	}
	if scans, err := svc.Store.Scans(ctx, "shop", 10); err != nil || len(scans) != 0 {
		t.Errorf("a --config scan stored a report: %v %v", err, scans)
	}
	// A configuration that is not valid stops the scan before a browser starts.
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(strings.Replace(string(js), `"^_ga_[A-Z0-9]+$"`, `"^_ga_(?=x)"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCLI(t, vars, "scan", "--config", bad, "--allow-private", shop.url+"/"); err == nil || !strings.Contains(err.Error(), "lookahead") {
		t.Errorf("an invalid --config: %v", err)
	}
	if _, _, err := runCLI(t, vars, "scan", "--config", file, "--lang", "de", shop.url+"/"); err != errUsage {
		t.Errorf("--lang de: %v", err)
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

// npmDir is a package installed by .ci/test under .data/npm; without it
// the test fails under make test and is skipped elsewhere.
func npmDir(t testing.TB, pkg string) string {
	t.Helper()
	dir := filepath.Join(testutil.RepoRoot(t), ".data/npm/node_modules", pkg)
	if _, err := os.Stat(filepath.Join(dir, "package.json")); err != nil {
		if os.Getenv("SAMTYCKE_TEST_BROWSER") == "required" {
			t.Fatalf("%s is missing under .data/npm (.ci/test installs it): %v", pkg, err)
		}
		t.Skipf("%s not installed under .data/npm (make test installs it)", pkg)
	}
	return dir
}

// realShop is a site made of code nobody here wrote, from npm: Start
// Bootstrap's Creative theme as its home page (Google Fonts, jsDelivr,
// cdnjs and its own CDN before any consent, a portfolio of links to
// full-size JPEGs, plain #section anchors), Mixpanel loaded without
// waiting for consent (the mistake the scanner must report), Segment's
// analytics.js and a self-hosted PostHog blocked until statistics is
// granted, and a Vue app routed by vue-router's hash history (#/konto,
// #/kassa) whose checkout route stores the declared checkout_draft. It
// also links a PDF by extension, and /villkor and /bild, which are a PDF
// and a JPEG known only by their Content-Type.
//
// Every host has its real name: the scan's Lookup sends the shop's and the
// trackers' names to this machine and refuses every other (so the theme's
// CDNs are asked, and fail, without leaving the machine).
type realShop struct {
	url    string
	lookup func(ctx context.Context, host string) ([]netip.Addr, error)
	hits   func(path string) int64 // requests the shop served per path
}

const (
	mixpanelToken = "0123456789abcdef0123456789abcdef"
	postHogKey    = "phc_TestButikenKey123"
)

func newRealShop(t testing.TB, samtycke, site string) *realShop {
	t.Helper()
	theme := filepath.Join(npmDir(t, "startbootstrap-creative"), "dist")
	mixpanel := npmDir(t, "mixpanel-browser")
	segment := npmDir(t, "@segment/analytics-next")
	posthog := npmDir(t, "posthog-js")
	vue := npmDir(t, "vue")
	vueRouter := npmDir(t, "vue-router")
	index, err := os.ReadFile(filepath.Join(theme, "index.html"))
	if err != nil {
		t.Fatal(err)
	}

	trackerLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	shopLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, tport, err := net.SplitHostPort(trackerLn.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_, sport, err := net.SplitHostPort(shopLn.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	tracker := func(host string) string { return "http://" + host + ":" + tport }
	shopURL := "http://www.testbutiken.test:" + sport

	// The trackers' hosts, told apart by the Host header. (Chromium asks
	// mixpanel.com, on its HSTS preload list, over HTTPS whatever the page
	// says: those requests are seen, and fail here.)
	trackers := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.Host)
		if err != nil {
			host = r.Host
		}
		w.Header().Set("Access-Control-Allow-Origin", shopURL)
		w.Header().Set("Access-Control-Allow-Credentials", "true")
		w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
		if r.Method == http.MethodOptions {
			return
		}
		switch {
		case host == "cdn.mxpnl.com":
			http.ServeFile(w, r, filepath.Join(mixpanel, "dist/mixpanel.min.js"))
		case host == "api-js.mixpanel.com":
			fmt.Fprint(w, "1")
		case host == "cdn.segment.com" && strings.HasSuffix(r.URL.Path, "/analytics.min.js"):
			http.ServeFile(w, r, filepath.Join(segment, "dist/umd/standalone.js"))
		case host == "cdn.segment.com" && strings.HasSuffix(r.URL.Path, "/settings"):
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"integrations":{"Segment.io":{"apiKey":"wk_test","apiHost":"api.segment.io:%s/v1","protocol":"http"}},"plan":{"track":{"__default":{"enabled":true}}}}`, tport)
		case host == "cdn.segment.com" && strings.HasPrefix(r.URL.Path, "/analytics-next/bundles/"):
			http.ServeFile(w, r, filepath.Join(segment, "dist/umd", path.Base(r.URL.Path)))
		case host == "analys.testbutiken.test" && r.URL.Path == "/static/array.full.js":
			http.ServeFile(w, r, filepath.Join(posthog, "dist/array.full.js"))
		default: // the trackers' collection endpoints
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"status":1}`)
		}
	})

	head := fmt.Sprintf(`<script src="%[1]s/b/%[2]s.js" async></script>
<script>window.MIXPANEL_CUSTOM_LIB_URL = "%[3]s/libs/mixpanel-2-latest.min.js";</script>
<script src="/vendor/mixpanel-snippet.js"></script>
<script>mixpanel.init("%[4]s", {api_host: "%[5]s", persistence: "cookie", track_pageview: true, batch_requests: false});</script>
<script type="text/plain" data-samtycke="statistics">window.analytics = window.analytics || []; analytics._writeKey = "wk_test"; analytics._cdn = "%[6]s"; analytics.push(["page"]);</script>
<script type="text/plain" data-samtycke="statistics" src="%[6]s/analytics.js/v1/wk_test/analytics.min.js"></script>
<script type="text/plain" data-samtycke="statistics" src="%[7]s/static/array.full.js"></script>
<script type="text/plain" data-samtycke="statistics">posthog.init("%[8]s", {api_host: "%[7]s", persistence: "localStorage+cookie", autocapture: false, disable_session_recording: true, advanced_disable_decide: true});</script>
`, samtycke, site, tracker("cdn.mxpnl.com"), mixpanelToken, tracker("api-js.mixpanel.com"), tracker("cdn.segment.com"),
		tracker("analys.testbutiken.test"), postHogKey)
	home := strings.Replace(string(index), "</head>", head+"</head>", 1)
	home = strings.Replace(home, `<body id="page-top">`, `<body id="page-top"><p><a href="/app/">Butiken</a> <a href="/docs/villkor.pdf">Villkor (PDF)</a> <a href="/villkor">Villkor</a> <a href="/bild?id=1">Bild</a></p>`, 1)
	if home == string(index) {
		t.Fatal("the theme's index.html changed: no </head> or <body id=\"page-top\"> to add to")
	}
	app := fmt.Sprintf(`<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>Butiken</title>
<script src="%s/b/%s.js" async></script>
<script src="/vendor/vue.js"></script><script src="/vendor/vue-router.js"></script></head>
<body><div id="app"><nav><router-link to="/">Start</router-link> <router-link to="/konto">Konto</router-link> <router-link to="/kassa">Kassa</router-link> <a href="#mitten">Mitten</a></nav><router-view></router-view></div>
<script>
const Kassa = {template: "<h1>Kassa</h1>", mounted() { localStorage.setItem("checkout_draft", "1"); }};
const router = VueRouter.createRouter({history: VueRouter.createWebHashHistory(), routes: [
  {path: "/", component: {template: "<h1>Start</h1>"}},
  {path: "/om", component: {template: "<h1>Om oss</h1>"}},
  {path: "/konto", component: {template: "<h1>Konto</h1>"}},
  {path: "/kassa", component: Kassa}]});
Vue.createApp({}).use(router).mount("#app");
</script></body></html>`, samtycke, site)

	var hmu sync.Mutex
	hits := map[string]int64{}
	mux := http.NewServeMux()
	count := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hmu.Lock()
			hits[r.URL.Path]++
			hmu.Unlock()
			h.ServeHTTP(w, r)
		})
	}
	html := func(s string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, s)
		}
	}
	mux.Handle("GET /{$}", html(home))
	mux.Handle("GET /app/{$}", html(app))
	for _, d := range []string{"css", "js", "assets"} {
		mux.Handle("GET /"+d+"/", http.FileServer(http.Dir(theme)))
	}
	files := map[string]string{
		"/vendor/mixpanel-snippet.js": filepath.Join(mixpanel, "dist/mixpanel-jslib-snippet.min.js"),
		"/vendor/vue.js":              filepath.Join(vue, "dist/vue.global.prod.js"),
		"/vendor/vue-router.js":       filepath.Join(vueRouter, "dist/vue-router.global.prod.js"),
		"/docs/villkor.pdf":           filepath.Join(theme, "assets/favicon.ico"), // never to be asked for
	}
	for p, f := range files {
		mux.HandleFunc("GET "+p, func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, f) })
	}
	mux.HandleFunc("GET /villkor", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/pdf")
		w.Write([]byte("%PDF-1.4\n%%EOF\n"))
	})
	mux.HandleFunc("GET /bild", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		http.ServeFile(w, r, filepath.Join(theme, "assets/img/portfolio/thumbnails/1.jpg"))
	})
	for _, s := range []struct {
		ln net.Listener
		h  http.Handler
	}{{trackerLn, trackers}, {shopLn, count(mux)}} {
		srv := &httptest.Server{Listener: s.ln, Config: &http.Server{Handler: s.h}}
		srv.Start()
		t.Cleanup(srv.Close)
	}
	local := map[string]bool{"www.testbutiken.test": true, "cdn.mxpnl.com": true, "api-js.mixpanel.com": true,
		"cdn.segment.com": true, "api.segment.io": true, "analys.testbutiken.test": true}
	return &realShop{
		url: shopURL,
		lookup: func(ctx context.Context, host string) ([]netip.Addr, error) {
			if local[host] {
				return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
			}
			return nil, fmt.Errorf("%s is not on this machine (test)", host)
		},
		hits: func(p string) int64 {
			hmu.Lock()
			defer hmu.Unlock()
			return hits[p]
		},
	}
}

// publishRealShop publishes site "butik": the demo's categories and the
// shop's own necessary items.
func publishRealShop(t testing.TB, svc *service.Service, base, origin string) *siteconfig.Version {
	t.Helper()
	cfg, err := demo.Config(base)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Name, cfg.AllowedOrigins = "Testbutiken", []string{origin}
	cfg.Controller.Name = "Testbutiken AB"
	cfg.Items = append(cfg.Items[:1:1], siteconfig.Item{Name: "checkout_draft", Type: "local_storage", Provider: "Testbutiken AB",
		Party: "first", Category: "necessary", Duration: "persistent", Purpose: siteconfig.Localized{"sv": "Kassan.", "en": "Checkout."}})
	ctx := context.Background()
	if err := svc.Store.PutSite(ctx, clickhouse.Site{ID: "butik", Name: cfg.Name, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	v, _, err := svc.Versions.Publish(ctx, "butik", cfg, "test", "scan test")
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestScanRealSite scans the real shop: every third-party host asked
// before consent is a finding by name, known or not; only HTML pages are
// visited, hash routes among them; the suggestions are patterns from the
// Open Cookie Database (or the built-in table where it lacks them), valid
// in the site's configuration as they stand.
func TestScanRealSite(t *testing.T) {
	base, svc := startStack(t)
	shop := newRealShop(t, base, "butik")
	v := publishRealShop(t, svc, base, shop.url)
	began := time.Now()
	rep, err := scan.Run(context.Background(), scan.Options{Version: v, StartURLs: []string{shop.url + "/", shop.url + "/app/#/om"},
		MaxPages: 12, AllowPrivate: true, SamtyckeOrigin: base, Lookup: shop.lookup, Lang: "en"})
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(began)
	var text strings.Builder
	if err := scan.WriteText(&text, rep); err != nil {
		t.Fatal(err)
	}
	t.Logf("report:\n%s", text.String())
	if !rep.BannerFound {
		t.Fatal("the banner's Accept all was not found")
	}

	// Pages: HTML only, hash routes as pages, plain anchors not.
	pages := map[string]bool{}
	before := 0
	for _, p := range rep.Pages {
		if p.Pass == scan.Before {
			before++
			pages[strings.TrimPrefix(p.URL, shop.url)] = p.Error == ""
		}
	}
	for _, p := range []string{"/", "/app/", "/app/#/om", "/app/#/konto", "/app/#/kassa"} {
		if !pages[p] {
			t.Errorf("page %s not visited: %v", p, pages)
		}
	}
	for p := range pages {
		if strings.Contains(p, ".jpg") || strings.Contains(p, ".pdf") || p == "/villkor" || strings.HasPrefix(p, "/bild") || strings.Contains(p, "#services") || strings.Contains(p, "#mitten") {
			t.Errorf("not a page, visited as one: %s", p)
		}
	}
	if len(rep.Limits) != 0 {
		t.Errorf("limits reached: %v (the media links must not use up the pages)", rep.Limits)
	}
	skipped := map[string]string{}
	for _, s := range rep.Skipped {
		skipped[strings.TrimPrefix(s.URL, shop.url)] = s.Reason
	}
	for p, why := range map[string]string{"/assets/img/portfolio/fullsize/1.jpg": ".jpg", "/assets/img/portfolio/fullsize/6.jpg": ".jpg",
		"/docs/villkor.pdf": ".pdf", "/villkor": "application/pdf", "/bild?id=1": "image/jpeg"} {
		if skipped[p] != why {
			t.Errorf("skipped %s: %q, want %q (%v)", p, skipped[p], why, skipped)
		}
	}
	for p, want := range map[string]int64{"/docs/villkor.pdf": 0, "/assets/img/portfolio/fullsize/1.jpg": 0, "/villkor": 1, "/bild": 1} {
		if got := shop.hits(p); got != want {
			t.Errorf("%s was requested %d times, want %d", p, got, want)
		}
	}

	// Hosts: everything asked before consent, by name.
	hosts := map[string]scan.ThirdParty{}
	for _, h := range rep.ThirdParties {
		hosts[h.Host] = h
	}
	for h, provider := range map[string]string{"fonts.googleapis.com": "Google Fonts", "cdn.jsdelivr.net": "", "cdnjs.cloudflare.com": "",
		"cdn.startbootstrap.com": "", "cdn.mxpnl.com": "Mixpanel", "api-js.mixpanel.com": "Mixpanel"} {
		tp, ok := hosts[h]
		if !ok || !tp.BeforeConsent || !slices.Contains(tp.Findings, scan.PreConsent) || tp.Provider != provider || tp.Suggestion == nil {
			t.Errorf("host %s: %+v; want a pre-consent finding, provider %q and a suggestion", h, tp, provider)
		}
	}
	for _, h := range []string{"cdn.segment.com", "api.segment.io", "analys.testbutiken.test"} {
		tp, ok := hosts[h]
		if !ok || tp.BeforeConsent || !tp.AfterConsent || len(tp.Findings) != 0 {
			t.Errorf("host %s, blocked until consent: %+v", h, tp)
		}
	}

	// Items: the trackers' cookies, with suggestions from the database.
	items := map[string]scan.Observed{}
	for _, o := range rep.Items {
		items[o.Type+" "+o.Name] = o
	}
	mp := items["cookie mp_"+mixpanelToken+"_mixpanel"]
	if s := mp.Suggestion; !mp.BeforeConsent || !slices.Contains(mp.Findings, scan.PreConsent) || s == nil || s.Provider != "Mixpanel" ||
		s.Category != "statistics" || s.Name != "mp_*" || s.Pattern != `^mp_[a-z0-9_]+$` || s.Duration != "P1Y" {
		t.Errorf("Mixpanel's cookie: %+v %+v", mp, mp.Suggestion)
	}
	if o := items["cookie ajs_anonymous_id"]; o.Suggestion == nil || o.BeforeConsent || o.Suggestion.Provider != "Twilio Inc. (Segment)" || o.Suggestion.Category != "statistics" {
		t.Errorf("Segment's cookie: %+v %+v", o, o.Suggestion)
	}
	ph := items["cookie ph_"+postHogKey+"_posthog"]
	if s := ph.Suggestion; s == nil || ph.BeforeConsent || s.Provider != "PostHog Inc." || s.Pattern != `^ph_phc_[A-Za-z0-9]+_[a-z_]+$` {
		t.Errorf("PostHog's cookie: %+v %+v", ph, ph.Suggestion)
	}
	if o := items["local_storage checkout_draft"]; o.Declared == nil || !o.BeforeConsent || len(o.Findings) != 0 {
		t.Errorf("checkout_draft, stored on the #/kassa route: %+v", o)
	}
	for _, d := range rep.Unseen {
		if d.Name == "checkout_draft" {
			t.Error("checkout_draft reported unseen: the hash route was not visited")
		}
	}

	// Every suggestion: a pattern in the shared syntax that matches what
	// was seen, and the configuration with all of them added is valid.
	for _, o := range rep.Items {
		if s := o.Suggestion; s != nil && s.Pattern != "" {
			re, err := siteconfig.CompilePattern(s.Pattern)
			if err != nil || !re.MatchString(o.Name) {
				t.Errorf("%s: pattern %q (%v)", o.Name, s.Pattern, err)
			}
		}
	}
	cfg := *v.Config
	cfg.Items = append(append([]siteconfig.Item(nil), cfg.Items...), rep.Suggestions...)
	js, err := json.Marshal(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := siteconfig.Parse(js); err != nil {
		t.Errorf("the configuration with the report's %d suggestions: %v", len(rep.Suggestions), err)
	}
	if strings.ContainsAny(text.String(), "åäöÅÄÖ") {
		t.Errorf("Swedish in the English report")
	}
	t.Logf("scan of the real shop: %.1f s, %d pages before consent, %d after; %d links skipped as not pages; %d third-party hosts",
		elapsed.Seconds(), before, len(rep.Pages)-before, len(rep.Skipped), len(rep.ThirdParties))
}
