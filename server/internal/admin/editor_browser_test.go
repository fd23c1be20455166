package admin_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// An edit typed just before clicking "Review and publish" (inside the
// 600 ms autosave delay) is saved before the publish page reads the draft.
func TestEditorSavesBeforeLeavingForPublish(t *testing.T) {
	s := newStack(t, nil)
	ctx := browser(t, 1280, 900)
	signIn(t, ctx, s.base, adminEmail, adminPassword)
	do(t, ctx, chromedp.Navigate(s.base+"/admin/sites/demo/edit"), chromedp.WaitVisible(chromedp.ID("f-name")))
	setField(t, ctx, "f-name", "Demobutiken i sista stund")
	eval[bool](t, ctx, `(() => { document.querySelector('.savebar a[href$="/publish"]').click(); return true; })()`)
	waitFor(t, ctx, "the publish page", `location.pathname === "/admin/sites/demo/publish" && !!document.querySelector("main h2")`)
	if html := eval[string](t, ctx, `document.querySelector("main").textContent`); !strings.Contains(html, "Demobutiken i sista stund") {
		t.Errorf("the publish page does not show the last edit:\n%s", html)
	}
	screenshot(t, ctx, "dashboard-publish-after-flush")
	do(t, ctx, chromedp.SendKeys(chromedp.ID("note"), "rename"), chromedp.Submit(chromedp.ID("note")))
	waitFor(t, ctx, "version 2", `location.pathname === "/admin/sites/demo/versions" && document.querySelectorAll("tbody tr").length === 2`)
	do(t, ctx, chromedp.Navigate(s.base+"/admin/sites/demo/edit"), chromedp.WaitVisible(chromedp.ID("f-name")))
	setField(t, ctx, "f-name", "Demobutiken, opublicerad")
	eval[bool](t, ctx, `(() => { document.querySelector('.tabs a[href$="/versions"]').click(); return true; })()`)
	waitFor(t, ctx, "the versions", `location.pathname === "/admin/sites/demo/versions" && !!document.querySelector('a[href$="/versions/1#rollback"]')`)
	do(t, ctx, chromedp.Navigate(s.base+"/admin/sites/demo/versions/1"), chromedp.WaitVisible(chromedp.ID("rollback")))
	if txt := eval[string](t, ctx, `document.getElementById("rollback").textContent`); !strings.Contains(txt, "Demobutiken, opublicerad") {
		t.Errorf("the rollback panel does not show the unpublished draft: %s", txt)
	}
	eval[bool](t, ctx, `(() => { document.getElementById("rollback").scrollIntoView(); return true; })()`)
	viewShot(t, ctx, "dashboard-rollback-asks")
}
