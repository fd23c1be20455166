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

// putDraftOverAny saves a draft by the API whatever its revision (If-Match: *).
func putDraftOverAny(t *testing.T, app *fiber.App, secret, site string, body []byte) (int, string) {
	t.Helper()
	st, b, _ := apiDo(t, app, secret, "PUT", "/v1/sites/"+site+"/draft", body, map[string]string{"If-Match": "*"})
	return st, b
}

// apiDo is one API call by token, with headers; it returns the status, the
// body and the ETag.
func apiDo(t *testing.T, app *fiber.App, secret, method, path string, body []byte, header map[string]string) (int, string, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer "+secret)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b), res.Header.Get("ETag")
}

// staleAnswer is a 412's body.
type staleAnswer struct {
	Error   struct{ Code, Message, Field string }
	Current struct {
		Revision  string          `json:"revision"`
		UpdatedBy string          `json:"updated_by"`
		UpdatedAt string          `json:"updated_at"`
		Config    json.RawMessage `json:"config"`
	}
	BasedOn string `json:"based_on"`
	Differs []manage.Change
}

// The draft API by role: every role reads the draft with its revision as
// ETag; owners and editors save with If-Match (428 without, 400 when it is
// not an ETag); a save over an older revision is 412 with who saved the
// draft since, when, and what differs; * replaces it deliberately;
// auditors may not save at all.
func TestDraftRevisionsByRole(t *testing.T) {
	app, m := handlerApp(t, "http://consent.example")
	ctx := context.Background()
	by := manage.Principal{Email: adminEmail}
	raw, _ := newShop(t, m)
	secret := map[manage.Role]string{}
	for _, r := range manage.Roles {
		_, s, err := m.CreateToken(ctx, by, "shop", "t "+string(r), r)
		if err != nil {
			t.Fatal(err)
		}
		secret[r] = s
	}
	var rev string
	for _, r := range manage.Roles {
		st, b, tag := apiDo(t, app, secret[r], "GET", "/v1/sites/shop/draft", nil, nil)
		var d manage.DraftView
		if err := json.Unmarshal([]byte(b), &d); err != nil || st != 200 {
			t.Fatalf("%s: GET draft %d %s", r, st, b)
		}
		if d.Revision == "" || tag != `"`+d.Revision+`"` {
			t.Errorf("%s: ETag %s for revision %q", r, tag, d.Revision)
		}
		rev = tag
	}
	put := func(r manage.Role, ifMatch string, body []byte) (int, string, string) {
		h := map[string]string{}
		if ifMatch != "" {
			h["If-Match"] = ifMatch
		}
		return apiDo(t, app, secret[r], "PUT", "/v1/sites/shop/draft", body, h)
	}
	if st, b, _ := put(manage.Auditor, rev, raw); st != http.StatusForbidden {
		t.Errorf("an auditor's save: %d %s", st, b)
	}
	for _, r := range []manage.Role{manage.Owner, manage.Editor} {
		if st, b, _ := put(r, "", raw); st != http.StatusPreconditionRequired || !strings.Contains(b, `"precondition_required"`) || !strings.Contains(b, "If-Match") {
			t.Errorf("%s: a save without If-Match: %d %s", r, st, b)
		}
		for _, bad := range []string{"12", `W/"12"`, `"1", "2"`, `"x"`} {
			if st, b, _ := put(r, bad, raw); st != http.StatusBadRequest {
				t.Errorf("%s: If-Match %s: %d %s", r, bad, st, b)
			}
		}
	}
	// The editor saves over the revision it read; the owner, who read the
	// same revision, is refused and told what the editor did.
	st, b, editorTag := put(manage.Editor, rev, raw)
	if st != 200 || editorTag == rev || editorTag == "" {
		t.Fatalf("the editor's save over %s: %d %s (ETag %s)", rev, st, b, editorTag)
	}
	mine := strings.Replace(string(raw), `"name": "Demobutiken"`, `"name": "Ägarens butik"`, 1)
	if mine == string(raw) {
		t.Fatal("the demo configuration has another name")
	}
	st, b, tag := put(manage.Owner, rev, []byte(mine))
	var stale staleAnswer
	if err := json.Unmarshal([]byte(b), &stale); err != nil || st != http.StatusPreconditionFailed {
		t.Fatalf("the owner's save over the old revision: %d %s", st, b)
	}
	if stale.Error.Code != "draft_changed" || `"`+stale.Current.Revision+`"` != editorTag || tag != editorTag ||
		!strings.HasPrefix(stale.Current.UpdatedBy, "token:") || !strings.Contains(stale.Current.UpdatedBy, "t editor") ||
		stale.Current.UpdatedAt == "" || `"`+stale.BasedOn+`"` != rev {
		t.Errorf("the refusal: %+v (ETag %s, editor's %s)", stale, tag, editorTag)
	}
	if !strings.Contains(stale.Error.Message, "t editor") || !strings.Contains(stale.Error.Message, "nothing was saved") {
		t.Errorf("the refusal's words: %s", stale.Error.Message)
	}
	if len(stale.Differs) != 1 || stale.Differs[0].Path != "/name" || stale.Differs[0].New != "Ägarens butik" {
		t.Errorf("what differs: %+v", stale.Differs)
	}
	if d, err := m.Draft(ctx, "shop"); err != nil || strings.Contains(string(d.Config), "Ägarens") {
		t.Errorf("the refused save was stored: %v", err)
	}
	// Deliberately over the editor's: on their ETag, or with *.
	if st, b, _ := put(manage.Owner, editorTag, []byte(mine)); st != 200 || !strings.Contains(b, "Ägarens butik") {
		t.Errorf("the owner's save over the editor's revision: %d %s", st, b)
	}
	if st, b, _ := put(manage.Editor, "*", raw); st != 200 {
		t.Errorf("a save with If-Match *: %d %s", st, b)
	}
}

