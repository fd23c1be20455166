package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/testutil"
)

// browser starts Debian's Chromium, headless, with a fresh profile, for at most a minute.
func browser(t testing.TB, width, height int, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	return browserFor(t, time.Minute, width, height, extra...)
}

// browserFor is browser for at most d (a benchmark's many page loads).
func browserFor(t testing.TB, d time.Duration, width, height int, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	exe := testutil.Chromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		// Without these Chromium floods the closed network with connections.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	opts = append(opts, extra...)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, d)
	t.Cleanup(cancel3)
	viewport := chromedp.EmulateViewport(int64(width), int64(height))
	if width < 600 {
		viewport = chromedp.EmulateViewport(int64(width), int64(height), chromedp.EmulateMobile, chromedp.EmulateScale(2))
	}
	// A headless window never has the focus a visitor's window has: without
	// this, document.hasFocus() is false and the banner, rightly, does not
	// take focus from a document that does not have it.
	if err := chromedp.Do(ctx, viewport); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true}); err != nil {
		t.Fatalf("focus emulation: %v", err)
	}
	return ctx
}

// screenshot saves a PNG under $SAMTYCKE_ARTIFACTS (make test: .data/artifacts)
// so that people can look at what visitors see.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	// Let the banner's entrance animation finish first.
	settle := `Promise.all(document.getAnimations({subtree: true}).concat(
		[...document.querySelectorAll("#samtycke-root")].flatMap(h => h.shadowRoot.getAnimations())).map(a => a.finished)).then(() => true)`
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](settle, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", testutil.SaveArtifact(t, name+".png", png))
}

// firstLayerGone is true once the first layer has left (the root stays for the floating button).
const firstLayerGone = `!document.querySelector("#samtycke-root")?.shadowRoot.querySelector(".b")`

const bannerButton = `document.querySelector("#samtycke-root").shadowRoot.querySelector('[data-action=%q]')`

// pageState reads what the page has stored and run.
type pageState struct {
	Cookie   string `json:"cookie"`
	StatsRan bool   `json:"statsRan"`
	Local    int    `json:"local"`
	Session  int    `json:"session"`
}

func readState(t *testing.T, ctx context.Context) pageState {
	t.Helper()
	st, err := chromedp.Run(ctx, chromedp.Evaluate[pageState](`({cookie: document.cookie, statsRan: window.demoStatsRan === true,
		local: localStorage.length, session: sessionStorage.length})`))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func consentCookie(cookies string) (id string, rest string) {
	for _, c := range strings.Split(cookies, ";") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(c), "samtycke="); ok {
			id, rest, _ = strings.Cut(v, ".")
			return id, rest
		}
	}
	return "", ""
}

// TestDemoInBrowser follows one visitor: the banner appears, nothing
// non-necessary has run or been stored, Reject all writes the cookie and a
// row in ClickHouse with statistics=false; a second visitor accepts all and
// the blocked statistics script runs.
func TestDemoInBrowser(t *testing.T) {
	s := newStack(t, nil)
	for _, tt := range []struct {
		action   string
		width    int
		height   int
		granted  uint8
		statsRan bool
	}{
		{"reject_all", 1280, 800, 0, false},
		{"accept_all", 390, 844, 1, true},
	} {
		t.Run(tt.action, func(t *testing.T) {
			ctx := browser(t, tt.width, tt.height)
			button := chromedp.JSPath(fmt.Sprintf(bannerButton, tt.action))
			err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/demo"), chromedp.WaitVisible(button))
			if err != nil {
				t.Fatal(err)
			}
			screenshot(t, ctx, fmt.Sprintf("demo-banner-%dpx", tt.width))
			before := readState(t, ctx)
			if before.Cookie != "" || before.StatsRan || before.Local != 0 || before.Session != 0 {
				t.Fatalf("before any choice the page stored or ran something: %+v", before)
			}
			if err := chromedp.Do(ctx, chromedp.Click(button)); err != nil {
				t.Fatal(err)
			}
			var after pageState
			deadline := time.Now().Add(10 * time.Second)
			for {
				after = readState(t, ctx)
				if id, _ := consentCookie(after.Cookie); id != "" && after.StatsRan == tt.statsRan {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("after %s: %+v", tt.action, after)
				}
				time.Sleep(100 * time.Millisecond)
			}
			if strings.Contains(after.Cookie, "_demo_stats") != tt.statsRan {
				t.Errorf("statistics cookie present = %v, want %v (%s)", !tt.statsRan, tt.statsRan, after.Cookie)
			}
			if gone, err := chromedp.Run(ctx, chromedp.Evaluate[bool](firstLayerGone)); err != nil || !gone {
				t.Errorf("the banner is still shown after a choice (%v)", err)
			}
			screenshot(t, ctx, fmt.Sprintf("demo-after-%s", tt.action))

			id, rest := consentCookie(after.Cookie)
			if _, err := uuid.Parse(id); err != nil || !strings.HasPrefix(rest, "1.") {
				t.Fatalf("cookie %q: want <uuid>.1.…", after.Cookie)
			}
			// The POST is sent with keepalive after the UI has moved on.
			var method string
			var version uint32
			var stats uint8
			deadline = time.Now().Add(10 * time.Second)
			for {
				err = s.svc.Store.Conn().QueryRow(context.Background(), `SELECT toString(method), config_version,
					granted[indexOf(categories, 'statistics')] FROM consent_log WHERE consent_id = ?`, uuid.MustParse(id)).
					Scan(&method, &version, &stats)
				if err == nil || time.Now().After(deadline) {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if err != nil {
				t.Fatalf("no row for consent %s: %v", id, err)
			}
			if method != tt.action || version != 1 || stats != tt.granted {
				t.Errorf("row: method %s version %d statistics %d", method, version, stats)
			}
		})
	}
}
