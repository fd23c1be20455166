package scan

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/domstorage"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/indexeddb"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
)

const (
	defaultMaxPages = 20
	maxMaxPages     = 500
	defaultTimeout  = 3 * time.Minute
	defaultMaxBytes = 200 << 20
	pageTimeout     = 20 * time.Second
	// settle: after the load event, wait for the network to be quiet this
	// long (tags often fire after load), but never longer than settleMax.
	settle    = 500 * time.Millisecond
	settleMax = 5 * time.Second
)

// acceptAll is the banner's Accept all button inside its open shadow root.
const acceptAll = `document.querySelector("#samtycke-root") && document.querySelector("#samtycke-root").shadowRoot &&
	document.querySelector("#samtycke-root").shadowRoot.querySelector('[data-action="accept_all"]')`

// Run scans the site. The error is for scans that could not run (a refused
// start URL, no browser); what the scan found is in the report.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Version == nil || o.Version.Config == nil {
		return nil, errors.New("scan: no configuration")
	}
	if len(o.StartURLs) == 0 {
		return nil, errors.New("scan: no URL to scan")
	}
	if o.MaxPages <= 0 {
		o.MaxPages = defaultMaxPages
	}
	o.MaxPages = min(o.MaxPages, maxMaxPages)
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = defaultMaxBytes
	}
	if o.Chromium == "" {
		o.Chromium = "/usr/bin/chromium"
	}
	if o.Lang != "sv" {
		o.Lang = "en"
	}
	cfg := o.Version.Config
	g := &Guard{Origins: map[string]bool{}, AllowPrivate: o.AllowPrivate, Lookup: o.Lookup}
	for _, s := range cfg.AllowedOrigins {
		if u, err := url.Parse(s); err == nil {
			g.Origins[Origin(u)] = true
		}
	}
	var starts []string
	for _, s := range o.StartURLs {
		if err := g.CheckPage(ctx, s); err != nil {
			return nil, err
		}
		starts = append(starts, pageURL(s))
	}

	began := time.Now()
	deadline := began.Add(o.Timeout)
	px, err := newProxy(g, o.MaxBytes)
	if err != nil {
		return nil, fmt.Errorf("scan: %w", err)
	}
	defer px.close()
	dir, err := os.MkdirTemp("", "samtycke-scan-")
	if err != nil {
		return nil, fmt.Errorf("scan: %w", err)
	}
	defer os.RemoveAll(dir)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(o.Chromium),
		chromedp.Headless, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-client-side-phishing-detection", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,NetworkTimeServiceQuerying"),
		// Sites may hold back their tags from automated browsers; a scan
		// must see what visitors get (see also the user agent below).
		chromedp.Flag("disable-blink-features", "AutomationControlled"),
		// Every request goes through the guarding proxy, loopback included
		// (Chromium bypasses proxies for loopback unless told otherwise).
		chromedp.ProxyServer("http://" + px.addr()),
		chromedp.Flag("proxy-bypass-list", "<-loopback>"),
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(dir),
	}
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to run its sandbox as root
	}
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	if err := chromedp.Do(bctx); err != nil {
		return nil, fmt.Errorf("scan: start %s: %w", o.Chromium, err)
	}
	ver, err := chromedp.CallBrowser(bctx, browser.GetVersion, cdp.Empty{})
	if err != nil {
		return nil, fmt.Errorf("scan: %w", err)
	}
	ua := strings.Replace(ver.UserAgent, "HeadlessChrome", "Chrome", 1)
	if o.OnBrowser != nil {
		if p := chromedp.FromContext(bctx).Browser.Process(); p != nil {
			o.OnBrowser(p.Pid)
		}
	}

	rep := &Report{ID: uuid.NewString(), Site: o.Version.Site, ConfigVersion: o.Version.Number, ConfigHash: o.Version.Hash,
		StartedAt: began.UTC().Truncate(time.Millisecond), Lang: o.Lang, StartURLs: starts}
	col := &collector{siteHosts: map[string]bool{}, samtycke: o.SamtyckeOrigin}
	for origin := range g.Origins {
		if u, err := url.Parse(origin); err == nil {
			col.siteHosts[strings.ToLower(u.Hostname())] = true
		}
	}
	limits := map[string]bool{}

	// Pass 1: a fresh profile, no choice made; discover pages as we go.
	p1, err := newPass(bctx, Before, ua, &o, g, col, deadline)
	if err != nil {
		return nil, err
	}
	// Links are followed on the start URLs' own origins only; navigations
	// (redirects) may still go anywhere among the allowed origins.
	queue, seen, crawl := append([]string(nil), starts...), map[string]bool{}, map[string]bool{}
	for _, s := range starts {
		seen[s], crawl[originOf(s)] = true, true
	}
	var visited []string
	for i := 0; i < len(queue); i++ {
		if len(visited) >= o.MaxPages {
			limits["pages"] = true
			break
		}
		if time.Now().After(deadline) {
			limits["time"] = true
			break
		}
		page, links, skip := p1.visit(queue[i], true)
		if skip != "" {
			// Not a page: it costs no page of the budget, and the second
			// pass does not load it again.
			rep.Skipped = append(rep.Skipped, Refusal{URL: queue[i], Reason: skip})
			continue
		}
		rep.Pages = append(rep.Pages, page)
		visited = append(visited, queue[i])
		for _, l := range links {
			if seen[l] || !crawl[originOf(l)] {
				continue
			}
			seen[l] = true
			if ext := mediaExtension(l); ext != "" {
				if len(rep.Skipped) < maxSkipped {
					rep.Skipped = append(rep.Skipped, Refusal{URL: l, Reason: ext})
				}
				continue
			}
			queue = append(queue, l)
		}
		o.progress(Before, len(visited), min(len(queue), o.MaxPages), queue[i])
	}
	p1.close()

	// Pass 2: another fresh profile; Accept all on the first page, then the
	// same pages again.
	if len(visited) > 0 && !time.Now().After(deadline) {
		p2, err := newPass(bctx, After, ua, &o, g, col, deadline)
		if err != nil {
			return nil, err
		}
		rep.BannerFound = p2.accept(visited[0])
		for i, u := range visited {
			if time.Now().After(deadline) {
				limits["time"] = true
				break
			}
			page, _, _ := p2.visit(u, false)
			rep.Pages = append(rep.Pages, page)
			o.progress(After, i+1, len(visited), u)
		}
		p2.close()
	}
	if px.budget.Load() <= 0 {
		limits["bytes"] = true
	}
	for l := range limits {
		rep.Limits = append(rep.Limits, l)
	}
	sort.Strings(rep.Limits)
	// Chromium's own background requests (updates, time) also reach the
	// proxy and are refused there; report only what the pages asked for.
	for _, r := range px.refusals() {
		if col.requested(r.URL) {
			rep.Refused = append(rep.Refused, r)
		}
	}
	rep.Refused = append(rep.Refused, col.refused...)
	rep.Bytes = px.used.Load()
	classify(rep, cfg, col, began)
	rep.DurationMS = time.Since(began).Milliseconds()
	return rep, nil
}