var revRe = regexp.MustCompile(`name="_rev" id="draft-rev" value="([^"]*)"`)

// The editor's form carries the revision it was made from: saved as the
// script saves (JSON), a stale form is 412 with the other save; without
// script the page comes back with the refused values, the other person's
// change and their revision, so that saving again replaces it knowingly.
// A form without a revision is refused.
func TestEditorFormSavesOnItsRevision(t *testing.T) {
	app, m := handlerApp(t, "http://consent.example")
	ctx := context.Background()
	newShop(t, m)
	j := jar{}
	j.login(t, app, adminEmail, adminPassword)
	page := func() (csrf, rev, html string) {
		res := j.req(t, app, "GET", "/admin/sites/shop/edit", nil, nil)
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		c, r := csrfRe.FindSubmatch(b), revRe.FindSubmatch(b)
		if c == nil || r == nil {
			t.Fatalf("the editor has no token or revision: %s", b)
		}
		return string(c[1]), string(r[1]), string(b)
	}
	csrf, rev, _ := page()
	form := func(rev, name string) url.Values {
		v := url.Values{"_csrf": {csrf}, "/name": {name}, "/languages": {"sv, en"}, "/default_language": {"sv"}}
		if rev != "" {
			v.Set("_rev", rev)
		}
		return v
	}
	asJSON := map[string]string{"Accept": "application/json"}
	res := j.req(t, app, "POST", "/admin/sites/shop/edit", form(rev, "Första"), asJSON)
	var ok struct{ Revision string }
	if err := json.NewDecoder(res.Body).Decode(&ok); err != nil || res.StatusCode != 200 || ok.Revision == "" || ok.Revision == rev {
		t.Fatalf("a save on the page's revision: %d %+v %v", res.StatusCode, ok, err)
	}
	// Someone else saves meanwhile.
	other := manage.Principal{Email: "kollega@example.se"}
	d, err := m.Draft(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.SaveDraftAt(ctx, other, "shop", d.Revision, []byte(strings.Replace(string(d.Config), `"name":"Första"`, `"name":"Kollegans"`, 1))); err != nil {
		t.Fatal(err)
	}
	res = j.req(t, app, "POST", "/admin/sites/shop/edit", form(ok.Revision, "Min"), asJSON)
	var stale staleAnswer
	if err := json.NewDecoder(res.Body).Decode(&stale); err != nil || res.StatusCode != http.StatusPreconditionFailed ||
		stale.Current.UpdatedBy != other.Email || !strings.Contains(string(stale.Current.Config), "Kollegans") {
		t.Fatalf("a stale save by script: %d %+v %v", res.StatusCode, stale, err)
	}
	found := false
	for _, c := range stale.Differs {
		found = found || (c.Path == "/name" && c.Old == "Kollegans" && c.New == "Min")
	}
	if !found {
		t.Errorf("what differs does not show the name: %+v", stale.Differs)
	}
	// Without script.
	res = j.req(t, app, "POST", "/admin/sites/shop/edit", form(ok.Revision, "Min"), nil)
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	html := string(b)
	if res.StatusCode != http.StatusConflict || !strings.Contains(html, "kollega@example.se saved this draft") ||
		!strings.Contains(html, `value="Min"`) || !strings.Contains(html, `value="`+stale.Current.Revision+`"`) {
		t.Errorf("a stale save without script: %d\n%s", res.StatusCode, html)
	}
	if d, err := m.Draft(ctx, "shop"); err != nil || !strings.Contains(string(d.Config), "Kollegans") {
		t.Errorf("a stale form replaced the draft: %v", err)
	}
	res = j.req(t, app, "POST", "/admin/sites/shop/edit", form("", "Utan"), asJSON)
	if b, _ := io.ReadAll(res.Body); res.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "does not say which draft it was made from") {
		t.Errorf("a form without its revision: %d %s", res.StatusCode, b)
	}
}

