package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
)

// consentPost is one POST /v1/consents the browser made.
type consentPost struct {
	at      time.Time
	eventID string
}

// consentPosts records the consent POSTs of a browser and answers each as
// answer says (nil: on to the server).
type consentPosts struct {
	mu    sync.Mutex
	posts []consentPost
}

func (c *consentPosts) all() []consentPost {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]consentPost(nil), c.posts...)
}

func recordPosts(t *testing.T, ctx context.Context, answer func(n int, e *fetch.EventRequestPaused) func(context.Context) error) *consentPosts {
	t.Helper()
	c := &consentPosts{}
	intercept(t, ctx, "*/v1/consents", func(e *fetch.EventRequestPaused) func(context.Context) error {
		if e.Request.Method != http.MethodPost {
			return nil
		}
		var body struct {
			EventID string `json:"event_id"`
		}
		if err := json.Unmarshal([]byte(postBody(e)), &body); err != nil {
			t.Errorf("consent body: %v", err)
		}
		c.mu.Lock()
		c.posts = append(c.posts, consentPost{time.Now(), body.EventID})
		n := len(c.posts)
		c.mu.Unlock()
		return answer(n, e)
	})
	return c
}

// failConnection fails a paused request as a network error.
func failConnection(e *fetch.EventRequestPaused) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: e.RequestID, ErrorReason: network.ErrorReasonConnectionFailed})
		return err
	}
}

// answerRetryAfter answers a paused request with status and a Retry-After
// header exposed to the page, as the server sends them.
func answerRetryAfter(e *fetch.EventRequestPaused, status int64, retryAfter string) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{
			RequestID: e.RequestID, ResponseCode: status, Body: []byte(`{"error":{"code":"unavailable","message":"x"}}`),
			ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "application/json"},
				{Name: "Access-Control-Allow-Origin", Value: "*"}, {Name: "Access-Control-Expose-Headers", Value: "Retry-After"},
				{Name: "Retry-After", Value: retryAfter}},
		})
		return err
	}
}

// A decision whose POST cannot get through is kept in localStorage: the
// visitor leaves for a page without the banner and comes back, and the
// banner sends it again with its event_id. One row.
func TestBannerPendingDecision(t *testing.T) {
	s := newStack(t, nil)
	ctx := browser(t, 1280, 800)
	var blocked sync.Mutex
	blocking := true
	posts := recordPosts(t, ctx, func(_ int, e *fetch.EventRequestPaused) func(context.Context) error {
		blocked.Lock()
		defer blocked.Unlock()
		if blocking {
			return failConnection(e)
		}
		return nil
	})
	visit(t, ctx, s, "/demo")
	click(t, ctx, inShadow(`.b [data-action=reject_all]`))
	waitFor(t, ctx, `JSON.parse(localStorage.getItem("samtycke_pending") || "[]").length == 1`, "the decision kept as pending")
	for deadline := time.Now().Add(10 * time.Second); len(posts.all()) < 1; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no POST was tried")
		}
	}
	id := cookieID(t, ctx)
	// Away to a page without the banner: this page's retries end with it.
	do(t, ctx, chromedp.Navigate(s.base+"/demo/video.html"))
	blocked.Lock()
	blocking = false
	blocked.Unlock()
	do(t, ctx, chromedp.Navigate(s.base+"/demo"))
	waitFor(t, ctx, `window.Samtycke && !localStorage.getItem("samtycke_pending")`, "the kept decision to be answered")
	rs := rows(t, s, id, 1)
	if len(rs) != 1 || rs[0].Method != "reject_all" {
		t.Errorf("rows %+v, want exactly one reject_all", rs)
	}
	got := posts.all()
	for _, p := range got {
		if p.eventID == "" || p.eventID != got[0].eventID {
			t.Errorf("attempts %+v: every one must carry the decision's event_id", got)
			break
		}
	}
	if n := len(rows(t, s, id, 1)); n != 1 {
		t.Errorf("%d rows, want 1", n)
	}
}

// The pause before a retry is the one Retry-After asks for, in seconds or
// as an HTTP date, when it is longer than the banner's own (1 s, then 2 s);
// the server lets a page read the header.
func TestBannerRetryAfter(t *testing.T) {
	s := newStack(t, nil)
	ctx := browser(t, 1280, 800)
	posts := recordPosts(t, ctx, func(n int, e *fetch.EventRequestPaused) func(context.Context) error {
		switch n {
		case 1:
			return answerRetryAfter(e, 503, "3")
		case 2:
			return answerRetryAfter(e, 429, time.Now().Add(5*time.Second).UTC().Format(http.TimeFormat))
		}
		return nil
	})
	visit(t, ctx, s, "/demo")
	click(t, ctx, inShadow(`.b [data-action=accept_all]`))
	rows(t, s, cookieID(t, ctx), 1)
	got := posts.all()
	if len(got) != 3 {
		t.Fatalf("%d attempts, want 3", len(got))
	}
	// An HTTP date has whole seconds: up to one less than asked.
	if d := got[1].at.Sub(got[0].at); d < 2900*time.Millisecond {
		t.Errorf("retried %v after Retry-After: 3", d)
	}
	if d := got[2].at.Sub(got[1].at); d < 4*time.Second {
		t.Errorf("retried %v after a Retry-After date 5 s ahead", d)
	}
	waitFor(t, ctx, `!localStorage.getItem("samtycke_pending")`, "the pending decision to go once answered")

	// The server's own answers expose Retry-After to the page.
	body := `{"site":"demo","consent_id":"` + uuid.NewString() + `","config_version":99,"choices":{"necessary":true},"method":"custom","lang":"sv","url":"` + s.base + `/demo"}`
	r := s.do(t, http.MethodPost, "/v1/consents", []byte(body), map[string]string{"Content-Type": "application/json", "Origin": s.base})
	if got := r.header.Get("Access-Control-Expose-Headers"); r.status != http.StatusNotFound || !strings.Contains(got, "Retry-After") {
		t.Errorf("status %d: Access-Control-Expose-Headers %q, want Retry-After", r.status, got)
	}
}