func (o *Options) progress(pass string, n, of int, u string) {
	if o.Progress != nil {
		o.Progress(Progress{Pass: pass, Page: n, Pages: of, URL: u})
	}
}

// pageURL is the page a start URL or link names. The fragment is dropped
// (#top and #contact are places on one page) unless it is a route of a
// page that routes by hash, as single-page apps' hash routers do: #/cart,
// #!/cart.
func pageURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	if !hashRoute(u.Fragment) {
		u.Fragment, u.RawFragment = "", ""
	}
	return u.String()
}

func hashRoute(fragment string) bool {
	return strings.HasPrefix(fragment, "/") || strings.HasPrefix(fragment, "!")
}

// sameDocument: navigating from a to b only changes the fragment, which
// loads nothing.
func sameDocument(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	if err1 != nil || err2 != nil {
		return false
	}
	ua.Fragment, ua.RawFragment, ub.Fragment, ub.RawFragment = "", "", "", ""
	return ua.String() == ub.String()
}

const maxSkipped = 500

// mediaExtensions are links that are not pages, skipped before any
// request; others are known by their Content-Type once asked for.
var mediaExtensions = map[string]bool{
	".jpg": true, ".jpeg": true, ".png": true, ".gif": true, ".webp": true, ".avif": true, ".svg": true, ".ico": true,
	".bmp": true, ".tif": true, ".tiff": true, ".heic": true, ".pdf": true, ".zip": true, ".gz": true, ".tgz": true,
	".rar": true, ".7z": true, ".mp4": true, ".m4v": true, ".webm": true, ".mov": true, ".avi": true, ".mkv": true,
	".mp3": true, ".m4a": true, ".wav": true, ".ogg": true, ".flac": true, ".doc": true, ".docx": true, ".xls": true,
	".xlsx": true, ".ppt": true, ".pptx": true, ".odt": true, ".ods": true, ".csv": true, ".txt": true, ".xml": true,
	".json": true, ".js": true, ".css": true, ".woff": true, ".woff2": true, ".ttf": true, ".otf": true, ".eot": true,
	".exe": true, ".dmg": true, ".apk": true, ".iso": true,
}

