package admin_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/samtycke/samtycke/server/internal/manage"
)

func apiCall(t *testing.T, app *fiber.App, secret, method, path string, body []byte) (int, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer "+secret)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

// Shortening consent.retention_months gives up evidence (decisions recorded
// from then on are kept for less time): an editor is refused with the
// reason, an owner may once the site's id is typed, and the audit trail
// records it.
func TestOnlyOwnersShortenRetention(t *testing.T) {
	app, m := handlerApp(t, "http://consent.example")
	ctx := context.Background()
	by := manage.Principal{Email: adminEmail}
	raw, cfg := newShop(t, m)
	if _, err := m.SaveDraft(ctx, by, "shop", raw); err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.Publish(ctx, by, "shop", "first"); err != nil {
		t.Fatal(err)
	}
	secret := map[manage.Role]string{}
	for _, r := range []manage.Role{manage.Owner, manage.Editor} {
		_, s, err := m.CreateToken(ctx, by, "shop", "t "+string(r), r)
		if err != nil {
			t.Fatal(err)
		}
		secret[r] = s
	}
	cfg.Consent.RetentionMonths = 1
	short, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if st, b := putDraftOverAny(t, app, secret[manage.Editor], "shop", short); st != http.StatusOK {
		t.Fatalf("editor's draft: %d %s", st, b)
	}
	st, b := apiCall(t, app, secret[manage.Editor], "POST", "/v1/sites/shop/publish", []byte(`{"note":"shorter"}`))
	if st != http.StatusForbidden || !strings.Contains(b, "only an owner may shorten") || !strings.Contains(b, "from 24 to 1 months") {
		t.Errorf("an editor shortening retention: %d %s", st, b)
	}
	if st, b := apiCall(t, app, secret[manage.Editor], "GET", "/v1/sites/shop/publish", nil); !strings.Contains(b, `"retention_shortened":{"from_months":24,"to_months":1,`) {
		t.Errorf("the publish preview does not warn: %d %s", st, b)
	}
	j := jar{}
	j.login(t, app, adminEmail, adminPassword)
	page, err := io.ReadAll(j.req(t, app, "GET", "/admin/sites/shop/publish", nil, nil).Body)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), "Consent records will be kept for less time") || !strings.Contains(string(page), "for 1 months instead of 24") {
		t.Errorf("the publish page does not warn:\n%s", page)
	}
	if cur, err := m.Version(ctx, "shop", 2); err == nil {
		t.Errorf("version 2 published by the editor: %+v", cur.Config.Consent)
	}
	// Lengthening is anyone's to do.
	cfg.Consent.RetentionMonths = 36
	long, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	putDraftOverAny(t, app, secret[manage.Editor], "shop", long)
	if st, b := apiCall(t, app, secret[manage.Editor], "POST", "/v1/sites/shop/publish", nil); st != http.StatusCreated {
		t.Errorf("an editor lengthening retention: %d %s", st, b)
	}
	putDraftOverAny(t, app, secret[manage.Owner], "shop", short)
	for _, body := range []string{"", `{"confirm_site":"shopp"}`} {
		if st, b := apiCall(t, app, secret[manage.Owner], "POST", "/v1/sites/shop/publish", []byte(body)); st != http.StatusConflict || !strings.Contains(b, `"confirm_site"`) {
			t.Errorf("an owner shortening retention without typing the id (%s): %d %s", body, st, b)
		}
	}
	if st, b := apiCall(t, app, secret[manage.Owner], "POST", "/v1/sites/shop/publish", []byte(`{"confirm_site":"shop"}`)); st != http.StatusCreated {
		t.Fatalf("an owner shortening retention: %d %s", st, b)
	}
	evs, err := m.AuditTrail(ctx, manage.AuditQuery{Site: "shop", Action: "publish"})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range evs {
		if strings.Contains(e.Details, `"retention_shortened":{"from_months":36,"to_months":1}`) {
			found = true
		}
	}
	if !found {
		t.Errorf("the audit trail does not record the shortening: %+v", evs)
	}
}

// The overview says "ready to publish" only when the draft differs from
// the current version.
func TestOverviewReadyToPublishOnlyWhenChanged(t *testing.T) {
	app, m := handlerApp(t, "http://consent.example")
	ctx := context.Background()
	by := manage.Principal{Email: adminEmail}
	raw, _ := newShop(t, m)
	if _, err := m.SaveDraft(ctx, by, "shop", raw); err != nil {
		t.Fatal(err)
	}
	j := jar{}
	j.login(t, app, adminEmail, adminPassword)
	overview := func() string {
		b, err := io.ReadAll(j.req(t, app, "GET", "/admin/sites/shop", nil, nil).Body)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if p := overview(); !strings.Contains(p, "ready to publish") {
		t.Errorf("an unpublished valid draft is not ready to publish")
	}
	if _, _, err := m.Publish(ctx, by, "shop", "first"); err != nil {
		t.Fatal(err)
	}
	if p := overview(); strings.Contains(p, "ready to publish") || !strings.Contains(p, "nothing to publish") {
		t.Errorf("a draft equal to the published version is called ready to publish")
	}
	if p := overview(); !strings.Contains(p, `href="http://consent.example/s/shop/cookies"`) {
		t.Errorf("the overview does not link to the cookie notice")
	}
}

// A rollback shows what it does to the draft and, when the draft holds
// unpublished work, replaces it only once asked to.
func TestRollbackAsksBeforeReplacingTheDraft(t *testing.T) {
	app, m := handlerApp(t, "http://consent.example")
	ctx := context.Background()
	by := manage.Principal{Email: adminEmail}
	_, cfg := newShop(t, m)
	publish := func(name string) {
		cfg.Name = name
		b, err := json.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.SaveDraft(ctx, by, "shop", b); err != nil {
			t.Fatal(err)
		}
	}
	publish("One")
	if _, _, err := m.Publish(ctx, by, "shop", ""); err != nil {
		t.Fatal(err)
	}
	publish("Two")
	if _, _, err := m.Publish(ctx, by, "shop", ""); err != nil {
		t.Fatal(err)
	}
	publish("Three, not published")
	j := jar{}
	j.login(t, app, adminEmail, adminPassword)
	res := j.req(t, app, "GET", "/admin/sites/shop/versions/1", nil, nil)
	page, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), "Three, not published") || !strings.Contains(string(page), `name="replace_draft"`) {
		t.Errorf("the version page does not show what the rollback replaces:\n%s", page)
	}
	csrf := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindSubmatch(page)
	if csrf == nil {
		t.Fatal("no CSRF token")
	}
	form := url.Values{"_csrf": {string(csrf[1])}}
	if res := j.req(t, app, "POST", "/admin/sites/shop/versions/1/rollback", form, nil); res.StatusCode != http.StatusConflict {
		t.Errorf("a rollback without the box ticked: %d", res.StatusCode)
	}
	if d, err := m.Draft(ctx, "shop"); err != nil || !strings.Contains(string(d.Config), "Three, not published") {
		t.Fatalf("the unpublished draft was replaced: %v", err)
	}
	form.Set("replace_draft", "yes")
	if res := j.req(t, app, "POST", "/admin/sites/shop/versions/1/rollback", form, nil); res.StatusCode != http.StatusSeeOther {
		t.Errorf("a confirmed rollback: %d", res.StatusCode)
	}
	if d, err := m.Draft(ctx, "shop"); err != nil || !strings.Contains(string(d.Config), `"name":"One"`) {
		t.Errorf("the rollback did not reach the draft: %v", err)
	}
}
