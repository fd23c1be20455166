package web_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

const receiptsJS = `JSON.parse(localStorage.getItem("samtycke_receipts") || "[]")`

// Receipts: the 201's receipt is kept as it came in samtycke_receipts
// (newest last, at most 20, one per record); the settings offer the link to
// download them only once there is one, as samtycke-receipt-demo.json
// holding that array.
func TestBannerReceipts(t *testing.T) {
	s := newStack(t, nil)
	ctx := browser(t, 1280, 800)
	dir := t.TempDir()
	if _, err := chromedp.Call(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir}); err != nil {
		t.Fatal(err)
	}
	visit(t, ctx, s, "/demo")
	click(t, ctx, inShadow(`.b [data-action=settings]`))
	waitFor(t, ctx, inShadow("dialog[open]"), "the settings")
	if js[bool](t, ctx, `!!`+inShadow("a[download]")+`?.checkVisibility()`) {
		t.Error("the receipt link shows before any receipt")
	}
	click(t, ctx, inShadow(`dialog [data-action=accept_all]`))
	waitFor(t, ctx, receiptsJS+`.length == 1`, "the first receipt")
	var first []struct {
		Format    string `json:"format"`
		RecordID  string `json:"record_id"`
		Signature string `json:"signature"`
	}
	if err := json.Unmarshal([]byte(js[string](t, ctx, `localStorage.getItem("samtycke_receipts")`)), &first); err != nil {
		t.Fatal(err)
	}
	if first[0].Format != "samtycke-receipt-v1" || first[0].RecordID == "" || first[0].Signature == "" {
		t.Errorf("receipt %+v", first[0])
	}

	// The statistics script ran: withdrawing reloads, and the page has two receipts.
	reloadsAfter(t, ctx, func() { js[bool](t, ctx, "(Samtycke.withdraw(), true)") })
	waitFor(t, ctx, receiptsJS+`.length == 2`, "the withdrawal's receipt")
	click(t, ctx, inShadow(".f"))
	waitFor(t, ctx, inShadow("dialog[open]"), "the settings")
	link := inShadow("a[download]")
	if got := js[string](t, ctx, link+`.textContent + " " + `+link+`.download`); got != "Ladda ned kvitto på mitt val samtycke-receipt-demo.json" {
		t.Errorf("receipt link %q", got)
	}
	js[bool](t, ctx, `(`+link+`.scrollIntoView({block: "center"}), true)`)
	screenshot(t, ctx, "banner-settings-receipt")
	click(t, ctx, link)
	path := filepath.Join(dir, "samtycke-receipt-demo.json")
	var file []byte
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		b, err := os.ReadFile(path)
		if err == nil && json.Valid(b) {
			file = b
			break
		}
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no download at %s (%v)", path, err)
		}
	}
	if stored := js[string](t, ctx, `localStorage.getItem("samtycke_receipts")`); string(file) != stored {
		t.Errorf("the file holds\n%s\nlocalStorage\n%s", file, stored)
	}

	// Visitors find the banner's own storage in the cookie notice, beside the samtycke cookie.
	for _, lang := range []string{"sv", "en"} {
		r := s.do(t, http.MethodGet, "/s/demo/cookies?lang="+lang, nil, nil)
		if r.status != http.StatusOK || !strings.Contains(string(r.body), "samtycke_receipts") || !strings.Contains(string(r.body), "samtycke_pending") {
			t.Errorf("the %s notice (%d) does not declare samtycke_receipts and samtycke_pending", lang, r.status)
		}
	}

	// At most 20, newest last.
	js[bool](t, ctx, `(localStorage.setItem("samtycke_receipts", JSON.stringify(Array.from({length: 20}, (_, i) => ({record_id: "old-" + i})))), true)`)
	click(t, ctx, inShadow(`dialog [data-action=accept_all]`))
	waitFor(t, ctx, receiptsJS+`.at(-1).record_id?.length == 36`, "the newest receipt, last")
	if got := js[[]string](t, ctx, receiptsJS+`.map(r => r.record_id)`); len(got) != 20 || got[0] != "old-1" {
		t.Errorf("receipts kept: %v", got)
	}
}