// mediaExtension is the extension of a link that is no page, or "".
func mediaExtension(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	ext := strings.ToLower(path.Ext(u.Path))
	if mediaExtensions[ext] {
		return ext
	}
	return ""
}

// isHTML: the navigation is a page. Without a Content-Type Chromium sniffs,
// and a page it is taken to be.
func isHTML(contentType string) bool {
	if contentType == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(strings.Split(contentType, ";")[0]))
	}
	return mt == "text/html" || mt == "application/xhtml+xml"
}

func originOf(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return Origin(u)
}

// pass is one browser profile (a browser context) and its one tab.
type pass struct {
	name     string
	ctx      context.Context
	cancel   context.CancelFunc
	o        *Options
	g        *Guard
	col      *collector
	deadline time.Time
	frame    cdp.FrameID
	browser  cdp.BrowserContextID

	mu       sync.Mutex
	inflight map[network.RequestID]bool
	activity time.Time
	page     string
	current  string // the URL the tab was last sent to
	notPage  string // why the current navigation is not a page, once known
}

func newPass(bctx context.Context, name, ua string, o *Options, g *Guard, col *collector, deadline time.Time) (*pass, error) {
	ctx, cancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
	p := &pass{name: name, ctx: ctx, cancel: cancel, o: o, g: g, col: col, deadline: deadline, inflight: map[network.RequestID]bool{}}
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		return nil, fmt.Errorf("scan: open a tab: %w", err)
	}
	c := chromedp.FromContext(ctx)
	p.frame = cdp.FrameID(c.Target.TargetID)
	p.browser = c.BrowserContextID
	if err := chromedp.Listen(ctx, p.event); err != nil {
		cancel()
		return nil, err
	}
	for _, step := range []func() error{
		func() error { _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); return err },
		func() error {
			lang := o.Version.Config.DefaultLanguage
			_, err := chromedp.Call(ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{
				UserAgent: ua, AcceptLanguage: lang + ",en;q=0.8"})
			return err
		},
		func() error { _, err := chromedp.Call(ctx, domstorage.Enable, cdp.Empty{}); return err },
		func() error {
			// Every request before it is sent; the tab's documents also
			// once their headers are in, to stop what is not a page.
			_, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{
				{URLPattern: "*", RequestStage: fetch.RequestStageRequest},
				{URLPattern: "*", ResourceType: network.ResourceTypeDocument, RequestStage: fetch.RequestStageResponse}}})
			return err
		},
	} {
		if err := step(); err != nil {
			cancel()
			return nil, fmt.Errorf("scan: set up the tab: %w", err)
		}
	}
	return p, nil
}

