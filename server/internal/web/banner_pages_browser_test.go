package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/evanw/esbuild/pkg/api"
	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/testutil"
)

// Pages written for one test, served on the stack's own origin (an allowed
// origin of the demo site) through request interception: each test states
// the exact markup whose timing or structure it is about.

// pageHead starts a test page in Swedish.
const pageHead = `<!doctype html><html lang="sv"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Testsida</title>`

// heldVideo is a marketing iframe as a site writes it.
const heldVideo = `<iframe data-samtycke="marketing" data-samtycke-src="/demo/video.html" width="560" height="315" title="Film"></iframe>`

// servePages answers GET s.base+"/t/NAME" with pages[NAME] (text/html, or
// text/javascript for NAME.js) and
// passes every other request to other (nil: on to the server).
func servePages(t *testing.T, ctx context.Context, s *stack, pages map[string]string, other func(e *fetch.EventRequestPaused) func(context.Context) error) {
	t.Helper()
	pattern := s.base + "/t/*"
	if other != nil {
		pattern = "*"
	}
	intercept(t, ctx, pattern, func(e *fetch.EventRequestPaused) func(context.Context) error {
		if name, ok := strings.CutPrefix(e.Request.URL, s.base+"/t/"); ok {
			name, _, _ = strings.Cut(name, "?")
			if body, ok := pages[name]; ok {
				ct := "text/html; charset=utf-8"
				if strings.HasSuffix(name, ".js") {
					ct = "text/javascript; charset=utf-8"
				}
				return fulfil(e, 200, ct, body)
			}
			return fulfil(e, 404, "text/plain", "no such test page")
		}
		if other != nil {
			return other(e)
		}
		return nil
	})
}

