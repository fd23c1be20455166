package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// trackerHost is another origin (another port of the loopback): it serves
// the files given (NAME.js as JavaScript, others as HTML) and records every
// other request as a tracker's hit. Pages are served by a real server, not
// by request interception, so that the browser knows their address space
// (local network access).
type trackerHost struct {
	url  string
	mu   sync.Mutex
	hits []trackerHit
}

type trackerHit struct {
	at   time.Time
	path string
}

func newTrackerHost(t *testing.T, scripts map[string]string) *trackerHost {
	t.Helper()
	th := &trackerHost{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o := r.Header.Get("Origin"); o != "" {
			w.Header().Set("Access-Control-Allow-Origin", o)
			w.Header().Set("Access-Control-Allow-Credentials", "true")
			w.Header().Set("Access-Control-Allow-Headers", "Content-Type, Authorization")
		}
		if src, ok := scripts[strings.TrimPrefix(r.URL.Path, "/")]; ok {
			ct := "text/html; charset=utf-8"
			if strings.HasSuffix(r.URL.Path, ".js") {
				ct = "text/javascript"
			}
			w.Header().Set("Content-Type", ct)
			if _, err := w.Write([]byte(src)); err != nil {
				t.Errorf("serve %s: %v", r.URL.Path, err)
			}
			return
		}
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		th.mu.Lock()
		th.hits = append(th.hits, trackerHit{time.Now(), r.URL.Path})
		th.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if _, err := w.Write([]byte("1")); err != nil {
			t.Errorf("hit %s: %v", r.URL.Path, err)
		}
	}))
	t.Cleanup(srv.Close)
	th.url = srv.URL
	return th
}

// count is the number of hits whose path starts with prefix, received after since.
func (th *trackerHost) count(prefix string, since time.Time) int {
	th.mu.Lock()
	defer th.mu.Unlock()
	n := 0
	for _, h := range th.hits {
		if strings.HasPrefix(h.path, prefix) && h.at.After(since) {
			n++
		}
	}
	return n
}

// waitHits polls until a hit with prefix arrives after since.
func (th *trackerHost) waitHits(t *testing.T, prefix string, since time.Time) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); th.count(prefix, since) == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			th.mu.Lock()
			defer th.mu.Unlock()
			t.Fatalf("no %s hit from the tracker (hits: %v)", prefix, th.hits)
		}
	}
}

// Tracker bundles: the real mixpanel-browser and Segment analytics-next,
// sending to the tracker host, each also sending an event every 300 ms as a
// heartbeat would (so that a tracker still alive shows at once).
func trackerScripts(t *testing.T, host string) map[string]string {
	return map[string]string{
		"mixpanel.js": bundle(t, `import mixpanel from "mixpanel-browser";
mixpanel.init("testtoken", { api_host: "`+host+`", batch_requests: false, persistence: "cookie", track_pageview: false, ignore_dnt: true });
mixpanel.track("page");
setInterval(() => mixpanel.track("tick"), 300);
window.mixpanel = mixpanel;`),
		"segment.js": bundle(t, `import { AnalyticsBrowser } from "@segment/analytics-next";
const analytics = AnalyticsBrowser.load({ writeKey: "wk", cdnSettings: { integrations: { "Segment.io": { apiKey: "wk", apiHost: "`+strings.TrimPrefix(host, "http://")+`/v1", protocol: "http" } } } });
analytics.page();
setInterval(() => analytics.track("tick"), 300);
window.analytics = analytics;`),
	}
}