func (p *pass) close() { p.cancel() }

// event runs on chromedp's event loop: it must not block.
func (p *pass) event(ev any) {
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		p.mu.Lock()
		p.inflight[ev.RequestID] = true
		p.activity = time.Now()
		page := p.page
		p.mu.Unlock()
		if ev.Request != nil {
			p.col.request(p.name, ev.Request.URL, page)
		}
	case *network.EventLoadingFinished:
		p.done(ev.RequestID)
	case *network.EventLoadingFailed:
		p.done(ev.RequestID)
	case *fetch.EventRequestPaused:
		go p.decide(ev)
	}
}

func (p *pass) done(id network.RequestID) {
	p.mu.Lock()
	delete(p.inflight, id)
	p.activity = time.Now()
	p.mu.Unlock()
}

// decide lets a paused request go on, unless it is a navigation of the
// page to another origin (also after a redirect), or the banner recording
// the scanner's own consent: that is answered here and never logged.
func (p *pass) decide(ev *fetch.EventRequestPaused) {
	u := ev.Request.URL
	if ev.ResponseStatusCode != 0 || ev.ResponseErrorReason != "" {
		p.decideResponse(ev)
		return
	}
	if ev.Request.Method == "POST" && p.isConsentEndpoint(u) {
		body := []byte(`{"record_id":"00000000-0000-0000-0000-000000000000","consent_id":"00000000-0000-0000-0000-000000000000","recorded_at":"1970-01-01T00:00:00Z"}`)
		_, _ = chromedp.Call(p.ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{RequestID: ev.RequestID, ResponseCode: 201,
			ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "application/json"}, {Name: "Access-Control-Allow-Origin", Value: "*"}},
			Body:            body})
		return
	}
	if ev.ResourceType == network.ResourceTypeDocument && ev.FrameID == p.frame && !p.g.Origins[originOf(u)] {
		p.col.refuse(u, "navigation to "+originOf(u)+", which is not one of the site's allowed origins")
		_, _ = chromedp.Call(p.ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonBlockedByClient})
		return
	}
	_, _ = chromedp.Call(p.ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
}

// decideResponse stops the tab's navigation to what is not an HTML page
// (an image, a PDF, a video): the browser would download or display it, and
// it has nothing to crawl.
func (p *pass) decideResponse(ev *fetch.EventRequestPaused) {
	code := ev.ResponseStatusCode
	if ev.FrameID == p.frame && ev.ResponseErrorReason == "" && (code < 300 || code >= 400) {
		ct := ""
		for _, h := range ev.ResponseHeaders {
			if strings.EqualFold(h.Name, "Content-Type") {
				ct = h.Value
			}
		}
		if !isHTML(ct) {
			mt, _, _ := strings.Cut(ct, ";")
			p.mu.Lock()
			p.notPage = strings.TrimSpace(mt)
			p.mu.Unlock()
			_, _ = chromedp.Call(p.ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonBlockedByClient})
			return
		}
	}
	_, _ = chromedp.Call(p.ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
}

func (p *pass) isConsentEndpoint(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Path != "/v1/consents" {
		return false
	}
	return p.o.SamtyckeOrigin == "" || Origin(u) == p.o.SamtyckeOrigin
}