// storeChoice writes a current samtycke cookie granting the optional
// categories in granted ("marketing", "statistics+marketing", "" for none),
// as a visitor who chose earlier has it, and returns its consent ID.
func storeChoice(t *testing.T, ctx context.Context, s *stack, granted string) string {
	t.Helper()
	cur, err := s.svc.Versions.Current(context.Background(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.NewString()
	do(t, ctx, chromedp.Navigate(s.base+"/demo/video.html"))
	c := fmt.Sprintf("samtycke=%s.%d.%s.%d.%s", id, cur.Number, cur.Config.Fingerprint(), time.Now().Unix()-60, granted)
	js[bool](t, ctx, `(document.cookie = "`+c+`; Path=/; Max-Age=3600", true)`)
	return id
}

const videoLoaded = `document.querySelector("iframe[data-samtycke]")?.contentDocument?.querySelector(".player")`

// A granted iframe loads whatever the timing of the banner's script: a
// synchronous, async or defer tag, before or after the iframe, an iframe
// inserted later, and other scripts running first.
func TestBannerIframeTiming(t *testing.T) {
	s := newStack(t, nil)
	// Keeps the main thread busy for a while, as a page's own bundle does.
	const busy = `<script>for (const end = Date.now() + 150; Date.now() < end;);</script>`
	later := `<script>addEventListener("load", () => setTimeout(() => document.body.insertAdjacentHTML("beforeend", '` + heldVideo + `')))</script>`
	pages := map[string]string{
		"sync-before":     pageHead + `<script src="/b/demo.js"></script></head><body><p>Text</p>` + heldVideo + `</body></html>`,
		"async-before":    pageHead + `<script src="/b/demo.js" async></script></head><body><p>Text</p>` + heldVideo + `</body></html>`,
		"defer-before":    pageHead + `<script src="/b/demo.js" defer></script></head><body><p>Text</p>` + heldVideo + `</body></html>`,
		"sync-after":      pageHead + `</head><body><p>Text</p>` + heldVideo + `<script src="/b/demo.js"></script></body></html>`,
		"async-after":     pageHead + `</head><body><p>Text</p>` + heldVideo + `<script src="/b/demo.js" async></script></body></html>`,
		"defer-after":     pageHead + `</head><body><p>Text</p>` + heldVideo + `<script src="/b/demo.js" defer></script></body></html>`,
		"inserted-later":  pageHead + `<script src="/b/demo.js"></script></head><body><p>Text</p>` + later + `</body></html>`,
		"async-later":     pageHead + `<script src="/b/demo.js" async></script></head><body><p>Text</p>` + later + `</body></html>`,
		"busy-sync":       pageHead + busy + `<script src="/b/demo.js"></script>` + busy + `</head><body><p>Text</p>` + heldVideo + busy + `</body></html>`,
		"busy-async":      pageHead + busy + `<script src="/b/demo.js" async></script></head><body>` + busy + `<p>Text</p>` + heldVideo + busy + `</body></html>`,
		"external-first":  pageHead + `<script src="/demo/page.js"></script><script src="/b/demo.js" async></script></head><body><p>Text</p>` + heldVideo + `</body></html>`,
		"sync-in-between": pageHead + `</head><body><p>Text</p><script src="/b/demo.js"></script>` + busy + heldVideo + `</body></html>`,
	}
	for name := range pages {
		t.Run(name, func(t *testing.T) {
			ctx := browser(t, 1280, 800)
			servePages(t, ctx, s, pages, nil)
			storeChoice(t, ctx, s, "marketing")
			do(t, ctx, chromedp.Navigate(s.base+"/t/"+name))
			waitFor(t, ctx, videoLoaded, "the granted video to load")
			if n := js[int](t, ctx, `document.querySelectorAll("iframe").length + document.querySelectorAll("[data-samtycke-placeholder]").length`); n != 1 {
				t.Errorf("%d iframes and placeholders, want the one iframe", n)
			}
			// The page's own iframe element, loaded in place.
			if !js[bool](t, ctx, `document.querySelector("iframe[data-samtycke]").contentWindow.location.pathname == "/demo/video.html"`) {
				t.Error("the iframe's document is not the video")
			}
		})
	}
}

// pageErrors records the page's uncaught exceptions and console errors.
type pageErrors struct {
	mu   sync.Mutex
	msgs []string
}

func recordErrors(t *testing.T, ctx context.Context) *pageErrors {
	t.Helper()
	pe := &pageErrors{}
	if err := chromedp.Listen(ctx, func(ev any) {
		var msg string
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			msg = e.ExceptionDetails.Text
			if ex := e.ExceptionDetails.Exception; ex != nil {
				msg += " " + ex.Description
			}
		case *runtime.EventConsoleAPICalled:
			if e.Type != runtime.ConsoleAPICalledTypeError {
				return
			}
			for _, a := range e.Args {
				msg += " " + a.Description + string(a.Value)
			}
		default:
			return
		}
		pe.mu.Lock()
		pe.msgs = append(pe.msgs, msg)
		pe.mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	return pe
}

func (pe *pageErrors) all() []string {
	pe.mu.Lock()
	defer pe.mu.Unlock()
	return append([]string(nil), pe.msgs...)
}

// reloadsAfter runs action, which must make the banner reload the page,
// and waits until the new page's banner has started.
func reloadsAfter(t *testing.T, ctx context.Context, action func()) {
	t.Helper()
	js[bool](t, ctx, `(window.beforeReload = true)`)
	action()
	waitFor(t, ctx, `!window.beforeReload && document.readyState == "complete" && window.Samtycke`, "the page to reload")
}

// bundle builds an IIFE from JavaScript source that imports packages
// installed under .data/npm (by .ci/test's npm_package), with esbuild's Go
// API: the real framework and tracker code, as a site's own build would
// bundle it.
func bundle(t *testing.T, src string) string {
	t.Helper()
	dir := filepath.Join(testutil.RepoRoot(t), ".data/npm")
	res := api.Build(api.BuildOptions{
		Stdin:             &api.StdinOptions{Contents: src, ResolveDir: dir, Loader: api.LoaderJS},
		Bundle:            true,
		Write:             false,
		Format:            api.FormatIIFE,
		Target:            api.ES2020,
		MinifyWhitespace:  true,
		MinifySyntax:      true,
		MinifyIdentifiers: true,
		Platform:          api.PlatformBrowser,
		Define:            map[string]string{"process.env.NODE_ENV": `"production"`, "__VUE_OPTIONS_API__": "true", "__VUE_PROD_DEVTOOLS__": "false", "__VUE_PROD_HYDRATION_MISMATCH_DETAILS__": "false"},
		LogLevel:          api.LogLevelSilent,
	})
	if len(res.Errors) > 0 {
		msgs := api.FormatMessages(res.Errors, api.FormatMessagesOptions{Kind: api.ErrorMessage})
		if os.Getenv("SAMTYCKE_TEST_BROWSER") != "required" && strings.Contains(strings.Join(msgs, ""), "Could not resolve") {
			t.Skipf("npm packages not installed (make test installs them under .data/npm): %s", msgs[0])
		}
		t.Fatalf("esbuild: %s", strings.Join(msgs, "\n"))
	}
	return string(res.OutputFiles[0].Contents)
}
