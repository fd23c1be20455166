package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/google/uuid"
	"github.com/samtycke/samtycke/server/internal/testutil"
)

// Helpers for the banner's browser tests (banner_browser_test.go).

// inShadow is a JS expression for the first element matching sel in the banner's shadow root.
func inShadow(sel string) string {
	return fmt.Sprintf(`document.querySelector("#samtycke-root")?.shadowRoot.querySelector(%q)`, sel)
}

// js evaluates an expression (awaiting a promise) and decodes its value.
func js[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// do runs browser actions and fails the test on error.
func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls a JS predicate until it is true, for at most 15 s.
func waitFor(t *testing.T, ctx context.Context, pred, what string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !js[bool](t, ctx, "!!("+pred+")") {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s (%s)", what, pred)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// click clicks an element of the banner's shadow root (or any JS path) like a user.
func click(t *testing.T, ctx context.Context, jsPath string) {
	t.Helper()
	do(t, ctx, chromedp.Click(chromedp.JSPath(jsPath)))
}

// beforeLoad installs a script that runs before any script of every page.
func beforeLoad(t *testing.T, ctx context.Context, src string) {
	t.Helper()
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: src}); err != nil {
		t.Fatal(err)
	}
}

// visit opens path on the stack and waits for the banner's first layer.
func visit(t *testing.T, ctx context.Context, s *stack, path string) {
	t.Helper()
	do(t, ctx, chromedp.Navigate(s.base+path))
	waitFor(t, ctx, inShadow(".b h2"), "the first layer")
}

// requests records the URLs the page requests.
type requests struct {
	mu   sync.Mutex
	urls []string
}

func recordRequests(t *testing.T, ctx context.Context) *requests {
	t.Helper()
	r := &requests{}
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			r.mu.Lock()
			r.urls = append(r.urls, e.Request.Method+" "+e.Request.URL)
			r.mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	return r
}

// matching returns the recorded requests that contain s.
func (r *requests) matching(s string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, u := range r.urls {
		if strings.Contains(u, s) {
			out = append(out, u)
		}
	}
	return out
}

// console records console warnings.
type console struct {
	mu   sync.Mutex
	msgs []string
}

func recordConsole(t *testing.T, ctx context.Context) *console {
	t.Helper()
	c := &console{}
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*runtime.EventConsoleAPICalled); ok && e.Type == runtime.ConsoleAPICalledTypeWarning {
			var parts []string
			for _, a := range e.Args {
				var str string
				if a.Description != "" {
					parts = append(parts, a.Description)
				} else if json.Unmarshal(a.Value, &str) == nil {
					parts = append(parts, str)
				}
			}
			c.mu.Lock()
			c.msgs = append(c.msgs, strings.Join(parts, " "))
			c.mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *console) all() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.msgs, "\n")
}

// intercept pauses every request whose URL matches pattern and lets answer
// decide: it returns nil to let the request through, or an action that
// fulfils or fails it. Requests are answered in their own goroutine.
func intercept(t *testing.T, ctx context.Context, pattern string, answer func(e *fetch.EventRequestPaused) func(ctx context.Context) error) {
	t.Helper()
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: pattern}}}); err != nil {
		t.Fatal(err)
	}
	paused := make(chan *fetch.EventRequestPaused, 64)
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*fetch.EventRequestPaused); ok {
			paused <- e
		}
	}); err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case e := <-paused:
				var err error
				if f := answer(e); f != nil {
					err = f(ctx)
				} else {
					_, err = chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: e.RequestID})
				}
				if err != nil && ctx.Err() == nil {
					t.Errorf("intercept %s: %v", e.Request.URL, err)
				}
			}
		}
	}()
}

// fulfil answers a paused request with status, content type and body.
func fulfil(e *fetch.EventRequestPaused, status int64, contentType, body string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{
			RequestID: e.RequestID, ResponseCode: status, Body: []byte(body),
			ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: contentType},
				{Name: "Access-Control-Allow-Origin", Value: "*"}},
		})
		return err
	}
}

// postBody is the JSON body of a paused POST.
func postBody(e *fetch.EventRequestPaused) string {
	var b strings.Builder
	for _, p := range e.Request.PostDataEntries {
		b.Write(p.Bytes)
	}
	return b.String()
}

// logRow is one consent_log row, as the banner tests check it.
type logRow struct {
	Method, Source string
	Version        uint32
	GPC            uint8
	Granted        map[string]bool
}

// rows waits until the consent ID has at least n rows in ClickHouse and
// returns them, oldest first.
func rows(t *testing.T, s *stack, consentID string, n int) []logRow {
	t.Helper()
	id, err := uuid.Parse(consentID)
	if err != nil {
		t.Fatalf("consent id %q: %v", consentID, err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		rs, err := s.svc.Store.Conn().Query(context.Background(), `SELECT toString(method), toString(source), config_version, gpc,
			categories, granted FROM consent_log WHERE consent_id = ? ORDER BY recorded_at, recorded_ms`, id)
		if err != nil {
			t.Fatal(err)
		}
		var out []logRow
		for rs.Next() {
			var r logRow
			var cats []string
			var granted []uint8
			if err := rs.Scan(&r.Method, &r.Source, &r.Version, &r.GPC, &cats, &granted); err != nil {
				t.Fatal(err)
			}
			r.Granted = map[string]bool{}
			for i, c := range cats {
				r.Granted[c] = granted[i] == 1
			}
			out = append(out, r)
		}
		if err := rs.Err(); err != nil {
			t.Fatal(err)
		}
		rs.Close()
		if len(out) >= n {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("consent %s: %d rows in the log, want %d", consentID, len(out), n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// cookieID is the consent ID in the page's samtycke cookie ("" if none).
func cookieID(t *testing.T, ctx context.Context) string {
	id, _ := consentCookie(js[string](t, ctx, "document.cookie"))
	return id
}

// cookieState is the state field of the samtycke cookie: the granted categories.
func cookieState(t *testing.T, ctx context.Context) string {
	_, rest := consentCookie(js[string](t, ctx, "document.cookie"))
	parts := strings.Split(rest, ".")
	return parts[len(parts)-1]
}

// axe runs axe-core (from .data/npm, installed by .ci/test) on the page and
// returns its violations, rule id and the nodes' selectors.
func axe(t *testing.T, ctx context.Context) []string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(testutil.RepoRoot(t), ".data/npm/node_modules/axe-core/axe.min.js"))
	if err != nil {
		if os.Getenv("SAMTYCKE_TEST_BROWSER") == "required" {
			t.Fatalf("axe-core is required (make test installs it under .data/npm): %v", err)
		}
		t.Skipf("axe-core not installed (make test installs it): %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](string(src))); err != nil {
		t.Fatal(err)
	}
	// Contrast is judged on what stays, not on a layer fading in.
	js[bool](t, ctx, `[document, document.querySelector("#samtycke-root")?.shadowRoot].forEach(d => d?.getAnimations().forEach(a => a.finish())) || true`)
	raw := js[string](t, ctx, `axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations.map(v =>
		v.id + ": " + v.help + " @ " + v.nodes.map(n => JSON.stringify(n.target) + " " + n.failureSummary).join(" | "))))`)
	var out []string
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		t.Fatal(err)
	}
	return out
}