// visit loads one page, lets it settle, records what it stored, and returns
// the same-origin links on it (when discover is set). notPage says why u
// turned out not to be a page (nothing was recorded then).
func (p *pass) visit(u string, discover bool) (page Page, links []string, notPage string) {
	page = Page{Pass: p.name, URL: u}
	ctx, cancel := context.WithDeadline(p.ctx, minTime(time.Now().Add(pageTimeout), p.deadline))
	defer cancel()
	if err := p.load(ctx, u); err != nil {
		page.Error = err.Error()
		return page, nil, ""
	}
	res, err := chromedp.Run(ctx, chromedp.NavigateResponse(u))
	p.mu.Lock()
	notPage = p.notPage
	p.mu.Unlock()
	if notPage != "" {
		return page, nil, notPage
	}
	if res != nil {
		page.Status = int(res.Status)
	}
	if err != nil {
		page.Error = err.Error()
	}
	p.settle(ctx)
	p.collect(ctx, u)
	if !discover || err != nil {
		return page, nil, ""
	}
	hrefs, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.links, a => a.href)`))
	if err != nil {
		return page, nil, ""
	}
	for _, l := range hrefs {
		if strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") {
			links = append(links, pageURL(l))
		}
	}
	return page, links, ""
}

// load prepares the tab for a navigation to u. A hash route of the page
// the tab shows would only change the fragment, and the app would route
// in place with what it already stored: the tab goes to about:blank first,
// so every route is loaded as a visitor arriving there gets it.
func (p *pass) load(ctx context.Context, u string) error {
	p.mu.Lock()
	same := p.current != "" && sameDocument(p.current, u)
	p.current, p.page, p.notPage = u, u, ""
	p.mu.Unlock()
	if same {
		return chromedp.Do(ctx, chromedp.Navigate("about:blank"))
	}
	return nil
}

// settle waits until no request has been in flight for a moment.
func (p *pass) settle(ctx context.Context) {
	end := time.Now().Add(settleMax)
	for time.Now().Before(end) && ctx.Err() == nil {
		p.mu.Lock()
		quiet := len(p.inflight) == 0 && time.Since(p.activity) >= settle
		p.mu.Unlock()
		if quiet {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// collect reads the profile's cookies and the page origin's storage through
// the DevTools protocol (not page JavaScript, which a page could fake).
func (p *pass) collect(ctx context.Context, page string) {
	if res, err := chromedp.CallBrowser(ctx, storage.GetCookies, storage.GetCookiesParams{BrowserContextID: p.browser}); err == nil {
		for _, c := range res.Cookies {
			p.col.cookie(p.name, c, page)
		}
	}
	key, err := chromedp.Call(ctx, storage.GetStorageKey, storage.GetStorageKeyParams{FrameID: p.frame})
	if err != nil || key.StorageKey == "" {
		return
	}
	host := ""
	if u, err := url.Parse(page); err == nil {
		host = u.Hostname()
	}
	for typ, local := range map[string]bool{"local_storage": true, "session_storage": false} {
		res, err := chromedp.Call(ctx, domstorage.GetDOMStorageItems, domstorage.GetDOMStorageItemsParams{
			StorageID: &domstorage.StorageID{StorageKey: domstorage.SerializedStorageKey(key.StorageKey), IsLocalStorage: local}})
		if err != nil {
			continue
		}
		for _, e := range res.Entries {
			if len(e) > 0 {
				p.col.storage(p.name, typ, e[0], host, page)
			}
		}
	}
	if res, err := chromedp.Call(ctx, indexeddb.RequestDatabaseNames, indexeddb.RequestDatabaseNamesParams{StorageKey: string(key.StorageKey)}); err == nil {
		for _, n := range res.DatabaseNames {
			p.col.storage(p.name, "indexeddb", n, host, page)
		}
	}
}

// accept opens the first page and clicks Accept all in the banner. It
// reports whether the banner was there.
func (p *pass) accept(u string) bool {
	ctx, cancel := context.WithDeadline(p.ctx, minTime(time.Now().Add(pageTimeout), p.deadline))
	defer cancel()
	if err := p.load(ctx, u); err != nil {
		return false
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(u)); err != nil {
		return false
	}
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!(`+acceptAll+`)`))
		if err == nil && ok {
			break
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(100 * time.Millisecond):
		}
	}
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`(`+acceptAll+`).click()`)); err != nil {
		return false
	}
	// The choice is in the samtycke cookie once the banner has handled it.
	for ctx.Err() == nil {
		c, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.cookie`))
		if err == nil && strings.Contains(c, "samtycke=") {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	p.settle(ctx)
	p.collect(ctx, u)
	return true
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