// The preview's second layer reads the items of the draft, or of a
// version, from the dashboard: members only, in the language asked for.
func TestPreviewDetailsForMembers(t *testing.T) {
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
	if _, err := m.SaveDraft(ctx, by, "shop", []byte(strings.Replace(string(raw), `"name": "`+cfg.Items[0].Name+`",`, `"name": "utkastkaka",`, 1))); err != nil {
		t.Fatal(err)
	}
	j := jar{}
	j.login(t, app, adminEmail, adminPassword)
	get := func(j jar, path string) (int, string) {
		res := j.req(t, app, "GET", path, nil, nil)
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, string(b)
	}
	for path, want := range map[string][]string{
		"/admin/sites/shop/preview/draft/details.json?lang=en": {`"name":"utkastkaka"`, `"Provider"`},
		"/admin/sites/shop/preview/draft/details.json?lang=sv": {`"name":"utkastkaka"`, `"Leverantör"`},
		"/admin/sites/shop/preview/1/details.json?lang=sv":     {`"name":"` + cfg.Items[0].Name + `"`},
	} {
		st, b := get(j, path)
		if st != 200 {
			t.Errorf("%s: %d %s", path, st, b)
			continue
		}
		for _, w := range want {
			if !strings.Contains(b, w) {
				t.Errorf("%s lacks %s: %.300s", path, w, b)
			}
		}
	}
	if st, b := get(j, "/admin/sites/shop/preview/7/details.json"); st != http.StatusNotFound {
		t.Errorf("a version that does not exist: %d %.200s", st, b)
	}
	if st, _ := get(jar{}, "/admin/sites/shop/preview/draft/details.json"); st == 200 {
		t.Errorf("the draft's details without signing in: %d", st)
	}
	if err := m.AddUser(ctx, by, "stranger@example.se", "a long enough pass phrase"); err != nil {
		t.Fatal(err)
	}
	stranger := jar{}
	stranger.login(t, app, "stranger@example.se", "a long enough pass phrase")
	if st, b := get(stranger, "/admin/sites/shop/preview/draft/details.json"); st != http.StatusNotFound || strings.Contains(b, "utkastkaka") {
		t.Errorf("the draft's details for a user of no role on the site: %d %.200s", st, b)
	}
}