// publishTrackers publishes a demo version that declares the trackers'
// first-party storage as statistics, allows origin, and reloads on
// withdrawal or not.
func publishTrackers(t *testing.T, s *stack, origin string, reload bool) {
	t.Helper()
	v, err := s.svc.Versions.Current(context.Background(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v.Config)
	if err != nil {
		t.Fatal(err)
	}
	var c siteconfig.Config
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	item := func(name, pattern, typ, provider string) siteconfig.Item {
		return siteconfig.Item{Name: name, Pattern: pattern, Type: typ, Provider: provider, Party: "first", Category: "statistics",
			Purpose:  siteconfig.Localized{"sv": "Känner igen dig mellan besök för statistik.", "en": "Recognises you between visits for statistics."},
			Duration: "P1Y", ThirdCountry: siteconfig.ThirdCountry{Transfer: false}}
	}
	c.Items = append(c.Items,
		item("mp_<token>_mixpanel", "^mp_.*_mixpanel$", "cookie", "Mixpanel"),
		item("ajs_anonymous_id", "", "cookie", "Segment"),
		item("ajs_user_id", "", "cookie", "Segment"),
		item("ajs_*", "^ajs_", "local_storage", "Segment"))
	c.AllowedOrigins = append(c.AllowedOrigins, origin)
	if !reload {
		off := false
		c.Consent.ReloadOnWithdraw = &off
	}
	if _, changed, err := s.svc.Versions.Publish(context.Background(), "demo", &c, "test", ""); err != nil || !changed {
		t.Fatalf("publish: %v %v", changed, err)
	}
}

const trackerStorage = `document.cookie.split("; ").filter(c => /^(mp_|ajs_)/.test(c)).concat(Object.keys(localStorage).filter(k => k.startsWith("ajs_")))`

// Withdrawal stops real trackers (mixpanel-browser, Segment analytics-next,
// from another origin): the banner reloads the page once the withdrawal is
// stored, no hit follows, and their first-party cookies and storage are
// gone, also when written again before the next page view.
func TestBannerWithdrawStopsTrackers(t *testing.T) {
	s := newStack(t, nil)
	ctx := browser(t, 1280, 800)
	// The page's own origin, the trackers' scripts from a second one, their hits to a third.
	th := newTrackerHost(t, nil)
	scripts := newTrackerHost(t, trackerScripts(t, th.url))
	site := newTrackerHost(t, map[string]string{"trackers": pageHead + `<script src="` + s.base + `/b/demo.js" async></script>
<script type="text/plain" data-samtycke="statistics" src="` + scripts.url + `/mixpanel.js"></script>
<script type="text/plain" data-samtycke="statistics" src="` + scripts.url + `/segment.js"></script>
</head><body><p>A page with trackers.</p></body></html>`})
	publishTrackers(t, s, site.url, true)
	start := time.Now()
	do(t, ctx, chromedp.Navigate(site.url+"/trackers"))
	waitFor(t, ctx, inShadow(".b h2"), "the first layer")
	click(t, ctx, inShadow(`.b [data-action=accept_all]`))
	th.waitHits(t, "/track", start)
	th.waitHits(t, "/v1/", start)
	waitFor(t, ctx, trackerStorage+`.some(c => c.startsWith("mp_testtoken_mixpanel=")) && `+trackerStorage+`.some(c => c.startsWith("ajs_anonymous_id"))`, "the trackers' cookies")

	reloadsAfter(t, ctx, func() { js[bool](t, ctx, "(Samtycke.withdraw(), true)") })
	reloaded := time.Now()
	if got := js[[]string](t, ctx, trackerStorage); len(got) > 0 {
		t.Errorf("after withdrawal the trackers' storage is left: %v", got)
	}
	// Three heartbeats' time: a tracker still running would have sent by then.
	quiet := reloaded.Add(200 * time.Millisecond)
	for time.Now().Before(reloaded.Add(1200 * time.Millisecond)) {
		time.Sleep(100 * time.Millisecond)
	}
	if n, m := th.count("/track", quiet), th.count("/v1/", quiet); n+m > 0 {
		t.Errorf("after the withdrawal's reload Mixpanel sent %d and Segment %d hits", n, m)
	}
	if js[bool](t, ctx, "!!window.mixpanel || !!window.analytics") {
		t.Error("a tracker ran on the page after withdrawal")
	}
	// A cookie written again before the tracker was stopped is gone on the next page view.
	js[bool](t, ctx, `(document.cookie = "mp_testtoken_mixpanel=x; Path=/; Max-Age=3600", document.cookie = "ajs_anonymous_id=y; Path=/", localStorage.setItem("ajs_user_traits", "{}"), true)`)
	do(t, ctx, chromedp.Reload())
	waitFor(t, ctx, "window.Samtycke", "the banner")
	if got := js[[]string](t, ctx, trackerStorage); len(got) > 0 {
		t.Errorf("the next page view kept the trackers' storage: %v", got)
	}
}

// A site that stops its trackers itself (consent.reload_on_withdraw: false)
// keeps the page: its on("change") hook opts Mixpanel out, and no hit follows.
func TestBannerWithdrawWithoutReload(t *testing.T) {
	s := newStack(t, nil)
	ctx := browser(t, 1280, 800)
	th := newTrackerHost(t, nil)
	scripts := newTrackerHost(t, trackerScripts(t, th.url))
	site := newTrackerHost(t, map[string]string{"trackers": pageHead + `<script>
window.samtyckeQueue = [["on", "change", c => { if (!c.statistics && window.mixpanel) mixpanel.opt_out_tracking() }]];
</script><script src="` + s.base + `/b/demo.js" async></script>
<script type="text/plain" data-samtycke="statistics" src="` + scripts.url + `/mixpanel.js"></script>
</head><body><p>A page that stops its trackers itself.</p></body></html>`})
	publishTrackers(t, s, site.url, false)
	start := time.Now()
	do(t, ctx, chromedp.Navigate(site.url+"/trackers"))
	waitFor(t, ctx, inShadow(".b h2"), "the first layer")
	click(t, ctx, inShadow(`.b [data-action=accept_all]`))
	th.waitHits(t, "/track", start)
	js[bool](t, ctx, "(window.beforeReload = true, Samtycke.withdraw(), true)")
	rows(t, s, cookieID(t, ctx), 2)
	stopped := time.Now().Add(200 * time.Millisecond)
	for time.Now().Before(stopped.Add(time.Second)) {
		time.Sleep(100 * time.Millisecond)
	}
	if !js[bool](t, ctx, "window.beforeReload === true") {
		t.Error("the page reloaded although the site turned that off")
	}
	if n := th.count("/track", stopped); n > 0 {
		t.Errorf("Mixpanel sent %d hits after its opt-out", n)
	}
	if got := js[[]string](t, ctx, trackerStorage+`.filter(c => c.startsWith("mp_testtoken_mixpanel="))`); len(got) > 0 && !strings.Contains(got[0], "opt") {
		t.Logf("Mixpanel's cookie after the withdrawal: %v", got)
	}
}
